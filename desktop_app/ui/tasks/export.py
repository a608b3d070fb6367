"""Saving a task's results: CSV text, and a save dialog that reports a failed write."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import (
    QCoreApplication,
)
from PySide6.QtWidgets import (
    QFileDialog,
    QWidget,
)


def csv_text(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Rows as CSV (Excel-friendly line ends are left to the caller)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return out.getvalue()


def export_to(
    parent: QWidget, title: str, default: Path, file_filter: str, write: Callable[[str], object]
) -> str | None:
    """Ask where to save, then ``write(path)``; returns what went wrong, as a sentence
    for the status line, or None (saved, or the user cancelled)."""
    path, _ = QFileDialog.getSaveFileName(parent, title, str(default), file_filter)
    if not path:
        return None
    try:
        write(path)
    except OSError as exc:
        return QCoreApplication.translate("TaskWidgets", "Could not write {path}: {reason}").format(
            path=path, reason=exc.strerror or exc
        )
    return None
