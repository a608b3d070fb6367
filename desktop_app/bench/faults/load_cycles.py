"""1,000 load/unload cycles in one engine process: memory and file descriptors stay flat.

The engine host process (the one the app starts) loads Gemma 3 270M and unloads it
again, ``ctx.n(1000, 8)`` times; every 50th cycle a tiny greedy generation proves
the loaded model works. The process's resident memory is read after cycle 10 (once
allocator pools and lazy imports have settled) and at the end, its peak on every
cycle, and its open file descriptors (``/proc/<pid>/fd``) at the start, after
warm-up and at the end (the first load opens a couple for good): a model
file mapped or opened and never released shows up in both figures.

The check talks to the host over its own pipe rather than through ``EngineClient``,
whose ``unload`` ends the process: here the process must stay.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import statistics
import time
from multiprocessing.connection import Connection
from typing import Any

from desktop_app.bench.faults import FaultContext, FaultRow, describe, rss_mb
from desktop_app.core.engine import host
from desktop_app.core.engine.protocol import (
    DoneEvent,
    EngineConfig,
    ErrorEvent,
    GenerateRequest,
    ModelLoaded,
)
from desktop_app.core.sampling import SamplingParams
from desktop_app.workers.process import ask_to_exit, reap

#: The goal: resident memory at the end within this fraction of that after warm-up.
DRIFT_GOAL = 0.05
WARM_UP = 10
GENERATE_EVERY = 50
#: How long one reply from the engine may take before the cycle counts as hung.
_REPLY_S = 120.0


def run(ctx: FaultContext) -> FaultRow:
    """Load and unload Gemma ``ctx.n(1000, 8)`` times in one engine process."""
    cycles = ctx.n(1000, 8)
    warm_at = min(WARM_UP, max(1, cycles // 2))  # the reading the end is compared with
    config = EngineConfig(str(ctx.model()), n_ctx=1024)
    probe = GenerateRequest(
        params=SamplingParams.greedy(max_tokens=4), prompt="The sky is", candidates=0
    )
    failures: list[str] = []
    times: list[float] = []
    spawn = mp.get_context("spawn")
    parent, child = spawn.Pipe(duplex=True)
    proc = spawn.Process(
        target=host.main, args=(child, spawn.RawValue("b", 0)), name="glassbox-engine"
    )
    proc.start()
    child.close()
    pid = proc.pid
    assert pid is not None
    fds_start = _fds(pid)
    rss_warm = rss_end = peak = 0.0
    fds_warm = -1
    done = 0
    reply: object = None
    try:
        for cycle in range(1, cycles + 1):
            t0 = time.perf_counter()
            reply = _ask(parent, ("load", config))
            if not isinstance(reply, ModelLoaded):
                failures.append(f"cycle {cycle}: the load answered {_what(reply)}")
                break
            peak = max(peak, rss_mb(pid))
            # Also on the first cycle: a first reply's one-time costs (the describer
            # thread, the sampler's buffers) belong before the warm-up reading.
            if cycle == 1 or cycle % GENERATE_EVERY == 0 or cycle == cycles:
                text = _generate(parent, probe)
                if text is None or not text.strip():
                    failures.append(f"cycle {cycle}: the loaded model gave no reply ({text!r})")
            reply = _ask(parent, ("unload",))
            if reply is not None:
                failures.append(f"cycle {cycle}: the unload answered {_what(reply)}")
                break
            times.append(time.perf_counter() - t0)
            done = cycle
            if cycle == warm_at:
                rss_warm = rss_mb(pid)
                fds_warm = _fds(pid)
            if cycle % 100 == 0:
                ctx.log(f"[load-cycles] {cycle}/{cycles}: RSS {rss_mb(pid):.0f} MB")
        rss_end = rss_mb(pid)
        fds_end = _fds(pid)
    except _Gone as exc:
        failures.append(f"cycle {done + 1}: {exc}")
        fds_end = -1
    finally:
        ask_to_exit(proc, parent, ("exit",), grace_s=5)
        reap(proc, parent)
    drift = (rss_end - rss_warm) / rss_warm if rss_warm else 0.0
    if rss_warm and drift >= DRIFT_GOAL:
        failures.append(
            f"resident memory grew {drift:+.1%} from cycle {warm_at} to the end "
            f"({rss_warm:.0f} → {rss_end:.0f} MB)"
        )
    if fds_end > fds_warm >= 0:
        failures.append(
            f"open file descriptors grew from {fds_warm} after cycle {warm_at} to {fds_end}"
        )
    per_cycle = f"{statistics.median(times) * 1000:.0f} ms a cycle" if times else "no cycle"
    measured = (
        f"{done:,} cycles, RSS {rss_warm:.0f} → {rss_end:.0f} MB ({drift:+.1%}, "
        f"peak {peak:.0f} MB), fds {fds_start} → {fds_warm} → {fds_end}, {per_cycle}"
    )
    return FaultRow(
        check="1,000 load/unload cycles",
        runs=done if done else 1,
        failed=len(failures),
        goal="RSS drift below 5%",
        measured=measured,
        details=describe(failures),
    )


class _Gone(Exception):
    """The engine process died or stopped answering."""


def _ask(conn: Connection, message: tuple[Any, ...]) -> object:
    conn.send(message)
    return _recv(conn)


def _recv(conn: Connection) -> object:
    try:
        if conn.poll(_REPLY_S):
            return conn.recv()
    except (EOFError, OSError) as exc:
        raise _Gone(f"the engine process stopped ({exc or type(exc).__name__})") from exc
    raise _Gone(f"the engine did not answer within {_REPLY_S:.0f} s")


def _generate(conn: Connection, request: GenerateRequest) -> str | None:
    conn.send(("generate", request))
    while True:
        event = _recv(conn)
        if isinstance(event, DoneEvent):
            return event.text
        if isinstance(event, ErrorEvent):
            return None


def _fds(pid: int) -> int:
    """How many file descriptors ``pid`` holds open, or -1 if unreadable."""
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return -1


def _what(reply: object) -> str:
    if isinstance(reply, ErrorEvent):
        return f"an error: {reply.message}"
    return type(reply).__name__
