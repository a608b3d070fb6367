"""Enter while an input method composes picks the candidate; it never sends.

With a Chinese, Japanese or Korean input method, the letters typed first form a
*preedit* (the underlined, half-typed text) and Enter chooses the candidate. Some
platforms still deliver that Enter to the widget as a key press, between the
preedit and the commit, and a field that acts on Enter (the message box sends, a
search field searches, a dialog's default button accepts) would act on half-typed
text. The guard watches every text field that takes the keyboard focus and drops
Enter key presses while that field has a preedit.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt
from PySide6.QtGui import QInputMethodEvent, QKeyEvent
from PySide6.QtWidgets import QApplication, QWidget

_ENTER = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


class CompositionGuard(QObject):
    """Drops Enter in the focused text field while its input method composes."""

    def __init__(self, app: QApplication) -> None:
        super().__init__(app)
        self.setObjectName("glassbox-composition-guard")
        self._composing: QObject | None = None
        app.focusChanged.connect(self._on_app_focus_changed)
        focus = app.focusWidget()
        if focus is not None:
            self.watch(focus)

    def watch(self, widget: QWidget) -> None:
        """Guard ``widget`` (done for every text field that takes the focus)."""
        if widget.testAttribute(Qt.WidgetAttribute.WA_InputMethodEnabled):
            # Installing the same filter again only moves it first: no duplicates.
            widget.installEventFilter(self)

    def composing(self, widget: QObject) -> bool:
        """Whether ``widget`` has a preedit (half-typed input method text)."""
        return self._composing is widget

    def _on_app_focus_changed(self, _old: QWidget | None, new: QWidget | None) -> None:
        # Focus moving away ends a composition (Qt commits or drops the preedit).
        self._composing = None
        if new is not None:
            self.watch(new)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.InputMethod and isinstance(event, QInputMethodEvent):
            if event.preeditString():
                self._composing = watched
            elif self._composing is watched:
                self._composing = None
        elif (
            kind == QEvent.Type.KeyPress
            and self._composing is watched
            and isinstance(event, QKeyEvent)
            and event.key() in _ENTER
        ):
            # The input method picks its candidate; the field must not act.
            event.accept()
            return True
        return False


def install_composition_guard() -> CompositionGuard:
    """The application's guard, created on first use (one per application)."""
    app = QCoreApplication.instance()
    if not isinstance(app, QApplication):
        raise RuntimeError("The input method guard needs a QApplication.")
    found = app.findChild(CompositionGuard, "glassbox-composition-guard")
    if isinstance(found, CompositionGuard):
        return found
    return CompositionGuard(app)
