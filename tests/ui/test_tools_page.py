"""Settings → Tools: built-in tools and the most calls per reply saved, MCP servers
added, edited and removed, and a real MCP server (tests/mcp_notes_server.py) started
on a worker thread to list its tools; a broken or silent one shows a clear error."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QDialogButtonBox, QLineEdit
from pytestqt.qtbot import QtBot

from desktop_app.core.engine.fake import FakeEngine
from desktop_app.core.errors import InvalidRequestError
from desktop_app.core.settings import Settings, load_settings
from desktop_app.ui.window.settings_dialog import SettingsDialog
from desktop_app.ui.window.tools_page import McpServerDialog, ToolsPage, parse_env
from desktop_app.workers.engine.inference import InferenceController

TIMEOUT_MS = 60_000
SERVER = str(Path(__file__).resolve().parents[1] / "mcp_notes_server.py")


@pytest.fixture
def controller(qtbot: QtBot, tmp_path: Path) -> Iterator[InferenceController]:
    c = InferenceController(
        FakeEngine,
        Settings(),
        settings_path=tmp_path / "settings.json",
        resolver=lambda spec, progress: Path(spec),
    )
    with qtbot.waitSignal(c.sig_model_loaded, timeout=TIMEOUT_MS):
        c.load_model("fake.gguf")
    yield c
    assert c.shutdown()


@pytest.fixture
def dialog(qtbot: QtBot, controller: InferenceController) -> SettingsDialog:
    d = SettingsDialog(controller, restart=lambda: None)
    qtbot.addWidget(d)
    return d


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "a.txt").write_text("first note", encoding="utf-8")
    return folder


def add_server(qtbot: QtBot, page: ToolsPage, **fields: str) -> McpServerDialog:
    """Click Add…, fill the dialog's fields and press OK; returns the dialog."""
    page.add_button.click()
    dialog = page.server_dialog
    assert dialog is not None and dialog.isVisible()
    if "url" in fields:
        dialog.http_radio.setChecked(True)
    for name, value in fields.items():
        widget = getattr(dialog, name)
        if isinstance(widget, QLineEdit):
            widget.setText(value)
        else:
            widget.setPlainText(value)
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    return dialog


def test_built_in_tools_steps_and_servers_are_saved(
    qtbot: QtBot, dialog: SettingsDialog, controller: InferenceController, tmp_path: Path
) -> None:
    page = dialog.tools_page
    assert dialog.tabs.tabText(dialog.tabs.indexOf(page)) == "Tools"
    # The defaults: no built-in tool in a new chat, four calls.
    assert page.builtin_tools() == []
    assert page.max_steps.value() == 4
    page.builtin["datetime"].setChecked(True)
    page.builtin["knowledge"].setChecked(True)
    page.max_steps.setValue(7)
    add_server(
        qtbot, page, name="notes", command=sys.executable, args=f'"{SERVER}" "/tmp/my notes"',
        env="NOTES_MODE=normal\n# a comment\n", cwd=str(tmp_path),
    )  # fmt: skip
    web = add_server(qtbot, page, name="web", url="https://example.org/mcp", token="s3cret")
    # The token is typed masked and never shown in the list.
    assert web.token.echoMode() == QLineEdit.EchoMode.Password
    labels = [page.server_list.item(i).text() for i in range(page.server_list.count())]
    assert len(labels) == 2 and "example.org" in labels[1]
    assert not any("s3cret" in label for label in labels)
    assert dialog.apply()

    saved = load_settings(tmp_path / "settings.json")
    assert saved.tools_builtin == ["datetime", "knowledge"]
    assert saved.tools_max_steps == 7
    stdio, http = saved.mcp_servers()
    assert stdio.command == sys.executable and stdio.args == (SERVER, "/tmp/my notes")
    assert stdio.env == {"NOTES_MODE": "normal"} and stdio.cwd == str(tmp_path)
    assert http.url == "https://example.org/mcp" and http.token == "s3cret"

    # A new dialog shows what was saved; editing and removing change it.
    again = SettingsDialog(controller, restart=lambda: None)
    qtbot.addWidget(again)
    page = again.tools_page
    assert page.builtin_tools() == ["datetime", "knowledge"] and page.max_steps.value() == 7
    page.server_list.setCurrentRow(1)
    page.edit_button.click()
    editor = page.server_dialog
    assert editor is not None and editor.http_radio.isChecked()
    assert editor.token.text() == "s3cret"
    editor.url.setText("https://example.org/v2/mcp")
    editor.enabled.setChecked(False)
    editor.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    page.server_list.setCurrentRow(0)
    page.remove_button.click()
    assert again.apply()
    [only] = load_settings(tmp_path / "settings.json").mcp_servers()
    assert only.name == "web" and only.url.endswith("/v2/mcp") and not only.enabled


