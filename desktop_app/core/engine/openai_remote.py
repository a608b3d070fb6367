"""An engine that streams from a remote OpenAI-compatible server (llama.cpp, vLLM, Ollama …).

Chat requests go to ``/v1/chat/completions``, raw prompts to ``/v1/completions``,
both with ``stream: true`` and log-probabilities of the top alternatives, read as
server-sent events with the standard library only.

What a remote server cannot tell (see ``REMOTE_LIMITS``): it reports the
log-probability of each token and of its top alternatives (at most 20), nothing
of its sampler chain. So each ``Candidate`` carries ``logit`` = the server's
log-probability (a logit shifted by a constant, which keeps every ratio between
candidates), ``p_raw`` = its exponential, ``p_final`` = ``p_raw`` and
``removed_by`` None: which stage removed which candidate is unknown. Token ids
are not sent either: ids are negative numbers given to token texts in the order
this engine first sees them, so the drawn token and its alternatives can be
told apart, but they are not the model's vocabulary ids.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import math
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from desktop_app.core.engine.loops import LoopWatch
from desktop_app.core.engine.protocol import (
    DoneEvent,
    EngineConfig,
    ErrorEvent,
    Event,
    FinishReason,
    GenerateRequest,
    ModelLoaded,
    ScoreRequest,
    ScoreResult,
    TokenEvent,
    ToolCall,
)
from desktop_app.core.engine.remote_tools import (
    CallCollector,
    PromptCalls,
    no_tools_note,
    prompt_messages,
    refused_tools,
    wire_message,
    wire_tool_choice,
)
from desktop_app.core.errors import (
    EngineNotReadyError,
    GlassboxError,
    InvalidRequestError,
    RemoteEngineError,
)
from desktop_app.core.sampling import Candidate, llama_server_fields

#: ``ModelLoaded.backend`` of a remote engine starts with this.
REMOTE_BACKEND_PREFIX = "openai:"

#: The most alternatives per token the OpenAI format allows.
MAX_REMOTE_CANDIDATES = 20

#: What the token view cannot show for a remote engine, in words a user reads.
REMOTE_LIMITS = (
    "Remote engine: probabilities are the server's log-probabilities of the top "
    f"{MAX_REMOTE_CANDIDATES} alternatives at most. Sampler stages (which of top-k, "
    "top-p or min-p removed a candidate, and the probabilities after them) are not "
    "reported by the server; token ids are local numbers, not the model's."
)

DEFAULT_TIMEOUT_S = 60.0

#: The largest whole reply read from a server (``/v1/models``, an error's body).
MAX_REPLY_BYTES = 4 * 1024 * 1024
#: The longest line of a streamed reply (one event: a token and its alternatives).
MAX_EVENT_BYTES = 1024 * 1024

#: Why scoring (classify) is refused by a remote engine, in words a user reads.
NO_REMOTE_SCORING = (
    "Classify scores each label from the model's own probabilities for it, which a "
    "remote server does not report. Load a local model to classify."
)

#: What a server that refuses a grammar is told, appended to its refusal.
NO_REMOTE_GRAMMAR = (
    " This request carries a GBNF grammar (Extract needs one to guarantee valid JSON); "
    "llama.cpp's server accepts it, other servers may not. Use a llama.cpp server or "
    "a local model."
)


def is_remote(loaded: ModelLoaded | None) -> bool:
    """True when ``loaded`` describes a model served by a remote engine."""
    return loaded is not None and loaded.backend.startswith(REMOTE_BACKEND_PREFIX)


@dataclass(frozen=True, slots=True)
class _Endpoint:
    scheme: str
    host: str
    port: int
    prefix: str

    @property
    def label(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}{self.prefix}"


def _endpoint(base_url: str) -> _Endpoint:
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidRequestError(
            f"{base_url!r} is not a server address: give one like http://127.0.0.1:8080."
        )
    prefix = parts.path.rstrip("/")
    # Both ``http://host:port`` and ``http://host:port/v1`` are common ways to write it.
    if prefix.endswith("/v1"):
        prefix = prefix[: -len("/v1")]
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return _Endpoint(parts.scheme, parts.hostname, port, prefix)


_FINISH: dict[str, FinishReason] = {"length": "length", "stop": "eos", "tool_calls": "eos"}


class _Refused(RemoteEngineError):
    """The server answered a request with an HTTP error ``status``."""

    def __init__(self, message: str, status: int, detail: str) -> None:
        super().__init__(message)
        self.status = status
        self.detail = detail


class OpenAIEngine:
    """A remote OpenAI-compatible server as an ``Engine``.

    ``model`` None takes the model named by ``EngineConfig.model_path`` when the
    server lists it, else the first one listed. ``timeout_s`` bounds the
    connection and every wait for the next bytes of a reply.

    A request's ``tools`` go to the server as OpenAI's ``tools`` and
    ``tool_choice``, and the calls it sends come back in ``DoneEvent.tool_calls``
    (see ``remote_tools``); a server that refuses them gets them described in the
    prompt instead, from then on, and each reply's ``DoneEvent.note`` says so.
    """

    #: The tool loop gives this engine the tools and reads its calls from
    #: ``DoneEvent.tool_calls`` instead of writing them under a grammar.
    native_tools = True

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        model: str | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        self.endpoint = _endpoint(base_url)
        self.api_key = api_key or None
        self.model = model
        self.timeout_s = timeout_s
        self.loaded: ModelLoaded | None = None
        self._cancel = threading.Event()
        self._sock_lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._ids: dict[str, int] = {}
        #: Why the server's tools are described in the prompt ("": it takes tools).
        self.tools_refused = ""
        self._calls = CallCollector()
        self._thinking = False  # the streamed reply is inside its reasoning

    # -- HTTP --------------------------------------------------------------------

    def _connection(self) -> http.client.HTTPConnection:
        e = self.endpoint
        if e.scheme == "https":
            return http.client.HTTPSConnection(e.host, e.port, timeout=self.timeout_s)
        return http.client.HTTPConnection(e.host, e.port, timeout=self.timeout_s)

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers

    def _network_error(self, exc: BaseException, doing: str) -> RemoteEngineError:
        where = self.endpoint.label
        if isinstance(exc, ConnectionRefusedError):
            why = "connection refused: is the server running, and on this port?"
        elif isinstance(exc, TimeoutError):
            why = f"no answer within {self.timeout_s:g} s"
        elif isinstance(exc, socket.gaierror):
            why = f"the name {self.endpoint.host!r} cannot be resolved"
        else:
            why = str(exc) or type(exc).__name__
        return RemoteEngineError(f"The server at {where} failed while {doing} ({why}).")

    def _open(
        self, method: str, path: str, body: dict[str, Any] | None, doing: str
    ) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        """Send a request; a refusal (HTTP 4xx/5xx) raises ``RemoteEngineError``."""
        conn = self._connection()
        data = json.dumps(body).encode() if body is not None else None
        try:
            conn.connect()
            with self._sock_lock:
                self._sock = conn.sock
            conn.request(method, self.endpoint.prefix + path, body=data, headers=self._headers())
            resp = conn.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise self._network_error(exc, doing) from exc
        if resp.status >= 400:
            detail = self._error_detail(resp)
            conn.close()
            hint = (
                " Check the API key (--api-key-file or $GLASSBOX_REMOTE_API_KEY)."
                if resp.status in (401, 403)
                else ""
            )
            if body is not None and "grammar" in body and 400 <= resp.status < 500:
                hint += NO_REMOTE_GRAMMAR
            raise _Refused(
                f"The server at {self.endpoint.label} refused {doing} "
                f"(HTTP {resp.status}: {detail}).{hint}",
                resp.status,
                f"HTTP {resp.status}: {detail}",
            )
        return conn, resp

    @staticmethod
    def _error_detail(resp: http.client.HTTPResponse) -> str:
        try:
            raw = resp.read(4096).decode("utf-8", "replace")
        except (OSError, http.client.HTTPException):
            return resp.reason
        try:
            err = json.loads(raw)
        except ValueError:
            return raw.strip()[:300] or resp.reason
        if isinstance(err, dict):
            inner = err.get("error", err)
            if isinstance(inner, dict):
                return str(inner.get("message") or inner.get("detail") or inner)[:300]
            return str(inner)[:300]
        return str(err)[:300]

    def _too_large(self, what: str, limit: int) -> RemoteEngineError:
        return RemoteEngineError(
            f"The server at {self.endpoint.label} sent {what} larger than "
            f"{limit // 1024:,} KiB; Glassbox stopped reading it. Is it an "
            "OpenAI-compatible server?"
        )

    def _get_json(self, path: str, doing: str) -> Any:
        conn, resp = self._open("GET", path, None, doing)
        try:
            raw = resp.read(MAX_REPLY_BYTES + 1)
            if len(raw) > MAX_REPLY_BYTES:
                raise self._too_large(f"a reply to {path}", MAX_REPLY_BYTES)
            return json.loads(raw)
        except (OSError, http.client.HTTPException) as exc:
            raise self._network_error(exc, doing) from exc
        except (ValueError, RecursionError) as exc:
            raise RemoteEngineError(
                f"The server at {self.endpoint.label} did not answer {doing} with JSON; "
                "is it an OpenAI-compatible server?"
            ) from exc
        finally:
            conn.close()

    # -- Engine ------------------------------------------------------------------

    def list_models(self) -> list[str]:
        """The model names the server offers (``GET /v1/models``)."""
        data = self._get_json("/v1/models", "listing its models")
        try:
            return [str(m["id"]) for m in data["data"]]
        except (KeyError, TypeError, IndexError) as exc:
            raise RemoteEngineError(
                f"The server at {self.endpoint.label} answered /v1/models without a model list."
            ) from exc

    def load(self, config: EngineConfig) -> ModelLoaded:
        """Check the server answers and pick the model; nothing is loaded locally."""
        start = time.perf_counter()
        models = self.list_models()
        if not models:
            raise RemoteEngineError(f"The server at {self.endpoint.label} offers no model.")
        want = self.model
        if want is None:
            want = config.model_path if config.model_path in models else models[0]
        elif want not in models:
            raise RemoteEngineError(
                f"The server at {self.endpoint.label} has no model {want!r}; "
                f"it offers: {', '.join(models)}."
            )
        self.model = want
        self.loaded = ModelLoaded(
            model_path=want,
            n_ctx=config.n_ctx,
            n_ctx_train=0,
            n_vocab=0,
            n_threads=0,
            n_threads_batch=0,
            backend=f"{REMOTE_BACKEND_PREFIX}{self.endpoint.host}:{self.endpoint.port}",
            has_chat_template=True,
            load_s=time.perf_counter() - start,
        )
        return self.loaded

    def score(self, request: ScoreRequest) -> ScoreResult:
        """Refused: a server reports no probability for a given continuation."""
        raise RemoteEngineError(NO_REMOTE_SCORING)

    def count_tokens(self, text: str) -> int:
        """Refused: the server's tokenizer is not reachable through the OpenAI API."""
        raise RemoteEngineError(
            "A remote server cannot count tokens for Glassbox; this needs a local model."
        )

    def cancel(self) -> None:
        """Stop the running generation: the stream is closed at once (any thread)."""
        self._cancel.set()
        with self._sock_lock:
            sock = self._sock
        if sock is not None:
            # Shutting the socket down wakes a read blocked on a silent server.
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def _body(self, request: GenerateRequest, seed: int) -> tuple[str, dict[str, Any]]:
        p = request.params
        k = min(request.candidates, MAX_REMOTE_CANDIDATES)
        body: dict[str, Any] = {
            "model": self.model,
            "stream": True,
            "temperature": p.temperature,
            "top_p": p.top_p,
            "max_tokens": p.max_tokens,
            "seed": seed,
            # Not in the OpenAI format; llama.cpp servers (and vLLM) read them.
            "top_k": p.top_k,
            "min_p": p.min_p,
            "repeat_penalty": p.repeat_penalty,
            "repeat_last_n": p.repeat_last_n,
        }
        body.update(llama_server_fields(p))
        if p.stop:
            body["stop"] = list(p.stop)
        if request.grammar is not None:
            body["grammar"] = request.grammar
        if request.ignore_eos:
            body["ignore_eos"] = True
        if request.messages is not None:
            if request.assistant_prefix:
                raise InvalidRequestError(
                    "A remote engine cannot make a reply start with given text "
                    "(continue or branch from a token); use a local model for that."
                )
            # Earlier turns' reasoning is left out, as most templates want.
            body["messages"] = self._messages(request)
            if request.tools and not self.tools_refused:
                body["tools"] = list(request.tools)
                body["tool_choice"] = wire_tool_choice(request.tool_choice)
            if request.thinking is not None:
                # The switch of templates such as Qwen3's (llama.cpp's server, vLLM).
                body["chat_template_kwargs"] = {"enable_thinking": request.thinking}
            body["logprobs"] = k > 0
            if k > 0:
                body["top_logprobs"] = k
            body["stream_options"] = {"include_usage": True}
            return "/v1/chat/completions", body
        if request.prompt is None:
            raise InvalidRequestError("A request needs a prompt or chat messages.")
        body["prompt"] = request.prompt + request.assistant_prefix
        if k > 0:
            body["logprobs"] = k
        body["stream_options"] = {"include_usage": True}
        return "/v1/completions", body

    def _messages(self, request: GenerateRequest) -> list[dict[str, Any]]:
        """The chat messages, with the tools as the server takes them (or in the prompt)."""
        messages = request.messages or ()
        if self.tools_refused:
            return prompt_messages(messages, request.tools)
        return [wire_message(m) for m in messages]

    def _id(self, text: str) -> int:
        found = self._ids.get(text)
        if found is None:
            found = self._ids[text] = -(len(self._ids) + 1)
        return found

    def _token(self, index: int, text: str, logprob: float | None, tops: Any) -> TokenEvent:
        """A token event from one token's text, log-probability and top alternatives."""
        alts: dict[str, float] = {}
        for t, lp in tops:
            if lp is not None and t not in alts:
                alts[t] = float(lp)
        if logprob is not None and alts:
            alts.setdefault(text, float(logprob))
        ranked = sorted(alts.items(), key=lambda kv: kv[1], reverse=True)
        cands = tuple(
            Candidate(self._id(t), t, lp, math.exp(lp), math.exp(lp), None) for t, lp in ranked
        )
        # A server that sends no log-probabilities leaves the probability unknown: 0.
        p = math.exp(logprob) if logprob is not None else 0.0
        return TokenEvent(index, self._id(text), text, p, cands)

    def _tokens(self, choice: dict[str, Any], chat: bool, index: int) -> list[TokenEvent]:
        """The tokens one streamed choice carries, in either format."""
        lp = choice.get("logprobs")
        if chat:
            content = (lp or {}).get("content") if isinstance(lp, dict) else None
            if content:
                return [
                    self._token(
                        index + i,
                        str(e.get("token", "")),
                        e.get("logprob"),
                        [
                            (a.get("token", ""), a.get("logprob"))
                            for a in e.get("top_logprobs") or []
                        ],
                    )
                    for i, e in enumerate(content)
                ]
            delta = choice.get("delta") or {}
            text = delta.get("content") or _reasoning_text(delta) or ""
        else:
            if isinstance(lp, dict) and lp.get("tokens"):
                toks = lp["tokens"]
                lps = lp.get("token_logprobs") or [None] * len(toks)
                tops = lp.get("top_logprobs") or [None] * len(toks)
                return [
                    self._token(index + i, str(t), lps[i], list((tops[i] or {}).items()))
                    for i, t in enumerate(toks)
                ]
            text = choice.get("text") or ""
        return [self._token(index, str(text), None, [])] if text else []

    def _chunk_events(
        self, chunk: Any, chat: bool, index: int
    ) -> tuple[list[TokenEvent], str | None]:
        """The tokens of one streamed chunk and its finish reason (None: not the end).

        A chunk of the wrong shape raises ``TypeError``, ``ValueError`` … for the caller.
        """
        if not isinstance(chunk, dict):
            raise TypeError("a chunk must be a JSON object")
        choices = chunk.get("choices") or []
        if not isinstance(choices, list):
            raise TypeError("'choices' must be a list")
        events: list[TokenEvent] = []
        finish: str | None = None
        for choice in choices:
            if not isinstance(choice, dict):
                raise TypeError("a choice must be an object")
            if chat:
                # Reasoning in a field of its own (llama.cpp's server, vLLM…) comes
                # back as a <think> block, as a local model writes it.
                delta = choice.get("delta") or {}
                if not isinstance(delta, dict):
                    raise TypeError("'delta' must be an object")
                mark = ""
                if _reasoning_text(delta) and not delta.get("content"):
                    if not self._thinking:
                        mark, self._thinking = OPEN_TAG, True
                elif delta.get("content") and self._thinking:
                    mark, self._thinking = CLOSE_TAG, False
                if mark:
                    events.append(self._token(index + len(events), mark, 0.0, []))
            events.extend(self._tokens(choice, chat, index + len(events)))
            if chat and isinstance(choice.get("delta"), dict) and choice["delta"].get("tool_calls"):
                self._calls.add(choice["delta"]["tool_calls"])
            if choice.get("finish_reason"):
                finish = str(choice["finish_reason"])
        return events, finish

    def generate(self, request: GenerateRequest) -> Iterator[Event]:
        """Stream the server's reply; an error keeps the tokens already yielded."""
        if self.loaded is None:
            err: GlassboxError = EngineNotReadyError("No remote model is chosen: load first.")
            yield ErrorEvent(err.kind, str(err))
            return
        self._cancel.clear()
        self._thinking = False
        self._calls = CallCollector()
        seed = request.params.seed
        if seed is None:
            seed = secrets.randbelow(2**32)
        try:
            path, body = self._body(request, seed)
        except GlassboxError as exc:
            yield ErrorEvent(exc.kind, str(exc))
            return
        chat = path.endswith("chat/completions")
        start = time.perf_counter()
        try:
            try:
                conn, resp = self._open("POST", path, body, "streaming a reply")
            except _Refused as refused:
                if "tools" not in body or not refused_tools(refused.status):
                    raise
                # A server without tools: they go into the prompt, for this reply
                # and the next ones.
                self.tools_refused = no_tools_note(self.endpoint.label, refused.detail)
                path, body = self._body(request, seed)
                conn, resp = self._open("POST", path, body, "streaming a reply")
        except GlassboxError as exc:
            with self._sock_lock:
                self._sock = None
            if self._cancel.is_set():
                # Stopped before the server's first byte: cancel() shut the socket
                # in getresponse(). A stop, not a failure.
                yield DoneEvent("cancelled", 0, 0, 0.0, 0.0, seed, text="")
            else:
                yield ErrorEvent(exc.kind, str(exc))
            return
        text: list[str] = []
        # A call written as text (a server without tools, or one that passes the
        # model's call through) is held back and read at the end.
        written = PromptCalls(request.tools) if request.tools and chat else None
        n = 0
        first = last = 0.0
        finish: str | None = None
        prompt_tokens = 0
        done = False
        # A reply that loops is stopped here: closing the connection stops the server.
        loops = LoopWatch(0 if request.ignore_eos else request.params.loop_stop)
        kept = "The text received so far is kept, but the reply is not complete."
        try:
            for data in _sse_data(resp):
                if data == "[DONE]":
                    done = True
                    break
                try:
                    chunk = json.loads(data)
                except (ValueError, RecursionError):
                    continue
                if isinstance(chunk, dict) and "error" in chunk:
                    err_info = chunk["error"]
                    msg = err_info.get("message") if isinstance(err_info, dict) else err_info
                    yield ErrorEvent(
                        "remote",
                        f"The server at {self.endpoint.label} reported an error after {n} "
                        f"tokens: {str(msg)[:500]} {kept}",
                    )
                    return
                try:
                    events, ended = self._chunk_events(chunk, chat, n)
                except (TypeError, ValueError, ArithmeticError, AttributeError, LookupError):
                    yield ErrorEvent(
                        "remote",
                        f"The server at {self.endpoint.label} sent a part of the reply "
                        f"Glassbox cannot read, after {n} tokens. {kept}",
                    )
                    return
                if isinstance(chunk.get("usage"), dict):
                    prompt_tokens = _whole(chunk["usage"].get("prompt_tokens"))
                for event in events:
                    now = time.perf_counter()
                    if n == 0:
                        first = now - start
                    last = now
                    n += 1
                    text.append(event.text)
                    yield from written.feed(event) if written is not None else (event,)
                    if loops.feed(event.text):
                        break
                finish = ended or finish
                if self._cancel.is_set() or loops.period:
                    break
        except _EventTooLarge:
            yield ErrorEvent(
                "remote",
                f"{self._too_large('a line of its reply', MAX_EVENT_BYTES)} "
                f"This happened after {n} tokens. {kept}",
            )
            return
        except (OSError, http.client.HTTPException) as exc:
            if not self._cancel.is_set():
                err = self._network_error(exc, f"streaming a reply, after {n} tokens")
                yield ErrorEvent(err.kind, f"{err} {kept}")
                return
        finally:
            with self._sock_lock:
                self._sock = None
            conn.close()
        if self._cancel.is_set():
            reason: FinishReason = "cancelled"
        elif loops.period:
            reason = "loop"
        elif not done and finish is None:
            yield ErrorEvent(
                "remote",
                f"The server at {self.endpoint.label} closed the connection mid-reply, "
                f"after {n} tokens. {kept}",
            )
            return
        elif finish == "stop" and request.params.stop:
            reason = "stop"
        else:
            reason = _FINISH.get(finish or "stop", "stop")
        reply = "".join(text)
        calls: tuple[ToolCall, ...] = ()
        if self._calls and reason != "cancelled":
            try:
                calls = self._calls.calls(self.endpoint.label)
            except RemoteEngineError as exc:
                yield ErrorEvent(exc.kind, str(exc))
                return
        if written is not None:
            rest, reply, found = written.finish()
            yield from rest
            calls = calls or (found if reason != "cancelled" else ())
        gen_time = last - start - first
        yield DoneEvent(
            finish_reason=reason,
            prompt_tokens=prompt_tokens,
            completion_tokens=n,
            ttft_s=first,
            tokens_per_s=(n - 1) / gen_time if n > 1 and gen_time > 0 else 0.0,
            seed=seed,
            text=reply,
            tool_calls=calls,
            note=self.tools_refused if request.tools else "",
        )


