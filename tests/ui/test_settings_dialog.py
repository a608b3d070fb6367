"""The settings dialog against a loopback OpenAI-format server and the window's controller."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot
from remote_server import MODELS, REPLY, RemoteServer, closed_port, running_server

from desktop_app.core.engine.fake import FakeEngine
from desktop_app.core.engine.protocol import DoneEvent, GenerateRequest, Message, TokenEvent
from desktop_app.core.sampling import SamplingParams
from desktop_app.core.settings import Settings, load_settings
from desktop_app.ui.window.settings_dialog import SettingsDialog
from desktop_app.workers.api.window import WindowApi
from desktop_app.workers.engine.inference import InferenceController

TIMEOUT_MS = 15_000


@pytest.fixture
def server() -> Iterator[RemoteServer]:
    with running_server() as srv:
        yield srv


@pytest.fixture
def controller(qtbot: QtBot, tmp_path: Path) -> Iterator[InferenceController]:
    c = InferenceController(
        FakeEngine,
        Settings(),
        settings_path=tmp_path / "settings.json",
        resolver=lambda spec, progress: Path(spec),
    )
    with qtbot.waitSignal(c.sig_model_loaded, timeout=TIMEOUT_MS):
        c.load_model("fake.gguf")
    yield c
    assert c.shutdown()


@pytest.fixture
def api(controller: InferenceController) -> Iterator[WindowApi]:
    service = WindowApi(controller)
    yield service
    service.stop()


@pytest.fixture
def dialog(qtbot: QtBot, controller: InferenceController, api: WindowApi) -> SettingsDialog:
    restarts: list[int] = []
    d = SettingsDialog(controller, api=api, restart=lambda: restarts.append(1))
    d.restarts = restarts  # type: ignore[attr-defined]
    qtbot.addWidget(d)
    return d


def ticks_while(qtbot: QtBot, done: object) -> int:
    """How often a 10 ms GUI timer fired until ``done()`` is true."""
    count = [0]
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: count.__setitem__(0, count[0] + 1))
    timer.start()
    qtbot.waitUntil(done, timeout=TIMEOUT_MS)  # type: ignore[arg-type]
    timer.stop()
    return count[0]


def test_every_control_has_an_accessible_name(dialog: SettingsDialog) -> None:
    from PySide6.QtWidgets import (
        QAbstractButton,
        QComboBox,
        QLineEdit,
        QSpinBox,
    )

    for kind in (QAbstractButton, QComboBox, QLineEdit, QSpinBox):
        for w in dialog.findChildren(kind):
            if isinstance(w, QLineEdit) and isinstance(w.parent(), QComboBox | QSpinBox):
                continue  # the line edit inside an editable combo or a spin box
            assert isinstance(w, QWidget) and w.accessibleName(), w


def test_listing_models_fills_the_combo_without_blocking(
    dialog: SettingsDialog, server: RemoteServer, qtbot: QtBot
) -> None:
    server.models_delay_s = 0.5
    dialog.remote_radio.setChecked(True)
    dialog.base_url.setText(server.url)
    dialog.list_button.click()
    n = ticks_while(qtbot, lambda: dialog.model.count() == len(MODELS))
    # The GUI thread kept processing events while the server took half a second.
    assert n >= 10
    assert [dialog.model.itemText(i) for i in range(dialog.model.count())] == MODELS
    assert dialog.engine_status.text().startswith("Connected: 2 models, ")
    assert dialog.engine_status.text().endswith(" ms")


def test_test_connection_to_a_closed_port_is_a_clear_error(
    dialog: SettingsDialog, qtbot: QtBot
) -> None:
    dialog.remote_radio.setChecked(True)
    dialog.base_url.setText(f"http://127.0.0.1:{closed_port()}/v1")
    dialog.test_button.click()
    qtbot.waitUntil(lambda: "connection refused" in dialog.engine_status.text(), timeout=TIMEOUT_MS)
    assert dialog.test_button.isEnabled()


def test_apply_switches_the_controller_to_the_server_and_back(
    dialog: SettingsDialog,
    controller: InferenceController,
    server: RemoteServer,
    qtbot: QtBot,
    tmp_path: Path,
) -> None:
    dialog.remote_radio.setChecked(True)
    dialog.base_url.setText(server.url)
    dialog.api_key.setText("")
    dialog.model.setEditText("tiny")
    with qtbot.waitSignal(controller.sig_model_loaded, timeout=TIMEOUT_MS) as blocker:
        dialog.apply_button.click()
    assert blocker.args[0].model_path == "tiny" and controller.is_remote()
    assert not controller.capabilities.sampler_stages

    tokens: list[TokenEvent] = []
    controller.sig_tokens.connect(tokens.extend)
    with qtbot.waitSignal(controller.sig_done, timeout=TIMEOUT_MS) as done:
        controller.send(
            GenerateRequest(
                params=SamplingParams(temperature=0.0),
                messages=(Message("user", "Hi"),),
                candidates=3,
            )
        )
    assert isinstance(done.args[0], DoneEvent)
    assert "".join(t.text for t in tokens) == "".join(REPLY)
    assert len(tokens[0].candidates) == 3

    dialog.local_radio.setChecked(True)
    with qtbot.waitSignal(controller.sig_model_loaded, timeout=TIMEOUT_MS) as blocker:
        dialog.apply_button.click()
    assert blocker.args[0].backend == "fake" and not controller.is_remote()
    assert load_settings(tmp_path / "settings.json").engine == "local"


def test_language_and_theme_are_saved_and_signalled(
    dialog: SettingsDialog, controller: InferenceController, qtbot: QtBot
) -> None:
    assert not dialog.restart_button.isEnabled()
    dialog.language.setCurrentIndex(dialog.language.findData("zh_CN"))
    dialog.theme.setCurrentIndex(dialog.theme.findData("dark"))
    with (
        qtbot.waitSignal(dialog.sig_language_changed) as lang,
        qtbot.waitSignal(dialog.sig_theme_changed) as theme,
    ):
        dialog.apply_button.click()
    assert lang.args == ["zh_CN"] and theme.args == ["dark"]
    assert controller.settings.language == "zh_CN" and controller.settings.theme == "dark"
    assert "restarts" in dialog.language_note.text()
    dialog.restart_button.click()
    assert dialog.restarts == [1]  # type: ignore[attr-defined]


def test_the_api_switch_serves_on_loopback_and_closes_the_port(
    dialog: SettingsDialog, api: WindowApi, qtbot: QtBot
) -> None:
    assert not dialog.api_enabled.isChecked() and not dialog.api_allow_remote.isChecked()
    dialog.api_port.setValue(closed_port())
    dialog.token_button.click()
    token = dialog.api_token.text()
    assert len(token) >= 20
    dialog.api_enabled.setChecked(True)
    dialog.apply_button.click()
    assert api.running and api.token == token
    url = dialog.api_url.text()
    assert url == f"http://127.0.0.1:{dialog.api_port.value()}/v1"
    assert "this computer only" in dialog.api_status.text()
    port = api.port
    assert port is not None

    dialog.api_enabled.setChecked(False)
    dialog.apply_button.click()
    assert not api.running and dialog.api_status.text() == "Off."
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), 2):
        pass


def test_other_computers_need_a_token(dialog: SettingsDialog, api: WindowApi) -> None:
    dialog.api_enabled.setChecked(True)
    dialog.api_allow_remote.setChecked(True)
    dialog.api_token.setText("")
    assert not dialog.apply()
    assert not api.running and "token" in dialog.api_status.text()


def test_other_computers_without_a_token_are_never_saved(
    dialog: SettingsDialog, controller: InferenceController, tmp_path: Path
) -> None:
    dialog.api_enabled.setChecked(True)
    dialog.api_allow_remote.setChecked(True)
    dialog.api_token.setText("  ")
    dialog.theme.setCurrentIndex(dialog.theme.findData("dark"))
    assert not dialog.apply()
    # Nothing was saved: the next start cannot serve the network without a token.
    assert not controller.settings.api_allow_remote and controller.settings.theme != "dark"
    saved = load_settings(tmp_path / "settings.json")
    assert not saved.api_allow_remote and not saved.api_enabled
    assert dialog.tabs.currentIndex() == 2 and "token" in dialog.api_status.text()


def test_restart_keeps_the_command_line_but_not_a_language_given_on_it() -> None:
    from desktop_app.ui.window.settings_dialog import relaunch_command

    argv = ["/venv/bin/glassbox", "gui", "--language", "en", "--model", "m.gguf"]
    assert relaunch_command(argv, "/usr/bin/python3", False) == (
        "/usr/bin/python3",
        ["/venv/bin/glassbox", "gui", "--model", "m.gguf"],
    )
    # A bundle's executable is Glassbox itself: argv[0] is not passed again.
    frozen = ["/opt/Glassbox/glassbox", "gui", "--language=zh_CN"]
    assert relaunch_command(frozen, "/opt/Glassbox/glassbox", True) == (
        "/opt/Glassbox/glassbox",
        ["gui"],
    )


def test_a_failed_switch_shows_its_error_in_the_dialog(
    dialog: SettingsDialog, controller: InferenceController, qtbot: QtBot
) -> None:
    dialog.remote_radio.setChecked(True)
    dialog.base_url.setText(f"http://127.0.0.1:{closed_port()}/v1")
    with qtbot.waitSignal(controller.sig_error, timeout=TIMEOUT_MS):
        dialog.apply_button.click()
    qtbot.waitUntil(lambda: "connection refused" in dialog.engine_status.text(), timeout=2000)
    qtbot.wait(100)
    assert "connection refused" in dialog.engine_status.text()
    assert not controller.is_remote()


def test_a_switch_that_worked_says_so_in_the_dialog(
    dialog: SettingsDialog, controller: InferenceController, server: RemoteServer, qtbot: QtBot
) -> None:
    dialog.remote_radio.setChecked(True)
    dialog.base_url.setText(server.url)
    dialog.model.setEditText("tiny")
    dialog.apply_button.click()
    qtbot.waitUntil(lambda: "tiny" in dialog.engine_status.text(), timeout=TIMEOUT_MS)
    assert "…" not in dialog.engine_status.text() and controller.is_remote()


def test_every_form_label_with_a_shortcut_letter_has_a_buddy(dialog: SettingsDialog) -> None:
    """A label with "&" and no buddy shows the ampersand instead of a shortcut."""
    from PySide6.QtWidgets import QLabel

    lonely = [
        label.text()
        for label in dialog.findChildren(QLabel)
        if "&" in label.text().replace("&&", "") and label.buddy() is None
    ]
    assert lonely == []