def test_bad_server_fields_get_a_message_and_keep_the_dialog_open(
    qtbot: QtBot, dialog: SettingsDialog
) -> None:
    page = dialog.tools_page
    add_server(qtbot, page, name="notes", command="python")
    bad = add_server(qtbot, page, name="notes", command="python")  # the same name
    assert bad.isVisible() and "notes" in bad.error.text()
    bad.name.setText("two words")
    bad.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    assert bad.isVisible() and "two words" in bad.error.text()
    bad.name.setText("web")
    bad.http_radio.setChecked(True)
    bad.url.setText("ftp://example.org")
    bad.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    assert bad.isVisible() and "http" in bad.error.text()
    bad.reject()
    assert page.server_list.count() == 1
    with pytest.raises(InvalidRequestError, match="NAME=value"):
        parse_env("NOVALUE")


def test_a_real_server_lists_its_tools_with_descriptions_and_schemas(
    qtbot: QtBot, dialog: SettingsDialog, notes: Path
) -> None:
    page = dialog.tools_page
    add_server(qtbot, page, name="notes", command=sys.executable, args=f'"{SERVER}" "{notes}"')
    # The GUI thread keeps running while the server starts: a timer keeps ticking.
    ticks = [0]
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.__setitem__(0, ticks[0] + 1))
    timer.start(10)
    with qtbot.waitSignal(page.sig_listed, timeout=TIMEOUT_MS):
        page.test_button.click()
        assert not page.test_button.isEnabled()
    timer.stop()
    assert ticks[0] > 0
    assert page.test_button.isEnabled()
    text = page.tools_view.toPlainText()
    for name in ("list_notes", "read_note", "write_note", "delete_file"):
        assert name in text
    assert "Write a note." in text
    assert '"required": [' in text and '"text"' in text
    assert "offers 4 tools" in page.status.text()


def test_a_broken_command_and_a_silent_server_give_clear_errors(
    qtbot: QtBot, dialog: SettingsDialog, notes: Path
) -> None:
    page = dialog.tools_page
    page.start_timeout_s = 3.0
    broken = "import sys; sys.stderr.write('<b>no such config</b>'); sys.exit(3)"
    add_server(qtbot, page, name="broken", command=sys.executable, args=f'-c "{broken}"')
    with qtbot.waitSignal(page.sig_listed, timeout=TIMEOUT_MS):
        page.test_button.click()
    status = page.status.text()
    assert "broken" in status and "<b>no such config</b>" in status  # shown as plain text
    assert page.tools_view.toPlainText() == ""

    add_server(
        qtbot, page, name="silent", command=sys.executable,
        args=f'"{SERVER}" "{notes}" --mode silent',
    )  # fmt: skip
    page.server_list.setCurrentRow(1)
    with qtbot.waitSignal(page.sig_listed, timeout=TIMEOUT_MS):
        page.test_button.click()
    assert "silent" in page.status.text() and "did not start within 3 s" in page.status.text()
    assert page.test_button.isEnabled()


def test_the_server_list_shows_json_entries_as_the_mcp_file_writes_them() -> None:
    from desktop_app.core.tools.mcp_client import parse_config
    from desktop_app.ui.window.tools_page import server_entry

    entries = [
        {"name": "a", "command": "uvx", "args": ["x", "y z"], "env": {"K": "v"}, "cwd": "/t"},
        {"name": "b", "url": "http://127.0.0.1:1/mcp", "token": "t", "enabled": False},
    ]
    configs = parse_config({"servers": entries})
    assert [server_entry(c) for c in configs] == entries
    json.dumps(entries)  # what the settings file holds


def test_a_streamable_http_server_with_a_token_lists_its_tools(
    qtbot: QtBot, dialog: SettingsDialog, notes: Path
) -> None:
    import socket
    import subprocess
    import time
    import urllib.error
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    server = subprocess.Popen(
        [sys.executable, SERVER, str(notes), "--http", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}/mcp"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # until the server listens
            try:
                urllib.request.urlopen(url, timeout=1)
                break
            except urllib.error.HTTPError:
                break  # it answered (with an error for a bare GET): it listens
            except OSError:
                time.sleep(0.2)
        page = dialog.tools_page
        add_server(qtbot, page, name="web-notes", url=url, token="secret-token")
        assert "secret-token" not in page.server_list.item(0).text()
        with qtbot.waitSignal(page.sig_listed, timeout=TIMEOUT_MS):
            page.test_button.click()
        assert "offers 4 tools" in page.status.text(), page.status.text()
        assert "read_note" in page.tools_view.toPlainText()
    finally:
        server.terminate()
        server.wait(10)
