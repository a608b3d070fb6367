"""Settings → Data: backups listed (database, date, reason, size), Back up now, and
Restore… after a confirmation, off the GUI thread; a restore while the window is open
reloads its chat list, and one of the knowledge base reloads the collections."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kb_fakes import HashEmbedder
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem, QWidget
from pytestqt.qtbot import QtBot

from desktop_app.app import build
from desktop_app.core import backup
from desktop_app.core.chat.store import ChatStore
from desktop_app.core.engine.fake import FakeEngine
from desktop_app.core.kb.knowledge_base import KnowledgeBase
from desktop_app.core.settings import Settings
from desktop_app.ui.window.data_page import DataPage
from desktop_app.workers.engine.inference import InferenceController
from desktop_app.workers.kb.controller import KnowledgeController

TIMEOUT_MS = 15_000


def _yes(_parent: QWidget, _question: str) -> bool:
    return True


def _listed(page: DataPage) -> list[list[str]]:
    return [
        [_cell(page, r, c) for c in range(page.table.columnCount())]
        for r in range(page.table.rowCount())
    ]


def _cell(page: DataPage, row: int, column: int) -> str:
    item = page.table.item(row, column)
    assert item is not None
    return item.text()


def _settled(qtbot: QtBot, page: DataPage) -> None:
    qtbot.waitUntil(lambda: not page.working, timeout=TIMEOUT_MS)


@pytest.fixture
def page(qtbot: QtBot, glassbox_home: Path) -> DataPage:
    with ChatStore() as store:
        store.create_chat("kept")
    p = DataPage(confirm=_yes)
    qtbot.addWidget(p)
    _settled(qtbot, p)
    return p


def test_back_up_now_lists_the_new_backup(qtbot: QtBot, page: DataPage) -> None:
    assert _listed(page) == []
    assert "No backups yet" in page.status.text()
    assert not page.restore_button.isEnabled()
    page.back_up_button.click()
    _settled(qtbot, page)
    (row,) = _listed(page)
    assert row[0] == "Chats" and row[2] == "Made by hand" and row[3].endswith("KB")
    assert "Backed up: Chats." in page.status.text()
    page.select(0)
    assert page.restore_button.isEnabled()


def test_a_declined_confirmation_restores_nothing(
    qtbot: QtBot, page: DataPage, glassbox_home: Path
) -> None:
    backup.back_up_now(glassbox_home)
    page.refresh()
    _settled(qtbot, page)
    with ChatStore() as store:
        store.create_chat("later")
    questions: list[str] = []

    def decline(_parent: QWidget, question: str) -> bool:
        questions.append(question)
        return False

    page.confirm = decline
    page.select(0)
    with qtbot.assertNotEmitted(page.sig_chats_restored, wait=200):
        page.restore_button.click()
    assert "Replace all your chats" in questions[0] and "undone" in questions[0]
    with ChatStore() as store:
        assert sorted(c.title for c in store.list_chats()) == ["kept", "later"]


def test_a_damaged_backup_cannot_be_chosen(
    qtbot: QtBot, page: DataPage, glassbox_home: Path
) -> None:
    (made,) = backup.back_up_now(glassbox_home)
    made.path.write_bytes(b"no database here" * 500)
    page.refresh()
    _settled(qtbot, page)
    (row,) = _listed(page)
    assert "damaged" in row[2]
    page.select(0)
    assert not page.restore_button.isEnabled()


@pytest.fixture
def knowledge(glassbox_home: Path) -> Iterator[KnowledgeController]:
    c = KnowledgeController(lambda: KnowledgeBase(embedder=HashEmbedder()))
    yield c
    assert c.shutdown()


def test_a_knowledge_base_restore_runs_on_its_controller_and_reloads_collections(
    qtbot: QtBot, knowledge: KnowledgeController, glassbox_home: Path
) -> None:
    with qtbot.waitSignal(knowledge.sig_collections, timeout=TIMEOUT_MS):
        knowledge.create_collection("before")
    page = DataPage(knowledge, confirm=_yes)
    qtbot.addWidget(page)
    _settled(qtbot, page)
    page.back_up_button.click()
    _settled(qtbot, page)
    with qtbot.waitSignal(knowledge.sig_collections, timeout=TIMEOUT_MS):
        knowledge.create_collection("after")
    row = next(i for i, b in enumerate(page.backups) if b.database == "kb")
    page.select(row)
    with (
        qtbot.waitSignal(knowledge.sig_collections, timeout=TIMEOUT_MS) as listed,
        qtbot.waitSignal(page.sig_knowledge_restored, timeout=TIMEOUT_MS),
    ):
        page.restore_button.click()
    assert [s.name for s in listed.args[0]] == ["before"]
    _settled(qtbot, page)
    assert "knowledge base was restored" in page.status.text()
    reasons = sorted(r[2] for r in _listed(page) if r[0] == "Knowledge base")
    assert reasons == ["Before a restore", "Made by hand"]


def _tree_texts(tree: QTreeWidget) -> list[str]:
    out: list[str] = []

    def walk(item: QTreeWidgetItem | None) -> None:
        assert item is not None
        out.append(item.text(0))
        for n in range(item.childCount()):
            walk(item.child(n))

    for n in range(tree.topLevelItemCount()):
        walk(tree.topLevelItem(n))
    return out


def test_a_restore_while_the_window_is_open_reloads_the_chat_list(
    qtbot: QtBot, glassbox_home: Path, tmp_path: Path
) -> None:
    with ChatStore() as store:
        kept = store.create_chat("Kept chat")
        store.add_message(kept, None, "user", "hello")
    (made,) = backup.back_up_now(glassbox_home)
    model = tmp_path / "tiny.gguf"
    model.write_bytes(b"GGUF")
    controller = InferenceController(FakeEngine, settings=Settings())
    window = build(controller, model_spec=str(model)).window
    qtbot.addWidget(window)
    try:
        store = window._store
        later = store.create_chat("Written after the backup")
        window._chats.refresh(later)
        tree = window._chats._list
        assert any("Written after the backup" in t for t in _tree_texts(tree))
        window._session.open_chat(later)
        dialog = window.settings_dialog()
        page = dialog.data_page
        page.confirm = _yes
        _settled(qtbot, page)
        page.select(next(i for i, b in enumerate(page.backups) if b.id == made.id))
        with qtbot.waitSignal(page.sig_chats_restored, timeout=TIMEOUT_MS):
            page.restore_button.click()
        texts = _tree_texts(tree)
        assert any("Kept chat" in t for t in texts)
        assert not any("Written after the backup" in t for t in texts)
        # The chat that was open is gone from the restored file: an empty one is shown.
        assert window._session.chat_id is None
        # The window's own connection keeps working on the restored file.
        again = store.create_chat("After the restore")
        assert store.chat(again).title == "After the restore"
        dialog.close()
    finally:
        assert controller.shutdown()
