"""FolderWatcher: a polling thread that says when watched folders changed.

Polling (a ``stat`` per file every few seconds) works the same on every platform
and on network drives, where change notifications are missing or unreliable.
The watcher only scans: it never touches the knowledge base. Its callback runs in
the watcher's thread and should hand the news to the thread that owns the store
(the window's controller, the command line's main loop), which then calls
``KnowledgeBase.sync_watched``.

A change is reported once the folders have stayed the same for one interval, so
a file still being copied is indexed when it is complete, not at every poll.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from desktop_app.core.kb.watch import FileState, FolderChanges, diff, scan

#: Seconds between two scans by default.
DEFAULT_INTERVAL_S = 3.0


class FolderWatcher:
    """Scans ``folders`` every ``interval_s`` and calls ``on_change`` with what changed.

    ``folders`` may be a callable, read at each scan, so folders added or removed
    while it runs are followed. ``baseline`` is the state to compare with at first
    (``KnowledgeBase.folder_state``: what was indexed); without it the first scan is
    the baseline. If ``on_change`` raises, ``on_error`` receives the exception and
    watching goes on; without ``on_error`` the thread ends with it.
    """

    def __init__(
        self,
        folders: Sequence[Path] | Callable[[], Sequence[Path]],
        on_change: Callable[[FolderChanges], None],
        *,
        interval_s: float = DEFAULT_INTERVAL_S,
        baseline: Mapping[str, FileState] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        if interval_s <= 0:
            raise ValueError("interval_s must be positive")
        self._folders = folders
        self._on_change = on_change
        self._on_error = on_error
        self.interval_s = interval_s
        self._baseline = dict(baseline) if baseline is not None else None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kb-folder-watcher", daemon=True)
        self.scans = 0

    def _current_folders(self) -> list[Path]:
        folders = self._folders() if callable(self._folders) else self._folders
        return [Path(f) for f in folders]

    def start(self) -> None:
        """Start polling in a background thread."""
        self._thread.start()

    def stop(self, timeout: float | None = 5.0) -> None:
        """Stop polling and wait for the thread (a scan in progress finishes first)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def is_alive(self) -> bool:
        """Whether the polling thread runs."""
        return self._thread.is_alive()

    def set_baseline(self, state: Mapping[str, FileState]) -> None:
        """Compare the next scans with ``state`` (after a sync: what is indexed now)."""
        with self._lock:
            self._baseline = dict(state)

    def __enter__(self) -> FolderWatcher:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        previous = scan(self._current_folders())
        self.scans += 1
        with self._lock:
            if self._baseline is None:
                self._baseline = previous
        while not self._stop.wait(self.interval_s):
            current = scan(self._current_folders())
            self.scans += 1
            settled = current == previous
            previous = current
            with self._lock:
                assert self._baseline is not None
                changes = diff(self._baseline, current)
            if not changes or not settled:
                continue
            try:
                self._on_change(changes)
            except Exception as exc:
                if self._on_error is None:
                    raise
                self._on_error(exc)
            with self._lock:
                self._baseline = current
