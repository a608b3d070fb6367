"""The first Glassbox window: one conversation with a local model, token by token.

The window only observes an ``InferenceController``: it sends requests and draws
what the controller's signals report. It does no model work itself, so it opens at
once; the model loads after the window is shown, with progress in the status bar.
"""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import (
    QAction,
    QBrush,
    QCloseEvent,
    QColor,
    QFont,
    QKeyEvent,
    QKeySequence,
    QShowEvent,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.engine.protocol import (
    DoneEvent,
    GenerateRequest,
    Message,
    ModelLoaded,
    TokenEvent,
)
from desktop_app.workers.inference import InferenceController

#: Viridis at nine stops: perceptually uniform and readable with colour blindness.
_VIRIDIS = (
    (0x44, 0x01, 0x54),
    (0x47, 0x2D, 0x7B),
    (0x3B, 0x52, 0x8B),
    (0x2C, 0x72, 0x8E),
    (0x21, 0x91, 0x8C),
    (0x28, 0xAE, 0x80),
    (0x5E, 0xC9, 0x62),
    (0xAD, 0xDC, 0x30),
    (0xFD, 0xE7, 0x25),
)
#: Share of viridis in the tint; the rest is white, so black text stays readable
#: (contrast above 7:1 even at the dark purple end).
_TINT_STRENGTH = 0.45
#: Candidates listed in a token's tooltip.
TOOLTIP_CANDIDATES = 5

_ERROR_COLOUR = QColor(0xA4, 0x00, 0x00)
_NOTE_COLOUR = QColor(0x66, 0x66, 0x66)
_ROLE_COLOUR = QColor(0x1F, 0x3A, 0x5F)


def probability_colour(p: float) -> QColor:
    """A light viridis tint for probability ``p`` (purple: unlikely, yellow: likely)."""
    t = min(max(p, 0.0), 1.0) * (len(_VIRIDIS) - 1)
    i = min(int(t), len(_VIRIDIS) - 2)
    frac = t - i
    lo, hi = _VIRIDIS[i], _VIRIDIS[i + 1]
    rgb = [a + (b - a) * frac for a, b in zip(lo, hi, strict=True)]
    return QColor(*(round(255 - (255 - c) * _TINT_STRENGTH) for c in rgb))


def _visible(text: str) -> str:
    # Whitespace tokens would be invisible in a tooltip table.
    return text.replace(" ", "␣").replace("\n", "↵").replace("\t", "⇥") or "∅"


def token_tooltip(token: TokenEvent) -> str:
    """Rich-text tooltip: the drawn token and the top candidates with what the sampler did."""
    gap = "style='padding-left:12px'"
    rows = []
    for cand in token.candidates[:TOOLTIP_CANDIDATES]:
        bold = " style='font-weight:bold'" if cand.id == token.id else ""
        removed = html.escape(cand.removed_by) if cand.removed_by else "—"
        rows.append(
            f"<tr{bold}><td>{html.escape(_visible(cand.text))}</td>"
            f"<td align='right' {gap}>{cand.p_raw:.3f}</td>"
            f"<td align='right' {gap}>{cand.p_final:.3f}</td><td {gap}>{removed}</td></tr>"
        )
    head = f"<b>{html.escape(_visible(token.text))}</b> &nbsp; p = {token.p:.3f}"
    if not rows:
        return head
    return (
        f"{head}<table cellspacing='0' cellpadding='1'>"
        f"<tr><th align='left'>token</th><th align='right' {gap}>p_raw</th>"
        f"<th align='right' {gap}>p_final</th><th align='left' {gap}>removed by</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def _legend_style() -> str:
    stops = ", ".join(
        f"stop:{i / (len(_VIRIDIS) - 1):.3f} {probability_colour(i / (len(_VIRIDIS) - 1)).name()}"
        for i in range(len(_VIRIDIS))
    )
    return (
        f"background: qlineargradient(x1:0, y1:0, x2:1, y2:0, {stops});"
        "border: 1px solid #999; border-radius: 2px; padding: 0 4px;"
    )


class ChatInput(QPlainTextEdit):
    """The message box: Enter sends, Shift+Enter starts a new line."""

    sig_submit = Signal()
    """The user pressed Enter to send what is typed."""

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
                self.insertPlainText("\n")
            else:
                self.sig_submit.emit()
            event.accept()
            return
        super().keyPressEvent(event)


class MainWindow(QMainWindow):
    """One conversation: transcript, message box, Send/Stop, model status."""

    def __init__(
        self,
        controller: InferenceController,
        model_spec: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._controller = controller
        self._model_spec = model_spec
        self._started = False
        self._model_ready = controller.model_loaded is not None
        self._generating = False
        self._stopping = False
        self._recovering = False  # the controller restarts the engine after a crash
        self._history: list[Message] = []
        self._reply_parts: list[str] = []
        # (start, end, p) of each reply token in the transcript, to re-tint on toggle.
        self._token_spans: list[tuple[int, int, float]] = []

        self.setWindowTitle("Glassbox")
        self.setAccessibleName("Glassbox main window")
        self.resize(900, 640)
        self._build_menu()
        self._build_body()
        self._build_status_bar()
        self._connect()
        self._update_actions()

    # ----------------------------------------------------------------- building

    def _build_menu(self) -> None:
        bar = self.menuBar()
        bar.setAccessibleName("Menu bar")
        menu = bar.addMenu("&Model")
        menu.setAccessibleName("Model menu")
        self._open_action = QAction("&Open model file…", self)
        self._open_action.setShortcut(QKeySequence.StandardKey.Open)
        self._open_action.triggered.connect(self._on_open_action_triggered)
        self._default_action = QAction("Load the &default model", self)
        self._default_action.triggered.connect(self._on_default_action_triggered)
        menu.addAction(self._open_action)
        menu.addAction(self._default_action)

    def _build_body(self) -> None:
        central = QWidget(self)
        central.setAccessibleName("Conversation")
        layout = QVBoxLayout(central)

        self._transcript = QTextEdit(central)
        self._transcript.setReadOnly(True)
        self._transcript.setAccessibleName("Transcript")
        self._transcript.setAccessibleDescription(
            "The conversation. Reply tokens can be tinted by their probability."
        )
        self._transcript.document().setUndoRedoEnabled(False)
        self._transcript.document().setDocumentMargin(10)
        layout.addWidget(self._transcript, stretch=1)

        options = QHBoxLayout()
        self._probs_check = QCheckBox("Show probabilities", central)
        self._probs_check.setAccessibleName("Show probabilities")
        self._probs_check.setToolTip(
            "Tint each reply token by the probability it was drawn with; "
            "hover a token to see the top alternatives."
        )
        self._legend = QLabel("low p → high p", central)
        self._legend.setAccessibleName("Probability colour legend")
        self._legend.setStyleSheet(_legend_style())
        self._legend.setVisible(False)
        options.addWidget(self._probs_check)
        options.addWidget(self._legend)
        options.addStretch(1)
        layout.addLayout(options)

        row = QHBoxLayout()
        self._input = ChatInput(central)
        self._input.setAccessibleName("Message")
        self._input.setPlaceholderText(
            "Type a message. Enter sends, Shift+Enter starts a new line."
        )
        self._input.setTabChangesFocus(True)
        line = self._input.fontMetrics().lineSpacing()
        self._input.setFixedHeight(line * 4 + 12)
        row.addWidget(self._input, stretch=1)

        buttons = QVBoxLayout()
        self._send_button = QPushButton("Send", central)
        self._send_button.setAccessibleName("Send")
        self._send_button.setToolTip("Send the message (Enter)")
        self._stop_button = QPushButton("Stop", central)
        self._stop_button.setAccessibleName("Stop")
        self._stop_button.setToolTip("Stop the reply (Esc)")
        self._stop_button.setShortcut(QKeySequence(Qt.Key.Key_Escape))
        buttons.addWidget(self._send_button)
        buttons.addWidget(self._stop_button)
        buttons.addStretch(1)
        row.addLayout(buttons)
        layout.addLayout(row)

        self.setCentralWidget(central)
        self._input.setFocus()

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        bar.setAccessibleName("Status bar")
        self._status_label = QLabel("", bar)
        self._status_label.setAccessibleName("Status")
        self._status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._status_label.setContentsMargins(6, 0, 6, 0)
        self._progress = QProgressBar(bar)
        self._progress.setAccessibleName("Model loading progress")
        self._progress.setFixedWidth(160)
        self._progress.setTextVisible(False)  # the status text says the percentage
        self._progress.setVisible(False)
        self._model_label = QLabel("No model", bar)
        self._model_label.setAccessibleName("Model")
        self._model_label.setContentsMargins(6, 0, 6, 0)
        bar.addWidget(self._status_label, 1)
        bar.addPermanentWidget(self._progress)
        bar.addPermanentWidget(self._model_label)

    def _connect(self) -> None:
        c = self._controller
        c.sig_model_progress.connect(self._on_controller_model_progress)
        c.sig_model_loaded.connect(self._on_controller_model_loaded)
        c.sig_prompt_progress.connect(self._on_controller_prompt_progress)
        c.sig_tokens.connect(self._on_controller_tokens)
        c.sig_done.connect(self._on_controller_done)
        c.sig_error.connect(self._on_controller_error)
        self._input.sig_submit.connect(self._on_input_submit)
        self._send_button.clicked.connect(self._on_send_button_clicked)
        self._stop_button.clicked.connect(self._on_stop_button_clicked)
        self._probs_check.toggled.connect(self._on_probs_check_toggled)

    # ----------------------------------------------------------------- public

    @property
    def history(self) -> list[Message]:
        """The conversation as sent to the engine (a copy)."""
        return list(self._history)

    def transcript_text(self) -> str:
        """The transcript as plain text (what the user reads)."""
        return self._transcript.toPlainText()

    # ----------------------------------------------------------------- Qt events

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._started:
            self._started = True
            if self._model_spec is not None:
                # After the first paint: the window is on screen before any model work.
                QTimer.singleShot(0, self, self._load_initial_model)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._controller.shutdown()
        super().closeEvent(event)

    def _load_initial_model(self) -> None:
        if self._model_spec is not None:
            self._controller.load_model(self._model_spec)

    # ----------------------------------------------------------------- state

    def _update_actions(self) -> None:
        self._send_button.setEnabled(self._model_ready and not self._generating)
        self._stop_button.setEnabled(self._generating and not self._stopping)

    def _set_status(self, text: str, error: bool = False) -> None:
        self._status_label.setText(text)
        self._status_label.setStyleSheet(f"color: {_ERROR_COLOUR.name()};" if error else "")

    # ----------------------------------------------------------------- transcript

    def _end_cursor(self) -> QTextCursor:
        cursor = QTextCursor(self._transcript.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        return cursor

    def _at_bottom(self) -> bool:
        bar = self._transcript.verticalScrollBar()
        return bar.value() >= bar.maximum() - 4

    def _follow(self, was_at_bottom: bool) -> None:
        # Keep the newest text in view, unless the user scrolled up to read.
        if was_at_bottom:
            bar = self._transcript.verticalScrollBar()
            bar.setValue(bar.maximum())

    def _append_block(self, text: str, fmt: QTextCharFormat, top_margin: float = 0.0) -> None:
        was_at_bottom = self._at_bottom()
        cursor = self._end_cursor()
        block = QTextBlockFormat()
        block.setTopMargin(top_margin)
        if self._transcript.document().isEmpty():
            cursor.setBlockFormat(block)
        else:
            cursor.insertBlock(block, QTextCharFormat())
        cursor.insertText(text, fmt)
        self._follow(was_at_bottom)

    def _append_role(self, role: str) -> None:
        fmt = QTextCharFormat()
        fmt.setFontWeight(QFont.Weight.Bold)
        fmt.setForeground(_ROLE_COLOUR)
        top = 0.0 if self._transcript.document().isEmpty() else 12.0
        self._append_block(role, fmt, top_margin=top)

    def _append_note(self, text: str, colour: QColor, inline: bool = False) -> None:
        fmt = QTextCharFormat()
        fmt.setForeground(colour)
        fmt.setFontItalic(True)
        if inline:
            was_at_bottom = self._at_bottom()
            self._end_cursor().insertText(text, fmt)
            self._follow(was_at_bottom)
        else:
            self._append_block(text, fmt)

    def _append_error(self, message: str) -> None:
        fmt = QTextCharFormat()
        fmt.setForeground(_ERROR_COLOUR)
        self._append_block(f"⚠ {message}", fmt, top_margin=6.0)

    def _token_format(self, token: TokenEvent) -> QTextCharFormat:
        fmt = QTextCharFormat()
        fmt.setToolTip(token_tooltip(token))
        if self._probs_check.isChecked():
            fmt.setBackground(probability_colour(token.p))
        return fmt

    # ----------------------------------------------------------------- user actions

    @Slot()
    def _on_input_submit(self) -> None:
        self._send_current_text()

    @Slot()
    def _on_send_button_clicked(self) -> None:
        self._send_current_text()

    def _send_current_text(self) -> None:
        text = self._input.toPlainText().strip()
        if not text or not self._model_ready or self._generating:
            return
        self._input.clear()
        self._history.append(Message("user", text))
        self._append_role("You")
        self._append_block(text, QTextCharFormat())
        self._append_role("Glassbox")
        self._append_block("", QTextCharFormat())
        self._reply_parts = []
        self._generating = True
        self._stopping = False
        self._update_actions()
        self._set_status("Generating…")
        settings = self._controller.settings
        self._controller.send(
            GenerateRequest(
                params=settings.sampling_params(),
                messages=tuple(self._history),
                candidates=settings.candidates,
            )
        )

    @Slot()
    def _on_stop_button_clicked(self) -> None:
        if not self._generating or self._stopping:
            return
        self._stopping = True
        self._controller.stop()
        self._append_note(" [stopped]", _NOTE_COLOUR, inline=True)
        self._set_status("Stopped.")
        self._update_actions()

    @Slot(bool)
    def _on_probs_check_toggled(self, checked: bool) -> None:
        self._legend.setVisible(checked)
        cursor = QTextCursor(self._transcript.document())
        cursor.beginEditBlock()
        for start, end, p in self._token_spans:
            fmt = QTextCharFormat()
            fmt.setBackground(probability_colour(p) if checked else QBrush())
            cursor.setPosition(start)
            cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
            cursor.mergeCharFormat(fmt)
        cursor.endEditBlock()

    @Slot()
    def _on_open_action_triggered(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open a GGUF model", str(Path.home()), "GGUF models (*.gguf);;All files (*)"
        )
        if path:
            self._controller.load_model(path)

    @Slot()
    def _on_default_action_triggered(self) -> None:
        self._controller.load_model("default")

    # ----------------------------------------------------------------- controller

    @Slot(str, float)
    def _on_controller_model_progress(self, text: str, fraction: float) -> None:
        self._model_ready = False
        if fraction < 0:
            self._progress.setRange(0, 0)  # busy indicator: amount of work unknown
        else:
            self._progress.setRange(0, 100)
            self._progress.setValue(round(fraction * 100))
        self._progress.setVisible(True)
        self._set_status(text)
        self._update_actions()

    @Slot(object)
    def _on_controller_model_loaded(self, loaded: ModelLoaded) -> None:
        self._model_ready = True
        self._progress.setVisible(False)
        name = Path(loaded.model_path).name
        self._model_label.setText(f"Model: {name}")
        self._model_label.setToolTip(
            f"{loaded.model_path}\ncontext {loaded.n_ctx} tokens (trained {loaded.n_ctx_train}), "
            f"{loaded.n_threads} threads, backend {loaded.backend}"
        )
        if self._recovering:
            self._set_status("The engine was restarted after the error above. Ready.")
        else:
            self._set_status(f"Ready. Loaded in {loaded.load_s:.1f} s.")
        self._recovering = False
        self._update_actions()

    @Slot(int, int)
    def _on_controller_prompt_progress(self, done: int, total: int) -> None:
        if self._generating and not self._stopping and total > 0:
            self._set_status(f"Reading the prompt… {done * 100 // total}%")

    @Slot(list)
    def _on_controller_tokens(self, tokens: list[TokenEvent]) -> None:
        if not self._generating or self._stopping:
            return
        was_at_bottom = self._at_bottom()
        cursor = self._end_cursor()
        cursor.beginEditBlock()
        for token in tokens:
            start = cursor.position()
            cursor.insertText(token.text, self._token_format(token))
            self._token_spans.append((start, cursor.position(), token.p))
            self._reply_parts.append(token.text)
        cursor.endEditBlock()
        self._follow(was_at_bottom)
        self._set_status(f"Generating… {len(self._reply_parts)} tokens")

    @Slot(object)
    def _on_controller_done(self, done: DoneEvent) -> None:
        if not self._generating:
            return
        reply = "".join(self._reply_parts)
        if reply:
            self._history.append(Message("assistant", reply))
        elif done.finish_reason != "cancelled":
            self._append_note("(empty reply)", _NOTE_COLOUR)
        count = len(self._reply_parts)
        stats = f"{count} tokens · {done.tokens_per_s:.1f} tokens/s"
        if count:
            stats += f" · first token after {done.ttft_s:.2f} s"
        notes = {
            "cancelled": "Stopped. ",
            "length": "Stopped at the token limit. ",
            "context_full": "The context window is full. ",
        }
        self._set_status(notes.get(done.finish_reason, "") + stats)
        self._end_reply()

    @Slot(str, str)
    def _on_controller_error(self, kind: str, message: str) -> None:
        if self._generating:
            reply = "".join(self._reply_parts)
            if reply:
                self._history.append(Message("assistant", reply))
            elif self._history and self._history[-1].role == "user":
                # Nothing came back: take the message out of the conversation so
                # a retry does not send it twice, and give it back for editing.
                lost = self._history.pop()
                if not self._input.toPlainText().strip():
                    self._input.setPlainText(lost.content)
            self._end_reply()
        else:
            self._progress.setVisible(False)
        self._recovering = kind == "engine_crashed"
        self._append_error(message)
        # The status bar has one line; the transcript keeps the message as written.
        self._set_status(f"⚠ {' '.join(message.split())}", error=True)
        self._update_actions()

    def _end_reply(self) -> None:
        self._generating = False
        self._stopping = False
        self._reply_parts = []
        self._update_actions()
