"""A failed switch to a server is shown in the window's status bar, not covered by "Ready"."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot
from remote_server import closed_port

from desktop_app.app import build
from desktop_app.core.engine.fake import FakeEngine
from desktop_app.core.settings import Settings
from desktop_app.workers.engine.inference import InferenceController

TIMEOUT_MS = 10_000


def test_a_failed_switch_leaves_its_error_in_the_status_bar(qtbot: QtBot, tmp_path: Path) -> None:
    c = InferenceController(
        FakeEngine, Settings(), settings_path=tmp_path / "settings.json",
        resolver=lambda spec, progress: Path(spec), remember_model=False,
    )  # fmt: skip
    try:
        window = build(c, model_spec="fake.gguf").window
        qtbot.addWidget(window)
        with qtbot.waitSignal(c.sig_model_loaded, timeout=TIMEOUT_MS):
            window.show()
        with qtbot.waitSignal(c.sig_error, timeout=TIMEOUT_MS):
            c.use_remote(f"http://127.0.0.1:{closed_port()}/v1")
        qtbot.wait(150)
        status = window._status_label.text()
        assert "connection refused" in status and "Ready" not in status
        assert c.model_loaded is not None  # the local model still answers
    finally:
        assert c.shutdown()
