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

The worker never touches a Qt object: it puts results on a thread-safe queue and
a ~30 ms timer in the GUI thread emits the signals.

Watched folders are followed by one ``FolderWatcher``, started once the store is
open and some collection watches a folder. Its callback runs on the watcher's
thread and only notes which collections changed; a timer in the GUI thread turns
those notes into sync jobs, queued like any ingestion (paused, cancelled and
reported the same way).
"""

from __future__ import annotations

import dataclasses
import inspect
import itertools
import logging
import os
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from desktop_app.core.errors import GlassboxError
from desktop_app.core.kb.db import Collection, Document, Filters, StoredChunk
from desktop_app.core.kb.ingest import IngestControl, IngestReport, file_sha256
from desktop_app.core.kb.knowledge_base import KnowledgeBase
from desktop_app.core.kb.parse_host import Parser
from desktop_app.core.kb.parsers import ParseLimits, parse_file
from desktop_app.core.kb.retrieve import Hit
from desktop_app.core.kb.watch import FileState, FolderChanges, under
from desktop_app.workers.kb.parser import SandboxedParser
from desktop_app.workers.kb.watch import DEFAULT_INTERVAL_S, FolderWatcher

log = logging.getLogger(__name__)

#: How often results are flushed to the GUI (milliseconds).
FLUSH_INTERVAL_MS = 30
INTERNAL_ERROR = "internal"
#: File types whose extracted text is the file's own text (the viewer reads the file).
_PLAIN_TYPES = ("txt", "md")
#: The longest wait between the watcher noting a change and its sync being queued (ms).
_WATCH_POLL_MS = 250

#: Makes the store (``KnowledgeBase()`` in the app; a hash embedder in quick tests).
KnowledgeBaseFactory = Callable[[], KnowledgeBase]
#: Makes the parser for a store (a sandboxed process sized for its embedding model).
ParserFactory = Callable[[KnowledgeBase], Parser]


def sandboxed_parser(kb: KnowledgeBase) -> Parser:
    """The default parser: a child process chunking for the store's embedding model."""
    return SandboxedParser(config=kb.chunk_config())


# --------------------------------------------------------------------------- data


@dataclass(frozen=True, slots=True)
class CollectionSummary:
    """What the knowledge panel lists for a collection.

    ``never_retrieved`` lists indexed documents no search has returned (None
    while the store does not count retrievals);
    ``problem`` says why the counts are partial (a collection embedded with another
    model cannot be searched with the current one, its Chroma server is not
    reachable); ``chroma_url`` is the Chroma server holding its vectors (None: the
    local data folder).
    """

    name: str
    embed_model: str
    documents: int
    indexed: int
    pending: int
    failed: int
    chunks: int
    vectors_in_chroma: int | None
    bytes: int
    duplicate_chunks: int | None
    never_retrieved: tuple[str, ...] | None = None
    problem: str | None = None
    chroma_url: str | None = None


@dataclass(frozen=True, slots=True)
class SourceText:
    """A document's text as indexed, with the cited passage at ``[start, end)`` of ``text``.

    ``start`` and ``end`` are None when nothing is to be highlighted; ``note`` says
    how the text was obtained or why there is none, as one of the ``NOTE_*`` keys
    (the window words it in its language), with the failure's ``reason``.
    """

    path: str
    type: str | None
    text: str
    start: int | None
    end: int | None
    note: str = ""
    reason: str = ""


#: What :class:`SourceText` says about its text.
NOTE_MISSING = "missing"  # the file is not in the knowledge base
NOTE_FAILED = "failed"  # it could not be indexed (``reason`` says why)
NOTE_PENDING = "pending"  # it is still being indexed
NOTE_FILE = "file"  # the file's own text
NOTE_EXTRACTED = "extracted"  # the passages stitched together, as indexed


