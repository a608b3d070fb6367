"""The window's model as an OpenAI-compatible API, on the window's own controller.

The same HTTP routes as ``glassbox serve`` (``server.py``); requests become tasks
on the window's ``InferenceController`` (marshalled to the GUI thread by queued
signals), so they queue on the one engine behind the window's own replies and
tasks, and no second model is loaded.
"""

from __future__ import annotations

import errno
import socket
import threading
from collections.abc import Callable
from functools import partial
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal, Slot

from desktop_app.core.api.openai import api_error
from desktop_app.core.api.secrets import api_token
from desktop_app.core.engine.openai_remote import is_remote
from desktop_app.core.engine.protocol import (
    DoneEvent,
    DraftSettings,
    Engine,
    ErrorEvent,
    GenerateRequest,
)
from desktop_app.core.errors import GlassboxError
from desktop_app.core.kb.answer import ANSWER_TOKENS, answer
from desktop_app.core.kb.grounding import GroundingOptions
from desktop_app.core.kb.language import target_language
from desktop_app.core.kb.translate import (
    CrossLanguage,
    cross_language,
    engine_translator,
    merge_counts,
)
from desktop_app.core.kb.whole import Fit
from desktop_app.core.sampling import SamplingParams
from desktop_app.workers.api.server import (
    MAX_CONNECTIONS,
    REQUEST_TIMEOUT_S,
    _cancelled,
    _Failure,
    _handler,
    _Job,
    _Result,
    _Server,
    check_token,
    tool_turn,
)
from desktop_app.workers.engine.task_runner import TaskProgress


