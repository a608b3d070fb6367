"""The one serial job queue every worker uses (``workers.jobs``), and its GUI drain."""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QObject
from pytestqt.qtbot import QtBot

from desktop_app.core.errors import GlassboxError, InvalidRequestError
from desktop_app.workers.jobs import CANCELLED, INTERNAL_ERROR, JobContext, JobQueue, StepAside
from desktop_app.workers.jobs_qt import GuiDrain, collect_due_generations, while_alive

TIMEOUT_MS = 5000


class Store:
    """A resource that says where it was opened and closed."""

    def __init__(self) -> None:
        self.opened_on = threading.current_thread().name
        self.closed_on: str | None = None
        self.log: list[str] = []

    def close(self) -> None:
        self.closed_on = threading.current_thread().name


Ctx = JobContext[Store, object]


@pytest.fixture
def owner(qapp: object) -> Iterator[QObject]:
    parent = QObject()
    yield parent
    parent.deleteLater()


@pytest.fixture
def opened() -> list[Store]:
    return []


@pytest.fixture
def jobs(owner: QObject, opened: list[Store]) -> Iterator[JobQueue[Store]]:
    def open_store() -> Store:
        store = Store()
        opened.append(store)
        return store

    queue: JobQueue[Store] = JobQueue(open_store, Store.close, name="test-jobs")
    GuiDrain(queue, owner)
    yield queue
    assert queue.shutdown(5)


def test_jobs_run_in_order_on_one_thread_and_callbacks_on_the_gui_thread(
    qtbot: QtBot, jobs: JobQueue[Store], opened: list[Store]
) -> None:
    assert opened == []  # nothing opens before the first job
    ran: list[tuple[int, str]] = []
    done: list[tuple[int, str]] = []

    def op(i: int):
        def run(store: Store, _ctx: Ctx) -> int:
            ran.append((i, threading.current_thread().name))
            time.sleep(0.005)
            return i * 10

        return run

    handles = [
        jobs.run(op(i), lambda r: done.append((r, threading.current_thread().name)))
        for i in range(5)
    ]
    qtbot.waitUntil(lambda: all(h.finished for h in handles), timeout=TIMEOUT_MS)
    assert [i for i, _ in ran] == [0, 1, 2, 3, 4]
    assert {name for _, name in ran} == {"test-jobs"}
    assert done == [(i * 10, "MainThread") for i in range(5)]
    assert len(opened) == 1 and opened[0].opened_on == "test-jobs"  # lazily, on its thread


def test_a_failure_and_a_bug_go_to_on_failed_and_the_thread_goes_on(
    qtbot: QtBot, jobs: JobQueue[Store]
) -> None:
    failures: list[tuple[str, str]] = []

    def refused(_store: Store, _ctx: Ctx) -> None:
        raise InvalidRequestError("No labels.")

    def buggy(_store: Store, _ctx: Ctx) -> None:
        raise ZeroDivisionError("oops")

    results: list[int] = []
    jobs.run(refused, on_failed=lambda k, m: failures.append((k, m)))
    jobs.run(buggy, on_failed=lambda k, m: failures.append((k, m)))
    last = jobs.run(lambda _s, _c: 42, results.append)
    qtbot.waitUntil(lambda: last.finished, timeout=TIMEOUT_MS)
    assert failures[0] == ("invalid_request", "No labels.")
    assert failures[1][0] == INTERNAL_ERROR and "oops" in failures[1][1]
    assert results == [42]


def test_a_resource_that_cannot_open_fails_the_job_and_the_next_one_tries_again(
    qtbot: QtBot, owner: QObject
) -> None:
    tries: list[int] = []

    def open_store() -> Store:
        tries.append(1)
        if len(tries) == 1:
            raise GlassboxError("locked")
        return Store()

    jobs: JobQueue[Store] = JobQueue(open_store, name="test-open")
    GuiDrain(jobs, owner)
    failed: list[str] = []
    done: list[str] = []
    jobs.run(lambda _s, _c: "first", done.append, lambda k, m: failed.append(m))
    second = jobs.run(lambda _s, _c: "second", done.append)
    qtbot.waitUntil(lambda: second.finished, timeout=TIMEOUT_MS)
    assert failed == ["locked"] and done == ["second"] and len(tries) == 2
    assert jobs.shutdown(5)


