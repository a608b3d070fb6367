"""Quality figures of the classify and extract tasks on a labelled set."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class ClassifyScores:
    """Accuracy, macro-F1, expected calibration error, confusion matrix, reliability bins.

    ``confusion[gold][predicted]`` counts texts; ``bins`` are (mean confidence,
    accuracy, count) of the predicted label's probability in ten equal-width bins,
    what a calibration plot draws.
    """

    n: int
    accuracy: float
    macro_f1: float
    ece: float
    confusion: Mapping[str, Mapping[str, int]]
    bins: tuple[tuple[float, float, int], ...]

    def as_dict(self) -> dict[str, Any]:
        """The JSON printed by ``glassbox eval classify --json``."""
        return {
            "n": self.n,
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
            "ece": self.ece,
            "confusion": {g: dict(row) for g, row in self.confusion.items()},
            "calibration_bins": [list(b) for b in self.bins],
        }


def classify_scores(
    gold: Sequence[str],
    predicted: Sequence[str],
    confidence: Sequence[float],
    labels: Sequence[str],
    n_bins: int = 10,
) -> ClassifyScores:
    """Scores of predictions against gold labels (``confidence``: the predicted label's p)."""
    n = len(gold)
    confusion = {g: dict.fromkeys(labels, 0) for g in labels}
    for g, p in zip(gold, predicted, strict=True):
        confusion.setdefault(g, dict.fromkeys(labels, 0))[p] += 1
    correct = sum(g == p for g, p in zip(gold, predicted, strict=True))
    f1s = []
    for label in labels:
        tp = confusion.get(label, {}).get(label, 0)
        fp = sum(row.get(label, 0) for g, row in confusion.items() if g != label)
        fn = sum(c for p, c in confusion.get(label, {}).items() if p != label)
        denom = 2 * tp + fp + fn
        f1s.append(2 * tp / denom if denom else 0.0)
    bins: list[tuple[float, float, int]] = []
    ece = 0.0
    for b in range(n_bins):
        lo, hi = b / n_bins, (b + 1) / n_bins
        idx = [i for i, c in enumerate(confidence) if lo < c <= hi or (b == 0 and c == 0.0)]
        if not idx:
            continue
        conf = math.fsum(confidence[i] for i in idx) / len(idx)
        acc = sum(gold[i] == predicted[i] for i in idx) / len(idx)
        bins.append((conf, acc, len(idx)))
        ece += len(idx) / n * abs(conf - acc)
    return ClassifyScores(
        n=n,
        accuracy=correct / n if n else 0.0,
        macro_f1=math.fsum(f1s) / len(f1s) if f1s else 0.0,
        ece=ece,
        confusion=confusion,
        bins=tuple(bins),
    )


@dataclass(frozen=True, slots=True)
class ExtractScores:
    """Field-level exact match and the share of outputs valid for the schema."""

    n: int
    field_exact_match: float
    per_field: Mapping[str, float]
    schema_valid: float

    def as_dict(self) -> dict[str, Any]:
        """The JSON printed by ``glassbox eval extract --json``."""
        return {
            "n": self.n,
            "field_exact_match": self.field_exact_match,
            "per_field": dict(self.per_field),
            "schema_valid": self.schema_valid,
        }


def normalize_value(value: Any) -> Any:
    """A value as compared: text trimmed and case-folded, numbers as floats, lists in order."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        return " ".join(value.split()).casefold()
    if isinstance(value, list):
        return [normalize_value(v) for v in value]
    if isinstance(value, dict):
        return {k: normalize_value(v) for k, v in value.items()}
    return value


def extract_scores(
    gold: Sequence[Mapping[str, Any]], predicted: Sequence[Any], valid: Sequence[bool]
) -> ExtractScores:
    """Exact match per gold field (a field missing from the output counts as null)."""
    hits: dict[str, list[bool]] = {}
    for g, p in zip(gold, predicted, strict=True):
        out = p if isinstance(p, Mapping) else {}
        for name, want in g.items():
            got = out.get(name)
            hits.setdefault(name, []).append(normalize_value(got) == normalize_value(want))
    per_field = {k: sum(v) / len(v) for k, v in hits.items()}
    total = [x for v in hits.values() for x in v]
    n = len(gold)
    return ExtractScores(
        n=n,
        field_exact_match=sum(total) / len(total) if total else 0.0,
        per_field=per_field,
        schema_valid=sum(valid) / n if n else 0.0,
    )
