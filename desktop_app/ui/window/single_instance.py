"""One Glassbox per data folder: a second start hands its files to the first.

Double-clicking Glassbox again, or "Open with Glassbox" on a document while it
runs, must not start a second window with a second model in memory (and a
knowledge base it cannot open, as the first one holds it). The first instance
listens on a local socket named after its data folder; a later start sends it
the paths it was given, the first one adds them (or loads the GGUF) and comes to
the front, and the later start exits.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os

from PySide6.QtCore import QByteArray, QObject, Signal, Slot
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from desktop_app.core import paths

log = logging.getLogger(__name__)

#: How long a later start waits for the running one (milliseconds).
CONNECT_MS = 500
REPLY_MS = 3000
#: The most a hand-over may hold (a few thousand paths).
MAX_MESSAGE = 1 << 20


def server_name() -> str:
    """The socket's name: this user's, for this data folder."""
    folder = str(paths.data_dir().resolve())
    digest = hashlib.sha256(folder.encode("utf-8")).hexdigest()[:16]
    user = os.getuid() if hasattr(os, "getuid") else os.environ.get("USERNAME", "")
    return f"glassbox-{user}-{digest}"


def forward_to_running(files: list[str], name: str | None = None) -> bool:
    """Hand ``files`` to a Glassbox already running on this data folder.

    True when one took them (this start should then exit); False when none runs,
    or it did not answer in time (this start then opens its own window).
    """
    socket = QLocalSocket()
    socket.connectToServer(name or server_name())
    if not socket.waitForConnected(CONNECT_MS):
        return False
    message = json.dumps({"files": files}).encode("utf-8") + b"\n"
    socket.write(QByteArray(message))
    socket.flush()
    if not socket.waitForBytesWritten(REPLY_MS) and socket.bytesToWrite():
        return False
    answered = socket.waitForReadyRead(REPLY_MS) and bytes(socket.readAll().data()).startswith(
        b"ok"
    )
    socket.disconnectFromServer()
    return answered


class InstanceServer(QObject):
    """Listens for later starts; ``sig_files`` brings what they were given."""

    sig_files = Signal(list)
    """Paths handed over by a later start (possibly none: it only wants the window)."""

    def __init__(self, name: str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._name = name or server_name()
        self._server = QLocalServer(self)
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self._server.newConnection.connect(self._on_server_new_connection)
        self._buffers: dict[QLocalSocket, bytes] = {}

    def listen(self) -> bool:
        """Start listening; a socket left by a Glassbox that was killed is replaced."""
        if self._server.listen(self._name):
            return True
        # Nobody answered forward_to_running(), so what is there is stale.
        QLocalServer.removeServer(self._name)
        if self._server.listen(self._name):
            return True
        log.warning("Cannot listen for later starts: %s", self._server.errorString())
        return False

    def close(self) -> None:
        """Stop listening (the window is closing)."""
        self._server.close()

    @Slot()
    def _on_server_new_connection(self) -> None:
        while (socket := self._server.nextPendingConnection()) is not None:
            self._buffers[socket] = b""
            socket.readyRead.connect(lambda s=socket: self._read(s))
            socket.disconnected.connect(lambda s=socket: self._forget(s))
            if socket.bytesAvailable():
                # What arrived with the connection signals nothing more: read it now.
                self._read(socket)

    def _read(self, socket: QLocalSocket) -> None:
        if socket not in self._buffers:
            return
        data = self._buffers[socket] + bytes(socket.readAll().data())
        if len(data) > MAX_MESSAGE:
            self._forget(socket)
            socket.abort()
            return
        self._buffers[socket] = data
        if b"\n" not in data:
            return
        line = data.split(b"\n", 1)[0]
        try:
            files = json.loads(line.decode("utf-8"))["files"]
            if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
                raise ValueError("files must be a list of paths")
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
            log.warning("Ignored a hand-over that was not understood: %s", exc)
            socket.abort()
            return
        socket.write(QByteArray(b"ok\n"))
        socket.flush()
        self.sig_files.emit(files)

    def _forget(self, socket: QLocalSocket) -> None:
        if self._buffers.pop(socket, None) is not None:
            # Once per socket: it also signals "disconnected" while it is deleted,
            # and Qt may have deleted it already when its peer went away.
            with contextlib.suppress(RuntimeError):
                socket.deleteLater()
