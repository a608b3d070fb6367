"""The sampler chain as data: bounded parameters, stages, and the distribution drawn from.

The chain runs on the logits of the last position only, by default in this order::

    repeat penalty -> DRY -> temperature -> top-n-sigma -> top-k -> typical-p
    -> top-p -> min-p -> XTC -> (mirostat) -> draw

Stages that are off change nothing, so with the defaults the chain is the classic
penalty -> temperature -> top-k -> top-p -> min-p. The order can be changed
(``SamplingParams.order``); llama.cpp's own order, temperature last, is a preset.
Mirostat, when on, replaces the truncating stages and always runs last, as in
llama.cpp. The definitions of the newer stages follow llama.cpp's
``src/llama-sampling.cpp``.

Every stage works on the distribution left by the one before it, and the token is
drawn from exactly the distribution reported in ``p_final``: what the token view
shows is what the engine did. The same code re-ranks a stored distribution when a
slider moves in the sampling panel.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from itertools import pairwise
from typing import Any

import numpy as np
import numpy.typing as npt

from desktop_app.core.errors import InvalidRequestError

#: Stage names that can appear in ``removed_by``.
STAGES = (
    "greedy",
    "temperature",
    "top_n_sigma",
    "top_k",
    "typical_p",
    "top_p",
    "min_p",
    "xtc",
    "mirostat",
)

#: Glassbox's order: the classic penalty -> temperature -> top-k -> top-p -> min-p,
#: with the newer stages (off unless set) where they change the least.
DEFAULT_ORDER = (
    "penalty",
    "dry",
    "temperature",
    "top_n_sigma",
    "top_k",
    "typical_p",
    "top_p",
    "min_p",
    "xtc",
)

#: llama.cpp's default order (common/common.h): temperature last.
LLAMA_CPP_ORDER = (
    "penalty",
    "dry",
    "top_n_sigma",
    "top_k",
    "typical_p",
    "top_p",
    "min_p",
    "xtc",
    "temperature",
)

#: Named orders offered in the sampling panel and on the command line.
ORDER_PRESETS: dict[str, tuple[str, ...]] = {
    "glassbox": DEFAULT_ORDER,
    "llama.cpp": LLAMA_CPP_ORDER,
}

#: The classic stages, whose relative order alone matters when the newer ones are off.
_CLASSIC = ("penalty", "temperature", "top_k", "top_p", "min_p")

#: DRY's default sequence breakers (llama.cpp's).
DEFAULT_DRY_BREAKERS = ("\n", ":", '"', "*")

#: How many of the most likely tokens mirostat v1 fits its Zipf exponent on (llama.cpp's m).
MIROSTAT_M = 100

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
    loop_stop: int = field(
        default=2,
        metadata=_bound(
            0,
            20,
            "Loop stop",
            "End the reply once its last stretch has been written again this many times in a"
            " row, over 200 characters at least (0: off).",
            1,
        ),
    )
    typical_p: float = field(
        default=1.0,
        metadata=_bound(
            0.0,
            1.0,
            "Typical-p",
            "Keep the tokens whose surprise is closest to the average, up to this mass (1: off).",
        ),
    )
    top_n_sigma: float = field(
        default=0.0,
        metadata=_bound(
            0.0,
            10.0,
            "Top-n\u03c3",
            "Drop tokens more than n standard deviations of the logits below the top one (0: off).",
        ),
    )
    xtc_probability: float = field(
        default=0.0,
        metadata=_bound(
            0.0,
            1.0,
            "XTC probability",
            "How often XTC removes the most likely tokens (0: off).",
        ),
    )
    xtc_threshold: float = field(
        default=0.1,
        metadata=_bound(
            0.0,
            1.0,
            "XTC threshold",
            "XTC removes every token at or above this probability but the least likely of them"
            " (above 0.5: off).",
        ),
    )
    dynatemp_range: float = field(
        default=0.0,
        metadata=_bound(
            0.0,
            2.0,
            "Dynamic temperature range",
            "Temperature moves within \u00b1 this range with the distribution's entropy (0: off).",
        ),
    )
    dynatemp_exponent: float = field(
        default=1.0,
        metadata=_bound(
            0.0,
            10.0,
            "Dynamic temperature exponent",
            "How the entropy maps to the temperature (1: linear).",
        ),
    )
    dry_multiplier: float = field(
        default=0.0,
        metadata=_bound(
            0.0,
            5.0,
            "DRY multiplier",
            "Penalise tokens that would repeat an earlier sequence (0: off).",
        ),
    )
    dry_base: float = field(
        default=1.75,
        metadata=_bound(
            1.0, 4.0, "DRY base", "How fast DRY's penalty grows with the repeat's length."
        ),
    )
    dry_allowed_length: int = field(
        default=2,
        metadata=_bound(
            0, 100, "DRY allowed length", "Repeats this long or shorter are not penalised.", 1
        ),
    )
    dry_last_n: int = field(
        default=-1,
        metadata=_bound(
            -1,
            131072,
            "DRY window",
            "How many recent tokens DRY searches for repeats (-1: the whole context).",
            1,
        ),
    )
    dry_breakers: tuple[str, ...] = field(
        default=DEFAULT_DRY_BREAKERS, metadata={"label": "DRY sequence breakers"}
    )
    mirostat: int = field(
        default=0,
        metadata=_bound(
            0,
            2,
            "Mirostat",
            "Aim the surprise of each token at \u03c4 (0: off, 1: version 1, 2: version 2).",
            1,
        ),
    )
    mirostat_tau: float = field(
        default=5.0,
        metadata=_bound(
            0.0, 10.0, "Mirostat \u03c4", "The surprise (bits per token) mirostat aims at."
        ),
    )
    mirostat_eta: float = field(
        default=0.1,
        metadata=_bound(0.0, 1.0, "Mirostat \u03b7", "How fast mirostat corrects towards \u03c4."),
    )
    order: tuple[str, ...] = field(default=DEFAULT_ORDER, metadata={"label": "Sampler order"})

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
        for name in ("mirostat", "dry_allowed_length", "dry_last_n", "loop_stop"):
            value = getattr(self, name)
            if not isinstance(value, int):
                label = _LABELS[name]
                raise InvalidRequestError(f"{label} must be a whole number, not {value!r}.")
        if isinstance(self.dry_breakers, str) or not all(
            isinstance(s, str) and s for s in self.dry_breakers
        ):
            raise InvalidRequestError("DRY sequence breakers must be a list of non-empty strings.")
        _check_order(self.order)

    def classic(self) -> bool:
        """True when only the classic stages are on, in the classic order.

        The sampler then takes its fast path, which draws exactly what it drew
        before the newer stages existed.
        """
        return (
            self.typical_p >= 1.0
            and self.top_n_sigma == 0.0
            and (self.xtc_probability == 0.0 or self.xtc_threshold > 0.5)
            and self.dynatemp_range == 0.0
            and not self.dry_on()
            and self.mirostat == 0
            and tuple(s for s in self.order if s in _CLASSIC) == _CLASSIC
        )

    def dry_on(self) -> bool:
        """Whether DRY can change anything."""
        return self.dry_multiplier > 0.0 and self.dry_base >= 1.0 and self.dry_last_n != 0

    def history_needed(self) -> int:
        """How many earlier tokens the chain reads (0: all of them, the whole context)."""
        if self.dry_on():
            if self.dry_last_n < 0:
                return 0
            return max(self.dry_last_n, self.repeat_last_n)
        return self.repeat_last_n

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
        for name in ("stop", "dry_breakers", "order"):
            if isinstance(values.get(name), list):
                values[name] = tuple(values[name])
        try:
            return cls(**values)
        except TypeError as exc:
            raise InvalidRequestError(f"Sampling settings are not valid: {exc}.") from exc


_SAMPLING_FIELDS = frozenset(f.name for f in fields(SamplingParams))
_LABELS = {f.name: str(f.metadata.get("label", f.name)) for f in fields(SamplingParams)}


def _check_order(order: Any) -> None:
    """Refuse an order that is not each stage exactly once, saying what is wrong."""
    names = ", ".join(DEFAULT_ORDER)
    if isinstance(order, str) or not isinstance(order, tuple | list):
        raise InvalidRequestError(f"Sampler order must be a list of stages ({names}).")
    unknown = [s for s in order if s not in DEFAULT_ORDER]
    if unknown:
        raise InvalidRequestError(
            f"Sampler order names unknown stage(s) {', '.join(map(repr, unknown))};"
            f" the stages are {names}."
        )
    twice = sorted({s for s in order if list(order).count(s) > 1})
    if twice:
        raise InvalidRequestError(f"Sampler order names {', '.join(twice)} more than once.")
    missing = [s for s in DEFAULT_ORDER if s not in order]
    if missing:
        raise InvalidRequestError(
            f"Sampler order leaves out {', '.join(missing)}; it must name every stage once."
        )


def parse_order(text: str) -> tuple[str, ...]:
    """An order from a preset name ("glassbox", "llama.cpp") or comma-separated stages.

    Dashes may stand for underscores ("top-k"). Raises InvalidRequestError with the
    reason when the result is not every stage once.
    """
    key = text.strip()
    if key.lower() in ORDER_PRESETS:
        return ORDER_PRESETS[key.lower()]
    order = tuple(part.strip().lower().replace("-", "_") for part in key.split(",") if part.strip())
    _check_order(order)
    return order


def llama_server_fields(p: SamplingParams) -> dict[str, Any]:
    """The newer samplers that are on, and a changed order, under llama.cpp server's
    names; nothing for those that are off, so a request is what it was before them."""
    d = SamplingParams()
    out: dict[str, Any] = {}
    if p.typical_p != d.typical_p:
        out["typical_p"] = p.typical_p
    if p.top_n_sigma > 0:
        out["top_n_sigma"] = p.top_n_sigma
    if p.xtc_probability > 0:
        out.update(xtc_probability=p.xtc_probability, xtc_threshold=p.xtc_threshold)
    if p.dynatemp_range > 0:
        out.update(dynatemp_range=p.dynatemp_range, dynatemp_exponent=p.dynatemp_exponent)
    if p.dry_on():
        out.update(
            dry_multiplier=p.dry_multiplier,
            dry_base=p.dry_base,
            dry_allowed_length=p.dry_allowed_length,
            dry_penalty_last_n=p.dry_last_n,
            dry_sequence_breakers=list(p.dry_breakers),
        )
    if p.mirostat:
        out.update(mirostat=p.mirostat, mirostat_tau=p.mirostat_tau, mirostat_eta=p.mirostat_eta)
    if p.order != d.order:
        names = {"penalty": "penalties", "typical_p": "typ_p"}
        out["samplers"] = [names.get(s, s) for s in p.order]
    return out


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


def _top_sorted(values: npt.NDArray[np.floating[Any]], k: int) -> IntArray:
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


def dry_penalties(
    context: Sequence[int],
    params: SamplingParams,
    is_breaker: Callable[[int], bool] | None = None,
) -> dict[int, float]:
    """DRY's penalty per token id, the amount taken off its logit (llama.cpp's DRY).

    ``context`` holds the earlier tokens, oldest first (the prompt and the reply so
    far, as llama.cpp's server gives them). A token that would extend a sequence
    already seen, ending at the last token, by more than ``dry_allowed_length``
    tokens is penalised ``multiplier * base ** (length - allowed)``; the longest
    such repeat counts. A sequence breaker (a token whose text holds one of
    ``dry_breakers``, as ``is_breaker`` says) ends the repeat search going back,
    and is itself never penalised. Breakers are matched within one token.
    """
    if not params.dry_on() or not context:
        return {}
    window = context if params.dry_last_n < 0 else context[-params.dry_last_n :]
    w = np.asarray(window, dtype=np.int64)
    n = int(w.size)
    allowed = params.dry_allowed_length
    if n <= allowed:
        return {}
    rep_limit = n
    if is_breaker is not None:
        for back in range(n):
            if is_breaker(int(w[n - 1 - back])):
                rep_limit = back
                break
    if rep_limit < allowed or rep_limit == 0:
        return {}
    # Every earlier position ``e`` holding the last token starts a match of length 1;
    # extend them all one token further back at a time.
    ends = np.flatnonzero(w[:-1] == w[-1])
    length = np.zeros(ends.size, dtype=np.int64)
    live = np.arange(ends.size)
    back = 0
    while live.size and back < rep_limit:
        pos = ends[live] - back
        ok = pos >= 0
        ok[ok] = w[pos[ok]] == w[n - 1 - back]
        live = live[ok]
        length[live] += 1
        back += 1
    longest: dict[int, int] = {}
    for e, m in zip(ends.tolist(), length.tolist(), strict=True):
        if m >= allowed and m > 0:
            tok = int(w[e + 1])
            if longest.get(tok, -1) < m:
                longest[tok] = m
    max_exponent = int(88.7228391 / math.log(params.dry_base)) if params.dry_base > 1.000001 else 0
    out: dict[int, float] = {}
    for tok, m in longest.items():
        if is_breaker is not None and is_breaker(tok):
            continue
        exponent = m - allowed
        if max_exponent > 0:
            exponent = min(exponent, max_exponent)
        out[tok] = params.dry_multiplier * params.dry_base**exponent
    return out


def _setting(name: str, p: SamplingParams) -> str:
    """A stage's value as the user reads it in the chart."""
    if name == "penalty":
        return f"{p.repeat_penalty:g}"
    if name == "dry":
        return f"{p.dry_multiplier:g}\u00d7{p.dry_base:g}^(n-{p.dry_allowed_length})"
    if name == "temperature":
        if p.dynatemp_range > 0:
            lo = max(0.0, p.temperature - p.dynatemp_range)
            return f"{lo:g}-{p.temperature + p.dynatemp_range:g}"
        return f"{p.temperature:g}"
    if p.mirostat and name != "mirostat":
        return "off"
    if name == "top_k":
        return str(p.top_k) if p.top_k > 0 else "off"
    if name == "top_p":
        return f"{p.top_p:g}" if p.top_p < 1.0 else "off"
    if name == "min_p":
        return f"{p.min_p:g}" if p.min_p > 0.0 else "off"
    if name == "typical_p":
        return f"{p.typical_p:g}" if p.typical_p < 1.0 else "off"
    if name == "top_n_sigma":
        return f"{p.top_n_sigma:g}" if p.top_n_sigma > 0 else "off"
    if name == "xtc":
        on = p.xtc_probability > 0 and p.xtc_threshold <= 0.5
        return f"{p.xtc_threshold:g} ({p.xtc_probability:.0%})" if on else "off"
    if name == "mirostat":
        return f"v{p.mirostat} \u03c4={p.mirostat_tau:g}"
    return ""


def _shown(name: str, p: SamplingParams) -> bool:
    """Whether the chart draws a stage: the classic four always, the others when on."""
    if name in ("temperature", "top_k", "top_p", "min_p"):
        return True
    return {
        "penalty": p.repeat_penalty != 1.0,
        "dry": p.dry_on(),
        "typical_p": p.typical_p < 1.0,
        "top_n_sigma": p.top_n_sigma > 0.0,
        "xtc": p.xtc_probability > 0.0 and p.xtc_threshold <= 0.5,
    }[name]


#: ``record(name, ids, scores)``: the survivors (positions) and their scores after a stage.
Recorder = Callable[[str, "IntArray", "npt.NDArray[np.float64]"], None]


class _Chain:
    """The general chain on one row of logits: any order, every stage.

    Survivors are kept as positions (``ids``) with their scores. ``sorted`` says
    whether they are most likely first (ties to the lower position); ``ascending``
    whether they are in position order, where a tie goes to the lower index. Stages
    avoid sorting the whole vocabulary where a mask or a partial sort will do.
    """

    def __init__(self, logits: FloatArray, track: IntArray | None) -> None:
        n = logits.shape[0]
        self.ids: IntArray = np.arange(n, dtype=np.int64)
        self.s: npt.NDArray[np.float64] = logits.astype(np.float64)
        self.sorted = False
        self.ascending = True
        self.track = track
        self.alive = np.ones(n, dtype=np.bool_)
        self.removed: dict[int, str] = {}

    def changed(self) -> None:
        """The scores changed: the order is no longer known."""
        if self.sorted:
            self.ascending = False
        self.sorted = False

    def sort(self) -> None:
        if self.sorted:
            return
        if self.ascending:
            order = np.argsort(-self.s, kind="stable")
        else:
            order = np.lexsort((self.ids, -self.s))
        self.ids, self.s = self.ids[order], self.s[order]
        self.sorted, self.ascending = True, False

    def top(self, count: int) -> IntArray:
        """Indices (into the survivors) of the ``count`` most likely, most likely first."""
        if self.sorted:
            return np.arange(min(count, self.ids.size), dtype=np.int64)
        idx = _top_sorted(self.s, count)
        if not self.ascending:  # ties to the lower position, not the lower index
            idx = idx[np.lexsort((self.ids[idx], -self.s[idx]))]
        return idx

    def keep(self, mask: npt.NDArray[np.bool_], stage: str) -> None:
        if mask.all():
            return
        gone = self.ids[~mask]
        if self.track is None:
            for i in gone.tolist():
                self.removed.setdefault(i, stage)
        else:
            was = self.alive[self.track]
            self.alive[gone] = False
            for i in self.track[was & ~self.alive[self.track]].tolist():
                self.removed.setdefault(int(i), stage)
        self.ids, self.s = self.ids[mask], self.s[mask]

    def keep_only(self, idx: IntArray, stage: str) -> None:
        """Keep the survivors at ``idx``, in that order."""
        mask = np.zeros(self.ids.size, dtype=np.bool_)
        mask[idx] = True
        self.keep(mask, stage)
        if not self.sorted:
            # ``idx`` came most likely first: the survivors are now sorted.
            # The kept come in index order; the j-th of ``idx`` is at its rank there.
            at = np.argsort(np.argsort(idx))
            self.ids, self.s = self.ids[at], self.s[at]
            self.sorted, self.ascending = True, False

    def keep_first(self, count: int, stage: str) -> None:
        """Keep the ``count`` most likely (at least one)."""
        count = max(1, count)
        if count >= self.ids.size:
            return
        if self.sorted:
            mask = np.zeros(self.ids.size, dtype=np.bool_)
            mask[:count] = True
            self.keep(mask, stage)
        else:
            self.keep_only(self.top(count), stage)

    def lse(self) -> float:
        m = float(self.s.max())
        return m + math.log(float(np.exp(self.s - m).sum()))

    def probs(self) -> npt.NDArray[np.float64]:
        e: npt.NDArray[np.float64] = np.exp(self.s - self.s.max())
        out: npt.NDArray[np.float64] = e / e.sum()
        return out


def _run_chain(
    logits: FloatArray,
    params: SamplingParams,
    history: Sequence[int],
    dry: Mapping[int, float],
    *,
    track: IntArray | None,
    xtc_fires: Callable[[], bool],
    mu: float,
    n_vocab: int,
    record: Recorder | None = None,
) -> _Chain:
    """Run every stage in ``params.order`` (then mirostat); the survivors come back sorted.

    ``history`` holds positions for the repeat penalty, ``dry`` DRY's penalty per
    position. ``xtc_fires`` rolls XTC's die, ``mu`` is mirostat's current target.
    """
    p = params
    c = _Chain(logits, track)
    greedy = p.temperature == 0.0
    truncating = {"top_k", "typical_p", "top_p", "min_p", "xtc", "top_n_sigma"}
    modifiers = ("penalty", "dry")
    names = list(p.order)
    if greedy:
        # Greedy takes the best token once the logits are final: modifiers first.
        names = [n for n in names if n in modifiers] + [n for n in names if n not in modifiers]
    for name in names:
        if greedy and name not in modifiers:
            c.keep_first(1, "greedy")
            if record is not None and _shown(name, p):
                record(name, c.ids, c.s)
            continue
        if name == "penalty":
            if p.repeat_penalty != 1.0 and p.repeat_last_n and history:
                recent = np.unique(np.asarray(history[-p.repeat_last_n :], dtype=np.int64))
                hit = np.isin(c.ids, recent)
                x = c.s[hit].astype(np.float32)
                pen = np.float32(p.repeat_penalty)
                c.s[hit] = np.where(x > 0, x / pen, x * pen).astype(np.float64)
                c.changed()
        elif name == "dry":
            if dry:
                hit = np.isin(c.ids, np.fromiter(dry.keys(), dtype=np.int64))
                if hit.any():
                    c.s[hit] -= np.asarray([dry[int(i)] for i in c.ids[hit]], dtype=np.float64)
                    c.changed()
        elif name == "temperature":
            t = p.temperature
            if p.dynatemp_range > 0.0:
                if c.ids.size <= 1:
                    t = 1.0  # llama.cpp leaves a single candidate alone
                else:
                    lo = max(0.0, p.temperature - p.dynatemp_range)
                    hi = p.temperature + p.dynatemp_range
                    probs = c.probs()
                    nz = probs[probs > 0]
                    entropy = float(-(nz * np.log(nz)).sum())
                    normalized = entropy / math.log(c.ids.size)
                    t = lo + (hi - lo) * normalized**p.dynatemp_exponent
                    if t <= 0.0:
                        c.keep_first(1, "temperature")
                        t = 1.0
            c.s = c.s / t
        elif p.mirostat and name in truncating:
            pass  # mirostat stands in for the truncating stages
        elif name == "top_k":
            if 0 < p.top_k < c.ids.size:
                c.keep_first(p.top_k, "top_k")
        elif name == "top_p":
            if p.top_p < 1.0 and c.ids.size > 1:
                # Grow a window of the most likely until it holds the mass.
                lse = c.lse()
                m = 64
                while True:
                    idx = c.top(m)
                    cum = np.cumsum(np.exp(c.s[idx] - lse))
                    if cum[-1] >= p.top_p or idx.size >= c.ids.size:
                        break
                    m *= 4
                keep_n = int(np.searchsorted(cum, p.top_p, side="left")) + 1
                c.keep_first(min(keep_n, c.ids.size), "top_p")
        elif name == "min_p":
            if p.min_p > 0.0 and c.ids.size > 1:
                c.keep(c.s >= c.s.max() + math.log(p.min_p), "min_p")
        elif name == "typical_p":
            if p.typical_p < 1.0 and c.ids.size > 1:
                c.sort()
                probs = c.probs()
                with np.errstate(divide="ignore"):
                    logp = np.log(probs)
                pos = probs > 0
                entropy = float(-(probs[pos] * logp[pos]).sum())
                shifted = np.abs(-logp - entropy)
                by_typical = np.argsort(shifted, kind="stable")
                cum = np.cumsum(probs[by_typical])
                over = np.flatnonzero(cum > p.typical_p)
                last = int(over[0]) + 1 if over.size else by_typical.size
                mask = np.zeros(c.ids.size, dtype=np.bool_)
                mask[by_typical[:last]] = True
                c.keep(mask, "typical_p")
        elif name == "top_n_sigma":
            if p.top_n_sigma > 0.0 and c.ids.size > 1:
                std = float(c.s.std())
                c.keep(c.s >= c.s.max() - p.top_n_sigma * std, "top_n_sigma")
        elif name == "xtc" and (
            p.xtc_probability > 0.0 and p.xtc_threshold <= 0.5 and c.ids.size >= 2 and xtc_fires()
        ):
            probs = c.probs()
            above = np.flatnonzero(probs >= p.xtc_threshold)
            if above.size > 1:
                # All but the least likely of them go (ties: the later one stays).
                sub = np.lexsort((-c.ids[above], probs[above]))
                stays = above[sub[0]]
                mask = np.ones(c.ids.size, dtype=np.bool_)
                mask[above] = False
                mask[stays] = True
                c.keep(mask, "xtc")
        if record is not None and _shown(name, p):
            record(name, c.ids, c.s)
    if greedy:
        c.keep_first(1, "greedy")
        return c
    if p.mirostat:
        if p.mirostat == 1:
            lse = c.lse()
            top = c.top(MIROSTAT_M)
            probs = np.exp(c.s[top] - lse)
            m = min(MIROSTAT_M - 1, c.ids.size - 1)
            i = np.arange(m, dtype=np.float64)
            t_i = np.log((i + 2) / (i + 1))
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                b_i = np.log(probs[:m] / probs[1 : m + 1])
                s_hat = np.float64((t_i * b_i).sum() / (t_i * t_i).sum()) if m else np.nan
                eps = s_hat - 1
                # numpy scalars: a zero or a negative base gives inf or NaN, not an exception
                k = float(
                    np.power(
                        eps * np.power(2.0, mu) / (1 - np.power(np.float64(n_vocab), -eps)),
                        1 / s_hat,
                    )
                )
            keep_n = c.ids.size if not math.isfinite(k) else max(int(min(k, 1e12)), 1)
            c.keep_first(min(keep_n, c.ids.size), "mirostat")
        else:
            with np.errstate(divide="ignore"):
                surprise = (c.lse() - c.s) / math.log(2)
            mask = surprise <= mu
            if not mask.any():
                c.keep_first(1, "mirostat")
            else:
                c.keep(mask, "mirostat")
        if record is not None:
            record("mirostat", c.ids, c.s)
    c.sort()
    return c


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

    def __init__(
        self,
        params: SamplingParams,
        n_candidates: int = 20,
        token_text: Callable[[int], str] | None = None,
    ) -> None:
        """``token_text`` gives a token's text, for DRY's sequence breakers.

        Mirostat's target ``mu`` starts at 2 tau and follows the reply token by
        token: use one sampler per reply.
        """
        if params.seed is None:
            params = params.with_seed(secrets.randbits(32))
        if not 0 <= n_candidates <= MAX_CANDIDATES:
            raise InvalidRequestError(
                f"Candidates must be between 0 and {MAX_CANDIDATES}, not {n_candidates}."
            )
        self.params = params
        self.n_candidates = n_candidates
        self._rng = np.random.Generator(np.random.PCG64(params.seed))
        self.mu = 2.0 * params.mirostat_tau
        self._token_text = token_text
        self._breaks: dict[int, bool] = {}

    def is_breaker(self, token: int) -> bool:
        """Whether ``token``'s text holds one of DRY's sequence breakers (cached)."""
        found = self._breaks.get(token)
        if found is None:
            text = self._token_text(token) if self._token_text is not None else ""
            found = self._breaks[token] = any(b in text for b in self.params.dry_breakers)
        return found

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
        if not p.classic():
            return self._draw_chain(logits, history)
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

    def _draw_chain(self, logits: FloatArray, history: Sequence[int]) -> Draw:
        """The general chain: any order, the newer stages; updates mirostat's ``mu``."""
        p = self.params
        cand_ids = _top_sorted(logits, max(self.n_candidates, 1))[: self.n_candidates]
        dry = dry_penalties(history, p, self.is_breaker) if p.dry_on() else {}
        chain = _run_chain(
            logits,
            p,
            history,
            dry,
            track=cand_ids,
            xtc_fires=lambda: bool(self._rng.random() <= p.xtc_probability),
            mu=self.mu,
            n_vocab=int(logits.shape[0]),
        )
        probs = chain.probs()
        if p.temperature == 0.0:
            return Draw(int(chain.ids[0]), chain.ids, probs, chain.removed, cand_ids)
        u = self._rng.random()
        cum = np.cumsum(probs)
        pos = min(int(np.searchsorted(cum, u * cum[-1], side="right")), len(probs) - 1)
        if p.mirostat:
            observed = -math.log2(float(probs[pos]))
            self.mu -= p.mirostat_eta * (observed - p.mirostat_tau)
        return Draw(int(chain.ids[pos]), chain.ids, probs, chain.removed, cand_ids)

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
    if not params.classic():
        # XTC shown as when it fires, mirostat at its first token's target (2 tau).
        stages = pipeline(logits, params, history)
        return list(zip(stages[-1].probs, removed_by(stages), strict=True))
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


_LABELS_EN = {
    "raw": "Raw",
    "penalty": "Repeat penalty",
    "dry": "DRY",
    "temperature": "Temperature",
    "top_n_sigma": "Top-n\u03c3",
    "top_k": "Top-k",
    "typical_p": "Typical-p",
    "top_p": "Top-p",
    "min_p": "Min-p",
    "xtc": "XTC",
    "mirostat": "Mirostat",
}


def pipeline(
    logits: Sequence[float],
    params: SamplingParams,
    history: Sequence[int] = (),
    *,
    token_ids: Sequence[int] | None = None,
    context: Sequence[int] | None = None,
    token_text: Callable[[int], str] | None = None,
    mu: float | None = None,
) -> list[PipelineStage]:
    """The distribution after each stage of the chain, for the sampling panel's chart.

    Like :func:`rerank`, the given candidates stand in for the whole vocabulary
    and ``history`` holds positions in ``logits``. Stages, in ``params.order``:
    "raw", then "penalty" (only when ``repeat_penalty`` is not 1), "dry",
    "top_n_sigma", "typical_p" and "xtc" (only when on), "temperature", "top_k",
    "top_p", "min_p" (always), and "mirostat" last when on. At temperature 0 the
    chain is greedy: the stages after the penalties put all the mass on the most
    likely candidate. The last stage agrees with :func:`rerank`; :func:`removed_by`
    names the stage that removed each candidate the way ``rerank`` does.

    DRY reads token ids: ``context`` (the earlier tokens) and ``token_ids`` (the
    candidates' ids); without them ``history`` serves as both, positions being ids.
    ``token_text`` gives a token's text for DRY's breakers. XTC is shown as when
    it fires (it fires with ``xtc_probability``); mirostat with target ``mu``
    (default 2 tau, its value at a reply's first token), over a vocabulary of the
    candidates.
    """
    arr = np.asarray(logits, dtype=np.float32)
    n = int(arr.size)
    if n == 0:
        return []
    p = params
    everyone = np.ones(n, dtype=np.bool_)
    stages = [
        PipelineStage(
            "raw", "Raw", tuple(_masked_softmax(arr.astype(np.float64), everyone)), (True,) * n, ""
        )
    ]

    def record(name: str, ids: IntArray, scores: npt.NDArray[np.float64]) -> None:
        kept = np.zeros(n, dtype=np.bool_)
        kept[ids] = True
        full = np.zeros(n, dtype=np.float64)
        full[ids] = scores
        greedy = p.temperature == 0.0 and name not in ("penalty", "dry")
        stages.append(
            PipelineStage(
                name,
                _LABELS_EN[name],
                tuple(_masked_softmax(full, kept)),
                tuple(bool(k) for k in kept),
                "greedy" if greedy else _setting(name, p),
            )
        )

    dry: dict[int, float] = {}
    if p.dry_on():
        ids = list(range(n)) if token_ids is None else list(token_ids)
        seen = list(history) if context is None and token_ids is None else list(context or ())
        by_id = dry_penalties(
            seen,
            p,
            (lambda t: any(b in token_text(t) for b in p.dry_breakers)) if token_text else None,
        )
        dry = {pos: by_id[t] for pos, t in enumerate(ids) if t in by_id}
    _run_chain(
        arr,
        p,
        history,
        dry,
        track=None,
        xtc_fires=lambda: True,
        mu=2.0 * p.mirostat_tau if mu is None else mu,
        n_vocab=n,
        record=record,
    )
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
                greedy = after.name == "temperature" or after.setting == "greedy"
                out[i] = "greedy" if greedy else after.name
    return out
