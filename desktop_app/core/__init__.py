"""Pure-Python core: no Qt, testable without a window."""
