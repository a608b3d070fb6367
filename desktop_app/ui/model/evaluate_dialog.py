"""Model → Evaluate…: a model's accuracy, calibration and speed on a question set.

The user picks a question file (or one of the shipped samples), a model and,
optionally, a second model or a LoRA adapter to compare with. The evaluation
runs in an engine process of its own (``workers.engine.model_eval``) with a
progress bar and Cancel; the report shows accuracy with its 95% interval, a
calibration plot per model with ECE, accuracy per subject and the items each
model got most confidently wrong. Double-clicking one opens it in the token
view: a word problem's generated answer token by token, or a multiple-choice
answer as one token whose alternatives are the choice letters with their
probabilities. Every finished run is saved as JSON in the data folder and can be
exported as JSON, CSV or Markdown.
"""

from __future__ import annotations

import math
from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.engine.protocol import EngineConfig, TokenEvent
from desktop_app.core.errors import GlassboxError, InvalidRequestError
from desktop_app.core.lab.model_eval import (
    EvalReport,
    ItemResult,
    export_to,
    load_reports,
    results_dir,
    save_reports,
)
from desktop_app.core.lab.questions import (
    LETTERS,
    SAMPLES,
    QuestionSet,
    load_questions,
    resolve_data,
)
from desktop_app.core.models.defaults import DEFAULT_MODELS, model_path
from desktop_app.core.sampling import Candidate
from desktop_app.ui.tasks.plots import CalibrationPlot
from desktop_app.ui.tasks.token_dialog import TokenDialog
from desktop_app.workers.engine.model_eval import EvalProgress, ModelEvalRunner

#: Item data role of a confidently-wrong row: (report index, item index).
ITEM_ROLE = Qt.ItemDataRole.UserRole + 1
_FILE = "\x00file"
_NONE = ""


def _plain(text: str) -> QTableWidgetItem:
    # Table items never interpret markup; text from the question file stays text.
    item = QTableWidgetItem(" ".join(text.split()))
    item.setToolTip(text)
    return item


def choice_tokens(item: ItemResult) -> tuple[TokenEvent, ...]:
    """A multiple-choice answer as one token whose alternatives are the choice letters."""
    letters = list(item.probabilities)
    ranked = sorted(letters, key=lambda k: -item.probabilities[k])
    candidates = tuple(
        Candidate(
            LETTERS.index(k),
            k,
            math.log(max(item.probabilities[k], 1e-300)),
            item.probabilities[k],
            item.probabilities[k],
            None,
        )
        for k in ranked
    )
    best = item.predicted
    return (TokenEvent(0, LETTERS.index(best), best, item.probabilities[best], candidates),)


