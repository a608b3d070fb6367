"""The Conversation panel's tools: which tools the model may call in this chat.

A list of switches, one per built-in tool (calculator, date and time, search of
the attached collections, reading the files dropped into the chat) and one per
MCP server configured in Settings → Tools, and "Ask before built-in tools too".
Each chat keeps its own choice (``ChatOptions``); a new chat starts from the
settings.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QCoreApplication, QSignalBlocker, Qt, Signal, Slot
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QCheckBox, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from desktop_app.core.tools.builtin import BUILTIN_NAMES

_ROLE = Qt.ItemDataRole.UserRole


def builtin_label(name: str) -> str:
    """A built-in tool's name as the panel shows it."""
    labels = {
        "calculator": QCoreApplication.translate("ToolOptions", "Calculator"),
        "datetime": QCoreApplication.translate("ToolOptions", "Date and time"),
        "knowledge": QCoreApplication.translate("ToolOptions", "Search the attached collections"),
        "files": QCoreApplication.translate("ToolOptions", "Read files dropped into this chat"),
    }
    return labels.get(name, name)


class ToolOptions(QWidget):
    """The tool switches of one chat."""

    sig_changed = Signal(list, list, bool)
    """The user changed them: built-in tools on, servers on, ask before built-ins."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.list = QListWidget(self)
        self.list.setAccessibleName(self.tr("Tools"))
        self.list.setToolTip(
            self.tr(
                "Tools the model may call in this chat. Built-in read-only tools run "
                "at once; a server's tools ask you first, in the reply."
            )
        )
        lines = self.fontMetrics().lineSpacing()
        self.list.setMaximumHeight(lines * 6 + 12)
        # The panel must fit a small screen: the list scrolls rather than asking for room.
        self.list.setMinimumHeight(lines * 2 + 8)
        self.ask_check = QCheckBox(self.tr("Ask before built-in tools too"), self)
        self.ask_check.setAccessibleName(self.tr("Ask before built-in tools too"))
        layout.addWidget(self.list)
        layout.addWidget(self.ask_check)
        self._servers: list[str] = []
        #: Where the configured servers' names come from (the window's settings).
        self.server_names: Callable[[], list[str]] | None = None
        self._fill([], [], [])
        self.list.itemChanged.connect(self._on_list_item_changed)
        self.ask_check.toggled.connect(self._on_ask_check_toggled)

    def set_values(self, tools: Sequence[str], servers: Sequence[str], ask_builtin: bool) -> None:
        """Show a chat's tools (no signal)."""
        if self.server_names is not None:
            self._servers = list(self.server_names())
        self._fill(self._servers, tools, servers)
        with QSignalBlocker(self.ask_check):
            self.ask_check.setChecked(ask_builtin)

    def set_servers(self, names: Sequence[str]) -> None:
        """The configured MCP servers (ticks are kept by name)."""
        tools, servers = self.ticked()
        self._servers = list(names)
        self._fill(self._servers, tools, servers)

    def ticked(self) -> tuple[list[str], list[str]]:
        """The built-in tools and the servers ticked."""
        tools: list[str] = []
        servers: list[str] = []
        for i in range(self.list.count()):
            item = self.list.item(i)
            kind, name = item.data(_ROLE)
            if item.checkState() == Qt.CheckState.Checked:
                (tools if kind == "builtin" else servers).append(name)
        return tools, servers

    def _fill(self, names: Sequence[str], tools: Sequence[str], servers: Sequence[str]) -> None:
        with QSignalBlocker(self.list):
            self.list.clear()
            # A server the chat uses stays listed even when it was removed, to untick it.
            listed = list(names) + [s for s in servers if s not in names]
            rows = [("builtin", n, builtin_label(n), n in tools) for n in BUILTIN_NAMES]
            rows += [
                ("server", n, self.tr("MCP server: {name}").format(name=n), n in servers)
                for n in listed
            ]
            for kind, name, label, on in rows:
                item = QListWidgetItem(label, self.list)
                item.setData(_ROLE, (kind, name))
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)

    def showEvent(self, event: QShowEvent) -> None:
        if self.server_names is not None:
            self.set_servers(self.server_names())
        super().showEvent(event)

    def _emit(self) -> None:
        tools, servers = self.ticked()
        self.sig_changed.emit(tools, servers, self.ask_check.isChecked())

    @Slot(QListWidgetItem)
    def _on_list_item_changed(self, _item: QListWidgetItem) -> None:
        self._emit()

    @Slot(bool)
    def _on_ask_check_toggled(self, _on: bool) -> None:
        self._emit()
