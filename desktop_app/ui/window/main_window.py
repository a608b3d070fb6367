"""The Glassbox window: chats on the left, the transcript in the middle, panels on the right.

The window observes three things and does no model work itself: the
``InferenceController`` (model loading, streaming), the ``ChatSession`` (what the
open conversation is and what it sends) and the ``ChatStore`` through the
sidebar. It opens at once; the model loads after the window is shown.
"""

from __future__ import annotations

import contextlib
import html
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, cast

from PySide6.QtCore import (
    QByteArray,
    QCoreApplication,
    QObject,
    QSettings,
    QSize,
    Qt,
    QTimer,
    QUrl,
    Signal,
    Slot,
)
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QColor,
    QDragEnterEvent,
    QDropEvent,
    QKeyEvent,
    QKeySequence,
    QPalette,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QStyleFactory,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from desktop_app.core import paths
from desktop_app.core.chat import export
from desktop_app.core.chat.export import VIRIDIS
from desktop_app.core.chat.importer import ImportResult, parse_origin
from desktop_app.core.chat.store import ChatSummary, StoredMessage
from desktop_app.core.chat.thinking import thinking_support
from desktop_app.core.engine.openai_remote import is_remote
from desktop_app.core.engine.protocol import DoneEvent, Message, ModelLoaded, TokenEvent
from desktop_app.core.errors import GlassboxError
from desktop_app.core.sampling import SamplingParams
from desktop_app.ui.chat import tool_steps
from desktop_app.ui.chat.conversation_list import ConversationList
from desktop_app.ui.chat.import_dialog import ChatImporter
from desktop_app.ui.chat.options import ChatOptionsPanel
from desktop_app.ui.chat.queue import QueuePanel
from desktop_app.ui.chat.session import ChatSession
from desktop_app.ui.chat.view import (
    ChatView,
    MessageView,
    describe_token,
    probability_colour,
    token_tooltip,
)
from desktop_app.ui.common.errors import error_text, error_title
from desktop_app.ui.common.plain_text import make_inert
from desktop_app.ui.common.undo import UndoBar
from desktop_app.ui.knowledge.panel import KnowledgePanel
from desktop_app.ui.model.evaluate_dialog import EvaluateDialog
from desktop_app.ui.model.panel import ModelPanel
from desktop_app.ui.sampling.panel import SamplingPanel
from desktop_app.ui.tasks.panels import TasksPanel
from desktop_app.ui.window.about import AboutDialog
from desktop_app.ui.window.shortcuts import ShortcutsDialog
from desktop_app.ui.window.welcome import WelcomePage
from desktop_app.workers.engine.inference import InferenceController, ModelProgress
from desktop_app.workers.kb.controller import KnowledgeController

if TYPE_CHECKING:
    from desktop_app.ui.window.settings_dialog import SettingsDialog
    from desktop_app.ui.window.system_check import SystemCheckDialog
    from desktop_app.workers.api.window import WindowApi

__all__ = ["ChatInput", "MainWindow", "probability_colour", "token_tooltip"]

_ERROR_COLOUR = QColor(0xA4, 0x00, 0x00)
THEMES = ("system", "light", "dark")
#: Bumped when the docks change so much that an old saved arrangement no longer fits.
LAYOUT_VERSION = 1


def theme_label(theme: str) -> str:
    """A theme's name as the View → Theme menu shows it."""
    labels = {
        "system": QCoreApplication.translate("MainWindow", "System"),
        "light": QCoreApplication.translate("MainWindow", "Light"),
        "dark": QCoreApplication.translate("MainWindow", "Dark"),
    }
    return labels.get(theme, theme)


def transcript_keys() -> list[tuple[str, str]]:
    """Keys that move around the transcript rather than trigger an action."""
    return [
        (
            "Alt+← / Alt+→",
            QCoreApplication.translate("MainWindow", "Select the previous / next token of a reply"),
        ),
        (
            QCoreApplication.translate("MainWindow", "Enter (on a selected token)"),
            QCoreApplication.translate("MainWindow", "Show the token's alternatives"),
        ),
        (
            QCoreApplication.translate("MainWindow", "Shift+Enter (in the message box)"),
            QCoreApplication.translate("MainWindow", "Start a new line"),
        ),
    ]


def window_settings() -> QSettings:
    """Where the window's size, docks and splitters are kept (next to the data)."""
    return QSettings(str(paths.data_dir() / "window.ini"), QSettings.Format.IniFormat)


def _state(value: object) -> QByteArray | None:
    # A damaged or hand-edited file gives strings or nothing instead of bytes.
    if isinstance(value, QByteArray) and not value.isEmpty():
        return value
    if isinstance(value, bytes) and value:
        return QByteArray(value)
    return None


def _legend_style() -> str:
    stops = ", ".join(
        f"stop:{i / (len(VIRIDIS) - 1):.3f} {probability_colour(i / (len(VIRIDIS) - 1)).name()}"
        for i in range(len(VIRIDIS))
    )
    return (
        f"background: qlineargradient(x1:0, y1:0, x2:1, y2:0, {stops}); color: #101010;"
        "border: 1px solid #999; border-radius: 2px; padding: 0 4px;"
    )


def dark_palette() -> QPalette:
    """A dark palette for the Fusion style (Qt has none built in)."""
    p = QPalette()
    window, base, text = (
        QColor(0x2B, 0x2D, 0x30),
        QColor(0x1E, 0x1F, 0x22),
        QColor(0xDF, 0xE1, 0xE5),
    )
    roles = {
        QPalette.ColorRole.Window: window,
        QPalette.ColorRole.WindowText: text,
        QPalette.ColorRole.Base: base,
        QPalette.ColorRole.AlternateBase: window,
        QPalette.ColorRole.ToolTipBase: QColor(0x3C, 0x3F, 0x41),
        QPalette.ColorRole.ToolTipText: text,
        QPalette.ColorRole.Text: text,
        QPalette.ColorRole.Button: window,
        QPalette.ColorRole.ButtonText: text,
        QPalette.ColorRole.BrightText: QColor(0xFF, 0x6B, 0x68),
        QPalette.ColorRole.Link: QColor(0x78, 0xAE, 0xED),
        QPalette.ColorRole.Highlight: QColor(0x2F, 0x65, 0xCA),
        QPalette.ColorRole.HighlightedText: QColor(0xFF, 0xFF, 0xFF),
        QPalette.ColorRole.PlaceholderText: QColor(0x8C, 0x8F, 0x94),
    }
    for role, colour in roles.items():
        p.setColor(role, colour)
    for role in (
        QPalette.ColorRole.Text,
        QPalette.ColorRole.ButtonText,
        QPalette.ColorRole.WindowText,
    ):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor(0x6F, 0x73, 0x7A))
    return p


class ChatInput(QPlainTextEdit):
    """The message box: Enter sends, Shift+Enter starts a new line, Esc cancels an edit."""

    sig_submit = Signal()
    """The user pressed Enter to send what is typed."""

    sig_cancel = Signal()
    """The user pressed Esc (ends an edit)."""

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
                self.insertPlainText("\n")
            else:
                self.sig_submit.emit()
            event.accept()
            return
        if event.key() == Qt.Key.Key_Escape:
            self.sig_cancel.emit()
        super().keyPressEvent(event)


def _draft_card_text(draft: dict[str, object], meta: dict[str, object]) -> str:
    """The card's line on drafting: the setting, the draft model's file, what was accepted."""
    text = str(draft.get("setting") or "")
    if draft.get("draft_model_file"):
        text += " · " + str(draft["draft_model_file"])
    proposed, accepted = meta.get("draft_proposed"), meta.get("draft_accepted")
    if isinstance(proposed, int) and isinstance(accepted, int) and proposed > 0:
        text += " · " + QCoreApplication.translate(
            "MessageCard", "{accepted} of {proposed} proposed tokens accepted"
        ).format(accepted=accepted, proposed=proposed)
    return text


