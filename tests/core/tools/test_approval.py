"""The window's approval gate: the loop's thread waits for the user's answer."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from typing import Any

from desktop_app.core.engine.fake import FakeEngine
from desktop_app.core.engine.protocol import EngineConfig, Event, GenerateRequest, Message, ToolCall
from desktop_app.core.sampling import SamplingParams
from desktop_app.core.tools.approval import ApprovalGate, ApprovalRequest
from desktop_app.core.tools.builtin.calculator import SPEC as CALC
from desktop_app.core.tools.loop import ToolLoop
from desktop_app.core.tools.spec import FunctionTool, ToolResult, ToolSpec

NOTE = ToolSpec(
    "write_note",
    "Write a note.",
    {"type": "object", "properties": {"text": {"type": "string"}}},
    source="mcp:notes",
)
CALL = ToolCall("write_note", '{"text": "hi"}')


def _answer_with(gate: ApprovalGate, decision: str) -> list[ApprovalRequest]:
    asked: list[ApprovalRequest] = []

    def on_request(request: ApprovalRequest) -> None:
        asked.append(request)
        # As the GUI thread would, later, from elsewhere.
        threading.Timer(0.05, gate.decide, [decision]).start()

    gate.on_request = on_request
    return asked


def test_read_only_builtins_pass_without_asking() -> None:
    gate = ApprovalGate(on_request=lambda r: (_ for _ in ()).throw(AssertionError("asked")))
    assert gate.approve(CALC, ToolCall("calculator", "{}"))


def test_allow_once_asks_again_and_always_does_not() -> None:
    gate = ApprovalGate(on_request=lambda r: None)
    asked = _answer_with(gate, "once")
    assert gate.approve(NOTE, CALL) and gate.approve(NOTE, CALL)
    assert len(asked) == 2
    asked = _answer_with(gate, "always")
    assert gate.approve(NOTE, CALL) and gate.approve(NOTE, CALL)
    assert len(asked) == 1 and gate.always == {"write_note"}


def test_deny_and_stop_deny() -> None:
    gate = ApprovalGate(on_request=lambda r: None)
    _answer_with(gate, "deny")
    assert not gate.approve(NOTE, CALL)
    stopper = ApprovalGate(on_request=lambda r: threading.Timer(0.05, stopper.cancel).start())
    assert not stopper.approve(NOTE, CALL)
    assert not stopper.approve(NOTE, CALL)  # stopped: later calls are denied at once
    stopper.reset()
    _answer_with(stopper, "once")
    assert stopper.approve(NOTE, CALL)


class ScriptedEngine(FakeEngine):
    def __init__(self, scripts: list[str]) -> None:
        super().__init__()
        self.scripts = list(scripts)
        self.load(EngineConfig("scripted.gguf"))

    def generate(self, request: GenerateRequest) -> Iterator[Event]:
        self.script = self.scripts.pop(0)
        return super().generate(request)


def test_the_loop_waits_for_the_answer_and_runs_the_call_once_allowed() -> None:
    wrote: list[str] = []

    def write(arguments: Mapping[str, Any]) -> ToolResult:
        wrote.append(arguments["text"])
        return ToolResult("ok")

    tool = FunctionTool(NOTE, write)
    engine = ScriptedEngine(
        [
            "<tool_call>",
            '\n{"name": "write_note", "arguments": {"text": "hi"}}\n</tool_call>',
            "Done.",
        ]
    )
    gate = ApprovalGate(on_request=lambda r: None)
    asked = _answer_with(gate, "once")
    reply = ToolLoop(engine, [tool], template_has_tools=True, approve=gate.approve).run(
        [Message("user", "Note hi")], SamplingParams(temperature=0.0)
    )
    assert [r.call.name for r in asked] == ["write_note"]
    assert wrote == ["hi"] and reply.steps[0].status == "ok"
