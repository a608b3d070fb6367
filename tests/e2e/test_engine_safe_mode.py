"""A load that crashes the engine process is retried once in safe mode, and said so.

The crash is real: a test hook in the engine process (``GLASSBOX_TEST_CRASH_ON_LOAD``)
sends it SIGSEGV during the check that follows every load, as llama.cpp's AMX kernels
did on the first decode.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from desktop_app.app import build
from desktop_app.core.engine.llama_backend import CRASH_ON_LOAD_ENV
from desktop_app.core.engine.protocol import DoneEvent, EngineConfig, GenerateRequest
from desktop_app.core.errors import ModelLoadError
from desktop_app.core.sampling import SamplingParams
from desktop_app.core.settings import Settings
from desktop_app.ui.window.main_window import MainWindow
from desktop_app.workers.engine.client import EngineClient
from desktop_app.workers.engine.inference import InferenceController, resolve_with_defaults

pytestmark = pytest.mark.e2e


def test_a_crashed_load_is_retried_in_safe_mode_and_then_replies(
    gemma_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CRASH_ON_LOAD_ENV, "first")
    with EngineClient() as client:
        loaded = client.load(EngineConfig(str(gemma_path), n_ctx=512))
        assert loaded.safe_mode
        assert "SIGSEGV" in loaded.safe_reason
        assert "safe mode" in loaded.kernels and "no extra buffer types" in loaded.kernels
        events = list(
            client.generate(
                GenerateRequest(params=SamplingParams.greedy(max_tokens=4), prompt="Paris is")
            )
        )
        assert isinstance(events[-1], DoneEvent) and events[-1].completion_tokens == 4
        # A restart of the process (here: after a kill) keeps the safe configuration.
        assert client.config is not None and client.config.safe_mode


def test_a_load_that_crashes_in_safe_mode_too_gives_one_clear_message(
    gemma_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CRASH_ON_LOAD_ENV, "always")
    with EngineClient() as client, pytest.raises(ModelLoadError) as caught:
        client.load(EngineConfig(str(gemma_path), n_ctx=512))
    text = str(caught.value)
    assert text.count("SIGSEGV") == 2  # the first try and the safe one
    assert "safe mode" in text and "Processor:" in text and "glassbox doctor" in text


def test_a_normal_load_is_not_in_safe_mode_and_names_its_kernels(gemma_path: Path) -> None:
    with EngineClient() as client:
        loaded = client.load(EngineConfig(str(gemma_path), n_ctx=512))
    assert not loaded.safe_mode and loaded.safe_reason == ""
    assert loaded.kernels.startswith("CPU kernels")
    # Where AMX kernels run, extra buffer types stay off (the AMX one crashes).
    assert ("AMX" in loaded.kernels) == ("no extra buffer types" in loaded.kernels)


@pytest.fixture
def crashing_window(
    qtbot: QtBot, gemma_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[MainWindow]:
    monkeypatch.setenv(CRASH_ON_LOAD_ENV, "first")
    controller = InferenceController(
        EngineClient, Settings(n_ctx=512), resolver=resolve_with_defaults, remember_model=False
    )
    w = build(controller, model_spec=str(gemma_path)).window
    qtbot.addWidget(w)
    with qtbot.waitSignal(controller.sig_model_loaded, timeout=90_000):
        w.show()
    yield w
    w.close()


def test_the_window_says_it_loaded_in_safe_mode(crashing_window: MainWindow) -> None:
    status = crashing_window._status_label.text()
    assert "safe mode" in status and "SIGSEGV" in status
    assert "safe mode" in crashing_window.backend_text()
