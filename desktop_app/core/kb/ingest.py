"""Ingestion: files and folders into a collection, idempotent, resumable, with progress.

Order of writes, chosen so that a kill at any point followed by a re-run leaves no
duplicates, no orphans and equal counts in SQLite and Chroma:

1. The collection is marked dirty (SQLite) before Chroma is touched.
2. A parsed document and all its chunks are stored in one transaction, status
   ``pending``; chunk ids are deterministic, so storing them again is a no-op.
3. Each batch of embeddings is saved in SQLite, then upserted into Chroma
   (upsert is idempotent), then the chunks are marked as in the index; a
   document whose chunks are all in becomes ``indexed``, and only then is it
   served by search.
4. At the end the collection is marked clean. A dirty collection is compared id
   by id with Chroma at the next open: orphans deleted, missing vectors re-added
   from SQLite, and pending documents are finished by the next ingestion.
"""

from __future__ import annotations

import hashlib
import os
import stat
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from desktop_app.core.kb.chunking import CHUNKER_VERSION, chunk_id, embedding_text
from desktop_app.core.kb.db import Collection, NewChunk
from desktop_app.core.kb.errors import KnowledgeBaseError, ParseError
from desktop_app.core.kb.index import chunk_metadata
from desktop_app.core.kb.keyword import normalize
from desktop_app.core.kb.parse_host import ChunkedDocument, Parser
from desktop_app.core.kb.parsers import ParseLimits, file_type, size_problem
from desktop_app.core.kb.parts import KnowledgeParts
from desktop_app.core.kb.watch import walk_supported

#: Why a pipe, a device or a socket is not read.
NOT_REGULAR = "not a regular file (a pipe, a device or a socket)"
#: Why a link found in a folder was not indexed.
LINK_OUTSIDE = "a link to a file outside the folder (not indexed)"
#: Chunks embedded and written per batch: big enough for a fast encode, small enough
#: that pause and cancel answer within a few seconds.
EMBED_BATCH = 128


@dataclass(frozen=True, slots=True)
class IngestProgress:
    """Where an ingestion stands; sent after each file and each embedded batch."""

    files_done: int
    files_total: int
    chunks_done: int
    chunks_queued: int
    rate_chunks_s: float
    eta_s: float | None
    current: str | None
    failed: int
    skipped: int
    paused: bool = False
    #: Pages of ``current`` read by OCR so far, and how many it has to read.
    page: int | None = None
    pages: int | None = None


@dataclass(slots=True)
class IngestReport:
    """The outcome of one ingestion run."""

    collection: str
    files_total: int = 0
    indexed: int = 0
    skipped_unchanged: int = 0
    resumed: int = 0
    removed: int = 0
    chunks_added: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    cancelled: bool = False
    #: Files passed over because ``parsers.file_type`` does not read their type
    #: (images, stylesheets…), from the folders given or named on their own.
    unsupported: list[str] = field(default_factory=list)
    #: Files and folders of the folders given whose name starts with a dot; a hidden
    #: folder ends with a separator and is not looked into.
    hidden: list[str] = field(default_factory=list)
    #: Files over the size limit, with the reason; refused before they are read.
    too_large: list[tuple[str, str]] = field(default_factory=list)

    def unsupported_by_type(self) -> list[tuple[str, int]]:
        """Unsupported files counted by extension (".png", or "" for none), most first."""
        counts = Counter(Path(p).suffix.lower() for p in self.unsupported)
        return sorted(counts.items(), key=lambda item: (-item[1], item[0]))

    def as_dict(self) -> dict[str, object]:
        """The JSON form printed by ``glassbox ingest --json``."""
        return {
            "collection": self.collection,
            "files": self.files_total,
            "indexed": self.indexed,
            "skipped_unchanged": self.skipped_unchanged,
            "resumed": self.resumed,
            "removed": self.removed,
            "chunks_added": self.chunks_added,
            "failed": [{"path": p, "reason": r} for p, r in self.failed],
            "seconds": round(self.seconds, 3),
            "cancelled": self.cancelled,
            "skipped": {
                "unsupported": {
                    "count": len(self.unsupported),
                    "by_type": dict(self.unsupported_by_type()),
                    "paths": list(self.unsupported),
                },
                "hidden": {"count": len(self.hidden), "paths": list(self.hidden)},
                "too_large": [{"path": p, "reason": r} for p, r in self.too_large],
            },
        }


