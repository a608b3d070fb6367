"""``api-fuzz``: the window's local API against random, malformed, slow and many clients.

The API is served in this process from the window's path (``WindowApi`` on an
``InferenceController`` with a fast ``FakeEngine``), with a 1 s request deadline
so that slow clients cost seconds, not minutes. Meanwhile the window streams its
own replies, one after another, on the Qt event loop of this thread, and a 1 ms
heartbeat timer measures how long that loop is held up.

Each case is one client, run from a pool of threads in a client process
(``api_fuzz_client``): bad JSON, wrong types, huge
fields, deeply nested JSON, bad headers, a bad or missing token, wrong paths and
methods, truncated bodies, huge ``Content-Length``, random bytes, valid requests
(streamed or not), slowloris clients, clients that never read their reply and
bursts of concurrent connections. A case fails when its request got a 500 (or
no answer at all where one is due), or hung past its timeout. Every traceback
the server logs that no 500 accounts for is a failed case too, as is each
event-loop stall over 50 ms and an RSS growth of 10% or more.
"""

from __future__ import annotations

import gc
import itertools
import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from desktop_app.bench.faults import FaultContext, FaultRow, describe, rss_mb
from desktop_app.bench.faults.api_fuzz_client import KINDS, REQUEST_TIMEOUT_S, TOKEN, Outcome

STALL_GOAL_MS = 50.0
RSS_GOAL = 0.10
GOAL = (
    "no unhandled exception (server log has no traceback), "
    f"no event-loop stall over {STALL_GOAL_MS:.0f} ms, RSS growth under {RSS_GOAL:.0%}"
)
_WINDOW_SCRIPT = "The window streams this reply while the API is under attack. " * 2


class _Tracebacks(logging.Handler):
    """Counts the records that carry a traceback (a bug in the server)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.found: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            self.found.append(f"traceback logged: {record.getMessage()} {record.exc_info[1]!r}")


# -- the server side and the event loop -----------------------------------------


def run(ctx: FaultContext) -> FaultRow:
    """Fuzz the window's API while the window streams; see the module docstring."""
    from desktop_app.core.memory import limit_arenas

    limit_arenas()  # as the window's process does at start
    n = ctx.n(2000, 150)
    rng = ctx.rng()
    kinds = rng.choices(list(KINDS), weights=list(KINDS.values()), k=n)
    seeds = [rng.randrange(2**32) for _ in range(n)]
    home = ctx.workdir / "home"
    home.mkdir()
    old_home = os.environ.get("GLASSBOX_HOME")
    os.environ["GLASSBOX_HOME"] = str(home)
    try:
        return _fuzz(ctx, kinds, seeds)
    finally:
        if old_home is None:
            os.environ.pop("GLASSBOX_HOME", None)
        else:
            os.environ["GLASSBOX_HOME"] = old_home


