"""What the window's parts share: Markdown styling, error headlines, translators."""