class MessageCard(QDialog):
    """An assistant message's card: what produced it, and a replay button."""

    def __init__(self, message: StoredMessage, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Reply details"))
        self.setAccessibleName(self.tr("Reply details"))
        meta = dict(message.meta)
        sampling = meta.get("sampling") or {}
        speed = meta.get("tokens_per_s")
        rows = [
            (self.tr("Model file"), meta.get("model_path") or "—"),
            (self.tr("Model SHA-256"), meta.get("model_sha256") or self.tr("(not computed yet)")),
            (self.tr("Template SHA-256"), meta.get("template_sha256") or "—"),
            (self.tr("Seed"), meta.get("seed")),
            (
                self.tr("Sampling"),
                ", ".join(f"{k} {v}" for k, v in sorted(sampling.items())) or self.tr("defaults"),
            ),
            (self.tr("Finish"), meta.get("finish_reason") or message.status),
            (self.tr("Prompt tokens"), meta.get("prompt_tokens")),
            (self.tr("Reply tokens"), meta.get("completion_tokens")),
            (
                self.tr("Speed"),
                self.tr("{speed:.1f} tokens/s").format(speed=speed) if speed else "—",
            ),
        ]
        draft = meta.get("draft")
        if isinstance(draft, dict):
            rows.append((self.tr("Drafting"), _draft_card_text(draft, meta)))
        cad = meta.get("cad")
        if isinstance(cad, dict):
            rows.append(
                (
                    self.tr("Context-aware decoding"),
                    str(cad.get("setting") or "") + " · " + self.tr("drafting off"),
                )
            )
        if "second_stage" in meta:
            rows.append(
                (
                    self.tr("Two-stage"),
                    self.tr("second seed {seed}").format(seed=meta["second_stage"].get("seed")),
                )
            )
        rows += tool_steps.card_rows(meta)
        if message.edited:
            rows.append(
                (
                    self.tr("Edited"),
                    self.tr("by hand; the card describes the reply before the edit"),
                )
            )
        table = "".join(
            f"<tr><th align='left' style='padding-right:12px'>{html.escape(k)}</th>"
            f"<td style='white-space:pre-wrap'>"
            f"{html.escape(str(v) if v is not None else '—')}</td></tr>"
            for k, v in rows
        )
        layout = QVBoxLayout(self)
        view = QTextBrowser(self)
        make_inert(view)  # the card quotes the reply's details: nothing is loaded
        view.setAccessibleName(self.tr("Reply card"))
        view.setOpenLinks(False)
        view.setHtml(f"<table>{table}</table>")
        view.setMinimumSize(QSize(520, 260))
        layout.addWidget(view)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.replay_button = buttons.addButton(
            self.tr("Replay"), QDialogButtonBox.ButtonRole.ActionRole
        )
        self.replay_button.setAccessibleName(self.tr("Replay this reply"))
        self.replay_button.setToolTip(self.tr("Generate again with the same request and seed"))
        self.replay_button.setEnabled("request" in meta)
        self.replay_button.clicked.connect(self.accept)
        buttons.rejected.connect(self.reject)
        buttons.setAccessibleName(self.tr("Reply details buttons"))
        layout.addWidget(buttons)


class MainWindow(QMainWindow):
    """The chat window: conversations, transcript with token view, and the panels."""

    def __init__(
        self,
        controller: InferenceController,
        session: ChatSession,
        knowledge: KnowledgeController,
        make_api: Callable[[QObject], WindowApi],
        parent: QWidget | None = None,
        *,
        model_spec: str | None = None,
        explicit_model: bool = False,
    ) -> None:
        """Show ``session``'s chats, driven by ``controller`` (``desktop_app.app`` builds them).

        ``make_api`` makes the local API when it is first needed; ``model_spec`` is
        loaded once the window is shown.
        """
        super().__init__(parent)
        self._controller = controller
        # The command line named the model (--model, a file, --fake …): it is loaded
        # even when Settings chose a remote server.
        self._explicit_model = explicit_model
        self._knowledge = knowledge
        self._knowledge_started = False
        self._model_spec = model_spec
        self._store = session.store
        self._session = session
        # Glassbox's own OpenAI-compatible API, on this window's engine: made when
        # Settings or a saved "on" first needs it (its HTTP modules stay out of start-up).
        self._make_api = make_api
        self._api: WindowApi | None = None
        self._started = False
        self._model_ready = controller.model_loaded is not None
        self._recovering = False
        self._editing: int | None = None
        self._reply_tokens = 0
        # A notice the session gave while the last reply ran or ended (a replay's
        # verdict, a failed save): the reply's figures are added to it, not put over it.
        self._reply_notice: tuple[str, bool] | None = None
        # Per model file: tokens/s of the last reply without drafting, for the speed-up.
        self._undrafted_speed: dict[str, float] = {}
        self._gpu_checked = False
        self._options_chat_id: int | None = -1  # the chat whose options the panel shows
        self._theme = "system"
        self._evaluate_dialog: EvaluateDialog | None = None

        self.setWindowTitle(self.tr("Glassbox"))
        self.setAccessibleName(self.tr("Glassbox main window"))
        self.resize(1280, 800)
        self.setAcceptDrops(True)
        self.setDockNestingEnabled(True)
        self._build_body()
        self._build_docks()
        self._build_menu()
        self._build_status_bar()
        self._connect()
        self._update_actions()
        self._restore_layout()
        self.set_theme(controller.settings.theme)
        if model_spec is None and not self._model_ready:
            self._welcome.show_no_model()
        if self._store.recovered_from is not None:
            self._set_status(
                self.tr(
                    "The conversation file was damaged and was set aside as {name}; a new one was started."  # noqa: E501
                ).format(name=self._store.recovered_from.name),
                error=True,
            )
        chats = self._guarded_chats()
        if chats:
            self._session.open_chat(chats[0].id)
        self._show_welcome(not chats)

    # ----------------------------------------------------------------- building

    def _build_body(self) -> None:
        central = QWidget(self)
        central.setAccessibleName(self.tr("Conversation"))
        layout = QVBoxLayout(central)
        layout.setContentsMargins(6, 6, 6, 6)

        self._view = ChatView(central)
        # Until the first chat, the transcript's place holds the welcome.
        self._welcome = WelcomePage(central)
        self._transcript_stack = QStackedWidget(central)
        self._transcript_stack.setAccessibleName(self.tr("Transcript or welcome"))
        self._transcript_stack.addWidget(self._view)
        self._transcript_stack.addWidget(self._welcome)
        layout.addWidget(self._transcript_stack, stretch=1)
        # Messages typed while a reply streams wait here, under the conversation.
        self._queue = QueuePanel(central)
        layout.addWidget(self._queue)
        # A deleted message stays recoverable here for a few seconds.
        self._undo_bar = UndoBar(self.tr("Undo deleting messages"), central)
        layout.addWidget(self._undo_bar)

        options = QHBoxLayout()
        self._probs_check = QCheckBox(self.tr("Show probabilities"), central)
        self._probs_check.setAccessibleName(self.tr("Show probabilities"))
        self._probs_check.setToolTip(
            self.tr(
                "Tint each reply token by the probability it was drawn with (Ctrl+T); hover a token to see its alternatives, click it to branch from one."  # noqa: E501
            )
        )
        self._legend = QLabel(self.tr("low p → high p"), central)
        self._legend.setAccessibleName(self.tr("Probability colour legend"))
        self._legend.setAccessibleDescription(
            self.tr("Purple marks unlikely tokens, green likely ones, yellow almost certain ones.")
        )
        self._legend.setStyleSheet(_legend_style())
        self._legend.setVisible(False)
        self._token_label = QLabel("", central)
        self._token_label.setAccessibleName(self.tr("Selected token"))
        self._token_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        options.addWidget(self._probs_check)
        options.addWidget(self._legend)
        options.addSpacing(12)
        options.addWidget(self._token_label, 1)
        layout.addLayout(options)

        self._edit_banner = QLabel("", central)
        self._edit_banner.setAccessibleName(self.tr("Editing"))
        self._edit_banner.setVisible(False)
        self._edit_banner.setStyleSheet("color: palette(highlight); font-style: italic;")
        layout.addWidget(self._edit_banner)

        row = QHBoxLayout()
        self._input = ChatInput(central)
        self._input.setAccessibleName(self.tr("Message"))
        self._input.setPlaceholderText(
            self.tr("Type a message. Enter sends, Shift+Enter starts a new line.")
        )
        self._input.setTabChangesFocus(True)
        line = self._input.fontMetrics().lineSpacing()
        self._input.setFixedHeight(line * 4 + 12)
        row.addWidget(self._input, stretch=1)
        buttons = QVBoxLayout()
        self._send_button = QPushButton(self.tr("Send"), central)
        self._send_button.setAccessibleName(self.tr("Send"))
        self._send_button.setToolTip(self.tr("Send the message (Enter)"))
        self._stop_button = QPushButton(self.tr("Stop"), central)
        self._stop_button.setAccessibleName(self.tr("Stop"))
        self._stop_button.setToolTip(self.tr("Stop the reply (Esc)"))
        buttons.addWidget(self._send_button)
        buttons.addWidget(self._stop_button)
        buttons.addStretch(1)
        row.addLayout(buttons)
        layout.addLayout(row)
        self.setCentralWidget(central)
        self._input.setFocus()

    def _build_docks(self) -> None:
        self._chats = ConversationList(self._store, self)
        self._importer = ChatImporter(self._store.path, self)
        self._chats_dock = QDockWidget(self.tr("Chats"), self)
        self._chats_dock.setObjectName("ChatsDock")
        self._chats_dock.setAccessibleName(self.tr("Chats"))
        self._chats_dock.setWidget(self._chats)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self._chats_dock)

        settings = self._controller.settings
        self._sampling = SamplingPanel(settings.sampling_params(), settings.n_ctx, self)
        self._sampling.setObjectName("SamplingDock")
        self._model_panel = ModelPanel(self._controller.settings)
        self._model_panel.setParent(self)
        self._model_panel.setObjectName("ModelDock")
        self._options = ChatOptionsPanel(self._store, self)
        self._options.setObjectName("ConversationDock")
        self._knowledge_panel = KnowledgePanel(self._knowledge, self)
        self._knowledge_panel.setObjectName("KnowledgeDock")
        right = Qt.DockWidgetArea.RightDockWidgetArea
        self.addDockWidget(right, self._sampling)
        self.addDockWidget(right, self._options)
        self.addDockWidget(right, self._knowledge_panel)
        self.addDockWidget(right, self._model_panel)
        self._tasks = TasksPanel(self._controller, self._knowledge, self)
        self.addDockWidget(right, self._tasks)
        self._tasks.sig_open_source.connect(self._on_tasks_open_source)
        self._tasks.sig_status.connect(self._set_status)
        # Tabs, so each panel gets the full height (the pipeline chart needs it).
        self.tabifyDockWidget(self._sampling, self._options)
        self.tabifyDockWidget(self._options, self._knowledge_panel)
        self.tabifyDockWidget(self._knowledge_panel, self._model_panel)
        self.tabifyDockWidget(self._model_panel, self._tasks)
        self._sampling.raise_()
        self._chats.setMinimumWidth(220)
        self.resizeDocks([self._chats_dock, self._sampling], [240, 420], Qt.Orientation.Horizontal)

    def _build_menu(self) -> None:
        bar = self.menuBar()
        bar.setAccessibleName(self.tr("Menu bar"))

        chat = bar.addMenu(self.tr("&Chat"))
        self._new_action = chat.addAction(self.tr("&New chat"))
        self._new_action.setShortcut(QKeySequence.StandardKey.New)
        self._search_action = chat.addAction(self.tr("&Search chats"))
        self._search_action.setShortcut(QKeySequence.StandardKey.Find)
        self._focus_action = chat.addAction(self.tr("&Focus the message box"))
        self._focus_action.setShortcut(QKeySequence("Ctrl+L"))
        chat.addSeparator()
        self._stop_action = chat.addAction(self.tr("S&top the reply"))
        self._stop_action.setShortcut(QKeySequence(Qt.Key.Key_Escape))
        self._regenerate_action = chat.addAction(self.tr("&Regenerate last reply"))
        self._regenerate_action.setShortcut(QKeySequence("Ctrl+R"))
        self._continue_action = chat.addAction(self.tr("&Continue last reply"))
        self._continue_action.setShortcut(QKeySequence("Ctrl+Shift+R"))
        chat.addSeparator()
        export_menu = chat.addMenu(self.tr("&Export chat"))
        self._export_actions = {}
        for fmt, label in (
            ("md", self.tr("Markdown…")),
            ("json", self.tr("JSON…")),
            ("html", self.tr("HTML with probabilities…")),
        ):
            action = export_menu.addAction(label)
            action.setData(fmt)
            self._export_actions[fmt] = action
        self._import_action = chat.addAction(self.tr("&Import chats…"))
        chat.addSeparator()
        self._settings_action = chat.addAction(self.tr("Se&ttings…"))
        self._settings_action.setShortcut(QKeySequence("Ctrl+,"))
        self._quit_action = chat.addAction(self.tr("&Quit"))
        # Some platforms bind no key to Quit; Ctrl+Q is what users then expect.
        self._quit_action.setShortcuts(
            QKeySequence.keyBindings(QKeySequence.StandardKey.Quit) or [QKeySequence("Ctrl+Q")]
        )
        self._quit_action.triggered.connect(self.close)

        menu = bar.addMenu(self.tr("&Model"))
        menu.setAccessibleName(self.tr("Model menu"))
        self._open_action = QAction(self.tr("&Open model file…"), self)
        self._open_action.setShortcut(QKeySequence.StandardKey.Open)
        self._default_action = QAction(self.tr("Load the &default model"), self)
        menu.addAction(self._open_action)
        menu.addAction(self._default_action)
        menu.addSeparator()
        self._evaluate_action = menu.addAction(self.tr("&Evaluate…"))
        self._evaluate_action.setToolTip(
            self.tr("Accuracy, calibration and speed of a model on a question set")
        )

        view = bar.addMenu(self.tr("&View"))
        self._probs_action = view.addAction(self.tr("Show &probabilities"))
        self._probs_action.setCheckable(True)
        self._probs_action.setShortcut(QKeySequence("Ctrl+T"))
        self._drafts_action = view.addAction(self.tr("Mark &drafted tokens"))
        self._drafts_action.setCheckable(True)
        self._drafts_action.setToolTip(
            self.tr("Underline with dots the reply tokens a draft proposed and the model accepted")
        )
        self._documents_action = view.addAction(self.tr("Mark words from the &documents"))
        self._documents_action.setCheckable(True)
        self._documents_action.setToolTip(
            self.tr(
                "Underline in green the reply tokens the documents made much likelier "
                "(grounded replies with context-aware decoding on, α = 0 included)"
            )
        )
        view.addSeparator()
        self._conversation_panel_action = view.addAction(self.tr("Show the &Conversation panel"))
        self._conversation_panel_action.setShortcut(QKeySequence("Ctrl+Shift+C"))
        self._conversation_panel_action.setData(self._options)
        self._sampling_panel_action = view.addAction(self.tr("Show the &Sampling panel"))
        self._sampling_panel_action.setShortcut(QKeySequence("Ctrl+."))
        self._sampling_panel_action.setData(self._sampling)
        view.addSeparator()
        for dock in (
            self._chats_dock,
            self._sampling,
            self._options,
            self._knowledge_panel,
            self._model_panel,
            self._tasks,
        ):
            view.addAction(dock.toggleViewAction())
        view.addSeparator()
        theme_menu = view.addMenu(self.tr("&Theme"))
        self._theme_group = QActionGroup(self)
        for theme in THEMES:
            action = theme_menu.addAction(theme_label(theme))
            action.setCheckable(True)
            action.setData(theme)
            self._theme_group.addAction(action)
            action.setChecked(theme == "system")

        help_menu = bar.addMenu(self.tr("&Help"))
        self._shortcuts_action = help_menu.addAction(self.tr("&Keyboard shortcuts"))
        self._shortcuts_action.setShortcuts(
            QKeySequence.keyBindings(QKeySequence.StandardKey.HelpContents) or [QKeySequence("F1")]
        )
        # Linux menus read desktop entries; a bundle started by double-click has
        # none until someone adds it (make install-desktop does the same from a checkout).
        self._desktop_action = help_menu.addAction(
            self.tr("Add Glassbox to the &applications menu")
        )
        self._desktop_action.setVisible(sys.platform.startswith("linux"))
        self._system_check_action = help_menu.addAction(self.tr("System &check…"))
        self._about_action = help_menu.addAction(self.tr("&About Glassbox"))
        self._about_action.setMenuRole(QAction.MenuRole.AboutRole)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        bar.setAccessibleName(self.tr("Status bar"))
        self._status_label = QLabel("", bar)
        self._status_label.setAccessibleName(self.tr("Status"))
        self._status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._status_label.setContentsMargins(6, 0, 6, 0)
        self._progress = QProgressBar(bar)
        self._progress.setAccessibleName(self.tr("Model loading progress"))
        self._progress.setFixedWidth(160)
        self._progress.setTextVisible(False)  # the status text says the percentage
        self._progress.setVisible(False)
        self._speed_label = QLabel("", bar)
        self._speed_label.setAccessibleName(self.tr("Tokens per second"))
        self._context_label = QLabel("", bar)
        self._context_label.setAccessibleName(self.tr("Context used"))
        self._model_label = QLabel(self.tr("No model"), bar)
        self._model_label.setAccessibleName(self.tr("Model"))
        for label in (self._speed_label, self._context_label, self._model_label):
            label.setContentsMargins(6, 0, 6, 0)
        bar.addWidget(self._status_label, 1)
        bar.addPermanentWidget(self._progress)
        bar.addPermanentWidget(self._speed_label)
        bar.addPermanentWidget(self._context_label)
        bar.addPermanentWidget(self._model_label)

    def _connect(self) -> None:
        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(500)
        self._save_timer.timeout.connect(self._on_save_timer_timeout)
        c = self._controller
        c.sig_model_progress.connect(self._on_controller_model_progress)
        c.sig_model_loaded.connect(self._on_controller_model_loaded)
        c.sig_prompt_progress.connect(self._on_controller_prompt_progress)
        c.sig_error.connect(self._on_controller_error)
        fingerprint = getattr(c, "sig_model_fingerprint", None)
        if fingerprint is not None:
            fingerprint.connect(self._model_panel.set_fingerprint)

        s = self._session
        s.sig_show.connect(self._on_session_show)
        s.sig_append.connect(self._on_session_append)
        s.sig_reply_begun.connect(self._on_session_reply_begun)
        s.sig_reply_tokens.connect(self._on_session_reply_tokens)
        s.sig_reply_ended.connect(self._on_session_reply_ended)
        s.sig_reply_finished.connect(self._on_session_reply_finished)
        s.sig_chat_changed.connect(self._on_session_chat_changed)
        s.sig_notice.connect(self._on_session_notice)
        s.sig_busy.connect(self._on_session_busy)
        s.sig_context.connect(self._on_session_context)
        s.sig_queue.connect(self._queue.set_queue)
        # A tool call waiting for approval is shown under the streaming reply.
        self._tool_slot = tool_steps.attach_view(s, self._view)
        self._options.tools.server_names = tool_steps.server_names(lambda: c.settings)
        self._queue.sig_edit.connect(s.edit_queued)
        self._queue.sig_remove.connect(s.remove_queued)
        self._queue.sig_send_now.connect(self._on_queue_send_now)

        self._view.sig_action.connect(self._on_view_action)
        self._view.sig_alternative.connect(self._on_view_alternative)
        self._view.sig_token_selected.connect(self._on_view_token_selected)
        self._view.sig_copied.connect(self._on_view_copied)
        self._view.sig_source.connect(self._on_view_source)

        k = self._knowledge
        k.sig_collections.connect(self._on_knowledge_collections)
        k.sig_error.connect(self._on_knowledge_error)
        self._options.visibilityChanged.connect(self._on_knowledge_dock_visibility_changed)
        self._knowledge_panel.visibilityChanged.connect(self._on_knowledge_dock_visibility_changed)

        self._input.sig_submit.connect(self._on_input_submit)
        self._input.sig_cancel.connect(self._on_input_cancel)
        self._send_button.clicked.connect(self._on_input_submit)
        self._stop_button.clicked.connect(self._on_stop_button_clicked)
        self._probs_check.toggled.connect(self._on_probs_check_toggled)
        self._probs_action.toggled.connect(self._probs_check.setChecked)
        self._drafts_action.toggled.connect(self._view.set_mark_drafts)
        self._documents_action.toggled.connect(self._view.set_mark_documents)

        self._chats.sig_chat_selected.connect(self._on_chats_chat_selected)
        self._chats.sig_message_selected.connect(self._on_chats_message_selected)
        self._chats.sig_new_chat.connect(self._on_new_action_triggered)
        self._chats.sig_export_requested.connect(self._on_chats_export_requested)
        self._chats.sig_import_requested.connect(self._on_import_action_triggered)
        self._import_action.triggered.connect(self._on_import_action_triggered)
        self._importer.sig_imported.connect(self._on_importer_imported)
        self._importer.sig_failed.connect(self._on_importer_failed)
        self._chats.sig_chat_deleted.connect(self._on_chats_chat_deleted)
        self._chats.sig_error.connect(self._on_chats_error)
        self._chats.sig_new_chat_in_project.connect(self._on_chats_new_chat_in_project)
        self._chats.set_collections_provider(self._options.available_collections)
        self._session.sig_branch_deleted.connect(self._on_session_branch_deleted)

        self._sampling.sig_params_changed.connect(self._on_sampling_params_changed)
        self._sampling.sig_n_ctx_changed.connect(self._on_sampling_n_ctx_changed)
        self._model_panel.sig_load_requested.connect(self._on_model_panel_load_requested)
        self._model_panel.sig_speed_changed.connect(self._on_model_panel_speed_changed)
        self._model_panel.sig_draft_refused.connect(self._on_model_panel_draft_refused)
        self._model_panel.visibilityChanged.connect(self._on_model_panel_visibility_changed)

        self._options.sig_system_prompt_changed.connect(self._session.set_system_prompt)
        self._options.sig_options_changed.connect(self._session.set_options)
        self._options.sig_preset_applied.connect(self._on_options_preset_applied)
        self._options.sig_save_preset_requested.connect(self._on_options_save_preset_requested)

        self._new_action.triggered.connect(self._on_new_action_triggered)
        self._search_action.triggered.connect(self._on_search_action_triggered)
        self._regenerate_action.triggered.connect(self._on_regenerate_action_triggered)
        self._continue_action.triggered.connect(self._on_continue_action_triggered)
        for action in self._export_actions.values():
            action.triggered.connect(self._on_export_action_triggered)
        self._open_action.triggered.connect(self._on_open_action_triggered)
        self._default_action.triggered.connect(self._on_default_action_triggered)
        self._evaluate_action.triggered.connect(self._on_evaluate_action_triggered)
        self._theme_group.triggered.connect(self._on_theme_group_triggered)
        self._focus_action.triggered.connect(self._on_focus_action_triggered)
        self._stop_action.triggered.connect(self._on_stop_button_clicked)
        self._conversation_panel_action.triggered.connect(self._on_panel_action_triggered)
        self._sampling_panel_action.triggered.connect(self._on_panel_action_triggered)
        self._shortcuts_action.triggered.connect(self.show_shortcuts)
        self._settings_action.triggered.connect(self.show_settings)
        self._desktop_action.triggered.connect(self.add_to_applications_menu)
        self._system_check_action.triggered.connect(self.show_system_check)
        self._about_action.triggered.connect(self.show_about)
        self._welcome.sig_open_model.connect(self._on_open_action_triggered)
        self._welcome.sig_load_default.connect(self._on_default_action_triggered)

    # ----------------------------------------------------------------- public

    @property
    def session(self) -> ChatSession:
        """The conversation logic (tests and the UI benchmark drive it)."""
        return self._session

    @property
    def view(self) -> ChatView:
        """The transcript."""
        return self._view

    @property
    def history(self) -> list[Message]:
        """The shown branch as role and text."""
        return [m.as_message() for m in self._session.path]

    def transcript_text(self) -> str:
        """The transcript as plain text (what the user reads)."""
        return self._view.toPlainText()

    def set_theme(self, theme: str) -> None:
        """Use the light, dark or system colours, and remember the choice."""
        if theme not in THEMES:
            theme = "system"
        self._theme = theme
        if self._controller.settings.theme != theme:
            self._controller.update_settings(
                self._controller.settings.model_copy(update={"theme": theme})
            )
        app = QApplication.instance()
        if not isinstance(app, QApplication):
            return
        dark = theme == "dark"
        if theme == "system":
            app.setPalette(QPalette())
            dark = app.palette().color(QPalette.ColorRole.Window).lightness() < 128
        else:
            fusion = QStyleFactory.create("Fusion")
            if fusion is not None:
                app.setStyle(fusion)
            app.setPalette(
                dark_palette() if dark else fusion.standardPalette() if fusion else QPalette()
            )
        self._view.set_dark(dark)
        for action in self._theme_group.actions():
            action.setChecked(action.data() == theme)
        self._rerender()

    # ----------------------------------------------------------------- Qt events

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._started:
            self._started = True
            # After the first paint: the window is on screen before any model work
            # (and the local API, when switched on, starts even with no model yet).
            QTimer.singleShot(0, self, self._load_initial_model)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._save_layout()
        if self._api is not None:
            self._api.stop()
        self._session.close()
        self._knowledge.shutdown()
        self._controller.shutdown()
        self._model_panel.shutdown()
        self._importer.shutdown()
        self._store.close()
        super().closeEvent(event)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()
            return
        event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        urls = event.mimeData().urls()
        path = self._dropped_model(urls)
        if path is not None:
            event.acceptProposedAction()
            self.open_model_file(path)
            return
        documents = [u.toLocalFile() for u in urls if u.isLocalFile()]
        if not documents:
            event.ignore()
            return
        event.acceptProposedAction()
        if "files" in self._session.options.tools:
            # The chat reads dropped files with its tool instead of indexing them.
            self._session.attach_files(documents)
            self._set_status(
                self.tr("The model may read {count} dropped file(s) in this chat.").format(
                    count=len(documents)
                )
            )
            return
        self.add_documents(documents)

    @Slot(list)
    def open_paths(self, files: list[str]) -> None:
        """Files handed over by a later start ("Open with", a second double-click):
        a GGUF is loaded, documents are indexed, and the window comes to the front."""
        model = next((f for f in files if f.lower().endswith(".gguf")), None)
        documents = [f for f in files if f != model]
        if model is not None:
            self.open_model_file(model)
        if documents:
            self.add_documents(documents)
        if self.isMinimized():
            self.showNormal()
        self.raise_()
        self.activateWindow()

    def add_documents(self, paths: list[str]) -> None:
        """Index dropped files and folders into the knowledge base, in the background."""
        self._start_knowledge()
        self._knowledge_panel.show()
        self._knowledge_panel.raise_()
        collection = self._knowledge_panel.add_paths(paths)
        self._set_status(
            self.tr("Adding {count} item(s) to “{collection}” in the background…").format(
                collection=collection, count=len(paths)
            )
        )

    def _dropped_model(self, urls: list[QUrl]) -> str | None:
        for url in urls:
            if url.isLocalFile() and self._model_panel.accepts_file(url.toLocalFile()):
                return url.toLocalFile()
        return None

    def shortcut_actions(self) -> list[QAction]:
        """The window's actions that have keys, in the order the help lists them."""
        return [
            self._new_action,
            self._search_action,
            self._focus_action,
            self._stop_action,
            self._regenerate_action,
            self._continue_action,
            self._probs_action,
            self._conversation_panel_action,
            self._sampling_panel_action,
            self._settings_action,
            self._open_action,
            self._shortcuts_action,
            self._quit_action,
        ]

    @property
    def api(self) -> WindowApi:
        """Glassbox's own OpenAI-compatible API on this window's engine."""
        if self._api is None:
            self._api = self._make_api(self)
            self._api.sig_error.connect(self._on_api_error)
        return self._api

    def settings_dialog(self) -> SettingsDialog:
        """The Settings dialog (language, theme, engine, local API), wired to this window."""
        from desktop_app.ui.window.settings_dialog import SettingsDialog

        dialog = SettingsDialog(
            self._controller,
            api=self.api,
            parent=self,
            knowledge=self._knowledge,
            chats_busy=lambda: self._session.busy,
        )
        dialog.data_page.sig_chats_restored.connect(self._on_data_chats_restored)
        dialog.sig_theme_changed.connect(self.set_theme)
        dialog.sig_api_changed.connect(self._on_settings_api_changed)
        dialog.sig_language_changed.connect(self._on_settings_language_changed)
        return dialog

    @Slot()
    def add_to_applications_menu(self) -> None:
        """Install the desktop entry and icon for this user (Help menu, Linux)."""
        from desktop_app.core import desktop_entry

        try:
            done = desktop_entry.install()
        except (OSError, ValueError) as exc:
            self._set_status(
                self.tr("Glassbox could not be added to the applications menu: {reason}").format(
                    reason=exc
                ),
                error=True,
            )
            return
        self._set_status(
            self.tr("Glassbox is in the applications menu ({path}).").format(path=done.entry)
        )

    @Slot()
    def show_settings(self) -> None:
        """Open Settings (Ctrl+,)."""
        dialog = self.settings_dialog()
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    @Slot()
    def _on_data_chats_restored(self) -> None:
        # The open chat may not exist in the restored file: show it again or start anew.
        chat_id = self._session.chat_id
        if chat_id is not None and any(c.id == chat_id for c in self._store.list_chats()):
            self._session.open_chat(chat_id)
        else:
            self._session.new_chat()
        self._chats.refresh(self._session.chat_id)
        self._set_status(self.tr("The chats were restored from a backup."))

    @Slot(bool)
    def _on_settings_api_changed(self, running: bool) -> None:
        if running:
            self._start_knowledge()
            self._set_status(self.tr("The local API is serving at {url}.").format(url=self.api.url))
        else:
            self._set_status(self.tr("The local API is off."))

    @Slot(str)
    def _on_settings_language_changed(self, _language: str) -> None:
        self._set_status(self.tr("The new language is used when Glassbox restarts."))

    @Slot(str)
    def _on_api_error(self, message: str) -> None:
        self._set_status(self.tr("Local API: {message}").format(message=message), error=True)

    def shortcuts_dialog(self) -> ShortcutsDialog:
        """The Keyboard shortcuts dialog, read from the actions as they are now."""
        return ShortcutsDialog(self.shortcut_actions(), transcript_keys(), self)

    @Slot()
    def show_shortcuts(self) -> None:
        """Help → Keyboard shortcuts."""
        self.shortcuts_dialog().exec()

    def backend_text(self) -> str:
        """What the engine runs on: the loaded model's backend, else what the build can do."""
        loaded = self._controller.model_loaded
        if loaded is not None:
            text = f"{loaded.backend} ({Path(loaded.model_path).name})"
            if loaded.kernels:
                text += f"; {loaded.kernels}"
            if loaded.safe_mode:
                text += "; " + self.tr(
                    "loaded again in safe mode: the first load stopped the engine ({reason})"
                ).format(reason=loaded.safe_reason or "?")
            return text
        # Asking imports llama.cpp: only here, once the user opens About.
        if self._controller.gpu_offload_supported():
            return self.tr("no model loaded; GPU offload available")
        return self.tr("no model loaded; CPU build")

    def about_dialog(self) -> AboutDialog:
        """The About dialog with the backend as it is now."""
        return AboutDialog(self.backend_text(), self)

    @Slot()
    def show_about(self) -> None:
        """Help → About Glassbox."""
        self.about_dialog().exec()

    def system_check_dialog(self) -> SystemCheckDialog:
        """The System check dialog (``glassbox doctor`` in a child process), not started."""
        from desktop_app.ui.window.system_check import SystemCheckDialog

        return SystemCheckDialog(parent=self)

    @Slot()
    def show_system_check(self) -> None:
        """Help → System check: runs the checks without blocking the window."""
        dialog = self.system_check_dialog()
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        dialog.start()

    def _save_layout(self) -> None:
        store = window_settings()
        store.setValue("window/geometry", self.saveGeometry())
        store.setValue("window/state", self.saveState(LAYOUT_VERSION))
        splitters = self.findChildren(QSplitter)
        store.setValue("splitters/count", len(splitters))
        for n, splitter in enumerate(splitters):
            store.setValue(f"splitters/{n}", splitter.saveState())
        store.sync()
        if store.status() != QSettings.Status.NoError:
            self._set_status(self.tr("The window layout could not be saved."), error=True)

    def _restore_layout(self) -> None:
        # Anything unusable (damaged, from another version, hand-edited) is skipped:
        # the window then keeps its built-in arrangement.
        store = window_settings()
        if store.status() != QSettings.Status.NoError:
            return
        geometry = _state(store.value("window/geometry"))
        if geometry is not None:
            self.restoreGeometry(geometry)
        state = _state(store.value("window/state"))
        if state is not None:
            self.restoreState(state, LAYOUT_VERSION)
        splitters = self.findChildren(QSplitter)
        if str(store.value("splitters/count", "")) != str(len(splitters)):
            return
        for n, splitter in enumerate(splitters):
            sizes = _state(store.value(f"splitters/{n}"))
            if sizes is not None:
                splitter.restoreState(sizes)

    def _show_welcome(self, show: bool) -> None:
        self._transcript_stack.setCurrentWidget(self._welcome if show else self._view)

    @property
    def welcome_shown(self) -> bool:
        """Whether the first-run page stands in for the transcript."""
        return self._transcript_stack.currentWidget() is self._welcome

    def _load_initial_model(self) -> None:
        if self._model_spec is not None:
            # The model the command line asked for, else the remote server when
            # Settings chose one, else the last model.
            self._controller.load_initial(self._model_spec, explicit=self._explicit_model)
        if self._controller.settings.api_enabled:
            self._start_api()

    def _start_api(self) -> None:
        """Serve the API as the settings say; a port in use is reported, not fatal."""
        s = self._controller.settings
        self._start_knowledge()  # /v1/knowledge/answer searches the knowledge base
        try:
            url = self.api.start(s.api_port, allow_remote=s.api_allow_remote, token=s.api_token)
        except GlassboxError as exc:
            self._set_status(
                self.tr("The local API could not start: {reason}").format(reason=exc), error=True
            )
            return
        self._set_status(self.tr("The local API is serving at {url}.").format(url=url))

    # ----------------------------------------------------------------- state

    def _guarded_chats(self) -> list[ChatSummary]:
        try:
            return self._store.list_chats()
        except GlassboxError as exc:
            self._set_status(error_text(exc.kind, str(exc)), error=True)
            return []

    def _update_actions(self) -> None:
        busy = self._session.busy
        self._send_button.setEnabled(self._model_ready and not busy)
        self._stop_button.setEnabled(busy)
        self._stop_action.setEnabled(busy)
        has_reply = any(m.role == "assistant" for m in self._session.path)
        self._regenerate_action.setEnabled(self._model_ready and not busy and has_reply)
        # A remote server cannot be made to go on from a given reply start.
        can_continue = self._controller.capabilities.assistant_prefix
        self._continue_action.setEnabled(
            self._model_ready and not busy and has_reply and can_continue
        )
        for action in self._export_actions.values():
            action.setEnabled(self._session.chat_id is not None)

    def _set_status(self, text: str, error: bool = False) -> None:
        self._status_label.setText(" ".join(text.split()))
        self._status_label.setStyleSheet(f"color: {_ERROR_COLOUR.name()};" if error else "")

    def _rerender(self) -> None:
        chat_id = self._session.chat_id
        if chat_id is not None and not self._session.busy:
            self._session.open_chat(chat_id)

    def _last_assistant(self) -> int | None:
        for m in reversed(self._session.path):
            if m.role == "assistant":
                return m.id
        return None

    def open_model_file(self, path: str) -> None:
        """Inspect a GGUF in the model panel and load it (refused files keep the old model)."""
        self._model_panel.inspect(path)
        self._model_panel.show()
        self._model_panel.raise_()
        self._controller.load_model(path)

    # ----------------------------------------------------------------- user actions

    @Slot()
    def _on_input_submit(self) -> None:
        text = self._input.toPlainText().strip()
        if not text or not self._model_ready:
            return
        if self._session.busy:
            # While a reply streams, a new message waits its turn (an edit does not).
            if self._editing is None and self._session.queue(text):
                self._input.clear()
                self._set_status(self.tr("Queued: the message is sent when the reply ends."))
            return
        if self._editing is not None:
            message_id, self._editing = self._editing, None
            self._edit_banner.setVisible(False)
            self._input.clear()
            self._session.edit_message(message_id, text)
        else:
            if self._session.send(text):
                self._input.clear()
        self._update_actions()

    @Slot()
    def _on_input_cancel(self) -> None:
        if self._editing is not None:
            self._editing = None
            self._edit_banner.setVisible(False)
            self._input.clear()

    def stop_queue_box(self, count: int) -> QMessageBox:
        """The question Stop asks when messages are queued: drop them too, or send them next."""
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle(self.tr("Stop the reply"))
        box.setText(
            self.tr("{n} queued message(s) wait to be sent after this reply.").format(n=count)
        )
        box.setInformativeText(
            self.tr(
                "Stop the reply and drop the queued messages, or stop only the reply and send them next?"  # noqa: E501
            )
        )
        drop = box.addButton(
            self.tr("Stop and drop the queue"), QMessageBox.ButtonRole.DestructiveRole
        )
        drop.setObjectName("drop")
        keep = box.addButton(self.tr("Stop the reply only"), QMessageBox.ButtonRole.AcceptRole)
        keep.setObjectName("keep")
        going = box.addButton(self.tr("Keep writing"), QMessageBox.ButtonRole.RejectRole)
        going.setObjectName("cancel")
        box.setDefaultButton(keep)
        box.setEscapeButton(going)
        return box

    @Slot()
    def _on_stop_button_clicked(self) -> None:
        if self._session.busy:
            queued = len(self._session.queued_messages())
            if queued:
                box = self.stop_queue_box(queued)
                box.exec()
                chosen = box.clickedButton()
                name = chosen.objectName() if chosen is not None else "cancel"
                if name == "cancel" or not self._session.busy:
                    return
                if name == "drop":
                    self._session.clear_queue()
            self._session.stop()
            # Shown at once; tokens still on their way are dropped by the controller.
            self._set_status(self.tr("Stopped."))
            self._stop_button.setEnabled(False)

    @Slot(bool)
    def _on_probs_check_toggled(self, checked: bool) -> None:
        self._legend.setVisible(checked)
        self._probs_action.setChecked(checked)
        self._view.set_show_probabilities(checked)

    @Slot(str, int)
    def _on_view_action(self, action: str, message_id: int) -> None:
        s = self._session
        if action in ("prev", "next"):
            s.switch_branch(message_id, -1 if action == "prev" else 1)
        elif action == "delete":
            s.delete_branch(message_id)
        elif action == "regenerate":
            s.regenerate(message_id)
        elif action == "continue":
            s.continue_reply(message_id)
        elif action == "fork":
            s.fork(message_id)
        elif action == "edit":
            self._start_edit(message_id)
        elif action == "details":
            self._show_card(message_id)
        self._update_actions()

    def _start_edit(self, message_id: int) -> None:
        message = self._session.message(message_id)
        if message is None:
            return
        self._editing = message_id
        if message.role == "user":
            banner = self.tr("Editing your message: Enter saves it as a new branch, Esc cancels.")
        else:
            banner = self.tr("Editing the reply: Enter saves it as a new branch, Esc cancels.")
        self._edit_banner.setText(banner)
        self._edit_banner.setVisible(True)
        self._input.setPlainText(message.content)
        self._input.setFocus()

    def _show_card(self, message_id: int) -> None:
        message = self._session.message(message_id)
        if message is None:
            return
        card = MessageCard(message, self)
        if card.exec() == QDialog.DialogCode.Accepted:
            self._session.replay(message_id)

    @Slot(int, int, int)
    def _on_view_alternative(self, message_id: int, index: int, candidate_id: int) -> None:
        if self._session.busy:
            self._session.stop()
            QTimer.singleShot(
                50, lambda: self._on_view_alternative(message_id, index, candidate_id)
            )
            return
        self._session.branch_from_alternative(message_id, index, candidate_id)
        self._update_actions()

    @Slot(object, object)
    def _on_view_token_selected(self, token: TokenEvent | None, where: object) -> None:
        if token is None:
            self._token_label.setText("")
            self._sampling.show_token(None)
            return
        said = describe_token(token)
        self._token_label.setText(said)
        self._token_label.setAccessibleDescription(said)
        generated = None
        earlier: list[TokenEvent] = []
        if isinstance(where, tuple):
            earlier = self._view.tokens_before(where[0], where[1])
            message = self._session.message(where[0])
            sampling = message.meta.get("sampling") if message is not None else None
            if isinstance(sampling, dict):
                try:
                    generated = SamplingParams.from_record(sampling)
                except GlassboxError:
                    generated = None
        self._sampling.show_token(
            token,
            history=[t.id for t in earlier],
            generated_with=generated,
            history_text={t.id: t.text for t in earlier},
        )

    @Slot(int, int)
    def _on_view_source(self, message_id: int, n: int) -> None:
        message = self._session.message(message_id)
        citations = message.meta.get("citations") if message is not None else None
        cited = next((c for c in citations or () if isinstance(c, dict) and c.get("n") == n), None)
        if cited is None:
            self._set_status(
                self.tr("Source [{n}] is not recorded for this reply.").format(n=n), error=True
            )
            return
        self._start_knowledge()
        self._knowledge_panel.open_source(
            (
                str(cited.get("source", "")),
                int(cited.get("char_start") or 0),
                int(cited.get("char_end") or 0),
            )
        )

    @Slot(object)
    def _on_tasks_open_source(self, hit: object) -> None:
        self._start_knowledge()
        self._knowledge_panel.open_source(hit)  # type: ignore[arg-type]

    @Slot(bool)
    def _on_knowledge_dock_visibility_changed(self, visible: bool) -> None:
        if visible:
            self._start_knowledge()

    def _start_knowledge(self) -> None:
        # The store opens on the controller's thread; the collections come back by signal.
        if not self._knowledge_started:
            self._knowledge_started = True
            self._knowledge.refresh()

    @Slot(list)
    def _on_knowledge_collections(self, summaries: list[object]) -> None:
        self._options.set_available_collections([str(getattr(c, "name", c)) for c in summaries])

    @Slot(str, str)
    def _on_knowledge_error(self, kind: str, message: str) -> None:
        self._set_status(error_text(kind, message), error=True)

    @Slot(str)
    def _on_view_copied(self, what: str) -> None:
        said = {
            "message": self.tr("Copied the message."),
            "code block": self.tr("Copied the code block."),
        }
        self._set_status(said.get(what, self.tr("Copied.")))

    @Slot()
    def _on_new_action_triggered(self) -> None:
        self._session.new_chat()
        self._input.setFocus()

    @Slot()
    def _on_focus_action_triggered(self) -> None:
        self._input.setFocus(Qt.FocusReason.ShortcutFocusReason)

    @Slot()
    def _on_panel_action_triggered(self) -> None:
        action = self.sender()
        dock = action.data() if isinstance(action, QAction) else None
        if isinstance(dock, QDockWidget):
            dock.show()
            dock.raise_()
            dock.setFocus(Qt.FocusReason.ShortcutFocusReason)
            widget = dock.widget()
            if widget is not None:
                widget.setFocus(Qt.FocusReason.ShortcutFocusReason)

    @Slot()
    def _on_search_action_triggered(self) -> None:
        self._chats_dock.show()
        self._chats.focus_search()

    @Slot()
    def _on_regenerate_action_triggered(self) -> None:
        last = self._last_assistant()
        if last is not None:
            self._session.regenerate(last)

    @Slot()
    def _on_continue_action_triggered(self) -> None:
        last = self._last_assistant()
        if last is not None:
            self._session.continue_reply(last)

    @Slot()
    def _on_export_action_triggered(self) -> None:
        action = self.sender()
        chat_id = self._session.chat_id
        if isinstance(action, QAction) and chat_id is not None:
            self.export_chat(chat_id, str(action.data()))

    @Slot(int, str)
    def _on_chats_export_requested(self, chat_id: int, fmt: str) -> None:
        self.export_chat(chat_id, fmt)

    @Slot()
    def _on_import_action_triggered(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            self.tr("Import chats"),
            str(Path.home()),
            self.tr("Glassbox or ChatGPT exports (*.json *.zip);;All files (*)"),
        )
        if path:
            self.import_chats(path)

    def import_chats(self, path: str, fmt: str = "auto") -> bool:
        """Import the chats of ``path`` (a Glassbox JSON export, ChatGPT's conversations.json
        or its zip) on a thread, with a progress dialog; False while another import runs."""
        if not self._importer.start(Path(path), fmt):
            self._set_status(
                self.tr("An import is already running; wait for it to finish."), error=True
            )
            return False
        self._set_status(self.tr("Importing chats from {path}…").format(path=path))
        return True

    @property
    def importer(self) -> ChatImporter:
        """The chat importer (tests watch its progress dialog)."""
        return self._importer

    @Slot(object)
    def _on_importer_imported(self, result: ImportResult) -> None:
        self._chats.refresh()
        origin = parse_origin(result.origin)
        file = origin.file if origin else ""
        if not result.chats:
            text = self.tr(
                "Nothing was added from {file}: its {n} chats were already imported, so they "
                "were skipped."
            ).format(file=file, n=result.already_imported)
        else:
            text = self.tr(
                "Chats imported from {file}: {chats}, with {messages} messages. Hover over "
                "a chat in the sidebar to see where it came from."
            ).format(file=file, chats=result.chats, messages=result.messages)
            if result.already_imported:
                text += " " + self.tr("{n} already imported before were skipped.").format(
                    n=result.already_imported
                )
        self._set_status(text)

    @Slot(str)
    def _on_importer_failed(self, message: str) -> None:
        self._set_status(message, error=True)

    def export_chat(self, chat_id: int, fmt: str, path: str | None = None) -> Path | None:
        """Export a chat as Markdown or HTML (the branch shown) or JSON (every branch, for
        Import chats… to read back); asks where unless ``path``."""
        self._session.wait_saved()
        try:
            chat = self._store.chat(chat_id)
            messages = self._store.current_path(chat_id)
            text = export.export_chat(self._store, chat, messages, fmt)
        except GlassboxError as exc:
            self._set_status(error_text(exc.kind, str(exc)), error=True)
            return None
        if path is None:
            suffix = {
                "md": self.tr("Markdown (*.md)"),
                "json": self.tr("JSON (*.json)"),
                "html": self.tr("HTML (*.html)"),
            }[fmt]
            name = export.suggested_filename(chat, cast(export.ExportFormat, fmt))
            path, _ = QFileDialog.getSaveFileName(
                self, self.tr("Export chat"), str(Path.home() / name), suffix
            )
            if not path:
                return None
        target = Path(path)
        try:
            target.write_text(text, encoding="utf-8")
        except OSError as exc:
            self._set_status(
                self.tr("Could not write {path}: {reason}").format(
                    path=target, reason=exc.strerror or exc
                ),
                error=True,
            )
            return None
        self._set_status(self.tr("Exported to {path}.").format(path=target))
        return target

    @Slot(int)
    def _on_chats_chat_selected(self, chat_id: int) -> None:
        if chat_id != self._session.chat_id:
            self._session.open_chat(chat_id)
        self._update_actions()

    @Slot(int)
    def _on_chats_chat_deleted(self, chat_id: int) -> None:
        if chat_id == self._session.chat_id:
            self._session.new_chat()
        self._set_status(self.tr("Chat deleted. Undo brings it back."))

    @Slot(int)
    def _on_chats_new_chat_in_project(self, project_id: int) -> None:
        try:
            project = self._store.project(project_id)
        except GlassboxError as exc:
            self._set_status(error_text(exc.kind, str(exc)), error=True)
            return
        self._session.new_chat(project)
        self._options_chat_id = -1  # the options panel shows the project's
        self._on_session_chat_changed()
        if project.sampling:
            self._on_options_preset_applied(project)
        self._set_status(
            self.tr("New chat in the project “{name}”, with its settings.").format(
                name=project.name
            )
        )
        self._input.setFocus()

    @Slot(int, int)
    def _on_session_branch_deleted(self, message_id: int, count: int) -> None:
        if count == 1:
            text = self.tr("Deleted the message.")
        else:
            text = self.tr("Deleted the message and the {n} after it.").format(n=count - 1)
        session = self._session
        self._undo_bar.offer(
            text,
            lambda: session.undo_delete(message_id),
            lambda: session.finish_delete(message_id),
        )
        self._set_status(text + " " + self.tr("Undo brings it back."))

    @Slot(str)
    def _on_chats_error(self, message: str) -> None:
        self._set_status(message, error=True)

    @Slot(int, int)
    def _on_chats_message_selected(self, chat_id: int, message_id: int) -> None:
        self._session.open_chat(chat_id, message_id)
        # A hit on a branch that is not shown has nothing to scroll to.
        with contextlib.suppress(KeyError):
            self._view.scroll_to_message(message_id)
        self._update_actions()

    @Slot(object)
    def _on_sampling_params_changed(self, params: SamplingParams) -> None:
        self._session.set_params(params)
        self._save_timer.start()

    @Slot(int)
    def _on_sampling_n_ctx_changed(self, n_ctx: int) -> None:
        self._save_timer.start()
        loaded = self._controller.model_loaded
        if loaded is not None and loaded.n_ctx != n_ctx:
            self._set_status(
                self.tr("Context length {n_ctx:,}: load the model again to use it.").format(
                    n_ctx=n_ctx
                )
            )

    @Slot()
    def _on_save_timer_timeout(self) -> None:
        # A slider drag changes values many times a second; they are saved once it rests.
        settings = self._controller.settings.with_sampling(self._sampling.params())
        self._controller.update_settings(
            settings.model_copy(update={"n_ctx": self._sampling.n_ctx()})
        )

    @Slot(str, object)
    def _on_model_panel_load_requested(self, path: str, overrides: object) -> None:
        self._controller.load_model(path, overrides)  # type: ignore[arg-type]

    @Slot(bool, int)
    def _on_model_panel_speed_changed(self, prompt_lookup: bool, max_draft: int) -> None:
        settings = self._controller.settings
        if (settings.prompt_lookup, settings.max_draft) != (prompt_lookup, max_draft):
            self._controller.update_settings(
                settings.model_copy(update={"prompt_lookup": prompt_lookup, "max_draft": max_draft})
            )

    @Slot(str)
    def _on_model_panel_draft_refused(self, _message: str) -> None:
        # The model works without it (the panel and the status bar say why); the
        # next start does not ask for it again.
        settings = self._controller.settings
        if settings.draft_model is not None:
            self._controller.update_settings(settings.model_copy(update={"draft_model": None}))

    @Slot(bool)
    def _on_model_panel_visibility_changed(self, visible: bool) -> None:
        # Asking llama.cpp imports it (a fraction of a second): only once the panel is seen.
        if visible and not self._gpu_checked:
            self._gpu_checked = True
            self._model_panel.set_gpu_offload_supported(self._controller.gpu_offload_supported())

    @Slot(object)
    def _on_options_preset_applied(self, preset: object) -> None:
        sampling = getattr(preset, "sampling", {})
        try:
            params = SamplingParams.from_record(dict(sampling))
        except GlassboxError as exc:
            self._set_status(
                self.tr("The preset's sampling values are not valid: {reason}").format(reason=exc),
                error=True,
            )
            return
        self._sampling.set_params(params)
        self._session.set_params(params)
        self._set_status(
            self.tr("Preset “{name}” applied.").format(name=getattr(preset, "name", ""))
        )

    @Slot(str)
    def _on_options_save_preset_requested(self, name: str) -> None:
        params = self._sampling.params()
        sampling = self._controller.settings.with_sampling(params).sampling
        try:
            self._options.save_preset(name, dict(sampling))
        except GlassboxError as exc:
            self._set_status(error_text(exc.kind, str(exc)), error=True)
            return
        self._set_status(self.tr("Preset “{name}” saved.").format(name=name))

    @Slot(QAction)
    def _on_theme_group_triggered(self, action: QAction) -> None:
        self.set_theme(str(action.data()))

    @Slot()
    def _on_evaluate_action_triggered(self) -> None:
        self.open_evaluate_dialog()

    def open_evaluate_dialog(self) -> EvaluateDialog:
        """Model → Evaluate…: the dialog (one at a time), the loaded model chosen in it."""
        dialog = self._evaluate_dialog
        if dialog is None or not isValid(dialog):
            loaded = self._controller.model_loaded
            local = loaded is not None and not self._controller.is_remote()
            dialog = EvaluateDialog(loaded.model_path if local and loaded else None, self)
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            self._evaluate_dialog = dialog
        dialog.show()
        dialog.activateWindow()
        return dialog

    @Slot()
    def _on_open_action_triggered(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            self.tr("Open a GGUF model"),
            str(Path.home()),
            self.tr("GGUF models (*.gguf);;All files (*)"),
        )
        if path:
            self.open_model_file(path)

    @Slot()
    def _on_default_action_triggered(self) -> None:
        self._controller.load_model("default")

    # ----------------------------------------------------------------- session

    @Slot(list)
    def _on_session_show(self, views: list[MessageView]) -> None:
        self._view.show_messages(views)
        self._update_actions()

    @Slot(object)
    def _on_session_append(self, view: MessageView) -> None:
        self._view.append_message(view)

    @Slot(object)
    def _on_session_reply_begun(self, view: MessageView) -> None:
        self._reply_tokens = 0
        self._reply_notice = None
        self._view.begin_reply(view)
        self._set_status(self.tr("Generating…"))
        self._update_actions()

    @Slot(list)
    def _on_session_reply_tokens(self, tokens: list[TokenEvent]) -> None:
        self._view.append_tokens(tokens)
        self._reply_tokens += len(tokens)
        self._set_status(self.tr("Generating… {count} tokens").format(count=self._reply_tokens))

    @Slot(object)
    def _on_session_reply_ended(self, view: MessageView) -> None:
        self._view.end_reply(view)
        self._update_actions()

    @Slot()
    def _on_session_chat_changed(self) -> None:
        self._chats.refresh(self._session.chat_id)
        chat_id = self._session.chat_id
        title = self.tr("Glassbox")
        if chat_id is not None:
            # A damaged chat keeps the plain title; the sidebar shows the damage.
            with contextlib.suppress(GlassboxError):
                title = self.tr("{title} — Glassbox").format(title=self._store.chat(chat_id).title)
        self.setWindowTitle(title)
        if chat_id is not None:
            self._show_welcome(False)
        if chat_id != self._options_chat_id:
            # Another chat is open: show its own options.
            self._options_chat_id = chat_id
            self._options.set_system_prompt(self._session.system_prompt)
            self._options.set_options(self._session.options)
        self._update_actions()

    @Slot(str, bool)
    def _on_session_notice(self, text: str, error: bool) -> None:
        self._reply_notice = (text, error)
        self._set_status(text, error)

    @Slot(bool)
    def _on_session_busy(self, busy: bool) -> None:
        self._queue.set_busy(busy)
        self._update_actions()

    @Slot(int)
    def _on_queue_send_now(self, queued_id: int) -> None:
        if not self._model_ready:
            self._set_status(self.tr("Load a model first (Model menu or the Model panel)."), True)
            return
        self._session.send_queued(queued_id)
        self._update_actions()

    @Slot(int, int)
    def _on_session_context(self, used: int, total: int) -> None:
        self._context_label.setText(
            self.tr("Context {used:,} / {total:,}").format(used=used, total=total)
        )
        self._context_label.setToolTip(
            self.tr("{share:.0%} of the context window used").format(share=used / max(total, 1))
        )

    # ----------------------------------------------------------------- controller

    def progress_text(self, progress: ModelProgress) -> str:
        """The engine thread's progress, said in the window's language."""
        if progress.stage == "prepare":
            percent = progress.percent
            if percent is None:
                if progress.default:
                    return self.tr("Preparing default model…")
                return self.tr("Preparing model…")
            if progress.default:
                return self.tr("Preparing default model… {percent}%").format(percent=percent)
            return self.tr("Preparing model… {percent}%").format(percent=percent)
        if progress.stage == "load":
            return self.tr("Loading {name}…").format(name=progress.subject)
        if progress.stage == "connect":
            return self.tr("Connecting to {url}…").format(url=progress.subject)
        return self.tr("Restarting the engine…")

    @Slot(object)
    def _on_controller_model_progress(self, progress: ModelProgress) -> None:
        fraction = progress.fraction
        self._model_ready = False
        if fraction < 0:
            self._progress.setRange(0, 0)  # busy indicator: amount of work unknown
        else:
            self._progress.setRange(0, 100)
            self._progress.setValue(round(fraction * 100))
        self._progress.setVisible(True)
        text = self.progress_text(progress)
        self._set_status(text)
        self._welcome.show_preparing(text, fraction)
        self._update_actions()

    @Slot(object)
    def _on_controller_model_loaded(self, loaded: ModelLoaded) -> None:
        self._model_ready = True
        self._progress.setVisible(False)
        name = Path(loaded.model_path).name
        self._model_label.setText(self.tr("Model: {name}").format(name=name))
        self._model_label.setToolTip(
            self.tr(
                "{path}\ncontext {n_ctx} tokens (trained {n_ctx_train}), {threads} threads, backend {backend}"  # noqa: E501
            ).format(
                path=loaded.model_path,
                n_ctx=loaded.n_ctx,
                n_ctx_train=loaded.n_ctx_train,
                threads=loaded.n_threads,
                backend=loaded.backend,
            )
        )
        self._context_label.setText(
            self.tr("Context {used:,} / {total:,}").format(used=0, total=loaded.n_ctx)
        )
        self._model_panel.set_loaded(loaded)
        # The Thinking switch is offered where the model's template has one.
        self._options.thinking.set_support(
            thinking_support(loaded.chat_template), remote=is_remote(loaded)
        )
        self._welcome.show_ready(name)
        if self._controller.settings.theme != self._theme:
            # A load that began before the theme changed saved its own copy of the settings.
            self._controller.update_settings(
                self._controller.settings.model_copy(update={"theme": self._theme})
            )
        self._sampling.set_n_ctx(loaded.n_ctx)
        if loaded.safe_mode:
            self._set_status(
                self.tr(
                    "Loaded in safe mode: the first try stopped the engine ({reason}). "
                    "Replies may be slower; Help → About says more."
                ).format(reason=loaded.safe_reason or "?"),
                error=True,
            )
        elif self._recovering:
            self._set_status(self.tr("The engine was restarted after the error above. Ready."))
        else:
            self._set_status(
                self.tr("Ready. Loaded in {seconds:.1f} s.").format(seconds=loaded.load_s)
            )
        if loaded.draft_error:
            self._set_status(
                self.tr(
                    "The model is loaded, but not the draft model, so replies are not drafted "
                    "by it. Choose another draft model in Model → Speed, or None. {reason}"
                ).format(reason=" ".join(loaded.draft_error.split())),
                error=True,
            )
        self._recovering = False
        self._update_actions()
        # The labels in the status bar changed length (a long translation more so): lay the bar
        # out now, so none of them is drawn squeezed until the next event.
        bar_layout = self.statusBar().layout()
        if bar_layout is not None:
            bar_layout.activate()

    @Slot(int, int)
    def _on_controller_prompt_progress(self, done: int, total: int) -> None:
        if self._session.busy and total > 0:
            self._set_status(
                self.tr("Reading the prompt… {percent}%").format(percent=done * 100 // total)
            )

    @Slot(object)
    def _on_session_reply_finished(self, done: DoneEvent) -> None:
        count = done.completion_tokens
        self._speed_label.setText(self.tr("{speed:.1f} tokens/s").format(speed=done.tokens_per_s))
        if count:
            stats = self.tr(
                "{count} tokens · {speed:.1f} tokens/s · first token after {ttft:.2f} s"
            ).format(count=count, speed=done.tokens_per_s, ttft=done.ttft_s)
        else:
            stats = self.tr("{count} tokens · {speed:.1f} tokens/s").format(
                count=count, speed=done.tokens_per_s
            )
        notes = {
            "cancelled": self.tr("Stopped."),
            "length": self.tr("Stopped at the token limit."),
            "context_full": self.tr("The context window is full."),
            "loop": self.tr("Stopped: the reply was repeating itself (Loop stop)."),
        }
        drafted = self._draft_summary(done)
        if drafted:
            stats = f"{stats} · {drafted}"
        note = notes.get(done.finish_reason)
        text, error = f"{note} {stats}" if note else stats, False
        if self._reply_notice is not None:
            notice, error = self._reply_notice
            text = f"{notice} {text}"
            self._reply_notice = None
        self._set_status(text, error)
        self._update_actions()

    def _draft_summary(self, done: DoneEvent) -> str:
        """The status bar's words on drafting for a reply ("" when nothing was drafted).

        A reply without drafting is remembered per model file, so the next drafted
        reply of that model can say how much faster it was.
        """
        loaded = self._controller.model_loaded
        model = loaded.model_path if loaded is not None else ""
        if done.contrast_alpha is not None:
            text = self.tr("context-aware decoding, α = {alpha}").format(
                alpha=f"{done.contrast_alpha:g}"
            )
            if done.draft_skipped:
                text += " " + self.tr("(drafting off for this reply)")
            return text
        if not done.draft_proposed:
            if done.completion_tokens and done.tokens_per_s > 0:
                self._undrafted_speed[model] = done.tokens_per_s
            return ""
        text = self.tr("drafted: {percent}% of {proposed} proposed tokens accepted").format(
            percent=round(100 * done.draft_accepted / done.draft_proposed),
            proposed=done.draft_proposed,
        )
        before = self._undrafted_speed.get(model)
        if before:
            text += " " + self.tr("(×{ratio:.1f} vs. the last reply without drafting)").format(
                ratio=done.tokens_per_s / before
            )
        return text

    @Slot(str, str)
    def _on_controller_error(self, kind: str, message: str) -> None:
        self._progress.setVisible(False)
        self._recovering = kind == "engine_crashed"
        if self._controller.model_loaded is None:
            self._welcome.show_no_model(" ".join(error_text(kind, message).split()))
        # The translated headline for the kind, then the detail as the controller wrote it.
        self._view.append_note(f"{error_title(kind)}\n⚠ {message}", error=True)
        self._set_status(f"⚠ {error_title(kind)} {message}", error=True)
        self._status_label.setToolTip(error_text(kind, message))
        self._update_actions()
