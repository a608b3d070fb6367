"""Tools on the command line: approval at a terminal or not, and the streamed reply."""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
from collections.abc import Iterator

import pytest

from desktop_app.cli.tools import add_tool_arguments, run_with_tools, terminal_approver
from desktop_app.core.engine.fake import FakeEngine
from desktop_app.core.engine.protocol import EngineConfig, Event, GenerateRequest, Message, ToolCall
from desktop_app.core.errors import InvalidRequestError
from desktop_app.core.sampling import SamplingParams
from desktop_app.core.tools.builtin.calculator import SPEC as CALC
from desktop_app.core.tools.spec import ToolSpec

REMOTE = ToolSpec(
    "delete_file",
    "Delete.",
    {"type": "object", "properties": {"name": {"type": "string"}}},
    source="mcp:notes",
)
CALL = ToolCall("delete_file", '{"name": "a.txt"}')


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_read_only_builtins_run_and_others_are_denied_without_a_terminal() -> None:
    err = io.StringIO()
    approve = terminal_approver(False, stdin=io.StringIO("y\n"), stderr=err)
    assert approve(CALC, ToolCall("calculator", "{}"))
    assert not approve(REMOTE, CALL)
    assert "not a terminal" in err.getvalue() and "--allow-tools" in err.getvalue()


def test_a_terminal_is_asked_and_only_yes_allows() -> None:
    err = io.StringIO()
    assert terminal_approver(False, stdin=Terminal("y\n"), stderr=err)(REMOTE, CALL)
    assert "Allow the tool delete_file (mcp:notes)" in err.getvalue()
    assert not terminal_approver(False, stdin=Terminal("\n"), stderr=err)(REMOTE, CALL)
    assert not terminal_approver(False, stdin=Terminal("no\n"), stderr=err)(REMOTE, CALL)


def test_allow_tools_allows_everything() -> None:
    assert terminal_approver(True, stdin=io.StringIO(""), stderr=io.StringIO())(REMOTE, CALL)


class ScriptedEngine(FakeEngine):
    def __init__(self, scripts: list[str]) -> None:
        super().__init__()
        self.scripts = list(scripts)
        self.load(EngineConfig("scripted.gguf"))

    def generate(self, request: GenerateRequest) -> Iterator[Event]:
        self.script = self.scripts.pop(0)
        return super().generate(request)


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", action="store_true")
    add_tool_arguments(parser)
    return parser.parse_args(list(argv))


def test_the_reply_streams_and_each_call_is_reported() -> None:
    engine = ScriptedEngine(
        [
            "<tool_call>",
            '\n{"name": "calculator", "arguments": {"expression": "6*7"}}\n</tool_call>',
            "It is 42.",
        ]
    )
    assert engine.loaded is not None
    out, err = io.StringIO(), io.StringIO()
    run_with_tools(
        _args("--tools", "calculator,datetime"),
        engine,
        engine.loaded,
        [Message("user", "6*7?")],
        SamplingParams(temperature=0.0),
        out=out,
        err=err,
    )
    assert out.getvalue() == "It is 42.\n"
    assert '[tool] calculator {"expression": "6*7"} → ok: 6*7 = 42' in err.getvalue()
    assert "[answer, 1 tool call]" in err.getvalue()


def test_json_lines_carry_tokens_calls_and_the_end() -> None:
    engine = ScriptedEngine(
        [
            "<tool_call>",
            '\n{"name": "calculator", "arguments": {"expression": "1+1"}}\n</tool_call>',
            "2",
        ]
    )
    assert engine.loaded is not None
    out = io.StringIO()
    run_with_tools(
        _args("--json", "--tools", "calculator"),
        engine,
        engine.loaded,
        [Message("user", "1+1?")],
        SamplingParams(temperature=0.0),
        out=out,
        err=io.StringIO(),
    )
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    kinds = [line["type"] for line in lines]
    assert "tool_call" in kinds and kinds[-1] == "done"
    call = next(line for line in lines if line["type"] == "tool_call")
    assert call["arguments"] == {"expression": "1+1"} and call["result"] == "1+1 = 2"
    assert {line["phase"] for line in lines if line["type"] == "token"} == {"call", "reply"}
    assert lines[-1]["tool_calls"] == 1 and lines[-1]["text"] == "2"


def test_bad_tool_options_are_refused_clearly() -> None:
    engine = ScriptedEngine(["x"])
    assert engine.loaded is not None
    with pytest.raises(InvalidRequestError, match="no built-in tool 'shell'"):
        run_with_tools(
            _args("--tools", "shell"), engine, engine.loaded, [Message("user", "x")],
            SamplingParams(),
        )  # fmt: skip
    with pytest.raises(InvalidRequestError, match="--max-tool-calls"):
        run_with_tools(
            _args("--tools", "calculator", "--max-tool-calls", "99"), engine, engine.loaded,
            [Message("user", "x")], SamplingParams(),
        )  # fmt: skip


def test_generate_lists_the_tool_options() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "desktop_app", "generate", "--help"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    for option in ("--tools", "--mcp", "--allow-tools", "--max-tool-calls"):
        assert option in out
