"""Tools the model can call: definitions, the prompt format, call parsing with a
grammar for the arguments, the call → result → continue loop, built-in tools and
an MCP client. No Qt here; the window and the command line drive the loop."""
