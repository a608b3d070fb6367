"""The Conversation dock: presets, reasoning, examples, knowledge and filters."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QDate, QDateTime, Qt, QTime
from PySide6.QtWidgets import QCheckBox, QDateEdit, QLineEdit, QListWidget
from pytestqt.qtbot import QtBot

from desktop_app.core.chat import prompting
from desktop_app.core.chat.store import ChatStore
from desktop_app.ui.chat.options import ChatOptionsPanel


def make_panel(qtbot: QtBot, tmp_path: Path) -> ChatOptionsPanel:
    store = ChatStore(tmp_path / "chats.sqlite3")
    panel = ChatOptionsPanel(store)
    qtbot.addWidget(panel)
    return panel


def named(panel: ChatOptionsPanel, kind: type, name: str):  # type: ignore[no-untyped-def]
    (found,) = [w for w in panel.findChildren(kind) if w.accessibleName() == name]
    return found


def test_presets_carry_the_system_prompt_and_sampling(qtbot: QtBot, tmp_path: Path) -> None:
    panel = make_panel(qtbot, tmp_path)
    panel.set_system_prompt("Be brief.")
    panel.save_preset("brief", {"temperature": 0.2})
    panel.set_system_prompt("")
    with qtbot.waitSignal(panel.sig_preset_applied) as blocker:
        panel.apply_preset("brief")
    assert panel.system_prompt() == "Be brief."
    assert dict(blocker.args[0].sampling) == {"temperature": 0.2}


def test_reasoning_and_examples(qtbot: QtBot, tmp_path: Path) -> None:
    panel = make_panel(qtbot, tmp_path)
    with qtbot.waitSignal(panel.sig_reasoning_changed) as blocker:
        panel.set_reasoning(prompting.REASONING_TWO_STAGE)
    assert blocker.args == [prompting.REASONING_TWO_STAGE]
    with qtbot.waitSignal(panel.sig_examples_changed) as blocker:
        panel.set_examples_text("User: 1+1?\nAssistant: 2")
    assert blocker.args == [[("1+1?", "2")]]


def test_knowledge_ticks_and_filters(qtbot: QtBot, tmp_path: Path) -> None:
    panel = make_panel(qtbot, tmp_path)
    panel.set_available_collections(["seeds", "notes"])
    items = named(panel, QListWidget, "Knowledge collections")
    with qtbot.waitSignal(panel.sig_knowledge_changed) as blocker:
        items.item(1).setCheckState(Qt.CheckState.Checked)
    assert blocker.args == [["notes"], 5, None, True]
    # Ticks survive a refreshed list.
    panel.set_available_collections(["notes", "new"])
    assert panel.attached_collections() == ["notes"]

    types = named(panel, QLineEdit, "Only file types")
    types.setText("pdf; md")
    with qtbot.waitSignal(panel.sig_filters_changed) as blocker:
        types.editingFinished.emit()
    assert blocker.args == [["pdf", "md"], "", None]
    named(panel, QDateEdit, "Modified since date").setDate(QDate(2026, 1, 31))
    with qtbot.waitSignal(panel.sig_filters_changed) as blocker:
        named(panel, QCheckBox, "Only files modified since").setChecked(True)
    expected = QDateTime(QDate(2026, 1, 31), QTime(0, 0)).toSecsSinceEpoch()
    assert blocker.args == [["pdf", "md"], "", float(expected)]
    # Showing a chat's filters emits nothing.
    with qtbot.assertNotEmitted(panel.sig_filters_changed):
        panel.set_filters(["txt"], "/docs", None)
    assert types.text() == "txt"
