"""Deleting messages and branches with Undo, and new chats in a project, in a session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from desktop_app.core.chat.store import ChatStore
from desktop_app.core.engine.fake import FakeEngine
from desktop_app.core.errors import StorageError
from desktop_app.core.sampling import SamplingParams
from desktop_app.core.settings import Settings
from desktop_app.ui.chat.session import ChatSession
from desktop_app.ui.common.undo import UndoBar
from desktop_app.workers.engine.inference import InferenceController

SCRIPT = "Paris is the capital."
TIMEOUT_MS = 5000


@pytest.fixture
def session(qtbot: QtBot, tmp_path: Path) -> Iterator[ChatSession]:
    settings = Settings().with_sampling(SamplingParams.greedy())
    controller = InferenceController(
        lambda: FakeEngine(script=SCRIPT),
        settings,
        settings_path=tmp_path / "settings.json",
        resolver=lambda spec, progress: Path(spec),
        remember_model=False,
    )
    store = ChatStore(tmp_path / "chats.sqlite3")
    s = ChatSession(store, controller)
    with qtbot.waitSignal(controller.sig_model_loaded, timeout=TIMEOUT_MS):
        controller.load_model(str(tmp_path / "model.gguf"))
    yield s
    s.close()
    controller.shutdown()
    store.close()


def reply(qtbot: QtBot, session: ChatSession, action: object) -> None:
    with qtbot.waitSignal(session.sig_reply_ended, timeout=TIMEOUT_MS):
        action()  # type: ignore[operator]
    session.wait_saved()


def test_new_chat_in_a_project_takes_its_settings(qtbot: QtBot, session: ChatSession) -> None:
    store = session.store
    pid = store.create_project("Geo", system_prompt="Answer in one line.", collections=["atlas"])
    session.new_chat(store.project(pid))
    assert session.system_prompt == "Answer in one line."
    assert session.options.collections == ["atlas"]
    session.set_knowledge(None)  # no knowledge base here: the reply is not grounded
    reply(qtbot, session, lambda: session.send("Capital of France?"))
    chat = store.chat(session.chat_id or 0)
    assert chat.project_id == pid
    assert chat.system_prompt == "Answer in one line."
    assert chat.options["collections"] == ["atlas"]
    # A plain new chat afterwards is outside the project.
    session.new_chat()
    session.options.collections = []
    reply(qtbot, session, lambda: session.send("And Spain?"))
    assert store.chat(session.chat_id or 0).project_id is None


def test_delete_a_branch_then_undo_then_delete_for_good(qtbot: QtBot, session: ChatSession) -> None:
    reply(qtbot, session, lambda: session.send("Hi"))
    first = session.path[-1].id
    reply(qtbot, session, lambda: session.regenerate(first))
    second = session.path[-1].id
    with qtbot.waitSignal(session.sig_branch_deleted, timeout=TIMEOUT_MS) as blocker:
        assert session.delete_branch(second)
    assert blocker.args == [second, 1]
    # The other branch is shown at once.
    assert session.path[-1].id == first
    assert session.store.branch_position(first) == (1, 1)

    session.undo_delete(second)
    assert session.path[-1].id == second
    assert session.store.branch_position(second) == (2, 2)

    # Deleting the question takes its replies with it.
    question = session.path[0].id
    with qtbot.waitSignal(session.sig_branch_deleted, timeout=TIMEOUT_MS) as blocker:
        session.delete_branch(question)
    assert blocker.args == [question, 3]
    assert session.path == []
    session.finish_delete(question)
    with pytest.raises(StorageError):
        session.store.message(second)


def test_nothing_is_deleted_while_a_reply_streams(qtbot: QtBot, session: ChatSession) -> None:
    reply(qtbot, session, lambda: session.send("Hi"))
    answer = session.path[-1].id
    with qtbot.waitSignal(session.sig_reply_ended, timeout=TIMEOUT_MS):
        session.regenerate(answer)
        assert session.busy
        assert not session.delete_branch(answer)
    session.wait_saved()
    assert session.store.message(answer).content == SCRIPT


def test_undo_bar_undoes_the_last_and_expires_the_rest(qtbot: QtBot) -> None:
    bar = UndoBar("Undo test", timeout_ms=50)
    qtbot.addWidget(bar)
    bar.show()
    done: list[str] = []
    bar.offer("Deleted A.", lambda: done.append("undo A"), lambda: done.append("final A"))
    bar.offer("Deleted B.", lambda: done.append("undo B"), lambda: done.append("final B"))
    assert bar.isVisible() and bar.label.text() == "Deleted B."
    qtbot.mouseClick(bar.button, Qt.MouseButton.LeftButton)
    assert done == ["undo B"] and bar.label.text() == "Deleted A."
    qtbot.waitUntil(lambda: not bar.offered, timeout=TIMEOUT_MS)
    assert done == ["undo B", "final A"]
    assert not bar.isVisible()
