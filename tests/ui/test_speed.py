"""Model panel → Speed, and drafted replies in the window: marks, status bar, card."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from gguf_factory import write_tiny_llama
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QLabel,
    QSpinBox,
    QTextBrowser,
    QWidget,
)
from pytestqt.qtbot import QtBot

from desktop_app.app import build
from desktop_app.core.engine.fake import FakeEngine
from desktop_app.core.engine.protocol import (
    DoneEvent,
    DraftSettings,
    Engine,
    EngineConfig,
    GenerateRequest,
    Message,
    TokenEvent,
)
from desktop_app.core.models.defaults import DRAFT_DEFAULT
from desktop_app.core.sampling import SamplingParams
from desktop_app.core.settings import LoadOverrides, Settings, load_settings
from desktop_app.core.tasks.generation import Generation, generate
from desktop_app.ui.chat.view import describe_token, token_tooltip
from desktop_app.ui.model.panel import ModelPanel
from desktop_app.ui.tasks.base import TaskTab
from desktop_app.ui.window.main_window import MainWindow, MessageCard
from desktop_app.workers.engine.inference import InferenceController, ProgressCallback
from desktop_app.workers.engine.task_runner import DraftingEngine, TaskProgress

TIMEOUT_MS = 5000
GREEDY = Settings().with_sampling(SamplingParams.greedy())


W = TypeVar("W", bound=QWidget)


def by_name(parent: QWidget, kind: type[W], accessible: str) -> W:
    found = [w for w in parent.findChildren(kind) if w.accessibleName() == accessible]
    assert len(found) == 1, (accessible, found)
    return found[0]


class Resolver:
    """Resolves the bundled draft model's key to a file, noting the thread it ran on."""

    def __init__(self, draft: Path) -> None:
        self.draft = draft
        self.threads: list[threading.Thread] = []

    def __call__(self, spec: str, progress: ProgressCallback) -> Path:
        self.threads.append(threading.current_thread())
        if spec == DRAFT_DEFAULT:
            progress(1, 2)
            return self.draft
        return Path(spec)


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    return write_tiny_llama(tmp_path / "tiny.gguf", n_ctx=512)


@pytest.fixture
def draft_file(tmp_path: Path) -> Path:
    return write_tiny_llama(tmp_path / "bundled-draft.gguf", n_ctx=512)


@pytest.fixture
def rig(
    qtbot: QtBot, tmp_path: Path, tiny: Path, draft_file: Path
) -> Iterator[tuple[InferenceController, ModelPanel, list[FakeEngine], Resolver]]:
    engines: list[FakeEngine] = []
    supply: list[FakeEngine] = []

    def factory() -> FakeEngine:
        engine = supply.pop(0) if supply else FakeEngine()
        engines.append(engine)
        return engine

    resolver = Resolver(draft_file)
    controller = InferenceController(
        factory, GREEDY.model_copy(), settings_path=tmp_path / "settings.json", resolver=resolver
    )
    panel = ModelPanel(controller.settings, gpu_offload=False)
    qtbot.addWidget(panel)
    panel.sig_load_requested.connect(controller.load_model)
    controller.sig_model_loaded.connect(panel.set_loaded)
    panel.resize(440, 1400)
    panel.show()
    with qtbot.waitSignal(controller.sig_model_loaded, timeout=TIMEOUT_MS):
        controller.load_model(str(tiny))
    qtbot.waitUntil(lambda: not panel.reading and panel._info is not None, timeout=TIMEOUT_MS)
    yield controller, panel, engines, resolver
    assert controller.shutdown()


def test_choosing_the_bundled_draft_model_reloads_with_it_off_the_gui_thread(
    qtbot: QtBot, rig: tuple[InferenceController, ModelPanel, list[FakeEngine], Resolver]
) -> None:
    controller, panel, engines, resolver = rig
    combo = by_name(panel, QComboBox, "Draft model")
    assert isinstance(combo, QComboBox) and combo.currentText() == "None"
    assert engines[-1].config is not None and engines[-1].config.draft_model_path is None
    with qtbot.waitSignal(controller.sig_model_loaded, timeout=TIMEOUT_MS):
        combo.activated.emit(combo.findData(DRAFT_DEFAULT))
    config = engines[-1].config
    assert config is not None and config.draft_model_path == str(resolver.draft)
    assert threading.main_thread() not in resolver.threads, "resolved on the worker thread"
    status = by_name(panel, QLabel, "Draft model status")
    assert isinstance(status, QLabel) and "bundled-draft.gguf" in status.text()
    assert (
        "Draft model: bundled-draft.gguf" in by_name(panel, QLabel, "Loaded model summary").text()
    )
    saved = load_settings(controller._settings_path)
    assert saved.draft_model == DRAFT_DEFAULT


