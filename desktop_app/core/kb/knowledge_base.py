"""KnowledgeBase: the one object the command line and the window use.

It owns the writer lock (through the registry), the Chroma client and the
embedder, each opened on first use so that listing collections does not load
torch. Every collection is checked against SQLite the first time it is used in a
process (``VectorIndex.sync``), which repairs what a crash left behind.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from desktop_app.core.errors import GlassboxError
from desktop_app.core.kb import words
from desktop_app.core.kb.db import (
    TRASH_KEEP_S,
    Collection,
    Filters,
    Registry,
    TrashedCollection,
    keyword_weights,
    open_registry,
)
from desktop_app.core.kb.embed import (
    Embedder,
    canonical_name,
    chunk_tokenizer,
    embed_queries,
    load_embedder,
    tokenizer_file,
)
from desktop_app.core.kb.errors import (
    ChromaCollectionLostError,
    ChromaServerError,
    KnowledgeBaseError,
)
from desktop_app.core.kb.index import SyncReport, VectorIndex
from desktop_app.core.kb.ingest import IngestControl, IngestProgress, IngestReport, run_ingest
from desktop_app.core.kb.location import describe, parse_chroma_url
from desktop_app.core.kb.parse_host import ChunkConfig, Parser
from desktop_app.core.kb.reembed import ReembedProgress, ReembedReport, reembed_collection
from desktop_app.core.kb.retrieve import (
    MIN_CANDIDATES,
    TERMS_POOL,
    Hit,
    Weights,
    rank_by_terms,
    search,
    weights_for,
)
from desktop_app.core.kb.watch import FileState, FolderChanges, diff, scan, under

log = logging.getLogger(__name__)

#: Searches whose retrieval counts are kept in memory before one write records them.
RETRIEVALS_PER_WRITE = 32


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
    #: None when Chroma could not be asked (``problem`` says why).
    vectors_in_chroma: int | None
    bytes: int
    duplicate_chunks: int
    failures: tuple[tuple[str, str], ...]
    #: Indexed documents that no search has returned yet (health: maybe unreachable).
    never_retrieved: tuple[str, ...] = ()
    #: Folders the collection watches.
    watched: tuple[str, ...] = ()
    #: The Chroma server holding the vectors; None: the embedded Chroma folder.
    chroma_url: str | None = None
    #: Why the counts are partial (a collection embedded with another model, its
    #: Chroma server not reachable); None when they are whole.
    problem: str | None = None
    #: Chunks per language ({"zh": 4100, "en": 1050}, ``language.detect``).
    languages: dict[str, int] | None = field(default=None, hash=False)

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
            "never_retrieved": list(self.never_retrieved),
            "watched": list(self.watched),
            "chroma": describe(self.chroma_url),
            "languages": dict(self.languages or {}),
        }


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why a test query returns what it does: each hit's vector, keyword and fused scores
    (with ranks), the fusion weights, and the keyword terms scored or left out."""

    query: str
    hits: tuple[Hit, ...]
    weights: Weights
    keyword_terms: tuple[str, ...]
    keyword_left_out: tuple[str, ...]
    timings_ms: dict[str, float]
    #: Per keyword index (trigram, bigram, words): the terms scored and those left out.
    index_terms: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = field(default_factory=dict)
    #: Per hit (chunk id): its rank in each keyword index's BM25 list (None: not in it).
    index_ranks: dict[str, dict[str, int | None]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        """The JSON form printed by ``glassbox search --explain --json``."""
        return {
            "query": self.query,
            "weights": {"vector": self.weights.vector, "keyword": self.weights.keyword},
            "keyword_terms": list(self.keyword_terms),
            "keyword_left_out": list(self.keyword_left_out),
            "keyword_indexes": {
                name: {"terms": list(kept), "left_out": list(left_out)}
                for name, (kept, left_out) in self.index_terms.items()
            },
            "timings_ms": {k: round(v, 3) for k, v in self.timings_ms.items()},
            "hits": [
                {
                    **h.as_dict(),
                    "vector_rank": h.vector_rank,
                    "keyword_rank": h.keyword_rank,
                    "keyword_index_ranks": self.index_ranks.get(h.chunk.chunk_id, {}),
                }
                for h in self.hits
            ],
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
        #: The model of new collections (None: the catalog's default); each existing
        #: collection is searched and ingested with the model it records.
        self._model = embed_model
        self._embedder = embedder
        #: Embedders loaded in this process, by the name collections record.
        self._embedders: dict[str, Embedder] = {}
        if embedder is not None:
            self._embedders[embedder.name] = embedder
        self._index: VectorIndex | None = None
        self._synced: set[int] = set()
        # Collections whose chunks are all in the words index (see ``fill_words``).
        self._words_filled: set[int] = set()
        # Retrieval counts are written in batches: a write per search would put a
        # synchronous commit on every query's path.
        self._retrieved: Counter[int] = Counter()
        self._unrecorded_searches = 0

    # -- resources, opened on first use --------------------------------------------

    @property
    def index(self) -> VectorIndex:
        """The Chroma index (opened on first use)."""
        if self._index is None:
            self._index = VectorIndex(self.root, self.registry.kb_id())
        return self._index

    @property
    def embedder(self) -> Embedder:
        """The model of new collections (loaded on first use; torch may be imported here)."""
        if self._embedder is None:
            self._embedder = self.embedder_named(self._model)
        return self._embedder

    def embedder_named(self, model: str | None) -> Embedder:
        """The embedder of ``model`` (a catalog name or a model folder; None: the
        default of new collections), loaded once per process."""
        if model is None and self._embedder is not None:
            return self._embedder
        name = canonical_name(model if model is not None else self._model)
        found = self._embedders.get(name)
        if found is None:
            found = self._embedders[name] = load_embedder(name)
        return found

    def embedder_for(self, coll: Collection) -> Embedder:
        """The embedder a collection was embedded with: it searches and ingests it."""
        embedder = self.embedder_named(coll.embed_model)
        if embedder.dim != coll.dim:
            raise KnowledgeBaseError(
                f"The collection {coll.name!r} holds {coll.dim}-dimension vectors, but "
                f"{coll.embed_model} gives {embedder.dim}. Re-embed it with "
                f"`glassbox kb reembed {coll.name} --embedder NAME`."
            )
        return embedder

    def forget_sync(self, coll: Collection) -> None:
        """Check the collection against SQLite again on its next use."""
        self._synced.discard(coll.id)

    def model_name(self) -> str:
        """The name of the model of new collections, without loading it."""
        if self._embedder is not None:
            return self._embedder.name
        return canonical_name(self._model)

    def chunk_config(self, model: str | None = None) -> ChunkConfig:
        """Chunking for ``model`` (None: the model of new collections): its tokenizer
        counts the token budget (estimated for a model without ``tokenizer.json``)."""
        embedder = self._embedder if model is None else self._embedders.get(model)
        if embedder is not None:
            # A model without a folder of its own may name the tokenizer that cuts its
            # chunks (E5 small: MiniLM's), the same before and after it is loaded.
            if hasattr(embedder, "tokenizer_path"):
                return ChunkConfig(tokenizer_path=embedder.tokenizer_path)
            model_dir = getattr(embedder, "model_dir", None)
            if model_dir is None:
                return ChunkConfig()
            return ChunkConfig(tokenizer_path=tokenizer_file(Path(model_dir)))
        return ChunkConfig(tokenizer_path=chunk_tokenizer(model or self._model))

    def chunk_config_for(self, collection: str, embed_model: str | None = None) -> ChunkConfig:
        """Chunking for ingesting into ``collection``: its recorded model's, or for a new
        one ``embed_model``'s (None: the model of new collections)."""
        found = self.registry.find_collection(collection.strip())
        return self.chunk_config(found.embed_model if found is not None else embed_model)

    def warm_up(self, collection: str | None = None) -> None:
        """Load the embedding model and, for a collection, its vector index, with a query.

        The first encode and the first Chroma query of a process pay for lazy
        initialisation (hundreds of milliseconds on a large collection); the window
        calls this in the background when a collection is attached, so the user's
        first question is as fast as the next.
        """
        if collection is None:
            self.embedder.embed(["warm up"])
        else:
            coll = self.collection(collection)
            embedder = self.embedder_for(coll)
            # A process that warms up lives on (the window): it loads the full library,
            # which embeds a question on every core in less than half of numpy's time.
            embedder.embed(["warm up"])
            vector = embed_queries(embedder, ["warm up"])[0]
            self.index.query(coll, vector, 1)
            self._fill_words(coll)
            if any(self.registry.languages(coll).get(lang) for lang in ("zh", "ja", "ko")):
                words.load()  # its questions will be cut into words (about 0.5 s, once)

    def close(self) -> None:
        """Record pending retrieval counts, release the lock and the database."""
        with contextlib.suppress(KnowledgeBaseError, sqlite3.Error):
            self.flush_retrievals()
        self.registry.close()

    def __enter__(self) -> KnowledgeBase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- collections ---------------------------------------------------------------

    def collections(self) -> list[Collection]:
        """Every collection."""
        return self.registry.collections()

    def collection(
        self,
        name: str,
        *,
        create: bool = False,
        chroma_url: str | None = None,
        embed_model: str | None = None,
    ) -> Collection:
        """A collection by name, checked against Chroma once per process, and again
        after its server failed (it may have come back on an empty folder).

        With ``create`` a missing collection is made for ``embed_model`` (a catalog
        name or a model folder; None: the model of new collections), its vectors on
        the Chroma server ``chroma_url`` when one is given (checked to answer first)
        or in the embedded Chroma folder. Naming a server for an existing collection
        that lives elsewhere is refused (``move`` moves it), and so is naming a model
        other than the one it records (``reembed`` changes it).
        """
        url = None if chroma_url is None else parse_chroma_url(chroma_url)
        found = self.registry.find_collection(name.strip())
        if found is not None and url is not None and found.chroma_url != url:
            raise KnowledgeBaseError(
                f"The collection {found.name!r} keeps its vectors "
                + (f"on {found.chroma_url}" if found.chroma_url else "in the local data folder")
                + f", not on {url}. Leave out --chroma-url, use another collection name, or "
                f"move it with `glassbox kb move {found.name} --chroma-url {url}`."
            )
        if found is None and create:
            embedder = self.embedder_named(embed_model)
            if url is not None:
                self.index.heartbeat(url)  # a wrong URL leaves no collection behind
            found = self.registry.create_collection(name, embedder.name, embedder.dim, url)
        if found is None:
            found = self.registry.collection(name)  # raises with the known names
        if embed_model is not None and canonical_name(embed_model) != found.embed_model:
            raise KnowledgeBaseError(
                f"The collection {found.name!r} is embedded with {found.embed_model}, not "
                f"{canonical_name(embed_model)}. Leave out the embedding model to use its "
                f"own, or change it with `glassbox kb reembed {found.name} --embedder "
                f"{embed_model}`."
            )
        if found.id not in self._synced or found.id in self.index.stale:
            # Also after a server failed: it may be back on an empty folder, and
            # Chroma would then answer with a new, empty collection, not an error.
            self.index.sync(self.registry, found)
            self._synced.add(found.id)
        return found

    def create_collection(
        self, name: str, chroma_url: str | None = None, *, embed_model: str | None = None
    ) -> Collection:
        """Create an empty collection for ``embed_model`` (a catalog name or a model
        folder; None: the model of new collections; an error if the name is taken), on
        the Chroma server ``chroma_url`` or in the embedded Chroma folder."""
        if self.registry.find_collection(name.strip()) is not None:
            raise KnowledgeBaseError(f"A collection named {name.strip()!r} already exists.")
        return self.collection(
            name.strip(), create=True, chroma_url=chroma_url, embed_model=embed_model
        )

    def reembed(
        self,
        name: str,
        new_model: str,
        *,
        progress: Callable[[ReembedProgress], None] | None = None,
        control: IngestControl | None = None,
    ) -> ReembedReport:
        """Embed every stored chunk of a collection again with ``new_model`` (no file is
        parsed again) and make it the collection's model; see ``reembed``. Cancelled
        (``control.cancel()``) or failed midway, the old model and vectors stay."""
        coll = self.collection(name)
        return reembed_collection(
            self, coll, self.embedder_named(new_model), progress=progress, control=control
        )

    def move(self, name: str, chroma_url: str | None) -> SyncReport:
        """Move a collection's vectors to a Chroma server (``chroma_url``) or back to the
        embedded folder (None), copied from the vectors stored in SQLite: nothing is
        embedded again. The old location's copy is deleted when it can be reached.

        A copy that fails leaves the collection where it was (and the error raised)."""
        url = None if chroma_url is None else parse_chroma_url(chroma_url)
        old = self.registry.collection(name)
        if old.chroma_url == url:
            return self.check(name)
        if url is not None:
            self.index.heartbeat(url)
        moved = self.registry.set_chroma_url(old, url)
        self._synced.discard(moved.id)
        try:
            report = self.rebuild(name)
        except BaseException:
            # The old copy is untouched: point back at it; its next use checks it
            # against SQLite (set_chroma_url marked every chunk as not indexed).
            self.registry.set_chroma_url(moved, old.chroma_url)
            self._synced.discard(old.id)
            raise
        # Ours is complete: a server that is gone, or answers oddly, keeps its old copy.
        try:
            if not self.index.same_collection(old, moved):  # two spellings of one server
                self.index.drop(old)
        except Exception as exc:  # noqa: BLE001 - the move is done; only logged
            log.warning("The old copy of %r was not deleted: %s", old.name, exc)
        return report

    def location(self, name: str) -> str | None:
        """Where a collection's vectors live: its Chroma server URL, or None (local)."""
        return self.registry.collection(name).chroma_url

    def rename(self, name: str, new_name: str) -> None:
        """Rename a collection."""
        self.registry.rename_collection(name, new_name)

    def delete_collection(self, name: str) -> None:
        """Delete a collection, its documents, chunks and vectors."""
        coll = self.registry.collection(name)
        self.registry.set_dirty(coll, True)
        try:
            self.index.drop(coll)
        except ChromaServerError as exc:
            # A server gone for good must not keep the collection: its vectors are
            # only an index of the rows deleted here.
            log.warning("The vectors of %r were left on its server: %s", coll.name, exc)
        self.registry.delete_collection(coll)

    def trash_collection(self, name: str) -> None:
        """Put a collection in the trash (see ``empty_trash``): it is no longer listed or
        searched, and ``restore_collection`` brings it back whole, vectors included."""
        coll = self.registry.collection(name)
        self.registry.trash_collection(coll)
        self._synced.discard(coll.id)

    def trash(self) -> list[TrashedCollection]:
        """The collections in the trash, most recently deleted first."""
        return self.registry.trashed_collections()

    def restore_collection(self, collection_id: int) -> Collection:
        """Take a collection out of the trash (refused while its name is taken)."""
        coll = self.registry.restore_collection(collection_id)
        self._synced.discard(coll.id)
        return coll

    def empty_trash(self, older_than_s: float = TRASH_KEEP_S) -> int:
        """Delete for good the collections trashed more than ``older_than_s`` ago, their
        vectors too; returns how many."""
        cutoff = time.time() - older_than_s
        gone = 0
        for trashed in self.registry.trashed_collections():
            if trashed.deleted_at > cutoff:
                continue
            self._purge(trashed)
            gone += 1
        return gone

    def purge_collection(self, collection_id: int) -> None:
        """Delete for good one collection of the trash, its vectors too."""
        found = [t for t in self.registry.trashed_collections() if t.collection.id == collection_id]
        if not found:
            raise KnowledgeBaseError(
                "This collection is no longer in the trash; it may have been emptied."
            )
        self._purge(found[0])

    def _purge(self, trashed: TrashedCollection) -> None:
        coll = trashed.collection
        try:
            self.index.drop(coll)
        except ChromaServerError as exc:
            log.warning("The vectors of %r were left on its server: %s", trashed.name, exc)
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
        try:
            report = self.index.sync(self.registry, coll, full=True)
        except ChromaCollectionLostError:
            # This process had the server's old collection open; it made a new one.
            report = self.index.sync(self.registry, coll, full=True)
        self._synced.add(coll.id)
        return report

    def stats(self, name: str) -> CollectionStats:
        """Counts of a collection (checking Chroma's count, not trusting it)."""
        coll = self.collection(name)
        self.flush_retrievals()
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
            never_retrieved=tuple(self.registry.never_retrieved(coll)),
            watched=tuple(self.registry.watched(coll)),
            chroma_url=coll.chroma_url,
            languages=self.registry.languages(coll),
        )

    def summaries(self) -> list[CollectionStats]:
        """Every collection's ``stats``, by name; one whose vectors cannot be counted
        (another embedding model, a Chroma server down) gets the database's counts,
        ``vectors_in_chroma`` None and the reason as ``problem``."""
        out: list[CollectionStats] = []
        for coll in self.collections():
            try:
                out.append(self.stats(coll.name))
            except GlassboxError as exc:
                counts = self.registry.counts(coll)
                out.append(
                    CollectionStats(
                        name=coll.name,
                        embed_model=coll.embed_model,
                        documents=counts["documents"],
                        indexed=counts["indexed"],
                        pending=counts["pending"],
                        failed=counts["failed"],
                        chunks=counts["chunks"],
                        vectors_in_chroma=None,
                        bytes=counts["bytes"],
                        duplicate_chunks=self.registry.duplicate_chunk_texts(coll),
                        failures=tuple(
                            (d.path, d.reason or "")
                            for d in self.registry.documents(coll, status="failed")
                        ),
                        never_retrieved=tuple(self.registry.never_retrieved(coll)),
                        watched=tuple(self.registry.watched(coll)),
                        chroma_url=coll.chroma_url,
                        problem=str(exc),
                        languages=self.registry.languages(coll),
                    )
                )
        return out

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
        chroma_url: str | None = None,
        embed_model: str | None = None,
    ) -> IngestReport:
        """Ingest files and folders (created collection if needed, on the Chroma server
        ``chroma_url`` when given, for ``embed_model``, by default the model of new
        collections); see ``ingest.run_ingest``.

        A server that goes away mid-way raises ``ChromaServerError``: what was
        parsed and embedded stays in SQLite, and running the ingestion again
        finishes it without duplicates.
        """
        coll = self.collection(
            collection, create=True, chroma_url=chroma_url, embed_model=embed_model
        )
        return run_ingest(
            self,
            paths,
            coll,
            parser,
            progress=progress,
            control=control,
            remove_missing=remove_missing,
        )

    def fill_words(
        self, collection: str, progress: Callable[[int, int], None] | None = None
    ) -> int:
        """Add the chunks written before the words index existed (schema 4) to it, in
        batches of ``words.BATCH`` (each its own short transaction, so a search can
        run between them); ``progress(done, total)`` after each. Returns how many."""
        return self._fill_words(self.registry.collection(collection), progress)

    def _fill_words(
        self, coll: Collection, progress: Callable[[int, int], None] | None = None
    ) -> int:
        if coll.id in self._words_filled:
            return 0
        total = self.registry.words_missing(coll)
        done = 0
        if total:
            started = time.perf_counter()
            log.info("Adding %d passages of %r to the words index.", total, coll.name)
            while done < total:
                filled = self.registry.fill_words(coll)
                if not filled:
                    break
                done += filled
                if progress is not None:
                    progress(done, total)
            log.info(
                "Words index of %r filled in %.1f s.", coll.name, time.perf_counter() - started
            )
        self._words_filled.add(coll.id)
        return done

    def search(
        self,
        query: str,
        collection: str,
        k: int = 5,
        *,
        filters: Filters | None = None,
        min_similarity: float | None = None,
        weights: Weights | None = None,
        alternatives: Sequence[str] = (),
        timings: dict[str, float] | None = None,
        record: bool = True,
        terms: str = "",
    ) -> list[Hit]:
        """Hybrid search of one collection; see ``retrieve.search``.

        With ``record`` the documents returned count as retrieved (health: documents
        never retrieved); evaluations and test queries pass False. ``terms`` (the
        model's list of what an answer would name) ranks the best ``TERMS_POOL``
        passages again before the first ``k`` are kept (``retrieve.rank_by_terms``).
        """
        coll = self.collection(collection)
        self._fill_words(coll)
        pool = max(k, TERMS_POOL) if terms else k
        try:
            hits = search(
                self, coll, query, pool, filters=filters, min_similarity=min_similarity,
                weights=weights, alternatives=alternatives, timings=timings,
            )  # fmt: skip
        except ChromaCollectionLostError:
            # The server was restarted empty while this process had it open: copy the
            # vectors again from SQLite (as opening it would have) and ask once more.
            self._synced.discard(coll.id)
            coll = self.collection(collection)
            hits = search(
                self, coll, query, pool, filters=filters, min_similarity=min_similarity,
                weights=weights, alternatives=alternatives, timings=timings,
            )  # fmt: skip
        if terms:
            hits = rank_by_terms(hits, terms)[:k]
        if record:
            self._note_retrieved(hits)
        return hits

    def search_many(
        self,
        query: str,
        collections: Sequence[str],
        k: int = 5,
        *,
        filters: Filters | None = None,
        min_similarity: float | None = None,
        alternatives: Sequence[str] = (),
        record: bool = True,
        terms: str = "",
    ) -> list[Hit]:
        """Search several collections (a chat may use more than one) and merge by fused
        score; ``alternatives``, ``record`` and ``terms`` as in ``search``."""
        merged: list[Hit] = []
        for name in collections:
            found = self.search(
                query, name, k, filters=filters, min_similarity=min_similarity,
                alternatives=alternatives, record=record, terms=terms,
            )  # fmt: skip
            merged.extend(found)
        merged.sort(key=lambda h: -h.fused)
        return [replace(h, rank=i) for i, h in enumerate(merged[:k], start=1)]

    def explain(
        self, query: str, collection: str, k: int = 10, *, filters: Filters | None = None
    ) -> Explanation:
        """A test query for the health view: scores and ranks of each hit, the fusion
        weights and the keyword terms used. It does not count as a retrieval."""
        coll = self.collection(collection)
        self._fill_words(coll)
        timings: dict[str, float] = {}
        hits = search(self, coll, query, k, filters=filters, timings=timings)
        plan = self.registry.keyword_plan(query)
        index_weights = keyword_weights(query)
        plans = {
            name: getattr(plan, name)
            for name in self.registry.keyword_indexes
            if index_weights[name] > 0  # an index weighted 0 is not searched
        }
        depth = max(MIN_CANDIDATES, 4 * k)
        ranks = {
            name: {chunk_id: r for r, chunk_id in enumerate(ranking, start=1)}
            for name, ranking in self.registry.keyword_rankings(coll, query, depth, filters).items()
        }
        return Explanation(
            query=query,
            hits=tuple(hits),
            weights=weights_for(query, coll.embed_model),
            keyword_terms=tuple(dict.fromkeys(t for p in plans.values() for t in p.kept)),
            keyword_left_out=tuple(dict.fromkeys(t for p in plans.values() for t in p.left_out)),
            timings_ms={name: seconds * 1000 for name, seconds in timings.items()},
            index_terms={name: (p.kept, p.left_out) for name, p in plans.items()},
            index_ranks={
                h.chunk.chunk_id: {name: r.get(h.chunk.chunk_id) for name, r in ranks.items()}
                for h in hits
            },
        )

    def _note_retrieved(self, hits: Sequence[Hit]) -> None:
        for doc_id in {h.chunk.doc_id for h in hits}:
            self._retrieved[doc_id] += 1
        self._unrecorded_searches += 1
        if self._unrecorded_searches >= RETRIEVALS_PER_WRITE:
            self.flush_retrievals()

    def flush_retrievals(self) -> None:
        """Write the retrieval counts gathered since the last write."""
        if self._retrieved:
            self.registry.record_retrievals(dict(self._retrieved), time.time())
        self._retrieved.clear()
        self._unrecorded_searches = 0

    # -- watched folders -----------------------------------------------------------

    def watch(self, collection: str, folder: Path, *, chroma_url: str | None = None) -> str:
        """Watch a folder for a collection (created if needed); returns its resolved path.

        Watching only records the folder: ``sync_watched`` indexes it, and a
        ``workers.kb_watch.FolderWatcher`` says when to call that again.
        """
        target = Path(folder).expanduser().resolve()
        if not target.is_dir():
            raise KnowledgeBaseError(f"{target} is not a folder: only folders can be watched.")
        coll = self.collection(collection, create=True, chroma_url=chroma_url)
        self.registry.watch(coll, str(target))
        return str(target)

    def unwatch(self, collection: str, folder: Path, *, remove_documents: bool = False) -> bool:
        """Stop watching a folder (its documents stay unless ``remove_documents``)."""
        coll = self.registry.collection(collection)
        target = str(Path(folder).expanduser().resolve())
        known = self.registry.unwatch(coll, target)
        if remove_documents:
            self.remove(collection, [Path(target)])
        return known

    def watched(self, collection: str) -> list[str]:
        """The folders a collection watches."""
        return self.registry.watched(self.registry.collection(collection))

    def folder_state(self, collection: str) -> dict[str, FileState]:
        """(size, mtime) recorded for each document under the watched folders: the
        baseline a watcher compares its scans with."""
        coll = self.registry.collection(collection)
        folders = self.registry.watched(coll)
        return {
            d.path: (d.size or 0, d.mtime or 0.0)
            for d in self.registry.documents(coll)
            if under(d.path, folders) and d.status != "pending"
        }

    def pending_changes(self, collection: str) -> FolderChanges:
        """What changed in the watched folders since they were indexed (sizes and times
        only, no hashing): what ``sync_watched`` would look at."""
        folders = self.watched(collection)
        return diff(self.folder_state(collection), scan(Path(f) for f in folders))

    def sync_watched(
        self,
        collection: str,
        parser: Parser,
        progress: Callable[[IngestProgress], None] | None = None,
        control: IngestControl | None = None,
    ) -> IngestReport:
        """Bring a collection up to date with its watched folders.

        Changed files are indexed again, deleted files removed, unchanged files
        (same content hash) skipped: the same ingestion as ``ingest``. A watched
        folder that is missing (an unplugged drive) is reported as failed and its
        documents are kept.
        """
        coll = self.collection(collection)
        folders = [Path(f) for f in self.registry.watched(coll)]
        present = [f for f in folders if f.is_dir()]
        missing = [(str(f), "watched folder not found") for f in folders if not f.is_dir()]
        if not present:
            return IngestReport(collection=coll.name, failed=missing)
        report = run_ingest(
            self, present, coll, parser, progress=progress, control=control, remove_missing=True
        )
        report.failed.extend(missing)
        return report
