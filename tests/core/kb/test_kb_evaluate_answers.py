"""Scoring of `glassbox eval answers`, on given answers (no model)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from desktop_app.core.engine.fake import FakeEngine
from desktop_app.core.engine.protocol import EngineConfig
from desktop_app.core.errors import InvalidRequestError
from desktop_app.core.kb.answer import Answer, Citation, answer
from desktop_app.core.kb.db import StoredChunk
from desktop_app.core.kb.evaluate import EvalQuestion
from desktop_app.core.kb.evaluate_answers import (
    AnswerOutcome,
    AnswerQuestion,
    grounded_citation,
    holds_fact,
    language_matches,
    load_answer_questions,
    names_fact,
    pick,
    run_answers,
    summarize_answers,
)
from desktop_app.core.kb.retrieve import Hit


def _item(
    bucket: str,
    lang: str,
    must: tuple[str, ...] = ("usrquota",),
    fact: tuple[str, ...] = ("usrquota",),
    qid: str = "q",
    split: str = "dev",
) -> AnswerQuestion:
    text = "怎样限制配额？" if lang == "zh" else "How do I limit disk use?"
    if bucket == "none":
        must, fact = (), ()
    sources = () if bucket == "none" else ("a.html",)
    q = EvalQuestion(text, sources, must, id=qid, lang=lang, bucket=bucket, split=split)
    return AnswerQuestion(q, fact)


def _out(
    item: AnswerQuestion, text: str, passages: Sequence[str], found: bool = True
) -> AnswerOutcome:
    return AnswerOutcome(item, text, found, tuple(passages), 2.0, 1.0)


ZH = _item("zh", "zh")
PASSAGES = ("apt 的用法", "在 /etc/fstab 中加上 USRQUOTA 选项")


def test_a_citation_is_grounded_only_when_the_cited_passage_holds_the_fact() -> None:
    assert grounded_citation(_out(ZH, "加上 usrquota 选项 [2]。", PASSAGES))
    assert not grounded_citation(_out(ZH, "加上 usrquota 选项 [1]。", PASSAGES))  # wrong one
    assert not grounded_citation(_out(ZH, "加上 usrquota 选项。", PASSAGES))  # no citation
    assert not grounded_citation(_out(ZH, "见 [3]。", PASSAGES))  # no such passage
    assert not grounded_citation(_out(ZH, "文档中没有找到答案。 [2]", PASSAGES, found=False))
    assert grounded_citation(_out(ZH, "见 [1, 2]。", PASSAGES))


def test_the_fact_is_compared_after_the_keyword_indexs_normalisation() -> None:
    assert holds_fact("ＵＳＲＱＵＯＴＡ", ZH)  # full width, upper case
    trad = _item("zh", "zh", must=("配额",), fact=("配额",))
    assert holds_fact("磁碟配額", trad)  # traditional characters
    assert names_fact(_out(trad, "設定配額 [1]", PASSAGES))


def test_an_answer_names_the_fact_only_with_every_term() -> None:
    two = _item("zh", "zh", must=("QUOTAUSER",), fact=("QUOTAUSER", "/etc/adduser.conf"))
    assert names_fact(_out(two, "在 /etc/adduser.conf 里设 QUOTAUSER [1]", PASSAGES))
    assert not names_fact(_out(two, "设 QUOTAUSER [1]", PASSAGES))


def test_language_match_is_by_script_share() -> None:
    assert language_matches(_out(ZH, "在 /etc/fstab 中加上 usrquota 选项 [2]。", PASSAGES))
    assert not language_matches(_out(ZH, "Add usrquota to /etc/fstab [2].", PASSAGES))
    en = _item("en", "en")
    assert language_matches(_out(en, "Add usrquota to /etc/fstab [2].", PASSAGES))
    assert not language_matches(_out(en, "加上 usrquota 选项。", PASSAGES))


def test_refusal_precision_and_recall_and_per_group_rates() -> None:
    none = _item("none", "en")
    en = _item("en", "en")
    outcomes = [
        _out(ZH, "加上 usrquota 选项 [2]。", PASSAGES),  # grounded, named
        _out(ZH, "文档中没有找到答案。", PASSAGES, found=False),  # wrong refusal
        _out(en, "Use usrquota.", PASSAGES),  # named, not cited
        _out(none, "I could not find the answer in the documents.", PASSAGES, found=False),
        _out(none, "Kubernetes is installed with kubeadm.", PASSAGES),  # not refused
    ]
    s = summarize_answers(outcomes)
    assert (s.questions, s.answerable, s.grounded, s.named) == (5, 3, 1, 2)
    assert s.grounded_rate == pytest.approx(1 / 3) and s.named_rate == pytest.approx(2 / 3)
    assert s.refused == 2 and s.refused_answerable == 1
    assert s.refusal_precision == pytest.approx(0.5) and s.refusal_recall == pytest.approx(0.5)
    assert s.language_matched == 5
    assert s.seconds_median == 2.0 and s.first_token_median == 1.0
    assert summarize_answers(outcomes[:1]).refusal_precision is None  # nothing refused


def test_pick_takes_questions_in_turn_from_each_bucket() -> None:
    items = [
        *(_item("zh", "zh", qid=f"zh{i}") for i in range(3)),
        *(_item("en", "en", qid=f"en{i}") for i in range(2)),
        _item("none", "en", qid="none0"),
        _item("cross", "en", qid="cross0"),
    ]
    assert [i.question.id for i in pick(items, 5)] == ["zh0", "en0", "cross0", "none0", "zh1"]
    assert len(pick(items, None)) == len(items) == len(pick(items, 100))


def test_the_question_file_needs_facts_for_answerable_questions(tmp_path: Path) -> None:
    base = {"question": "q", "sources": ["a.html"], "must_contain": ["x"], "bucket": "en"}
    path = tmp_path / "q.jsonl"
    path.write_text(
        json.dumps({**base, "fact": ["x", "y"]})
        + "\n\n"
        + json.dumps({"question": "n", "sources": [], "must_contain": [], "bucket": "none"})
        + "\n",
        "utf-8",
    )
    loaded = load_answer_questions(path)
    assert [i.fact for i in loaded] == [("x", "y"), ()]
    path.write_text(json.dumps(base) + "\n", "utf-8")
    with pytest.raises(InvalidRequestError, match="line 1"):
        load_answer_questions(path)


def _hit(n: int, text: str) -> Hit:
    chunk = StoredChunk(f"c{n}", 1, f"/d/{n}.html", "html", 0, text, None, None, 0, len(text))
    return Hit(n, chunk, 0.5, None, 0.1, n, None)


def test_run_answers_times_the_first_token_and_keeps_the_passages_in_order() -> None:
    ticks = iter([0.0, 3.0, 10.0])
    hits = [_hit(1, "nothing"), _hit(2, "usrquota here")]

    def ask(question: str, given: Sequence[Hit], on_token: Callable[[str], None]) -> Answer:
        on_token("usrquota")
        on_token(" [2]")
        cites = tuple(
            Citation(n, h.chunk.path, h.chunk.chunk_id, h.chunk.text, n == 2)
            for n, h in reversed(list(enumerate(given, start=1)))
        )
        return Answer("usrquota [2]", cites, True)

    report = run_answers([ZH], lambda q: hits, ask, style="plain", clock=lambda: next(ticks))
    (o,) = report.outcomes
    assert o.passages == ("nothing", "usrquota here")
    assert o.first_token_s == 3.0 and o.seconds == 10.0
    assert report.overall.grounded == 1
    assert report.as_dict()["per_question"][0]["fact_in_passages"] == [2]  # type: ignore[index]


def test_run_answers_uses_the_answering_path_and_its_refusal() -> None:
    engine = FakeEngine("I could not find the answer in the documents.")  # model's English
    engine.load(EngineConfig(model_path="fake"))

    def ask(question: str, given: Sequence[Hit], on_token: Callable[[str], None]) -> Answer:
        return answer(engine, question, given, chat_template=False, on_token=on_token)

    report = run_answers([ZH], lambda q: [_hit(1, "x")], ask)
    (o,) = report.outcomes
    assert not o.found and o.text == "文档中没有找到答案。"
    assert report.overall.language_matched == 1
