"""The Tasks dock: summarize, extract, classify, rewrite and search."""
