"""``stream-kill``: kill -9 while a reply streams from the real engine into the chat store.

Each case starts :mod:`desktop_app.bench.faults.stream_child` (the chat store and the
real engine process with Gemma 3 270M, turn after turn) on the same store file and
kills it with SIGKILL at a seeded random moment: during start-up, while the engine
evaluates a prompt, or while tokens stream. Then every commit the child reported as
acknowledged must be on disk (a user message whole; a reply with at least the
acknowledged token records and text), ``PRAGMA integrity_check`` must say ``ok``, and
every process the child started (the engine) must be gone within a few seconds.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from desktop_app.bench.faults import MARKER_ENV, FaultContext, FaultRow, describe, marked

GOAL = "0 acknowledged messages lost, integrity ok, engine gone"
#: How long the processes the child started may outlive it.
ENGINE_GRACE_S = 5.0
#: A case whose moment never comes is killed after this long anyway.
CASE_TIMEOUT_S = 60.0
CHILD = "desktop_app.bench.faults.stream_child"


@dataclass(frozen=True, slots=True)
class Ack:
    """One acknowledged commit: what, the message id, token records and text on disk."""

    what: str
    message_id: int
    n_tokens: int
    text: str


@dataclass(frozen=True, slots=True)
class Moment:
    """When to kill: ``phase`` start-up (after ``delay`` s), prompt (turn) or stream (token)."""

    phase: str
    turn: int = 0
    token: int = 0
    delay: float = 0.0


def parse_ack(line: str) -> Ack | None:
    """The ``ACK what id n json`` line as an Ack (None for other lines)."""
    parts = line.split(" ", 4)
    if len(parts) != 5 or parts[0] != "ACK":
        return None
    try:
        return Ack(parts[1], int(parts[2]), int(parts[3]), str(json.loads(parts[4])))
    except ValueError:
        return None  # not a whole line: the child was killed while writing it


def pick(rng: random.Random, start_s: float) -> Moment:
    """A moment spread over start-up, prompt evaluation and streaming."""
    phase = rng.choices(("start", "prompt", "stream"), weights=(1, 1, 2))[0]
    # Mostly the first turn: a case stays short (the model loads in 2-3 s on 2 cores).
    turn = rng.choices((0, 1, 2), weights=(4, 2, 1))[0]
    if phase == "start":
        return Moment("start", delay=rng.uniform(0.0, start_s))
    if phase == "prompt":
        return Moment("prompt", turn, delay=rng.uniform(0.0, 0.03))
    return Moment("stream", turn, token=rng.randint(1, 10), delay=rng.uniform(0.0, 0.05))


def due(moment: Moment, line: str) -> bool:
    """Whether ``line`` is the moment's signal (or shows it was passed)."""
    words = line.split()
    if not words or moment.phase == "start":
        return False
    if words[0] == "PROMPT":
        turn = int(words[1])
        return turn > moment.turn or (moment.phase == "prompt" and turn == moment.turn)
    if words[0] == "TOKEN" and moment.phase == "stream":
        turn, n = int(words[1]), int(words[2])
        return turn > moment.turn or (turn == moment.turn and n >= moment.token)
    return False


def where(lines: list[str]) -> str:
    """Which phase the child was in when it was killed, from its last lines."""
    steps = [line.split()[0] for line in lines if not line.startswith("ACK")]
    if not steps:
        return "start-up"
    if lines[-1].startswith(("ACK done", "ACK user")) or steps[-1] == "ENGINE":
        return "between turns"
    return "prompt" if steps[-1] == "PROMPT" else "streaming"


def check_store(db: Path, acks: dict[int, Ack]) -> tuple[bool, list[str]]:
    """(integrity ok, one line per acknowledged message not found as acknowledged)."""
    lost: list[str] = []
    conn = sqlite3.connect(db, timeout=10)
    try:
        verdict = conn.execute("PRAGMA integrity_check").fetchall()
        ok = [tuple(r) for r in verdict] == [("ok",)]
        for ack in acks.values():
            row = conn.execute(
                "SELECT role, content, status FROM messages WHERE id = ?", [ack.message_id]
            ).fetchone()
            if row is None:
                lost.append(f"{ack.what} message {ack.message_id} is missing")
                continue
            role, content, status = row
            n = conn.execute(
                "SELECT count(*) FROM tokens WHERE message_id = ?", [ack.message_id]
            ).fetchone()[0]
            want_role = "user" if ack.what == "user" else "assistant"
            exact = ack.what in ("user", "done")
            text_ok = content == ack.text if exact else str(content).startswith(ack.text)
            if role != want_role or not text_ok or n < ack.n_tokens:
                lost.append(
                    f"{ack.what} message {ack.message_id}: acknowledged {ack.n_tokens} tokens "
                    f"{ack.text[:40]!r}, found {role} {n} tokens {str(content)[:40]!r}"
                )
            elif ack.what == "done" and status != "complete":
                lost.append(f"reply {ack.message_id} was complete, now {status}")
    finally:
        conn.close()
    if not ok:
        lost = [f"integrity_check: {verdict[:3]}", *lost]
    return ok, lost


