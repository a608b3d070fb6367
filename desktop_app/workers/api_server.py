"""Glassbox's own OpenAI-compatible API: the loaded model served over HTTP.

Standard library only (``http.server``). One worker thread owns the
``EngineClient`` (and the knowledge base, whose SQLite connection is bound to a
thread) and runs requests one at a time from a queue: concurrent HTTP requests
wait their turn, none is lost. A client that goes away, while waiting or
mid-stream, has its generation cancelled so the next one starts at once.

Logprobs come from Glassbox's own candidates: ``top_logprobs`` are log(p_raw),
the model's distribution before sampling; the chosen token's ``logprob`` is the
log of the probability it was drawn with.
"""

from __future__ import annotations

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
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from desktop_app.core.engine.protocol import (
    DoneEvent,
    EngineConfig,
    ErrorEvent,
    GenerateRequest,
    Message,
    ModelLoaded,
    Role,
    TokenEvent,
)
from desktop_app.core.errors import GlassboxError, InvalidRequestError
from desktop_app.core.kb.answer import answer
from desktop_app.core.kb.errors import KnowledgeBaseLockedError
from desktop_app.core.sampling import SamplingParams
from desktop_app.workers.engine_process import EngineClient, error_from_event

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
    "not_found": 404,
    "kb_no_collection": 404,
    "kb_locked": 409,
    "cancelled": 499,
}

_ROLES: dict[str, Role] = {"system": "system", "user": "user", "assistant": "assistant"}

_FINISH = {"stop": "stop", "eos": "stop", "cancelled": "stop", "length": "length"}


def check_host(host: str, allow_remote: bool) -> None:
    """Refuse a non-loopback address unless remote access was asked for."""
    if allow_remote or host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise InvalidRequestError(
            f"{host} is not a loopback address: anyone on the network could use the model. "
            "Give --allow-remote (and a --token) to serve it there anyway."
        )


def logprob(p: float) -> float:
    """The natural log of a probability, floored so that JSON can carry it."""
    return math.log(p) if p > 0 else LOGPROB_FLOOR


@dataclass
class _Job:
    """One request in the queue; ``out`` receives its events or its single result."""

    kind: str
    payload: Any
    out: queue.SimpleQueue[Any] = field(default_factory=queue.SimpleQueue)
    cancelled: threading.Event = field(default_factory=threading.Event)


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
    def model_id(self) -> str:
        """The model's name as listed by /v1/models: its file name."""
        return Path(self.loaded.model_path if self.loaded else self.config.model_path).name

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
            job.out.put(_Result(self._answer(*job.payload)))
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


def _open_knowledge_base() -> Any:
    from desktop_app.core.kb.store import KnowledgeBase

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
    defaults = SamplingParams()
    stop = body.get("stop")
    stops = (stop,) if isinstance(stop, str) else tuple(stop or ())
    max_tokens = body.get("max_completion_tokens") or body.get("max_tokens") or defaults.max_tokens

    def get(name: str, default: Any) -> Any:
        value = body.get(name)
        return default if value is None else value

    params = SamplingParams(
        temperature=get("temperature", defaults.temperature),
        top_p=get("top_p", defaults.top_p),
        top_k=get("top_k", defaults.top_k),
        min_p=get("min_p", defaults.min_p),
        repeat_penalty=get("repeat_penalty", defaults.repeat_penalty),
        seed=body.get("seed"),
        max_tokens=max_tokens,
        stop=stops,
    )
    top: int | None = None
    if body.get("logprobs"):
        top = get("top_logprobs", 0)
        if isinstance(top, bool) or not isinstance(top, int) or not 0 <= top <= MAX_TOP_LOGPROBS:
            raise InvalidRequestError(f"top_logprobs must be between 0 and {MAX_TOP_LOGPROBS}.")
    request = GenerateRequest(params=params, messages=_messages(body), candidates=top or 0)
    return request, top


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


def _handler(api: ApiServer) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        server_api = api

    return Handler


class _Handler(BaseHTTPRequestHandler):
    server_api: ApiServer
    server_version = "Glassbox"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    # -- routing --

    def do_GET(self) -> None:
        self._dispatch({"/v1/models": self._models})

    def do_POST(self) -> None:
        self._dispatch(
            {"/v1/chat/completions": self._chat, "/v1/knowledge/answer": self._knowledge}
        )

    def _dispatch(self, routes: dict[str, Callable[[], None]]) -> None:
        try:
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
        api = self.server_api
        created = int(Path(api.config.model_path).stat().st_mtime)
        model = {"id": api.model_id, "object": "model", "created": created, "owned_by": "glassbox"}
        self._send_json(200, {"object": "list", "data": [model]})

    def _chat(self) -> None:
        body = self._body()
        request, top = chat_request(body)
        job = self.server_api.enqueue("generate", request)
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            self._stream(job, top, include_usage)
        else:
            self._complete(job, top)

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

    def _meta(self) -> dict[str, Any]:
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex}",
            "created": int(time.time()),
            "model": self.server_api.model_id,
        }

    def _complete(self, job: _Job, top: int | None) -> None:
        pieces: list[str] = []
        entries: list[dict[str, Any]] = []
        for item in self._wait(job):
            if isinstance(item, TokenEvent):
                pieces.append(item.text)
                if top is not None:
                    entries.append(token_logprobs(item, top))
            elif isinstance(item, DoneEvent):
                choice = {
                    "index": 0,
                    "message": {"role": "assistant", "content": "".join(pieces)},
                    "logprobs": {"content": entries} if top is not None else None,
                    "finish_reason": _FINISH.get(item.finish_reason, "length"),
                }
                self._send_json(
                    200,
                    {
                        **self._meta(),
                        "object": "chat.completion",
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

    def _stream(self, job: _Job, top: int | None, include_usage: bool) -> None:
        meta = {**self._meta(), "object": "chat.completion.chunk"}
        started = False

        def chunk(delta: dict[str, Any], **extra: Any) -> dict[str, Any]:
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}
            choice.update(extra)
            return {**meta, "choices": [choice]}

        try:
            for item in self._wait(job):
                if isinstance(item, ErrorEvent | _Failure):
                    error = error_from_event(item) if isinstance(item, ErrorEvent) else item.error
                    if not started:
                        raise error
                    self._send_event(_error_body(error))
                    break
                if not started:
                    self._start_stream()
                    self._send_event(chunk({"role": "assistant", "content": ""}))
                    started = True
                if isinstance(item, TokenEvent):
                    lp = {"content": [token_logprobs(item, top)]} if top is not None else None
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
