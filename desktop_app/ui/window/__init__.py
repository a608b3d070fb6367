"""The main window and its dialogs.

Settings, about, shortcuts, system check, first-run page, one instance per data folder.
"""
