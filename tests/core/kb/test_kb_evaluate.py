"""Per-bucket and per-split scoring of `glassbox eval retrieval`, on fake search results."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from desktop_app.core.errors import InvalidRequestError
from desktop_app.core.kb.db import StoredChunk
from desktop_app.core.kb.evaluate import EvalQuestion, evaluate, load_questions, select_split
from desktop_app.core.kb.retrieve import Hit


def _hit(rank: int, path: str, text: str, vector: float | None = 0.5) -> Hit:
    chunk = StoredChunk(f"c{rank}", 1, path, "html", 0, text, None, None, 0, len(text))
    return Hit(rank, chunk, vector, None, 1.0 / (60 + rank), rank, None)


# question → the passages a fake search returns, best first
_RESULTS: dict[str, list[Hit]] = {
    "zh first": [_hit(1, "/d/a.html", "用 usrquota 选项")],
    "zh third": [
        _hit(1, "/d/b.html", "无关"),
        _hit(2, "/d/a.html", "别的"),
        _hit(3, "/d/a.html", "USRQUOTA"),
    ],
    "zh missed": [_hit(1, "/d/a.html", "nothing")],
    "en second": [_hit(1, "/d/x.html", "apt"), _hit(2, "/d/x.html", "run apt-get update")],
    "none a": [_hit(1, "/d/x.html", "apt", vector=0.25), _hit(2, "/d/x.html", "y", vector=0.75)],
    "none b": [_hit(1, "/d/x.html", "usrquota", vector=0.25)],
}


def _search(question: str, k: int) -> Sequence[Hit]:
    return _RESULTS[question][:k]


def _q(
    text: str, bucket: str, split: str, source: str = "a.html", must: str = "usrquota"
) -> EvalQuestion:
    if bucket == "none":
        return EvalQuestion(text, (), (), id=text, bucket=bucket, split=split)
    return EvalQuestion(text, (source,), (must,), id=text, bucket=bucket, split=split)


QUESTIONS = [
    _q("zh first", "zh", "dev"),
    _q("zh third", "zh", "held"),
    _q("zh missed", "zh", "dev"),
    _q("en second", "en", "held", "x.html", "apt-get"),
    _q("none a", "none", "dev"),
    _q("none b", "none", "held"),
]


def test_buckets_count_hits_and_reciprocal_ranks_of_their_own_questions() -> None:
    result = evaluate(QUESTIONS, _search, 5)
    buckets = result.buckets
    assert buckets["zh"].questions == 3
    assert buckets["zh"].hit_at_k == pytest.approx(2 / 3)
    assert buckets["zh"].mrr == pytest.approx((1 + 1 / 3) / 3)
    assert buckets["en"].hit_at_k == 1.0
    assert buckets["en"].mrr == pytest.approx(0.5)


def test_unanswerable_questions_are_left_out_of_hit_at_k_and_report_their_best_score() -> None:
    result = evaluate(QUESTIONS, _search, 5)
    # 3 hits of 4 answerable questions; "none b"'s passage holding usrquota is no hit.
    assert result.hit_at_k == pytest.approx(3 / 4)
    assert result.mrr == pytest.approx((1 + 1 / 3 + 1 / 2) / 4)
    none = result.buckets["none"]
    assert (none.questions, none.unanswered) == (0, 2)
    assert none.unanswered_top_vector_max == 0.75
    assert none.unanswered_top_vector_median == pytest.approx(0.5)
    payload = result.as_dict()
    assert payload["questions"] == 4
    assert payload["unanswered"] == {
        "questions": 2,
        "top_vector_median": 0.5,
        "top_vector_max": 0.75,
        "answered_top_vector_median": 0.5,
    }


def test_per_split_figures_when_both_splits_are_present() -> None:
    result = evaluate(QUESTIONS, _search, 5)
    splits = result.as_dict()["splits"]
    assert isinstance(splits, dict)
    assert splits["dev"]["questions"] == 2
    assert splits["dev"]["hit_at_k"] == 0.5
    assert splits["held"]["hit_at_k"] == 1.0
    assert splits["held"]["mrr"] == pytest.approx(round((1 / 3 + 1 / 2) / 2, 4))
    assert splits["held"]["buckets"]["en"]["mrr"] == 0.5
    assert "held: 2 questions: hit@5 1.000" in result.text()
    assert "missed: [zh missed] zh missed" in result.text()
    none_line = next(x for x in result.text().splitlines() if x.startswith("  none:"))
    assert none_line == (
        "  none: 2 without an answer in the documents, not counted in hit@k: "
        "best passage's vector similarity median 0.500, max 0.750"
    )


def test_split_filter_keeps_only_that_split() -> None:
    held = select_split(QUESTIONS, "held")
    assert [q.question for q in held] == ["zh third", "en second", "none b"]
    assert select_split(QUESTIONS, "all") == QUESTIONS
    result = evaluate(held, _search, 5)
    assert result.hit_at_k == 1.0
    assert "splits" not in result.as_dict()


def test_split_filter_on_a_file_without_splits_says_what_to_do() -> None:
    plain = [EvalQuestion("zh first", ("a.html",), ("usrquota",))]
    with pytest.raises(InvalidRequestError, match="--split all"):
        select_split(plain, "dev")


def test_old_files_without_the_new_fields_still_load_and_score(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text(
        json.dumps({"question": "zh first", "sources": ["a.html"], "must_contain": ["usrquota"]})
        + "\n",
        encoding="utf-8",
    )
    questions = load_questions(path)
    result = evaluate(questions, _search, 5)
    assert result.hit_at_k == 1.0
    assert result.text().splitlines() == ["1 questions: hit@5 1.000, MRR 1.000"]
    buckets = result.as_dict()["buckets"]
    assert isinstance(buckets, dict) and set(buckets) == {"unlabelled"}


def test_a_bad_split_value_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    line = {"question": "q", "sources": [], "must_contain": [], "split": "test"}
    path.write_text(json.dumps(line) + "\n", encoding="utf-8")
    with pytest.raises(InvalidRequestError, match="line 1"):
        load_questions(path)


def test_the_debian_question_file_is_well_formed() -> None:
    path = Path(__file__).parents[3] / "eval" / "debian" / "questions.jsonl"
    questions = load_questions(path)
    buckets = [q.bucket for q in questions]
    assert buckets.count("zh") >= 35 and buckets.count("en") >= 28
    assert buckets.count("cross") >= 12 and buckets.count("none") >= 12
    assert len({q.id for q in questions}) == len(questions)
    for q in questions:
        assert q.split in ("dev", "held")
        assert bool(q.sources) == bool(q.must_contain) == q.answerable, q.id
