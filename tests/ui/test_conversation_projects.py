"""Projects in the chats sidebar: folders, drag and drop, settings, delete with undo."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QDropEvent, QKeyEvent
from PySide6.QtWidgets import QApplication, QPushButton, QTreeWidget, QTreeWidgetItem
from pytestqt.qtbot import QtBot

from desktop_app.core.chat.store import ChatStore
from desktop_app.ui.chat.conversation_list import ConversationList
from desktop_app.ui.chat.projects import ProjectDialog

TIMEOUT_MS = 3000


@pytest.fixture
def store(glassbox_home: Path) -> Iterator[ChatStore]:
    s = ChatStore()
    yield s
    s.close()


@pytest.fixture
def ids(store: ChatStore) -> dict[str, int]:
    out = {"Thesis": store.create_project("Thesis", system_prompt="Tutor.")}
    out["Errands"] = store.create_project("Errands")
    out["Chapter 1"] = store.create_chat("Chapter 1", project_id=out["Thesis"])
    out["Groceries"] = store.create_chat("Groceries")
    out["Sources"] = store.create_chat("Sources", project_id=out["Thesis"])
    return out


def make_list(qtbot: QtBot, store: ChatStore) -> ConversationList:
    widget = ConversationList(store)
    qtbot.addWidget(widget)
    widget.resize(320, 480)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def tree(widget: ConversationList) -> QTreeWidget:
    found = widget.findChild(QTreeWidget)
    assert found is not None
    return found


def drop(widget: ConversationList, chat_id: int, on: QTreeWidgetItem | None) -> None:
    """Drag a chat's row and drop it on ``on`` (None: the empty space below the rows).

    The drag's data is the view's own (``mimeData`` of the dragged row) and the drop
    goes to the view's drop handler at the row's place: a real drag runs a nested
    event loop of the platform, which offscreen does not have.
    """
    lst = tree(widget)
    source = widget.chat_item(chat_id)
    assert source is not None
    data = lst.mimeData([source])
    if on is None:
        point = QPointF(10, lst.viewport().height() - 5)
    else:
        point = QPointF(lst.visualItemRect(on).center())
    event = QDropEvent(
        point,
        Qt.DropAction.MoveAction,
        data,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    lst.dropEvent(event)


def test_projects_are_folders_above_the_other_chats(
    qtbot: QtBot, store: ChatStore, ids: dict[str, int]
) -> None:
    widget = make_list(qtbot, store)
    assert widget.project_names() == ["Errands", "Thesis"]
    assert widget.chats_in_project(ids["Thesis"]) == ["Sources", "Chapter 1"]
    assert widget.chats_in_project(ids["Errands"]) == []
    assert widget.chats_in_project(None) == ["Groceries"]
    assert widget.chat_titles() == ["Sources", "Chapter 1", "Groceries"]
    folder = widget.project_item(ids["Thesis"])
    assert folder is not None and folder.isExpanded()
    assert "Tutor." in folder.toolTip(0)

    # Collapsed stays collapsed when the list is read again.
    folder.setExpanded(False)
    widget.refresh()
    folder = widget.project_item(ids["Thesis"])
    assert folder is not None and not folder.isExpanded()


def test_drag_a_chat_into_a_project_and_out(
    qtbot: QtBot, store: ChatStore, ids: dict[str, int]
) -> None:
    widget = make_list(qtbot, store)
    with qtbot.waitSignal(widget.sig_projects_changed, timeout=TIMEOUT_MS):
        drop(widget, ids["Groceries"], widget.project_item(ids["Errands"]))
    assert store.chat(ids["Groceries"]).project_id == ids["Errands"]
    assert widget.chats_in_project(ids["Errands"]) == ["Groceries"]
    assert widget.current_chat_id() == ids["Groceries"]

    # Dropped on a chat of another project: into that project.
    drop(widget, ids["Groceries"], widget.chat_item(ids["Chapter 1"]))
    assert store.chat(ids["Groceries"]).project_id == ids["Thesis"]

    # Dropped on empty space: out of any project.
    drop(widget, ids["Sources"], None)
    assert store.chat(ids["Sources"]).project_id is None
    assert widget.chats_in_project(None) == ["Sources"]


def test_a_foreign_drop_moves_nothing(qtbot: QtBot, store: ChatStore, ids: dict[str, int]) -> None:
    widget = make_list(qtbot, store)
    lst = tree(widget)
    from PySide6.QtCore import QMimeData

    data = QMimeData()
    data.setText(str(ids["Groceries"]))
    target = widget.project_item(ids["Errands"])
    assert target is not None
    event = QDropEvent(
        QPointF(lst.visualItemRect(target).center()),
        Qt.DropAction.MoveAction,
        data,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    lst.dropEvent(event)
    assert not event.isAccepted()
    assert store.chat(ids["Groceries"]).project_id is None


def test_project_menu_and_new_chat_in_project(
    qtbot: QtBot, store: ChatStore, ids: dict[str, int]
) -> None:
    widget = make_list(qtbot, store)
    folder = widget.project_item(ids["Thesis"])
    menu = widget._menu_for(folder)
    assert menu is not None
    texts = [a.text().replace("&", "") for a in menu.actions() if not a.isSeparator()]
    assert texts == [
        "New chat in project",
        "Project settings…",
        "Rename",
        "Delete project",
        "New project…",
    ]
    tree(widget).setCurrentItem(folder)
    new_chat = next(a for a in menu.actions() if a.text().replace("&", "") == texts[0])
    with qtbot.waitSignal(widget.sig_new_chat_in_project, timeout=TIMEOUT_MS) as blocker:
        new_chat.trigger()
    assert blocker.args == [ids["Thesis"]]
    # From a chat inside the project too, and it can be moved out from its menu.
    widget.refresh(select_chat_id=ids["Sources"])
    assert widget.current_project_id() == ids["Thesis"]
    menu = widget._menu_for(widget.chat_item(ids["Sources"]))
    assert menu is not None
    move_out = next(a for a in menu.actions() if "Move out" in a.text().replace("&", ""))
    move_out.trigger()
    assert store.chat(ids["Sources"]).project_id is None


def test_new_project_and_settings_through_the_dialog(
    qtbot: QtBot, store: ChatStore, ids: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    store.save_preset("Precise", "", {"temperature": 0.2})
    widget = make_list(qtbot, store)
    widget.set_collections_provider(lambda: ["handbook", "papers"])
    shown: list[ProjectDialog] = []

    def fill(dialog: ProjectDialog) -> int:
        shown.append(dialog)
        dialog.name.setText("Garden")
        dialog.system_prompt.setPlainText("Plants only.")
        dialog.preset.setCurrentIndex(dialog.preset.findData("Precise"))
        dialog.collections.item(1).setCheckState(Qt.CheckState.Checked)
        dialog.pin(["/tmp/plan.md", "/tmp/plan.md"])
        return ProjectDialog.DialogCode.Accepted.value

    monkeypatch.setattr(ProjectDialog, "exec", fill)
    project_id = widget.new_project()
    assert project_id is not None
    project = store.project(project_id)
    assert (project.name, project.system_prompt) == ("Garden", "Plants only.")
    assert dict(project.sampling) == {"temperature": 0.2}
    assert project.collections == ("papers",) and project.files == ("/tmp/plan.md",)
    assert widget.project_names() == ["Errands", "Garden", "Thesis"]
    assert "temperature 0.2" in shown[0].sampling_label.text()

    def rename(dialog: ProjectDialog) -> int:
        # The project's values are shown, and kept unless changed.
        assert dialog.name.text() == "Garden"
        assert dialog.preset.currentData() == "keep"
        assert dialog.collections.item(1).checkState() == Qt.CheckState.Checked
        dialog.name.setText("Garden 2027")
        return ProjectDialog.DialogCode.Accepted.value

    monkeypatch.setattr(ProjectDialog, "exec", rename)
    assert widget.edit_project(project_id)
    project = store.project(project_id)
    assert project.name == "Garden 2027" and dict(project.sampling) == {"temperature": 0.2}


def test_dialog_refuses_an_empty_name(qtbot: QtBot) -> None:
    dialog = ProjectDialog(None, [], [])
    qtbot.addWidget(dialog)
    ok = dialog.buttons.button(dialog.buttons.StandardButton.Ok)
    assert not ok.isEnabled()
    dialog.name.setText("  x ")
    assert ok.isEnabled()
    assert dialog.values()["name"] == "x"


def test_delete_key_on_a_project_keeps_its_chats_and_undo_restores(
    qtbot: QtBot, store: ChatStore, ids: dict[str, int]
) -> None:
    widget = make_list(qtbot, store)
    lst = tree(widget)
    folder = widget.project_item(ids["Thesis"])
    assert folder is not None
    lst.setCurrentItem(folder)
    lst.setFocus()
    qtbot.keyClick(lst, Qt.Key.Key_Delete)
    assert store.project(ids["Thesis"]).deleted_at is not None
    assert widget.project_names() == ["Errands"]
    # Its chats are kept, outside any project.
    assert set(widget.chats_in_project(None)) == {"Sources", "Chapter 1", "Groceries"}
    assert widget.undo_visible
    undo = next(b for b in widget.findChildren(QPushButton) if b.text() == "Undo")
    qtbot.mouseClick(undo, Qt.MouseButton.LeftButton)
    assert store.project(ids["Thesis"]).deleted_at is None
    assert widget.chats_in_project(ids["Thesis"]) == ["Sources", "Chapter 1"]
    assert not widget.undo_visible


def test_backspace_deletes_nothing(qtbot: QtBot, store: ChatStore, ids: dict[str, int]) -> None:
    widget = make_list(qtbot, store)
    widget.refresh(select_chat_id=ids["Groceries"])
    lst = tree(widget)
    lst.setFocus()
    qtbot.keyClick(lst, Qt.Key.Key_Backspace)
    QApplication.sendEvent(
        lst, QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_Backspace, Qt.KeyboardModifier.NoModifier)
    )
    assert store.chat(ids["Groceries"]).deleted_at is None
    assert not widget.undo_visible
