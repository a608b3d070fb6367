"""Retrieval quality: hit@k and mean reciprocal rank over a file of questions.

Each line of the file is ``{"question": …, "sources": [file names], "must_contain":
[strings]}``, optionally with ``"id"``, ``"lang"``, ``"bucket"`` (e.g. ``"zh"``, ``"en"``,
``"cross"`` or ``"none"``) and ``"split"`` (``"dev"`` or ``"held"``). A retrieved passage
is a hit when its file's name is one of ``sources`` and its text contains one of
``must_contain`` (compared after the same normalisation as the keyword index, so
simplified and traditional Chinese match).

Questions of the bucket ``"none"`` have no answer in the documents: they are left out
of hit@k and MRR, and the scores of their best passage are reported instead, so that a
refusal threshold can be set against those of the answered questions.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from desktop_app.core.errors import InvalidRequestError
from desktop_app.core.kb.keyword import normalize
from desktop_app.core.kb.retrieve import Hit

#: The bucket of questions the documents do not answer.
UNANSWERED = "none"
#: The bucket of questions whose line names none.
UNLABELLED = "unlabelled"
SPLITS = ("dev", "held")


@dataclass(frozen=True, slots=True)
class EvalQuestion:
    """One line of a question file."""

    question: str
    sources: tuple[str, ...]
    must_contain: tuple[str, ...]
    id: str = ""
    lang: str = ""
    bucket: str = UNLABELLED
    split: str = ""

    @property
    def answerable(self) -> bool:
        """Whether the documents hold an answer (the bucket is not ``"none"``)."""
        return self.bucket != UNANSWERED


@dataclass(frozen=True, slots=True)
class QuestionResult:
    """The rank of a question's first hit (None: missed) and its best passage's scores."""

    question: EvalQuestion
    rank: int | None
    top_fused: float | None
    top_vector: float | None


@dataclass(frozen=True, slots=True)
class Summary:
    """hit@k and MRR of a group of answerable questions; scores of the unanswered ones."""

    questions: int
    hit_at_k: float
    mrr: float
    unanswered: int
    #: Median and largest top vector similarity of the unanswered questions' best
    #: passages, and the median of the answered ones' (None: no such question or score).
    unanswered_top_vector_median: float | None
    unanswered_top_vector_max: float | None
    answered_top_vector_median: float | None

    def as_dict(self) -> dict[str, object]:
        """The JSON form of one group."""
        out: dict[str, object] = {
            "questions": self.questions,
            "hit_at_k": round(self.hit_at_k, 4),
            "mrr": round(self.mrr, 4),
        }
        if self.unanswered:
            out["unanswered"] = {
                "questions": self.unanswered,
                "top_vector_median": _round(self.unanswered_top_vector_median),
                "top_vector_max": _round(self.unanswered_top_vector_max),
                "answered_top_vector_median": _round(self.answered_top_vector_median),
            }
        return out

    def text(self, k: int) -> str:
        """One line: counts, hit@k and MRR, and the unanswered questions' scores."""
        line = f"{self.questions} questions: hit@{k} {self.hit_at_k:.3f}, MRR {self.mrr:.3f}"
        if self.unanswered and not self.questions:
            line = ""
        if self.unanswered:
            line += (
                f"{'; ' if line else ''}{self.unanswered} without an answer in the documents, "
                "not counted in hit@k: best passage's "
                f"vector similarity median {_fmt(self.unanswered_top_vector_median)}, "
                f"max {_fmt(self.unanswered_top_vector_max)}"
            )
            if self.answered_top_vector_median is not None:
                line += f" (answered questions' median {self.answered_top_vector_median:.3f})"
        return line


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def summarize(results: Iterable[QuestionResult]) -> Summary:
    """hit@k and MRR over the answerable questions of ``results``."""
    items = list(results)
    answered = [r for r in items if r.question.answerable]
    unanswered = [r for r in items if not r.question.answerable]
    hits = [r.rank for r in answered if r.rank is not None]
    n = len(answered)
    none_scores = [r.top_vector for r in unanswered if r.top_vector is not None]
    answer_scores = [r.top_vector for r in answered if r.top_vector is not None]
    return Summary(
        questions=n,
        hit_at_k=len(hits) / n if n else 0.0,
        mrr=sum(1.0 / r for r in hits) / n if n else 0.0,
        unanswered=len(unanswered),
        unanswered_top_vector_median=statistics.median(none_scores) if none_scores else None,
        unanswered_top_vector_max=max(none_scores) if none_scores else None,
        answered_top_vector_median=statistics.median(answer_scores) if answer_scores else None,
    )


def _groups(results: Sequence[QuestionResult]) -> dict[str, Summary]:
    names = sorted({r.question.bucket for r in results})
    return {b: summarize(r for r in results if r.question.bucket == b) for b in names}


