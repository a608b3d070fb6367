"""A project's settings: name, system prompt, sampling preset, collections, pinned files.

New chats in the project start with these. The sampling values are copied from a
saved preset when one is chosen, so changing the preset later does not change the
project. Pinned files are listed with the project (their paths, not their text).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.chat.store import Preset, Project

_KEEP = "keep"
_NONE = "none"


def sampling_summary(sampling: Mapping[str, Any]) -> str:
    """Sampling values as one line: ``temperature 0.3, top_p 0.9``."""
    return ", ".join(f"{key} {value}" for key, value in sorted(sampling.items()))


class ProjectDialog(QDialog):
    """Edit a project's settings (``project`` None: a new project)."""

    def __init__(
        self,
        project: Project | None,
        collections: Sequence[str],
        presets: Sequence[Preset],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._project = project
        self._presets = {p.name: p for p in presets}
        self.setWindowTitle(
            self.tr("New project") if project is None else self.tr("Project settings")
        )
        self.setAccessibleName(self.windowTitle())
        layout = QVBoxLayout(self)
        form = QFormLayout()
        layout.addLayout(form)

        self.name = QLineEdit(project.name if project else "", self)
        self.name.setAccessibleName(self.tr("Project name"))
        self.name.setPlaceholderText(self.tr("A name for the project"))
        form.addRow(self.tr("&Name:"), self.name)

        self.system_prompt = QPlainTextEdit(project.system_prompt if project else "", self)
        self.system_prompt.setAccessibleName(self.tr("Project system prompt"))
        self.system_prompt.setPlaceholderText(self.tr("Sent before the messages of new chats"))
        self.system_prompt.setMaximumHeight(90)
        form.addRow(self.tr("System &prompt:"), self.system_prompt)

        self.preset = QComboBox(self)
        self.preset.setAccessibleName(self.tr("Project sampling preset"))
        if project is not None and project.sampling:
            self.preset.addItem(self.tr("Keep the project's values"), _KEEP)
        self.preset.addItem(self.tr("None (the sampling panel's values)"), _NONE)
        for name in sorted(self._presets, key=str.casefold):
            self.preset.addItem(self.tr("Preset “{name}”").format(name=name), name)
        self.sampling_label = QLabel("", self)
        self.sampling_label.setAccessibleName(self.tr("Project sampling values"))
        self.sampling_label.setWordWrap(True)
        form.addRow(self.tr("&Sampling:"), self.preset)
        form.addRow("", self.sampling_label)

        self.collections = QListWidget(self)
        self.collections.setAccessibleName(self.tr("Project knowledge collections"))
        self.collections.setMaximumHeight(90)
        chosen = set(project.collections) if project else set()
        for name in dict.fromkeys([*collections, *sorted(chosen)]):
            item = QListWidgetItem(name, self.collections)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if name in chosen else Qt.CheckState.Unchecked)
        if not self.collections.count():
            empty = QListWidgetItem(
                self.tr("No knowledge collections yet (the Knowledge panel makes them)."),
                self.collections,
            )
            empty.setFlags(Qt.ItemFlag.NoItemFlags)
        form.addRow(self.tr("&Collections:"), self.collections)

        files_box = QWidget(self)
        files_box.setAccessibleName(self.tr("Project pinned files"))
        files_layout = QVBoxLayout(files_box)
        files_layout.setContentsMargins(0, 0, 0, 0)
        self.files = QListWidget(files_box)
        self.files.setAccessibleName(self.tr("Pinned files"))
        self.files.setMaximumHeight(90)
        for path in project.files if project else ():
            self.files.addItem(path)
        side = QHBoxLayout()
        self.add_files = QPushButton(self.tr("Add…"), files_box)
        self.add_files.setAccessibleName(self.tr("Pin files"))
        self.remove_file = QPushButton(self.tr("Remove"), files_box)
        self.remove_file.setAccessibleName(self.tr("Unpin the selected file"))
        side.addWidget(self.add_files)
        side.addWidget(self.remove_file)
        side.addStretch(1)
        files_layout.addWidget(self.files, stretch=1)
        files_layout.addLayout(side)
        form.addRow(self.tr("Pinned &files:"), files_box)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.setAccessibleName(self.tr("Project dialog buttons"))
        layout.addWidget(self.buttons)

        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.name.textChanged.connect(self._on_name_text_changed)
        self.preset.currentIndexChanged.connect(self._on_preset_current_index_changed)
        self.add_files.clicked.connect(self._on_add_files_clicked)
        self.remove_file.clicked.connect(self._on_remove_file_clicked)
        self._on_name_text_changed(self.name.text())
        self._on_preset_current_index_changed(self.preset.currentIndex())

    def sampling(self) -> dict[str, Any]:
        """The sampling values chosen."""
        choice = self.preset.currentData()
        if choice == _KEEP and self._project is not None:
            return dict(self._project.sampling)
        preset = self._presets.get(str(choice))
        return dict(preset.sampling) if preset is not None else {}

    def values(self) -> dict[str, Any]:
        """The settings, as ``ChatStore.create_project`` and ``update_project`` take them."""
        collections = []
        for i in range(self.collections.count()):
            item = self.collections.item(i)
            if item.flags() & Qt.ItemFlag.ItemIsUserCheckable and (
                item.checkState() == Qt.CheckState.Checked
            ):
                collections.append(item.text())
        return {
            "name": self.name.text().strip(),
            "system_prompt": self.system_prompt.toPlainText(),
            "sampling": self.sampling(),
            "collections": collections,
            "files": [self.files.item(i).text() for i in range(self.files.count())],
        }

    def pin(self, paths: Sequence[str]) -> None:
        """Add files to the pinned list (each once)."""
        have = {self.files.item(i).text() for i in range(self.files.count())}
        for path in paths:
            if path not in have:
                self.files.addItem(path)
                have.add(path)

    @Slot(str)
    def _on_name_text_changed(self, text: str) -> None:
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(bool(text.strip()))
        ok.setToolTip("" if text.strip() else self.tr("Give the project a name first."))

    @Slot(int)
    def _on_preset_current_index_changed(self, _index: int) -> None:
        values = self.sampling()
        self.sampling_label.setText(
            sampling_summary(values)
            if values
            else self.tr("New chats use the values set in the sampling panel.")
        )

    @Slot()
    def _on_add_files_clicked(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, self.tr("Pin files to the project"))
        self.pin(paths)

    @Slot()
    def _on_remove_file_clicked(self) -> None:
        for item in self.files.selectedItems():
            self.files.takeItem(self.files.row(item))
