"""SandboxedParser: parses documents in a child process with time and memory limits.

The child (``core.kb.parse_host.main``) lowers its own address-space limit; here
each file gets a wall-clock deadline, and a child that overruns it, or dies (out
of memory, a crash inside a C library), is killed and replaced. The file it was
working on fails with that reason and the queue goes on with the next one.

A few files are kept in flight, so the child parses and chunks the next file
while the caller embeds the previous one. While the child reads a file's pages by
OCR it reports each page; each report gives the file a fresh time limit (its pages
are bounded by ``ParseLimits.max_ocr_pages``), goes to the caller's ``on_page``,
and a True from it asks the child to stop that file before its next page.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import time
from collections import deque
from collections.abc import Generator, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from desktop_app.core.kb import parse_host
from desktop_app.core.kb.errors import KnowledgeBaseError, ParseError
from desktop_app.core.kb.parse_host import ChunkConfig, PageCallback, ParseOutcome
from desktop_app.core.kb.parsers import ParseLimits
from desktop_app.workers.process import ask_to_exit, reap

_POLL_S = 0.05
#: How long a fresh parser process may take to import its libraries.
STARTUP_TIMEOUT_S = 60.0


class SandboxedParser:
    """A parser process handle; ``parse_many`` is the whole API (one caller at a time)."""

    def __init__(
        self,
        limits: ParseLimits | None = None,
        config: ChunkConfig | None = None,
        prefetch: int = 2,
    ) -> None:
        self.limits = limits or ParseLimits()
        self.config = config or ChunkConfig()
        self.prefetch = max(1, prefetch)
        self._ctx = mp.get_context("spawn")
        self._proc: Any = None
        self._conn: Connection | None = None
        self.restarts = 0

    def _start(self) -> Connection:
        if self._proc is not None and self._proc.is_alive() and self._conn is not None:
            return self._conn
        self._stop(kill=True)
        parent, child = self._ctx.Pipe(duplex=True)
        proc = self._ctx.Process(
            target=parse_host.main,
            args=(child, self.limits, self.config),
            name="glassbox-parser",
            daemon=True,
        )
        proc.start()
        child.close()
        self._proc, self._conn = proc, parent
        ready = False
        with contextlib.suppress(EOFError, OSError):
            ready = parent.poll(STARTUP_TIMEOUT_S) and parent.recv() == "ready"
        if not ready:
            how = self._stop(kill=True)
            raise KnowledgeBaseError(
                "The document parser process did not start"
                + (f" ({how})" if how else "")
                + ". No file was marked as failed."
            )
        return parent

    def _stop(self, kill: bool) -> str:
        how = reap(self._proc, self._conn, kill=kill)
        self._proc = None
        self._conn = None
        return how

    def parse_many(
        self, paths: Sequence[Path], on_page: PageCallback | None = None
    ) -> Generator[ParseOutcome, None, None]:
        """Parse ``paths`` in order in the child; each yields chunks or the reason it failed.

        ``on_page`` hears of each page read by OCR (see the module docstring)."""
        todo = deque(enumerate(paths))
        in_flight: deque[tuple[int, Path]] = deque()
        deadline = 0.0
        try:
            while todo or in_flight:
                conn = self._start()
                try:
                    while todo and len(in_flight) < self.prefetch:
                        request = todo.popleft()
                        conn.send((request[0], str(request[1])))
                        if not in_flight:
                            deadline = time.monotonic() + self.limits.timeout_s
                        in_flight.append(request)
                except (BrokenPipeError, OSError):
                    # The child died between files: resend everything to a fresh one.
                    for request in reversed(in_flight):
                        todo.appendleft(request)
                    in_flight.clear()
                    self._stop(kill=True)
                    self.restarts += 1
                    continue
                reply = self._wait(conn, deadline)
                head_id, head_path = in_flight[0]
                if isinstance(reply, tuple) and len(reply) == 4 and reply[0] == "page":
                    _page, page_id, done, total = reply
                    stop = (
                        page_id == head_id
                        and on_page is not None
                        and on_page(head_path, int(done), int(total))
                    )
                    if stop:
                        with contextlib.suppress(OSError):
                            conn.send(("cancel", head_id))
                    deadline = time.monotonic() + self.limits.timeout_s
                    continue
                if isinstance(reply, tuple) and reply[0] == head_id:
                    in_flight.popleft()
                    deadline = time.monotonic() + self.limits.timeout_s
                    yield head_path, reply[1]
                    continue
                # Timed out or died: the file at the head is at fault; retry the others.
                in_flight.popleft()
                for request in reversed(in_flight):
                    todo.appendleft(request)
                in_flight.clear()
                how = self._stop(kill=True)
                self.restarts += 1
                if reply != "timeout" and how.startswith("exit code"):
                    # Not a signal: the process could not start (or broke) for every file alike.
                    raise KnowledgeBaseError(
                        f"The document parser process could not run ({how}); "
                        "see the messages above. No file was marked as failed."
                    )
                if reply == "timeout":
                    reason = f"parsing took longer than {self.limits.timeout_s:.0f} s (stopped)"
                elif how in ("SIGKILL", "SIGSEGV", "SIGABRT", "SIGBUS"):
                    reason = (
                        f"the parser stopped ({how}): the file needs more than "
                        f"{self.limits.memory_bytes // 2**20} MiB of memory or crashed the parser"
                    )
                else:
                    reason = "the parser process stopped" + (f" ({how})" if how else "")
                yield head_path, ParseError(reason)
        finally:
            if in_flight:
                # Closed before the files sent were answered (a cancelled ingestion):
                # their replies would be taken for the next call's files, so the
                # child goes, and the next call starts a fresh one.
                self._stop(kill=True)

    def _wait(self, conn: Connection, deadline: float) -> Any:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return "timeout"
            try:
                if conn.poll(min(_POLL_S * 10, remaining)):
                    return conn.recv()
            except (EOFError, OSError):
                return "died"
            if self._proc is None or not self._proc.is_alive():
                # Drain a reply sent just before the process ended.
                with contextlib.suppress(EOFError, OSError):
                    if conn.poll(0):
                        return conn.recv()
                return "died"

    def close(self) -> None:
        """End the parser process."""
        ask_to_exit(self._proc, self._conn, None, grace_s=2)
        self._stop(kill=True)

    def __enter__(self) -> SandboxedParser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
