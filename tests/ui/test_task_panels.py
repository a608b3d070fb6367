"""The Tasks dock with the fake engine behind a real InferenceController.

``run_task`` mechanics first (progress, tokens, done, failure, cancel, a chat
reply queued behind a task), then each tab as a user drives it, and batches of
files and of knowledge-base documents (a real store with a hash embedder).
"""

from __future__ import annotations

import csv
import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from callbacks import Calls
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QTextCursor
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QProgressBar,
    QTableWidget,
    QTextEdit,
    QWidget,
)
from pytestqt.qtbot import QtBot

from desktop_app.core.engine.fake import FakeEngine
from desktop_app.core.engine.protocol import (
    Engine,
    EngineConfig,
    GenerateRequest,
    Message,
    ScoreRequest,
    ScoreResult,
)
from desktop_app.core.errors import InvalidRequestError
from desktop_app.core.kb.db import StoredChunk
from desktop_app.core.kb.knowledge_base import KnowledgeBase
from desktop_app.core.kb.parse_host import InProcessParser
from desktop_app.core.kb.retrieve import Hit
from desktop_app.core.sampling import SamplingParams
from desktop_app.core.settings import Settings
from desktop_app.core.tasks.generation import generate
from desktop_app.core.tasks.prompts import DEFAULT_TEMPLATES, load_overrides
from desktop_app.ui.tasks.base import TaskTab, TextInput
from desktop_app.ui.tasks.panels import TasksPanel
from desktop_app.ui.tasks.plots import CONFIDENCE_ROLE, ProbabilityBars
from desktop_app.ui.tasks.token_dialog import TokenDialog
from desktop_app.workers.engine.inference import InferenceController
from desktop_app.workers.engine.task_runner import TaskProgress, TaskTokens
from desktop_app.workers.jobs import JobHandle
from desktop_app.workers.kb.controller import KnowledgeController

TIMEOUT_MS = 5000
GREEDY = SamplingParams.greedy()


class SlowScorer(FakeEngine):
    """Scores like the fake engine, but each text takes a while (a batch to cancel)."""

    def score(self, request: ScoreRequest) -> ScoreResult:
        time.sleep(0.05)
        return super().score(request)


class FakeKnowledge(QObject):
    """The knowledge controller's signals and search, answered from a fixed list."""

    sig_collections = Signal(list)
    sig_documents = Signal(str, list)

    def __init__(self, hits: list[Hit]) -> None:
        super().__init__()
        self.hits = hits
        self.searches: list[tuple[str, list[str], int]] = []
        self.refreshed = 0

    def refresh(self) -> None:
        self.refreshed += 1

    def search(
        self,
        query: str,
        collections: list[str],
        k: int = 5,
        *,
        on_done: Callable[[list[Hit]], None],
        on_failed: object = None,
    ) -> JobHandle:
        self.searches.append((query, list(collections), k))
        handle = JobHandle(len(self.searches), lambda _h: None)

        def answer() -> None:
            handle.finished = True
            on_done(self.hits[:k])

        # Answered later, as the real controller answers from its thread.
        QTimer.singleShot(0, answer)
        return handle


class HashEmbedder:
    """A vector from word hashes: the knowledge base without an embedding model."""

    name = "all-MiniLM-L6-v2"
    dim = 32

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.split() or [text]:
                out[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dim] += 1.0
            out[row] /= max(float(np.linalg.norm(out[row])), 1e-6)
        return out


def make_controller(tmp_path: Path, engine: FakeEngine) -> InferenceController:
    (tmp_path / "model.gguf").write_bytes(b"GGUF")  # fingerprinted after the load
    return InferenceController(
        lambda: engine,
        Settings(n_ctx=1024).with_sampling(GREEDY),
        settings_path=tmp_path / "settings.json",
        resolver=lambda spec, progress: Path(spec),
        remember_model=False,
    )


@pytest.fixture
def engine() -> FakeEngine:
    return FakeEngine(script="The dog sat on the mat.")


@pytest.fixture
def controller(qtbot: QtBot, tmp_path: Path, engine: FakeEngine) -> Iterator[InferenceController]:
    c = make_controller(tmp_path, engine)
    with qtbot.waitSignal(c.sig_model_loaded, timeout=TIMEOUT_MS):
        c.load_model(str(tmp_path / "model.gguf"))
    yield c
    assert c.shutdown(), "the engine thread must end"


@pytest.fixture
def panel(qtbot: QtBot, controller: InferenceController) -> TasksPanel:
    p = TasksPanel(controller, FakeKnowledge([]))  # type: ignore[arg-type]
    qtbot.addWidget(p)
    p.resize(900, 1000)
    return p


