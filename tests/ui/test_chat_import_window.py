"""Import in the window: off the GUI thread with progress, the chats listed with their origin,
a refused file explained, a cancel that leaves nothing, and the sidebar's menu entry."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QFileDialog,
    QMessageBox,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
)
from pytestqt.qtbot import QtBot

from desktop_app.app import build
from desktop_app.bench.chat_import import write_export
from desktop_app.core.chat import importer
from desktop_app.core.chat.store import ChatStore
from desktop_app.core.engine.fake import FakeEngine
from desktop_app.ui.chat.conversation_list import ConversationList
from desktop_app.ui.common.errors import error_title
from desktop_app.ui.window.main_window import MainWindow
from desktop_app.workers.engine.inference import InferenceController

FIXTURE = Path(__file__).parents[1] / "data" / "chatgpt" / "conversations.json"
TIMEOUT_MS = 20_000


@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path) -> Iterator[MainWindow]:
    model = tmp_path / "tiny.gguf"
    model.write_bytes(b"GGUF")
    controller = InferenceController(FakeEngine)
    win = build(controller, model_spec=str(model)).window
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close()
    assert controller.shutdown()


def items(win: MainWindow) -> list[QTreeWidgetItem]:
    tree = win.findChild(ConversationList).findChild(QTreeWidget)  # type: ignore[union-attr]
    assert tree is not None
    out: list[QTreeWidgetItem] = []
    stack = [tree.topLevelItem(i) for i in range(tree.topLevelItemCount())]
    while stack:
        item = stack.pop(0)
        if item is not None:
            out.append(item)
            stack.extend(item.child(i) for i in range(item.childCount()))
    return out


def status(win: MainWindow) -> str:
    return win._status_label.text()


def finished(win: MainWindow) -> Callable[[], bool]:
    return lambda: not win.importer.busy


def test_import_runs_with_progress_and_lists_the_chats_with_their_origin(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    big = tmp_path / "conversations.json"
    write_export(big, chats=150, mb=3.0, seed=2)
    seen: list[int] = []
    ticks: list[int] = []
    timer = QTimer(window)
    timer.setInterval(5)

    def tick() -> None:
        # The event loop runs while the import does: timers fire, the dialog moves.
        dialog = window.importer.dialog
        if dialog is not None:
            ticks.append(1)
            seen.append(dialog.value())

    timer.timeout.connect(tick)
    timer.start()
    assert window.import_chats(str(big))
    assert window.importer.dialog is not None and window.importer.dialog.isVisible()
    assert "Importing chats from" in status(window)
    qtbot.waitUntil(finished(window), timeout=TIMEOUT_MS)
    timer.stop()
    assert window.importer.dialog is None
    assert any(0 < v < 1000 for v in seen), "progress was shown between start and end"
    assert len(ticks) > 3
    titles = [i.text(0) for i in items(window)]
    assert len(titles) >= 150
    assert status(window).startswith("Chats imported from conversations.json: 150, with ")

    # The small hand-written export: Chinese titles, and each chat says where it came from.
    with qtbot.waitSignal(window.importer.sig_imported, timeout=TIMEOUT_MS):
        window.import_chats(str(FIXTURE))
    cats = next(i for i in items(window) if i.text(0) == "给猫起名字 · Naming the cat")
    assert "Imported from ChatGPT (conversations.json) on " in cats.toolTip(0)

    # The same file again adds nothing, and the status says why.
    count = len(items(window))
    with qtbot.waitSignal(window.importer.sig_imported, timeout=TIMEOUT_MS):
        window.import_chats(str(FIXTURE))
    assert len(items(window)) == count
    assert status(window) == (
        "Nothing was added from conversations.json: its 2 chats were already imported, so "
        "they were skipped."
    )


def test_the_menu_action_asks_for_the_file(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []

    def open_dialog(_parent: object, caption: str, _start: str, _filter: str) -> tuple[str, str]:
        asked.append(caption)
        return str(FIXTURE), ""

    monkeypatch.setattr(QFileDialog, "getOpenFileName", open_dialog)
    with qtbot.waitSignal(window.importer.sig_imported, timeout=TIMEOUT_MS):
        window._import_action.trigger()
    assert asked == ["Import chats"]
    assert "What is 2 + 2?" in [i.text(0) for i in items(window)]


def test_a_refused_file_is_explained_and_adds_nothing(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    before = len(items(window))
    bad = tmp_path / "deep.json"
    bad.write_text("[" * 100_000, encoding="utf-8")
    with qtbot.waitSignal(window.importer.sig_failed, timeout=TIMEOUT_MS):
        window.import_chats(str(bad))
    box = window.importer.error_box
    assert isinstance(box, QMessageBox) and box.isVisible()
    assert box.text().startswith(error_title("import_refused"))
    assert "nested too deeply" in box.text()
    assert error_title("import_refused") in status(window)
    assert len(items(window)) == before
    box.close()


def test_cancel_leaves_nothing(
    qtbot: QtBot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "BATCH_CHATS", 1)
    path = tmp_path / "many.json"
    conv = json.loads(FIXTURE.read_text(encoding="utf-8"))[0]
    # 1000 different conversations (the same one again would be skipped as already imported).
    many = [{**conv, "id": f"conv-{i}", "conversation_id": f"conv-{i}"} for i in range(1000)]
    path.write_text(json.dumps(many), encoding="utf-8")

    def cancel_on_progress() -> None:
        # As the user does: Cancel pressed once some chats are written.
        dialog = window.importer.dialog
        if dialog is not None and dialog.value() > 0 and dialog.isVisible():
            button = dialog.findChild(QPushButton)
            assert button is not None and button.text() == "Cancel"
            button.click()

    timer = QTimer(window)
    timer.setInterval(5)
    timer.timeout.connect(cancel_on_progress)
    timer.start()
    with qtbot.waitSignal(window.importer.sig_failed, timeout=TIMEOUT_MS):
        window.import_chats(str(path))
    timer.stop()
    assert status(window) == "The import was cancelled; no chat was added."
    with ChatStore() as store:
        assert store.list_chats(include_deleted=True) == []


def test_only_one_import_at_a_time(qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    write_export(path, chats=40, mb=1.0)
    assert window.import_chats(str(path))
    assert not window.import_chats(str(FIXTURE))
    assert status(window) == "An import is already running; wait for it to finish."
    qtbot.waitUntil(finished(window), timeout=TIMEOUT_MS)


def test_sidebar_offers_import_and_shows_the_origin(qtbot: QtBot, glassbox_home: Path) -> None:
    with ChatStore() as store:
        importer.import_file(store.path, FIXTURE)
        plain = store.create_chat("Made here")
        widget = ConversationList(store)
        qtbot.addWidget(widget)
        tree = widget.findChild(QTreeWidget)
        assert tree is not None
        rows = [tree.topLevelItem(i) for i in range(tree.topLevelItemCount())]
        tips = {r.text(0): r.toolTip(0) for r in rows if r is not None}
        assert "Imported from" not in tips["Made here"] and plain
        assert "Imported from ChatGPT (conversations.json) on " in tips["What is 2 + 2?"]
        for item in (None, tree.topLevelItem(0)):
            menu = widget._menu_for(item)
            assert menu is not None
            texts = [a.text() for a in menu.actions()]
            assert "&Import chats…" in texts
            menu.deleteLater()
        with qtbot.waitSignal(widget.sig_import_requested, timeout=TIMEOUT_MS):
            widget._import_action.trigger()
        widget.close()
