"""The remote engine against broken and hostile servers: a raw HTTP reply per test.

Each test's server answers every request with the bytes it is given (after
reading the request), so replies no well-behaved server sends can be tried:
an error mid-stream, a malformed model list, a 5xx, a stream cut before
``[DONE]``, replies too large to hold. Each must give the user a sentence naming
the server, and a cut reply must never be presented as a complete one.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from desktop_app.core.engine import openai_remote
from desktop_app.core.engine.openai_remote import OpenAIEngine
from desktop_app.core.engine.protocol import (
    DoneEvent,
    EngineConfig,
    ErrorEvent,
    GenerateRequest,
    Message,
    TokenEvent,
)
from desktop_app.core.errors import RemoteEngineError

CHAT = GenerateRequest(messages=(Message("user", "Hi"),))
MODELS = json.dumps({"object": "list", "data": [{"id": "tiny"}]}).encode()


def response(body: bytes, status: str = "200 OK", kind: str = "application/json") -> bytes:
    return (
        f"HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode() + body


def stream(*events: Any, done: bool = True) -> bytes:
    """An event stream without Content-Length: it ends when the connection closes."""
    body = b"".join(
        b"data: " + (e if isinstance(e, bytes) else json.dumps(e).encode()) + b"\n\n"
        for e in events
    )
    if done:
        body += b"data: [DONE]\n\n"
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
    return head + body


def token(text: str) -> dict[str, Any]:
    return {"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]}


FINISH = {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}


@contextlib.contextmanager
def raw_server(reply: Callable[[str], bytes]) -> Iterator[str]:
    """A server answering each request (by its path) with ``reply(path)``; yields its URL."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)  # accept() wakes up to see the end of the test
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                head, _, rest = data.partition(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                length = next(
                    (
                        int(ln.split(":")[1])
                        for ln in lines
                        if ln.lower().startswith("content-length")
                    ),
                    0,
                )
                while len(rest) < length:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    rest += chunk
                path = lines[0].split(" ")[1]
                with contextlib.suppress(OSError):
                    conn.sendall(reply(path))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
    finally:
        stop.set()
        thread.join(5)
        listener.close()


def by_path(generate: bytes, models: bytes = MODELS) -> Callable[[str], bytes]:
    return lambda path: response(models) if path.endswith("/models") else generate


def run(generate: bytes) -> list[Any]:
    with raw_server(by_path(generate)) as url:
        engine = OpenAIEngine(url, timeout_s=10)
        engine.load(EngineConfig("tiny"))
        return list(engine.generate(CHAT))


def assert_cut(events: list[Any], tokens: list[str], *words: str) -> str:
    """Tokens then an error naming the server and saying the reply is incomplete."""
    assert [e.text for e in events if isinstance(e, TokenEvent)] == tokens
    assert not any(isinstance(e, DoneEvent) for e in events)
    error = events[-1]
    assert isinstance(error, ErrorEvent) and error.kind == "remote"
    assert "The server at http://127.0.0.1:" in error.message
    assert "not complete" in error.message
    for word in words:
        assert word in error.message
    return error.message


def test_an_error_event_mid_stream_is_an_error_after_the_tokens() -> None:
    events = run(stream(token("Hel"), {"error": {"message": "out of memory"}}, done=False))
    assert_cut(events, ["Hel"], "out of memory", "after 1 tokens")


def test_a_stream_closed_without_done_is_not_a_complete_reply() -> None:
    assert_cut(run(stream(token("Hel"), token("lo"), done=False)), ["Hel", "lo"], "mid-reply")


def test_a_chunk_of_the_wrong_shape_is_an_error_not_a_crash() -> None:
    for bad in ({"choices": 5}, {"choices": ["x"]}, {"choices": [{"delta": "x"}]}, [1, 2]):
        message = assert_cut(run(stream(token("Hel"), bad, FINISH)), ["Hel"], "cannot read")
        assert "after 1 tokens" in message


def test_a_5xx_names_the_server_and_its_message() -> None:
    body = json.dumps({"error": {"message": "model crashed"}}).encode()
    events = run(response(body, "500 Internal Server Error"))
    assert len(events) == 1 and isinstance(events[0], ErrorEvent)
    assert "HTTP 500: model crashed" in events[0].message
    assert "The server at http://127.0.0.1:" in events[0].message


@pytest.mark.parametrize(
    "models",
    [b"not json", b'{"data": 5}', b'{"data": [{"name": "x"}]}', b"[1]", b"[" * 100_000],
)
def test_a_malformed_model_list_is_a_clear_error(models: bytes) -> None:
    with (
        raw_server(lambda path: response(models)) as url,
        pytest.raises(RemoteEngineError, match=r"The server at http://127\.0\.0\.1:\d+"),
    ):
        OpenAIEngine(url, timeout_s=10).list_models()


def test_an_oversized_model_list_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(openai_remote, "MAX_REPLY_BYTES", 64 * 1024)
    big = json.dumps({"data": [{"id": "m" * 1000} for _ in range(200)]}).encode()
    with (
        raw_server(lambda path: response(big)) as url,
        pytest.raises(RemoteEngineError, match="larger than 64 KiB") as raised,
    ):
        OpenAIEngine(url, timeout_s=10).list_models()
    assert "The server at http://127.0.0.1:" in str(raised.value)


def test_an_oversized_stream_line_ends_the_reply_with_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(openai_remote, "MAX_EVENT_BYTES", 64 * 1024)
    huge = token("x" * 200_000)
    assert_cut(run(stream(token("Hel"), huge, FINISH)), ["Hel"], "larger than 64 KiB")
    # An endless line without a newline: stopped at the limit too, not read forever.
    endless = stream(token("Hel"), done=False) + b"data: " + b"y" * 500_000
    assert_cut(run(endless), ["Hel"], "larger than 64 KiB")


def test_a_complete_stream_is_still_complete() -> None:
    events = run(stream(token("Hel"), token("lo"), FINISH))
    assert [e.text for e in events if isinstance(e, TokenEvent)] == ["Hel", "lo"]
    done = events[-1]
    assert isinstance(done, DoneEvent) and done.text == "Hello"