def run_tab(qtbot: QtBot, tab: TaskTab) -> None:
    """Click the tab's run button and wait until its task ended (done or failed)."""
    tab.run_button.click()
    assert tab.running, tab.status.text()
    qtbot.waitUntil(lambda: not tab.running, timeout=TIMEOUT_MS)


# --------------------------------------------------------------------- run_task


def test_a_task_reports_progress_then_its_result(
    qtbot: QtBot, controller: InferenceController
) -> None:
    threads: list[str] = []

    def fn(engine: Engine, progress: TaskProgress) -> str:
        threads.append(threading.current_thread().name)
        for i in range(3):
            progress.report(i)
        return "finished"

    calls = Calls()
    job = controller.run_task(
        fn, label="count", on_done=calls.on_done, on_progress=calls.on_progress
    )
    calls.wait(qtbot)
    assert calls.done == ["finished"]
    assert calls.progress == [0, 1, 2]  # each report delivered, in order
    assert threads == ["glassbox-engine"]  # the engine's own thread, not the GUI's
    qtbot.waitUntil(lambda: job.finished, timeout=TIMEOUT_MS)


def test_streamed_tokens_come_in_batches_for_the_task_not_the_chat(
    qtbot: QtBot, controller: InferenceController, engine: FakeEngine
) -> None:
    chat: list[object] = []
    controller.sig_tokens.connect(chat.extend)

    def fn(engine: Engine, progress: TaskProgress) -> str:
        request = GenerateRequest(params=GREEDY, messages=(Message("user", "hi"),))
        return generate(engine, request, progress.token).text

    calls = Calls()
    controller.run_task(fn, label="stream", on_done=calls.on_done, on_progress=calls.on_progress)
    calls.wait(qtbot)
    batches = [p for p in calls.progress if isinstance(p, TaskTokens)]
    assert calls.done == [engine.script]
    assert "".join(t.text for b in batches for t in b.events) == engine.script
    assert len(batches) < len(engine.script)  # gathered per flush, not one per token
    assert chat == []


def test_a_failing_task_reports_its_kind_and_the_engine_works_on(
    qtbot: QtBot, controller: InferenceController
) -> None:
    def refused(engine: Engine, progress: TaskProgress) -> None:
        raise InvalidRequestError("No labels.")

    def buggy(engine: Engine, progress: TaskProgress) -> None:
        raise ZeroDivisionError("oops")

    first, second, third = Calls(), Calls(), Calls()
    controller.run_task(refused, label="refused", on_failed=first.on_failed)
    controller.run_task(buggy, label="buggy", on_failed=second.on_failed)
    controller.run_task(lambda e, p: 42, label="after", on_done=third.on_done)
    third.wait(qtbot)
    assert first.failed == [("invalid_request", "No labels.")]
    assert second.failed[0][0] == "internal" and "oops" in second.failed[0][1]
    assert third.done == [42]


def test_cancel_stops_a_running_generation_and_skips_a_queued_task(
    qtbot: QtBot, tmp_path: Path
) -> None:
    engine = FakeEngine(script="x" * 400, delay_s=0.01)
    controller = make_controller(tmp_path, engine)
    try:
        with qtbot.waitSignal(controller.sig_model_loaded, timeout=TIMEOUT_MS):
            controller.load_model(str(tmp_path / "model.gguf"))
        ran: list[str] = []
        saw_cancel: list[bool] = []

        def long(engine: Engine, progress: TaskProgress) -> str:
            ran.append("long")
            request = GenerateRequest(params=GREEDY, messages=(Message("user", "go"),))
            gen = generate(engine, request, progress.token)
            saw_cancel.append(progress.cancelled)
            return gen.done.finish_reason

        def queued(engine: Engine, progress: TaskProgress) -> None:
            ran.append("queued")

        long_calls, queued_calls = Calls(), Calls()
        first = controller.run_task(
            long, label="long", on_done=long_calls.on_done, on_progress=long_calls.on_progress
        )
        second = controller.run_task(
            queued, label="queued", on_done=queued_calls.on_done, on_failed=queued_calls.on_failed
        )
        second.cancel()
        queued_calls.wait(qtbot)
        qtbot.waitUntil(lambda: bool(long_calls.progress), timeout=TIMEOUT_MS)
        first.cancel()
        long_calls.wait(qtbot)
        assert long_calls.done == ["cancelled"]
        assert saw_cancel == [True]
        assert queued_calls.failed[0][0] == "cancelled" and queued_calls.done == []
        assert ran == ["long"]
    finally:
        assert controller.shutdown()


