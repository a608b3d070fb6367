"""Settings → Data: the backups of the chats and the knowledge base, and restoring one.

The page lists the backups (``core.backup``: database, date, reason, size; a
damaged one is shown and cannot be chosen), makes one of each database on
*Back up now*, and restores the chosen one after a confirmation. Listing (each
backup is checked by SQLite), backing up and restoring run off the GUI thread:
the chats on the page's own worker thread, the knowledge base on the knowledge
controller's (which holds the store open), so a restore waits for the jobs
before it. After a restore the page says so and emits ``sig_chats_restored`` or
``sig_knowledge_restored``; the knowledge controller also lists its collections
again, so the knowledge panel reloads.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core import backup, paths
from desktop_app.core.backup import Backup, Restored
from desktop_app.workers.jobs import CANCELLED, JobQueue
from desktop_app.workers.jobs_qt import GuiDrain, while_alive
from desktop_app.workers.kb.controller import KnowledgeController

#: Asks the user to confirm a restore (the question as text); True to go ahead.
Confirm = Callable[[QWidget, str], bool]


def ask(parent: QWidget, question: str) -> bool:
    """The default confirmation: a Yes/No message box, No by default."""
    answer = QMessageBox.question(
        parent,
        parent.tr("Restore a backup"),
        question,
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes


class DataPage(QWidget):
    """The Data page of Settings: backups, *Back up now*, *Restore…*."""

    sig_chats_restored = Signal()
    """The chat database was restored: the window lists the chats again."""

    sig_knowledge_restored = Signal()
    """The knowledge base was restored (and Chroma brought in step with it)."""

    def __init__(
        self,
        knowledge: KnowledgeController | None = None,
        parent: QWidget | None = None,
        *,
        data: Path | None = None,
        confirm: Confirm = ask,
        chats_busy: Callable[[], bool] = lambda: False,
    ) -> None:
        super().__init__(parent)
        self._knowledge = knowledge
        self._data = data
        #: Asks before a restore (tests answer it themselves).
        self.confirm = confirm
        self._chats_busy = chats_busy
        self._backups: list[Backup] = []
        self._working = False
        jobs: JobQueue[Path] = JobQueue(self._folder, name="glassbox-backups")
        self._jobs = jobs
        self._drain = GuiDrain(jobs, self)
        # The page goes with its dialog; its thread must not outlive it.
        self.destroyed.connect(lambda: jobs.shutdown(30.0))

        self.setAccessibleName(self.tr("Data"))
        intro = QLabel(
            self.tr(
                "Glassbox backs up your chats and your knowledge base every day and before "
                "every upgrade, and keeps the last {keep} of each. Restoring one backs up "
                "the current state first, so a restore can be undone."
            ).format(keep=backup.KEEP),
            self,
        )
        intro.setWordWrap(True)
        self.table = QTableWidget(0, 4, self)
        self.table.setAccessibleName(self.tr("Backups"))
        self.table.setHorizontalHeaderLabels(
            [self.tr("Database"), self.tr("Date"), self.tr("Reason"), self.tr("Size")]
        )
        self.table.verticalHeader().setVisible(False)
        self.table.setCornerButtonEnabled(False)
        corner = self.table.findChild(QAbstractButton, "qt_tableview_cornerbutton")
        if corner is not None:  # Qt's own button: named for screen readers too
            corner.setAccessibleName(self.tr("Table corner"))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.back_up_button = QPushButton(self.tr("&Back up now"), self)
        self.back_up_button.setAccessibleName(self.tr("Back up now"))
        self.restore_button = QPushButton(self.tr("&Restore…"), self)
        self.restore_button.setAccessibleName(self.tr("Restore the chosen backup"))
        self.status = QLabel("", self)
        self.status.setAccessibleName(self.tr("Backup status"))
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.folder_label = QLabel("", self)
        self.folder_label.setAccessibleName(self.tr("Backups folder"))
        self.folder_label.setWordWrap(True)
        self.folder_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        buttons = QHBoxLayout()
        buttons.addWidget(self.back_up_button)
        buttons.addWidget(self.restore_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table, stretch=1)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        layout.addWidget(self.folder_label)

        self.back_up_button.clicked.connect(self._on_back_up_button_clicked)
        self.restore_button.clicked.connect(self._on_restore_button_clicked)
        self.table.itemSelectionChanged.connect(self._on_table_item_selection_changed)
        self._update_buttons()
        self.refresh()

    # ----------------------------------------------------------------- public

    @property
    def backups(self) -> list[Backup]:
        """The backups listed, newest first."""
        return list(self._backups)

    @property
    def working(self) -> bool:
        """Whether a listing, a backup or a restore is under way."""
        return self._working

    def refresh(self) -> None:
        """List the backups again (each checked by SQLite, off the GUI thread)."""
        self._start(self.tr("Checking the backups…"))
        self._jobs.run(
            lambda folder, _ctx: backup.list_backups(backup.backups_folder(folder)),
            on_done=while_alive(self, self._on_listed),
            on_failed=while_alive(self, self._on_failed),
        )

    def select(self, row: int) -> None:
        """Choose the backup of ``row``."""
        self.table.selectRow(row)

    # ----------------------------------------------------------------- work

    def _folder(self) -> Path:
        return self._data if self._data is not None else paths.data_dir()

    def _start(self, text: str) -> None:
        self._working = True
        self.status.setText(text)
        self._update_buttons()

    def _on_listed(self, found: list[Backup]) -> None:
        self._working = False
        self._backups = found
        self.folder_label.setText(
            self.tr("Backups are kept in {folder}.").format(
                folder=backup.backups_folder(self._folder())
            )
        )
        self.table.setRowCount(len(found))
        for row, b in enumerate(found):
            damaged = b.ok is False
            reason = self._reason(b.reason)
            if damaged:
                reason = self.tr("{reason} (damaged: cannot be restored)").format(reason=reason)
            cells = [
                self._database(b.database),
                datetime.fromtimestamp(b.when).strftime("%Y-%m-%d %H:%M"),
                reason,
                backup.human_size(b.size),
            ]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(str(b.path))
                if damaged:
                    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
                if column == 3:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.table.setItem(row, column, item)
        if not found:
            self.status.setText(self.tr("No backups yet. Back up now makes the first ones."))
        elif self.status.text() == self.tr("Checking the backups…"):
            self.status.setText("")
        self._update_buttons()

    def _on_failed(self, kind: str, message: str) -> None:
        self._working = False
        if kind != CANCELLED:
            self.status.setText(message)
        self._update_buttons()

    def _chosen(self) -> Backup | None:
        rows = {i.row() for i in self.table.selectedIndexes()}
        if len(rows) != 1:
            return None
        found = self._backups[rows.pop()]
        return None if found.ok is False else found

    def _update_buttons(self) -> None:
        self.back_up_button.setEnabled(not self._working)
        self.restore_button.setEnabled(not self._working and self._chosen() is not None)

    @Slot()
    def _on_table_item_selection_changed(self) -> None:
        self._update_buttons()

    @Slot()
    def _on_back_up_button_clicked(self) -> None:
        self._start(self.tr("Backing up…"))
        self._jobs.run(
            lambda folder, _ctx: backup.back_up_now(folder),
            on_done=while_alive(self, self._on_backed_up),
            on_failed=while_alive(self, self._on_failed),
        )

    def _on_backed_up(self, made: list[Backup]) -> None:
        self._working = False
        if made:
            self.status.setText(
                self.tr("Backed up: {names}.").format(
                    names=", ".join(self._database(b.database) for b in made)
                )
            )
        else:
            self.status.setText(self.tr("There are no chats or knowledge base to back up yet."))
        self.refresh_after(self.status.text())

    def refresh_after(self, text: str) -> None:
        """List again, keeping ``text`` as the status once listed."""
        self._jobs.run(
            lambda folder, _ctx: backup.list_backups(backup.backups_folder(folder)),
            on_done=while_alive(self, lambda found: self._listed_keeping(found, text)),
            on_failed=while_alive(self, self._on_failed),
        )
        self._start(text)

    def _listed_keeping(self, found: list[Backup], text: str) -> None:
        self._on_listed(found)
        self.status.setText(text)

    @Slot()
    def _on_restore_button_clicked(self) -> None:
        chosen = self._chosen()
        if chosen is None:
            return
        when = datetime.fromtimestamp(chosen.when).strftime("%Y-%m-%d %H:%M")
        if chosen.database == backup.CHATS:
            if self._chats_busy():
                self.status.setText(
                    self.tr("A reply is being written. Stop it, then restore the chats.")
                )
                return
            question = self.tr(
                "Replace all your chats with the backup of {when}? Chats written since then "
                "are replaced; the current chats are backed up first, so this can be undone."
            ).format(when=when)
        else:
            question = self.tr(
                "Replace your knowledge base with the backup of {when}? Collections and "
                "documents added since then are replaced; the current state is backed up "
                "first, so this can be undone."
            ).format(when=when)
        if not self.confirm(self, question):
            return
        self._start(self.tr("Restoring…"))
        done = while_alive(self, self._on_restored)
        failed = while_alive(self, self._on_failed)
        if chosen.database == backup.KNOWLEDGE and self._knowledge is not None:
            self._knowledge.restore_backup(chosen, done, failed)
        else:
            self._jobs.run(lambda folder, _ctx: backup.restore(chosen, folder), done, failed)

    def _on_restored(self, done: Restored) -> None:
        self._working = False
        when = datetime.fromtimestamp(done.backup.when).strftime("%Y-%m-%d %H:%M")
        if done.backup.database == backup.CHATS:
            text = self.tr(
                "The chats were restored from the backup of {when}. What they replaced was "
                "backed up first."
            ).format(when=when)
            self.sig_chats_restored.emit()
        else:
            text = self.tr(
                "The knowledge base was restored from the backup of {when} and its vectors "
                "brought in step with it. What it replaced was backed up first."
            ).format(when=when)
            if done.problems:
                text += " " + self.tr(
                    "Some collections could not be checked against their Chroma server: "
                    "{problems}. They are checked again when next used."
                ).format(problems="; ".join(done.problems))
            self.sig_knowledge_restored.emit()
        self.refresh_after(text)

    # ----------------------------------------------------------------- texts

    def _database(self, database: str) -> str:
        return self.tr("Chats") if database == backup.CHATS else self.tr("Knowledge base")

    def _reason(self, reason: str) -> str:
        texts = {
            backup.DAILY: self.tr("Daily"),
            backup.MANUAL: self.tr("Made by hand"),
            backup.BEFORE_MIGRATION: self.tr("Before an upgrade"),
            backup.BEFORE_RESTORE: self.tr("Before a restore"),
        }
        return texts.get(reason, reason)
