"""The Model panel's "what the model is made of" rows and its tensor table.

Under the inspector: the share of the tensor data in each type, bits per
weight, the KV cache at the context chosen in Load options (and at the cache
type chosen here), the engine's expected memory and whether it fits this
machine ("Fits", "Tight", "Will not fit"), all from the header, before the
model is loaded. "Tensors…" opens every tensor's type and shape, grouped by
layer. Names from the file are shown as plain text.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.models.defaults import human_size
from desktop_app.core.models.gguf_info import ModelContents
from desktop_app.core.models.memory_fit import (
    CACHE_TYPES,
    FITS,
    NO_FIT,
    TIGHT,
    MachineMemory,
    MemoryEstimate,
    MemoryFit,
    estimate_memory,
    fit_memory,
    machine_memory,
)
from desktop_app.core.models.weights import bits_per_weight, group_by_layer, type_shares

_FIT_STYLES = {
    FITS: "color: #1a7f37; font-weight: bold;",
    TIGHT: "color: #9a6700; font-weight: bold;",
    NO_FIT: "color: #a40000; font-weight: bold;",
}
_NOTE_STYLE = "color: #666666;"
#: The cache type the engine loads with.
ENGINE_CACHE_TYPE = "f16"


def fit_text(fit: MemoryFit) -> str:
    """The fit label a person reads: Fits, Tight or Will not fit."""
    labels = {
        FITS: QCoreApplication.translate("ModelAnatomy", "Fits"),
        TIGHT: QCoreApplication.translate("ModelAnatomy", "Tight"),
        NO_FIT: QCoreApplication.translate("ModelAnatomy", "Will not fit"),
    }
    return labels[fit.label]


def shares_text(contents: ModelContents) -> str:
    """The types by share of the tensor data, e.g. "Q4_K 71.2 %, Q6_K 22.5 %, F32 0.1 %"."""
    return (
        ", ".join(f"{s.type_name} {100 * s.share:.1f} %" for s in type_shares(contents.tensors))
        or "—"
    )


class ModelAnatomy(QWidget):
    """Types, bits per weight, KV cache, expected memory and fit for the inspected model.

    ``set_contents`` takes the header (None: nothing inspected); ``set_context``
    and the cache-type choice recompute the memory rows at once (the figures
    come from the header, no file is read again).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName(self.tr("Model contents and memory"))
        self._contents: ModelContents | None = None
        self._n_ctx = 4096
        self._gpu_layers = 0
        self._memory: MachineMemory | None = None
        self._estimate: MemoryEstimate | None = None
        self._fit: MemoryFit | None = None
        self._dialog: TensorsDialog | None = None

        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)

        def value(name: str) -> QLabel:
            label = QLabel("—")
            label.setAccessibleName(name)
            label.setWordWrap(True)
            label.setTextFormat(Qt.TextFormat.PlainText)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            return label

        self._types = value(self.tr("Tensor types"))
        self._tensors_button = QPushButton(self.tr("Tensors…"))
        self._tensors_button.setAccessibleName(self.tr("Show every tensor by layer"))
        self._tensors_button.setToolTip(self.tr("Each tensor's type and shape, grouped by layer"))
        self._tensors_button.setEnabled(False)
        self._tensors_button.clicked.connect(self._on_tensors_button_clicked)
        types_row = QHBoxLayout()
        types_row.setContentsMargins(0, 0, 0, 0)
        types_row.addWidget(self._types, 1)
        types_row.addWidget(self._tensors_button, 0, Qt.AlignmentFlag.AlignTop)
        self._row(form, self.tr("Types"), types_row, self._types)

        self._bpw = value(self.tr("Bits per weight"))
        self._row(form, self.tr("Bits per weight"), self._bpw)

        self._cache_combo = QComboBox()
        self._cache_combo.setAccessibleName(self.tr("KV cache type"))
        for name in CACHE_TYPES:
            shown = (
                self.tr("{type} (the engine's)").format(type=name)
                if name == ENGINE_CACHE_TYPE
                else self.tr("{type} (estimate only)").format(type=name)
            )
            self._cache_combo.addItem(shown, name)
        self._cache_combo.setToolTip(
            self.tr(
                "The engine keeps the KV cache in f16. q8_0 and q4_0 show what a quantized "
                "cache would take (llama.cpp needs flash attention for it)."
            )
        )
        self._cache_combo.currentIndexChanged.connect(self._on_cache_combo_changed)
        self._row(form, self.tr("KV cache type"), self._cache_combo)

        self._kv = value(self.tr("KV cache"))
        self._row(form, self.tr("KV cache"), self._kv)
        self._memory_label = value(self.tr("Expected memory"))
        self._row(form, self.tr("Expected memory"), self._memory_label)
        self._fit_label = value(self.tr("Fit"))
        self._row(form, self.tr("Fit"), self._fit_label)

    def _row(
        self,
        form: QFormLayout,
        title: str,
        field: QWidget | QHBoxLayout,
        buddy: QWidget | None = None,
    ) -> None:
        """A row whose label names itself and points at its field, as the inspector's rows."""
        label = QLabel(self.tr("{title}:").format(title=title))
        label.setAccessibleName(self.tr("{title} label").format(title=title))
        target = buddy if buddy is not None else field
        if isinstance(target, QWidget):
            label.setBuddy(target)
        form.addRow(label, field)

    # ----------------------------------------------------------------- inputs

    def set_contents(self, contents: ModelContents | None) -> None:
        """Show what ``contents`` (a header read by ``inspect_contents``) says; None clears."""
        self._contents = contents
        self._tensors_button.setEnabled(contents is not None and bool(contents.tensors))
        if self._dialog is not None:
            self._dialog.close()
            self._dialog = None
        if contents is None:
            self._types.setText("—")
            self._bpw.setText("—")
        else:
            self._types.setText(shares_text(contents))
            bpw = bits_per_weight(contents.tensors)
            self._bpw.setText(f"{bpw:.2f}" if bpw else "—")
        self._refresh_memory()

    def set_context(self, n_ctx: int) -> None:
        """The context the model would be loaded with (Load options)."""
        self._n_ctx = n_ctx
        self._refresh_memory()

    def set_gpu_layers(self, n_gpu_layers: int) -> None:
        """The GPU layers chosen in Load options (0: all on the CPU)."""
        self._gpu_layers = n_gpu_layers
        self._refresh_memory()

    def set_machine_memory(self, memory: MachineMemory | None) -> None:
        """Judge the fit against ``memory`` instead of this machine's (tests, remote hosts)."""
        self._memory = memory
        self._refresh_memory()

    # ---------------------------------------------------------------- outputs

    @property
    def cache_type(self) -> str:
        """The KV cache type the memory rows are computed for."""
        return str(self._cache_combo.currentData())

    def set_cache_type(self, cache_type: str) -> None:
        """Compute the memory rows for ``cache_type`` (f16, q8_0 or q4_0)."""
        index = self._cache_combo.findData(cache_type)
        if index < 0:
            raise ValueError(f"unknown KV cache type {cache_type!r}")
        self._cache_combo.setCurrentIndex(index)

    @property
    def estimate(self) -> MemoryEstimate | None:
        """The estimate shown (None: no model, or the header lacks the numbers)."""
        return self._estimate

    @property
    def fit(self) -> MemoryFit | None:
        """The fit shown (None where no estimate or no machine memory)."""
        return self._fit

    def texts(self) -> dict[str, str]:
        """What each row shows (for tests and screenshots)."""
        return {
            "types": self._types.text(),
            "bpw": self._bpw.text(),
            "kv": self._kv.text(),
            "memory": self._memory_label.text(),
            "fit": self._fit_label.text(),
        }

    def tensors_dialog(self) -> TensorsDialog | None:
        """The open tensor table, if any."""
        return self._dialog

    # ---------------------------------------------------------------- showing

    def _refresh_memory(self) -> None:
        self._estimate = None
        self._fit = None
        contents = self._contents
        self._fit_label.setStyleSheet("")
        if contents is None:
            for label in (self._kv, self._memory_label, self._fit_label):
                label.setText("—")
            return
        try:
            est = estimate_memory(contents, self._n_ctx, self.cache_type)
        except ValueError as exc:
            self._kv.setText(str(exc))
            self._memory_label.setText("—")
            self._fit_label.setText("—")
            return
        self._estimate = est
        self._kv.setText(
            self.tr("{size} at {n_ctx} tokens ({type})").format(
                size=human_size(est.kv_cache), n_ctx=f"{est.n_ctx:,}", type=est.cache_type
            )
        )
        self._memory_label.setText(
            self.tr(
                "{total}: weights {weights}, repacked weights {repacked}, KV cache {kv}, "
                "compute {compute}, runtime {runtime}"
            ).format(
                total=human_size(est.total),
                weights=human_size(est.weights),
                repacked=human_size(est.repacked),
                kv=human_size(est.kv_cache),
                compute=human_size(est.compute),
                runtime=human_size(est.runtime),
            )
        )
        memory = self._memory if self._memory is not None else machine_memory()
        if memory is None:
            self._fit_label.setText(self.tr("Not known: this system does not say its memory."))
            return
        fit = fit_memory(est.total, memory)
        self._fit = fit
        detail = self.tr("needs {needed} of {available} available ({total} RAM)").format(
            needed=human_size(fit.needed),
            available=human_size(fit.available),
            total=human_size(fit.total),
        )
        if self._gpu_layers != 0:
            detail += self.tr("; GPU memory is not checked, all of it is counted in RAM")
        self._fit_label.setText(f"{fit_text(fit)} — {detail}")
        self._fit_label.setStyleSheet(_FIT_STYLES[fit.label])

    @Slot(int)
    def _on_cache_combo_changed(self, _index: int) -> None:
        self._refresh_memory()

    @Slot()
    def _on_tensors_button_clicked(self) -> None:
        if self._contents is None:
            return
        if self._dialog is None:
            self._dialog = TensorsDialog(self._contents, self)
        self._dialog.show()
        self._dialog.raise_()


