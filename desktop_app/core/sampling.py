"""The sampler chain as data: bounded parameters, stages, and the distribution drawn from.

The chain runs on the logits of the last position only, in this order::

    repeat penalty -> temperature -> top-k -> top-p -> min-p -> draw

Every stage works on the distribution left by the one before it, and the token is
drawn from exactly the distribution reported in ``p_final``: what the token view
shows is what the engine did. The same code re-ranks a stored distribution when a
slider moves in the sampling panel.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from itertools import pairwise
from typing import Any

import numpy as np
import numpy.typing as npt

from desktop_app.core.errors import InvalidRequestError

#: Stage names, in chain order, as reported in ``removed_by``.
STAGES = ("greedy", "top_k", "top_p", "min_p")

MAX_CANDIDATES = 50

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]


def _bound(lo: float, hi: float, label: str, help_text: str, step: float = 0.01) -> Any:
    return {"min": lo, "max": hi, "label": label, "help": help_text, "step": step}


@dataclass(frozen=True, slots=True)
class SamplingParams:
    """How a token is chosen from the logits. Bounds live in each field's metadata.

    ``temperature`` 0 means greedy (always the most likely token); ``top_k`` 0,
    ``top_p`` 1 and ``min_p`` 0 switch their stage off; ``repeat_penalty`` 1 is off.
    ``seed`` None picks a random seed, which is reported back so a reply can be replayed.
    """

    temperature: float = field(
        default=0.8,
        metadata=_bound(0.0, 2.0, "Temperature", "0 is greedy; higher flattens the distribution."),
    )
    top_k: int = field(
        default=40,
        metadata=_bound(0, 1000, "Top-k", "Keep the k most likely tokens (0: off).", 1),
    )
    top_p: float = field(
        default=0.95,
        metadata=_bound(0.0, 1.0, "Top-p", "Keep the smallest set reaching this mass (1: off)."),
    )
    min_p: float = field(
        default=0.05,
        metadata=_bound(0.0, 1.0, "Min-p", "Drop tokens below this share of the top one (0: off)."),
    )
    repeat_penalty: float = field(
        default=1.0,
        metadata=_bound(1.0, 2.0, "Repeat penalty", "Penalise recently used tokens (1: off)."),
    )
    repeat_last_n: int = field(
        default=64,
        metadata=_bound(0, 4096, "Penalty window", "How many recent tokens are penalised.", 1),
    )
    seed: int | None = field(
        default=None,
        metadata=_bound(0, 2**32 - 1, "Seed", "Same seed and settings give the same reply.", 1),
    )
    max_tokens: int = field(
        default=512,
        metadata=_bound(1, 32768, "Max tokens", "Longest reply, in tokens.", 1),
    )
    stop: tuple[str, ...] = field(default=(), metadata={"label": "Stop strings"})

    def __post_init__(self) -> None:
        for f in fields(self):
            meta = f.metadata
            value = getattr(self, f.name)
            if "min" not in meta or value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidRequestError(f"{meta['label']} must be a number, not {value!r}.")
            if not meta["min"] <= value <= meta["max"] or (
                isinstance(value, float) and math.isnan(value)
            ):
                raise InvalidRequestError(
                    f"{meta['label']} must be between {meta['min']} and {meta['max']}, not {value}."
                )
        if isinstance(self.stop, str) or not all(isinstance(s, str) and s for s in self.stop):
            raise InvalidRequestError("Stop strings must be a list of non-empty strings.")

    def with_seed(self, seed: int) -> SamplingParams:
        """A copy with the seed filled in."""
        return replace(self, seed=seed)

    @classmethod
    def greedy(cls, **overrides: Any) -> SamplingParams:
        """Parameters that always take the most likely token."""
        return cls(temperature=0.0, **overrides)

    def to_record(self) -> dict[str, Any]:
        """Every value as JSON-ready data (stop strings as a list).

        The one form in which settings, presets, reply cards and the API keep
        sampling values; :meth:`from_record` reads it back.
        """
        return {
            f.name: list(value) if isinstance(value := getattr(self, f.name), tuple) else value
            for f in fields(self)
        }

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> SamplingParams:
        """Parameters from stored values; the missing ones are the defaults.

        Stop strings may be a list (JSON has no tuples). Unknown names and values
        out of bounds raise InvalidRequestError, so a damaged or hand-edited record
        is refused with a message rather than half applied.
        """
        unknown = sorted(set(record) - _SAMPLING_FIELDS)
        if unknown:
            raise InvalidRequestError(f"Unknown sampling setting(s): {', '.join(unknown)}.")
        values = dict(record)
        if isinstance(values.get("stop"), list):
            values["stop"] = tuple(values["stop"])
        try:
            return cls(**values)
        except TypeError as exc:
            raise InvalidRequestError(f"Sampling settings are not valid: {exc}.") from exc


_SAMPLING_FIELDS = frozenset(f.name for f in fields(SamplingParams))


def param_bounds() -> dict[str, dict[str, Any]]:
    """Each bounded parameter's metadata, for building controls from the model."""
    return {f.name: dict(f.metadata) for f in fields(SamplingParams) if "min" in f.metadata}


