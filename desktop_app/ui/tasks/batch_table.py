"""The batch table: a batch's sources, each one's result and status, and its exports.

Document text is set as plain text (never HTML): a document is untrusted input.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import (
    QCoreApplication,
    Signal,
    Slot,
)
from PySide6.QtGui import (
    QColor,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_app.ui.tasks.export import csv_text, export_to


@dataclass(slots=True)
class BatchRow:
    """One source of a batch and where it stands: waiting, working…, done, failed, cancelled.

    ``status`` is a key (exported as is); ``status_text`` shows it in the window.
    ``extra`` holds task-specific figures that the exports add after the result.
    """

    source: str
    status: str = "waiting"
    result: str = ""
    error: str = ""
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        """Whether the source was worked on to its end (a result or an error)."""
        return self.status in ("done", "failed")


def status_text(status: str) -> str:
    """A batch row's status as the table shows it."""
    texts = {
        "waiting": QCoreApplication.translate("BatchTable", "waiting"),
        "working…": QCoreApplication.translate("BatchTable", "working…"),
        "done": QCoreApplication.translate("BatchTable", "done"),
        "failed": QCoreApplication.translate("BatchTable", "failed"),
        "cancelled": QCoreApplication.translate("BatchTable", "cancelled"),
        "not run": QCoreApplication.translate("BatchTable", "not run"),
    }
    return texts.get(status, status)