def test_a_chosen_file_is_loaded_as_the_draft_model(
    qtbot: QtBot,
    rig: tuple[InferenceController, ModelPanel, list[FakeEngine], Resolver],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    controller, panel, engines, _resolver = rig
    mine = write_tiny_llama(tmp_path / "my-draft.gguf", n_ctx=512)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(mine), ""))
    combo = by_name(panel, QComboBox, "Draft model")
    assert isinstance(combo, QComboBox)
    with qtbot.waitSignal(controller.sig_model_loaded, timeout=TIMEOUT_MS):
        combo.activated.emit(combo.count() - 1)  # "Choose a GGUF file…"
    config = engines[-1].config
    assert config is not None and config.draft_model_path == str(mine)
    assert combo.currentText() == "my-draft.gguf"
    # Cancelling the dialog keeps the choice.
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: ("", ""))
    combo.activated.emit(combo.count() - 1)
    assert panel.draft_choice() == str(mine) and combo.currentText() == "my-draft.gguf"


def test_a_refused_draft_model_is_explained_and_the_choice_goes_back_to_none(
    qtbot: QtBot, tmp_path: Path, tiny: Path, draft_file: Path
) -> None:
    reason = "The draft model's vocabulary (32 tokens) differs from the model's (<b>151,936</b>)."
    controller = InferenceController(
        lambda: FakeEngine(draft_error=reason),
        GREEDY.model_copy(update={"draft_model": str(draft_file)}),
        settings_path=tmp_path / "settings.json",
    )
    window = build(controller, model_spec=str(tiny)).window
    qtbot.addWidget(window)
    try:
        with qtbot.waitSignal(controller.sig_model_loaded, timeout=TIMEOUT_MS):
            window.show()
        panel = window._model_panel
        status = by_name(panel, QLabel, "Draft model status")
        assert isinstance(status, QLabel) and status.isVisibleTo(panel)
        assert status.textFormat() == Qt.TextFormat.PlainText
        assert reason in status.text() and "works without it" in status.text()
        assert panel.draft_choice() is None
        assert by_name(panel, QComboBox, "Draft model").currentText() == "None"
        assert "not the draft model" in window._status_label.text()
        assert controller.settings.draft_model is None
        assert load_settings(controller._settings_path).draft_model is None
    finally:
        assert controller.shutdown()


def test_speed_controls_are_kept_and_go_with_every_request(
    qtbot: QtBot, tmp_path: Path, tiny: Path
) -> None:
    engine = FakeEngine()
    controller = InferenceController(
        lambda: engine, GREEDY.model_copy(), settings_path=tmp_path / "settings.json"
    )
    window = build(controller, model_spec=str(tiny)).window
    qtbot.addWidget(window)
    try:
        with qtbot.waitSignal(controller.sig_model_loaded, timeout=TIMEOUT_MS):
            window.show()
        panel = window._model_panel
        lookup = by_name(panel, QCheckBox, "Prompt lookup")
        spin = by_name(panel, QSpinBox, "Maximum draft length")
        assert isinstance(lookup, QCheckBox) and isinstance(spin, QSpinBox)
        assert (lookup.isChecked(), spin.value(), spin.minimum(), spin.maximum()) == (
            False,
            8,
            1,
            16,
        )
        lookup.setChecked(True)
        spin.setValue(5)
        saved = load_settings(controller._settings_path)
        assert (saved.prompt_lookup, saved.max_draft) == (True, 5)

        with qtbot.waitSignal(controller.sig_done, timeout=TIMEOUT_MS):
            qtbot.keyClicks(window._input, "Hi")
            qtbot.keyClick(window._input, Qt.Key.Key_Return)
        assert engine.requests[-1].draft == DraftSettings(
            prompt_lookup=True, draft_model=False, max_draft=5
        )
    finally:
        assert controller.shutdown()
    # A restart shows the kept choices.
    again = ModelPanel(load_settings(tmp_path / "settings.json"))
    qtbot.addWidget(again)
    assert again.speed() == (True, 5)


