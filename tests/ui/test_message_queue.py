"""Messages typed while a reply streams wait in a queue and go when the reply ends.

The window runs on the fake engine (the same stand-in as the other window tests),
slowed down so that a reply is still streaming while the next messages are typed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QAbstractButton, QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from desktop_app.app import build
from desktop_app.core.engine.fake import FakeEngine
from desktop_app.core.engine.protocol import Message
from desktop_app.core.sampling import SamplingParams
from desktop_app.core.settings import Settings
from desktop_app.ui.window.main_window import MainWindow
from desktop_app.workers.engine.inference import InferenceController

TIMEOUT_MS = 10_000
SCRIPT = "A reply that takes a moment to write."


@dataclass
class Rig:
    controller: InferenceController
    window: MainWindow
    engines: list[FakeEngine] = field(default_factory=list)

    def type_and_enter(self, qtbot: QtBot, text: str) -> None:
        # QTest types ASCII only; other text is put in as an input method would.
        self.window._input.insertPlainText(text)
        qtbot.keyClick(self.window._input, Qt.Key.Key_Return)

    def requests(self) -> list[tuple[Message, ...]]:
        return [r.messages or () for e in self.engines for r in e.requests]

    def queued(self) -> list[str]:
        return [q.content for q in self.window._queue.items()]


@pytest.fixture
def make_rig(qtbot: QtBot, tmp_path: Path) -> Iterator[Callable[[float], Rig]]:
    model = tmp_path / "tiny-test-model.gguf"
    model.write_bytes(b"GGUF")
    controllers: list[InferenceController] = []

    def make(delay_s: float = 0.03) -> Rig:
        engines: list[FakeEngine] = []

        def factory() -> FakeEngine:
            engines.append(FakeEngine(script=SCRIPT, delay_s=delay_s))
            return engines[-1]

        controller = InferenceController(
            factory, settings=Settings().with_sampling(SamplingParams.greedy())
        )
        controllers.append(controller)
        window = build(controller, model_spec=str(model)).window
        qtbot.addWidget(window)
        with qtbot.waitSignal(controller.sig_model_loaded, timeout=TIMEOUT_MS):
            window.show()
        return Rig(controller, window, engines)

    yield make
    for controller in controllers:
        assert controller.shutdown()


def answer_stop_box(choice: str, seen: list[str]) -> None:
    """Click ``choice`` (drop, keep, cancel) in the box Stop opens, noting its text."""

    def click() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, click)
            return
        seen.append(f"{box.text()} {box.informativeText()}")
        seen.extend(b.text() for b in box.buttons())
        button = box.findChild(QAbstractButton, choice)
        assert button is not None
        button.click()

    QTimer.singleShot(0, click)


def wait_idle(qtbot: QtBot, rig: Rig) -> None:
    qtbot.waitUntil(lambda: not rig.window.session.busy, timeout=TIMEOUT_MS)


def test_messages_typed_during_a_reply_are_queued_and_sent_in_order(
    qtbot: QtBot, make_rig: Callable[[float], Rig]
) -> None:
    rig = make_rig(0.03)
    rig.type_and_enter(qtbot, "first")
    assert rig.window.session.busy
    rig.type_and_enter(qtbot, "second")
    rig.type_and_enter(qtbot, "第三")

    # Pending under the conversation, not sent yet; the message box is free again.
    assert rig.queued() == ["second", "第三"]
    assert rig.window._queue.isVisible()
    assert rig.window._input.toPlainText() == ""
    assert len(rig.requests()) == 1
    assert "Queued" in rig.window._status_label.text()

    qtbot.waitUntil(lambda: len(rig.requests()) == 3, timeout=TIMEOUT_MS)
    wait_idle(qtbot, rig)
    # One reply after another: each queued message follows the reply before it.
    assert rig.requests()[2] == (
        Message("user", "first"),
        Message("assistant", SCRIPT),
        Message("user", "second"),
        Message("assistant", SCRIPT),
        Message("user", "第三"),
    )
    assert rig.queued() == []
    assert not rig.window._queue.isVisible()
    assert [m.role for m in rig.window.session.path] == ["user", "assistant"] * 3


def test_a_queued_message_can_be_edited_or_removed_before_it_goes(
    qtbot: QtBot, make_rig: Callable[[float], Rig]
) -> None:
    rig = make_rig(0.05)
    rig.type_and_enter(qtbot, "first")
    rig.type_and_enter(qtbot, "secnod")
    rig.type_and_enter(qtbot, "never mind")
    (edit, _send, _remove), (_edit2, send2, remove2) = rig.window._queue.rows()
    assert not send2.isVisible()  # nothing can jump the queue while a reply runs

    edit.setFocus()
    edit.selectAll()
    qtbot.keyClicks(edit, "second, corrected")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert rig.queued() == ["second, corrected", "never mind"]
    qtbot.mouseClick(remove2, Qt.MouseButton.LeftButton)
    assert rig.queued() == ["second, corrected"]

    qtbot.waitUntil(lambda: len(rig.requests()) == 2, timeout=TIMEOUT_MS)
    wait_idle(qtbot, rig)
    assert rig.requests()[1][-1] == Message("user", "second, corrected")
    assert len(rig.requests()) == 2


def test_stop_asks_whether_to_drop_the_queue(
    qtbot: QtBot, make_rig: Callable[[float], Rig]
) -> None:
    rig = make_rig(0.05)
    rig.type_and_enter(qtbot, "first")
    rig.type_and_enter(qtbot, "queued one")
    rig.type_and_enter(qtbot, "queued two")

    # Keep writing: nothing is stopped, nothing is dropped.
    seen: list[str] = []
    answer_stop_box("cancel", seen)
    qtbot.mouseClick(rig.window._stop_button, Qt.MouseButton.LeftButton)
    assert "2 queued message(s) wait to be sent after this reply." in seen[0]
    # The order of the buttons is the platform's.
    assert sorted(seen[1:]) == ["Keep writing", "Stop and drop the queue", "Stop the reply only"]
    assert rig.window.session.busy
    assert rig.queued() == ["queued one", "queued two"]

    # Stop the reply only: the queue goes on, its first message next.
    answer_stop_box("keep", [])
    qtbot.mouseClick(rig.window._stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(rig.requests()) == 2, timeout=TIMEOUT_MS)
    assert rig.window.session.path[1].status == "cancelled"
    assert rig.requests()[1][-1] == Message("user", "queued one")
    qtbot.waitUntil(lambda: rig.window.session.busy, timeout=TIMEOUT_MS)

    # Stop and drop the queue: the reply stops and nothing more is sent.
    answer_stop_box("drop", [])
    qtbot.mouseClick(rig.window._stop_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, rig)
    qtbot.wait(100)
    assert rig.queued() == []
    assert len(rig.requests()) == 2
    assert rig.window.session.queued_messages() == []


def test_stop_without_a_queue_asks_nothing(qtbot: QtBot, make_rig: Callable[[float], Rig]) -> None:
    rig = make_rig(0.05)
    rig.type_and_enter(qtbot, "first")
    qtbot.mouseClick(rig.window._stop_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, rig)
    assert QApplication.activeModalWidget() is None


def test_queued_messages_survive_a_restart(qtbot: QtBot, make_rig: Callable[[float], Rig]) -> None:
    rig = make_rig(0.05)
    rig.type_and_enter(qtbot, "first")
    rig.type_and_enter(qtbot, "after the restart")
    rig.window.close()  # quits while the reply streams

    again = make_rig(0.0)
    assert again.queued() == ["after the restart"]
    assert again.window._queue.isVisible()
    ((_edit, send, _remove),) = again.window._queue.rows()
    assert send.isVisible()  # nothing runs: it can be sent now
    qtbot.mouseClick(send, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(again.requests()) == 1, timeout=TIMEOUT_MS)
    wait_idle(qtbot, again)
    assert again.requests()[0][-1] == Message("user", "after the restart")
    assert again.queued() == []
