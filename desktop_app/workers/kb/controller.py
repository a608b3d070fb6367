"""The knowledge controller: the GUI thread's handle on the knowledge base.

One ``KnowledgeBase`` and one parser process belong to a single background
thread the controller owns; the GUI thread only submits jobs and receives plain
dataclasses from ``core.kb`` through signals. Opening the store is lazy and
happens on that thread, because its first real use loads sentence-transformers
and Chroma (seconds): the window opens at once whatever the state of the store.

Jobs run one after another, like ``InferenceController``'s, with one exception
that keeps the app usable during a long ingestion: read-only jobs (a search, a
document list, the collection counts, a source passage) are answered at the
ingestion's checkpoints, between files and between embedding batches, and while
it is paused. A checkpoint sits outside every SQLite transaction, so a read
there sees a consistent store; the worker thread remains the store's only user.

The thread and its queue are a ``workers.jobs.JobQueue``: the worker never
touches a Qt object, and what it reports is delivered on the GUI thread every
~30 ms. A search or a source passage is answered through the callbacks given to
that call (``on_done``, ``on_failed``); what every view shows (the collections,
a collection's documents, the ingestion's progress) is broadcast as signals.

Watched folders are followed by one ``FolderWatcher``, started once the store is
open and some collection watches a folder. Its callback runs on the watcher's
thread and only notes which collections changed; a timer in the GUI thread turns
those notes into sync jobs, queued like any ingestion (paused, cancelled and
reported the same way).
"""

from __future__ import annotations

import errno
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from desktop_app.core.backup import Backup, Restored, restore_knowledge_base
from desktop_app.core.errors import GlassboxError
from desktop_app.core.kb.db import Filters
from desktop_app.core.kb.errors import KnowledgeBaseError
from desktop_app.core.kb.grounding import GroundingOptions, find_passages
from desktop_app.core.kb.ingest import IngestControl, IngestReport
from desktop_app.core.kb.knowledge_base import CollectionStats, KnowledgeBase
from desktop_app.core.kb.parse_host import Parser
from desktop_app.core.kb.reembed import ReembedProgress, ReembedReport
from desktop_app.core.kb.retrieve import Hit
from desktop_app.core.kb.sources import SourceText, source_text
from desktop_app.core.kb.watch import FileState, FolderChanges, under
from desktop_app.core.kb.whole import Fit, whole_documents
from desktop_app.workers.jobs import (
    CANCELLED,
    INTERNAL_ERROR,
    FailedCallback,
    JobContext,
    JobHandle,
    JobQueue,
)
from desktop_app.workers.jobs_qt import GuiDrain
from desktop_app.workers.kb.parser import SandboxedParser
from desktop_app.workers.kb.watch import DEFAULT_INTERVAL_S, FolderWatcher

log = logging.getLogger(__name__)

__all__ = ["INTERNAL_ERROR", "KnowledgeController", "sandboxed_parser"]

#: The longest wait between the watcher noting a change and its sync being queued (ms).
_WATCH_POLL_MS = 250

#: A speed is noted from a run that embedded at least this many chunks.
_RATE_MIN_CHUNKS = 64

#: Makes the store (``KnowledgeBase()`` in the app; a hash embedder in quick tests).
KnowledgeBaseFactory = Callable[[], KnowledgeBase]
#: Makes the parser for a store (a sandboxed process sized for its embedding model).
ParserFactory = Callable[[KnowledgeBase], Parser]
#: What a job on the store is given: the store and the job's context.
_Ctx = JobContext[KnowledgeBase, object]


def sandboxed_parser(kb: KnowledgeBase) -> Parser:
    """The default parser: a child process chunking for the store's embedding model."""
    return SandboxedParser(config=kb.chunk_config())


