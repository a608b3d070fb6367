"""A collection on a real Chroma server (``chroma run``, started in a second) kept
usable by one long-running KnowledgeBase, as the window holds one: a server restarted
on an empty folder is refilled from SQLite without restarting the process, a move
between two spellings of one server keeps its copy, and IPv6 literals connect."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from kb_fakes import HashEmbedder

from desktop_app.core.kb.errors import ChromaServerError
from desktop_app.core.kb.parse_host import InProcessParser
from desktop_app.core.kb.store import KnowledgeBase

CHROMA = Path(sys.executable).with_name("chroma")

pytestmark = pytest.mark.skipif(
    shutil.which("chroma") is None and not CHROMA.exists(), reason="no chroma CLI"
)


def _free_port(family: socket.AddressFamily = socket.AF_INET, host: str = "127.0.0.1") -> int:
    with socket.socket(family) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class Server:
    """``chroma run`` on one host and port, restartable on another folder."""

    def __init__(self, logs: Path, host: str = "127.0.0.1") -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.host = host
        self.port = _free_port(family, host)
        self.url = f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"
        self.logs = logs
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self, data: Path, timeout_s: float = 60) -> None:
        assert self.proc is None
        self.starts += 1
        exe = str(CHROMA) if CHROMA.exists() else "chroma"
        with (self.logs / f"chroma-{self.starts}.log").open("wb") as log:
            self.proc = subprocess.Popen(
                [exe, "run", "--path", str(data), "--host", self.host, "--port", str(self.port)],
                stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"chroma run exited with {self.proc.returncode}")
            try:
                if httpx.get(f"{self.url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise AssertionError(f"chroma run did not answer within {timeout_s} s")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None:
            proc.kill()
            proc.wait(timeout=30)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    srv = Server(tmp_path)
    srv.start(tmp_path / "data-0")
    try:
        yield srv
    finally:
        srv.stop()


def _docs(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Zephyrine is the codename of the northern project.", "utf-8")
    (docs / "b.txt").write_text("Quillmarsh ships the southern release in spring.", "utf-8")
    return docs


def _vector_hits(kb: KnowledgeBase, query: str = "Zephyrine codename") -> int:
    return sum(h.vector is not None for h in kb.search(query, "remote", record=False))


@pytest.mark.parametrize("fails_while_down", [True, False], ids=["failed-first", "no-failure"])
def test_a_server_restarted_empty_is_refilled_in_the_same_process(
    server: Server, tmp_path: Path, fails_while_down: bool
):
    with KnowledgeBase(tmp_path / "kb", embedder=HashEmbedder()) as kb:
        kb.ingest([_docs(tmp_path)], "remote", InProcessParser(), chroma_url=server.url)
        assert _vector_hits(kb) == 2
        server.stop()
        if fails_while_down:
            with pytest.raises(ChromaServerError, match="not reachable"):
                kb.search("Zephyrine codename", "remote")
        server.start(tmp_path / "empty")
        assert _vector_hits(kb) == 2  # vectors copied again, not keyword hits only
        coll = kb.registry.collection("remote")
        assert kb.index.count(coll) == kb.registry.counts(coll)["chunks"]


def test_a_move_between_two_spellings_of_one_server_keeps_the_copy(server: Server, tmp_path: Path):
    with KnowledgeBase(tmp_path / "kb", embedder=HashEmbedder()) as kb:
        kb.ingest([_docs(tmp_path)], "remote", InProcessParser(), chroma_url=server.url)
        other = f"http://localhost:{server.port}"
        report = kb.move("remote", other)
        assert report.consistent and kb.location("remote") == other
        coll = kb.registry.collection("remote")
        assert kb.index.count(coll) == kb.registry.counts(coll)["chunks"] == 2
        assert _vector_hits(kb) == 2
    with KnowledgeBase(tmp_path / "kb", embedder=HashEmbedder()) as kb:
        assert kb.check("remote").chroma_before == 2  # still there for the next process


def test_an_ipv6_server_url_connects(tmp_path: Path):
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback")
    srv = Server(tmp_path, host="::1")
    srv.start(tmp_path / "data")
    try:
        with KnowledgeBase(tmp_path / "kb", embedder=HashEmbedder()) as kb:
            kb.ingest([_docs(tmp_path)], "remote", InProcessParser(), chroma_url=srv.url)
            assert kb.location("remote") == srv.url
            assert _vector_hits(kb) == 2
    finally:
        srv.stop()
