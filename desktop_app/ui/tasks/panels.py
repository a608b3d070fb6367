"""The "Tasks" dock: summarize, extract, classify, rewrite and search, one tab each.

Every tab runs its work on the window's one ``InferenceController`` as a task
(``run_task``), after any reply in progress; search goes to the
``KnowledgeController``, which also gives the other tabs documents as input.
Several files or documents run as a batch into a table that fills as each
finishes. Generated results open in the token view ("Show tokens"), and each
tab's prompt templates can be edited and reset.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QCoreApplication, Qt, Signal, Slot
from PySide6.QtGui import QColor, QShowEvent, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDockWidget,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.engine.protocol import CancelledError, Engine, TokenEvent
from desktop_app.core.errors import InvalidRequestError
from desktop_app.core.kb.retrieve import Hit
from desktop_app.core.tasks.batch import ItemDone, ItemStarted, run_batch
from desktop_app.core.tasks.rewrite import MODES, Rewrite, rewrite
from desktop_app.core.tasks.search import highlight_spans
from desktop_app.core.tasks.summarize import Summary, SummaryOptions, SummaryProgress, summarize
from desktop_app.ui.common.errors import error_text
from desktop_app.ui.common.plain_text import make_inert
from desktop_app.ui.tasks.base import InputItem, TaskTab, TextInput, caption
from desktop_app.ui.tasks.batch_table import BatchTable
from desktop_app.ui.tasks.classify import ClassifyTab
from desktop_app.ui.tasks.diff import show_diff
from desktop_app.ui.tasks.extract import ExtractTab
from desktop_app.workers.engine.inference import InferenceController
from desktop_app.workers.engine.task_runner import TaskProgress, TaskTokens
from desktop_app.workers.jobs import JobHandle
from desktop_app.workers.jobs_qt import while_alive
from desktop_app.workers.kb.controller import KnowledgeController

__all__ = ["ClassifyTab", "ExtractTab", "RewriteTab", "SearchTab", "SummarizeTab", "TasksPanel"]

# The summary lengths offered, as the keys the summary's prompt takes.
LENGTHS = ("sentence", "paragraph", "bullets", "words")
_HIGHLIGHT = QColor("#ffe08a")


def _n_ctx(engine: Engine) -> int:
    loaded = getattr(engine, "loaded", None)
    return int(getattr(loaded, "n_ctx", 4096))


def _result_view(name: str, parent: QWidget) -> QTextEdit:
    view = QTextEdit(parent)
    make_inert(view)  # it shows model output and document text: never loads a file
    view.setAccessibleName(name)
    view.setReadOnly(True)
    view.setAcceptRichText(False)
    return view


# --------------------------------------------------------------------- summarize


class DocumentBatchTab(TaskTab):
    """A tab that also runs over several documents, one row each in ``self.batch``.

    Subclasses set ``self.batch`` (a :class:`BatchTable`) and ``self._batch``
    (whether the running task is a batch), and say what a finished batch did.
    """

    batch: BatchTable
    _batch: bool

    def on_failed(self, kind: str, message: str) -> None:
        if self._batch:
            self.batch.finish(cancelled=kind == "cancelled")

    def _end_batch(self, cancelled: bool) -> None:
        self.batch.finish(cancelled)
        rows = self.batch.rows()
        n = sum(r.finished for r in rows)
        failed = sum(r.status == "failed" for r in rows)
        if n < len(rows):
            text = (
                self.tr("Cancelled after {n} of {total} document(s), {failed} failed.")
                if failed
                else self.tr("Cancelled after {n} of {total} document(s).")
            )
        else:
            text = self._batch_done_text(failed > 0)
        self.set_status(text.format(n=n, total=len(rows), failed=failed))

    def _batch_done_text(self, failed: bool) -> str:
        """The status once every document ran: ``{n}`` done, ``{failed}`` failed."""
        raise NotImplementedError


class SummarizeTab(DocumentBatchTab):
    """Length, audience and language in; a summary out, in cited parts for long texts.

    Several files or documents are summarized one after the other into a table;
    selecting a row shows its summary.
    """

    def __init__(self, controller: InferenceController, parent: QWidget | None = None) -> None:
        names = ("summarize.system", "summarize.user", "summarize.part", "summarize.combine")
        title = QCoreApplication.translate("SummarizeTab", "Summarize")
        super().__init__(controller, title, names, parent)
        self._summary: Summary | None = None
        self._live: list[TokenEvent] = []
        self._items: list[InputItem] = []
        self._results: dict[int, Summary] = {}
        self._batch = False

        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.length = QComboBox(self)
        self.length.setAccessibleName(self.tr("Summary length"))
        length_names = {
            "sentence": self.tr("A sentence"),
            "paragraph": self.tr("A paragraph"),
            "bullets": self.tr("Bullet points"),
            "words": self.tr("A word count"),
        }
        for value in LENGTHS:
            self.length.addItem(length_names[value], value)
        self.length.setCurrentIndex(1)
        self.words = QSpinBox(self)
        self.words.setAccessibleName(self.tr("Summary word count"))
        self.words.setRange(5, 2000)
        self.words.setValue(100)
        self.words.setSuffix(self.tr(" words"))
        self.words.setEnabled(False)
        length_row = QHBoxLayout()
        length_row.addWidget(self.length, 1)
        length_row.addWidget(self.words)
        self.audience = QLineEdit(self)
        self.audience.setAccessibleName(self.tr("Summary audience"))
        # The placeholders say what an empty box means; the prompt gets the English.
        self.audience.setPlaceholderText(self.tr("a general reader"))
        self.language = QLineEdit(self)
        self.language.setAccessibleName(self.tr("Summary language"))
        self.language.setPlaceholderText(self.tr("the language of the text"))
        form.addRow(caption(self.tr("Length"), self), length_row)
        form.addRow(caption(self.tr("Audience"), self), self.audience)
        form.addRow(caption(self.tr("Language"), self), self.language)
        layout.addLayout(form)
        self.input = TextInput(
            title,
            self.tr(
                "A text to summarize. Long texts are summarized in parts; open several files or documents for a batch."  # noqa: E501
            ),
            self,
        )
        layout.addWidget(self.input, 1)
        layout.addWidget(self.templates)
        layout.addWidget(self.run_row())
        self.batch = BatchTable(self.tr("Summary"), "summaries", self)
        self.batch.setVisible(False)
        layout.addWidget(self.batch, 1)

        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.setAccessibleName(self.tr("Summary results"))
        self.result = _result_view(self.tr("Summary"), split)
        self.parts = QListWidget(split)
        self.parts.setAccessibleName(self.tr("Summary parts"))
        self.parts.setToolTip(self.tr("The parts a long text was cut into; select one to read it."))
        self.parts.setVisible(False)
        split.addWidget(self.result)
        split.addWidget(self.parts)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        layout.addWidget(split, 2)
        buttons = QHBoxLayout()
        self.tokens_button = QPushButton(self.tr("Show tokens"), self)
        self.tokens_button.setAccessibleName(self.tr("Show summary tokens"))
        self.copy_button = QPushButton(self.tr("Copy"), self)
        self.copy_button.setAccessibleName(self.tr("Copy summary"))
        for b in (self.tokens_button, self.copy_button):
            b.setEnabled(False)
            buttons.addWidget(b)
        buttons.addStretch(1)
        layout.addLayout(buttons)

        self.length.currentIndexChanged.connect(self._on_length_current_index_changed)
        self.parts.currentRowChanged.connect(self._on_parts_current_row_changed)
        self.tokens_button.clicked.connect(self._on_tokens_button_clicked)
        self.copy_button.clicked.connect(self._on_copy_button_clicked)
        self.batch.sig_row_selected.connect(self._on_batch_row_selected)
        self.batch.sig_status.connect(self.set_status)

    def options(self) -> SummaryOptions:
        """The summary options from the tab."""
        return SummaryOptions(
            self.length.currentData(),
            self.words.value(),
            self.audience.text().strip() or "a general reader",
            self.language.text().strip() or "the language of the text",
        )

    @property
    def summary(self) -> Summary | None:
        """The summary shown: the last one, or the batch row selected."""
        return self._summary

    def results(self) -> list[Summary]:
        """The batch's finished summaries, in input order."""
        return [self._results[i] for i in sorted(self._results)]

    def on_run(self) -> None:
        items = self.input.batch()
        text = self.input.text()
        if not items and not text.strip():
            raise InvalidRequestError(self.tr("There is no text to summarize."))
        options = self.options()
        templates = self.templates.templates()
        self._summary, self._live = None, []
        self.result.clear()
        self.parts.clear()
        self.parts.setVisible(False)
        self.tokens_button.setEnabled(False)
        self.copy_button.setEnabled(False)
        self._batch = bool(items)
        self.batch.setVisible(self._batch)
        if items:
            self._run_batch(items, options, templates)
            return
        no_count = self._no_count_text()

        def run(engine: Engine, progress: TaskProgress) -> Summary:
            count = getattr(engine, "count_tokens", None)
            if count is None:
                raise InvalidRequestError(no_count)
            result = summarize(
                engine, text, options, count, _n_ctx(engine), templates,
                progress=progress.report, on_token=progress.token,
                should_stop=lambda: progress.cancelled,
            )  # fmt: skip
            if progress.cancelled:
                raise CancelledError("The summary was cancelled.")
            return result

        self.start(run, self.tr("Summarizing"))

    def _no_count_text(self) -> str:
        return self.tr("This engine cannot count tokens to plan a summary.")

    def _run_batch(
        self, items: list[InputItem], options: SummaryOptions, templates: dict[str, str]
    ) -> None:
        self._items, self._results = items, {}
        self.batch.start([item.name for item in items])
        texts = [item.text for item in items]
        no_count = self._no_count_text()

        def run(engine: Engine, progress: TaskProgress) -> int:
            count = getattr(engine, "count_tokens", None)
            if count is None:
                raise InvalidRequestError(no_count)
            n_ctx = _n_ctx(engine)

            def one(text: str) -> Summary:
                return summarize(
                    engine, text, options, count, n_ctx, templates,
                    should_stop=lambda: progress.cancelled,
                )  # fmt: skip

            return run_batch(texts, one, progress)

        self.start(run, self.tr("Summarizing {n} documents").format(n=len(items)))
        self.progress.setRange(0, len(items))
        self.progress.setValue(0)

    def on_progress(self, payload: object) -> None:
        if isinstance(payload, ItemStarted):
            self.batch.set_running(payload.index)
            name = self._items[payload.index].name
            self.set_status(
                self.tr("Summarizing {i} of {n}: {name}…").format(
                    i=payload.index + 1, n=len(self._items), name=name
                )
            )
        elif isinstance(payload, ItemDone):
            if isinstance(payload.result, Summary):
                summary = payload.result
                self._results[payload.index] = summary
                self.batch.set_result(payload.index, summary.text, {"parts": len(summary.parts)})
            else:
                self.batch.set_failed(payload.index, payload.error)
            self.progress.setValue(sum(r.finished for r in self.batch.rows()))
        elif isinstance(payload, SummaryProgress):
            if payload.steps > 1:
                self.progress.setRange(0, payload.steps)
                self.progress.setValue(payload.step)
                self.set_status(self._step_text(payload))
            if payload.label != "done":
                self._live = []
                self.result.setPlainText("")
        elif isinstance(payload, TaskTokens):
            self._live.extend(payload.events)
            cursor = QTextCursor(self.result.document())
            cursor.movePosition(QTextCursor.MoveOperation.End)
            cursor.insertText("".join(t.text for t in payload.events))

    def on_done(self, result: object, cancelled: bool) -> None:
        if self._batch:
            self._end_batch(cancelled)
            return
        if not isinstance(result, Summary):
            return
        self._show_summary(result)
        n = len(result.parts)
        self.set_status(
            self.tr("Summarized in {n} parts, then combined.").format(n=n)
            if n > 1
            else self.tr("Summarized in one pass.")
        )

    def _step_text(self, p: SummaryProgress) -> str:
        """The status line for a step of a summary in parts."""
        if p.label == "combining":
            text = self.tr("Summarizing: combining the parts ({step}/{steps})…")
        elif p.label == "done":
            text = self.tr("Summarizing: done ({step}/{steps})")
        elif p.label.startswith("part "):
            text = self.tr("Summarizing: part {part} of {parts} ({step}/{steps})…")
        else:
            text = self.tr("Summarizing: {label} ({step}/{steps})…")
        return text.format(
            label=p.label, part=p.step + 1, parts=p.steps - 1, step=p.step, steps=p.steps
        )

    def _batch_done_text(self, failed: bool) -> str:
        if failed:
            return self.tr("Summarized {n} document(s), {failed} failed.")
        return self.tr("Summarized {n} document(s).")

    def _show_summary(self, summary: Summary) -> None:
        self._summary = summary
        self.result.setPlainText(summary.text)
        self.parts.clear()
        self.parts.setVisible(len(summary.parts) > 1)
        if len(summary.parts) > 1:
            for i, part in enumerate(summary.parts, start=1):
                item = QListWidgetItem(
                    self.tr("part {i} · {n} words").format(i=i, n=len(part.split()))
                )
                item.setToolTip(summary.part_summaries[i - 1][:1000])
                self.parts.addItem(item)
        self.tokens_button.setEnabled(True)
        self.copy_button.setEnabled(True)

    @Slot(int)
    def _on_batch_row_selected(self, row: int) -> None:
        summary = self._results.get(row)
        if summary is not None:
            self._show_summary(summary)
            return
        self._summary = None
        self.parts.clear()
        self.parts.setVisible(False)
        self.result.setPlainText(self.batch.rows()[row].error)
        self.tokens_button.setEnabled(False)
        self.copy_button.setEnabled(False)

    @Slot(int)
    def _on_length_current_index_changed(self, index: int) -> None:
        self.words.setEnabled(self.length.currentData() == "words")

    @Slot(int)
    def _on_parts_current_row_changed(self, row: int) -> None:
        summary = self._summary
        if summary is None or not 0 <= row < len(summary.parts):
            return
        own_summary = self.tr("── part {i}: its summary ──").format(i=row + 1)
        own_text = self.tr("── part {i}: its text ──").format(i=row + 1)
        self.result.setPlainText(
            f"{summary.text}\n\n{own_summary}\n{summary.part_summaries[row]}"
            f"\n\n{own_text}\n{summary.parts[row]}"
        )

    @Slot()
    def _on_tokens_button_clicked(self) -> None:
        if self._summary is not None and self._summary.generations:
            gen = self._summary.generations[-1]
            self.show_tokens(self.tr("Summary"), gen.text, gen.tokens)

    @Slot()
    def _on_copy_button_clicked(self) -> None:
        if self._summary is not None:
            self.copy_text(self._summary.text)