def test_a_chat_reply_waits_for_the_task_before_it(
    qtbot: QtBot, controller: InferenceController, engine: FakeEngine
) -> None:
    order: list[str] = []
    release = threading.Event()
    controller.sig_tokens.connect(lambda batch: order.append("reply tokens"))

    def blocking(engine: Engine, progress: TaskProgress) -> None:
        progress.report("started")
        release.wait(5)

    calls = Calls()
    controller.run_task(
        blocking,
        label="blocking",
        on_done=lambda _r: order.append("task done"),
        on_progress=calls.on_progress,
    )
    qtbot.waitUntil(lambda: bool(calls.progress), timeout=TIMEOUT_MS)
    controller.send(GenerateRequest(params=GREEDY, messages=(Message("user", "hi"),)))
    qtbot.wait(200)
    assert order == []  # the reply is queued, not running beside the task
    with qtbot.waitSignal(controller.sig_done, timeout=TIMEOUT_MS) as done:
        release.set()
    assert order[0] == "task done" and "reply tokens" in order
    assert done.args[0].finish_reason == "eos"


def test_cancelling_a_queued_task_leaves_the_running_reply_alone(
    qtbot: QtBot, tmp_path: Path
) -> None:
    engine = FakeEngine(script="y" * 60, delay_s=0.005)
    controller = make_controller(tmp_path, engine)
    try:
        with qtbot.waitSignal(controller.sig_model_loaded, timeout=TIMEOUT_MS):
            controller.load_model(str(tmp_path / "model.gguf"))
        with qtbot.waitSignal(controller.sig_tokens, timeout=TIMEOUT_MS):
            controller.send(GenerateRequest(params=GREEDY, messages=(Message("user", "hi"),)))
        job = controller.run_task(lambda e, p: "ran", label="later")
        with qtbot.waitSignal(controller.sig_done, timeout=TIMEOUT_MS) as done:
            job.cancel()
        assert done.args[0].finish_reason == "eos"
        assert done.args[0].completion_tokens == 60
    finally:
        assert controller.shutdown()


# --------------------------------------------------------------------- widgets


def test_every_control_of_the_dock_has_an_accessible_name(panel: TasksPanel) -> None:
    kinds = (
        QAbstractButton, QAbstractSpinBox, QComboBox, QLineEdit, QPlainTextEdit, QTextEdit,
        QTableWidget, ProbabilityBars, QLabel, QProgressBar, QListWidget,
    )  # fmt: skip
    unnamed = [
        f"{type(w).__name__} {getattr(w, 'text', lambda: '')()!r}"
        for w in panel.findChildren(QWidget)
        if isinstance(w, kinds)
        and not w.accessibleName()
        and w.parent() is not None
        # Qt's own parts: a combo's or spin box's line edit, a table's corner button.
        and not isinstance(w.parent(), QComboBox | QAbstractSpinBox)
        and type(w) is not QAbstractButton
    ]
    assert unnamed == []
    assert [panel.tabs.tabText(i) for i in range(panel.tabs.count())] == [
        "Summarize", "Extract", "Classify", "Rewrite", "Search",
    ]  # fmt: skip


def test_classify_shows_a_bar_for_every_label_summing_to_one(
    qtbot: QtBot, panel: TasksPanel, controller: InferenceController
) -> None:
    tab = panel.classify
    tab.set_labels([("The dog", "an animal"), ("A cat", ""), ("Zebra", "")])
    tab.input.set_text("A text about a pet.")
    run_tab(qtbot, tab)
    shown = tab.bars.probabilities()
    assert list(shown) == ["The dog", "A cat", "Zebra"]
    assert sum(shown.values()) == pytest.approx(1.0)
    # The fake engine favours its script, which starts "The dog".
    assert max(shown, key=lambda k: shown[k]) == "The dog"
    assert tab.result_label.text().startswith("The dog")
    assert tab.bars.accessibleDescription().startswith("The dog")
    assert not tab.table.isVisibleTo(tab)


