"""A widget shown inside the transcript, under the last line of the streaming reply.

The transcript is one ``QTextDocument``; a widget cannot be one of its blocks.
``InlineSlot`` keeps room for the widget under the document's last line (the
root frame's bottom margin) and lays the widget over that room, on the
transcript's viewport, following the scroll position and the width. The
document's text is not touched, so the reply's token offsets stay as they are.
Used for a tool call waiting for approval (``ToolApprovalRow``).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSize
from PySide6.QtWidgets import QTextEdit, QWidget

_GAP = 6


class InlineSlot(QObject):
    """Room for one widget at the end of ``view``'s document."""

    def __init__(self, view: QTextEdit) -> None:
        super().__init__(view)
        self._view = view
        self._widget: QWidget | None = None
        self._base_margin = view.document().rootFrame().frameFormat().bottomMargin()
        view.viewport().installEventFilter(self)
        view.verticalScrollBar().valueChanged.connect(self._on_moved)
        view.document().documentLayout().documentSizeChanged.connect(self._on_moved)

    @property
    def widget(self) -> QWidget | None:
        """The widget shown, if any."""
        return self._widget

    def show(self, widget: QWidget) -> None:
        """Show ``widget`` under the transcript's last line (replacing any other)."""
        self.clear()
        self._widget = widget
        widget.setParent(self._view.viewport())
        widget.show()
        self._place()
        bar = self._view.verticalScrollBar()
        bar.setValue(bar.maximum())

    def clear(self) -> None:
        """Remove the widget and its room."""
        widget, self._widget = self._widget, None
        if widget is not None:
            widget.hide()
            widget.deleteLater()
        self._set_room(self._base_margin)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and self._widget is not None:
            self._place()
        return False

    def _on_moved(self, *_args: object) -> None:
        if self._widget is not None:
            self._place()

    def _size(self) -> QSize:
        widget = self._widget
        assert widget is not None
        margin = int(self._view.document().documentMargin())
        width = max(120, self._view.viewport().width() - 2 * margin)
        height = widget.heightForWidth(width)
        if height <= 0:
            height = widget.sizeHint().height()
        return QSize(width, height)

    def _set_room(self, margin: float) -> None:
        root = self._view.document().rootFrame()
        fmt = root.frameFormat()
        if abs(fmt.bottomMargin() - margin) > 0.5:
            fmt.setBottomMargin(margin)
            root.setFrameFormat(fmt)

    def _place(self) -> None:
        widget = self._widget
        if widget is None:
            return
        size = self._size()
        room = float(size.height() + 2 * _GAP)
        self._set_room(self._base_margin + room)
        doc = self._view.document()
        height = doc.documentLayout().documentSize().height()
        top = height - self._base_margin - room + _GAP
        y = int(top) - self._view.verticalScrollBar().value()
        x = int(doc.documentMargin()) - self._view.horizontalScrollBar().value()
        widget.setGeometry(x, y, size.width(), size.height())
