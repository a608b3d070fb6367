"""One Glassbox per data folder: a second start hands its files to the first.

Double-clicking Glassbox again, or "Open with Glassbox" on a document while it
runs, must not start a second window with a second model in memory (and a
knowledge base it cannot open, as the first one holds it). The first instance
listens on a local socket named after its data folder; a later start sends it
the paths it was given, the first one adds them (or loads the GGUF) and comes to
the front, and the later start exits.

The socket lives in a folder only this user can enter (``$XDG_RUNTIME_DIR``, or a
0700 folder of its own in the temporary folder), never at a guessable name in
``/tmp``: another local user who bound that name first would receive the paths of
every file opened, and Glassbox would exit at every start. Both ends also check
that the other runs as the same user (``SO_PEERCRED``, on Linux).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import socket as pysocket
import stat
import struct
import tempfile
from pathlib import Path

from PySide6.QtCore import QByteArray, QObject, Signal, Slot
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from desktop_app.core import paths

log = logging.getLogger(__name__)

#: How long a later start waits for the running one (milliseconds).
CONNECT_MS = 500
REPLY_MS = 3000
#: The most a hand-over may hold (a few thousand paths).
MAX_MESSAGE = 1 << 20


class RuntimeFolderError(OSError):
    """No folder private to this user could be found for the socket."""


def private_folder(parent: Path, name: str) -> Path:
    """``parent/name``, made 0700 if new; refused when it belongs to another user or
    others can enter it (someone prepared it for this user's socket)."""
    folder = parent / name
    with contextlib.suppress(FileExistsError):
        folder.mkdir(mode=0o700)
    st = folder.lstat()
    if not stat.S_ISDIR(st.st_mode):
        raise RuntimeFolderError(f"{folder} is not a folder")
    if st.st_uid != os.getuid() or st.st_mode & 0o077:
        raise RuntimeFolderError(f"{folder} belongs to another user or is open to others")
    return folder


def runtime_folder() -> Path:
    """Where this user's sockets go: ``$XDG_RUNTIME_DIR/glassbox`` when the session has
    one, else ``glassbox-<uid>`` in the temporary folder (both checked as private)."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and Path(runtime).is_dir():
        return private_folder(Path(runtime), "glassbox")
    return private_folder(Path(tempfile.gettempdir()), f"glassbox-{os.getuid()}")


def server_name() -> str:
    """The socket's name: this user's, for this data folder.

    On Windows a named pipe (Qt limits it to this user); elsewhere a path in this
    user's private runtime folder. ``RuntimeFolderError`` when there is none.
    """
    folder = str(paths.data_dir().resolve())
    digest = hashlib.sha256(folder.encode("utf-8")).hexdigest()[:16]
    if os.name == "nt":
        return f"glassbox-{os.environ.get('USERNAME', '')}-{digest}"
    return str(runtime_folder() / f"instance-{digest}")


def same_user(socket: QLocalSocket) -> bool:
    """Whether the process at the other end runs as this user (Linux ``SO_PEERCRED``;
    True where the system does not say, the private folder being the guard there)."""
    option = getattr(pysocket, "SO_PEERCRED", None)
    descriptor = int(socket.socketDescriptor())
    if option is None or descriptor < 0:
        return True
    probe = pysocket.socket(fileno=os.dup(descriptor))
    try:
        raw = probe.getsockopt(pysocket.SOL_SOCKET, option, struct.calcsize("3i"))
    except OSError:
        return False
    finally:
        probe.close()
    _pid, uid, _gid = struct.unpack("3i", raw)
    return bool(uid == os.getuid())


def forward_to_running(files: list[str], name: str | None = None) -> bool:
    """Hand ``files`` to a Glassbox already running on this data folder.

    True when one took them (this start should then exit); False when none runs,
    or it did not answer in time (this start then opens its own window).
    """
    try:
        name = name or server_name()
    except OSError as exc:
        log.warning("No private folder for the instance socket: %s", exc)
        return False
    socket = QLocalSocket()
    socket.connectToServer(name)
    if not socket.waitForConnected(CONNECT_MS):
        return False
    if not same_user(socket):
        log.warning("The instance socket %s is held by another user; not handing over.", name)
        socket.abort()
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
        self._name = name
        self._server = QLocalServer(self)
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self._server.newConnection.connect(self._on_server_new_connection)
        self._buffers: dict[QLocalSocket, bytes] = {}

    def listen(self) -> bool:
        """Start listening; a socket left by a Glassbox that was killed is replaced.
        False (the window opens all the same) when no private folder exists for it."""
        if self._name is None:
            try:
                self._name = server_name()
            except OSError as exc:
                log.warning("Cannot listen for later starts: %s", exc)
                return False
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
            if not same_user(socket):
                log.warning("Refused a hand-over from another user.")
                socket.abort()
                socket.deleteLater()
                continue
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
