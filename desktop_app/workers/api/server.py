"""Glassbox's own OpenAI-compatible API: the loaded model served over HTTP.

Two back ends serve the same HTTP routes (/v1/models, /v1/chat/completions,
/v1/completions, /v1/knowledge/answer):

- ``ApiServer`` (``glassbox serve``, no window) loads its own model.
- ``WindowApi`` serves the window's model: requests become tasks on the window's
  ``InferenceController`` (marshalled to the GUI thread by queued signals), so
  they queue on the one engine behind the window's own replies and tasks, and
  no second model is loaded.

Standard library only (``http.server``). In ``ApiServer`` one worker thread owns the
``EngineClient`` (and the knowledge base, whose SQLite connection is bound to a
thread) and runs requests one at a time from a queue: concurrent HTTP requests
wait their turn, none is lost. A client that goes away, while waiting or
mid-stream, has its generation cancelled so the next one starts at once.

Logprobs come from Glassbox's own candidates: ``top_logprobs`` are log(p_raw),
the model's distribution before sampling; the chosen token's ``logprob`` is the
log of the probability it was drawn with.
"""

from __future__ import annotations

import errno
import hmac
import ipaddress
import json
import logging
import math
import queue
import select
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from PySide6.QtCore import QObject, Qt, Signal, Slot

from desktop_app.core.engine.openai_remote import is_remote
from desktop_app.core.engine.protocol import (
    DoneEvent,
    Engine,
    EngineConfig,
    ErrorEvent,
    GenerateRequest,
    Message,
    ModelLoaded,
    Role,
    TokenEvent,
)
from desktop_app.core.errors import GlassboxError, InvalidRequestError, error_from_event
from desktop_app.core.kb.answer import answer
from desktop_app.core.kb.errors import KnowledgeBaseLockedError
from desktop_app.core.sampling import SamplingParams
from desktop_app.workers.engine.client import EngineClient
from desktop_app.workers.engine.task_runner import TaskProgress

log = logging.getLogger(__name__)

#: OpenAI allows at most 20 alternatives per token.
MAX_TOP_LOGPROBS = 20
#: A probability of 0 has no logarithm; JSON has no -inf. This stands for "never".
LOGPROB_FLOOR = -9999.0
#: Largest request body read (a long chat fits; a runaway upload does not).
MAX_BODY_BYTES = 8 * 1024 * 1024
_WAIT_S = 0.1

#: HTTP status for each error kind; anything else is the server's fault (500).
_STATUS = {
    "invalid_request": 400,
    "context_overflow": 400,
    "unauthorized": 401,
    "forbidden": 403,
    "not_found": 404,
    "kb_no_collection": 404,
    "kb_locked": 409,
    "not_ready": 503,
    "no_model": 503,
    "remote": 502,
    "cancelled": 499,
}

#: Host names a loopback-only API answers to (DNS rebinding: any other name is a web
#: page's own name made to resolve to 127.0.0.1).
_LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})

_ROLES: dict[str, Role] = {"system": "system", "user": "user", "assistant": "assistant"}

#: Sampling values a request body may set under their own names.
_SAMPLING_KEYS = ("temperature", "top_p", "top_k", "min_p", "repeat_penalty", "seed")

#: A "cancelled" reply is not here: it is answered as an error, never as a short reply.
_FINISH = {"stop": "stop", "eos": "stop", "length": "length"}


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or "localhost") is this computer only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_host(host: str, allow_remote: bool) -> None:
    """Refuse a non-loopback address unless remote access was asked for."""
    if allow_remote or is_loopback(host):
        return
    raise InvalidRequestError(
        f"{host} is not a loopback address: anyone on the network could use the model. "
        "Give --allow-remote (and a --token) to serve it there anyway."
    )


def _host_name(value: str) -> str | None:
    """The host name of a Host header ("name", "name:port", "[::1]:port"), lower case."""
    value = value.strip().lower()
    if value.startswith("["):
        name, bracket, rest = value[1:].partition("]")
        return name if bracket and (not rest or rest.startswith(":")) else None
    return value if value.count(":") > 1 else value.partition(":")[0]