def lan_address() -> str:
    """This computer's address on its network, for a URL other computers can use."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            # No packet is sent: connecting a UDP socket only picks the outgoing interface.
            s.connect(("10.255.255.255", 1))
            return str(s.getsockname()[0])
        except OSError:
            return socket.gethostname()


class WindowApi(QObject):
    """The window's model as an OpenAI-compatible API, on the window's own controller.

    Lives in the GUI thread. HTTP requests are read on the server's threads and
    handed to the GUI thread by queued signals, where they become
    ``InferenceController.run_task`` jobs: they run on the one engine, after the
    window's queued replies and tasks, and their events go straight back to the
    waiting request (never through the controller's chat signals, so the chat
    view does not see them). A knowledge answer first searches through the
    window's ``KnowledgeController`` (when one is given).
    """

    sig_running = Signal(bool)
    """The API started (True) or stopped (False); ``url`` is where it answers."""

    sig_error = Signal(str)
    """The API could not start (the port is taken …): a message for the user."""

    _sig_job = Signal(object)
    _sig_cancel = Signal(object)

    @property
    def draft(self) -> DraftSettings:
        """Drafting for requests that do not say: the window's Speed settings."""
        settings = getattr(self._controller, "draft_settings", None)
        return settings() if callable(settings) else DraftSettings()

    def __init__(
        self, controller: Any, knowledge: Any | None = None, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._controller = controller
        self._knowledge = knowledge
        self.token: str | None = None
        self._httpd: ThreadingHTTPServer | None = None
        self._serving: threading.Thread | None = None
        self._host = "127.0.0.1"
        self._allow_remote = False
        self._lock = threading.Lock()
        self._jobs: set[_Job] = set()
        self._sig_job.connect(self._on_http_job, Qt.ConnectionType.QueuedConnection)
        self._sig_cancel.connect(self._on_http_cancel, Qt.ConnectionType.QueuedConnection)

    # -- life cycle (GUI thread) ----------------------------------------------------

    @property
    def running(self) -> bool:
        """Whether the API is listening."""
        return self._httpd is not None

    @property
    def port(self) -> int | None:
        """The port listened on, or None when stopped."""
        return int(self._httpd.server_address[1]) if self._httpd is not None else None

    @property
    def url(self) -> str | None:
        """The base URL to give an OpenAI client (ends with /v1), or None when stopped."""
        if self._httpd is None:
            return None
        host = lan_address() if self._allow_remote else "127.0.0.1"
        return f"http://{host}:{self.port}/v1"

    def start(
        self,
        port: int = 8765,
        *,
        allow_remote: bool = False,
        token: str | None = None,
        request_timeout_s: float = REQUEST_TIMEOUT_S,
        max_connections: int = MAX_CONNECTIONS,
    ) -> str:
        """Listen on ``port`` (0: a free one), loopback only unless ``allow_remote``.

        ``request_timeout_s`` and ``max_connections`` are the server's limits on slow
        clients and on connections served at once (see ``server.py``).

        Returns the URL; a port that cannot be bound, or ``allow_remote`` without a
        ``token``, raises ``GlassboxError`` (and sends ``sig_error``). Starting again
        restarts with the new values.
        """
        self.stop()
        try:
            check_token(allow_remote, token)
        except GlassboxError as refused:
            self.sig_error.emit(str(refused))
            raise
        host = "0.0.0.0" if allow_remote else "127.0.0.1"
        try:
            httpd = _Server(
                (host, port),
                _handler(self),
                request_timeout_s=request_timeout_s,
                max_connections=max_connections,
            )
        except OSError as exc:
            hint = (
                " Is another program (or another Glassbox) using it? Choose another port."
                if exc.errno == errno.EADDRINUSE
                else ""
            )
            error = GlassboxError(
                f"The API cannot listen on port {port} ({exc.strerror or exc}).{hint}"
            )
            self.sig_error.emit(str(error))
            raise error from exc
        self.token = api_token(token)  # the stored one when none was given
        self._host, self._allow_remote = host, allow_remote
        self._httpd = httpd
        self._serving = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="glassbox-window-api",
            daemon=True,
        )
        self._serving.start()
        self.sig_running.emit(True)
        return str(self.url)

    def stop(self) -> None:
        """Stop listening (the port is closed at once) and cancel the requests in flight."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        if self._serving is not None:
            self._serving.join(2)
            self._serving = None
        with self._lock:
            jobs = list(self._jobs)
        for job in jobs:
            job.cancelled.set()
            self._on_http_cancel(job)
        self.sig_running.emit(False)

    # -- the back end the HTTP handler uses (any thread) -----------------------------

    @property
    def loopback_only(self) -> bool:
        """Whether only this computer can connect (requests must then name it as Host)."""
        return not self._allow_remote

    @property
    def model_id(self) -> str:
        """The loaded model's name: its file name, or a remote server's model id."""
        loaded = self._controller.model_loaded
        if loaded is None:
            return "none"
        return str(loaded.model_path) if is_remote(loaded) else Path(loaded.model_path).name

    def models(self) -> list[dict[str, Any]]:
        """The /v1/models entries: the window's model, when one is loaded."""
        loaded = self._controller.model_loaded
        if loaded is None:
            return []
        created = 0
        if not is_remote(loaded):
            try:
                created = int(Path(loaded.model_path).stat().st_mtime)
            except OSError:
                created = 0
        return [
            {"id": self.model_id, "object": "model", "created": created, "owned_by": "glassbox"}
        ]

    def enqueue(self, kind: str, payload: Any) -> _Job:
        """Hand a request to the GUI thread; its events arrive on the job's queue."""
        job = _Job(kind, payload)
        with self._lock:
            self._jobs.add(job)
        self._sig_job.emit(job)
        return job

    def cancel(self, job: _Job) -> None:
        """Cancel a request, queued or running (any thread)."""
        job.cancelled.set()
        self._sig_cancel.emit(job)

    # -- GUI thread -------------------------------------------------------------------

    def _finish(self, job: _Job, item: Any) -> None:
        with self._lock:
            self._jobs.discard(job)
        job.out.put(item)

    @Slot(object)
    def _on_http_job(self, job: _Job) -> None:
        if job.cancelled.is_set():
            self._finish(job, _Failure(_cancelled()))
            return
        if self._controller.model_loaded is None:
            self._finish(job, _Failure(api_error("not_ready", "No model is loaded in Glassbox.")))
            return
        if job.kind == "generate":
            self._run(job, self._generate_fn(job), "API reply")
        elif job.kind == "tools":
            self._run(job, self._tools_fn(job), "API reply with tools")
        elif job.kind == "answer":
            if self._knowledge is None:
                error = api_error("not_found", "This Glassbox window has no knowledge base open.")
                self._finish(job, _Failure(error))
                return
            question, collection, k, whole, *_cad = job.payload
            loaded = self._controller.model_loaded
            if whole:
                self._knowledge.whole_documents(
                    question,
                    GroundingOptions(collections=(collection,)),
                    loaded.n_ctx,
                    ANSWER_TOKENS,
                    on_done=partial(self._on_whole_documents, job),
                    on_failed=partial(self._on_failed, job),
                )
                return
            options = GroundingOptions(collections=(collection,), k=k)
            known = getattr(self._knowledge, "collection_languages", None)
            counts = merge_counts({collection: known(collection)}) if known is not None else {}
            if target_language(question, counts) is not None:
                # As ask and glassbox serve do: the question is also searched as the
                # model writes it in the documents' language (never fails the search).
                template = loaded.has_chat_template

                def translate(engine: Engine, _progress: TaskProgress) -> CrossLanguage:
                    translator = engine_translator(engine, chat_template=template)
                    return cross_language(question, counts, translator)

                job.task = self._controller.run_task(
                    translate,
                    label="API: the question in the documents' language",
                    on_done=partial(self._on_translated, job, self._knowledge, options),
                    on_failed=partial(self._on_failed, job),
                )
                return
            self._search(job, self._knowledge, options, [])
        else:
            self._finish(job, _Failure(GlassboxError(f"Unknown job {job.kind!r}.")))

    def _run(self, job: _Job, fn: Callable[[Engine, TaskProgress], object], label: str) -> None:
        job.task = self._controller.run_task(
            fn, label=label, on_failed=partial(self._on_failed, job)
        )

    def _generate_fn(self, job: _Job) -> Callable[[Engine, TaskProgress], object]:
        request: GenerateRequest = job.payload

        def run(engine: Engine, progress: TaskProgress) -> None:
            # Runs on the controller's engine thread: events go straight to the request.
            ended = False
            for event in engine.generate(request):
                if job.cancelled.is_set() or progress.cancelled:
                    engine.cancel()
                if isinstance(event, DoneEvent | ErrorEvent):
                    ended = True
                    self._finish(job, event)
                    break
                job.out.put(event)
            if not ended:
                self._finish(job, _Failure(GlassboxError("The engine ended the reply early.")))

        return run

    def _tools_fn(self, job: _Job) -> Callable[[Engine, TaskProgress], object]:
        request, specs, choice = job.payload
        loaded = self._controller.model_loaded

        def run(engine: Engine, progress: TaskProgress) -> None:
            # The same turn as glassbox serve's: a reply, or calls the client runs.
            turn = tool_turn(engine, loaded, request, specs, choice)
            if job.cancelled.is_set() or progress.cancelled:
                raise _cancelled()
            self._finish(job, _Result(turn))

        return run

    def _answer_fn(
        self, job: _Job, hits: list[Any], whole: bool = False
    ) -> Callable[[Engine, TaskProgress], object]:
        question = job.payload[0]
        cad: float | None = job.payload[4] if len(job.payload) > 4 else None
        loaded = self._controller.model_loaded
        chat_template = loaded.has_chat_template if loaded is not None else True

        def run(engine: Engine, progress: TaskProgress) -> None:
            result = answer(
                engine,
                question,
                hits,
                chat_template=chat_template,
                params=SamplingParams(temperature=0.0, max_tokens=ANSWER_TOKENS),
                whole=whole,
                cad=cad,
            )
            if job.cancelled.is_set() or progress.cancelled:
                # The answer was cut short: not one to give as if it were whole.
                raise _cancelled()
            cad_field = None if cad is None else {"alpha": cad}
            self._finish(job, _Result({**result.as_dict(), "cad": cad_field}))

        return run

    @Slot(object)
    def _on_http_cancel(self, job: _Job) -> None:
        if job.task is not None:
            job.task.cancel()

    def _on_failed(self, job: _Job, kind: str, message: str) -> None:
        self._finish(job, _Failure(api_error(kind, message)))

    def _on_whole_documents(self, job: _Job, result: tuple[list[Any], Fit]) -> None:
        if job.cancelled.is_set():
            self._finish(job, _Failure(_cancelled()))
            return
        hits, fits = result
        if not fits.fits:
            self._finish(job, _Failure(api_error("context_overflow", fits.message)))
            return
        self._run(job, self._answer_fn(job, hits, whole=True), "API knowledge answer")

    def _on_translated(
        self, job: _Job, knowledge: Any, options: GroundingOptions, cross: CrossLanguage
    ) -> None:
        if job.cancelled.is_set():
            self._finish(job, _Failure(_cancelled()))
            return
        self._search(job, knowledge, options, cross.alternatives)

    def _search(
        self, job: _Job, knowledge: Any, options: GroundingOptions, alternatives: list[str]
    ) -> None:
        knowledge.find_passages(
            job.payload[0],
            options,
            alternatives,
            on_done=partial(self._on_knowledge_search_done, job),
            on_failed=partial(self._on_failed, job),
        )

    def _on_knowledge_search_done(self, job: _Job, hits: list[Any]) -> None:
        if job.cancelled.is_set():
            self._finish(job, _Failure(_cancelled()))
            return
        self._run(job, self._answer_fn(job, hits), "API knowledge answer")
