"""The knowledge base's workers.

The controller with its thread, the sandboxed parser process and the folder watcher.
"""
