"""GGUF inspection, default-model install and hash check, chat templates."""
