"""Saving a task's results where the user asks."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog, QWidget
from pytestqt.qtbot import QtBot

from desktop_app.ui.tasks.export import csv_text, export_to


def test_csv_text_writes_a_header_and_empty_cells_for_none() -> None:
    assert csv_text(["a", "b"], [[1, None], ["x, y", 2]]) == 'a,b\n1,\n"x, y",2\n'


def test_export_to_writes_where_asked_and_says_why_it_could_not(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)
    answer = [""]
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (answer[0], ""))
    written: list[str] = []
    # Cancelled: nothing written, nothing to say.
    assert export_to(parent, "Export", tmp_path / "x.csv", "CSV (*.csv)", written.append) is None
    assert written == []
    answer[0] = str(tmp_path / "x.csv")
    assert export_to(parent, "Export", tmp_path / "x.csv", "CSV (*.csv)", written.append) is None
    assert written == [str(tmp_path / "x.csv")]
    answer[0] = str(tmp_path / "missing" / "x.csv")

    def write(path: str) -> None:
        Path(path).write_text("a", encoding="utf-8")

    error = export_to(parent, "Export", tmp_path / "x.csv", "CSV (*.csv)", write)
    assert error is not None and "Could not write" in error and "missing" in error
