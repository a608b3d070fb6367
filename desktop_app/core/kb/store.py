"""KnowledgeBase: the one object the command line and the window use.

It owns the writer lock (through the registry), the Chroma client and the
embedder, each opened on first use so that listing collections does not load
torch. Every collection is checked against SQLite the first time it is used in a
process (``VectorIndex.sync``), which repairs what a crash left behind.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from desktop_app.core.kb.embed import (
    Embedder,
    load_embedder,
    model_name,
    resolve_model_dir,
    tokenizer_file,
)
from desktop_app.core.kb.errors import KnowledgeBaseError
from desktop_app.core.kb.index import SyncReport, VectorIndex
from desktop_app.core.kb.ingest import IngestControl, IngestProgress, IngestReport, run_ingest
from desktop_app.core.kb.parse_host import ChunkConfig, Parser
from desktop_app.core.kb.registry import Collection, Filters, Registry, open_registry
from desktop_app.core.kb.retrieve import Hit, Weights, search


@dataclass(frozen=True, slots=True)
class CollectionStats:
    """What the knowledge panel and ``kb stats`` show for a collection."""

    name: str
    embed_model: str
    documents: int
    indexed: int
    pending: int
    failed: int
    chunks: int
    vectors_in_chroma: int
    bytes: int
    duplicate_chunks: int
    failures: tuple[tuple[str, str], ...]

    def as_dict(self) -> dict[str, object]:
        """The JSON form printed by ``glassbox kb stats --json``."""
        return {
            "name": self.name,
            "embed_model": self.embed_model,
            "documents": self.documents,
            "indexed": self.indexed,
            "pending": self.pending,
            "failed": self.failed,
            "chunks": self.chunks,
            "vectors_in_chroma": self.vectors_in_chroma,
            "bytes": self.bytes,
            "duplicate_chunks": self.duplicate_chunks,
            "failures": [{"path": p, "reason": r} for p, r in self.failures],
        }


class KnowledgeBase:
    """The knowledge base of a data folder; one process at a time has it open."""

    def __init__(
        self,
        root: Path | None = None,
        *,
        embed_model: str | None = None,
        embedder: Embedder | None = None,
    ) -> None:
        self.registry: Registry = open_registry(root)
        self.root = self.registry.root
        self._model = embed_model
        self._embedder = embedder
        self._index: VectorIndex | None = None
        self._synced: set[int] = set()

    # -- resources, opened on first use --------------------------------------------

    @property
    def index(self) -> VectorIndex:
        """The Chroma index (opened on first use)."""
        if self._index is None:
            self._index = VectorIndex(self.root)
        return self._index

    @property
    def embedder(self) -> Embedder:
        """The embedding model (loaded on first use; torch is imported here)."""
        if self._embedder is None:
            self._embedder = load_embedder(self._model)
        return self._embedder

    def model_name(self) -> str:
        """The configured embedding model's name, without loading it."""
        if self._embedder is not None:
            return self._embedder.name
        return model_name(resolve_model_dir(self._model))

    def chunk_config(self) -> ChunkConfig:
        """Chunking for the configured model: its tokenizer counts the token budget."""
        if self._embedder is not None and not hasattr(self._embedder, "model_dir"):
            return ChunkConfig()
        model_dir = getattr(self._embedder, "model_dir", None) or resolve_model_dir(self._model)
        return ChunkConfig(tokenizer_path=tokenizer_file(Path(model_dir)))

    def close(self) -> None:
        """Release the lock and the database (Chroma persists on every write)."""
        self.registry.close()

    def __enter__(self) -> KnowledgeBase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- collections ---------------------------------------------------------------

    def collections(self) -> list[Collection]:
        """Every collection."""
        return self.registry.collections()

    def collection(self, name: str, *, create: bool = False) -> Collection:
        """A collection by name, checked against Chroma once per process.

        With ``create`` a missing collection is made for the configured model. A
        collection embedded with another model refuses to mix vectors.
        """
        found = self.registry.find_collection(name)
        if found is None and create:
            embedder = self.embedder
            found = self.registry.create_collection(name, embedder.name, embedder.dim)
        if found is None:
            found = self.registry.collection(name)  # raises with the known names
        current = self.model_name()
        if current != found.embed_model:
            raise KnowledgeBaseError(
                f"The collection {name!r} was embedded with {found.embed_model}, not "
                f"{current}. Use the same model, or ingest into a new collection."
            )
        if found.id not in self._synced:
            self.index.sync(self.registry, found)
            self._synced.add(found.id)
        return found

    def rename(self, name: str, new_name: str) -> None:
        """Rename a collection."""
        self.registry.rename_collection(name, new_name)

    def delete_collection(self, name: str) -> None:
        """Delete a collection, its documents, chunks and vectors."""
        coll = self.registry.collection(name)
        self.registry.set_dirty(coll, True)
        self.index.drop(coll)
        self.registry.delete_collection(coll)

    def remove(self, name: str, paths: Sequence[Path]) -> int:
        """Remove documents (files, or every document under a folder); returns how many."""
        coll = self.collection(name)
        removed = 0
        self.registry.set_dirty(coll, True)
        for raw in paths:
            target = str(Path(raw).expanduser().resolve())
            prefix = target.rstrip("/") + "/"
            for doc in self.registry.documents(coll):
                if doc.path == target or doc.path.startswith(prefix):
                    self.index.delete(coll, self.registry.remove_document(coll, doc.path))
                    removed += 1
        self.registry.set_dirty(coll, False)
        return removed

    def rebuild(self, name: str) -> SyncReport:
        """Rebuild a collection's Chroma index from the vectors stored in SQLite."""
        coll = self.registry.collection(name)
        report = self.index.rebuild(self.registry, coll)
        self._synced.add(coll.id)
        return report

    def check(self, name: str) -> SyncReport:
        """Compare Chroma with SQLite id by id and repair what differs."""
        coll = self.registry.collection(name)
        report = self.index.sync(self.registry, coll, full=True)
        self._synced.add(coll.id)
        return report

    def stats(self, name: str) -> CollectionStats:
        """Counts of a collection (checking Chroma's count, not trusting it)."""
        coll = self.collection(name)
        counts = self.registry.counts(coll)
        failures = tuple(
            (d.path, d.reason or "") for d in self.registry.documents(coll, status="failed")
        )
        return CollectionStats(
            name=coll.name,
            embed_model=coll.embed_model,
            documents=counts["documents"],
            indexed=counts["indexed"],
            pending=counts["pending"],
            failed=counts["failed"],
            chunks=counts["chunks"],
            vectors_in_chroma=self.index.count(coll),
            bytes=counts["bytes"],
            duplicate_chunks=self.registry.duplicate_chunk_texts(coll),
            failures=failures,
        )

    # -- the work ------------------------------------------------------------------

    def ingest(
        self,
        paths: Sequence[Path],
        collection: str,
        parser: Parser,
        *,
        progress: Callable[[IngestProgress], None] | None = None,
        control: IngestControl | None = None,
        remove_missing: bool = True,
    ) -> IngestReport:
        """Ingest files and folders (created collection if needed); see ``ingest.run_ingest``."""
        coll = self.collection(collection, create=True)
        return run_ingest(
            self,
            paths,
            coll,
            parser,
            progress=progress,
            control=control,
            remove_missing=remove_missing,
        )

    def search(
        self,
        query: str,
        collection: str,
        k: int = 5,
        *,
        filters: Filters | None = None,
        min_similarity: float | None = None,
        weights: Weights | None = None,
    ) -> list[Hit]:
        """Hybrid search of one collection; see ``retrieve.search``."""
        coll = self.collection(collection)
        return search(
            self, coll, query, k, filters=filters, min_similarity=min_similarity, weights=weights
        )

    def search_many(
        self,
        query: str,
        collections: Sequence[str],
        k: int = 5,
        *,
        filters: Filters | None = None,
        min_similarity: float | None = None,
    ) -> list[Hit]:
        """Search several collections (a chat may use more than one) and merge by fused score."""
        merged: list[Hit] = []
        for name in collections:
            merged.extend(
                self.search(query, name, k, filters=filters, min_similarity=min_similarity)
            )
        merged.sort(key=lambda h: -h.fused)
        from dataclasses import replace

        return [replace(h, rank=i) for i, h in enumerate(merged[:k], start=1)]
