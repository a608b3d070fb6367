"""The engine's client.

Its host process, the controller that owns the engine thread, and task jobs run there.
"""
