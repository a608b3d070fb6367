"""Hybrid retrieval: vector top-k and keyword (FTS5 trigram, BM25) top-k, fused by rank.

Reciprocal-rank fusion adds ``weight / (RRF_K + rank)`` from each list a passage
appears in; it needs no score calibration between a cosine similarity and a BM25
score, which live on unrelated scales. The keyword side carries languages the
embedding model does not know (all-MiniLM-L6-v2 is English-only and the user's
documents may be Chinese); the vector side carries paraphrase.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from desktop_app.core.kb.db import Collection, Filters, StoredChunk
from desktop_app.core.kb.embed import embed_queries, embedder_choice
from desktop_app.core.kb.fusion import reciprocal_rank_fusion
from desktop_app.core.kb.keyword import has_cjk, normalize
from desktop_app.core.kb.parts import KnowledgeParts

#: Candidates taken from each side before fusion, at least.
MIN_CANDIDATES = 30


@dataclass(frozen=True, slots=True)
class Weights:
    """How much each ranking counts in the fusion."""

    vector: float = 0.75
    keyword: float = 1.0


#: For questions with Chinese text the English embedding model is a weak voice: on
#: eval/retrieval_seeds.jsonl (Chinese documents) hit@5 falls from 0.92 to 0.85 as
#: this weight goes from 0.1 to 0.5. It stays above zero so that a Chinese question
#: with no keyword match (an English corpus) is still ordered by the vectors.
CJK_WEIGHTS = Weights(vector=0.1, keyword=1.0)


@dataclass(frozen=True, slots=True)
class Hit:
    """One retrieved passage with the score of each side (None: not in that list)."""

    rank: int
    chunk: StoredChunk
    vector: float | None
    keyword: float | None
    fused: float
    vector_rank: int | None
    keyword_rank: int | None
    #: The reranker's score (0–1 for the loaded model: the probability that the
    #: passage helps), None when no reranker ran.
    rerank: float | None = None

    def as_dict(self) -> dict[str, object]:
        """The JSON form printed by ``glassbox search --json``."""
        scores: dict[str, float | None] = {
            "vector": None if self.vector is None else round(self.vector, 6),
            "keyword": None if self.keyword is None else round(self.keyword, 6),
            "fused": round(self.fused, 6),
        }
        if self.rerank is not None:
            scores["rerank"] = round(self.rerank, 6)
        return {
            "rank": self.rank,
            "source": self.chunk.path,
            "chunk_id": self.chunk.chunk_id,
            "text": self.chunk.text,
            "heading": self.chunk.heading,
            "page": self.chunk.page,
            "char_start": self.chunk.char_start,
            "char_end": self.chunk.char_end,
            "scores": scores,
        }


#: For questions with Chinese text when the collection's embedder reads Chinese
#: (``EmbedderChoice.multilingual``). On the dev split of eval/debian/questions.jsonl
#: with USE multilingual (25 Chinese questions), zh hit@5 / MRR by vector weight:
#: 0.1: 0.56 / 0.358; 0.5: 0.64 / 0.375; 0.75: 0.64 / 0.371; 1.0: 0.60 / 0.341.
MULTILINGUAL_CJK_WEIGHTS = Weights(vector=0.5, keyword=1.0)


def weights_for(query: str, embed_model: str | None = None) -> Weights:
    """Fusion weights for a query: the keyword side leads when the query has CJK text,
    unless the collection's embedding model (``embed_model``, the name it records)
    reads Chinese; then both sides count as for any other question."""
    if not has_cjk(query):
        return Weights()
    choice = None if embed_model is None else embedder_choice(embed_model)
    if choice is not None and choice.multilingual:
        return MULTILINGUAL_CJK_WEIGHTS
    return CJK_WEIGHTS


def _nearest(
    kb: KnowledgeParts,
    coll: Collection,
    queries: Sequence[str],
    depth: int,
    filters: Filters | None,
) -> tuple[list[list[tuple[str, float]]], float, float]:
    """Each query's nearest vectors (before filtering), with the seconds spent
    embedding and in the vector index. Runs beside the keyword search: it touches
    neither SQLite connection nor anything the keyword side uses."""
    t0 = time.perf_counter()
    embedder = kb.embedder_for(coll)
    vectors = embed_queries(embedder, queries)
    t1 = time.perf_counter()
    filtered = filters is not None and filters.active
    found = [
        kb.index.query(coll, vectors[i], depth * 4 if filtered else depth)
        for i in range(len(queries))
    ]
    # A combined model's cosine, read as the mean of its models' cosines.
    scale = getattr(embedder, "similarity_scale", None)
    if scale is not None:
        found = [
            [(i, s * factor) for i, s in hits]
            for hits, factor in zip(found, map(scale, queries), strict=True)
        ]
    return found, t1 - t0, time.perf_counter() - t1


def _vector_candidates(
    kb: KnowledgeParts,
    hits: list[tuple[str, float]],
    coll: Collection,
    depth: int,
    filters: Filters | None,
    min_similarity: float | None,
) -> list[tuple[str, float]]:
    if min_similarity is not None:
        hits = [(i, s) for i, s in hits if s >= min_similarity]
    if filters is not None and filters.active:
        allowed = kb.registry.filter_ids(coll, [i for i, _ in hits], filters)
        hits = [(i, s) for i, s in hits if i in allowed]
    return hits[:depth]


#: Where questions are embedded beside the keyword search (threads start on first use).
_VECTOR_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="glassbox-vectors")


def search(
    kb: KnowledgeParts,
    coll: Collection,
    query: str,
    k: int = 5,
    *,
    filters: Filters | None = None,
    min_similarity: float | None = None,
    weights: Weights | None = None,
    alternatives: Sequence[str] = (),
    timings: dict[str, float] | None = None,
) -> list[Hit]:
    """The ``k`` best passages for ``query``, hybrid-ranked (documents fully indexed only).

    ``min_similarity`` drops vector candidates below that cosine similarity (a
    passage found by keywords still counts). Filters restrict file types, folder
    and modification dates. ``alternatives`` are other phrasings of the query
    (``rewrite.rewrite_queries``): each adds its vector and keyword rankings to the
    fusion, and a hit's vector and keyword scores are those of the first phrasing
    that found it. ``timings``, when given, receives the seconds spent embedding,
    in Chroma, in the keyword indexes and fusing (with reading the chunks), then
    the keyword side's parts (``keyword.plan``, ``keyword.trigram``…).
    """
    query = query.strip()
    if not query or k <= 0:
        return []
    queries = list(dict.fromkeys([query, *(a.strip() for a in alternatives if a.strip())]))
    depth = max(MIN_CANDIDATES, 4 * k)
    # The question is embedded and its nearest vectors found on another thread while
    # this one searches the keyword indexes (numpy, Chroma and SQLite all release the
    # interpreter lock): a search costs the longer side, not both.
    t0 = time.perf_counter()
    nearest = _VECTOR_POOL.submit(_nearest, kb, coll, queries, depth, filters)
    index_timings: dict[str, float] = {}
    kw_lists = [kb.registry.keyword_search(coll, q, depth, filters, index_timings) for q in queries]
    t_keyword = time.perf_counter() - t0
    found, t_embed, t_vector = nearest.result()
    vec_lists = [_vector_candidates(kb, f, coll, depth, filters, min_similarity) for f in found]
    t3 = time.perf_counter()

    rankings: list[list[str]] = []
    rank_weights: list[float] = []
    vec_score: dict[str, float] = {}
    kw_score: dict[str, float] = {}
    vec_rank: dict[str, int] = {}
    kw_rank: dict[str, int] = {}
    for q, vec_hits, kw_hits in zip(queries, vec_lists, kw_lists, strict=True):
        w = weights or weights_for(q, coll.embed_model)
        rankings += [[i for i, _ in vec_hits], [i for i, _ in kw_hits]]
        rank_weights += [w.vector, w.keyword]
        for r, (i, score) in enumerate(vec_hits, start=1):
            vec_score.setdefault(i, score)
            vec_rank.setdefault(i, r)
        for r, (i, score) in enumerate(kw_hits, start=1):
            kw_score.setdefault(i, score)
            kw_rank.setdefault(i, r)
    fused = reciprocal_rank_fusion(rankings, rank_weights)
    ordered = sorted(fused, key=lambda i: (-fused[i], i))
    # Chroma may still hold a chunk of a document being re-indexed: serve only what
    # SQLite says is fully indexed.
    stored = kb.registry.chunks_by_id(coll, ordered[: k * 3])
    hits: list[Hit] = []
    for chunk_id in ordered:
        chunk = stored.get(chunk_id)
        if chunk is None:
            continue
        hits.append(
            Hit(
                rank=len(hits) + 1,
                chunk=chunk,
                vector=vec_score.get(chunk_id),
                keyword=kw_score.get(chunk_id),
                fused=fused[chunk_id],
                vector_rank=vec_rank.get(chunk_id),
                keyword_rank=kw_rank.get(chunk_id),
            )
        )
        if len(hits) == k:
            break
    if timings is not None:
        # The sides overlap: "embed" + "vector" ran beside "keyword", both from t0.
        timings["embed"] = t_embed
        timings["vector"] = t_vector
        timings["keyword"] = t_keyword
        timings["fusion"] = time.perf_counter() - t3
        # The keyword side's parts: planning its terms, then each index searched.
        timings.update(index_timings)
    return hits


#: Ranking by the terms an answer would name (``rank_by_terms``): how many passages of
#: the question's own search are ranked, how much a passage naming a telling term
#: gains (a share of its fused score), and the share of those passages a term may be
#: found in and still tell them apart. Chosen on the Debian development questions and
#: the seed articles (``eval/debian/README.md``, "Fifth pass").
TERMS_POOL = 20
TERMS_BOOST = 0.25
TERMS_MAX_SHARE = 0.3

_WORDLIKE = re.compile(r"[\x00-\x7f]+")


def _joins(char: str, also: str) -> bool:
    """Whether ``char`` would make a longer word of an ASCII term beside it (a Chinese
    character does not: "用crontab编辑" names crontab)."""
    return (char.isascii() and char.isalnum()) or char in also


def _names(text: str, term: str) -> bool:
    """Whether normalized ``text`` names ``term``: an ASCII term as a whole word (not
    ``cron`` inside ``crontab``), any other as it is written."""
    if not _WORDLIKE.fullmatch(term):
        return term in text
    start = text.find(term)
    while start >= 0:
        end = start + len(term)
        before = text[start - 1] if start else " "
        after = text[end] if end < len(text) else " "
        if not _joins(before, "_-") and not _joins(after, "_"):
            return True
        start = text.find(term, start + 1)
    return False


def rank_by_terms(hits: Sequence[Hit], terms: str) -> list[Hit]:
    """``hits`` (one search's, best first) ranked again by the terms a passage that
    answers would name (``rewrite.answer_terms``: "crontab, cron, at").

    A term found in some passages but in no more than ``TERMS_MAX_SHARE`` of them
    tells those apart (one found everywhere, "debian", says nothing); a passage
    naming at least one such term has its fused score raised by ``TERMS_BOOST`` of
    itself. The order is by that score, which the hits then carry as ``fused``.
    Nothing new is searched: on prose the model's guesses match little and move
    little, where searching them pushed the right passages out.
    """
    hits = list(hits)
    wanted = [t for t in dict.fromkeys(normalize(x).strip() for x in terms.split(",")) if t]
    if not hits or not wanted:
        return hits
    texts = [normalize(h.chunk.text) for h in hits]
    found = {t: [_names(text, t) for text in texts] for t in wanted}
    telling = [t for t, rows in found.items() if 0 < sum(rows) <= TERMS_MAX_SHARE * len(hits)]
    if not telling:
        return hits
    raised = [
        replace(h, fused=h.fused * (1 + TERMS_BOOST)) if any(found[t][i] for t in telling) else h
        for i, h in enumerate(hits)
    ]
    order = sorted(range(len(raised)), key=lambda i: -raised[i].fused)
    return [replace(raised[i], rank=r) for r, i in enumerate(order, start=1)]
