"""The "Conversation" dock: system prompt, presets, reasoning options and few-shot examples."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from PySide6.QtCore import (
    QCoreApplication,
    QDate,
    QDateTime,
    QSignalBlocker,
    Qt,
    QTime,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDockWidget,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.chat import prompting
from desktop_app.core.chat.store import ChatStore
from desktop_app.core.engine.protocol import CONTRAST_ALPHA_MAX
from desktop_app.core.errors import GlassboxError
from desktop_app.ui.chat.session import DEFAULT_CAD_ALPHA, ChatOptions
from desktop_app.ui.chat.thinking_switch import ThinkingSwitch
from desktop_app.ui.chat.tool_options import ToolOptions
from desktop_app.ui.common.errors import error_text


def reasoning_label(mode: str) -> str:
    """A reasoning mode as the combo box shows it (the quoted phrases are sent as they are)."""
    labels = {
        prompting.REASONING_OFF: QCoreApplication.translate("ChatOptionsPanel", "Off"),
        prompting.REASONING_STEP_BY_STEP: QCoreApplication.translate(
            "ChatOptionsPanel", "Step by step (“{phrase}”)"
        ).format(phrase=prompting.STEP_BY_STEP),
        prompting.REASONING_TWO_STAGE: QCoreApplication.translate(
            "ChatOptionsPanel", "Two-stage (then “{phrase}”)"
        ).format(phrase=prompting.THEREFORE),
    }
    return labels.get(mode, mode)


#: Typing pauses this long before the system prompt or examples are applied.
_EDIT_DELAY_MS = 400


class ChatOptionsPanel(QDockWidget):
    """How the open chat prompts the model; presets bundle a system prompt with sampling."""

    sig_system_prompt_changed = Signal(str)
    """The system prompt was edited (after a short typing pause)."""

    sig_options_changed = Signal(object)
    """The chat's options were edited (reasoning, examples, knowledge, retrieval,
    filters): the whole ``ChatOptions`` record, with the edited fields replaced."""

    sig_preset_applied = Signal(object)
    """A preset was chosen: its ``Preset`` (system prompt and sampling values)."""

    sig_save_preset_requested = Signal(str)
    """The user asked to save the current system prompt and sampling under this name."""

    def __init__(self, store: ChatStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Conversation"))
        self.setObjectName("ConversationDock")
        self.setAccessibleName(self.tr("Conversation options"))
        self._store = store
        # The options shown: edits replace their fields and are sent as a whole record.
        self._chat_options = ChatOptions()
        body = QWidget(self)
        layout = QVBoxLayout(body)

        presets = QHBoxLayout()
        self._preset_combo = QComboBox(body)
        self._preset_combo.setAccessibleName(self.tr("Preset"))
        self._preset_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self._preset_combo.setMinimumContentsLength(8)
        self._preset_combo.setToolTip(self.tr("A saved system prompt with sampling values"))
        self._save_button = QPushButton(self.tr("Save…"), body)
        self._save_button.setAccessibleName(self.tr("Save preset"))
        self._save_button.setToolTip(
            self.tr("Save the system prompt and sampling values as a preset")
        )
        self._delete_button = QPushButton(self.tr("Delete"), body)
        self._delete_button.setAccessibleName(self.tr("Delete preset"))
        presets.addWidget(self._preset_combo, 1)
        presets.addWidget(self._save_button)
        presets.addWidget(self._delete_button)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        # Long labels (a translation) put their field on the next line rather than
        # widening the dock.
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.addRow(self.tr("Preset"), presets)
        self._system_edit = QPlainTextEdit(body)
        self._system_edit.setAccessibleName(self.tr("System prompt"))
        self._system_edit.setPlaceholderText(
            self.tr("e.g. You are a concise assistant. Answer in English.")
        )
        self._system_edit.setTabChangesFocus(True)
        self._system_edit.setFixedHeight(self._system_edit.fontMetrics().lineSpacing() * 4 + 12)
        form.addRow(self.tr("System prompt"), self._system_edit)
        self._reasoning_combo = QComboBox(body)
        self._reasoning_combo.setAccessibleName(self.tr("Reasoning"))
        # The longest item need not fit the closed box; the open list shows it whole.
        self._reasoning_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self._reasoning_combo.setMinimumContentsLength(12)
        for mode in prompting.REASONING_MODES:
            self._reasoning_combo.addItem(reasoning_label(mode), mode)
        self._reasoning_combo.setToolTip(
            self.tr(
                "Step by step adds “Let's think step by step.” to your question; two-stage then asks “Therefore, the answer is” in the same reply."  # noqa: E501
            )
        )
        form.addRow(self.tr("Reasoning"), self._reasoning_combo)
        # The model's own reasoning (its template's switch), beside the prompt options.
        self.thinking = ThinkingSwitch(body)
        self.thinking.sig_changed.connect(lambda on: self._change(thinking=on))
        form.addRow("", self.thinking)
        self._examples_edit = QPlainTextEdit(body)
        self._examples_edit.setAccessibleName(self.tr("Few-shot examples"))
        self._examples_edit.setPlaceholderText(
            self.tr("User: Is “great value” positive or negative?\nAssistant: positive")
        )
        self._examples_edit.setTabChangesFocus(True)
        form.addRow(self.tr("Examples"), self._examples_edit)
        self._examples_note = QLabel("", body)
        self._examples_note.setAccessibleName(self.tr("Examples status"))
        self._examples_note.setWordWrap(True)
        form.addRow("", self._examples_note)
        self._collections_list = QListWidget(body)
        self._collections_list.setAccessibleName(self.tr("Knowledge collections"))
        self._collections_list.setToolTip(
            self.tr(
                "Tick collections to answer from them: each question is searched in them first and the reply cites the passages it used."  # noqa: E501
            )
        )
        self._collections_list.setMaximumHeight(self.fontMetrics().lineSpacing() * 5 + 12)
        form.addRow(self.tr("Knowledge"), self._collections_list)
        knobs = QHBoxLayout()
        self._top_k_spin = QSpinBox(body)
        self._top_k_spin.setRange(1, 50)
        self._top_k_spin.setValue(5)
        self._top_k_spin.setPrefix(self.tr("top "))
        self._top_k_spin.setAccessibleName(self.tr("Passages per question"))
        self._threshold_spin = QDoubleSpinBox(body)
        self._threshold_spin.setRange(0.0, 1.0)
        self._threshold_spin.setSingleStep(0.05)
        self._threshold_spin.setDecimals(2)
        self._threshold_spin.setSpecialValueText(self.tr("any similarity"))
        self._threshold_spin.setAccessibleName(self.tr("Similarity threshold"))
        self._threshold_spin.setToolTip(
            self.tr("Leave out passages less similar than this (0: keep all)")
        )
        knobs.addWidget(self._top_k_spin)
        knobs.addWidget(self._threshold_spin)
        form.addRow("", knobs)
        self._only_docs_check = QCheckBox(self.tr("Answer only from the documents"), body)
        self._only_docs_check.setChecked(True)
        self._only_docs_check.setAccessibleName(self.tr("Answer only from the documents"))
        self._only_docs_check.setToolTip(
            self.tr("The model says it found nothing rather than answering from general knowledge.")
        )
        form.addRow("", self._only_docs_check)
        refine = QHBoxLayout()
        self._multi_query_spin = QSpinBox(body)
        self._multi_query_spin.setRange(0, 5)
        self._multi_query_spin.setSpecialValueText(self.tr("no rewriting"))
        self._multi_query_spin.setSuffix(self.tr(" rewrites"))
        self._multi_query_spin.setAccessibleName(self.tr("Query rewrites"))
        self._multi_query_spin.setToolTip(
            self.tr("The model rewrites the question this many ways; every phrasing is searched.")
        )
        self._rerank_check = QCheckBox(self.tr("Rerank with the model"), body)
        self._rerank_check.setAccessibleName(self.tr("Rerank with the model"))
        self._rerank_check.setToolTip(
            self.tr(
                "The loaded model judges each of 20 passages from its probabilities and the best are kept (slower; small models judge poorly)."  # noqa: E501
            )
        )
        refine.addWidget(self._multi_query_spin)
        refine.addWidget(self._rerank_check)
        form.addRow("", refine)
        self._translate_check = QCheckBox(self.tr("Also search in the documents' language"), body)
        self._translate_check.setChecked(True)
        self._translate_check.setAccessibleName(self.tr("Also search in the documents' language"))
        self._translate_check.setToolTip(
            self.tr(
                "When a question is in another language than the attached documents, the loaded "
                "model also writes it in theirs, and both are searched (a few seconds more)."
            )
        )
        form.addRow("", self._translate_check)
        self._expand_check = QCheckBox(self.tr("Rank by the terms an answer would name"), body)
        self._expand_check.setChecked(False)
        self._expand_check.setAccessibleName(self.tr("Rank by the terms an answer would name"))
        self._expand_check.setToolTip(
            self.tr(
                "Before the search, the loaded model lists the commands, files, options and "
                "terms a passage answering the question would name; of the 20 best passages, "
                "those naming one of them rank higher (a second or two more). It helps with "
                "manuals, whose passages name commands worded unlike the question."
            )
        )
        form.addRow("", self._expand_check)
        self._whole_check = QCheckBox(self.tr("Use whole documents"), body)
        self._whole_check.setAccessibleName(self.tr("Use whole documents"))
        self._whole_check.setToolTip(
            self.tr(
                "When the attached documents fit in the model's context with room for the "
                "answer, the model reads them whole instead of the passages a search finds; "
                "when they do not fit, the window says so and sends nothing."
            )
        )
        form.addRow("", self._whole_check)
        cad = QHBoxLayout()
        self._cad_check = QCheckBox(self.tr("Favour the documents (CAD)"), body)
        self._cad_check.setAccessibleName(self.tr("Context-aware decoding"))
        self._cad_check.setToolTip(
            self.tr(
                "Context-aware decoding: each token is drawn from (1+α)·logits with the "
                "passages − α·logits without them, so what the documents say wins over what "
                "the model believes. The prompt without the passages runs beside the reply "
                "in the same context; drafting is off for such a reply. With α = 0 the reply "
                "is the plain one, and the token view still shows each token's probability "
                "with and without the documents."
            )
        )
        self._cad_alpha_spin = QDoubleSpinBox(body)
        self._cad_alpha_spin.setRange(0.0, CONTRAST_ALPHA_MAX)
        self._cad_alpha_spin.setSingleStep(0.25)
        self._cad_alpha_spin.setDecimals(2)
        self._cad_alpha_spin.setValue(DEFAULT_CAD_ALPHA)
        self._cad_alpha_spin.setPrefix("α = ")
        self._cad_alpha_spin.setAccessibleName(self.tr("CAD weight α"))
        self._cad_alpha_spin.setEnabled(False)
        cad.addWidget(self._cad_check)
        cad.addWidget(self._cad_alpha_spin)
        form.addRow("", cad)
        self._types_edit = QLineEdit(body)
        self._types_edit.setAccessibleName(self.tr("Only file types"))
        self._types_edit.setPlaceholderText(self.tr("any type (e.g. pdf, md)"))
        self._folder_edit = QLineEdit(body)
        self._folder_edit.setAccessibleName(self.tr("Only files under folder"))
        self._folder_edit.setPlaceholderText(self.tr("any folder"))
        self._after_check = QCheckBox(self.tr("Modified since"), body)
        self._after_check.setAccessibleName(self.tr("Only files modified since"))
        self._after_edit = QDateEdit(body)
        self._after_edit.setAccessibleName(self.tr("Modified since date"))
        self._after_edit.setCalendarPopup(True)
        self._after_edit.setDisplayFormat("yyyy-MM-dd")
        self._after_edit.setDate(QDate.currentDate().addYears(-1))
        self._after_edit.setEnabled(False)
        since = QHBoxLayout()
        since.addWidget(self._after_check)
        since.addWidget(self._after_edit, 1)
        form.addRow(self.tr("Only types"), self._types_edit)
        form.addRow(self.tr("Only folder"), self._folder_edit)
        form.addRow("", since)
        self.tools = ToolOptions(body)
        form.addRow(self.tr("Tools"), self.tools)
        for row in range(form.rowCount()):
            item = form.itemAt(row, QFormLayout.ItemRole.LabelRole)
            label = item.widget() if item is not None else None
            if isinstance(label, QLabel):
                label.setAccessibleName(self.tr("{label} label").format(label=label.text()))
        layout.addLayout(form)
        layout.addStretch(1)
        # Scrolled, as the Sampling and Knowledge panels are: the options keep growing,
        # and their height must not set the window's smallest height.
        scroll = QScrollArea(self)
        scroll.setAccessibleName(self.tr("Conversation panel contents"))
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        scroll.setWidget(body)
        self.setWidget(scroll)

        self._system_timer = QTimer(self)
        self._system_timer.setSingleShot(True)
        self._system_timer.setInterval(_EDIT_DELAY_MS)
        self._examples_timer = QTimer(self)
        self._examples_timer.setSingleShot(True)
        self._examples_timer.setInterval(_EDIT_DELAY_MS)

        self._system_edit.textChanged.connect(self._system_timer.start)
        self._system_timer.timeout.connect(self._on_system_timer_timeout)
        self._examples_edit.textChanged.connect(self._examples_timer.start)
        self._examples_timer.timeout.connect(self._on_examples_timer_timeout)
        self._reasoning_combo.currentIndexChanged.connect(self._on_reasoning_combo_changed)
        self._preset_combo.activated.connect(self._on_preset_combo_activated)
        self._save_button.clicked.connect(self._on_save_button_clicked)
        self._delete_button.clicked.connect(self._on_delete_button_clicked)
        self._collections_list.itemChanged.connect(self._on_knowledge_control_changed)
        self._top_k_spin.valueChanged.connect(self._on_knowledge_control_changed)
        self._threshold_spin.valueChanged.connect(self._on_knowledge_control_changed)
        self._only_docs_check.toggled.connect(self._on_knowledge_control_changed)
        self._multi_query_spin.valueChanged.connect(self._on_retrieval_control_changed)
        self._types_edit.editingFinished.connect(self._on_filter_control_changed)
        self._folder_edit.editingFinished.connect(self._on_filter_control_changed)
        self._after_check.toggled.connect(self._after_edit.setEnabled)
        self._after_check.toggled.connect(self._on_filter_control_changed)
        self._after_edit.dateChanged.connect(self._on_filter_control_changed)
        self._rerank_check.toggled.connect(self._on_retrieval_control_changed)
        self._translate_check.toggled.connect(self._on_retrieval_control_changed)
        self._expand_check.toggled.connect(self._on_retrieval_control_changed)
        self._whole_check.toggled.connect(self._on_retrieval_control_changed)
        self._cad_check.toggled.connect(self._on_cad_control_changed)
        self._cad_alpha_spin.valueChanged.connect(self._on_cad_control_changed)
        self.tools.sig_changed.connect(self._on_tools_changed)
        self._updating = False
        self.reload_presets()

    # ----------------------------------------------------------------- public

    def system_prompt(self) -> str:
        """The system prompt as typed."""
        return self._system_edit.toPlainText()

    def set_system_prompt(self, text: str) -> None:
        """Show a chat's system prompt (no signal)."""
        with QSignalBlocker(self._system_edit):
            self._system_edit.setPlainText(text)

    def chat_options(self) -> ChatOptions:
        """The options shown now (a copy)."""
        return replace(self._chat_options)

    def set_options(self, options: ChatOptions) -> None:
        """Show a chat's options; nothing is emitted for what only came from ``options``."""
        self._chat_options = replace(options)
        self.set_reasoning(options.reasoning)
        self.thinking.set_value(options.thinking)
        self.set_examples_text(prompting.format_examples(options.examples))
        self.set_knowledge(
            options.collections, options.top_k, options.min_similarity, options.only_from_documents
        )
        self.set_retrieval(options.multi_query, options.rerank)
        self.set_translate(options.translate)
        self.set_expand(options.expand)
        self.set_whole_documents(options.whole_documents)
        self.set_cad(options.cad)
        self.set_filters(options.file_types, options.folder, options.modified_after)
        self.tools.set_values(options.tools, options.tool_servers, options.tools_ask_builtin)

    def _change(self, **fields: Any) -> None:
        """Replace ``fields`` of the shown options; emit the record if that changed it."""
        options = replace(self._chat_options, **fields)
        if options != self._chat_options:
            self._chat_options = options
            self.sig_options_changed.emit(replace(options))

    def reasoning(self) -> str:
        """The chosen reasoning mode."""
        return str(self._reasoning_combo.currentData())

    def set_reasoning(self, mode: str) -> None:
        """Choose a reasoning mode (emits ``sig_options_changed`` when it changes)."""
        index = self._reasoning_combo.findData(mode)
        if index >= 0:
            self._reasoning_combo.setCurrentIndex(index)

    def examples(self) -> list[tuple[str, str]]:
        """The few-shot examples as parsed from the field."""
        return prompting.parse_examples(self._examples_edit.toPlainText())

    def set_examples_text(self, text: str) -> None:
        """Replace the examples field (the examples are applied after the typing pause)."""
        self._examples_edit.setPlainText(text)

    def set_available_collections(self, names: list[str]) -> None:
        """The knowledge collections that can be attached (ticks are kept by name)."""
        ticked = set(self.attached_collections())
        self._fill_collections(names, ticked)

    def available_collections(self) -> list[str]:
        """Every collection listed, ticked or not."""
        items = (self._collections_list.item(i) for i in range(self._collections_list.count()))
        return [item.text() for item in items if item is not None]

    def attached_collections(self) -> list[str]:
        """The ticked collections."""
        out = []
        for i in range(self._collections_list.count()):
            item = self._collections_list.item(i)
            if item.checkState() == Qt.CheckState.Checked:
                out.append(item.text())
        return out

    def set_knowledge(
        self, collections: list[str], top_k: int, threshold: float | None, only_docs: bool
    ) -> None:
        """Show a chat's knowledge options (no signal)."""
        self._chat_options = replace(
            self._chat_options,
            collections=list(collections),
            top_k=top_k,
            min_similarity=threshold,
            only_from_documents=only_docs,
        )
        self._updating = True
        try:
            names = [
                self._collections_list.item(i).text() for i in range(self._collections_list.count())
            ]
            # A collection the chat uses stays listed even if it is gone, so it can be untied.
            self._fill_collections(
                names + [c for c in collections if c not in names], set(collections)
            )
            self._top_k_spin.setValue(top_k)
            self._threshold_spin.setValue(threshold or 0.0)
            self._only_docs_check.setChecked(only_docs)
        finally:
            self._updating = False

    def set_retrieval(self, multi_query: int, rerank: bool) -> None:
        """Show a chat's query rewriting and rerank options (no signal)."""
        self._chat_options = replace(self._chat_options, multi_query=multi_query, rerank=rerank)
        self._updating = True
        try:
            self._multi_query_spin.setValue(multi_query)
            self._rerank_check.setChecked(rerank)
        finally:
            self._updating = False

    def set_translate(self, on: bool) -> None:
        """Show whether a chat's questions are also searched in the documents' language
        (no signal)."""
        self._chat_options = replace(self._chat_options, translate=on)
        self._updating = True
        try:
            self._translate_check.setChecked(on)
        finally:
            self._updating = False

    def set_expand(self, on: bool) -> None:
        """Show whether a chat's searches also take the terms the model lists (no signal)."""
        self._chat_options = replace(self._chat_options, expand=on)
        self._updating = True
        try:
            self._expand_check.setChecked(on)
        finally:
            self._updating = False

    def set_whole_documents(self, on: bool) -> None:
        """Show whether a chat gives the model whole documents (no signal)."""
        self._chat_options = replace(self._chat_options, whole_documents=on)
        self._updating = True
        try:
            self._whole_check.setChecked(on)
        finally:
            self._updating = False

    def set_cad(self, alpha: float | None) -> None:
        """Show whether a grounded chat uses context-aware decoding, and its α (no signal)."""
        self._chat_options = replace(self._chat_options, cad=alpha)
        self._updating = True
        try:
            self._cad_check.setChecked(alpha is not None)
            self._cad_alpha_spin.setEnabled(alpha is not None)
            if alpha is not None:
                self._cad_alpha_spin.setValue(alpha)
        finally:
            self._updating = False

    def set_filters(self, types: list[str], folder: str, after: float | None) -> None:
        """Show a chat's metadata filters (no signal)."""
        self._chat_options = replace(
            self._chat_options, file_types=list(types), folder=folder, modified_after=after
        )
        self._updating = True
        try:
            self._types_edit.setText(", ".join(types))
            self._folder_edit.setText(folder)
            self._after_check.setChecked(after is not None)
            if after is not None:
                self._after_edit.setDate(QDateTime.fromSecsSinceEpoch(int(after)).date())
        finally:
            self._updating = False

    def _fill_collections(self, names: list[str], ticked: set[str]) -> None:
        updating, self._updating = self._updating, True
        try:
            self._collections_list.clear()
            for name in names:
                item = QListWidgetItem(name, self._collections_list)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(
                    Qt.CheckState.Checked if name in ticked else Qt.CheckState.Unchecked
                )
        finally:
            self._updating = updating

    def reload_presets(self) -> None:
        """Reload the preset list from the store."""
        try:
            presets = self._store.presets()
        except GlassboxError as exc:
            self._examples_note.setText(error_text(exc.kind, str(exc)))
            presets = []
        self._presets = {p.name: p for p in presets}
        with QSignalBlocker(self._preset_combo):
            self._preset_combo.clear()
            self._preset_combo.addItem(self.tr("(none)"), None)
            for name in sorted(self._presets, key=str.lower):
                self._preset_combo.addItem(name, name)
        self._delete_button.setEnabled(bool(self._presets))

    def save_preset(self, name: str, sampling: dict[str, Any]) -> None:
        """Save the system prompt with ``sampling`` under ``name`` and select it."""
        self._store.save_preset(name, self.system_prompt(), sampling)
        self.reload_presets()
        self._preset_combo.setCurrentIndex(self._preset_combo.findData(name))

    def apply_preset(self, name: str) -> None:
        """Apply a saved preset: its system prompt here, its sampling values via the signal."""
        preset = self._presets.get(name)
        if preset is None:
            return
        self._preset_combo.setCurrentIndex(self._preset_combo.findData(name))
        self.set_system_prompt(preset.system_prompt)
        self.sig_system_prompt_changed.emit(preset.system_prompt)
        self.sig_preset_applied.emit(preset)

    # ----------------------------------------------------------------- slots

    @Slot()
    def _on_filter_control_changed(self, *_args: object) -> None:
        if self._updating:
            return
        types = [t.strip() for t in self._types_edit.text().replace(";", ",").split(",")]
        after = None
        if self._after_check.isChecked():
            after = float(QDateTime(self._after_edit.date(), QTime(0, 0)).toSecsSinceEpoch())
        self._change(
            file_types=[t for t in types if t],
            folder=self._folder_edit.text().strip(),
            modified_after=after,
        )

    @Slot()
    def _on_retrieval_control_changed(self, *_args: object) -> None:
        if not self._updating:
            self._change(
                multi_query=self._multi_query_spin.value(),
                rerank=self._rerank_check.isChecked(),
                translate=self._translate_check.isChecked(),
                expand=self._expand_check.isChecked(),
                whole_documents=self._whole_check.isChecked(),
            )

    @Slot()
    def _on_cad_control_changed(self, *_args: object) -> None:
        on = self._cad_check.isChecked()
        self._cad_alpha_spin.setEnabled(on)
        if not self._updating:
            self._change(cad=self._cad_alpha_spin.value() if on else None)

    @Slot()
    def _on_knowledge_control_changed(self, *_args: object) -> None:
        if self._updating:
            return
        threshold = self._threshold_spin.value()
        self._change(
            collections=self.attached_collections(),
            top_k=self._top_k_spin.value(),
            min_similarity=threshold if threshold > 0 else None,
            only_from_documents=self._only_docs_check.isChecked(),
        )

    @Slot(list, list, bool)
    def _on_tools_changed(self, tools: list[str], servers: list[str], ask: bool) -> None:
        self._change(tools=tools, tool_servers=servers, tools_ask_builtin=ask)

    @Slot()
    def _on_system_timer_timeout(self) -> None:
        self.sig_system_prompt_changed.emit(self.system_prompt())

    @Slot()
    def _on_examples_timer_timeout(self) -> None:
        examples = self.examples()
        text = self._examples_edit.toPlainText().strip()
        if text and not examples:
            self._examples_note.setText(
                self.tr("Write each example as “User: …” then “Assistant: …”.")
            )
        else:
            self._examples_note.setText(
                self.tr("{count} example(s) sent before each conversation.").format(
                    count=len(examples)
                )
                if examples
                else ""
            )
        self._change(examples=examples)

    @Slot(int)
    def _on_reasoning_combo_changed(self, _index: int) -> None:
        self._change(reasoning=self.reasoning())

    @Slot(int)
    def _on_preset_combo_activated(self, index: int) -> None:
        name = self._preset_combo.itemData(index)
        if isinstance(name, str):
            self.apply_preset(name)

    @Slot()
    def _on_save_button_clicked(self) -> None:
        current = self._preset_combo.currentData()
        name, ok = QInputDialog.getText(
            self,
            self.tr("Save preset"),
            self.tr("Name:"),
            text=current if isinstance(current, str) else "",
        )
        if ok and name.strip():
            self.sig_save_preset_requested.emit(name.strip())

    @Slot()
    def _on_delete_button_clicked(self) -> None:
        name = self._preset_combo.currentData()
        if not isinstance(name, str):
            return
        try:
            self._store.delete_preset(name)
        except GlassboxError as exc:
            self._examples_note.setText(error_text(exc.kind, str(exc)))
        self.reload_presets()