def loopback_request(host: str | None, origin: str | None) -> bool:
    """Whether a request to a loopback-only API may come from a web page or client.

    ``host`` must name this computer (127.0.0.1, localhost or [::1], with or
    without a port): a browser sends the page's own name, so a DNS rebinding
    attack is refused. A browser's ``Origin`` must be a loopback page too. A
    client that sends no Host (HTTP/1.0) is no browser and is let through.
    """
    if host is not None and _host_name(host) not in _LOOPBACK_NAMES:
        return False
    if origin is not None:
        try:
            name = urlsplit(origin.strip()).hostname
        except ValueError:
            return False
        return name in _LOOPBACK_NAMES
    return True


def check_token(remote: bool, token: str | None) -> None:
    """Refuse to serve other computers without a token: anyone there could use the model."""
    if remote and not (token or "").strip():
        raise InvalidRequestError(
            "Other computers may connect only with a token: without one anyone on the "
            "network could use the model. Give a token (--token, or Settings → Local API)."
        )


def logprob(p: float) -> float:
    """The natural log of a probability, floored so that JSON can carry it."""
    return math.log(p) if p > 0 else LOGPROB_FLOOR


@dataclass(eq=False)
class _Job:
    """One request in the queue; ``out`` receives its events or its single result."""

    kind: str
    payload: Any
    out: queue.SimpleQueue[Any] = field(default_factory=queue.SimpleQueue)
    cancelled: threading.Event = field(default_factory=threading.Event)
    task_id: int | None = None  # WindowApi: the controller task running it


@dataclass(frozen=True)
class _Result:
    value: Any


@dataclass(frozen=True)
class _Failure:
    error: GlassboxError


class _Server(ThreadingHTTPServer):
    # Two clients connecting at once must both be accepted, not refused by a short backlog.
    request_queue_size = 64
    daemon_threads = True


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Disconnected(Exception):
    """The HTTP client closed its connection."""


