"""The first window, end to end with the fake engine: load, stream, stop, errors."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QColor, QDragEnterEvent, QDropEvent, QTextCursor
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QTextEdit,
)
from pytestqt.qtbot import QtBot

from desktop_app.app import build
from desktop_app.core.chat.export import suggested_filename
from desktop_app.core.engine.fake import FakeEngine
from desktop_app.core.engine.protocol import (
    DoneEvent,
    EngineConfig,
    ErrorEvent,
    Event,
    GenerateRequest,
    Message,
    ModelLoaded,
    TokenEvent,
)
from desktop_app.core.errors import ModelLoadError
from desktop_app.core.sampling import SamplingParams
from desktop_app.core.settings import Settings, load_settings
from desktop_app.ui.common.errors import error_title
from desktop_app.ui.window.main_window import MainWindow, probability_colour, token_tooltip
from desktop_app.workers.engine.inference import InferenceController, ProgressCallback

SCRIPT = FakeEngine().script
TIMEOUT_MS = 5000
#: Greedy sampling: the fake engine then replays its script exactly.
GREEDY = Settings().with_sampling(SamplingParams.greedy())


class CrashOnceEngine(FakeEngine):
    """Streams a few tokens, then reports that the engine process died."""

    def generate(self, request: GenerateRequest) -> Iterator[Event]:
        for n, event in enumerate(super().generate(request)):
            if n == 3:
                break
            yield event
        yield ErrorEvent("engine_crashed", "The engine process stopped unexpectedly (SIGKILL).")


class FailingLoadEngine(FakeEngine):
    def load(self, config: EngineConfig) -> ModelLoaded:
        raise ModelLoadError(f"llama.cpp could not load {Path(config.model_path).name}.")


@dataclass
class Rig:
    controller: InferenceController
    window: MainWindow
    engines: list[FakeEngine] = field(default_factory=list)

    def send_text(self, qtbot: QtBot, text: str) -> None:
        qtbot.keyClicks(self.window._input, text)
        qtbot.keyClick(self.window._input, Qt.Key.Key_Return)

    def status(self) -> str:
        return self.window._status_label.text()


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    # A path is only checked for existence before the (fake) engine sees it.
    path = tmp_path / "tiny-test-model.gguf"
    path.write_bytes(b"GGUF")
    return path


@pytest.fixture
def make_rig(qtbot: QtBot, model_file: Path) -> Iterator[Callable[..., Rig]]:
    controllers: list[InferenceController] = []

    def make(*engines: FakeEngine, spec: str | None = None, **kwargs: object) -> Rig:
        supply = list(engines)
        rig_engines: list[FakeEngine] = []

        def factory() -> FakeEngine:
            engine = supply.pop(0) if supply else FakeEngine()
            rig_engines.append(engine)
            return engine

        kwargs.setdefault("settings", GREEDY.model_copy())
        controller = InferenceController(factory, **kwargs)  # type: ignore[arg-type]
        controllers.append(controller)
        window = build(controller, model_spec=spec or str(model_file)).window
        qtbot.addWidget(window)
        return Rig(controller, window, rig_engines)

    yield make
    for controller in controllers:
        assert controller.shutdown(), "the engine thread must end"


def open_window(qtbot: QtBot, rig: Rig) -> None:
    with qtbot.waitSignal(rig.controller.sig_model_loaded, timeout=TIMEOUT_MS):
        rig.window.show()


def test_window_opens_at_once_and_loads_after_show(
    qtbot: QtBot, make_rig: Callable[..., Rig], model_file: Path
) -> None:
    rig = make_rig()
    # Constructed, not shown: no engine, no thread, nothing to send with.
    assert rig.engines == []
    assert rig.controller.worker_thread is None
    assert not rig.window._send_button.isEnabled()
    assert not rig.window._stop_button.isEnabled()

    open_window(qtbot, rig)

    assert len(rig.engines) == 1
    assert rig.engines[0].loaded is not None
    assert rig.engines[0].loaded.model_path == str(model_file)
    assert rig.window._send_button.isEnabled()
    assert not rig.window._stop_button.isEnabled()
    assert not rig.window._progress.isVisible()
    assert rig.window._model_label.text() == "Model: tiny-test-model.gguf"
    # The model is remembered for the next start.
    assert load_settings().last_model == str(model_file.resolve())


def test_enter_streams_the_reply_and_keeps_the_conversation(
    qtbot: QtBot, make_rig: Callable[..., Rig]
) -> None:
    rig = make_rig()
    open_window(qtbot, rig)

    with qtbot.waitSignal(rig.controller.sig_done, timeout=TIMEOUT_MS) as blocker:
        rig.send_text(qtbot, "Hi there")
    done = blocker.args[0]
    assert isinstance(done, DoneEvent)
    assert done.finish_reason == "eos"

    text = rig.window.transcript_text()
    assert "Hi there" in text
    assert SCRIPT in text
    assert text.index("Hi there") < text.index(SCRIPT)
    assert rig.window._input.toPlainText() == ""
    assert f"{len(SCRIPT)} tokens" in rig.status()
    assert "tokens/s" in rig.status()
    assert rig.window._send_button.isEnabled()
    assert not rig.window._stop_button.isEnabled()

    # The whole conversation goes with each request, so the engine can reuse the prefix.
    with qtbot.waitSignal(rig.controller.sig_done, timeout=TIMEOUT_MS):
        rig.send_text(qtbot, "And again")
    engine = rig.engines[0]
    assert engine.requests[0].messages == (Message("user", "Hi there"),)
    assert engine.requests[1].messages == (
        Message("user", "Hi there"),
        Message("assistant", SCRIPT),
        Message("user", "And again"),
    )
    assert rig.window.history[-1] == Message("assistant", SCRIPT)


def test_a_reply_that_loops_is_stopped_and_the_status_says_why(
    qtbot: QtBot, make_rig: Callable[..., Rig]
) -> None:
    sentence = "The disk check runs every night at two and mails root as soon as a disk fails. "
    rig = make_rig(FakeEngine(script=sentence * 12))
    open_window(qtbot, rig)

    with qtbot.waitSignal(rig.controller.sig_done, timeout=TIMEOUT_MS) as blocker:
        rig.send_text(qtbot, "How are disks checked?")
    assert blocker.args[0].finish_reason == "loop"
    assert "Stopped: the reply was repeating itself (Loop stop)." in rig.status()
    assert rig.window.history[-1].content.strip() == (sentence * 3).strip()


def test_shift_enter_adds_a_line_and_sends_nothing(
    qtbot: QtBot, make_rig: Callable[..., Rig]
) -> None:
    rig = make_rig()
    open_window(qtbot, rig)
    box = rig.window._input
    qtbot.keyClicks(box, "one")
    qtbot.keyClick(box, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(box, "two")
    assert box.toPlainText() == "one\ntwo"
    assert rig.engines[0].requests == []

    with qtbot.waitSignal(rig.controller.sig_done, timeout=TIMEOUT_MS):
        qtbot.mouseClick(rig.window._send_button, Qt.MouseButton.LeftButton)
    assert rig.engines[0].requests[0].messages == (Message("user", "one\ntwo"),)


def test_stop_ends_the_reply_quickly_and_keeps_the_partial_text(
    qtbot: QtBot, make_rig: Callable[..., Rig]
) -> None:
    script = "The quick brown fox jumps over the lazy dog. " * 10
    rig = make_rig(FakeEngine(script=script, delay_s=0.02))
    open_window(qtbot, rig)

    rig.send_text(qtbot, "Tell me a story")
    assert rig.window._stop_button.isEnabled()
    assert not rig.window._send_button.isEnabled()
    qtbot.waitUntil(lambda: "The quick" in rig.window.transcript_text(), timeout=TIMEOUT_MS)

    with qtbot.waitSignal(rig.controller.sig_done, timeout=TIMEOUT_MS) as blocker:
        qtbot.mouseClick(rig.window._stop_button, Qt.MouseButton.LeftButton)
        # Shown as stopped at once, before the engine has even answered.
        assert "Stopped" in rig.status()
        assert not rig.window._stop_button.isEnabled()
    assert blocker.args[0].finish_reason == "cancelled"

    partial = rig.window.history[-1]
    assert partial.role == "assistant"
    assert script.startswith(partial.content)
    assert 0 < len(partial.content) < len(script)
    # Tokens that were still on their way were dropped; the reply is marked stopped.
    assert f"Glassbox\n{partial.content}\nRegenerate" in rig.window.transcript_text()
    assert "Delete     stopped" in rig.window.transcript_text()
    assert rig.window.session.path[-1].status == "cancelled"
    assert rig.window._send_button.isEnabled()
    assert "Stopped" in rig.status()


def test_engine_crash_is_shown_and_the_next_send_works(
    qtbot: QtBot, make_rig: Callable[..., Rig]
) -> None:
    rig = make_rig(CrashOnceEngine(), FakeEngine())
    open_window(qtbot, rig)
    errors: list[tuple[str, str, str]] = []
    # Connected after the window's slot: records what the status bar said then.
    rig.controller.sig_error.connect(
        lambda kind, message: errors.append((kind, message, rig.status()))
    )

    # The controller reports the crash, then restarts the engine and reloads the model.
    with qtbot.waitSignal(rig.controller.sig_model_loaded, timeout=TIMEOUT_MS):
        rig.send_text(qtbot, "Hello")
    message = "The engine process stopped unexpectedly (SIGKILL)."
    # The translated headline for the kind, then the detail as the engine reported it.
    assert errors == [("engine_crashed", message, f"⚠ {error_title('engine_crashed')} {message}")]
    assert "restarted" in rig.status()
    assert "⚠ The engine process stopped unexpectedly (SIGKILL)." in rig.window.transcript_text()
    assert len(rig.engines) == 2
    assert rig.engines[1].loaded is not None
    assert rig.window._send_button.isEnabled()
    assert not rig.window._stop_button.isEnabled()

    with qtbot.waitSignal(rig.controller.sig_done, timeout=TIMEOUT_MS):
        rig.send_text(qtbot, "Try again")
    assert rig.window.transcript_text().split("Glassbox\n")[-1].startswith(SCRIPT + "\n")
    # The crashed reply's partial text stays in the conversation.
    assert rig.engines[1].requests[0].messages == (
        Message("user", "Hello"),
        Message("assistant", SCRIPT[:3]),
        Message("user", "Try again"),
    )


def test_error_with_no_reply_is_kept_and_can_be_regenerated(
    qtbot: QtBot, make_rig: Callable[..., Rig]
) -> None:
    class NoModelEngine(FakeEngine):
        def generate(self, request: GenerateRequest) -> Iterator[Event]:
            yield ErrorEvent("context_overflow", "The conversation no longer fits.")

    rig = make_rig(NoModelEngine())
    open_window(qtbot, rig)
    with qtbot.waitSignal(rig.controller.sig_error, timeout=TIMEOUT_MS):
        rig.send_text(qtbot, "A long question")
    assert "The conversation no longer fits." in rig.window.transcript_text()
    # The question stays; the empty reply is marked and offers Regenerate.
    path = rig.window.session.path
    assert [m.role for m in path] == ["user", "assistant"]
    assert path[-1].status == "error" and path[-1].meta["error_kind"] == "context_overflow"
    assert "ended with an error" in rig.window.transcript_text()
    assert "Regenerate" in rig.window.transcript_text()
    assert rig.window._send_button.isEnabled()


def test_load_failure_is_shown(qtbot: QtBot, make_rig: Callable[..., Rig]) -> None:
    rig = make_rig(FailingLoadEngine())
    with qtbot.waitSignal(rig.controller.sig_error, timeout=TIMEOUT_MS) as blocker:
        rig.window.show()
    assert blocker.args == ["model_load", "llama.cpp could not load tiny-test-model.gguf."]
    assert "⚠ llama.cpp could not load" in rig.window.transcript_text()
    assert "could not load" in rig.status()
    assert not rig.window._progress.isVisible()
    assert not rig.window._send_button.isEnabled()
    assert load_settings().last_model is None


def test_missing_model_file_is_shown(
    qtbot: QtBot, make_rig: Callable[..., Rig], tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere.gguf"
    rig = make_rig(spec=str(missing))
    with qtbot.waitSignal(rig.controller.sig_error, timeout=TIMEOUT_MS) as blocker:
        rig.window.show()
    assert blocker.args[0] == "model_file"
    assert str(missing) in rig.window.transcript_text()
    assert rig.engines == [], "a missing file never reaches the engine"


def test_load_settings_reach_the_engine(qtbot: QtBot, make_rig: Callable[..., Rig]) -> None:
    settings = GREEDY.model_copy(update={"n_ctx": 2048, "n_gpu_layers": -1, "n_threads": 3})
    rig = make_rig(settings=settings)
    open_window(qtbot, rig)
    config = rig.engines[0].config
    assert config is not None
    assert (config.n_ctx, config.n_gpu_layers, config.n_threads) == (2048, -1, 3)


def test_a_refused_file_keeps_the_loaded_model_working(
    qtbot: QtBot, make_rig: Callable[..., Rig], tmp_path: Path
) -> None:
    rig = make_rig()
    open_window(qtbot, rig)
    with qtbot.waitSignals(
        [rig.controller.sig_error, rig.controller.sig_model_loaded], timeout=TIMEOUT_MS
    ):
        rig.controller.load_model(str(tmp_path / "not-there.gguf"))
    assert "not-there.gguf" in rig.window.transcript_text()
    assert rig.window._send_button.isEnabled()
    assert rig.window._model_label.text() == "Model: tiny-test-model.gguf"
    with qtbot.waitSignal(rig.controller.sig_done, timeout=TIMEOUT_MS):
        rig.send_text(qtbot, "still there?")
    assert SCRIPT in rig.window.transcript_text()


def test_default_model_preparation_shows_progress(
    qtbot: QtBot, make_rig: Callable[..., Rig], model_file: Path
) -> None:
    release = threading.Event()

    def slow_resolver(spec: str, progress: ProgressCallback) -> Path:
        assert spec == "default"
        progress(42, 100)
        release.wait(TIMEOUT_MS / 1000)
        return model_file

    rig = make_rig(spec="default", resolver=slow_resolver)
    rig.window.show()
    try:
        qtbot.waitUntil(lambda: rig.status() == "Preparing default model… 42%", timeout=TIMEOUT_MS)
        assert rig.window._progress.isVisible()
        assert rig.window._welcome.progress.isVisible()
        assert rig.window._welcome.progress.value() == 42
        assert rig.window._progress.value() == 42
        assert not rig.window._send_button.isEnabled()
    finally:
        release.set()
    with qtbot.waitSignal(rig.controller.sig_model_loaded, timeout=TIMEOUT_MS):
        pass
    assert not rig.window._progress.isVisible()
    assert load_settings().last_model == "default"


def test_tokens_are_batched(qtbot: QtBot, make_rig: Callable[..., Rig]) -> None:
    # Text that does not repeat itself (300 x's would be a loop, stopped at 200).
    script = " ".join(str(n) for n in range(200))[:300]
    rig = make_rig(FakeEngine(script=script, delay_s=0.0005))
    open_window(qtbot, rig)
    batches: list[int] = []
    rig.controller.sig_tokens.connect(lambda tokens: batches.append(len(tokens)))

    with qtbot.waitSignal(rig.controller.sig_done, timeout=TIMEOUT_MS):
        rig.send_text(qtbot, "Count")
    assert sum(batches) == 300
    assert len(batches) <= 30, f"{len(batches)} emissions for 300 tokens"
    assert "Glassbox\n" + script + "\n" in rig.window.transcript_text()


def test_probabilities_tint_tokens_and_tooltips_list_candidates(
    qtbot: QtBot, make_rig: Callable[..., Rig]
) -> None:
    rig = make_rig()
    open_window(qtbot, rig)
    tokens: list[TokenEvent] = []
    rig.controller.sig_tokens.connect(tokens.extend)
    rig.window._probs_check.setChecked(True)
    assert not rig.window._legend.isHidden()

    with qtbot.waitSignal(rig.controller.sig_done, timeout=TIMEOUT_MS):
        rig.send_text(qtbot, "Colours")

    view = rig.window.view
    reply_id = rig.window.session.path[-1].id

    def format_at(message_id: int, index: int) -> QColor:
        _start, end = view.token_span(message_id, index)
        cursor = QTextCursor(view.document())
        cursor.setPosition(end)  # the format of the character before the cursor
        return cursor.charFormat().background().color()

    assert format_at(reply_id, 0) == probability_colour(round(tokens[0].p * 64) / 64)
    tooltip = token_tooltip(tokens[0])
    assert "before" in tooltip and "after" in tooltip and "cut by" in tooltip

    with qtbot.waitSignal(rig.controller.sig_done, timeout=TIMEOUT_MS):
        rig.window._probs_check.setChecked(False)
        rig.send_text(qtbot, "Plain")
    last_id = rig.window.session.path[-1].id
    _start, end = view.token_span(last_id, view.token_count(last_id) - 1)
    cursor = QTextCursor(view.document())
    cursor.setPosition(end)
    assert cursor.charFormat().background().style() == Qt.BrushStyle.NoBrush
    # Turning the option off also cleared the earlier reply's tint.
    cursor.setPosition(view.token_span(reply_id, 0)[1])
    assert cursor.charFormat().background().style() == Qt.BrushStyle.NoBrush


def test_probability_colours_are_light_and_ordered() -> None:
    def luminance(colour: QColor) -> float:
        def lin(c: float) -> float:
            return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

        return (
            0.2126 * lin(colour.redF())
            + 0.7152 * lin(colour.greenF())
            + 0.0722 * lin(colour.blueF())
        )

    values = [luminance(probability_colour(i / 20)) for i in range(21)]
    # Black text keeps a contrast of at least 7:1 (WCAG AAA) on every tint.
    assert min((v + 0.05) / 0.05 for v in values) >= 7.0
    # Lightness rises with p, so the scale reads without hue (colour blindness).
    assert values == sorted(values)


def test_shutdown_during_a_reply_joins_the_thread(
    qtbot: QtBot, make_rig: Callable[..., Rig]
) -> None:
    rig = make_rig(FakeEngine(script="y" * 1000, delay_s=0.01))
    open_window(qtbot, rig)
    rig.send_text(qtbot, "Go on")
    qtbot.waitUntil(lambda: "yyy" in rig.window.transcript_text(), timeout=TIMEOUT_MS)

    thread = rig.controller.worker_thread
    assert thread is not None and thread.is_alive()
    started = time.perf_counter()
    assert rig.controller.shutdown(timeout_s=5.0)
    assert time.perf_counter() - started < 2.0
    assert not thread.is_alive()


def test_closing_the_window_shuts_the_controller_down(
    qtbot: QtBot, make_rig: Callable[..., Rig]
) -> None:
    rig = make_rig()
    open_window(qtbot, rig)
    thread = rig.controller.worker_thread
    assert thread is not None
    rig.window.close()
    assert not thread.is_alive()


def test_every_widget_has_an_accessible_name(make_rig: Callable[..., Rig]) -> None:
    window = make_rig().window
    kinds = (QPushButton, QCheckBox, QLabel, QTextEdit, QPlainTextEdit, QProgressBar)
    unnamed = [
        f"{type(w).__name__} {w.objectName()!r}"
        for kind in kinds
        for w in window.findChildren(kind)
        if not w.accessibleName()
    ]
    assert unnamed == []
    assert window.accessibleName()
    assert window.menuBar().accessibleName()
    assert window.statusBar().accessibleName()


def test_gui_command_opens_the_window_with_the_fake_engine(glassbox_home: Path) -> None:
    # In its own process: the command runs its own event loop and quits it.
    proc = subprocess.run(
        [sys.executable, "-m", "desktop_app", "gui", "--fake", "--exit-when-shown"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "GLASSBOX_HOME": str(glassbox_home), "QT_QPA_PLATFORM": "offscreen"},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("glassbox-window-shown ")
    # The fake model is never remembered as the user's model.
    assert load_settings().last_model is None


@pytest.mark.parametrize(
    ("last", "requested", "expected"),
    [
        (None, None, "default"),
        ("EXISTING", None, "EXISTING"),
        ("/gone/model.gguf", None, "default"),
        ("gemma-3-270m", None, "gemma-3-270m"),
        ("EXISTING", "/other.gguf", "/other.gguf"),
    ],
)
def test_gui_command_opens_the_last_model_while_it_exists(
    model_file: Path, last: str | None, requested: str | None, expected: str
) -> None:
    from desktop_app.cli.gui import initial_model

    def fill(value: str | None) -> str | None:
        return str(model_file) if value == "EXISTING" else value

    settings = Settings(last_model=fill(last))
    assert initial_model(settings, requested) == fill(expected)


def test_export_search_and_drop_a_model(
    qtbot: QtBot,
    make_rig: Callable[..., Rig],
    tmp_path: Path,
    model_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rig = make_rig()
    open_window(qtbot, rig)
    with qtbot.waitSignal(rig.window.session.sig_reply_ended, timeout=TIMEOUT_MS):
        rig.send_text(qtbot, "Tell me about <b>tags</b>")
    chat_id = rig.window.session.chat_id
    assert chat_id is not None

    # Export: the HTML keeps the tints and alternatives and stays inert.
    html_path = rig.window.export_chat(chat_id, "html", str(tmp_path / "chat.html"))
    assert html_path is not None
    page = html_path.read_text(encoding="utf-8")
    assert "&lt;b&gt;tags&lt;/b&gt;" in page and "<script" not in page
    assert "background" in page
    md_path = rig.window.export_chat(chat_id, "md", str(tmp_path / "chat.md"))
    assert md_path is not None and SCRIPT in md_path.read_text(encoding="utf-8")
    # Without a path, the dialog offers the name core gives every export.
    offered: list[str] = []

    def save_dialog(_parent: object, _caption: str, start: str, _filter: str) -> tuple[str, str]:
        offered.append(start)
        return "", ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_dialog)
    assert rig.window.export_chat(chat_id, "md") is None
    chat = rig.window._store.chat(chat_id)
    assert offered == [str(Path.home() / suggested_filename(chat, "md"))]

    # Search from a new chat finds the message and opens its chat.
    rig.window.session.new_chat()
    assert rig.window.session.chat_id is None
    chats = rig.window._chats
    with qtbot.waitSignal(chats.sig_message_selected, timeout=TIMEOUT_MS):
        chats.search("tags")
        qtbot.waitUntil(lambda: chats._list.topLevelItemCount() > 0, timeout=TIMEOUT_MS)
        first = chats._list.topLevelItem(0)
        assert first is not None
        chats._list.setCurrentItem(first)
    assert rig.window.session.chat_id == chat_id
    assert SCRIPT in rig.window.transcript_text()

    # Dropping a GGUF file on the window inspects and loads it.
    other = model_file.with_name("other.gguf")
    other.write_bytes(model_file.read_bytes())
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(other))])
    enter = QDragEnterEvent(
        QPoint(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    rig.window.dragEnterEvent(enter)
    assert enter.isAccepted()
    with qtbot.waitSignal(rig.controller.sig_model_loaded, timeout=TIMEOUT_MS):
        rig.window.dropEvent(
            QDropEvent(
                QPointF(10, 10),
                Qt.DropAction.CopyAction,
                mime,
                Qt.MouseButton.LeftButton,
                Qt.KeyboardModifier.NoModifier,
            )
        )
    assert rig.window._model_label.text() == "Model: other.gguf"


def test_delete_a_message_in_the_window_then_undo(
    qtbot: QtBot, make_rig: Callable[..., Rig]
) -> None:
    rig = make_rig()
    open_window(qtbot, rig)
    with qtbot.waitSignal(rig.controller.sig_done, timeout=TIMEOUT_MS):
        rig.send_text(qtbot, "Hi there")
    rig.window.session.wait_saved()
    answer = rig.window.session.path[-1].id
    assert "Fork · Delete" in rig.window.transcript_text()
    rig.window._on_view_action("delete", answer)
    assert SCRIPT not in rig.window.transcript_text()
    assert rig.window._undo_bar.offered
    assert rig.window._undo_bar.label.text() == "Deleted the message."
    qtbot.mouseClick(rig.window._undo_bar.button, Qt.MouseButton.LeftButton)
    assert SCRIPT in rig.window.transcript_text()
    assert not rig.window._undo_bar.offered
    assert rig.window.session.store.message(answer).content == SCRIPT


def test_new_chat_in_a_project_shows_and_uses_its_settings(
    qtbot: QtBot, make_rig: Callable[..., Rig]
) -> None:
    rig = make_rig()
    open_window(qtbot, rig)
    store = rig.window.session.store
    project = store.create_project(
        "Thesis", system_prompt="Be a tutor.", sampling={"temperature": 0.25}
    )
    rig.window._chats.refresh()
    rig.window._chats.sig_new_chat_in_project.emit(project)
    assert rig.window._options.system_prompt() == "Be a tutor."
    assert rig.window.session.params.temperature == 0.25
    assert "Thesis" in rig.status()
    with qtbot.waitSignal(rig.controller.sig_done, timeout=TIMEOUT_MS):
        rig.send_text(qtbot, "Outline chapter 1")
    rig.window.session.wait_saved()
    chat = store.chat(rig.window.session.chat_id or 0)
    assert chat.project_id == project and chat.system_prompt == "Be a tutor."
    assert rig.window._chats.chats_in_project(project) == ["Outline chapter 1"]
