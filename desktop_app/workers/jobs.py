"""One serial job queue per resource: a thread that owns it, jobs run one at a time.

Every worker of the app (the engine, the knowledge base, the headless API) is the
same thing: one background thread owns one resource (an engine, a store, an engine
process) and runs jobs on it one after another, so the resource has one user and
the caller never waits on it. This module is that thread, once:

- ``JobQueue[T]`` is the queue and its thread, without Qt. The resource ``T`` is
  opened lazily on the thread by the first job that needs it (opening a store
  loads models: seconds) and closed there when the queue shuts down.
- ``run(op, on_done, on_failed, on_progress)`` queues ``op(resource, ctx)`` and
  returns a :class:`JobHandle`. The callbacks belong to that one call, so nobody
  filters a broadcast by id: ``on_done`` gets the typed result, ``on_failed`` the
  error's kind and message, ``on_progress`` what the op reported with
  ``ctx.progress`` (coalesced: only the latest per delivery, unless ``merge``
  says how two combine). ``handle.cancel()`` drops a queued job (``on_failed``
  with kind ``cancelled``) and tells a running one (``ctx.cancelled``, and its
  ``on_cancel`` hook, e.g. ``engine.cancel()``).
- Where callbacks run is the delivery's choice: ``jobs_qt.GuiDrain`` drains the
  outbox every ~30 ms on the GUI thread, so callbacks may touch widgets;
  ``inline=True`` (headless ``glassbox serve``) calls them on the worker thread.
  This module imports no Qt.
- A ``GlassboxError`` in a job is its failure; any other exception is a bug,
  logged and reported as an ``internal`` error, and the thread goes on with the
  next job.
- "Quick" jobs (read-only: a search, a listing) may be answered in the middle of
  a long job at its checkpoints (``ctx.serve_quick``), e.g. between the files
  of an ingestion, so the app stays usable while it runs.
- A long, unhurried job (hashing a model file) can step aside
  (``raise StepAside`` when ``ctx.others_waiting``) and resume when the queue is
  empty again.

Modelled on vorta's ``JobsManager`` (one queue per resource) and Anki's
``QueryOp`` (the op runs in the background, ``success`` gets the typed result on
the main thread).
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from desktop_app.core.errors import GlassboxError

log = logging.getLogger(__name__)

#: Kind of a failure that is a bug (an exception other than ``GlassboxError``).
INTERNAL_ERROR = "internal"
#: Kind of the failure of a job cancelled before it ran.
CANCELLED = "cancelled"

T = TypeVar("T")  # the resource the worker thread owns
R = TypeVar("R")  # a job's result
P = TypeVar("P")  # a job's progress payload

#: ``on_failed(kind, message)``: a ``GlassboxError``'s kind, or "internal"/"cancelled".
FailedCallback = Callable[[str, str], None]


class StepAside(Exception):
    """Raised by an op to be run again later, when no other job waits.

    The op keeps its own state (a generator half-way through a file) and is
    called again with the same context; its callbacks wait until it returns.
    """


class JobHandle:
    """A queued or running job, as its caller sees it (any thread)."""

    def __init__(self, job_id: int, cancel: Callable[[JobHandle], None]) -> None:
        self.id = job_id
        self._cancel = cancel
        self._cancelled = threading.Event()
        #: Set by the worker thread when the op starts.
        self.started = False
        #: Set where the callbacks run, once the job's last callback has been called.
        self.finished = False

    @property
    def cancelled(self) -> bool:
        """Whether ``cancel`` was called."""
        return self._cancelled.is_set()

    def cancel(self) -> None:
        """Drop the job if it still waits (``on_failed`` "cancelled"), else tell it to stop.

        Returns at once; a running op sees ``ctx.cancelled`` and its ``on_cancel``
        hook is called. Cancelling a finished job does nothing.
        """
        if self._cancelled.is_set() or self.finished:
            return
        self._cancelled.set()
        self._cancel(self)

    def __repr__(self) -> str:
        return f"JobHandle({self.id})"


@dataclass(eq=False)
class _Job(Generic[T]):
    handle: JobHandle
    op: Callable[[T, Any], Any]
    on_done: Callable[[Any], None] | None
    on_failed: FailedCallback | None
    on_progress: Callable[[Any], None] | None
    merge: Callable[[Any, Any], Any] | None
    on_cancel: Callable[[], None] | None
    quick: bool
    label: str
    context: Any = None
    deferred: list[Callable[[], None]] = field(default_factory=list)


# What travels from the worker to where callbacks run.
@dataclass(frozen=True, slots=True)
class _Call:
    fn: Callable[[], None]


@dataclass(frozen=True, slots=True)
class _Progress:
    job: _Job[Any]
    payload: object


@dataclass(frozen=True, slots=True)
class _Finished:
    job: _Job[Any]


_Item = _Call | _Progress | _Finished


def latest(_old: object, new: P) -> P:
    """The default progress merge: only the latest payload is worth delivering."""
    return new


class JobContext(Generic[T, P]):
    """What an op gets besides the resource: progress, cancel, checkpoints (worker thread)."""

    def __init__(self, jobs: JobQueue[T], job: _Job[T]) -> None:
        self._jobs = jobs
        self._job = job

    @property
    def handle(self) -> JobHandle:
        """The job's handle."""
        return self._job.handle

    @property
    def cancelled(self) -> bool:
        """Whether the job was cancelled or the queue is shutting down: stop soon."""
        return self._job.handle.cancelled or self._jobs.closing

    @property
    def others_waiting(self) -> bool:
        """Whether another job is queued (a job that can wait may ``raise StepAside``)."""
        return self._jobs.others_waiting()

    def progress(self, payload: P) -> None:
        """Report ``payload`` to ``on_progress`` (merged with the undelivered one)."""
        self._jobs.put(_Progress(self._job, payload))

    def post(self, fn: Callable[[], None]) -> None:
        """Call ``fn`` where the callbacks run, in order with this job's other news."""
        self._jobs.put(_Call(fn))

    def defer(self, fn: Callable[[], None]) -> None:
        """Call ``fn`` on this thread after the job's result or failure has been posted
        (before the next job): clean-up that must be told after the outcome."""
        self._job.deferred.append(fn)

    def serve_quick(self, wait_s: float = 0.0) -> None:
        """Run the quick jobs waiting now (a checkpoint of a long job), waiting up to
        ``wait_s`` for the first one."""
        self._jobs.serve_quick(wait_s)


