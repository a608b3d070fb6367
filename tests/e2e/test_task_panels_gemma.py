"""The Tasks dock in the window, over the real engine process and Gemma 3 270M."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
from pytestqt.qtbot import QtBot

from desktop_app.app import build
from desktop_app.core.chat.store import ChatStore
from desktop_app.core.settings import Settings
from desktop_app.core.tasks.extract import Extraction, Field
from desktop_app.ui.tasks.base import TaskTab
from desktop_app.ui.tasks.panels import TasksPanel
from desktop_app.ui.tasks.plots import CONFIDENCE_ROLE
from desktop_app.ui.window.main_window import MainWindow
from desktop_app.workers.engine.client import EngineClient
from desktop_app.workers.engine.inference import InferenceController, resolve_with_defaults

pytestmark = pytest.mark.e2e

LOAD_TIMEOUT_MS = 60_000
TASK_TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def tasks_window(
    qapp: object, gemma_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MainWindow]:
    """One window with Gemma loaded for the module's tests (loading is the slow part)."""
    from PySide6.QtCore import QEventLoop, QTimer

    folder = tmp_path_factory.mktemp("tasks-window")
    controller = InferenceController(
        EngineClient,
        Settings(n_ctx=2048),
        settings_path=folder / "settings.json",
        resolver=resolve_with_defaults,
        remember_model=False,
    )
    window = build(
        controller, model_spec=str(gemma_path), store=ChatStore(folder / "chats.sqlite3")
    ).window
    loop = QEventLoop()
    controller.sig_model_loaded.connect(loop.quit)
    controller.sig_error.connect(loop.quit)
    QTimer.singleShot(LOAD_TIMEOUT_MS, loop.quit)
    window.show()
    loop.exec()
    assert controller.model_loaded is not None, "Gemma did not load"
    tasks = window.findChild(TasksPanel)
    assert tasks is not None
    tasks.show()
    tasks.raise_()
    yield window
    window.close()
    assert controller.worker_thread is None or not controller.worker_thread.is_alive()


def panel(window: MainWindow) -> TasksPanel:
    tasks = window.findChild(TasksPanel)
    assert tasks is not None
    return tasks


def run(qtbot: QtBot, tab: TaskTab) -> None:
    tab.run_button.click()
    assert tab.running, tab.status.text()
    qtbot.waitUntil(lambda: not tab.running, timeout=TASK_TIMEOUT_MS)
    assert tab.status.styleSheet() == "", tab.status.text()


def test_classify_shows_bars_that_sum_to_one(qtbot: QtBot, tasks_window: MainWindow) -> None:
    tasks = panel(tasks_window)
    tasks.tabs.setCurrentIndex(2)
    tab = tasks.classify
    tab.set_labels([("positive", "the writer likes it"), ("negative", "the writer dislikes it")])
    tab.input.set_text("I love this phone, the battery lasts forever. Wonderful!")
    run(qtbot, tab)
    shown = tab.bars.probabilities()
    assert set(shown) == {"positive", "negative"}
    assert sum(shown.values()) == pytest.approx(1.0)
    assert all(0 < p < 1 for p in shown.values())
    assert shown["positive"] > shown["negative"]
    assert tab.result_label.text().startswith("positive")


def test_extract_shows_schema_valid_output_with_confidences(
    qtbot: QtBot, tasks_window: MainWindow
) -> None:
    tasks = panel(tasks_window)
    tasks.tabs.setCurrentIndex(1)
    tab = tasks.extract
    tab.set_fields(
        [
            Field("name", "text", True, "the person's full name", max_length=40),
            Field("age", "integer", True, "age in years"),
            Field("city", "text", False, "where the person lives", max_length=40),
        ]
    )
    tab.input.set_text("Maria Lopez is 34 years old and lives in Madrid.")
    run(qtbot, tab)
    [result] = tab.results()
    assert isinstance(result, Extraction)
    jsonschema.validate(result.data, tab.schema())
    assert result.valid and tab.valid_label.text().startswith("✓")
    assert result.data["age"] == 34
    table = tab.table
    assert [table.item(r, 0).text() for r in range(table.rowCount())] == ["name", "age", "city"]
    confidences = [table.item(r, 2).data(CONFIDENCE_ROLE) for r in range(3)]
    assert all(isinstance(c, float) and 0 < c <= 1 for c in confidences)
    assert table.item(1, 1).text() == "34"
    assert tab.tokens_button.isEnabled()


def test_rewrite_shows_a_word_diff(qtbot: QtBot, tasks_window: MainWindow) -> None:
    tasks = panel(tasks_window)
    tasks.tabs.setCurrentIndex(3)
    tab = tasks.rewrite
    tab.mode.setCurrentIndex(tab.mode.findData("fix"))
    original = "Ths sentense has two speling mistakes."
    tab.input.set_text(original)
    run(qtbot, tab)
    result = tab.rewrite
    assert result is not None and result.text
    diff = result.diff()
    assert any(op != "equal" for op, _ in diff)
    assert tab.original.toPlainText() == original
    assert tab.result.toPlainText() == result.text
    assert "removed" in tab.status.text()
    tab.accept_button.click()
    assert tab.input.text() == result.text