def test_cancel_drops_a_queued_job_and_tells_a_running_one(
    qtbot: QtBot, jobs: JobQueue[Store]
) -> None:
    started = threading.Event()
    interrupted: list[bool] = []
    saw_cancel: list[bool] = []

    def long(_store: Store, ctx: Ctx) -> str:
        started.set()
        deadline = time.monotonic() + 5
        while not ctx.cancelled and time.monotonic() < deadline:
            time.sleep(0.005)
        saw_cancel.append(ctx.cancelled)
        return "stopped early"

    ran: list[str] = []
    results: list[str] = []
    failures: list[str] = []
    first = jobs.run(long, results.append, on_cancel=lambda: interrupted.append(True), label="long")
    second = jobs.run(
        lambda _s, _c: ran.append("queued"), on_failed=lambda k, m: failures.append(k)
    )
    assert started.wait(5)
    second.cancel()
    qtbot.waitUntil(lambda: second.finished, timeout=TIMEOUT_MS)
    assert failures == [CANCELLED] and not first.finished
    first.cancel()
    qtbot.waitUntil(lambda: first.finished, timeout=TIMEOUT_MS)
    assert results == ["stopped early"]  # a running job's result still counts
    assert interrupted == [True] and saw_cancel == [True] and ran == []
    first.cancel()  # cancelling a finished job does nothing
    assert interrupted == [True]


def test_only_the_latest_progress_of_a_flush_is_delivered_unless_merged(
    qtbot: QtBot, jobs: JobQueue[Store]
) -> None:
    latest: list[object] = []
    merged: list[object] = []

    def report(_store: Store, ctx: Ctx) -> None:
        for i in range(50):
            ctx.progress(i)

    def tokens(_store: Store, ctx: Ctx) -> None:
        for i in range(50):
            ctx.progress([i])
        ctx.progress("a note")  # not mergeable with tokens: delivered as it is

    first = jobs.run(report, on_progress=latest.append)
    second = jobs.run(
        tokens,
        on_progress=merged.append,
        merge=lambda a, b: a + b if isinstance(a, list) and isinstance(b, list) else None,
    )
    qtbot.waitUntil(lambda: first.finished and second.finished, timeout=TIMEOUT_MS)
    assert latest[-1] == 49 and len(latest) < 50
    lists = [p for p in merged if isinstance(p, list)]
    assert [i for p in lists for i in p] == list(range(50)) and len(lists) < 50
    assert merged[-1] == "a note"


def test_busy_is_true_while_jobs_run_and_false_when_all_are_done(
    qtbot: QtBot, owner: QObject
) -> None:
    busy: list[bool] = []
    jobs: JobQueue[Store] = JobQueue(Store, name="test-busy", on_busy=busy.append)
    GuiDrain(jobs, owner)
    handles = [jobs.run(lambda _s, _c: time.sleep(0.01)) for _ in range(3)]
    assert busy == [True]
    qtbot.waitUntil(lambda: all(h.finished for h in handles), timeout=TIMEOUT_MS)
    assert busy == [True, False]
    assert jobs.shutdown(5)


def test_quick_jobs_are_answered_at_a_long_jobs_checkpoint(
    qtbot: QtBot, jobs: JobQueue[Store]
) -> None:
    release = threading.Event()
    order: list[str] = []

    def long(_store: Store, ctx: Ctx) -> None:
        order.append("long started")
        while not release.is_set():
            ctx.serve_quick(0.05)  # a checkpoint: between files of an ingestion
        order.append("long ended")

    slow = jobs.run(long)
    plain = jobs.run(lambda _s, _c: order.append("plain"))
    answers: list[str] = []
    quick = jobs.run(lambda _s, _c: "hits", answers.append, quick=True)
    qtbot.waitUntil(lambda: quick.finished, timeout=TIMEOUT_MS)
    assert answers == ["hits"] and order == ["long started"]  # the plain job still waits
    release.set()
    qtbot.waitUntil(lambda: slow.finished and plain.finished, timeout=TIMEOUT_MS)
    assert order == ["long started", "long ended", "plain"]


def test_a_job_steps_aside_for_others_and_resumes_when_the_queue_is_empty(
    qtbot: QtBot, jobs: JobQueue[Store]
) -> None:
    order: list[str] = []
    steps = iter(range(1000))
    gate = threading.Event()

    def hashing(_store: Store, ctx: Ctx) -> str:
        for i in steps:
            if i == 3:
                gate.set()
            if ctx.others_waiting:
                order.append(f"aside at {i}")
                raise StepAside
            time.sleep(0.001)
        return "hashed"

    results: list[str] = []
    hashed = jobs.run(hashing, results.append)
    assert gate.wait(5)
    other = jobs.run(lambda _s, _c: order.append("other"))
    qtbot.waitUntil(lambda: hashed.finished and other.finished, timeout=TIMEOUT_MS)
    assert order[0].startswith("aside at") and order[1] == "other"
    assert results == ["hashed"]


