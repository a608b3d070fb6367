"""The dialog that names a knowledge collection, says where its vectors live and,
for a new one, which embedding model embeds it."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.errors import GlassboxError
from desktop_app.core.kb.embed import EmbedderChoice
from desktop_app.core.kb.location import parse_chroma_url
from desktop_app.ui.knowledge.embedders import EmbedderPicker


class CollectionDialog(QDialog):
    """A collection's name (for a new one) and where its vectors live.

    Documents, passages and their vectors always stay in the local database; a
    Chroma server only holds a copy of the vectors to search, so a team can share
    one server and a lost server can be filled again from here.

    Given ``embedders`` (the catalog), it also asks which embedding model the new
    collection uses, the first installed one chosen to start with.
    """

    def __init__(
        self,
        title: str,
        name: str | None = None,
        chroma_url: str | None = None,
        parent: QWidget | None = None,
        embedders: Sequence[EmbedderChoice] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setAccessibleName(title)
        self._fixed_name = name
        layout = QVBoxLayout(self)
        self.name_edit = QLineEdit(self)
        self.name_edit.setAccessibleName(self.tr("Collection name"))
        self.name_edit.setPlaceholderText(self.tr("Name"))
        if name is None:
            layout.addWidget(QLabel(self.tr("Name:"), self))
            layout.addWidget(self.name_edit)
        else:
            self.name_edit.setText(name)
            self.name_edit.setVisible(False)
        self.picker: EmbedderPicker | None = None
        if embedders is not None:
            self.picker = EmbedderPicker(embedders, parent=self)
            layout.addWidget(self.picker)
        where = QLabel(self.tr("Where the collection's vectors are kept:"), self)
        where.setWordWrap(True)
        layout.addWidget(where)
        self.local_radio = QRadioButton(self.tr("On this computer"), self)
        self.local_radio.setAccessibleName(self.tr("Vectors on this computer"))
        self.server_radio = QRadioButton(self.tr("On a Chroma server:"), self)
        self.server_radio.setAccessibleName(self.tr("Vectors on a Chroma server"))
        group = QButtonGroup(self)
        group.addButton(self.local_radio)
        group.addButton(self.server_radio)
        self.url_edit = QLineEdit(self)
        self.url_edit.setAccessibleName(self.tr("Chroma server URL"))
        self.url_edit.setPlaceholderText("http://127.0.0.1:8000")
        self.url_edit.setText(chroma_url or "")
        note = QLabel(
            self.tr(
                "Documents, their text and a copy of every vector always stay on this computer; a Chroma server (started with “chroma run”) holds the search index, for example on a machine with more memory. If the server loses it, Glassbox fills it again from here."  # noqa: E501
            ),
            self,
        )
        note.setWordWrap(True)
        note.setAccessibleName(self.tr("About Chroma servers"))
        self.error_label = QLabel(self)
        self.error_label.setAccessibleName(self.tr("Location error"))
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #b3261e;")
        self.error_label.setVisible(False)
        layout.addWidget(self.local_radio)
        layout.addWidget(self.server_radio)
        layout.addWidget(self.url_edit)
        layout.addWidget(note)
        layout.addWidget(self.error_label)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.setAccessibleName(self.tr("Dialog buttons"))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        (self.server_radio if chroma_url else self.local_radio).setChecked(True)
        self.server_radio.toggled.connect(self.url_edit.setEnabled)
        self.url_edit.setEnabled(bool(chroma_url))
        self._value: tuple[str, str | None] | None = None
        self._model: str | None = None
        self.setMinimumWidth(420)

    def result_value(self) -> tuple[str, str | None] | None:
        """(name, server URL or None for this computer), once accepted."""
        return self._value

    def embed_model(self) -> str | None:
        """The chosen embedding model's name, once accepted (None without a choice)."""
        return self._model

    def accept(self) -> None:
        """Check the name and the URL; a wrong one is said under the field."""
        name = self._fixed_name if self._fixed_name is not None else self.name_edit.text().strip()
        if not name:
            return self._refuse(self.tr("Give the collection a name."))
        model: str | None = None
        if self.picker is not None:
            model = self.picker.chosen()
            if model is None:
                return self._refuse(
                    self.tr(
                        "Choose an installed embedding model. If none is, install one as described above, then try again."  # noqa: E501
                    )
                )
        url: str | None = None
        if self.server_radio.isChecked():
            try:
                url = parse_chroma_url(self.url_edit.text())
            except GlassboxError as exc:
                return self._refuse(
                    self.tr("This is not a Chroma server address: {reason}").format(reason=exc)
                )
        self._value = (name, url)
        self._model = model
        super().accept()

    def _refuse(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.setVisible(True)
