"""The Qt side of ``workers.jobs``: a job queue's callbacks delivered on the GUI thread."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ParamSpec

import shiboken6
from PySide6.QtCore import QObject, QTimer, Slot

from desktop_app.workers.jobs import JobQueue

#: How often the GUI drain delivers results (milliseconds).
FLUSH_INTERVAL_MS = 30

A = ParamSpec("A")  # a callback's arguments


class GuiDrain(QObject):
    """Delivers a ``JobQueue``'s callbacks on the GUI thread, every ~30 ms while jobs run.

    Lives in the GUI thread; jobs must be queued from that thread.
    """

    def __init__(
        self,
        jobs: JobQueue[Any],
        parent: QObject | None = None,
        interval_ms: int = FLUSH_INTERVAL_MS,
    ) -> None:
        super().__init__(parent)
        self._jobs = jobs
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._on_timer_timeout)
        jobs.wake = self._wake

    def _wake(self) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def stop(self) -> None:
        """Deliver nothing more (shutting down)."""
        self._timer.stop()

    @Slot()
    def _on_timer_timeout(self) -> None:
        if self._jobs.closing:
            self._timer.stop()
            return
        if not self._jobs.drain():
            self._timer.stop()


def while_alive(owner: QObject, fn: Callable[A, None]) -> Callable[A, None]:
    """``fn``, called only while ``owner`` (a widget) exists: a callback of a job that
    outlives the dialog or panel that asked for it does nothing."""

    def call(*args: A.args, **kwargs: A.kwargs) -> None:
        if shiboken6.isValid(owner):
            fn(*args, **kwargs)

    return call
