"""Speculative decoding: who proposes tokens, and how many to propose.

A drafter proposes the next few tokens; the target model evaluates them in one
batch and draws each position with its own sampler, from its own logits. A
proposal is accepted when the target draws the same token; the first token it
draws otherwise replaces the proposal and ends the run. Drafts here are
deterministic (the n-gram that followed, the draft model's most likely token),
so this is Leviathan et al.'s rule with a one-hot draft distribution q: a
proposal d is accepted with probability min(1, p(d) / q(d)) = p(d), and a
rejection draws from the residual, p without d, renormalised. Drawing x from p
and accepting when x == d gives both at once, and it consumes the sampler's
random stream exactly as a reply without drafting does: with the same seed,
the same tokens come out, up to the small differences between llama.cpp's
batched and single-token arithmetic.

How many tokens to propose follows the acceptance rate seen so far in the
reply and what a proposal costs (see :class:`DraftLength`), so proposals are
made only where they are expected to pay. The choice depends on tokens alone, never on timings, so a
seeded reply is drafted the same way every time it is generated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

#: Longest n-gram prompt lookup matches (the reply's last tokens); shorter
#: matches are tried after it, down to MIN_NGRAM.
MAX_NGRAM = 4
#: A single repeated token is too weak a signal to propose anything from.
MIN_NGRAM = 2


class PromptLookup:
    """Proposes what followed the latest earlier occurrence of the last n tokens.

    The index maps each n-gram (n = MIN_NGRAM … MAX_NGRAM) to the position after
    its latest occurrence; it grows by one entry per n with every token, so a
    proposal costs the same whatever the length of the prompt.
    """

    def __init__(self, tokens: Sequence[int] = ()) -> None:
        self.tokens: list[int] = []
        self._after: dict[tuple[int, ...], int] = {}
        self._pending: dict[tuple[int, ...], int] = {}
        self.extend(tokens)

    def extend(self, tokens: Sequence[int]) -> None:
        """Add tokens (the prompt, then each token the reply gains)."""
        for token in tokens:
            self.tokens.append(token)
            end = len(self.tokens)
            # The n-grams ending at the previous token are now followed by one:
            # their entries become visible (an n-gram must not propose itself).
            for gram, pos in self._pending.items():
                self._after[gram] = pos
            self._pending = {}
            for n in range(MIN_NGRAM, MAX_NGRAM + 1):
                if end >= n:
                    self._pending[tuple(self.tokens[end - n : end])] = end

    def propose(self, k: int) -> list[int]:
        """Up to ``k`` tokens that followed the longest earlier match of the last tokens."""
        if k <= 0:
            return []
        toks = self.tokens
        for n in range(MAX_NGRAM, MIN_NGRAM - 1, -1):
            if len(toks) < n:
                continue
            pos = self._after.get(tuple(toks[len(toks) - n :]))
            if pos is not None:
                return toks[pos : pos + k]
        return []


@dataclass
class DraftLength:
    """How many tokens to propose next, from the acceptance rate so far.

    ``rate`` is a running estimate of the chance that one proposed token is
    accepted (its start is optimistic, so a reply tries drafting early). The
    cost of a round with k proposals, in units of one token decoded alone, is
    ``base + cost * k``: the batch that checks them (whose first position costs
    ``base``; below 1 where batches get more threads than single tokens) plus
    what each proposal adds. The length chosen maximises the expected tokens
    per unit of cost, (1 - a^(k+1)) / (1 - a) / (base + cost k), and is 0 when
    no length beats decoding one token at a time.
    """

    limit: int
    cost: float = 0.45
    base: float = 1.0
    rate: float = 0.7
    weight: float = 0.15

    def next(self) -> int:
        """The number of tokens to propose now (0: decode one token without drafting)."""
        a = min(self.rate, 0.995)
        best_k, best = 0, 1.0
        for k in range(1, self.limit + 1):
            gain = (1.0 - a ** (k + 1)) / (1.0 - a) / (self.base + self.cost * k)
            if gain > best + 1e-9:
                best_k, best = k, gain
        return best_k

    def update(self, proposed: int, accepted: int) -> None:
        """Learn from one verified run: ``accepted`` of ``proposed`` tokens (a prefix)."""
        if proposed <= 0:
            return
        # Each proposed token up to the first rejection is one observation.
        seen = min(accepted + 1, proposed)
        for i in range(seen):
            hit = 1.0 if i < accepted else 0.0
            self.rate += self.weight * (hit - self.rate)

    def probe(self) -> None:
        """Raise a low estimate a little, so drafting is tried again after a dry spell."""
        self.rate += 0.02 * (0.7 - self.rate) if self.rate < 0.7 else 0.0
