"""The window.

Widgets in packages by area (window, chat, sampling, knowledge, model, tasks, common).
No model work, no threads of its own.
"""
