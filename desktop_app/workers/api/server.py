"""Glassbox's own OpenAI-compatible API: the loaded model served over HTTP.

Two back ends serve the same HTTP routes (/v1/models, /v1/chat/completions,
/v1/completions, /v1/knowledge/answer) through the handler here:

- ``ApiServer`` (``glassbox serve``, no window) loads its own model.
- ``WindowApi`` (``window.py``) serves the window's model through its controller.

Standard library only (``http.server``), no Qt; the wire format is
``core/api/openai.py``. In ``ApiServer`` one worker thread owns the
``EngineClient`` (and the knowledge base, whose SQLite connection is bound to a
thread) and runs requests one at a time from a queue: concurrent HTTP requests
wait their turn, none is lost. A client that goes away, while waiting or
mid-stream, has its generation cancelled so the next one starts at once.

Decision: the standard library's ``ThreadingHTTPServer`` stays (no ASGI stack, no
new dependency: the locks are hash-pinned), hardened here against slow, hostile and
broken clients, as the ``api-fuzz`` fault check and the slow-client tests show:

- a request must arrive whole (request line, headers, body) within
  ``REQUEST_TIMEOUT_S`` (a slowloris client is dropped), and every read or write
  waits at most that long (a client that never reads its reply is dropped);
  an idle keep-alive connection is closed after the same time;
- at most ``MAX_CONNECTIONS`` connections are served at once, each on its own
  thread; one more gets a 503 with a JSON message at once, never a new thread;
- every refusal, malformed request lines and headers included, is a JSON error
  with a sentence, never a traceback; a bug in a handler is logged and is a 500;
- a waiting client's disconnect is seen with ``poll`` (``select`` fails past
  1,024 open descriptors, which read as "client gone").
"""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
import json
import logging
import queue
import select
import selectors
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from desktop_app.core.api.openai import (
    FINISH,
    STATUS,
    api_error,
    chat_request,
    chat_tools,
    completion,
    completion_logprobs,
    completion_request,
    error_body,
    parse_body,
    response_meta,
    splits_reasoning,
    stream_chunk,
    stream_usage,
    token_logprobs,
    tool_call_completion,
    usage_chunk,
)
from desktop_app.core.api.secrets import api_token
from desktop_app.core.chat.thinking import (
    Split,
    ThinkingSplitter,
    opens_in_prompt,
    split_reasoning,
)
from desktop_app.core.engine.protocol import (
    DoneEvent,
    DraftSettings,
    Engine,
    EngineConfig,
    ErrorEvent,
    GenerateRequest,
    ModelLoaded,
    TokenEvent,
)
from desktop_app.core.errors import GlassboxError, InvalidRequestError, error_from_event
from desktop_app.core.kb.answer import ANSWER_TOKENS, answer
from desktop_app.core.kb.errors import KnowledgeBaseLockedError
from desktop_app.core.kb.grounding import GroundingOptions, ground
from desktop_app.core.kb.whole import require_fit, whole_documents
from desktop_app.core.memory import release_free_memory
from desktop_app.core.sampling import SamplingParams
from desktop_app.workers.engine.client import EngineClient
from desktop_app.workers.jobs import CANCELLED, JobHandle, JobQueue

log = logging.getLogger(__name__)

#: Largest request body read (a long chat fits; a runaway upload does not).
MAX_BODY_BYTES = 8 * 1024 * 1024
#: Past this, the memory a request body took is handed back once it is answered.
LARGE_BODY_BYTES = 256 * 1024
_WAIT_S = 0.1
#: How long a request may take to arrive whole, and any one read or write may wait.
REQUEST_TIMEOUT_S = 30.0
#: Connections served at once; one more is answered 503 (no thread for it).
MAX_CONNECTIONS = 32
_PARSING = threading.Lock()
#: Refused connections kept open a moment so that the client reads its 503.
_MAX_LINGERING = 256
_LINGER_S = 2.0

#: Host names a loopback-only API answers to (DNS rebinding: any other name is a web
#: page's own name made to resolve to 127.0.0.1).
_LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})


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
        "Give --allow-remote (and a --token-file) to serve it there anyway."
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
            "network could use the model. Give a token (--token-file, or Settings → Local API)."
        )