# --------------------------------------------------------------------- rewrite


def _diff_counts(diff: Sequence[tuple[str, str]]) -> tuple[int, int]:
    """Words removed and added by a word diff."""
    removed = sum(len(t.split()) for op, t in diff if op == "delete")
    added = sum(len(t.split()) for op, t in diff if op == "insert")
    return removed, added


class RewriteTab(DocumentBatchTab):
    """A mode in; the rewrite beside the original as a word diff, with Copy and Accept.

    Several files or documents are rewritten one after the other into a table;
    selecting a row shows its diff.
    """

    def __init__(self, controller: InferenceController, parent: QWidget | None = None) -> None:
        title = QCoreApplication.translate("RewriteTab", "Rewrite")
        super().__init__(controller, title, ("rewrite.system", "rewrite.user"), parent)
        self._rewrite: Rewrite | None = None
        self._items: list[InputItem] = []
        self._results: dict[int, Rewrite] = {}
        self._batch = False
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        self.mode = QComboBox(self)
        self.mode.setAccessibleName(self.tr("Rewrite mode"))
        mode_names = {
            "polish": self.tr("Polish"),
            "fix": self.tr("Fix grammar and spelling"),
            "simplify": self.tr("Simplify"),
            "formal": self.tr("Tone: formal"),
            "friendly": self.tr("Tone: friendly"),
            "concise": self.tr("Tone: concise"),
            "translate": self.tr("Translate"),
        }
        for mode in MODES:
            self.mode.addItem(mode_names.get(mode, mode), mode)
        # Long mode names (in some languages) must not widen the row: the list shows them.
        self.mode.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.mode.setMinimumContentsLength(12)
        self.language = QLineEdit(self)
        self.language.setAccessibleName(self.tr("Translate to language"))
        # Empty means English (the prompt gets the English name).
        self.language.setPlaceholderText(self.tr("English"))
        self.language.setEnabled(False)
        row.addWidget(caption(self.tr("Mode"), self))
        row.addWidget(self.mode, 1)
        row.addWidget(caption(self.tr("into"), self))
        row.addWidget(self.language, 1)
        layout.addLayout(row)
        self.input = TextInput(
            title, self.tr("A text to rewrite; open several files or documents for a batch."), self
        )
        layout.addWidget(self.input, 1)
        layout.addWidget(self.templates)
        layout.addWidget(self.run_row())
        self.batch = BatchTable(title, "rewrites", self)
        self.batch.setVisible(False)
        layout.addWidget(self.batch, 1)

        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.setAccessibleName(self.tr("Rewrite comparison"))
        left = QWidget(split)
        left.setAccessibleName(self.tr("Original side"))
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_caption = caption(self.tr("Original (removed words struck through)"), left)
        left_caption.setWordWrap(True)
        left_layout.addWidget(left_caption)
        self.original = _result_view(self.tr("Original with removals"), left)
        left_layout.addWidget(self.original)
        right = QWidget(split)
        right.setAccessibleName(self.tr("Rewrite side"))
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_caption = caption(self.tr("Rewrite (added words highlighted)"), right)
        right_caption.setWordWrap(True)
        right_layout.addWidget(right_caption)
        self.result = _result_view(self.tr("Rewrite with additions"), right)
        right_layout.addWidget(self.result)
        split.addWidget(left)
        split.addWidget(right)
        layout.addWidget(split, 2)
        buttons = QHBoxLayout()
        self.copy_button = QPushButton(self.tr("Copy"), self)
        self.copy_button.setAccessibleName(self.tr("Copy rewrite"))
        self.accept_button = QPushButton(self.tr("Accept"), self)
        self.accept_button.setAccessibleName(self.tr("Accept rewrite"))
        self.accept_button.setToolTip(self.tr("Replace the input with the rewrite"))
        self.tokens_button = QPushButton(self.tr("Show tokens"), self)
        self.tokens_button.setAccessibleName(self.tr("Show rewrite tokens"))
        for b in (self.copy_button, self.accept_button, self.tokens_button):
            b.setEnabled(False)
            buttons.addWidget(b)
        buttons.addStretch(1)
        layout.addLayout(buttons)

        self.mode.currentIndexChanged.connect(self._on_mode_current_index_changed)
        self.copy_button.clicked.connect(self._on_copy_button_clicked)
        self.accept_button.clicked.connect(self._on_accept_button_clicked)
        self.tokens_button.clicked.connect(self._on_tokens_button_clicked)
        self.batch.sig_row_selected.connect(self._on_batch_row_selected)
        self.batch.sig_status.connect(self.set_status)

    @property
    def rewrite(self) -> Rewrite | None:
        """The rewrite shown: the last one, or the batch row selected."""
        return self._rewrite

    def results(self) -> list[Rewrite]:
        """The batch's finished rewrites, in input order."""
        return [self._results[i] for i in sorted(self._results)]

    def on_run(self) -> None:
        items = self.input.batch()
        text = self.input.text()
        if not items and not text.strip():
            raise InvalidRequestError(self.tr("There is no text to rewrite."))
        mode = str(self.mode.currentData())
        language = self.language.text().strip() or "English"
        templates = self.templates.templates()
        self._rewrite = None
        self.original.clear()
        self.result.clear()
        for b in (self.copy_button, self.accept_button, self.tokens_button):
            b.setEnabled(False)
        self._batch = bool(items)
        self.batch.setVisible(self._batch)
        if items:
            self._run_batch(items, mode, language, templates)
            return
        self.original.setPlainText(text)

        def run(engine: Engine, progress: TaskProgress) -> Rewrite:
            result = rewrite(
                engine, text, mode, language=language, templates=templates,
                on_token=progress.token,
            )  # fmt: skip
            if progress.cancelled:
                raise CancelledError("The rewrite was cancelled.")
            return result

        self.start(run, self.tr("Rewriting"))

    def _run_batch(
        self, items: list[InputItem], mode: str, language: str, templates: dict[str, str]
    ) -> None:
        self._items, self._results = items, {}
        self.batch.start([item.name for item in items])
        texts = [item.text for item in items]

        def run(engine: Engine, progress: TaskProgress) -> int:
            def one(text: str) -> Rewrite:
                return rewrite(engine, text, mode, language=language, templates=templates)

            return run_batch(texts, one, progress)

        self.start(run, self.tr("Rewriting {n} documents").format(n=len(items)))
        self.progress.setRange(0, len(items))
        self.progress.setValue(0)

    def on_progress(self, payload: object) -> None:
        if isinstance(payload, ItemStarted):
            self.batch.set_running(payload.index)
            name = self._items[payload.index].name
            self.set_status(
                self.tr("Rewriting {i} of {n}: {name}…").format(
                    i=payload.index + 1, n=len(self._items), name=name
                )
            )
        elif isinstance(payload, ItemDone):
            if isinstance(payload.result, Rewrite):
                done = payload.result
                self._results[payload.index] = done
                removed, added = _diff_counts(done.diff())
                self.batch.set_result(
                    payload.index, done.text, {"words_removed": removed, "words_added": added}
                )
            else:
                self.batch.set_failed(payload.index, payload.error)
            self.progress.setValue(sum(r.finished for r in self.batch.rows()))
        elif isinstance(payload, TaskTokens):
            cursor = QTextCursor(self.result.document())
            cursor.movePosition(QTextCursor.MoveOperation.End)
            cursor.insertText("".join(t.text for t in payload.events), QTextCharFormat())

    def on_done(self, result: object, cancelled: bool) -> None:
        if self._batch:
            self._end_batch(cancelled)
            return
        if not isinstance(result, Rewrite):
            return
        removed, added = self._show_rewrite(result)
        self.accept_button.setEnabled(True)
        self.set_status(
            self.tr("Rewritten: {removed} word(s) removed, {added} added.").format(
                removed=removed, added=added
            )
        )

    def _batch_done_text(self, failed: bool) -> str:
        if failed:
            return self.tr("Rewrote {n} document(s), {failed} failed.")
        return self.tr("Rewrote {n} document(s).")

    def _show_rewrite(self, result: Rewrite) -> tuple[int, int]:
        """Show ``result`` as a diff; returns the words removed and added."""
        self._rewrite = result
        diff = result.diff()
        show_diff(self.original, self.result, diff)
        self.copy_button.setEnabled(True)
        self.tokens_button.setEnabled(True)
        return _diff_counts(diff)

    @Slot(int)
    def _on_batch_row_selected(self, row: int) -> None:
        # Accept replaces the input, which a batch is not: a batch row is copied instead.
        self.accept_button.setEnabled(False)
        done = self._results.get(row)
        if done is not None:
            self._show_rewrite(done)
            return
        self._rewrite = None
        self.original.setPlainText(self._items[row].text)
        self.result.setPlainText(self.batch.rows()[row].error)
        self.copy_button.setEnabled(False)
        self.tokens_button.setEnabled(False)

    @Slot(int)
    def _on_mode_current_index_changed(self, index: int) -> None:
        self.language.setEnabled(self.mode.currentData() == "translate")

    @Slot()
    def _on_copy_button_clicked(self) -> None:
        if self._rewrite is not None:
            self.copy_text(self._rewrite.text)

    @Slot()
    def _on_accept_button_clicked(self) -> None:
        if self._rewrite is not None:
            self.input.set_text(self._rewrite.text)
            self.accept_button.setEnabled(False)
            self.set_status(self.tr("The rewrite replaced the input."))

    @Slot()
    def _on_tokens_button_clicked(self) -> None:
        if self._rewrite is not None:
            gen = self._rewrite.generation
            self.show_tokens(self.tr("Rewrite"), gen.text, gen.tokens)


