"""Where a collection's vectors live: server URLs, the migration that records them,
and the errors a user sees when a server cannot be reached (no server needed)."""

from __future__ import annotations

import socket
import sqlite3
import time
from pathlib import Path

import httpx
import pytest
from kb_fakes import HashEmbedder

from desktop_app.core.kb.db import MIGRATIONS, Collection, Registry, _statements
from desktop_app.core.kb.errors import ChromaServerError, KnowledgeBaseError
from desktop_app.core.kb.knowledge_base import KnowledgeBase
from desktop_app.core.kb.location import parse_chroma_url, reason_of
from desktop_app.core.kb.parse_host import InProcessParser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("http://127.0.0.1:8123", "http://127.0.0.1:8123"),
        ("  HTTP://Chroma.Example.org:9000/ ", "http://chroma.example.org:9000"),
        ("http://localhost", "http://localhost:8000"),
        ("https://[::1]:8443", "https://[::1]:8443"),
    ],
)
def test_server_urls_are_normalised(given: str, expected: str):
    assert parse_chroma_url(given) == expected


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ("127.0.0.1:8000", "http:// or https://"),
        ("ftp://host:21", "http:// or https://"),
        ("http://:8000", "no host"),
        ("http://host:99999", "not a valid"),
        ("http://host:8000/api/v2", "no path"),
        ("http://host:8000?x=1", "no path"),
        ("http://user:pw@host:8000", "credentials"),
        ("http://host:0", "between 1 and 65535"),
    ],
)
def test_bad_server_urls_are_refused_with_the_reason(given: str, says: str):
    with pytest.raises(KnowledgeBaseError, match=says):
        parse_chroma_url(given)


def test_migration_3_keeps_collections_local_and_gives_a_stable_id(tmp_path: Path):
    root = tmp_path / "kb"
    root.mkdir()
    conn = sqlite3.connect(root / "kb.sqlite3")
    for script in MIGRATIONS[:2]:
        for statement in _statements(script):
            conn.execute(statement)
    conn.execute(
        "INSERT INTO collections(name, embed_model, dim, created_at) VALUES ('old', 'm', 4, 0)"
    )
    conn.execute("PRAGMA user_version=2")
    conn.commit()
    conn.close()
    with Registry(root) as reg:
        assert reg.conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) >= 3
        assert reg.collection("old").chroma_url is None
        kb_id = reg.kb_id()
        assert len(kb_id) == 16 and int(kb_id, 16) >= 0
        made = reg.create_collection("remote", "m", 4, "http://127.0.0.1:8123")
        assert made.chroma_url == "http://127.0.0.1:8123"
    with Registry(root) as reg:
        assert reg.kb_id() == kb_id
        assert [c.chroma_url for c in reg.collections()] == [None, "http://127.0.0.1:8123"]
    with Registry(tmp_path / "other") as reg:
        assert reg.kb_id() != kb_id  # two data folders never share names on a server


