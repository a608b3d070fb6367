"""Tools through the OpenAI API: ``tools`` and ``tool_choice`` in, ``tool_calls`` out.

The handler is the real one; the back end runs the model's next turn
(``tools.loop.next_turn``) on a scripted fake engine, as ``glassbox serve`` runs it
on the loaded model. The client runs the tools; the server never does.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from desktop_app.core.api.openai import chat_request, chat_tools
from desktop_app.core.engine.fake import FakeEngine
from desktop_app.core.engine.protocol import DraftSettings, EngineConfig, Event, GenerateRequest
from desktop_app.core.errors import InvalidRequestError
from desktop_app.core.tools.loop import next_turn
from desktop_app.workers.api.server import _Failure, _handler, _Job, _Result, _Server

TOKEN = "tools-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}
CALL = '\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'


class ScriptedEngine(FakeEngine):
    def __init__(self, scripts: list[str]) -> None:
        super().__init__()
        self.scripts = list(scripts)
        self.load(EngineConfig("fake.gguf"))

    def generate(self, request: GenerateRequest) -> Iterator[Event]:
        self.script = self.scripts.pop(0)
        return super().generate(request)


class ToolBackend:
    token: str | None = TOKEN
    loopback_only = True
    model_id = "fake.gguf"
    draft = DraftSettings()

    def __init__(self, scripts: list[str]) -> None:
        self.engine = ScriptedEngine(scripts)

    def models(self) -> list[dict[str, Any]]:
        return [{"id": self.model_id, "object": "model", "created": 0, "owned_by": "t"}]

    def enqueue(self, kind: str, payload: Any) -> _Job:
        job = _Job(kind, payload)
        assert kind == "tools"
        request, specs, choice = payload

        def run() -> None:
            try:
                turn = next_turn(
                    self.engine, specs, request.messages, request.params,
                    template_has_tools=True, tool_choice=choice,
                )  # fmt: skip
            except InvalidRequestError as exc:
                job.out.put(_Failure(exc))
                return
            job.out.put(_Result(turn))

        threading.Thread(target=run, daemon=True).start()
        return job

    def cancel(self, job: _Job) -> None:
        job.cancelled.set()


@contextlib.contextmanager
def serving(backend: ToolBackend) -> Iterator[int]:
    httpd = _Server(("127.0.0.1", 0), _handler(backend))
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield httpd.server_address[1]
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def post(port: int, body: dict[str, Any]) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        conn.request("POST", "/v1/chat/completions", json.dumps(body).encode(), AUTH)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def test_a_call_comes_back_as_tool_calls_in_openais_format() -> None:
    with serving(ToolBackend(["<tool_call>", CALL])) as port:
        status, raw = post(
            port,
            {
                "messages": [{"role": "user", "content": "Weather in Paris?"}],
                "tools": [WEATHER],
                "temperature": 0,
            },
        )
    assert status == 200, raw
    choice = json.loads(raw)["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    [call] = choice["message"]["tool_calls"]
    assert call["type"] == "function" and call["id"].startswith("call_")
    assert call["function"]["name"] == "get_weather"
    assert json.loads(call["function"]["arguments"]) == {"city": "Paris"}


def test_the_clients_tool_result_is_taken_back_and_fenced() -> None:
    backend = ToolBackend(["It is sunny in Paris."])
    body = {
        "messages": [
            {"role": "user", "content": "Weather in Paris?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "sunny, 21 C"},
        ],
        "tools": [WEATHER],
        "temperature": 0,
    }
    with serving(backend) as port:
        status, raw = post(port, body)
    assert status == 200, raw
    choice = json.loads(raw)["choices"][0]
    assert choice["finish_reason"] == "stop"
    assert choice["message"]["content"] == "It is sunny in Paris."
    messages = backend.engine.requests[0].messages
    assert messages is not None
    assert messages[-2].tool_calls[0].name == "get_weather"
    assert messages[-1].role == "tool" and messages[-1].name == "get_weather"
    assert "sunny, 21 C" in messages[-1].content and "BEGIN result of" in messages[-1].content


def test_streaming_sends_the_calls_in_a_delta() -> None:
    with serving(ToolBackend([CALL])) as port:
        status, raw = post(
            port,
            {
                "messages": [{"role": "user", "content": "Weather?"}],
                "tools": [WEATHER],
                "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
                "stream": True,
                "temperature": 0,
            },
        )
    assert status == 200
    events = [
        json.loads(line[6:]) for line in raw.decode().splitlines() if line.startswith("data: {")
    ]
    deltas = [e["choices"][0]["delta"] for e in events if e.get("choices")]
    calls = [d["tool_calls"] for d in deltas if "tool_calls" in d]
    assert calls and calls[0][0]["function"]["name"] == "get_weather"
    assert events[-1]["choices"][0]["finish_reason"] == "tool_calls"


def test_bad_tools_and_choices_are_refused() -> None:
    with pytest.raises(InvalidRequestError):
        chat_tools({"tools": [{"type": "retrieval"}]})
    with pytest.raises(InvalidRequestError):
        chat_tools({"tools": [WEATHER], "tool_choice": "sometimes"})
    with pytest.raises(InvalidRequestError):
        chat_tools(
            {"tools": [WEATHER], "tool_choice": {"type": "function", "function": {"name": "x"}}}
        )
    assert chat_tools({"messages": []}) == ((), "none")
    with pytest.raises(InvalidRequestError, match="tool_call_id"):
        chat_request({"messages": [{"role": "tool", "content": "x"}]})
