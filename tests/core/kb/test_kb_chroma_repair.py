"""A collection on a real Chroma server (``chroma run``, started in a second) kept
usable by one long-running KnowledgeBase, as the window holds one: a server restarted
on an empty folder is refilled from SQLite without restarting the process, a move
between two spellings of one server keeps its copy, and IPv6 literals connect."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from chroma_server import HAVE_CHROMA, ChromaServer
from kb_fakes import HashEmbedder

from desktop_app.core.kb.errors import ChromaServerError
from desktop_app.core.kb.knowledge_base import KnowledgeBase
from desktop_app.core.kb.parse_host import InProcessParser

pytestmark = pytest.mark.skipif(not HAVE_CHROMA, reason="no chroma CLI")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ChromaServer]:
    srv = ChromaServer(tmp_path)
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
    server: ChromaServer, tmp_path: Path, fails_while_down: bool
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


def test_a_move_between_two_spellings_of_one_server_keeps_the_copy(
    server: ChromaServer, tmp_path: Path
):
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
    srv = ChromaServer(tmp_path, host="::1")
    srv.start(tmp_path / "data")
    try:
        with KnowledgeBase(tmp_path / "kb", embedder=HashEmbedder()) as kb:
            kb.ingest([_docs(tmp_path)], "remote", InProcessParser(), chroma_url=srv.url)
            assert kb.location("remote") == srv.url
            assert _vector_hits(kb) == 2
    finally:
        srv.stop()
