"""Errors of the knowledge base, each with a message a user can act on.

They subclass :class:`~desktop_app.core.errors.GlassboxError`, so the command line
prints them as one line (or one JSON object) and exits with status 2.
"""

from __future__ import annotations

from desktop_app.core.errors import GlassboxError


class KnowledgeBaseLockedError(GlassboxError):
    """Another Glassbox process has the knowledge base open for writing."""

    kind = "kb_locked"


class CollectionNotFoundError(GlassboxError):
    """A collection name that does not exist."""

    kind = "kb_no_collection"


class KnowledgeBaseError(GlassboxError):
    """The store cannot be opened or used (a damaged database, a model mismatch)."""

    kind = "kb_error"


class ParseError(GlassboxError):
    """A document could not be turned into text; the message is the reason shown."""

    kind = "kb_parse"


class EmbeddingModelError(GlassboxError):
    """The embedding model folder is missing or cannot be loaded offline."""

    kind = "kb_embedding_model"


class ChromaServerError(KnowledgeBaseError):
    """A Chroma server is unreachable, refused the connection or did not answer in time.

    Nothing is lost: SQLite keeps what was ingested, and re-running the command
    once the server is back continues where it stopped.
    """

    kind = "kb_chroma_server"

    def __init__(self, message: str, url: str) -> None:
        super().__init__(message)
        self.url = url


class ChromaCollectionLostError(ChromaServerError):
    """A server answers but no longer has a collection it held (restarted empty):
    ``kb check`` copies the vectors again from SQLite."""

    kind = "kb_chroma_lost"
