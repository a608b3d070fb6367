"""Search a knowledge-base collection for the Search panel and ``glassbox task search``.

A thin layer over ``KnowledgeBase.search`` (hybrid: vectors and keywords, fused):
it adds where the query's words occur in each passage, so the panel can
highlight them without knowing how the keyword index tokenizes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from desktop_app.core.kb.db import Filters
from desktop_app.core.kb.knowledge_base import KnowledgeBase
from desktop_app.core.kb.retrieve import Hit


@dataclass(frozen=True, slots=True)
class SearchResult:
    """A hit and the character spans of its passage that match the query's terms."""

    hit: Hit
    highlights: tuple[tuple[int, int], ...]


def query_terms(query: str) -> list[str]:
    """The query's words, and its CJK characters one by one (they have no spaces)."""
    terms = re.findall(r"[\u3400-\u9fff\uf900-\ufaff]|\w+", query.lower())
    return sorted({t for t in terms if len(t) > 1 or not t.isascii()}, key=len, reverse=True)


def highlight_spans(text: str, query: str) -> tuple[tuple[int, int], ...]:
    """Non-overlapping spans of ``text`` where a query term occurs (case-insensitive)."""
    lowered = text.lower()
    spans: list[tuple[int, int]] = []
    for term in query_terms(query):
        for m in re.finditer(re.escape(term), lowered):
            if all(m.end() <= a or m.start() >= b for a, b in spans):
                spans.append((m.start(), m.end()))
    return tuple(sorted(spans))


def search(
    kb: KnowledgeBase,
    query: str,
    collection: str,
    k: int = 10,
    *,
    filters: Filters | None = None,
    min_similarity: float | None = None,
) -> list[SearchResult]:
    """The best ``k`` passages of ``collection`` for ``query``, with highlights."""
    hits = kb.search(query, collection, k, filters=filters, min_similarity=min_similarity)
    return [SearchResult(h, highlight_spans(h.chunk.text, query)) for h in hits]
