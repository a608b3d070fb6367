"""A small model that drafts tokens for the loaded one (speculative decoding).

The draft model must share the target's vocabulary token for token: a proposal
is a token id, and the target checks it as its own. :func:`check_same_vocabulary`
refuses any other pairing with a message. Its KV cache follows the target's
reply: before proposing, the cache keeps the longest prefix it shares with the
context and evaluates the rest, so proposals that the target rejected, a new
turn, a branch or a cancelled reply cost only what differs.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from desktop_app.core.errors import GlassboxError, ModelFileError


class DraftModel:
    """A loaded draft model and the tokens its KV cache holds."""

    def __init__(self, llm: Any, path: str, cancel: Callable[[], bool]) -> None:
        self.llm = llm
        self.path = path
        self._cancel = cancel
        self.tokens: list[int] = []
        self.size = os.path.getsize(path)

    def close(self) -> None:
        """Free the model and its context."""
        self.llm.close()
        self.tokens = []

    def _decode(self, tokens: Sequence[int]) -> None:
        import llama_cpp

        llm = self.llm
        llm._batch.set_batch(batch=list(tokens), n_past=len(self.tokens), logits_all=False)
        rc = int(llama_cpp.llama_decode(llm._ctx.ctx, llm._batch.batch))
        if rc != 0:
            llm._ctx.kv_cache_seq_rm(0, len(self.tokens), -1)
            raise GlassboxError(f"The draft model could not evaluate its input (code {rc}).")
        self.tokens.extend(tokens)

    def _argmax(self) -> int:
        import llama_cpp

        ptr = llama_cpp.llama_get_logits_ith(self.llm._ctx.ctx, -1)
        row = np.ctypeslib.as_array(
            ctypes.cast(ptr, ctypes.POINTER(ctypes.c_float)), shape=(self.llm.n_vocab(),)
        )
        return int(np.argmax(row))

    def propose(self, context: Sequence[int], k: int) -> list[int]:
        """The draft's ``k`` most likely next tokens, one after another, after ``context``."""
        if k <= 0:
            return []
        cached = self.tokens
        # The last context token is evaluated again: its logits start the draft.
        limit = min(len(cached), len(context) - 1)
        common = 0
        while common < limit and cached[common] == context[common]:
            common += 1
        if common < len(cached):
            self.llm._ctx.kv_cache_seq_rm(0, common, -1)
            del cached[common:]
        n_ctx = self.llm.n_ctx()
        if len(context) + k >= n_ctx:
            return []
        todo = list(context[common:])
        n_batch = self.llm.n_batch
        for i in range(0, len(todo), n_batch):
            if self._cancel():
                return []
            self._decode(todo[i : i + n_batch])
        out: list[int] = []
        for _ in range(k):
            token = self._argmax()
            out.append(token)
            if len(out) < k:
                self._decode([token])
        return out


def check_same_vocabulary(target: Any, draft: Any, draft_path: str) -> None:
    """Refuse a draft model whose tokens are not the target's, token for token."""
    import llama_cpp

    n = target.n_vocab()
    if draft.n_vocab() != n:
        raise ModelFileError(
            f"{draft_path} cannot draft for this model: its vocabulary has "
            f"{draft.n_vocab():,} tokens and the loaded model's has {n:,}. Choose a draft "
            "model from the same family (the same tokenizer)."
        )
    tv, dv = target._model.vocab, draft._model.vocab
    for t in range(n):
        if target._model.token_get_text(t) != draft._model.token_get_text(t):
            raise ModelFileError(
                f"{draft_path} cannot draft for this model: token {t} is "
                f"{draft._model.token_get_text(t)!r} there and "
                f"{target._model.token_get_text(t)!r} here. Choose a draft model with "
                "the same tokenizer."
            )
    if llama_cpp.llama_vocab_eos(tv) != llama_cpp.llama_vocab_eos(dv):
        raise ModelFileError(
            f"{draft_path} cannot draft for this model: its end-of-text token differs."
        )
