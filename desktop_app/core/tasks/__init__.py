"""Task panels' core: summarize, extract, classify, rewrite, search.

Each task builds its prompt from editable templates (``prompts``), runs on any
``Engine`` (classification needs a ``Scorer``: it reads logits), and returns a
frozen result the window and the command line both show.
"""
