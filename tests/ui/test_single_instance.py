"""One Glassbox per data folder: a later start hands its files to the running one."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QDir
from pytestqt.qtbot import QtBot

from desktop_app.app import build
from desktop_app.core.engine.fake import FakeEngine
from desktop_app.core.settings import load_settings
from desktop_app.ui.window import single_instance
from desktop_app.ui.window.single_instance import InstanceServer, forward_to_running, server_name
from desktop_app.workers.engine.inference import InferenceController

TIMEOUT_MS = 10_000


@pytest.fixture
def name() -> str:
    return f"glassbox-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def listening(name: str) -> Iterator[InstanceServer]:
    server = InstanceServer(name)
    assert server.listen()
    yield server
    server.close()


def forward_in_process(files: list[str], name: str) -> subprocess.Popen[bytes]:
    """A later start, as in real use: another process, while this one's event loop
    (the running Glassbox) answers."""
    code = (
        "import json, sys\n"
        "from desktop_app.ui.window.single_instance import forward_to_running\n"
        "sys.exit(0 if forward_to_running(json.loads(sys.argv[1]), sys.argv[2]) else 3)\n"
    )
    return subprocess.Popen([sys.executable, "-c", code, json.dumps(files), name])


def test_nothing_running_means_this_start_opens_its_own_window(name: str) -> None:
    assert forward_to_running(["/tmp/a.txt"], name) is False


def test_files_reach_the_running_instance(
    qtbot: QtBot, listening: InstanceServer, name: str
) -> None:
    with qtbot.waitSignal(listening.sig_files, timeout=TIMEOUT_MS) as got:
        later = forward_in_process(["/data/notes.md", "/models/m.gguf"], name)
    # The answer goes out from the event loop: keep it running while waiting.
    qtbot.waitUntil(lambda: later.poll() is not None, timeout=TIMEOUT_MS)
    assert got.args == [["/data/notes.md", "/models/m.gguf"]]
    assert later.returncode == 0


def test_a_socket_left_by_a_killed_glassbox_is_taken_over(qtbot: QtBot, name: str) -> None:
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(os.path.join(QDir.tempPath(), name))  # bound, never listening: as after kill -9
    stale.close()
    server = InstanceServer(name)
    try:
        assert server.listen()
        with qtbot.waitSignal(server.sig_files, timeout=TIMEOUT_MS):
            later = forward_in_process([], name)
        qtbot.waitUntil(lambda: later.poll() is not None, timeout=TIMEOUT_MS)
        assert later.returncode == 0
    finally:
        server.close()


def test_the_socket_lives_in_a_folder_only_this_user_can_enter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    name = Path(server_name())
    assert name.parent == runtime / "glassbox" and name.name.startswith("instance-")
    assert (name.parent.stat().st_mode & 0o777) == 0o700
    # Without a session runtime folder: a private one in the temporary folder.
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    monkeypatch.setattr(single_instance.tempfile, "gettempdir", lambda: str(tmp_path))
    assert Path(server_name()).parent == tmp_path / f"glassbox-{os.getuid()}"


def test_a_folder_prepared_by_someone_else_is_not_used(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = tmp_path / "run"
    (runtime / "glassbox").mkdir(parents=True)
    (runtime / "glassbox").chmod(0o777)  # as another user would leave it for us
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    with pytest.raises(single_instance.RuntimeFolderError):
        server_name()
    server = InstanceServer()
    assert server.listen() is False  # the window opens all the same, alone
    assert forward_to_running(["/secret/plans.odt"]) is False
    assert list((runtime / "glassbox").iterdir()) == []


def test_a_hand_over_from_another_user_is_refused(
    qtbot: QtBot, listening: InstanceServer, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    received: list[list[str]] = []
    listening.sig_files.connect(received.append)
    # The running Glassbox sees a peer whose uid is not its own.
    real_uid = os.getuid()
    monkeypatch.setattr(single_instance.os, "getuid", lambda: real_uid + 4242)
    later = forward_in_process(["/data/notes.md"], name)
    qtbot.waitUntil(lambda: later.poll() is not None, timeout=TIMEOUT_MS)
    assert later.returncode == 3 and received == []


def test_garbage_on_the_socket_is_ignored(
    qtbot: QtBot, listening: InstanceServer, name: str
) -> None:
    received: list[list[str]] = []
    listening.sig_files.connect(received.append)
    raw = socket.socket(socket.AF_UNIX)
    raw.connect(os.path.join(QDir.tempPath(), name))
    raw.sendall(b'{"files": "not a list"}\n')
    qtbot.wait(200)
    raw.close()
    assert received == []
    # ...and the server still takes a proper hand-over afterwards.
    with qtbot.waitSignal(listening.sig_files, timeout=TIMEOUT_MS):
        later = forward_in_process(["/x.txt"], name)
    qtbot.waitUntil(lambda: later.poll() is not None, timeout=TIMEOUT_MS)


def test_the_window_loads_a_handed_gguf_and_indexes_documents(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    controller = InferenceController(lambda: FakeEngine(), load_settings())
    window = build(controller, model_spec=None).window
    qtbot.addWidget(window)
    opened: list[str] = []
    added: list[list[str]] = []
    monkeypatch.setattr(window, "open_model_file", opened.append)
    monkeypatch.setattr(window, "add_documents", added.append)
    try:
        window.open_paths(
            [str(tmp_path / "a.md"), str(tmp_path / "m.gguf"), str(tmp_path / "b.pdf")]
        )
        assert opened == [str(tmp_path / "m.gguf")]
        assert added == [[str(tmp_path / "a.md"), str(tmp_path / "b.pdf")]]
    finally:
        assert controller.shutdown()


def test_a_second_glassbox_hands_over_and_exits(tmp_path: Path, glassbox_home: Path) -> None:
    """Real processes: the second start exits at once, the first keeps running."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", GLASSBOX_HOME=str(glassbox_home))
    command = [sys.executable, "-m", "desktop_app", "gui", "--no-model"]
    first = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # Up once a hand-over is answered (the name follows GLASSBOX_HOME).
        deadline = time.monotonic() + 60
        while not forward_to_running([], server_name()):
            assert first.poll() is None, first.communicate()[1].decode()[-2000:]
            assert time.monotonic() < deadline, "the first Glassbox did not start listening"
            time.sleep(0.2)
        second = subprocess.run(
            [*command, str(tmp_path / "notes.txt")],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 0, second.stderr
        assert "already open" in second.stdout
        assert first.poll() is None
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(30)


def test_restart_now_waits_for_the_glassbox_it_replaces(monkeypatch: pytest.MonkeyPatch) -> None:
    """Restart now starts the new Glassbox before the old one has quit; the new
    one must not hand itself over to the old one, so it waits for it to end."""
    from desktop_app.cli.gui import _wait_for_replaced_instance
    from desktop_app.ui.window import settings_dialog

    process = settings_dialog.relaunch_process()
    assert process.processEnvironment().value(settings_dialog.REPLACES_ENV) == str(os.getpid())

    old = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1.0)"])
    monkeypatch.setenv(settings_dialog.REPLACES_ENV, str(old.pid))
    start = time.monotonic()
    waiter = threading.Thread(target=_wait_for_replaced_instance)
    waiter.start()
    old.wait(10)  # reaped here, so the waiter sees it gone
    waiter.join(10)
    assert not waiter.is_alive()
    assert time.monotonic() - start >= 0.5
    assert settings_dialog.REPLACES_ENV not in os.environ
