"""The model lab: measure a model on question sets of your own (no Qt)."""
