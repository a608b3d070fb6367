"""The Extract tab: fields (or a JSON Schema) in, valid JSON with a confidence per field out.

The engine writes under a grammar made from the schema, so the output always
parses and validates; each field's confidence is the geometric mean of its
tokens' probabilities (``core.tasks.extract``), drawn as a bar under the value.
Several files or knowledge-base documents run as a batch into one table, exported as
CSV or JSON.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.engine.protocol import CancelledError, Engine, TokenEvent
from desktop_app.core.errors import GlassboxError, InvalidRequestError
from desktop_app.core.tasks.extract import (
    FIELD_TYPES,
    Extraction,
    Field,
    check_schema,
    extract,
    fields_to_schema,
)
from desktop_app.ui.sampling.explanation import percent
from desktop_app.ui.tasks.base import InputItem, TaskTab, TextInput
from desktop_app.ui.tasks.export import csv_text, export_to
from desktop_app.ui.tasks.plots import CONFIDENCE_ROLE, ConfidenceDelegate
from desktop_app.workers.engine.inference import InferenceController
from desktop_app.workers.engine.task_runner import TaskProgress, TaskTokens

# The fields a new tab starts with (their descriptions go into the prompt as they are).
DEFAULT_FIELDS = (
    Field("name", "text", True, "the person or company named"),
    Field("date", "date", False, "the date the document gives"),
    Field("amount", "number", False, "the total amount"),
)


def value_text(value: Any) -> str:
    """A field's value as the table shows it: text as is, null as a dash, the rest as JSON."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


