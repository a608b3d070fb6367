"""Keyword search: any text is literal, Chinese scripts fold, short terms fall back to LIKE."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop_app.core.kb import keyword
from desktop_app.core.kb.fusion import reciprocal_rank_fusion
from desktop_app.core.kb.parse_host import InProcessParser


def test_traditional_and_simplified_chinese_normalise_alike():
    assert keyword.normalize("事實性幻覺") == keyword.normalize("事实性幻觉")
    assert keyword.normalize("ＧＰＴ－３") == "gpt-3"


def test_match_expressions_keep_only_quoted_words():
    # Operators and syntax characters are not terms: only words, each in quotes.
    assert keyword.fts_match('say "hi" OR NEAR(x) *') == '"say" OR "near"'
    assert keyword.fts_match("ab") is None
    assert keyword.bigram_match("幻觉") == '"幻觉"'


def test_rrf_adds_weight_over_k_plus_rank():
    scores = reciprocal_rank_fusion([["a", "b"], ["b", "c"]], [1.0, 0.5], k=60)
    assert scores["a"] == pytest.approx(1 / 61)
    assert scores["b"] == pytest.approx(1 / 62 + 0.5 / 61)
    assert scores["c"] == pytest.approx(0.5 / 62)
    assert sorted(scores, key=lambda i: -scores[i]) == ["b", "a", "c"]


@pytest.fixture
def filled(kb, tmp_path: Path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "zh.txt").write_text(
        "幻覺可以分為事實性幻覺和忠實性幻覺。\n\n蒸馏由 Hinton 提出。", "utf-8"
    )
    (docs / "en.txt").write_text(
        'Quotes "like this" and 100% of_under_scores stay literal. C++ OR NOT (a*b).', "utf-8"
    )
    kb.ingest([docs], "t", InProcessParser())
    return kb


@pytest.mark.parametrize(
    ("query", "found"),
    [
        # Syntax of FTS5 or LIKE on its own matches nothing (not "everything")...
        ('"', []),
        ('""', []),
        ("*", []),
        ("NEAR(", []),
        ("(((", []),
        ("%", []),
        ("_", []),
        ("\\", []),
        ("—", []),
        ("'; DROP TABLE", []),
        # ...and words that are operators in FTS5 are words: "OR NOT" is in en.txt.
        ("OR", ["en.txt"]),
        ("AND NOT", ["en.txt"]),
        ("a:b", ["en.txt"]),
        ("C++", ["en.txt"]),
        ("(a*b)", ["en.txt"]),
        ("100%", ["en.txt"]),
    ],
)
def test_any_query_text_is_searched_literally(filled, query, found):
    coll = filled.collection("t")
    chunks = filled.registry.counts(coll)["chunks"]
    hits = filled.registry.keyword_search(coll, query, 5)
    paths = filled.registry.chunks_by_id(coll, [cid for cid, _ in hits])
    assert sorted(Path(c.path).name for c in paths.values()) == found
    filled.search(query, "t", 5)  # the hybrid search takes it too
    assert filled.registry.counts(coll)["chunks"] == chunks  # nothing was run as SQL


def test_a_traditional_question_finds_a_simplified_or_traditional_passage(filled):
    hits = filled.search("事实性幻觉是什么", "t", 1)
    assert hits and "事實性幻覺" in hits[0].chunk.text
    assert hits[0].keyword is not None


def test_two_character_chinese_words_are_found(filled):
    assert "Hinton" in filled.search("蒸馏", "t", 1)[0].chunk.text


def test_short_terms_fall_back_to_like_and_wildcards_stay_literal(filled):
    coll = filled.collection("t")
    assert filled.registry.keyword_search(coll, "of", 5)  # two letters: LIKE
    assert filled.registry.keyword_search(coll, "zq", 5) == []
    assert filled.registry.keyword_search(coll, "%", 5) == []  # not "match everything"
    assert keyword.like_pattern("5%_a\\") == "%5\\%\\_a\\\\%"
