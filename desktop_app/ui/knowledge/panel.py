"""The "Knowledge" dock: collections, their documents, indexing progress, health, a test query.

Everything here goes through a ``KnowledgeController``: the panel asks, the
controller answers with plain ``core.kb`` dataclasses through signals, so no
widget ever waits on the store, Chroma or the embedding model. The panel only
keeps what it last received to draw it.

The test query shows the vector, keyword and fused scores of each hit, because
"why was this passage found (or not)?" is the first question when a collection
answers badly: a Chinese question that only the keyword side finds, a
paraphrase that only the vectors find.

A watched folder is kept indexed without asking: the controller's watcher notices
a change and syncs it, and the status line says so ("14:02 · A watched folder
changed: 3 changed, 1 removed, 12 unchanged"), since nothing else on screen would.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QSignalBlocker, Qt, QUrl, Signal, Slot
from PySide6.QtGui import QColor, QDragEnterEvent, QDropEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDockWidget,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.kb.db import TRASH_KEEP_S, Document, TrashedCollection
from desktop_app.core.kb.embed import embedder_choices
from desktop_app.core.kb.ingest import IngestProgress, IngestReport
from desktop_app.core.kb.knowledge_base import CollectionStats
from desktop_app.core.kb.reembed import ReembedProgress, ReembedReport
from desktop_app.core.kb.retrieve import Hit
from desktop_app.core.models.defaults import human_size
from desktop_app.ui.common.errors import error_text
from desktop_app.ui.common.undo import UndoBar
from desktop_app.ui.knowledge.collection_dialog import CollectionDialog
from desktop_app.ui.knowledge.embedders import (
    ChangeEmbeddingDialog,
    model_label,
    reembed_progress_text,
    reembed_report_text,
)
from desktop_app.ui.knowledge.source_viewer import SourceTarget, SourceViewer
from desktop_app.ui.knowledge.texts import (
    default_collection,
    document_columns,
    file_filter,
    hit_columns,
    progress_text,
    report_text,
    score_text,
    skipped_list_text,
    status_text,
    sync_text,
)
from desktop_app.workers.jobs import JobHandle
from desktop_app.workers.jobs_qt import while_alive
from desktop_app.workers.kb.controller import KnowledgeController

# The document list is refreshed at most this often during an ingestion (seconds).
_DOCUMENTS_REFRESH_S = 1.0
_ERROR_STYLE = "color: #a40000;"
_NOTE_STYLE = "color: #666666;"
_FAILED = QColor("#a40000")
_PENDING = QColor("#8a6d00")


def _local_paths(urls: list[QUrl]) -> list[str]:
    return [url.toLocalFile() for url in urls if url.isLocalFile() and url.toLocalFile()]


def _item(text: str, tooltip: str | None = None) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
    if tooltip:
        item.setToolTip(tooltip)
    return item


class KnowledgePanel(QDockWidget):
    """A dock to manage collections and documents, watch indexing, and try a query.

    Double-clicking a hit or a document opens a ``SourceViewer``; ``open_source``
    does the same for the window (a citation clicked in a chat).
    """

    sig_open_source = Signal(object)
    """A source viewer was opened: a ``Hit`` or ``(path, char_start, char_end)``."""

    def __init__(self, controller: KnowledgeController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Knowledge"))
        self.setObjectName("knowledge_panel")
        self.setAccessibleName(self.tr("Knowledge panel"))
        self._controller = controller
        self._summaries: dict[str, CollectionStats] = {}
        self._documents: list[Document] = []
        self._shown: str | None = None  # the collection whose documents are listed
        self._hits: list[Hit] = []
        self._want_current: str | None = None
        self._search: JobHandle | None = None
        self._search_started = 0.0
        self._last_files_done = -1
        self._last_documents_refresh = 0.0
        self._last_progress: IngestProgress | None = None
        self._loaded = False
        self._viewers: list[SourceViewer] = []
        # The change of embedding model under way: (collection, old model, new model).
        self._reembed: tuple[str, str, str] | None = None

        body = QWidget()
        body.setAccessibleName(self.tr("Knowledge panel contents"))
        layout = QVBoxLayout(body)
        self._error_label = QLabel()
        self._error_label.setAccessibleName(self.tr("Knowledge error"))
        self._error_label.setStyleSheet(_ERROR_STYLE)
        self._error_label.setWordWrap(True)
        self._error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._error_label.setVisible(False)
        layout.addWidget(self._error_label)
        layout.addWidget(self._build_collections_box())
        # A collection just deleted can be brought back here for a few seconds, and
        # from the trash below for a week.
        self._undo_bar = UndoBar(self.tr("Undo deleting a collection"), body)
        layout.addWidget(self._undo_bar)
        layout.addWidget(self._build_trash_box())
        layout.addWidget(self._build_documents_box(), 1)
        layout.addWidget(self._build_watched_box())
        layout.addWidget(self._build_progress_box())
        layout.addWidget(self._build_health_box())
        layout.addWidget(self._build_query_box(), 1)

        scroll = QScrollArea()
        scroll.setAccessibleName(self.tr("Knowledge panel scroll area"))
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        self.setWidget(scroll)

        self.setAcceptDrops(True)

        controller.sig_collections.connect(self._on_controller_collections)
        controller.sig_trash.connect(self._on_controller_trash)
        controller.sig_documents.connect(self._on_controller_documents)
        controller.sig_progress.connect(self._on_controller_progress)
        controller.sig_ingest_done.connect(self._on_controller_ingest_done)
        controller.sig_error.connect(self._on_controller_error)
        controller.sig_busy.connect(self._on_controller_busy)
        controller.sig_watched.connect(self._on_controller_watched)
        controller.sig_sync_done.connect(self._on_controller_sync_done)
        controller.sig_reembed_progress.connect(self._on_controller_reembed_progress)
        controller.sig_reembed_done.connect(self._on_controller_reembed_done)
        controller.sig_error.connect(self._on_controller_error_while_reembedding)
        self._update_buttons()

    # ----------------------------------------------------------------- building

    def _build_collections_box(self) -> QGroupBox:
        box = QGroupBox(self.tr("Collections"))
        box.setAccessibleName(self.tr("Collections"))
        self._collection_list = QListWidget()
        self._collection_list.setAccessibleName(self.tr("Collection list"))
        self._collection_list.setToolTip(
            self.tr("Select one or more collections; the current one's documents are listed below")
        )
        self._collection_list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self._collection_list.setMaximumHeight(110)
        self._collection_list.currentItemChanged.connect(
            self._on_collection_list_current_item_changed
        )
        self._collection_list.itemSelectionChanged.connect(self._update_buttons)
        self._new_button = QPushButton(self.tr("New…"))
        self._new_button.setAccessibleName(self.tr("New collection"))
        self._new_button.clicked.connect(self._on_new_button_clicked)
        self._rename_button = QPushButton(self.tr("Rename…"))
        self._rename_button.setAccessibleName(self.tr("Rename collection"))
        self._rename_button.clicked.connect(self._on_rename_button_clicked)
        self._delete_button = QPushButton(self.tr("Delete"))
        self._delete_button.setAccessibleName(self.tr("Delete collection"))
        self._delete_button.setToolTip(
            self.tr("Delete the collection and its index (the files stay)")
        )
        self._delete_button.clicked.connect(self._on_delete_button_clicked)
        self._location_button = QPushButton(self.tr("Location…"))
        self._location_button.setAccessibleName(self.tr("Collection location"))
        self._location_button.setToolTip(
            self.tr("Keep the collection's vectors on this computer or on a Chroma server")
        )
        self._location_button.clicked.connect(self._on_location_button_clicked)
        buttons = QHBoxLayout()
        for button in (
            self._new_button,
            self._rename_button,
            self._location_button,
            self._delete_button,
        ):
            buttons.addWidget(button)
        buttons.addStretch(1)
        # The current collection's embedding model, and changing it (a re-index).
        self._model_label = QLabel()
        self._model_label.setAccessibleName(self.tr("Collection embedding model"))
        self._model_label.setTextFormat(Qt.TextFormat.PlainText)
        self._model_label.setWordWrap(True)
        self._change_model_button = QPushButton(self.tr("Change embedding model…"))
        self._change_model_button.setAccessibleName(self.tr("Change embedding model"))
        self._change_model_button.setToolTip(
            self.tr("Embed every passage of the collection again with another model")
        )
        self._change_model_button.clicked.connect(self._on_change_model_button_clicked)
        model_row = QHBoxLayout()
        model_row.addWidget(self._model_label, 1)
        model_row.addWidget(self._change_model_button)
        outer = QVBoxLayout(box)
        outer.addWidget(self._collection_list)
        outer.addLayout(buttons)
        outer.addLayout(model_row)
        return box

    def _build_trash_box(self) -> QGroupBox:
        box = QGroupBox(self.tr("Trash"))
        box.setAccessibleName(self.tr("Trash"))
        box.setToolTip(self.tr("Deleted collections, kept for 7 days, then deleted for good"))
        self._trash_list = QListWidget()
        self._trash_list.setAccessibleName(self.tr("Deleted collections"))
        self._trash_list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self._trash_list.setMaximumHeight(70)
        self._trash_list.itemSelectionChanged.connect(self._on_trash_list_item_selection_changed)
        self._restore_button = QPushButton(self.tr("Restore"))
        self._restore_button.setAccessibleName(self.tr("Restore collection"))
        self._restore_button.setToolTip(self.tr("Bring the selected collection back"))
        self._restore_button.setEnabled(False)
        self._restore_button.clicked.connect(self._on_restore_button_clicked)
        buttons = QHBoxLayout()
        buttons.addWidget(self._restore_button)
        buttons.addStretch(1)
        outer = QVBoxLayout(box)
        outer.addWidget(self._trash_list)
        outer.addLayout(buttons)
        box.setVisible(False)
        self._trash_box = box
        return box

    def trashed_names(self) -> list[str]:
        """The collections listed in the trash, newest first."""
        items = (self._trash_list.item(i) for i in range(self._trash_list.count()))
        return [str(item.data(Qt.ItemDataRole.UserRole + 1)) for item in items if item]

    def _build_documents_box(self) -> QGroupBox:
        box = QGroupBox(self.tr("Documents"))
        box.setAccessibleName(self.tr("Documents"))
        columns = document_columns()
        self._document_table = QTableWidget(0, len(columns))
        self._document_table.setAccessibleName(self.tr("Document table"))
        self._document_table.setHorizontalHeaderLabels(list(columns))
        self._document_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self._document_table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self._document_table.verticalHeader().setVisible(False)
        header = self._document_table.horizontalHeader()
        for column in range(len(columns)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        # Names and failure reasons can be long: they share the width, elided, and
        # their tooltips hold the whole text.
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self._document_table.setWordWrap(False)
        self._document_table.setMinimumHeight(140)
        self._document_table.itemSelectionChanged.connect(self._update_buttons)
        self._document_table.cellDoubleClicked.connect(self._on_document_table_cell_double_clicked)
        self._add_files_button = QPushButton(self.tr("Add files…"))
        self._add_files_button.setAccessibleName(self.tr("Add files"))
        self._add_files_button.clicked.connect(self._on_add_files_button_clicked)
        self._add_folder_button = QPushButton(self.tr("Add folder…"))
        self._add_folder_button.setAccessibleName(self.tr("Add folder"))
        self._add_folder_button.clicked.connect(self._on_add_folder_button_clicked)
        self._reindex_button = QPushButton(self.tr("Re-index"))
        self._reindex_button.setAccessibleName(self.tr("Re-index documents"))
        self._reindex_button.setToolTip(self.tr("Parse and embed the selected documents again"))
        self._reindex_button.clicked.connect(self._on_reindex_button_clicked)
        self._remove_button = QPushButton(self.tr("Remove"))
        self._remove_button.setAccessibleName(self.tr("Remove documents"))
        self._remove_button.setToolTip(self.tr("Remove the selected documents from the collection"))
        self._remove_button.clicked.connect(self._on_remove_button_clicked)
        buttons = QHBoxLayout()
        for button in (
            self._add_files_button,
            self._add_folder_button,
            self._reindex_button,
            self._remove_button,
        ):
            buttons.addWidget(button)
        buttons.addStretch(1)
        outer = QVBoxLayout(box)
        outer.addWidget(self._document_table, 1)
        outer.addLayout(buttons)
        return box

    def _build_watched_box(self) -> QGroupBox:
        box = QGroupBox(self.tr("Watched folders"))
        box.setAccessibleName(self.tr("Watched folders"))
        box.setToolTip(
            self.tr(
                "Folders kept indexed: changed files are indexed again, deleted files removed, unchanged files skipped"  # noqa: E501
            )
        )
        self._watched_list = QListWidget()
        self._watched_list.setAccessibleName(self.tr("Watched folder list"))
        self._watched_list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self._watched_list.setMaximumHeight(70)
        self._watched_list.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self._watched_list.itemSelectionChanged.connect(self._update_buttons)
        self._watch_button = QPushButton(self.tr("Watch folder…"))
        self._watch_button.setAccessibleName(self.tr("Watch folder"))
        self._watch_button.setToolTip(
            self.tr("Index a folder now and keep it indexed as it changes")
        )
        self._watch_button.clicked.connect(self._on_watch_button_clicked)
        self._unwatch_button = QPushButton(self.tr("Stop watching"))
        self._unwatch_button.setAccessibleName(self.tr("Stop watching folder"))
        self._unwatch_button.clicked.connect(self._on_unwatch_button_clicked)
        self._remove_watched_check = QCheckBox(self.tr("also remove its documents"))
        self._remove_watched_check.setAccessibleName(self.tr("Also remove its documents"))
        self._remove_watched_check.setToolTip(
            self.tr("Stop watching and remove the folder's documents from the collection")
        )
        self._sync_button = QPushButton(self.tr("Sync now"))
        self._sync_button.setAccessibleName(self.tr("Sync watched folders"))
        self._sync_button.setToolTip(self.tr("Index what changed in the watched folders now"))
        self._sync_button.clicked.connect(self._on_sync_button_clicked)
        buttons = QHBoxLayout()
        buttons.addWidget(self._watch_button)
        buttons.addWidget(self._sync_button)
        buttons.addStretch(1)
        # Stopping, and whether to remove the documents with it, on a row of their
        # own: four controls on one line do not fit the dock in longer languages.
        unwatch = QHBoxLayout()
        unwatch.addWidget(self._unwatch_button)
        unwatch.addWidget(self._remove_watched_check)
        unwatch.addStretch(1)
        outer = QVBoxLayout(box)
        outer.addWidget(self._watched_list)
        outer.addLayout(buttons)
        outer.addLayout(unwatch)
        return box

    def _build_progress_box(self) -> QGroupBox:
        box = QGroupBox(self.tr("Indexing"))
        box.setAccessibleName(self.tr("Indexing"))
        self._progress_bar = QProgressBar()
        self._progress_bar.setAccessibleName(self.tr("Indexing progress"))
        self._progress_bar.setRange(0, 1)
        self._progress_bar.setValue(0)
        self._progress_bar.setTextVisible(False)
        self._progress_label = QLabel(
            self.tr("Nothing to index. Add files or drop them on the window.")
        )
        self._progress_label.setAccessibleName(self.tr("Indexing status"))
        self._progress_label.setWordWrap(True)
        # It shows file types and paths from the user's folders: text, never markup.
        self._progress_label.setTextFormat(Qt.TextFormat.PlainText)
        self._pause_button = QPushButton(self.tr("Pause"))
        self._pause_button.setAccessibleName(self.tr("Pause indexing"))
        self._pause_button.clicked.connect(self._on_pause_button_clicked)
        self._cancel_button = QPushButton(self.tr("Cancel"))
        self._cancel_button.setAccessibleName(self.tr("Cancel indexing"))
        self._cancel_button.setToolTip(
            self.tr("Stop; what was indexed stays, the rest resumes next time")
        )
        self._cancel_button.clicked.connect(self._on_cancel_button_clicked)
        # What the last ingestion passed over (images, stylesheets, hidden and too large
        # files), listed on request: a folder of HTML chapters has hundreds.
        self._skipped_button = QPushButton(self.tr("Show skipped files"))
        self._skipped_button.setAccessibleName(self.tr("Show skipped files"))
        self._skipped_button.setCheckable(True)
        self._skipped_button.setVisible(False)
        self._skipped_button.toggled.connect(self._on_skipped_button_toggled)
        self._skipped_list = QPlainTextEdit()
        self._skipped_list.setAccessibleName(self.tr("Skipped files"))
        self._skipped_list.setReadOnly(True)
        self._skipped_list.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self._skipped_list.setVisible(False)
        row = QHBoxLayout()
        row.addWidget(self._progress_bar, 1)
        row.addWidget(self._pause_button)
        row.addWidget(self._cancel_button)
        skipped = QHBoxLayout()
        skipped.addWidget(self._skipped_button)
        skipped.addStretch(1)
        outer = QVBoxLayout(box)
        outer.addLayout(row)
        outer.addWidget(self._progress_label)
        outer.addLayout(skipped)
        outer.addWidget(self._skipped_list)
        return box

    @Slot(bool)
    def _on_skipped_button_toggled(self, shown: bool) -> None:
        self._skipped_list.setVisible(shown)
        self._skipped_button.setText(
            self.tr("Hide skipped files") if shown else self.tr("Show skipped files")
        )

    def _build_health_box(self) -> QGroupBox:
        box = QGroupBox(self.tr("Health"))
        box.setAccessibleName(self.tr("Health"))
        outer = QVBoxLayout(box)
        self._health_labels: dict[str, QLabel] = {}
        for key, name in (
            ("summary", self.tr("Collection summary")),
            ("duplicates", self.tr("Duplicate chunks")),
            ("languages", self.tr("Document languages")),
            ("failed", self.tr("Failed documents")),
            ("never", self.tr("Never retrieved")),
            ("vectors", self.tr("Vector index")),
        ):
            label = QLabel()
            label.setAccessibleName(name)
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            outer.addWidget(label)
            self._health_labels[key] = label
        return box

    def _build_query_box(self) -> QGroupBox:
        box = QGroupBox(self.tr("Test query"))
        box.setAccessibleName(self.tr("Test query"))
        self._query_edit = QLineEdit()
        self._query_edit.setAccessibleName(self.tr("Test query text"))
        self._query_edit.setPlaceholderText(self.tr("Ask the selected collections, e.g. 知识蒸馏"))
        self._query_edit.returnPressed.connect(self._on_search_button_clicked)
        self._query_edit.textChanged.connect(self._update_buttons)
        self._k_spin = QSpinBox()
        self._k_spin.setAccessibleName(self.tr("Passages to retrieve"))
        self._k_spin.setToolTip(self.tr("How many passages (top-k)"))
        self._k_spin.setRange(1, 50)
        self._k_spin.setValue(5)
        self._k_spin.setPrefix("k = ")
        self._search_button = QPushButton(self.tr("Search"))
        self._search_button.setAccessibleName(self.tr("Run test query"))
        self._search_button.clicked.connect(self._on_search_button_clicked)
        row = QHBoxLayout()
        row.addWidget(self._query_edit, 1)
        row.addWidget(self._k_spin)
        row.addWidget(self._search_button)
        hit_headers = hit_columns()
        self._hit_table = QTableWidget(0, len(hit_headers))
        self._hit_table.setAccessibleName(self.tr("Test query hits"))
        self._hit_table.setHorizontalHeaderLabels(list(hit_headers))
        self._hit_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self._hit_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self._hit_table.verticalHeader().setVisible(False)
        header = self._hit_table.horizontalHeader()
        for column in range(len(hit_headers) - 1):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(len(hit_headers) - 1, QHeaderView.ResizeMode.Stretch)
        self._hit_table.setMinimumHeight(140)
        self._hit_table.setWordWrap(False)
        self._hit_table.cellDoubleClicked.connect(self._on_hit_table_cell_double_clicked)
        self._query_status = QLabel(
            self.tr("Vector: cosine similarity · Keyword and fused: rank scores.")
        )
        self._query_status.setAccessibleName(self.tr("Test query status"))
        self._query_status.setStyleSheet(_NOTE_STYLE)
        self._query_status.setWordWrap(True)
        outer = QVBoxLayout(box)
        outer.addLayout(row)
        outer.addWidget(self._hit_table, 1)
        outer.addWidget(self._query_status)
        return box

    # ----------------------------------------------------------------- public

    def add_paths(self, paths: list[str], collection: str | None = None) -> str:
        """Index dropped or chosen files and folders; returns the collection used.

        They go to ``collection``, else the current collection, else a new
        "My documents".
        """
        name = collection or self.current_collection() or default_collection()
        self._want_current = name
        self._loaded = True
        self._controller.ingest(list(paths), name)
        self._progress_label.setText(
            self.tr("Starting to index {count} item(s) into {name}…").format(
                count=len(paths), name=name
            )
        )
        self._update_buttons()
        return name

    def watch_folder(self, folder: str, collection: str | None = None) -> str:
        """Index a folder and keep it indexed as it changes; returns the collection used
        (as for ``add_paths``)."""
        name = collection or self.current_collection() or default_collection()
        self._want_current = name
        self._loaded = True
        self._controller.watch_folder(name, folder)
        self._progress_label.setText(
            self.tr("Watching {folder}: indexing it into {name}…").format(folder=folder, name=name)
        )
        self._update_buttons()
        return name

    def watched_folders(self) -> list[str]:
        """The folders the current collection watches, as listed."""
        return [
            str(self._watched_list.item(i).data(Qt.ItemDataRole.UserRole))
            for i in range(self._watched_list.count())
        ]

    def current_collection(self) -> str | None:
        """The collection whose documents are listed."""
        item = self._collection_list.currentItem()
        return None if item is None else str(item.data(Qt.ItemDataRole.UserRole))

    def selected_collections(self) -> list[str]:
        """The selected collections (the current one when none is selected)."""
        names = [
            str(item.data(Qt.ItemDataRole.UserRole))
            for item in self._collection_list.selectedItems()
        ]
        current = self.current_collection()
        return names or ([current] if current else [])

    def open_source(self, target: SourceTarget) -> SourceViewer:
        """Open a viewer on a hit's passage or ``(path, char_start, char_end)``."""
        viewer = SourceViewer(self._controller, target, self)
        viewer.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        viewer.destroyed.connect(lambda _=None, v=viewer: self._forget_viewer(v))
        self._viewers.append(viewer)
        viewer.show()
        self.sig_open_source.emit(target)
        return viewer

    def run_query(self, query: str) -> JobHandle | None:
        """Run a test query on the selected collections; returns its handle (None: nothing
        to search). The hits fill the table when it is ``finished``."""
        self._query_edit.setText(query)
        return self._start_search()

    # ----------------------------------------------------------------- internals

    def _forget_viewer(self, viewer: SourceViewer) -> None:
        if viewer in self._viewers:
            self._viewers.remove(viewer)

    def showEvent(self, event: QShowEvent) -> None:
        """List the collections the first time the dock is seen (the store opens then)."""
        super().showEvent(event)
        if not self._loaded:
            self._loaded = True
            self._controller.refresh()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        """Accept files and folders from the desktop (local paths only)."""
        if _local_paths(event.mimeData().urls()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        """Index what was dropped on the dock into the current collection."""
        paths = _local_paths(event.mimeData().urls())
        if paths:
            event.acceptProposedAction()
            self.add_paths(paths)
        else:
            event.ignore()

    def _update_buttons(self) -> None:
        current = self.current_collection()
        ingesting = self._controller.ingesting
        has_docs = bool(self._document_table.selectionModel().selectedRows())
        self._rename_button.setEnabled(current is not None)
        self._delete_button.setEnabled(current is not None)
        self._location_button.setEnabled(current is not None)
        reembedding = self._controller.reembedding is not None
        self._change_model_button.setEnabled(current is not None and not reembedding)
        self._cancel_button.setToolTip(
            self.tr("Stop; the collection keeps its current model and vectors")
            if reembedding
            else self.tr("Stop; what was indexed stays, the rest resumes next time")
        )
        self._reindex_button.setEnabled(has_docs and current is not None)
        self._remove_button.setEnabled(has_docs and current is not None)
        self._pause_button.setEnabled(ingesting)
        self._cancel_button.setEnabled(ingesting)
        paused = ingesting and self._controller.paused
        self._pause_button.setText(self.tr("Resume") if paused else self.tr("Pause"))
        self._pause_button.setAccessibleName(
            self.tr("Resume indexing") if paused else self.tr("Pause indexing")
        )
        self._search_button.setEnabled(
            bool(self._query_edit.text().strip()) and bool(self.selected_collections())
        )
        watched = current is not None and self._watched_list.count() > 0
        self._unwatch_button.setEnabled(watched and bool(self._watched_list.selectedItems()))
        self._remove_watched_check.setEnabled(watched)
        self._sync_button.setEnabled(watched)

    def _show_watched(self) -> None:
        name = self.current_collection()
        folders = self._controller.watched_folders(name) if name else []
        listing = self._watched_list
        selected = {str(i.data(Qt.ItemDataRole.UserRole)) for i in listing.selectedItems()}
        with QSignalBlocker(listing):
            listing.clear()
            for folder in folders:
                item = QListWidgetItem(folder)
                item.setData(Qt.ItemDataRole.UserRole, folder)
                item.setToolTip(folder)
                listing.addItem(item)
                item.setSelected(folder in selected or len(folders) == 1)
        self._update_buttons()

    def _selected_paths(self) -> list[str]:
        rows = sorted(i.row() for i in self._document_table.selectionModel().selectedRows())
        return [self._documents[r].path for r in rows if r < len(self._documents)]

    def _show_documents(self, docs: list[Document]) -> None:
        selected = set(self._selected_paths())
        self._documents = docs
        table = self._document_table
        with QSignalBlocker(table):
            table.clearSelection()
            table.setRowCount(len(docs))
            for row, doc in enumerate(docs):
                status = status_text(doc)
                cells = (
                    _item(Path(doc.path).name, doc.path),
                    _item(doc.type or "?"),
                    _item(status, status),
                    _item(f"{doc.n_chunks:,}"),
                    _item(human_size(doc.size) if doc.size is not None else "—"),
                )
                if doc.status != "indexed":
                    cells[2].setForeground(_FAILED if doc.status == "failed" else _PENDING)
                for column in (3, 4):
                    cells[column].setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                for column, cell in enumerate(cells):
                    table.setItem(row, column, cell)
                if doc.path in selected:
                    table.selectRow(row)
        self._show_health()
        self._update_buttons()

    def _languages_text(self, counts: dict[str, int] | None) -> str:
        """The collection's languages by share of its chunks: "Languages: Chinese 80%,
        English 20%" (questions in another language are also searched in these)."""
        names = {
            "zh": self.tr("Chinese"),
            "en": self.tr("English"),
            "ja": self.tr("Japanese"),
            "ko": self.tr("Korean"),
        }
        total = sum(n for n in (counts or {}).values() if n > 0)
        if not counts or total == 0:
            return self.tr("Languages: not counted yet")
        shares = ", ".join(
            f"{names.get(lang, lang)} {max(1, round(100 * n / total))}%"
            for lang, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
            if n > 0
        )
        return self.tr("Languages: {shares}").format(shares=shares)

    def _show_health(self) -> None:
        labels = self._health_labels
        name = self.current_collection()
        summary = self._summaries.get(name) if name else None
        if summary is None:
            for label in labels.values():
                label.setText("")
            labels["summary"].setText(self.tr("No collection selected."))
            return
        labels["summary"].setText(
            self.tr(
                "{documents} documents ({indexed} indexed, {pending} pending, {failed} failed) · {chunks} chunks · {size} · {model}"  # noqa: E501
            ).format(
                documents=summary.documents,
                indexed=summary.indexed,
                pending=summary.pending,
                failed=summary.failed,
                chunks=f"{summary.chunks:,}",
                size=human_size(summary.bytes),
                model=summary.embed_model,
            )
        )
        dup = summary.duplicate_chunks
        if dup:
            text = self.tr(
                "Duplicate chunks: {count} (the same passage in several documents)"
            ).format(count=dup)
        else:
            text = self.tr("Duplicate chunks: {count}").format(count=dup)
        labels["duplicates"].setText(text)
        labels["languages"].setText(self._languages_text(summary.languages))
        failed = [d for d in self._documents if d.status == "failed"]
        text = self.tr("Failed documents: {count}").format(count=summary.failed)
        if failed:
            text += "".join(f"\n  {Path(d.path).name}: {d.reason}" for d in failed[:5])
            if len(failed) > 5:
                text += "\n  " + self.tr("… and {count} more").format(count=len(failed) - 5)
        labels["failed"].setText(text)
        labels["failed"].setStyleSheet(_ERROR_STYLE if summary.failed else "")
        never = summary.never_retrieved
        text = self.tr("Documents never retrieved: {count}").format(count=len(never))
        text += "".join(f"\n  {Path(p).name}" for p in never[:5])
        if len(never) > 5:
            text += "\n  " + self.tr("… and {count} more").format(count=len(never) - 5)
        labels["never"].setText(text)
        vectors = summary.vectors_in_chroma
        if summary.problem:
            labels["vectors"].setText(error_text("kb_error", summary.problem))
            labels["vectors"].setStyleSheet(_ERROR_STYLE)
        else:
            shown = "—" if vectors is None else f"{vectors:,}"
            if vectors == summary.chunks:
                text = self.tr("Vector index: {vectors} of {chunks} chunks")
            else:
                text = self.tr(
                    "Vector index: {vectors} of {chunks} chunks (the rest is still being embedded)"
                )
            labels["vectors"].setText(text.format(vectors=shown, chunks=f"{summary.chunks:,}"))
            labels["vectors"].setStyleSheet("")

    def _start_search(self) -> JobHandle | None:
        query = self._query_edit.text().strip()
        names = self.selected_collections()
        if not query or not names:
            return None
        self._search_started = time.monotonic()
        if self._search is not None:
            self._search.cancel()  # superseded: its answer would be thrown away
        handle: JobHandle | None = None

        def done(hits: list[Hit]) -> None:
            if handle is self._search:
                self._show_hits(hits)

        def failed(kind: str, message: str) -> None:
            if handle is self._search:
                self._search = None
                self._query_status.setText(error_text(kind, message))

        # A test query is not a use of the documents: it leaves "never retrieved" alone.
        handle = self._controller.search(
            query,
            names,
            self._k_spin.value(),
            record=False,
            on_done=while_alive(self, done),
            on_failed=while_alive(self, failed),
        )
        self._search = handle
        self._query_status.setText(self.tr("Searching {names}…").format(names=", ".join(names)))
        return handle

    def _confirm(self, title: str, question: str) -> bool:
        answer = QMessageBox.question(
            self,
            title,
            question,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def _ask_name(self, title: str, text: str = "") -> str | None:
        name, ok = QInputDialog.getText(self, title, self.tr("Name:"), text=text)
        name = name.strip()
        return name if ok and name else None

    # ----------------------------------------------------------------- slots: widgets

    @Slot(QListWidgetItem, QListWidgetItem)
    def _on_collection_list_current_item_changed(
        self, current: QListWidgetItem | None, _previous: QListWidgetItem | None
    ) -> None:
        name = None if current is None else str(current.data(Qt.ItemDataRole.UserRole))
        if name != self._shown:
            # Another collection: its documents replace these once they arrive.
            self._shown = name
            self._documents = []
            self._document_table.setRowCount(0)
        if name is not None:
            self._controller.documents(name)
        self._show_watched()
        self._show_health()
        self._show_model()
        self._update_buttons()

    def location_dialog(
        self,
        title: str,
        name: str | None = None,
        chroma_url: str | None = None,
        *,
        ask_model: bool = False,
    ) -> CollectionDialog:
        """The dialog that asks for a collection's name (when ``name`` is None), where
        its vectors live and, with ``ask_model``, its embedding model."""
        embedders = embedder_choices() if ask_model else None
        return CollectionDialog(title, name, chroma_url, self, embedders=embedders)

    def change_model_dialog(self, name: str) -> ChangeEmbeddingDialog | None:
        """The dialog that asks for a new embedding model for the collection ``name``
        and says how long embedding its passages again may take (None: not listed)."""
        summary = self._summaries.get(name)
        if summary is None:
            return None
        choices = embedder_choices()
        rates = {
            c.name: rate
            for c in choices
            if (rate := self._controller.measured_rate(c.name)) is not None
        }
        return ChangeEmbeddingDialog(
            name, summary.embed_model, summary.chunks, choices, rates, self
        )

    def _ask_new_collection(self) -> tuple[str, str | None, str | None] | None:
        dialog = self.location_dialog(self.tr("New collection"), ask_model=True)
        dialog.exec()
        value = dialog.result_value()  # None unless accepted
        return None if value is None else (value[0], value[1], dialog.embed_model())

    def _ask_new_model(self, name: str) -> str | None:
        dialog = self.change_model_dialog(name)
        if dialog is None:
            return None
        dialog.exec()
        return dialog.result_value()  # None unless accepted

    def _show_model(self) -> None:
        name = self.current_collection()
        summary = self._summaries.get(name) if name is not None else None
        if summary is None:
            self._model_label.setText(self.tr("Embedding model: no collection chosen"))
        else:
            self._model_label.setText(
                self.tr("Embedding model: {model}").format(model=model_label(summary.embed_model))
            )
            self._model_label.setToolTip(summary.embed_model)

    def _ask_collection(
        self, title: str, name: str | None = None, chroma_url: str | None = None
    ) -> tuple[str, str | None] | None:
        dialog = self.location_dialog(title, name, chroma_url)
        dialog.exec()
        return dialog.result_value()  # None unless accepted

    @Slot()
    def _on_new_button_clicked(self) -> None:
        answer = self._ask_new_collection()
        if answer:
            name, chroma_url, model = answer
            self._want_current = name
            self._controller.create_collection(name, chroma_url, model)

    @Slot()
    def _on_change_model_button_clicked(self) -> None:
        name = self.current_collection()
        summary = self._summaries.get(name) if name is not None else None
        if name is None or summary is None or self._controller.reembedding is not None:
            return
        model = self._ask_new_model(name)
        if model is None or model == summary.embed_model:
            return
        self._reembed = (name, summary.embed_model, model)
        self._controller.change_embedding(name, model)
        self._progress_bar.setRange(0, max(1, summary.chunks))
        self._progress_bar.setValue(0)
        self._progress_label.setText(
            self.tr("Embedding “{name}” again with {model}…").format(
                name=name, model=model_label(model)
            )
        )
        self._update_buttons()

    @Slot()
    def _on_location_button_clicked(self) -> None:
        name = self.current_collection()
        if name is None:
            return
        summary = self._summaries.get(name)
        was = summary.chroma_url if summary else None
        answer = self._ask_collection(self.tr("Collection location"), name, was)
        if answer and answer[1] != was:
            self._want_current = name
            self._controller.move_collection(name, answer[1])

    @Slot()
    def _on_rename_button_clicked(self) -> None:
        old = self.current_collection()
        if old is None:
            return
        new = self._ask_name(self.tr("Rename collection"), old)
        if new and new != old:
            self._want_current = new
            self._controller.rename_collection(old, new)

    @Slot(list)
    def _on_controller_trash(self, trash: list[TrashedCollection]) -> None:
        self._trash_list.clear()
        for trashed in trash:
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(trashed.deleted_at))
            until = time.strftime("%Y-%m-%d", time.localtime(trashed.deleted_at + TRASH_KEEP_S))
            item = QListWidgetItem(
                self.tr("{name} — deleted {when}, kept until {until}").format(
                    name=trashed.name, when=when, until=until
                )
            )
            item.setData(Qt.ItemDataRole.UserRole, trashed.collection.id)
            item.setData(Qt.ItemDataRole.UserRole + 1, trashed.name)
            self._trash_list.addItem(item)
        self._trash_box.setVisible(bool(trash))
        self._restore_button.setEnabled(bool(self._trash_list.selectedItems()))

    @Slot()
    def _on_trash_list_item_selection_changed(self) -> None:
        self._restore_button.setEnabled(bool(self._trash_list.selectedItems()))

    @Slot()
    def _on_restore_button_clicked(self) -> None:
        for item in self._trash_list.selectedItems():
            self._want_current = str(item.data(Qt.ItemDataRole.UserRole + 1))
            self._controller.restore_collection(int(item.data(Qt.ItemDataRole.UserRole)))

    @Slot()
    def _on_delete_button_clicked(self) -> None:
        name = self.current_collection()
        if name is None:
            return
        summary = self._summaries.get(name)
        if summary:
            question = self.tr(
                "Delete the collection “{name}” and its {count} document(s) from the knowledge base? The files themselves stay where they are."  # noqa: E501
            ).format(name=name, count=summary.documents)
        else:
            question = self.tr(
                "Delete the collection “{name}” from the knowledge base? The files themselves stay where they are."  # noqa: E501
            ).format(name=name)
        if self._confirm(self.tr("Delete collection"), question):
            controller = self._controller
            controller.trash_collection(name)
            self._undo_bar.offer(
                self.tr("Moved “{name}” to the trash (emptied after 7 days).").format(name=name),
                lambda: controller.restore_collection(name=name),
                lambda: None,  # it stays in the trash for a week
            )

    @Slot()
    def _on_add_files_button_clicked(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(
            self, self.tr("Add files"), str(Path.home()), file_filter()
        )
        if paths:
            self.add_paths(paths)

    @Slot()
    def _on_add_folder_button_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Add folder"), str(Path.home()))
        if folder:
            self.add_paths([folder])

    @Slot()
    def _on_watch_button_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Watch folder"), str(Path.home()))
        if folder:
            self.watch_folder(folder)

    @Slot()
    def _on_unwatch_button_clicked(self) -> None:
        name = self.current_collection()
        items = self._watched_list.selectedItems()
        if not name or not items:
            return
        folder = str(items[0].data(Qt.ItemDataRole.UserRole))
        remove = self._remove_watched_check.isChecked()
        if remove and not self._confirm(
            self.tr("Stop watching"),
            self.tr(
                "Stop watching {folder} and remove its documents from “{name}”? The files themselves stay."  # noqa: E501
            ).format(folder=folder, name=name),
        ):
            return
        self._controller.unwatch_folder(name, folder, remove_documents=remove)
        self._remove_watched_check.setChecked(False)

    @Slot()
    def _on_sync_button_clicked(self) -> None:
        name = self.current_collection()
        if name:
            self._controller.sync(name)
            self._progress_label.setText(
                self.tr("Syncing the watched folders of {name}…").format(name=name)
            )
            self._update_buttons()

    @Slot()
    def _on_reindex_button_clicked(self) -> None:
        name = self.current_collection()
        paths = self._selected_paths()
        if name and paths:
            self._controller.reindex(name, paths)
            self._progress_label.setText(
                self.tr("Re-indexing {count} document(s)…").format(count=len(paths))
            )
            self._update_buttons()

    @Slot()
    def _on_remove_button_clicked(self) -> None:
        name = self.current_collection()
        paths = self._selected_paths()
        if not name or not paths:
            return
        if len(paths) == 1:
            question = self.tr("Remove {file} from “{name}”? The files themselves stay.").format(
                file=Path(paths[0]).name, name=name
            )
        else:
            question = self.tr(
                "Remove {count} documents from “{name}”? The files themselves stay."
            ).format(count=len(paths), name=name)
        if self._confirm(self.tr("Remove documents"), question):
            self._controller.remove_documents(name, paths)

    @Slot()
    def _on_pause_button_clicked(self) -> None:
        if self._controller.paused:
            self._controller.resume()
        else:
            self._controller.pause()
            p = self._last_progress
            base = progress_text(replace(p, paused=False)) if p else self._progress_label.text()
            self._progress_label.setText(self.tr("{progress} · pausing…").format(progress=base))
        self._update_buttons()

    @Slot()
    def _on_cancel_button_clicked(self) -> None:
        self._controller.cancel()
        self._progress_label.setText(self.tr("Cancelling…"))

    @Slot()
    def _on_search_button_clicked(self) -> None:
        self._start_search()

    @Slot(int, int)
    def _on_document_table_cell_double_clicked(self, row: int, _column: int) -> None:
        if 0 <= row < len(self._documents):
            self.open_source((self._documents[row].path, 0, 0))

    @Slot(int, int)
    def _on_hit_table_cell_double_clicked(self, row: int, _column: int) -> None:
        if 0 <= row < len(self._hits):
            self.open_source(self._hits[row])

    # ----------------------------------------------------------------- slots: controller

    @Slot(list)
    def _on_controller_collections(self, summaries: list[CollectionStats]) -> None:
        self._error_label.setVisible(False)
        self._summaries = {s.name: s for s in summaries}
        listing = self._collection_list
        current = self._want_current or self.current_collection()
        self._want_current = None
        selected = {str(i.data(Qt.ItemDataRole.UserRole)) for i in listing.selectedItems()}
        with QSignalBlocker(listing):
            listing.clear()
            for s in summaries:
                text = self.tr("{name}  ({documents} docs · {chunks} chunks)").format(
                    name=s.name, documents=s.documents, chunks=f"{s.chunks:,}"
                )
                if s.chroma_url:
                    text = self.tr("{collection} · on {server}").format(
                        collection=text, server=s.chroma_url
                    )
                item = QListWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, s.name)
                where = (
                    self.tr("Vectors on the Chroma server {url}").format(url=s.chroma_url)
                    if s.chroma_url
                    else self.tr("Vectors on this computer")
                )
                item.setToolTip(
                    error_text("kb_error", s.problem)
                    if s.problem
                    else f"{model_label(s.embed_model)} · {human_size(s.bytes)} · {where} · "
                    + self._languages_text(s.languages)
                )
                listing.addItem(item)
        names = [s.name for s in summaries]
        target = current if current in names else (names[0] if names else None)
        if target is not None:
            row = names.index(target)
            listing.setCurrentRow(row)  # emits currentItemChanged: lists its documents
            for i, name in enumerate(names):
                listing.item(i).setSelected(name in selected or i == row)
        else:
            self._on_collection_list_current_item_changed(None, None)
        self._show_health()
        self._show_model()
        self._update_buttons()

    @Slot(str, list)
    def _on_controller_documents(self, collection: str, docs: list[Document]) -> None:
        if collection == self.current_collection():
            self._show_documents(docs)

    @Slot(object)
    def _on_controller_progress(self, p: IngestProgress) -> None:
        self._progress_bar.setRange(0, max(1, p.files_total))
        self._progress_bar.setValue(min(p.files_done, max(1, p.files_total)))
        self._last_progress = p
        self._progress_label.setText(progress_text(p))
        now = time.monotonic()
        current = self.current_collection()
        if (
            current is not None
            and p.files_done != self._last_files_done
            and now - self._last_documents_refresh >= _DOCUMENTS_REFRESH_S
        ):
            # Documents turn from pending to indexed as the ingestion goes.
            self._last_files_done = p.files_done
            self._last_documents_refresh = now
            self._controller.documents(current)
        self._update_buttons()

    @Slot(object)
    def _on_controller_ingest_done(self, report: IngestReport) -> None:
        self._last_files_done = -1
        self._last_progress = None
        self._progress_label.setText(report_text(report))
        listed = skipped_list_text(report)
        self._skipped_list.setPlainText(listed)  # paths as text, never markup
        self._skipped_button.setVisible(bool(listed))
        if not listed:
            self._skipped_button.setChecked(False)
        if not report.cancelled:
            self._progress_bar.setValue(self._progress_bar.maximum())
        self._update_buttons()

    @Slot(object)
    def _on_controller_reembed_progress(self, p: ReembedProgress) -> None:
        if self._reembed is None:
            return
        name, _old, new = self._reembed
        self._progress_bar.setRange(0, max(1, p.total))
        self._progress_bar.setValue(min(p.done, max(1, p.total)))
        self._progress_label.setText(reembed_progress_text(name, new, p))
        self._update_buttons()

    @Slot(object)
    def _on_controller_reembed_done(self, report: ReembedReport) -> None:
        old = self._reembed[1] if self._reembed is not None else report.old_model
        self._reembed = None
        self._progress_label.setText(reembed_report_text(report, old))
        if not report.cancelled:
            self._progress_bar.setValue(self._progress_bar.maximum())
        self._update_buttons()

    @Slot(str, str)
    def _on_controller_error_while_reembedding(self, _kind: str, _message: str) -> None:
        if self._reembed is None or self._controller.reembedding is not None:
            return
        name, old, new = self._reembed
        self._reembed = None
        self._progress_bar.setValue(0)
        self._progress_label.setText(
            self.tr(
                "“{name}” was not embedded again with {new}: it still uses {old}. The reason is shown above."  # noqa: E501
            ).format(name=name, new=model_label(new), old=model_label(old))
        )
        self._update_buttons()

    def _show_hits(self, hits: list[Hit]) -> None:
        self._search = None
        self._hits = hits
        table = self._hit_table
        table.setRowCount(len(hits))
        for row, hit in enumerate(hits):
            passage = " ".join(hit.chunk.text.split())
            cells = (
                _item(str(hit.rank)),
                _item(Path(hit.chunk.path).name, hit.chunk.path),
                _item(score_text(hit.vector), self.tr("cosine similarity")),
                _item(score_text(hit.keyword, 4), self.tr("keyword rank score (BM25 lists fused)")),
                _item(score_text(hit.fused, 4), self.tr("reciprocal-rank fusion of both sides")),
                _item(passage[:160], hit.chunk.text[:1000]),
            )
            for column, cell in enumerate(cells):
                table.setItem(row, column, cell)
        elapsed = time.monotonic() - self._search_started
        self._query_status.setText(
            self.tr(
                "{count} hit(s) in {seconds} s. Double-click one to see it in its document."
            ).format(count=len(hits), seconds=f"{elapsed:.2f}")
            if hits
            else self.tr("No passage found.")
        )

    @Slot(str, str)
    def _on_controller_error(self, kind: str, message: str) -> None:
        self._error_label.setText(error_text(kind, message))
        self._error_label.setVisible(True)

    @Slot(bool)
    def _on_controller_busy(self, _busy: bool) -> None:
        self._update_buttons()

    @Slot(str, list)
    def _on_controller_watched(self, collection: str, _folders: list[str]) -> None:
        if collection == self.current_collection():
            self._show_watched()

    @Slot(object, bool)
    def _on_controller_sync_done(self, report: IngestReport, by_watcher: bool) -> None:
        # Sent right after sig_ingest_done: this line says it was a sync, and why.
        self._progress_label.setText(sync_text(report, by_watcher))
