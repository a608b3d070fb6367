"""The application's composition root: what the window shows, built and wired in one place.

``glassbox gui``, the benchmarks and the tests all open the window through
``build``: it makes the chat store, the knowledge controller, the chat session
and the factory of the local API around one ``InferenceController``, wires them
together, and hands them to the ``MainWindow``, which only shows and drives them.
``make_controller`` makes that controller for a real engine process or for the
canned fake engine of screenshots and window tests.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QApplication

from desktop_app.core.chat import markdown
from desktop_app.core.chat.store import ChatStore
from desktop_app.core.settings import Settings
from desktop_app.ui.chat.session import ChatSession
from desktop_app.ui.common import plain_text
from desktop_app.ui.common.ime import install_composition_guard
from desktop_app.ui.window.main_window import MainWindow
from desktop_app.workers.engine.inference import (
    InferenceController,
    ProgressCallback,
    resolve_with_defaults,
)
from desktop_app.workers.jobs_qt import collect_garbage_on_gui_thread
from desktop_app.workers.kb.controller import KnowledgeController

if TYPE_CHECKING:
    from desktop_app.core.engine.protocol import Engine
    from desktop_app.workers.api.window import WindowApi

#: What the hidden ``--fake`` engine says, slowly enough to watch it stream.
FAKE_SCRIPT = (
    "Hello! I am the fake engine. Every token here went through the real sampler "
    "chain, so hovering one shows its alternatives and what each sampler stage did."
)
FAKE_DELAY_S = 0.02


@dataclass(frozen=True, slots=True)
class Application:
    """The objects of one window, wired: what ``build`` made, for callers that drive them."""

    controller: InferenceController
    store: ChatStore
    knowledge: KnowledgeController
    session: ChatSession
    window: MainWindow


def _make_engine_client() -> Engine:
    # Imported here: the engine client pulls in multiprocessing machinery the
    # window does not need until a model is loaded.
    from desktop_app.workers.engine.client import EngineClient

    return EngineClient()


def _make_fake_engine() -> Engine:
    from desktop_app.core.engine.fake import FakeEngine

    return FakeEngine(script=FAKE_SCRIPT, delay_s=FAKE_DELAY_S)


def _fake_resolve(spec: str, progress: ProgressCallback) -> Path:
    # The fake engine needs no file; show a plausible name in the status bar.
    return Path("fake-model.gguf" if spec == "default" else spec)


def make_controller(
    settings: Settings, *, fake: bool = False, remember_model: bool = True
) -> InferenceController:
    """The inference controller on a real engine process, or on the fake engine.

    The fake engine never remembers its model: it is not a file a later run could open.
    """
    if fake:
        return InferenceController(
            _make_fake_engine, settings, resolver=_fake_resolve, remember_model=False
        )
    return InferenceController(
        _make_engine_client,
        settings,
        resolver=resolve_with_defaults,
        remember_model=remember_model,
    )


def _api_factory(
    controller: InferenceController, knowledge: KnowledgeController
) -> Callable[[QObject], WindowApi]:
    """How the window makes its local API when Settings first need it."""

    def make(parent: QObject) -> WindowApi:
        # Imported on first use: the HTTP server's modules stay out of start-up.
        from desktop_app.workers.api.window import WindowApi

        return WindowApi(controller, knowledge=knowledge, parent=parent)

    return make


def build(
    controller: InferenceController,
    *,
    model_spec: str | None = None,
    explicit_model: bool = False,
    store: ChatStore | None = None,
    knowledge: KnowledgeController | None = None,
) -> Application:
    """Build the chat store, knowledge controller, session and window around ``controller``.

    ``model_spec`` is loaded once the window is shown (None: none); ``explicit_model``
    says the command line named it, so it wins over a remote server in Settings.
    The window owns what is made here: closing it shuts them down.
    """
    app = QApplication.instance()
    if isinstance(app, QApplication):
        plain_text.install(app)  # text from outside is never rendered as HTML
        collect_garbage_on_gui_thread(app)  # Qt objects are freed on the GUI thread
        # Enter in any text field picks an input method's candidate while it composes.
        install_composition_guard()
        # Code in the usual languages is coloured without a stall in the first reply.
        threading.Thread(target=markdown.warm_up, name="warm-markdown", daemon=True).start()
    store = store if store is not None else ChatStore()
    # Nothing is opened until the knowledge base is first used (a dock shown, a drop).
    knowledge = knowledge if knowledge is not None else KnowledgeController()
    session = ChatSession(store, controller)
    session.reset_tool_options()  # the first chat's tools, from the settings
    session.set_knowledge(knowledge)
    window = MainWindow(
        controller,
        session,
        knowledge,
        _api_factory(controller, knowledge),
        model_spec=model_spec,
        explicit_model=explicit_model,
    )
    # Qt ownership: they live as long as the window, as its children.
    session.setParent(window)
    if knowledge.parent() is None:
        knowledge.setParent(window)
    return Application(controller, store, knowledge, session, window)
