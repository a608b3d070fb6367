"""A rewrite's word diff shown in two text boxes: removals struck through, additions marked."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import (
    QCoreApplication,
)
from PySide6.QtGui import (
    QColor,
    QTextCharFormat,
    QTextCursor,
)
from PySide6.QtWidgets import (
    QTextEdit,
)

from desktop_app.core.tasks.rewrite import DiffOp

# Word diff colours: removed words (struck through) and added words.
DELETE_BACKGROUND = QColor(0xFF, 0xD7, 0xD5)
INSERT_BACKGROUND = QColor(0xC8, 0xF0, 0xC8)


def show_diff(original: QTextEdit, result: QTextEdit, diff: Sequence[tuple[DiffOp, str]]) -> None:
    """Write a word diff into two read-only views: removals struck on the left, additions
    highlighted on the right (plain text; each side reads as its own text)."""
    plain = QTextCharFormat()
    removed = QTextCharFormat()
    removed.setBackground(DELETE_BACKGROUND)
    removed.setForeground(QColor(0x80, 0x10, 0x10))
    removed.setFontStrikeOut(True)
    added = QTextCharFormat()
    added.setBackground(INSERT_BACKGROUND)
    added.setForeground(QColor(0x10, 0x50, 0x10))
    added.setFontUnderline(True)
    for view in (original, result):
        view.clear()
    left, right = QTextCursor(original.document()), QTextCursor(result.document())
    for op, text in diff:
        if op == "equal":
            left.insertText(text, plain)
            right.insertText(text, plain)
        elif op == "delete":
            left.insertText(text, removed)
        else:
            right.insertText(text, added)
    counts = {op: sum(len(t.split()) for o, t in diff if o == op) for op in ("delete", "insert")}
    original.setAccessibleDescription(
        QCoreApplication.translate("TaskWidgets", "{n} word(s) removed, struck through").format(
            n=counts["delete"]
        )
    )
    result.setAccessibleDescription(
        QCoreApplication.translate("TaskWidgets", "{n} word(s) added, highlighted").format(
            n=counts["insert"]
        )
    )