def _read(stream: IO[str], out: queue.SimpleQueue[tuple[float, str | None]]) -> None:
    for line in stream:
        if line.endswith("\n"):  # a line cut by the kill acknowledges nothing
            out.put((time.monotonic(), line[:-1]))
    out.put((time.monotonic(), None))


def run(ctx: FaultContext) -> FaultRow:
    n = ctx.n(200, 3)
    rng = ctx.rng()
    model = ctx.model()
    db = ctx.workdir / "chats.sqlite3"
    all_acks: dict[int, Ack] = {}
    failures: list[str] = []
    failed = acked = lost_total = integrity = gone = 0
    phases: dict[str, int] = {}
    start_s = 3.0  # time to the engine's first line; learnt from the cases
    for case in range(n):
        moment = pick(rng, start_s)
        marker = uuid.uuid4().hex
        env = {**os.environ, MARKER_ENV: marker}
        with open(ctx.workdir / "child.err", "w", encoding="utf-8") as err:
            proc = subprocess.Popen(
                [sys.executable, "-m", CHILD, str(db), str(model), str(rng.randrange(2**31))],
                stdout=subprocess.PIPE,
                stderr=err,
                env=env,
                text=True,
                encoding="utf-8",
            )
        t0 = time.monotonic()
        assert proc.stdout is not None
        lines_q: queue.SimpleQueue[tuple[float, str | None]] = queue.SimpleQueue()
        reader = threading.Thread(target=_read, args=(proc.stdout, lines_q), daemon=True)
        reader.start()
        lines: list[str] = []
        kill_at = t0 + moment.delay if moment.phase == "start" else t0 + CASE_TIMEOUT_S
        ended_early = False
        while True:
            now = time.monotonic()
            if now >= kill_at:
                break
            try:
                _, line = lines_q.get(timeout=kill_at - now)
            except queue.Empty:
                break
            if line is None:
                ended_early = True
                break
            lines.append(line)
            if line.startswith("ENGINE"):
                start_s = 0.8 * start_s + 0.2 * (time.monotonic() - t0)
            if due(moment, line) and kill_at > time.monotonic() + moment.delay:
                kill_at = time.monotonic() + moment.delay
        started = marked(marker)
        t_kill = time.monotonic()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        reader.join(timeout=5)
        while True:  # lines written before the kill are acknowledged too
            try:
                _, line = lines_q.get_nowait()
            except queue.Empty:
                break
            if line is not None:
                lines.append(line)
        phase = where(lines)
        phases[phase] = phases.get(phase, 0) + 1
        case_acks = [a for a in map(parse_ack, lines) if a is not None]
        acked += len(case_acks)
        for ack in case_acks:
            all_acks[ack.message_id] = ack
        problems: list[str] = []
        if ended_early:
            tail = (ctx.workdir / "child.err").read_text("utf-8", "replace")[-300:]
            problems.append(f"the child ended before it was killed: {tail}")
        deadline = time.monotonic() + ENGINE_GRACE_S
        left = [p for p in marked(marker) if p != proc.pid]
        while left and time.monotonic() < deadline:
            time.sleep(0.05)
            left = [p for p in marked(marker) if p != proc.pid]
        if left:
            problems.append(f"processes {left} outlived the killed child")
            for pid in left:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
        else:
            gone += 1
        t_gone = time.monotonic()
        if db.exists():
            ok, lost = check_store(db, {a.message_id: a for a in case_acks})
        else:
            ok, lost = not case_acks, [f"{len(case_acks)} acknowledged, no database"]
            lost = lost if case_acks else []
        integrity += ok
        lost_total += sum(1 for line in lost if not line.startswith("integrity"))
        problems.extend(lost)
        if problems:
            failed += 1
            failures.append(f"case {case} ({moment.phase}, killed in {phase}): {problems[0]}")
        ctx.log(
            f"  case {case + 1}/{n}: killed in {phase} after {len(lines)} lines, "
            f"{len(case_acks)} acknowledged, {len(started)} processes, "
            f"{'ok' if not problems else 'FAILED'} "
            f"(killed at {t_kill - t0:.1f} s, engine gone {t_gone - t_kill:.1f} s later)"
        )
    # Later cases must not have damaged what earlier ones left.
    if db.exists():
        ok, lost = check_store(db, all_acks)
        if lost:
            failed += 1
            failures.append(f"after the last case: {lost[0]} ({len(lost)} in all)")
            lost_total += sum(1 for line in lost if not line.startswith("integrity"))
    spread = ", ".join(f"{v} in {k}" for k, v in sorted(phases.items()))
    measured = (
        f"{n:,} kills ({spread}), {acked:,} acknowledged, {lost_total:,} lost, "
        f"{integrity}/{n} integrity ok, {gone}/{n} engines gone"
    )
    return FaultRow(
        check="kill -9 while streaming",
        runs=n,
        failed=failed,
        goal=GOAL,
        measured=measured,
        details=describe(failures),
    )
