"""A streaming reply written to disk from its own thread and connection.

The GUI thread only queues tokens; the recorder's thread commits them with the
grown text at most every ``COMMIT_INTERVAL_S``, so what was committed survives a
crash (and is marked ``interrupted`` on the next start).
"""

from __future__ import annotations

import json
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop_app.core.chat.codecs import (
    STATUSES,
    MessageStatus,
    TokenRecord,
    decode_json_object,
    encode_token,
    storable,
)
from desktop_app.core.chat.db import connect, storage_error, transaction
from desktop_app.core.engine.protocol import TokenEvent
from desktop_app.core.errors import InvalidRequestError, StorageError

log = logging.getLogger(__name__)

#: A streaming reply is committed at least this often while tokens arrive.
COMMIT_INTERVAL_S = 1.0


@dataclass(slots=True)
class _Append:
    records: list[TokenRecord]


@dataclass(slots=True)
class _Flush:
    done: threading.Event


@dataclass(slots=True)
class _Finish:
    status: str
    meta_update: Mapping[str, Any] | None
    content: str | None


_Command = _Append | _Flush | _Finish


class ReplyRecorder:
    """Writes one streaming reply to disk from its own thread and connection.

    :meth:`append` only queues, so the GUI thread never waits on the disk. The
    thread commits the new token records and the grown text in one transaction
    at most ``interval_s`` after the first uncommitted token arrived, at once on
    :meth:`flush`, and a last time on :meth:`finish`, which also sets the final
    status and merges ``meta_update`` into the reply's card. After a crash, what
    was committed is on disk and is marked ``interrupted`` at the next start.
    """

    def __init__(
        self,
        path: Path,
        chat_id: int,
        message_id: int,
        content: str,
        next_index: int,
        interval_s: float,
        on_finished: Callable[[ReplyRecorder], None],
    ) -> None:
        self.chat_id = chat_id
        self.message_id = message_id
        self._path = path
        self._parts = [content] if content else []
        self._next_index = next_index
        self._interval_s = interval_s
        self._on_finished = on_finished
        self._queue: queue.SimpleQueue[_Command] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._finished = False
        self._error: StorageError | None = None
        self._commits = 0
        # (token records, text) on disk; replaced whole, so any thread reads a pair.
        self._saved: tuple[int, str] = (next_index, content)
        self._thread = threading.Thread(
            target=self._run, name=f"reply-recorder-{message_id}", daemon=True
        )
        self._thread.start()

    # ------------------------------------------------------------ caller side

    @property
    def finished(self) -> bool:
        """Whether :meth:`finish` was called."""
        return self._finished

    @property
    def error(self) -> StorageError | None:
        """The last failed commit, if any (the records are kept and retried)."""
        return self._error

    @property
    def commits(self) -> int:
        """How many transactions the thread has committed (for diagnostics and tests)."""
        return self._commits

    @property
    def saved(self) -> tuple[int, str]:
        """How many token records and what text are committed so far (any thread)."""
        return self._saved

    def append(self, tokens: Sequence[TokenEvent], forced: bool = False) -> None:
        """Queue tokens for the next commit; never waits on the disk.

        ``forced`` marks tokens the user chose by clicking an alternative.
        """
        if self._finished:
            raise RuntimeError(f"Reply {self.message_id} is finished; no tokens can be added.")
        if tokens:
            self._queue.put(_Append([TokenRecord(t, forced) for t in tokens]))

    def flush(self, timeout: float = 10.0) -> None:
        """Commit what is queued now and wait for it; StorageError if it failed."""
        if self._finished:
            return
        done = threading.Event()
        self._queue.put(_Flush(done))
        if not done.wait(timeout):
            raise StorageError("Saving the reply took too long; the disk may be busy.")
        if self._error is not None:
            raise self._error

    def finish(
        self,
        status: MessageStatus = "complete",
        meta_update: Mapping[str, Any] | None = None,
        content: str | None = None,
        timeout: float = 30.0,
        wait: bool = True,
    ) -> None:
        """Commit the rest, set the final status and stop the thread.

        ``content`` replaces the text when the engine's final text differs from the
        tokens (a trimmed stop string). Only the first call does anything. With
        ``wait`` False it returns at once (the GUI thread does not wait for the
        disk); :meth:`join` waits later, and :attr:`error` tells how it went.
        """
        if status not in STATUSES or status == "streaming":
            raise InvalidRequestError(f"A reply cannot finish as {status!r}.")
        with self._lock:
            if self._finished:
                return
            self._finished = True
        self._queue.put(_Finish(status, meta_update, content))
        if wait:
            self.join(timeout)

    @property
    def saving(self) -> bool:
        """Whether the thread is still writing (after :meth:`finish` without waiting)."""
        return self._thread.is_alive()

    def join(self, timeout: float = 30.0) -> None:
        """Wait until the last commit is done; StorageError if it failed or took too long."""
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise StorageError("Saving the reply took too long; the disk may be busy.")
        self._on_finished(self)
        if self._error is not None:
            raise self._error

    # ------------------------------------------------------------ thread side

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        try:
            conn = connect(self._path)
        except sqlite3.Error as exc:
            self._error = storage_error("open the chat database to save a reply", exc)
            log.warning("%s", self._error)
        pending: list[TokenRecord] = []
        # Encoded as each batch arrives: a few tokens at a time keeps this thread from
        # holding the GIL for long stretches while the GUI thread is drawing.
        encoded: list[str] = []
        deadline: float | None = None
        try:
            while True:
                wait = None if deadline is None else max(0.0, deadline - time.monotonic())
                try:
                    cmd: _Command | None = self._queue.get(timeout=wait)
                except queue.Empty:
                    cmd = None
                if isinstance(cmd, _Append):
                    pending.extend(cmd.records)
                    encoded.extend(encode_token(r.event) for r in cmd.records)
                    if deadline is None:
                        deadline = time.monotonic() + self._interval_s
                    if time.monotonic() < deadline:
                        continue
                if isinstance(cmd, _Finish):
                    self._commit(conn, pending, encoded, cmd)
                    return
                if self._commit(conn, pending, encoded, None):
                    pending = []
                    encoded = []
                    deadline = None
                else:
                    deadline = time.monotonic() + self._interval_s  # retry later
                if isinstance(cmd, _Flush):
                    cmd.done.set()
        finally:
            if conn is not None:
                conn.close()

    def _commit(
        self,
        conn: sqlite3.Connection | None,
        pending: list[TokenRecord],
        encoded: list[str],
        final: _Finish | None,
    ) -> bool:
        if not pending and final is None:
            return True
        if conn is None:
            return False
        parts = self._parts + [r.event.text for r in pending]
        content = "".join(parts)
        try:
            with transaction(conn, "save the reply") as tx:
                if pending:
                    tx.executemany(
                        "INSERT INTO tokens (message_id, idx, forced, data) VALUES (?, ?, ?, ?)",
                        [
                            (self.message_id, self._next_index + i, int(r.forced), data)
                            for i, (r, data) in enumerate(zip(pending, encoded, strict=True))
                        ],
                    )
                if final is None:
                    tx.execute(
                        "UPDATE messages SET content = ? WHERE id = ?",
                        (storable(content), self.message_id),
                    )
                else:
                    row = tx.execute(
                        "SELECT meta FROM messages WHERE id = ?", [self.message_id]
                    ).fetchone()
                    meta, _ = decode_json_object(row[0] if row else None, "reply card")
                    meta.update(final.meta_update or {})
                    tx.execute(
                        "UPDATE messages SET content = ?, status = ?, meta = ? WHERE id = ?",
                        (
                            storable(content if final.content is None else final.content),
                            final.status,
                            storable(json.dumps(meta, ensure_ascii=False)),
                            self.message_id,
                        ),
                    )
                tx.execute("UPDATE chats SET updated = ? WHERE id = ?", (time.time(), self.chat_id))
        except (StorageError, ValueError, TypeError) as exc:
            self._error = (
                exc
                if isinstance(exc, StorageError)
                else StorageError(f"Could not save the reply: {exc}.")
            )
            log.warning("Reply %d: %s", self.message_id, self._error)
            return False
        self._parts = [content]
        self._next_index += len(pending)
        saved = content if final is None or final.content is None else final.content
        self._saved = (self._next_index, saved)
        self._commits += 1
        self._error = None
        return True
