"""The API's HTTP server against slow, hostile and broken clients (no Qt, no model).

A small back end runs ``FakeEngine`` on a thread per request, so these tests
exercise only the HTTP layer of ``server.py``: deadlines, the connection cap,
the disconnect check past 1,024 descriptors and malformed requests.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import os
import resource
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from desktop_app.core.engine.fake import FakeEngine
from desktop_app.core.engine.protocol import DraftSettings, EngineConfig, GenerateRequest
from desktop_app.workers.api.server import _handler, _Job, _Server

TOKEN = "limits-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
CHAT = {"model": "fake.gguf", "messages": [{"role": "user", "content": "Hi"}]}


class ThreadBackend:
    """What the handler needs: each generation runs ``FakeEngine`` on its own thread."""

    token: str | None = TOKEN
    loopback_only = True
    model_id = "fake.gguf"
    draft = DraftSettings()

    def __init__(self, script: str = "Hello there.", delay_s: float = 0.0) -> None:
        self.script, self.delay_s = script, delay_s
        self.cancelled: list[_Job] = []
        self.finished = threading.Event()

    def models(self) -> list[dict[str, Any]]:
        return [{"id": self.model_id, "object": "model", "created": 0, "owned_by": "t"}]

    def enqueue(self, kind: str, payload: Any) -> _Job:
        job = _Job(kind, payload)

        def run() -> None:
            engine = FakeEngine(self.script, self.delay_s)
            engine.load(EngineConfig("fake.gguf"))
            request: GenerateRequest = payload
            for event in engine.generate(request):
                if job.cancelled.is_set():
                    engine.cancel()
                job.out.put(event)
            self.finished.set()

        threading.Thread(target=run, daemon=True).start()
        return job

    def cancel(self, job: _Job) -> None:
        job.cancelled.set()
        self.cancelled.append(job)


@contextlib.contextmanager
def serving(backend: ThreadBackend, **limits: Any) -> Iterator[_Server]:
    httpd = _Server(("127.0.0.1", 0), _handler(backend), **limits)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def request(
    port: int, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        conn.request(method, path, body=data, headers={**AUTH, **(headers or {})})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def dropped_while_trickling(port: int, head: bytes, trickle: bytes, within_s: float) -> bool:
    """Send ``head`` then ``trickle`` a byte at a time; True if the server hangs up."""
    with socket.create_connection(("127.0.0.1", port), 5) as sock:
        sock.sendall(head)
        end = time.monotonic() + within_s
        for byte in trickle * 1000:
            if time.monotonic() > end:
                return False
            try:
                sock.sendall(bytes([byte]))
                time.sleep(0.1)
                sock.settimeout(0.01)
                if sock.recv(1) == b"":
                    return True
            except TimeoutError:
                pass
            except OSError:
                return True
            finally:
                sock.settimeout(5)
    return False


def test_slowloris_headers_are_dropped_while_others_are_served() -> None:
    with serving(ThreadBackend(), request_timeout_s=1.0) as httpd:
        port = httpd.server_address[1]
        result: list[bool] = []
        slow = threading.Thread(
            target=lambda: result.append(
                dropped_while_trickling(port, b"GET /v1/models HTTP/1.1\r\n", b"X-a: b\r\n", 8.0)
            )
        )
        slow.start()
        time.sleep(0.3)
        assert request(port, "GET", "/v1/models")[0] == 200  # served meanwhile
        slow.join(15)
        assert result == [True]


def test_a_body_sent_too_slowly_is_dropped() -> None:
    with serving(ThreadBackend(), request_timeout_s=1.0) as httpd:
        port = httpd.server_address[1]
        head = (
            f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {TOKEN}\r\nContent-Length: 100000\r\n\r\n"
        ).encode()
        assert dropped_while_trickling(port, head, b" ", 8.0)


def test_a_client_that_never_reads_its_stream_is_dropped_and_its_reply_cancelled() -> None:
    backend = ThreadBackend(script="abcdefghij" * 4000)
    with serving(backend, request_timeout_s=1.0) as httpd:
        port = httpd.server_address[1]
        body = json.dumps(
            {**CHAT, "stream": True, "logprobs": True, "top_logprobs": 20, "max_tokens": 30000}
        ).encode()
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.connect(("127.0.0.1", port))
            sock.sendall(
                b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + f"Authorization: Bearer {TOKEN}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            # Never read: the server's writes block, then time out.
            end = time.monotonic() + 20
            while not backend.cancelled and time.monotonic() < end:
                time.sleep(0.05)
            assert backend.cancelled, "the stalled stream was never dropped"
        assert request(port, "GET", "/v1/models")[0] == 200


def test_past_the_connection_cap_a_503_with_a_message_and_no_thread() -> None:
    with serving(ThreadBackend(), max_connections=4) as httpd:
        port = httpd.server_address[1]
        idle = [socket.create_connection(("127.0.0.1", port), 5) for _ in range(4)]
        try:
            end = time.monotonic() + 10
            while httpd.active < 4 and time.monotonic() < end:
                time.sleep(0.02)
            threads = threading.active_count()
            status, body = request(port, "GET", "/v1/models")
            assert status == 503
            message = json.loads(body)["error"]["message"]
            assert "4 connections" in message and "try again" in message
            assert threading.active_count() <= threads
        finally:
            for sock in idle:
                sock.close()
        end = time.monotonic() + 10
        while httpd.active and time.monotonic() < end:
            time.sleep(0.02)
        assert request(port, "GET", "/v1/models")[0] == 200


def test_a_stream_completes_with_more_than_1024_descriptors_open() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 1400
    if soft < want:
        if hard != resource.RLIM_INFINITY and hard < want:
            pytest.skip(f"the descriptor limit is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    fds: list[int] = []
    try:
        while len(fds) < 1100:
            fds.append(os.open(os.devnull, os.O_RDONLY))
        # Slow enough that the handler checks, between tokens, whether the client left.
        backend = ThreadBackend(script="Hello.", delay_s=0.15)
        with serving(backend) as httpd:
            body_in = {**CHAT, "stream": True, "temperature": 0}
            status, body = request(httpd.server_address[1], "POST", "/v1/chat/completions", body_in)
        assert status == 200
        lines = [ln for ln in body.decode().split("\n\n") if ln]
        assert lines[-1] == "data: [DONE]"
        chunks = [json.loads(ln[len("data: ") :]) for ln in lines[:-1]]
        text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)
        assert text == "Hello." and not backend.cancelled
    finally:
        for fd in fds:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_malformed_requests_get_a_json_400_with_a_sentence() -> None:
    with serving(ThreadBackend()) as httpd:
        port = httpd.server_address[1]
        cases: list[tuple[str, Any]] = [
            ("nested", b"[" * 100_000 + b"]" * 100_000),
            ("not JSON", b"{'messages': 1"),
            ("not an object", b"[1, 2]"),
            ("bad utf-8", b'{"messages": "\xff\xfe"}'),
            ("huge int", b'{"max_tokens": ' + b"9" * 10_000 + b"}"),
        ]
        for name, body in cases:
            status, raw = request(port, "POST", "/v1/chat/completions", body)
            assert status == 400, name
            assert json.loads(raw)["error"]["message"].endswith("."), name
        # A body shorter than its Content-Length, the rest never coming.
        with socket.create_connection(("127.0.0.1", port), 5) as sock:
            sock.sendall(
                b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + f"Authorization: Bearer {TOKEN}\r\nContent-Length: 50\r\n\r\n".encode()
                + b'{"messages":'
            )
            sock.shutdown(socket.SHUT_WR)
            reply = sock.makefile("rb").read()
        assert reply.startswith(b"HTTP/1.0 400") and b"ended after 12 of the 50 bytes" in reply


def test_a_malformed_request_line_is_a_json_error_not_html() -> None:
    with (
        serving(ThreadBackend()) as httpd,
        socket.create_connection(("127.0.0.1", httpd.server_address[1]), 5) as sock,
    ):
        sock.sendall(b"GARBAGE\r\n\r\n")
        reply = sock.makefile("rb").read()
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 400") and b"application/json" in head
    assert "malformed" in json.loads(body)["error"]["message"]


def test_a_bug_in_a_handler_is_a_500_with_a_message_and_a_logged_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    backend = ThreadBackend()

    def broken() -> list[dict[str, Any]]:
        raise KeyError("oops")

    backend.models = broken  # type: ignore[method-assign]
    with serving(backend) as httpd, caplog.at_level(logging.ERROR):
        status, body = request(httpd.server_address[1], "GET", "/v1/models")
    assert status == 500
    assert "failed on this request" in json.loads(body)["error"]["message"]
    assert any(r.exc_info for r in caplog.records)


def test_an_unknown_method_is_a_405_with_a_sentence() -> None:
    with serving(ThreadBackend()) as httpd:
        status, body = request(httpd.server_address[1], "DELETE", "/v1/models")
    assert status == 405
    assert "does not answer DELETE requests" in json.loads(body)["error"]["message"]


def test_the_memory_of_a_large_body_is_handed_back_and_a_small_one_costs_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from desktop_app.workers.api import server

    released: list[bool] = []
    handed_back = threading.Event()

    def release() -> bool:
        released.append(True)
        handed_back.set()
        return True

    monkeypatch.setattr(server, "release_free_memory", release)
    with serving(ThreadBackend()) as httpd:
        port = httpd.server_address[1]
        assert request(port, "POST", "/v1/chat/completions", CHAT)[0] == 200
        padded = {**CHAT, "user": "x" * (server.LARGE_BODY_BYTES + 1)}
        status, _ = request(port, "POST", "/v1/chat/completions", padded)
        assert status in (200, 400)
        # The handler hands the memory back after the reply has gone out, so the
        # client can read the reply first: wait for it (a CI run on a busy machine did).
        assert handed_back.wait(30)
    assert released == [True]  # once, for the large body only