def test_a_refused_port_is_a_clear_error_and_leaves_no_collection(kb: KnowledgeBase, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Zephyrine is the codename.", "utf-8")
    url = f"http://127.0.0.1:{_free_port()}"
    started = time.monotonic()
    with pytest.raises(ChromaServerError) as caught:
        kb.ingest([docs], "remote", InProcessParser(), chroma_url=url)
    assert time.monotonic() - started < 10
    err = caught.value
    assert err.kind == "kb_chroma_server" and err.url == url
    assert isinstance(err, KnowledgeBaseError)
    assert f"The Chroma server at {url} is not reachable (connection refused)" in str(err)
    assert "Start it" in str(err)
    assert kb.collections() == []
    with pytest.raises(ChromaServerError, match="connection refused"):
        kb.create_collection("remote", url)


def test_a_server_that_went_away_is_named_in_search_errors(tmp_path: Path):
    """A collection recorded on a server that is not running: search, stats and check
    fail with the server's URL; the documents stay listed from SQLite."""
    root = tmp_path / "kb"
    url = f"http://127.0.0.1:{_free_port()}"
    with Registry(root) as reg:
        reg.create_collection("remote", HashEmbedder.name, HashEmbedder.dim, url)
    with KnowledgeBase(root, embedder=HashEmbedder()) as kb:
        for call in (
            lambda: kb.search("anything", "remote"),
            lambda: kb.stats("remote"),
            lambda: kb.check("remote"),
        ):
            with pytest.raises(ChromaServerError, match=rf"{url} is not reachable"):
                call()
        assert kb.registry.documents(kb.registry.collection("remote")) == []
        assert kb.location("remote") == url


def test_a_different_url_for_an_existing_collection_is_refused(kb: KnowledgeBase, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Zephyrine is the codename.", "utf-8")
    kb.ingest([docs], "local", InProcessParser())
    with pytest.raises(KnowledgeBaseError, match="in the local data folder, not on http"):
        kb.ingest([docs], "local", InProcessParser(), chroma_url="http://127.0.0.1:1")
    assert kb.location("local") is None
    assert kb.stats("local").as_dict()["chroma"] == "local"


def test_network_failures_are_recognised():
    request = httpx.Request("GET", "http://127.0.0.1:1/")
    assert reason_of(httpx.ConnectError("[Errno 111] Connection refused", request=request)) == (
        "connection refused"
    )
    assert reason_of(httpx.ReadTimeout("timed out", request=request)) == "the request timed out"
    assert reason_of(ValueError("Could not connect to a Chroma server.")) == "connection refused"
    assert reason_of(ValueError("something else")) is None


def test_a_web_server_that_is_not_chroma_is_named_as_such(kb: KnowledgeBase):
    import http.server
    import threading

    class NotChroma(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.HTTPServer(("127.0.0.1", 0), NotChroma)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}"
        with pytest.raises(ChromaServerError, match="answered HTTP 404 to a Chroma heartbeat"):
            kb.create_collection("remote", url)
        assert kb.collections() == []
    finally:
        httpd.shutdown()
        thread.join(10)
        httpd.server_close()


def _ingested(kb: KnowledgeBase, tmp_path: Path, name: str = "notes") -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Zephyrine is the codename of the northern project.", "utf-8")
    kb.ingest([docs], name, InProcessParser())


def _vector_hits(kb: KnowledgeBase, name: str = "notes") -> int:
    return sum(h.vector is not None for h in kb.search("Zephyrine codename", name, record=False))


def test_a_move_that_fails_mid_copy_stays_where_it_was(
    kb: KnowledgeBase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """The server answers its heartbeat, then goes away during the copy: the
    collection keeps its location and its vectors, and searches go on."""
    _ingested(kb, tmp_path)
    assert _vector_hits(kb) == 1
    monkeypatch.setattr(kb.index, "heartbeat", lambda url: None)
    url = f"http://127.0.0.1:{_free_port()}"
    with pytest.raises(ChromaServerError, match="not reachable"):
        kb.move("notes", url)
    assert kb.location("notes") is None
    assert _vector_hits(kb) == 1
    coll = kb.registry.collection("notes")
    assert kb.check("notes").consistent and kb.index.count(coll) == 1


def test_a_completed_move_is_not_an_error_when_the_old_copy_cannot_be_dropped(
    kb: KnowledgeBase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    _ingested(kb, tmp_path)
    gone = f"http://127.0.0.1:{_free_port()}"
    kb.registry.set_chroma_url(kb.registry.collection("notes"), gone)

    real_drop = kb.index.drop

    def drop(coll: Collection) -> None:
        if coll.chroma_url == gone:
            raise RuntimeError("the old server answered nonsense")
        real_drop(coll)

    monkeypatch.setattr(kb.index, "drop", drop)
    report = kb.move("notes", None)
    assert report.consistent and report.added == 1
    assert kb.location("notes") is None and _vector_hits(kb) == 1


def test_a_collection_on_a_server_gone_for_good_can_be_deleted(tmp_path: Path):
    root = tmp_path / "kb"
    url = f"http://127.0.0.1:{_free_port()}"
    with Registry(root) as reg:
        reg.create_collection("remote", HashEmbedder.name, HashEmbedder.dim, url)
    with KnowledgeBase(root, embedder=HashEmbedder()) as kb:
        with pytest.raises(ChromaServerError) as caught:
            kb.search("anything", "remote")
        assert "To stop using this server: `glassbox kb move NAME --local`" in str(caught.value)
        kb.delete_collection("remote")
        assert kb.collections() == []
