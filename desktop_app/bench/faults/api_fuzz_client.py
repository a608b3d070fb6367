"""The clients of the ``api-fuzz`` check, in a process of their own.

Run as ``python -m desktop_app.bench.faults.api_fuzz_client``: it reads
``{"port": …, "cases": [[kind, seed], …]}`` on stdin, runs the cases from a pool
of threads and writes one JSON line per case (``kind``, ``failure``, ``status``).
The clients' work (building megabytes of JSON, dozens of threads) then does not
compete with the server's process for its interpreter lock: what the check
measures there is the server's doing.
"""

from __future__ import annotations

import functools
import json
import random
import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

TOKEN = "fuzz-token"
#: The server's deadline for a request to arrive whole (the product's is 30 s).
REQUEST_TIMEOUT_S = 1.0
#: How long a case may wait for its answer before it counts as hung.
CASE_TIMEOUT_S = 15.0


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one case came to: ``failure`` None when it met the goal."""

    kind: str
    failure: str | None = None
    status: int | None = None


# -- the client side -------------------------------------------------------------


def _head(
    method: str,
    path: str,
    body: bytes = b"",
    *,
    token: str | None = TOKEN,
    extra: str = "",
    length: int | None = None,
) -> bytes:
    auth = f"Authorization: Bearer {token}\r\n" if token is not None else ""
    size = len(body) if length is None else length
    return (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}{extra}"
        f"Content-Type: application/json\r\nContent-Length: {size}\r\n\r\n"
    ).encode("latin-1") + body


def _exchange(port: int, data: bytes, *, shut: bool = False) -> bytes:
    """Send ``data``, read until the server closes; TimeoutError if it never does."""
    with socket.create_connection(("127.0.0.1", port), CASE_TIMEOUT_S) as sock:
        try:
            sock.sendall(data)
            if shut:
                sock.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused before the whole request went out: read what it said
        chunks: list[bytes] = []
        end = time.monotonic() + CASE_TIMEOUT_S
        while True:
            if time.monotonic() > end:
                raise TimeoutError
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)


def _status(reply: bytes) -> int | None:
    try:
        return int(reply.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return None


def _judge(kind: str, reply: bytes, *, answer_due: bool = True) -> Outcome:
    status = _status(reply)
    if status is None:
        if answer_due and reply:
            return Outcome(kind, f"{kind}: a reply without an HTTP status: {reply[:80]!r}")
        return Outcome(kind)
    if status >= 500 and status != 503:
        return Outcome(kind, f"{kind}: HTTP {status}: {reply[-200:]!r}", status)
    if status >= 400 and b'"message"' not in reply:
        return Outcome(kind, f"{kind}: HTTP {status} without a JSON message", status)
    return Outcome(kind, None, status)


_DEPTHS = (1_000, 10_000, 100_000, 1_000_000)
_BRACKETS = ((b"[", b"]"), (b'{"a":', b"}"))


@functools.cache
def _nested_body(depth: int, brackets: int) -> bytes:
    opener, closer = _BRACKETS[brackets]
    inner = opener * depth + b"1" + closer * depth
    return b'{"model": "m", "messages": ' + inner + b"}"


def _nested(rng: random.Random) -> bytes:
    return _nested_body(rng.choice(_DEPTHS), rng.randrange(len(_BRACKETS)))


def _wrong_types(rng: random.Random) -> bytes:
    values: list[Any] = [None, True, -1, 0, 1e308, "x", [], {}, [1, "a"], {"k": [None]}, 2**80]
    body: dict[str, Any] = {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4}
    for key in rng.sample(
        [
            "messages", "max_tokens", "temperature", "top_p", "top_k", "min_p", "stop",
            "stream", "stream_options", "logprobs", "top_logprobs", "seed", "n", "model",
            "prompt", "repeat_penalty", "question", "collection", "k",
        ],
        rng.randint(1, 4),
    ):  # fmt: skip
        body[key] = rng.choice(values)
    if rng.random() < 0.3:
        body["messages"] = [rng.choice([{"role": rng.choice(values), "content": "x"},
                                        {"role": "user", "content": rng.choice(values)},
                                        rng.choice(values)])]  # fmt: skip
    text = json.dumps(body, allow_nan=True)
    if rng.random() < 0.2:
        text = text.replace("1e+308", rng.choice(["NaN", "Infinity", "-Infinity"]))
    return text.encode()


_SIZES = (100_000, 1_000_000, 4_000_000)
_FIELDS = ("content", "stop", "model", "many messages", "unknown")


def _huge_field(rng: random.Random) -> bytes:
    return _huge_body(rng.choice(_FIELDS), rng.choice(_SIZES))


@functools.cache
def _huge_body(which: str, size: int) -> bytes:
    """A body with one huge field (built once: the client's work is not the server's)."""
    body: dict[str, Any] = {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4}
    if which == "content":
        body["messages"][0]["content"] = "x" * size
    elif which == "stop":
        body["stop"] = ["s" * 100] * (size // 100)
    elif which == "model":
        body["model"] = "m" * size
    elif which == "many messages":
        body["messages"] = [{"role": "user", "content": "Hi"}] * (size // 40)
    else:
        body["junk"] = "j" * size
    return json.dumps(body).encode()


_PATHS = [
    "/v1/chat/completions", "/v1/completions", "/v1/models", "/v1/knowledge/answer",
    "/", "/v1", "/v2/models", "/v1/models/../../etc/passwd", "/v1/chat/completions?x=%00",
    "//v1//models", "/v1/embeddings", "*", "/%ff%fe", "/" + "a" * 10_000,
]  # fmt: skip


def _case(kind: str, port: int, rng: random.Random) -> Outcome:
    chat = json.dumps({"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4})
    if kind == "valid":
        path, body = rng.choice(
            [
                ("/v1/chat/completions", chat),
                ("/v1/completions", json.dumps({"prompt": "Hi", "max_tokens": 4})),
                ("/v1/chat/completions", chat[:-1] + ', "stream": true}'),
                ("/v1/completions", '{"prompt": "Hi", "max_tokens": 3, "stream": true}'),
            ]
        )
        outcome = _judge(kind, _exchange(port, _head("POST", path, body.encode())))
        if outcome.failure is None and outcome.status not in (200, 503):
            return Outcome(kind, f"valid: HTTP {outcome.status} for a valid request")
        return outcome
    if kind == "models":
        return _judge(kind, _exchange(port, _head("GET", "/v1/models")))
    if kind == "bad-json":
        junk = rng.choice([b"{", b"{'a': 1}", b"nul", b"[1,", b'{"a": "\xff"}', b"\x00" * 9,
                           b'{"messages": [}', b"1" * 5000, b'"just a string"', b"[]"])  # fmt: skip
        return _judge(kind, _exchange(port, _head("POST", "/v1/chat/completions", junk)))
    if kind == "wrong-types":
        path = rng.choice(["/v1/chat/completions", "/v1/completions", "/v1/knowledge/answer"])
        return _judge(kind, _exchange(port, _head("POST", path, _wrong_types(rng))))
    if kind == "huge-field":
        return _judge(
            kind, _exchange(port, _head("POST", "/v1/chat/completions", _huge_field(rng)))
        )
    if kind == "nested":
        return _judge(kind, _exchange(port, _head("POST", "/v1/chat/completions", _nested(rng))))
    if kind == "token":
        token = rng.choice([None, "", "wrong", TOKEN + "x", "x" * 10_000, TOKEN.upper()])
        return _judge(kind, _exchange(port, _head("GET", "/v1/models", token=token)))
    if kind == "path":
        method = rng.choice(["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "BREW"])
        data = _head(method, rng.choice(_PATHS), chat.encode())
        return _judge(kind, _exchange(port, data), answer_due=method != "HEAD")
    if kind == "headers":
        extra = rng.choice(
            [
                "NoColonHere\r\n",
                "X-A: b\r\n" * 150,
                "X-Long: " + "l" * 70_000 + "\r\n",
                "Host: evil.example\r\n",
                "Origin: http://evil.example\r\n",
                "Transfer-Encoding: chunked\r\n",
                "Content-Length: abc\r\n",
                "Expect: 100-continue\r\n",
                "Connection: keep-alive\r\n",
                " folded: line\r\n",
            ]
        )
        data = _head("POST", "/v1/chat/completions", chat.encode(), extra=extra)
        return _judge(kind, _exchange(port, data))
    if kind == "truncated":
        raw = chat.encode()
        cut = rng.randint(0, len(raw) - 1)
        data = _head("POST", "/v1/chat/completions", raw[:cut], length=len(raw))
        return _judge(kind, _exchange(port, data, shut=True))
    if kind == "huge-length":
        length = rng.choice([8 * 1024 * 1024 + 1, 10**12, -5, 2**64])
        return _judge(kind, _exchange(port, _head("POST", "/v1/completions", length=length)))
    if kind == "random-bytes":
        data = rng.randbytes(rng.randint(1, 4000))
        return _judge(kind, _exchange(port, data, shut=True), answer_due=False)
    if kind == "slowloris":
        return _slowloris(port, rng)
    if kind == "never-reads":
        return _never_reads(port)
    if kind == "burst":
        return _burst(port, rng)
    raise ValueError(kind)


def _slowloris(port: int, rng: random.Random) -> Outcome:
    """Trickle a request; the server must hang up within its deadline (and a margin)."""
    data = _head("POST", "/v1/chat/completions", b'{"messages": []}' * 50)
    start = rng.randint(0, 40)
    with socket.create_connection(("127.0.0.1", port), 5) as sock:
        sock.sendall(data[:start])
        end = time.monotonic() + REQUEST_TIMEOUT_S + 3.0
        for i in range(start, len(data)):
            if time.monotonic() > end:
                return Outcome("slowloris", "slowloris: not dropped after its deadline")
            try:
                sock.sendall(data[i : i + 1])
            except OSError:
                return Outcome("slowloris")
            time.sleep(0.1)
    return Outcome("slowloris")


def _never_reads(port: int) -> Outcome:
    """Ask for a long streamed reply and never read it; just let the server cope."""
    body = json.dumps(
        {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 64, "stream": True,
         "logprobs": True, "top_logprobs": 20}
    ).encode()  # fmt: skip
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.settimeout(5)
        sock.connect(("127.0.0.1", port))
        sock.sendall(_head("POST", "/v1/chat/completions", body))
        time.sleep(REQUEST_TIMEOUT_S * 1.5)
    return Outcome("never-reads")


def _burst(port: int, rng: random.Random) -> Outcome:
    """Many connections at once: each gets its answer or a 503, none hangs."""
    n = rng.randint(20, 60)
    with ThreadPoolExecutor(n) as pool:
        replies = list(
            pool.map(lambda _: _judge("burst", _exchange(port, _head("GET", "/v1/models"))),
                     range(n))
        )  # fmt: skip
    failures = [r.failure for r in replies if r.failure]
    if failures:
        return Outcome("burst", f"burst of {n}: {failures[0]}")
    if not any(r.status == 200 for r in replies):
        return Outcome("burst", f"burst of {n}: no connection was served")
    return Outcome("burst")


#: Case kinds and their weights (slow ones are rarer: each takes seconds).
KINDS: dict[str, int] = {
    "valid": 10, "models": 6, "bad-json": 10, "wrong-types": 16, "huge-field": 3,
    "nested": 6, "token": 6, "path": 8, "headers": 8, "truncated": 6, "huge-length": 5,
    "random-bytes": 6, "slowloris": 3, "never-reads": 2, "burst": 2,
}  # fmt: skip


def _run_case(kind: str, port: int, seed: int) -> Outcome:
    try:
        return _case(kind, port, random.Random(seed))
    except TimeoutError:
        return Outcome(kind, f"{kind}: no answer within {CASE_TIMEOUT_S:g} s (hung)")
    except OSError as exc:
        return Outcome(kind, f"{kind}: the connection failed: {exc!r}")


def build_payloads() -> None:
    """Build every large body once, before the cases run."""
    for which in _FIELDS:
        for size in _SIZES:
            _huge_body(which, size)
    for depth in _DEPTHS:
        for brackets in range(len(_BRACKETS)):
            _nested_body(depth, brackets)


def main() -> None:
    """Run the cases read on stdin; one JSON line per outcome on stdout."""
    job = json.loads(sys.stdin.read())
    port, cases = int(job["port"]), [(str(k), int(s)) for k, s in job["cases"]]
    build_payloads()
    lock = threading.Lock()

    def one(kind: str, seed: int) -> None:
        outcome = _run_case(kind, port, seed)
        with lock:
            sys.stdout.write(json.dumps(asdict(outcome)) + "\n")
            sys.stdout.flush()

    with ThreadPoolExecutor(8) as pool:
        for future in [pool.submit(one, k, s) for k, s in cases]:
            future.result()


if __name__ == "__main__":
    main()
