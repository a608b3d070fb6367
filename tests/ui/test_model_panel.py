"""The Model dock: inspector, refusals in red, load options, and the controller behind it."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from gguf_factory import (
    DEFAULT_TEMPLATE,
    MODEL_NAME,
    N_LAYERS,
    tiny_vocab_size,
    write_malformed,
    write_tiny_llama,
    write_tiny_lora,
)
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QDoubleSpinBox,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)
from pytestqt.qtbot import QtBot

from desktop_app.core.engine.fake import FakeEngine
from desktop_app.core.engine.protocol import GenerateRequest, Message, ModelLoaded
from desktop_app.core.models.fingerprint import template_sha256
from desktop_app.core.models.gguf_info import ModelContents
from desktop_app.core.settings import LoadOverrides, Settings, load_settings
from desktop_app.ui.model import panel as panel_module
from desktop_app.ui.model.panel import ModelPanel, inspector_text
from desktop_app.workers.engine.inference import InferenceController

TIMEOUT_MS = 5000
SCREENSHOT = Path("/tmp/model_panel.png")


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    return write_tiny_llama(tmp_path / "tiny.gguf", n_ctx=512)


@pytest.fixture
def lora(tmp_path: Path) -> Path:
    return write_tiny_lora(tmp_path / "tiny-lora.gguf")


@pytest.fixture
def panel(qtbot: QtBot) -> ModelPanel:
    p = ModelPanel(Settings(), gpu_offload=False)
    qtbot.addWidget(p)
    p.resize(440, 1250)
    return p


def inspected(qtbot: QtBot, panel: ModelPanel, path: Path | str) -> bool:
    """Inspect ``path`` and wait for the worker thread's answer: accepted or not."""
    with qtbot.waitSignal(panel.sig_inspected, timeout=TIMEOUT_MS) as blocker:
        panel.inspect(path)
    assert blocker.args is not None and blocker.args[0] == str(path)
    accepted: bool = blocker.args[1]
    qtbot.waitUntil(lambda: not panel.reading, timeout=TIMEOUT_MS)  # the adapter's check
    return accepted


def settle(qtbot: QtBot, panel: ModelPanel) -> None:
    """Wait until no header is being read."""
    qtbot.waitUntil(lambda: not panel.reading, timeout=TIMEOUT_MS)


def by_name(panel: ModelPanel, kind: type[QWidget], accessible: str) -> QWidget:
    found = [w for w in panel.findChildren(kind) if w.accessibleName() == accessible]
    assert len(found) == 1, (accessible, found)
    return found[0]


def test_the_inspector_shows_what_the_header_declares(
    qtbot: QtBot, panel: ModelPanel, tiny: Path
) -> None:
    assert inspected(qtbot, panel, tiny)
    label = lambda name: by_name(panel, QLabel, name).text()  # noqa: E731
    assert label("Architecture") == "llama"
    assert label("Name") == MODEL_NAME
    assert label("Vocabulary") == f"{tiny_vocab_size():,} tokens"
    assert label("Context trained") == "512 tokens"
    assert label("Layers") == str(N_LAYERS)
    assert label("Heads (KV)") == "4 (2)"
    assert label("Quantization") == "F32"
    assert label("Tokenizer") == "llama"
    assert "bytes" in label("File size")
    template = by_name(panel, QPlainTextEdit, "Chat template from the file")
    assert template.toPlainText() == DEFAULT_TEMPLATE and template.isReadOnly()
    assert not by_name(panel, QLabel, "Model file error").isVisible()
    assert by_name(panel, QPushButton, "Load model").isEnabled()


@pytest.mark.parametrize("kind", ["truncated", "bad_magic", "unknown_arch"])
def test_a_malformed_file_shows_the_refusal_in_red(
    qtbot: QtBot, panel: ModelPanel, tmp_path: Path, kind: str
) -> None:
    panel.show()
    bad = write_malformed(tmp_path / f"{kind}.gguf", kind)
    with qtbot.waitSignal(panel.sig_inspected, timeout=TIMEOUT_MS) as blocker:
        panel.inspect(bad)
    assert blocker.args == [str(bad), False]
    error = by_name(panel, QLabel, "Model file error")
    assert error.isVisible() and str(bad) in error.text()
    assert "a40000" in error.styleSheet()
    assert by_name(panel, QLabel, "Architecture").text() == "—"
    assert not by_name(panel, QPushButton, "Load model").isEnabled()


