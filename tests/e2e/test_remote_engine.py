"""The remote engine against llama-cpp-python's own server serving Gemma 3 270M."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_app.core.engine.openai_remote import OpenAIEngine, is_remote
from desktop_app.core.engine.protocol import (
    DoneEvent,
    EngineConfig,
    ErrorEvent,
    GenerateRequest,
    TokenEvent,
)
from desktop_app.core.errors import RemoteEngineError
from desktop_app.core.sampling import SamplingParams

pytestmark = pytest.mark.e2e


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_server(model: Path) -> tuple[subprocess.Popen[bytes], str]:
    pytest.importorskip("llama_cpp.server", reason="needs llama-cpp-python[server]")
    port = _free_port()
    proc = subprocess.Popen(
        [
            # The portable llama.cpp build loads its CPU kernels when asked: native.py asks.
            *(sys.executable, "-m", "desktop_app.core.engine.native", "llama_cpp.server"),
            *("--model", str(model)),
            *("--host", "127.0.0.1", "--port", str(port), "--n_ctx", "1024"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"llama_cpp.server exited with {proc.returncode}")
        try:
            OpenAIEngine(url, timeout_s=2).list_models()
            return proc, url
        except RemoteEngineError:
            time.sleep(0.2)
    proc.kill()
    pytest.fail("llama_cpp.server did not answer within 60 s")


@pytest.fixture
def llama_server(gemma_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    proc, url = _start_server(gemma_path)
    yield proc, url
    proc.kill()
    proc.wait(timeout=10)


GREEDY = GenerateRequest(
    params=SamplingParams.greedy(max_tokens=6), prompt="The sky is", candidates=5
)


def test_streams_a_reply_with_top_alternatives_per_token(llama_server, gemma_path):
    _, url = llama_server
    engine = OpenAIEngine(url)
    loaded = engine.load(EngineConfig(model_path="default"))
    assert is_remote(loaded) and loaded.model_path == str(gemma_path)

    events = list(engine.generate(GREEDY))
    tokens = [e for e in events if isinstance(e, TokenEvent)]
    done = events[-1]
    assert len(tokens) == 6
    for t in tokens:
        assert len(t.candidates) == 5
        # Greedy: the drawn token is the most likely one the server reports.
        assert t.candidates[0].id == t.id and t.candidates[0].text == t.text
        assert t.p == pytest.approx(t.candidates[0].p_raw)
        ps = [c.p_raw for c in t.candidates]
        assert ps == sorted(ps, reverse=True) and 0 < sum(ps) <= 1.0 + 1e-6
    assert isinstance(done, DoneEvent) and done.finish_reason == "length"
    assert done.text == "".join(t.text for t in tokens) and done.text.strip()

    # Temperature 0 gives the same tokens twice.
    again = [e.text for e in engine.generate(GREEDY) if isinstance(e, TokenEvent)]
    assert again == [t.text for t in tokens]

    # The command line, as a user runs it.
    out = subprocess.run(
        [
            *(sys.executable, "-m", "desktop_app", "generate", "--engine", "openai"),
            *("--base-url", url, "--prompt", "The sky is", "--raw", "--temperature", "0"),
            *("--max-tokens", "6", "--candidates", "5", "--json"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert [x["text"] for x in lines[:-1]] == [t.text for t in tokens]
    assert all(len(x["candidates"]) == 5 for x in lines[:-1])
    assert lines[-1]["type"] == "done" and lines[-1]["finish_reason"] == "length"


def test_killing_the_server_mid_reply_gives_a_clear_error(llama_server):
    proc, url = llama_server
    engine = OpenAIEngine(url, timeout_s=10)
    engine.load(EngineConfig(model_path="default"))
    request = GenerateRequest(
        params=SamplingParams.greedy(max_tokens=400), prompt="Count: 1, 2, 3,", candidates=3
    )
    events = []
    for event in engine.generate(request):
        events.append(event)
        if isinstance(event, TokenEvent) and event.index == 2:
            proc.kill()
    tokens = [e for e in events if isinstance(e, TokenEvent)]
    assert len(tokens) >= 3
    error = events[-1]
    assert isinstance(error, ErrorEvent) and error.kind == "remote"
    assert url.removesuffix("/v1") in error.message
    assert "received so far is kept" in error.message

    # Once the process is gone the port refuses; a socket the kernel is still closing
    # may reset instead. Either way the message names the problem.
    proc.wait(timeout=30)
    with pytest.raises(RemoteEngineError, match=r"(?i)connection (refused|reset)"):
        engine.list_models()
