"""Whole-document mode: the attached documents given to the model in full.

When the documents a chat is asked of fit in the model's context with room for the
answer, the model can read all of them instead of the passages a search picks. Each
document is one numbered source, fenced like a passage (``answer.build_prompt`` with
``whole``), so citations, the refusal and the sentence check work the same way.

The fit is counted before anything is sent: by the model's tokenizer when the caller
has one, otherwise by a safe over-estimate (every CJK character a token, every three
other characters a token; real tokenizers give fewer).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from desktop_app.core.errors import ContextOverflowError
from desktop_app.core.kb.db import Filters
from desktop_app.core.kb.retrieve import Hit
from desktop_app.core.kb.sources import stitch_chunks

if TYPE_CHECKING:
    from desktop_app.core.kb.knowledge_base import KnowledgeBase

#: Tokens the instructions, fences and question take besides the documents' text.
PROMPT_OVERHEAD = 400
#: Fence lines and a name per document.
PER_DOCUMENT = 24
#: At most this many documents are given whole (a larger scope is a search's job).
MAX_DOCUMENTS = 20

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")

TokenCounter = Callable[[str], int]


def estimate_tokens(text: str) -> int:
    """A safe over-estimate of ``text``'s tokens: each CJK character one, the rest one
    per three characters."""
    cjk = len(_CJK.findall(text))
    return cjk + (len(text) - cjk + 2) // 3


@dataclass(frozen=True, slots=True)
class Fit:
    """Whether documents fit the context with room for the answer, and the counts."""

    fits: bool
    documents: int
    tokens: int
    #: Tokens the documents may take: the context less the answer and the instructions.
    budget: int
    n_ctx: int
    answer_tokens: int
    #: The reason they do not fit, in words (empty when they do).
    message: str = ""

    def as_dict(self) -> dict[str, object]:
        return {
            "fits": self.fits,
            "documents": self.documents,
            "tokens": self.tokens,
            "budget": self.budget,
            "n_ctx": self.n_ctx,
            "answer_tokens": self.answer_tokens,
            "message": self.message,
        }


def fit(
    texts: Sequence[str],
    question: str,
    n_ctx: int,
    answer_tokens: int,
    count: TokenCounter = estimate_tokens,
) -> Fit:
    """Whether ``texts`` and ``question`` fit ``n_ctx`` tokens with ``answer_tokens`` left."""
    tokens = sum(count(t) + PER_DOCUMENT for t in texts)
    budget = n_ctx - answer_tokens - PROMPT_OVERHEAD - count(question)
    if not texts:
        return Fit(
            False, 0, 0, budget, n_ctx, answer_tokens, "There are no indexed documents to give."
        )
    if len(texts) > MAX_DOCUMENTS:
        return Fit(
            False, len(texts), tokens, budget, n_ctx, answer_tokens,
            f"{len(texts)} documents are in scope; whole-document mode gives at most "
            f"{MAX_DOCUMENTS}. Narrow the scope (filters, one collection) or use passages.",
        )  # fmt: skip
    if tokens > budget:
        return Fit(
            False, len(texts), tokens, budget, n_ctx, answer_tokens,
            f"The {len(texts)} document(s) take about {tokens:,} tokens; the model's context "
            f"of {n_ctx:,} leaves {max(budget, 0):,} for them after the instructions and "
            f"{answer_tokens:,} tokens for the answer. Use passages, fewer documents, or a "
            "larger context.",
        )  # fmt: skip
    return Fit(True, len(texts), tokens, budget, n_ctx, answer_tokens)


def documents(
    kb: KnowledgeBase,
    collections: Sequence[str],
    filters: Filters | None = None,
    *,
    limit: int = MAX_DOCUMENTS + 1,
) -> list[Hit]:
    """The indexed documents of ``collections`` (within ``filters``), each as one hit
    whose text is the whole document as indexed; at most ``limit``."""
    out: list[Hit] = []
    for name in collections:
        coll = kb.registry.collection(name)
        for doc in kb.registry.documents(coll, "indexed"):
            if filters is not None and filters.active:
                ids = kb.registry.document_chunk_ids(doc)
                if not kb.registry.filter_ids(coll, ids[:1], filters):
                    continue
            chunks = list(
                kb.registry.chunks_by_id(coll, kb.registry.document_chunk_ids(doc)).values()
            )
            if not chunks:
                continue
            text, _, _ = stitch_chunks(chunks, None, None)
            first = min(chunks, key=lambda c: c.char_start)
            whole = type(first)(
                chunk_id=first.chunk_id,
                doc_id=doc.id,
                path=doc.path,
                type=doc.type,
                idx=0,
                text=text,
                heading=None,
                page=None,
                char_start=0,
                char_end=len(text),
            )
            out.append(Hit(len(out) + 1, whole, None, None, 0.0, None, None))
            if len(out) >= limit:
                return out
    return out


def whole_documents(
    kb: KnowledgeBase,
    collections: Sequence[str],
    question: str,
    n_ctx: int,
    answer_tokens: int,
    filters: Filters | None = None,
    count: TokenCounter = estimate_tokens,
) -> tuple[list[Hit], Fit]:
    """The documents in scope and whether they fit; raises nothing."""
    docs = documents(kb, collections, filters)
    return docs, fit([d.chunk.text for d in docs], question, n_ctx, answer_tokens, count)


class DoesNotFitError(ContextOverflowError):
    """The attached documents do not fit the context with room for the answer."""


def require_fit(result: Fit) -> None:
    """Raise ``DoesNotFitError`` with the reason when the documents do not fit."""
    if not result.fits:
        raise DoesNotFitError(result.message)