class JobQueue(Generic[T]):
    """Jobs on one resource, run one at a time on one thread the queue owns (no Qt).

    ``open_resource`` makes the resource on the worker thread when the first job
    runs (a failure fails that job; the next one tries again);
    ``close_resource`` closes it there when the queue shuts down. ``run`` may be
    called from any thread. Unless ``inline``, callbacks wait in an outbox for
    ``drain()`` (``GuiDrain`` calls it on the GUI thread); ``wake`` is called on
    every ``run`` so the drain can start.
    """

    def __init__(
        self,
        open_resource: Callable[[], T],
        close_resource: Callable[[T], None] | None = None,
        *,
        name: str = "glassbox-jobs",
        inline: bool = False,
        on_busy: Callable[[bool], None] | None = None,
        on_refused: FailedCallback | None = None,
    ) -> None:
        self._open = open_resource
        self._close = close_resource
        self._name = name
        self._inline = inline
        self.on_busy = on_busy
        self.on_refused = on_refused
        self.wake: Callable[[], None] | None = None

        self._ids = itertools.count(1)
        self._cond = threading.Condition()
        self._queue: deque[_Job[T]] = deque()  # guarded by _cond
        self._aside: deque[_Job[T]] = deque()  # guarded by _cond
        self._running: list[_Job[T]] = []  # guarded by _cond (nested: quick jobs)
        self._outbox: queue.SimpleQueue[_Item] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._closing = threading.Event()
        self._pending = 0  # guarded by _cond: jobs whose _Finished was not delivered
        self._resource: T | None = None
        self._opened = False

    # ----------------------------------------------------------------- any thread

    @property
    def closing(self) -> bool:
        """Whether ``shutdown`` was called."""
        return self._closing.is_set()

    @property
    def worker_thread(self) -> threading.Thread | None:
        """The background thread, once started (for shutdown checks)."""
        return self._thread

    @property
    def pending(self) -> int:
        """Jobs queued or running whose last callback has not been delivered."""
        with self._cond:
            return self._pending

    def others_waiting(self) -> bool:
        """Whether a job waits in the queue."""
        with self._cond:
            return bool(self._queue)

    def run(
        self,
        op: Callable[[T, JobContext[T, P]], R],
        on_done: Callable[[R], None] | None = None,
        on_failed: FailedCallback | None = None,
        on_progress: Callable[[P], None] | None = None,
        *,
        quick: bool = False,
        merge: Callable[[P, P], P | None] | None = None,
        on_cancel: Callable[[], None] | None = None,
        label: str = "",
    ) -> JobHandle:
        """Queue ``op(resource, ctx)`` after the queued jobs; returns its handle.

        ``merge(old, new)`` combines two undelivered progress payloads (None: keep
        both); by default only the latest is delivered. ``quick`` marks a
        read-only job that may run at another job's checkpoint. ``on_cancel`` is
        called (on the cancelling thread, briefly) when the handle is cancelled
        while the op runs; ``label`` names the job in logs. After ``shutdown``
        nothing is queued: ``on_refused`` hears of it at once.
        """
        handle = JobHandle(next(self._ids), self._cancel)
        if self._closing.is_set():
            handle.finished = True
            if self.on_refused is not None:
                self.on_refused(INTERNAL_ERROR, "Glassbox is shutting down.")
            return handle
        job: _Job[T] = _Job(
            handle,
            op,
            on_done,
            on_failed,
            on_progress,
            merge or latest,
            on_cancel,
            quick,
            label or f"job {handle.id}",
        )
        job.context = JobContext(self, job)
        with self._cond:
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name=self._name, daemon=True)
                self._thread.start()
            self._pending += 1
            first = self._pending == 1
            self._queue.append(job)
            self._cond.notify_all()
        if first and self.on_busy is not None:
            self.on_busy(True)
        if self.wake is not None:
            self.wake()
        return handle

    def post(self, fn: Callable[[], None]) -> None:
        """Call ``fn`` where the callbacks run (from the worker thread: outside a job's
        context, e.g. news about the resource)."""
        self.put(_Call(fn))

    def put(self, item: _Item) -> None:
        """Hand an item to the delivery (``JobContext`` uses it)."""
        if self._inline:
            self._deliver([item])
        else:
            self._outbox.put(item)

    def shutdown(self, timeout_s: float = 5.0) -> bool:
        """Drop the queued jobs (``on_failed`` "cancelled", delivered only inline), cancel
        the running one, close the resource on the thread and join it; True when it
        ended within ``timeout_s``."""
        self._closing.set()
        with self._cond:
            dropped = [*self._queue, *self._aside]
            self._queue.clear()
            self._aside.clear()
            running = list(self._running)
            self._cond.notify_all()
        for job in dropped:
            # Delivered inline (a waiting HTTP request must hear of it); a GUI drain
            # has stopped and delivers nothing more.
            self._fail(job, CANCELLED, "Glassbox is shutting down.")
            self.put(_Finished(job))
        for job in running:
            job.handle._cancelled.set()
            self._interrupt(job)
        thread = self._thread
        if thread is None:
            return True
        thread.join(timeout_s)
        if thread.is_alive():
            log.warning("The %s thread did not end within %.1f s.", self._name, timeout_s)
            return False
        return True

    def _cancel(self, handle: JobHandle) -> None:
        with self._cond:
            job = next((j for j in (*self._queue, *self._aside) if j.handle is handle), None)
            if job is None:
                running = next((j for j in self._running if j.handle is handle), None)
                if running is not None:
                    # Under the lock: the job cannot end (and the next one start) meanwhile.
                    self._interrupt(running)
                return
            if job in self._queue:
                self._queue.remove(job)
            else:
                self._aside.remove(job)
        self._fail(job, CANCELLED, "Cancelled before it started.")
        self.put(_Finished(job))

    @staticmethod
    def _interrupt(job: _Job[Any]) -> None:
        if job.on_cancel is None:
            return
        try:
            job.on_cancel()
        except Exception:
            log.exception("Cancelling job %d failed", job.handle.id)

    # ----------------------------------------------------------------- delivery

    def drain(self) -> bool:
        """Deliver what the worker posted (where the callbacks run); True while jobs remain."""
        items: list[_Item] = []
        while True:
            try:
                items.append(self._outbox.get_nowait())
            except queue.Empty:
                break
        self._deliver(items)
        with self._cond:
            return self._pending > 0 or not self._outbox.empty()

    def _deliver(self, items: list[_Item]) -> None:
        waiting: _Progress | None = None  # progress not delivered yet, merged with the next
        for item in items:
            if isinstance(item, _Progress):
                if waiting is not None and waiting.job is item.job:
                    merge = item.job.merge
                    merged = merge(waiting.payload, item.payload) if merge is not None else None
                    if merged is not None:
                        waiting = _Progress(item.job, merged)
                        continue
                if waiting is not None:
                    self._call_progress(waiting)
                waiting = item
                continue
            if waiting is not None:
                self._call_progress(waiting)
                waiting = None
            if isinstance(item, _Call):
                item.fn()
            else:
                self._finished(item.job)
        if waiting is not None:
            self._call_progress(waiting)

    @staticmethod
    def _call_progress(item: _Progress) -> None:
        job = item.job
        if job.on_progress is not None and not job.handle.finished:
            job.on_progress(item.payload)

    def _finished(self, job: _Job[Any]) -> None:
        job.handle.finished = True
        # Break the job <-> context cycle here, so the job (and the widgets its
        # callbacks hold) is freed on this thread, not by a collection on the worker.
        job.context = None
        with self._cond:
            self._pending -= 1
            idle = self._pending == 0
        if idle and self.on_busy is not None and not self._closing.is_set():
            self.on_busy(False)

    # ----------------------------------------------------------------- worker thread

    def _take(self, quick_only: bool, wait_s: float | None) -> _Job[T] | None:
        """The next job (or the next quick one), waiting up to ``wait_s`` (None: forever)."""
        deadline = None if wait_s is None else time.monotonic() + wait_s
        with self._cond:
            while True:
                if self._closing.is_set():
                    return None
                for i, job in enumerate(self._queue):
                    if job.quick or not quick_only:
                        del self._queue[i]
                        return job
                if not quick_only and self._aside:
                    return self._aside.popleft()
                if deadline is None:
                    self._cond.wait()
                    continue
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._cond.wait(remaining)

    def serve_quick(self, wait_s: float) -> None:
        """Run the quick jobs waiting now (at a long job's checkpoint)."""
        job = self._take(quick_only=True, wait_s=wait_s)
        while job is not None:
            self._run_one(job)
            del job
            job = self._take(quick_only=True, wait_s=0.0)

    def _run_one(self, job: _Job[T]) -> None:
        """Run ``job`` and hand it over for good: once its ``_Finished`` is posted, the
        last reference to it (its callbacks hold widgets) is where the callbacks run,
        so Qt objects are never destroyed on this thread."""
        finished = self._execute(job)
        del job
        if finished is not None:
            self.put(finished)

    def _work(self) -> None:
        try:
            while True:
                job = self._take(quick_only=False, wait_s=None)
                if job is None:
                    break
                self._run_one(job)
                del job
        finally:
            resource, self._resource = self._resource, None
            if self._opened and self._close is not None:
                try:
                    self._close(resource)  # type: ignore[arg-type]
                except Exception:
                    log.exception("Closing the resource of %s failed", self._name)
            self._opened = False

    def _resource_now(self) -> T:
        if not self._opened:
            self._resource = self._open()
            self._opened = True
        return self._resource  # type: ignore[return-value]

    def _execute(self, job: _Job[T]) -> _Finished | None:
        """Run the op and post its outcome; the ``_Finished`` to post last (None when
        the job stepped aside)."""
        handle = job.handle
        with self._cond:
            self._running.append(job)
        aside = False
        try:
            if self._closing.is_set():
                return _Finished(job)
            handle.started = True
            if handle.cancelled:
                self._fail(job, CANCELLED, "Cancelled before it started.")
                return _Finished(job)
            result = job.op(self._resource_now(), job.context)
        except StepAside:
            aside = True
        except GlassboxError as exc:
            self._fail(job, exc.kind, str(exc))
        except Exception as exc:
            # A bug or an unexpected OS failure must not kill the thread every later
            # job needs; the caller hears of it, the log keeps the trace.
            log.exception("%s on %s failed", job.label, self._name)
            self._fail(job, INTERNAL_ERROR, f"Unexpected error: {exc}")
        else:
            if job.on_done is not None:
                done = job.on_done
                self.put(_Call(lambda: done(result)))
        finally:
            with self._cond:
                self._running.remove(job)
                if aside and not self._closing.is_set():
                    self._aside.append(job)
            if not aside:
                self._run_deferred(job)
        return None if aside else _Finished(job)

    def _fail(self, job: _Job[T], kind: str, message: str) -> None:
        if job.on_failed is not None:
            failed = job.on_failed
            self.put(_Call(lambda: failed(kind, message)))

    def _run_deferred(self, job: _Job[T]) -> None:
        deferred, job.deferred = job.deferred, []
        for fn in deferred:
            try:
                fn()
            except Exception:
                log.exception("Clean-up after job %d on %s failed", job.handle.id, self._name)
