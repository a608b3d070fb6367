"""What ingestion and retrieval work on: the knowledge base's three parts, not its facade.

``KnowledgeBase`` provides them (opening Chroma and the embedding model on first
use); ``ingest`` and ``retrieve`` ask only for this protocol, so they do not reach
back into the facade that calls them, and a test can hand them the parts directly.
"""

from __future__ import annotations

from typing import Protocol

from desktop_app.core.kb.db import Collection, Registry
from desktop_app.core.kb.embed import Embedder
from desktop_app.core.kb.index import VectorIndex


class KnowledgeParts(Protocol):
    """The SQLite registry (the source of truth), the vector index and the embedder."""

    @property
    def registry(self) -> Registry:
        """Collections, documents and chunks, with the keyword indexes."""
        ...

    @property
    def index(self) -> VectorIndex:
        """The vectors, in Chroma."""
        ...

    @property
    def embedder(self) -> Embedder:
        """Text to vectors, with the model of new collections."""
        ...

    def embedder_for(self, coll: Collection) -> Embedder:
        """Text to vectors, with the model the collection records."""
        ...
