"""Choosing documents of the knowledge base as a task's input."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import (
    Qt,
    Signal,
    Slot,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.kb.db import Document
from desktop_app.ui.tasks.styles import NOTE_STYLE
from desktop_app.workers.kb.controller import KnowledgeController


class KnowledgePicker(QDialog):
    """Choose documents of a knowledge collection as a task's input.

    Lists the collections, then the chosen one's indexed documents (several may
    be selected); "Use" sends their paths and ids as ``sig_chosen``. Everything
    arrives from the ``KnowledgeController``'s thread, so the lists fill a moment
    after the dialog opens.
    """

    sig_chosen = Signal(list)
    """The chosen documents as ``(path, doc_id)`` pairs, in the order listed."""

    def __init__(self, knowledge: KnowledgeController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("From the knowledge base"))
        self.setAccessibleName(self.tr("Knowledge base documents"))
        self.resize(460, 420)
        self._knowledge = knowledge
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        collection_caption = QLabel(self.tr("Collection"), self)
        collection_caption.setAccessibleName(self.tr("Collection"))
        self.collection = QComboBox(self)
        self.collection.setAccessibleName(self.tr("Knowledge collection"))
        row.addWidget(collection_caption)
        row.addWidget(self.collection, 1)
        layout.addLayout(row)
        self.documents = QListWidget(self)
        self.documents.setAccessibleName(self.tr("Knowledge documents"))
        self.documents.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.documents.setToolTip(
            self.tr("Select one document, or several to run them as a batch.")
        )
        layout.addWidget(self.documents, 1)
        self.note = QLabel(self.tr("Listing the collections…"), self)
        self.note.setAccessibleName(self.tr("Knowledge picker note"))
        self.note.setStyleSheet(NOTE_STYLE)
        self.note.setWordWrap(True)
        layout.addWidget(self.note)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.setAccessibleName(self.tr("Knowledge picker buttons"))
        self.use_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.use_button.setText(self.tr("Use"))
        self.use_button.setAccessibleName(self.tr("Use the selected documents"))
        self.use_button.setEnabled(False)
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setAccessibleName(
            self.tr("Cancel choosing documents")
        )
        layout.addWidget(self.buttons)

        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.collection.currentTextChanged.connect(self._on_collection_current_text_changed)
        self.documents.itemSelectionChanged.connect(self._on_documents_selection_changed)
        self.documents.itemDoubleClicked.connect(self._on_documents_item_double_clicked)
        knowledge.sig_collections.connect(self._on_knowledge_collections)
        knowledge.sig_documents.connect(self._on_knowledge_documents)
        knowledge.refresh()

    def chosen(self) -> list[tuple[str, int]]:
        """The selected documents as ``(path, doc_id)``, in the order listed."""
        out = []
        for i in range(self.documents.count()):
            item = self.documents.item(i)
            if item.isSelected():
                path, doc_id = item.data(Qt.ItemDataRole.UserRole)
                out.append((str(path), int(doc_id)))
        return out

    def accept(self) -> None:
        """Send the selection (nothing when none is selected) and close."""
        chosen = self.chosen()
        if not chosen:
            return
        super().accept()
        self.sig_chosen.emit(chosen)

    @Slot(list)
    def _on_knowledge_collections(self, summaries: list[object]) -> None:
        names = [str(getattr(s, "name", s)) for s in summaries]
        current = self.collection.currentText()
        self.collection.blockSignals(True)
        self.collection.clear()
        self.collection.addItems(names)
        if current in names:
            self.collection.setCurrentText(current)
        self.collection.blockSignals(False)
        if not names:
            self.note.setText(
                self.tr("The knowledge base is empty: add documents in the Knowledge panel.")
            )
            return
        self._on_collection_current_text_changed(self.collection.currentText())

    @Slot(str)
    def _on_collection_current_text_changed(self, name: str) -> None:
        self.documents.clear()
        self.use_button.setEnabled(False)
        if name:
            self.note.setText(self.tr("Listing the documents of “{name}”…").format(name=name))
            self._knowledge.documents(name)

    @Slot(str, list)
    def _on_knowledge_documents(self, collection: str, documents: list[Document]) -> None:
        if collection != self.collection.currentText():
            return
        self.documents.clear()
        skipped = 0
        for doc in documents:
            if doc.status != "indexed":
                skipped += 1
                continue
            item = QListWidgetItem(Path(doc.path).name)
            item.setToolTip(doc.path)
            item.setData(Qt.ItemDataRole.UserRole, (doc.path, doc.id))
            self.documents.addItem(item)
        count = self.documents.count()
        note = (
            self.tr("{n} document(s) in “{collection}”.").format(n=count, collection=collection)
            if count
            else self.tr("No indexed document here.")
        )
        if skipped:
            note += " " + self.tr(
                "{n} not indexed (still pending or failed) are not listed."
            ).format(n=skipped)
        self.note.setText(note)

    @Slot()
    def _on_documents_selection_changed(self) -> None:
        n = len(self.documents.selectedItems())
        self.use_button.setEnabled(n > 0)
        self.use_button.setText(
            self.tr("Use {n} as a batch").format(n=n) if n > 1 else self.tr("Use")
        )

    @Slot(QListWidgetItem)
    def _on_documents_item_double_clicked(self, item: QListWidgetItem) -> None:
        self.documents.clearSelection()
        item.setSelected(True)
        self.accept()
