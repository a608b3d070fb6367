"""Text from outside is shown as text: no widget renders it as rich text by accident.

Qt shows a ``QLabel`` or a tooltip as HTML whenever the string merely looks like
HTML (``Qt.AutoText``). The strings Glassbox shows come from model files, document
names, remote servers and model output; rendered, ``<img src="/dev/zero">`` makes
Qt read a local file until the process is killed, and a GGUF named
``Qwen <img src=…>`` shows a picture in the inspector. Escaping at every
``setText`` would need every call site to remember; this guard fixes it once, for
every widget of the application, present and future:

- a ``QLabel`` left at ``AutoText`` becomes ``PlainText`` when it is polished
  (before it is first shown). A label that shows our own markup says so with an
  explicit ``setTextFormat(Qt.RichText)`` and escapes what it inserts;
- a tooltip that looks like rich text (a widget's, an item's in a list, tree
  or table, a tab's, or a menu action's) is shown escaped, unless the widget
  has the ``rich_tooltip`` property set (its tooltip is built by us, with escaping).

Text views go further: a ``QTextEdit`` or ``QTextBrowser`` whose document holds an
``<img>`` or a style sheet link asks ``loadResource``, and when that gives nothing
Qt reads the file (or the bare path) itself. Every view that shows outside text
answers with :func:`inert_resource` (its own ``loadResource``, or an
:class:`InertTextDocument` given by :func:`make_inert`), so nothing is ever read.
"""

from __future__ import annotations

from PySide6 import QtGui
from PySide6.QtCore import QByteArray, QEvent, QObject, Qt, QUrl
from PySide6.QtGui import QHelpEvent, QImage, QTextDocument
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QLabel,
    QMenu,
    QPlainTextDocumentLayout,
    QPlainTextEdit,
    QTabBar,
    QTextEdit,
    QToolTip,
    QWidget,
)

#: A widget whose tooltip is our own markup (escaped where it inserts text).
RICH_TOOLTIP = "rich_tooltip"
_INSTALLED = "glassbox_plain_text_guard"


def escaped(text: str) -> str:
    """``text`` as rich text that shows exactly ``text``."""
    return str(QtGui.Qt.convertFromPlainText(text, Qt.WhiteSpaceMode.WhiteSpacePre))


def inert_resource(kind: int) -> QImage | QByteArray:
    """What a text view answers when its document asks for a resource: nothing to read.

    An image is a 1×1 transparent picture, not a null one: Qt loads the image's
    name from disk itself when the answer is null. Anything else (a style sheet,
    Markdown) is empty.
    """
    if kind == QTextDocument.ResourceType.ImageResource.value:
        image = QImage(1, 1, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        return image
    return QByteArray()


class InertTextDocument(QTextDocument):
    """A document that never loads a resource, from disk, the network or a data URL."""

    def loadResource(self, type: int, name: QUrl | str) -> object:
        return inert_resource(type)


def make_inert(view: QTextEdit | QPlainTextEdit) -> None:
    """Give ``view`` an empty :class:`InertTextDocument` (call it before adding text)."""
    document = InertTextDocument(view)
    if isinstance(view, QPlainTextEdit):
        document.setDocumentLayout(QPlainTextDocumentLayout(document))
    view.setDocument(document)


class PlainTextGuard(QObject):
    """The application-wide event filter described in the module docstring."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.Polish and isinstance(watched, QLabel):
            if watched.textFormat() == Qt.TextFormat.AutoText:
                watched.setTextFormat(Qt.TextFormat.PlainText)
        elif kind == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            tip = self._tooltip(watched, event)
            if tip is not None and QtGui.Qt.mightBeRichText(tip) and isinstance(watched, QWidget):
                QToolTip.showText(event.globalPos(), escaped(tip), watched)
                return True
        return False

    @staticmethod
    def _tooltip(watched: QObject, event: QHelpEvent) -> str | None:
        if not isinstance(watched, QWidget) or watched.property(RICH_TOOLTIP):
            return None
        view = watched.parent()
        if isinstance(view, QAbstractItemView) and watched is view.viewport():
            if view.property(RICH_TOOLTIP):
                return None
            data = view.indexAt(event.pos()).data(Qt.ItemDataRole.ToolTipRole)
            return data if isinstance(data, str) else None
        if isinstance(watched, QTabBar):  # a tab's own tooltip, not the bar's
            tab = watched.tabAt(event.pos())
            return (watched.tabToolTip(tab) if tab >= 0 else "") or watched.toolTip() or None
        if isinstance(watched, QMenu) and watched.toolTipsVisible():
            action = watched.actionAt(event.pos())
            return action.toolTip() if action is not None else None
        return watched.toolTip() or None


def install(app: QApplication) -> None:
    """Install the guard on ``app`` (once; later calls do nothing)."""
    if app.property(_INSTALLED):
        return
    guard = PlainTextGuard(app)
    app.installEventFilter(guard)
    app.setProperty(_INSTALLED, True)
