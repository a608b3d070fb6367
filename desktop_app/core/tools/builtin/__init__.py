"""Tools Glassbox provides itself, offline: calculator, date and time, knowledge
search, and reading a file dropped into the chat."""