@dataclass(frozen=True, slots=True)
class Candidate:
    """One of the top candidates at a position.

    ``logit`` is the raw logit; ``p_raw`` the softmax of the raw logits;
    ``p_final`` the probability after the whole chain (0 when a stage removed it);
    ``removed_by`` the stage that removed it, or None if it survived.
    """

    id: int
    text: str
    logit: float
    p_raw: float
    p_final: float
    removed_by: str | None


@dataclass(frozen=True, slots=True)
class Step:
    """What the chain did at one position: the drawn token and the candidates."""

    token: int
    p: float
    candidates: tuple[tuple[int, float, float, float, str | None], ...]
    # (id, logit, p_raw, p_final, removed_by) for the top-K by raw logit, plus the
    # drawn token when it is not among them.


def _top_sorted(values: FloatArray, k: int) -> IntArray:
    """Indices of the ``k`` largest values, largest first (ties by lower index).

    Logits of a real model have a few hundred tokens near the top and a long tail
    far below, so a threshold under the maximum finds the top k in one pass over
    the vocabulary, about five times faster than a full ``argpartition``; it sits
    between two decode calls, once per token.
    """
    n = values.shape[0]
    if k >= n:
        idx = np.arange(n)
    else:
        top = float(values.max())
        delta = 16.0  # a model's top 40 usually lie within 16 logits of the best
        idx = np.flatnonzero(values >= top - delta)
        while idx.size < k and math.isfinite(top):
            delta *= 2.0
            idx = np.flatnonzero(values >= top - delta)
            if delta > 1e6:
                break
        if idx.size < k:  # -inf or NaN logits: fall back to the plain method
            idx = np.argpartition(values, n - k)[n - k :]
        elif idx.size > k:
            sub = values[idx]
            idx = idx[np.argpartition(sub, idx.size - k)[idx.size - k :]]
    order = np.lexsort((idx, -values[idx]))
    return idx[order].astype(np.int64)


def _logsumexp(values: FloatArray) -> float:
    m = float(values.max())
    return m + math.log(float(np.exp(values - m, dtype=np.float32).sum(dtype=np.float64)))


def apply_penalty(logits: FloatArray, history: Sequence[int], params: SamplingParams) -> FloatArray:
    """The logits with the repeat penalty applied (a copy; the input is untouched)."""
    if params.repeat_penalty == 1.0 or params.repeat_last_n == 0 or not history:
        return logits
    recent = np.unique(np.asarray(history[-params.repeat_last_n :], dtype=np.int64))
    recent = recent[(recent >= 0) & (recent < logits.shape[0])]
    work = logits.copy()
    vals = work[recent]
    work[recent] = np.where(vals > 0, vals / params.repeat_penalty, vals * params.repeat_penalty)
    return work


@dataclass(frozen=True, slots=True)
class Draw:
    """A drawn token and what the chain did, before the candidates are described."""

    token: int
    final_ids: IntArray
    final_p: npt.NDArray[np.float64]
    removed: dict[int, str]
    cand_ids: IntArray


