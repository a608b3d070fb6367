"""The composition root: ``build`` makes one window's objects and wires them together."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from desktop_app.app import Application, build, make_controller
from desktop_app.core.chat import prompting
from desktop_app.core.chat.store import ChatStore
from desktop_app.core.settings import Settings
from desktop_app.ui.chat.options import ChatOptionsPanel
from desktop_app.workers.engine.inference import InferenceController

TIMEOUT_MS = 10_000


@pytest.fixture
def controller() -> Iterator[InferenceController]:
    c = make_controller(Settings(), fake=True)
    yield c
    assert c.shutdown(), "the engine thread must end"


@pytest.fixture
def application(
    qtbot: QtBot, controller: InferenceController, tmp_path: Path
) -> Iterator[Application]:
    app = build(controller, model_spec="default", store=ChatStore(tmp_path / "chats.sqlite3"))
    qtbot.addWidget(app.window)
    yield app
    app.window.close()


def test_the_window_shows_the_objects_build_made(application: Application) -> None:
    window = application.window
    assert window.session is application.session
    assert application.session.store is application.store
    # The window owns them: closing it shuts them down, and they live as long as it does.
    assert application.session.parent() is window
    assert application.knowledge.parent() is window
    assert application.session._knowledge is application.knowledge
    assert application.controller.worker_thread is None  # nothing loads before the window shows


def test_a_chat_option_change_reaches_the_session_and_is_saved(
    qtbot: QtBot, application: Application
) -> None:
    session = application.session
    with qtbot.waitSignal(application.controller.sig_model_loaded, timeout=TIMEOUT_MS):
        application.window.show()
    # A saved chat, so its options are saved with it.
    with qtbot.waitSignal(session.sig_reply_ended, timeout=TIMEOUT_MS):
        session.send("Hello")
    panel = application.window.findChild(ChatOptionsPanel)
    assert panel is not None
    with qtbot.waitSignal(panel.sig_options_changed):
        panel.set_reasoning(prompting.REASONING_STEP_BY_STEP)
    assert session.options.reasoning == prompting.REASONING_STEP_BY_STEP
    chat_id = session.chat_id
    assert chat_id is not None
    saved = application.store.chat(chat_id).options
    assert saved["reasoning"] == prompting.REASONING_STEP_BY_STEP


def test_the_local_api_is_made_on_first_use_on_the_same_engine(
    application: Application,
) -> None:
    window = application.window
    assert window._api is None  # its HTTP modules stay out of start-up
    api = window.api
    assert api is window.api
    assert api._controller is application.controller
    assert api.parent() is window


def test_the_fake_engine_is_never_remembered_as_the_last_model() -> None:
    fake = make_controller(Settings(), fake=True, remember_model=True)
    try:
        assert not fake._remember_model
    finally:
        assert fake.shutdown()


def test_building_the_window_prepares_the_common_code_lexers(
    qtbot: QtBot, application: Application
) -> None:
    """A lexer compiles its rules on first use holding the GIL for up to 40 ms: done
    while a reply streams, even on another thread, it stalls the window (bench ui)."""
    from desktop_app.core.chat import markdown

    qtbot.waitUntil(
        lambda: all(markdown.loaded_lexer(tag)[0] for tag in markdown.COMMON_LANGUAGES),
        timeout=TIMEOUT_MS,
    )