@dataclass(frozen=True, slots=True)
class EvalResult:
    """hit@k, MRR and the rank of the first hit of every question (None: missed)."""

    k: int
    hit_at_k: float
    mrr: float
    per_question: tuple[tuple[str, int | None], ...]
    results: tuple[QuestionResult, ...] = ()

    @property
    def overall(self) -> Summary:
        """All questions together (hit@k and MRR over the answerable ones)."""
        return summarize(self.results)

    @property
    def buckets(self) -> dict[str, Summary]:
        """One summary per bucket, by name."""
        return _groups(self.results)

    @property
    def splits(self) -> dict[str, dict[str, Summary]]:
        """Per split present (dev, held): ``"all"`` and each bucket."""
        out: dict[str, dict[str, Summary]] = {}
        for split in sorted({r.question.split for r in self.results if r.question.split}):
            part = [r for r in self.results if r.question.split == split]
            out[split] = {"all": summarize(part), **_groups(part)}
        return out

    def as_dict(self) -> dict[str, object]:
        """The JSON form printed by ``glassbox eval retrieval --json``."""
        overall = self.overall
        out: dict[str, object] = {
            "k": self.k,
            "questions": overall.questions,
            "hit_at_k": round(self.hit_at_k, 4),
            "mrr": round(self.mrr, 4),
            "buckets": {name: s.as_dict() for name, s in self.buckets.items()},
        }
        if overall.unanswered:
            out["unanswered"] = overall.as_dict()["unanswered"]
        splits = self.splits
        if len(splits) > 1:
            out["splits"] = {
                split: {
                    **groups["all"].as_dict(),
                    "buckets": {b: s.as_dict() for b, s in groups.items() if b != "all"},
                }
                for split, groups in splits.items()
            }
        out["per_question"] = [_question_dict(r) for r in self.results] or [
            {"question": q, "hit_rank": r} for q, r in self.per_question
        ]
        return out

    def text(self) -> str:
        """The text printed by ``glassbox eval retrieval``: totals, buckets, splits, misses."""
        lines = [self.overall.text(self.k)]
        buckets = self.buckets
        if set(buckets) != {UNLABELLED}:
            lines += [f"  {name}: {s.text(self.k)}" for name, s in buckets.items()]
        splits = self.splits
        if len(splits) > 1:
            for split, groups in splits.items():
                lines.append(f"{split}: {groups['all'].text(self.k)}")
                lines += [f"  {b}: {s.text(self.k)}" for b, s in groups.items() if b != "all"]
        lines += [
            f"  missed: {_label(r.question)}"
            for r in self.results
            if r.rank is None and r.question.answerable
        ]
        return "\n".join(lines)


def _label(q: EvalQuestion) -> str:
    return f"[{q.id}] {q.question}" if q.id else q.question


def _question_dict(r: QuestionResult) -> dict[str, object]:
    out: dict[str, object] = {"question": r.question.question, "hit_rank": r.rank}
    for key in ("id", "lang", "bucket", "split"):
        value = getattr(r.question, key)
        if value and value != UNLABELLED:
            out[key] = value
    out["top_fused"] = _round(r.top_fused)
    out["top_vector"] = _round(r.top_vector)
    return out


def _optional(raw: dict[str, object], key: str, default: str = "") -> str:
    value = raw.get(key, default)
    if not isinstance(value, str):
        raise TypeError(f'"{key}" must be a string')
    return value


def load_questions(path: Path) -> list[EvalQuestion]:
    """Read a JSON Lines question file; a bad line is reported with its number."""
    out: list[EvalQuestion] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            item = EvalQuestion(
                question=str(raw["question"]),
                sources=tuple(str(s) for s in raw["sources"]),
                must_contain=tuple(str(s) for s in raw["must_contain"]),
                id=_optional(raw, "id"),
                lang=_optional(raw, "lang"),
                bucket=_optional(raw, "bucket", UNLABELLED) or UNLABELLED,
                split=_optional(raw, "split"),
            )
            if item.split and item.split not in SPLITS:
                raise ValueError(f'"split" must be "dev" or "held", not "{item.split}"')
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise InvalidRequestError(
                f"{path}, line {number}: expected "
                '{"question": …, "sources": […], "must_contain": […]} '
                'with optional "id", "lang", "bucket" and "split" (dev or held) '
                f"({exc})"
            ) from exc
        out.append(item)
    if not out:
        raise InvalidRequestError(f"{path} holds no questions.")
    return out


def select_split(questions: Sequence[EvalQuestion], split: str) -> list[EvalQuestion]:
    """The questions of one split (``"dev"`` or ``"held"``), or all of them (``"all"``)."""
    if split == "all":
        return list(questions)
    if split not in SPLITS:
        raise InvalidRequestError(f'The split must be "dev", "held" or "all", not "{split}".')
    chosen = [q for q in questions if q.split == split]
    if not chosen:
        raise InvalidRequestError(
            f'No question is marked "split": "{split}" in this file; '
            "run with --split all, or mark the questions."
        )
    return chosen


def is_hit(hit: Hit, question: EvalQuestion) -> bool:
    """Whether a retrieved passage answers a question by the file's rule."""
    if Path(hit.chunk.path).name not in question.sources:
        return False
    text = normalize(hit.chunk.text)
    return any(normalize(s) in text for s in question.must_contain)


def evaluate(
    questions: Sequence[EvalQuestion], search: Callable[[str, int], Sequence[Hit]], k: int
) -> EvalResult:
    """Run every question through ``search(question, k)`` and score the ranks.

    hit@k and MRR count the answerable questions only (all of them in a file
    without buckets).
    """
    results: list[QuestionResult] = []
    for q in questions:
        hits = list(search(q.question, k))
        rank = next((i for i, h in enumerate(hits, start=1) if is_hit(h, q)), None)
        vectors = [h.vector for h in hits if h.vector is not None]
        results.append(
            QuestionResult(
                question=q,
                rank=rank if q.answerable else None,
                top_fused=max((h.fused for h in hits), default=None),
                top_vector=max(vectors, default=None),
            )
        )
    overall = summarize(results)
    per = tuple((r.question.question, r.rank) for r in results if r.question.answerable)
    return EvalResult(k, overall.hit_at_k, overall.mrr, per, tuple(results))