def _disk_full(exc: BaseException) -> bool:
    """Whether an error from SQLite, Chroma or a file write means no space is left."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    return "full" in str(exc).lower() and isinstance(exc, sqlite3.Error)


# --------------------------------------------------------------------------- jobs


class _IngestGate(IngestControl):
    """An ``IngestControl`` whose checkpoints answer waiting read-only jobs."""

    def __init__(self, serve: Callable[[float], None]) -> None:
        super().__init__()
        self._serve = serve

    def checkpoint(self, on_pause: Callable[[], None] | None = None) -> bool:
        """Answer waiting reads, then block while paused (still answering them)."""
        self._serve(0.0)
        if self.paused:
            if on_pause is not None:
                on_pause()
            while self.paused:
                self._serve(0.2)
        return self.cancelled


@dataclass(eq=False)
class _Ingest:
    """An ingestion or a sync, queued or running (GUI-thread bookkeeping)."""

    control: _IngestGate
    #: The collection whose watched folders this job syncs.
    sync: str | None = None
    #: Whether the watcher started the sync (a folder changed) rather than the user.
    by_watcher: bool = False
    #: The collection this job embeds again with another model (``change_embedding``).
    reembed: str | None = None
    handle: JobHandle | None = None

    @property
    def started(self) -> bool:
        return self.handle is not None and self.handle.started


# --------------------------------------------------------------------------- controller


class KnowledgeController(QObject):
    """Runs knowledge-base jobs on one background thread; results come to the GUI thread.

    Lives in the GUI thread; every method returns at once. Nothing happens at
    construction: the thread starts with the first job, and the store is opened by
    ``kb_factory`` on that thread.
    """

    sig_ready = Signal()
    """The store was opened (once); collections can be listed and searched."""

    sig_collections = Signal(list)
    """Every collection as a ``CollectionStats``, by name (after any change)."""

    sig_trash = Signal(list)
    """The collections in the trash (``TrashedCollection``, newest first), sent with
    every ``sig_collections``."""

    sig_progress = Signal(object)
    """The running ingestion's latest ``IngestProgress`` (at most one per flush)."""

    sig_ingest_done = Signal(object)
    """An ingestion ended: its ``IngestReport`` (``cancelled`` after ``cancel``)."""

    sig_documents = Signal(str, list)
    """A collection's name and its ``Document``s (status, reason, chunks, size, path)."""

    sig_error = Signal(str, str)
    """A job failed: the error's kind (``kb_locked`` when another Glassbox has the
    store) and a message for the user. The controller stays usable."""

    sig_busy = Signal(bool)
    """True when jobs start, False when all are done."""

    sig_watched = Signal(str, list)
    """A collection's name and the folders it watches (resolved paths, sorted): sent
    when the store opens for each collection that watches one, then on every change."""

    sig_sync_done = Signal(object, bool)
    """A sync of watched folders ended: its ``IngestReport`` (sent as
    ``sig_ingest_done`` just before) and whether the watcher started it because a
    folder changed (False for ``sync`` and ``watch_folder``)."""

    sig_reembed_progress = Signal(object)
    """The running change of embedding model: its latest ``ReembedProgress``."""

    sig_reembed_done = Signal(object)
    """A change of embedding model ended: its ``ReembedReport`` (``cancelled`` after
    ``cancel``: the collection keeps its old model and vectors). A failure comes as
    ``sig_error`` instead, and leaves the collection as it was too."""

    def __init__(
        self,
        kb_factory: KnowledgeBaseFactory = KnowledgeBase,
        parser_factory: ParserFactory = sandboxed_parser,
        parent: QObject | None = None,
        *,
        watch_interval_s: float = DEFAULT_INTERVAL_S,
    ) -> None:
        super().__init__(parent)
        if watch_interval_s <= 0:
            raise ValueError("watch_interval_s must be positive")
        self._kb_factory = kb_factory
        self._parser_factory = parser_factory
        self._watch_interval_s = watch_interval_s
        self._jobs: JobQueue[KnowledgeBase] = JobQueue(
            self._open_store,
            self._close_store,
            name="glassbox-knowledge",
            on_busy=self.sig_busy.emit,
            on_refused=self.sig_error.emit,
        )
        self._drain = GuiDrain(self._jobs, self)

        # GUI-thread bookkeeping.
        self._ingests: list[_Ingest] = []
        # Chunks per second measured in this session, by embedding model name.
        self._rates: dict[str, float] = {}
        # Chunks per language of each collection, as last listed (``sig_collections``).
        self._languages: dict[str, dict[str, int]] = {}
        self._ready = False
        self._closing = False

        # Owned by the worker thread.
        self._parser: Parser | None = None

        # Watched folders: written by the GUI thread, read by the watcher's thread.
        self._watch_lock = threading.Lock()
        self._watch_map: dict[str, list[str]] = {}  # guarded by _watch_lock
        self._sync_requests: set[str] = set()  # guarded by _watch_lock
        self._watcher: FolderWatcher | None = None  # GUI thread only

        self._watch_timer = QTimer(self)
        self._watch_timer.setInterval(min(_WATCH_POLL_MS, max(20, int(watch_interval_s * 1000))))
        self._watch_timer.timeout.connect(self._on_watch_timer_timeout)

    # ----------------------------------------------------------------- GUI-thread API

    @property
    def ready(self) -> bool:
        """Whether the store has been opened."""
        return self._ready

    @property
    def ingesting(self) -> bool:
        """Whether an ingestion is running or queued."""
        return bool(self._ingests)

    @property
    def paused(self) -> bool:
        """Whether the ingestion is held by ``pause``."""
        return any(ingest.control.paused for ingest in self._ingests)

    @property
    def worker_thread(self) -> threading.Thread | None:
        """The background thread, once started (for shutdown checks)."""
        return self._jobs.worker_thread

    @property
    def watching(self) -> bool:
        """Whether the folder watcher runs (some collection watches a folder)."""
        return self._watcher is not None and self._watcher.is_alive()

    def watched_folders(self, collection: str) -> list[str]:
        """The folders ``collection`` watches, as last sent by ``sig_watched``."""
        with self._watch_lock:
            return list(self._watch_map.get(collection, ()))

    def watch_folder(self, collection: str, folder: str) -> None:
        """Watch a folder for ``collection`` (created if new) and index it now.

        From then on, whenever the watcher sees the folder change, changed files are
        indexed again, deleted files removed and unchanged files skipped. Progress
        and outcome come as for ``ingest`` (then ``sig_sync_done``); ``sig_watched``
        lists the folder once this first indexing is over, so the watcher does not
        report the files it is indexing as new.
        """
        target = Path(folder)

        def run(kb: KnowledgeBase, ingest: _Ingest, ctx: _Ctx) -> None:
            kb.watch(collection, target)
            self._do_sync(kb, ingest, ctx, collection)

        self._submit_ingest(collection, run, sync=True)

    def unwatch_folder(self, collection: str, folder: str, remove_documents: bool = False) -> None:
        """Stop watching a folder; its documents stay unless ``remove_documents``."""
        target = Path(folder)

        def run(kb: KnowledgeBase, _ctx: _Ctx) -> None:
            kb.unwatch(collection, target, remove_documents=remove_documents)
            if remove_documents:
                self._post_changed(kb, collection)
            self._post_watch_state(kb)

        self._run(run)

    def sync(self, collection: str) -> None:
        """Bring ``collection`` up to date with its watched folders now (as the watcher
        would after a change): reported like an ingestion, then ``sig_sync_done``."""
        self._queue_sync(collection, by_watcher=False)

    def refresh(self) -> None:
        """List the collections with their counts (``sig_collections``)."""
        self._run(lambda kb, _ctx: self._post_collections(kb), quick=True)

    def warm_up(self, collection: str | None = None) -> None:
        """Load the embedding model (and a collection's index) in the background.

        The window calls it when a collection is attached to a chat, so the first
        question does not wait for sentence-transformers to load.
        """
        self._run(lambda kb, _ctx: kb.warm_up(collection))

    def documents(self, collection: str) -> None:
        """List a collection's documents (``sig_documents``)."""
        self._run(lambda kb, _ctx: self._post_documents(kb, collection), quick=True)

    def ingest(self, paths: Sequence[str], collection: str) -> None:
        """Index files and folders into ``collection`` (created if new).

        Progress arrives as ``sig_progress``, the outcome as ``sig_ingest_done``,
        then fresh ``sig_collections`` and ``sig_documents``. Unchanged files are
        skipped, an interrupted ingestion resumes where it stopped.
        """
        items = [Path(p) for p in paths]

        def run(kb: KnowledgeBase, ingest: _Ingest, ctx: _Ctx) -> None:
            self._do_ingest(kb, ingest, ctx, collection, items)

        self._submit_ingest(collection, run)

    def reindex(self, collection: str, paths: Sequence[str]) -> None:
        """Forget these documents and index them again from their files."""
        items = [Path(p) for p in paths]

        def run(kb: KnowledgeBase, ingest: _Ingest, ctx: _Ctx) -> None:
            kb.remove(collection, items)
            present = [p for p in items if p.exists()]
            if present:
                self._do_ingest(kb, ingest, ctx, collection, present)
            else:
                self._post_changed(kb, collection)

        self._submit_ingest(collection, run)

    def pause(self) -> None:
        """Hold the ingestion at its next file or batch (searches are still answered)."""
        for ingest in self._ingests:
            ingest.control.pause()

    def resume(self) -> None:
        """Go on after ``pause``."""
        for ingest in self._ingests:
            ingest.control.resume()

    def cancel(self) -> None:
        """Stop the running and queued ingestions; what was indexed stays and resumes later."""
        for ingest in self._ingests:
            ingest.control.cancel()

    @property
    def reembedding(self) -> str | None:
        """The collection whose embedding model is being changed (running or queued)."""
        for ingest in self._ingests:
            if ingest.reembed is not None:
                return ingest.reembed
        return None

    def measured_rate(self, model: str) -> float | None:
        """Chunks per second that ``model`` was measured at in this session (by an
        ingestion into one of its collections or a change of model to it); None
        before any. The window estimates how long a change of model takes from it."""
        return self._rates.get(model)

    def change_embedding(self, collection: str, model: str) -> None:
        """Embed every passage of ``collection`` again with ``model`` (a catalog name)
        and make it the collection's model; no file is parsed again.

        Queued and run like an ingestion: ``pause``, ``resume`` and ``cancel`` act on
        it, and searches are answered at its checkpoints, still on the old vectors,
        until the new ones are swapped in at the very end. Progress comes as
        ``sig_reembed_progress``, the outcome as ``sig_reembed_done`` (then fresh
        ``sig_collections``); a failure (the model missing, the disk full) as
        ``sig_error``, the collection left on its old model.
        """
        ingest = _Ingest(_IngestGate(self._jobs.serve_quick), reembed=collection)

        def run(kb: KnowledgeBase, ctx: _Ctx) -> None:
            if ingest.control.cancelled:
                report = ReembedReport(collection, "", model, 0, 0, 0.0, True)
            else:
                report = self._do_reembed(kb, ingest, ctx, collection, model)
            self._jobs.post(lambda: self._on_reembed_done(ingest, report))

        def failed(kind: str, message: str) -> None:
            self._ingest_over(ingest)
            self.sig_error.emit(kind, message)

        def progress(p: object) -> None:
            if (
                isinstance(p, ReembedProgress)
                and p.rate_chunks_s > 0
                and p.done >= _RATE_MIN_CHUNKS
            ):
                self._rates[model] = p.rate_chunks_s
            self.sig_reembed_progress.emit(p)

        self._ingests.append(ingest)
        ingest.handle = self._jobs.run(run, on_failed=failed, on_progress=progress, quick=False)

    def create_collection(
        self, name: str, chroma_url: str | None = None, embed_model: str | None = None
    ) -> None:
        """Create an empty collection for the configured embedding model.

        With ``chroma_url`` (``http://host:port`` of a ``chroma run`` server) its
        vectors live on that server; documents and chunks stay in the local
        database. An invalid URL, or a server that does not answer within a few
        seconds, comes back as ``sig_error`` (kind ``kb_error`` or
        ``kb_chroma_server``) and no collection is made. ``embed_model`` names the
        catalog model that embeds it (None: the default); one that is not installed
        comes back as ``sig_error`` too.
        """

        def run(kb: KnowledgeBase, _ctx: _Ctx) -> None:
            kb.create_collection(name, chroma_url or None, embed_model=embed_model)
            self._post_collections(kb)

        self._run(run)

    def move_collection(self, name: str, chroma_url: str | None) -> None:
        """Move a collection's vectors to a Chroma server (``chroma_url``) or back to
        the local data folder (None), copied from the local database (no embedding).
        Fresh ``sig_collections`` follow; a failure comes as ``sig_error``."""

        def run(kb: KnowledgeBase, _ctx: _Ctx) -> None:
            kb.move(name, chroma_url or None)
            self._post_collections(kb)

        self._run(run)

    def rename_collection(self, old: str, new: str) -> None:
        """Rename a collection."""

        def run(kb: KnowledgeBase, _ctx: _Ctx) -> None:
            kb.rename(old, new)
            self._post_collections(kb)
            self._post_watch_state(kb)

        self._run(run)

    def trash_collection(self, name: str) -> None:
        """Put a collection in the trash: hidden at once, deleted for good after 7 days
        unless ``restore_collection`` brings it back first."""

        def run(kb: KnowledgeBase, _ctx: _Ctx) -> None:
            kb.trash_collection(name)
            self._post_collections(kb)
            self._post_watch_state(kb)

        self._run(run)

    def restore_collection(self, collection_id: int | None = None, name: str = "") -> None:
        """Take a collection out of the trash: by id, or the latest trashed by ``name``."""

        def run(kb: KnowledgeBase, _ctx: _Ctx) -> None:
            found = [
                t.collection.id
                for t in kb.trash()
                if t.collection.id == collection_id or (collection_id is None and t.name == name)
            ]
            if not found:
                raise KnowledgeBaseError(
                    f"The collection {name!r} is no longer in the trash; it may have been emptied."
                )
            kb.restore_collection(found[0])
            self._post_collections(kb)
            self._post_watch_state(kb)

        self._run(run)

    def delete_collection(self, name: str) -> None:
        """Delete a collection with its documents, chunks and vectors (files stay)."""

        def run(kb: KnowledgeBase, _ctx: _Ctx) -> None:
            kb.delete_collection(name)
            self._post_collections(kb)
            self._post_watch_state(kb)

        self._run(run)

    def restore_backup(
        self,
        backup: Backup,
        on_done: Callable[[Restored], None],
        on_failed: FailedCallback,
    ) -> None:
        """Restore the knowledge base from ``backup`` on the store's thread (after the
        jobs before it), bring Chroma in step with it, and list the collections again
        (``sig_collections``: the panel reloads)."""

        def run(kb: KnowledgeBase, _ctx: _Ctx) -> Restored:
            done = restore_knowledge_base(kb, backup)
            self._post_collections(kb)
            self._post_watch_state(kb)
            return done

        self._jobs.run(run, on_done=on_done, on_failed=on_failed)

    def remove_documents(self, collection: str, paths: Sequence[str]) -> None:
        """Forget documents (files, or everything under a folder); the files stay."""
        items = [Path(p) for p in paths]

        def run(kb: KnowledgeBase, _ctx: _Ctx) -> None:
            kb.remove(collection, items)
            self._post_changed(kb, collection)

        self._run(run)

    def search(
        self,
        query: str,
        collections: Sequence[str],
        k: int = 5,
        min_similarity: float | None = None,
        filters: Filters | None = None,
        record: bool = True,
        *,
        on_done: Callable[[list[Hit]], None],
        on_failed: FailedCallback | None = None,
    ) -> JobHandle:
        """Hybrid search of the collections: ``on_done`` gets the ``Hit``s, best first.

        Answered even during an ingestion (at its next checkpoint). A failure is
        told to ``on_failed`` (the error's kind and message) and also sent as
        ``sig_error``. A test query passes ``record=False``: it must not make a
        document count as retrieved. Callbacks run on the GUI thread.
        """
        names = list(collections)

        def run(kb: KnowledgeBase, _ctx: _Ctx) -> list[Hit]:
            return kb.search_many(
                query, names, k, filters=filters, min_similarity=min_similarity, record=record
            )

        return self._jobs.run(run, on_done, self._failed(on_failed), quick=True)

    def find_passages(
        self,
        question: str,
        options: GroundingOptions,
        alternatives: Sequence[str] = (),
        *,
        terms: str = "",
        on_done: Callable[[list[Hit]], None],
        on_failed: FailedCallback | None = None,
    ) -> JobHandle:
        """The grounding pipeline's search step (``core.kb.grounding.find_passages``): the
        question and its phrasings in one fusion, ranked again by ``terms`` when the
        model listed them, the pool a rerank chooses from. Answered like ``search``,
        even during an ingestion."""

        def run(kb: KnowledgeBase, _ctx: _Ctx) -> list[Hit]:
            return find_passages(kb, question, options, alternatives, terms=terms)

        return self._jobs.run(run, on_done, self._failed(on_failed), quick=True)

    def whole_documents(
        self,
        question: str,
        options: GroundingOptions,
        n_ctx: int,
        answer_tokens: int,
        *,
        on_done: Callable[[tuple[list[Hit], Fit]], None],
        on_failed: FailedCallback | None = None,
    ) -> JobHandle:
        """Whole-document mode: the indexed documents of the options' collections (and
        filters), each whole, and whether they fit ``n_ctx`` with ``answer_tokens`` left
        (``core.kb.whole``). Answered like ``search``."""

        def run(kb: KnowledgeBase, _ctx: _Ctx) -> tuple[list[Hit], Fit]:
            return whole_documents(
                kb, options.collections, question, n_ctx, answer_tokens, options.filters
            )

        return self._jobs.run(run, on_done, self._failed(on_failed), quick=True)

    def load_source(
        self,
        path: str,
        char_start: int | None = None,
        char_end: int | None = None,
        doc_id: int | None = None,
        *,
        on_done: Callable[[SourceText], None],
        on_failed: FailedCallback | None = None,
    ) -> JobHandle:
        """Fetch a document's indexed text for the source viewer: ``on_done`` gets its
        ``SourceText``. ``doc_id`` (a hit's ``chunk.doc_id``) picks the right
        collection when a file is in several. A failure as for ``search``."""

        def run(kb: KnowledgeBase, _ctx: _Ctx) -> SourceText:
            return source_text(kb, path, char_start, char_end, doc_id)

        return self._jobs.run(run, on_done, self._failed(on_failed), quick=True)

    def shutdown(self, timeout_s: float = 10.0) -> bool:
        """Stop watching, cancel, close the store (releasing its writer lock) and join;
        True when in time."""
        self._closing = True
        self._watch_timer.stop()
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.stop(timeout_s)
        self.cancel()
        self._drain.stop()
        return self._jobs.shutdown(timeout_s)

    # ----------------------------------------------------------------- submitting

    def _failed(self, on_failed: FailedCallback | None) -> FailedCallback:
        """The caller's ``on_failed``, then ``sig_error`` (the window says it) unless the
        caller cancelled."""

        def failed(kind: str, message: str) -> None:
            if on_failed is not None:
                on_failed(kind, message)
            if kind != CANCELLED:  # the caller's own doing: nothing to tell the user
                self.sig_error.emit(kind, message)

        return failed

    def _run(self, op: Callable[[KnowledgeBase, _Ctx], object], *, quick: bool = False) -> None:
        self._jobs.run(op, on_failed=self.sig_error.emit, quick=quick)

    def _submit_ingest(
        self,
        collection: str,
        work: Callable[[KnowledgeBase, _Ingest, _Ctx], None],
        *,
        sync: bool = False,
        by_watcher: bool = False,
    ) -> None:
        ingest = _Ingest(_IngestGate(self._jobs.serve_quick))
        if sync:
            ingest.sync = collection
            ingest.by_watcher = by_watcher

        def run(kb: KnowledgeBase, ctx: _Ctx) -> None:
            if ingest.control.cancelled:
                # Cancelled while queued: report it as the ingestion would have.
                self._post_ingest_done(ingest, IngestReport(collection=collection, cancelled=True))
                return
            work(kb, ingest, ctx)

        def failed(kind: str, message: str) -> None:
            self._ingest_over(ingest)
            self.sig_error.emit(kind, message)

        self._ingests.append(ingest)
        ingest.handle = self._jobs.run(
            run, on_failed=failed, on_progress=self.sig_progress.emit, quick=False
        )

    def _queue_sync(self, collection: str, *, by_watcher: bool) -> None:
        def run(kb: KnowledgeBase, ingest: _Ingest, ctx: _Ctx) -> None:
            self._do_sync(kb, ingest, ctx, collection)

        self._submit_ingest(collection, run, sync=True, by_watcher=by_watcher)

    # ----------------------------------------------------------------- GUI thread

    def _on_ready(self) -> None:
        self._ready = True
        self.sig_ready.emit()

    def _ingest_over(self, ingest: _Ingest) -> None:
        if ingest in self._ingests:
            self._ingests.remove(ingest)

    def _on_reembed_done(self, ingest: _Ingest, report: ReembedReport) -> None:
        self._ingest_over(ingest)
        if not report.cancelled and not report.unchanged and report.seconds > 0:
            self._rates[report.new_model] = report.chunks / report.seconds
        self.sig_reembed_done.emit(report)

    def _note_rate(self, model: str, rate: float) -> None:
        self._rates[model] = rate

    def _on_ingest_done(self, ingest: _Ingest, report: IngestReport) -> None:
        # Over from now on, so whoever reacts to the signal sees ``ingesting`` False.
        self._ingest_over(ingest)
        self.sig_ingest_done.emit(report)
        if ingest.sync is not None:
            self.sig_sync_done.emit(report, ingest.by_watcher)

    def _apply_watch_state(
        self, folders: dict[str, list[str]], baseline: dict[str, FileState] | None
    ) -> None:
        """Take the watched folders the worker read from the store; start the watcher
        with the first one, and give it what is indexed now to compare with."""
        with self._watch_lock:
            old, self._watch_map = self._watch_map, folders
        for name in sorted(set(old) | set(folders)):
            if old.get(name, []) != folders.get(name, []):
                self.sig_watched.emit(name, folders.get(name, []))
        if self._closing:
            return
        if self._watcher is None:
            if folders:
                self._watcher = FolderWatcher(
                    self._watched_paths,
                    self._on_watcher_change,
                    interval_s=self._watch_interval_s,
                    baseline=baseline,
                    on_error=self._on_watcher_error,
                )
                self._watcher.start()
                self._watch_timer.start()
        elif baseline is not None:
            self._watcher.set_baseline(baseline)

    @Slot()
    def _on_watch_timer_timeout(self) -> None:
        with self._watch_lock:
            wanted, self._sync_requests = self._sync_requests, set()
        later: set[str] = set()
        for name in sorted(wanted):
            syncs = [ingest for ingest in self._ingests if ingest.sync == name]
            if any(not ingest.started for ingest in syncs):
                continue  # a queued sync will see this change
            if syncs:
                later.add(name)  # the running one may have read the file before it changed
                continue
            self._queue_sync(name, by_watcher=True)
        if later:
            with self._watch_lock:
                self._sync_requests |= later

    # ----------------------------------------------------------------- watcher thread

    def _watched_paths(self) -> list[Path]:
        with self._watch_lock:
            folders = {f for fs in self._watch_map.values() for f in fs}
        return [Path(f) for f in sorted(folders)]

    def _on_watcher_change(self, changes: FolderChanges) -> None:
        paths = (*changes.added, *changes.modified, *changes.removed)
        with self._watch_lock:
            for name, folders in self._watch_map.items():
                if any(under(p, folders) for p in paths):
                    self._sync_requests.add(name)

    @staticmethod
    def _on_watcher_error(exc: BaseException) -> None:
        log.error("Following the watched folders failed", exc_info=exc)

    # ----------------------------------------------------------------- worker thread

    def _open_store(self) -> KnowledgeBase:
        # A locked store (another Glassbox) raises here; the next job tries again.
        kb = self._kb_factory()
        self._jobs.post(self._on_ready)
        try:
            emptied = kb.empty_trash()
        except GlassboxError as exc:
            log.warning("The trash of collections could not be emptied: %s", exc)
        else:
            if emptied:
                log.info("%d collection(s) deleted a week ago were removed for good.", emptied)
        try:
            self._post_watch_state(kb)
        except GlassboxError as exc:
            # The store is usable without its watched folders; say why they stopped.
            kind, message = exc.kind, str(exc)
            self._jobs.post(lambda: self.sig_error.emit(kind, message))
        return kb

    def _close_store(self, kb: KnowledgeBase) -> None:
        parser, self._parser = self._parser, None
        close: Callable[[], None] | None = getattr(parser, "close", None)
        if close is not None:
            try:
                close()
            except OSError:
                log.exception("Closing the parser process failed")
        kb.close()

    def _post_ingest_done(self, ingest: _Ingest, report: IngestReport) -> None:
        self._jobs.post(lambda: self._on_ingest_done(ingest, report))

    def _do_ingest(
        self,
        kb: KnowledgeBase,
        ingest: _Ingest,
        ctx: _Ctx,
        collection: str,
        paths: Sequence[Path],
    ) -> None:
        if self._parser is None:
            self._parser = self._parser_factory(kb)
        try:
            report = kb.ingest(
                paths, collection, self._parser, progress=ctx.progress, control=ingest.control
            )
        except GlassboxError:
            self._post_changed(kb, collection)
            raise
        self._post_ingest_done(ingest, report)
        self._post_rate(kb, collection, report)
        self._post_changed(kb, collection)

    def _post_rate(self, kb: KnowledgeBase, collection: str, report: IngestReport) -> None:
        """Note how fast the collection's model embedded (parsing included: an upper
        bound on the time a change of model to it takes), from a long enough run."""
        found = kb.registry.find_collection(collection)
        if found is None or report.chunks_added < _RATE_MIN_CHUNKS or report.seconds <= 0:
            return
        model, rate = found.embed_model, report.chunks_added / report.seconds
        self._jobs.post(lambda: self._note_rate(model, rate))

    def _do_reembed(
        self, kb: KnowledgeBase, ingest: _Ingest, ctx: _Ctx, collection: str, model: str
    ) -> ReembedReport:
        try:
            report = kb.reembed(collection, model, progress=ctx.progress, control=ingest.control)
        except (OSError, sqlite3.Error) as exc:
            if _disk_full(exc):
                raise KnowledgeBaseError(
                    f"The disk is full: the collection {collection!r} could not be embedded "
                    f"again with {model}. It still uses its old model; free some space and "
                    "try again."
                ) from exc
            raise
        finally:
            self._post_changed(kb, collection)
        return report

    def _do_sync(self, kb: KnowledgeBase, ingest: _Ingest, ctx: _Ctx, collection: str) -> None:
        if self._parser is None:
            self._parser = self._parser_factory(kb)
        try:
            report = kb.sync_watched(
                collection, self._parser, progress=ctx.progress, control=ingest.control
            )
        except GlassboxError:
            self._post_changed(kb, collection)
            self._post_watch_state(kb, baseline=False)
            raise
        self._post_ingest_done(ingest, report)
        self._post_changed(kb, collection)
        # After a cancel the watcher keeps its own baseline: resetting it to what is
        # indexed would start the cancelled work again at the next scan.
        extra = {} if report.cancelled else self._unrecorded(report)
        self._post_watch_state(kb, baseline=not report.cancelled, extra=extra)

    def _post_watch_state(
        self,
        kb: KnowledgeBase,
        *,
        baseline: bool = True,
        extra: dict[str, FileState] | None = None,
    ) -> None:
        """Send every collection's watched folders and, with ``baseline``, what is
        indexed under them: the state the watcher compares its scans with."""
        if self._jobs.closing:
            return
        folders: dict[str, list[str]] = {}
        state: dict[str, FileState] = {}
        for coll in kb.collections():
            watched = kb.watched(coll.name)
            if not watched:
                continue
            folders[coll.name] = watched
            if baseline:
                # A missing folder (an unplugged drive) keeps its documents; leaving
                # them out stops the watcher from reporting them removed at every scan.
                present = [f for f in watched if os.path.isdir(f)]
                state.update(
                    (p, s) for p, s in kb.folder_state(coll.name).items() if under(p, present)
                )
        if extra:
            state.update(extra)
        told = state if baseline else None
        self._jobs.post(lambda: self._apply_watch_state(folders, told))

    @staticmethod
    def _unrecorded(report: IngestReport) -> dict[str, FileState]:
        """(size, mtime) of the files a sync could not read or refused as too large: no
        document records them, and without them in the baseline they would be reported
        at every scan."""
        out: dict[str, FileState] = {}
        for path, _reason in [*report.failed, *report.too_large]:
            try:
                st = os.stat(path)
            except OSError:
                continue
            if os.path.isfile(path):
                out[str(Path(path).resolve())] = (st.st_size, st.st_mtime)
        return out

    def _post_changed(self, kb: KnowledgeBase, collection: str) -> None:
        if self._jobs.closing:
            return  # nobody will look, and counting touches Chroma
        self._post_collections(kb)
        if kb.registry.find_collection(collection) is not None:
            self._post_documents(kb, collection)

    def _post_collections(self, kb: KnowledgeBase) -> None:
        summaries: list[CollectionStats] = kb.summaries()
        trash = kb.trash()
        self._jobs.post(lambda: self._emit_collections(summaries))
        self._jobs.post(lambda: self.sig_trash.emit(trash))

    def _emit_collections(self, summaries: list[CollectionStats]) -> None:
        self._languages = {s.name: dict(s.languages or {}) for s in summaries}
        self.sig_collections.emit(summaries)

    def collection_languages(self, name: str) -> dict[str, int]:
        """Chunks per language of a collection as last listed (GUI thread; empty when
        not listed yet): the chat decides from them whether to translate a question."""
        return dict(self._languages.get(name, {}))

    def _post_documents(self, kb: KnowledgeBase, collection: str) -> None:
        # The registry alone: listing documents must work while a Chroma server is down.
        coll = kb.registry.collection(collection)
        docs = kb.registry.documents(coll)
        self._jobs.post(lambda: self.sig_documents.emit(collection, docs))