def test_a_batch_with_gold_labels_shows_scores_and_exports_csv(
    qtbot: QtBot, panel: TasksPanel, controller: InferenceController, tmp_path: Path
) -> None:
    tab = panel.classify
    tab.set_labels([("The dog", ""), ("A cat", "")])
    lines = ["woof\tThe dog", "meow\tA cat", '{"text": "bark", "label": "The dog"}']
    source = tmp_path / "gold.jsonl"
    source.write_text("\n".join(lines), encoding="utf-8")
    tab.open_files([source])
    assert tab.batch_check.isChecked()
    run_tab(qtbot, tab)
    assert tab.table.rowCount() == 3
    assert [tab.table.item(r, 5).text() for r in range(3)] == ["The dog", "A cat", "The dog"]
    assert tab.table.item(0, 4).data(CONFIDENCE_ROLE) > 0.5
    assert tab.scores_box.isVisibleTo(tab)
    # The fake engine says "The dog" to everything: two of three right.
    assert tab.scores_label.text().startswith("Accuracy 66.7%")
    assert tab.confusion.count("A cat", "The dog") == 1
    assert tab.confusion.count("The dog", "The dog") == 2
    assert sum(n for _, _, n in tab.calibration.bins()) == 3

    out = tab.export_csv(tmp_path / "out.csv")
    rows = list(csv.reader(out.open(encoding="utf-8")))
    assert rows[0] == ["source", "text", "label", "p_The dog", "p_A cat", "gold"]
    assert [r[1] for r in rows[1:]] == ["woof", "meow", "bark"]
    assert all(float(r[3]) + float(r[4]) == pytest.approx(1.0, abs=1e-5) for r in rows[1:])


def test_a_batch_cancelled_half_way_keeps_what_finished(qtbot: QtBot, tmp_path: Path) -> None:
    controller = make_controller(tmp_path, SlowScorer(script="yes"))
    try:
        with qtbot.waitSignal(controller.sig_model_loaded, timeout=TIMEOUT_MS):
            controller.load_model(str(tmp_path / "model.gguf"))
        panel = TasksPanel(controller, FakeKnowledge([]))  # type: ignore[arg-type]
        qtbot.addWidget(panel)
        tab = panel.classify
        tab.set_labels([("yes", ""), ("no", "")])
        tab.batch_check.setChecked(True)
        tab.input.set_text("\n".join(f"text {i}" for i in range(40)))
        tab.run_button.click()
        qtbot.waitUntil(lambda: len(tab.results()) >= 3, timeout=TIMEOUT_MS)
        tab.cancel_button.click()
        qtbot.waitUntil(lambda: not tab.running, timeout=TIMEOUT_MS)
        finished = tab.results()
        assert 3 <= len(finished) < 40
        assert [c.text for c in finished] == [f"text {i}" for i in range(len(finished))]
        assert tab.status.text().startswith(f"Cancelled after {len(finished)} of 40")
        assert tab.table.item(len(finished), 3).text() == "…"  # never classified
        assert tab.export_button.isEnabled()
        assert tab.run_button.isEnabled() and not tab.cancel_button.isEnabled()
    finally:
        assert controller.shutdown()


def test_extract_shows_fields_with_confidence_bars_and_exports(
    qtbot: QtBot, tmp_path: Path
) -> None:
    engine = FakeEngine(script='{"name": "Ann Lee", "amount": 12.5}')
    controller = make_controller(tmp_path, engine)
    try:
        with qtbot.waitSignal(controller.sig_model_loaded, timeout=TIMEOUT_MS):
            controller.load_model(str(tmp_path / "model.gguf"))
        panel = TasksPanel(controller, FakeKnowledge([]))  # type: ignore[arg-type]
        qtbot.addWidget(panel)
        tab = panel.extract
        schema = {
            "type": "object",
            "properties": {
                "name": {"type": "string", "maxLength": 40},
                "amount": {"type": "number"},
            },
            "required": ["name", "amount"],
        }
        tab.schema_edit.setPlainText(json.dumps(schema))
        tab.schema_tabs.setCurrentIndex(1)
        tab.input.set_text("Invoice from Ann Lee, total 12.50 EUR.")
        run_tab(qtbot, tab)
        assert tab.valid_label.text().startswith("✓")
        table = tab.table
        assert [table.item(r, 0).text() for r in range(table.rowCount())] == ["name", "amount"]
        assert table.item(0, 1).text() == "Ann Lee"
        assert table.item(1, 1).text() == "12.5"
        assert all(0 < table.item(r, 2).data(CONFIDENCE_ROLE) <= 1 for r in range(2))
        # A second pass over two files makes a table with one row per file.
        files = []
        for i in range(2):
            f = tmp_path / f"doc{i}.txt"
            f.write_text(f"Document {i}", encoding="utf-8")
            files.append(f)
        tab.input.open_files(files)
        run_tab(qtbot, tab)
        assert tab.table.rowCount() == 2
        assert tab.table.horizontalHeaderItem(1).text() == "name"
        rows = list(csv.reader(tab.export_csv(tmp_path / "x.csv").open(encoding="utf-8")))
        assert rows[0] == ["source", "name", "amount", "confidence_name", "confidence_amount",
                           "error"]  # fmt: skip
        assert [r[0] for r in rows[1:]] == ["doc0.txt", "doc1.txt"]
        dumped = json.loads(tab.export_json(tmp_path / "x.json").read_text(encoding="utf-8"))
        assert dumped[0]["data"] == {"name": "Ann Lee", "amount": 12.5}
        assert set(dumped[0]["confidence"]) == {"name", "amount"}
    finally:
        assert controller.shutdown()


