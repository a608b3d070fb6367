"""The first-run page shown in place of the empty transcript.

Three lines say what Glassbox is, how the model is getting ready and where
documents go; with no model at all it says what to do instead of showing a dead
end. The window swaps it for the transcript once a chat is open.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

__all__ = ["WelcomePage"]

ABOUT_LINE = (
    "Glassbox is an assistant that runs entirely on this computer, offline, and shows "
    "how likely every token of its replies was."
)
DOCUMENTS_LINE = (
    "Drop documents or folders anywhere on this window to add them to the knowledge "
    "base; chats can then answer from them and cite their sources."
)
NO_MODEL_HELP = (
    "Choose Model → Open model file… (Ctrl+O) to use a GGUF file you have, or load the "
    "default model. From a terminal, <code>make run</code> or "
    "<code>glassbox models install-default</code> installs the default model."
)


class WelcomePage(QWidget):
    """What a new user sees before the first chat."""

    sig_open_model = Signal()
    """The user asked to open another GGUF file."""

    sig_load_default = Signal()
    """The user asked to load (and, if needed, install) the default model."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Welcome")
        title = QLabel("<h2>Welcome to Glassbox</h2>", self)
        title.setAccessibleName("Welcome title")
        self.about_label = QLabel(ABOUT_LINE, self)
        self.about_label.setAccessibleName("What Glassbox is")
        self.model_label = QLabel("", self)
        self.model_label.setAccessibleName("Model status")
        self.model_label.setTextFormat(Qt.TextFormat.RichText)
        self.documents_label = QLabel(DOCUMENTS_LINE, self)
        self.documents_label.setAccessibleName("Where documents go")
        for label in (self.about_label, self.model_label, self.documents_label):
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.open_button = QPushButton("Open another GGUF…", self)
        self.open_button.setAccessibleName("Open another GGUF model file")
        self.open_button.setToolTip("Load a GGUF model file from disk (Ctrl+O)")
        self.default_button = QPushButton("Load the default model", self)
        self.default_button.setAccessibleName("Load the default model")
        self.default_button.setVisible(False)
        self.open_button.clicked.connect(self._on_open_button_clicked)
        self.default_button.clicked.connect(self._on_default_button_clicked)

        buttons = QHBoxLayout()
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.default_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 32, 32, 32)
        layout.setSpacing(14)
        layout.addStretch(1)
        layout.addWidget(title)
        layout.addWidget(self.about_label)
        layout.addWidget(self.model_label)
        layout.addLayout(buttons)
        layout.addWidget(self.documents_label)
        layout.addStretch(2)
        self.show_waiting()

    def show_waiting(self) -> None:
        """The model is about to be prepared (the window has just opened)."""
        self._set_model_line(
            "The model is prepared as soon as the window is open; the status bar below "
            "shows its progress.",
            no_model=False,
        )

    def show_preparing(self, text: str) -> None:
        """The model is being prepared or loaded; ``text`` is the status bar's line."""
        self._set_model_line(
            f"{_escape(text)} The status bar below shows the progress; you can start "
            "typing once it is ready.",
            no_model=False,
        )

    def show_ready(self, name: str) -> None:
        """A model is loaded and chats can start."""
        self._set_model_line(
            f"<b>{_escape(name)}</b> is ready: type a message below and press Enter.",
            no_model=False,
        )

    def show_no_model(self, reason: str | None = None) -> None:
        """No model is loaded (none asked for, or the load failed): say what to do."""
        lead = f"No model is loaded: {_escape(reason)}" if reason else "No model is loaded."
        self._set_model_line(f"{lead} {NO_MODEL_HELP}", no_model=True)

    def _set_model_line(self, text: str, *, no_model: bool) -> None:
        self.model_label.setText(text)
        self.default_button.setVisible(no_model)

    @Slot()
    def _on_open_button_clicked(self) -> None:
        self.sig_open_model.emit()

    @Slot()
    def _on_default_button_clicked(self) -> None:
        self.sig_load_default.emit()


def _escape(text: str) -> str:
    return html.escape(text, quote=False)