class IngestControl:
    """Pause, resume and cancel an ingestion from any thread."""

    def __init__(self) -> None:
        self._cancel = threading.Event()
        self._running = threading.Event()
        self._running.set()

    def pause(self) -> None:
        """Stop at the next file or batch until ``resume`` (or ``cancel``)."""
        self._running.clear()

    def resume(self) -> None:
        """Go on after ``pause``."""
        self._running.set()

    def cancel(self) -> None:
        """Stop at the next file or batch; what was stored is kept and resumes next time."""
        self._cancel.set()
        self._running.set()

    @property
    def cancelled(self) -> bool:
        """Whether ``cancel`` was called."""
        return self._cancel.is_set()

    @property
    def paused(self) -> bool:
        """Whether the ingestion is held by ``pause``."""
        return not self._running.is_set()

    def checkpoint(self, on_pause: Callable[[], None] | None = None) -> bool:
        """Block while paused; True when the ingestion must stop."""
        if not self._running.is_set() and on_pause is not None:
            on_pause()
        while not self._running.wait(0.2):
            pass
        return self._cancel.is_set()


def file_sha256(path: Path) -> str:
    """The content hash that decides whether a file changed.

    Opened without blocking and checked to be a regular file first: a named pipe
    put where a document was would otherwise hang the whole queue on ``open``.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ParseError(NOT_REGULAR)
        digest = hashlib.sha256()
        for block in iter(lambda: fh.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def expand_paths(
    paths: Iterable[Path],
    outside: list[str] | None = None,
    *,
    unsupported: list[str] | None = None,
    hidden: list[str] | None = None,
) -> tuple[list[Path], list[Path], list[str]]:
    """Files to ingest (supported types, resolved, sorted), folders walked, and problems.

    Folders are walked without following links to folders (no loops) and hidden
    entries are skipped. A path with ``..`` parts is resolved first, so what is
    stored is always the real absolute path of the file. Links from a folder to
    files outside it are not taken; they come back in ``outside``. Files of a type
    Glassbox does not read, in a folder or named on their own, come back in
    ``unsupported``; hidden entries of the folders in ``hidden`` (see
    ``walk_supported``).
    """
    files: dict[str, Path] = {}
    folders: list[Path] = []
    problems: list[str] = []
    for raw in paths:
        path = Path(os.path.abspath(Path(raw).expanduser()))
        if path.is_dir():
            path = path.resolve()
            folders.append(path)
            for child in walk_supported(path, outside, unsupported=unsupported, hidden=hidden):
                if child.is_file():
                    files.setdefault(str(child.resolve()), child.resolve())
        elif path.is_file() and file_type(path) is None:
            if unsupported is not None:
                unsupported.append(str(path))
        elif path.is_file():
            files.setdefault(str(path.resolve()), path.resolve())
        else:
            problems.append(str(path))
    return list(files.values()), folders, problems


def run_ingest(
    kb: KnowledgeParts,
    paths: Sequence[Path],
    coll: Collection,
    parser: Parser,
    *,
    progress: Callable[[IngestProgress], None] | None = None,
    control: IngestControl | None = None,
    remove_missing: bool = True,
) -> IngestReport:
    """Ingest files and folders into ``coll`` (see the module docstring for the guarantees)."""
    started = time.monotonic()
    control = control or IngestControl()
    registry = kb.registry
    report = IngestReport(collection=coll.name)
    outside: list[str] = []
    files, folders, missing = expand_paths(
        paths, outside, unsupported=report.unsupported, hidden=report.hidden
    )
    # Said in the summary, like a file that failed: the user sees why it is missing.
    report.failed += [(link, LINK_OUTSIDE) for link in outside]

    registry.set_dirty(coll, True)
    index = kb.index

    # Files that were deleted since they were ingested (under the folders given, or named).
    known = registry.documents(coll)
    if remove_missing:
        prefixes = [str(f).rstrip(os.sep) + os.sep for f in folders]
        for doc in known:
            gone = not os.path.exists(doc.path)
            named = doc.path in missing or any(doc.path.startswith(p) for p in prefixes)
            if gone and named:
                index.delete(coll, registry.remove_document(coll, doc.path))
                report.removed += 1
    leftover = [m for m in missing if registry.document(coll, m) is None]
    if leftover and not files and not report.removed and not report.unsupported:
        raise KnowledgeBaseError(f"No such file or folder: {', '.join(leftover)}")
    for m in leftover:
        report.failed.append((m, "no such file or folder"))

    # Documents left pending by an interrupted run are finished too.
    given = {str(f) for f in files}
    for doc in registry.documents(coll, status="pending"):
        if doc.path not in given and os.path.isfile(doc.path):
            files.append(Path(doc.path))
            given.add(doc.path)

    report.files_total = len(files) + len(leftover) + len(outside)
    embedder = kb.embedder_for(coll)

    # Pass 1: hash every file; decide skip, resume (chunks stored) or parse.
    to_parse: list[tuple[Path, str, os.stat_result]] = []
    resume_docs: list[int] = []
    files_done = 0
    bytes_total = 0
    limits = getattr(parser, "limits", None)
    limits = limits if isinstance(limits, ParseLimits) else ParseLimits()
    for path in files:
        try:
            st = path.stat()
            if not stat.S_ISREG(st.st_mode):
                raise ParseError(NOT_REGULAR)
            # Refused before it is read: hashing a sparse 1 TB file stalls the queue.
            too_large = size_problem(st.st_size, limits)
            if too_large is not None:
                report.too_large.append((str(path), too_large))
                files_done += 1
                continue
            sha = file_sha256(path)
        except ParseError as exc:
            report.failed.append((str(path), str(exc)))
            files_done += 1
            continue
        except OSError as exc:
            report.failed.append((str(path), f"the file cannot be read ({exc.strerror or exc})"))
            files_done += 1
            continue
        existing = registry.document(coll, str(path))
        same = (
            existing is not None
            and existing.sha256 == sha
            and existing.chunker_version in (CHUNKER_VERSION, None)
        )
        if existing is not None and same and existing.status in ("indexed", "failed"):
            report.skipped_unchanged += 1
            files_done += 1
            if (existing.size, existing.mtime) != (st.st_size, st.st_mtime):
                # Saved again without a change: remember the new time, so a watched
                # folder's scan does not report the file as modified at every poll.
                registry.touch_document(existing.id, st.st_size, st.st_mtime)
        elif (
            existing is not None and same and existing.status == "pending" and existing.n_chunks > 0
        ):
            resume_docs.append(existing.id)
        else:
            to_parse.append((path, sha, st))
            bytes_total += st.st_size

    state = _RunState(
        files_done=files_done,
        files_total=len(files) + len(leftover),
        started=time.monotonic(),
        bytes_total=max(bytes_total, 1),
        failed=len(report.failed),
        skipped=report.skipped_unchanged,
    )

    def emit(current: str | None = None, page: tuple[int, int] | None = None) -> None:
        if progress is not None:
            progress(state.snapshot(current, control.paused, page))

    def on_page(path: Path, done: int, total: int) -> bool:
        # A long scan is read page by page: its progress is shown, and a cancel stops it.
        emit(str(path), (done, total))
        return control.cancelled

    buffer: list[tuple[str, str, str, str | None, int]] = []

    def flush() -> None:
        if not buffer:
            return
        ids = [b[0] for b in buffer]
        vectors = embedder.embed([b[1] for b in buffer])
        registry.store_vectors(coll, ids, vectors)
        index.upsert(coll, ids, vectors, [chunk_metadata(b[2], b[3]) for b in buffer])
        registry.mark_in_index(coll, ids)
        registry.mark_indexed({b[4] for b in buffer})
        state.chunks_done += len(buffer)
        report.chunks_added += len(buffer)
        buffer.clear()
        emit()

    def stop() -> bool:
        return control.checkpoint(on_pause=lambda: emit())

    emit()
    # Resume: chunks already stored, only their vectors are missing.
    pending_docs = {d.id: d for d in registry.documents(coll, "pending")}
    for doc_id in resume_docs:
        if stop():
            report.cancelled = True
            break
        row = pending_docs.get(doc_id)
        path_text, type_text = (row.path, row.type) if row is not None else ("", None)
        for cid, text, heading in registry.chunks_without_vector(coll, [doc_id]):
            buffer.append((cid, embedding_text(text, heading), path_text, type_text, doc_id))
            state.chunks_queued += 1
            if len(buffer) >= EMBED_BATCH:
                flush()
        report.resumed += 1
        state.files_done += 1
    flush()
    # Chunks embedded before a crash but never confirmed in Chroma.
    index.add_from_registry(registry, coll)
    registry.mark_indexed(resume_docs)

    if not report.cancelled:
        by_path = {str(p): (sha, st) for p, sha, st in to_parse}
        outcomes = parser.parse_many([p for p, _, _ in to_parse], on_page=on_page)
        for path, outcome in outcomes:
            if stop():
                report.cancelled = True
                break
            sha, st = by_path[str(path)]
            type_ = file_type(path) or "?"
            state.bytes_done += st.st_size
            if isinstance(outcome, ParseError):
                index.delete(
                    coll,
                    registry.set_failed(
                        coll,
                        str(path),
                        str(outcome),
                        sha256=sha,
                        size=st.st_size,
                        mtime=st.st_mtime,
                        type_=type_,
                    ),
                )
                report.failed.append((str(path), str(outcome)))
                state.failed += 1
                state.files_done += 1
                emit(str(path))
                continue
            doc_id = _store(kb, coll, path, sha, st, outcome)
            report.indexed += 1
            rows = registry.chunks_without_vector(coll, [doc_id])
            for cid, text, heading in rows:
                buffer.append((cid, embedding_text(text, heading), str(path), outcome.type, doc_id))
                state.chunks_queued += 1
                if len(buffer) >= EMBED_BATCH:
                    if stop():
                        report.cancelled = True
                        break
                    flush()
            if report.cancelled:
                break
            if not rows:
                registry.mark_indexed([doc_id])
            state.files_done += 1
            emit(str(path))
        close = getattr(outcomes, "close", None)
        if close is not None:
            close()
    report.cancelled = report.cancelled or control.cancelled
    if not report.cancelled:
        flush()
        registry.set_dirty(coll, False)
    report.seconds = time.monotonic() - started
    emit()
    return report


def _store(
    kb: KnowledgeParts,
    coll: Collection,
    path: Path,
    sha: str,
    st: os.stat_result,
    parsed: ChunkedDocument,
) -> int:
    chunks = [
        NewChunk(
            chunk_id=chunk_id(sha, c.index),
            idx=c.index,
            text=c.text,
            search_text=normalize(f"{c.heading}\n{c.text}" if c.heading else c.text),
            heading=c.heading,
            page=c.page,
            char_start=c.char_start,
            char_end=c.char_end,
            ocr_confidence=c.ocr_confidence,
        )
        for c in parsed.chunks
    ]
    doc_id, stale = kb.registry.replace_document(
        coll,
        str(path),
        sha256=sha,
        size=st.st_size,
        mtime=st.st_mtime,
        type_=parsed.type,
        chunker_version=CHUNKER_VERSION,
        chunks=chunks,
    )
    if stale:
        kb.index.delete(coll, stale)
    return doc_id


@dataclass(slots=True)
class _RunState:
    files_done: int
    files_total: int
    started: float
    bytes_total: int
    failed: int
    skipped: int
    bytes_done: int = 0
    chunks_done: int = 0
    chunks_queued: int = 0

    def snapshot(
        self, current: str | None, paused: bool, page: tuple[int, int] | None = None
    ) -> IngestProgress:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = self.chunks_done / elapsed
        eta: float | None = None
        if self.bytes_done and self.files_done < self.files_total:
            eta = elapsed * (self.bytes_total - self.bytes_done) / self.bytes_done
        elif self.files_done >= self.files_total:
            eta = 0.0
        return IngestProgress(
            files_done=self.files_done,
            files_total=self.files_total,
            chunks_done=self.chunks_done,
            chunks_queued=self.chunks_queued,
            rate_chunks_s=rate,
            eta_s=eta,
            current=current,
            failed=self.failed,
            skipped=self.skipped,
            paused=paused,
            page=page[0] if page else None,
            pages=page[1] if page else None,
        )