class ApiServer:
    """The API on ``host:port`` (0: a free port), serving the model of ``config``."""

    def __init__(
        self,
        config: EngineConfig,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        allow_remote: bool = False,
        knowledge_base: Callable[[], Any] | None = None,
    ) -> None:
        check_host(host, allow_remote)
        check_token(not is_loopback(host), token)
        self.config = config
        self.token = token or None
        self.loaded: ModelLoaded | None = None
        self._host, self._port = host, port
        self._open_kb = knowledge_base or _open_knowledge_base
        self._kb: Any = None
        self._client = EngineClient()
        self._jobs: queue.Queue[_Job | None] = queue.Queue()
        self._current: _Job | None = None
        self._current_lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._httpd: ThreadingHTTPServer | None = None
        self._serving: threading.Thread | None = None

    # -- life cycle ----------------------------------------------------------------

    def start(self) -> ModelLoaded:
        """Load the model, bind the port and serve in the background."""
        self._worker = threading.Thread(target=self._work, name="glassbox-api-engine", daemon=True)
        self._worker.start()
        try:
            loaded: ModelLoaded = self.submit("load", self.config)
            server = _Server6 if ":" in self._host else _Server
            httpd = server((self._host, self._port), _handler(self))
        except BaseException:
            self._stop_worker()
            raise
        self.loaded, self._httpd = loaded, httpd
        self._serving = threading.Thread(
            target=httpd.serve_forever, name="glassbox-api-http", daemon=True
        )
        self._serving.start()
        return loaded

    @property
    def port(self) -> int:
        """The port actually bound (the free one picked for port 0)."""
        if self._httpd is None:
            raise GlassboxError("The API server is not running.")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """The base URL an OpenAI client is given (ends with /v1)."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}/v1"

    @property
    def loopback_only(self) -> bool:
        """Whether only this computer can connect (requests must then name it as Host)."""
        return is_loopback(self._host)

    @property
    def model_id(self) -> str:
        """The model's name as listed by /v1/models: its file name."""
        return Path(self.loaded.model_path if self.loaded else self.config.model_path).name

    def models(self) -> list[dict[str, Any]]:
        """The /v1/models entries: the one model loaded."""
        created = int(Path(self.config.model_path).stat().st_mtime)
        return [
            {"id": self.model_id, "object": "model", "created": created, "owned_by": "glassbox"}
        ]

    def stop(self) -> None:
        """Stop serving, cancel what runs, end the engine process."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        with self._current_lock:
            if self._current is not None:
                self._current.cancelled.set()
                self._client.cancel()
        self._stop_worker()

    def _stop_worker(self) -> None:
        if self._worker is not None:
            self._jobs.put(None)
            self._worker.join(timeout=15)
            self._worker = None

    def __enter__(self) -> ApiServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the queue -----------------------------------------------------------------

    def enqueue(self, kind: str, payload: Any) -> _Job:
        """Queue a job for the engine thread."""
        job = _Job(kind, payload)
        self._jobs.put(job)
        return job

    def submit(self, kind: str, payload: Any) -> Any:
        """Queue a job with a single result and wait for it (raised on failure)."""
        item = self.enqueue(kind, payload).out.get()
        if isinstance(item, _Failure):
            raise item.error
        return item.value

    def cancel(self, job: _Job) -> None:
        """Cancel a job, queued or running (any thread)."""
        job.cancelled.set()
        with self._current_lock:
            if self._current is job:
                self._client.cancel()

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            if job.cancelled.is_set():
                job.out.put(_Failure(_cancelled()))
                continue
            with self._current_lock:
                self._current = job
            try:
                self._run(job)
            except GlassboxError as exc:
                job.out.put(_Failure(exc))
            except Exception as exc:  # a bug must not stop the queue for everyone else
                log.exception("API request failed")
                job.out.put(_Failure(GlassboxError(f"The request failed: {exc}")))
            finally:
                with self._current_lock:
                    self._current = None
        if self._kb is not None:
            self._kb.close()
        self._client.close()

    def _run(self, job: _Job) -> None:
        if job.kind == "load":
            job.out.put(_Result(self._client.load(job.payload)))
        elif job.kind == "generate":
            for event in self._client.generate(job.payload):
                if job.cancelled.is_set():
                    self._client.cancel()
                job.out.put(event)
        elif job.kind == "answer":
            result = self._answer(*job.payload)
            if job.cancelled.is_set():
                raise _cancelled()
            job.out.put(_Result(result))
        else:
            raise GlassboxError(f"Unknown job {job.kind!r}.")

    def _answer(self, question: str, collection: str, k: int) -> dict[str, object]:
        if self._kb is None:
            try:
                self._kb = self._open_kb()
            except KnowledgeBaseLockedError as exc:
                raise KnowledgeBaseLockedError(
                    f"The knowledge base is in use by a Glassbox window ({exc}). Close the "
                    "window, or ask from it, then try again."
                ) from exc
        self._kb.collection(collection)
        hits = self._kb.search(question, collection, k)
        loaded = self.loaded
        result = answer(
            self._client,
            question,
            hits,
            chat_template=loaded.has_chat_template if loaded else True,
            params=SamplingParams(temperature=0.0, max_tokens=512),
        )
        return result.as_dict()


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
        self._tasks: dict[int, _Job] = {}
        self._searches: dict[int, _Job] = {}
        self._lock = threading.Lock()
        self._jobs: set[_Job] = set()
        self._sig_job.connect(self._on_http_job, Qt.ConnectionType.QueuedConnection)
        self._sig_cancel.connect(self._on_http_cancel, Qt.ConnectionType.QueuedConnection)
        controller.sig_task_failed.connect(self._on_controller_task_failed)
        controller.sig_task_done.connect(self._on_controller_task_done)
        if knowledge is not None:
            knowledge.sig_search_done.connect(self._on_knowledge_search_done)
            knowledge.sig_search_failed.connect(self._on_knowledge_search_failed)

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
        self, port: int = 8765, *, allow_remote: bool = False, token: str | None = None
    ) -> str:
        """Listen on ``port`` (0: a free one), loopback only unless ``allow_remote``.

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
            httpd = _Server((host, port), _handler(self))
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
        self.token = token or None
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
            self._finish(job, _Failure(_error("not_ready", "No model is loaded in Glassbox.")))
            return
        if job.kind == "generate":
            self._run(job, self._generate_fn(job), "API reply")
        elif job.kind == "answer":
            if self._knowledge is None:
                error = _error("not_found", "This Glassbox window has no knowledge base open.")
                self._finish(job, _Failure(error))
                return
            question, collection, k = job.payload
            rid = self._knowledge.search(question, [collection], k)
            self._searches[rid] = job
        else:
            self._finish(job, _Failure(GlassboxError(f"Unknown job {job.kind!r}.")))

    def _run(self, job: _Job, fn: Callable[[Engine, TaskProgress], object], label: str) -> None:
        job.task_id = self._controller.run_task(fn, label=label)
        self._tasks[job.task_id] = job

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

    def _answer_fn(self, job: _Job, hits: list[Any]) -> Callable[[Engine, TaskProgress], object]:
        question = job.payload[0]
        loaded = self._controller.model_loaded
        chat_template = loaded.has_chat_template if loaded is not None else True

        def run(engine: Engine, progress: TaskProgress) -> None:
            result = answer(
                engine,
                question,
                hits,
                chat_template=chat_template,
                params=SamplingParams(temperature=0.0, max_tokens=512),
            )
            if job.cancelled.is_set() or progress.cancelled:
                # The answer was cut short: not one to give as if it were whole.
                raise _cancelled()
            self._finish(job, _Result(result.as_dict()))

        return run

    @Slot(object)
    def _on_http_cancel(self, job: _Job) -> None:
        if job.task_id is not None:
            self._controller.cancel_task(job.task_id)

    @Slot(int, object)
    def _on_controller_task_done(self, task_id: int, result: object) -> None:
        self._tasks.pop(task_id, None)

    @Slot(int, str, str)
    def _on_controller_task_failed(self, task_id: int, kind: str, message: str) -> None:
        job = self._tasks.pop(task_id, None)
        if job is not None:
            self._finish(job, _Failure(_error(kind, message)))

    @Slot(int, list)
    def _on_knowledge_search_done(self, rid: int, hits: list[Any]) -> None:
        job = self._searches.pop(rid, None)
        if job is None:
            return
        if job.cancelled.is_set():
            self._finish(job, _Failure(_cancelled()))
            return
        self._run(job, self._answer_fn(job, hits), "API knowledge answer")

    @Slot(int, str, str)
    def _on_knowledge_search_failed(self, rid: int, kind: str, message: str) -> None:
        job = self._searches.pop(rid, None)
        if job is not None:
            self._finish(job, _Failure(_error(kind, message)))


