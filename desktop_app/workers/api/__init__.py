"""Glassbox's OpenAI-compatible API server.

HTTP on its own threads without Qt (``server.py``, also ``glassbox serve``), and
the window's adapter that runs requests on its controller (``window.py``).
"""
