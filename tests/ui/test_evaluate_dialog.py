"""Model → Evaluate… with the tiny model in a real engine process: report, token view, export."""

from __future__ import annotations

import json
from pathlib import Path
from typing import cast

import pytest
from gguf_factory import write_tiny_llama, write_tiny_lora
from PySide6.QtWidgets import QMenu

from desktop_app.core.lab.model_eval import results_dir
from desktop_app.ui.model.evaluate_dialog import EvaluateDialog, choice_tokens
from desktop_app.ui.tasks.token_dialog import TokenDialog

ROWS = [
    {"question": "Pick one", "choices": ["a", "b", "c", "d"], "answer": 0, "subject": "s1"},
    {"question": "Pick two", "choices": ["a", "b", "c", "d"], "answer": 1, "subject": "s1"},
    {"question": "Pick three", "choices": ["a", "b", "c", "d"], "answer": 2, "subject": "s2"},
    {"question": "<b>Pick</b> four", "choices": ["a", "b", "c", "d"], "answer": 3, "subject": "s2"},
]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path: Path = write_tiny_llama(tmp_path_factory.mktemp("tiny") / "tiny.gguf", n_ctx=512)
    return path


@pytest.fixture
def questions(tmp_path: Path) -> Path:
    path = tmp_path / "q.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in ROWS) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def dialog(qtbot, tiny: Path):  # type: ignore[no-untyped-def]
    d = EvaluateDialog(str(tiny))
    qtbot.addWidget(d)
    yield d
    d.runner.shutdown()


def test_report_of_a_run_with_a_lora_comparison(qtbot, dialog, questions, tmp_path) -> None:  # type: ignore[no-untyped-def]
    dialog.set_data(str(questions))
    dialog.lora_edit.setText(str(write_tiny_lora(tmp_path / "lora.gguf")))
    with qtbot.waitSignal(dialog.runner.sig_finished, timeout=120_000) as blocker:
        assert dialog.start()
        assert not dialog.run_button.isEnabled()
    reports, cancelled = blocker.args
    assert not cancelled
    assert [r.lora is not None for r in reports] == [False, True]
    assert all(r.n == 4 for r in reports)
    # Without and with the adapter, side by side.
    summary = dialog.summary.text().splitlines()
    assert len(summary) == 2
    assert "tiny.gguf + lora.gguf: accuracy" in summary[1]
    assert "95% CI" in summary[0] and "ECE" in summary[0] and "items/s" in summary[0]
    assert dialog.plots[0].isVisibleTo(dialog) and dialog.plots[1].isVisibleTo(dialog)
    assert sum(n for _, _, n in dialog.plots[0].bins()) == 4
    assert dialog.subjects.rowCount() == 2
    assert dialog.subjects.columnCount() == 3
    wrong = sum(4 - r.correct for r in reports)
    assert dialog.wrong.rowCount() == wrong
    assert dialog.progress.value() == 8
    assert dialog.run_button.isEnabled()
    # Saved in the data folder.
    assert dialog.saved_path is not None and dialog.saved_path.parent == results_dir()
    saved = json.loads(dialog.saved_path.read_text("utf-8"))
    assert len(saved["reports"]) == 2
    # Exported as Markdown.
    out = dialog.export(tmp_path / "report.md")
    assert out is not None and "| accuracy |" in out.read_text("utf-8")
    assert dialog.export(tmp_path / "report.xlsx") is None
    assert "Could not export" in dialog.saved_label.text()
    # A saved run opens again in a fresh dialog.
    other = EvaluateDialog()
    qtbot.addWidget(other)
    assert other.open_saved(dialog.saved_path)
    assert other.summary.text() == dialog.summary.text()
    assert not other.open_saved(tmp_path / "report.md")
    assert "not a saved evaluation" in other.status.text()
    other.runner.shutdown()


def test_a_wrong_item_opens_in_the_token_view(qtbot, dialog, questions) -> None:  # type: ignore[no-untyped-def]
    dialog.set_data(str(questions))
    with qtbot.waitSignal(dialog.runner.sig_finished, timeout=120_000):
        assert dialog.start()
    if dialog.wrong.rowCount() == 0:
        pytest.skip("the tiny model answered everything right")
    row_question = dialog.wrong.item(0, 2).text()
    token_dialog = dialog.open_wrong_item(0)
    assert isinstance(token_dialog, TokenDialog)
    qtbot.addWidget(token_dialog)
    report = dialog.reports[0]
    item = report.confidently_wrong()[0]
    assert row_question == " ".join(item.question.split())
    assert f"line {item.line}" in token_dialog.windowTitle()
    # The answer letter is the token, the choice letters its alternatives.
    (token,) = choice_tokens(item)
    assert token.text == item.predicted
    assert token.candidates[0].text == item.predicted
    assert sorted(c.text for c in token.candidates) == ["A", "B", "C", "D"]
    assert sum(c.p_raw for c in token.candidates) == pytest.approx(1.0)
    assert dialog.wrong.item(0, 4).text() == item.predicted
    assert item.predicted != item.gold


def test_a_broken_file_is_said_in_the_status_line(qtbot, dialog, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.csv"
    bad.write_text("question,A,B,answer\nQ,x,y,Z\n", encoding="utf-8")
    dialog.set_data(str(bad))
    assert not dialog.start()
    assert f"{bad}, line 2" in dialog.status.text()
    assert dialog.run_button.isEnabled()


def test_cancel_keeps_what_finished(qtbot, dialog) -> None:  # type: ignore[no-untyped-def]
    dialog.set_data("mc-en")

    def cancel_on_first_item(progress) -> None:  # type: ignore[no-untyped-def]
        if progress.item is not None:
            dialog.cancel_button.click()

    dialog.runner.sig_progress.connect(cancel_on_first_item)
    with qtbot.waitSignal(dialog.runner.sig_finished, timeout=120_000) as blocker:
        assert dialog.start()
    reports, cancelled = blocker.args
    assert cancelled
    assert 1 <= reports[0].n < reports[0].total == 34
    assert "Cancelled" in dialog.status.text()


def test_model_menu_evaluate_opens_the_dialog_with_the_loaded_model(qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from desktop_app.app import build
    from desktop_app.core.engine.fake import FakeEngine
    from desktop_app.workers.engine.inference import InferenceController

    model = tmp_path / "loaded-model.gguf"
    model.write_bytes(b"GGUF")
    controller = InferenceController(FakeEngine)
    window = build(controller, model_spec=str(model)).window
    qtbot.addWidget(window)
    try:
        with qtbot.waitSignal(controller.sig_model_loaded, timeout=20_000):
            window.show()
        model_menu = next(
            cast(QMenu, a.menu())
            for a in window.menuBar().actions()
            if a.text().replace("&", "") == "Model"
        )
        action = next(a for a in model_menu.actions() if a.text().replace("&", "") == "Evaluate…")
        action.trigger()
        dialog = window.open_evaluate_dialog()
        assert dialog.isVisible()
        assert dialog.model_combo.currentData() == str(model)
        assert "(loaded)" in dialog.model_combo.currentText()
        assert window.open_evaluate_dialog() is dialog
        dialog.close()
    finally:
        assert controller.shutdown()
