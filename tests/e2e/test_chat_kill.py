"""A window killed with SIGKILL while a reply streams: the chat reopens with what was saved.

A separate process runs the real window over the fake engine and is killed in
the middle of a reply, at a moment chosen by reading the real SQLite file. The
test process then opens a window on the same data folder, as the next start of
the app would.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from desktop_app.app import build
from desktop_app.core.engine.fake import FakeEngine
from desktop_app.core.sampling import SamplingParams
from desktop_app.core.settings import Settings
from desktop_app.workers.engine.inference import InferenceController

pytestmark = pytest.mark.e2e

#: The child's reply: long enough that it is still streaming when it is killed.
LONG_SCRIPT = "".join(f"Sentence {n} of a reply that is still being written. " for n in range(80))
QUESTION = "Tell me a long story"
#: Committed characters to wait for before the kill.
SEEN_CHARS = 20
TIMEOUT_MS = 10_000

CHILD = f"""
import sys
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from desktop_app.core.engine.fake import FakeEngine
from desktop_app.core.sampling import SamplingParams
from desktop_app.app import build
from desktop_app.core.settings import Settings
from desktop_app.workers.engine.inference import InferenceController

app = QApplication(sys.argv)
engine = FakeEngine(script={LONG_SCRIPT!r}, delay_s=0.01)
controller = InferenceController(
    lambda: engine,
    Settings().with_sampling(SamplingParams.greedy()),
    resolver=lambda spec, progress: Path(spec),
    remember_model=False,
)
window = build(controller, model_spec=sys.argv[1]).window


def type_question(loaded):
    QTest.keyClicks(window._input, {QUESTION!r})
    QTest.keyClick(window._input, Qt.Key.Key_Return)
    print("sent", window.session.busy, flush=True)


controller.sig_model_loaded.connect(type_question)
window.show()
# Never outlive a test that failed to kill this process.
QTimer.singleShot(120_000, app.quit)
sys.exit(app.exec())
"""


def committed_reply(db: Path) -> tuple[int, str, str] | None:
    """(id, status, content) of the assistant reply, read as another program would."""
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1.0)
    except sqlite3.OperationalError:
        return None  # the file does not exist yet
    try:
        row = conn.execute(
            "SELECT id, status, content FROM messages WHERE role = 'assistant' "
            "ORDER BY id DESC LIMIT 1"
        ).fetchone()
    except sqlite3.OperationalError:
        return None  # the schema is not created yet
    finally:
        conn.close()
    return (int(row[0]), str(row[1]), str(row[2])) if row else None


@pytest.fixture
def killed_child(glassbox_home: Path, tmp_path: Path) -> Iterator[tuple[int, str]]:
    """Run the window in a child, kill it mid-reply; yields (reply id, content seen)."""
    model = tmp_path / "fake-model.gguf"
    model.write_bytes(b"GGUF")
    env = {**os.environ, "GLASSBOX_HOME": str(glassbox_home), "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(model)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    db = glassbox_home / "chats.sqlite3"
    seen: tuple[int, str, str] | None = None
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            seen = committed_reply(db)
            if seen is not None and len(seen[2]) >= SEEN_CHARS:
                break
            time.sleep(0.05)
        alive = proc.poll() is None
        os.kill(proc.pid, signal.SIGKILL)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)
    assert alive, f"the window process ended by itself:\n{out}\n{err}"
    assert proc.returncode == -signal.SIGKILL
    assert "sent True" in out, f"the question was not sent:\n{out}\n{err}"
    assert seen is not None and len(seen[2]) >= SEEN_CHARS, f"nothing was committed:\n{err}"
    reply_id, status, content = seen
    assert status == "streaming"
    # Killed mid-reply, not after it.
    assert len(content) < len(LONG_SCRIPT)
    yield reply_id, content


def test_reply_killed_mid_stream_reopens_as_interrupted_and_the_chat_goes_on(
    qtbot: QtBot, killed_child: tuple[int, str], tmp_path: Path, glassbox_home: Path
) -> None:
    reply_id, seen = killed_child
    model = tmp_path / "fake-model.gguf"
    engine = FakeEngine(script="Here is the rest.")
    controller = InferenceController(
        lambda: engine,
        Settings().with_sampling(SamplingParams.greedy()),
        resolver=lambda spec, progress: Path(spec),
        remember_model=False,
    )
    window = build(controller, model_spec=str(model)).window
    qtbot.addWidget(window)
    try:
        with qtbot.waitSignal(controller.sig_model_loaded, timeout=TIMEOUT_MS):
            window.show()
        store = window.session.store
        assert store.path == glassbox_home / "chats.sqlite3"

        # The chat is listed and opened on the killed reply.
        chat_id = window.session.chat_id
        assert chat_id is not None
        assert window._chats.chat_titles() == [QUESTION]
        assert window._chats.current_chat_id() == chat_id
        path = window.session.path
        assert [(m.role, m.id) for m in path][-1] == ("assistant", reply_id)
        assert [m.role for m in path] == ["user", "assistant"]
        assert path[0].content == QUESTION

        # What was committed before the kill is kept: at least what was seen, and
        # nothing that the engine had not sent.
        reply = store.message(reply_id)
        assert reply.status == "interrupted"
        assert reply.content.startswith(seen)
        assert LONG_SCRIPT.startswith(reply.content)
        read = store.read_tokens(reply_id)
        assert read.note is None
        assert "".join(r.event.text for r in read.records) == reply.content
        assert not any(r.forced for r in read.records)

        # The user sees the question, the partial reply and why it is partial.
        shown = window.transcript_text()
        assert QUESTION in shown
        assert reply.content in shown
        footer = shown.split(reply.content, 1)[1].splitlines()[1]
        assert footer.startswith("Regenerate") and "interrupted" in footer
        assert window.view.token_count(reply_id) == len(read.records)

        # The window stays usable: a new message in the same chat gets its answer.
        with qtbot.waitSignal(window.session.sig_reply_ended, timeout=TIMEOUT_MS):
            qtbot.keyClicks(window._input, "Please go on")
            qtbot.keyClick(window._input, Qt.Key.Key_Return)
        assert window.session.chat_id == chat_id
        path = window.session.path
        assert [m.role for m in path] == ["user", "assistant", "user", "assistant"]
        assert path[1].id == reply_id
        assert path[2].content == "Please go on"
        assert path[3].status == "complete" and path[3].content == engine.script
        assert window.transcript_text().split("Glassbox\n")[-1].startswith(engine.script)
        # The earlier, interrupted reply was part of the prompt.
        messages = engine.requests[-1].messages or ()
        assert [m.content for m in messages] == [QUESTION, reply.content, "Please go on"]
    finally:
        window.close()