class TensorsDialog(QDialog):
    """Every tensor's type, shape and size, grouped by layer (one expandable row a layer)."""

    def __init__(self, contents: ModelContents, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        name = contents.info.name or contents.info.path
        self.setWindowTitle(self.tr("Tensors of {name}").format(name=name))
        self.setAccessibleName(self.tr("Tensors by layer"))
        self.resize(720, 560)
        layout = QVBoxLayout(self)
        summary = QLabel(
            self.tr("{count} tensors, {size}, {bpw:.2f} bits per weight: {shares}").format(
                count=f"{len(contents.tensors):,}",
                size=human_size(sum(t.n_bytes for t in contents.tensors)),
                bpw=bits_per_weight(contents.tensors),
                shares=shares_text(contents),
            )
        )
        summary.setTextFormat(Qt.TextFormat.PlainText)
        summary.setWordWrap(True)
        summary.setAccessibleName(self.tr("Tensor summary"))
        layout.addWidget(summary)
        self.tree = QTreeWidget()
        self.tree.setAccessibleName(self.tr("Tensors by layer"))
        self.tree.setHeaderLabels(
            [self.tr("Layer / tensor"), self.tr("Type"), self.tr("Shape"), self.tr("Size")]
        )
        self.tree.setUniformRowHeights(True)
        for group in group_by_layer(contents.tensors):
            if group.layer is None and len(group.tensors) == 1:
                t = group.tensors[0]
                item = QTreeWidgetItem(
                    [t.name, t.type_name, " × ".join(map(str, t.shape)), human_size(t.n_bytes)]
                )
            else:
                item = QTreeWidgetItem(
                    [group.name, ", ".join(group.types), "", human_size(group.n_bytes)]
                )
                for t in group.tensors:
                    item.addChild(
                        QTreeWidgetItem(
                            [
                                t.name.removeprefix(f"{group.name}."),
                                t.type_name,
                                " × ".join(map(str, t.shape)),
                                human_size(t.n_bytes),
                            ]
                        )
                    )
            self.tree.addTopLevelItem(item)
        # Sized with every layer open, so a tensor's name fits when one is opened.
        self.tree.expandAll()
        for column in range(3):
            self.tree.resizeColumnToContents(column)
        self.tree.collapseAll()
        layout.addWidget(self.tree, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout.addWidget(buttons)
        note = QLabel(
            self.tr("Shapes in GGML order: the row length first. Sizes are the data in the file.")
        )
        note.setAccessibleName(self.tr("Tensor table note"))
        note.setStyleSheet(_NOTE_STYLE)
        note.setWordWrap(True)
        layout.addWidget(note)