def stitch_chunks(
    chunks: Sequence[StoredChunk], start: int | None, end: int | None
) -> tuple[str, int | None, int | None]:
    """The document text rebuilt from its chunks, with ``[start, end)`` mapped into it.

    A chunk is ``text[char_start:char_end]`` of the extracted document, and
    consecutive chunks overlap, so their union is the document except what lies
    between blocks (blank lines, dropped page furniture): those gaps become a
    paragraph break, and the offsets are mapped across them.
    """
    parts: list[str] = []
    segments: list[tuple[int, int, int]] = []  # (document offset, text offset, length)
    covered = 0
    length = 0
    for chunk in sorted(chunks, key=lambda c: (c.char_start, c.char_end)):
        if chunk.char_end <= covered:
            continue
        begin = max(chunk.char_start, covered)
        if parts and begin > covered:
            gap = "\n\n" if begin - covered >= 2 else "\n"
            parts.append(gap)
            length += len(gap)
        piece = chunk.text[begin - chunk.char_start :]
        segments.append((begin, length, len(piece)))
        parts.append(piece)
        length += len(piece)
        covered = chunk.char_end
    text = "".join(parts)
    if start is None or end is None or end <= start or not segments:
        return text, None, None

    def place(offset: int, after: bool) -> int:
        for doc_at, text_at, size in segments:
            if offset < doc_at:
                return text_at  # in a gap: the next segment begins the passage
            if offset < doc_at + size or (after and offset == doc_at + size):
                return text_at + offset - doc_at
        return length

    return text, place(start, False), place(end, True)


def _paths(value: object) -> tuple[str, ...] | None:
    """A tuple of paths from a store field that may be missing (None) or any sequence."""
    if value is None or isinstance(value, str | int):
        return None
    return tuple(str(p) for p in value)  # type: ignore[attr-defined]


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
class _Job:
    id: int
    run: Callable[[KnowledgeBase], None]
    #: Read-only: may be answered at an ingestion's checkpoint.
    quick: bool = False
    control: _IngestGate | None = None
    search_id: int | None = None
    #: The collection whose watched folders this job syncs.
    sync: str | None = None
    #: Whether the watcher started the sync (a folder changed) rather than the user.
    by_watcher: bool = False
    #: Set by the worker thread when the job begins (read by the GUI thread).
    started: bool = False


# What the worker posts besides results: a job is over (busy and ingest bookkeeping).
_FINISHED = "finished"


# --------------------------------------------------------------------------- controller