class ExtractTab(TaskTab):
    """Define fields, run on a text or files, read values with their confidences."""

    def __init__(self, controller: InferenceController, parent: QWidget | None = None) -> None:
        title = QCoreApplication.translate("ExtractTab", "Extract")
        super().__init__(controller, title, ("extract.system", "extract.user"), parent)
        self._items: list[InputItem] = []
        self._results: dict[int, Extraction | str] = {}
        self._schema: dict[str, Any] = {}
        self._single: Extraction | None = None
        self._batch = False
        self._stream: list[TokenEvent] = []  # the single extraction's tokens so far

        layout = QVBoxLayout(self)
        self.schema_tabs = QTabWidget(self)
        self.schema_tabs.setAccessibleName(self.tr("Extract fields or schema"))
        self.schema_tabs.addTab(self._build_fields(), self.tr("Fields"))
        self.schema_edit = QPlainTextEdit(self)
        self.schema_edit.setAccessibleName(self.tr("JSON Schema"))
        self.schema_edit.setPlaceholderText(
            self.tr('Paste a JSON Schema: {"type": "object", "properties": {…}, "required": […]}')
        )
        self.schema_tabs.addTab(self.schema_edit, self.tr("JSON Schema"))
        self.schema_tabs.setMaximumHeight(self.fontMetrics().height() * 12)
        layout.addWidget(self.schema_tabs)
        self.input = TextInput(
            title,
            self.tr("A document to extract from; open several files or documents for a batch."),
            self,
        )
        layout.addWidget(self.input, 1)
        layout.addWidget(self.templates)
        layout.addWidget(self.run_row())
        layout.addWidget(self._build_results(), 2)

    # ----------------------------------------------------------------- building

    def _build_fields(self) -> QWidget:
        box = QWidget(self)
        box.setAccessibleName(self.tr("Field editor"))
        layout = QVBoxLayout(box)
        layout.setContentsMargins(2, 2, 2, 2)
        columns = [
            self.tr("Name"),
            self.tr("Type"),
            self.tr("Required"),
            self.tr("Description"),
            self.tr("Options (enum)"),
        ]
        self.fields_table = QTableWidget(0, len(columns), box)
        self.fields_table.setAccessibleName(self.tr("Field list"))
        self.fields_table.setHorizontalHeaderLabels(columns)
        self.fields_table.verticalHeader().setVisible(False)
        self.fields_table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.fields_table)
        row = QHBoxLayout()
        add = QPushButton(self.tr("Add field"), box)
        add.setAccessibleName(self.tr("Add field"))
        remove = QPushButton(self.tr("Remove field"), box)
        remove.setAccessibleName(self.tr("Remove field"))
        as_schema = QPushButton(self.tr("Show as JSON Schema"), box)
        as_schema.setAccessibleName(self.tr("Show fields as JSON Schema"))
        add.clicked.connect(self._on_add_field_clicked)
        remove.clicked.connect(self._on_remove_field_clicked)
        as_schema.clicked.connect(self._on_as_schema_clicked)
        row.addWidget(add)
        row.addWidget(remove)
        row.addStretch(1)
        row.addWidget(as_schema)
        layout.addLayout(row)
        self.set_fields(DEFAULT_FIELDS)
        return box

    def _build_results(self) -> QWidget:
        box = QWidget(self)
        box.setAccessibleName(self.tr("Extract results"))
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        self.valid_label = QLabel("", box)
        self.valid_label.setAccessibleName(self.tr("Schema check"))
        self.valid_label.setWordWrap(True)
        layout.addWidget(self.valid_label)
        self.table = QTableWidget(0, 3, box)
        self.table.setAccessibleName(self.tr("Extracted fields"))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.setItemDelegate(ConfidenceDelegate(self.table))
        layout.addWidget(self.table, 1)
        row = QHBoxLayout()
        self.tokens_button = QPushButton(self.tr("Show tokens"), box)
        self.tokens_button.setAccessibleName(self.tr("Show extraction tokens"))
        self.copy_button = QPushButton(self.tr("Copy JSON"), box)
        self.copy_button.setAccessibleName(self.tr("Copy extracted JSON"))
        self.csv_button = QPushButton(self.tr("Export CSV…"), box)
        self.csv_button.setAccessibleName(self.tr("Export extraction as CSV"))
        self.json_button = QPushButton(self.tr("Export JSON…"), box)
        self.json_button.setAccessibleName(self.tr("Export extraction as JSON"))
        for b in (self.tokens_button, self.copy_button, self.csv_button, self.json_button):
            b.setEnabled(False)
            row.addWidget(b)
        row.addStretch(1)
        layout.addLayout(row)
        self.tokens_button.clicked.connect(self._on_tokens_button_clicked)
        self.copy_button.clicked.connect(self._on_copy_button_clicked)
        self.csv_button.clicked.connect(self._on_csv_button_clicked)
        self.json_button.clicked.connect(self._on_json_button_clicked)
        return box

    # ----------------------------------------------------------------- public

    def set_fields(self, fields: Sequence[Field]) -> None:
        """Replace the field editor's rows."""
        table = self.fields_table
        table.setRowCount(0)
        for f in fields:
            self._add_row(f)

    def _add_row(self, f: Field) -> None:
        table = self.fields_table
        row = table.rowCount()
        table.insertRow(row)
        table.setItem(row, 0, QTableWidgetItem(f.name))
        kind = QComboBox(table)
        kind.setAccessibleName(self.tr("Type of field {n}").format(n=row + 1))
        type_names = self._type_names()
        for key in FIELD_TYPES:
            kind.addItem(type_names.get(key, key), key)
        kind.setCurrentIndex(max(kind.findData(f.type), 0))
        table.setCellWidget(row, 1, kind)
        required = QCheckBox(table)
        required.setAccessibleName(self.tr("Field {n} required").format(n=row + 1))
        required.setChecked(f.required)
        table.setCellWidget(row, 2, required)
        table.setItem(row, 3, QTableWidgetItem(f.description))
        table.setItem(row, 4, QTableWidgetItem(", ".join(f.options)))

    def _type_names(self) -> dict[str, str]:
        """The field types as the editor shows them (the schema keeps the keys)."""
        return {
            "text": self.tr("text"),
            "number": self.tr("number"),
            "integer": self.tr("integer"),
            "date": self.tr("date"),
            "list": self.tr("list"),
            "enum": self.tr("enum"),
            "boolean": self.tr("boolean"),
        }

    def fields(self) -> list[Field]:
        """The fields as edited (raises ``InvalidRequestError`` for a bad one)."""
        out = []
        table = self.fields_table
        for row in range(table.rowCount()):
            name = table.item(row, 0)
            if name is None or not name.text().strip():
                continue
            kind = table.cellWidget(row, 1)
            required = table.cellWidget(row, 2)
            desc = table.item(row, 3)
            options = table.item(row, 4)
            out.append(
                Field(
                    name.text().strip(),
                    str(kind.currentData()) if isinstance(kind, QComboBox) else "text",  # type: ignore[arg-type]
                    required.isChecked() if isinstance(required, QCheckBox) else True,
                    desc.text().strip() if desc is not None else "",
                    tuple(
                        o.strip()
                        for o in (options.text() if options is not None else "").split(",")
                        if o.strip()
                    ),
                )
            )
        return out

    def schema(self) -> dict[str, Any]:
        """The schema of the next run: the pasted one when its tab is shown, else the fields'."""
        if self.schema_tabs.currentIndex() == 1:
            try:
                schema = json.loads(self.schema_edit.toPlainText())
            except ValueError as exc:
                raise InvalidRequestError(
                    self.tr("The JSON Schema is not JSON ({error}).").format(error=exc)
                ) from exc
            if not isinstance(schema, dict):
                raise InvalidRequestError(self.tr("The JSON Schema must be an object."))
            check_schema(schema)
            return schema
        return fields_to_schema(self.fields())

    def results(self) -> list[Extraction | str]:
        """Each document's extraction (or why it failed), in input order."""
        return [self._results[i] for i in sorted(self._results)]

    def columns(self) -> list[str]:
        """The schema's top-level fields, the batch table's columns after the source."""
        return list(self._schema.get("properties", {}))

    def export_csv(self, path: str | Path) -> Path:
        """One row per document: source, each field (JSON for lists), each confidence."""
        names = self.columns()
        header = ["source", *names, *(f"confidence_{n}" for n in names), "error"]
        rows: list[list[object]] = []
        for i in sorted(self._results):
            r, item = self._results[i], self._items[i]
            if isinstance(r, str):
                rows.append([item.name, *([None] * 2 * len(names)), r])
                continue
            data = r.data if isinstance(r.data, dict) else {}
            values = [
                None if data.get(n) is None else
                data[n] if isinstance(data[n], str) else json.dumps(data[n], ensure_ascii=False)
                for n in names
            ]  # fmt: skip
            conf = [
                round(r.confidence[n].confidence, 4) if n in r.confidence else None for n in names
            ]
            rows.append([item.name, *values, *conf, "; ".join(r.errors) or None])
        target = Path(path)
        target.write_text(csv_text(header, rows), encoding="utf-8")
        self.set_status(
            self.tr("Exported {n} row(s) to {file}.").format(n=len(rows), file=target.name)
        )
        return target

    def export_json(self, path: str | Path) -> Path:
        """A JSON list: source, data and confidences per document (or its error)."""
        out: list[dict[str, object]] = []
        for i in sorted(self._results):
            r, item = self._results[i], self._items[i]
            if isinstance(r, str):
                out.append({"source": item.name, "error": r})
            else:
                out.append({"source": item.name, **r.as_dict(), "valid": r.valid})
        target = Path(path)
        target.write_text(json.dumps(out, ensure_ascii=False, indent=2), encoding="utf-8")
        self.set_status(
            self.tr("Exported {n} document(s) to {file}.").format(n=len(out), file=target.name)
        )
        return target

    # ----------------------------------------------------------------- running

    def on_run(self) -> None:
        schema = self.schema()
        files = self.input.batch()
        text = self.input.text()
        items = files or ([InputItem("text", text)] if text.strip() else [])
        if not items:
            raise InvalidRequestError(self.tr("There is no text to extract from."))
        templates = self.templates.templates()
        self._items, self._schema, self._results, self._single = items, schema, {}, None
        self._batch = bool(files)
        for b in (self.tokens_button, self.copy_button, self.csv_button, self.json_button):
            b.setEnabled(False)
        self.valid_label.setText("")
        texts = [item.text for item in items]
        if not self._batch:
            self.table.setRowCount(0)

            def one(engine: Engine, progress: TaskProgress) -> Extraction:
                result = extract(engine, texts[0], schema, templates, on_token=progress.token)
                if progress.cancelled:
                    raise CancelledError("The extraction was cancelled.")
                return result

            self.start(one, self.tr("Extracting"))
            return

        names = self.columns()
        self.table.setColumnCount(1 + len(names))
        self.table.setHorizontalHeaderLabels([self.tr("Source"), *names])
        self.table.setRowCount(len(items))
        for row, item in enumerate(items):
            self.table.setItem(row, 0, QTableWidgetItem(item.name))

        def many(engine: Engine, progress: TaskProgress) -> int:
            done = 0
            for i, body in enumerate(texts):
                if progress.cancelled:
                    break
                try:
                    result: Extraction | str = extract(engine, body, schema, templates)
                except CancelledError:
                    break
                except GlassboxError as exc:
                    if exc.kind in ("engine_crashed", "no_model"):
                        raise
                    result = str(exc)
                progress.report((i, result))
                done += 1
            return done

        self.start(many, self.tr("Extracting from {n} documents").format(n=len(items)))
        self.progress.setRange(0, len(items))
        self.progress.setValue(0)

    def on_progress(self, payload: object) -> None:
        if isinstance(payload, tuple) and len(payload) == 2 and isinstance(payload[0], int):
            i, result = payload
            if isinstance(result, Extraction | str):
                self._results[i] = result
                self._show_row(i, result)
                self.progress.setValue(len(self._results))
                self.set_status(
                    self.tr("Extracted {n} of {total}…").format(
                        n=len(self._results), total=len(self._items)
                    )
                )
            return
        if isinstance(payload, TaskTokens):
            self._stream.extend(payload.events)
            self.valid_label.setStyleSheet("")
            written = "".join(t.text for t in self._stream)[-160:]
            self.valid_label.setText(self.tr("Writing: {text}").format(text=written))

    def on_done(self, result: object, cancelled: bool) -> None:
        self._stream = []
        if isinstance(result, Extraction):
            self._results[0] = result
            self._single = result
            self._show_single(result)
            self.tokens_button.setEnabled(True)
            self.copy_button.setEnabled(True)
            self.csv_button.setEnabled(True)
            self.json_button.setEnabled(True)
            self.set_status(
                self.tr("Extracted {n} field(s) in {tokens} tokens.").format(
                    n=len(result.confidence), tokens=len(result.generation.tokens)
                )
            )
            return
        n, total = len(self._results), len(self._items)
        failed = sum(isinstance(r, str) for r in self._results.values())
        if cancelled or n < total:
            text = (
                self.tr("Cancelled after {n} of {total} document(s), {failed} failed.")
                if failed
                else self.tr("Cancelled after {n} of {total} document(s).")
            )
        elif failed:
            text = self.tr("Extracted {n} document(s), {failed} failed.")
        else:
            text = self.tr("Extracted {n} document(s).")
        self.set_status(text.format(n=n, total=total, failed=failed))
        self.csv_button.setEnabled(bool(self._results))
        self.json_button.setEnabled(bool(self._results))
        self.valid_label.setText("")

    def on_failed(self, kind: str, message: str) -> None:
        self._stream = []
        self.valid_label.setText("")

    def _show_single(self, r: Extraction) -> None:
        table = self.table
        table.setColumnCount(3)
        table.setHorizontalHeaderLabels([self.tr("Field"), self.tr("Value"), self.tr("Confidence")])
        table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        data: Mapping[str, Any] = r.data if isinstance(r.data, dict) else {}
        names = [*self.columns(), *(k for k in data if k not in self.columns())]
        table.setRowCount(len(names))
        for row, name in enumerate(names):
            table.setItem(row, 0, QTableWidgetItem(name))
            table.setItem(row, 1, QTableWidgetItem(value_text(data.get(name))))
            conf = r.confidence.get(name)
            cell = QTableWidgetItem(percent(conf.confidence) if conf else "—")
            if conf is not None:
                cell.setData(CONFIDENCE_ROLE, float(conf.confidence))
                cell.setToolTip(
                    self.tr(
                        "geometric mean {mean:.3f} over {n} token(s); joint {joint:.3g}; least sure token {lowest:.3f}"  # noqa: E501
                    ).format(
                        mean=conf.confidence, n=conf.n_tokens, joint=conf.joint, lowest=conf.lowest
                    )
                )
            table.setItem(row, 2, cell)
        table.resizeColumnToContents(0)
        if r.valid:
            self.valid_label.setText(self.tr("✓ Valid JSON for the schema."))
            self.valid_label.setStyleSheet("color: #2a7a3a;")
        else:
            self.valid_label.setText(
                self.tr("✗ Not valid for the schema: {errors}").format(errors="; ".join(r.errors))
            )
            self.valid_label.setStyleSheet("color: #a40000;")

    def _show_row(self, row: int, r: Extraction | str) -> None:
        names = self.columns()
        if isinstance(r, str):
            cell = QTableWidgetItem(self.tr("failed"))
            cell.setToolTip(r)
            self.table.setItem(row, 1, cell)
            return
        data = r.data if isinstance(r.data, dict) else {}
        for col, name in enumerate(names, start=1):
            cell = QTableWidgetItem(value_text(data.get(name)))
            conf = r.confidence.get(name)
            if conf is not None:
                cell.setData(CONFIDENCE_ROLE, float(conf.confidence))
                cell.setToolTip(
                    self.tr("confidence {percent}").format(percent=percent(conf.confidence))
                )
            self.table.setItem(row, col, cell)

    # ----------------------------------------------------------------- slots

    @Slot()
    def _on_add_field_clicked(self) -> None:
        self._add_row(Field(f"field_{self.fields_table.rowCount() + 1}"))

    @Slot()
    def _on_remove_field_clicked(self) -> None:
        row = self.fields_table.currentRow()
        if row >= 0:
            self.fields_table.removeRow(row)

    @Slot()
    def _on_as_schema_clicked(self) -> None:
        try:
            schema = fields_to_schema(self.fields())
        except InvalidRequestError as exc:
            self.set_status(str(exc), error=True)
            return
        self.schema_edit.setPlainText(json.dumps(schema, ensure_ascii=False, indent=2))
        self.schema_tabs.setCurrentIndex(1)

    @Slot()
    def _on_tokens_button_clicked(self) -> None:
        if self._single is not None:
            gen = self._single.generation
            self.show_tokens(self.tr("Extraction"), gen.text, gen.tokens)

    @Slot()
    def _on_copy_button_clicked(self) -> None:
        if self._single is not None:
            self.copy_text(json.dumps(self._single.data, ensure_ascii=False, indent=2))

    @Slot()
    def _on_csv_button_clicked(self) -> None:
        error = export_to(
            self,
            self.tr("Export as CSV"),
            Path.home() / "extracted.csv",
            self.tr("CSV (*.csv)"),
            self.export_csv,
        )
        if error:
            self.set_status(error, error=True)

    @Slot()
    def _on_json_button_clicked(self) -> None:
        error = export_to(
            self,
            self.tr("Export as JSON"),
            Path.home() / "extracted.json",
            self.tr("JSON (*.json)"),
            self.export_json,
        )
        if error:
            self.set_status(error, error=True)
