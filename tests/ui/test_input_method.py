"""Enter while a Chinese/Japanese/Korean input method composes picks the candidate.

Each test plays what a platform input method sends: a preedit (half-typed text),
an Enter key press that chooses the candidate, then the commit. Nothing may be
sent, searched or accepted on that Enter; the committed text is in the field, and
the next Enter acts on it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QDockWidget, QLineEdit, QWidget
from pytestqt.qtbot import QtBot

from desktop_app.app import build
from desktop_app.core.engine.fake import FakeEngine
from desktop_app.core.engine.protocol import Message
from desktop_app.core.sampling import SamplingParams
from desktop_app.core.settings import Settings
from desktop_app.ui.window.main_window import MainWindow
from desktop_app.workers.engine.inference import InferenceController

TIMEOUT_MS = 5000


def compose_with_enter(qtbot: QtBot, field: QWidget, preedit: str, commit: str) -> None:
    """Preedit, Enter (the input method picks its candidate), then the commit."""
    QCoreApplication.sendEvent(field, QInputMethodEvent(preedit, []))
    qtbot.keyClick(field, Qt.Key.Key_Return)
    done = QInputMethodEvent("", [])
    done.setCommitString(commit)
    QCoreApplication.sendEvent(field, done)


def focus(qtbot: QtBot, field: QWidget) -> None:
    """Show the dock holding ``field`` and give the field the keyboard focus."""
    parent = field.parentWidget()
    while parent is not None and not isinstance(parent, QDockWidget):
        parent = parent.parentWidget()
    if parent is not None:
        parent.show()
        parent.raise_()
    field.window().activateWindow()
    field.setFocus(Qt.FocusReason.OtherFocusReason)
    qtbot.waitUntil(field.hasFocus, timeout=TIMEOUT_MS)


@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path) -> Iterator[tuple[MainWindow, list[FakeEngine]]]:
    engines: list[FakeEngine] = []

    def factory() -> FakeEngine:
        engines.append(FakeEngine())
        return engines[-1]

    model = tmp_path / "tiny-test-model.gguf"
    model.write_bytes(b"GGUF")
    controller = InferenceController(
        factory, settings=Settings().with_sampling(SamplingParams.greedy())
    )
    main = build(controller, model_spec=str(model)).window
    qtbot.addWidget(main)
    with qtbot.waitSignal(controller.sig_model_loaded, timeout=TIMEOUT_MS):
        main.show()
    yield main, engines
    assert controller.shutdown()


def test_enter_during_composition_does_not_send_the_message(
    qtbot: QtBot, window: tuple[MainWindow, list[FakeEngine]]
) -> None:
    main, engines = window
    box = main._input
    focus(qtbot, box)

    qtbot.keyClicks(box, "Say ")
    compose_with_enter(qtbot, box, "nihao", "你好")
    qtbot.wait(50)
    assert engines[0].requests == []
    assert main.history == []
    assert box.toPlainText() == "Say 你好"

    with qtbot.waitSignal(main.session.sig_busy, timeout=TIMEOUT_MS):
        qtbot.keyClick(box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(engines[0].requests), timeout=TIMEOUT_MS)
    assert engines[0].requests[0].messages == (Message("user", "Say 你好"),)
    assert box.toPlainText() == ""


# Line edits that act on Enter, by accessible name, and the signal they act on.
LINE_EDITS = [
    ("Search chats", "returnPressed"),  # searches every chat
    ("Search query", "returnPressed"),  # the tasks' knowledge search
    ("Test query text", "returnPressed"),  # the knowledge panel's test query
    ("Model file path", "editingFinished"),  # inspects the model file
    ("LoRA adapter path", "editingFinished"),
    ("Only file types", "editingFinished"),  # the chat's retrieval filters
    ("Only files under folder", "editingFinished"),
]


def line_edit(root: QWidget, name: str) -> QLineEdit:
    found = [w for w in root.findChildren(QLineEdit) if w.accessibleName() == name]
    assert len(found) == 1, f"{len(found)} fields named {name!r}"
    return found[0]


@pytest.mark.parametrize(("name", "signal"), LINE_EDITS)
def test_enter_during_composition_does_not_act_in_a_line_edit(
    qtbot: QtBot, window: tuple[MainWindow, list[FakeEngine]], name: str, signal: str
) -> None:
    main, _ = window
    field = line_edit(main, name)
    focus(qtbot, field)
    field.clear()
    acted: list[str] = []
    getattr(field, signal).connect(lambda: acted.append(field.text()))

    compose_with_enter(qtbot, field, "zhishi", "知识")
    assert acted == []
    assert field.text() == "知识"

    qtbot.keyClick(field, Qt.Key.Key_Return)
    assert acted == ["知识"]


def test_enter_during_composition_does_not_accept_the_settings_dialog(
    qtbot: QtBot, window: tuple[MainWindow, list[FakeEngine]]
) -> None:
    main, _ = window
    dialog = main.settings_dialog()
    dialog.show()
    dialog.tabs.setCurrentIndex(1)  # the engine page
    dialog.remote_radio.setChecked(True)
    finished: list[int] = []
    dialog.finished.connect(finished.append)
    field = dialog.base_url
    field.setText("http://")
    focus(qtbot, field)

    compose_with_enter(qtbot, field, "fuwuqi", "服务器")
    assert finished == []
    assert dialog.isVisible()
    assert field.text() == "http://服务器"


def test_a_field_without_composition_still_acts_on_enter(
    qtbot: QtBot, window: tuple[MainWindow, list[FakeEngine]]
) -> None:
    # A preedit that was cancelled (an empty one) ends the composition.
    main, _ = window
    field = line_edit(main, "Search chats")
    focus(qtbot, field)
    acted: list[str] = []
    field.returnPressed.connect(lambda: acted.append(field.text()))
    QCoreApplication.sendEvent(field, QInputMethodEvent("ni", []))
    QCoreApplication.sendEvent(field, QInputMethodEvent("", []))
    qtbot.keyClicks(field, "abc")
    qtbot.keyClick(field, Qt.Key.Key_Return)
    assert acted == ["abc"]