class KnowledgeController(QObject):
    """Runs knowledge-base jobs on one background thread and reports through signals.

    Lives in the GUI thread; every method returns at once. Nothing happens at
    construction: the thread starts with the first job, and the store is opened by
    ``kb_factory`` on that thread.
    """

    sig_ready = Signal()
    """The store was opened (once); collections can be listed and searched."""

    sig_collections = Signal(list)
    """Every collection as a ``CollectionSummary``, by name (after any change)."""

    sig_progress = Signal(object)
    """The running ingestion's latest ``IngestProgress`` (at most one per flush)."""

    sig_ingest_done = Signal(object)
    """An ingestion ended: its ``IngestReport`` (``cancelled`` after ``cancel``)."""

    sig_documents = Signal(str, list)
    """A collection's name and its ``Document``s (status, reason, chunks, size, path)."""

    sig_search_done = Signal(int, list)
    """The request id given by ``search`` and its ``Hit``s, best first."""

    sig_search_failed = Signal(int, str, str)
    """The request id given by ``search``, the error's kind and message (also sent as
    ``sig_error``): a caller waiting for that search stops waiting."""

    sig_source = Signal(int, object)
    """The request id given by ``load_source`` and its ``SourceText``."""

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
        self._ids = itertools.count(1)

        self._cond = threading.Condition()
        self._queue: deque[_Job] = deque()  # guarded by _cond
        self._outbox: queue.SimpleQueue[tuple[_Job | None, str, Any]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._closing = threading.Event()

        # GUI-thread bookkeeping.
        self._pending = 0
        self._ingests: list[_Job] = []
        self._ready = False

        # Owned by the worker thread.
        self._kb: KnowledgeBase | None = None
        self._parser: Parser | None = None

        # Watched folders: written by the GUI thread, read by the watcher's thread.
        self._watch_lock = threading.Lock()
        self._watch_map: dict[str, list[str]] = {}  # guarded by _watch_lock
        self._sync_requests: set[str] = set()  # guarded by _watch_lock
        self._watcher: FolderWatcher | None = None  # GUI thread only

        self._flush_timer = QTimer(self)
        self._flush_timer.setInterval(FLUSH_INTERVAL_MS)
        self._flush_timer.timeout.connect(self._on_flush_timer_timeout)
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
        return any(job.control is not None and job.control.paused for job in self._ingests)

    @property
    def worker_thread(self) -> threading.Thread | None:
        """The background thread, once started (for shutdown checks)."""
        return self._thread

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

        def run(kb: KnowledgeBase, job: _Job) -> None:
            kb.watch(collection, target)
            self._do_sync(kb, job, collection)

        self._submit_ingest(collection, run, sync=True)

    def unwatch_folder(self, collection: str, folder: str, remove_documents: bool = False) -> None:
        """Stop watching a folder; its documents stay unless ``remove_documents``."""
        target = Path(folder)

        def run(kb: KnowledgeBase) -> None:
            kb.unwatch(collection, target, remove_documents=remove_documents)
            if remove_documents:
                self._post_changed(kb, job, collection)
            self._post_watch_state(kb, job)

        job = _Job(next(self._ids), run)
        self._submit(job)

    def sync(self, collection: str) -> None:
        """Bring ``collection`` up to date with its watched folders now (as the watcher
        would after a change): reported like an ingestion, then ``sig_sync_done``."""
        self._queue_sync(collection, by_watcher=False)

    def refresh(self) -> None:
        """List the collections with their counts (``sig_collections``)."""
        self._submit(_Job(next(self._ids), self._do_refresh, quick=True))

    def warm_up(self, collection: str | None = None) -> None:
        """Load the embedding model (and a collection's index) in the background.

        The window calls it when a collection is attached to a chat, so the first
        question does not wait for sentence-transformers to load.
        """

        def run(kb: KnowledgeBase) -> None:
            warm = getattr(kb, "warm_up", None)
            if warm is not None:
                warm(collection)
            else:
                _ = kb.embedder  # the property loads the model, on this thread

        self._submit(_Job(next(self._ids), run))

    def documents(self, collection: str) -> None:
        """List a collection's documents (``sig_documents``)."""

        def run(kb: KnowledgeBase) -> None:
            self._post_documents(kb, collection)

        self._submit(_Job(next(self._ids), run, quick=True))

    def ingest(self, paths: Sequence[str], collection: str) -> None:
        """Index files and folders into ``collection`` (created if new).

        Progress arrives as ``sig_progress``, the outcome as ``sig_ingest_done``,
        then fresh ``sig_collections`` and ``sig_documents``. Unchanged files are
        skipped, an interrupted ingestion resumes where it stopped.
        """
        items = [Path(p) for p in paths]
        self._submit_ingest(collection, lambda kb, job: self._do_ingest(kb, job, collection, items))

    def reindex(self, collection: str, paths: Sequence[str]) -> None:
        """Forget these documents and index them again from their files."""
        items = [Path(p) for p in paths]

        def run(kb: KnowledgeBase, job: _Job) -> None:
            kb.remove(collection, items)
            present = [p for p in items if p.exists()]
            if present:
                self._do_ingest(kb, job, collection, present)
            else:
                self._post_changed(kb, job, collection)

        self._submit_ingest(collection, run)

    def pause(self) -> None:
        """Hold the ingestion at its next file or batch (searches are still answered)."""
        for job in self._ingests:
            if job.control is not None:
                job.control.pause()

    def resume(self) -> None:
        """Go on after ``pause``."""
        for job in self._ingests:
            if job.control is not None:
                job.control.resume()

    def cancel(self) -> None:
        """Stop the running and queued ingestions; what was indexed stays and resumes later."""
        for job in self._ingests:
            if job.control is not None:
                job.control.cancel()

    def create_collection(self, name: str, chroma_url: str | None = None) -> None:
        """Create an empty collection for the configured embedding model.

        With ``chroma_url`` (``http://host:port`` of a ``chroma run`` server) its
        vectors live on that server; documents and chunks stay in the local
        database. An invalid URL, or a server that does not answer within a few
        seconds, comes back as ``sig_error`` (kind ``kb_error`` or
        ``kb_chroma_server``) and no collection is made.
        """

        def run(kb: KnowledgeBase) -> None:
            kb.create_collection(name, chroma_url or None)
            self._post(job, "collections", self._summaries(kb))

        job = _Job(next(self._ids), run)
        self._submit(job)

    def move_collection(self, name: str, chroma_url: str | None) -> None:
        """Move a collection's vectors to a Chroma server (``chroma_url``) or back to
        the local data folder (None), copied from the local database (no embedding).
        Fresh ``sig_collections`` follow; a failure comes as ``sig_error``."""

        def run(kb: KnowledgeBase) -> None:
            kb.move(name, chroma_url or None)
            self._post(job, "collections", self._summaries(kb))

        job = _Job(next(self._ids), run)
        self._submit(job)

    def rename_collection(self, old: str, new: str) -> None:
        """Rename a collection."""

        def run(kb: KnowledgeBase) -> None:
            kb.rename(old, new)
            self._post(job, "collections", self._summaries(kb))
            self._post_watch_state(kb, job)

        job = _Job(next(self._ids), run)
        self._submit(job)

    def delete_collection(self, name: str) -> None:
        """Delete a collection with its documents, chunks and vectors (files stay)."""

        def run(kb: KnowledgeBase) -> None:
            kb.delete_collection(name)
            self._post(job, "collections", self._summaries(kb))
            self._post_watch_state(kb, job)

        job = _Job(next(self._ids), run)
        self._submit(job)

    def remove_documents(self, collection: str, paths: Sequence[str]) -> None:
        """Forget documents (files, or everything under a folder); the files stay."""
        items = [Path(p) for p in paths]

        def run(kb: KnowledgeBase) -> None:
            kb.remove(collection, items)
            self._post_changed(kb, job, collection)

        job = _Job(next(self._ids), run)
        self._submit(job)

    def search(
        self,
        query: str,
        collections: Sequence[str],
        k: int = 5,
        min_similarity: float | None = None,
        filters: Filters | None = None,
        record: bool = True,
    ) -> int:
        """Hybrid search of the collections; returns the request id of ``sig_search_done``.

        Answered even during an ingestion (at its next checkpoint). A failure
        sends ``sig_search_failed`` with the same id. A test query passes
        ``record=False``: it must not make a document count as retrieved.
        """
        names = list(collections)
        rid = next(self._ids)

        def run(kb: KnowledgeBase) -> None:
            if record or "record" not in inspect.signature(kb.search).parameters:
                hits = kb.search_many(
                    query, names, k, filters=filters, min_similarity=min_similarity
                )
            else:
                merged: list[Hit] = []
                for name in names:
                    merged.extend(
                        kb.search(
                            query,
                            name,
                            k,
                            filters=filters,
                            min_similarity=min_similarity,
                            record=False,  # type: ignore[call-arg,unused-ignore]
                        )
                    )
                merged.sort(key=lambda h: -h.fused)
                hits = [dataclasses.replace(h, rank=i) for i, h in enumerate(merged[:k], 1)]
            self._post(job, "search", (rid, hits))

        job = _Job(rid, run, quick=True, search_id=rid)
        self._submit(job)
        return rid

    def load_source(
        self,
        path: str,
        char_start: int | None = None,
        char_end: int | None = None,
        doc_id: int | None = None,
    ) -> int:
        """Fetch a document's indexed text for the source viewer; returns the request id.

        The answer is a ``SourceText`` on ``sig_source``. ``doc_id`` (a hit's
        ``chunk.doc_id``) picks the right collection when a file is in several.
        """
        rid = next(self._ids)

        def run(kb: KnowledgeBase) -> None:
            self._post(
                job, "source", (rid, self._source_text(kb, path, char_start, char_end, doc_id))
            )

        job = _Job(rid, run, quick=True)
        self._submit(job)
        return rid

    def shutdown(self, timeout_s: float = 10.0) -> bool:
        """Stop watching, cancel, close the store (releasing its writer lock) and join;
        True when in time."""
        self._closing.set()
        self._watch_timer.stop()
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.stop(timeout_s)
        self.cancel()
        self._flush_timer.stop()
        with self._cond:
            self._queue.clear()
            self._cond.notify_all()
        thread = self._thread
        if thread is None:
            return True
        thread.join(timeout_s)
        if thread.is_alive():
            log.warning("The knowledge-base thread did not end within %.1f s.", timeout_s)
            return False
        return True

    def _submit_ingest(
        self,
        collection: str,
        work: Callable[[KnowledgeBase, _Job], None],
        *,
        sync: bool = False,
        by_watcher: bool = False,
    ) -> None:
        job = _Job(next(self._ids), lambda kb: None)
        job.control = _IngestGate(self._serve_quick)
        if sync:
            job.sync = collection
            job.by_watcher = by_watcher

        def run(kb: KnowledgeBase) -> None:
            if job.control is not None and job.control.cancelled:
                # Cancelled while queued: report it as the ingestion would have.
                self._post(job, "ingest_done", IngestReport(collection=collection, cancelled=True))
                return
            work(kb, job)

        job.run = run
        self._ingests.append(job)
        self._submit(job)

    def _queue_sync(self, collection: str, *, by_watcher: bool) -> None:
        self._submit_ingest(
            collection,
            lambda kb, job: self._do_sync(kb, job, collection),
            sync=True,
            by_watcher=by_watcher,
        )

    def _submit(self, job: _Job) -> None:
        if self._closing.is_set():
            self.sig_error.emit(INTERNAL_ERROR, "Glassbox is shutting down.")
            return
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run_worker, name="glassbox-knowledge", daemon=True
            )
            self._thread.start()
        self._pending += 1
        if self._pending == 1:
            self.sig_busy.emit(True)
        if not self._flush_timer.isActive():
            self._flush_timer.start()
        with self._cond:
            self._queue.append(job)
            self._cond.notify_all()

    # ----------------------------------------------------------------- GUI-thread drain

    @Slot()
    def _on_flush_timer_timeout(self) -> None:
        items: list[tuple[_Job | None, str, Any]] = []
        while True:
            try:
                items.append(self._outbox.get_nowait())
            except queue.Empty:
                break
        for i, (job, tag, payload) in enumerate(items):
            if tag == "progress" and i + 1 < len(items) and items[i + 1][1] == "progress":
                continue  # only the latest progress of a flush is worth drawing
            self._dispatch(job, tag, payload)
        if self._pending == 0 and self._outbox.empty():
            self._flush_timer.stop()

    def _dispatch(self, job: _Job | None, tag: str, payload: Any) -> None:
        if tag == "ready":
            self._ready = True
            self.sig_ready.emit()
        elif tag == "collections":
            self.sig_collections.emit(payload)
        elif tag == "progress":
            self.sig_progress.emit(payload)
        elif tag == "ingest_done":
            # Over from now on, so whoever reacts to the signal sees ``ingesting`` False.
            if job is not None and job in self._ingests:
                self._ingests.remove(job)
            self.sig_ingest_done.emit(payload)
            if job is not None and job.sync is not None:
                self.sig_sync_done.emit(payload, job.by_watcher)
        elif tag == "watch_state":
            self._apply_watch_state(payload[0], payload[1])
        elif tag == "documents":
            self.sig_documents.emit(payload[0], payload[1])
        elif tag == "search":
            self.sig_search_done.emit(payload[0], payload[1])
        elif tag == "source":
            self.sig_source.emit(payload[0], payload[1])
        elif tag == "error":
            kind, message = payload
            if job is not None and job.search_id is not None:
                self.sig_search_failed.emit(job.search_id, kind, message)
            self.sig_error.emit(kind, message)
        elif tag == _FINISHED:
            if job is not None and job in self._ingests:
                self._ingests.remove(job)
            self._pending -= 1
            if self._pending == 0:
                self.sig_busy.emit(False)
        else:
            log.error("Unexpected item from the knowledge-base thread: %r", tag)

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
        if self._closing.is_set():
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
            syncs = [job for job in self._ingests if job.sync == name]
            if any(not job.started for job in syncs):
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

    def _post(self, job: _Job | None, tag: str, payload: Any = None) -> None:
        self._outbox.put((job, tag, payload))

    def _take(self, quick_only: bool, wait_s: float | None) -> _Job | None:
        """The next job (or the next read-only one), waiting up to ``wait_s`` (None: forever)."""
        deadline = None if wait_s is None else time.monotonic() + wait_s
        with self._cond:
            while True:
                if self._closing.is_set():
                    return None
                for i, job in enumerate(self._queue):
                    if job.quick or not quick_only:
                        del self._queue[i]
                        return job
                if deadline is None:
                    self._cond.wait()
                    continue
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._cond.wait(remaining)

    def _serve_quick(self, wait_s: float) -> None:
        """Run the read-only jobs waiting now (at an ingestion's checkpoint)."""
        job = self._take(quick_only=True, wait_s=wait_s)
        while job is not None:
            self._execute(job)
            job = self._take(quick_only=True, wait_s=0.0)

    def _run_worker(self) -> None:
        try:
            while True:
                job = self._take(quick_only=False, wait_s=None)
                if job is None:
                    break
                self._execute(job)
        finally:
            self._close_store()

    def _execute(self, job: _Job) -> None:
        try:
            if self._closing.is_set():
                return
            job.started = True
            job.run(self._open_store(job))
        except GlassboxError as exc:
            self._post(job, "error", (exc.kind, str(exc)))
        except Exception as exc:
            # A bug or an unexpected OS failure must not kill the thread every later
            # job needs; the user sees it, the log keeps the trace.
            log.exception("Knowledge-base job %d failed", job.id)
            self._post(job, "error", (INTERNAL_ERROR, f"Unexpected error: {exc}"))
        finally:
            self._post(job, _FINISHED)

    def _open_store(self, job: _Job) -> KnowledgeBase:
        if self._kb is None:
            # A locked store (another Glassbox) raises here; the next job tries again.
            self._kb = self._kb_factory()
            self._post(job, "ready")
            try:
                self._post_watch_state(self._kb, job)
            except GlassboxError as exc:
                # The store is usable without its watched folders; say why they stopped.
                self._post(job, "error", (exc.kind, str(exc)))
        return self._kb

    def _close_store(self) -> None:
        parser, self._parser = self._parser, None
        close: Any = getattr(parser, "close", None)
        if close is not None:
            try:
                close()
            except OSError:
                log.exception("Closing the parser process failed")
        kb, self._kb = self._kb, None
        if kb is not None:
            kb.close()

    def _do_ingest(
        self, kb: KnowledgeBase, job: _Job, collection: str, paths: Sequence[Path]
    ) -> None:
        if self._parser is None:
            self._parser = self._parser_factory(kb)
        try:
            report = kb.ingest(
                paths,
                collection,
                self._parser,
                progress=lambda p: self._post(job, "progress", p),
                control=job.control,
            )
        except GlassboxError:
            self._post_changed(kb, job, collection)
            raise
        self._post(job, "ingest_done", report)
        self._post_changed(kb, job, collection)

    def _do_sync(self, kb: KnowledgeBase, job: _Job, collection: str) -> None:
        if self._parser is None:
            self._parser = self._parser_factory(kb)
        try:
            report = kb.sync_watched(
                collection,
                self._parser,
                progress=lambda p: self._post(job, "progress", p),
                control=job.control,
            )
        except GlassboxError:
            self._post_changed(kb, job, collection)
            self._post_watch_state(kb, job, baseline=False)
            raise
        self._post(job, "ingest_done", report)
        self._post_changed(kb, job, collection)
        # After a cancel the watcher keeps its own baseline: resetting it to what is
        # indexed would start the cancelled work again at the next scan.
        extra = {} if report.cancelled else self._unrecorded(report)
        self._post_watch_state(kb, job, baseline=not report.cancelled, extra=extra)

    def _post_watch_state(
        self,
        kb: KnowledgeBase,
        job: _Job,
        *,
        baseline: bool = True,
        extra: dict[str, FileState] | None = None,
    ) -> None:
        """Send every collection's watched folders and, with ``baseline``, what is
        indexed under them: the state the watcher compares its scans with."""
        if self._closing.is_set():
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
        self._post(job, "watch_state", (folders, state if baseline else None))

    @staticmethod
    def _unrecorded(report: IngestReport) -> dict[str, FileState]:
        """(size, mtime) of the files a sync could not read: no document records them,
        and without them in the baseline they would be reported at every scan."""
        out: dict[str, FileState] = {}
        for path, _reason in report.failed:
            try:
                st = os.stat(path)
            except OSError:
                continue
            if os.path.isfile(path):
                out[str(Path(path).resolve())] = (st.st_size, st.st_mtime)
        return out

    def _post_changed(self, kb: KnowledgeBase, job: _Job, collection: str) -> None:
        if self._closing.is_set():
            return  # nobody will look, and counting touches Chroma
        self._post(job, "collections", self._summaries(kb))
        if kb.registry.find_collection(collection) is not None:
            self._post_documents(kb, collection, job)

    def _post_documents(self, kb: KnowledgeBase, collection: str, job: _Job | None = None) -> None:
        # The registry alone: listing documents must work while a Chroma server is down.
        coll = kb.registry.collection(collection)
        docs = kb.registry.documents(coll)
        self._post(job, "documents", (collection, docs))

    def _do_refresh(self, kb: KnowledgeBase) -> None:
        self._post(None, "collections", self._summaries(kb))

    @staticmethod
    def _summaries(kb: KnowledgeBase) -> list[CollectionSummary]:
        out: list[CollectionSummary] = []
        for coll in kb.collections():
            try:
                stats = kb.stats(coll.name)
            except GlassboxError as exc:
                counts = kb.registry.counts(coll)
                out.append(
                    CollectionSummary(
                        name=coll.name,
                        embed_model=coll.embed_model,
                        documents=counts["documents"],
                        indexed=counts["indexed"],
                        pending=counts["pending"],
                        failed=counts["failed"],
                        chunks=counts["chunks"],
                        vectors_in_chroma=None,
                        bytes=counts["bytes"],
                        duplicate_chunks=None,
                        problem=str(exc),
                        chroma_url=coll.chroma_url,
                    )
                )
                continue
            out.append(
                CollectionSummary(
                    name=stats.name,
                    embed_model=stats.embed_model,
                    documents=stats.documents,
                    indexed=stats.indexed,
                    pending=stats.pending,
                    failed=stats.failed,
                    chunks=stats.chunks,
                    vectors_in_chroma=stats.vectors_in_chroma,
                    bytes=stats.bytes,
                    duplicate_chunks=stats.duplicate_chunks,
                    # Counted by newer stores only.
                    never_retrieved=_paths(getattr(stats, "never_retrieved", None)),
                    chroma_url=coll.chroma_url,
                )
            )
        return out

    @staticmethod
    def _find_document(
        kb: KnowledgeBase, path: str, doc_id: int | None
    ) -> tuple[Collection, Document] | None:
        fallback: tuple[Collection, Document] | None = None
        for coll in kb.collections():
            doc = kb.registry.document(coll, path)
            if doc is None:
                continue
            if doc_id is None or doc.id == doc_id:
                if doc.status == "indexed" or doc_id is not None:
                    return coll, doc
                fallback = fallback or (coll, doc)
        return fallback

    def _source_text(
        self,
        kb: KnowledgeBase,
        path: str,
        start: int | None,
        end: int | None,
        doc_id: int | None,
    ) -> SourceText:
        found = self._find_document(kb, path, doc_id)
        if found is None:
            return SourceText(path, None, "", None, None, NOTE_MISSING)
        coll, doc = found
        if doc.status == "failed":
            return SourceText(path, doc.type, "", None, None, NOTE_FAILED, doc.reason or "")
        if doc.status == "pending":
            return SourceText(path, doc.type, "", None, None, NOTE_PENDING)
        if doc.type in _PLAIN_TYPES:
            plain = self._plain_text(doc)
            if plain is not None:
                s, e = (
                    (start, end)
                    if start is not None and end is not None and end > start
                    else (None, None)
                )
                return SourceText(path, doc.type, plain, s, e, NOTE_FILE)
        ids = [
            row[0]
            for row in kb.registry.conn.execute(
                "SELECT chunk_id FROM chunks WHERE doc_id = ? ORDER BY idx", (doc.id,)
            )
        ]
        chunks = list(kb.registry.chunks_by_id(coll, ids).values())
        text, s, e = stitch_chunks(chunks, start, end)
        return SourceText(path, doc.type, text, s, e, NOTE_EXTRACTED)

    @staticmethod
    def _plain_text(doc: Document) -> str | None:
        """The file's text when it is the one indexed (same content hash), else None."""
        path = Path(doc.path)
        try:
            if file_sha256(path) != doc.sha256:
                return None
            return parse_file(path, ParseLimits()).text
        except (OSError, GlassboxError):
            return None
