"""Conversation structures, prompt building, context budget."""
