"""The engine process with the real Gemma 3 270M."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from desktop_app.core.engine.protocol import (
    DoneEvent,
    EngineConfig,
    ErrorEvent,
    GenerateRequest,
    PromptProgress,
    TokenEvent,
)
from desktop_app.core.sampling import SamplingParams
from desktop_app.workers.engine.client import EngineClient

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def client(gemma_path):
    c = EngineClient()
    c.load(EngineConfig(str(gemma_path), n_ctx=2048))
    yield c
    c.close()


def run(client, request):
    events = list(client.generate(request))
    return [e for e in events if isinstance(e, TokenEvent)], events[-1]


def test_streams_a_sensible_greedy_continuation_with_probabilities(client):
    req = GenerateRequest(
        params=SamplingParams.greedy(max_tokens=12),
        prompt="The capital of France is",
        candidates=20,
    )
    tokens, done = run(client, req)
    assert isinstance(done, DoneEvent) and done.completion_tokens == len(tokens) > 0
    assert "France" in done.text  # Gemma 270M: " the capital of the country of France…"
    for t in tokens:
        assert len(t.candidates) >= 20
        best = max(t.candidates, key=lambda c: c.p_raw)
        assert best.id == t.id  # greedy is the argmax of p_raw
        assert sum(c.p_raw for c in t.candidates) <= 1 + 1e-5
        assert 0 < t.p <= 1


def test_same_seed_same_reply_and_final_probabilities_sum_to_at_most_one(client):
    params = SamplingParams(temperature=0.9, seed=2024, max_tokens=24)
    req = GenerateRequest(params=params, prompt="Once upon a time", candidates=10)
    a, done_a = run(client, req)
    b, done_b = run(client, req)
    assert [t.id for t in a] == [t.id for t in b]
    assert done_a.seed == done_b.seed == 2024
    for t in a:
        assert sum(c.p_final for c in t.candidates) <= 1 + 1e-6
        assert any(c.id == t.id and c.p_final == pytest.approx(t.p) for c in t.candidates)


def test_chinese_text_streams_as_whole_characters(client):
    req = GenerateRequest(
        params=SamplingParams.greedy(max_tokens=24), prompt="大型语言模型是一种", candidates=5
    )
    tokens, done = run(client, req)
    assert "\ufffd" not in done.text
    assert done.text == "".join(t.text for t in tokens)


def test_cancel_during_a_long_prompt_evaluation_stops_within_half_a_second(gemma_path):
    with EngineClient() as c:
        c.load(EngineConfig(str(gemma_path), n_ctx=8192, n_batch=2048))
        prompt = "The history of language models. " * 900  # about 6,300 tokens
        req = GenerateRequest(params=SamplingParams.greedy(max_tokens=4), prompt=prompt)
        timer = threading.Timer(0.3, c.cancel)
        timer.start()
        start = time.monotonic()
        events = list(c.generate(req))
        cancelled_at = start + 0.3
        elapsed = time.monotonic() - cancelled_at
        assert isinstance(events[-1], DoneEvent) and events[-1].finish_reason == "cancelled"
        assert not any(isinstance(e, TokenEvent) for e in events)
        assert elapsed < 0.5, elapsed
        # Nothing half-evaluated is reused: the same prompt runs to the end next time.
        events = list(
            c.generate(GenerateRequest(params=SamplingParams.greedy(max_tokens=2), prompt="Hello"))
        )
        assert isinstance(events[-1], DoneEvent) and events[-1].finish_reason != "cancelled"


def test_long_prompts_report_progress(client):
    prompt = "A sentence about models. " * 120
    events = list(
        client.generate(
            GenerateRequest(
                params=SamplingParams.greedy(max_tokens=1), prompt=prompt, reuse_prefix=False
            )
        )
    )
    progress = [e for e in events if isinstance(e, PromptProgress)]
    assert progress and progress[-1].done == progress[-1].total


def test_context_overflow_is_a_clear_error(client):
    _, last = run(client, GenerateRequest(prompt="word " * 5000))
    assert isinstance(last, ErrorEvent) and last.kind == "context_overflow"
    assert "2048" in last.message


def test_engine_killed_mid_reply_then_restarts(gemma_path):
    with EngineClient() as c:
        c.load(EngineConfig(str(gemma_path), n_ctx=1024))
        events = []
        req = GenerateRequest(
            params=SamplingParams(seed=1, max_tokens=300), prompt="Story:", ignore_eos=True
        )
        for e in c.generate(req):
            events.append(e)
            if len(events) == 5:
                os.kill(c.pid, signal.SIGKILL)
        assert isinstance(events[-1], ErrorEvent) and events[-1].kind == "engine_crashed"
        _tokens, done = run(
            c, GenerateRequest(params=SamplingParams.greedy(max_tokens=4), prompt="Hello")
        )
        assert isinstance(done, DoneEvent)