class Sampler:
    """Runs the chain position after position with one seeded random stream."""

    def __init__(self, params: SamplingParams, n_candidates: int = 20) -> None:
        if params.seed is None:
            params = params.with_seed(secrets.randbits(32))
        if not 0 <= n_candidates <= MAX_CANDIDATES:
            raise InvalidRequestError(
                f"Candidates must be between 0 and {MAX_CANDIDATES}, not {n_candidates}."
            )
        self.params = params
        self.n_candidates = n_candidates
        self._rng = np.random.Generator(np.random.PCG64(params.seed))

    @property
    def seed(self) -> int:
        assert self.params.seed is not None
        return self.params.seed

    def step(self, logits: FloatArray, history: Sequence[int] = ()) -> Step:
        """Draw one token from ``logits`` (one row, the whole vocabulary) and describe it."""
        return self.describe(self.draw(logits, history), logits)

    def draw(self, logits: FloatArray, history: Sequence[int] = ()) -> Draw:
        """Only what choosing the token needs; ``describe`` adds the rest.

        The engine starts decoding the drawn token before it describes it, so
        this is all that stands between two decode calls.
        """
        p = self.params
        raw = logits
        work = apply_penalty(raw, history, p)
        penalized = work is not raw
        k_show = self.n_candidates

        # Indices sorted by the working logits; shared with the candidates when the
        # penalty did not change the order (temperature never does).
        want = max(k_show, p.top_k if p.top_k > 0 else 0, 1)
        top_work = _top_sorted(work, want) if (p.top_k > 0 or p.temperature == 0) else None
        if penalized or top_work is None:
            top_raw = _top_sorted(raw, max(k_show, 1))
        else:
            top_raw = top_work

        cand_ids = top_raw[:k_show]
        removed: dict[int, str] = {}

        if p.temperature == 0.0:
            assert top_work is not None
            token = int(top_work[0])
            final_ids = np.asarray([token], dtype=np.int64)
            final_p = np.asarray([1.0])
            for c in cand_ids.tolist():
                if c != token:
                    removed[c] = "greedy"
        else:
            final_ids, final_p = self._truncate(work, top_work, removed, cand_ids)
            u = self._rng.random()
            cum = np.cumsum(final_p)
            pos = int(np.searchsorted(cum, u * cum[-1], side="right"))
            pos = min(pos, len(final_ids) - 1)
            token = int(final_ids[pos])
        return Draw(token, final_ids, final_p, removed, cand_ids)

    def describe(self, draw: Draw, logits: FloatArray) -> Step:
        """The drawn token's probability and the candidates' rows, from ``logits`` (raw)."""
        raw = logits
        token, final_ids, final_p = draw.token, draw.final_ids, draw.final_p
        cand_ids, removed = draw.cand_ids, draw.removed
        lse_raw = _logsumexp(raw)
        final_map = {}
        if len(final_ids) <= 4 * MAX_CANDIDATES:
            final_map = dict(zip(final_ids.tolist(), final_p.tolist(), strict=True))
        else:
            pos_of = {int(i): n for n, i in enumerate(final_ids.tolist())}
            final_map = {c: float(final_p[pos_of[c]]) for c in cand_ids.tolist() if c in pos_of}
            final_map.setdefault(token, float(final_p[pos_of[token]]))

        rows = []
        ids = cand_ids.tolist()
        if token not in ids:
            ids.append(token)
        for c in ids:
            lg = float(raw[c])
            rows.append(
                (c, lg, math.exp(lg - lse_raw), float(final_map.get(c, 0.0)), removed.get(c))
            )
        return Step(token=token, p=float(final_map[token]), candidates=tuple(rows))

    def _truncate(
        self,
        work: FloatArray,
        top_work: IntArray | None,
        removed: dict[int, str],
        cand_ids: IntArray,
    ) -> tuple[IntArray, npt.NDArray[np.float64]]:
        """Apply temperature, top-k, top-p and min-p; return survivors and their probabilities."""
        p = self.params
        t = p.temperature
        n = work.shape[0]
        cands = set(cand_ids.tolist())

        if top_work is not None and p.top_k > 0:
            kept = top_work[: min(p.top_k, n)]
            if cands:
                gone = cands.difference(kept.tolist())
                removed.update(dict.fromkeys(gone, "top_k"))
            scaled = work[kept].astype(np.float64) / t
            lse = float(np.logaddexp.reduce(scaled))
            probs = np.exp(scaled - lse)
        else:
            # No top-k: the distribution spans the whole vocabulary. Find only as many
            # of the most likely tokens as top-p and min-p need.
            scaled_all = work.astype(np.float32) / np.float32(t)
            lse = _logsumexp(scaled_all)
            m = 64
            enough_p = False
            while True:
                kept = _top_sorted(scaled_all, m)
                probs = np.exp(scaled_all[kept].astype(np.float64) - lse)
                enough_p = p.top_p < 1.0 and probs.sum() >= p.top_p
                enough_min = p.min_p > 0.0 and probs[-1] < p.min_p * probs[0]
                if enough_p or enough_min or m >= n:
                    break
                m *= 4
            if p.top_p >= 1.0 and p.min_p == 0.0 and m < n:
                # Nothing truncates: draw from the whole vocabulary.
                kept = _top_sorted(scaled_all, n)
                probs = np.exp(scaled_all[kept].astype(np.float64) - lse)
            scaled = scaled_all[kept].astype(np.float64)
            if cands:
                gone = cands.difference(kept.tolist())
                # Tokens outside the window were not reached by top-p or min-p: they
                # lie below the cut of whichever stage ended the search.
                stage = "top_p" if enough_p else "min_p"
                removed.update(dict.fromkeys(gone, stage))

        if p.top_p < 1.0 and len(kept) > 1:
            # Probabilities here are over the whole distribution left by top-k (or the
            # whole vocabulary), so the cumulative mass is exact even in a window.
            cum = np.cumsum(probs)
            keep_n = int(np.searchsorted(cum, p.top_p, side="left")) + 1
            keep_n = max(1, min(keep_n, len(kept)))
            if keep_n < len(kept):
                for c in kept[keep_n:].tolist():
                    if c in cands:
                        removed.setdefault(c, "top_p")
                kept, probs, scaled = kept[:keep_n], probs[:keep_n], scaled[:keep_n]

        if p.min_p > 0.0 and len(kept) > 1:
            floor = scaled[0] + math.log(p.min_p)
            keep_mask = scaled >= floor
            keep_mask[0] = True
            if not keep_mask.all():
                for c in kept[~keep_mask].tolist():
                    if c in cands:
                        removed.setdefault(c, "min_p")
                kept, probs = kept[keep_mask], probs[keep_mask]

        return kept, probs / probs.sum()