def test_the_field_editor_makes_a_schema(panel: TasksPanel) -> None:
    schema = panel.extract.schema()
    assert list(schema["properties"]) == ["name", "date", "amount"]
    assert schema["properties"]["date"]["anyOf"][0]["format"] == "date"


def test_rewrite_shows_a_diff_and_accept_replaces_the_input(
    qtbot: QtBot, panel: TasksPanel, controller: InferenceController
) -> None:
    tab = panel.rewrite
    tab.input.set_text("The cat sat on the mat.")
    run_tab(qtbot, tab)
    assert tab.rewrite is not None and tab.rewrite.text == "The dog sat on the mat."
    assert tab.original.toPlainText() == "The cat sat on the mat."
    assert tab.result.toPlainText() == "The dog sat on the mat."
    assert "1 word(s) removed, 1 added" in tab.status.text()
    tab.copy_button.click()
    assert QApplication.clipboard().text() == "The dog sat on the mat."
    tab.accept_button.click()
    assert tab.input.text() == "The dog sat on the mat."

    tab.tokens_button.click()
    dialogs = [w for w in QApplication.topLevelWidgets() if isinstance(w, TokenDialog)]
    assert len(dialogs) == 1
    view = dialogs[0].view
    assert view.token_count(1) == len("The dog sat on the mat.")
    assert view.show_probabilities
    assert "Regenerate" not in view.toPlainText()  # a task result has no chat actions
    dialogs[0].close()


def test_summarize_a_long_text_in_parts_with_progress(
    qtbot: QtBot, panel: TasksPanel, controller: InferenceController
) -> None:
    tab = panel.summarize
    steps: list[object] = []
    on_progress = tab.on_progress
    tab.on_progress = lambda p: (steps.append(p), on_progress(p))  # type: ignore[method-assign]
    # The fake engine counts a token per character and the context is 1024 tokens.
    paragraphs = [f"Paragraph {i}. " + "word " * 60 for i in range(8)]
    tab.input.set_text("\n\n".join(paragraphs))
    run_tab(qtbot, tab)
    summary = tab.summary
    assert summary is not None and len(summary.parts) > 1
    assert tab.parts.count() == len(summary.parts)
    labels = [getattr(s, "label", None) for s in steps if hasattr(s, "steps")]
    assert labels[0] == "part 1 of " + str(len(summary.parts)) and "combining" in labels
    assert tab.status.text() == f"Summarized in {len(summary.parts)} parts, then combined."
    assert tab.result.toPlainText() == summary.text
    tab.parts.setCurrentRow(1)
    assert "part 2: its text" in tab.result.toPlainText()


def test_a_task_waits_for_a_model_and_says_why(qtbot: QtBot, tmp_path: Path) -> None:
    controller = make_controller(tmp_path, FakeEngine())
    try:
        panel = TasksPanel(controller, FakeKnowledge([]))  # type: ignore[arg-type]
        qtbot.addWidget(panel)
        panel.rewrite.input.set_text("Some text.")
        run_tab(qtbot, panel.rewrite)
        assert "No model is loaded" in panel.rewrite.status.text()
        assert panel.rewrite.run_button.isEnabled()
        panel.rewrite.input.set_text("")
        panel.rewrite.run_button.click()
        assert panel.rewrite.status.text() == "There is no text to rewrite."
    finally:
        assert controller.shutdown()


def test_the_template_editor_edits_saves_and_resets(
    qtbot: QtBot, panel: TasksPanel, controller: InferenceController, engine: FakeEngine
) -> None:
    tab = panel.rewrite
    editor = tab.templates
    editor.setChecked(True)
    editor.set_text("rewrite.system", "Rewrite like a pirate.")
    assert editor.templates()["rewrite.system"] == "Rewrite like a pirate."
    tab.input.set_text("Hello.")
    run_tab(qtbot, tab)
    assert engine.requests[-1].messages[0].content == "Rewrite like a pirate."
    editor._save.click()
    assert load_overrides() == {"rewrite.system": "Rewrite like a pirate."}
    editor._reset.click()
    assert load_overrides() == {}
    assert editor.text("rewrite.system") == DEFAULT_TEMPLATES["rewrite.system"]


