"""Starting an MCP server to list its tools, off the GUI thread (Settings → Tools).

``McpProbe.probe(config)`` starts the server (or connects to it) on a thread of its
own, lists its tools, ends the session and reports by queued signals. The start is
bounded by ``start_timeout_s`` (``mcp_client``'s timeout), so a server that hangs
ends in an error the page shows; the window never waits for it.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from typing import Any

from PySide6.QtCore import QObject, Signal

from desktop_app.core.tools.mcp_client import START_TIMEOUT_S, McpConnection, McpServerConfig
from desktop_app.core.tools.spec import ToolError

log = logging.getLogger(__name__)


class McpProbe(QObject):
    """Lists an MCP server's tools in the background. Lives in the GUI thread."""

    sig_tools = Signal(int, list, float)
    """A probe's id, the server's tools (``ToolSpec``) and the seconds the start took."""

    sig_failed = Signal(int, str)
    """A probe's id and why the server could not be started or listed (for the user)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ids = itertools.count(1)

    def probe(self, config: McpServerConfig, start_timeout_s: float = START_TIMEOUT_S) -> int:
        """Start ``config``'s server and list its tools; returns the id the signals carry."""
        pid = next(self._ids)
        threading.Thread(
            target=self._run,
            args=(pid, config, start_timeout_s),
            name=f"glassbox-mcp-probe-{config.name}",
            daemon=True,
        ).start()
        return pid

    def _run(self, pid: int, config: McpServerConfig, start_timeout_s: float) -> None:
        start = time.perf_counter()
        conn = McpConnection(config, start_timeout_s=start_timeout_s)
        try:
            specs = list(conn.start())
        except ToolError as exc:
            self._emit(self.sig_failed, pid, str(exc))
            return
        self._emit(self.sig_tools, pid, specs, time.perf_counter() - start)
        # Ending the session may wait a few seconds for a slow server: after the answer.
        conn.close()

    @staticmethod
    def _emit(signal: Any, *args: object) -> None:
        try:
            signal.emit(*args)
        except RuntimeError:
            # The page that asked was closed (its probe deleted): nobody waits.
            log.debug("An MCP server check finished after its page closed.")
