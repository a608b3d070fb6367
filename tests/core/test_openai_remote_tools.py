"""The remote engine with tools, against the loopback OpenAI-format server: tools and
tool_choice sent, tool_calls read from streamed deltas, the tool loop run on it, and
a server that refuses tools given them in the prompt format instead."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from remote_server import RemoteServer, running_server

from desktop_app.core.engine.openai_remote import OpenAIEngine
from desktop_app.core.engine.protocol import (
    DoneEvent,
    EngineConfig,
    ErrorEvent,
    Event,
    GenerateRequest,
    Message,
    TokenEvent,
    ToolCall,
)
from desktop_app.core.sampling import SamplingParams
from desktop_app.core.tools.builtin.calculator import calculator
from desktop_app.core.tools.loop import ToolLoop, next_turn

PARAMS = SamplingParams(temperature=0.0, max_tokens=50, seed=1)
CALC = calculator().spec.openai()
# A call streamed as vLLM and OpenAI stream it: id and name first, arguments in pieces.
STREAMED = [
    [{"index": 0, "id": "call_abc", "type": "function", "function": {"name": "calculator"}}],
    [{"index": 0, "function": {"arguments": '{"expr'}}],
    [{"index": 0, "function": {"arguments": 'ession": "6'}}],
    [{"index": 0, "function": {"arguments": '*7"}'}}],
]


@pytest.fixture
def server() -> Iterator[RemoteServer]:
    with running_server() as srv:
        yield srv


def engine(server: RemoteServer) -> OpenAIEngine:
    e = OpenAIEngine(server.url, timeout_s=10)
    e.load(EngineConfig("tiny"))
    return e


def run(e: OpenAIEngine, request: GenerateRequest) -> tuple[list[TokenEvent], DoneEvent]:
    events: list[Event] = list(e.generate(request))
    assert isinstance(events[-1], DoneEvent), events[-1]
    return [ev for ev in events if isinstance(ev, TokenEvent)], events[-1]


def test_tools_go_to_the_server_and_streamed_calls_come_back(server: RemoteServer) -> None:
    server.replies = [[]]
    server.tool_calls = [STREAMED]
    e = engine(server)
    history = (
        Message("user", "Earlier"),
        Message("assistant", "", tool_calls=(ToolCall("calculator", '{"expression": "1"}', "c1"),)),
        Message("tool", "1", tool_call_id="c1", name="calculator"),
        Message("user", "What is 6*7?"),
    )
    _, done = run(
        e, GenerateRequest(PARAMS, messages=history, tools=(CALC,), tool_choice="calculator")
    )
    assert done.tool_calls == (ToolCall("calculator", '{"expression": "6*7"}', "call_abc"),)
    assert done.note == "" and done.finish_reason == "eos"
    body = server.bodies[-1]
    assert body["tools"] == [CALC]
    assert body["tool_choice"] == {"type": "function", "function": {"name": "calculator"}}
    assert "grammar" not in body
    assistant, tool = body["messages"][1], body["messages"][2]
    assert assistant["tool_calls"][0]["id"] == "c1"
    assert assistant["tool_calls"][0]["function"]["name"] == "calculator"
    assert tool == {"role": "tool", "content": "1", "tool_call_id": "c1", "name": "calculator"}


def test_the_tool_loop_runs_on_the_server_without_a_grammar(server: RemoteServer) -> None:
    server.replies = [[], ["It", " is", " 42", "."]]
    server.tool_calls = [STREAMED]
    loop = ToolLoop(engine(server), [calculator()], template_has_tools=False)
    reply = loop.run([Message("user", "What is 6*7?")], PARAMS)
    [step] = reply.steps
    assert step.call.name == "calculator" and step.status == "ok"
    assert step.result.text.endswith("= 42")
    assert reply.text == "It is 42." and reply.finish == "answer"
    assert not any("grammar" in b for b in server.bodies)
    # The result went back as a tool message answering the server's call id, fenced.
    messages = server.bodies[-1]["messages"]
    assert messages[-2]["tool_calls"][0]["id"] == "call_abc"
    assert messages[-1]["role"] == "tool" and messages[-1]["tool_call_id"] == "call_abc"
    assert "= 42" in messages[-1]["content"] and "BEGIN result of" in messages[-1]["content"]
    assert all(b["tools"] == [CALC] for b in server.bodies)


def test_the_api_turn_takes_the_servers_call(server: RemoteServer) -> None:
    server.replies = [[]]
    server.tool_calls = [STREAMED]
    turn = next_turn(
        engine(server), [calculator().spec], [Message("user", "6*7?")], PARAMS,
        template_has_tools=False, tool_choice="required",
    )  # fmt: skip
    assert [c.name for c in turn.calls] == ["calculator"]
    assert server.bodies[-1]["tool_choice"] == "required"


def test_a_server_that_refuses_tools_gets_them_in_the_prompt(server: RemoteServer) -> None:
    server.refuse_tools = True
    call = '\n{"name": "calculator", "arguments": {"expression": "6*7"}}\n</tool_call>'
    server.replies = [["Let me compute. ", "<tool", "_call>", call], ["It is 42."]]
    shown: list[str] = []
    e = engine(server)
    loop = ToolLoop(
        e, [calculator()], template_has_tools=True, on_token=lambda n, p, ev: shown.append(ev.text)
    )
    reply = loop.run([Message("user", "What is 6*7?")], PARAMS)
    [step] = reply.steps
    assert step.call.name == "calculator" and step.result.text.endswith("= 42")
    assert reply.text == "It is 42."
    # The user is told, and the call's text never streamed as the reply's.
    assert reply.done is not None and "does not take tools" in reply.done.note
    assert "HTTP 400" in reply.done.note
    assert "".join(shown) == "Let me compute. It is 42."
    # Refused once, then every request carries the tools in the system message.
    assert e.tools_refused
    refused, *asked = server.bodies
    assert "tools" in refused and all("tools" not in b for b in asked)
    assert len(asked) == 2
    assert "<tools>" in asked[0]["messages"][0]["content"]
    last = asked[-1]["messages"]
    assert last[-2]["role"] == "assistant" and "<tool_call>" in last[-2]["content"]
    assert last[-1]["role"] == "user" and last[-1]["content"].startswith("<tool_response>")


def test_a_reply_that_only_looks_like_a_call_stays_text(server: RemoteServer) -> None:
    server.replies = [["<tool", "_call>", "not json", "</tool_call>"]]
    tokens, done = run(
        engine(server),
        GenerateRequest(PARAMS, messages=(Message("user", "Hi"),), tools=(CALC,)),
    )
    assert done.tool_calls == ()
    assert "".join(t.text for t in tokens) == "<tool_call>not json</tool_call>"


def test_call_arguments_that_are_not_an_object_are_a_clear_error(server: RemoteServer) -> None:
    server.replies = [[]]
    server.tool_calls = [
        [[{"index": 0, "id": "x", "function": {"name": "calculator", "arguments": "[1, 2"}}]]
    ]
    events = list(
        engine(server).generate(
            GenerateRequest(PARAMS, messages=(Message("user", "Hi"),), tools=(CALC,))
        )
    )
    assert isinstance(events[-1], ErrorEvent)
    assert "calculator" in events[-1].message and "not a JSON object" in events[-1].message


def test_without_tools_nothing_about_tools_is_sent(server: RemoteServer) -> None:
    run(engine(server), GenerateRequest(PARAMS, messages=(Message("user", "Hi"),)))
    assert "tools" not in server.bodies[-1] and "tool_choice" not in server.bodies[-1]
    json.dumps(server.bodies[-1])
