"""The Conversation dock: presets, reasoning, examples, knowledge and filters."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import QDate, QDateTime, Qt, QTime
from PySide6.QtWidgets import QCheckBox, QDateEdit, QLineEdit, QListWidget
from pytestqt.qtbot import QtBot

from desktop_app.core.chat import prompting
from desktop_app.core.chat.store import ChatStore
from desktop_app.ui.chat.options import ChatOptionsPanel
from desktop_app.ui.chat.session import ChatOptions


@pytest.fixture(autouse=True)
def stores() -> Iterator[list[ChatStore]]:
    """Every store a panel was given, closed when the test ends."""
    opened: list[ChatStore] = []
    yield opened
    for store in opened:
        store.close()


def make_panel(qtbot: QtBot, tmp_path: Path, stores: list[ChatStore]) -> ChatOptionsPanel:
    store = ChatStore(tmp_path / "chats.sqlite3")
    stores.append(store)
    panel = ChatOptionsPanel(store)
    qtbot.addWidget(panel)
    return panel


def named(panel: ChatOptionsPanel, kind: type, name: str):  # type: ignore[no-untyped-def]
    (found,) = [w for w in panel.findChildren(kind) if w.accessibleName() == name]
    return found


def test_presets_carry_the_system_prompt_and_sampling(
    qtbot: QtBot, tmp_path: Path, stores: list[ChatStore]
) -> None:
    panel = make_panel(qtbot, tmp_path, stores)
    panel.set_system_prompt("Be brief.")
    panel.save_preset("brief", {"temperature": 0.2})
    panel.set_system_prompt("")
    with qtbot.waitSignal(panel.sig_preset_applied) as blocker:
        panel.apply_preset("brief")
    assert panel.system_prompt() == "Be brief."
    assert dict(blocker.args[0].sampling) == {"temperature": 0.2}


def test_reasoning_and_examples(qtbot: QtBot, tmp_path: Path, stores: list[ChatStore]) -> None:
    panel = make_panel(qtbot, tmp_path, stores)
    with qtbot.waitSignal(panel.sig_options_changed) as blocker:
        panel.set_reasoning(prompting.REASONING_TWO_STAGE)
    assert blocker.args == [ChatOptions(reasoning=prompting.REASONING_TWO_STAGE)]
    with qtbot.waitSignal(panel.sig_options_changed) as blocker:
        panel.set_examples_text("User: 1+1?\nAssistant: 2")
    # The whole record: the reasoning chosen before is kept.
    assert blocker.args == [
        ChatOptions(reasoning=prompting.REASONING_TWO_STAGE, examples=[("1+1?", "2")])
    ]


def test_showing_a_chats_options_sends_nothing_and_edits_keep_the_rest(
    qtbot: QtBot, tmp_path: Path, stores: list[ChatStore]
) -> None:
    panel = make_panel(qtbot, tmp_path, stores)
    shown = ChatOptions(
        reasoning=prompting.REASONING_STEP_BY_STEP,
        examples=[("Hi", "Hello")],
        collections=["notes"],
        top_k=3,
        multi_query=2,
        folder="/docs",
    )
    with qtbot.assertNotEmitted(panel.sig_options_changed, wait=600):
        panel.set_options(shown)
    assert panel.chat_options() == shown
    with qtbot.waitSignal(panel.sig_options_changed) as blocker:
        named(panel, QCheckBox, "Rerank with the model").setChecked(True)
    assert blocker.args == [replace(shown, rerank=True)]
    # The cross-language step: on unless the chat turned it off.
    translate = named(panel, QCheckBox, "Also search in the documents' language")
    assert translate.isChecked()
    with qtbot.waitSignal(panel.sig_options_changed) as blocker:
        translate.setChecked(False)
    assert blocker.args == [replace(shown, rerank=True, translate=False)]
    with qtbot.assertNotEmitted(panel.sig_options_changed, wait=100):
        panel.set_options(shown)
    assert translate.isChecked()


def test_knowledge_ticks_and_filters(qtbot: QtBot, tmp_path: Path, stores: list[ChatStore]) -> None:
    panel = make_panel(qtbot, tmp_path, stores)
    panel.set_available_collections(["seeds", "notes"])
    items = named(panel, QListWidget, "Knowledge collections")
    with qtbot.waitSignal(panel.sig_options_changed) as blocker:
        items.item(1).setCheckState(Qt.CheckState.Checked)
    assert blocker.args == [ChatOptions(collections=["notes"])]
    # Ticks survive a refreshed list.
    panel.set_available_collections(["notes", "new"])
    assert panel.attached_collections() == ["notes"]

    types = named(panel, QLineEdit, "Only file types")
    types.setText("pdf; md")
    with qtbot.waitSignal(panel.sig_options_changed) as blocker:
        types.editingFinished.emit()
    assert blocker.args[0].file_types == ["pdf", "md"] and blocker.args[0].folder == ""
    named(panel, QDateEdit, "Modified since date").setDate(QDate(2026, 1, 31))
    with qtbot.waitSignal(panel.sig_options_changed) as blocker:
        named(panel, QCheckBox, "Only files modified since").setChecked(True)
    expected = QDateTime(QDate(2026, 1, 31), QTime(0, 0)).toSecsSinceEpoch()
    assert blocker.args[0].modified_after == float(expected)
    assert blocker.args[0].collections == ["notes"]
    # Showing a chat's filters emits nothing.
    with qtbot.assertNotEmitted(panel.sig_options_changed):
        panel.set_filters(["txt"], "/docs", None)
    assert types.text() == "txt"
