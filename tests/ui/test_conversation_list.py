"""The chats sidebar on a real store: list, new, rename, delete and undo, search hits."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QLineEdit, QPushButton, QTreeWidget, QTreeWidgetItem, QWidget
from pytestqt.qtbot import QtBot

from desktop_app.core.chat.store import ChatStore
from desktop_app.ui.chat.conversation_list import ConversationList

TIMEOUT_MS = 3000


@pytest.fixture
def store(glassbox_home: Path) -> Iterator[ChatStore]:
    s = ChatStore()
    yield s
    s.close()


@pytest.fixture
def chats(store: ChatStore) -> dict[str, int]:
    ids = {}
    for title, text in (
        ("Groceries", "Buy apples and bread"),
        ("Physics", "Explain quantum tunnelling simply"),
        ("中文", "请解释大语言模型"),
    ):
        ids[title] = store.create_chat(title)
        store.add_message(ids[title], None, "user", text)
    return ids


def make_list(qtbot: QtBot, store: ChatStore, undo_timeout_ms: int = 10_000) -> ConversationList:
    widget = ConversationList(store, undo_timeout_ms=undo_timeout_ms)
    qtbot.addWidget(widget)
    widget.resize(320, 480)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def the_list(widget: ConversationList) -> QTreeWidget:
    return widget.findChild(QTreeWidget)  # type: ignore[return-value]


def row(widget: ConversationList, n: int) -> QTreeWidgetItem:
    item = the_list(widget).topLevelItem(n)
    assert item is not None
    return item


def click_row(qtbot: QtBot, widget: ConversationList, n: int) -> None:
    lst = the_list(widget)
    rect = lst.visualItemRect(row(widget, n))
    qtbot.mouseClick(lst.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_lists_chats_newest_first_and_selects_on_click(
    qtbot: QtBot, store: ChatStore, chats: dict[str, int]
) -> None:
    widget = make_list(qtbot, store)
    assert widget.chat_titles() == ["中文", "Physics", "Groceries"]
    with qtbot.waitSignal(widget.sig_chat_selected, timeout=TIMEOUT_MS) as blocker:
        click_row(qtbot, widget, 1)
    assert blocker.args == [chats["Physics"]]
    assert widget.current_chat_id() == chats["Physics"]

    store.add_message(chats["Groceries"], None, "user", "and milk")
    with qtbot.assertNotEmitted(widget.sig_chat_selected):
        widget.refresh(select_chat_id=chats["Groceries"])
    assert widget.chat_titles() == ["Groceries", "中文", "Physics"]
    assert widget.current_chat_id() == chats["Groceries"]


def test_new_chat_button_asks_the_window(qtbot: QtBot, store: ChatStore) -> None:
    widget = make_list(qtbot, store)
    button = next(b for b in widget.findChildren(QPushButton) if b.text() == "New chat")
    with qtbot.waitSignal(widget.sig_new_chat, timeout=TIMEOUT_MS):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    # The window creates the chat and refreshes with it selected.
    new_id = store.create_chat("Fresh")
    widget.refresh(select_chat_id=new_id)
    assert widget.chat_titles()[0] == "Fresh"
    assert widget.current_chat_id() == new_id


def test_f2_renames_in_place(qtbot: QtBot, store: ChatStore, chats: dict[str, int]) -> None:
    widget = make_list(qtbot, store)
    widget.refresh(select_chat_id=chats["Physics"])
    lst = the_list(widget)
    lst.setFocus()
    qtbot.keyClick(lst, Qt.Key.Key_F2)
    editor = lst.findChild(QLineEdit)
    assert editor is not None and editor.text() == "Physics"
    editor.selectAll()
    qtbot.keyClicks(editor, "Quantum physics")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: store.chat(chats["Physics"]).title == "Quantum physics")
    qtbot.waitUntil(lambda: widget.chat_titles()[0] == "Quantum physics", timeout=TIMEOUT_MS)


def test_double_click_rename_to_blank_keeps_the_title(
    qtbot: QtBot, store: ChatStore, chats: dict[str, int]
) -> None:
    widget = make_list(qtbot, store)
    lst = the_list(widget)
    rect = lst.visualItemRect(row(widget, 2))
    qtbot.mouseClick(lst.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(lst.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    editor = lst.findChild(QLineEdit)
    assert editor is not None and editor.text() == "Groceries"
    editor.selectAll()
    qtbot.keyClick(editor, Qt.Key.Key_Delete)
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: widget.chat_titles() == ["中文", "Physics", "Groceries"])
    assert store.chat(chats["Groceries"]).title == "Groceries"


def test_delete_key_then_undo(qtbot: QtBot, store: ChatStore, chats: dict[str, int]) -> None:
    widget = make_list(qtbot, store)
    widget.refresh(select_chat_id=chats["Physics"])
    lst = the_list(widget)
    lst.setFocus()
    deleted: list[int] = []
    selected: list[int] = []
    widget.sig_chat_deleted.connect(deleted.append)
    widget.sig_chat_selected.connect(selected.append)
    qtbot.keyClick(lst, Qt.Key.Key_Delete)
    assert deleted == [chats["Physics"]]
    assert selected == [chats["Groceries"]]
    assert widget.chat_titles() == ["中文", "Groceries"]
    assert widget.current_chat_id() == chats["Groceries"]  # the neighbour takes its place
    assert store.chat(chats["Physics"]).deleted_at is not None
    assert widget.undo_visible
    undo_label = next(
        w for w in widget.findChildren(QLabel) if w.accessibleName() == "Deleted chat"
    )
    assert undo_label.text() == "Deleted “Physics”."

    undo = next(b for b in widget.findChildren(QPushButton) if b.text() == "Undo")
    with qtbot.waitSignal(widget.sig_chat_selected, timeout=TIMEOUT_MS) as blocker:
        qtbot.mouseClick(undo, Qt.MouseButton.LeftButton)
    assert blocker.args == [chats["Physics"]]
    assert widget.chat_titles() == ["中文", "Physics", "Groceries"]
    assert widget.current_chat_id() == chats["Physics"]
    assert store.chat(chats["Physics"]).deleted_at is None
    assert not widget.undo_visible


def test_undo_expires(qtbot: QtBot, store: ChatStore, chats: dict[str, int]) -> None:
    widget = make_list(qtbot, store, undo_timeout_ms=50)
    widget.refresh(select_chat_id=chats["中文"])
    widget.delete_current()
    assert widget.undo_visible
    qtbot.waitUntil(lambda: not widget.undo_visible, timeout=TIMEOUT_MS)
    widget.undo_delete()  # too late: nothing to undo
    assert store.chat(chats["中文"]).deleted_at is not None
    assert widget.chat_titles() == ["Physics", "Groceries"]


def test_context_menu_offers_rename_delete_and_exports(
    qtbot: QtBot, store: ChatStore, chats: dict[str, int]
) -> None:
    widget = make_list(qtbot, store)
    lst = the_list(widget)
    menu = widget._menu_for(row(widget, 0))
    assert menu is not None
    texts = [a.text().replace("&", "") for a in menu.actions() if not a.isSeparator()]
    assert texts == [
        "Rename",
        "Delete",
        "Export as Markdown…",
        "Export as JSON…",
        "Export as HTML…",
        "Import chats…",
        "New project…",
    ]
    widget.refresh(select_chat_id=chats["Groceries"])
    html_action = next(a for a in menu.actions() if "HTML" in a.text())
    with qtbot.waitSignal(widget.sig_export_requested, timeout=TIMEOUT_MS) as blocker:
        html_action.trigger()
    assert blocker.args == [chats["Groceries"], "html"]
    empty = widget._menu_for(None)
    assert empty is not None
    assert [a.text().replace("&", "") for a in empty.actions()] == [
        "New project…",
        "Import chats…",
    ]
    assert lst is the_list(widget)


def test_search_lists_hits_and_a_click_opens_the_message(
    qtbot: QtBot, store: ChatStore, chats: dict[str, int]
) -> None:
    widget = make_list(qtbot, store)
    search = widget.findChild(QLineEdit)
    assert search is not None and search.accessibleName() == "Search chats"
    qtbot.keyClicks(search, "tunnel")
    lst = the_list(widget)
    qtbot.waitUntil(
        lambda: widget.chat_titles() == [] and lst.topLevelItemCount() == 1, timeout=TIMEOUT_MS
    )
    label = lst.itemWidget(row(widget, 0), 0)
    assert isinstance(label, QLabel)
    assert "<b>Physics</b>" in label.text() and "<b>tunnel</b>" in label.text()

    (message,) = store.children(chats["Physics"], None)
    with qtbot.waitSignal(widget.sig_message_selected, timeout=TIMEOUT_MS) as blocker:
        click_row(qtbot, widget, 0)
    assert blocker.args == [chats["Physics"], message.id]

    search.setFocus()
    qtbot.keyClick(search, Qt.Key.Key_Escape)
    assert search.text() == ""
    assert widget.chat_titles() == ["中文", "Physics", "Groceries"]


def test_search_chinese_and_no_match(qtbot: QtBot, store: ChatStore, chats: dict[str, int]) -> None:
    widget = make_list(qtbot, store)
    lst = the_list(widget)
    widget.search("大语言模型")
    assert lst.topLevelItemCount() == 1
    assert row(widget, 0).data(0, Qt.ItemDataRole.UserRole) == chats["中文"]
    widget.search('"; DROP TABLE chats')
    assert lst.topLevelItemCount() == 1
    assert row(widget, 0).text(0) == 'No messages contain “"; DROP TABLE chats”.'
    assert not row(widget, 0).flags() & Qt.ItemFlag.ItemIsEnabled
    widget.search("")
    assert widget.chat_titles() == ["中文", "Physics", "Groceries"]


def test_search_hit_text_is_escaped(qtbot: QtBot, store: ChatStore) -> None:
    chat = store.create_chat("<i>title</i>")
    store.add_message(chat, None, "user", "look: <img src=x> here")
    widget = make_list(qtbot, store)
    widget.search("<img")
    label = the_list(widget).itemWidget(row(widget, 0), 0)
    assert isinstance(label, QLabel)
    assert (
        "look: <b>&lt;img</b> src=x&gt; here" in label.text()
        and "&lt;i&gt;title&lt;/i&gt;" in label.text()
    )


def test_every_widget_has_an_accessible_name(qtbot: QtBot, store: ChatStore) -> None:
    widget = make_list(qtbot, store)
    # Qt's own parts of a scroll area and line edit (viewport, scroll bars, the
    # clear button) are named by Qt; everything this widget builds must be named.
    kinds = {
        "QLineEdit",
        "QPushButton",
        "QTreeWidget",
        "_ChatTree",
        "QLabel",
        "QWidget",
        "_SearchField",
        "ConversationList",
    }
    named = [
        w
        for w in [widget, *widget.findChildren(QWidget)]
        if not w.objectName().startswith("qt_") and w.metaObject().className() in kinds
    ]
    assert len(named) >= 8
    assert all(w.accessibleName() for w in named), [
        w.metaObject().className() for w in named if not w.accessibleName()
    ]


def test_a_store_error_is_shown_not_swallowed(
    qtbot: QtBot, store: ChatStore, chats: dict[str, int]
) -> None:
    widget = make_list(qtbot, store)
    widget.refresh(select_chat_id=chats["Physics"])
    store.close()
    with qtbot.waitSignal(widget.sig_error, timeout=TIMEOUT_MS) as blocker:
        widget.delete_current()
    assert "closed" in blocker.args[0]
    error = next(w for w in widget.findChildren(QLabel) if w.accessibleName() == "Chats error")
    assert error.isVisible() and "closed" in error.text()
    assert not widget.undo_visible
