"""Saved KV states of earlier prompts, so going back to a chat does not evaluate it again.

The engine keeps one sequence in llama.cpp's KV cache: the last prompt and
reply. A request that shares only a short beginning with it (another chat,
another task, another API client) used to throw the rest away. Before that
happens, the sequence's state is copied out (``llama_state_seq_get_data``) and
kept here under its tokens; a later prompt that shares more with a saved state
than with the live cache gets that state back and evaluates only what differs.

The states are bounded in bytes (least recently used go first). On the default
model a token of KV cache is 28 KB, so the default budget holds about 9,000
tokens of conversations.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

#: Memory for saved states.
DEFAULT_BUDGET_BYTES = 256 * 1024 * 1024
#: A sequence shorter than this is cheaper to evaluate again than to save.
MIN_TOKENS = 64


def common_prefix(a: Sequence[int], b: Sequence[int], limit: int | None = None) -> int:
    """How many leading tokens ``a`` and ``b`` share (at most ``limit``)."""
    n = min(len(a), len(b)) if limit is None else min(len(a), len(b), limit)
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


class PrefixCache:
    """Saved sequence states keyed by their tokens, least recently used first out."""

    def __init__(self, budget_bytes: int = DEFAULT_BUDGET_BYTES) -> None:
        self.budget = budget_bytes
        self._entries: OrderedDict[tuple[int, ...], bytes] = OrderedDict()
        self.used = 0

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        """Forget every saved state (a model was loaded or unloaded)."""
        self._entries.clear()
        self.used = 0

    def put(self, tokens: Sequence[int], state: bytes) -> None:
        """Keep ``state`` for ``tokens``; a state of a longer prompt replaces its prefixes."""
        if len(state) > self.budget or len(tokens) < MIN_TOKENS:
            return
        key = tuple(tokens)
        for other in [k for k in self._entries if k == key[: len(k)]]:
            self.used -= len(self._entries.pop(other))
        self._entries[key] = state
        self.used += len(state)
        while self.used > self.budget:
            _, dropped = self._entries.popitem(last=False)
            self.used -= len(dropped)

    def best(self, prompt: Sequence[int], limit: int) -> tuple[tuple[int, ...], bytes, int] | None:
        """The saved state sharing the longest beginning with ``prompt`` (at most ``limit``)."""
        found: tuple[tuple[int, ...], bytes, int] | None = None
        for key, state in self._entries.items():
            n = common_prefix(key, prompt, limit)
            if found is None or n > found[2]:
                found = (key, state, n)
        if found is not None:
            self._entries.move_to_end(found[0])
        return found
