"""Cancel at random points: the engine stops quickly and the next reply is unchanged.

One engine process with Gemma 3 270M. A reference is computed first: the greedy
reply to a fixed short prompt. Then each case sends a request and cancels it at
a random moment, alternating

* a long prompt (1,500 to 3,000 tokens of varied words, never a prefix of the last
  one), cancelled after a random delay: during prompt evaluation, where llama.cpp
  evaluates a batch of 512 tokens at a time and only its abort callback can stop it;
* a long generation (a short prompt, no end of sequence), cancelled right after its
  first token or after a random number of tokens (mid-stream).

The time from the ``cancel()`` call to the client seeing the request end is the
figure; the engine must end the request itself (the client kills an engine that has
not stopped 350 ms after a cancel, which counts as a miss), and the reference prompt
sent next must get exactly the reference reply.
"""

from __future__ import annotations

import random
import statistics
import threading
import time

from desktop_app.bench.faults import FaultContext, FaultRow, describe
from desktop_app.core.engine.protocol import (
    DoneEvent,
    EngineConfig,
    ErrorEvent,
    GenerateRequest,
    TokenEvent,
)
from desktop_app.core.sampling import SamplingParams
from desktop_app.workers.engine.client import EngineClient

#: The goal, in milliseconds from the cancel call to the request's end.
GOAL_MS = 500.0

REFERENCE = GenerateRequest(
    params=SamplingParams.greedy(max_tokens=8),
    prompt="The three primary colours are",
    candidates=0,
)

#: A cancel not answered by then was lost: it is sent again so the case can end.
_LOST_S = 3.0

_VOCABULARY = (
    "river stone light quantum garden market history engine silver music winter ocean "
    "theory paper lantern harbour forest signal copper meadow thunder library mirror "
    "orchard canyon velvet compass glacier ember falcon prism saddle tundra violin "
    "whisper almond bridge cobalt desert fable granite horizon island jasmine kettle"
)
_WORDS = _VOCABULARY.split()


def _long_prompt(rng: random.Random) -> str:
    """About 1,500 to 3,000 tokens of random words in short sentences."""
    sentences = []
    for _ in range(rng.randint(190, 380)):
        words = [rng.choice(_WORDS) for _ in range(rng.randint(5, 10))]
        sentences.append(" ".join(words).capitalize() + ".")
    return " ".join(sentences)


def _stream_prompt(rng: random.Random) -> str:
    return f"Story number {rng.randint(1, 10**6)} about the {rng.choice(_WORDS)}:"


def run(ctx: FaultContext) -> FaultRow:
    """Cancel ``ctx.n(100, 5)`` requests at random points, check each next reply."""
    rng = ctx.rng()
    cases = ctx.n(100, 5)
    latencies: list[float] = []
    failures: list[str] = []
    failed_cases: set[int] = set()
    where: dict[str, int] = {"prompt": 0, "first token": 0, "mid-stream": 0}
    identical = 0
    kills = 0
    with EngineClient() as client:
        client.load(EngineConfig(str(ctx.model()), n_ctx=4096))
        reference = _reply(client, REFERENCE)
        if reference is None:
            return FaultRow(
                check="cancel at random points",
                runs=0,
                failed=1,
                goal="stops within 500 ms; the next reply correct",
                measured="the reference reply failed",
            )
        for i in range(cases):
            pid = client.pid
            if i % 2 == 0:
                request = GenerateRequest(
                    params=SamplingParams(seed=i, max_tokens=1000),
                    prompt=_long_prompt(rng),
                    ignore_eos=True,
                    candidates=0,
                )
                delay = rng.uniform(0.0, 1.0)
                after_tokens = None
            else:
                request = GenerateRequest(
                    params=SamplingParams(seed=i, max_tokens=2000),
                    prompt=_stream_prompt(rng),
                    ignore_eos=True,
                )
                delay = None
                after_tokens = 1 if rng.random() < 0.5 else rng.randint(2, 30)
            outcome = _cancel_one(client, request, delay, after_tokens)
            label = f"case {i} ({outcome.where})"
            if outcome.where in where:
                where[outcome.where] += 1
            missed: list[str] = []
            if outcome.error:
                missed.append(outcome.error)
            if outcome.latency_ms is not None:
                latencies.append(outcome.latency_ms)
                if outcome.latency_ms > GOAL_MS:
                    missed.append(f"the request ended {outcome.latency_ms:.0f} ms after the cancel")
            if client.pid != pid:
                kills += 1
                missed.append("the engine did not stop by itself and was killed")
            reply = _reply(client, REFERENCE)
            if reply == reference:
                identical += 1
            else:
                missed.append(f"the next reply was {reply!r}, not {reference!r}")
            if missed:
                failed_cases.add(i)
                failures.append(f"{label}: " + "; ".join(missed))
            ctx.log(
                f"[cancel] {i + 1}/{cases} {outcome.where}: "
                f"{outcome.latency_ms or 0:.0f} ms, next reply "
                f"{'identical' if reply == reference else 'DIFFERENT'}"
            )
    measured = (
        f"{cases} cancels ({where['prompt']} during prompt evaluation, "
        f"{where['first token']} after the first token, {where['mid-stream']} mid-stream): "
        f"{_ms_figures(latencies)}, {identical}/{cases} next replies identical, "
        f"{kills} engine kills"
    )
    return FaultRow(
        check="cancel at random points",
        runs=cases,
        failed=len(failed_cases),
        goal="stops within 500 ms; the next reply correct",
        measured=measured,
        details=describe(failures),
    )


