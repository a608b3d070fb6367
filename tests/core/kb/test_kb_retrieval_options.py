"""Term pruning, date filters, retrieval counts, explain, query rewriting and reranking."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from kb_fakes import ScriptedEngine

from desktop_app.core.engine.fake import FakeEngine
from desktop_app.core.engine.protocol import (
    DoneEvent,
    EngineConfig,
    Event,
    GenerateRequest,
    TokenEvent,
)
from desktop_app.core.kb import keyword
from desktop_app.core.kb.db import Filters
from desktop_app.core.kb.grounding import (
    MAX_PHRASINGS,
    RERANK_POOL,
    GroundingOptions,
    find_passages,
    ground,
)
from desktop_app.core.kb.knowledge_base import KnowledgeBase
from desktop_app.core.kb.parse_host import InProcessParser
from desktop_app.core.kb.rerank import (
    UNDECIDED,
    rerank,
    yes_probability,
)
from desktop_app.core.kb.rewrite import parse_phrasings, rewrite_queries
from desktop_app.core.sampling import Candidate


def test_plan_keeps_absent_terms_and_the_rarest_within_the_budgets(monkeypatch):
    df = {"rare": 3, "mid": 500, "common": 5000, "everywhere": 9000}
    plan = keyword.plan_terms(["everywhere", "ghost", "common", "rare", "mid"], df, 10_000)
    assert plan.kept == ("ghost", "rare", "mid")  # absent first (free), then rarest
    assert plan.left_out == ("common", "everywhere")  # over 10 % of 10,000 chunks
    only_common = keyword.plan_terms(["common", "everywhere"], df, 10_000)
    assert only_common.kept == ("common",) and only_common.left_out == ("everywhere",)
    # A small collection keeps every term (nothing reaches COMMON_MIN_CHUNKS)...
    small = keyword.plan_terms(["a1", "a2"], {"a1": 90, "a2": 95}, 100)
    assert small.kept == ("a1", "a2")
    # ...up to the cap of scored terms, and within the postings budget.
    many = {f"t{i}": i + 1 for i in range(12)}
    assert len(keyword.plan_terms(list(many), many, 100).kept) == keyword.MAX_SCORED_TERMS
    monkeypatch.setattr(keyword, "MAX_SCORED_POSTINGS", 500)
    assert keyword.plan_terms(["rare", "mid"], df, 10_000).kept == ("rare",)


@pytest.fixture
def corpus(kb: KnowledgeBase, tmp_path: Path) -> KnowledgeBase:
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(30):
        extra = " The zephyrine protocol is described here." if i == 7 else ""
        (docs / f"n{i:02d}.txt").write_text(
            f"Note {i}: the shared boilerplate sentence about quarterly reports.{extra}", "utf-8"
        )
        os.utime(docs / f"n{i:02d}.txt", (1_600_000_000 + i * 86_400,) * 2)
    kb.ingest([docs], "c", InProcessParser())
    return kb


def test_common_terms_are_left_out_and_rare_ones_still_find(corpus, monkeypatch):
    monkeypatch.setattr(keyword, "COMMON_MIN_CHUNKS", 5)
    plan = corpus.registry.keyword_plan("quarterly zephyrine")
    assert "quarterly" in plan.trigram.left_out and "zephyrine" in plan.trigram.kept
    hits = corpus.search("quarterly zephyrine", "c", 3)
    assert hits[0].chunk.path.endswith("n07.txt") and hits[0].keyword is not None
    explained = corpus.explain("quarterly zephyrine", "c", 3)
    assert "quarterly" in explained.keyword_left_out and explained.hits[0].keyword_rank == 1
    assert {"embed", "vector", "keyword", "fusion"} <= set(explained.timings_ms)


def test_document_frequencies_follow_new_chunks(corpus, tmp_path: Path):
    coll = corpus.collection("c")
    before = corpus.registry.keyword_plan("zephyrine")
    assert corpus.registry.chunk_total() == corpus.registry.counts(coll)["chunks"]
    (tmp_path / "more.txt").write_text("zephyrine again, and zephyrine once more.", "utf-8")
    corpus.ingest([tmp_path / "more.txt"], "c", InProcessParser())
    df = corpus.registry._doc_freqs("chunks_bigram_vocab", ["zephyrine"])["zephyrine"]
    assert df == 2 and before.bigram.kept == ("zephyrine",)


def test_date_filters_keep_files_modified_in_the_range(corpus):
    day = 86_400
    after = Filters(after=1_600_000_000 + 20 * day)
    hits = corpus.search("boilerplate quarterly reports", "c", 30, filters=after)
    assert {Path(h.chunk.path).name for h in hits} == {f"n{i:02d}.txt" for i in range(20, 30)}
    window = Filters(after=1_600_000_000 + 3 * day, before=1_600_000_000 + 5 * day)
    hits = corpus.search("boilerplate", "c", 30, filters=window)
    assert sorted(Path(h.chunk.path).name for h in hits) == ["n03.txt", "n04.txt"]
    assert not Filters().active and window.active


def test_retrievals_are_counted_in_batches_and_explain_does_not_count(corpus, tmp_path):
    corpus.explain("zephyrine", "c", 1)
    corpus.search("zephyrine", "c", 1, record=False)
    assert len(corpus.stats("c").never_retrieved) == 30
    corpus.search("zephyrine protocol", "c", 1)
    stats = corpus.stats("c")  # stats writes what is pending first
    assert stats.indexed - len(stats.never_retrieved) == 1
    assert not any(p.endswith("n07.txt") for p in stats.never_retrieved)
    doc = corpus.registry.document(corpus.collection("c"), str(tmp_path / "docs" / "n07.txt"))
    assert doc is not None and doc.retrievals == 1 and doc.last_retrieved is not None


def test_alternative_phrasings_are_fused_with_the_question(corpus):
    alone = corpus.search("unrelated words", "c", 5)
    fused = corpus.search("unrelated words", "c", 5, alternatives=["zephyrine protocol"])
    assert fused[0].chunk.path.endswith("n07.txt")
    assert not alone or not alone[0].chunk.path.endswith("n07.txt")


def test_rewrite_parses_the_models_lines():
    engine = ScriptedEngine(
        "1. LoRA 是什么", "意思\n- low-rank adaptation", " explained\n", "What is LoRA?\n"
    )
    alternatives = rewrite_queries(engine, "What is LoRA?", 3, chat_template=False)
    assert alternatives == ["LoRA 是什么意思", "low-rank adaptation explained"]
    request = engine.requests[0]
    assert request.params.temperature == 0.0 and "What is LoRA?" in (request.prompt or "")
    assert "same language" in (request.prompt or "")
    assert parse_phrasings('"a b"\nQueries:\n2) c d\n', "x", 5) == ["a b", "c d"]
    assert rewrite_queries(engine, "q", 0) == []
    fake = FakeEngine("short query")  # through the real sampler chain, chat form
    fake.load(EngineConfig(model_path="fake"))
    assert rewrite_queries(fake, "What is LoRA?", 2) == ["short query"]
    assert fake.requests[0].messages and fake.requests[0].prompt is None


def _cand(text: str, p: float) -> Candidate:
    return Candidate(id=0, text=text, logit=0.0, p_raw=p, p_final=p, removed_by=None)


def test_yes_probability_sums_spellings_of_yes_and_no():
    cands = [_cand(" Yes", 0.3), _cand("yes", 0.1), _cand("No", 0.2), _cand(" no", 0.2)]
    assert yes_probability([*cands, _cand("Maybe", 0.2)]) == pytest.approx(0.5)
    assert yes_probability([_cand("是", 0.6), _cand("否", 0.2)]) == pytest.approx(0.75)
    assert yes_probability([_cand("Maybe", 1.0)]) == UNDECIDED


class JudgingEngine:
    """Answers the relevance question with yes mass from a keyword in the passage."""

    def __init__(self, keyword_: str) -> None:
        self.keyword = keyword_
        self.requests: list[GenerateRequest] = []

    def generate(self, request: GenerateRequest) -> Iterator[Event]:
        self.requests.append(request)
        text = request.prompt or request.messages[-1].content  # type: ignore[index]
        passage = text.split(" BEGIN\n", 1)[1]
        yes = 0.9 if self.keyword in passage else 0.2
        cands = (_cand(" Yes", yes * 0.8), _cand("yes", yes * 0.2), _cand(" No", 1 - yes))
        yield TokenEvent(0, 0, " Yes" if yes > 0.5 else " No", max(yes, 1 - yes), cands)
        yield DoneEvent("length", 10, 1, 0.0, 1.0, 0)


def test_rerank_asks_once_per_passage_and_sorts_by_yes_probability(corpus):
    hits = corpus.search("boilerplate quarterly reports", "c", 30)
    assert any(h.chunk.path.endswith("n07.txt") for h in hits[1:])
    engine = JudgingEngine("zephyrine")
    ranked = rerank(engine, "Which note describes the protocol?", hits, chat_template=False)
    assert len(engine.requests) == len(hits)
    request = engine.requests[0]
    assert request.params.max_tokens == 1 and request.candidates == 50
    assert request.params.temperature == 0.0 and (request.prompt or "").endswith("Answer:")
    assert ranked[0].chunk.path.endswith("n07.txt") and ranked[0].rerank == pytest.approx(0.9)
    assert [h.rank for h in ranked] == list(range(1, len(hits) + 1))
    assert ranked[1].rerank == pytest.approx(0.2) and ranked[1].as_dict()["scores"]["rerank"]
    # Ties keep the retrieval order; chat models get one user message.
    assert [h.chunk.chunk_id for h in ranked[1:]] == [
        h.chunk.chunk_id for h in hits if not h.chunk.path.endswith("n07.txt")
    ]
    chat = rerank(JudgingEngine("zephyrine"), "q", hits[:2])
    assert len(chat) == 2 and "rerank" not in hits[0].as_dict()["scores"]


def test_grounding_rewrites_searches_every_phrasing_reranks_a_pool_and_keeps_k(corpus):
    # The model's one phrasing names the protocol; the question alone does not find it.
    options = GroundingOptions(collections=("c",), k=2, multi_query=1, rerank=True)
    assert options.pool == RERANK_POOL and GroundingOptions(("c",), k=30, rerank=True).pool == 30
    rewriter = ScriptedEngine("zephyrine protocol\n")
    grounded = ground(corpus, rewriter, "unrelated words", options, chat_template=False)
    assert grounded.phrasings == ["zephyrine protocol"]
    assert len(grounded.hits) == 2 and grounded.hits[0].chunk.path.endswith("n07.txt")
    # The same search the window runs on its knowledge thread: one fusion over all phrasings.
    pool = find_passages(corpus, "unrelated words", options, grounded.phrasings)
    assert len(pool) == RERANK_POOL and pool[0].chunk.chunk_id == grounded.hits[0].chunk.chunk_id


def test_grounding_without_a_model_skips_its_steps_and_a_cross_encoder_reranks(corpus):
    class Reversed:
        def rerank(self, question, hits):
            return list(reversed(hits))

    options = GroundingOptions(collections=("c",), k=3, multi_query=2, rerank=True)
    plain = find_passages(corpus, "boilerplate quarterly", options)
    grounded = ground(corpus, None, "boilerplate quarterly", options, reranker=Reversed())
    assert grounded.phrasings == []
    assert [h.chunk.chunk_id for h in grounded.hits] == [h.chunk.chunk_id for h in reversed(plain)][
        :3
    ]
    with pytest.raises(ValueError):
        GroundingOptions(collections=("c",), multi_query=MAX_PHRASINGS + 1)


def test_the_question_is_embedded_while_the_keyword_indexes_are_searched(corpus, monkeypatch):
    """A search costs the longer of its two sides, not their sum: the embedding
    waits here for the keyword search to have started, which a search running the
    sides one after the other never does (the wait would run out first)."""
    keyword_started = threading.Event()
    searched = corpus.registry.keyword_search

    def keyword_search(*args, **kwargs):
        keyword_started.set()
        return searched(*args, **kwargs)

    embedder = corpus.embedder_for(corpus.collection("c"))
    embed = embedder.embed
    overlapped: list[bool] = []

    def embed_waiting(texts):
        overlapped.append(keyword_started.wait(timeout=10))
        return embed(texts)

    monkeypatch.setattr(corpus.registry, "keyword_search", keyword_search)
    monkeypatch.setattr(embedder, "embed", embed_waiting)
    hits = corpus.search("zephyrine protocol", "c", 3)
    assert overlapped == [True]
    assert hits[0].chunk.path.endswith("n07.txt")
    assert hits[0].vector is not None and hits[0].keyword is not None