def _open_knowledge_base() -> Any:
    from desktop_app.core.kb.knowledge_base import KnowledgeBase

    return KnowledgeBase()


def _cancelled() -> GlassboxError:
    error = GlassboxError("The request was cancelled.")
    error.kind = "cancelled"
    return error


# -- request parsing -----------------------------------------------------------------


def _content(value: Any) -> str:
    """A message's content: a string, or OpenAI's list of text parts."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        parts = [
            p.get("text", "") for p in value if isinstance(p, dict) and p.get("type") == "text"
        ]
        if len(parts) == len(value):
            return "".join(parts)
    raise InvalidRequestError("Message content must be text (a string or text parts).")


def _messages(body: dict[str, Any]) -> tuple[Message, ...]:
    raw = body.get("messages")
    if not isinstance(raw, list) or not raw:
        raise InvalidRequestError("'messages' must be a non-empty list.")
    out = []
    for m in raw:
        if not isinstance(m, dict):
            raise InvalidRequestError("Each message must be an object with role and content.")
        role = "system" if m.get("role") == "developer" else m.get("role")
        if role not in _ROLES:
            raise InvalidRequestError(f"Role {m.get('role')!r} is not supported.")
        out.append(Message(_ROLES[role], _content(m.get("content"))))
    return tuple(out)


def chat_request(body: dict[str, Any]) -> tuple[GenerateRequest, int | None]:
    """The generation a chat completion body asks for, and its top_logprobs (None: off)."""
    # A value given as null is the default, as OpenAI's own server takes it.
    record = {name: body[name] for name in _SAMPLING_KEYS if body.get(name) is not None}
    max_tokens = body.get("max_completion_tokens") or body.get("max_tokens")
    if max_tokens:
        record["max_tokens"] = max_tokens
    stop = body.get("stop")
    record["stop"] = (stop,) if isinstance(stop, str) else tuple(stop or ())
    params = SamplingParams.from_record(record)
    top: int | None = None
    if body.get("logprobs"):
        top = body.get("top_logprobs")
        top = 0 if top is None else top
        if isinstance(top, bool) or not isinstance(top, int) or not 0 <= top <= MAX_TOP_LOGPROBS:
            raise InvalidRequestError(f"top_logprobs must be between 0 and {MAX_TOP_LOGPROBS}.")
    request = GenerateRequest(params=params, messages=_messages(body), candidates=top or 0)
    return request, top


def completion_request(body: dict[str, Any]) -> tuple[GenerateRequest, int | None]:
    """The generation a (legacy) completion body asks for, and its logprobs (None: off)."""
    prompt = body.get("prompt")
    if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], str):
        prompt = prompt[0]
    if not isinstance(prompt, str) or not prompt:
        raise InvalidRequestError("'prompt' must be a non-empty string.")
    chat, _ = chat_request({**body, "messages": [{"role": "user", "content": "-"}], "logprobs": 0})
    top: int | None = None
    n = body.get("logprobs")
    if n is not None and n is not False:
        if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= MAX_TOP_LOGPROBS:
            raise InvalidRequestError(f"logprobs must be between 0 and {MAX_TOP_LOGPROBS}.")
        top = n
    max_tokens = body.get("max_tokens")
    params = chat.params
    if max_tokens is None:
        # OpenAI's default for a completion.
        params = replace(params, max_tokens=16)
    return GenerateRequest(params=params, prompt=prompt, candidates=top or 0), top


def completion_logprobs(events: list[TokenEvent], top: int, offset: int) -> dict[str, Any]:
    """A completion choice's ``logprobs`` for ``events``; their text starts at ``offset``."""
    offsets = []
    for e in events:
        offsets.append(offset)
        offset += len(e.text)
    return {
        "tokens": [e.text for e in events],
        "token_logprobs": [logprob(e.p) for e in events],
        "top_logprobs": [{c.text: logprob(c.p_raw) for c in e.candidates[:top]} for e in events],
        "text_offset": offsets,
    }


