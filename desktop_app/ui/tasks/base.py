"""What every task tab has: an input, a run and cancel row with progress, a template editor.

The input is typed, opened from files or taken from the knowledge base; several
files or documents make a batch, which ``core.tasks.batch.run_batch`` works through
item by item on the engine thread.

A tab runs its work as a task on the window's one ``InferenceController``
(``run_task``), so a classification waits for a chat reply and never runs beside
it; the tab keeps the id of its job and ignores the others' signals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt, Signal, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.engine.protocol import Engine, TokenEvent
from desktop_app.core.errors import InvalidRequestError
from desktop_app.core.kb.sources import SourceText
from desktop_app.ui.common.errors import error_text
from desktop_app.ui.knowledge.source_viewer import source_note
from desktop_app.ui.tasks.document_picker import KnowledgePicker
from desktop_app.ui.tasks.styles import ERROR_STYLE, NOTE_STYLE
from desktop_app.ui.tasks.template_editor import TemplateEditor
from desktop_app.ui.tasks.token_dialog import TokenDialog
from desktop_app.workers.engine.inference import InferenceController
from desktop_app.workers.engine.task_runner import (
    CANCELLED,
    DraftingEngine,
    TaskFn,
    TaskProgress,
)
from desktop_app.workers.jobs import JobHandle
from desktop_app.workers.jobs_qt import while_alive
from desktop_app.workers.kb.controller import KnowledgeController

# Files larger than this are not opened as task input (a text this long is a mistake).
MAX_INPUT_BYTES = 20 * 1024 * 1024


def text_filter() -> str:
    """The file dialog's filter for task input."""
    return QCoreApplication.translate(
        "TextInput", "Text files (*.txt *.md *.csv *.tsv *.jsonl *.json *.log);;All files (*)"
    )


@dataclass(frozen=True, slots=True)
class InputItem:
    """One text to work on: where it came from (a file name or "line 3"), and a gold label."""

    name: str
    text: str
    gold: str | None = None


def read_text_file(path: Path) -> str:
    """A UTF-8 text file's content; a clear error for anything else."""
    try:
        size = path.stat().st_size
        if size > MAX_INPUT_BYTES:
            raise InvalidRequestError(
                QCoreApplication.translate(
                    "TextInput", "{name} is {size:.0f} MB; open a text under 20 MB."
                ).format(name=path.name, size=size / 1e6)
            )
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidRequestError(
            QCoreApplication.translate(
                "TextInput",
                "{name} is not UTF-8 text. Add it to the knowledge base to read PDFs and Word files.",  # noqa: E501
            ).format(name=path.name)
        ) from exc
    except OSError as exc:
        raise InvalidRequestError(
            QCoreApplication.translate("TextInput", "{name} cannot be read ({reason}).").format(
                name=path.name, reason=exc.strerror or exc
            )
        ) from exc


def caption(text: str, parent: QWidget) -> QLabel:
    """A label naming the control beside it (its accessible name is its text)."""
    label = QLabel(text, parent)
    label.setAccessibleName(text)
    return label


