"""The Qt side of ``workers.jobs``: a job queue's callbacks delivered on the GUI thread."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import Any, ParamSpec

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, QTimer, Slot

from desktop_app.workers.jobs import JobQueue

#: How often the GUI drain delivers results (milliseconds).
FLUSH_INTERVAL_MS = 30

A = ParamSpec("A")  # a callback's arguments

#: How often the GUI thread checks whether garbage cycles are due (milliseconds).
GC_INTERVAL_MS = 500
_GC_INSTALLED = "glassbox_gc_on_gui_thread"


#: A full collection at most this often (seconds). Python's own collector skips most
#: of the full collections its counters ask for (until a quarter of the old objects
#: are new), a rule these counters cannot see; each one walks the whole heap.
FULL_GC_MIN_INTERVAL_S = 60.0
_last_full = [time.monotonic()]


def collect_due_generations() -> None:
    """What Python's automatic collector would do now: the youngest generations whose
    allocation counts passed their thresholds (a full collection of a heap holding
    torch takes long enough to stall the window; generation 0 takes microseconds)."""
    counts, thresholds = gc.get_count(), gc.get_threshold()
    generation = -1
    for level in range(3):
        if counts[level] > thresholds[level]:
            generation = level
        else:
            break
    if generation == 2:
        now = time.monotonic()
        if now - _last_full[0] < FULL_GC_MIN_INTERVAL_S:
            generation = 1
        else:
            _last_full[0] = now
    if generation >= 0:
        gc.collect(generation)


def settle_heap() -> None:
    """Collect everything once, then leave what survived out of later collections.

    Called when start-up is over: the modules, widgets and libraries loaded so far
    live as long as the process, and walking them in every full collection is what
    stalls the window (``gc.freeze``, as large Python services do).
    """
    gc.collect()
    gc.freeze()


def collect_garbage_on_gui_thread(app: QCoreApplication, interval_ms: int = GC_INTERVAL_MS) -> None:
    """Collect Python's garbage cycles on the GUI thread only (once per application).

    Python runs its cycle collector in whichever thread happens to allocate. When
    it runs on a worker thread and the garbage holds a widget or a timer (a closed
    panel's callbacks, a finished chat's session), Qt deletes that object on the
    wrong thread: "Timers cannot be stopped from another thread", then a crash
    when the GUI thread fires the dead timer. Automatic collection is switched
    off and a timer on the GUI thread collects the generations that are due
    instead (the usual PyQt recipe for this).
    """
    if app.property(_GC_INSTALLED):
        return
    gc.disable()
    timer = QTimer(app)
    timer.setInterval(interval_ms)
    timer.timeout.connect(collect_due_generations)
    timer.start()
    app.setProperty(_GC_INSTALLED, True)


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
