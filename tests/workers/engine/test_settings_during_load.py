"""Settings changed while a model loads are kept when the load finishes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from desktop_app.core.engine.fake import FakeEngine
from desktop_app.core.settings import Settings, load_settings
from desktop_app.workers.engine.inference import InferenceController

TIMEOUT_MS = 10_000


@pytest.fixture
def gate() -> Iterator[threading.Event]:
    opened = threading.Event()
    yield opened
    opened.set()


def test_a_change_made_while_the_model_loads_is_not_reverted(
    qtbot: QtBot, tmp_path: Path, gate: threading.Event
) -> None:
    path = tmp_path / "settings.json"
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")

    def slow_resolver(spec: str, progress: object) -> Path:
        gate.wait(TIMEOUT_MS / 1000)
        return Path(spec)

    controller = InferenceController(
        FakeEngine, Settings(), settings_path=path, resolver=slow_resolver
    )
    try:
        controller.load_model(str(model))
        # While the load waits: the user picks Chinese and a dark theme in Settings.
        changed = controller.settings.model_copy(update={"language": "zh_CN", "theme": "dark"})
        controller.update_settings(changed)
        with qtbot.waitSignal(controller.sig_model_loaded, timeout=TIMEOUT_MS):
            gate.set()
        for settings in (controller.settings, load_settings(path)):
            assert settings.language == "zh_CN" and settings.theme == "dark"
            # ...and the load's own news is there too.
            assert settings.last_model == str(model.resolve())
    finally:
        gate.set()
        assert controller.shutdown()
