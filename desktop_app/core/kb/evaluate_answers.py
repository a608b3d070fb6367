"""Answer quality: do answers cite the passage that holds the fact, name the fact, keep
the question's language, and refuse exactly when the documents do not know?

The question file is the one of ``glassbox eval retrieval`` (``core.kb.evaluate``),
each line with ``"fact"``: the terms an answer must name (none for the bucket
``"none"``, whose questions the documents do not answer). For each question the
answering path of ``glassbox ask`` runs (search, then ``core.kb.answer.answer``), and
per language bucket:

- grounded-citation rate: the answer cites [n] and passage n holds the fact (one of
  ``must_contain`` or ``fact``, compared after the keyword index's normalisation);
- names-the-fact rate: every ``fact`` term is in the answer (same normalisation);
- language match: the answer's language by script share (``core.kb.language``) is
  the question's;
- refusals: precision and recall of refusing, the ``none`` questions being the ones
  that should be refused (the answerable buckets report how many were refused);
- seconds per question (search and answer) and time to the first token.

The scoring functions are pure: they take the answers as given.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from desktop_app.core.errors import InvalidRequestError
from desktop_app.core.kb import language
from desktop_app.core.kb.answer import Answer, cited_numbers
from desktop_app.core.kb.evaluate import (
    UNANSWERED,
    EvalQuestion,
    load_questions,
)
from desktop_app.core.kb.keyword import normalize
from desktop_app.core.kb.retrieve import Hit

#: Bucket order of reports and of ``pick``; any other bucket comes after, by name.
BUCKET_ORDER = ("zh", "en", "cross", UNANSWERED)


@dataclass(frozen=True, slots=True)
class AnswerQuestion:
    """A question of the file with the terms its answer must name."""

    question: EvalQuestion
    fact: tuple[str, ...]

    @property
    def terms(self) -> tuple[str, ...]:
        """What a passage holding the fact contains (any one of them)."""
        return tuple(dict.fromkeys((*self.question.must_contain, *self.fact)))


@dataclass(frozen=True, slots=True)
class AnswerOutcome:
    """What one question got: the answer shown, the passages given, and its timings."""

    item: AnswerQuestion
    text: str
    found: bool
    passages: tuple[str, ...]
    seconds: float = 0.0
    first_token_s: float | None = None

    @classmethod
    def of(
        cls,
        item: AnswerQuestion,
        result: Answer,
        seconds: float = 0.0,
        first_token_s: float | None = None,
    ) -> AnswerOutcome:
        """The outcome of an ``Answer`` (its passages in their numbered order)."""
        passages = tuple(c.text for c in sorted(result.citations, key=lambda c: c.n))
        return cls(item, result.text, result.found, passages, seconds, first_token_s)


def load_answer_questions(path: Path) -> list[AnswerQuestion]:
    """The questions of a file with their ``"fact"`` terms (an answerable question
    without any is reported with its line number)."""
    questions = load_questions(path)
    facts: list[tuple[str, ...]] = []
    lines = [
        (n, line)
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if line.strip()
    ]
    for (number, line), q in zip(lines, questions, strict=True):
        raw = json.loads(line).get("fact", [])
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, list) or not all(isinstance(t, str) for t in raw):
            raise InvalidRequestError(f'{path}, line {number}: "fact" must be a list of strings.')
        if q.answerable and not raw:
            raise InvalidRequestError(
                f'{path}, line {number}: an answerable question needs "fact", the terms its '
                "answer must name."
            )
        facts.append(tuple(raw))
    return [AnswerQuestion(q, f) for q, f in zip(questions, facts, strict=True)]


def _bucket_key(name: str) -> tuple[int, str]:
    return (BUCKET_ORDER.index(name) if name in BUCKET_ORDER else len(BUCKET_ORDER), name)


def pick(items: Sequence[AnswerQuestion], limit: int | None) -> list[AnswerQuestion]:
    """The first ``limit`` questions taken in turn from each bucket (zh, en, cross,
    none, …), each bucket in file order: a small run still covers every bucket."""
    if limit is None or limit >= len(items):
        return list(items)
    queues: dict[str, list[AnswerQuestion]] = {}
    for item in items:
        queues.setdefault(item.question.bucket, []).append(item)
    order = sorted(queues, key=_bucket_key)
    out: list[AnswerQuestion] = []
    while len(out) < limit:
        for name in order:
            if queues[name] and len(out) < limit:
                out.append(queues[name].pop(0))
    return out


def holds_fact(passage: str, item: AnswerQuestion) -> bool:
    """Whether a passage holds the question's fact (one of its terms, normalised)."""
    text = normalize(passage)
    return any(normalize(t) in text for t in item.terms if t.strip())


