"""Evaluate a model on a question set: accuracy with its interval, calibration, speed.

Multiple choice is scored from the logits, with no generation, by the scorer
Classify uses: each choice letter (or each choice's whole text) is scored as a
continuation of the prompt (``ScoreRequest``) and the probabilities are the
softmax over them (``label_probabilities``). The instructions and few-shot
examples come first and are the same bytes for every question, so the engine
keeps them in its KV cache and evaluates only each new question.

A word problem is answered by generating greedily with step-by-step prompting;
the final number is read from the reply ("Answer: 42", "#### 42", "答案：42", or
the last number), and the item's confidence is the probability of the tokens
that wrote that number.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, cast

from desktop_app.core.engine.protocol import (
    Engine,
    GenerateRequest,
    Message,
    Scorer,
    ScoreRequest,
    TokenEvent,
)
from desktop_app.core.errors import CancelledError, InvalidRequestError
from desktop_app.core.lab.questions import LETTERS, Item, QuestionSet, format_number
from desktop_app.core.lab.stats import calibration, wilson_interval
from desktop_app.core.paths import data_dir
from desktop_app.core.sampling import SamplingParams
from desktop_app.core.tasks.classify import label_probabilities
from desktop_app.core.tasks.generation import generate

Scoring = Literal["letter", "text"]

#: Tokens a step-by-step answer may take.
MAX_ANSWER_TOKENS = 320
#: How many confidently wrong items a report lists.
WORST_ITEMS = 10

_SYSTEM = {
    "choice": {
        "en": "You answer multiple-choice questions. Reply with the letter of the correct "
        "choice only.",
        "zh": "你回答单项选择题。只回复正确选项的字母。",
    },
    "numeric": {
        "en": "You solve arithmetic word problems. Think step by step, briefly, then write "
        "the final line as 'Answer: <number>'.",
        "zh": "你解答数学应用题。请简要地一步一步思考，最后一行写成“答案：<数字>”。",
    },
}
_TEXT_SYSTEM = {
    "en": "You answer multiple-choice questions. Reply with the text of the correct choice.",
    "zh": "你回答单项选择题。只回复正确选项的内容。",
}
_ANSWER_WORD = {"en": "Answer:", "zh": "答案："}

# Few-shot examples written for Glassbox: the same for every question of a set,
# so they stay in the cache with the instructions.
_SHOTS: dict[str, dict[str, tuple[Item, ...]]] = {
    "choice": {
        "en": (
            Item(
                "Which of these is a primary colour of light?",
                2,
                ("Orange", "Purple", "Green", "Brown"),
            ),
            Item("How many legs does a spider have?", 1, ("Six", "Eight", "Ten", "Twelve")),
        ),
        "zh": (
            Item("下列哪一种是哺乳动物？", 3, ("鲨鱼", "青蛙", "鹦鹉", "海豚")),
            Item("一年有几个季节？", 0, ("四个", "三个", "五个", "六个")),
        ),
    },
    "numeric": {
        "en": (
            Item(
                "A box holds 6 eggs. How many eggs are in 4 boxes and 3 loose eggs?",
                27,
            ),
        ),
        "zh": (Item("一盒有6个鸡蛋。4盒再加3个散装鸡蛋，一共有多少个鸡蛋？", 27),),
    },
}
_SHOT_REASONING = {
    "en": "4 boxes hold 4 × 6 = 24 eggs. With 3 more: 24 + 3 = 27.\nAnswer: 27",
    "zh": "4盒有 4 × 6 = 24 个鸡蛋，再加3个：24 + 3 = 27。\n答案：27",
}

_FINAL = re.compile(
    r"(?:answer|答案|####)\s*(?:is|是|为|=)?\s*[:：]?\s*\**\s*[$¥€£]?\s*"
    r"(-?\d[\d,]*(?:\.\d+)?)",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")


@dataclass(frozen=True, slots=True)
class ItemResult:
    """How the model did on one item.

    ``probabilities`` maps each choice letter to its probability (multiple
    choice); ``reply`` and ``tokens`` are the generated answer (word problems).
    ``confidence`` is the probability of the answer given.
    """

    index: int
    question: str
    subject: str
    gold: str
    predicted: str
    correct: bool
    confidence: float
    choices: tuple[str, ...] = ()
    probabilities: dict[str, float] = field(default_factory=dict)
    reply: str = ""
    tokens: tuple[TokenEvent, ...] = ()
    line: int = 0
    seconds: float = 0.0
    prompt_tokens: int = 0
    prompt_tokens_reused: int = 0

    def as_dict(self) -> dict[str, Any]:
        """The JSON form (without the token events)."""
        out: dict[str, Any] = {
            "index": self.index,
            "line": self.line,
            "question": self.question,
            "subject": self.subject,
            "gold": self.gold,
            "predicted": self.predicted,
            "correct": self.correct,
            "confidence": self.confidence,
        }
        if self.choices:
            out["choices"] = list(self.choices)
            out["probabilities"] = self.probabilities
        else:
            out["reply"] = self.reply
        return out


@dataclass(frozen=True, slots=True)
class SubjectScore:
    """Accuracy on the items of one subject."""

    n: int
    correct: int

    @property
    def accuracy(self) -> float:
        """Share answered right."""
        return self.correct / self.n if self.n else 0.0


@dataclass(frozen=True, slots=True)
class EvalReport:
    """Everything ``glassbox eval model`` and Model → Evaluate… show for one model."""

    model: str
    lora: str | None
    data: str
    kind: str
    scoring: str
    items: tuple[ItemResult, ...]
    total: int
    seconds: float
    created: str = ""

    @property
    def n(self) -> int:
        """Items answered (fewer than ``total`` after a cancel)."""
        return len(self.items)

    @property
    def complete(self) -> bool:
        """Whether every item of the set was answered."""
        return self.n == self.total

    @property
    def correct(self) -> int:
        """Items answered right."""
        return sum(r.correct for r in self.items)

    @property
    def accuracy(self) -> float:
        """Share answered right."""
        return self.correct / self.n if self.n else 0.0

    @property
    def interval(self) -> tuple[float, float]:
        """95% Wilson interval of the accuracy."""
        return wilson_interval(self.correct, self.n)

    @property
    def bins(self) -> tuple[tuple[float, float, int], ...]:
        """Calibration bins (mean confidence, accuracy, count)."""
        return calibration([r.confidence for r in self.items], [r.correct for r in self.items])[0]

    @property
    def ece(self) -> float:
        """Expected calibration error over ten bins."""
        return calibration([r.confidence for r in self.items], [r.correct for r in self.items])[1]

    @property
    def items_per_s(self) -> float:
        """Items evaluated per second (the model load not counted)."""
        return self.n / self.seconds if self.seconds > 0 else 0.0

    @property
    def reused_share(self) -> float:
        """Share of prompt tokens the engine found in its cache instead of evaluating."""
        total = sum(r.prompt_tokens for r in self.items)
        return sum(r.prompt_tokens_reused for r in self.items) / total if total else 0.0

    def per_subject(self) -> dict[str, SubjectScore]:
        """Accuracy per subject, subjects in the order they first appear."""
        out: dict[str, SubjectScore] = {}
        for r in self.items:
            key = r.subject or "—"
            old = out.get(key, SubjectScore(0, 0))
            out[key] = SubjectScore(old.n + 1, old.correct + int(r.correct))
        return out

    def confidently_wrong(self, k: int = WORST_ITEMS) -> list[ItemResult]:
        """The wrong answers the model was surest of, surest first."""
        wrong = [r for r in self.items if not r.correct]
        return sorted(wrong, key=lambda r: -r.confidence)[:k]

    @property
    def title(self) -> str:
        """The model's file name, with the adapter's when one was applied."""
        name = Path(self.model).name
        return f"{name} + {Path(self.lora).name}" if self.lora else name

    def summary(self) -> dict[str, Any]:
        """The headline figures (what ``--json`` prints per model, without the items)."""
        low, high = self.interval
        return {
            "model": self.model,
            "lora": self.lora,
            "data": self.data,
            "kind": self.kind,
            "scoring": self.scoring,
            "n": self.n,
            "total": self.total,
            "correct": self.correct,
            "accuracy": self.accuracy,
            "ci95": [low, high],
            "ece": self.ece,
            "calibration_bins": [list(b) for b in self.bins],
            "per_subject": {
                s: {"n": v.n, "correct": v.correct, "accuracy": v.accuracy}
                for s, v in self.per_subject().items()
            },
            "items_per_s": self.items_per_s,
            "seconds": self.seconds,
            "prompt_reused_share": self.reused_share,
            "confidently_wrong": [r.index for r in self.confidently_wrong()],
        }

    def as_dict(self) -> dict[str, Any]:
        """The whole report as saved: the figures and every item."""
        return self.summary() | {
            "created": self.created,
            "items": [r.as_dict() for r in self.items],
        }


# --------------------------------------------------------------------- prompts


def _choice_block(item: Item, lang: str) -> str:
    lines = [item.question, *(f"{LETTERS[i]}. {c}" for i, c in enumerate(item.choices))]
    return "\n".join(lines) + "\n" + _ANSWER_WORD[lang]


def choice_request(item: Item, lang: str, scoring: Scoring = "letter") -> ScoreRequest:
    """The score request of one multiple-choice item: instructions and examples, then it."""
    system = _SYSTEM["choice"][lang] if scoring == "letter" else _TEXT_SYSTEM[lang]
    messages = [Message("system", system)]
    for shot in _SHOTS["choice"][lang]:
        messages.append(Message("user", _choice_block(shot, lang)))
        answer = int(shot.answer)
        messages.append(
            Message("assistant", LETTERS[answer] if scoring == "letter" else shot.choices[answer])
        )
    messages.append(Message("user", _choice_block(item, lang)))
    continuations = (
        tuple(LETTERS[: len(item.choices)]) if scoring == "letter" else tuple(item.choices)
    )
    return ScoreRequest(continuations=continuations, messages=tuple(messages))


def numeric_request(item: Item, lang: str, max_tokens: int = MAX_ANSWER_TOKENS) -> GenerateRequest:
    """The generation of one word problem: greedy, step by step, one worked example first."""
    messages = [Message("system", _SYSTEM["numeric"][lang])]
    for shot in _SHOTS["numeric"][lang]:
        messages.append(Message("user", shot.question))
        messages.append(Message("assistant", _SHOT_REASONING[lang]))
    messages.append(Message("user", item.question))
    params = SamplingParams(temperature=0.0, max_tokens=max_tokens, seed=0)
    return GenerateRequest(params=params, messages=tuple(messages), candidates=5)


def final_number(text: str) -> tuple[float, int, int] | None:
    """The answer a reply gives: its value and where it is written (start, end).

    The last "Answer: N" (or "#### N", "答案：N") wins; without one, the last number.
    """
    marked = list(_FINAL.finditer(text))
    if marked:
        m = marked[-1]
        start, end = m.span(1)
    else:
        numbers = list(_NUMBER.finditer(text))
        if not numbers:
            return None
        start, end = numbers[-1].span()
    raw = text[start:end].rstrip(",")
    try:
        return float(raw.replace(",", "")), start, start + len(raw)
    except ValueError:
        return None


def span_probability(tokens: Sequence[TokenEvent], start: int, end: int) -> float:
    """The probability of the tokens that wrote characters ``start``–``end`` of their text."""
    p = 1.0
    pos = 0
    for t in tokens:
        t_end = pos + len(t.text)
        if t_end > start and pos < end:
            # The model's own probability (raw logits): greedy decoding makes the
            # sampled distribution's p 1 for every token.
            p *= next((c.p_raw for c in t.candidates if c.id == t.id), t.p)
        pos = t_end
        if pos >= end:
            break
    return p


# --------------------------------------------------------------------- running


def score_choice(
    scorer: Scorer, item: Item, index: int, lang: str, scoring: Scoring = "letter"
) -> ItemResult:
    """Score one multiple-choice item from the logits (nothing is generated)."""
    letters = LETTERS[: len(item.choices)]
    request = choice_request(item, lang, scoring)
    result = scorer.score(request)
    # Whole texts differ in length: compare them per token, as Classify's "mean".
    probs = label_probabilities(result, letters, "sum" if scoring == "letter" else "mean")
    best = max(letters, key=lambda k: probs[k])
    return ItemResult(
        index=index,
        question=item.question,
        subject=item.subject,
        gold=item.gold,
        predicted=best,
        correct=best == item.gold,
        confidence=probs[best],
        choices=item.choices,
        probabilities=probs,
        line=item.line,
        seconds=result.seconds,
        prompt_tokens=result.prompt_tokens,
        prompt_tokens_reused=result.prompt_tokens_reused,
    )


def answer_numeric(
    engine: Engine, item: Item, index: int, lang: str, max_tokens: int = MAX_ANSWER_TOKENS
) -> ItemResult:
    """Generate a step-by-step answer to one word problem and check its final number."""
    start = time.perf_counter()
    gen = generate(engine, numeric_request(item, lang, max_tokens))
    if gen.done.finish_reason == "cancelled":
        # Half an answer is no answer: the item is left out of the report.
        raise CancelledError("The answer was cancelled before it finished.")
    text = "".join(t.text for t in gen.tokens) or gen.text
    found = final_number(text)
    if found is None:
        predicted, correct, confidence = "", False, 0.0
    else:
        value, s, e = found
        predicted = format_number(value)
        correct = math.isclose(value, float(item.answer), rel_tol=1e-6, abs_tol=1e-6)
        confidence = span_probability(gen.tokens, s, e)
    return ItemResult(
        index=index,
        question=item.question,
        subject=item.subject,
        gold=item.gold,
        predicted=predicted,
        correct=correct,
        confidence=confidence,
        reply=text,
        tokens=gen.tokens,
        line=item.line,
        seconds=time.perf_counter() - start,
        prompt_tokens=gen.done.prompt_tokens,
        prompt_tokens_reused=gen.done.prompt_tokens_reused,
    )


def evaluate(
    engine: Engine,
    questions: QuestionSet,
    *,
    model: str,
    lora: str | None = None,
    scoring: Scoring = "letter",
    limit: int | None = None,
    max_tokens: int = MAX_ANSWER_TOKENS,
    on_item: Callable[[ItemResult, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> EvalReport:
    """Answer every item (the first ``limit``) with the loaded model and build the report.

    ``on_item(result, total)`` follows each item; ``should_stop`` is checked before
    each, so a cancelled run reports what it finished (an item whose scoring or
    generation the engine cancelled meanwhile is left out). Multiple choice needs an
    engine that can score (a local engine).
    """
    if scoring not in ("letter", "text"):
        raise InvalidRequestError(f"Scoring must be 'letter' or 'text', not {scoring!r}.")
    if limit is not None and limit < 1:
        raise InvalidRequestError(f"--limit must be 1 or more, not {limit}.")
    items = questions.items[:limit]
    lang = questions.language
    if questions.kind == "choice" and not callable(getattr(engine, "score", None)):
        raise InvalidRequestError(
            "Multiple choice is scored from the logits, which this engine does not give; "
            "use a local model."
        )
    results: list[ItemResult] = []
    start = time.perf_counter()
    for i, item in enumerate(items):
        if should_stop is not None and should_stop():
            break
        try:
            if item.kind == "choice":
                r = score_choice(cast(Scorer, engine), item, i, lang, scoring)
            else:
                r = answer_numeric(engine, item, i, lang, max_tokens)
        except CancelledError:
            # Cancelled in the middle of an item: report the items that finished.
            if should_stop is not None and should_stop():
                break
            raise
        results.append(r)
        if on_item is not None:
            on_item(r, len(items))
    return EvalReport(
        model=model,
        lora=lora,
        data=questions.name,
        kind=questions.kind,
        scoring=scoring if questions.kind == "choice" else "generate",
        items=tuple(results),
        total=len(items),
        seconds=time.perf_counter() - start,
        created=datetime.now(UTC).isoformat(timespec="seconds"),
    )


# --------------------------------------------------------------------- saving


def results_dir() -> Path:
    """Where evaluations are saved: ``evaluations/`` in the data folder."""
    path = data_dir() / "evaluations"
    path.mkdir(parents=True, exist_ok=True)
    return path


def save_reports(reports: Sequence[EvalReport], folder: Path | None = None) -> Path:
    """Save one run (one report per model) as JSON; returns the file."""
    if not reports:
        raise InvalidRequestError("There is no evaluation to save.")
    target = folder or results_dir()
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    stem = re.sub(r"[^\w.-]+", "_", f"{stamp}-{reports[0].data}-{Path(reports[0].model).stem}")
    path = target / f"{stem}.json"
    n = 1
    while path.exists():
        n += 1
        path = target / f"{stem}-{n}.json"
    path.write_text(export_json(reports), encoding="utf-8")
    return path


def load_reports(path: Path) -> list[EvalReport]:
    """Reports saved by ``save_reports`` (or exported as JSON), to show them again."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        out = []
        for rep in data["reports"]:
            items = tuple(
                ItemResult(
                    index=int(it["index"]),
                    question=str(it["question"]),
                    subject=str(it.get("subject", "")),
                    gold=str(it["gold"]),
                    predicted=str(it["predicted"]),
                    correct=bool(it["correct"]),
                    confidence=float(it["confidence"]),
                    choices=tuple(it.get("choices", ())),
                    probabilities={k: float(v) for k, v in it.get("probabilities", {}).items()},
                    reply=str(it.get("reply", "")),
                    line=int(it.get("line", 0)),
                )
                for it in rep["items"]
            )
            out.append(
                EvalReport(
                    model=str(rep["model"]),
                    lora=rep.get("lora"),
                    data=str(rep["data"]),
                    kind=str(rep["kind"]),
                    scoring=str(rep["scoring"]),
                    items=items,
                    total=int(rep["total"]),
                    seconds=float(rep["seconds"]),
                    created=str(rep.get("created", "")),
                )
            )
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise InvalidRequestError(f"{path} is not a saved evaluation ({exc}).") from exc
    return out


