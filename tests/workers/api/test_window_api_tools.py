"""Tools through the window's API: ``tools`` and ``tool_choice`` in, ``tool_calls`` out,
on the window's own controller, by the same turn ``glassbox serve`` runs (``tool_turn``).

The engine is a ``FakeEngine`` that writes one scripted text per generation: the
free reply that starts a call, then the call written under the call grammar.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from desktop_app.core.engine.fake import FakeEngine
from desktop_app.core.engine.protocol import Event, GenerateRequest
from desktop_app.core.settings import Settings
from desktop_app.workers.api.window import WindowApi
from desktop_app.workers.engine.inference import InferenceController
from tests.workers.api.test_window_api import TIMEOUT_MS, TOKEN, client, in_thread

openai = pytest.importorskip("openai")

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
    """Writes ``scripts`` in turn, one per generation; keeps the requests."""

    def __init__(self, scripts: list[str]) -> None:
        super().__init__(delay_s=0.0)
        self.scripts = list(scripts)

    def generate(self, request: GenerateRequest) -> Iterator[Event]:
        self.script = self.scripts.pop(0) if self.scripts else "Done."
        return super().generate(request)


def window_api(
    qtbot: QtBot, tmp_path: Path, scripts: list[str]
) -> tuple[InferenceController, WindowApi, ScriptedEngine]:
    engine = ScriptedEngine(scripts)
    controller = InferenceController(
        lambda: engine,
        Settings(),
        settings_path=tmp_path / "settings.json",
        resolver=lambda spec, progress: Path(spec),
        remember_model=False,
    )
    with qtbot.waitSignal(controller.sig_model_loaded, timeout=TIMEOUT_MS):
        controller.load_model("fake.gguf")
    api = WindowApi(controller)
    api.start(0, token=TOKEN)
    return controller, api, engine


@pytest.fixture
def served(
    qtbot: QtBot, tmp_path: Path, glassbox_home: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[WindowApi, ScriptedEngine]]:
    controller, api, engine = window_api(qtbot, tmp_path, request.param)
    yield api, engine
    api.stop()
    assert controller.shutdown()


@pytest.mark.parametrize("served", [["<tool_call>", CALL]], indirect=True)
def test_a_call_comes_back_as_tool_calls(
    served: tuple[WindowApi, ScriptedEngine], qtbot: QtBot
) -> None:
    api, engine = served

    def call() -> Any:
        return client(api).chat.completions.create(
            model="fake.gguf", messages=[{"role": "user", "content": "Weather in Paris?"}],
            tools=[WEATHER], temperature=0,
        )  # fmt: skip

    reply = in_thread(qtbot, call)
    assert not isinstance(reply, Exception), reply
    choice = reply.choices[0]
    assert choice.finish_reason == "tool_calls"
    [made] = choice.message.tool_calls
    assert made.type == "function" and made.id.startswith("call_")
    assert made.function.name == "get_weather"
    assert json.loads(made.function.arguments) == {"city": "Paris"}
    # The call was written under the call grammar, as glassbox serve writes it.
    assert engine.requests[-1].grammar is not None


@pytest.mark.parametrize("served", [[CALL]], indirect=True)
def test_streamed_a_named_tool_choice_sends_the_call_in_a_delta(
    served: tuple[WindowApi, ScriptedEngine], qtbot: QtBot
) -> None:
    api, _engine = served

    def call() -> Any:
        return list(
            client(api).chat.completions.create(
                model="fake.gguf", messages=[{"role": "user", "content": "Weather?"}],
                tools=[WEATHER], stream=True, temperature=0,
                tool_choice={"type": "function", "function": {"name": "get_weather"}},
            )
        )  # fmt: skip

    chunks = in_thread(qtbot, call)
    assert not isinstance(chunks, Exception), chunks
    deltas = [c.choices[0].delta for c in chunks if c.choices]
    calls = [d.tool_calls for d in deltas if d.tool_calls]
    assert calls and calls[0][0].function.name == "get_weather"
    assert json.loads(calls[0][0].function.arguments) == {"city": "Paris"}
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


@pytest.mark.parametrize("served", [["It is sunny in Paris."]], indirect=True)
def test_the_clients_result_is_fenced_and_answered(
    served: tuple[WindowApi, ScriptedEngine], qtbot: QtBot
) -> None:
    api, engine = served
    messages = [
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
    ]

    def call() -> Any:
        return client(api).chat.completions.create(
            model="fake.gguf", messages=messages, tools=[WEATHER], temperature=0
        )

    reply = in_thread(qtbot, call)
    assert not isinstance(reply, Exception), reply
    assert reply.choices[0].finish_reason == "stop"
    assert reply.choices[0].message.content == "It is sunny in Paris."
    sent = engine.requests[-1].messages
    assert sent is not None
    assert "sunny, 21 C" in sent[-1].content and "BEGIN result of" in sent[-1].content


@pytest.mark.parametrize("served", [["unused"]], indirect=True)
def test_a_tool_choice_naming_no_given_tool_is_refused(
    served: tuple[WindowApi, ScriptedEngine], qtbot: QtBot
) -> None:
    api, _engine = served

    def call() -> Any:
        return client(api).chat.completions.create(
            model="fake.gguf", messages=[{"role": "user", "content": "Hi"}], tools=[WEATHER],
            tool_choice={"type": "function", "function": {"name": "delete_file"}},
        )  # fmt: skip

    refused = in_thread(qtbot, call)
    assert isinstance(refused, openai.BadRequestError)