class TextInput(QWidget):
    """The text a task works on: typed or pasted, opened from files, or taken from the
    knowledge base.

    One file or document fills the text box; several make a batch (one item per
    file or document) and ``batch()`` gives them.
    """

    sig_changed = Signal()
    """The input changed (typed, opened, loaded from the knowledge base, cleared)."""

    def __init__(self, name: str, placeholder: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName(self.tr("{name} input").format(name=name))
        self._batch: list[InputItem] = []
        self._placeholder = placeholder
        self._knowledge: KnowledgeController | None = None
        self._picker: KnowledgePicker | None = None
        # Requests sent to the knowledge base for the documents being loaded, in order.
        self._requests: list[JobHandle] = []
        self._sources: dict[int, SourceText] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.edit = QPlainTextEdit(self)
        self.edit.setAccessibleName(self.tr("{name} text").format(name=name))
        self.edit.setPlaceholderText(placeholder)
        self.edit.setTabChangesFocus(True)
        self.edit.setMinimumHeight(self.edit.fontMetrics().lineSpacing() * 5)
        layout.addWidget(self.edit, 1)
        row = QHBoxLayout()
        self.open_button = QPushButton(self.tr("Open…"), self)
        self.open_button.setAccessibleName(self.tr("Open {name} files").format(name=name.lower()))
        self.open_button.setToolTip(
            self.tr("Open one text file, or several to run them as a batch")
        )
        self.kb_button = QPushButton(self.tr("From knowledge base…"), self)
        self.kb_button.setAccessibleName(
            self.tr("Open {name} input from the knowledge base").format(name=name.lower())
        )
        self.kb_button.setToolTip(
            self.tr("Choose one indexed document, or several to run them as a batch")
        )
        self.kb_button.setVisible(False)
        self.clear_button = QPushButton(self.tr("Clear"), self)
        self.clear_button.setAccessibleName(self.tr("Clear {name} input").format(name=name.lower()))
        self.source_label = QLabel("", self)
        self.source_label.setAccessibleName(self.tr("{name} input source").format(name=name))
        self.source_label.setStyleSheet(NOTE_STYLE)
        self.source_label.setWordWrap(True)
        row.addWidget(self.open_button)
        row.addWidget(self.kb_button)
        row.addWidget(self.clear_button)
        row.addWidget(self.source_label, 1)
        layout.addLayout(row)
        self.open_button.clicked.connect(self._on_open_button_clicked)
        self.kb_button.clicked.connect(self._on_kb_button_clicked)
        self.clear_button.clicked.connect(self._on_clear_button_clicked)
        self.edit.textChanged.connect(self._on_edit_text_changed)

    def set_knowledge(self, knowledge: KnowledgeController) -> None:
        """Offer the knowledge base's documents as input ("From knowledge base…")."""
        self._knowledge = knowledge
        self.kb_button.setVisible(True)

    @property
    def picker(self) -> KnowledgePicker | None:
        """The knowledge-base picker while it is open."""
        return self._picker

    @property
    def loading(self) -> bool:
        """Whether documents are being loaded from the knowledge base."""
        return bool(self._requests)

    def text(self) -> str:
        """The typed or opened text."""
        return self.edit.toPlainText()

    def set_text(self, text: str) -> None:
        """Replace the input with ``text`` (no batch)."""
        self._batch = []
        self._requests = []
        self.edit.setPlaceholderText(self._placeholder)
        self.edit.setPlainText(text)
        self.source_label.setText("")
        self.source_label.setStyleSheet(NOTE_STYLE)

    def batch(self) -> list[InputItem]:
        """The files or documents opened as a batch (empty when the input is the text box)."""
        return list(self._batch)

    def open_files(self, paths: Sequence[str | Path]) -> None:
        """Open one file into the text box, or several as a batch (``InvalidRequestError``)."""
        items = [InputItem(Path(p).name, read_text_file(Path(p))) for p in paths]
        self._use(items, "files")

    def open_documents(self, documents: Sequence[tuple[str, int | None]]) -> None:
        """Load knowledge-base documents, ``(path, doc_id)`` pairs, as the input.

        Their text arrives from the knowledge base's thread; one fills the text
        box, several make a batch.
        """
        if self._knowledge is None or not documents:
            return
        self._sources = {}
        batch: list[JobHandle] = []
        for path, doc_id in documents:
            batch.append(
                self._knowledge.load_source(
                    path,
                    doc_id=doc_id,
                    on_done=while_alive(
                        self, partial(self._on_knowledge_source, batch, len(batch))
                    ),
                )
            )
        self._requests = batch
        self.source_label.setStyleSheet(NOTE_STYLE)
        self.source_label.setText(
            self.tr("Loading {n} document(s) from the knowledge base…").format(n=len(documents))
        )

    def _use(self, items: Sequence[InputItem], kind: str) -> None:
        if len(items) == 1:
            self.set_text(items[0].text)
            self.source_label.setText(self.tr("from {name}").format(name=items[0].name))
            self.source_label.setToolTip("")
            return
        self._batch = list(items)
        self.edit.blockSignals(True)
        self.edit.setPlainText("")
        self.edit.blockSignals(False)
        lines = [f"  · {item.name}" for item in items[:12]]
        if len(items) > 12:
            lines.append("  " + self.tr("… and {n} more").format(n=len(items) - 12))
        if kind == "files":
            head = self.tr("{n} files opened as a batch:")
            label = self.tr("batch of {n} files")
        else:
            head = self.tr("{n} documents opened as a batch:")
            label = self.tr("batch of {n} documents")
        self.edit.setPlaceholderText(
            "\n".join(
                [
                    head.format(n=len(items)),
                    *lines,
                    self.tr("Type here to work on a text instead."),
                ]
            )
        )
        self.source_label.setStyleSheet(NOTE_STYLE)
        self.source_label.setText(label.format(n=len(items)))
        self.source_label.setToolTip("\n".join(item.name for item in items))
        self.sig_changed.emit()

    def _documents_loaded(self) -> None:
        sources = [self._sources[i] for i in range(len(self._requests))]
        self._requests, self._sources = [], {}
        usable = [s for s in sources if s.text.strip()]
        unusable = [s for s in sources if not s.text.strip()]
        if not usable:
            why = source_note(unusable[0]) if unusable else ""
            self.source_label.setText(f"{self.tr('No text could be loaded.')} {why}".strip())
            self.source_label.setStyleSheet(ERROR_STYLE)
            return
        items = [InputItem(Path(s.path).name, s.text) for s in usable]
        self._use(items, "documents")
        if len(items) == 1:
            self.source_label.setText(
                self.tr("from {name} (knowledge base)").format(name=items[0].name)
            )
        if unusable:
            names = ", ".join(Path(s.path).name for s in unusable)
            self.source_label.setText(
                self.tr("{text}; left out (no text): {names}").format(
                    text=self.source_label.text(), names=names
                )
            )

    @Slot()
    def _on_open_button_clicked(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(
            self, self.tr("Open text"), str(Path.home()), text_filter()
        )
        if paths:
            try:
                self.open_files(paths)
            except InvalidRequestError as exc:
                self.source_label.setText(str(exc))
                self.source_label.setStyleSheet(ERROR_STYLE)

    @Slot()
    def _on_kb_button_clicked(self) -> None:
        if self._knowledge is None:
            return
        if self._picker is not None:
            self._picker.raise_()
            return
        picker = KnowledgePicker(self._knowledge, self)
        picker.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        picker.sig_chosen.connect(self._on_picker_chosen)
        picker.finished.connect(self._on_picker_finished)
        self._picker = picker
        picker.open()

    @Slot(list)
    def _on_picker_chosen(self, documents: list[tuple[str, int]]) -> None:
        self.open_documents(documents)

    @Slot(int)
    def _on_picker_finished(self, result: int) -> None:
        self._picker = None

    def _on_knowledge_source(self, batch: list[JobHandle], index: int, source: SourceText) -> None:
        if batch is not self._requests:
            return  # an earlier choice of documents, replaced since
        self._sources[index] = source
        if len(self._sources) == len(self._requests):
            self._documents_loaded()

    @Slot()
    def _on_clear_button_clicked(self) -> None:
        self.set_text("")

    @Slot()
    def _on_edit_text_changed(self) -> None:
        if self._batch and self.edit.toPlainText():
            self._batch = []
            self.edit.setPlaceholderText(self._placeholder)
            self.source_label.setText("")
        self.source_label.setStyleSheet(NOTE_STYLE)
        self.sig_changed.emit()


class TaskTab(QWidget):
    """A task's tab: subclasses build their options and results around ``run_row``."""

    sig_status = Signal(str, bool)
    """A line for the window's status bar, and whether it reports an error."""

    def __init__(
        self,
        controller: InferenceController,
        name: str,
        templates: Sequence[str],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setAccessibleName(self.tr("{name} task").format(name=name))
        self._controller = controller
        self._name = name
        self._job: JobHandle | None = None
        self._cancelling = False
        self.templates = TemplateEditor(templates, self)
        self.templates.setAccessibleName(self.tr("{name} prompt template").format(name=name))

        self.run_button = QPushButton(name, self)
        self.run_button.setAccessibleName(self.tr("Run {name}").format(name=name.lower()))
        self.run_button.setDefault(True)
        self.cancel_button = QPushButton(self.tr("Cancel"), self)
        self.cancel_button.setAccessibleName(self.tr("Cancel {name}").format(name=name.lower()))
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar(self)
        self.progress.setAccessibleName(self.tr("{name} progress").format(name=name))
        self.progress.setVisible(False)
        self.progress.setMaximumHeight(self.fontMetrics().height() + 6)
        self.status = QLabel("", self)
        self.status.setAccessibleName(self.tr("{name} status").format(name=name))
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.run_button.clicked.connect(self._on_run_button_clicked)
        self.cancel_button.clicked.connect(self._on_cancel_button_clicked)

    # ----------------------------------------------------------------- for subclasses

    def run_row(self) -> QWidget:
        """The row with the run and cancel buttons, the progress bar and the status line."""
        box = QWidget(self)
        box.setAccessibleName(self.tr("{name} run controls").format(name=self._name))
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(self.run_button)
        row.addWidget(self.cancel_button)
        row.addWidget(self.progress, 1)
        layout.addLayout(row)
        layout.addWidget(self.status)
        return box

    def start(self, fn: TaskFn, what: str) -> JobHandle:
        """Run ``fn`` on the engine thread; the tab is busy until it ends.

        Its generations draft as Model panel → Speed says, as chat replies do.
        """
        draft = self._controller.draft_settings()
        task = fn
        if draft.enabled:

            def task(engine: Engine, progress: TaskProgress) -> object:
                return fn(DraftingEngine(engine, draft), progress)

        job: JobHandle | None = None
        self._job = job = self._controller.run_task(
            task,
            label=f"{self._name.lower()}: {what}",
            on_done=while_alive(self, lambda result: self._on_task_done(job, result)),
            on_failed=while_alive(
                self, lambda kind, message: self._on_task_failed(job, kind, message)
            ),
            on_progress=while_alive(self, lambda payload: self._on_task_progress(job, payload)),
        )
        self._cancelling = False
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress.setRange(0, 0)
        self.progress.setVisible(True)
        self.set_status(self.tr("{what}…").format(what=what))
        return self._job

    @property
    def running(self) -> bool:
        """Whether this tab's task is queued or running."""
        return self._job is not None

    @property
    def job(self) -> JobHandle | None:
        """This tab's running task."""
        return self._job

    def cancel(self) -> None:
        """Cancel this tab's task (what finished stays shown)."""
        if self._job is not None:
            self._cancelling = True
            self._job.cancel()
            self.cancel_button.setEnabled(False)
            self.set_status(self.tr("Cancelling…"))

    def set_status(self, text: str, error: bool = False) -> None:
        """Say something under the run row (and in the window's status bar)."""
        self.status.setText(text)
        self.status.setStyleSheet(ERROR_STYLE if error else "")
        self.sig_status.emit(text, error)

    def show_tokens(self, title: str, text: str, tokens: Sequence[TokenEvent]) -> TokenDialog:
        """Open a generated result in the token view."""
        n = len(tokens)
        mean = sum(t.p for t in tokens) / n if n else 0.0
        detail = (
            self.tr("{n} tokens · mean p {mean:.2f}").format(n=n, mean=mean)
            if n
            else self.tr("no tokens recorded")
        )
        dialog = TokenDialog(title, text, tokens, detail, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def copy_text(self, text: str) -> None:
        """Put ``text`` on the clipboard."""
        QGuiApplication.clipboard().setText(text)
        self.set_status(self.tr("Copied."))

    def on_run(self) -> None:
        """Start the task from the tab's inputs (subclasses)."""
        raise NotImplementedError

    def on_progress(self, payload: object) -> None:
        """A payload the running task reported (subclasses)."""

    def on_done(self, result: object, cancelled: bool) -> None:
        """The task returned ``result`` (``cancelled``: it stopped early when asked)."""
        raise NotImplementedError

    def on_failed(self, kind: str, message: str) -> None:
        """The task failed or was cancelled before it returned (subclasses may add to this)."""

    # ----------------------------------------------------------------- slots

    def _finish(self) -> None:
        self._job = None
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.progress.setVisible(False)

    @Slot()
    def _on_run_button_clicked(self) -> None:
        if self._job is not None:
            return
        try:
            self.on_run()
        except InvalidRequestError as exc:
            self.set_status(str(exc), error=True)

    @Slot()
    def _on_cancel_button_clicked(self) -> None:
        self.cancel()

    def _on_task_progress(self, job: JobHandle | None, payload: object) -> None:
        if job is self._job:
            self.on_progress(payload)

    def _on_task_done(self, job: JobHandle | None, result: object) -> None:
        if job is not self._job:
            return
        cancelled = self._cancelling
        self._finish()
        self.on_done(result, cancelled)

    def _on_task_failed(self, job: JobHandle | None, kind: str, message: str) -> None:
        if job is not self._job:
            return
        self._finish()
        if kind == CANCELLED:
            self.set_status(self.tr("Cancelled."))
        else:
            self.set_status(error_text(kind, message), error=True)
        self.on_failed(kind, message)