# --------------------------------------------------------------------- search


class SearchTab(QWidget):
    """Hybrid search over a knowledge collection, hits with scores and matched terms."""

    sig_open_source = Signal(object)
    """Open a hit's passage in the document viewer (a ``Hit``)."""

    sig_status = Signal(str, bool)
    """A line for the window's status bar, and whether it reports an error."""

    def __init__(self, knowledge: KnowledgeController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName(self.tr("Search task"))
        self._knowledge = knowledge
        self._search: JobHandle | None = None
        self._hits: list[Hit] = []
        self._query = ""
        self._refreshed = False

        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        self.query = QLineEdit(self)
        self.query.setAccessibleName(self.tr("Search query"))
        self.query.setPlaceholderText(self.tr("Search a collection by meaning and by words"))
        self.collection = QComboBox(self)
        self.collection.setAccessibleName(self.tr("Search collection"))
        self.k = QSpinBox(self)
        self.k.setAccessibleName(self.tr("Number of results"))
        self.k.setRange(1, 50)
        self.k.setValue(10)
        self.k.setPrefix(self.tr("top "))
        self.search_button = QPushButton(self.tr("Search"), self)
        self.search_button.setAccessibleName(self.tr("Run search"))
        row.addWidget(self.query, 2)
        row.addWidget(self.collection, 1)
        row.addWidget(self.k)
        row.addWidget(self.search_button)
        layout.addLayout(row)
        self.status = QLabel("", self)
        self.status.setAccessibleName(self.tr("Search status"))
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        split = QSplitter(Qt.Orientation.Vertical, self)
        split.setAccessibleName(self.tr("Search results"))
        columns = ["#", self.tr("Source"), self.tr("Score"), self.tr("Vector"), self.tr("Keyword")]
        self.table = QTableWidget(0, len(columns), split)
        self.table.setAccessibleName(self.tr("Search hits"))
        self.table.setHorizontalHeaderLabels(columns)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.setToolTip(self.tr("Double-click a hit to open it in its document."))
        self.passage = _result_view(self.tr("Matched passage"), split)
        split.addWidget(self.table)
        split.addWidget(self.passage)
        layout.addWidget(split, 1)

        self.search_button.clicked.connect(self._on_search_button_clicked)
        self.query.returnPressed.connect(self._on_search_button_clicked)
        self.table.itemSelectionChanged.connect(self._on_table_selection_changed)
        self.table.cellDoubleClicked.connect(self._on_table_cell_double_clicked)
        knowledge.sig_collections.connect(self._on_knowledge_collections)

    @property
    def hits(self) -> list[Hit]:
        """The hits shown, best first."""
        return list(self._hits)

    def set_collections(self, names: Sequence[str]) -> None:
        """Offer these collections (keeps the chosen one when it is still there)."""
        current = self.collection.currentText()
        self.collection.blockSignals(True)
        self.collection.clear()
        self.collection.addItems(list(names))
        if current in names:
            self.collection.setCurrentText(current)
        self.collection.blockSignals(False)

    def search(self, query: str | None = None) -> JobHandle | None:
        """Search the chosen collection; returns its handle (None when nothing to do)."""
        if query is not None:
            self.query.setText(query)
        text = self.query.text().strip()
        name = self.collection.currentText()
        if not text or not name:
            self._say(
                self.tr("Type a query and choose a collection (add documents in Knowledge)."), True
            )
            return None
        self._query = text
        if self._search is not None:
            self._search.cancel()  # superseded
        handle = self._knowledge.search(
            text,
            [name],
            self.k.value(),
            on_done=while_alive(self, lambda hits: self._on_knowledge_search_done(handle, hits)),
            on_failed=while_alive(
                self, lambda kind, message: self._on_knowledge_search_failed(handle, kind, message)
            ),
        )
        self._search = handle
        self._say(self.tr("Searching “{name}”…").format(name=name))
        return handle

    def highlighted(self, row: int) -> list[str]:
        """The query terms highlighted in a hit's passage (what the user sees marked)."""
        text = self._hits[row].chunk.text
        return [text[a:b] for a, b in highlight_spans(text, self._query)]

    def open_hit(self, row: int) -> None:
        """Ask the window to open a hit in the document viewer."""
        if 0 <= row < len(self._hits):
            self.sig_open_source.emit(self._hits[row])

    def showEvent(self, event: QShowEvent) -> None:
        """List the collections the first time the tab is seen (the store opens then)."""
        super().showEvent(event)
        if not self._refreshed:
            self._refreshed = True
            self._knowledge.refresh()

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color: #a40000;" if error else "")
        self.sig_status.emit(text, error)

    def _show_passage(self, row: int) -> None:
        hit = self._hits[row]
        text = hit.chunk.text
        self.passage.setPlainText(text)
        mark = QTextCharFormat()
        mark.setBackground(_HIGHLIGHT)
        mark.setForeground(QColor(0x10, 0x10, 0x10))
        cursor = QTextCursor(self.passage.document())
        for a, b in highlight_spans(text, self._query):
            cursor.setPosition(a)
            cursor.setPosition(b, QTextCursor.MoveMode.KeepAnchor)
            cursor.mergeCharFormat(mark)
        page = self.tr("page {n}").format(n=hit.chunk.page) if hit.chunk.page else ""
        where = hit.chunk.heading or page
        matched = ", ".join(self.highlighted(row)) or self.tr("by meaning")
        self.passage.setAccessibleDescription(
            self.tr("{path} {where}; matched: {terms}").format(
                path=hit.chunk.path, where=where, terms=matched
            )
        )

    @Slot()
    def _on_search_button_clicked(self) -> None:
        self.search()

    @Slot(list)
    def _on_knowledge_collections(self, summaries: list[object]) -> None:
        self.set_collections([str(getattr(s, "name", s)) for s in summaries])

    def _on_knowledge_search_done(self, handle: JobHandle, hits: list[Hit]) -> None:
        if handle is not self._search:
            return
        self._search = None
        self._hits = list(hits)
        table = self.table
        table.setRowCount(len(hits))
        for row, hit in enumerate(hits):
            matched = ", ".join(sorted(set(self.highlighted(row)))) or self.tr("by meaning")
            tip = self.tr("{path}\nmatched: {terms}").format(path=hit.chunk.path, terms=matched)
            cells = (
                str(hit.rank),
                hit.chunk.path.rsplit("/", 1)[-1],
                f"{hit.fused:.4f}",
                "—" if hit.vector is None else f"{hit.vector:.3f}",
                "—" if hit.keyword is None else f"{hit.keyword:.3f}",
            )
            for col, value in enumerate(cells):
                item = QTableWidgetItem(value)
                item.setToolTip(tip)
                table.setItem(row, col, item)
        table.resizeColumnToContents(0)
        if hits:
            table.selectRow(0)
        self._say(
            self.tr("{n} passage(s) found.").format(n=len(hits))
            if hits
            else self.tr("No passage found.")
        )

    def _on_knowledge_search_failed(self, handle: JobHandle, kind: str, message: str) -> None:
        if handle is self._search:
            self._search = None
            self._say(error_text(kind, message), True)

    @Slot()
    def _on_table_selection_changed(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows and rows[0].row() < len(self._hits):
            self._show_passage(rows[0].row())

    @Slot(int, int)
    def _on_table_cell_double_clicked(self, row: int, column: int) -> None:
        self.open_hit(row)


# --------------------------------------------------------------------- the dock


class TasksPanel(QDockWidget):
    """The Tasks dock: a tab per task over the window's engine and knowledge base."""

    sig_open_source = Signal(object)
    """Open a search hit in the document viewer (a ``Hit``); the window connects it."""

    sig_status = Signal(str, bool)
    """A line for the window's status bar from any tab, and whether it is an error."""

    def __init__(
        self,
        controller: InferenceController,
        knowledge: KnowledgeController,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Tasks"))
        self.setObjectName("TasksDock")
        self.setAccessibleName(self.tr("Tasks panel"))
        self.tabs = QTabWidget(self)
        self.tabs.setAccessibleName(self.tr("Tasks"))
        self.summarize = SummarizeTab(controller)
        self.extract = ExtractTab(controller)
        self.classify = ClassifyTab(controller)
        self.rewrite = RewriteTab(controller)
        self.search = SearchTab(knowledge)
        for text_tab in (self.summarize, self.extract, self.classify, self.rewrite):
            text_tab.input.set_knowledge(knowledge)
        for tab, title in (
            (self.summarize, self.tr("Summarize")),
            (self.extract, self.tr("Extract")),
            (self.classify, self.tr("Classify")),
            (self.rewrite, self.tr("Rewrite")),
            (self.search, self.tr("Search")),
        ):
            scroll = QScrollArea(self.tabs)
            scroll.setAccessibleName(self.tr("{title} tab").format(title=title))
            scroll.setWidgetResizable(True)
            scroll.setWidget(tab)
            scroll.setFrameShape(QScrollArea.Shape.NoFrame)
            self.tabs.addTab(scroll, title)
            tab.sig_status.connect(self.sig_status)
        self.setWidget(self.tabs)
        self.search.sig_open_source.connect(self.sig_open_source)

    def task_tabs(self) -> list[TaskTab]:
        """The tabs that run on the engine."""
        return [self.summarize, self.extract, self.classify, self.rewrite]
