"""The "Model" dock: pick a GGUF file, see what is inside it, and load it with options.

The inspector shows what the file's header declares (``inspect_contents``) before
anything is loaded, so a wrong or broken file is explained here, in the
panel, instead of failing a load. The load options (context, GPU layers,
threads, chat template override, LoRA adapter, draft model) are sent with
``sig_load_requested``; the window hands them to the controller, which saves
them once the model loads. What the engine actually put in effect comes back
through ``set_loaded`` and ``set_fingerprint``.

The Speed section chooses speculative decoding: a draft model (none, the bundled
Qwen2.5-Coder-0.5B, or any GGUF file) goes with the load, and choosing another
one reloads a loaded model; prompt lookup and the maximum draft length go with
every request and are sent as ``sig_speed_changed``. A draft model the engine
refused is said in plain text under the choice, which goes back to None.

Reading a header takes about 35 ms for Gemma 3's 262,144-token vocabulary, but
a file on a slow or hung disk, a network share or a crafted file can take much
longer, so headers (the model's and the LoRA adapter's) are read on a worker
thread (a ``JobQueue`` of its own). While one is read the panel says so and
Load waits; a result for a path that is no longer in the field is dropped.
"""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QSignalBlocker, Qt, Signal, Slot
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDockWidget,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.engine.protocol import (
    LORA_SCALE_MAX,
    LORA_SCALE_MIN,
    MAX_DRAFT_LIMIT,
    ModelLoaded,
)
from desktop_app.core.models.defaults import DRAFT_DEFAULT, human_size
from desktop_app.core.models.gguf_info import (
    GGUFInfo,
    LoraInfo,
    ModelContents,
    inspect_contents,
    inspect_lora,
)
from desktop_app.core.settings import LoadOverrides, Settings, field_bounds
from desktop_app.ui.common.errors import error_text
from desktop_app.ui.model.anatomy import ModelAnatomy
from desktop_app.workers.jobs import JobContext, JobQueue
from desktop_app.workers.jobs_qt import GuiDrain, while_alive

_ERROR_STYLE = "color: #a40000;"
_NOTE_STYLE = "color: #666666;"
#: The draft combo's last entry opens a file dialog instead of being a choice.
_CHOOSE_DRAFT = "\x00choose"


def gguf_filter() -> str:
    """The file dialogs' filter for model and adapter files."""
    return QCoreApplication.translate("ModelPanel", "GGUF files (*.gguf);;All files (*)")


def _inspector_rows() -> tuple[tuple[str, str], ...]:
    """The inspector's rows: (key in ``inspector_text``, label)."""
    return (
        ("architecture", QCoreApplication.translate("ModelPanel", "Architecture")),
        ("name", QCoreApplication.translate("ModelPanel", "Name")),
        ("parameter_count", QCoreApplication.translate("ModelPanel", "Parameters")),
        ("quantization", QCoreApplication.translate("ModelPanel", "Quantization")),
        ("n_ctx_train", QCoreApplication.translate("ModelPanel", "Context trained")),
        ("n_layers", QCoreApplication.translate("ModelPanel", "Layers")),
        ("n_embd", QCoreApplication.translate("ModelPanel", "Embedding size")),
        ("n_ff", QCoreApplication.translate("ModelPanel", "Feed-forward size")),
        ("heads", QCoreApplication.translate("ModelPanel", "Heads (KV)")),
        ("vocab_size", QCoreApplication.translate("ModelPanel", "Vocabulary")),
        ("tokenizer_model", QCoreApplication.translate("ModelPanel", "Tokenizer")),
        ("rope", QCoreApplication.translate("ModelPanel", "RoPE")),
        ("size_bytes", QCoreApplication.translate("ModelPanel", "File size")),
        ("gguf_version", QCoreApplication.translate("ModelPanel", "GGUF version")),
        ("tensors", QCoreApplication.translate("ModelPanel", "Tensors / metadata")),
    )


