"""A bar that offers Undo for a few seconds after something was deleted.

Each deletion brings an ``undo`` (bring it back) and an ``expire`` (make it final)
action. Undo takes back the most recent one; when the time runs out every pending
deletion is made final. What is deleted must stay recoverable until ``expire``
runs: a window closed meanwhile finishes the deletion itself.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QTimer, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

#: How long Undo is offered after a delete.
UNDO_TIMEOUT_MS = 10_000


class UndoBar(QWidget):
    """A line "Deleted …  [Undo]", hidden when nothing can be undone."""

    def __init__(
        self, name: str, parent: QWidget | None = None, timeout_ms: int = UNDO_TIMEOUT_MS
    ) -> None:
        super().__init__(parent)
        self._pending: list[tuple[str, Callable[[], None], Callable[[], None]]] = []
        self.setAccessibleName(name)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel("", self)
        self.label.setAccessibleName(self.tr("What was deleted"))
        self.label.setWordWrap(True)
        self.button = QPushButton(self.tr("Undo"), self)
        self.button.setAccessibleName(self.tr("Undo delete"))
        self.button.setToolTip(self.tr("Bring back what was just deleted"))
        layout.addWidget(self.label, stretch=1)
        layout.addWidget(self.button)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(timeout_ms)
        self._timer.timeout.connect(self._on_timer_timeout)
        self.button.clicked.connect(self._on_button_clicked)
        self.setVisible(False)

    @property
    def offered(self) -> bool:
        """Whether Undo is offered now."""
        return bool(self._pending)

    def offer(self, text: str, undo: Callable[[], None], expire: Callable[[], None]) -> None:
        """Show ``text`` with Undo for the full time again."""
        self._pending.append((text, undo, expire))
        self.label.setText(text)
        self.setVisible(True)
        self._timer.start()

    def undo(self) -> None:
        """Bring back the most recent deletion."""
        if not self._pending:
            return
        _, undo, _ = self._pending.pop()
        undo()
        if self._pending:
            self.label.setText(self._pending[-1][0])
        else:
            self._timer.stop()
            self.setVisible(False)

    def expire(self) -> None:
        """Make every pending deletion final now."""
        pending, self._pending = self._pending, []
        self._timer.stop()
        self.setVisible(False)
        for _, _, expire in pending:
            expire()

    @Slot()
    def _on_button_clicked(self) -> None:
        self.undo()

    @Slot()
    def _on_timer_timeout(self) -> None:
        self.expire()