def _drafted_window(
    qtbot: QtBot, tmp_path: Path, tiny: Path
) -> tuple[InferenceController, MainWindow, FakeEngine]:
    engine = FakeEngine()
    settings = GREEDY.model_copy(update={"prompt_lookup": True, "max_draft": 4})
    controller = InferenceController(
        lambda: engine, settings, settings_path=tmp_path / "settings.json"
    )
    window = build(controller, model_spec=str(tiny)).window
    qtbot.addWidget(window)
    with qtbot.waitSignal(controller.sig_model_loaded, timeout=TIMEOUT_MS):
        window.show()
    return controller, window, engine


def _send(
    qtbot: QtBot, controller: InferenceController, window: MainWindow, text: str
) -> DoneEvent:
    with qtbot.waitSignal(controller.sig_done, timeout=TIMEOUT_MS) as blocker:
        qtbot.keyClicks(window._input, text)
        qtbot.keyClick(window._input, Qt.Key.Key_Return)
    done = blocker.args[0]
    assert isinstance(done, DoneEvent)
    return done


def test_drafted_tokens_are_told_apart_and_marked_when_asked(
    qtbot: QtBot, tmp_path: Path, tiny: Path
) -> None:
    controller, window, _engine = _drafted_window(qtbot, tmp_path, tiny)
    try:
        _send(qtbot, controller, window, "Hi")
        view = window.view
        reply_id = window.session.path[-1].id
        view.select_token(reply_id, 0)
        accepted = view.selected_token()
        assert accepted is not None and accepted[2].draft == "accepted"
        assert "Drafted, accepted by the model" in token_tooltip(accepted[2])
        assert "drafted, accepted by the model" in window._token_label.text()
        replaced = TokenEvent(3, 1, "x", 0.5, (), "replaced")
        assert "the draft proposed another token" in token_tooltip(replaced)
        assert "the draft proposed another token" in describe_token(replaced)
        menu = view.alternatives_menu(reply_id, 3)
        assert any("the draft proposed another token" in a.text() for a in menu.actions())

        def underline(index: int) -> object:
            cursor = QTextCursor(view.document())
            cursor.setPosition(view.token_span(reply_id, index)[1])
            return cursor.charFormat().underlineStyle()

        dotted = QTextCharFormat.UnderlineStyle.DotLine
        assert underline(0) != dotted, "not marked until the user asks"
        window._drafts_action.setChecked(True)
        assert underline(0) == dotted and underline(3) != dotted
        window._drafts_action.setChecked(False)
        assert underline(0) != dotted
        # A reply streamed while marking is on is marked as it streams.
        window._drafts_action.setChecked(True)
        _send(qtbot, controller, window, "Again")
        last = window.session.path[-1].id
        cursor = QTextCursor(view.document())
        cursor.setPosition(view.token_span(last, 0)[1])
        assert cursor.charFormat().underlineStyle() == dotted
    finally:
        assert controller.shutdown()


def test_status_bar_says_acceptance_and_speed_up_and_the_card_records_the_drafting(
    qtbot: QtBot, tmp_path: Path, tiny: Path
) -> None:
    controller, window, _engine = _drafted_window(qtbot, tmp_path, tiny)
    try:
        done = _send(qtbot, controller, window, "Hi")
        proposed = done.draft_proposed
        assert proposed > 0
        status = window._status_label.text()
        percent = round(100 * done.draft_accepted / proposed)
        assert f"drafted: {percent}% of {proposed} proposed tokens accepted" in status
        assert "without drafting" not in status, "no reply without drafting to compare with yet"

        message = window.session.message(window.session.path[-1].id)
        assert message is not None
        card = MessageCard(message, window)
        qtbot.addWidget(card)
        shown = by_name(card, QTextBrowser, "Reply card").toPlainText()
        assert DraftSettings(prompt_lookup=True, max_draft=4).describe() in shown
        assert f"{done.draft_accepted} of {proposed} proposed tokens accepted" in shown

        # A reply without drafting, then one with: the speed-up against it is said.
        by_name(window._model_panel, QCheckBox, "Prompt lookup").setChecked(False)
        plain = _send(qtbot, controller, window, "Plain")
        assert plain.draft_proposed == 0 and "drafted" not in window._status_label.text()
        by_name(window._model_panel, QCheckBox, "Prompt lookup").setChecked(True)
        drafted = _send(qtbot, controller, window, "Drafted")
        ratio = drafted.tokens_per_s / plain.tokens_per_s
        assert f"(×{ratio:.1f} vs. the last reply without drafting)" in window._status_label.text()
    finally:
        assert controller.shutdown()