class EvaluateDialog(QDialog):
    """Choose a question set and models, run, and read the report."""

    def __init__(
        self,
        current_model: str | None = None,
        parent: QWidget | None = None,
        runner: ModelEvalRunner | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Evaluate a model"))
        self.setAccessibleName(self.tr("Evaluate a model"))
        self.resize(900, 760)
        self.runner = runner or ModelEvalRunner(self)
        self.runner.sig_progress.connect(self._on_runner_progress)
        self.runner.sig_finished.connect(self._on_runner_finished)
        self.runner.sig_failed.connect(self._on_runner_failed)
        app = QCoreApplication.instance()
        if app is not None:
            # Quitting with the dialog open still ends the evaluation's engine process.
            app.aboutToQuit.connect(self.runner.shutdown)
        self.reports: list[EvalReport] = []
        self.saved_path: Path | None = None
        self._questions: QuestionSet | None = None
        self._done = 0
        self._token_dialogs: list[TokenDialog] = []

        layout = QVBoxLayout(self)
        layout.addWidget(self._build_inputs(current_model))
        run_row = QHBoxLayout()
        self.run_button = QPushButton(self.tr("Evaluate"), self)
        self.run_button.setAccessibleName(self.tr("Start the evaluation"))
        self.run_button.setDefault(True)
        self.cancel_button = QPushButton(self.tr("Cancel"), self)
        self.cancel_button.setAccessibleName(self.tr("Cancel the evaluation"))
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar(self)
        self.progress.setAccessibleName(self.tr("Evaluation progress"))
        self.progress.setValue(0)
        run_row.addWidget(self.run_button)
        run_row.addWidget(self.cancel_button)
        run_row.addWidget(self.progress, 1)
        layout.addLayout(run_row)
        self.status = QLabel("", self)
        self.status.setAccessibleName(self.tr("Evaluation status"))
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        layout.addWidget(self._build_report(), 1)
        self.run_button.clicked.connect(self._on_run_button_clicked)
        self.cancel_button.clicked.connect(self._on_cancel_button_clicked)

    # ----------------------------------------------------------------- building

    def _build_inputs(self, current_model: str | None) -> QGroupBox:
        box = QGroupBox(self.tr("What to evaluate"), self)
        form = QFormLayout(box)
        self.data_combo = QComboBox(box)
        self.data_combo.setAccessibleName(self.tr("Question set"))
        names = {
            "mc-en": self.tr("Sample: multiple choice, English"),
            "mc-zh": self.tr("Sample: multiple choice, Chinese"),
            "math-en": self.tr("Sample: word problems, English"),
            "math-zh": self.tr("Sample: word problems, Chinese"),
        }
        for key in SAMPLES:
            self.data_combo.addItem(names.get(key, key), key)
        self.data_combo.addItem(self.tr("A file (JSONL or CSV)…"), _FILE)
        self.data_combo.activated.connect(self._on_data_combo_activated)
        form.addRow(self.tr("Questions"), self.data_combo)

        self.model_combo = QComboBox(box)
        self.model_combo.setAccessibleName(self.tr("Model"))
        self.compare_combo = QComboBox(box)
        self.compare_combo.setAccessibleName(self.tr("Compare with"))
        self.compare_combo.addItem(self.tr("Nothing"), _NONE)
        models: list[tuple[str, str]] = []
        if current_model:
            models.append(
                (self.tr("{name} (loaded)").format(name=Path(current_model).name), current_model)
            )
        for model in DEFAULT_MODELS.values():
            path = model_path(model)
            if path.exists() and str(path) != current_model:
                models.append((path.name, str(path)))
        for label, path_text in models:
            self.model_combo.addItem(label, path_text)
            self.compare_combo.addItem(label, path_text)
        self.model_combo.addItem(self.tr("A model file…"), _FILE)
        self.compare_combo.addItem(self.tr("A model file…"), _FILE)
        self.model_combo.activated.connect(self._on_model_combo_activated)
        self.compare_combo.activated.connect(self._on_compare_combo_activated)
        form.addRow(self.tr("Model"), self.model_combo)
        form.addRow(self.tr("Compare with"), self.compare_combo)

        lora_row = QHBoxLayout()
        self.lora_edit = QLineEdit(box)
        self.lora_edit.setAccessibleName(self.tr("LoRA adapter"))
        self.lora_edit.setPlaceholderText(
            self.tr("Optional: a LoRA adapter GGUF; alone, the model runs without and with it")
        )
        lora_browse = QPushButton(self.tr("Browse…"), box)
        lora_browse.setAccessibleName(self.tr("Choose a LoRA adapter"))
        lora_browse.clicked.connect(self._on_lora_browse_clicked)
        lora_row.addWidget(self.lora_edit, 1)
        lora_row.addWidget(lora_browse)
        form.addRow(self.tr("Adapter"), lora_row)

        options = QHBoxLayout()
        self.scoring_combo = QComboBox(box)
        self.scoring_combo.setAccessibleName(self.tr("Multiple-choice scoring"))
        self.scoring_combo.addItem(self.tr("probability of each letter"), "letter")
        self.scoring_combo.addItem(self.tr("probability of each choice's text"), "text")
        self.limit_spin = QSpinBox(box)
        self.limit_spin.setAccessibleName(self.tr("Items to evaluate"))
        self.limit_spin.setRange(0, 100000)
        self.limit_spin.setSpecialValueText(self.tr("all"))
        self.limit_spin.setValue(0)
        options.addWidget(self.scoring_combo, 1)
        options.addWidget(QLabel(self.tr("First items:"), box))
        options.addWidget(self.limit_spin)
        form.addRow(self.tr("Scoring"), options)
        return box

    def _build_report(self) -> QWidget:
        box = QGroupBox(self.tr("Report"), self)
        layout = QVBoxLayout(box)
        self.summary = QLabel(self.tr("No evaluation yet."), box)
        self.summary.setAccessibleName(self.tr("Evaluation summary"))
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        plots_row = QHBoxLayout()
        self.plots: list[CalibrationPlot] = []
        self.plot_titles: list[QLabel] = []
        for _ in range(2):
            column = QVBoxLayout()
            title = QLabel("", box)
            title.setTextFormat(Qt.TextFormat.PlainText)
            plot = CalibrationPlot(box)
            plot.setVisible(False)
            column.addWidget(title)
            column.addWidget(plot, 1)
            plots_row.addLayout(column, 1)
            self.plots.append(plot)
            self.plot_titles.append(title)
        self.subjects = QTableWidget(0, 1, box)
        self.subjects.setAccessibleName(self.tr("Accuracy per subject"))
        self.subjects.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.subjects.verticalHeader().setVisible(False)
        plots_row.addWidget(self.subjects, 1)
        layout.addLayout(plots_row, 2)
        layout.addWidget(
            QLabel(self.tr("Most confidently wrong (double-click for the token view)"), box)
        )
        columns = [
            self.tr("Model"),
            self.tr("Line"),
            self.tr("Question"),
            self.tr("Right"),
            self.tr("Answered"),
            self.tr("Confidence"),
        ]
        self.wrong = QTableWidget(0, len(columns), box)
        self.wrong.setAccessibleName(self.tr("Most confidently wrong items"))
        self.wrong.setHorizontalHeaderLabels(columns)
        self.wrong.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.wrong.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.wrong.verticalHeader().setVisible(False)
        self.wrong.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.wrong.cellDoubleClicked.connect(self._on_wrong_cell_double_clicked)
        layout.addWidget(self.wrong, 2)
        export_row = QHBoxLayout()
        self.saved_label = QLabel("", box)
        self.saved_label.setAccessibleName(self.tr("Where the results were saved"))
        self.saved_label.setTextFormat(Qt.TextFormat.PlainText)
        self.saved_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.export_button = QPushButton(self.tr("Export…"), box)
        self.export_button.setAccessibleName(self.tr("Export the evaluation"))
        self.export_button.setEnabled(False)
        self.export_button.clicked.connect(self._on_export_button_clicked)
        self.open_saved_button = QPushButton(self.tr("Open saved…"), box)
        self.open_saved_button.setAccessibleName(self.tr("Open a saved evaluation"))
        self.open_saved_button.clicked.connect(self._on_open_saved_button_clicked)
        export_row.addWidget(self.saved_label, 1)
        export_row.addWidget(self.open_saved_button)
        export_row.addWidget(self.export_button)
        layout.addLayout(export_row)
        return box

    # ----------------------------------------------------------------- choosing

    def _pick_file(self, combo: QComboBox, title: str, file_filter: str) -> None:
        if combo.currentData() != _FILE:
            return
        path, _ = QFileDialog.getOpenFileName(self, title, "", file_filter)
        if not path:
            combo.setCurrentIndex(0)
            return
        combo.insertItem(combo.count() - 1, Path(path).name, path)
        combo.setCurrentIndex(combo.count() - 2)

    @Slot(int)
    def _on_data_combo_activated(self, _index: int) -> None:
        self._pick_file(
            self.data_combo,
            self.tr("Open a question file"),
            self.tr("Questions (*.jsonl *.csv);;All files (*)"),
        )

    @Slot(int)
    def _on_model_combo_activated(self, _index: int) -> None:
        self._pick_file(self.model_combo, self.tr("Open a model"), self.tr("GGUF models (*.gguf)"))

    @Slot(int)
    def _on_compare_combo_activated(self, _index: int) -> None:
        self._pick_file(
            self.compare_combo, self.tr("Open a model"), self.tr("GGUF models (*.gguf)")
        )

    @Slot()
    def _on_lora_browse_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, self.tr("Open a LoRA adapter"), "", self.tr("GGUF adapters (*.gguf)")
        )
        if path:
            self.lora_edit.setText(path)

    def set_data(self, spec: str) -> None:
        """Choose a sample by name or a question file by path."""
        index = self.data_combo.findData(spec)
        if index < 0:
            self.data_combo.insertItem(self.data_combo.count() - 1, Path(spec).name, spec)
            index = self.data_combo.count() - 2
        self.data_combo.setCurrentIndex(index)

    def set_models(self, model: str, compare: str | None = None) -> None:
        """Choose the model (and the one to compare with) by path."""
        for combo, value in ((self.model_combo, model), (self.compare_combo, compare)):
            if value is None:
                continue
            index = combo.findData(value)
            if index < 0:
                combo.insertItem(combo.count() - 1, Path(value).name, value)
                index = combo.count() - 2
            combo.setCurrentIndex(index)

    def targets(self) -> list[EngineConfig]:
        """The models to run, in order (raises ``InvalidRequestError``)."""
        model = self.model_combo.currentData()
        if not model or model == _FILE:
            raise InvalidRequestError(self.tr("Choose a model to evaluate."))
        lora = self.lora_edit.text().strip() or None
        if lora is not None and not Path(lora).is_file():
            raise InvalidRequestError(
                self.tr("The adapter {path} is not a file.").format(path=lora)
            )
        compare = self.compare_combo.currentData()
        main = EngineConfig(str(model), lora_path=lora)
        if compare and compare != _FILE:
            return [main, EngineConfig(str(compare))]
        if lora is not None:
            return [EngineConfig(str(model)), main]
        return [main]

    # ----------------------------------------------------------------- running

    @Slot()
    def _on_run_button_clicked(self) -> None:
        self.start()

    def start(self) -> bool:
        """Read the questions and start; a bad file or choice is said in the status line."""
        try:
            spec = self.data_combo.currentData()
            if spec == _FILE:
                raise InvalidRequestError(self.tr("Choose a question file."))
            questions = load_questions(resolve_data(spec))
            targets = self.targets()
        except GlassboxError as exc:
            self.status.setText(str(exc))
            return False
        limit = self.limit_spin.value() or None
        if not self.runner.start(
            questions, targets, scoring=self.scoring_combo.currentData(), limit=limit
        ):
            return False
        self._questions = questions
        self._done = 0
        n = len(questions.items[:limit])
        self.progress.setRange(0, n * len(targets))
        self.progress.setValue(0)
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.export_button.setEnabled(False)
        self.saved_label.setText("")
        self.status.setText(self.tr("Starting…"))
        return True

    @Slot()
    def _on_cancel_button_clicked(self) -> None:
        self.runner.cancel()
        self.cancel_button.setEnabled(False)
        self.status.setText(self.tr("Cancelling after the current item…"))

    @Slot(object)
    def _on_runner_progress(self, progress: EvalProgress) -> None:
        if progress.loading:
            self.status.setText(self.tr("Loading {name}…").format(name=progress.loading))
            return
        if progress.item is None:
            return
        self._done += 1
        self.progress.setValue(self._done)
        self.status.setText(
            self.tr("Model {m}: item {i} of {n}").format(
                m=progress.target + 1, i=progress.item.index + 1, n=progress.total
            )
        )

    @Slot(list, bool)
    def _on_runner_finished(self, reports: list[EvalReport], cancelled: bool) -> None:
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        reports = [r for r in reports if r.n]
        if not reports:
            self.status.setText(self.tr("Cancelled before any item was answered."))
            return
        self.show_reports(reports)
        try:
            self.saved_path = save_reports(reports)
        except OSError as exc:
            self.saved_label.setText(
                self.tr("Not saved: {reason}").format(reason=exc.strerror or exc)
            )
        else:
            self.saved_label.setText(self.tr("Saved to {path}").format(path=self.saved_path))
        self.status.setText(
            self.tr("Cancelled: the report covers the items answered.")
            if cancelled
            else self.tr("Done.")
        )

    @Slot(str, str)
    def _on_runner_failed(self, kind: str, message: str) -> None:
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.status.setText(self.tr("Cancelled.") if kind == "cancelled" else message)

    # ----------------------------------------------------------------- report

    def show_reports(self, reports: list[EvalReport]) -> None:
        """Fill the report: summary, calibration plots, subjects and wrong items."""
        self.reports = reports
        self.export_button.setEnabled(True)
        lines = []
        for r in reports:
            low, high = r.interval
            lines.append(
                self.tr(
                    "{model}: accuracy {acc:.1%} (95% CI {low:.1%}–{high:.1%}), ECE {ece:.3f}, "
                    "{n} of {total} items, {speed:.2f} items/s"
                ).format(
                    model=r.title,
                    acc=r.accuracy,
                    low=low,
                    high=high,
                    ece=r.ece,
                    n=r.n,
                    total=r.total,
                    speed=r.items_per_s,
                )
            )
        self.summary.setText("\n".join(lines))
        for i, (plot, title) in enumerate(zip(self.plots, self.plot_titles, strict=True)):
            if i < len(reports):
                plot.set_bins(reports[i].bins, reports[i].ece)
                title.setText(reports[i].title)
            plot.setVisible(i < len(reports))
            title.setVisible(i < len(reports))
        subjects = list(dict.fromkeys(s for r in reports for s in r.per_subject()))
        self.subjects.setColumnCount(1 + len(reports))
        self.subjects.setHorizontalHeaderLabels([self.tr("Subject"), *(r.title for r in reports)])
        self.subjects.setRowCount(len(subjects))
        for row, s in enumerate(subjects):
            self.subjects.setItem(row, 0, _plain(s))
            for col, r in enumerate(reports, start=1):
                v = r.per_subject().get(s)
                text = f"{v.accuracy:.0%} ({v.correct}/{v.n})" if v else "—"
                self.subjects.setItem(row, col, _plain(text))
        self.subjects.resizeColumnsToContents()
        rows = [(ri, w) for ri, r in enumerate(reports) for w in r.confidently_wrong()]
        self.wrong.setRowCount(len(rows))
        for row, (ri, w) in enumerate(rows):
            cells = [
                reports[ri].title,
                str(w.line),
                w.question,
                w.gold,
                w.predicted or "—",
                f"{w.confidence:.0%}",
            ]
            for col, text in enumerate(cells):
                item = _plain(text)
                item.setData(ITEM_ROLE, (ri, w.index))
                self.wrong.setItem(row, col, item)

    @Slot(int, int)
    def _on_wrong_cell_double_clicked(self, row: int, _column: int) -> None:
        self.open_wrong_item(row)

    def open_wrong_item(self, row: int) -> TokenDialog | None:
        """Open a confidently-wrong item in the token view."""
        cell = self.wrong.item(row, 0)
        if cell is None:
            return None
        ri, index = cell.data(ITEM_ROLE)
        report = self.reports[ri]
        item = next(r for r in report.items if r.index == index)
        title = self.tr("{model}, line {line}").format(model=report.title, line=item.line)
        if item.choices:
            listing = "\n".join(
                f"{LETTERS[i]}. {c}  ({item.probabilities.get(LETTERS[i], 0.0):.1%})"
                for i, c in enumerate(item.choices)
            )
            detail = self.tr(
                "{question}\n{choices}\nRight answer: {gold}. The token is the answer letter; "
                "its alternatives are the choice letters, with their probabilities among them."
            ).format(question=item.question, choices=listing, gold=item.gold)
            dialog = TokenDialog(title, item.predicted, choice_tokens(item), detail, self)
        else:
            detail = self.tr("{question}\nRight answer: {gold}.").format(
                question=item.question, gold=item.gold
            )
            dialog = TokenDialog(title, item.reply, item.tokens, detail, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._token_dialogs = [d for d in self._token_dialogs if d.isVisible()] + [dialog]
        dialog.show()
        return dialog

    @Slot()
    def _on_open_saved_button_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            self.tr("Open a saved evaluation"),
            str(results_dir()),
            self.tr("Evaluations (*.json)"),
        )
        if path:
            self.open_saved(Path(path))

    def open_saved(self, path: Path) -> bool:
        """Show a saved evaluation again; a file that is not one is said."""
        try:
            reports = load_reports(path)
        except GlassboxError as exc:
            self.status.setText(str(exc))
            return False
        self.show_reports(reports)
        self.saved_path = path
        self.saved_label.setText(self.tr("Opened {path}").format(path=path))
        return True

    @Slot()
    def _on_export_button_clicked(self) -> None:
        if not self.reports:
            return
        path, _ = QFileDialog.getSaveFileName(
            self,
            self.tr("Export the evaluation"),
            str(Path.home() / f"evaluation-{self.reports[0].data}.md"),
            self.tr("Markdown (*.md);;JSON (*.json);;CSV (*.csv)"),
        )
        if path:
            self.export(Path(path))

    def export(self, path: Path) -> Path | None:
        """Write the reports as JSON, CSV or Markdown (by suffix); a failure is said."""
        try:
            export_to(self.reports, path)
        except (OSError, GlassboxError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            self.saved_label.setText(self.tr("Could not export: {reason}").format(reason=reason))
            return None
        self.saved_label.setText(self.tr("Exported to {path}").format(path=path))
        return path

    def done(self, result: int) -> None:
        """Closing (the close button or Esc) stops the evaluation and its engine process."""
        self.runner.shutdown()
        super().done(result)
