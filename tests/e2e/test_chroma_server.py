"""A collection on a Chroma server (``chroma run``): the test documents ingested into it,
searched and asked with citations; the server stopped (clear errors, nothing hangs), restarted
on the same folder (search goes on) and on an empty one (``kb check`` and ``kb rebuild``
copy the vectors again from SQLite).

The documents are embedded once, into a module-scoped data folder; every command runs as
a real ``glassbox`` process, like a user's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from chroma_server import HAVE_CHROMA, ChromaServer
from corpus import DOCS, HALLUCINATION_ZH, LORA_EN, N_DOCS
from PySide6.QtWidgets import QApplication

HALLUCINATION_Q = "大模型的幻觉有哪些类型"
LORA_Q = "What does LoRA stand for?"
#: Seconds a stopped server may take to be reported (connect timeout is 3 s).
ERROR_WITHIN_S = 60

pytestmark = pytest.mark.skipif(not HAVE_CHROMA, reason="no chroma CLI")


def glassbox(home: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GLASSBOX_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "desktop_app", *args],
        capture_output=True, text=True, env=env, timeout=timeout,
    )  # fmt: skip


def ok(out: subprocess.CompletedProcess[str]) -> dict[str, object]:
    assert out.returncode == 0, out.stderr + out.stdout
    result = json.loads(out.stdout)
    assert isinstance(result, dict)
    return result


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    base = tmp_path_factory.mktemp("chroma-server")
    srv = ChromaServer(base)
    srv.start(base / "data")
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def remote(server: ChromaServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder whose collection ``docs`` keeps its vectors on the server (once)."""
    home = tmp_path_factory.mktemp("remote-home")
    report = ok(
        glassbox(
            home, "ingest", str(DOCS), "-c", "docs", "--chroma-url", server.url, "--json",
            "--quiet",
        )
    )  # fmt: skip
    assert report["indexed"] == N_DOCS and not report["failed"] and report["chroma"] == server.url
    return home


def _search(home: Path, query: str) -> subprocess.CompletedProcess[str]:
    return glassbox(home, "search", query, "-c", "docs", "--json")


def _assert_cited_hits(result: dict[str, object], source: Path, needle: str) -> None:
    """Five ranked passages of the test documents; the first, from ``source``, holds ``needle``."""
    hits = result["hits"]
    assert isinstance(hits, list) and [h["rank"] for h in hits] == [1, 2, 3, 4, 5]
    for h in hits:
        assert Path(h["source"]).parent == DOCS  # the document…
        assert h["chunk_id"] and 0 <= h["char_start"] < h["char_end"]  # …and the passage
        assert h["scores"]["vector"] is not None or h["scores"]["keyword"] is not None
        text = Path(h["source"]).read_text("utf-8")
        if Path(h["source"]).suffix == ".txt":  # a plain-text passage is the file's own text
            assert text[h["char_start"] : h["char_end"]] == h["text"]
    best = hits[0]
    assert Path(best["source"]) == source and needle in best["text"], [
        (Path(h["source"]).name, h["text"][:80]) for h in hits
    ]


def test_the_collection_lives_on_the_server(remote: Path, server: ChromaServer):
    listed = ok(glassbox(remote, "kb", "list", "--json"))["collections"]
    assert [(c["name"], c["chroma"]) for c in listed] == [("docs", server.url)]  # type: ignore[index]
    stats = ok(glassbox(remote, "kb", "stats", "docs", "--json"))
    assert stats["chroma"] == server.url
    assert stats["vectors_in_chroma"] == stats["chunks"] and stats["indexed"] == N_DOCS
    assert not (remote / "kb" / "chroma").exists()  # nothing embedded locally
    names = [
        c["name"]
        for c in httpx.get(
            f"{server.url}/api/v2/tenants/default_tenant/databases/default_database/collections"
        ).json()
    ]
    assert len(names) == 1 and names[0].startswith("glassbox_") and names[0].endswith("_kb_1")
    out = glassbox(remote, "ingest", str(DOCS), "-c", "docs", "--chroma-url", "http://127.0.0.1:1")
    assert out.returncode == 2 and "keeps its vectors on " + server.url in out.stderr


def test_search_in_chinese_and_english_with_citations(remote: Path, server: ChromaServer):
    zh = ok(_search(remote, HALLUCINATION_Q))
    assert zh["chroma"] == server.url
    _assert_cited_hits(zh, HALLUCINATION_ZH, "忠实性幻觉")
    en = ok(_search(remote, LORA_Q))
    _assert_cited_hits(en, LORA_EN, "Low-Rank Adaptation")


def test_ask_with_gemma_cites_the_remote_passages(remote: Path, gemma_path: Path):
    result = ok(
        glassbox(
            remote, "ask", LORA_Q, "-c", "docs", "--json",
            "--model", str(gemma_path), "--max-tokens", "24", "--n-ctx", "4096",
        )
    )  # fmt: skip
    assert isinstance(result["answer"], str) and result["answer"]
    citations = result["citations"]
    assert isinstance(citations, list) and citations
    assert [c["n"] for c in citations] == list(range(1, len(citations) + 1))
    assert all(Path(c["source"]).parent == DOCS and c["text"] for c in citations)
    assert any(
        Path(c["source"]) == LORA_EN and "Low-Rank Adaptation" in c["text"] for c in citations
    ), citations


