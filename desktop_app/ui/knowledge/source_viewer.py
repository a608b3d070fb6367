"""The source viewer: a document's text with the cited passage highlighted.

Document content is shown as plain text only, never rendered as HTML or
Markdown: a document is untrusted input, and plain text can neither load
anything from the network nor pose as part of the interface. The text comes
from the knowledge base through the controller (the file itself for plain text
and Markdown, the indexed passages for other formats), so nothing is parsed on
the GUI thread.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, QTimer
from PySide6.QtGui import QColor, QShowEvent, QTextCharFormat, QTextCursor, QTextFormat
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.kb.retrieve import Hit
from desktop_app.core.kb.sources import (
    NOTE_EXTRACTED,
    NOTE_FAILED,
    NOTE_FILE,
    NOTE_MISSING,
    NOTE_PENDING,
    SourceText,
)
from desktop_app.ui.common.plain_text import make_inert
from desktop_app.workers.jobs_qt import while_alive
from desktop_app.workers.kb.controller import KnowledgeController

#: What a viewer can be asked to show: a search hit, or (path, char_start, char_end).
SourceTarget = Hit | tuple[str, int, int]
_HIGHLIGHT = QColor("#ffe08a")
_NOTE_STYLE = "color: #666666;"


def source_note(source: SourceText) -> str:
    """What the knowledge base says about a document's text, in the user's language."""
    if source.note == NOTE_FAILED:
        return QCoreApplication.translate(
            "SourceViewer", "This document could not be indexed: {reason}"
        ).format(reason=source.reason)
    notes = {
        NOTE_MISSING: QCoreApplication.translate(
            "SourceViewer", "This file is not in the knowledge base."
        ),
        NOTE_PENDING: QCoreApplication.translate(
            "SourceViewer", "This document is still being indexed."
        ),
        NOTE_FILE: QCoreApplication.translate("SourceViewer", "The file's text."),
        NOTE_EXTRACTED: QCoreApplication.translate(
            "SourceViewer",
            "The text extracted when the document was indexed (breaks between passages shown as blank lines).",  # noqa: E501
        ),
    }
    return notes.get(source.note, "")


def ocr_note(source: SourceText) -> str:
    """Says that the passage was read by OCR, with the recognizer's confidence ("" if not)."""
    if source.ocr_confidence is None:
        return ""
    return QCoreApplication.translate(
        "SourceViewer",
        "Read by OCR, confidence {confidence}: the passage may hold recognition mistakes.",
    ).format(confidence=f"{source.ocr_confidence:.2f}")


class SourceViewer(QDialog):
    """A read-only dialog showing where a passage sits in its document."""

    def __init__(
        self,
        controller: KnowledgeController,
        target: SourceTarget,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("source_viewer")
        self.setAccessibleName(self.tr("Source viewer"))
        if isinstance(target, Hit):
            path, start, end = target.chunk.path, target.chunk.char_start, target.chunk.char_end
            doc_id: int | None = target.chunk.doc_id
        else:
            path, start, end = target
            doc_id = None
        self._path = path
        self._source: SourceText | None = None
        self.setWindowTitle(self.tr("Source — {name}").format(name=Path(path).name))
        self.resize(720, 560)

        layout = QVBoxLayout(self)
        self._path_label = QLabel(path)
        self._path_label.setAccessibleName(self.tr("Source path"))
        self._path_label.setWordWrap(True)
        self._note_label = QLabel(self.tr("Loading…"))
        self._note_label.setAccessibleName(self.tr("Source note"))
        self._note_label.setStyleSheet(_NOTE_STYLE)
        self._note_label.setWordWrap(True)
        self._ocr_label = QLabel()
        self._ocr_label.setAccessibleName(self.tr("OCR confidence"))
        self._ocr_label.setStyleSheet(_NOTE_STYLE)
        self._ocr_label.setWordWrap(True)
        self._ocr_label.hide()
        self._text = QPlainTextEdit()
        make_inert(self._text)  # a document's text: nothing in it is ever loaded
        self._text.setAccessibleName(self.tr("Source text"))
        self._text.setReadOnly(True)
        self._text.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.setAccessibleName(self.tr("Source viewer buttons"))
        buttons.rejected.connect(self.reject)
        layout.addWidget(self._path_label)
        layout.addWidget(self._note_label)
        layout.addWidget(self._ocr_label)
        layout.addWidget(self._text, 1)
        layout.addWidget(buttons)

        self._controller = controller
        self._request = controller.load_source(
            path, start, end, doc_id, on_done=while_alive(self, self.set_source)
        )

    # ----------------------------------------------------------------- public

    @property
    def ocr_text(self) -> str:
        """The OCR mark shown above the text ("" when the passage was not read by OCR)."""
        return self._ocr_label.text() if self._ocr_label.isVisibleTo(self) else ""

    @property
    def source(self) -> SourceText | None:
        """What is shown, once it has arrived."""
        return self._source

    def highlighted_text(self) -> str:
        """The highlighted passage ("" when none)."""
        src = self._source
        if src is None or src.start is None or src.end is None:
            return ""
        return src.text[src.start : src.end]

    def set_source(self, source: SourceText) -> None:
        """Show ``source`` as plain text and bring its passage into view."""
        self._source = source
        self._note_label.setText(source_note(source))
        self._ocr_label.setText(ocr_note(source))
        self._ocr_label.setVisible(source.ocr_confidence is not None)
        self._text.setPlainText(source.text)
        selections: list[QTextEdit.ExtraSelection] = []
        if source.start is not None and source.end is not None:
            cursor = QTextCursor(self._text.document())
            cursor.setPosition(source.start)
            cursor.setPosition(source.end, QTextCursor.MoveMode.KeepAnchor)
            fmt = QTextCharFormat()
            fmt.setBackground(_HIGHLIGHT)
            fmt.setProperty(QTextFormat.Property.FullWidthSelection, False)
            selection = QTextEdit.ExtraSelection()
            selection.cursor = cursor
            selection.format = fmt
            selections.append(selection)
        self._text.setExtraSelections(selections)
        self._scroll_to_passage()

    # ----------------------------------------------------------------- internals

    def _scroll_to_passage(self) -> None:
        src = self._source
        if src is None:
            return
        cursor = QTextCursor(self._text.document())
        # The passage's end first, then its start: the whole passage ends up in view.
        if src.end is not None:
            cursor.setPosition(src.end)
            self._text.setTextCursor(cursor)
            self._text.centerCursor()
        cursor.setPosition(src.start or 0)
        self._text.setTextCursor(cursor)
        self._text.ensureCursorVisible()

    def showEvent(self, event: QShowEvent) -> None:
        """Scroll again once laid out: before the first show the viewport has no size."""
        super().showEvent(event)
        QTimer.singleShot(0, self, self._scroll_to_passage)