def rerank(
    logits: Sequence[float], params: SamplingParams, history: Sequence[int] = ()
) -> list[tuple[float, str | None]]:
    """Re-run the chain on stored candidate logits: (p_final, removed_by) per candidate.

    Used by the sampling panel to show what a setting would have done to a stored
    distribution without generating again. The candidates stand in for the whole
    vocabulary, so the figures are exact when the dropped tail carries no mass.
    """
    arr = np.asarray(logits, dtype=np.float32)
    if arr.size == 0:
        return []
    sampler = Sampler(params.with_seed(0), n_candidates=min(arr.size, MAX_CANDIDATES))
    step = sampler.step(arr, history)
    by_id = {row[0]: (row[3], row[4]) for row in step.candidates}
    return [by_id.get(i, (0.0, None)) for i in range(arr.size)]


@dataclass(frozen=True, slots=True)
class PipelineStage:
    """The candidates' distribution after one stage of the chain.

    ``probs`` is renormalised over the candidates still in the running and 0 for
    the removed ones. ``kept`` says which are still in the running: at a low
    temperature a survivor's probability can underflow to 0, so a zero alone
    does not mean a stage removed it. ``setting`` is the stage's value as the
    user reads it ("0.8", "40", "off", "greedy").
    """

    name: str
    label: str
    probs: tuple[float, ...]
    kept: tuple[bool, ...]
    setting: str


def _masked_softmax(scores: npt.NDArray[np.float64], kept: npt.NDArray[np.bool_]) -> list[float]:
    out = np.zeros(scores.shape[0], dtype=np.float64)
    live = scores[kept]
    e = np.exp(live - live.max())
    out[kept] = e / e.sum()
    return [float(x) for x in out]


