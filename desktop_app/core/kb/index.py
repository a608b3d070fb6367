"""The vector index: one Chroma collection per knowledge-base collection.

Chroma is an index, not a store: every vector also lives in SQLite, so a Chroma
folder left unreadable by a crash is rebuilt rather than trusted. Vectors are
always passed in (no Chroma embedding function, which would try to download an
ONNX model), and telemetry is off, so Chroma never reaches the network.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from desktop_app.core.kb.errors import KnowledgeBaseError
from desktop_app.core.kb.registry import Collection, Registry

#: Vectors per Chroma call: large enough to be fast, small enough to bound memory.
WRITE_BATCH = 1000


@dataclass(frozen=True, slots=True)
class SyncReport:
    """What a consistency check between SQLite and Chroma found and repaired."""

    collection: str
    sqlite_chunks: int
    chroma_before: int
    chroma_after: int
    added: int
    removed_orphans: int
    awaiting_embedding: int

    @property
    def consistent(self) -> bool:
        """Chroma holds exactly the embedded chunks of SQLite."""
        return self.chroma_after == self.sqlite_chunks - self.awaiting_embedding


class VectorIndex:
    """A ``chromadb.PersistentClient`` in the knowledge-base folder."""

    def __init__(self, root: Path) -> None:
        try:
            import chromadb
            from chromadb.config import Settings
        except ImportError as exc:
            raise KnowledgeBaseError(
                "chromadb is not installed: run `pip install chromadb`."
            ) from exc
        try:
            self.client: Any = chromadb.PersistentClient(
                path=str(root / "chroma"),
                settings=Settings(anonymized_telemetry=False, allow_reset=True),
            )
        except Exception as exc:
            raise KnowledgeBaseError(
                f"The vector index in {root / 'chroma'} cannot be opened ({exc}). "
                "Run `glassbox kb rebuild` to rebuild it from the document registry."
            ) from exc
        self._collections: dict[int, Any] = {}
        # Vectors per collection, cached between writes: Chroma's count() costs a few
        # milliseconds, more than the nearest-neighbour query it would bound.
        self._counts: dict[int, int] = {}

    @staticmethod
    def _name(coll: Collection) -> str:
        return f"glassbox_kb_{coll.id}"

    def _get(self, coll: Collection) -> Any:
        found = self._collections.get(coll.id)
        if found is None:
            found = self.client.get_or_create_collection(
                self._name(coll),
                configuration={"hnsw": {"space": "cosine"}},
                embedding_function=None,
            )
            self._collections[coll.id] = found
        return found

    def upsert(
        self,
        coll: Collection,
        ids: Sequence[str],
        vectors: npt.NDArray[np.float32],
        metadatas: Sequence[dict[str, str | int | float]],
    ) -> None:
        """Add or replace vectors (idempotent: the same id twice is one entry)."""
        target = self._get(coll)
        self._counts.pop(coll.id, None)
        for start in range(0, len(ids), WRITE_BATCH):
            end = start + WRITE_BATCH
            target.upsert(
                ids=list(ids[start:end]),
                embeddings=vectors[start:end],
                metadatas=list(metadatas[start:end]),
            )

    def delete(self, coll: Collection, ids: Sequence[str]) -> None:
        """Remove vectors by id (ids that are not there are ignored)."""
        target = self._get(coll)
        self._counts.pop(coll.id, None)
        for start in range(0, len(ids), WRITE_BATCH):
            target.delete(ids=list(ids[start : start + WRITE_BATCH]))

    def query(
        self, coll: Collection, vector: npt.NDArray[np.float32], k: int
    ) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of the ``k`` nearest vectors, nearest first."""
        target = self._get(coll)
        count = self._counts.get(coll.id)
        if count is None:
            count = self._counts[coll.id] = int(target.count())
        if count == 0 or k <= 0:
            return []
        result = target.query(
            query_embeddings=vector.reshape(1, -1), n_results=min(k, count), include=["distances"]
        )
        ids = result["ids"][0]
        distances = result["distances"][0]
        return [(i, 1.0 - float(d)) for i, d in zip(ids, distances, strict=True)]

    def count(self, coll: Collection) -> int:
        """Vectors in the collection (asked of Chroma, not cached)."""
        count = int(self._get(coll).count())
        self._counts[coll.id] = count
        return count

    def ids(self, coll: Collection) -> set[str]:
        """Every id in the collection (read in pages)."""
        target = self._get(coll)
        out: set[str] = set()
        offset = 0
        while True:
            page = target.get(include=[], limit=10_000, offset=offset)["ids"]
            out.update(page)
            if len(page) < 10_000:
                return out
            offset += len(page)

    def drop(self, coll: Collection) -> None:
        """Delete the Chroma collection of a knowledge-base collection, if it exists."""
        self._collections.pop(coll.id, None)
        self._counts.pop(coll.id, None)
        try:
            self.client.delete_collection(self._name(coll))
        except Exception as exc:
            if "not exist" not in str(exc).lower() and "not found" not in str(exc).lower():
                raise

    def sync(self, registry: Registry, coll: Collection, *, full: bool = False) -> SyncReport:
        """Make Chroma hold exactly the embedded chunks of SQLite: add missing, drop orphans.

        Cheap when nothing happened: the full id comparison runs only when the
        collection is marked dirty (a write was interrupted), counts differ, or
        ``full`` is asked for.
        """
        counts = registry.counts(coll)
        before = self.count(coll)
        awaiting = counts["chunks"] - counts["embedded"]
        needs = (
            full
            or registry.is_dirty(coll)
            or before != counts["in_index"]
            or counts["in_index"] != counts["embedded"]
        )
        added = removed = 0
        if needs:
            stored = registry.chunk_ids(coll)
            present = self.ids(coll)
            orphans = sorted(present - stored)
            if orphans:
                self.delete(coll, orphans)
                removed = len(orphans)
            # What SQLite believes is indexed but is not: re-add from the stored vectors.
            missing_in_chroma = stored - present
            registry.mark_in_index(coll, sorted(missing_in_chroma), value=False)
            registry.mark_in_index(coll, sorted(stored & present), value=True)
            added = self.add_from_registry(registry, coll)
            registry.set_dirty(coll, False)
        return SyncReport(
            collection=coll.name,
            sqlite_chunks=counts["chunks"],
            chroma_before=before,
            chroma_after=self.count(coll),
            added=added,
            removed_orphans=removed,
            awaiting_embedding=awaiting,
        )

    def add_from_registry(self, registry: Registry, coll: Collection) -> int:
        """Copy embedded chunks missing from Chroma into it, using the vectors in SQLite."""
        added = 0
        while True:
            rows = registry.vectors_not_in_index(coll, WRITE_BATCH)
            if not rows:
                return added
            ids = [r[0] for r in rows]
            vectors = np.stack([np.frombuffer(r[1], dtype=np.float32) for r in rows])
            metadatas = [chunk_metadata(r[2], r[3]) for r in rows]
            self.upsert(coll, ids, vectors, metadatas)
            registry.mark_in_index(coll, ids)
            added += len(ids)

    def rebuild(self, registry: Registry, coll: Collection) -> SyncReport:
        """Drop the Chroma collection and fill it again from SQLite."""
        registry.set_dirty(coll, True)
        self.drop(coll)
        registry.reset_in_index(coll)
        before = 0
        added = self.add_from_registry(registry, coll)
        registry.set_dirty(coll, False)
        counts = registry.counts(coll)
        return SyncReport(
            collection=coll.name,
            sqlite_chunks=counts["chunks"],
            chroma_before=before,
            chroma_after=self.count(coll),
            added=added,
            removed_orphans=0,
            awaiting_embedding=counts["chunks"] - counts["embedded"],
        )


def chunk_metadata(path: str, type_: str | None) -> dict[str, str | int | float]:
    """The metadata stored with a vector (filters are applied from SQLite; this aids debugging)."""
    return {"path": path, "type": type_ or ""}
