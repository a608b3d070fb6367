"""The settings dialog: language and theme, the engine (local or a server), the local API,
the tools (built-in tools and MCP servers, ``tools_page.ToolsPage``) and the data
(backups and restore, ``data_page.DataPage``).

``SettingsDialog(controller, api=…, parent=…)`` works on the window's
``InferenceController`` and, when given, the ``WindowApi`` that serves the
window's model over HTTP. Listing a server's models and testing the connection
run off the GUI thread (``RemoteProbe``) with a timeout, so the window never
freezes on a slow or absent server. *Apply* (or *OK*) saves the settings,
switches the controller to the server or back to the local model, and starts or
stops the API.
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QProcess, QProcessEnvironment, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QApplication,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.engine.openai_remote import is_remote
from desktop_app.core.engine.protocol import ModelLoaded
from desktop_app.core.errors import GlassboxError
from desktop_app.ui.window.data_page import DataPage
from desktop_app.ui.window.tools_page import ToolsPage
from desktop_app.workers.api.window import WindowApi
from desktop_app.workers.engine.inference import InferenceController, RemoteProbe
from desktop_app.workers.kb.controller import KnowledgeController

# How long a server check may take before it is reported as failed (seconds).
PROBE_TIMEOUT_S = 10.0


def relaunch_command(argv: list[str], executable: str, frozen: bool) -> tuple[str, list[str]]:
    """The program and arguments that start this Glassbox again, with the saved language.

    A ``--language`` given on the command line is dropped, or it would win over
    the language just chosen. In a bundle the executable is Glassbox itself, so
    ``argv[0]`` (the same file) is not passed again.
    """
    args = list(argv[1:] if frozen else argv)
    out: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg == "--language":
            skip = True
        elif not arg.startswith("--language="):
            out.append(arg)
    return executable, out


#: Set for the Glassbox started by Restart now: the process id it replaces. It
#: waits for that one to end, or it would hand itself over to it (one window per
#: data folder) just before it quits.
REPLACES_ENV = "GLASSBOX_REPLACES_PID"


def relaunch_process() -> QProcess:
    """The process that starts Glassbox again: same command line, told which one it
    replaces."""
    program, args = relaunch_command(sys.argv, sys.executable, bool(getattr(sys, "frozen", False)))
    process = QProcess()
    process.setProgram(program)
    process.setArguments(args)
    env = QProcessEnvironment.systemEnvironment()
    env.insert(REPLACES_ENV, str(os.getpid()))
    process.setProcessEnvironment(env)
    return process


def relaunch() -> None:
    """Start Glassbox again with the same command line, then quit this one."""
    relaunch_process().startDetached()
    QApplication.quit()


class SettingsDialog(QDialog):
    """Glassbox's settings in five tabs: General, Engine, Local API, Tools, Data."""

    sig_language_changed = Signal(str)
    """The language was changed and saved ("system", "en", "zh_CN"); it takes
    effect when Glassbox restarts."""

    sig_theme_changed = Signal(str)
    """The theme was changed and saved ("system", "light", "dark"): apply it now."""

    sig_engine_changed = Signal(bool)
    """The engine switch was started: True for a remote server, False for local."""

    sig_api_changed = Signal(bool)
    """The local API was switched on (True) or off (False)."""

    def __init__(
        self,
        controller: InferenceController,
        api: WindowApi | None = None,
        parent: QWidget | None = None,
        *,
        restart: Callable[[], None] = relaunch,
        knowledge: KnowledgeController | None = None,
        chats_busy: Callable[[], bool] = lambda: False,
    ) -> None:
        super().__init__(parent)
        self._controller = controller
        self._api = api
        self._restart = restart
        self._probe = RemoteProbe(self)
        self._probe_id = 0
        self._probe_fills = False
        # An engine switch was started from here and its outcome is not known yet.
        self._switching = False
        self._switch_loaded: ModelLoaded | None = None
        self.setWindowTitle(self.tr("Settings"))
        self.setAccessibleName(self.tr("Settings"))

        self.tabs = QTabWidget(self)
        self.tabs.setAccessibleName(self.tr("Settings pages"))
        self.tabs.addTab(self._general_page(), self.tr("General"))
        self.tabs.addTab(self._engine_page(), self.tr("Engine"))
        self.tabs.addTab(self._api_page(), self.tr("Local API"))
        #: Built-in tools for new chats, the most calls per reply, and MCP servers.
        self.tools_page = ToolsPage(self)
        self.tabs.addTab(self.tools_page, self.tr("Tools"))
        #: Backups of the chats and the knowledge base, and restoring one.
        self.data_page = DataPage(knowledge, self, chats_busy=chats_busy)
        self.tabs.addTab(self.data_page, self.tr("Data"))

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok
            | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.Apply,
            self,
        )
        self.buttons.setAccessibleName(self.tr("Dialog buttons"))
        self.apply_button = self.buttons.button(QDialogButtonBox.StandardButton.Apply)
        self.apply_button.setText(self.tr("Apply"))
        self.apply_button.setAccessibleName(self.tr("Apply"))
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText(self.tr("OK"))
        ok.setAccessibleName(self.tr("OK"))
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setText(self.tr("Cancel"))
        cancel.setAccessibleName(self.tr("Cancel"))

        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(self.buttons)

        self.buttons.accepted.connect(self._on_buttons_accepted)
        self.buttons.rejected.connect(self.reject)
        self.apply_button.clicked.connect(self._on_apply_button_clicked)
        self._probe.sig_models.connect(self._on_probe_models)
        self._probe.sig_failed.connect(self._on_probe_failed)
        controller.sig_model_loaded.connect(self._on_controller_model_loaded)
        controller.sig_error.connect(self._on_controller_error)
        if api is not None:
            api.sig_running.connect(self._on_api_running)
            api.sig_error.connect(self._on_api_error)
        self._load()

    # ----------------------------------------------------------------- pages

    def _general_page(self) -> QWidget:
        page = QWidget(self)
        form = QFormLayout(page)
        self.language = QComboBox(page)
        self.language.setAccessibleName(self.tr("Language"))
        for label, value in (
            (self.tr("System"), "system"),
            (self.tr("English"), "en"),
            (self.tr("简体中文"), "zh_CN"),
        ):
            self.language.addItem(label, value)
        form.addRow(self.tr("&Language:"), self.language)
        self.language_note = QLabel(self.tr("Takes effect when Glassbox restarts."), page)
        self.language_note.setAccessibleName(self.tr("Language note"))
        self.restart_button = QPushButton(self.tr("Restart now"), page)
        self.restart_button.setAccessibleName(self.tr("Restart now"))
        self.restart_button.setEnabled(False)
        note = QHBoxLayout()
        note.addWidget(self.language_note, 1)
        note.addWidget(self.restart_button)
        form.addRow("", note)
        self.theme = QComboBox(page)
        self.theme.setAccessibleName(self.tr("Theme"))
        for label, value in (
            (self.tr("System"), "system"),
            (self.tr("Light"), "light"),
            (self.tr("Dark"), "dark"),
        ):
            self.theme.addItem(label, value)
        form.addRow(self.tr("&Theme:"), self.theme)
        self.restart_button.clicked.connect(self._on_restart_button_clicked)
        return page

    def _engine_page(self) -> QWidget:
        page = QWidget(self)
        box = QVBoxLayout(page)
        self.local_radio = QRadioButton(self.tr("&Local model (on this computer)"), page)
        self.local_radio.setAccessibleName(self.tr("Local model"))
        self.remote_radio = QRadioButton(self.tr("&OpenAI-compatible server"), page)
        self.remote_radio.setAccessibleName(self.tr("OpenAI-compatible server"))
        group = QButtonGroup(page)
        group.addButton(self.local_radio)
        group.addButton(self.remote_radio)
        box.addWidget(self.local_radio)
        box.addWidget(self.remote_radio)

        self.remote_box = QWidget(page)
        form = QFormLayout(self.remote_box)
        self.base_url = QLineEdit(self.remote_box)
        self.base_url.setAccessibleName(self.tr("Server address"))
        self.base_url.setPlaceholderText("http://127.0.0.1:8080/v1")
        form.addRow(self.tr("Server &address:"), self.base_url)
        self.api_key = QLineEdit(self.remote_box)
        self.api_key.setAccessibleName(self.tr("API key"))
        self.api_key.setEchoMode(QLineEdit.EchoMode.Password)
        self.api_key.setPlaceholderText(self.tr("optional"))
        form.addRow(self.tr("API &key:"), self.api_key)
        self.api_key_note = QLabel(
            self.tr(
                "The key is stored in Glassbox's settings file, readable only by you "
                "(permissions 0600)."
            ),
            self.remote_box,
        )
        self.api_key_note.setWordWrap(True)
        self.api_key_note.setAccessibleName(self.tr("API key storage"))
        form.addRow("", self.api_key_note)
        self.model = QComboBox(self.remote_box)
        self.model.setEditable(True)
        self.model.setAccessibleName(self.tr("Model on the server"))
        self.list_button = QPushButton(self.tr("List &models"), self.remote_box)
        self.list_button.setAccessibleName(self.tr("List models"))
        row = QHBoxLayout()
        row.addWidget(self.model, 1)
        row.addWidget(self.list_button)
        form.addRow(self.tr("&Model:"), row)
        # A row of two widgets has no buddy of its own: without one, the label
        # shows its "&" instead of underlining the shortcut letter.
        _buddy(form, row, self.model)
        self.test_button = QPushButton(self.tr("&Test connection"), self.remote_box)
        self.test_button.setAccessibleName(self.tr("Test connection"))
        form.addRow("", self.test_button)
        self.engine_status = QLabel("", self.remote_box)
        self.engine_status.setWordWrap(True)
        self.engine_status.setAccessibleName(self.tr("Connection status"))
        self.engine_status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow("", self.engine_status)
        box.addWidget(self.remote_box)
        box.addStretch(1)

        self.remote_radio.toggled.connect(self._on_remote_radio_toggled)
        self.list_button.clicked.connect(self._on_list_button_clicked)
        self.test_button.clicked.connect(self._on_test_button_clicked)
        return page

    def _api_page(self) -> QWidget:
        page = QWidget(self)
        form = QFormLayout(page)
        self.api_enabled = QCheckBox(self.tr("&Serve the model as an OpenAI-compatible API"), page)
        self.api_enabled.setAccessibleName(self.tr("Serve the API"))
        form.addRow(self.api_enabled)
        self.api_port = QSpinBox(page)
        self.api_port.setRange(1, 65535)
        self.api_port.setAccessibleName(self.tr("API port"))
        form.addRow(self.tr("&Port:"), self.api_port)
        self.api_allow_remote = QCheckBox(self.tr("Allow &other computers to connect"), page)
        self.api_allow_remote.setAccessibleName(self.tr("Allow other computers"))
        self.api_allow_remote.setToolTip(
            self.tr("Off: only programs on this computer can connect (loopback).")
        )
        form.addRow(self.api_allow_remote)
        self.api_token = QLineEdit(page)
        self.api_token.setAccessibleName(self.tr("API token"))
        self.api_token.setPlaceholderText(
            self.tr("empty: the token kept in the data folder (api-token)")
        )
        self.token_button = QPushButton(self.tr("&Generate"), page)
        self.token_button.setAccessibleName(self.tr("Generate a token"))
        row = QHBoxLayout()
        row.addWidget(self.api_token, 1)
        row.addWidget(self.token_button)
        form.addRow(self.tr("T&oken:"), row)
        _buddy(form, row, self.api_token)
        self.api_url = QLineEdit(page)
        self.api_url.setReadOnly(True)
        self.api_url.setAccessibleName(self.tr("API address"))
        form.addRow(self.tr("Address:"), self.api_url)
        self.api_status = QLabel("", page)
        self.api_status.setWordWrap(True)
        self.api_status.setAccessibleName(self.tr("API status"))
        form.addRow(self.tr("Status:"), self.api_status)
        if self._api is None:
            for w in (self.api_enabled, self.api_port, self.api_allow_remote, self.api_token):
                w.setEnabled(False)
            self.token_button.setEnabled(False)
        self.token_button.clicked.connect(self._on_token_button_clicked)
        return page

    # ----------------------------------------------------------------- state

    def _load(self) -> None:
        s = self._controller.settings
        self.language.setCurrentIndex(max(0, self.language.findData(s.language)))
        self.theme.setCurrentIndex(max(0, self.theme.findData(s.theme)))
        remote = self._controller.is_remote() or s.engine == "openai"
        self.remote_radio.setChecked(remote)
        self.local_radio.setChecked(not remote)
        self.remote_box.setEnabled(remote)
        self.base_url.setText(s.remote_base_url)
        self.api_key.setText(s.remote_api_key or "")
        if s.remote_model:
            self.model.addItem(s.remote_model)
            self.model.setCurrentText(s.remote_model)
        self.api_enabled.setChecked(self._api.running if self._api else s.api_enabled)
        self.api_port.setValue(s.api_port)
        self.api_allow_remote.setChecked(s.api_allow_remote)
        self.api_token.setText(s.api_token or "")
        self._show_api_state()
        self.tools_page.load(s.tools_builtin, s.tools_max_steps, s.tool_servers)

    def _show_api_state(self) -> None:
        api = self._api
        if api is None:
            self.api_status.setText(self.tr("Not available in this window."))
            self.api_url.setText("")
        elif api.running:
            self.api_url.setText(api.url or "")
            where = (
                self.tr("other computers can connect")
                if self.api_allow_remote.isChecked()
                else self.tr("this computer only")
            )
            self.api_status.setText(self.tr("Running ({where}).").format(where=where))
        else:
            self.api_url.setText("")
            self.api_status.setText(self.tr("Off."))

    def apply(self) -> bool:
        """Save the settings and act on them; False (and a message) when something failed."""
        c = self._controller
        old = c.settings
        language = str(self.language.currentData())
        theme = str(self.theme.currentData())
        remote = self.remote_radio.isChecked()
        base_url = self.base_url.text().strip()
        key = self.api_key.text().strip() or None
        model = self.model.currentText().strip() or None
        if remote and not base_url:
            self.engine_status.setText(self.tr("Give the server's address first."))
            self.tabs.setCurrentIndex(1)
            return False
        api_token = self.api_token.text().strip() or None
        if self.api_allow_remote.isChecked() and api_token is None:
            # Checked before anything is saved: a start-up must never serve the
            # network without a token.
            self.api_status.setText(
                self.tr("Give a token (or generate one) before allowing other computers.")
            )
            self.tabs.setCurrentIndex(2)
            return False
        new = old.model_copy(
            update={
                "language": language,
                "theme": theme,
                "api_enabled": self.api_enabled.isChecked(),
                "api_port": self.api_port.value(),
                "api_allow_remote": self.api_allow_remote.isChecked(),
                "api_token": api_token,
                "tools_builtin": self.tools_page.builtin_tools(),
                "tools_max_steps": self.tools_page.max_steps.value(),
                "tool_servers": self.tools_page.server_entries(),
            }
        )
        c.update_settings(new)
        if language != old.language:
            self.restart_button.setEnabled(True)
            self.sig_language_changed.emit(language)
        if theme != old.theme:
            self.sig_theme_changed.emit(theme)
        same_server = (
            c.is_remote()
            and old.remote_base_url == base_url
            and (old.remote_api_key or None) == key
            and (old.remote_model or None) == model
        )
        if remote and not same_server:
            self._switching, self._switch_loaded = True, None
            c.use_remote(base_url, key, model)
            self.engine_status.setText(self.tr("Switching to the server…"))
            self.sig_engine_changed.emit(True)
        elif not remote and c.is_remote():
            self._switching, self._switch_loaded = True, None
            c.use_local()
            self.engine_status.setText(self.tr("Switching to the local model…"))
            self.sig_engine_changed.emit(False)
        return self._apply_api()

    def _apply_api(self) -> bool:
        api = self._api
        if api is None:
            return True
        want = self.api_enabled.isChecked()
        if not want:
            if api.running:
                api.stop()
                self.sig_api_changed.emit(False)
            self._show_api_state()
            return True
        s = self._controller.settings
        if s.api_allow_remote and not s.api_token:
            self.api_status.setText(
                self.tr("Give a token (or generate one) before allowing other computers.")
            )
            self.tabs.setCurrentIndex(2)
            return False
        try:
            api.start(s.api_port, allow_remote=s.api_allow_remote, token=s.api_token)
        except GlassboxError as exc:
            self.api_status.setText(str(exc))
            self.tabs.setCurrentIndex(2)
            return False
        self.sig_api_changed.emit(True)
        self._show_api_state()
        return True

    # ----------------------------------------------------------------- slots

    @Slot()
    def _on_buttons_accepted(self) -> None:
        if self.apply():
            self.accept()

    @Slot()
    def _on_apply_button_clicked(self) -> None:
        self.apply()

    @Slot()
    def _on_restart_button_clicked(self) -> None:
        self._restart()

    @Slot(bool)
    def _on_remote_radio_toggled(self, checked: bool) -> None:
        self.remote_box.setEnabled(checked)

    def _start_probe(self, fill: bool) -> None:
        url = self.base_url.text().strip()
        if not url:
            self.engine_status.setText(self.tr("Give the server's address first."))
            return
        self._probe_fills = fill
        self.list_button.setEnabled(False)
        self.test_button.setEnabled(False)
        self.engine_status.setText(self.tr("Connecting…"))
        self._probe_id = self._probe.probe(
            url, self.api_key.text().strip() or None, PROBE_TIMEOUT_S
        )

    @Slot()
    def _on_list_button_clicked(self) -> None:
        self._start_probe(fill=True)

    @Slot()
    def _on_test_button_clicked(self) -> None:
        self._start_probe(fill=True)

    @Slot(int, list, float)
    def _on_probe_models(self, pid: int, models: list[str], ms: float) -> None:
        if pid != self._probe_id:
            return
        self.list_button.setEnabled(True)
        self.test_button.setEnabled(True)
        if self._probe_fills:
            current = self.model.currentText()
            self.model.clear()
            self.model.addItems(models)
            if current in models:
                self.model.setCurrentText(current)
        self.engine_status.setText(
            self.tr("Connected: {n} models, {ms} ms").format(n=len(models), ms=round(ms))
        )

    @Slot(int, str)
    def _on_probe_failed(self, pid: int, message: str) -> None:
        if pid != self._probe_id:
            return
        self.list_button.setEnabled(True)
        self.test_button.setEnabled(True)
        self.engine_status.setText(message)

    @Slot(object)
    def _on_controller_model_loaded(self, loaded: ModelLoaded) -> None:
        if not self._switching:
            return
        # A failed switch is told as the kept model's "loaded" and, at once, its error:
        # the outcome is decided once both had their turn.
        self._switch_loaded = loaded
        QTimer.singleShot(0, self, self._on_switch_settled)

    @Slot(str, str)
    def _on_controller_error(self, kind: str, message: str) -> None:
        if not self._switching:
            return
        self._switching, self._switch_loaded = False, None
        self.engine_status.setText(message)

    @Slot()
    def _on_switch_settled(self) -> None:
        loaded = self._switch_loaded
        if not self._switching or loaded is None:
            return
        self._switching, self._switch_loaded = False, None
        if is_remote(loaded):
            text = self.tr("Connected: replies come from {model} on the server.")
            self.engine_status.setText(text.format(model=loaded.model_path))
        else:
            text = self.tr("Using the local model {name}.")
            self.engine_status.setText(text.format(name=Path(loaded.model_path).name))

    @Slot()
    def _on_token_button_clicked(self) -> None:
        self.api_token.setText(secrets.token_urlsafe(24))

    @Slot(bool)
    def _on_api_running(self, running: bool) -> None:
        self._show_api_state()

    @Slot(str)
    def _on_api_error(self, message: str) -> None:
        self.api_status.setText(message)


def _buddy(form: QFormLayout, row: QLayout, widget: QWidget) -> None:
    """Give the label of a form row that holds a layout a buddy (its Alt key works)."""
    label = form.labelForField(row)
    if isinstance(label, QLabel):
        label.setBuddy(widget)