def pipeline(
    logits: Sequence[float], params: SamplingParams, history: Sequence[int] = ()
) -> list[PipelineStage]:
    """The distribution after each stage of the chain, for the sampling panel's chart.

    Like :func:`rerank`, the given candidates stand in for the whole vocabulary
    and ``history`` holds positions in ``logits``. Stages, in chain order: "raw",
    "penalty" (only when ``repeat_penalty`` is not 1), "temperature", "top_k",
    "top_p", "min_p". At temperature 0 the chain is greedy: the temperature stage
    puts all the mass on the most likely candidate and the later stages keep it.
    The last stage agrees with :func:`rerank`; :func:`removed_by` names the stage
    that removed each candidate the way ``rerank`` does.
    """
    arr = np.asarray(logits, dtype=np.float32)
    n = int(arr.size)
    if n == 0:
        return []
    p = params
    raw = arr.astype(np.float64)
    everyone = np.ones(n, dtype=np.bool_)
    stages = [PipelineStage("raw", "Raw", tuple(_masked_softmax(raw, everyone)), (True,) * n, "")]

    # The penalty runs in float32, as in the sampler, so both see the same logits.
    work = apply_penalty(arr, history, p).astype(np.float64)
    if p.repeat_penalty != 1.0:
        stages.append(
            PipelineStage(
                "penalty",
                "Repeat penalty",
                tuple(_masked_softmax(work, everyone)),
                (True,) * n,
                f"{p.repeat_penalty:g}",
            )
        )

    # Most likely first, ties to the lower position: the sampler's order.
    order = np.lexsort((np.arange(n), -work))
    kept = everyone.copy()

    def add(name: str, label: str, setting: str, scores: npt.NDArray[np.float64]) -> None:
        stages.append(
            PipelineStage(
                name,
                label,
                tuple(_masked_softmax(scores, kept)),
                tuple(bool(k) for k in kept),
                setting,
            )
        )

    if p.temperature == 0.0:
        kept[:] = False
        kept[order[0]] = True
        add("temperature", "Temperature", "greedy", work)
        add("top_k", "Top-k", "greedy", work)
        add("top_p", "Top-p", "greedy", work)
        add("min_p", "Min-p", "greedy", work)
        return stages

    scaled = work / p.temperature
    add("temperature", "Temperature", f"{p.temperature:g}", scaled)

    if p.top_k > 0:
        kept[order[p.top_k :]] = False
    add("top_k", "Top-k", str(p.top_k) if p.top_k > 0 else "off", scaled)

    alive = order[kept[order]]
    if p.top_p < 1.0 and alive.size > 1:
        live = scaled[alive]
        probs = np.exp(live - live[0])
        cum = np.cumsum(probs / probs.sum())
        keep_n = max(1, min(int(np.searchsorted(cum, p.top_p, side="left")) + 1, alive.size))
        kept[alive[keep_n:]] = False
    add("top_p", "Top-p", f"{p.top_p:g}" if p.top_p < 1.0 else "off", scaled)

    alive = order[kept[order]]
    if p.min_p > 0.0 and alive.size > 1:
        floor = scaled[alive[0]] + math.log(p.min_p)
        below = alive[1:][scaled[alive[1:]] < floor]
        kept[below] = False
    add("min_p", "Min-p", f"{p.min_p:g}" if p.min_p > 0.0 else "off", scaled)
    return stages


def removed_by(stages: Sequence[PipelineStage]) -> list[str | None]:
    """Per candidate, the stage of :func:`pipeline` that removed it (None: it survived).

    Names follow ``Candidate.removed_by``: the temperature stage only removes
    candidates when it is greedy, so it is reported as "greedy".
    """
    if not stages:
        return []
    out: list[str | None] = [None] * len(stages[0].kept)
    for before, after in pairwise(stages):
        for i, (was, now) in enumerate(zip(before.kept, after.kept, strict=True)):
            if was and not now:
                out[i] = "greedy" if after.name == "temperature" else after.name
    return out
