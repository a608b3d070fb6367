"""The Model panel shows what a model is made of and whether it fits, before loading it."""

from __future__ import annotations

from pathlib import Path

import pytest
from gguf_factory import write_quantized
from PySide6.QtWidgets import QComboBox, QPushButton, QSpinBox
from pytestqt.qtbot import QtBot

from desktop_app.core.models.defaults import human_size
from desktop_app.core.models.gguf_info import inspect_contents
from desktop_app.core.models.memory_fit import MachineMemory, kv_cache_bytes
from desktop_app.core.settings import Settings
from desktop_app.ui.model.anatomy import ModelAnatomy, TensorsDialog
from desktop_app.ui.model.panel import ModelPanel

TIMEOUT_MS = 5000
GIB = 2**30


def _by_name(parent: ModelPanel, kind: type, name: str):  # type: ignore[no-untyped-def]
    found = [w for w in parent.findChildren(kind) if w.accessibleName() == name]
    assert len(found) == 1, f"{len(found)} widgets named {name!r}"
    return found[0]


@pytest.fixture
def panel(qtbot: QtBot) -> ModelPanel:
    p = ModelPanel(Settings(), gpu_offload=False)
    qtbot.addWidget(p)
    p.resize(460, 1400)
    return p


@pytest.fixture
def model(tmp_path: Path) -> Path:
    return write_quantized(tmp_path / "q.gguf", n_layers=3)


def _inspect(qtbot: QtBot, panel: ModelPanel, path: Path) -> ModelAnatomy:
    with qtbot.waitSignal(panel.sig_inspected, timeout=TIMEOUT_MS) as blocker:
        panel.inspect(path)
    assert blocker.args == [str(path), True]
    qtbot.waitUntil(lambda: not panel.reading, timeout=TIMEOUT_MS)
    anatomy = panel.findChild(ModelAnatomy)
    assert anatomy is not None
    return anatomy


def test_types_bits_and_kv_follow_the_context(qtbot: QtBot, panel: ModelPanel, model: Path) -> None:
    anatomy = _inspect(qtbot, panel, model)
    texts = anatomy.texts()
    assert texts["types"].startswith("Q4_K ") and "Q6_K" in texts["types"]
    assert float(texts["bpw"]) > 4.5
    att = inspect_contents(model).attention
    assert att is not None
    ctx = _by_name(panel, QSpinBox, "Context length")
    ctx.setValue(8192)
    assert anatomy.texts()["kv"] == f"{human_size(kv_cache_bytes(att, 8192))} at 8,192 tokens (f16)"
    ctx.setValue(2048)
    assert anatomy.texts()["kv"] == f"{human_size(kv_cache_bytes(att, 2048))} at 2,048 tokens (f16)"
    combo = _by_name(panel, QComboBox, "KV cache type")
    combo.setCurrentIndex(combo.findData("q4_0"))
    assert anatomy.texts()["kv"].endswith("at 2,048 tokens (q4_0)")
    assert anatomy.estimate is not None and anatomy.estimate.kv_cache == kv_cache_bytes(
        att, 2048, "q4_0"
    )


def test_the_fit_label_before_loading(qtbot: QtBot, panel: ModelPanel, model: Path) -> None:
    anatomy = _inspect(qtbot, panel, model)
    anatomy.set_machine_memory(MachineMemory(total=64 * GIB, available=32 * GIB))
    assert anatomy.texts()["fit"].startswith("Fits — needs ")
    assert anatomy.estimate is not None
    need = anatomy.estimate.total
    anatomy.set_machine_memory(MachineMemory(total=2 * need, available=need))
    assert anatomy.texts()["fit"].startswith("Tight")
    anatomy.set_machine_memory(MachineMemory(total=need // 2, available=need // 4))
    assert anatomy.texts()["fit"].startswith("Will not fit")
    # A larger context moves the label the other way round as well.
    anatomy.set_machine_memory(MachineMemory(total=2 * need, available=2 * need))
    assert anatomy.texts()["fit"].startswith("Fits")
    _by_name(panel, QSpinBox, "Context length").setValue(131072)
    assert anatomy.texts()["fit"].startswith("Will not fit")


@pytest.mark.qt_log_ignore(r"^This plugin does not support (raise|propagateSizeHints)")
def test_tensors_dialog_groups_by_layer(qtbot: QtBot, panel: ModelPanel, model: Path) -> None:
    anatomy = _inspect(qtbot, panel, model)
    button = _by_name(panel, QPushButton, "Show every tensor by layer")
    assert button.isEnabled()
    button.click()
    dialog = anatomy.tensors_dialog()
    assert isinstance(dialog, TensorsDialog) and dialog.isVisible()
    tree = dialog.tree
    tops = [tree.topLevelItem(i) for i in range(tree.topLevelItemCount())]
    assert [t.text(0) for t in tops] == [
        "token_embd.weight",
        "blk.0",
        "blk.1",
        "blk.2",
        "output_norm.weight",
        "output.weight",
    ]
    assert tops[0].text(1) == "Q8_0" and tops[0].text(2) == "256 × 512"
    blk0 = tops[1]
    assert blk0.childCount() == 9
    children = {blk0.child(i).text(0): blk0.child(i).text(1) for i in range(blk0.childCount())}
    assert children["ffn_down.weight"] == "Q6_K" and children["attn_norm.weight"] == "F32"
    assert "Q6_K" not in tops[2].text(1)
    dialog.grab().save(str(Path("/tmp/model_tensors.png")))
    # Another file closes the table of the last one.
    _inspect(qtbot, panel, write_quantized(model.parent / "other.gguf", n_layers=1))
    assert anatomy.tensors_dialog() is None


def test_no_file_no_figures(qtbot: QtBot, panel: ModelPanel, tmp_path: Path) -> None:
    anatomy = panel.findChild(ModelAnatomy)
    assert anatomy is not None
    assert set(anatomy.texts().values()) == {"—"}
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"not a model at all")
    with qtbot.waitSignal(panel.sig_inspected, timeout=TIMEOUT_MS) as blocker:
        panel.inspect(bad)
    assert blocker.args == [str(bad), False]
    assert set(anatomy.texts().values()) == {"—"}
    assert not _by_name(panel, QPushButton, "Show every tensor by layer").isEnabled()
