"""Glassbox: an offline desktop assistant that shows the probability behind every token."""

__version__ = "0.1.0"