def test_task_generations_draft_as_the_speed_section_says(
    qtbot: QtBot, tmp_path: Path, tiny: Path
) -> None:
    engine = FakeEngine("Rewritten.")
    controller = InferenceController(
        lambda: engine,
        GREEDY.model_copy(update={"prompt_lookup": True, "max_draft": 3}),
        settings_path=tmp_path / "settings.json",
    )
    with qtbot.waitSignal(controller.sig_model_loaded, timeout=TIMEOUT_MS):
        controller.load_model(str(tiny))
    tab = TaskTab(controller, "Rewrite", ("rewrite.system", "rewrite.user"))
    qtbot.addWidget(tab)
    results: list[Generation] = []
    tab.on_done = lambda result, _cancelled: results.append(result)  # type: ignore[method-assign]

    def rewrite(task_engine: Engine, _progress: TaskProgress) -> Generation:
        request = GenerateRequest(messages=(Message("user", "Rewrite: text."),))
        return generate(task_engine, request)

    try:
        tab.start(rewrite, "Rewriting")
        qtbot.waitUntil(lambda: bool(results), timeout=TIMEOUT_MS)
        assert engine.requests[-1].draft == DraftSettings(prompt_lookup=True, max_draft=3)
        assert results[0].tokens[0].draft == "accepted"
        assert results[0].done.draft_proposed > 0
        # Off in the Speed section: the task's request is left as it was built.
        controller.update_settings(controller.settings.model_copy(update={"prompt_lookup": False}))
        results.clear()
        tab.start(rewrite, "Rewriting")
        qtbot.waitUntil(lambda: bool(results), timeout=TIMEOUT_MS)
        assert engine.requests[-1].draft == DraftSettings()
    finally:
        assert controller.shutdown()


def test_drafting_engine_keeps_a_request_s_own_drafting_and_passes_the_rest_on() -> None:
    engine = FakeEngine("ab")
    engine.load(EngineConfig(model_path="/m.gguf"))
    wrapped = DraftingEngine(engine, DraftSettings(prompt_lookup=True))
    own = DraftSettings(prompt_lookup=True, max_draft=2)
    list(wrapped.generate(GenerateRequest(prompt="x", draft=own)))
    assert engine.requests[-1].draft == own
    list(wrapped.generate(GenerateRequest(prompt="x")))
    assert engine.requests[-1].draft == DraftSettings(prompt_lookup=True)
    assert wrapped.count_tokens("abc") == 3
    assert wrapped.loaded is engine.loaded


def test_replay_keeps_the_drafting_and_says_when_the_draft_model_is_gone(
    qtbot: QtBot, tmp_path: Path, tiny: Path, draft_file: Path
) -> None:
    engine = FakeEngine()
    settings = GREEDY.model_copy(update={"draft_model": str(draft_file), "prompt_lookup": True})
    controller = InferenceController(
        lambda: engine, settings, settings_path=tmp_path / "settings.json"
    )
    window = build(controller, model_spec=str(tiny)).window
    qtbot.addWidget(window)
    notices: list[tuple[str, bool]] = []
    window.session.sig_notice.connect(lambda text, error: notices.append((text, error)))
    try:
        with qtbot.waitSignal(controller.sig_model_loaded, timeout=TIMEOUT_MS):
            window.show()
        _send(qtbot, controller, window, "Hi")
        drafted = DraftSettings(prompt_lookup=True, draft_model=True)
        assert engine.requests[-1].draft == drafted
        reply = window.session.path[-1].id
        card = MessageCard(window.session.message(reply), window)  # type: ignore[arg-type]
        qtbot.addWidget(card)
        shown = by_name(card, QTextBrowser, "Reply card").toPlainText()
        assert "bundled-draft.gguf" in shown and drafted.describe() in shown

        with qtbot.waitSignal(controller.sig_done, timeout=TIMEOUT_MS):
            window.session.replay(reply)
        assert engine.requests[-1].draft == drafted
        assert notices[-1] == ("Replay matches the original exactly.", False)
        notices.clear()

        with qtbot.waitSignal(controller.sig_model_loaded, timeout=TIMEOUT_MS):
            controller.load_model(str(tiny), LoadOverrides(draft_model=None))
        with qtbot.waitSignal(controller.sig_done, timeout=TIMEOUT_MS):
            window.session.replay(reply)
        assert engine.requests[-1].draft == DraftSettings(prompt_lookup=True)
        gone = [text for text, error in notices if "not loaded now" in text and not error]
        assert len(gone) == 1
    finally:
        assert controller.shutdown()
