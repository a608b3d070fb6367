"""The OpenAI-compatible API without HTTP or Qt: its wire format."""
