"""The Classify tab: labels and examples in, a probability bar for every label out.

The probabilities come from the model's logits for each label's whole token
sequence (``core.tasks.classify``), never from parsing what it wrote, so the bars
always add up to 100%. A batch (one text per line, a JSON Lines file, several
files or knowledge-base documents) fills a table as it goes and keeps what
finished when it is cancelled; with gold labels (``text<TAB>label`` lines or
``{"text", "label"}`` JSON lines) the tab shows accuracy, a confusion matrix and a
calibration plot.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import cast

from PySide6.QtCore import QCoreApplication, Qt, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.engine.protocol import Engine, Scorer
from desktop_app.core.errors import InvalidRequestError
from desktop_app.core.tasks.classify import (
    Classification,
    ClassifySpec,
    Example,
    Label,
    classify,
    classify_batch,
)
from desktop_app.core.tasks.metrics import ClassifyScores, classify_scores
from desktop_app.ui.sampling.explanation import percent
from desktop_app.ui.tasks.base import InputItem, TaskTab, TextInput, caption
from desktop_app.ui.tasks.export import csv_text, export_to
from desktop_app.ui.tasks.plots import (
    CONFIDENCE_ROLE,
    CalibrationPlot,
    ConfidenceDelegate,
    ConfusionMatrix,
    ProbabilityBars,
)
from desktop_app.workers.engine.inference import InferenceController
from desktop_app.workers.engine.task_runner import TaskProgress

# The labels a new tab starts with (they go into the prompt as they are).
DEFAULT_LABELS = (("positive", ""), ("negative", ""))


def parse_line(line: str) -> tuple[str, str | None]:
    """A batch line: ``{"text", "label"}`` JSON, ``text<TAB>gold``, or a bare text."""
    stripped = line.strip()
    if stripped.startswith("{"):
        try:
            row = json.loads(stripped)
        except ValueError:
            row = None
        if isinstance(row, dict) and "text" in row:
            gold = row.get("label")
            return str(row["text"]), None if gold is None else str(gold)
    if "\t" in line:
        text, _, gold = line.rpartition("\t")
        if text.strip() and gold.strip():
            return text.strip(), gold.strip()
    return stripped, None


def batch_items(text: str) -> list[InputItem]:
    """One item per non-empty line, with its gold label when the line has one."""
    items = []
    for n, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            body, gold = parse_line(line)
            name = QCoreApplication.translate("ClassifyTab", "line {n}").format(n=n)
            items.append(InputItem(name, body, gold))
    return items


def parse_examples(text: str) -> tuple[Example, ...]:
    """Few-shot examples: ``text<TAB>label`` or ``{"text", "label"}`` per line."""
    out = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        body, label = parse_line(line)
        if label is None:
            raise InvalidRequestError(
                QCoreApplication.translate(
                    "ClassifyTab",
                    "Example line {n} has no label: write the text, a tab, then the label.",
                ).format(n=n)
            )
        out.append(Example(body, label))
    return tuple(out)


class ClassifyTab(TaskTab):
    """Labels, examples and texts in; probability bars, a batch table and scores out."""

    def __init__(self, controller: InferenceController, parent: QWidget | None = None) -> None:
        title = QCoreApplication.translate("ClassifyTab", "Classify")
        super().__init__(controller, title, ("classify.system", "classify.user"), parent)
        self._items: list[InputItem] = []
        self._results: dict[int, Classification] = {}
        self._names: tuple[str, ...] = ()
        self._batch = False

        layout = QVBoxLayout(self)
        layout.addWidget(self._build_labels_box())
        self.input = TextInput(
            title,
            self.tr(
                'A text to classify. Tick “one text per line” for a batch; a line “text<TAB>label” or a JSON line {"text", "label"} gives its gold label.'  # noqa: E501
            ),
            self,
        )
        layout.addWidget(self.input, 1)
        row = QHBoxLayout()
        self.batch_check = QCheckBox(self.tr("One text per line"), self)
        self.batch_check.setAccessibleName(self.tr("Classify one text per line"))
        self.normalize = QComboBox(self)
        self.normalize.setAccessibleName(self.tr("Label score"))
        self.normalize.addItem(self.tr("whole label (sum)"), "sum")
        self.normalize.addItem(self.tr("per token (mean)"), "mean")
        self.normalize.setToolTip(
            self.tr(
                "Sum: the probability of writing the whole label. Mean: per token, so long labels are not penalised for their length."  # noqa: E501
            )
        )
        row.addWidget(self.batch_check)
        row.addStretch(1)
        row.addWidget(caption(self.tr("Score"), self))
        row.addWidget(self.normalize)
        layout.addLayout(row)
        layout.addWidget(self.templates)
        layout.addWidget(self.run_row())
        layout.addWidget(self._build_results(), 2)
        self.input.open_button.clicked.disconnect()
        self.input.open_button.clicked.connect(self._on_open_button_clicked)

    # ----------------------------------------------------------------- building

    def _build_labels_box(self) -> QGroupBox:
        box = QGroupBox(self.tr("Labels"), self)
        box.setAccessibleName(self.tr("Classify labels"))
        layout = QVBoxLayout(box)
        self.labels_table = QTableWidget(0, 2, box)
        self.labels_table.setAccessibleName(self.tr("Label list"))
        self.labels_table.setHorizontalHeaderLabels(
            [self.tr("Label"), self.tr("Description (optional)")]
        )
        self.labels_table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.labels_table.verticalHeader().setVisible(False)
        self.labels_table.setMaximumHeight(self.fontMetrics().height() * 8)
        self.set_labels(DEFAULT_LABELS)
        buttons = QHBoxLayout()
        add = QPushButton(self.tr("Add label"), box)
        add.setAccessibleName(self.tr("Add label"))
        remove = QPushButton(self.tr("Remove label"), box)
        remove.setAccessibleName(self.tr("Remove label"))
        add.clicked.connect(self._on_add_label_clicked)
        remove.clicked.connect(self._on_remove_label_clicked)
        buttons.addWidget(add)
        buttons.addWidget(remove)
        buttons.addStretch(1)
        layout.addWidget(self.labels_table)
        layout.addLayout(buttons)
        self.examples = QPlainTextEdit(box)
        self.examples.setAccessibleName(self.tr("Few-shot examples"))
        self.examples.setPlaceholderText(
            self.tr("Optional few-shot examples, one per line: text<TAB>label")
        )
        self.examples.setMaximumHeight(self.fontMetrics().lineSpacing() * 4 + 10)
        layout.addWidget(self.examples)
        return box

    def _build_results(self) -> QWidget:
        split = QSplitter(Qt.Orientation.Vertical, self)
        split.setAccessibleName(self.tr("Classify results"))
        split.setChildrenCollapsible(False)
        top = QWidget(split)
        top.setAccessibleName(self.tr("Classify result"))
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        self.result_label = QLabel("", top)
        self.result_label.setAccessibleName(self.tr("Classify verdict"))
        bold = self.result_label.font()
        bold.setBold(True)
        self.result_label.setFont(bold)
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.bars = ProbabilityBars(top)
        top_layout.addWidget(self.result_label)
        top_layout.addWidget(self.bars)
        columns = [
            "#",
            self.tr("Source"),
            self.tr("Text"),
            self.tr("Label"),
            "p",
            self.tr("Gold"),
        ]
        self.table = QTableWidget(0, len(columns), top)
        self.table.setAccessibleName(self.tr("Classify batch results"))
        self.table.setHorizontalHeaderLabels(columns)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.setItemDelegateForColumn(4, ConfidenceDelegate(self.table))
        self.table.setMinimumHeight(self.fontMetrics().height() * 12)
        self.table.setVisible(False)
        self.table.itemSelectionChanged.connect(self._on_table_selection_changed)
        top_layout.addWidget(self.table, 1)
        export_row = QHBoxLayout()
        self.export_button = QPushButton(self.tr("Export CSV…"), top)
        self.export_button.setAccessibleName(self.tr("Export classifications as CSV"))
        self.export_button.setEnabled(False)
        self.export_button.clicked.connect(self._on_export_button_clicked)
        export_row.addStretch(1)
        export_row.addWidget(self.export_button)
        top_layout.addLayout(export_row)
        # Takes the room the table leaves when one text was classified.
        top_layout.addStretch()

        self.scores_box = QGroupBox(self.tr("Against the gold labels"), split)
        self.scores_box.setAccessibleName(self.tr("Classify scores"))
        scores = QVBoxLayout(self.scores_box)
        self.scores_label = QLabel("", self.scores_box)
        self.scores_label.setAccessibleName(self.tr("Accuracy"))
        self.scores_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        plots = QHBoxLayout()
        self.confusion = ConfusionMatrix(self.scores_box)
        self.calibration = CalibrationPlot(self.scores_box)
        plots.addWidget(self.confusion, 1)
        plots.addWidget(self.calibration, 1)
        scores.addWidget(self.scores_label)
        scores.addLayout(plots, 1)
        self.scores_box.setMinimumHeight(self.fontMetrics().height() * 16)
        self.scores_box.setVisible(False)
        return split

    # ----------------------------------------------------------------- public

    def set_labels(self, labels: Sequence[tuple[str, str]]) -> None:
        """Replace the label list with (name, description) pairs."""
        self.labels_table.setRowCount(0)
        for name, description in labels:
            row = self.labels_table.rowCount()
            self.labels_table.insertRow(row)
            self.labels_table.setItem(row, 0, QTableWidgetItem(name))
            self.labels_table.setItem(row, 1, QTableWidgetItem(description))

    def spec(self) -> ClassifySpec:
        """The labels, examples and score from the tab (raises ``InvalidRequestError``)."""
        labels = []
        for row in range(self.labels_table.rowCount()):
            name = self.labels_table.item(row, 0)
            desc = self.labels_table.item(row, 1)
            if name is not None and name.text().strip():
                labels.append(
                    Label(name.text().strip(), desc.text().strip() if desc is not None else "")
                )
        return ClassifySpec(
            tuple(labels),
            parse_examples(self.examples.toPlainText()),
            self.normalize.currentData(),
        )

    def items(self) -> list[InputItem]:
        """What the next run classifies: the batch of files or documents, the lines, or the text."""
        files = self.input.batch()
        if files:
            return files
        text = self.input.text()
        if self.batch_check.isChecked():
            return batch_items(text)
        return [InputItem("text", text.strip())] if text.strip() else []

    def results(self) -> list[Classification]:
        """The finished classifications, in input order."""
        return [self._results[i] for i in sorted(self._results)]

    def open_files(self, paths: Sequence[str | Path]) -> None:
        """Open files as input: a JSON Lines or TSV file becomes a batch with gold labels."""
        self.input.open_files(paths)
        if len(paths) == 1 and Path(paths[0]).suffix.lower() in (".jsonl", ".tsv"):
            self.batch_check.setChecked(True)

    def export_csv(self, path: str | Path) -> Path:
        """Write the batch table: source, text, label, each label's p, gold."""
        target = Path(path)
        header = ["source", "text", "label", *(f"p_{n}" for n in self._names), "gold"]
        rows = []
        for i in sorted(self._results):
            c, item = self._results[i], self._items[i]
            probs = [round(c.probabilities[n], 6) for n in self._names]
            rows.append([item.name, c.text, c.label, *probs, item.gold])
        target.write_text(csv_text(header, rows), encoding="utf-8")
        self.set_status(
            self.tr("Exported {n} row(s) to {file}.").format(n=len(rows), file=target.name)
        )
        return target

    # ----------------------------------------------------------------- running

    def on_run(self) -> None:
        spec = self.spec()
        items = self.items()
        if not items:
            raise InvalidRequestError(self.tr("There is no text to classify."))
        templates = self.templates.templates()
        self._items = items
        self._names = spec.names
        self._results = {}
        self.bars.set_probabilities({})
        self.result_label.setText("")
        self.scores_box.setVisible(False)
        self.export_button.setEnabled(False)
        batch = len(items) > 1 or self.batch_check.isChecked() or bool(self.input.batch())
        self._batch = batch
        self.table.setVisible(batch)
        self.table.setRowCount(0)
        texts = [item.text for item in items]
        if not batch:

            def one(engine: Engine, progress: TaskProgress) -> list[Classification]:
                return [classify(cast(Scorer, engine), texts[0], spec, templates)]

            self.start(one, self.tr("Classifying"))
            return
        self.table.setRowCount(len(items))
        self.table.setColumnHidden(5, all(item.gold is None for item in items))
        for row, item in enumerate(items):
            self._set_row(row, item, None)

        def many(engine: Engine, progress: TaskProgress) -> list[Classification]:
            return classify_batch(
                cast(Scorer, engine),
                texts,
                spec,
                templates,
                on_result=lambda i, c: progress.report((i, c)),
                should_stop=lambda: progress.cancelled,
            )

        self.start(many, self.tr("Classifying {n} texts").format(n=len(items)))
        self.progress.setRange(0, len(items))
        self.progress.setValue(0)

    def on_progress(self, payload: object) -> None:
        if not isinstance(payload, tuple) or len(payload) != 2:
            return
        index, result = payload
        if not isinstance(index, int) or not isinstance(result, Classification):
            return
        self._results[index] = result
        self._set_row(index, self._items[index], result)
        self.progress.setValue(len(self._results))
        self.set_status(
            self.tr("Classified {n} of {total}…").format(
                n=len(self._results), total=len(self._items)
            )
        )
        if len(self._results) == 1:
            self.table.selectRow(index)

    def on_done(self, result: object, cancelled: bool) -> None:
        done = (
            [r for r in result if isinstance(r, Classification)] if isinstance(result, list) else []
        )
        for i, r in enumerate(done):
            self._results.setdefault(i, r)
        if not self._batch and done:
            self._show_one(done[0])
            best = done[0]
            self.set_status(f"{best.label} ({percent(best.probabilities[best.label])}).")
            return
        self.export_button.setEnabled(bool(self._results))
        n, total = len(self._results), len(self._items)
        text = (
            self.tr("Cancelled after {n} of {total} text(s).")
            if cancelled or n < total
            else self.tr("Classified {n} text(s).")
        )
        self._show_scores()
        self.set_status(text.format(n=n, total=total))

    def _show_one(self, c: Classification) -> None:
        self.bars.set_probabilities(c.probabilities)
        self.result_label.setText(f"{c.label} — {percent(c.probabilities[c.label])}")

    def _set_row(self, row: int, item: InputItem, c: Classification | None) -> None:
        def cell(text: str, tip: str | None = None) -> QTableWidgetItem:
            it = QTableWidgetItem(text)
            if tip:
                it.setToolTip(tip)
            return it

        self.table.setItem(row, 0, cell(str(row + 1)))
        self.table.setItem(row, 1, cell(item.name))
        self.table.setItem(row, 2, cell(" ".join(item.text.split())[:200], item.text[:2000]))
        self.table.setItem(row, 5, cell(item.gold or ""))
        if c is None:
            self.table.setItem(row, 3, cell("…"))
            self.table.setItem(row, 4, cell(""))
            return
        p = c.probabilities[c.label]
        self.table.setItem(row, 3, cell(c.label))
        bar = cell(percent(p))
        bar.setData(CONFIDENCE_ROLE, float(p))
        self.table.setItem(row, 4, bar)

    def _show_scores(self) -> None:
        pairs = [
            (self._items[i].gold, c)
            for i, c in sorted(self._results.items())
            if self._items[i].gold is not None
        ]
        if not pairs:
            self.scores_box.setVisible(False)
            return
        gold = [str(g) for g, _ in pairs]
        predicted = [c.label for _, c in pairs]
        confidence = [c.probabilities[c.label] for _, c in pairs]
        scores: ClassifyScores = classify_scores(gold, predicted, confidence, list(self._names))
        unknown = sorted(set(gold) - set(self._names))
        text = self.tr(
            "Accuracy {accuracy:.1%} · macro-F1 {f1:.3f} · ECE {ece:.3f} · {n} text(s)"
        ).format(accuracy=scores.accuracy, f1=scores.macro_f1, ece=scores.ece, n=scores.n)
        if unknown:
            text += " · " + self.tr("gold labels not in the list: {labels}").format(
                labels=", ".join(unknown)
            )
        self.scores_label.setText(text)
        self.confusion.set_matrix(scores.confusion, list(self._names) + unknown)
        self.calibration.set_bins(scores.bins, scores.ece)
        self.scores_box.setVisible(True)

    # ----------------------------------------------------------------- slots

    @Slot()
    def _on_table_selection_changed(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows and rows[0].row() in self._results:
            self._show_one(self._results[rows[0].row()])

    @Slot()
    def _on_add_label_clicked(self) -> None:
        row = self.labels_table.rowCount()
        self.labels_table.insertRow(row)
        self.labels_table.setItem(row, 0, QTableWidgetItem(self.tr("label {n}").format(n=row + 1)))
        self.labels_table.setItem(row, 1, QTableWidgetItem(""))
        first = self.labels_table.item(row, 0)
        if first is not None:
            self.labels_table.editItem(first)

    @Slot()
    def _on_remove_label_clicked(self) -> None:
        row = self.labels_table.currentRow()
        if row >= 0:
            self.labels_table.removeRow(row)

    @Slot()
    def _on_open_button_clicked(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(
            self,
            self.tr("Open texts"),
            str(Path.home()),
            self.tr("Texts (*.txt *.md *.jsonl *.tsv);;All files (*)"),
        )
        if paths:
            try:
                self.open_files(paths)
            except InvalidRequestError as exc:
                self.set_status(str(exc), error=True)

    @Slot()
    def _on_export_button_clicked(self) -> None:
        error = export_to(
            self,
            self.tr("Export classifications"),
            Path.home() / "classifications.csv",
            self.tr("CSV (*.csv)"),
            self.export_csv,
        )
        if error:
            self.set_status(error, error=True)
