"""A rewrite's word diff in two text boxes."""

from __future__ import annotations

from PySide6.QtGui import QColor, QTextCursor
from PySide6.QtWidgets import QTextEdit
from pytestqt.qtbot import QtBot

from desktop_app.core.tasks.rewrite import word_diff
from desktop_app.ui.tasks.diff import DELETE_BACKGROUND, INSERT_BACKGROUND, show_diff


def test_a_word_diff_strikes_removals_and_highlights_additions(qtbot: QtBot) -> None:
    left, right = QTextEdit(), QTextEdit()
    qtbot.addWidget(left)
    qtbot.addWidget(right)
    show_diff(left, right, word_diff("The cat sat on the mat.", "The dog sat on the mat."))
    assert left.toPlainText() == "The cat sat on the mat."
    assert right.toPlainText() == "The dog sat on the mat."

    def fmt(view: QTextEdit, word: str) -> tuple[QColor, bool]:
        at = view.toPlainText().index(word) + 1
        cursor = QTextCursor(view.document())
        cursor.setPosition(at)
        f = cursor.charFormat()
        return f.background().color(), f.fontStrikeOut()

    assert fmt(left, "cat") == (DELETE_BACKGROUND, True)
    assert fmt(right, "dog") == (INSERT_BACKGROUND, False)
    assert fmt(left, "sat")[0] != DELETE_BACKGROUND
    assert "1 word(s) removed" in left.accessibleDescription()
