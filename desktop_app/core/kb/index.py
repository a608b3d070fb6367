"""The vector index: one Chroma collection per knowledge-base collection.

Chroma is an index, not a store: every vector also lives in SQLite, so a Chroma
folder left unreadable by a crash, or a Chroma server that lost its data, is
rebuilt rather than trusted. Vectors are
always passed in (no Chroma embedding function, which would try to download an
ONNX model), and telemetry is off, so Chroma never reaches the network.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from desktop_app.core.kb.db import Collection, Registry
from desktop_app.core.kb.errors import (
    ChromaCollectionLostError,
    ChromaServerError,
    KnowledgeBaseError,
)
from desktop_app.core.kb.location import (
    CONNECT_TIMEOUT_S,
    REQUEST_TIMEOUT_S,
    host_port,
    probe,
    reason_of,
    unreachable,
)

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
    """Chroma collections of a knowledge base, wherever each lives.

    A collection without a server URL uses the ``chromadb.PersistentClient`` in the
    knowledge-base folder; one with a URL uses a ``chromadb.HttpClient`` for that
    server (telemetry off, vectors passed in, connect and request timeouts). Each
    client is opened on first use. A server that cannot be reached raises
    ``ChromaServerError`` naming it; a server that lost a collection (restarted on
    an empty folder) raises ``ChromaCollectionLostError``, which a check repairs.
    """

    def __init__(self, root: Path, kb_id: str = "") -> None:
        self.root = root
        #: Prefixes the collection names on a server: several data folders can share one.
        self.kb_id = kb_id
        self._local: Any = None
        self._servers: dict[str, Any] = {}
        self._collections: dict[tuple[int, str | None], Any] = {}
        # Vectors per collection, cached between writes: Chroma's count() costs a few
        # milliseconds, more than the nearest-neighbour query it would bound.
        self._counts: dict[int, int] = {}
        #: Collections whose server failed since they were last checked against SQLite:
        #: the server may come back empty, so their next use checks them again.
        self.stale: set[int] = set()

    @property
    def client(self) -> Any:
        """The embedded ``PersistentClient`` (opened on first use)."""
        if self._local is None:
            chromadb, settings = _chromadb()
            try:
                self._local = chromadb.PersistentClient(
                    path=str(self.root / "chroma"),
                    settings=settings(anonymized_telemetry=False, allow_reset=True),
                )
            except Exception as exc:
                raise KnowledgeBaseError(
                    f"The vector index in {self.root / 'chroma'} cannot be opened ({exc}). "
                    "Run `glassbox kb rebuild` to rebuild it from the document registry."
                ) from exc
        return self._local

    def server(self, url: str) -> Any:
        """The ``HttpClient`` of a Chroma server (normalised URL), connected on first use."""
        found = self._servers.get(url)
        if found is not None:
            return found
        import httpx

        chromadb, settings = _chromadb()
        probe(url)
        host, port, ssl = host_port(url)
        if ":" in host:
            host = f"[{host}]"  # an IPv6 literal: Chroma joins host and port with ':'
        try:
            client = chromadb.HttpClient(
                host=host, port=port, ssl=ssl, settings=settings(anonymized_telemetry=False)
            )
        except Exception as exc:
            reason = reason_of(exc)
            if reason is not None:
                raise unreachable(url, reason) from exc
            raise KnowledgeBaseError(f"The Chroma server at {url} cannot be used ({exc}).") from exc
        # Chroma's HTTP session waits forever by default: a server that stops
        # answering must end a search with an error, not hold it.
        session = getattr(getattr(client, "_server", None), "_session", None)
        if isinstance(session, httpx.Client):
            session.timeout = httpx.Timeout(REQUEST_TIMEOUT_S, connect=CONNECT_TIMEOUT_S)
        self._servers[url] = client
        return client

    def heartbeat(self, url: str) -> None:
        """Ask a server whether it answers (``ChromaServerError`` if not)."""
        with self._guard(None, url):
            self.server(url).heartbeat()

    def _name(self, coll: Collection) -> str:
        if coll.chroma_url is None:
            return f"glassbox_kb_{coll.id}"
        return f"glassbox_{self.kb_id}_kb_{coll.id}"

    @contextlib.contextmanager
    def _guard(self, coll: Collection | None, url: str | None = None) -> Iterator[None]:
        """Turn a server's network failures into errors a user can act on."""
        url = url if coll is None else coll.chroma_url
        try:
            yield
        except KnowledgeBaseError:
            raise
        except Exception as exc:
            if url is None:
                raise
            if coll is not None:
                self._forget(coll)
                self.stale.add(coll.id)
            reason = reason_of(exc)
            if reason is not None:
                raise unreachable(url, reason) from exc
            if type(exc).__name__ == "NotFoundError" and coll is not None:
                raise ChromaCollectionLostError(
                    f"The Chroma server at {url} no longer has the vectors of {coll.name!r} "
                    f"(was it restarted on another folder?). Run `glassbox kb check "
                    f"{coll.name}` to copy them again from the local database.",
                    url,
                ) from exc
            raise KnowledgeBaseError(
                f"The Chroma server at {url} answered with an error: {exc}"
            ) from exc

    def _forget(self, coll: Collection) -> None:
        self._collections.pop((coll.id, coll.chroma_url), None)
        self._counts.pop(coll.id, None)

    def _open(self, coll: Collection, name: str) -> Any:
        """The Chroma collection ``name`` where ``coll`` keeps its vectors (made if new)."""
        client = self.client if coll.chroma_url is None else self.server(coll.chroma_url)
        with self._guard(coll):
            return client.get_or_create_collection(
                name, configuration={"hnsw": {"space": "cosine"}}, embedding_function=None
            )

    def _get(self, coll: Collection) -> Any:
        key = (coll.id, coll.chroma_url)
        found = self._collections.get(key)
        if found is None:
            found = self._collections[key] = self._open(coll, self._name(coll))
        return found

    def _upsert_into(
        self,
        target: Any,
        coll: Collection,
        ids: Sequence[str],
        vectors: npt.NDArray[np.float32],
        metadatas: Sequence[dict[str, str | int | float]],
    ) -> None:
        with self._guard(coll):
            for start in range(0, len(ids), WRITE_BATCH):
                end = start + WRITE_BATCH
                target.upsert(
                    ids=list(ids[start:end]),
                    embeddings=vectors[start:end],
                    metadatas=list(metadatas[start:end]),
                )

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
        self._upsert_into(target, coll, ids, vectors, metadatas)

    def delete(self, coll: Collection, ids: Sequence[str]) -> None:
        """Remove vectors by id (ids that are not there are ignored)."""
        if not ids:
            return
        target = self._get(coll)
        self._counts.pop(coll.id, None)
        with self._guard(coll):
            for start in range(0, len(ids), WRITE_BATCH):
                target.delete(ids=list(ids[start : start + WRITE_BATCH]))

    def query(
        self, coll: Collection, vector: npt.NDArray[np.float32], k: int
    ) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of the ``k`` nearest vectors, nearest first."""
        target = self._get(coll)
        with self._guard(coll):
            count = self._counts.get(coll.id)
            if count is None:
                count = self._counts[coll.id] = int(target.count())
            if count == 0 or k <= 0:
                return []
            result = target.query(
                query_embeddings=vector.reshape(1, -1),
                n_results=min(k, count),
                include=["distances"],
            )
        ids = result["ids"][0]
        distances = result["distances"][0]
        return [(i, 1.0 - float(d)) for i, d in zip(ids, distances, strict=True)]

    def count(self, coll: Collection) -> int:
        """Vectors in the collection (asked of Chroma, not cached)."""
        target = self._get(coll)
        with self._guard(coll):
            count = int(target.count())
        self._counts[coll.id] = count
        return count

    def ids(self, coll: Collection) -> set[str]:
        """Every id in the collection (read in pages)."""
        target = self._get(coll)
        out: set[str] = set()
        offset = 0
        while True:
            with self._guard(coll):
                page = target.get(include=[], limit=10_000, offset=offset)["ids"]
            out.update(page)
            if len(page) < 10_000:
                return out
            offset += len(page)

    # -- a second Chroma collection, filled beside the live one and swapped in ----------

    def _staging_name(self, coll: Collection) -> str:
        return self._name(coll) + "_next"

    def _staging(self, coll: Collection) -> Any:
        return self._open(coll, self._staging_name(coll))

    def staging_upsert(
        self,
        coll: Collection,
        ids: Sequence[str],
        vectors: npt.NDArray[np.float32],
        metadatas: Sequence[dict[str, str | int | float]],
    ) -> None:
        """Add vectors to the collection's staging copy (searches still use the live one)."""
        self._upsert_into(self._staging(coll), coll, ids, vectors, metadatas)

    def drop_staging(self, coll: Collection) -> None:
        """Delete the staging copy, if there is one (the live collection is untouched)."""
        client = self.client if coll.chroma_url is None else self.server(coll.chroma_url)
        with contextlib.suppress(Exception), self._guard(coll):
            client.delete_collection(self._staging_name(coll))

    def promote_staging(self, coll: Collection) -> None:
        """Rename the staging copy to the live collection's name (``drop`` the live one
        first)."""
        staging = self._staging(coll)
        with self._guard(coll):
            staging.modify(name=self._name(coll))
        self._forget(coll)

    def drop(self, coll: Collection) -> None:
        """Delete the Chroma collection of a knowledge-base collection, if it exists."""
        self._forget(coll)
        client = self.client if coll.chroma_url is None else self.server(coll.chroma_url)
        try:
            with self._guard(coll):
                client.delete_collection(self._name(coll))
        except ChromaCollectionLostError:
            return  # already gone
        except ChromaServerError:
            raise
        except Exception as exc:
            if "not exist" not in str(exc).lower() and "not found" not in str(exc).lower():
                raise

    def same_collection(self, a: Collection, b: Collection) -> bool:
        """Whether two locations of a collection are one Chroma collection: two
        spellings of one server (``localhost`` and ``127.0.0.1``) give the same
        collection id. Local folders are never compared (False)."""
        if a.chroma_url is None or b.chroma_url is None:
            return False
        if a.chroma_url == b.chroma_url:
            return True
        ids = []
        for coll in (a, b):
            assert coll.chroma_url is not None
            client = self.server(coll.chroma_url)
            try:
                with self._guard(coll):
                    ids.append(client.get_collection(self._name(coll), embedding_function=None).id)
            except ChromaCollectionLostError:
                return False
        return bool(ids[0] == ids[1])

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
        after = self.count(coll)
        self.stale.discard(coll.id)
        return SyncReport(
            collection=coll.name,
            sqlite_chunks=counts["chunks"],
            chroma_before=before,
            chroma_after=after,
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
        after = self.count(coll)
        self.stale.discard(coll.id)
        return SyncReport(
            collection=coll.name,
            sqlite_chunks=counts["chunks"],
            chroma_before=before,
            chroma_after=after,
            added=added,
            removed_orphans=0,
            awaiting_embedding=counts["chunks"] - counts["embedded"],
        )


def _chromadb() -> tuple[Any, Any]:
    """``chromadb`` and its ``Settings``, imported on first use (they load slowly)."""
    try:
        import chromadb
        from chromadb.config import Settings
    except ImportError as exc:
        raise KnowledgeBaseError("chromadb is not installed: run `pip install chromadb`.") from exc
    return chromadb, Settings


def chunk_metadata(path: str, type_: str | None) -> dict[str, str | int | float]:
    """The metadata stored with a vector (filters are applied from SQLite; this aids debugging)."""
    return {"path": path, "type": type_ or ""}