def _hit(rank: int, text: str) -> Hit:
    chunk = StoredChunk(f"c{rank}", rank, f"/docs/file{rank}.txt", "txt", 0, text, None, None,
                        0, len(text))  # fmt: skip
    return Hit(rank, chunk, 0.5, 1.2, 0.03 / rank, rank, rank)


def test_search_lists_hits_highlights_terms_and_opens_the_passage(qtbot: QtBot) -> None:
    knowledge = FakeKnowledge([_hit(1, "The Refund policy: refunds within 30 days."),
                               _hit(2, "Shipping takes a week.")])  # fmt: skip
    controller = InferenceController(FakeEngine)
    panel = TasksPanel(controller, knowledge)  # type: ignore[arg-type]
    qtbot.addWidget(panel)
    tab = panel.search
    tab.set_collections(["Policies"])
    handle = tab.search("refund policy")
    qtbot.waitUntil(lambda: handle is not None and handle.finished, timeout=TIMEOUT_MS)
    assert knowledge.searches == [("refund policy", ["Policies"], 10)]
    assert tab.table.rowCount() == 2
    assert tab.table.item(0, 1).text() == "file1.txt"
    assert tab.table.item(0, 2).text() == "0.0300"
    assert tab.highlighted(0) == ["Refund", "policy", "refund"]
    cursor = QTextCursor(tab.passage.document())
    cursor.setPosition(6)  # inside "Refund"
    assert cursor.charFormat().background().color() == QColor("#ffe08a")
    with qtbot.waitSignal(panel.sig_open_source, timeout=TIMEOUT_MS) as opened:
        tab.table.cellDoubleClicked.emit(1, 0)
    assert opened.args[0].chunk.path == "/docs/file2.txt"
    assert controller.shutdown()


