"""A small OpenAI-format server on loopback (no model), for the window's remote-engine tests.

It streams ``REPLY`` from /v1/chat/completions and /v1/completions with
log-probabilities the way llama.cpp servers do, and lists two models. What it
does per test (answer slowly, drop or go silent mid-reply, refuse a grammar) is set on the
server object.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

REPLY = ["Hel", "lo", ",", " world", "."]
MODELS = ["tiny", "other"]


def top(token: str, i: int) -> list[tuple[str, float]]:
    """The alternatives sent for the ``i``-th token: it at 0.6, two others at 0.3 and 0.1."""
    return [(token, math.log(0.6)), (f"alt{i}a", math.log(0.3)), (f"alt{i}b", math.log(0.1))]


class _Handler(BaseHTTPRequestHandler):
    server: RemoteServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _json(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _authorized(self) -> bool:
        key = self.server.api_key
        if key and self.headers.get("Authorization") != f"Bearer {key}":
            self._json(401, {"error": {"message": "Invalid API key"}})
            return False
        return True

    def do_GET(self) -> None:
        if not self._authorized():
            return
        time.sleep(self.server.models_delay_s)
        if self.path == "/v1/models":
            self._json(200, {"object": "list", "data": [{"id": m} for m in MODELS]})
        else:
            self._json(404, {"error": {"message": "not found"}})

    def _event(self, body: Any) -> None:
        data = f"data: {json.dumps(body) if not isinstance(body, str) else body}\n\n".encode()
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if not self._authorized():
            return
        self.server.bodies.append(body)
        if "grammar" in body and self.server.refuse_grammar:
            self._json(400, {"error": {"message": "Unrecognized request argument: grammar"}})
            return
        if "tools" in body and self.server.refuse_tools:
            self._json(400, {"error": {"message": "Unrecognized request argument: tools"}})
            return
        chat = self.path == "/v1/chat/completions"
        if chat and self.server.chat_error is not None:
            self._json(500, {"error": {"message": self.server.chat_error}})
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if chat:
            self._event({"choices": [{"index": 0, "delta": {"role": "assistant"}}]})
        reply = self.server.replies.pop(0) if self.server.replies else self.server.reply
        n = min(len(reply), body["max_tokens"])
        for i, tok in enumerate(reply[:n]):
            if i == self.server.drop_after:
                self.wfile.flush()
                self.connection.shutdown(2)
                return
            if i == self.server.stall_after:
                time.sleep(self.server.stall_s)
            if chat:
                lp: dict[str, Any] = {
                    "content": [
                        {
                            "token": tok,
                            "logprob": math.log(0.6),
                            "top_logprobs": [{"token": t, "logprob": v} for t, v in top(tok, i)],
                        }
                    ]
                }
                field = "reasoning_content" if i < self.server.reasoning_tokens else "content"
                choice: dict[str, Any] = {"index": 0, "delta": {field: tok}, "logprobs": lp}
            else:
                lp = {
                    "tokens": [tok],
                    "token_logprobs": [math.log(0.6)],
                    "top_logprobs": [dict(top(tok, i))],
                }
                choice = {"index": 0, "text": tok, "logprobs": lp}
            choice["finish_reason"] = None
            self._event({"choices": [choice]})
            time.sleep(self.server.delay_s)
        calls = self.server.tool_calls.pop(0) if chat and self.server.tool_calls else []
        for delta in calls:  # each chunk's tool_calls, as streamed
            self._event({"choices": [{"index": 0, "delta": {"tool_calls": delta}}]})
        finish = "tool_calls" if calls else "length" if n < len(reply) else "stop"
        last: dict[str, Any] = {"index": 0, "finish_reason": finish}
        if chat:
            last["delta"] = {}
        else:
            last["text"] = ""
        self._event({"choices": [last], "usage": {"prompt_tokens": 7, "completion_tokens": n}})
        self._event("[DONE]")
        self.wfile.write(b"0\r\n\r\n")


class RemoteServer(ThreadingHTTPServer):
    """The server; ``url`` is its base URL (ends with /v1)."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.bodies: list[dict[str, Any]] = []
        self.api_key: str | None = None
        self.reply = list(REPLY)
        self.drop_after: int | None = None
        self.stall_after: int | None = None
        self.stall_s = 0.0
        self.delay_s = 0.0
        self.models_delay_s = 0.0
        self.refuse_grammar = False
        #: Refuse requests with ``tools`` (HTTP 400), as a server without tools does.
        self.refuse_tools = False
        #: Replies for the next chat requests, one each (then ``reply``), and the
        #: streamed ``tool_calls`` deltas after them (a list of chunks per request).
        self.replies: list[list[str]] = []
        self.tool_calls: list[list[list[dict[str, Any]]]] = []
        #: How many of the first chat tokens are sent as ``reasoning_content``
        #: (llama.cpp's server with a reasoning model) instead of ``content``.
        self.reasoning_tokens = 0
        #: When set, every chat request is answered with this error message (HTTP 500).
        self.chat_error: str | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


@contextmanager
def running_server() -> Iterator[RemoteServer]:
    """A server serving in a thread until the block ends."""
    srv = RemoteServer()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(5)


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
