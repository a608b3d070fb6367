"""Glassbox's OpenAI-compatible API server.

HTTP on its own thread, requests run through the engine worker.
"""