def grounded_citation(outcome: AnswerOutcome) -> bool:
    """The answer cites [n] and passage n holds the fact (never for a refusal)."""
    if not outcome.found:
        return False
    return any(
        1 <= n <= len(outcome.passages) and holds_fact(outcome.passages[n - 1], outcome.item)
        for n in cited_numbers(outcome.text)
    )


def names_fact(outcome: AnswerOutcome) -> bool:
    """Every ``fact`` term is in the answer (normalised); False without any term."""
    text = normalize(outcome.text)
    terms = [t for t in outcome.item.fact if t.strip()]
    return bool(terms) and all(normalize(t) in text for t in terms)


def language_matches(outcome: AnswerOutcome) -> bool:
    """The answer's language (by script share) is the question's language.

    The question's language is its ``lang`` field, or detected from it when absent.
    """
    wanted = outcome.item.question.lang or language.detect(outcome.item.question.question)
    return language.detect(outcome.text) == wanted


def _rate(n: int, of: int) -> float | None:
    return n / of if of else None


@dataclass(frozen=True, slots=True)
class AnswerSummary:
    """The figures of a group of questions."""

    questions: int
    answerable: int
    grounded: int
    named: int
    language_matched: int
    refused: int
    refused_answerable: int
    unanswerable: int
    refused_unanswerable: int
    seconds_median: float | None
    first_token_median: float | None

    @property
    def grounded_rate(self) -> float | None:
        """Grounded citations over the answerable questions."""
        return _rate(self.grounded, self.answerable)

    @property
    def named_rate(self) -> float | None:
        """Answers naming the fact over the answerable questions."""
        return _rate(self.named, self.answerable)

    @property
    def language_rate(self) -> float | None:
        """Answers in the question's language over all questions."""
        return _rate(self.language_matched, self.questions)

    @property
    def refusal_precision(self) -> float | None:
        """Refusals of unanswerable questions over all refusals (None: no refusal)."""
        return _rate(self.refused_unanswerable, self.refused)

    @property
    def refusal_recall(self) -> float | None:
        """Unanswerable questions refused over all of them (None: none in the group)."""
        return _rate(self.refused_unanswerable, self.unanswerable)

    def as_dict(self) -> dict[str, object]:
        """The JSON form of one group."""
        return {
            "questions": self.questions,
            "answerable": self.answerable,
            "grounded_citation_rate": _round(self.grounded_rate),
            "names_fact_rate": _round(self.named_rate),
            "language_match": _round(self.language_rate),
            "refused": self.refused,
            "refused_answerable": self.refused_answerable,
            "unanswerable": self.unanswerable,
            "refusal_precision": _round(self.refusal_precision),
            "refusal_recall": _round(self.refusal_recall),
            "seconds_median": _round(self.seconds_median, 2),
            "first_token_s_median": _round(self.first_token_median, 2),
        }

    def text(self) -> str:
        """One line of figures."""
        parts = [f"{self.questions} questions"]
        if self.answerable:
            parts.append(
                f"grounded citations {self.grounded}/{self.answerable} "
                f"({_fmt(self.grounded_rate)}), names the fact {self.named}/{self.answerable} "
                f"({_fmt(self.named_rate)}), wrongly refused {self.refused_answerable}"
            )
        parts.append(f"language {self.language_matched}/{self.questions}")
        if self.unanswerable:
            parts.append(f"refused {self.refused_unanswerable}/{self.unanswerable} unanswerable")
        if self.refused or self.unanswerable:
            parts.append(
                f"refusal precision {_fmt(self.refusal_precision)}, "
                f"recall {_fmt(self.refusal_recall)}"
            )
        parts.append(
            f"median {_fmt(self.seconds_median, 1)} s per question, first token "
            f"{_fmt(self.first_token_median, 1)} s"
        )
        return ", ".join(parts)


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def _fmt(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def summarize_answers(outcomes: Iterable[AnswerOutcome]) -> AnswerSummary:
    """The figures of a group of answers."""
    items = list(outcomes)
    answerable = [o for o in items if o.item.question.answerable]
    unanswerable = [o for o in items if not o.item.question.answerable]
    firsts = [o.first_token_s for o in items if o.first_token_s is not None]
    return AnswerSummary(
        questions=len(items),
        answerable=len(answerable),
        grounded=sum(grounded_citation(o) for o in answerable),
        named=sum(names_fact(o) for o in answerable),
        language_matched=sum(language_matches(o) for o in items),
        refused=sum(not o.found for o in items),
        refused_answerable=sum(not o.found for o in answerable),
        unanswerable=len(unanswerable),
        refused_unanswerable=sum(not o.found for o in unanswerable),
        seconds_median=statistics.median(o.seconds for o in items) if items else None,
        first_token_median=statistics.median(firsts) if firsts else None,
    )


@dataclass(frozen=True, slots=True)
class AnswerReport:
    """The figures of a run: all questions, per bucket, per split; and every answer."""

    outcomes: tuple[AnswerOutcome, ...]
    style: str = ""
    #: The context-aware decoding weight α the answers were drawn with (None: off).
    cad: float | None = None

    @property
    def overall(self) -> AnswerSummary:
        """All questions together."""
        return summarize_answers(self.outcomes)

    def buckets(self, outcomes: Sequence[AnswerOutcome] | None = None) -> dict[str, AnswerSummary]:
        """One summary per bucket, zh, en, cross, none first."""
        items = self.outcomes if outcomes is None else outcomes
        names = sorted({o.item.question.bucket for o in items}, key=_bucket_key)
        return {
            b: summarize_answers(o for o in items if o.item.question.bucket == b) for b in names
        }

    @property
    def splits(self) -> dict[str, list[AnswerOutcome]]:
        """The answers of each split present."""
        out: dict[str, list[AnswerOutcome]] = {}
        for o in self.outcomes:
            if o.item.question.split:
                out.setdefault(o.item.question.split, []).append(o)
        return dict(sorted(out.items()))

    def as_dict(self) -> dict[str, object]:
        """The JSON form printed by ``glassbox eval answers --json``."""
        out: dict[str, object] = {
            "prompt": self.style,
            "cad": self.cad,
            **self.overall.as_dict(),
            "buckets": {b: s.as_dict() for b, s in self.buckets().items()},
        }
        splits = self.splits
        if len(splits) > 1:
            out["splits"] = {
                name: {
                    **summarize_answers(items).as_dict(),
                    "buckets": {b: s.as_dict() for b, s in self.buckets(items).items()},
                }
                for name, items in splits.items()
            }
        out["per_question"] = [outcome_dict(o) for o in self.outcomes]
        return out

    def text(self) -> str:
        """The text printed by ``glassbox eval answers``."""
        head = f"prompt {self.style}: " if self.style else ""
        if self.cad is not None:
            head += f"CAD α={self.cad:g}: "
        lines = [head + self.overall.text()]
        lines += [f"  {b}: {s.text()}" for b, s in self.buckets().items()]
        splits = self.splits
        if len(splits) > 1:
            for name, items in splits.items():
                lines.append(f"{name}: {summarize_answers(items).text()}")
                lines += [f"  {b}: {s.text()}" for b, s in self.buckets(items).items()]
        return "\n".join(lines)


def outcome_dict(o: AnswerOutcome) -> dict[str, object]:
    """One answer with its scores, as ``--json`` lists them under ``"per_question"``."""
    q = o.item.question
    return {
        "id": q.id,
        "bucket": q.bucket,
        "split": q.split,
        "question": q.question,
        "answer": o.text,
        "found": o.found,
        "cited": cited_numbers(o.text),
        "fact_in_passages": [i for i, p in enumerate(o.passages, start=1) if holds_fact(p, o.item)],
        "grounded_citation": grounded_citation(o) if q.answerable else None,
        "names_fact": names_fact(o) if q.answerable else None,
        "language_match": language_matches(o),
        "seconds": round(o.seconds, 2),
        "first_token_s": _round(o.first_token_s, 2),
    }


#: ``ask(question, hits, on_token)``: the answering step, calling ``on_token`` per piece.
Ask = Callable[[str, Sequence[Hit], Callable[[str], None]], Answer]


def run_answers(
    items: Sequence[AnswerQuestion],
    search: Callable[[str], Sequence[Hit]],
    ask: Ask,
    *,
    style: str = "",
    cad: float | None = None,
    clock: Callable[[], float] = time.perf_counter,
    on_outcome: Callable[[int, AnswerOutcome], None] | None = None,
) -> AnswerReport:
    """Search and answer every question, timing each from its start: the whole of
    it, and until the first piece of the answer (None when the model was not asked)."""
    outcomes: list[AnswerOutcome] = []
    for i, item in enumerate(items):
        started = clock()
        first: list[float] = []

        def on_token(_piece: str, first: list[float] = first, started: float = started) -> None:
            if not first:
                first.append(clock() - started)

        hits = search(item.question.question)
        result = ask(item.question.question, hits, on_token)
        outcome = AnswerOutcome.of(item, result, clock() - started, first[0] if first else None)
        outcomes.append(outcome)
        if on_outcome is not None:
            on_outcome(i, outcome)
    return AnswerReport(tuple(outcomes), style, cad)
