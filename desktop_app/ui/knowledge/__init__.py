"""The Knowledge dock and the source viewer."""
