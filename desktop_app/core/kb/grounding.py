"""Grounding: from a question to the passages a reply is built on.

One pipeline for the window, ``glassbox ask`` and the API, so they rank alike:

1. rewrite (optional, the loaded model): up to ``MAX_PHRASINGS`` other phrasings,
   the words a passage answering the question would name (``expand``); and, when
   the question's language is not the documents' (``translate``), the question
   written in the documents' language;
2. search: the question and every phrasing, each with its vector and keyword
   rankings, all fused by rank in one fusion (``retrieve.search``), over every
   collection the chat uses; a larger pool (``RERANK_POOL``) when a rerank follows;
   the words of ``expand`` rank the best ``TERMS_POOL`` again (``rank_by_terms``);
3. rerank (optional): the loaded model, or a cross-encoder, judges the pool;
4. the best ``k`` are kept.

The window runs the model's steps on the engine thread and the search on the
knowledge thread, so each step is a function here; ``ground`` chains them where one
thread holds both the knowledge base and the engine (the command line).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from desktop_app.core.kb.answer import TextGenerator
from desktop_app.core.kb.db import Filters
from desktop_app.core.kb.rerank import rerank
from desktop_app.core.kb.retrieve import Hit
from desktop_app.core.kb.rewrite import MAX_PHRASINGS, answer_terms, rewrite_queries
from desktop_app.core.kb.translate import (
    CrossLanguage,
    Translator,
    cross_language,
    engine_translator,
    merge_counts,
)

if TYPE_CHECKING:
    from desktop_app.core.kb.knowledge_base import KnowledgeBase

#: Passages fetched for a rerank to choose the best ``k`` from.
RERANK_POOL = 20

__all__ = ["MAX_PHRASINGS", "RERANK_POOL", "Grounded", "GroundingOptions", "ground"]


class Reranker(Protocol):
    """Something that orders passages by how well they answer a question."""

    def rerank(self, question: str, hits: Sequence[Hit]) -> list[Hit]:
        """``hits``, best first."""
        ...


@dataclass(frozen=True)
class GroundingOptions:
    """How a question is grounded: where to look and which optional steps run."""

    collections: tuple[str, ...]
    k: int = 5
    min_similarity: float | None = None
    filters: Filters | None = None
    #: Other phrasings the model writes (0: none), at most ``MAX_PHRASINGS``.
    multi_query: int = 0
    #: Whether a rerank judges a larger pool before the best ``k`` are kept.
    rerank: bool = False
    #: Whether a question in another language than the documents' is also searched
    #: as the model writes it in their language (``translate``).
    translate: bool = True
    #: Whether the model lists the commands, files, options and terms a passage that
    #: answers would name (``rewrite.answer_terms``), and the passages naming them rank
    #: higher (``retrieve.rank_by_terms``). Off by default: it costs a short generation
    #: (1.3–1.6 s on 2 cores) and lifted the Debian development questions, not the
    #: held ones (README, "Knowledge base").
    expand: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.multi_query <= MAX_PHRASINGS:
            raise ValueError(f"multi_query must be between 0 and {MAX_PHRASINGS}")
        if self.k <= 0:
            raise ValueError("k must be positive")

    @property
    def pool(self) -> int:
        """How many passages the search returns: the pool a rerank chooses from."""
        return max(self.k, RERANK_POOL) if self.rerank else self.k


@dataclass(frozen=True)
class Grounded:
    """The passages a reply is built on, and the phrasings that found them."""

    hits: list[Hit]
    phrasings: list[str] = field(default_factory=list)
    #: The cross-language step: the question in the documents' language, or why not.
    cross: CrossLanguage = field(default_factory=CrossLanguage)
    #: With ``expand``, the terms the model listed, which ranked the passages.
    terms: str = ""


def phrasings(
    engine: TextGenerator, question: str, options: GroundingOptions, *, chat_template: bool
) -> list[str]:
    """Step 1: other phrasings of ``question`` (``multi_query`` of them)."""
    if options.multi_query <= 0:
        return []
    return rewrite_queries(engine, question, options.multi_query, chat_template=chat_template)


def expand_terms(
    engine: TextGenerator, question: str, options: GroundingOptions, *, chat_template: bool
) -> str:
    """Step 1c with ``expand``: the terms a passage that answers would name, which rank
    the question's passages ("" when the step is off or the model lists none)."""
    return answer_terms(engine, question, chat_template=chat_template) if options.expand else ""


def collection_languages(kb: KnowledgeBase, collections: Sequence[str]) -> dict[str, int]:
    """Chunks per language over the collections a question is asked of."""
    return merge_counts(
        {name: kb.registry.languages(kb.registry.collection(name)) for name in collections}
    )


def translation(
    question: str,
    options: GroundingOptions,
    counts: dict[str, int],
    translator: Translator | None,
) -> CrossLanguage:
    """Step 1b: the question in the documents' language when it is in another one
    (nothing when ``options.translate`` is off: the note says so). Never raises."""
    return cross_language(question, counts, translator, enabled=options.translate)


def find_passages(
    kb: KnowledgeBase,
    question: str,
    options: GroundingOptions,
    alternatives: Sequence[str] = (),
    *,
    record: bool = True,
    terms: str = "",
) -> list[Hit]:
    """Step 2: the pool of passages for the question and its phrasings, fused by rank,
    ranked again by ``terms`` when the model listed them."""
    return kb.search_many(
        question,
        options.collections,
        options.pool,
        filters=options.filters,
        min_similarity=options.min_similarity,
        alternatives=alternatives,
        record=record,
        terms=terms,
    )


def judge(
    engine: TextGenerator, question: str, hits: Sequence[Hit], *, chat_template: bool
) -> list[Hit]:
    """Step 3 with the loaded model: ``hits`` ordered by its yes-probability."""
    return rerank(engine, question, hits, chat_template=chat_template)


def best(hits: Sequence[Hit], options: GroundingOptions) -> list[Hit]:
    """Step 4: the ``k`` passages the reply is built on."""
    return list(hits[: options.k])


def ground(
    kb: KnowledgeBase,
    engine: TextGenerator | None,
    question: str,
    options: GroundingOptions,
    *,
    chat_template: bool = True,
    reranker: Reranker | None = None,
    translator: Translator | None = None,
) -> Grounded:
    """All the steps on one thread. Without an engine the model's steps are skipped;
    ``reranker`` (a cross-encoder) replaces the model's rerank when given, and
    ``translator`` the model's translation (by default the engine's)."""
    alternatives = (
        phrasings(engine, question, options, chat_template=chat_template)
        if engine is not None
        else []
    )
    if translator is None and engine is not None:
        translator = engine_translator(engine, chat_template=chat_template)
    cross = translation(
        question, options, collection_languages(kb, options.collections), translator
    )
    alternatives = [*alternatives, *cross.alternatives]
    terms = (
        expand_terms(engine, question, options, chat_template=chat_template)
        if engine is not None
        else ""
    )
    hits = find_passages(kb, question, options, alternatives, terms=terms)
    if options.rerank and hits:
        if reranker is not None:
            hits = reranker.rerank(question, hits)
        elif engine is not None:
            hits = judge(engine, question, hits, chat_template=chat_template)
    return Grounded(best(hits, options), alternatives, cross, terms)
