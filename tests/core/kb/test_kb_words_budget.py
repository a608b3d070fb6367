"""The words index's own budget: a word held by too many chunks is not scored by it.

Over a large collection the words index scored the postings of a question's rarest
word however common it was; it now has a smaller postings budget than the trigram
index and leaves out any word above ``MAX_WORD_CHUNKS`` (the trigram index still
matches it), and each index's time is reported.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop_app.core.kb import keyword
from desktop_app.core.kb.knowledge_base import KnowledgeBase
from desktop_app.core.kb.parse_host import InProcessParser


def test_the_plan_caps_a_common_word_even_when_it_is_the_rarest() -> None:
    df = {"rare": 3, "mid": 500, "common": 3000}
    # The trigram plan keeps the rarest term whatever its count...
    assert keyword.plan_terms(["common"], df, 100_000).kept == ("common",)
    # ...the words plan does not score a word past its bound,
    capped = keyword.plan_terms(["common", "ghost"], df, 100_000, max_term_chunks=2_500)
    assert capped.kept == ("ghost",) and capped.left_out == ("common",)
    # and stops adding words at its own postings budget.
    plan = keyword.plan_terms(["mid", "rare", "common"], df, 100_000, max_postings=400)
    assert plan.kept == ("rare",) and plan.left_out == ("mid", "common")


def test_the_words_budget_is_below_the_trigram_budget() -> None:
    assert keyword.MAX_WORDS_POSTINGS < keyword.MAX_SCORED_POSTINGS
    assert keyword.MAX_WORD_CHUNKS <= keyword.MAX_WORDS_POSTINGS


@pytest.fixture
def corpus(kb: KnowledgeBase, tmp_path: Path) -> KnowledgeBase:
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(30):
        extra = " 磁盘配额由 quotacheck 检查。" if i == 7 else ""
        (docs / f"n{i:02d}.txt").write_text(
            f"第 {i} 篇：季度报告的磁盘说明，关于季度报告。{extra}", "utf-8"
        )
    kb.ingest([docs], "c", InProcessParser())
    return kb


def test_a_very_common_word_is_left_to_the_trigram_index(
    corpus: KnowledgeBase, monkeypatch: pytest.MonkeyPatch
) -> None:
    reg = corpus.registry
    query = "季度报告"
    assert "报告" in reg.keyword_plan(query).words.kept  # 30 chunks: within the bound
    monkeypatch.setattr(keyword, "MAX_WORD_CHUNKS", 10)
    plan = reg.keyword_plan(query)
    assert plan.words.kept == () and "报告" in plan.words.left_out
    rankings = reg.keyword_rankings(corpus.registry.collection("c"), query, 5)
    assert "words" not in rankings and len(rankings["trigram"]) == 5
    # A rarer word of the same question is still scored by the words index.
    rare = reg.keyword_plan("季度报告 quotacheck 配额")
    assert "quotacheck" in rare.words.kept and "报告" in rare.words.left_out
    hits = corpus.search("季度报告 quotacheck 配额", "c", 3)
    assert hits[0].chunk.path.endswith("n07.txt")


def test_search_reports_the_time_of_each_keyword_index(corpus: KnowledgeBase) -> None:
    timings: dict[str, float] = {}
    corpus.search("季度报告的磁盘配额", "c", 3, timings=timings)
    assert {"embed", "vector", "keyword", "fusion"} <= set(timings)
    assert {"keyword.plan", "keyword.trigram", "keyword.words"} <= set(timings)
    assert all(seconds >= 0 for seconds in timings.values())
    assert timings["keyword.trigram"] + timings["keyword.words"] <= timings["keyword"]


def test_an_index_s_first_passages_count_more_when_the_indexes_are_fused(
    corpus: KnowledgeBase, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "a" is the trigram index's first and the words index's 30th; "b" is 8th and 3rd.
    # With the usual rank constant (60) "b" came first; at KEYWORD_RRF_K (20) "a" does.
    trigram = ["a", *(f"t{i}" for i in range(6)), "b"]
    words_ranking = ["w0", "w1", "b", *(f"w{i}" for i in range(2, 28)), "a"]
    assert trigram.index("b") + 1 == 8 and words_ranking.index("a") + 1 == 30
    reg = corpus.registry
    monkeypatch.setattr(
        reg, "keyword_rankings", lambda *a, **k: {"trigram": trigram, "words": words_ranking}
    )
    coll = reg.collection("c")
    found = [chunk_id for chunk_id, _ in reg.keyword_search(coll, "an english question", 2)]
    assert found == ["a", "b"]
