"""The approval row of a reply: a tool call waiting for the user's answer.

It shows the tool, where it comes from (an MCP server's name) and the arguments
exactly as the model wrote them, as plain text (a server's tool name or a
model's argument is never interpreted as markup), with Allow once, Always for
this chat and Deny. The answer goes to the chat's ``ApprovalGate``; the row then
says what was decided and its buttons are gone.
"""

from __future__ import annotations

import json

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from desktop_app.core.tools.approval import ApprovalRequest

#: The longest arguments shown in the row (the tooltip holds them whole).
MAX_SHOWN_CHARS = 600


def _pretty(arguments: str) -> str:
    try:
        return json.dumps(json.loads(arguments), ensure_ascii=False, indent=2)
    except ValueError:
        return arguments


class ToolApprovalRow(QFrame):
    """One waiting call and its three answers."""

    sig_decided = Signal(str)
    """The user answered: "once", "always" or "deny"."""

    def __init__(self, request: ApprovalRequest, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.request = request
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAccessibleName(self.tr("Tool call waiting for approval"))
        spec, call = request.spec, request.call
        where = spec.source.removeprefix("mcp:") if spec.source.startswith("mcp:") else ""
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        self.title = QLabel(self)
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.title.setWordWrap(True)
        if where:
            self.title.setText(
                self.tr("The model wants to call {tool} (from the server {server}):").format(
                    tool=spec.name, server=where
                )
            )
        else:
            self.title.setText(self.tr("The model wants to call {tool}:").format(tool=spec.name))
        pretty = _pretty(call.arguments)
        self.arguments = QLabel(self)
        self.arguments.setTextFormat(Qt.TextFormat.PlainText)
        self.arguments.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.arguments.setStyleSheet("font-family: monospace;")
        self.arguments.setWordWrap(True)
        shown = pretty if len(pretty) <= MAX_SHOWN_CHARS else pretty[:MAX_SHOWN_CHARS] + " …"
        self.arguments.setText(shown)
        self.arguments.setToolTip(pretty[:5000])
        self.arguments.setAccessibleName(self.tr("Arguments of the call"))
        self.state = QLabel(self)
        self.state.setTextFormat(Qt.TextFormat.PlainText)
        self.state.setVisible(False)
        buttons = QHBoxLayout()
        self.allow_once = QPushButton(self.tr("Allow once"), self)
        self.allow_always = QPushButton(self.tr("Always for this chat"), self)
        self.allow_always.setToolTip(self.tr("Run this tool without asking again in this chat."))
        self.deny = QPushButton(self.tr("Deny"), self)
        self.deny.setToolTip(self.tr("The model is told the call was denied."))
        for button in (self.allow_once, self.allow_always, self.deny):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout.addWidget(self.title)
        layout.addWidget(self.arguments)
        layout.addLayout(buttons)
        layout.addWidget(self.state)
        self.allow_once.clicked.connect(self._on_allow_once_clicked)
        self.allow_always.clicked.connect(self._on_allow_always_clicked)
        self.deny.clicked.connect(self._on_deny_clicked)
        self.allow_once.setFocus()

    @Slot()
    def _on_allow_once_clicked(self) -> None:
        self._decide("once", self.tr("Allowed once."))

    @Slot()
    def _on_allow_always_clicked(self) -> None:
        self._decide("always", self.tr("Allowed for this chat."))

    @Slot()
    def _on_deny_clicked(self) -> None:
        self._decide("deny", self.tr("Denied: the model was told so."))

    def _decide(self, decision: str, text: str) -> None:
        for button in (self.allow_once, self.allow_always, self.deny):
            button.setVisible(False)
        self.state.setText(text)
        self.state.setVisible(True)
        self.sig_decided.emit(decision)
