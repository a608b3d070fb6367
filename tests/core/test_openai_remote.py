"""The remote engine against a small OpenAI-format server on loopback (no model).

The server speaks the streaming format with log-probabilities the way
llama.cpp servers do; its behaviour per test (drop mid-reply, go silent) is set
on the server object.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from remote_server import REPLY, RemoteServer, running_server

from desktop_app.core.engine.openai_remote import (
    REMOTE_LIMITS,
    OpenAIEngine,
    is_remote,
)
from desktop_app.core.engine.protocol import (
    DoneEvent,
    EngineConfig,
    ErrorEvent,
    GenerateRequest,
    Message,
    TokenEvent,
)
from desktop_app.core.errors import RemoteEngineError
from desktop_app.core.sampling import LLAMA_CPP_ORDER, SamplingParams


@pytest.fixture
def server() -> Iterator[RemoteServer]:
    with running_server() as srv:
        yield srv


def _loaded(server: RemoteServer, **kw: Any) -> OpenAIEngine:
    engine = OpenAIEngine(server.url, **kw)
    engine.load(EngineConfig(model_path="default"))
    return engine


CHAT = GenerateRequest(
    params=SamplingParams(temperature=0.5, top_k=10, top_p=0.9, min_p=0.1, seed=42, max_tokens=50),
    messages=(Message("user", "Hi"),),
    candidates=3,
)


def test_lists_models_and_loads_the_first_as_a_remote_backend(server):
    engine = OpenAIEngine(server.url)
    assert engine.list_models() == ["tiny", "other"]
    loaded = engine.load(EngineConfig(model_path="default"))
    assert loaded.model_path == "tiny"
    assert loaded.backend == f"openai:127.0.0.1:{server.server_address[1]}"
    assert is_remote(loaded)
    assert "Sampler stages" in REMOTE_LIMITS


def test_an_unknown_model_names_those_the_server_offers(server):
    with pytest.raises(RemoteEngineError, match="offers: tiny, other"):
        _loaded(server, model="missing")


def test_a_wrong_api_key_says_so(server):
    server.api_key = "secret"
    with pytest.raises(RemoteEngineError, match=r"HTTP 401: Invalid API key.*--api-key-file"):
        _loaded(server, api_key="wrong")
    assert _loaded(server, api_key="secret").model == "tiny"


def test_chat_streams_tokens_with_candidates_from_top_logprobs(server):
    events = list(_loaded(server).generate(CHAT))
    tokens = [e for e in events if isinstance(e, TokenEvent)]
    done = events[-1]
    assert [t.text for t in tokens] == REPLY
    assert [t.index for t in tokens] == list(range(len(REPLY)))
    for i, t in enumerate(tokens):
        assert t.p == pytest.approx(0.6)
        assert [c.text for c in t.candidates] == [REPLY[i], f"alt{i}a", f"alt{i}b"]
        assert [c.p_raw for c in t.candidates] == pytest.approx([0.6, 0.3, 0.1])
        # The drawn token is told apart from its alternatives by id.
        assert t.candidates[0].id == t.id
        assert len({c.id for c in t.candidates}) == 3
        assert all(c.removed_by is None for c in t.candidates)
    assert isinstance(done, DoneEvent)
    assert done.finish_reason == "eos" and done.completion_tokens == len(REPLY)
    assert done.text == "".join(REPLY) and done.seed == 42 and done.prompt_tokens == 7


def test_sampling_values_reach_the_server(server):
    list(_loaded(server).generate(CHAT))
    body = server.bodies[-1]
    assert body["stream"] is True and body["logprobs"] is True and body["top_logprobs"] == 3
    assert body["model"] == "tiny" and body["messages"] == [{"role": "user", "content": "Hi"}]
    assert body["temperature"] == 0.5 and body["top_p"] == 0.9 and body["seed"] == 42
    assert body["top_k"] == 10 and body["min_p"] == 0.1 and body["max_tokens"] == 50
    assert "mirostat" not in body and "samplers" not in body  # off: not sent


def test_the_newer_samplers_reach_a_llama_cpp_server_under_its_names(server):
    params = replace(
        CHAT.params,
        mirostat=2,
        dry_multiplier=0.8,
        typical_p=0.9,
        order=LLAMA_CPP_ORDER,
    )
    list(_loaded(server).generate(replace(CHAT, params=params)))
    body = server.bodies[-1]
    assert body["mirostat"] == 2 and body["mirostat_tau"] == 5.0 and body["typical_p"] == 0.9
    assert body["dry_multiplier"] == 0.8 and body["dry_sequence_breakers"] == ["\n", ":", '"', "*"]
    assert body["dry_penalty_last_n"] == -1
    assert body["samplers"][0] == "penalties" and body["samplers"][-1] == "temperature"
    assert "typ_p" in body["samplers"]


def test_candidates_are_capped_at_twenty_and_a_random_seed_is_reported(server):
    request = GenerateRequest(params=SamplingParams(max_tokens=3), prompt="Hi", candidates=50)
    events = list(_loaded(server).generate(request))
    body = server.bodies[-1]
    assert body["logprobs"] == 20 and body["prompt"] == "Hi"
    done = events[-1]
    assert isinstance(done, DoneEvent) and done.seed == body["seed"]


def test_a_raw_prompt_streams_from_completions(server):
    request = GenerateRequest(params=SamplingParams(max_tokens=3), prompt="Hi", candidates=3)
    events = list(_loaded(server).generate(request))
    tokens = [e for e in events if isinstance(e, TokenEvent)]
    assert [t.text for t in tokens] == REPLY[:3]
    assert [c.p_raw for c in tokens[1].candidates] == pytest.approx([0.6, 0.3, 0.1])
    done = events[-1]
    assert isinstance(done, DoneEvent) and done.finish_reason == "length"


def test_a_server_that_drops_mid_reply_gives_an_error_after_the_tokens(server):
    server.drop_after = 2
    events = list(_loaded(server).generate(CHAT))
    assert [e.text for e in events if isinstance(e, TokenEvent)] == REPLY[:2]
    error = events[-1]
    assert isinstance(error, ErrorEvent) and error.kind == "remote"
    assert "after 2 tokens" in error.message and "received so far is kept" in error.message


def test_a_silent_server_times_out_with_a_clear_message(server):
    server.stall_after, server.stall_s = 1, 3.0
    events = list(_loaded(server, timeout_s=0.5).generate(CHAT))
    assert [e.text for e in events if isinstance(e, TokenEvent)] == REPLY[:1]
    error = events[-1]
    assert isinstance(error, ErrorEvent) and error.kind == "remote"
    assert "no answer within 0.5 s" in error.message


def test_connection_refused_is_a_clear_error(server):
    port = server.server_address[1]
    server.shutdown()
    server.server_close()
    with pytest.raises(RemoteEngineError, match="connection refused"):
        OpenAIEngine(f"http://127.0.0.1:{port}").list_models()


def test_cancel_closes_the_stream_and_finishes_cancelled(server):
    server.stall_after, server.stall_s = 2, 20.0
    engine = _loaded(server)
    events = []
    start = time.monotonic()
    for event in engine.generate(CHAT):
        events.append(event)
        if isinstance(event, TokenEvent) and event.index == 1:
            threading.Timer(0.2, engine.cancel).start()
    assert time.monotonic() - start < 10.0  # not held until the stalled server speaks
    done = events[-1]
    assert isinstance(done, DoneEvent) and done.finish_reason == "cancelled"
    assert done.text == "".join(REPLY[:2])


def test_forcing_the_start_of_a_chat_reply_is_refused(server):
    request = GenerateRequest(messages=(Message("user", "Hi"),), assistant_prefix="Sure")
    events = list(_loaded(server).generate(request))
    assert len(events) == 1 and isinstance(events[0], ErrorEvent)
    assert events[0].kind == "invalid_request"


def test_cancel_before_the_first_byte_finishes_cancelled_not_an_error(server):
    import socket

    from desktop_app.core.engine.openai_remote import _endpoint

    engine = _loaded(server, timeout_s=20.0)
    # A server that takes the connection and never answers (the model still reading
    # the prompt): generate() waits in getresponse() when Stop is pressed.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        engine.endpoint = _endpoint(f"http://127.0.0.1:{silent.getsockname()[1]}/v1")
        threading.Timer(0.3, engine.cancel).start()
        start = time.monotonic()
        events = list(engine.generate(CHAT))
    assert time.monotonic() - start < 10.0
    assert len(events) == 1
    done = events[0]
    assert isinstance(done, DoneEvent) and done.finish_reason == "cancelled", done
    assert done.completion_tokens == 0 and done.text == ""
    assert engine._sock is None
