"""The task tabs' prompt template editor: edit, save as a user override, reset."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import (
    Qt,
    Signal,
    Slot,
)
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.errors import GlassboxError
from desktop_app.core.tasks.prompts import (
    DEFAULT_TEMPLATES,
    load_overrides,
    reset_template,
    save_overrides,
)
from desktop_app.ui.tasks.styles import ERROR_STYLE, NOTE_STYLE


class TemplateEditor(QGroupBox):
    """A collapsible editor of a task's prompt templates, saved as user overrides.

    What the text box holds is what the next run uses, saved or not; Save keeps
    it for later runs (and the command line), Reset to default drops the override.
    """

    sig_changed = Signal()
    """A template was saved or reset."""

    def __init__(self, names: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTitle(self.tr("Prompt template"))
        self.setAccessibleName(self.tr("Prompt template"))
        self.setCheckable(True)
        self.setChecked(False)
        self._names = list(names)
        self._texts: dict[str, str] = {}
        self._body = QWidget(self)
        self._body.setAccessibleName(self.tr("Prompt template editor"))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addWidget(self._body)
        inner = QVBoxLayout(self._body)
        inner.setContentsMargins(0, 0, 0, 0)
        self._choice = QComboBox(self._body)
        self._choice.setAccessibleName(self.tr("Template name"))
        for name in self._names:
            self._choice.addItem(self._template_title(name), name)
            self._choice.setItemData(self._choice.count() - 1, name, Qt.ItemDataRole.ToolTipRole)
        self._choice.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self._choice.setMinimumContentsLength(12)
        self._edit = QPlainTextEdit(self._body)
        self._edit.setAccessibleName(self.tr("Template text"))
        self._edit.setToolTip(
            self.tr(
                "Placeholders in braces ({text}, {labels}, …) are filled in; other braces stay."
            )
        )
        self._edit.setMinimumHeight(self._edit.fontMetrics().lineSpacing() * 5)
        self._state = QLabel(self._body)
        self._state.setAccessibleName(self.tr("Template state"))
        self._state.setStyleSheet(NOTE_STYLE)
        self._state.setWordWrap(True)
        buttons = QHBoxLayout()
        self._save = QPushButton(self.tr("Save"), self._body)
        self._save.setAccessibleName(self.tr("Save template"))
        self._reset = QPushButton(self.tr("Reset to default"), self._body)
        self._reset.setAccessibleName(self.tr("Reset template to default"))
        buttons.addWidget(self._state, 1)
        buttons.addWidget(self._save)
        buttons.addWidget(self._reset)
        inner.addWidget(self._choice)
        inner.addWidget(self._edit)
        inner.addLayout(buttons)
        self._body.setVisible(False)
        self._collapse(True)
        self._load()
        self._show(self._names[0])
        self.toggled.connect(self._on_self_toggled)
        self._choice.currentIndexChanged.connect(self._on_choice_changed)
        self._edit.textChanged.connect(self._on_edit_text_changed)
        self._save.clicked.connect(self._on_save_clicked)
        self._reset.clicked.connect(self._on_reset_clicked)

    def templates(self) -> dict[str, str]:
        """Every template, with this editor's current texts for its own names."""
        return {**DEFAULT_TEMPLATES, **self._saved(), **self._texts}

    def set_text(self, name: str, text: str) -> None:
        """Put ``text`` in the editor for template ``name`` (unsaved)."""
        self._choice.setCurrentIndex(self._choice.findData(name))
        self._edit.setPlainText(text)

    def text(self, name: str) -> str:
        """The text the next run uses for ``name``."""
        return self.templates()[name]

    def _template_title(self, name: str) -> str:
        """What the template ``name`` ("summarize.part") is called in the list."""
        titles = {
            "system": self.tr("System prompt"),
            "user": self.tr("User prompt"),
            "part": self.tr("Each part of a long text"),
            "combine": self.tr("Combining the parts"),
        }
        return titles.get(name.rpartition(".")[2], name)

    def _current(self) -> str:
        """The name of the template shown."""
        return str(self._choice.currentData())

    def _saved(self) -> dict[str, str]:
        try:
            return load_overrides()
        except GlassboxError as exc:
            self._state.setText(str(exc))
            self._state.setStyleSheet(ERROR_STYLE)
            return {}

    def _load(self) -> None:
        saved = self._saved()
        self._texts = {n: saved.get(n, DEFAULT_TEMPLATES[n]) for n in self._names}

    def _show(self, name: str) -> None:
        self._edit.blockSignals(True)
        self._edit.setPlainText(self._texts[name])
        self._edit.blockSignals(False)
        self._describe(name)

    def _describe(self, name: str) -> None:
        current = self._texts[name]
        saved = self._saved().get(name, DEFAULT_TEMPLATES[name])
        if current != saved:
            state = self.tr("edited, not saved (used by the next run)")
        elif current == DEFAULT_TEMPLATES[name]:
            state = self.tr("default")
        else:
            state = self.tr("your saved version")
        self._state.setStyleSheet(NOTE_STYLE)
        self._state.setText(state)
        self._reset.setEnabled(current != DEFAULT_TEMPLATES[name])
        self._save.setEnabled(current != saved)

    @Slot(bool)
    def _on_self_toggled(self, on: bool) -> None:
        self._body.setVisible(on)
        self._collapse(not on)

    def _collapse(self, collapsed: bool) -> None:
        # Collapsed, the box is its title only, not an empty frame.
        self.setFlat(collapsed)
        self.setMaximumHeight(self.fontMetrics().height() + 8 if collapsed else 16777215)

    @Slot(int)
    def _on_choice_changed(self, index: int) -> None:
        name = self._current()
        if name in self._texts:
            self._show(name)

    @Slot()
    def _on_edit_text_changed(self) -> None:
        name = self._current()
        self._texts[name] = self._edit.toPlainText()
        self._describe(name)

    @Slot()
    def _on_save_clicked(self) -> None:
        name = self._current()
        try:
            save_overrides({**self._saved(), name: self._texts[name]})
        except (GlassboxError, OSError) as exc:
            self._state.setText(self.tr("Could not save: {error}").format(error=exc))
            self._state.setStyleSheet(ERROR_STYLE)
            return
        self._describe(name)
        self.sig_changed.emit()

    @Slot()
    def _on_reset_clicked(self) -> None:
        name = self._current()
        try:
            self._texts[name] = reset_template(name)
        except (GlassboxError, OSError) as exc:
            self._state.setText(self.tr("Could not reset: {error}").format(error=exc))
            self._state.setStyleSheet(ERROR_STYLE)
            return
        self._show(name)
        self.sig_changed.emit()
