"""Keyword search text: normalisation and FTS5 queries that treat any input as literal.

The keyword index uses SQLite FTS5 with the trigram tokenizer, so unspaced text
(Chinese, Japanese) is searchable by any three-character substring. Documents and
questions mix simplified and traditional Chinese; both sides are folded to
simplified before indexing and querying, so a question in one script finds a
passage written in the other (the vectors of an English embedding model do not).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

#: Trigram tokenizer: terms shorter than this cannot use the index (LIKE instead).
MIN_TERM_CHARS = 3
#: Longest query (in characters) turned into terms; the rest is ignored.
MAX_QUERY_CHARS = 512
#: At most this many terms in one FTS5 query, so a pasted page stays fast.
MAX_TERMS = 64
#: A term found in more than this share of the chunks (and in more than
#: ``COMMON_MIN_CHUNKS``) is left out of the keyword query: BM25 gives it almost no
#: weight, yet scoring its postings is most of a query's cost on a large collection.
COMMON_SHARE = 0.10
#: Below this many chunks holding a term it is never too common (small collections
#: keep every term; they are fast anyway).
COMMON_MIN_CHUNKS = 1000
#: Terms that occur at all, rarest first, scored per query: the rarest carry the
#: ranking, and each further OR-ed term adds its postings to score.
MAX_SCORED_TERMS = 8
#: Postings (chunk, term) one index scores per query at most, counted from the
#: rarest term up: BM25 costs about half a microsecond per posting, so this bounds
#: the keyword side near 5 ms per index however large the collection grows.
MAX_SCORED_POSTINGS = 10_000
#: The words index's own budget, smaller: it runs beside the trigram index (which
#: matches the same words, and every piece of them), so it is there for the rarer,
#: telling words. BM25 over words costs more per posting than over trigrams (longer
#: documents of shorter terms), and over 100,000 chunks cut from the seed articles the
#: words index added 5.6 ms to the keyword side at p95 with the trigram budget.
MAX_WORDS_POSTINGS = 4_000
#: A word held by more chunks than this is never scored by the words index, even as
#: the rarest word of the question: its postings would be most of the query's cost,
#: and the trigram index still matches it. Real collections of a few thousand chunks
#: never reach it (the most common word of a development question about the Debian
#: manuals, 系统, is in 937 of 5,269 chunks).
MAX_WORD_CHUNKS = 2_500

#: Characters that in a question are particles, question words, pronouns, conjunctions
#: or verbs of asking (的 了 吗 怎 哪 什 把 这 那 和 …). A question's trigram holding one
#: mostly spans a word boundary of its own phrasing (怎么做, 的磁盘, 是从哪) and matches
#: passages by how they are worded, not by what they say, so such trigrams are not
#: searched (the words index still scores the words). On the dev questions of
#: eval/debian, Chinese hit@5 went from 0.60 to 0.68, and the seed questions from
#: 0.942 to 0.962; with only the first 27 of these characters, 0.64 and 0.962.
QUESTION_FUNCTION_CHARS = frozenset(
    "的了吗呢吧啊么是在把被怎哪什想要该请问如何为谁几"  # the first 27
    "和与或也都就还又才这那些个"
)

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]")
# Runs of letters, digits and CJK; everything else (spaces, punctuation) separates terms.
_RUN = re.compile(r"[^\W_]+", re.UNICODE)


@lru_cache(maxsize=1)
def _converter() -> Any:
    try:
        import zhconv
    except ImportError:  # pragma: no cover - zhconv is a dependency
        return None
    return zhconv


def normalize(text: str) -> str:
    """The form stored in and matched against the keyword index.

    NFKC folds full-width letters and digits; Chinese is converted to simplified
    characters (character by character, cheap) only when the text contains any.
    """
    text = unicodedata.normalize("NFKC", text)
    if _CJK.search(text):
        zh = _converter()
        if zh is not None:
            text = str(zh.convert(text, "zh-hans"))
    return text.lower()


def has_cjk(text: str) -> bool:
    """Whether ``text`` holds Chinese, Japanese or Korean characters."""
    return _CJK.search(text) is not None


def _quote(term: str) -> str:
    # Inside an FTS5 string only the double quote is special, and it is doubled.
    return '"' + term.replace('"', '""') + '"'


def query_terms(query: str) -> list[str]:
    """Terms of a normalised query: words, and every trigram of each CJK run.

    Overlapping trigrams of an unspaced run are what the trigram index stores, so
    BM25 over them ranks passages sharing the most (and rarest) substrings first.
    CJK trigrams holding one of ``QUESTION_FUNCTION_CHARS`` are left out, unless
    that would leave no term.
    """
    runs = _RUN.findall(normalize(query[:MAX_QUERY_CHARS]))
    terms: list[str] = []
    seen: set[str] = set()
    for run in runs:
        if len(run) < MIN_TERM_CHARS:
            continue
        pieces = (
            [run[i : i + MIN_TERM_CHARS] for i in range(len(run) - MIN_TERM_CHARS + 1)]
            if has_cjk(run)
            else [run]
        )
        for piece in pieces:
            if piece not in seen:
                seen.add(piece)
                terms.append(piece)
    telling = [t for t in terms if not (has_cjk(t) and QUESTION_FUNCTION_CHARS.intersection(t))]
    return (telling or terms)[:MAX_TERMS]


def bigram_text(normalized: str) -> str:
    """Text for the bigram index: each CJK run as overlapping two-character words.

    Chinese words are mostly two characters long, which a trigram index cannot
    match; indexing character bigrams as words (unicode61 tokenizer) is the
    classic way to search unspaced Chinese by word. Other words pass through.
    """
    out: list[str] = []
    for run in _RUN.findall(normalized):
        if has_cjk(run):
            out.extend(_cjk_bigrams(run))
        else:
            out.append(run)
    return " ".join(out)


def _cjk_bigrams(run: str) -> list[str]:
    """Split a run into CJK bigrams; Latin letters or digits inside it stay whole words."""
    out: list[str] = []
    for part in re.findall(r"[^\W\d_a-z]+|[\da-z]+", run):
        if has_cjk(part):
            out.extend(part[i : i + 2] for i in range(max(len(part) - 1, 1)))
        else:
            out.append(part)
    return out


def bigram_terms(query: str) -> list[str]:
    """Terms of a query for the bigram index: CJK bigrams and words of two characters or more."""
    terms: list[str] = []
    for term in bigram_text(normalize(query[:MAX_QUERY_CHARS])).split():
        if len(term) >= 2 and term not in terms:
            terms.append(term)
    return terms[:MAX_TERMS]


def match_expression(terms: Sequence[str]) -> str | None:
    """An FTS5 MATCH expression of ``terms`` OR-ed, each quoted (literal), or None."""
    if not terms:
        return None
    return " OR ".join(_quote(t) for t in terms)


def bigram_match(query: str) -> str | None:
    """An FTS5 MATCH expression for the bigram index (terms OR-ed and quoted), or None."""
    return match_expression(bigram_terms(query))


@dataclass(frozen=True, slots=True)
class TermPlan:
    """The terms of one index kept for a query, and those left out (too common, or past
    the cap of scored terms)."""

    kept: tuple[str, ...]
    left_out: tuple[str, ...]


def plan_terms(
    terms: Sequence[str],
    doc_freq: Mapping[str, int],
    n_chunks: int,
    *,
    max_postings: int | None = None,
    max_term_chunks: int | None = None,
) -> TermPlan:
    """Choose the terms worth scoring, from how many chunks hold each.

    Terms in no chunk cost nothing to look up and are kept as they are (a folding
    difference between this module and the tokenizer must not lose a term). Of the
    others, those in more than ``COMMON_SHARE`` of the chunks are left out, then the
    rarest are kept while they number at most ``MAX_SCORED_TERMS`` and hold at most
    ``max_postings`` postings together (``MAX_SCORED_POSTINGS`` unless given). The
    rarest term always runs, so a query of common words is not left without keyword
    hits, unless ``max_term_chunks`` is given and it is held by more chunks than that
    (the words index's bound, ``MAX_WORD_CHUNKS``: the trigram index still runs).
    """
    budget = MAX_SCORED_POSTINGS if max_postings is None else max_postings
    absent = [t for t in terms if doc_freq.get(t, 0) == 0]
    present = sorted((t for t in terms if doc_freq.get(t, 0) > 0), key=lambda t: doc_freq[t])
    limit = max(COMMON_SHARE * n_chunks, COMMON_MIN_CHUNKS)
    kept: list[str] = []
    postings = 0
    for term in present:
        df = doc_freq[term]
        if max_term_chunks is not None and df > max_term_chunks:
            break
        if kept and (df > limit or len(kept) >= MAX_SCORED_TERMS or postings + df > budget):
            break
        kept.append(term)
        postings += df
    left_out = present[len(kept) :]
    return TermPlan(tuple(absent + kept), tuple(left_out))


def fts_match(query: str) -> str | None:
    """An FTS5 MATCH expression (terms OR-ed, each quoted), or None if no term is long enough."""
    return match_expression(query_terms(query))


def short_terms(query: str) -> list[str]:
    """The terms of a query too short for the trigram index (searched with LIKE)."""
    return [run for run in _RUN.findall(normalize(query[:MAX_QUERY_CHARS])) if run][:MAX_TERMS]


def like_pattern(term: str) -> str:
    r"""A LIKE pattern matching ``term`` literally anywhere (``\`` escapes % and _)."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
