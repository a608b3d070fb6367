"""A widget shown in the transcript under the last line, without touching its text."""

from __future__ import annotations

from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot

from desktop_app.ui.chat.inline_widget import InlineSlot
from desktop_app.ui.chat.view import ChatView, MessageView


def test_the_widget_sits_under_the_last_line_and_leaves_the_text_alone(qtbot: QtBot) -> None:
    view = ChatView()
    qtbot.addWidget(view)
    view.resize(600, 400)
    view.show()
    view.show_messages([MessageView(1, "user", "Hello"), MessageView(2, "assistant", "Hi")])
    text = view.toPlainText()
    margin = view.document().rootFrame().frameFormat().bottomMargin()
    slot = InlineSlot(view)
    button = QPushButton("Allow once")
    slot.show(button)
    qtbot.waitUntil(button.isVisible)
    assert button.parent() is view.viewport()
    assert view.toPlainText() == text
    layout = view.document().documentLayout()
    last = view.document().lastBlock()
    bottom = layout.blockBoundingRect(last).bottom() - view.verticalScrollBar().value()
    assert button.geometry().top() >= bottom
    assert button.geometry().bottom() <= view.viewport().height()
    assert button.width() > 300  # as wide as the transcript
    # The document keeps room for it while it is shown, and gives it back after.
    assert view.document().rootFrame().frameFormat().bottomMargin() > margin
    slot.clear()
    assert slot.widget is None and not button.isVisible()
    assert view.document().rootFrame().frameFormat().bottomMargin() == margin
