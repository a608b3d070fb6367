"""A model asked for explicitly (--model, a .gguf file, --fake, --smoke-test) wins over
Settings' remote server at start-up, and a run that must not remember its model saves
nothing."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from pytestqt.qtbot import QtBot
from remote_server import closed_port

from desktop_app.app import build
from desktop_app.cli.gui import explicit_model
from desktop_app.core.engine.fake import FakeEngine
from desktop_app.core.settings import Settings
from desktop_app.workers.engine.inference import InferenceController

TIMEOUT_MS = 10_000


def remote_settings() -> Settings:
    # A server nobody answers on: going there would end in an error, not a model.
    return Settings(
        engine="openai", remote_base_url=f"http://127.0.0.1:{closed_port()}/v1",
        remote_model="tiny", remote_timeout_s=2.0,
    )  # fmt: skip


def gui_args(**kw: object) -> argparse.Namespace:
    base: dict[str, object] = {"model": None, "files": [], "fake": False, "smoke_test": None}
    return argparse.Namespace(**{**base, **kw})


def test_the_command_line_says_when_a_model_was_asked_for() -> None:
    assert not explicit_model(gui_args())
    assert not explicit_model(gui_args(files=["notes.pdf"]))
    assert explicit_model(gui_args(model="m.gguf"))
    assert explicit_model(gui_args(files=["file:///tmp/m.gguf"]))
    assert explicit_model(gui_args(fake=True))
    assert explicit_model(gui_args(smoke_test="Hi"))


def test_an_explicit_model_is_loaded_even_when_settings_chose_a_server(
    qtbot: QtBot, tmp_path: Path
) -> None:
    path = tmp_path / "settings.json"
    c = InferenceController(
        FakeEngine, remote_settings(), settings_path=path,
        resolver=lambda spec, progress: Path(spec), remember_model=False,
    )  # fmt: skip
    try:
        with qtbot.waitSignal(c.sig_model_loaded, timeout=TIMEOUT_MS) as blocker:
            c.load_initial("asked.gguf", explicit=True)
        assert blocker.args[0].model_path == "asked.gguf" and not c.is_remote()
        assert c.settings.engine == "local"
        # remember_model=False (--fake, --smoke-test): the saved server choice stays.
        assert not path.exists()
    finally:
        assert c.shutdown()


def test_the_window_passes_an_explicit_model_on(qtbot: QtBot, tmp_path: Path) -> None:
    c = InferenceController(
        FakeEngine, remote_settings(), settings_path=tmp_path / "settings.json",
        resolver=lambda spec, progress: Path(spec), remember_model=False,
    )  # fmt: skip
    try:
        window = build(c, model_spec="asked.gguf", explicit_model=True).window
        qtbot.addWidget(window)
        with qtbot.waitSignal(c.sig_model_loaded, timeout=TIMEOUT_MS) as blocker:
            window.show()
        assert blocker.args[0].model_path == "asked.gguf" and not c.is_remote()
    finally:
        assert c.shutdown()


def test_a_switch_back_to_local_is_not_saved_when_models_are_not_remembered(
    qtbot: QtBot, tmp_path: Path
) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"engine": "openai", "remote_base_url": "http://x/v1"}))
    c = InferenceController(
        FakeEngine, Settings(engine="openai", remote_base_url="http://x/v1"),
        settings_path=path, resolver=lambda spec, progress: Path(spec), remember_model=False,
    )  # fmt: skip
    try:
        with qtbot.waitSignal(c.sig_model_loaded, timeout=TIMEOUT_MS):
            c.load_model("fake.gguf")
        assert json.loads(path.read_text())["engine"] == "openai"
    finally:
        assert c.shutdown()