def export_json(reports: Sequence[EvalReport]) -> str:
    """Every report with its items, as one JSON document."""
    return json.dumps({"reports": [r.as_dict() for r in reports]}, ensure_ascii=False, indent=1)


def export_csv(reports: Sequence[EvalReport]) -> str:
    """One row per model and item: what it answered, whether right, how sure."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(
        [
            "model",
            "index",
            "line",
            "subject",
            "question",
            "gold",
            "predicted",
            "correct",
            "confidence",
        ]
    )
    for rep in reports:
        for r in rep.items:
            w.writerow(
                [
                    rep.title,
                    r.index,
                    r.line,
                    r.subject,
                    r.question,
                    r.gold,
                    r.predicted,
                    int(r.correct),
                    f"{r.confidence:.6f}",
                ]
            )
    return out.getvalue()


def _cell(text: str, width: int = 70) -> str:
    flat = " ".join(text.split()).replace("|", "\\|")
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def export_markdown(reports: Sequence[EvalReport]) -> str:
    """The report as Markdown: models side by side, subjects, the confidently wrong items."""
    if not reports:
        return ""
    lines = [f"# Evaluation of {reports[0].data} ({reports[0].kind})", ""]
    lines.append("| | " + " | ".join(_cell(r.title, 40) for r in reports) + " |")
    lines.append("|---|" + "---|" * len(reports))

    def row(name: str, values: Sequence[str]) -> None:
        lines.append(f"| {name} | " + " | ".join(values) + " |")

    row("items", [f"{r.n}/{r.total}" for r in reports])
    row("accuracy", [f"{r.accuracy:.1%}" for r in reports])
    row("95% CI", [f"{r.interval[0]:.1%}–{r.interval[1]:.1%}" for r in reports])
    row("ECE", [f"{r.ece:.3f}" for r in reports])
    row("items/s", [f"{r.items_per_s:.2f}" for r in reports])
    subjects = list(dict.fromkeys(s for r in reports for s in r.per_subject()))
    if len(subjects) > 1:
        lines += ["", "## Per subject", ""]
        lines.append("| subject | " + " | ".join(_cell(r.title, 40) for r in reports) + " |")
        lines.append("|---|" + "---|" * len(reports))
        for s in subjects:
            cells = []
            for r in reports:
                v = r.per_subject().get(s)
                cells.append(f"{v.accuracy:.0%} ({v.correct}/{v.n})" if v else "—")
            row(_cell(s, 40), cells)
    for r in reports:
        wrong = r.confidently_wrong()
        if not wrong:
            continue
        lines += ["", f"## Most confidently wrong: {r.title}", ""]
        lines.append("| line | question | gold | answered | confidence |")
        lines.append("|---|---|---|---|---|")
        for w in wrong:
            lines.append(
                f"| {w.line} | {_cell(w.question)} | {w.gold} | {w.predicted or '—'} | "
                f"{w.confidence:.0%} |"
            )
    return "\n".join(lines) + "\n"


def export_to(reports: Sequence[EvalReport], path: Path) -> Path:
    """Write the reports in the format the file's suffix names (.json, .csv, .md)."""
    suffix = path.suffix.lower()
    if suffix == ".json":
        text = export_json(reports)
    elif suffix == ".csv":
        text = export_csv(reports)
    elif suffix in (".md", ".markdown"):
        text = export_markdown(reports)
    else:
        raise InvalidRequestError(f"Export to .json, .csv or .md, not {suffix or 'no suffix'}.")
    path.write_text(text, encoding="utf-8")
    return path