#: The tags a reasoning field is written back as (see ``core.chat.thinking``).
OPEN_TAG, CLOSE_TAG = "<think>", "</think>"


def _reasoning_text(delta: dict[str, Any]) -> str:
    """The reasoning a streamed delta carries ("" for none): ``reasoning_content``
    (llama.cpp's server, DeepSeek's API, vLLM) or ``reasoning`` (newer vLLM)."""
    for key in ("reasoning_content", "reasoning"):
        value = delta.get(key)
        if isinstance(value, str) and value:
            return value
    return ""


class _EventTooLarge(Exception):
    """A line of a streamed reply, or one event, is longer than ``MAX_EVENT_BYTES``."""


def _whole(value: Any) -> int:
    """A count a server reports: a whole number, else 0."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _sse_data(resp: http.client.HTTPResponse) -> Iterator[str]:
    """The ``data:`` payloads of a server-sent event stream, one per event.

    A line, or an event of several lines, longer than ``MAX_EVENT_BYTES`` raises
    ``_EventTooLarge``: a broken or hostile server must not fill the memory.
    """
    lines: list[str] = []
    size = 0
    while True:
        raw = resp.readline(MAX_EVENT_BYTES + 1)
        size += len(raw)
        if len(raw) > MAX_EVENT_BYTES or size > MAX_EVENT_BYTES:
            raise _EventTooLarge
        if not raw:
            if lines:
                yield "\n".join(lines)
            return
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if not line:
            if lines:
                yield "\n".join(lines)
                lines = []
            size = 0
        elif line.startswith("data:"):
            lines.append(line[6:] if line.startswith("data: ") else line[5:])
