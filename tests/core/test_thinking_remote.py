"""A remote server's reasoning field comes back as a <think> block with its tokens."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from remote_server import RemoteServer, running_server

from desktop_app.core.chat.thinking import split_reasoning
from desktop_app.core.engine.openai_remote import OpenAIEngine
from desktop_app.core.engine.protocol import (
    DoneEvent,
    EngineConfig,
    GenerateRequest,
    Message,
    TokenEvent,
)
from desktop_app.core.sampling import SamplingParams


@pytest.fixture
def server() -> Iterator[RemoteServer]:
    with running_server() as srv:
        yield srv


def _request(thinking: bool | None = None) -> GenerateRequest:
    return GenerateRequest(
        params=SamplingParams(seed=1, max_tokens=50),
        messages=(
            Message("user", "Q1"),
            Message("assistant", "A1", reasoning="old steps"),
            Message("user", "Q2"),
        ),
        candidates=3,
        thinking=thinking,
    )


def test_reasoning_content_becomes_a_think_block_keeping_each_tokens_alternatives(
    server: RemoteServer,
) -> None:
    server.reply = ["Let", " me", " add", "4", "."]
    server.reasoning_tokens = 3
    engine = OpenAIEngine(server.url)
    engine.load(EngineConfig(model_path="default"))
    events = list(engine.generate(_request()))
    tokens = [e for e in events if isinstance(e, TokenEvent)]
    assert [t.text for t in tokens] == ["<think>", "Let", " me", " add", "</think>", "4", "."]
    assert [t.index for t in tokens] == list(range(7))
    # The reasoning's tokens carry their alternatives like the answer's.
    assert [c.text for c in tokens[1].candidates] == ["Let", "alt0a", "alt0b"]
    done = events[-1]
    assert isinstance(done, DoneEvent)
    assert split_reasoning(done.text) == ("Let me add", "4.")
    # Earlier turns go out without their reasoning, and no switch unless one is set.
    body = server.bodies[-1]
    assert body["messages"][1] == {"role": "assistant", "content": "A1"}
    assert "chat_template_kwargs" not in body


def test_the_thinking_switch_reaches_the_server(server: RemoteServer) -> None:
    engine = OpenAIEngine(server.url)
    engine.load(EngineConfig(model_path="default"))
    list(engine.generate(_request(thinking=False)))
    assert server.bodies[-1]["chat_template_kwargs"] == {"enable_thinking": False}


def test_a_reply_that_is_all_reasoning_stays_an_unclosed_block(server: RemoteServer) -> None:
    server.reply = ["Hm", "m"]
    server.reasoning_tokens = 2
    engine = OpenAIEngine(server.url)
    engine.load(EngineConfig(model_path="default"))
    done = list(engine.generate(_request()))[-1]
    assert isinstance(done, DoneEvent)
    assert done.text == "<think>Hmm" and split_reasoning(done.text) == ("Hmm", "")
