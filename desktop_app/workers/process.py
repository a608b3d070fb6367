"""Child processes of the workers (the engine host, the document parser): ending them.

Both workers run untrusted or crash-prone native code in a ``spawn``-ed child and
talk to it over a pipe. Ending one is the same everywhere: ask it to exit, give
it a moment, kill it when it is still there, reap it, close the pipe, and say how
it ended for the message the user sees. No Qt here: the child processes import
this module's neighbours, never PySide6.
"""

from __future__ import annotations

import contextlib
import signal
from multiprocessing.connection import Connection
from typing import Any, Protocol


class Child(Protocol):
    """What of ``multiprocessing.Process`` reaping uses."""

    @property
    def exitcode(self) -> int | None: ...

    def is_alive(self) -> bool: ...

    def kill(self) -> None: ...

    def join(self, timeout: float | None = None) -> None: ...


def exit_description(code: int | None) -> str:
    """How a process ended: "SIGKILL" (or "signal 99"), "exit code 3", "" (cleanly or
    not yet)."""
    if code is not None and code < 0:
        try:
            return signal.Signals(-code).name
        except ValueError:
            return f"signal {-code}"
    if code:
        return f"exit code {code}"
    return ""


def reap(proc: Child | None, conn: Connection | None, *, kill: bool = True) -> str:
    """Kill ``proc`` if it still runs (with ``kill``), wait for it (5 s at most), close
    ``conn``; returns how it ended (:func:`exit_description`)."""
    how = ""
    if proc is not None:
        if kill and proc.is_alive():
            proc.kill()
        proc.join(timeout=5)
        how = exit_description(proc.exitcode)
    if conn is not None:
        conn.close()
    return how


def ask_to_exit(proc: Child | None, conn: Connection | None, message: Any, grace_s: float) -> None:
    """Send ``message`` (the child's "exit" request) and wait up to ``grace_s`` for it to
    end by itself; a child already gone or a broken pipe is fine. Reap it afterwards."""
    if conn is None or proc is None or not proc.is_alive():
        return
    with contextlib.suppress(BrokenPipeError, OSError):
        conn.send(message)
    proc.join(timeout=grace_s)
