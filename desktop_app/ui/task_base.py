"""What every task tab has: an input, a run and cancel row with progress, a template editor.

A tab runs its work as a task on the window's one ``InferenceController``
(``run_task``), so a classification waits for a chat reply and never runs beside
it; the tab keeps the id of its job and ignores the others' signals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
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

from desktop_app.core.engine.protocol import TokenEvent
from desktop_app.core.errors import InvalidRequestError
from desktop_app.ui.task_widgets import ERROR_STYLE, NOTE_STYLE, TemplateEditor, TokenDialog
from desktop_app.workers.inference import InferenceController
from desktop_app.workers.task_runner import CANCELLED, TaskFn

#: Files larger than this are not opened as task input (a text this long is a mistake).
MAX_INPUT_BYTES = 20 * 1024 * 1024
TEXT_FILTER = "Text files (*.txt *.md *.csv *.tsv *.jsonl *.json *.log);;All files (*)"


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
                f"{path.name} is {size / 1e6:.0f} MB; open a text under 20 MB."
            )
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidRequestError(
            f"{path.name} is not UTF-8 text. Add it to the knowledge base to read PDFs "
            "and Word files."
        ) from exc
    except OSError as exc:
        raise InvalidRequestError(f"{path.name} cannot be read ({exc.strerror or exc}).") from exc


def caption(text: str, parent: QWidget) -> QLabel:
    """A label naming the control beside it (its accessible name is its text)."""
    label = QLabel(text, parent)
    label.setAccessibleName(text)
    return label


class TextInput(QWidget):
    """The text a task works on: typed or pasted, or opened from one or more files.

    Several files make a batch (one item per file); ``items()`` gives what to run.
    """

    sig_changed = Signal()
    """The input changed (typed, opened, cleared)."""

    def __init__(self, name: str, placeholder: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName(f"{name} input")
        self._files: list[InputItem] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.edit = QPlainTextEdit(self)
        self.edit.setAccessibleName(f"{name} text")
        self.edit.setPlaceholderText(placeholder)
        self.edit.setTabChangesFocus(True)
        self.edit.setMinimumHeight(self.edit.fontMetrics().lineSpacing() * 5)
        layout.addWidget(self.edit, 1)
        row = QHBoxLayout()
        self.open_button = QPushButton("Open…", self)
        self.open_button.setAccessibleName(f"Open {name.lower()} files")
        self.open_button.setToolTip("Open one text file, or several to run them as a batch")
        self.clear_button = QPushButton("Clear", self)
        self.clear_button.setAccessibleName(f"Clear {name.lower()} input")
        self.source_label = QLabel("", self)
        self.source_label.setAccessibleName(f"{name} input source")
        self.source_label.setStyleSheet(NOTE_STYLE)
        row.addWidget(self.open_button)
        row.addWidget(self.clear_button)
        row.addWidget(self.source_label, 1)
        layout.addLayout(row)
        self.open_button.clicked.connect(self._on_open_button_clicked)
        self.clear_button.clicked.connect(self._on_clear_button_clicked)
        self.edit.textChanged.connect(self._on_edit_text_changed)

    def text(self) -> str:
        """The typed or opened text."""
        return self.edit.toPlainText()

    def set_text(self, text: str) -> None:
        """Replace the input with ``text`` (no files)."""
        self._files = []
        self.edit.setPlainText(text)
        self.source_label.setText("")

    def files(self) -> list[InputItem]:
        """The files opened as a batch (empty when the input is the text box)."""
        return list(self._files)

    def open_files(self, paths: Sequence[str | Path]) -> None:
        """Open one file into the text box, or several as a batch (``InvalidRequestError``)."""
        items = [InputItem(Path(p).name, read_text_file(Path(p))) for p in paths]
        if len(items) == 1:
            self.set_text(items[0].text)
            self.source_label.setText(f"from {items[0].name}")
            return
        self._files = items
        self.edit.blockSignals(True)
        self.edit.setPlainText("")
        self.edit.blockSignals(False)
        self.edit.setPlaceholderText(
            f"{len(items)} files opened as a batch; type here to work on a text instead."
        )
        self.source_label.setText(f"batch of {len(items)} files")
        self.sig_changed.emit()

    @Slot()
    def _on_open_button_clicked(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Open text", str(Path.home()), TEXT_FILTER)
        if paths:
            try:
                self.open_files(paths)
            except InvalidRequestError as exc:
                self.source_label.setText(str(exc))
                self.source_label.setStyleSheet(ERROR_STYLE)

    @Slot()
    def _on_clear_button_clicked(self) -> None:
        self.set_text("")

    @Slot()
    def _on_edit_text_changed(self) -> None:
        if self._files and self.edit.toPlainText():
            self._files = []
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
        self.setAccessibleName(f"{name} task")
        self._controller = controller
        self._name = name
        self._job: int | None = None
        self._cancelling = False
        self.templates = TemplateEditor(templates, self)
        self.templates.setAccessibleName(f"{name} prompt template")

        self.run_button = QPushButton(name, self)
        self.run_button.setAccessibleName(f"Run {name.lower()}")
        self.run_button.setDefault(True)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setAccessibleName(f"Cancel {name.lower()}")
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar(self)
        self.progress.setAccessibleName(f"{name} progress")
        self.progress.setVisible(False)
        self.progress.setMaximumHeight(self.fontMetrics().height() + 6)
        self.status = QLabel("", self)
        self.status.setAccessibleName(f"{name} status")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.run_button.clicked.connect(self._on_run_button_clicked)
        self.cancel_button.clicked.connect(self._on_cancel_button_clicked)
        controller.sig_task_progress.connect(self._on_controller_task_progress)
        controller.sig_task_done.connect(self._on_controller_task_done)
        controller.sig_task_failed.connect(self._on_controller_task_failed)

    # ----------------------------------------------------------------- for subclasses

    def run_row(self) -> QWidget:
        """The row with the run and cancel buttons, the progress bar and the status line."""
        box = QWidget(self)
        box.setAccessibleName(f"{self._name} run controls")
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(self.run_button)
        row.addWidget(self.cancel_button)
        row.addWidget(self.progress, 1)
        layout.addLayout(row)
        layout.addWidget(self.status)
        return box

    def start(self, fn: TaskFn, what: str) -> int:
        """Run ``fn`` on the engine thread; the tab is busy until it ends."""
        self._job = self._controller.run_task(fn, label=f"{self._name.lower()}: {what}")
        self._cancelling = False
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress.setRange(0, 0)
        self.progress.setVisible(True)
        self.set_status(f"{what}…")
        return self._job

    @property
    def running(self) -> bool:
        """Whether this tab's task is queued or running."""
        return self._job is not None

    @property
    def job_id(self) -> int | None:
        """The id of this tab's running task."""
        return self._job

    def cancel(self) -> None:
        """Cancel this tab's task (what finished stays shown)."""
        if self._job is not None:
            self._cancelling = True
            self._controller.cancel_task(self._job)
            self.cancel_button.setEnabled(False)
            self.set_status("Cancelling…")

    def set_status(self, text: str, error: bool = False) -> None:
        """Say something under the run row (and in the window's status bar)."""
        self.status.setText(text)
        self.status.setStyleSheet(ERROR_STYLE if error else "")
        self.sig_status.emit(text, error)

    def show_tokens(self, title: str, text: str, tokens: Sequence[TokenEvent]) -> TokenDialog:
        """Open a generated result in the token view."""
        n = len(tokens)
        mean = sum(t.p for t in tokens) / n if n else 0.0
        detail = f"{n} tokens · mean p {mean:.2f}" if n else "no tokens recorded"
        dialog = TokenDialog(title, text, tokens, detail, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def copy_text(self, text: str) -> None:
        """Put ``text`` on the clipboard."""
        QGuiApplication.clipboard().setText(text)
        self.set_status("Copied.")

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

    @Slot(int, object)
    def _on_controller_task_progress(self, job_id: int, payload: object) -> None:
        if job_id == self._job:
            self.on_progress(payload)

    @Slot(int, object)
    def _on_controller_task_done(self, job_id: int, result: object) -> None:
        if job_id != self._job:
            return
        cancelled = self._cancelling
        self._finish()
        self.on_done(result, cancelled)

    @Slot(int, str, str)
    def _on_controller_task_failed(self, job_id: int, kind: str, message: str) -> None:
        if job_id != self._job:
            return
        self._finish()
        if kind == CANCELLED:
            self.set_status("Cancelled.")
        else:
            self.set_status(message, error=True)
        self.on_failed(kind, message)