def test_a_missing_file_typed_in_the_path_field_is_explained(
    qtbot: QtBot, panel: ModelPanel, tmp_path: Path
) -> None:
    panel.show()
    edit = by_name(panel, QLineEdit, "Model file path")
    edit.setFocus()
    qtbot.keyClicks(edit, str(tmp_path / "nope.gguf"))
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    error = by_name(panel, QLabel, "Model file error")
    qtbot.waitUntil(lambda: "does not exist" in error.text(), timeout=TIMEOUT_MS)


def test_load_emits_the_path_and_the_chosen_overrides(
    qtbot: QtBot, panel: ModelPanel, tiny: Path, lora: Path
) -> None:
    panel.show()
    assert inspected(qtbot, panel, tiny)
    by_name(panel, QSpinBox, "Context length").setValue(2048)
    by_name(panel, QSpinBox, "GPU layers").setValue(-1)
    by_name(panel, QSpinBox, "Threads").setValue(3)
    override = by_name(panel, QCheckBox, "Override template")
    # On the box itself: the check box is wider than its text, whose end is not clickable.
    qtbot.mouseClick(override, Qt.MouseButton.LeftButton, pos=QPoint(8, override.height() // 2))
    editor = by_name(panel, QPlainTextEdit, "Override template text")
    assert editor.isEnabled() and editor.toPlainText() == DEFAULT_TEMPLATE, "starts from the file's"
    editor.setPlainText("{{ messages[0]['content'] }}")
    lora_edit = by_name(panel, QLineEdit, "LoRA adapter path")
    lora_edit.setText(str(lora))
    lora_edit.editingFinished.emit()
    settle(qtbot, panel)
    status = by_name(panel, QLabel, "LoRA adapter status")
    assert "rank 4" in status.text() and "alpha 8.0" in status.text()
    by_name(panel, QDoubleSpinBox, "LoRA scale").setValue(0.75)

    with qtbot.waitSignal(panel.sig_load_requested) as blocker:
        qtbot.mouseClick(by_name(panel, QPushButton, "Load model"), Qt.MouseButton.LeftButton)
    path, overrides = blocker.args
    assert path == str(tiny)
    assert overrides == LoadOverrides(
        n_ctx=2048,
        n_gpu_layers=-1,
        n_threads=3,
        chat_template_override="{{ messages[0]['content'] }}",
        lora_path=str(lora),
        lora_scale=0.75,
    )


def test_auto_threads_and_no_override_are_none(qtbot: QtBot, panel: ModelPanel, tiny: Path) -> None:
    assert inspected(qtbot, panel, tiny)
    assert by_name(panel, QSpinBox, "Threads").text() == "Auto"
    o = panel.overrides()
    assert o.n_threads is None and o.chat_template_override is None and o.lora_path is None


def test_an_adapter_that_does_not_fit_is_refused_in_the_panel(
    qtbot: QtBot, panel: ModelPanel, tiny: Path, tmp_path: Path
) -> None:
    panel.show()
    assert inspected(qtbot, panel, tiny)
    lora_edit = by_name(panel, QLineEdit, "LoRA adapter path")
    lora_edit.setText(str(tiny))  # a model, not an adapter
    lora_edit.editingFinished.emit()
    settle(qtbot, panel)
    status = by_name(panel, QLabel, "LoRA adapter status")
    assert status.isVisible() and "is not a LoRA adapter" in status.text()
    assert "a40000" in status.styleSheet()
    assert not by_name(panel, QPushButton, "Load model").isEnabled()
    lora_edit.setText(str(write_tiny_lora(tmp_path / "wide.gguf", n_embd=128)))
    lora_edit.editingFinished.emit()
    settle(qtbot, panel)
    assert "does not fit" in status.text()
    lora_edit.clear()
    lora_edit.editingFinished.emit()
    assert by_name(panel, QPushButton, "Load model").isEnabled()


def test_the_settings_fill_the_controls(qtbot: QtBot, tiny: Path, lora: Path) -> None:
    settings = Settings(
        n_ctx=1024,
        n_gpu_layers=8,
        n_threads=2,
        chat_template_override="{{ x }}",
        lora_path=str(lora),
        lora_scale=1.5,
    )
    panel = ModelPanel(settings, gpu_offload=True)
    qtbot.addWidget(panel)
    assert inspected(qtbot, panel, tiny)
    assert panel.overrides() == LoadOverrides(1024, 8, 2, "{{ x }}", str(lora), 1.5)
    assert not by_name(panel, QLabel, "GPU note").isVisibleTo(panel)


def _gated_inspection(
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[threading.Event, threading.Event, threading.Event]:
    """Make the panel's header reads wait for a gate: (entered, gate, left)."""
    entered, gate, left = threading.Event(), threading.Event(), threading.Event()
    real = panel_module.inspect_contents

    def slow(path: str) -> ModelContents:
        entered.set()
        gate.wait(10)  # a hung disk, a network share, a huge crafted header
        left.set()
        return real(path)

    monkeypatch.setattr(panel_module, "inspect_contents", slow)
    return entered, gate, left


def test_a_slow_header_read_leaves_the_window_responsive(
    qtbot: QtBot, panel: ModelPanel, tiny: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entered, gate, left = _gated_inspection(monkeypatch)
    panel.show()
    panel.inspect(tiny)
    # The GUI thread goes on handling events while the read is stuck.
    ticks: list[bool] = []
    QTimer.singleShot(0, lambda: ticks.append(left.is_set()))
    qtbot.waitUntil(lambda: bool(ticks) and entered.is_set(), timeout=TIMEOUT_MS)
    assert ticks == [False], "the event loop ran only after the read ended"
    reading = by_name(panel, QLabel, "Model file reading")
    assert reading.isVisible() and reading.text() == "Reading the file's header…"
    assert not by_name(panel, QPushButton, "Load model").isEnabled()
    with qtbot.waitSignal(panel.sig_inspected, timeout=TIMEOUT_MS) as blocker:
        gate.set()
    assert blocker.args == [str(tiny), True]
    assert by_name(panel, QLabel, "Architecture").text() == "llama"
    assert not reading.isVisible()
    assert by_name(panel, QPushButton, "Load model").isEnabled()


def test_an_answer_for_a_path_no_longer_in_the_field_is_dropped(
    qtbot: QtBot, panel: ModelPanel, tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entered, gate, _left = _gated_inspection(monkeypatch)
    heard: list[tuple[str, bool]] = []
    panel.sig_inspected.connect(lambda path, ok: heard.append((path, ok)))
    panel.show()
    panel.inspect(tiny)
    qtbot.waitUntil(entered.is_set, timeout=TIMEOUT_MS)
    by_name(panel, QLineEdit, "Model file path").setText(str(tmp_path / "another.gguf"))
    gate.set()
    qtbot.waitUntil(lambda: not panel.reading, timeout=TIMEOUT_MS)
    assert heard == []
    assert by_name(panel, QLabel, "Architecture").text() == "—"
    assert not by_name(panel, QPushButton, "Load model").isEnabled()

    # A newer request wins over an older one still being read.
    entered.clear()
    gate.clear()
    other = write_tiny_llama(tmp_path / "other.gguf", n_ctx=1024)
    panel.inspect(tiny)
    qtbot.waitUntil(entered.is_set, timeout=TIMEOUT_MS)
    panel.inspect(other)
    with qtbot.waitSignal(panel.sig_inspected, timeout=TIMEOUT_MS):
        gate.set()
    qtbot.waitUntil(lambda: not panel.reading, timeout=TIMEOUT_MS)
    assert heard == [(str(other), True)]
    assert by_name(panel, QLabel, "Context trained").text() == "1,024 tokens"


def test_without_gpu_support_the_panel_says_so(panel: ModelPanel) -> None:
    note = by_name(panel, QLabel, "GPU note")
    assert note.isVisibleTo(panel) and "no GPU support" in note.text()
    by_name(panel, QSpinBox, "GPU layers").setValue(-1)
    assert by_name(panel, QSpinBox, "GPU layers").text() == "All"


def test_accepts_only_gguf_files(panel: ModelPanel) -> None:
    assert panel.accepts_file("/models/Qwen.Q4_K_M.GGUF")
    assert panel.accepts_file(Path("a.gguf"))
    assert not panel.accepts_file("notes.txt") and not panel.accepts_file("model.gguf.part")


def test_every_widget_has_an_accessible_name(panel: ModelPanel) -> None:
    kinds = (QLabel, QPushButton, QLineEdit, QAbstractSpinBox, QCheckBox, QPlainTextEdit, QGroupBox)
    unnamed = [
        f"{type(w).__name__} {getattr(w, 'text', lambda: '')()!r}"
        for w in panel.findChildren(QWidget)
        if isinstance(w, kinds)
        and not isinstance(w.parent(), QAbstractSpinBox)  # a spin box's own line edit
        and not w.accessibleName()
    ]
    assert unnamed == []


def test_inspector_text_handles_a_sparse_header() -> None:
    texts = inspector_text({"architecture": "llama", "size_bytes": 10, "rope": {}})
    assert texts["name"] == "—" and texts["parameter_count"] == "—"
    assert texts["size_bytes"] == "10 bytes (10 bytes)"


# -- with the controller ------------------------------------------------------------------


@pytest.fixture
def controller(qtbot: QtBot, tmp_path: Path) -> Iterator[InferenceController]:
    c = InferenceController(FakeEngine, Settings(), settings_path=tmp_path / "settings.json")
    yield c
    assert c.shutdown()


def test_load_applies_the_overrides_saves_them_and_fingerprints_the_file(
    qtbot: QtBot, panel: ModelPanel, controller: InferenceController, tiny: Path, lora: Path
) -> None:
    panel.sig_load_requested.connect(controller.load_model)
    controller.sig_model_loaded.connect(panel.set_loaded)
    controller.sig_model_fingerprint.connect(panel.set_fingerprint)
    panel.show()
    assert inspected(qtbot, panel, tiny)
    by_name(panel, QSpinBox, "Context length").setValue(1024)
    lora_edit = by_name(panel, QLineEdit, "LoRA adapter path")
    lora_edit.setText(str(lora))
    lora_edit.editingFinished.emit()
    settle(qtbot, panel)
    by_name(panel, QDoubleSpinBox, "LoRA scale").setValue(0.5)

    with qtbot.waitSignals(
        [controller.sig_model_loaded, controller.sig_model_fingerprint], timeout=TIMEOUT_MS
    ):
        qtbot.mouseClick(by_name(panel, QPushButton, "Load model"), Qt.MouseButton.LeftButton)

    loaded = controller.model_loaded
    assert isinstance(loaded, ModelLoaded)
    assert (loaded.n_ctx, loaded.lora_path, loaded.lora_scale) == (1024, str(lora), 0.5)
    assert loaded.template_sha256 == template_sha256(None)
    sha = hashlib.sha256(tiny.read_bytes()).hexdigest()
    assert controller.model_fingerprint == (str(tiny), sha)
    assert by_name(panel, QLineEdit, "SHA-256").text() == sha
    summary = by_name(panel, QLabel, "Loaded model summary").text()
    assert "tiny.gguf" in summary and "tiny-lora.gguf × 0.5" in summary
    saved = load_settings(controller._settings_path)
    assert (saved.n_ctx, saved.lora_path, saved.lora_scale) == (1024, str(lora), 0.5)
    assert controller.settings == saved

    panel.grab().save(str(SCREENSHOT))
    assert SCREENSHOT.stat().st_size > 0


def test_overrides_out_of_bounds_are_refused_without_a_load(
    qtbot: QtBot, controller: InferenceController, tiny: Path
) -> None:
    with qtbot.waitSignal(controller.sig_error) as blocker:
        controller.load_model(str(tiny), LoadOverrides(n_ctx=10, lora_scale=9.0))
    kind, message = blocker.args
    assert kind == "invalid_request" and "n_ctx" in message and "lora_scale" in message
    assert controller.worker_thread is None, "nothing was started"


def test_a_reply_does_not_wait_for_the_fingerprint(
    qtbot: QtBot, controller: InferenceController, tmp_path: Path
) -> None:
    big = tmp_path / "big.gguf"
    with big.open("wb") as fh:
        fh.truncate(96 << 20)  # sparse: reading it costs hashing time only
    order: list[str] = []
    request = GenerateRequest(messages=(Message("user", "hi"),))

    def on_loaded(_loaded: object) -> None:
        order.append("loaded")
        controller.send(request)

    controller.sig_model_loaded.connect(on_loaded)
    controller.sig_done.connect(lambda _d: order.append("done"))
    controller.sig_model_fingerprint.connect(lambda _p, _s: order.append("fingerprint"))
    with qtbot.waitSignal(controller.sig_model_fingerprint, timeout=20000) as blocker:
        controller.load_model(str(big))
    assert order == ["loaded", "done", "fingerprint"]
    assert blocker.args[1] == hashlib.sha256(bytes(96 << 20)).hexdigest()
