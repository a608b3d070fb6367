"""The MCP client against a real MCP server written with the SDK (tests/mcp_notes_server.py).

The server runs as a child process over stdio, in a temporary folder; its hostile
modes check that a crash, a silence, garbage, a huge result or a result that asks
for another call end in a clear error or a bounded, fenced result, and that no
call runs without approval.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_app.core.engine.fake import FakeEngine
from desktop_app.core.engine.protocol import EngineConfig, Event, GenerateRequest, Message
from desktop_app.core.errors import InvalidRequestError
from desktop_app.core.sampling import SamplingParams
from desktop_app.core.tools.loop import ToolLoop
from desktop_app.core.tools.mcp_client import (
    McpConnection,
    McpServerConfig,
    load_config,
    parse_config,
)
from desktop_app.core.tools.spec import MAX_RESULT_CHARS, ToolError

SERVER = str(Path(__file__).resolve().parents[2] / "mcp_notes_server.py")


def _config(folder: Path, mode: str = "normal") -> McpServerConfig:
    return McpServerConfig(
        "notes", command=sys.executable, args=(SERVER, str(folder), "--mode", mode)
    )


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "a.txt").write_text("first note", encoding="utf-8")
    return folder


@pytest.fixture
def hostile(notes: Path) -> Iterator[McpConnection]:
    conn = McpConnection(_config(notes, "hostile"), call_timeout_s=2.0)
    conn.start()
    yield conn
    conn.close()


def test_tools_are_listed_with_description_and_schema_and_called(notes: Path) -> None:
    with McpConnection(_config(notes)) as conn:
        specs = {s.name: s for s in conn.specs}
        assert set(specs) == {"list_notes", "read_note", "write_note", "delete_file"}
        write = specs["write_note"]
        assert write.description == "Write a note."
        assert write.parameters["required"] == ["name", "text"]
        assert write.source == "mcp:notes" and not write.builtin
        assert conn.call("read_note", {"name": "a.txt"}).text == "first note"
        assert conn.call("write_note", {"name": "b.txt", "text": "two"}).text == "wrote b.txt"
        assert (notes / "b.txt").read_text(encoding="utf-8") == "two"
        error = conn.call("read_note", {"name": "../outside.txt"})
        assert error.is_error and "outside the notes folder" in error.text


def test_a_server_that_never_answers_a_call_times_out(hostile: McpConnection) -> None:
    with pytest.raises(ToolError, match="notes"):
        hostile.call("never_answers", {})
    # The session is still usable afterwards.
    assert "a.txt" in hostile.call("list_notes", {}).text


def test_a_hanging_call_is_cancelled_by_the_loops_stop(hostile: McpConnection) -> None:
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    with pytest.raises(ToolError, match="cancelled"):
        hostile.call("never_answers", {}, cancel)


def test_an_oversized_result_is_cut(hostile: McpConnection) -> None:
    result = hostile.call("huge_note", {})
    assert len(result.text) < MAX_RESULT_CHARS + 100
    assert "more characters left out" in result.text


def test_a_message_over_the_limit_is_not_read_and_ends_the_connection(notes: Path) -> None:
    # 5 MB of text (the SDK's server sends it twice) would be one parse holding the
    # interpreter, and the window with it; the call ends with why instead.
    with McpConnection(_config(notes, "hostile"), call_timeout_s=120.0) as conn:
        with pytest.raises(ToolError, match="over 4 MB, not read"):
            conn.call("flood_note", {})
        with pytest.raises(ToolError, match="is not running"):
            conn.call("list_notes", {})
    if sys.platform == "linux":
        assert _servers_over(notes) == []


def _servers_over(folder: Path) -> list[int]:
    """Process ids whose command line names ``folder`` (the test's servers)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if proc.name.isdigit() and str(folder).encode() in cmdline:
            found.append(int(proc.name))
    return found


def test_a_server_that_never_starts_gives_a_clear_error_and_is_ended(notes: Path) -> None:
    conn = McpConnection(_config(notes, "silent"), start_timeout_s=2.0)
    with pytest.raises(ToolError, match="did not start within 2 s"):
        conn.start()
    if sys.platform == "linux":
        assert _servers_over(notes) == []


def test_a_server_that_crashes_gives_a_clear_error(notes: Path) -> None:
    with McpConnection(_config(notes, "crash"), call_timeout_s=5.0) as conn:
        with pytest.raises(ToolError, match="notes"):
            conn.call("crash_now", {})
        with pytest.raises(ToolError):
            conn.call("list_notes", {})


def test_garbage_on_stdout_is_skipped_and_named(notes: Path) -> None:
    with McpConnection(_config(notes, "garbage")) as conn:
        assert conn.call("read_note", {"name": "a.txt"}).text == "first note"


def test_a_command_that_does_not_exist_gives_a_clear_error(tmp_path: Path) -> None:
    conn = McpConnection(McpServerConfig("nothing", command=str(tmp_path / "no-such-server")))
    with pytest.raises(ToolError, match="could not be started"):
        conn.start()


class ScriptedEngine(FakeEngine):
    def __init__(self, scripts: list[str]) -> None:
        super().__init__()
        self.scripts = list(scripts)
        self.load(EngineConfig("scripted.gguf"))

    def generate(self, request: GenerateRequest) -> Iterator[Event]:
        self.script = self.scripts.pop(0)
        return super().generate(request)


def test_a_hostile_result_triggers_no_call_without_approval(
    hostile: McpConnection, notes: Path
) -> None:
    engine = ScriptedEngine(
        [
            "<tool_call>",
            '\n{"name": "read_note", "arguments": {"name": "a.txt"}}\n</tool_call>',
            "<tool_call>",
            '\n{"name": "delete_file", "arguments": {"name": "a.txt"}}\n</tool_call>',
            "I will not.",
        ]
    )
    asked: list[str] = []

    def approve(spec, call):  # type: ignore[no-untyped-def]
        asked.append(call.name)
        return call.name == "read_note"  # the user allows the read, not the delete

    loop = ToolLoop(engine, hostile.tools(), template_has_tools=True, approve=approve)
    reply = loop.run([Message("user", "Read note a.txt")], SamplingParams(temperature=0.0))
    assert asked == ["read_note", "delete_file"]
    assert [s.status for s in reply.steps] == ["ok", "denied"]
    assert (notes / "a.txt").exists()
    fenced = reply.messages[1].content
    assert "ignore previous instructions" in fenced and "BEGIN result of read_note" in fenced
    assert sorted(p.name for p in notes.iterdir()) == ["a.txt"]


def test_configuration_files_in_both_forms(tmp_path: Path) -> None:
    path = tmp_path / "mcp.json"
    path.write_text(
        json.dumps(
            {
                "servers": [
                    {"name": "notes", "command": "python", "args": ["server.py"]},
                    {"name": "web", "url": "http://127.0.0.1:9/mcp", "token": "t"},
                ]
            }
        ),
        encoding="utf-8",
    )
    stdio, http = load_config(path)
    assert stdio.transport == "stdio" and stdio.args == ("server.py",)
    assert http.transport == "http" and http.token == "t"
    [other] = parse_config({"mcpServers": {"fs": {"command": "npx", "args": ["-y", "x"]}}})
    assert other.name == "fs"
    with pytest.raises(InvalidRequestError):
        parse_config({"servers": [{"name": "both", "command": "a", "url": "http://x"}]})
    with pytest.raises(InvalidRequestError):
        parse_config({"nothing": 1})


def test_closing_ends_the_server_process(notes: Path) -> None:
    conn = McpConnection(_config(notes))
    conn.start()
    before = threading.active_count()
    started = time.monotonic()
    conn.close()
    assert time.monotonic() - started < 10
    assert threading.active_count() < before
    if sys.platform == "linux":
        assert _servers_over(notes) == []


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_streamable_http_server_lists_and_calls_tools(notes: Path) -> None:
    import subprocess
    import urllib.error
    import urllib.request

    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, SERVER, str(notes), "--http", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}/mcp"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # until the server listens
            try:
                urllib.request.urlopen(url, timeout=1)
                break
            except urllib.error.HTTPError:
                break  # it answered (with an error for a bare GET): it listens
            except OSError:
                time.sleep(0.2)
        config = McpServerConfig("web-notes", url=url, token="secret-token")
        with McpConnection(config) as conn:
            assert {s.name for s in conn.specs} >= {"read_note", "write_note"}
            assert conn.specs[0].source == "mcp:web-notes"
            assert conn.call("read_note", {"name": "a.txt"}).text == "first note"
    finally:
        server.terminate()
        server.wait(10)


def test_an_http_server_that_is_not_there_gives_a_clear_error() -> None:
    config = McpServerConfig("gone", url=f"http://127.0.0.1:{_free_port()}/mcp")
    conn = McpConnection(config, start_timeout_s=5.0)
    with pytest.raises(ToolError, match="'gone'"):
        conn.start()