def _fuzz(ctx: FaultContext, kinds: list[str], seeds: list[int]) -> FaultRow:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QCoreApplication, QEventLoop, Qt, QTimer

    from desktop_app.core.engine.fake import FakeEngine
    from desktop_app.core.engine.protocol import Event, GenerateRequest, Message
    from desktop_app.core.sampling import SamplingParams
    from desktop_app.core.settings import Settings
    from desktop_app.workers.api.window import WindowApi
    from desktop_app.workers.engine.inference import InferenceController
    from desktop_app.workers.jobs_qt import GC_INTERVAL_MS, collect_due_generations, settle_heap

    class ForgetfulEngine(FakeEngine):
        """The fake engine without its record of requests (megabytes each, here)."""

        def generate(self, request: GenerateRequest) -> Iterator[Event]:
            self.requests.clear()  # keeps the last one only
            yield from super().generate(request)

    app = QCoreApplication.instance() or QCoreApplication([])
    controller = InferenceController(
        lambda: ForgetfulEngine(_WINDOW_SCRIPT, delay_s=0.002),
        Settings(),
        settings_path=ctx.workdir / "settings.json",
        resolver=lambda spec, progress: Path(spec),
        remember_model=False,
    )
    wait = QEventLoop()
    controller.sig_model_loaded.connect(wait.quit)
    QTimer.singleShot(15_000, wait.quit)
    model = ctx.workdir / "fake.gguf"
    model.write_bytes(b"")  # the fake engine reads nothing; the fingerprint needs a file
    controller.load_model(str(model))
    wait.exec()
    if controller.model_loaded is None:
        raise RuntimeError("The fake engine did not load.")
    api = WindowApi(controller)
    api.start(0, token=TOKEN, request_timeout_s=REQUEST_TIMEOUT_S)
    port = int(api.port or 0)
    tracebacks = _Tracebacks()
    server_log = logging.getLogger("desktop_app.workers.api")
    server_log.addHandler(tracebacks)
    level = server_log.level
    server_log.setLevel(logging.DEBUG)
    thread_errors: list[str] = []
    old_hook = threading.excepthook
    threading.excepthook = lambda a: thread_errors.append(f"thread {a.thread}: {a.exc_value!r}")

    # The window's own replies, one after another, on this thread's event loop.
    streaming = [True]
    window_replies = [0]

    def send_window_reply(_: object = None) -> None:
        if streaming[0]:
            window_replies[0] += 1
            controller.send(
                GenerateRequest(
                    params=SamplingParams(temperature=0.0, seed=1, max_tokens=200),
                    messages=(Message("user", "Talk while the API is fuzzed."),),
                )
            )

    controller.sig_done.connect(send_window_reply)
    controller.sig_error.connect(send_window_reply)
    beats: list[float] = []
    heartbeat = QTimer()
    heartbeat.setTimerType(Qt.TimerType.PreciseTimer)
    heartbeat.setInterval(1)
    heartbeat.timeout.connect(lambda: beats.append(time.perf_counter()))

    outcomes: list[Outcome] = []
    client_errors: list[str] = []

    def attack(cases: list[tuple[str, int]], done: threading.Event) -> None:
        """The cases, run by a client process; its outcomes read as they come."""
        try:
            child = subprocess.Popen(
                [sys.executable, "-m", "desktop_app.bench.faults.api_fuzz_client"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            assert child.stdin is not None and child.stdout is not None
            child.stdin.write(json.dumps({"port": port, "cases": cases}))
            child.stdin.close()
            step = max(len(cases) // 10, 1)
            for line in child.stdout:
                outcomes.append(Outcome(**json.loads(line)))
                if len(cases) > 50 and len(outcomes) % step == 0:
                    ctx.log(f"[faults] api-fuzz: {len(outcomes)}/{len(kinds)} requests")
            if child.wait() != 0:
                client_errors.append(f"the client process ended with code {child.returncode}")
        finally:
            done.set()

    def serve_while(cases: list[tuple[str, int]]) -> float:
        """Run ``cases`` from a thread while this thread's event loop runs; seconds taken."""
        done = threading.Event()
        loop = QEventLoop()
        poll = QTimer()
        poll.setInterval(20)
        poll.timeout.connect(lambda: loop.quit() if done.is_set() else None)
        poll.start()
        t0 = time.perf_counter()
        attacker = threading.Thread(target=attack, args=(cases, done), daemon=True)
        attacker.start()
        loop.exec()
        poll.stop()
        attacker.join(5)
        return time.perf_counter() - t0

    # As in the app (``collect_garbage_on_gui_thread``): no automatic collection on
    # whichever thread allocates; the due generations are collected on this thread.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    collector = QTimer()
    collector.setInterval(GC_INTERVAL_MS)
    collector.timeout.connect(collect_due_generations)
    collector.start()
    send_window_reply()
    heartbeat.start()
    # The window streaming alone first: the stall the attack is compared with.
    idle = QEventLoop()
    QTimer.singleShot(1500, idle.quit)
    idle.exec()
    baseline_stall = max((b - a) * 1000.0 - 1.0 for a, b in itertools.pairwise(beats))
    beats.clear()
    # A warm-up (one case of each kind, part of the count): memory that the first
    # requests allocate for good (thread stacks, allocator arenas) is not a leak.
    # The largest bodies come eight at a time, as many as the client's threads: the
    # allocator keeps that high-water mark, which is not a leak either.
    warm_kinds = [*KINDS, *["huge-field"] * 16, *["nested"] * 8]
    warm = [(kind, seed) for kind, seed in zip(warm_kinds, seeds, strict=False)]
    elapsed = serve_while(warm)
    heartbeat.stop()  # the full collection below is the check's, not the server's
    gaps = [(b - a) * 1000.0 - 1.0 for a, b in itertools.pairwise(beats)]
    beats.clear()
    settle_heap()  # as the window does once its start-up is over
    rss_before = rss_mb()
    heartbeat.start()
    elapsed += serve_while(list(zip(kinds, seeds, strict=True))[len(warm) :])
    heartbeat.stop()
    streaming[0] = False
    gc.collect()
    rss_after = rss_mb()
    collector.stop()
    if gc_was_enabled:
        gc.enable()

    api.stop()
    controller.stop()
    controller.shutdown()
    app.processEvents()
    threading.excepthook = old_hook
    server_log.removeHandler(tracebacks)
    server_log.setLevel(level)

    failures = [o.failure for o in outcomes if o.failure]
    n_500 = sum(1 for o in outcomes if o.status == 500)
    unexplained = tracebacks.found[n_500:] if len(tracebacks.found) > n_500 else []
    failures += unexplained + thread_errors + client_errors
    gaps += [(b - a) * 1000.0 - 1.0 for a, b in itertools.pairwise(beats)]
    # When the window stalls past the goal with no request at all, the machine is too
    # busy to judge what the requests cost: said so in the figures, not counted.
    judged = baseline_stall <= STALL_GOAL_MS
    if judged:
        failures += [f"the event loop stalled {g:.0f} ms" for g in gaps if g > STALL_GOAL_MS]
    growth = (rss_after - rss_before) / rss_before if rss_before > 0 else 0.0
    if growth >= RSS_GOAL:
        failures.append(f"RSS grew {growth:+.1%} ({rss_before:.0f} → {rss_after:.0f} MB)")
    max_stall = max(gaps, default=0.0)
    by_kind: dict[str, int] = {}
    for o in outcomes:
        by_kind[o.kind] = by_kind.get(o.kind, 0) + 1
    ctx.log("[faults] api-fuzz: cases " + ", ".join(f"{k} {v}" for k, v in sorted(by_kind.items())))
    measured = (
        f"{len(outcomes):,} requests in {elapsed:.0f} s, {len(tracebacks.found)} tracebacks, "
        f"{n_500} HTTP 500, max stall {max_stall:.0f} ms (window alone "
        f"{baseline_stall:.0f} ms{'' if judged else ': machine too busy, stalls not judged'}), "
        f"RSS {growth:+.1%}, "
        f"{window_replies[0]} window replies streamed"
    )
    return FaultRow(
        check="API fuzzing",
        runs=len(outcomes),
        failed=len(failures),
        goal=GOAL,
        measured=measured,
        details=describe(failures),
    )
