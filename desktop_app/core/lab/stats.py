"""The figures of an evaluation: accuracy's confidence interval and calibration."""

from __future__ import annotations

import math
from collections.abc import Sequence

#: z for a two-sided 95% interval.
Z95 = 1.959963984540054


def wilson_interval(correct: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion (``correct`` of ``n``); (0, 1) when n is 0.

    Unlike the normal approximation it stays inside [0, 1] and is honest for the
    small sets people evaluate on (30 questions, accuracy near 0 or 1).
    """
    if n <= 0:
        return 0.0, 1.0
    p = correct / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    # At 0 or n correct the bound is exactly 0 or 1; rounding would leave it a hair off.
    low = 0.0 if correct <= 0 else max(0.0, centre - half)
    high = 1.0 if correct >= n else min(1.0, centre + half)
    return low, high


def calibration(
    confidence: Sequence[float], correct: Sequence[bool], n_bins: int = 10
) -> tuple[tuple[tuple[float, float, int], ...], float]:
    """Reliability bins (mean confidence, accuracy, count) and the expected calibration error.

    Ten equal-width bins over (0, 1] (a confidence of exactly 0 goes in the first),
    as ``glassbox eval classify`` draws them; ECE is the count-weighted mean of
    |confidence − accuracy| over the bins.
    """
    n = len(confidence)
    bins: list[tuple[float, float, int]] = []
    ece = 0.0
    for b in range(n_bins):
        lo, hi = b / n_bins, (b + 1) / n_bins
        idx = [i for i, c in enumerate(confidence) if lo < c <= hi or (b == 0 and c <= 0.0)]
        if not idx:
            continue
        conf = math.fsum(confidence[i] for i in idx) / len(idx)
        acc = sum(bool(correct[i]) for i in idx) / len(idx)
        bins.append((conf, acc, len(idx)))
        ece += len(idx) / n * abs(conf - acc)
    return tuple(bins), ece
