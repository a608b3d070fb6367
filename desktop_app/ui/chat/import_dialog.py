"""Importing chats from a file without freezing the window: a thread, a progress dialog.

``ChatImporter`` runs ``core.chat.importer.import_file`` on a job queue of its own
(it opens its own connection to the chat database, so the window's store is not
touched from another thread) and shows a window-modal progress dialog with the
share of the file read and the chats found so far. Cancel stops it between two
chats, and nothing of the file stays. A refused file is explained in a message
box: the translated headline, then the reason as the importer wrote it.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import QMessageBox, QProgressDialog, QWidget

from desktop_app.core.chat.importer import ImportProgress, ImportResult, import_file
from desktop_app.ui.common.errors import error_text
from desktop_app.workers.jobs import CANCELLED, JobContext, JobHandle, JobQueue
from desktop_app.workers.jobs_qt import GuiDrain, while_alive

#: Steps of the progress bar (the share of the file read).
PROGRESS_STEPS = 1000


def _no_resource() -> None:
    """The import queue needs no resource: each job opens its own connection."""
    return None


class ChatImporter(QObject):
    """Imports a chat file on a thread of its own, with a progress dialog over ``parent``."""

    sig_imported = Signal(object)
    """The import finished: its ``ImportResult``."""

    sig_failed = Signal(str)
    """The import failed or was cancelled: a sentence for the status bar."""

    def __init__(self, db_path: Path, parent: QWidget) -> None:
        super().__init__(parent)
        # The window is reached through Qt's parent, not kept here: a reference
        # back to it would make the window part of a garbage cycle.
        self._db_path = db_path
        self._jobs: JobQueue[None] = JobQueue(_no_resource, name="glassbox-chat-import")
        self._drain = GuiDrain(self._jobs, self)
        self._handle: JobHandle | None = None
        self._dialog: QProgressDialog | None = None
        self._name = ""
        #: The message box of the last failure (kept so that it stays open).
        self.error_box: QMessageBox | None = None

    @property
    def busy(self) -> bool:
        """Whether an import runs."""
        return self._handle is not None

    @property
    def dialog(self) -> QProgressDialog | None:
        """The progress dialog while an import runs."""
        return self._dialog

    def start(self, path: Path, fmt: str = "auto") -> bool:
        """Start importing ``path``; False (and nothing started) while another import runs."""
        if self._handle is not None:
            return False
        self._name = path.name
        dialog = QProgressDialog(self._window())
        dialog.setWindowTitle(self.tr("Import chats"))
        dialog.setAccessibleName(self.tr("Import progress"))
        dialog.setLabelText(self.tr("Reading {name}…").format(name=self._name))
        dialog.setCancelButtonText(self.tr("Cancel"))
        dialog.setRange(0, PROGRESS_STEPS)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(0)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.setValue(0)
        dialog.canceled.connect(self._on_dialog_canceled)
        dialog.show()
        self._dialog = dialog
        db_path = self._db_path

        def run(_resource: None, ctx: JobContext[None, ImportProgress]) -> ImportResult:
            return import_file(
                db_path, path, fmt, progress=ctx.progress, cancelled=lambda: ctx.cancelled
            )

        self._handle = self._jobs.run(
            run,
            while_alive(self, self._done),
            while_alive(self, self._failed),
            while_alive(self, self._progress),
            label="import chats",
        )
        return True

    def cancel(self) -> None:
        """Stop the running import; nothing of it stays."""
        if self._handle is not None:
            self._handle.cancel()

    def shutdown(self, timeout_s: float = 5.0) -> bool:
        """Cancel a running import and stop the thread (the window is closing)."""
        self._drain.stop()
        return self._jobs.shutdown(timeout_s)

    def _window(self) -> QWidget | None:
        parent = self.parent()
        return parent if isinstance(parent, QWidget) else None

    # ----------------------------------------------------------------- callbacks

    def _progress(self, p: ImportProgress) -> None:
        if self._dialog is None:
            return
        self._dialog.setValue(min(PROGRESS_STEPS, int(p.fraction * PROGRESS_STEPS)))
        self._dialog.setLabelText(
            self.tr("Reading {name}… {chats} chats and {messages} messages so far.").format(
                name=self._name, chats=p.chats, messages=p.messages
            )
        )

    def _finish(self) -> None:
        self._handle = None
        if self._dialog is not None:
            self._dialog.canceled.disconnect(self._on_dialog_canceled)
            self._dialog.close()
            self._dialog.deleteLater()
            self._dialog = None

    def _done(self, result: ImportResult) -> None:
        self._finish()
        self.sig_imported.emit(result)

    def _failed(self, kind: str, message: str) -> None:
        self._finish()
        if kind == CANCELLED:
            self.sig_failed.emit(self.tr("The import was cancelled; no chat was added."))
            return
        text = error_text(kind, message)
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            self.tr("Import chats"),
            text,
            QMessageBox.StandardButton.Ok,
            self._window(),
        )
        box.setAccessibleName(self.tr("Import error"))
        # The reason quotes the file (titles, ids): shown as text, never as markup.
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self.error_box = box
        self.sig_failed.emit(text)

    @Slot()
    def _on_dialog_canceled(self) -> None:
        if self._dialog is not None:
            self._dialog.setLabelText(self.tr("Cancelling…"))
        self.cancel()
