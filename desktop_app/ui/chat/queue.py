"""Messages typed while a reply streams, shown as pending under the conversation.

Each queued message can be edited in place or removed before it is sent; when
nothing is running (after an error, or after a restart) it can be sent at once.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.chat.store import QueuedMessage

translate = QCoreApplication.translate


class _Row(QWidget):
    def __init__(self, panel: QueuePanel, n: int, item: QueuedMessage, busy: bool) -> None:
        super().__init__(panel)
        self.item = item
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.edit = QLineEdit(item.content, self)
        self.edit.setAccessibleName(translate("QueuePanel", "Queued message {n}").format(n=n))
        self.edit.setToolTip(
            translate("QueuePanel", "Edit the message before it is sent; Enter keeps the edit.")
        )
        self.edit.setCursorPosition(0)
        self.remove = QToolButton(self)
        self.remove.setText(translate("QueuePanel", "Remove"))
        self.remove.setAccessibleName(
            translate("QueuePanel", "Remove queued message {n}").format(n=n)
        )
        self.send = QToolButton(self)
        self.send.setText(translate("QueuePanel", "Send now"))
        self.send.setAccessibleName(
            translate("QueuePanel", "Send queued message {n} now").format(n=n)
        )
        self.send.setVisible(not busy)
        layout.addWidget(self.edit, 1)
        layout.addWidget(self.send)
        layout.addWidget(self.remove)
        self.edit.editingFinished.connect(lambda: panel.edited(self))
        self.remove.clicked.connect(lambda: panel.sig_remove.emit(item.id))
        self.send.clicked.connect(lambda: panel.sig_send_now.emit(item.id))


class QueuePanel(QFrame):
    """The queue of the open chat; hidden when it is empty."""

    sig_edit = Signal(int, str)
    """A queued message was edited: its id and new text."""

    sig_remove = Signal(int)
    """Remove a queued message (its id) without sending it."""

    sig_send_now = Signal(int)
    """Send a queued message now (only offered while no reply runs)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAccessibleName(self.tr("Queued messages"))
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(6, 4, 6, 4)
        self._title = QLabel(self)
        self._title.setAccessibleName(self.tr("Queue state"))
        self._title.setTextFormat(Qt.TextFormat.PlainText)
        self._title.setStyleSheet("color: palette(mid); font-style: italic;")
        self._layout.addWidget(self._title)
        self._rows: list[_Row] = []
        self._items: list[QueuedMessage] = []
        self._busy = False
        self.setVisible(False)

    def items(self) -> list[QueuedMessage]:
        """The queued messages shown, first to be sent first."""
        return list(self._items)

    def rows(self) -> list[tuple[QLineEdit, QToolButton, QToolButton]]:
        """Each row's text field, "Send now" and "Remove" buttons (for tests and tools)."""
        return [(r.edit, r.send, r.remove) for r in self._rows]

    def set_queue(self, items: Sequence[QueuedMessage]) -> None:
        """Show ``items`` (the whole queue)."""
        self._items = list(items)
        self._rebuild()

    def set_busy(self, busy: bool) -> None:
        """While a reply runs, queued messages wait; otherwise each can be sent now."""
        self._busy = busy
        for row in self._rows:
            row.send.setVisible(not busy)
        self._update_title()

    def edited(self, row: _Row) -> None:
        """A row's text field lost focus or took Enter: report a changed text."""
        text = row.edit.text()
        if text != row.item.content:
            self.sig_edit.emit(row.item.id, text)

    def _rebuild(self) -> None:
        for row in self._rows:
            self._layout.removeWidget(row)
            row.hide()
            row.deleteLater()
        self._rows = []
        for n, item in enumerate(self._items, start=1):
            row = _Row(self, n, item, self._busy)
            self._layout.addWidget(row)
            self._rows.append(row)
        self._update_title()
        self.setVisible(bool(self._items))

    def _update_title(self) -> None:
        n = len(self._items)
        if self._busy:
            text = self.tr("Queued messages ({n}): sent in order when the reply ends.")
        else:
            text = self.tr("Queued messages ({n}): send them now or remove them.")
        self._title.setText(text.format(n=n))
