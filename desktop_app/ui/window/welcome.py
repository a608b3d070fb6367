"""The first-run page shown in place of the empty transcript.

Three lines say what Glassbox is, how the model is getting ready and where
documents go; with no model at all it says what to do instead of showing a dead
end. The window swaps it for the transcript once a chat is open.
"""

from __future__ import annotations

import html

from PySide6.QtCore import QCoreApplication, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

__all__ = ["WelcomePage"]

#: The narrowest a line of the page's text may get (px).
_MIN_LINE_WIDTH = 200


def about_line() -> str:
    """What Glassbox is, in one sentence."""
    return QCoreApplication.translate(
        "WelcomePage",
        "Glassbox is an assistant that runs entirely on this computer, offline, and shows how likely every token of its replies was.",  # noqa: E501
    )


def documents_line() -> str:
    """Where documents go."""
    return QCoreApplication.translate(
        "WelcomePage",
        "Drop documents or folders anywhere on this window to add them to the knowledge base; chats can then answer from them and cite their sources.",  # noqa: E501
    )


def no_model_help() -> str:
    """What to do when no model is loaded (rich text)."""
    return QCoreApplication.translate(
        "WelcomePage",
        "Choose Model → Open model file… (Ctrl+O) to use a GGUF file you have, or load the default model. From a terminal, <code>make run</code> or <code>glassbox models install-default</code> installs the default model.",  # noqa: E501
    )


class WelcomePage(QWidget):
    """What a new user sees before the first chat."""

    sig_open_model = Signal()
    """The user asked to open another GGUF file."""

    sig_load_default = Signal()
    """The user asked to load (and, if needed, install) the default model."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName(self.tr("Welcome"))
        heading = _escape(self.tr("Welcome to Glassbox"))
        title = QLabel(f"<h2>{heading}</h2>", self)
        title.setTextFormat(Qt.TextFormat.RichText)  # our heading, no outside text
        title.setAccessibleName(self.tr("Welcome title"))
        self.about_label = QLabel(about_line(), self)
        self.about_label.setAccessibleName(self.tr("What Glassbox is"))
        self.model_label = QLabel("", self)
        self.model_label.setAccessibleName(self.tr("Model status"))
        self.model_label.setTextFormat(Qt.TextFormat.RichText)
        # The default model being prepared: how far, right under the line that says so.
        self.progress = QProgressBar(self)
        self.progress.setAccessibleName(self.tr("Model preparation progress"))
        self.progress.setMaximumWidth(420)
        self.progress.setVisible(False)
        self.documents_label = QLabel(documents_line(), self)
        self.documents_label.setAccessibleName(self.tr("Where documents go"))
        for label in (title, self.about_label, self.model_label, self.documents_label):
            label.setWordWrap(True)
            # A long unbreakable word (a path, a stretched translation) must not make
            # the window wider: the label wraps within whatever width it gets.
            label.setMinimumWidth(_MIN_LINE_WIDTH)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.open_button = QPushButton(self.tr("Open another GGUF…"), self)
        self.open_button.setAccessibleName(self.tr("Open another GGUF model file"))
        self.open_button.setToolTip(self.tr("Load a GGUF model file from disk (Ctrl+O)"))
        self.default_button = QPushButton(self.tr("Load the default model"), self)
        self.default_button.setAccessibleName(self.tr("Load the default model"))
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
        layout.addWidget(self.progress)
        layout.addLayout(buttons)
        layout.addWidget(self.documents_label)
        layout.addStretch(2)
        self.show_waiting()

    def show_waiting(self) -> None:
        """The model is about to be prepared (the window has just opened)."""
        self._set_model_line(
            _escape(
                self.tr(
                    "The model is prepared as soon as the window is open; the status bar below shows its progress."  # noqa: E501
                )
            ),
            no_model=False,
        )

    def show_preparing(self, text: str, fraction: float = -1.0) -> None:
        """The model is being prepared or loaded; ``text`` is the status bar's line.

        ``fraction`` is how much is done (0–1), or negative when that is unknown.
        """
        if fraction < 0:
            self.progress.setRange(0, 0)
        else:
            self.progress.setRange(0, 100)
            self.progress.setValue(round(fraction * 100))
        self.progress.setVisible(True)
        self._set_model_line(
            _escape(
                self.tr(
                    "{status} The status bar below shows the progress; you can start typing once it is ready."  # noqa: E501
                )
            ).format(status=_escape(text)),
            no_model=False,
            busy=True,
        )

    def show_ready(self, name: str) -> None:
        """A model is loaded and chats can start."""
        self._set_model_line(
            self.tr("<b>{name}</b> is ready: type a message below and press Enter.").format(
                name=_escape(name)
            ),
            no_model=False,
        )

    def show_no_model(self, reason: str | None = None) -> None:
        """No model is loaded (none asked for, or the load failed): say what to do."""
        if reason:
            text = _escape(self.tr("No model is loaded: {reason} {help}")).format(
                reason=_escape(reason), help=no_model_help()
            )
        else:
            text = _escape(self.tr("No model is loaded. {help}")).format(help=no_model_help())
        self._set_model_line(text, no_model=True)

    def _set_model_line(self, text: str, *, no_model: bool, busy: bool = False) -> None:
        self.model_label.setText(text)
        if not busy:
            self.progress.setVisible(False)
        self.default_button.setVisible(no_model)

    @Slot()
    def _on_open_button_clicked(self) -> None:
        self.sig_open_model.emit()

    @Slot()
    def _on_default_button_clicked(self) -> None:
        self.sig_load_default.emit()


def _escape(text: str) -> str:
    return html.escape(text, quote=False)