class _Outcome:
    __slots__ = ("error", "latency_ms", "where")

    def __init__(self, where: str, latency_ms: float | None, error: str = "") -> None:
        self.where = where
        self.latency_ms = latency_ms
        self.error = error


def _cancel_one(
    client: EngineClient,
    request: GenerateRequest,
    delay: float | None,
    after_tokens: int | None,
) -> _Outcome:
    """Send ``request``, cancel it after ``delay`` seconds or ``after_tokens`` tokens."""
    cancelled_at: list[float] = []
    tokens_at_cancel: list[int] = []
    n_tokens = 0

    def cancel() -> None:
        tokens_at_cancel.append(n_tokens)
        cancelled_at.append(time.perf_counter())
        client.cancel()

    stop = threading.Event()

    def cancel_later(delay: float) -> None:
        # The client resets the cancel byte when it takes a request: wait until it
        # holds the request (its lock), so the cancel is not undone before it counts.
        while not client._lock.locked():
            if stop.wait(0.001):
                return
        if not stop.wait(delay):
            cancel()

    timer = None
    if delay is not None:
        timer = threading.Thread(target=cancel_later, args=(delay,), daemon=True)
        timer.start()
    last: object = None
    lost = False
    try:
        for event in client.generate(request):
            last = event
            if isinstance(event, TokenEvent):
                n_tokens += 1
                if after_tokens is not None and n_tokens == after_tokens and not cancelled_at:
                    cancel()
            if cancelled_at and not lost and time.perf_counter() - cancelled_at[0] > _LOST_S:
                lost = True
                client.cancel()
    finally:
        stop.set()
        if timer is not None:
            timer.join()
    end = time.perf_counter()
    if not cancelled_at:
        return _Outcome("too late", None, "the request ended before the cancel")
    latency = (end - cancelled_at[0]) * 1000
    seen = tokens_at_cancel[0]
    where = "prompt" if seen == 0 else "first token" if seen == 1 else "mid-stream"
    if lost:
        return _Outcome(where, latency, "the cancel was lost: the request went on")
    if isinstance(last, ErrorEvent):
        return _Outcome(where, latency, f"ended with an error: {last.message}")
    if not isinstance(last, DoneEvent) or last.finish_reason != "cancelled":
        reason = last.finish_reason if isinstance(last, DoneEvent) else type(last).__name__
        return _Outcome(where, latency, f"ended as {reason!r}, not cancelled")
    return _Outcome(where, latency)


def _reply(client: EngineClient, request: GenerateRequest) -> str | None:
    """The text of a finished reply, or None if it failed."""
    last = None
    for event in client.generate(request):
        last = event
    if isinstance(last, DoneEvent) and last.finish_reason in ("eos", "length", "stop"):
        return last.text
    return None


def _ms_figures(values: list[float]) -> str:
    if not values:
        return "no cancel measured"
    return f"p50 {statistics.median(values):.0f} ms, max {max(values):.0f} ms"
