"""Retrieval quality: hit@k and mean reciprocal rank over a file of questions.

Each line of the file is ``{"question": …, "sources": [file names], "must_contain":
[strings]}``. A retrieved passage is a hit when its file's name is one of
``sources`` and its text contains one of ``must_contain`` (compared after the same
normalisation as the keyword index, so simplified and traditional Chinese match).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from desktop_app.core.errors import InvalidRequestError
from desktop_app.core.kb.keyword import normalize
from desktop_app.core.kb.retrieve import Hit


@dataclass(frozen=True, slots=True)
class EvalQuestion:
    """One line of a question file."""

    question: str
    sources: tuple[str, ...]
    must_contain: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class EvalResult:
    """hit@k, MRR and the rank of the first hit of every question (None: missed)."""

    k: int
    hit_at_k: float
    mrr: float
    per_question: tuple[tuple[str, int | None], ...]

    def as_dict(self) -> dict[str, object]:
        """The JSON form printed by ``glassbox eval retrieval --json``."""
        return {
            "k": self.k,
            "questions": len(self.per_question),
            "hit_at_k": round(self.hit_at_k, 4),
            "mrr": round(self.mrr, 4),
            "per_question": [{"question": q, "hit_rank": r} for q, r in self.per_question],
        }


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
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidRequestError(
                f"{path}, line {number}: expected "
                '{"question": …, "sources": […], "must_contain": […]} '
                f"({exc})"
            ) from exc
        out.append(item)
    if not out:
        raise InvalidRequestError(f"{path} holds no questions.")
    return out


def is_hit(hit: Hit, question: EvalQuestion) -> bool:
    """Whether a retrieved passage answers a question by the file's rule."""
    if Path(hit.chunk.path).name not in question.sources:
        return False
    text = normalize(hit.chunk.text)
    return any(normalize(s) in text for s in question.must_contain)


def evaluate(
    questions: Sequence[EvalQuestion], search: Callable[[str, int], Sequence[Hit]], k: int
) -> EvalResult:
    """Run every question through ``search(question, k)`` and score the ranks."""
    per: list[tuple[str, int | None]] = []
    for q in questions:
        rank = next((i for i, h in enumerate(search(q.question, k), start=1) if is_hit(h, q)), None)
        per.append((q.question, rank))
    hits = sum(1 for _, r in per if r is not None)
    mrr = sum(1.0 / r for _, r in per if r is not None) / len(per)
    return EvalResult(k, hits / len(per), mrr, tuple(per))
