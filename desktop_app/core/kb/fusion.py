"""Reciprocal-rank fusion: one ranking out of several, by rank alone.

Each list adds ``weight / (k + rank)`` to the items it holds (rank from 1), so an
item several lists rank well beats one a single list ranks first, and scores of
different kinds (cosine, BM25) never have to be compared. Used for the trigram and
bigram keyword indexes, for the vector and keyword sides, and for the phrasings a
question was rewritten into.
"""

from __future__ import annotations

from collections.abc import Sequence

#: The usual RRF constant: damps the difference between rank 1 and rank 2.
RRF_K = 60


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[str]], weights: Sequence[float] | None = None, k: int = RRF_K
) -> dict[str, float]:
    """Fused score per id: the sum over rankings of ``weight / (k + rank)`` (rank from 1)."""
    weights = weights if weights is not None else [1.0] * len(rankings)
    scores: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
    return scores
