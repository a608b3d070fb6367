"""glassbox generate prints a reasoning model's thinking marked, or hides it."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest
from remote_server import RemoteServer, running_server

from desktop_app.cli import main
from desktop_app.cli.thinking_print import ThinkingPrinter
from desktop_app.core.engine.protocol import TokenEvent


@pytest.fixture
def server() -> Iterator[RemoteServer]:
    with running_server() as srv:
        srv.reply = ["Two", " and", " two", ".", "It", " is", " 4", "."]
        srv.reasoning_tokens = 4
        yield srv


def _generate(server: RemoteServer, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    argv = ["generate", "--engine", "openai", "--base-url", server.url, "--model", "default"]
    assert main([*argv, "--prompt", "2+2?", "--candidates", "2", *extra]) == 0
    return capsys.readouterr().out


def test_generate_marks_the_thinking_before_the_answer(
    server: RemoteServer, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _generate(server, capsys)
    assert out == "[thinking]\nTwo and two.\n[/thinking]\n\nIt is 4.\n"
    assert "chat_template_kwargs" not in server.bodies[-1]


def test_hide_thinking_prints_only_the_answer_and_the_switch_reaches_the_server(
    server: RemoteServer, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _generate(server, capsys, "--hide-thinking", "--thinking", "off")
    assert out == "It is 4.\n"
    assert server.bodies[-1]["chat_template_kwargs"] == {"enable_thinking": False}


def test_json_lines_mark_the_reasoning_tokens(
    server: RemoteServer, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [json.loads(x) for x in _generate(server, capsys, "--json").splitlines()]
    tokens = [x for x in lines if x["type"] == "token"]
    assert [t["text"] for t in tokens if t.get("thinking")] == [
        "<think>", "Two", " and", " two", ".", "</think>",
    ]  # fmt: skip
    assert [t["text"] for t in tokens if not t.get("thinking")] == ["It", " is", " 4", "."]
    assert lines[-1]["type"] == "done" and lines[-1]["reasoning_tokens"] == 4


def _tok(i: int, text: str) -> TokenEvent:
    return TokenEvent(i, i, text, 1.0, ())


def test_an_unclosed_block_the_prompt_opened_is_closed_in_print() -> None:
    out = io.StringIO()
    printer = ThinkingPrinter(opened=True, hide=False, json_lines=False, out=out)
    for i, text in enumerate(["Still", " thinking", "</th"]):
        printer.token(_tok(i, text))
    printer.finish()
    assert out.getvalue() == "[thinking]\nStill thinking</th\n[/thinking]\n"
    assert printer.reasoning == "Still thinking</th"


def test_a_reply_without_thinking_prints_as_before() -> None:
    out = io.StringIO()
    printer = ThinkingPrinter(opened=False, hide=True, json_lines=False, out=out)
    for i, text in enumerate(["<b>", "Hi", " <think>"]):
        printer.token(_tok(i, text))
    printer.finish()
    assert out.getvalue() == "<b>Hi <think>"
