"""The Conversation panel's tool switches: built-in tools and MCP servers per chat,
saved with the chat, and a new chat starting from the settings."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from desktop_app.core.chat.store import ChatStore
from desktop_app.core.settings import Settings
from desktop_app.ui.chat import tool_steps
from desktop_app.ui.chat.options import ChatOptionsPanel
from desktop_app.ui.chat.session import ChatOptions


def test_ticking_tools_and_servers_edits_the_chats_options(qtbot: QtBot, tmp_path: Path) -> None:
    store = ChatStore(tmp_path / "chats.sqlite3")
    try:
        panel = ChatOptionsPanel(store)
        qtbot.addWidget(panel)
        panel.tools.server_names = lambda: ["notes", "wiki"]
        panel.set_options(ChatOptions(tools=["calculator"], tool_servers=["gone"]))
        box = panel.tools
        labels = [box.list.item(i).text() for i in range(box.list.count())]
        assert labels[:2] == ["Calculator", "Date and time"]
        # A server the chat uses stays listed after it was removed, to be unticked.
        assert labels[4:] == ["MCP server: notes", "MCP server: wiki", "MCP server: gone"]
        assert box.ticked() == (["calculator"], ["gone"])
        sent: list[ChatOptions] = []
        panel.sig_options_changed.connect(sent.append)
        box.list.item(1).setCheckState(Qt.CheckState.Checked)  # date and time
        box.list.item(4).setCheckState(Qt.CheckState.Checked)  # notes
        box.ask_check.setChecked(True)
        last = sent[-1]
        assert last.tools == ["calculator", "datetime"]
        assert last.tool_servers == ["notes", "gone"]
        assert last.tools_ask_builtin
        assert last.uses_tools and not last.knowledge_tool
    finally:
        store.close()


def test_tool_options_are_saved_with_the_chat_and_new_chats_start_from_settings() -> None:
    options = ChatOptions(
        tools=["knowledge"],
        collections=["docs"],
        tool_servers=["notes"],
        tool_files=["/tmp/a.txt"],
        tools_ask_builtin=True,
        tools_always=["read_note"],
    )
    assert ChatOptions.from_dict(options.to_dict()) == options
    assert options.knowledge_tool  # the model searches the collections itself
    old = ChatOptions.from_dict({"reasoning": "off"})  # a chat saved before tools
    assert not old.uses_tools
    settings = Settings(
        tools_builtin=["datetime"],
        tool_servers=[
            {"name": "notes", "command": "python3", "args": ["s.py"]},
            {"name": "off", "command": "python3", "enabled": False},
        ],
    )
    fresh = ChatOptions(tools_always=["x"], tool_files=["/tmp/b"])
    tool_steps.new_chat_tools(fresh, settings)
    assert fresh.tools == ["datetime"] and fresh.tool_servers == ["notes"]
    assert fresh.tools_always == [] and fresh.tool_files == []


def test_an_outcome_after_a_call_opened_with_a_fence_closes_it_first() -> None:
    # Qwen2.5-Coder-1.5B opens its calls with ``` (the decision token).
    assert tool_steps.close_fence('```\n{"name": "calculator"}\n</tool_call>') == "\n```"
    assert tool_steps.close_fence("```py\nx = 1\n```\nDone.") == ""
    assert tool_steps.close_fence("~~~~\nx\n~~~\n") == "\n~~~~"  # too short to close
    assert tool_steps.close_fence("No code here.") == ""
    # A result holding backticks gets a longer fence around it.
    assert tool_steps.fenced("a ``` b").startswith("````\n")
