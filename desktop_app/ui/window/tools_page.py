"""Settings → Tools: the built-in tools new chats start with, the most tool calls per
reply, and the MCP servers (added, edited, removed, and tested by listing their tools).

A server is edited in ``McpServerDialog``: stdio (a command, its arguments, an
optional environment and working folder) or streamable HTTP (a URL and a token,
shown masked). *Test / list tools* starts the selected server on a worker thread
(``McpProbe``) with a timeout and lists each tool with its description and JSON
schema, as plain text; a server that fails or hangs shows the error instead.
The page only reads and writes values; the settings dialog saves them.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.errors import InvalidRequestError
from desktop_app.core.tools.builtin import BUILTIN_NAMES
from desktop_app.core.tools.loop import MAX_STEPS_LIMIT
from desktop_app.core.tools.mcp_client import START_TIMEOUT_S, McpServerConfig, parse_config
from desktop_app.core.tools.spec import ToolSpec
from desktop_app.workers.mcp_probe import McpProbe


def server_entry(config: McpServerConfig) -> dict[str, Any]:
    """A server as the settings keep it (the ``--mcp`` file's ``servers`` entries)."""
    if config.command:
        entry: dict[str, Any] = {"name": config.name, "command": config.command}
        entry["args"] = list(config.args)
        if config.env:
            entry["env"] = dict(config.env)
        if config.cwd:
            entry["cwd"] = config.cwd
    else:
        entry = {"name": config.name, "url": config.url}
        if config.token:
            entry["token"] = config.token
    if not config.enabled:
        entry["enabled"] = False
    return entry


def parse_env(text: str) -> dict[str, str]:
    """``NAME=value`` lines as an environment; raises ``InvalidRequestError``."""
    env: dict[str, str] = {}
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        if not sep or not name.strip():
            raise InvalidRequestError(f"Line {n} of the environment is not NAME=value.")
        env[name.strip()] = value
    return env


def describe_tools(specs: Sequence[ToolSpec]) -> str:
    """The tools as text: each name, its description and its JSON schema."""
    blocks = []
    for spec in specs:
        schema = json.dumps(dict(spec.parameters), indent=2, ensure_ascii=False)
        blocks.append(f"{spec.name}\n{spec.description or '—'}\n{schema}")
    return "\n\n".join(blocks)


class McpServerDialog(QDialog):
    """Adds or edits one MCP server; ``config`` is the result once accepted."""

    def __init__(
        self,
        config: McpServerConfig | None = None,
        taken: Sequence[str] = (),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._taken = set(taken)
        self.config: McpServerConfig | None = None
        self.setWindowTitle(self.tr("MCP server") if config else self.tr("Add an MCP server"))
        self.setAccessibleName(self.tr("MCP server"))

        self.name = QLineEdit(self)
        self.name.setAccessibleName(self.tr("Server name"))
        self.name.setPlaceholderText(self.tr("letters, digits, '_', '-', '.'"))
        self.stdio_radio = QRadioButton(self.tr("&Program on this computer (stdio)"), self)
        self.stdio_radio.setAccessibleName(self.tr("Program on this computer"))
        self.http_radio = QRadioButton(self.tr("&Server at a URL (streamable HTTP)"), self)
        self.http_radio.setAccessibleName(self.tr("Server at a URL"))
        group = QButtonGroup(self)
        group.addButton(self.stdio_radio)
        group.addButton(self.http_radio)

        self.stdio_box = QWidget(self)
        stdio = QFormLayout(self.stdio_box)
        self.command = QLineEdit(self.stdio_box)
        self.command.setAccessibleName(self.tr("Command"))
        self.command.setPlaceholderText("uvx, npx, python …")
        stdio.addRow(self.tr("&Command:"), self.command)
        self.args = QLineEdit(self.stdio_box)
        self.args.setAccessibleName(self.tr("Arguments"))
        self.args.setPlaceholderText(self.tr("as in a shell: quotes keep spaces"))
        stdio.addRow(self.tr("&Arguments:"), self.args)
        self.env = QPlainTextEdit(self.stdio_box)
        self.env.setAccessibleName(self.tr("Environment"))
        self.env.setPlaceholderText(self.tr("optional, one NAME=value a line"))
        self.env.setFixedHeight(self.env.fontMetrics().lineSpacing() * 4 + 12)
        stdio.addRow(self.tr("&Environment:"), self.env)
        self.cwd = QLineEdit(self.stdio_box)
        self.cwd.setAccessibleName(self.tr("Working folder"))
        self.cwd.setPlaceholderText(self.tr("optional"))
        stdio.addRow(self.tr("&Working folder:"), self.cwd)

        self.http_box = QWidget(self)
        http = QFormLayout(self.http_box)
        self.url = QLineEdit(self.http_box)
        self.url.setAccessibleName(self.tr("Server URL"))
        self.url.setPlaceholderText("https://example.org/mcp")
        http.addRow(self.tr("&URL:"), self.url)
        self.token = QLineEdit(self.http_box)
        self.token.setAccessibleName(self.tr("Token"))
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.token.setPlaceholderText(self.tr("optional, sent as a bearer token"))
        http.addRow(self.tr("&Token:"), self.token)

        self.enabled = QCheckBox(self.tr("&Offer this server's tools to chats"), self)
        self.enabled.setAccessibleName(self.tr("Server enabled"))
        self.error = QLabel("", self)
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.setWordWrap(True)
        self.error.setAccessibleName(self.tr("Server error"))
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.setAccessibleName(self.tr("Dialog buttons"))
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(self.tr("OK"))
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(self.tr("Cancel"))

        form = QFormLayout()
        form.addRow(self.tr("&Name:"), self.name)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.stdio_radio)
        layout.addWidget(self.stdio_box)
        layout.addWidget(self.http_radio)
        layout.addWidget(self.http_box)
        layout.addWidget(self.enabled)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

        self.stdio_radio.toggled.connect(self._on_stdio_radio_toggled)
        self.buttons.accepted.connect(self._on_buttons_accepted)
        self.buttons.rejected.connect(self.reject)
        self._fill(config)

    def _fill(self, config: McpServerConfig | None) -> None:
        stdio = config is None or bool(config.command)
        self.stdio_radio.setChecked(stdio)
        self.http_radio.setChecked(not stdio)
        self._on_stdio_radio_toggled(stdio)
        self.enabled.setChecked(config.enabled if config else True)
        if config is None:
            return
        self.name.setText(config.name)
        self.command.setText(config.command)
        self.args.setText(shlex.join(config.args))
        self.env.setPlainText("\n".join(f"{k}={v}" for k, v in config.env.items()))
        self.cwd.setText(config.cwd)
        self.url.setText(config.url)
        self.token.setText(config.token)

    def read(self) -> McpServerConfig:
        """The server the fields describe; raises ``InvalidRequestError`` with a message."""
        name = self.name.text().strip()
        if not name:
            raise InvalidRequestError(self.tr("Give the server a name."))
        if name in self._taken:
            raise InvalidRequestError(
                self.tr("There is already a server named {name}.").format(name=name)
            )
        enabled = self.enabled.isChecked()
        if self.http_radio.isChecked():
            url = self.url.text().strip()
            if not url:
                raise InvalidRequestError(self.tr("Give the server's URL."))
            token = self.token.text().strip()
            return McpServerConfig(name, url=url, token=token, enabled=enabled)
        command = self.command.text().strip()
        if not command:
            raise InvalidRequestError(self.tr("Give the command that starts the server."))
        try:
            args = tuple(shlex.split(self.args.text()))
        except ValueError as exc:
            raise InvalidRequestError(
                self.tr("The arguments cannot be read ({why}).").format(why=exc)
            ) from exc
        return McpServerConfig(
            name,
            command=command,
            args=args,
            env=parse_env(self.env.toPlainText()),
            cwd=self.cwd.text().strip(),
            enabled=enabled,
        )

    @Slot(bool)
    def _on_stdio_radio_toggled(self, checked: bool) -> None:
        self.stdio_box.setEnabled(checked)
        self.http_box.setEnabled(not checked)

    @Slot()
    def _on_buttons_accepted(self) -> None:
        try:
            self.config = self.read()
        except InvalidRequestError as exc:
            self.error.setText(str(exc))
            return
        self.accept()


class ToolsPage(QWidget):
    """The Tools page of the settings dialog."""

    sig_listed = Signal(str)
    """A server's tools were listed (its name), or its check failed: the status is shown."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._servers: list[McpServerConfig] = []
        self._probe = McpProbe(self)
        self._probe_id = 0
        self._probing = ""
        #: Seconds a server has to start when tested.
        self.start_timeout_s = START_TIMEOUT_S
        #: The dialog adding or editing a server, while it is open.
        self.server_dialog: McpServerDialog | None = None
        self._editing: int | None = None

        builtin = QGroupBox(self.tr("Built-in tools new chats start with"), self)
        row = QHBoxLayout(builtin)
        labels = {
            "calculator": self.tr("&Calculator"),
            "datetime": self.tr("&Date and time"),
            "knowledge": self.tr("&Knowledge search"),
            "files": self.tr("&Files in the chat"),
        }
        tips = {
            "calculator": self.tr("Arithmetic, evaluated safely (never as code)."),
            "datetime": self.tr("The current date and time in any time zone."),
            "knowledge": self.tr("Searches the chat's knowledge collections, with citations."),
            "files": self.tr("Reads the files dropped into the chat."),
        }
        self.builtin: dict[str, QCheckBox] = {}
        for name in BUILTIN_NAMES:
            box = QCheckBox(labels.get(name, name), builtin)
            box.setAccessibleName(labels.get(name, name).replace("&", ""))
            box.setToolTip(tips.get(name, ""))
            self.builtin[name] = box
            row.addWidget(box)
        row.addStretch(1)

        self.max_steps = QSpinBox(self)
        self.max_steps.setRange(0, MAX_STEPS_LIMIT)
        self.max_steps.setAccessibleName(self.tr("Maximum tool calls per reply"))
        self.max_steps.setToolTip(
            self.tr("After this many calls the model is asked to answer without tools.")
        )
        steps = QFormLayout()
        steps.addRow(self.tr("&Maximum tool calls per reply:"), self.max_steps)

        servers = QGroupBox(self.tr("MCP servers"), self)
        column = QVBoxLayout(servers)
        self.server_list = QListWidget(servers)
        self.server_list.setAccessibleName(self.tr("MCP servers"))
        self.add_button = QPushButton(self.tr("&Add…"), servers)
        self.add_button.setAccessibleName(self.tr("Add a server"))
        self.edit_button = QPushButton(self.tr("&Edit…"), servers)
        self.edit_button.setAccessibleName(self.tr("Edit the server"))
        self.remove_button = QPushButton(self.tr("&Remove"), servers)
        self.remove_button.setAccessibleName(self.tr("Remove the server"))
        self.test_button = QPushButton(self.tr("&Test / list tools"), servers)
        self.test_button.setAccessibleName(self.tr("Test the server and list its tools"))
        buttons = QHBoxLayout()
        for button in (self.add_button, self.edit_button, self.remove_button, self.test_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        self.status = QLabel("", servers)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)
        self.status.setAccessibleName(self.tr("Server status"))
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.tools_view = QPlainTextEdit(servers)
        self.tools_view.setReadOnly(True)
        self.tools_view.setAccessibleName(self.tr("The server's tools"))
        self.tools_view.setPlaceholderText(
            self.tr("Test a server to list its tools, with their descriptions and schemas.")
        )
        mono = QFont(self.tools_view.font())
        mono.setStyleHint(QFont.StyleHint.Monospace)
        mono.setFamily("monospace")
        self.tools_view.setFont(mono)
        # A few servers at most: the room goes to their tools.
        self.server_list.setMaximumHeight(self.server_list.fontMetrics().lineSpacing() * 7 + 8)
        column.addWidget(self.server_list)
        column.addLayout(buttons)
        column.addWidget(self.status)
        column.addWidget(self.tools_view, 1)

        layout = QVBoxLayout(self)
        layout.addWidget(builtin)
        layout.addLayout(steps)
        layout.addWidget(servers, 1)

        self.server_list.currentRowChanged.connect(self._on_server_list_current_row_changed)
        self.server_list.itemDoubleClicked.connect(self._on_server_list_item_double_clicked)
        self.add_button.clicked.connect(self._on_add_button_clicked)
        self.edit_button.clicked.connect(self._on_edit_button_clicked)
        self.remove_button.clicked.connect(self._on_remove_button_clicked)
        self.test_button.clicked.connect(self._on_test_button_clicked)
        self._probe.sig_tools.connect(self._on_probe_tools)
        self._probe.sig_failed.connect(self._on_probe_failed)
        self._update_buttons()

    # ----------------------------------------------------------------- values

    def load(
        self, builtin: Sequence[str], max_steps: int, servers: Sequence[Mapping[str, Any]]
    ) -> None:
        """Show the saved values (the servers as the settings keep them)."""
        for name, box in self.builtin.items():
            box.setChecked(name in builtin)
        self.max_steps.setValue(max_steps)
        self._servers = parse_config({"servers": list(servers)}, "the tool servers")
        self._refill(0 if self._servers else -1)

    def builtin_tools(self) -> list[str]:
        """The built-in tools checked, in their usual order."""
        return [name for name, box in self.builtin.items() if box.isChecked()]

    def servers(self) -> list[McpServerConfig]:
        """The servers as listed."""
        return list(self._servers)

    def server_entries(self) -> list[dict[str, Any]]:
        """The servers as the settings keep them."""
        return [server_entry(c) for c in self._servers]

    # ----------------------------------------------------------------- list

    def _label(self, config: McpServerConfig) -> str:
        if config.command:
            where = shlex.join([config.command, *config.args])
        else:
            where = config.url  # the token is never shown
        text = f"{config.name} — {where}"
        if not config.enabled:
            text += " " + self.tr("(off)")
        return text

    def _refill(self, row: int) -> None:
        self.server_list.clear()
        for config in self._servers:
            item = QListWidgetItem(self._label(config))
            item.setToolTip(self._label(config))
            self.server_list.addItem(item)
        self.server_list.setCurrentRow(row)
        self._update_buttons()

    def _update_buttons(self) -> None:
        selected = self.server_list.currentRow() >= 0
        self.edit_button.setEnabled(selected)
        self.remove_button.setEnabled(selected)
        self.test_button.setEnabled(selected and not self._probing)

    def _open_dialog(self, index: int | None) -> None:
        config = self._servers[index] if index is not None else None
        taken = [c.name for i, c in enumerate(self._servers) if i != index]
        dialog = McpServerDialog(config, taken, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(self._on_server_dialog_accepted)
        dialog.finished.connect(self._on_server_dialog_finished)
        self.server_dialog, self._editing = dialog, index
        dialog.open()

    # ----------------------------------------------------------------- slots

    @Slot(int)
    def _on_server_list_current_row_changed(self, row: int) -> None:
        self._update_buttons()

    @Slot(QListWidgetItem)
    def _on_server_list_item_double_clicked(self, item: QListWidgetItem) -> None:
        self._open_dialog(self.server_list.row(item))

    @Slot()
    def _on_add_button_clicked(self) -> None:
        self._open_dialog(None)

    @Slot()
    def _on_edit_button_clicked(self) -> None:
        row = self.server_list.currentRow()
        if row >= 0:
            self._open_dialog(row)

    @Slot()
    def _on_remove_button_clicked(self) -> None:
        row = self.server_list.currentRow()
        if row < 0:
            return
        del self._servers[row]
        self._refill(min(row, len(self._servers) - 1))
        self.tools_view.clear()
        self.status.setText("")

    @Slot()
    def _on_server_dialog_accepted(self) -> None:
        dialog = self.server_dialog
        if dialog is None or dialog.config is None:
            return
        if self._editing is None:
            self._servers.append(dialog.config)
            row = len(self._servers) - 1
        else:
            self._servers[self._editing] = dialog.config
            row = self._editing
        self._refill(row)

    @Slot(int)
    def _on_server_dialog_finished(self, result: int) -> None:
        self.server_dialog, self._editing = None, None

    @Slot()
    def _on_test_button_clicked(self) -> None:
        row = self.server_list.currentRow()
        if row < 0 or self._probing:
            return
        config = self._servers[row]
        self._probing = config.name
        self._update_buttons()
        self.tools_view.clear()
        self.status.setText(
            self.tr("Starting {name} (at most {s} s)…").format(
                name=config.name, s=f"{self.start_timeout_s:g}"
            )
        )
        self._probe_id = self._probe.probe(config, self.start_timeout_s)

    @Slot(int, list, float)
    def _on_probe_tools(self, pid: int, specs: list[ToolSpec], seconds: float) -> None:
        if pid != self._probe_id:
            return
        name, self._probing = self._probing, ""
        self._update_buttons()
        self.status.setText(
            self.tr("{name} started in {s} s and offers {n} tools.").format(
                name=name, s=f"{seconds:.1f}", n=len(specs)
            )
        )
        self.tools_view.setPlainText(describe_tools(specs))
        self.sig_listed.emit(name)

    @Slot(int, str)
    def _on_probe_failed(self, pid: int, message: str) -> None:
        if pid != self._probe_id:
            return
        name, self._probing = self._probing, ""
        self._update_buttons()
        self.status.setText(message)
        self.sig_listed.emit(name)