class BatchTable(QWidget):
    """A batch's sources in a table (source, result, status) filled as each finishes.

    Rows that finished stay when the batch is cancelled or fails; the exports
    write those rows only. Selecting a row asks the tab to show its whole result.
    """

    sig_row_selected = Signal(int)
    """The row the user selected (its result should be shown)."""

    sig_status = Signal(str, bool)
    """A line for the tab's status (an export written or failed), and whether it is an error."""

    def __init__(self, name: str, stem: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName(self.tr("{name} batch").format(name=name))
        self._name = name
        self._stem = stem
        self._rows: list[BatchRow] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        columns = ["#", self.tr("Source"), self.tr("Result"), self.tr("Status")]
        self.table = QTableWidget(0, len(columns), self)
        self.table.setAccessibleName(self.tr("{name} batch results").format(name=name))
        self.table.setHorizontalHeaderLabels(columns)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.setToolTip(self.tr("Select a row to read its whole result below."))
        self.table.setMinimumHeight(self.fontMetrics().height() * 8)
        layout.addWidget(self.table, 1)
        row = QHBoxLayout()
        self.csv_button = QPushButton(self.tr("Export CSV…"), self)
        self.csv_button.setAccessibleName(
            self.tr("Export {name} batch as CSV").format(name=name.lower())
        )
        self.json_button = QPushButton(self.tr("Export JSON…"), self)
        self.json_button.setAccessibleName(
            self.tr("Export {name} batch as JSON").format(name=name.lower())
        )
        row.addStretch(1)
        for b in (self.csv_button, self.json_button):
            b.setEnabled(False)
            row.addWidget(b)
        layout.addLayout(row)
        self.table.itemSelectionChanged.connect(self._on_table_selection_changed)
        self.csv_button.clicked.connect(self._on_csv_button_clicked)
        self.json_button.clicked.connect(self._on_json_button_clicked)

    def start(self, sources: Sequence[str]) -> None:
        """A new batch: one waiting row per source, exports off until it ends."""
        self._rows = [BatchRow(s) for s in sources]
        self.table.clearSelection()
        self.table.setRowCount(len(self._rows))
        for i in range(len(self._rows)):
            self._paint(i)
        self.table.resizeColumnToContents(0)
        for b in (self.csv_button, self.json_button):
            b.setEnabled(False)

    def set_running(self, row: int) -> None:
        """Row ``row`` is being worked on."""
        self._rows[row].status = "working…"
        self._paint(row)

    def set_result(self, row: int, result: str, extra: dict[str, object] | None = None) -> None:
        """Row ``row`` finished with ``result``; the first finished row is selected."""
        r = self._rows[row]
        r.status, r.result, r.error, r.extra = "done", result, "", dict(extra or {})
        self._paint(row)
        if not self.table.selectionModel().hasSelection():
            self.table.selectRow(row)

    def set_failed(self, row: int, error: str) -> None:
        """Row ``row`` could not be worked on; ``error`` says why (the batch goes on)."""
        r = self._rows[row]
        r.status, r.result, r.error = "failed", "", error
        self._paint(row)

    def finish(self, cancelled: bool) -> None:
        """The batch ended: rows never worked on say so, finished rows can be exported."""
        for i, r in enumerate(self._rows):
            if not r.finished:
                r.status = "cancelled" if cancelled else "not run"
                self._paint(i)
        done = any(r.finished for r in self._rows)
        for b in (self.csv_button, self.json_button):
            b.setEnabled(done)

    def rows(self) -> list[BatchRow]:
        """Every row, in input order."""
        return list(self._rows)

    def selected_row(self) -> int | None:
        """The selected row, if any."""
        rows = self.table.selectionModel().selectedRows()
        return rows[0].row() if rows else None

    def export_csv(self, path: str | Path) -> Path:
        """The finished rows as CSV: source, status, result, error, then the task's figures."""
        rows = [r for r in self._rows if r.finished]
        keys = list(dict.fromkeys(k for r in rows for k in r.extra))
        header = ["source", "status", "result", "error", *keys]
        body = [
            [r.source, r.status, r.result, r.error or None, *(r.extra.get(k) for k in keys)]
            for r in rows
        ]
        target = Path(path)
        target.write_text(csv_text(header, body), encoding="utf-8")
        self.sig_status.emit(
            self.tr("Exported {n} row(s) to {file}.").format(n=len(rows), file=target.name), False
        )
        return target

    def export_json(self, path: str | Path) -> Path:
        """The finished rows as a JSON list of objects."""
        out: list[dict[str, object]] = []
        for r in self._rows:
            if not r.finished:
                continue
            entry: dict[str, object] = {"source": r.source, "status": r.status}
            if r.error:
                entry["error"] = r.error
            else:
                entry["result"] = r.result
                entry.update(r.extra)
            out.append(entry)
        target = Path(path)
        target.write_text(json.dumps(out, ensure_ascii=False, indent=2), encoding="utf-8")
        self.sig_status.emit(
            self.tr("Exported {n} row(s) to {file}.").format(n=len(out), file=target.name), False
        )
        return target

    def _paint(self, row: int) -> None:
        r = self._rows[row]
        shown = r.error or " ".join(r.result.split())[:200]
        cells = (str(row + 1), r.source, shown, status_text(r.status))
        for col, value in enumerate(cells):
            item = QTableWidgetItem(value)
            if col == 2 and (r.error or r.result):
                item.setToolTip((r.error or r.result)[:2000])
            if r.error and col in (2, 3):
                item.setForeground(QColor(0xA4, 0x00, 0x00))
            self.table.setItem(row, col, item)

    def _export(self, kind: str) -> None:
        suffix = kind.lower()
        if kind == "CSV":
            title, filter_ = self.tr("Export as CSV"), self.tr("CSV (*.csv)")
        else:
            title, filter_ = self.tr("Export as JSON"), self.tr("JSON (*.json)")
        write = self.export_csv if kind == "CSV" else self.export_json
        error = export_to(self, title, Path.home() / f"{self._stem}.{suffix}", filter_, write)
        if error:
            self.sig_status.emit(error, True)

    @Slot()
    def _on_table_selection_changed(self) -> None:
        row = self.selected_row()
        if row is not None:
            self.sig_row_selected.emit(row)

    @Slot()
    def _on_csv_button_clicked(self) -> None:
        self._export("CSV")

    @Slot()
    def _on_json_button_clicked(self) -> None:
        self._export("JSON")
