"""A task's generated text in the transcript's token view, in a dialog of its own."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import (
    Qt,
    Slot,
)
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.engine.protocol import TokenEvent
from desktop_app.ui.chat.view import ChatView, MessageView, describe_token


class TokenView(ChatView):
    """The transcript's token view for a task result: tinted tokens, hover and click for
    alternatives, without the chat's actions (a task result has no branches to make)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, read_only=True)


class TokenDialog(QDialog):
    """A task's generated result in the token view: each token tinted by its probability,
    its alternatives on hover (or click, or Alt+arrows then Enter)."""

    def __init__(
        self,
        title: str,
        text: str,
        tokens: Sequence[TokenEvent],
        detail: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Tokens — {title}").format(title=title))
        self.setAccessibleName(self.tr("Result tokens"))
        self.resize(640, 480)
        layout = QVBoxLayout(self)
        self.view = TokenView(self)
        self.view.setAccessibleName(self.tr("Result tokens view"))
        self.view.set_show_probabilities(True)
        self.view.show_messages(
            [MessageView(1, title, text, tuple(tokens), status="complete", detail=detail)]
        )
        layout.addWidget(self.view, 1)
        self._selected = QLabel(
            self.tr("Hover a token to see the candidates it was drawn from."), self
        )
        self._selected.setAccessibleName(self.tr("Selected token"))
        self._selected.setWordWrap(True)
        self._selected.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self._selected)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.setAccessibleName(self.tr("Result tokens buttons"))
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.view.sig_token_selected.connect(self._on_view_token_selected)

    @Slot(object, object)
    def _on_view_token_selected(self, token: TokenEvent | None, where: object) -> None:
        if token is not None:
            self._selected.setText(describe_token(token))