def token_logprobs(event: TokenEvent, top: int) -> dict[str, Any]:
    """One entry of ``logprobs.content`` for a generated token."""
    return {
        "token": event.text,
        "logprob": logprob(event.p),
        "bytes": list(event.text.encode("utf-8")),
        "top_logprobs": [
            {"token": c.text, "logprob": logprob(c.p_raw), "bytes": list(c.text.encode("utf-8"))}
            for c in event.candidates[:top]
        ],
    }


# -- HTTP ----------------------------------------------------------------------------


class _Backend(Protocol):
    """What the HTTP handler needs from ``ApiServer`` or ``WindowApi`` (any thread)."""

    token: str | None

    @property
    def loopback_only(self) -> bool: ...

    @property
    def model_id(self) -> str: ...

    def models(self) -> list[dict[str, Any]]: ...

    def enqueue(self, kind: str, payload: Any) -> _Job: ...

    def cancel(self, job: _Job) -> None: ...


def _handler(api: _Backend) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        server_api = api

    return Handler


class _Handler(BaseHTTPRequestHandler):
    server_api: _Backend
    server_version = "Glassbox"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    # -- routing --

    def do_GET(self) -> None:
        self._dispatch({"/v1/models": self._models})

    def do_POST(self) -> None:
        self._dispatch(
            {
                "/v1/chat/completions": self._chat,
                "/v1/completions": self._completions,
                "/v1/knowledge/answer": self._knowledge,
            }
        )

    def _dispatch(self, routes: dict[str, Callable[[], None]]) -> None:
        try:
            if self.server_api.loopback_only and not loopback_request(
                self.headers.get("Host"), self.headers.get("Origin")
            ):
                raise _error(
                    "forbidden",
                    "This API answers only programs on this computer, addressed as "
                    "127.0.0.1, localhost or [::1].",
                )
            if not self._authorized():
                raise _error("unauthorized", "A valid bearer token is required.")
            route = routes.get(self.path.split("?", 1)[0].rstrip("/"))
            if route is None:
                raise _error("not_found", f"No endpoint {self.command} {self.path}.")
            route()
        except GlassboxError as exc:
            self._send_json(_STATUS.get(exc.kind, 500), _error_body(exc))
        except _Disconnected:
            self.close_connection = True

    def _authorized(self) -> bool:
        token = self.server_api.token
        if token is None:
            return True
        given = self.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())

    # -- endpoints --

    def _models(self) -> None:
        self._send_json(200, {"object": "list", "data": self.server_api.models()})

    def _chat(self) -> None:
        body = self._body()
        request, top = chat_request(body)
        self._generate(body, request, top, chat=True)

    def _completions(self) -> None:
        body = self._body()
        request, top = completion_request(body)
        self._generate(body, request, top, chat=False)

    def _generate(
        self, body: dict[str, Any], request: GenerateRequest, top: int | None, *, chat: bool
    ) -> None:
        job = self.server_api.enqueue("generate", request)
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            self._stream(job, top, include_usage, chat)
        else:
            self._complete(job, top, chat)

    def _knowledge(self) -> None:
        body = self._body()
        question, collection, k = body.get("question"), body.get("collection"), body.get("k", 5)
        if not isinstance(question, str) or not question.strip():
            raise InvalidRequestError("'question' must be a non-empty string.")
        if not isinstance(collection, str) or not collection:
            raise InvalidRequestError("'collection' must name a knowledge collection.")
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= 50:
            raise InvalidRequestError("'k' must be a whole number from 1 to 50.")
        job = self.server_api.enqueue("answer", (question, collection, k))
        for item in self._wait(job):
            if isinstance(item, _Failure):
                raise item.error
            self._send_json(200, item.value)
            return

    # -- generation --

    def _meta(self, chat: bool = True) -> dict[str, Any]:
        return {
            "id": f"{'chatcmpl' if chat else 'cmpl'}-{uuid.uuid4().hex}",
            "created": int(time.time()),
            "model": self.server_api.model_id,
        }

    def _complete(self, job: _Job, top: int | None, chat: bool = True) -> None:
        pieces: list[str] = []
        entries: list[dict[str, Any]] = []
        events: list[TokenEvent] = []
        for item in self._wait(job):
            if isinstance(item, TokenEvent):
                pieces.append(item.text)
                events.append(item)
                if top is not None and chat:
                    entries.append(token_logprobs(item, top))
            elif isinstance(item, DoneEvent):
                if item.finish_reason == "cancelled":
                    raise _cancelled()
                finish = _FINISH.get(item.finish_reason, "length")
                choice: dict[str, Any]
                if chat:
                    choice = {
                        "index": 0,
                        "message": {"role": "assistant", "content": "".join(pieces)},
                        "logprobs": {"content": entries} if top is not None else None,
                        "finish_reason": finish,
                    }
                else:
                    choice = {
                        "index": 0,
                        "text": "".join(pieces),
                        "logprobs": completion_logprobs(events, top, 0)
                        if top is not None
                        else None,
                        "finish_reason": finish,
                    }
                self._send_json(
                    200,
                    {
                        **self._meta(chat),
                        "object": "chat.completion" if chat else "text_completion",
                        "choices": [choice],
                        "usage": _usage(item),
                        "system_fingerprint": f"seed-{item.seed}",
                    },
                )
                return
            elif isinstance(item, ErrorEvent):
                raise error_from_event(item)
            elif isinstance(item, _Failure):
                raise item.error

    def _stream(self, job: _Job, top: int | None, include_usage: bool, chat: bool = True) -> None:
        meta = {
            **self._meta(chat),
            "object": "chat.completion.chunk" if chat else "text_completion",
        }
        started = False
        offset = 0

        def chunk(delta: dict[str, Any], **extra: Any) -> dict[str, Any]:
            choice: dict[str, Any]
            if chat:
                choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}
            else:
                text = delta.get("content", "")
                choice = {"index": 0, "text": text, "logprobs": None, "finish_reason": None}
            choice.update(extra)
            return {**meta, "choices": [choice]}

        try:
            for item in self._wait(job):
                if isinstance(item, DoneEvent) and item.finish_reason == "cancelled":
                    # Cut short (the API switched off …): an error, not a finished reply.
                    item = _Failure(_cancelled())
                if isinstance(item, ErrorEvent | _Failure):
                    error = error_from_event(item) if isinstance(item, ErrorEvent) else item.error
                    if not started:
                        raise error
                    self._send_event(_error_body(error))
                    break
                if not started:
                    self._start_stream()
                    if chat:
                        self._send_event(chunk({"role": "assistant", "content": ""}))
                    started = True
                if isinstance(item, TokenEvent):
                    lp: dict[str, Any] | None = None
                    if top is not None:
                        lp = (
                            {"content": [token_logprobs(item, top)]}
                            if chat
                            else completion_logprobs([item], top, offset)
                        )
                    offset += len(item.text)
                    self._send_event(chunk({"content": item.text}, logprobs=lp))
                elif isinstance(item, DoneEvent):
                    finish = _FINISH.get(item.finish_reason, "length")
                    self._send_event(chunk({}, finish_reason=finish))
                    if include_usage:
                        self._send_event({**meta, "choices": [], "usage": _usage(item)})
                    break
            self._write(b"data: [DONE]\n\n")
        except (BrokenPipeError, ConnectionResetError) as exc:
            self.server_api.cancel(job)
            raise _Disconnected from exc

    def _wait(self, job: _Job) -> Iterator[Any]:
        """The job's events as they come; a client that left cancels the job."""
        while True:
            try:
                item = job.out.get(timeout=_WAIT_S)
            except queue.Empty:
                if self._client_gone():
                    self.server_api.cancel(job)
                    raise _Disconnected from None
                continue
            yield item
            if isinstance(item, DoneEvent | ErrorEvent | _Result | _Failure):
                return

    def _client_gone(self) -> bool:
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True

    # -- writing --

    def _body(self) -> dict[str, Any]:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 < length <= MAX_BODY_BYTES:
            raise InvalidRequestError("The request needs a JSON body (at most 8 MiB).")
        try:
            body = json.loads(self.rfile.read(length))
        except ValueError as exc:
            raise InvalidRequestError(f"The request body is not JSON ({exc}).") from exc
        if not isinstance(body, dict):
            raise InvalidRequestError("The request body must be a JSON object.")
        return body

    def _send_json(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if status == 401:
                self.send_header("WWW-Authenticate", 'Bearer realm="glassbox"')
            self.end_headers()
            self._write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _start_stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

    def _send_event(self, payload: dict[str, Any]) -> None:
        self._write(b"data: " + json.dumps(payload, ensure_ascii=False).encode("utf-8") + b"\n\n")

    def _write(self, data: bytes) -> None:
        self.wfile.write(data)
        self.wfile.flush()


def _usage(done: DoneEvent) -> dict[str, int]:
    return {
        "prompt_tokens": done.prompt_tokens,
        "completion_tokens": done.completion_tokens,
        "total_tokens": done.prompt_tokens + done.completion_tokens,
    }


def _error(kind: str, message: str) -> GlassboxError:
    error = GlassboxError(message)
    error.kind = kind
    return error


def _error_body(error: GlassboxError) -> dict[str, Any]:
    status = _STATUS.get(error.kind, 500)
    kind = "invalid_request_error" if status < 500 else "server_error"
    return {"error": {"message": str(error), "type": kind, "code": error.kind}}
