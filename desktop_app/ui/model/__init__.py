"""The Model dock: pick, inspect and load a GGUF file."""
