"""Help → Keyboard shortcuts: a table built from the window's own actions.

The rows are read from the actions when the dialog opens, so a changed shortcut
shows here without anyone updating a list.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

__all__ = ["ShortcutsDialog", "action_label", "shortcut_rows"]


def action_label(action: QAction) -> str:
    """The action's menu text without its mnemonic ampersand and trailing ellipsis."""
    # A translation puts its mnemonic after the text, Chinese style: "新建对话(&N)".
    text = re.sub(r"\s*\(&[^&\s]\)", "", action.text())
    text = text.replace("&&", "\0").replace("&", "").replace("\0", "&")
    return text.rstrip("…").rstrip(".").strip()


def shortcut_rows(
    actions: Sequence[QAction], extra: Sequence[tuple[str, str]] = ()
) -> list[tuple[str, str]]:
    """(keys, what they do) for every action that has a shortcut, then ``extra``."""
    rows = []
    for action in actions:
        keys = [s.toString(QKeySequence.SequenceFormat.NativeText) for s in action.shortcuts()]
        keys = [k for k in keys if k]
        if keys:
            said = keys[0]
            for key in keys[1:]:
                said = QCoreApplication.translate("ShortcutsDialog", "{keys} or {key}").format(
                    keys=said, key=key
                )
            rows.append((said, action_label(action)))
    rows.extend(extra)
    return rows


class ShortcutsDialog(QDialog):
    """A read-only table of the keys the window answers to."""

    def __init__(
        self,
        actions: Sequence[QAction],
        extra: Sequence[tuple[str, str]] = (),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Keyboard shortcuts"))
        self.setAccessibleName(self.tr("Keyboard shortcuts"))
        rows = shortcut_rows(actions, extra)
        self._rows = rows
        self.table = QTableWidget(len(rows), 2, self)
        self.table.setAccessibleName(self.tr("Shortcut list"))
        self.table.setHorizontalHeaderLabels([self.tr("Keys"), self.tr("Does")])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(
            0, QHeaderView.ResizeMode.ResizeToContents
        )
        self.table.horizontalHeader().setStretchLastSection(True)
        for row, (keys, does) in enumerate(rows):
            self.table.setItem(row, 0, QTableWidgetItem(keys))
            self.table.setItem(row, 1, QTableWidgetItem(does))
        self.table.setMinimumSize(480, 380)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.setAccessibleName(self.tr("Shortcut dialog buttons"))
        buttons.button(QDialogButtonBox.StandardButton.Close).setAccessibleName(self.tr("Close"))
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)

    def rows(self) -> list[tuple[str, str]]:
        """What the table shows, row by row (keys, what they do)."""
        return list(self._rows)
