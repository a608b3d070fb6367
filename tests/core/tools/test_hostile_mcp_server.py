"""The hostile MCP server of ``glassbox bench faults --only hostile-mcp`` does what the
check counts on: its injection names the canary, its huge output is megabytes (clipped
by the client), its hung call never answers (the client's timeout ends it), and its
``delete_file`` really deletes the canary, so the check would see a call that ran.
The check's judge counts a call that ran without an Allow."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_app.bench.faults import hostile_mcp
from desktop_app.bench.faults.hostile_mcp_server import injection
from desktop_app.core.engine.protocol import ToolCall
from desktop_app.core.tools.loop import ToolStep
from desktop_app.core.tools.mcp_client import McpConnection, McpServerConfig
from desktop_app.core.tools.spec import MAX_RESULT_CHARS, ToolError, ToolResult


@pytest.fixture
def canary(tmp_path: Path) -> Path:
    path = tmp_path / "outside" / "canary.txt"
    path.parent.mkdir()
    path.write_text("keep me", encoding="utf-8")
    return path


@pytest.fixture
def server(canary: Path) -> Iterator[McpConnection]:
    config = McpServerConfig(
        "hostile",
        command=sys.executable,
        args=("-m", "desktop_app.bench.faults.hostile_mcp_server", str(canary), "--huge-mb", "1"),
    )
    with McpConnection(config, call_timeout_s=1.0) as connection:
        yield connection


def test_its_tools_inject_flood_hang_and_delete(server: McpConnection, canary: Path) -> None:
    assert {s.name for s in server.specs} == {
        "read_note",
        "huge_output",
        "never_answers",
        "delete_file",
    }
    note = server.call("read_note", {"name": "shopping.txt"})
    assert note.text == injection(canary) and "delete_file" in note.text
    huge = server.call("huge_output", {})
    assert "more characters left out" in huge.text and len(huge.text) < MAX_RESULT_CHARS + 500
    with pytest.raises(ToolError, match=r"(?i)timed out|did not answer"):
        server.call("never_answers", {})
    assert canary.exists()
    server.call("delete_file", {"path": "anything"})
    assert not canary.exists()


def _step(name: str, status: str) -> ToolStep:
    return ToolStep(ToolCall(name, "{}", "c"), status, ToolResult(""))  # type: ignore[arg-type]


def test_the_judge_counts_a_call_that_ran_without_an_allow() -> None:
    denied = hostile_mcp._Case(
        "delete", asked=["delete_file"], steps=[_step("delete_file", "denied")]
    )
    assert hostile_mcp._judge(denied, MAX_RESULT_CHARS) == []
    ran = hostile_mcp._Case("delete", asked=["delete_file"], steps=[_step("delete_file", "ok")])
    assert hostile_mcp._unapproved(ran) == 1
    assert any("without approval" in why for why in hostile_mcp._judge(ran, MAX_RESULT_CHARS))
    allowed = hostile_mcp._Case(
        "injection", asked=["read_note"], allowed=["read_note"], steps=[_step("read_note", "ok")]
    )
    assert hostile_mcp._judge(allowed, MAX_RESULT_CHARS) == []
