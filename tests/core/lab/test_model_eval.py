"""Evaluating a model: choice scoring from logits, final numbers, the report and its exports."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import pytest
from gguf_factory import write_tiny_llama

from desktop_app.core.engine.fake import FakeEngine
from desktop_app.core.engine.llama_backend import LlamaCppEngine
from desktop_app.core.engine.protocol import EngineConfig, TokenEvent
from desktop_app.core.errors import InvalidRequestError
from desktop_app.core.lab.model_eval import (
    EvalReport,
    ItemResult,
    choice_request,
    evaluate,
    export_csv,
    export_markdown,
    export_to,
    final_number,
    load_reports,
    results_dir,
    save_reports,
    span_probability,
)
from desktop_app.core.lab.questions import Item, QuestionSet
from desktop_app.core.sampling import Candidate
from desktop_app.core.tasks.classify import label_probabilities

CHOICES = QuestionSet(
    "t",
    "choice",
    (
        Item("First?", 2, ("one", "two", "three", "four"), "alpha", 1),
        Item("Second?", 0, ("yes", "no"), "beta", 2),
        Item("Third?", 1, ("red", "green", "blue"), "alpha", 3),
    ),
)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("4 × 6 = 24, plus 3 is 27.\nAnswer: 27", 27.0),
        ("So 12 + 5 = 17.\n#### 17", 17.0),
        ("先算 3 × 4 = 12。\n答案：1,250元", 1250.0),
        ("The answer is $-3.5.", -3.5),
        ("Answer: 8. Check: 8 + 2 = 10", 8.0),
        ("we get 5 then 9", 9.0),
        ("no number at all", None),
        ("Answer: " + "9" * 400, float("inf")),
    ],
)
def test_final_number(text: str, value: float | None) -> None:
    found = final_number(text)
    assert (found[0] if found else None) == value
    if found and value is not None and math.isfinite(value):
        assert text[found[1] : found[2]].replace(",", "") in (f"{value:g}", str(value))


def _tok(i: int, text: str, p_raw: float) -> TokenEvent:
    # Greedy decoding reports p 1 for the drawn token; the raw probability is what counts.
    return TokenEvent(i, i, text, 1.0, (Candidate(i, text, 0.0, p_raw, 1.0, None),))


def test_span_probability_multiplies_the_tokens_that_wrote_the_number() -> None:
    tokens = [_tok(0, "Answer", 0.9), _tok(1, ": ", 0.8), _tok(2, "1", 0.5), _tok(3, "2", 0.4)]
    text = "".join(t.text for t in tokens)
    value, start, end = final_number(text) or (0, 0, 0)
    assert value == 12
    assert span_probability(tokens, start, end) == pytest.approx(0.2)


def test_numeric_items_generate_and_read_the_final_number() -> None:
    engine = FakeEngine("2 + 3 = 5.\nAnswer: 5")
    engine.load(EngineConfig("fake.gguf"))
    qs = QuestionSet("m", "numeric", (Item("Two plus three?", 5.0), Item("Seven?", 7.0)))
    seen: list[int] = []
    report = evaluate(engine, qs, model="fake.gguf", on_item=lambda r, n: seen.append(r.index))
    assert seen == [0, 1]
    assert [r.predicted for r in report.items] == ["5", "5"]
    assert [r.correct for r in report.items] == [True, False]
    assert report.accuracy == 0.5
    assert 0.0 < report.items[0].confidence <= 1.0
    # Greedy, step by step, the same instructions and worked example for every item.
    first, second = engine.requests
    assert first.params.temperature == 0.0
    assert first.messages is not None and second.messages is not None
    assert first.messages[:-1] == second.messages[:-1]
    assert "step by step" in first.messages[0].content
    assert report.items[0].tokens


@pytest.fixture(scope="module")
def tiny_engine(tmp_path_factory: pytest.TempPathFactory) -> LlamaCppEngine:
    path = write_tiny_llama(tmp_path_factory.mktemp("tiny") / "tiny.gguf", n_ctx=512)
    engine = LlamaCppEngine()
    engine.load(EngineConfig(str(path), n_ctx=512, n_threads=1, n_threads_batch=1))
    return engine


def test_choices_are_scored_from_logits_like_classify(tiny_engine: LlamaCppEngine) -> None:
    report = evaluate(tiny_engine, CHOICES, model="tiny.gguf")
    assert report.n == report.total == 3
    for item, r in zip(CHOICES.items, report.items, strict=True):
        letters = "ABCD"[: len(item.choices)]
        assert list(r.probabilities) == list(letters)
        assert sum(r.probabilities.values()) == pytest.approx(1.0)
        # The same numbers as Classify's scorer gives on the same request.
        direct = label_probabilities(tiny_engine.score(choice_request(item, "en")), letters)
        for k in letters:
            assert r.probabilities[k] == pytest.approx(direct[k], rel=1e-4)
        assert r.predicted == max(letters, key=lambda k: r.probabilities[k])
        assert r.confidence == r.probabilities[r.predicted]
        assert r.correct == (r.predicted == item.gold)
    # The instructions and examples are evaluated once and then found in the cache.
    assert report.items[1].prompt_tokens_reused > 0
    assert report.reused_share > 0.5


def test_whole_text_scoring_scores_the_choices(tiny_engine: LlamaCppEngine) -> None:
    report = evaluate(tiny_engine, CHOICES, model="tiny.gguf", scoring="text", limit=1)
    assert report.n == 1 and report.total == 1
    assert report.scoring == "text"
    assert sum(report.items[0].probabilities.values()) == pytest.approx(1.0)


def test_a_stopped_run_keeps_what_finished(tiny_engine: LlamaCppEngine) -> None:
    calls = iter([False, True])
    report = evaluate(tiny_engine, CHOICES, model="tiny.gguf", should_stop=lambda: next(calls))
    assert report.n == 1 and report.total == 3 and not report.complete


def test_bad_arguments() -> None:
    engine = FakeEngine()
    engine.load(EngineConfig("fake.gguf"))
    with pytest.raises(InvalidRequestError, match="limit"):
        evaluate(engine, CHOICES, model="m", limit=0)
    with pytest.raises(InvalidRequestError, match="Scoring"):
        evaluate(engine, CHOICES, model="m", scoring="logit")  # type: ignore[arg-type]


def _result(i: int, subject: str, correct: bool, confidence: float) -> ItemResult:
    return ItemResult(
        index=i,
        question=f"Question {i} | with a pipe",
        subject=subject,
        gold="A",
        predicted="A" if correct else "B",
        correct=correct,
        confidence=confidence,
        choices=("x", "y"),
        probabilities={"A": confidence, "B": 1 - confidence},
        line=i + 1,
    )


def _report(model: str = "/m/qwen.gguf") -> EvalReport:
    items = (
        _result(0, "geo", True, 0.9),
        _result(1, "geo", False, 0.8),
        _result(2, "sci", False, 0.6),
        _result(3, "sci", True, 0.7),
        _result(4, "", False, 0.95),
    )
    return EvalReport(model, None, "mc-en", "choice", "letter", items, 5, 2.0, "2026-01-01")


def test_report_figures() -> None:
    rep = _report()
    assert rep.accuracy == pytest.approx(0.4)
    assert rep.items_per_s == pytest.approx(2.5)
    subjects = rep.per_subject()
    assert {k: (v.n, v.correct) for k, v in subjects.items()} == {
        "geo": (2, 1),
        "sci": (2, 1),
        "—": (1, 0),
    }
    assert [r.index for r in rep.confidently_wrong()] == [4, 1, 2]
    summary = rep.summary()
    assert summary["ci95"][0] < 0.4 < summary["ci95"][1]
    assert summary["ece"] == pytest.approx(rep.ece)
    assert summary["confidently_wrong"] == [4, 1, 2]


def test_exports_and_saving(tmp_path: Path) -> None:
    reports = [_report(), _report("/m/gemma.gguf")]
    md = export_markdown(reports)
    assert "| accuracy | 40.0% | 40.0% |" in md
    assert "qwen.gguf" in md and "gemma.gguf" in md
    assert "Question 4 \\| with a pipe" in md
    rows = list(csv.DictReader(io.StringIO(export_csv(reports))))
    assert len(rows) == 10
    assert rows[1]["correct"] == "0" and rows[1]["confidence"] == "0.800000"
    saved = save_reports(reports)
    assert saved.parent == results_dir()
    assert saved.exists() and saved.parent.name == "evaluations"
    data = json.loads(saved.read_text("utf-8"))
    assert [r["model"] for r in data["reports"]] == ["/m/qwen.gguf", "/m/gemma.gguf"]
    assert len(data["reports"][0]["items"]) == 5
    assert save_reports(reports) != saved
    again = load_reports(saved)
    assert [r.summary() for r in again] == [r.summary() for r in reports]
    with pytest.raises(InvalidRequestError, match="not a saved evaluation"):
        load_reports(tmp_path / "out.xlsx")
    for suffix in (".json", ".csv", ".md"):
        assert export_to(reports, tmp_path / f"out{suffix}").stat().st_size > 0
    with pytest.raises(InvalidRequestError, match="Export to"):
        export_to(reports, tmp_path / "out.xlsx")


class _CancellingEngine(FakeEngine):
    """Cancels its own generation after the first item, as the Cancel button would."""

    stop = False

    def generate(self, request):  # type: ignore[no-untyped-def]
        second = bool(self.requests)
        for event in super().generate(request):
            yield event
            if second and not self.stop:
                self.stop = True
                self.cancel()


def test_an_item_cancelled_in_the_engine_is_left_out() -> None:
    engine = _CancellingEngine("So: 2 + 3 = 5. Answer: 5")
    engine.load(EngineConfig("fake.gguf"))
    qs = QuestionSet("m", "numeric", (Item("a", 5.0), Item("b", 5.0), Item("c", 5.0)))
    report = evaluate(engine, qs, model="fake", should_stop=lambda: engine.stop)
    assert report.n == 1 and report.total == 3
    assert report.items[0].correct
