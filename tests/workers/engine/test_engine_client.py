"""The real engine process on a tiny random-weight GGUF written by the tests."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest
from gguf_factory import write_malformed, write_tiny_llama

from desktop_app.core.engine.protocol import (
    DoneEvent,
    EngineConfig,
    ErrorEvent,
    GenerateRequest,
    Message,
    TokenEvent,
)
from desktop_app.core.errors import ModelFileError
from desktop_app.core.sampling import SamplingParams
from desktop_app.workers.engine.client import EngineClient


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return write_tiny_llama(tmp_path_factory.mktemp("tiny") / "tiny.gguf", n_ctx=256)


@pytest.fixture(scope="module")
def client(tiny_model):
    c = EngineClient()
    c.load(EngineConfig(str(tiny_model), n_ctx=256, n_threads=1, n_threads_batch=1))
    yield c
    c.close()


def run(client, request):
    events = list(client.generate(request))
    tokens = [e for e in events if isinstance(e, TokenEvent)]
    return tokens, events[-1]


def sampled(seed, **kw):
    return SamplingParams(temperature=1.0, top_k=0, top_p=1.0, min_p=0.0, seed=seed, **kw)


def test_streams_tokens_with_candidates_and_ends_with_done(client):
    req = GenerateRequest(
        params=sampled(1, max_tokens=24), prompt="hello world", candidates=7, ignore_eos=True
    )
    tokens, done = run(client, req)
    assert isinstance(done, DoneEvent)
    assert done.finish_reason == "length"
    assert done.completion_tokens == len(tokens) == 24
    assert [t.index for t in tokens] == list(range(24))
    for t in tokens:
        ids = [c.id for c in t.candidates]
        assert 7 <= len(ids) <= 8 and t.id in ids
        p_raw = [c.p_raw for c in t.candidates[:7]]
        assert p_raw == sorted(p_raw, reverse=True)
        assert sum(p_raw) <= 1 + 1e-6
        assert sum(c.p_final for c in t.candidates) <= 1 + 1e-6
        drawn = next(c for c in t.candidates if c.id == t.id)
        assert drawn.p_final == pytest.approx(t.p) and drawn.removed_by is None
    assert done.text == "".join(t.text for t in tokens)


def test_same_seed_same_tokens(client):
    req = GenerateRequest(params=sampled(42, max_tokens=32), prompt="the model", ignore_eos=True)
    a, _ = run(client, req)
    b, _ = run(client, req)
    c, _ = run(
        client,
        GenerateRequest(params=sampled(43, max_tokens=32), prompt="the model", ignore_eos=True),
    )
    assert [t.id for t in a] == [t.id for t in b]
    assert [t.id for t in a] != [t.id for t in c]


def test_greedy_takes_the_argmax_of_raw_probability(client):
    req = GenerateRequest(
        params=SamplingParams.greedy(max_tokens=16), prompt="what is", ignore_eos=True
    )
    tokens, _ = run(client, req)
    for t in tokens:
        best = max(t.candidates, key=lambda c: c.p_raw)
        assert t.id == best.id and t.p == 1.0
        assert all(c.removed_by == "greedy" for c in t.candidates if c.id != t.id)


def test_stages_are_named_when_they_cut(client):
    params = SamplingParams(temperature=1.0, top_k=3, top_p=1.0, min_p=0.0, seed=1, max_tokens=4)
    tokens, _ = run(
        client, GenerateRequest(params=params, prompt="hello", candidates=10, ignore_eos=True)
    )
    for t in tokens:
        assert [c.removed_by for c in t.candidates[:10]].count("top_k") == 7


def test_chat_follow_up_evaluates_only_new_tokens(client):
    first = (Message("system", "be brief"), Message("user", "hello"))
    req = GenerateRequest(
        params=SamplingParams.greedy(max_tokens=8), messages=first, reuse_prefix=False
    )
    _tokens, done = run(client, req)
    assert done.prompt_tokens_reused == 0
    follow = (*first, Message("assistant", done.text), Message("user", "thanks"))
    _, done2 = run(
        client, GenerateRequest(params=SamplingParams.greedy(max_tokens=8), messages=follow)
    )
    assert done2.prompt_tokens > done.prompt_tokens
    assert done2.prompt_tokens_reused >= done.prompt_tokens - 1
    fresh = GenerateRequest(
        params=SamplingParams.greedy(max_tokens=8), messages=follow, reuse_prefix=False
    )
    _, done3 = run(client, fresh)
    assert done3.prompt_tokens_reused == 0


def test_stop_string_ends_the_reply_before_it(client):
    req = GenerateRequest(
        params=SamplingParams.greedy(max_tokens=40), prompt="hello", ignore_eos=True
    )
    _, done = run(client, req)
    text = done.text
    stop = text[len(text) // 2 : len(text) // 2 + 3]
    assert stop.strip(), text
    cut = text.index(stop)
    req2 = GenerateRequest(
        params=SamplingParams.greedy(max_tokens=40, stop=(stop,)), prompt="hello", ignore_eos=True
    )
    tokens, done2 = run(client, req2)
    assert done2.finish_reason == "stop"
    assert done2.text == text[:cut]
    assert "".join(t.text for t in tokens) == text[:cut]


def test_a_prompt_longer_than_the_context_is_refused_and_the_engine_goes_on(client):
    long_prompt = "hello world " * 400
    _, last = run(client, GenerateRequest(prompt=long_prompt))
    assert isinstance(last, ErrorEvent) and last.kind == "context_overflow"
    assert "context" in last.message
    tokens, done = run(
        client,
        GenerateRequest(params=SamplingParams.greedy(max_tokens=3), prompt="hi", ignore_eos=True),
    )
    assert isinstance(done, DoneEvent) and len(tokens) == 3


def test_a_chat_longer_than_the_context_drops_old_turns_but_keeps_the_system_prompt(client):
    turns = [Message("system", "be brief")]
    for i in range(12):
        turns += [
            Message("user", f"question {i} " + "word " * 20),
            Message("assistant", "answer " * 20),
        ]
    turns.append(Message("user", "last question"))
    _, done = run(
        client, GenerateRequest(params=SamplingParams.greedy(max_tokens=4), messages=tuple(turns))
    )
    assert isinstance(done, DoneEvent)
    assert done.dropped_messages > 0 and done.dropped_messages % 2 == 0
    assert done.prompt_tokens <= 256


def test_the_reply_stops_when_the_context_is_full(client):
    req = GenerateRequest(params=sampled(3, max_tokens=1000), prompt="hello", ignore_eos=True)
    tokens, done = run(client, req)
    assert done.finish_reason == "context_full"
    assert done.prompt_tokens + len(tokens) <= 256 + 1


def test_cancel_stops_the_stream_quickly(client):
    req = GenerateRequest(
        params=sampled(4, max_tokens=100_000 // 1000), prompt="hello", ignore_eos=True
    )
    seen = []
    start = None
    for event in client.generate(req):
        seen.append(event)
        if isinstance(event, TokenEvent) and start is None:
            start = time.monotonic()
            client.cancel()
    assert isinstance(seen[-1], DoneEvent)
    assert seen[-1].finish_reason == "cancelled"
    assert time.monotonic() - start < 0.5
    # The next request is served normally.
    _tokens, done = run(
        client,
        GenerateRequest(params=SamplingParams.greedy(max_tokens=2), prompt="hi", ignore_eos=True),
    )
    assert done.finish_reason == "length"


def test_a_killed_engine_reports_a_crash_and_the_next_request_restarts_it(tiny_model):
    with EngineClient() as c:
        c.load(EngineConfig(str(tiny_model), n_ctx=256, n_threads=1))
        pid = c.pid
        req = GenerateRequest(params=sampled(5, max_tokens=200), prompt="hello", ignore_eos=True)
        events = []
        for event in c.generate(req):
            events.append(event)
            if len(events) == 3:
                os.kill(pid, signal.SIGKILL)
        assert isinstance(events[-1], ErrorEvent)
        assert events[-1].kind == "engine_crashed"
        assert "SIGKILL" in events[-1].message
        tokens, done = run(
            c,
            GenerateRequest(
                params=SamplingParams.greedy(max_tokens=3), prompt="hi", ignore_eos=True
            ),
        )
        assert isinstance(done, DoneEvent) and len(tokens) == 3
        assert c.pid not in (None, pid)


def test_cancel_from_another_thread(client):
    req = GenerateRequest(params=sampled(6, max_tokens=200), prompt="hello", ignore_eos=True)
    timer = threading.Timer(0.0, client.cancel)
    events = []
    for event in client.generate(req):
        events.append(event)
        if len(events) == 1:
            timer.start()
    timer.join()
    assert events[-1].finish_reason in ("cancelled", "context_full")


@pytest.mark.parametrize(
    "kind", ["bad_magic", "truncated", "absurd_tensor_count", "unknown_arch", "empty"]
)
def test_malformed_files_are_refused_and_the_loaded_model_keeps_working(client, tmp_path, kind):
    bad = write_malformed(tmp_path / f"{kind}.gguf", kind)
    with pytest.raises(ModelFileError) as err:
        client.load(EngineConfig(str(bad), n_ctx=256))
    assert bad.name in str(err.value)
    tokens, done = run(
        client,
        GenerateRequest(params=SamplingParams.greedy(max_tokens=2), prompt="hi", ignore_eos=True),
    )
    assert isinstance(done, DoneEvent) and len(tokens) == 2


def test_a_model_without_template_gets_the_plain_chat_format(tmp_path):
    path = write_tiny_llama(tmp_path / "plain.gguf", chat_template=None)
    with EngineClient() as c:
        loaded = c.load(EngineConfig(str(path), n_ctx=256, n_threads=1))
        assert loaded.has_chat_template is False
        _, done = run(
            c,
            GenerateRequest(
                params=SamplingParams.greedy(max_tokens=4), messages=(Message("user", "hello"),)
            ),
        )
        assert isinstance(done, DoneEvent)


def test_generate_before_load_says_to_open_a_model():
    with EngineClient() as c:
        events = list(c.generate(GenerateRequest(prompt="hi")))
    assert isinstance(events[-1], ErrorEvent) and events[-1].kind == "no_model"


def test_unload_ends_the_engine_process_and_frees_the_model(tiny_model):
    with EngineClient() as c:
        c.load(EngineConfig(str(tiny_model), n_ctx=256, n_threads=1))
        assert c.pid is not None
        c.unload()
        assert c.pid is None
        events = list(c.generate(GenerateRequest(prompt="hi")))
        assert isinstance(events[-1], ErrorEvent) and events[-1].kind == "no_model"