def test_the_window_has_the_tasks_dock_and_opens_search_hits(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from desktop_app.app import build
    from desktop_app.core.chat.store import ChatStore

    controller = make_controller(tmp_path, FakeEngine())
    window = build(controller, store=ChatStore(tmp_path / "chats.sqlite3")).window
    qtbot.addWidget(window)
    opened: list[object] = []
    monkeypatch.setattr(window._knowledge_panel, "open_source", opened.append)
    monkeypatch.setattr(window._knowledge, "refresh", lambda: None)
    tasks = window.findChild(TasksPanel)
    assert tasks is not None
    assert tasks in window.tabifiedDockWidgets(window._model_panel)
    assert tasks.toggleViewAction() in window.menuBar().actions()[2].menu().actions()
    hit = _hit(1, "x")
    tasks.sig_open_source.emit(hit)
    assert opened == [hit]
    tasks.sig_status.emit("Classified 3 text(s).", False)
    assert window._status_label.text() == "Classified 3 text(s)."
    window.close()


def test_a_task_result_opens_in_the_token_view(qtbot: QtBot, engine: FakeEngine) -> None:
    engine.load(EngineConfig("model.gguf"))
    gen = generate(engine, GenerateRequest(params=GREEDY, messages=(Message("user", "x"),)))
    dialog = TokenDialog("Summary", gen.text, gen.tokens, "24 tokens")
    qtbot.addWidget(dialog)
    view = dialog.view
    assert view.toPlainText().startswith("Summary\n" + engine.script)
    _start, end = view.token_span(1, 4)
    cursor = QTextCursor(view.document())
    cursor.setPosition(end)
    assert cursor.charFormat().background().color() != QColor(Qt.GlobalColor.white)
    view.select_token(1, 4)
    assert dialog._selected.text().startswith("token ‘d’")


# --------------------------------------------------------------------- batches, knowledge base

NOTES = {
    "alpacas.txt": "Alpacas live in the Andes and are kept for their soft wool.",
    "tides.md": "# Tides\n\nThe moon pulls the sea, so the tide rises twice a day.",
    "bread.txt": "Bread rises because yeast makes gas in the dough.",
}


@pytest.fixture
def knowledge(qtbot: QtBot, tmp_path: Path) -> Iterator[KnowledgeController]:
    """A real store and controller with three indexed notes in the collection "Notes"."""
    k = KnowledgeController(
        lambda: KnowledgeBase(embedder=HashEmbedder()),
        lambda kb: InProcessParser(config=kb.chunk_config()),
    )
    folder = tmp_path / "notes"
    folder.mkdir()
    for name, text in NOTES.items():
        (folder / name).write_text(text, encoding="utf-8")
    with qtbot.waitSignal(k.sig_busy, check_params_cb=lambda busy: not busy, timeout=15000):
        k.ingest([str(folder)], "Notes")
    yield k
    assert k.shutdown()


def pick(qtbot: QtBot, text_input: TextInput, names: list[str]) -> None:
    """Choose ``names`` in the input's knowledge-base picker and wait for their text."""
    text_input.kb_button.click()
    picker = text_input.picker
    assert picker is not None and picker.isVisible()
    qtbot.waitUntil(lambda: picker.documents.count() == len(NOTES), timeout=TIMEOUT_MS)
    assert picker.collection.currentText() == "Notes"
    listed = [picker.documents.item(i).text() for i in range(picker.documents.count())]
    for name in names:
        picker.documents.item(listed.index(name)).setSelected(True)
    assert picker.use_button.text() == (f"Use {len(names)} as a batch" if len(names) > 1 else "Use")
    picker.use_button.click()
    assert text_input.picker is None
    qtbot.waitUntil(lambda: not text_input.loading, timeout=TIMEOUT_MS)


def test_documents_from_the_knowledge_base_fill_the_input_or_make_a_summary_batch(
    qtbot: QtBot,
    controller: InferenceController,
    engine: FakeEngine,
    knowledge: KnowledgeController,
    tmp_path: Path,
) -> None:
    panel = TasksPanel(controller, knowledge)
    qtbot.addWidget(panel)
    panel.show()
    tab = panel.summarize
    assert tab.input.kb_button.isVisible()
    pick(qtbot, tab.input, ["bread.txt"])
    assert tab.input.text() == NOTES["bread.txt"]
    assert tab.input.source_label.text() == "from bread.txt (knowledge base)"

    pick(qtbot, tab.input, ["alpacas.txt", "tides.md"])
    assert [i.name for i in tab.input.batch()] == ["alpacas.txt", "tides.md"]
    assert tab.input.batch()[0].text.strip() == NOTES["alpacas.txt"]
    assert tab.input.source_label.text() == "batch of 2 documents"
    run_tab(qtbot, tab)
    table = tab.batch.table
    assert tab.batch.isVisibleTo(tab)
    assert table.rowCount() == 2
    assert [table.item(r, 1).text() for r in range(2)] == ["alpacas.txt", "tides.md"]
    assert [table.item(r, 3).text() for r in range(2)] == ["done", "done"]
    assert table.item(0, 2).text() == "The dog sat on the mat."
    assert tab.status.text() == "Summarized 2 document(s)."
    table.selectRow(1)
    assert tab.summary is tab.results()[1]
    assert tab.result.toPlainText() == "The dog sat on the mat."
    assert tab.copy_button.isEnabled()
    # Both documents' own text went to the engine, one request each.
    prompts = [r.messages[-1].content for r in engine.requests[-2:]]
    assert "Alpacas" in prompts[0] and "moon" in prompts[1]

    rows = list(csv.reader(tab.batch.export_csv(tmp_path / "s.csv").open(encoding="utf-8")))
    assert rows[0] == ["source", "status", "result", "error", "parts"]
    assert rows[1] == ["alpacas.txt", "done", "The dog sat on the mat.", "", "1"]
    assert tab.status.text() == "Exported 2 row(s) to s.csv."


def test_a_document_without_text_is_left_out_of_the_input(
    qtbot: QtBot, controller: InferenceController, knowledge: KnowledgeController
) -> None:
    panel = TasksPanel(controller, knowledge)
    qtbot.addWidget(panel)
    text_input = panel.rewrite.input
    text_input.open_documents([("/nowhere/gone.txt", None)])
    qtbot.waitUntil(lambda: not text_input.loading, timeout=TIMEOUT_MS)
    assert text_input.source_label.text().startswith("No text could be loaded.")
    assert "not in the knowledge base" in text_input.source_label.text()
    assert text_input.batch() == [] and text_input.text() == ""


def test_a_rewrite_batch_over_two_files_shows_each_diff_and_exports_json(
    qtbot: QtBot, panel: TasksPanel, controller: InferenceController, tmp_path: Path
) -> None:
    tab = panel.rewrite
    files = []
    for i, text in enumerate(["The cat sat on the mat.", "A bird sat on the wall."]):
        f = tmp_path / f"draft{i}.txt"
        f.write_text(text, encoding="utf-8")
        files.append(f)
    tab.input.open_files(files)
    assert tab.input.source_label.text() == "batch of 2 files"
    run_tab(qtbot, tab)
    assert [r.status for r in tab.batch.rows()] == ["done", "done"]
    assert [r.original for r in tab.results()] == ["The cat sat on the mat.",
                                                   "A bird sat on the wall."]  # fmt: skip
    assert tab.status.text() == "Rewrote 2 document(s)."
    tab.batch.table.selectRow(1)
    assert tab.original.toPlainText() == "A bird sat on the wall."
    assert tab.result.toPlainText() == "The dog sat on the mat."
    assert "removed" in tab.original.accessibleDescription()
    assert tab.copy_button.isEnabled() and not tab.accept_button.isEnabled()
    tab.batch.table.selectRow(0)
    assert tab.rewrite is tab.results()[0]
    assert tab.original.toPlainText() == "The cat sat on the mat."

    dumped = json.loads(tab.batch.export_json(tmp_path / "r.json").read_text(encoding="utf-8"))
    assert dumped[0] == {"source": "draft0.txt", "status": "done",
                         "result": "The dog sat on the mat.",
                         "words_removed": 1, "words_added": 1}  # fmt: skip
    assert [d["source"] for d in dumped] == ["draft0.txt", "draft1.txt"]

    # Typing a text leaves the batch: the next run is one rewrite with Accept.
    tab.input.edit.setPlainText("The cat sat.")
    assert tab.input.batch() == []
    run_tab(qtbot, tab)
    assert not tab.batch.isVisibleTo(tab)
    assert tab.accept_button.isEnabled()


def test_a_summary_batch_cancelled_half_way_keeps_the_finished_rows(
    qtbot: QtBot, tmp_path: Path
) -> None:
    controller = make_controller(tmp_path, FakeEngine(script="A short summary.", delay_s=0.01))
    try:
        with qtbot.waitSignal(controller.sig_model_loaded, timeout=TIMEOUT_MS):
            controller.load_model(str(tmp_path / "model.gguf"))
        panel = TasksPanel(controller, FakeKnowledge([]))  # type: ignore[arg-type]
        qtbot.addWidget(panel)
        tab = panel.summarize
        files = []
        for i in range(8):
            f = tmp_path / f"report{i}.txt"
            f.write_text(f"Report {i}: sales went up.", encoding="utf-8")
            files.append(f)
        tab.input.open_files(files)
        tab.run_button.click()
        qtbot.waitUntil(lambda: len(tab.results()) >= 2, timeout=TIMEOUT_MS)
        tab.cancel_button.click()
        qtbot.waitUntil(lambda: not tab.running, timeout=TIMEOUT_MS)
        n = len(tab.results())
        assert 2 <= n < 8
        statuses = [r.status for r in tab.batch.rows()]
        assert statuses == ["done"] * n + ["cancelled"] * (8 - n)
        assert all(s.text == "A short summary." for s in tab.results())  # none cut short
        assert tab.status.text() == f"Cancelled after {n} of 8 document(s)."
        assert tab.batch.csv_button.isEnabled() and tab.batch.json_button.isEnabled()
        assert tab.run_button.isEnabled() and not tab.cancel_button.isEnabled()
        rows = list(csv.reader(tab.batch.export_csv(tmp_path / "x.csv").open(encoding="utf-8")))
        assert [r[0] for r in rows[1:]] == [f"report{i}.txt" for i in range(n)]
    finally:
        assert controller.shutdown()


def test_an_extract_batch_can_come_from_the_knowledge_base(
    qtbot: QtBot, tmp_path: Path, knowledge: KnowledgeController
) -> None:
    controller = make_controller(tmp_path, FakeEngine(script='{"name": "Ann"}'))
    try:
        with qtbot.waitSignal(controller.sig_model_loaded, timeout=TIMEOUT_MS):
            controller.load_model(str(tmp_path / "model.gguf"))
        panel = TasksPanel(controller, knowledge)
        qtbot.addWidget(panel)
        panel.show()
        tab = panel.extract
        tab.schema_edit.setPlainText(
            json.dumps({"type": "object", "properties": {"name": {"type": "string",
                        "maxLength": 10}}, "required": ["name"]})
        )  # fmt: skip
        tab.schema_tabs.setCurrentIndex(1)
        pick(qtbot, tab.input, ["alpacas.txt", "bread.txt", "tides.md"])
        run_tab(qtbot, tab)
        assert [tab.table.item(r, 0).text() for r in range(3)] == [
            "alpacas.txt", "bread.txt", "tides.md",
        ]  # fmt: skip
        assert tab.table.item(2, 1).text() == "Ann"
    finally:
        assert controller.shutdown()
