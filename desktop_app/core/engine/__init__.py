"""Inference engine: protocol, llama.cpp backend, engine host process, fake backend."""