def accepts_file(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` names a file the panel can inspect (a ``.gguf`` file)."""
    return os.fspath(path).lower().endswith(".gguf")


def _count(n: int) -> str:
    """A parameter count the way model names say it: 270M, 1.5B."""
    for unit, scale in (("B", 10**9), ("M", 10**6), ("K", 10**3)):
        if n >= scale:
            return f"{n / scale:.3g}{unit}"
    return str(n)


def _or_dash(value: Any) -> str:
    return "—" if value is None or value == "" else str(value)


def inspector_text(info: dict[str, Any]) -> dict[str, str]:
    """What each inspector row shows for ``GGUFInfo.to_dict()``."""
    rope = info.get("rope") or {}
    rope_text = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in rope.items()) or "—"
    heads = info.get("n_heads")
    kv = info.get("n_kv_heads")
    params = info.get("parameter_count")
    vocab = info.get("vocab_size")
    ctx = info.get("n_ctx_train")
    tokens = QCoreApplication.translate("ModelPanel", "{count} tokens")
    return {
        "architecture": _or_dash(info.get("architecture")),
        "name": _or_dash(info.get("name")),
        "parameter_count": f"{_count(params)} ({params:,})" if params else "—",
        "quantization": _or_dash(info.get("quantization")),
        "n_ctx_train": tokens.format(count=f"{ctx:,}") if ctx else "—",
        "n_layers": _or_dash(info.get("n_layers")),
        "n_embd": _or_dash(info.get("n_embd")),
        "n_ff": _or_dash(info.get("n_ff")),
        "heads": "—" if heads is None else f"{heads} ({_or_dash(kv)})",
        "vocab_size": tokens.format(count=f"{vocab:,}") if vocab else "—",
        "tokenizer_model": _or_dash(info.get("tokenizer_model")),
        "rope": rope_text,
        "size_bytes": QCoreApplication.translate("ModelPanel", "{size} ({bytes} bytes)").format(
            size=human_size(info["size_bytes"]), bytes=f"{info['size_bytes']:,}"
        ),
        "gguf_version": _or_dash(info.get("gguf_version")),
        "tensors": f"{info.get('tensor_count', 0):,} / {info.get('kv_count', 0):,}",
    }


def _monospace() -> QFont:
    return QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)


class ModelPanel(QDockWidget):
    """A dock to inspect a GGUF file and load it with a context, GPU, threads, template and LoRA.

    ``gpu_offload`` says whether this llama.cpp build can use a GPU (the window
    asks the controller; None: not known yet). The panel never loads anything
    itself: Load emits ``sig_load_requested``.
    """

    sig_load_requested = Signal(str, object)
    """Load was pressed: the model file path and a ``LoadOverrides`` with the options."""

    sig_speed_changed = Signal(bool, int)
    """Prompt lookup or the maximum draft length changed: both, as the controls show them."""

    sig_draft_refused = Signal(str)
    """The engine refused the draft model: why (shown in the panel; the choice is None again)."""

    sig_inspected = Signal(str, bool)
    """A file was inspected: its path and whether its header was accepted (emitted when
    the worker thread's answer for the path still in the field arrives)."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        gpu_offload: bool | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Model"))
        self.setObjectName("model_panel")
        self.setAccessibleName(self.tr("Model panel"))
        self._info: GGUFInfo | None = None
        self._lora_info: LoraInfo | None = None
        self._loaded: ModelLoaded | None = None
        self._fingerprints: dict[str, str] = {}
        # Headers are read on this queue's thread; a newer request makes an
        # older one's answer stale (its number is no longer the latest).
        self._jobs: JobQueue[None] = JobQueue(_no_resource, name="glassbox-gguf-inspect")
        self._drain = GuiDrain(self._jobs, self)
        self._model_request = 0
        self._model_reading: str | None = None
        self._lora_request = 0
        self._lora_reading = False
        self._load_wanted: str | None = None
        self._draft_choice: str | None = None  # the draft combo's current choice

        body = QWidget()
        body.setAccessibleName(self.tr("Model panel contents"))
        layout = QVBoxLayout(body)
        layout.addWidget(self._build_file_box())
        layout.addWidget(self._build_inspector_box())
        layout.addWidget(self._build_template_box())
        layout.addWidget(self._build_options_box())
        layout.addWidget(self._build_lora_box())
        layout.addWidget(self._build_speed_box())
        self._load_button = QPushButton(self.tr("Load"))
        self._load_button.setAccessibleName(self.tr("Load model"))
        self._load_button.setToolTip(self.tr("Load the model with these options"))
        self._load_button.setEnabled(False)
        self._load_button.clicked.connect(self._on_load_button_clicked)
        layout.addWidget(self._load_button)
        layout.addWidget(self._build_effect_box())
        layout.addStretch(1)

        scroll = QScrollArea()
        scroll.setAccessibleName(self.tr("Model panel scroll area"))
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        self.setWidget(scroll)

        self.set_settings(settings if settings is not None else Settings())
        self.set_gpu_offload_supported(gpu_offload)

    # ----------------------------------------------------------------- building

    def _build_file_box(self) -> QGroupBox:
        box = QGroupBox(self.tr("Model file"))
        box.setAccessibleName(self.tr("Model file"))
        row = QHBoxLayout()
        self._path_edit = QLineEdit()
        self._path_edit.setAccessibleName(self.tr("Model file path"))
        self._path_edit.setPlaceholderText(self.tr("Path to a .gguf model"))
        self._path_edit.editingFinished.connect(self._on_path_edit_editing_finished)
        self._open_button = QPushButton(self.tr("Open GGUF…"))
        self._open_button.setAccessibleName(self.tr("Open GGUF file"))
        self._open_button.clicked.connect(self._on_open_button_clicked)
        row.addWidget(self._path_edit, 1)
        row.addWidget(self._open_button)
        self._reading_label = QLabel(self.tr("Reading the file's header…"))
        self._reading_label.setAccessibleName(self.tr("Model file reading"))
        self._reading_label.setStyleSheet(_NOTE_STYLE)
        self._reading_label.setVisible(False)
        self._file_error = QLabel()
        self._file_error.setAccessibleName(self.tr("Model file error"))
        self._file_error.setStyleSheet(_ERROR_STYLE)
        self._file_error.setWordWrap(True)
        self._file_error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._file_error.setVisible(False)
        outer = QVBoxLayout(box)
        outer.addLayout(row)
        outer.addWidget(self._reading_label)
        outer.addWidget(self._file_error)
        return box

    def _build_inspector_box(self) -> QGroupBox:
        box = QGroupBox(self.tr("Inspector"))
        box.setAccessibleName(self.tr("Inspector"))
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self._fields: dict[str, QLabel] = {}
        for key, title in _inspector_rows():
            value = QLabel("—")
            value.setAccessibleName(title)
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            _add_row(form, title, value)
            self._fields[key] = value
        # A read-only line: 64 hex digits do not wrap, and a reader wants to copy them.
        self._sha_label = QLineEdit("—")
        self._sha_label.setAccessibleName("SHA-256")
        self._sha_label.setFont(_monospace())
        self._sha_label.setReadOnly(True)
        self._sha_label.setFrame(False)
        self._sha_label.setStyleSheet("background: transparent;")
        self._sha_label.setToolTip(self.tr("The file's SHA-256, computed after the model loads"))
        _add_row(form, "SHA-256", self._sha_label)
        # Types, bits per weight, KV cache and memory fit: recomputed when the
        # context in Load options changes (connected in _build_options_box).
        self._anatomy = ModelAnatomy()
        form.addRow(self._anatomy)
        return box

    def _build_template_box(self) -> QGroupBox:
        box = QGroupBox(self.tr("Chat template"))
        box.setAccessibleName(self.tr("Chat template"))
        layout = QVBoxLayout(box)
        self._template_view = QPlainTextEdit()
        self._template_view.setAccessibleName(self.tr("Chat template from the file"))
        self._template_view.setReadOnly(True)
        self._template_view.setFont(_monospace())
        self._template_view.setPlaceholderText(
            self.tr("No template: replies use the plain format.")
        )
        self._template_view.setMaximumHeight(110)
        self._override_check = QCheckBox(self.tr("Override template"))
        self._override_check.setAccessibleName(self.tr("Override template"))
        self._override_check.setToolTip(self.tr("Format chats with the template below instead"))
        self._override_check.toggled.connect(self._on_override_check_toggled)
        self._override_edit = QPlainTextEdit()
        self._override_edit.setAccessibleName(self.tr("Override template text"))
        self._override_edit.setFont(_monospace())
        self._override_edit.setPlaceholderText(self.tr("A Jinja chat template, e.g. ChatML"))
        self._override_edit.setMaximumHeight(110)
        self._override_edit.setEnabled(False)
        layout.addWidget(self._template_view)
        layout.addWidget(self._override_check)
        layout.addWidget(self._override_edit)
        return box

    def _build_options_box(self) -> QGroupBox:
        box = QGroupBox(self.tr("Load options"))
        box.setAccessibleName(self.tr("Load options"))
        form = QFormLayout(box)

        self._ctx_spin = QSpinBox()
        self._ctx_spin.setAccessibleName(self.tr("Context length"))
        low, high = field_bounds("n_ctx")
        self._ctx_spin.setRange(int(low or 256), int(high or 131072))
        self._ctx_spin.setSingleStep(256)
        self._ctx_spin.setSuffix(self.tr(" tokens"))
        self._ctx_spin.setGroupSeparatorShown(True)
        self._ctx_spin.valueChanged.connect(self._anatomy.set_context)
        _add_row(form, self.tr("Context length"), self._ctx_spin)

        self._gpu_spin = QSpinBox()
        self._gpu_spin.setAccessibleName(self.tr("GPU layers"))
        low, high = field_bounds("n_gpu_layers")
        self._gpu_spin.setRange(int(low if low is not None else -1), int(high or 1000))
        self._gpu_spin.setSpecialValueText(self.tr("All"))  # shown for the minimum, -1
        self._gpu_spin.setToolTip(self.tr("Layers offloaded to the GPU (All, or 0 for none)"))
        self._gpu_spin.valueChanged.connect(self._anatomy.set_gpu_layers)
        self._gpu_note = QLabel()
        self._gpu_note.setAccessibleName(self.tr("GPU note"))
        self._gpu_note.setStyleSheet(_NOTE_STYLE)
        self._gpu_note.setWordWrap(True)
        gpu = QVBoxLayout()
        gpu.setContentsMargins(0, 0, 0, 0)
        gpu.addWidget(self._gpu_spin)
        gpu.addWidget(self._gpu_note)
        _add_row(form, self.tr("GPU layers"), gpu, buddy=self._gpu_spin)

        self._threads_spin = QSpinBox()
        self._threads_spin.setAccessibleName(self.tr("Threads"))
        _low, high = field_bounds("n_threads")
        # 0 stands for "Auto" (None in the settings): what is fast on this machine.
        self._threads_spin.setRange(0, int(high or 1024))
        self._threads_spin.setSpecialValueText(self.tr("Auto"))
        self._threads_spin.setToolTip(self.tr("Generation threads; Auto picks the fast cores"))
        _add_row(form, self.tr("Threads"), self._threads_spin)
        return box

    def _build_lora_box(self) -> QGroupBox:
        box = QGroupBox(self.tr("LoRA adapter"))
        box.setAccessibleName(self.tr("LoRA adapter"))
        layout = QVBoxLayout(box)
        row = QHBoxLayout()
        self._lora_edit = QLineEdit()
        self._lora_edit.setAccessibleName(self.tr("LoRA adapter path"))
        self._lora_edit.setPlaceholderText(self.tr("None"))
        self._lora_edit.setClearButtonEnabled(True)
        self._lora_edit.editingFinished.connect(self._on_lora_edit_editing_finished)
        self._lora_button = QPushButton(self.tr("Choose…"))
        self._lora_button.setAccessibleName(self.tr("Choose LoRA adapter"))
        self._lora_button.clicked.connect(self._on_lora_button_clicked)
        row.addWidget(self._lora_edit, 1)
        row.addWidget(self._lora_button)
        scale_row = QHBoxLayout()
        scale_label = QLabel(self.tr("Scale:"))
        scale_label.setAccessibleName(self.tr("LoRA scale label"))
        self._lora_scale = QDoubleSpinBox()
        self._lora_scale.setAccessibleName(self.tr("LoRA scale"))
        self._lora_scale.setRange(LORA_SCALE_MIN, LORA_SCALE_MAX)
        self._lora_scale.setSingleStep(0.05)
        self._lora_scale.setDecimals(2)
        self._lora_scale.setToolTip(self.tr("0: the base model, 1: the adapter as trained"))
        scale_label.setBuddy(self._lora_scale)
        scale_row.addWidget(scale_label)
        scale_row.addWidget(self._lora_scale)
        scale_row.addStretch(1)
        self._lora_status = QLabel()
        self._lora_status.setAccessibleName(self.tr("LoRA adapter status"))
        self._lora_status.setWordWrap(True)
        self._lora_status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._lora_status.setVisible(False)
        layout.addLayout(row)
        layout.addLayout(scale_row)
        layout.addWidget(self._lora_status)
        return box

    def _build_speed_box(self) -> QGroupBox:
        box = QGroupBox(self.tr("Speed"))
        box.setAccessibleName(self.tr("Speed"))
        layout = QVBoxLayout(box)
        form = QFormLayout()
        self._draft_combo = QComboBox()
        self._draft_combo.setAccessibleName(self.tr("Draft model"))
        self._draft_combo.setToolTip(
            self.tr(
                "A small model with the same vocabulary proposes tokens and the model checks "
                "them in one step: replies come faster and are drawn from the same "
                "probabilities. Changing it reloads the model."
            )
        )
        self._draft_combo.addItem(self.tr("None"), None)
        self._draft_combo.addItem(self.tr("Qwen2.5-Coder-0.5B (bundled)"), DRAFT_DEFAULT)
        self._draft_combo.addItem(self.tr("Choose a GGUF file…"), _CHOOSE_DRAFT)
        self._draft_combo.activated.connect(self._on_draft_combo_activated)
        _add_row(form, self.tr("Draft model"), self._draft_combo)
        self._lookup_check = QCheckBox(self.tr("Prompt lookup"))
        self._lookup_check.setAccessibleName(self.tr("Prompt lookup"))
        self._lookup_check.setToolTip(
            self.tr(
                "Propose the tokens that followed the same words earlier in the prompt or "
                "the reply; pays off when a reply quotes or edits its input."
            )
        )
        self._lookup_check.toggled.connect(self._on_lookup_check_toggled)
        form.addRow(self._lookup_check)
        self._max_draft_spin = QSpinBox()
        self._max_draft_spin.setAccessibleName(self.tr("Maximum draft length"))
        self._max_draft_spin.setRange(1, MAX_DRAFT_LIMIT)
        self._max_draft_spin.setValue(8)
        self._max_draft_spin.setSuffix(self.tr(" tokens"))
        self._max_draft_spin.setToolTip(
            self.tr("The most tokens proposed at once; fewer are proposed when few are accepted")
        )
        self._max_draft_spin.valueChanged.connect(self._on_max_draft_spin_value_changed)
        _add_row(form, self.tr("Maximum draft length"), self._max_draft_spin)
        self._draft_status = QLabel()
        self._draft_status.setAccessibleName(self.tr("Draft model status"))
        self._draft_status.setTextFormat(Qt.TextFormat.PlainText)  # quotes the engine's words
        self._draft_status.setWordWrap(True)
        self._draft_status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._draft_status.setVisible(False)
        layout.addLayout(form)
        layout.addWidget(self._draft_status)
        return box

    def draft_choice(self) -> str | None:
        """The draft model chosen: None, the bundled model's key, or a file path."""
        return self._draft_choice

    def set_draft_choice(self, choice: str | None) -> None:
        """Show ``choice`` (None, the bundled model's key or a path) in the draft combo."""
        self._draft_choice = choice or None
        index = self._draft_combo.findData(self._draft_choice)
        if index < 0 and self._draft_choice is not None:
            # A file of the user's: an entry of its own, before "Choose a GGUF file…".
            index = self._draft_combo.count() - 1
            self._draft_combo.insertItem(index, Path(self._draft_choice).name, self._draft_choice)
            self._draft_combo.setItemData(index, self._draft_choice, Qt.ItemDataRole.ToolTipRole)
        self._draft_combo.setCurrentIndex(max(index, 0))

    def speed(self) -> tuple[bool, int]:
        """Prompt lookup on or off and the maximum draft length, as the controls show them."""
        return self._lookup_check.isChecked(), self._max_draft_spin.value()

    def _choose_draft(self, choice: str | None) -> None:
        """The user chose a draft model: remember it, and reload a loaded model with it."""
        if choice == self._draft_choice:
            return
        self.set_draft_choice(choice)
        self._draft_status.setVisible(False)
        if self._loaded is not None and self._path_edit.text().strip():
            self._on_load_button_clicked()

    def _build_effect_box(self) -> QGroupBox:
        box = QGroupBox(self.tr("In effect"))
        box.setAccessibleName(self.tr("In effect"))
        layout = QVBoxLayout(box)
        self._effect_label = QLabel(self.tr("No model loaded."))
        self._effect_label.setAccessibleName(self.tr("Loaded model summary"))
        self._effect_label.setWordWrap(True)
        # Our markup around escaped values (the file's own texts are escaped below).
        self._effect_label.setTextFormat(Qt.TextFormat.RichText)
        self._effect_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self._effect_label)
        return box

    # ----------------------------------------------------------------- public API

    def accepts_file(self, path: str | os.PathLike[str]) -> bool:
        """Whether ``path`` is a file this panel takes (a ``.gguf``), e.g. dropped on the window."""
        return accepts_file(path)

    def set_settings(self, settings: Settings) -> None:
        """Show ``settings``' load options in the controls."""
        self._ctx_spin.setValue(settings.n_ctx)
        self._gpu_spin.setValue(settings.n_gpu_layers)
        self._threads_spin.setValue(settings.n_threads or 0)
        override = settings.chat_template_override
        self._override_check.setChecked(override is not None)
        self._override_edit.setPlainText(override or "")
        self._lora_edit.setText(settings.lora_path or "")
        self._lora_scale.setValue(settings.lora_scale)
        self.set_draft_choice(settings.draft_model)
        with QSignalBlocker(self._lookup_check), QSignalBlocker(self._max_draft_spin):
            self._lookup_check.setChecked(settings.prompt_lookup)
            self._max_draft_spin.setValue(settings.max_draft)
        self._check_lora()

    def set_gpu_offload_supported(self, supported: bool | None) -> None:
        """Say whether this build can use a GPU; without one, layers always run on the CPU."""
        if supported is False:
            self._gpu_note.setText(
                self.tr("This build of llama.cpp has no GPU support: every layer runs on the CPU.")
            )
            self._gpu_note.setVisible(True)
        else:
            self._gpu_note.setText("")
            self._gpu_note.setVisible(False)

    @property
    def reading(self) -> bool:
        """Whether a header (the model's or the adapter's) is being read."""
        return self._model_reading is not None or self._lora_reading

    def inspect(self, path: str | os.PathLike[str]) -> None:
        """Read ``path``'s header on the worker thread and show it in the inspector.

        Until the answer comes the panel says it is reading and Load waits; then
        ``sig_inspected`` says whether it was accepted (refused: the reason in red).
        """
        shown = os.fspath(path)
        if self._path_edit.text() != shown:
            self._path_edit.setText(shown)
        self._model_request += 1
        request = self._model_request
        self._model_reading = shown
        self._info = None
        self._show_info(None)
        self._anatomy.set_contents(None)
        self._show_file_error("")
        self._template_view.setPlainText("")
        self._reading_label.setVisible(True)
        self._update_load_button()

        def read(_resource: None, _ctx: JobContext[None, None]) -> ModelContents:
            return inspect_contents(shown)

        def done(contents: ModelContents) -> None:
            if self._current(request, shown):
                self._inspected(shown, contents, "")

        def failed(_kind: str, message: str) -> None:
            if self._current(request, shown):
                self._inspected(shown, None, message)

        self._jobs.run(
            read, while_alive(self, done), while_alive(self, failed), label="inspect model"
        )

    def shutdown(self, timeout_s: float = 2.0) -> bool:
        """Stop the header-reading thread (the window is closing); True when it ended."""
        self._drain.stop()
        return self._jobs.shutdown(timeout_s)

    def _current(self, request: int, shown: str) -> bool:
        """Whether an answer for ``shown`` is still wanted: no newer request, same path."""
        if request != self._model_request:
            return False
        if self._path_edit.text().strip() != shown.strip():
            # The field was edited meanwhile: this answer is for another file.
            self._model_reading = None
            self._reading_label.setVisible(False)
            self._load_wanted = None
            self._update_load_button()
            return False
        return True

    def _inspected(self, shown: str, contents: ModelContents | None, message: str) -> None:
        self._model_reading = None
        self._reading_label.setVisible(False)
        info = contents.info if contents is not None else None
        self._info = info
        self._show_info(info)
        self._anatomy.set_contents(contents)
        if info is None:
            self._show_file_error(error_text("model_file", message))
            self._template_view.setPlainText("")
            self._update_load_button()
            self.sig_inspected.emit(shown, False)
            return
        self._show_file_error("")
        self._template_view.setPlainText(info.chat_template or "")
        self._check_lora()
        self.sig_inspected.emit(shown, True)

    def overrides(self) -> LoadOverrides:
        """The load options as the controls show them."""
        threads = self._threads_spin.value()
        template = self._override_edit.toPlainText() if self._override_check.isChecked() else ""
        lora = self._lora_edit.text().strip()
        return LoadOverrides(
            n_ctx=self._ctx_spin.value(),
            n_gpu_layers=self._gpu_spin.value(),
            n_threads=threads or None,
            chat_template_override=template if template.strip() else None,
            lora_path=lora or None,
            lora_scale=round(self._lora_scale.value(), 2),
            draft_model=self._draft_choice,
        )

    def set_loaded(self, loaded: ModelLoaded) -> None:
        """Show what the engine has in effect for the model it loaded."""
        self._loaded = loaded
        if not self._path_edit.text():
            self.inspect(loaded.model_path)
        if loaded.draft_error:
            # The model works without it; the choice goes back to None, so the next
            # load does not ask for it again.
            self.set_draft_choice(None)
            self._draft_status.setStyleSheet(_ERROR_STYLE)
            self._draft_status.setText(
                self.tr(
                    "The draft model was not loaded; the model works without it. "
                    "Choose another draft model or None."
                )
                + "\n"
                + loaded.draft_error.strip()
            )
            self._draft_status.setVisible(True)
            self.sig_draft_refused.emit(loaded.draft_error)
        elif loaded.draft_model_path:
            self._draft_status.setStyleSheet(_NOTE_STYLE)
            self._draft_status.setText(
                self.tr("Draft model loaded: {name}").format(
                    name=Path(loaded.draft_model_path).name
                )
            )
            self._draft_status.setVisible(True)
        else:
            self._draft_status.setVisible(False)
        self._refresh_effect()
        self._refresh_sha()

    def set_fingerprint(self, path: str, sha256: str) -> None:
        """Show the SHA-256 of the model file at ``path`` (computed after it loaded)."""
        self._fingerprints[path] = sha256
        self._refresh_effect()
        self._refresh_sha()

    # ----------------------------------------------------------------- showing

    def _show_info(self, info: GGUFInfo | None) -> None:
        texts = inspector_text(info.to_dict()) if info is not None else {}
        for key, label in self._fields.items():
            label.setText(texts.get(key, "—"))
        self._refresh_sha()

    def _show_file_error(self, message: str) -> None:
        self._file_error.setText(message)
        self._file_error.setVisible(bool(message))

    def _refresh_sha(self) -> None:
        path = self._info.path if self._info is not None else None
        sha = self._fingerprints.get(path) if path else None
        if sha is None and path and self._loaded and _same_file(path, self._loaded.model_path):
            sha = self._fingerprints.get(self._loaded.model_path)
        self._sha_label.setText(sha or "—")
        self._sha_label.setCursorPosition(0)

    def _refresh_effect(self) -> None:
        loaded = self._loaded
        if loaded is None:
            self._effect_label.setText(self.tr("No model loaded."))
            return
        info = self._info
        same = info is not None and _same_file(info.path, loaded.model_path)
        if loaded.chat_template is None:
            template = self.tr("Template: plain format (no template)")
        elif not same:
            template = self.tr("Template: set")
        elif info is not None and loaded.chat_template == info.chat_template:
            template = self.tr("Template: the model's own")
        else:
            template = self.tr("Template: override")
        if loaded.template_sha256:
            template += f" <tt>{loaded.template_sha256[:12]}</tt>"
        lora = (
            f"{Path(loaded.lora_path).name} × {loaded.lora_scale:g}"
            if loaded.lora_path
            else self.tr("none")
        )
        sha = self._fingerprints.get(loaded.model_path)
        lines = [
            f"<b>{html.escape(Path(loaded.model_path).name)}</b>",
            self.tr("Context {n_ctx} tokens (trained {n_ctx_train}), vocabulary {n_vocab}").format(
                n_ctx=f"{loaded.n_ctx:,}",
                n_ctx_train=f"{loaded.n_ctx_train:,}",
                n_vocab=f"{loaded.n_vocab:,}",
            ),
            self.tr("{backend}, {threads} / {threads_batch} threads, loaded in {seconds} s").format(
                backend=html.escape(loaded.backend),
                threads=loaded.n_threads,
                threads_batch=loaded.n_threads_batch,
                seconds=f"{loaded.load_s:.2f}",
            ),
            html.escape(loaded.kernels),
            template,
            self.tr("LoRA: {adapter}").format(adapter=html.escape(lora)),
            self.tr("Draft model: {draft}").format(
                draft=html.escape(Path(loaded.draft_model_path).name)
                if loaded.draft_model_path
                else self.tr("none")
            ),
            self.tr("SHA-256: {hash}").format(hash=f"<tt>{sha[:16]}…</tt>")
            if sha
            else self.tr("SHA-256: computing…"),
        ]
        self._effect_label.setText("<br>".join(line for line in lines if line))
        self._effect_label.setToolTip(loaded.model_path)

    def _check_lora(self) -> None:
        """Read the adapter's header (on the worker thread), against the inspected model."""
        text = self._lora_edit.text().strip()
        self._lora_info = None
        self._lora_request += 1
        request = self._lora_request
        if not text:
            self._lora_reading = False
            self._lora_status.setVisible(False)
            self._update_load_button()
            return
        base = self._info.path if self._info is not None else None
        self._lora_reading = True
        self._lora_status.setStyleSheet(_NOTE_STYLE)
        self._lora_status.setText(self.tr("Reading the adapter's header…"))
        self._lora_status.setVisible(True)
        self._update_load_button()

        def read(_resource: None, _ctx: JobContext[None, None]) -> LoraInfo:
            return inspect_lora(text, base)

        def done(info: LoraInfo) -> None:
            if request == self._lora_request:
                self._lora_checked(info, "")

        def failed(_kind: str, message: str) -> None:
            if request == self._lora_request:
                self._lora_checked(None, message)

        self._jobs.run(
            read, while_alive(self, done), while_alive(self, failed), label="inspect adapter"
        )

    def _lora_checked(self, info: LoraInfo | None, message: str) -> None:
        self._lora_reading = False
        self._lora_info = info
        if info is None:
            self._lora_status.setStyleSheet(_ERROR_STYLE)
            self._lora_status.setText(
                self.tr("The LoRA adapter cannot be used.") + "\n" + message.strip()
            )
        else:
            self._lora_status.setStyleSheet(_NOTE_STYLE)
            self._lora_status.setText(
                self.tr(
                    "LoRA for {architecture}: rank {rank}, alpha {alpha}, {count} tensors adapted"
                ).format(
                    architecture=info.architecture,
                    rank=_or_dash(info.rank),
                    alpha=_or_dash(info.alpha),
                    count=len(info.targets),
                )
            )
        self._lora_status.setVisible(True)
        self._update_load_button()

    def _update_load_button(self) -> None:
        lora_ok = not self._lora_edit.text().strip() or self._lora_info is not None
        self._load_button.setEnabled(self._info is not None and lora_ok and not self.reading)
        self._maybe_load()

    def _maybe_load(self) -> None:
        """Emit the load Load asked for, once the headers it waited for are read and fine."""
        wanted = self._load_wanted
        if wanted is None or self.reading:
            return
        self._load_wanted = None
        if self._info is None or self._info.path != wanted or not self._load_button.isEnabled():
            return  # refused: the reasons are on show
        self.sig_load_requested.emit(wanted, self.overrides())

    # ----------------------------------------------------------------- slots

    @Slot()
    def _on_open_button_clicked(self) -> None:
        start = self._path_edit.text() or str(Path.home())
        path, _ = QFileDialog.getOpenFileName(
            self, self.tr("Open GGUF model"), start, gguf_filter()
        )
        if path:
            self.inspect(path)

    @Slot()
    def _on_path_edit_editing_finished(self) -> None:
        text = self._path_edit.text().strip()
        if text and (self._info is None or self._info.path != text):
            self.inspect(text)

    @Slot()
    def _on_lora_button_clicked(self) -> None:
        start = self._lora_edit.text() or self._path_edit.text() or str(Path.home())
        path, _ = QFileDialog.getOpenFileName(
            self, self.tr("Choose LoRA adapter"), start, gguf_filter()
        )
        if path:
            self._lora_edit.setText(path)
            self._check_lora()

    @Slot()
    def _on_lora_edit_editing_finished(self) -> None:
        self._check_lora()

    @Slot(int)
    def _on_draft_combo_activated(self, index: int) -> None:
        data = self._draft_combo.itemData(index)
        if data != _CHOOSE_DRAFT:
            self._choose_draft(data)
            return
        start = self._draft_choice if self._draft_choice not in (None, DRAFT_DEFAULT) else None
        path, _ = QFileDialog.getOpenFileName(
            self,
            self.tr("Choose a draft model"),
            start or self._path_edit.text() or str(Path.home()),
            gguf_filter(),
        )
        if path:
            self._choose_draft(path)
        else:
            self.set_draft_choice(self._draft_choice)  # cancelled: the choice stays

    @Slot(bool)
    def _on_lookup_check_toggled(self, _checked: bool) -> None:
        self.sig_speed_changed.emit(*self.speed())

    @Slot(int)
    def _on_max_draft_spin_value_changed(self, _value: int) -> None:
        self.sig_speed_changed.emit(*self.speed())

    @Slot(bool)
    def _on_override_check_toggled(self, checked: bool) -> None:
        self._override_edit.setEnabled(checked)
        if checked and not self._override_edit.toPlainText() and self._info is not None:
            # Start from the file's template: most overrides fix a detail of it.
            self._override_edit.setPlainText(self._info.chat_template or "")

    @Slot()
    def _on_load_button_clicked(self) -> None:
        path = self._path_edit.text().strip()
        if not path:
            self._show_file_error(self.tr("Choose a model file first."))
            return
        # Loads once the headers are read again (the files may have changed).
        self._load_wanted = path
        if self._info is None or self._info.path != path:
            self.inspect(path)  # then checks the adapter against it
        else:
            self._check_lora()


def _add_row(
    form: QFormLayout,
    title: str,
    field: QWidget | QVBoxLayout,
    buddy: QWidget | None = None,
) -> None:
    """A form row whose label names itself and points at its field for screen readers."""
    label = QLabel(QCoreApplication.translate("ModelPanel", "{title}:").format(title=title))
    label.setAccessibleName(
        QCoreApplication.translate("ModelPanel", "{title} label").format(title=title)
    )
    target = buddy if buddy is not None else field
    if isinstance(target, QWidget):
        label.setBuddy(target)
    form.addRow(label, field)


def _no_resource() -> None:
    """The header-reading queue needs no resource: each job opens its own file."""
    return None


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return a == b