@dataclass(eq=False)
class _Job:
    """One request in the queue; ``out`` receives its events or its single result."""

    kind: str
    payload: Any
    out: queue.SimpleQueue[Any] = field(default_factory=queue.SimpleQueue)
    cancelled: threading.Event = field(default_factory=threading.Event)
    task: JobHandle | None = None  # WindowApi: the controller task running it


@dataclass(frozen=True)
class _Result:
    value: Any


@dataclass(frozen=True)
class _Failure:
    error: GlassboxError


def _busy_response(limit: int) -> bytes:
    body = json.dumps(
        error_body(
            api_error(
                "not_ready",
                f"The API is serving {limit} connections already; try again in a moment.",
            )
        )
    ).encode()
    head = (
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


class _Server(ThreadingHTTPServer):
    """One thread per connection, at most ``max_connections``, each with deadlines.

    ``service_actions`` (run by ``serve_forever`` between polls) drops connections
    whose request has not arrived within ``request_timeout_s`` and closes the
    refused ones once their client has read the 503.
    """

    # Two clients connecting at once must both be accepted, not refused by a short backlog.
    request_queue_size = 64
    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        *,
        request_timeout_s: float = REQUEST_TIMEOUT_S,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        self.request_timeout_s = request_timeout_s
        self.max_connections = max_connections
        self._guard = threading.Lock()
        self._active = 0
        self._deadlines: dict[socket.socket, float] = {}
        self._lingering: list[tuple[socket.socket, float]] = []
        super().__init__(address, handler)

    @property
    def active(self) -> int:
        """Connections being served now."""
        with self._guard:
            return self._active

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._guard:
            busy = self._active >= self.max_connections
            if not busy:
                self._active += 1
        if busy:
            self._refuse(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            with self._guard:
                self._active -= 1
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._guard:
                self._active -= 1
                self._deadlines.pop(request, None)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A bug, not a client's fault: into the log (with its traceback), not to stderr.
        log.exception("The API failed on a request from %s.", client_address)

    def _refuse(self, sock: socket.socket) -> None:
        """A 503 without reading the request; the socket lingers until the client reads it."""
        try:
            sock.setblocking(False)
            sock.send(_busy_response(self.max_connections))
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            self.shutdown_request(sock)
            return
        with self._guard:
            self._lingering.append((sock, time.monotonic() + _LINGER_S))
            old = self._lingering[:-_MAX_LINGERING]
            del self._lingering[:-_MAX_LINGERING]
        for s, _ in old:
            s.close()

    def arm(self, sock: socket.socket) -> None:
        """The request on ``sock`` must arrive within ``request_timeout_s`` from now."""
        with self._guard:
            self._deadlines[sock] = time.monotonic() + self.request_timeout_s

    def disarm(self, sock: socket.socket) -> None:
        """The request on ``sock`` has arrived: no deadline while it is answered."""
        with self._guard:
            self._deadlines.pop(sock, None)

    def service_actions(self) -> None:
        now = time.monotonic()
        with self._guard:
            late = [s for s, t in self._deadlines.items() if t <= now]
            for s in late:
                del self._deadlines[s]
            lingering, self._lingering = self._lingering, []
        for s in late:
            log.debug("A request did not arrive within %g s: dropped.", self.request_timeout_s)
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
        keep: list[tuple[socket.socket, float]] = []
        for s, t in lingering:
            if t > now and not _drained(s):
                keep.append((s, t))
            else:
                s.close()
        if keep:
            with self._guard:
                self._lingering.extend(keep)

    def server_close(self) -> None:
        super().server_close()
        with self._guard:
            lingering, self._lingering = self._lingering, []
        for s, _ in lingering:
            s.close()


def _drained(sock: socket.socket) -> bool:
    """Read what a refused client sent; True once it closed (or failed)."""
    try:
        while True:
            if not sock.recv(65536):
                return True
    except BlockingIOError:
        return False
    except OSError:
        return True


def _readable(sock: socket.socket) -> bool:
    """Whether ``sock`` has data (or an end) to read now; any descriptor number."""
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(sock, select.POLLIN | select.POLLPRI)
        return bool(poller.poll(0))
    with selectors.DefaultSelector() as sel:
        sel.register(sock, selectors.EVENT_READ)
        return bool(sel.select(0))


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
        draft: DraftSettings | None = None,
        sampling: Mapping[str, Any] | None = None,
    ) -> None:
        check_host(host, allow_remote)
        check_token(not is_loopback(host), token)
        self.config = config
        #: Drafting for requests that do not say (their "draft" object wins).
        self.draft = draft or DraftSettings()
        #: Sampling fields (the API's names) for requests that do not set them.
        self.sampling: dict[str, Any] = dict(sampling or {})
        # Always a token: without one any local user could read the documents' passages.
        self.token: str | None = api_token(token)
        self.loaded: ModelLoaded | None = None
        self._host, self._port = host, port
        self._open_kb = knowledge_base or _open_knowledge_base
        self._kb: Any = None
        self._client = EngineClient()
        # One thread owns the engine process and the knowledge base; results go straight
        # to the waiting request (inline: no Qt, no event loop in ``glassbox serve``).
        self._jobs: JobQueue[EngineClient] = JobQueue(
            lambda: self._client, self._close_worker, name="glassbox-api-engine", inline=True
        )
        self._httpd: ThreadingHTTPServer | None = None
        self._serving: threading.Thread | None = None

    # -- life cycle ----------------------------------------------------------------

    def start(self) -> ModelLoaded:
        """Load the model, bind the port and serve in the background."""
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
        self._stop_worker()

    def _stop_worker(self) -> None:
        # Cancels the running request, fails the queued ones, closes the engine.
        self._jobs.shutdown(timeout_s=15)

    def __enter__(self) -> ApiServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the queue -----------------------------------------------------------------

    def enqueue(self, kind: str, payload: Any) -> _Job:
        """Queue a job for the engine thread."""
        job = _Job(kind, payload)
        job.task = self._jobs.run(
            lambda _client, _ctx: self._run(job),
            on_failed=lambda kind, message: job.out.put(_Failure(_failure(kind, message))),
            on_cancel=self._client.cancel,
            label=f"API {kind}",
        )
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
        if job.task is not None:
            job.task.cancel()

    def _close_worker(self, client: EngineClient) -> None:
        if self._kb is not None:
            self._kb.close()
        client.close()

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
        elif job.kind == "tools":
            turn = self._tool_turn(*job.payload)
            if job.cancelled.is_set():
                raise _cancelled()
            job.out.put(_Result(turn))
        else:
            raise GlassboxError(f"Unknown job {job.kind!r}.")

    def _tool_turn(self, request: GenerateRequest, specs: Any, choice: str) -> Any:
        """The model's next turn with the client's tools: a reply or a call (not run here)."""
        return tool_turn(self._client, self.loaded, request, specs, choice)

    def _answer(
        self, question: str, collection: str, k: int, whole: bool, cad: float | None = None
    ) -> dict[str, object]:
        if self._kb is None:
            try:
                self._kb = self._open_kb()
            except KnowledgeBaseLockedError as exc:
                raise KnowledgeBaseLockedError(
                    f"The knowledge base is in use by a Glassbox window ({exc}). Close the "
                    "window, or ask from it, then try again."
                ) from exc
        self._kb.collection(collection)
        loaded = self.loaded
        if whole:
            # The collection's documents whole, when they fit the context.
            n_ctx = loaded.n_ctx if loaded else 0
            hits, fits = whole_documents(self._kb, [collection], question, n_ctx, ANSWER_TOKENS)
            require_fit(fits)
        else:
            # ask's grounding: a question asked in another language than the
            # documents' is also searched as the model writes it in theirs.
            options = GroundingOptions(collections=(collection,), k=k)
            chat = loaded.has_chat_template if loaded else True
            hits = ground(self._kb, self._client, question, options, chat_template=chat).hits
        result = answer(
            self._client,
            question,
            hits,
            chat_template=loaded.has_chat_template if loaded else True,
            params=SamplingParams(temperature=0.0, max_tokens=ANSWER_TOKENS),
            whole=whole,
            cad=cad,
        )
        return {**result.as_dict(), "cad": None if cad is None else {"alpha": cad}}


def tool_turn(
    engine: Engine, loaded: ModelLoaded | None, request: GenerateRequest, specs: Any, choice: str
) -> Any:
    """The model's next turn with a client's tools (``tools.loop.next_turn``): a reply or
    a call that the client runs. ``glassbox serve`` and the window's API both answer
    a chat with ``tools`` through this."""
    from desktop_app.core.models.templates import supports_tools
    from desktop_app.core.tools.loop import next_turn

    if request.messages is None:
        raise InvalidRequestError("A chat with tools needs messages.")
    return next_turn(
        engine,
        specs,
        request.messages,
        request.params,
        template_has_tools=supports_tools(loaded.chat_template if loaded else None),
        tool_choice=choice,
    )


def _open_knowledge_base() -> Any:
    from desktop_app.core.kb.knowledge_base import KnowledgeBase

    return KnowledgeBase()


def _cad_alpha(value: object) -> float | None:
    """The request's ``"cad": {"alpha": …}`` (context-aware decoding), None when absent."""
    from desktop_app.core.engine.protocol import CONTRAST_ALPHA_MAX

    if value is None:
        return None
    alpha = value.get("alpha") if isinstance(value, dict) else None
    if (
        isinstance(alpha, bool)
        or not isinstance(alpha, int | float)
        or not 0 <= alpha <= CONTRAST_ALPHA_MAX
    ):
        raise InvalidRequestError(
            f"'cad' must be an object {{\"alpha\": α}} with α from 0 to {CONTRAST_ALPHA_MAX:g} "
            "(0 only measures; leave 'cad' out for plain decoding)."
        )
    return float(alpha)


def _failure(kind: str, message: str) -> GlassboxError:
    """A failed job's error for the client (a bug in a job is the server's fault: 500)."""
    return _cancelled() if kind == CANCELLED else api_error(kind, message)


def _cancelled() -> GlassboxError:
    error = GlassboxError("The request was cancelled.")
    error.kind = "cancelled"
    return error


class _Backend(Protocol):
    """What the HTTP handler needs from ``ApiServer`` or ``WindowApi`` (any thread)."""

    token: str | None

    @property
    def draft(self) -> DraftSettings: ...

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
    server: _Server
    server_version = "Glassbox"
    _large_body = False

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def setup(self) -> None:
        super().setup()
        # Every read and write on the socket waits at most this long.
        self.connection.settimeout(self.server.request_timeout_s)

    def handle_one_request(self) -> None:
        # The request line, headers and body must all arrive within the deadline.
        self.server.arm(self.connection)
        self._large_body = False
        try:
            super().handle_one_request()
        except OSError as exc:  # the client went away, was too slow, or never read
            log.debug("Connection from %s dropped: %s", self.address_string(), exc)
            self.close_connection = True
        finally:
            self.server.disarm(self.connection)
            if self._large_body:
                # What this thread's arena kept of the body goes back to the system,
                # or the window's process grows with every large request.
                release_free_memory()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Malformed request lines and headers: a JSON error with a sentence, not HTML."""
        if code == 501:  # a method no route answers
            self.close_connection = True
            self._send_json(
                405,
                error_body(
                    api_error(
                        "method_not_allowed",
                        f"The API does not answer {str(self.command)[:20]} requests: use GET "
                        "for /v1/models and POST for the others.",
                    )
                ),
            )
            return
        what = (message or self.responses.get(code, ("Error",))[0])[:200]
        # No HTTP/0.9 replies (a body without a status line): a client could not tell.
        self.request_version = "HTTP/1.0"
        text = f"The HTTP request was malformed ({code} {what}); send a valid HTTP/1.1 request."
        self.close_connection = True
        kind = "invalid_request" if code < 500 else "server_error"
        body = {"error": {"message": text, "type": "invalid_request_error", "code": kind}}
        self._send_json(code, body)

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
        self._body_read = self.command != "POST"
        try:
            if self.server_api.loopback_only and not loopback_request(
                self.headers.get("Host"), self.headers.get("Origin")
            ):
                raise api_error(
                    "forbidden",
                    "This API answers only programs on this computer, addressed as "
                    "127.0.0.1, localhost or [::1].",
                )
            if not self._authorized():
                raise api_error("unauthorized", "A valid bearer token is required.")
            route = routes.get(self.path.split("?", 1)[0].rstrip("/"))
            if route is None:
                raise api_error("not_found", f"No endpoint {self.command} {self.path}.")
            if self.command != "POST":
                self.server.disarm(self.connection)  # no body to wait for
            route()
        except GlassboxError as exc:
            self.close_connection = self.close_connection or not self._body_read
            self._send_json(STATUS.get(exc.kind, 500), error_body(exc))
        except _Disconnected:
            self.close_connection = True
        except Exception:  # a bug: logged, and the client told
            log.exception("The API failed on %s %s.", self.command, self.path)
            self.close_connection = True
            error = GlassboxError("The API failed on this request; the error is in its log.")
            self._send_json(500, error_body(error))

    def _authorized(self) -> bool:
        token = self.server_api.token
        if token is None:
            return True
        given = self.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())

    # -- endpoints --

    def _models(self) -> None:
        self._send_json(200, {"object": "list", "data": self.server_api.models()})

    def _with_defaults(self, body: dict[str, Any]) -> dict[str, Any]:
        """``body`` over the server's sampling defaults (``glassbox serve --mirostat …``)."""
        return {**getattr(self.server_api, "sampling", {}), **body}

    def _chat(self) -> None:
        body = self._with_defaults(self._body())
        request, top = chat_request(body)
        specs, choice = chat_tools(body)
        if specs:
            self._tools(body, request, specs, choice)
            return
        self._generate(body, request, top, chat=True)

    def _tools(
        self, body: dict[str, Any], request: GenerateRequest, specs: Any, choice: str
    ) -> None:
        """A chat turn with tools: the reply, or ``tool_calls`` for the client to run.
        Streamed as one chunk of text and one of calls, once the turn is decided."""
        stream, include_usage = stream_usage(body)
        job = self.server_api.enqueue("tools", (request, specs, choice))
        for item in self._wait(job):
            if isinstance(item, _Failure):
                raise item.error
            if not isinstance(item, _Result):
                continue
            turn = item.value
            meta = response_meta(self.server_api.model_id, chat=True)
            whole = tool_call_completion(meta, turn.text, turn.calls, turn.done)
            if not stream:
                self._send_json(200, whole)
                return
            message = whole["choices"][0]["message"]
            self._start_stream()
            self._send_event(stream_chunk(meta, {"role": "assistant", "content": ""}, chat=True))
            if turn.text:
                self._send_event(stream_chunk(meta, {"content": turn.text}, chat=True))
            if turn.calls:
                calls = [{"index": i, **c} for i, c in enumerate(message["tool_calls"])]
                self._send_event(stream_chunk(meta, {"tool_calls": calls}, chat=True))
            finish = whole["choices"][0]["finish_reason"]
            self._send_event(stream_chunk(meta, {}, chat=True, finish_reason=finish))
            if include_usage and turn.done is not None:
                self._send_event(usage_chunk(meta, turn.done, chat=True))
            self._write(b"data: [DONE]\n\n")
            return

    def _completions(self) -> None:
        body = self._with_defaults(self._body())
        request, top = completion_request(body)
        self._generate(body, request, top, chat=False)

    def _generate(
        self, body: dict[str, Any], request: GenerateRequest, top: int | None, *, chat: bool
    ) -> None:
        stream, include_usage = stream_usage(body)  # a malformed body is refused first
        if body.get("draft") is None:
            request = replace(request, draft=self.server_api.draft)
        job = self.server_api.enqueue("generate", request)
        # A chat reply's reasoning goes in reasoning_content, as llama.cpp's server has it.
        thinking = (
            ThinkingSplitter[TokenEvent](opens_in_prompt(self._loaded(), request))
            if chat and splits_reasoning(body)
            else None
        )
        if stream:
            self._stream(job, top, include_usage, chat, thinking)
        else:
            self._complete(job, top, chat, thinking)

    def _loaded(self) -> ModelLoaded | None:
        """The model replies come from (``glassbox serve``'s or the window's)."""
        api = self.server_api
        loaded = getattr(api, "loaded", None)
        if loaded is None:
            loaded = getattr(getattr(api, "_controller", None), "model_loaded", None)
        return loaded if isinstance(loaded, ModelLoaded) else None

    def _knowledge(self) -> None:
        body = self._body()
        question, collection, k = body.get("question"), body.get("collection"), body.get("k", 5)
        if not isinstance(question, str) or not question.strip():
            raise InvalidRequestError("'question' must be a non-empty string.")
        if not isinstance(collection, str) or not collection:
            raise InvalidRequestError("'collection' must name a knowledge collection.")
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= 50:
            raise InvalidRequestError("'k' must be a whole number from 1 to 50.")
        whole = body.get("whole_documents", False)
        if not isinstance(whole, bool):
            raise InvalidRequestError("'whole_documents' must be true or false.")
        cad = _cad_alpha(body.get("cad"))
        job = self.server_api.enqueue("answer", (question, collection, k, whole, cad))
        for item in self._wait(job):
            if isinstance(item, _Failure):
                raise item.error
            self._send_json(200, item.value)
            return

    # -- generation --

    def _complete(
        self,
        job: _Job,
        top: int | None,
        chat: bool = True,
        thinking: ThinkingSplitter[TokenEvent] | None = None,
    ) -> None:
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
                logprobs: dict[str, Any] | None = None
                if top is not None:
                    logprobs = {"content": entries} if chat else completion_logprobs(events, top, 0)
                meta = response_meta(self.server_api.model_id, chat=chat)
                text, reasoning = "".join(pieces), ""
                if thinking is not None:
                    # Not fed yet: it is in the reasoning when the prompt opened the block.
                    reasoning, text = split_reasoning(text, opened=thinking.in_reasoning)
                self._send_json(
                    200, completion(meta, item, text, logprobs, chat=chat, reasoning=reasoning)
                )
                return
            elif isinstance(item, ErrorEvent):
                raise error_from_event(item)
            elif isinstance(item, _Failure):
                raise item.error

    def _stream(
        self,
        job: _Job,
        top: int | None,
        include_usage: bool,
        chat: bool = True,
        thinking: ThinkingSplitter[TokenEvent] | None = None,
    ) -> None:
        meta = response_meta(self.server_api.model_id, chat=chat)
        started = False
        offset = 0

        def chunk(delta: dict[str, Any], **extra: Any) -> dict[str, Any]:
            return stream_chunk(meta, delta, chat=chat, **extra)

        def send_split(splits: list[Split[TokenEvent]]) -> None:
            # Each token once it is known to be reasoning or answer; tags are left out.
            assert thinking is not None
            for split in splits:
                delta: dict[str, Any] = {}
                reasoning, answer = split.text("reasoning"), split.text("answer")
                if reasoning:
                    delta["reasoning_content"] = reasoning
                if answer:
                    delta["content"] = answer
                if delta:
                    lp = {"content": [token_logprobs(split.item, top)]} if top is not None else None
                    self._send_event(chunk(delta, logprobs=lp))

        try:
            for item in self._wait(job):
                if isinstance(item, DoneEvent) and item.finish_reason == "cancelled":
                    # Cut short (the API switched off …): an error, not a finished reply.
                    item = _Failure(_cancelled())
                if isinstance(item, ErrorEvent | _Failure):
                    error = error_from_event(item) if isinstance(item, ErrorEvent) else item.error
                    if not started:
                        raise error
                    self._send_event(error_body(error))
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
                    if thinking is not None:
                        send_split(thinking.push(item.text, item))
                        continue
                    self._send_event(chunk({"content": item.text}, logprobs=lp))
                elif isinstance(item, DoneEvent):
                    if thinking is not None:
                        send_split(thinking.finish())
                    finish = FINISH.get(item.finish_reason, "length")
                    self._send_event(chunk({}, finish_reason=finish))
                    if include_usage:
                        self._send_event(usage_chunk(meta, item, chat=chat))
                    break
            self._write(b"data: [DONE]\n\n")
        except OSError as exc:  # gone, or not reading its reply within the timeout
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
            return _readable(self.connection) and self.connection.recv(1, socket.MSG_PEEK) == b""
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
        self._large_body = length > LARGE_BODY_BYTES
        try:
            raw = self.rfile.read(length)
        except OSError as exc:  # too slow (the deadline shut it), or gone
            raise _Disconnected from exc
        self.server.disarm(self.connection)
        if len(raw) < length:
            raise InvalidRequestError(
                f"The request body ended after {len(raw)} of the {length} bytes its "
                "Content-Length announced; send the whole body."
            )
        self._body_read = True
        # One body parsed at a time: Python's C parser holds the interpreter lock for
        # a megabyte-sized body (~10 ms), and eight of them back to back would hold
        # the window's event loop for as long; between two, the window's thread runs.
        with _PARSING:
            return parse_body(raw)

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
        except OSError:  # gone, or not reading its reply within the timeout
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
