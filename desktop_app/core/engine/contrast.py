"""Context-aware decoding (CAD, Shi et al. 2023): what the documents add to each token.

The engine evaluates a grounded prompt and the same prompt without its documents
side by side (two sequences of one llama.cpp context, one batch per token). The
logits it draws from are ``(1 + alpha) · with − alpha · without``: tokens the
documents made likelier gain, tokens the model would write anyway lose. Both
sequences' plain probabilities of the drawn token are reported, so the token view
can show which words came from the documents even when ``alpha`` is 0.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from desktop_app.core.engine.protocol import CONTRAST_ALPHA_MAX, ContrastSettings, GenerateRequest
from desktop_app.core.errors import InvalidRequestError

FloatArray = np.ndarray[Any, np.dtype[np.float32]]

#: A token whose probability rose at least this many times with the documents (and
#: that is likely with them) is marked as coming from the documents.
FROM_DOCUMENTS_RATIO = 2.0
FROM_DOCUMENTS_MIN_P = 0.2


def combine(with_docs: FloatArray, without_docs: FloatArray, alpha: float) -> FloatArray:
    """``(1 + alpha) · with_docs − alpha · without_docs`` in float32; ``with_docs``
    itself when ``alpha`` is 0, so measuring alone never changes a reply."""
    if alpha == 0:
        return with_docs
    out: FloatArray = np.multiply(with_docs, np.float32(1.0 + alpha), dtype=np.float32)
    out -= np.float32(alpha) * without_docs
    return out


def token_probability(logits: FloatArray, token: int) -> float:
    """Softmax probability of ``token`` over the whole vocabulary (float64 arithmetic)."""
    row = logits.astype(np.float64)
    top = float(row.max())
    lse = top + math.log(float(np.exp(row - top).sum()))
    return math.exp(float(row[token]) - lse)


def from_documents(p_with: float | None, p_without: float | None) -> bool:
    """Whether a token's probability rose enough with the documents to credit them."""
    if p_with is None or p_without is None:
        return False
    return p_with >= FROM_DOCUMENTS_MIN_P and p_with >= FROM_DOCUMENTS_RATIO * max(p_without, 1e-9)


def check_contrast(request: GenerateRequest) -> None:
    """Refuse contrast settings that cannot be served, with what to change."""
    c = request.contrast
    if c is None:
        return
    if not math.isfinite(c.alpha) or not 0 <= c.alpha <= CONTRAST_ALPHA_MAX:
        raise InvalidRequestError(
            f"The CAD weight α must be between 0 and {CONTRAST_ALPHA_MAX:g}, not {c.alpha:g}."
        )
    if (c.messages is None) == (c.prompt is None):
        raise InvalidRequestError(
            "Context-aware decoding needs the prompt without the documents: give its "
            "messages or its text, not both."
        )
    if (c.messages is None) != (request.messages is None):
        raise InvalidRequestError(
            "The prompt without the documents must have the request's form: messages "
            "for a chat request, text for a completion."
        )


__all__ = [
    "FROM_DOCUMENTS_MIN_P",
    "FROM_DOCUMENTS_RATIO",
    "ContrastSettings",
    "check_contrast",
    "combine",
    "from_documents",
    "token_probability",
]