def test_shutdown_drops_the_queue_closes_the_resource_on_its_thread_and_joins(
    qtbot: QtBot, owner: QObject
) -> None:
    stores: list[Store] = []

    def open_store() -> Store:
        stores.append(Store())
        return stores[-1]

    jobs: JobQueue[Store] = JobQueue(open_store, Store.close, name="test-shutdown")
    GuiDrain(jobs, owner)
    started = threading.Event()
    ran: list[str] = []

    def long(_store: Store, ctx: Ctx) -> None:
        started.set()
        while not ctx.cancelled:
            time.sleep(0.005)

    jobs.run(long)
    jobs.run(lambda _s, _c: ran.append("never"))
    assert started.wait(5)
    assert jobs.shutdown(5)
    assert ran == [] and stores[0].closed_on == "test-shutdown"
    refused: list[tuple[str, str]] = []
    jobs.on_refused = lambda k, m: refused.append((k, m))
    late = jobs.run(lambda _s, _c: ran.append("late"))
    assert late.finished and refused and refused[0][0] == INTERNAL_ERROR


def test_inline_delivery_calls_back_on_the_worker_without_qt() -> None:
    jobs: JobQueue[Store] = JobQueue(Store, name="test-inline", inline=True)
    got = threading.Event()
    where: list[str] = []
    jobs.run(
        lambda _s, _c: 1, lambda _r: (where.append(threading.current_thread().name), got.set())
    )
    assert got.wait(5) and where == ["test-inline"]
    assert jobs.shutdown(5)


def test_a_callback_of_a_deleted_widget_is_not_called(qapp: object) -> None:
    calls: list[int] = []
    widget = QObject()
    callback = while_alive(widget, calls.append)
    callback(1)
    import shiboken6

    shiboken6.delete(widget)
    callback(2)
    assert calls == [1]


def test_what_a_job_holds_is_freed_on_the_gui_thread_not_the_worker(
    qtbot: QtBot, jobs: JobQueue[Store]
) -> None:
    # A job's callbacks hold widgets (a chat session, a panel). Freed on the worker
    # thread, Qt warns "Timers cannot be stopped from another thread" and can crash.
    freed_on: list[str] = []

    class Holder:
        def __del__(self) -> None:
            freed_on.append(threading.current_thread().name)

    def submit() -> None:
        holder = Holder()
        jobs.run(lambda _s, _c: 1, on_done=lambda _r: holder and None)

    submit()
    qtbot.waitUntil(lambda: jobs.pending == 0, timeout=TIMEOUT_MS)
    done: list[int] = []
    jobs.run(lambda _s, _c: 2, on_done=done.append)  # the worker takes the next job
    qtbot.waitUntil(lambda: done == [2], timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: bool(freed_on), timeout=TIMEOUT_MS)
    assert freed_on == [threading.main_thread().name]


def test_garbage_due_for_collection_is_collected_on_the_calling_thread() -> None:
    freed_on: list[str] = []

    class Cycle:
        def __init__(self) -> None:
            self.me = self

        def __del__(self) -> None:
            freed_on.append(threading.current_thread().name)

    gc.collect()
    Cycle()  # unreachable, but only the cycle collector frees it
    keep = [[] for _ in range(gc.get_threshold()[0] + 1)]  # past generation 0's threshold
    collect_due_generations()
    assert freed_on == [threading.main_thread().name] and keep


def test_a_full_collection_comes_at_most_once_a_minute(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each walks the whole heap (tens of ms with torch loaded): when generation 2 is
    due again within the minute, generation 1 is collected instead."""
    from desktop_app.workers import jobs_qt

    collected: list[int] = []
    monkeypatch.setattr(gc, "get_count", lambda: (10_000, 100, 100))  # all three due
    monkeypatch.setattr(gc, "collect", lambda generation=2: collected.append(generation) or 0)
    now = [1000.0]
    monkeypatch.setattr(jobs_qt.time, "monotonic", lambda: now[0])
    monkeypatch.setattr(jobs_qt, "_last_full", [now[0] - jobs_qt.FULL_GC_MIN_INTERVAL_S - 1])
    collect_due_generations()
    collect_due_generations()
    now[0] += jobs_qt.FULL_GC_MIN_INTERVAL_S + 1
    collect_due_generations()
    assert collected == [2, 1, 2]


def test_settling_the_heap_leaves_start_up_out_of_later_collections() -> None:
    from desktop_app.workers.jobs_qt import settle_heap

    assert gc.get_freeze_count() == 0
    try:
        settle_heap()
        assert gc.get_freeze_count() > 1000  # the modules and objects loaded so far
    finally:
        gc.unfreeze()