def test_a_stopped_server_is_a_clear_error_then_a_restart_continues(
    remote: Path, server: ChromaServer, tmp_path: Path, qapp: QApplication
):
    data = server.log_dir / "data"
    server.stop()
    try:
        for args in (
            ("search", LORA_Q, "-c", "docs", "--json"),
            ("ingest", str(DOCS), "-c", "docs", "--json", "--quiet"),
            ("kb", "check", "docs", "--json"),
        ):
            started = time.monotonic()
            out = glassbox(remote, *args, timeout=ERROR_WITHIN_S * 2)
            assert time.monotonic() - started < ERROR_WITHIN_S, args
            assert out.returncode == 2, (args, out.stdout, out.stderr)
            error = json.loads(out.stdout)
            assert error["kind"] == "kb_chroma_server", error
            expected = f"The Chroma server at {server.url} is not reachable (connection refused)"
            assert expected in error["message"]
        # SQLite still knows everything that was ingested.
        listed = ok(glassbox(remote, "kb", "list", "--json"))["collections"]
        assert listed[0]["documents"] == N_DOCS  # type: ignore[index]
        _controller_reports_the_error(remote / "kb", server.url)
    finally:
        server.start(data)
    _assert_cited_hits(ok(_search(remote, LORA_Q)), LORA_EN, "Low-Rank Adaptation")


def _controller_reports_the_error(root: Path, url: str) -> None:
    """The window's controller: the failure comes back as signals, in seconds."""
    from PySide6.QtCore import QCoreApplication, QEventLoop, QTimer

    from desktop_app.core.kb.knowledge_base import KnowledgeBase
    from desktop_app.workers.kb.controller import KnowledgeController

    # pytest-qt's QApplication (``qapp``): a bare QCoreApplication made here would outlive
    # this test, and the widget tests after it could not build a window.
    assert QCoreApplication.instance() is not None
    controller = KnowledgeController(lambda: KnowledgeBase(root))
    errors: list[tuple[str, str]] = []
    failed: list[tuple[str, str]] = []
    loop = QEventLoop()
    controller.sig_error.connect(lambda kind, message: errors.append((kind, message)))
    controller.sig_busy.connect(lambda busy: None if busy else loop.quit())
    try:
        controller.search(
            LORA_Q,
            ["docs"],
            on_done=lambda _hits: None,
            on_failed=lambda kind, msg: failed.append((kind, msg)),
        )
        controller.create_collection("another", chroma_url=url)
        QTimer.singleShot(ERROR_WITHIN_S * 1000, loop.quit)
        started = time.monotonic()
        loop.exec()
        assert time.monotonic() - started < ERROR_WITHIN_S
        assert failed and failed[0][0] == "kb_chroma_server" and url in failed[0][1]
        kinds = [k for k, _ in errors]
        assert kinds == ["kb_chroma_server", "kb_chroma_server"], errors
    finally:
        assert controller.shutdown(timeout_s=30)


def test_an_emptied_server_is_refilled_from_sqlite(remote: Path, server: ChromaServer):
    stats = ok(glassbox(remote, "kb", "stats", "docs", "--json"))
    chunks = stats["chunks"]
    assert isinstance(chunks, int) and chunks > 0
    server.stop()
    server.start(server.log_dir / "empty-1")
    checked = ok(glassbox(remote, "kb", "check", "docs", "--json"))
    assert checked["chroma_before"] == 0 and checked["added"] == chunks
    assert checked["chroma_after"] == chunks and checked["consistent"] is True
    assert checked["chroma"] == server.url
    _assert_cited_hits(ok(_search(remote, HALLUCINATION_Q)), HALLUCINATION_ZH, "忠实性幻觉")

    server.stop()
    server.start(server.log_dir / "empty-2")
    rebuilt = ok(glassbox(remote, "kb", "rebuild", "docs", "--json"))
    assert rebuilt["added"] == chunks and rebuilt["consistent"] is True
    _assert_cited_hits(ok(_search(remote, LORA_Q)), LORA_EN, "Low-Rank Adaptation")


def test_an_ingestion_cut_by_the_server_resumes_without_duplicates(tmp_path: Path):
    """The server dies between two embedding batches; a re-run finishes the work."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core" / "kb"))
    from kb_fakes import HashEmbedder

    from desktop_app.core.kb.errors import ChromaServerError
    from desktop_app.core.kb.ingest import IngestProgress
    from desktop_app.core.kb.knowledge_base import KnowledgeBase
    from desktop_app.core.kb.parse_host import InProcessParser

    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(12):
        words = " ".join(f"word{i}_{j}" for j in range(2500))
        (docs / f"d{i:02d}.txt").write_text(words, "utf-8")
    srv = ChromaServer(tmp_path)
    srv.start(tmp_path / "data")
    try:

        def kill_after_first_batch(p: IngestProgress) -> None:
            if p.chunks_done > 0:
                srv.stop()

        with KnowledgeBase(tmp_path / "kb", embedder=HashEmbedder()) as kb:
            with pytest.raises(ChromaServerError, match="not reachable"):
                kb.ingest(
                    [docs], "cut", InProcessParser(), chroma_url=srv.url,
                    progress=kill_after_first_batch,
                )  # fmt: skip
            coll = kb.registry.collection("cut")
            assert kb.registry.counts(coll)["pending"] > 0
        srv.start(tmp_path / "data")
        with KnowledgeBase(tmp_path / "kb", embedder=HashEmbedder()) as kb:
            report = kb.ingest([docs], "cut", InProcessParser())
            assert not report.failed and report.resumed + report.indexed > 0
            coll = kb.collection("cut")
            counts = kb.registry.counts(coll)
            assert counts["indexed"] == 12 and counts["pending"] == 0
            stored = kb.registry.chunk_ids(coll)
            assert kb.index.ids(coll) == stored and kb.index.count(coll) == len(stored)
    finally:
        srv.stop()
