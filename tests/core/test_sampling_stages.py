"""The newer sampler stages (typical-p, top-nσ, XTC, dynamic temperature, DRY, mirostat)
and the editable order, against a brute-force reference written plainly here.

The reference follows llama.cpp's definitions (src/llama-sampling.cpp) one stage at a
time with plain lists and full sorts.
"""

from __future__ import annotations

import itertools
import json
import math
from typing import Any

import numpy as np
import pytest

from desktop_app.core.errors import InvalidRequestError
from desktop_app.core.sampling import (
    DEFAULT_ORDER,
    LLAMA_CPP_ORDER,
    Sampler,
    SamplingParams,
    dry_penalties,
    parse_order,
    pipeline,
    removed_by,
    rerank,
)

# ----------------------------------------------------------------- the reference


def ref_dry(context: list[int], p: SamplingParams, breakers: set[int]) -> dict[int, float]:
    """For every earlier position, the longest run ending there that matches the end."""
    if p.dry_multiplier == 0 or p.dry_last_n == 0:
        return {}
    w = context if p.dry_last_n < 0 else context[-p.dry_last_n :]
    n = len(w)
    if n <= p.dry_allowed_length:
        return {}
    limit = n
    for back in range(n):
        if w[n - 1 - back] in breakers:
            limit = back
            break
    if limit < p.dry_allowed_length or limit == 0:
        return {}
    longest: dict[int, int] = {}
    for e in range(n - 1):
        m = 0
        while m <= e and m < limit and w[e - m] == w[n - 1 - m]:
            m += 1
        if m >= p.dry_allowed_length and m > 0:
            longest[w[e + 1]] = max(longest.get(w[e + 1], 0), m)
    return {
        t: p.dry_multiplier * p.dry_base ** (m - p.dry_allowed_length)
        for t, m in longest.items()
        if t not in breakers
    }


def softmax(scores: dict[int, float]) -> dict[int, float]:
    top = max(scores.values())
    e = {i: math.exp(s - top) for i, s in scores.items()}
    total = sum(e.values())
    return {i: v / total for i, v in e.items()}


def by_likelihood(scores: dict[int, float]) -> list[int]:
    return sorted(scores, key=lambda i: (-scores[i], i))


def reference(
    logits: list[float],
    p: SamplingParams,
    history: list[int],
    *,
    breakers: frozenset[int] = frozenset(),
    mu: float | None = None,
) -> tuple[list[float], dict[int, str]]:
    """Final probabilities and removed-by per position; XTC always fires."""
    n = len(logits)
    s = {i: float(np.float32(x)) for i, x in enumerate(logits)}
    removed: dict[int, str] = {}

    def keep(alive: list[int], stage: str) -> None:
        for i in list(s):
            if i not in alive:
                removed.setdefault(i, stage)
                del s[i]

    dry = ref_dry(history, p, set(breakers))
    greedy = p.temperature == 0
    order = list(p.order)
    if greedy:
        order = [x for x in order if x in ("penalty", "dry")]
    for name in order:
        if name == "penalty" and p.repeat_penalty != 1.0 and p.repeat_last_n:
            for t in set(history[-p.repeat_last_n :]):
                if t in s:
                    x, pen = np.float32(s[t]), np.float32(p.repeat_penalty)
                    s[t] = float(x / pen if x > 0 else x * pen)
        elif name == "dry":
            for t, amount in dry.items():
                if t in s:
                    s[t] -= amount
        elif name == "temperature":
            temp = p.temperature
            if p.dynatemp_range > 0 and len(s) > 1:
                lo = max(0.0, p.temperature - p.dynatemp_range)
                hi = p.temperature + p.dynatemp_range
                probs = softmax(s)
                h = -sum(q * math.log(q) for q in probs.values() if q > 0)
                temp = lo + (hi - lo) * (h / math.log(len(s))) ** p.dynatemp_exponent
            elif p.dynatemp_range > 0:
                temp = 1.0
            s = {i: v / temp for i, v in s.items()}
        elif p.mirostat:
            continue
        elif name == "top_k" and 0 < p.top_k < len(s):
            keep(by_likelihood(s)[: p.top_k], "top_k")
        elif name == "top_p" and p.top_p < 1 and len(s) > 1:
            probs, alive, total = softmax(s), [], 0.0
            for i in by_likelihood(s):
                alive.append(i)
                total += probs[i]
                if total >= p.top_p:
                    break
            keep(alive, "top_p")
        elif name == "min_p" and p.min_p > 0 and len(s) > 1:
            probs = softmax(s)
            top = max(probs.values())
            keep([i for i in s if probs[i] >= p.min_p * top], "min_p")
        elif name == "typical_p" and p.typical_p < 1 and len(s) > 1:
            probs = softmax(s)
            h = -sum(q * math.log(q) for q in probs.values() if q > 0)
            ranked = by_likelihood(s)
            typical = sorted(ranked, key=lambda i: abs(-math.log(probs[i]) - h))
            alive, total = [], 0.0
            for i in typical:
                alive.append(i)
                total += probs[i]
                if total > p.typical_p:
                    break
            keep(alive, "typical_p")
        elif name == "top_n_sigma" and p.top_n_sigma > 0 and len(s) > 1:
            values = list(s.values())
            mean = sum(values) / len(values)
            std = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
            top = max(values)
            keep([i for i in s if s[i] >= top - p.top_n_sigma * std], "top_n_sigma")
        elif name == "xtc" and p.xtc_probability > 0 and p.xtc_threshold <= 0.5 and len(s) > 1:
            probs = softmax(s)
            ranked = by_likelihood(s)
            above = [i for i in ranked if probs[i] >= p.xtc_threshold]
            if len(above) > 1:
                keep([i for i in ranked if i not in above[:-1]], "xtc")
    if greedy:
        keep(by_likelihood(s)[:1], "greedy")
    elif p.mirostat:
        target = 2 * p.mirostat_tau if mu is None else mu
        ranked = by_likelihood(s)
        probs = softmax(s)
        if p.mirostat == 1:
            m = min(99, len(ranked) - 1)
            t_i = [math.log((i + 2) / (i + 1)) for i in range(m)]
            b_i = [math.log(probs[ranked[i]] / probs[ranked[i + 1]]) for i in range(m)]
            s_hat = sum(t * b for t, b in zip(t_i, b_i, strict=True)) / sum(t * t for t in t_i)
            eps = s_hat - 1
            k = (eps * 2**target / (1 - n ** (-eps))) ** (1 / s_hat)
            keep(ranked[: max(int(k), 1)], "mirostat")
        else:
            alive = [i for i in ranked if -math.log2(probs[i]) <= target]
            # the cut is at the first token over the target: the ranks are in order
            alive = ranked[: max(1, len(alive))]
            keep(alive, "mirostat")
    final = softmax(s)
    return [final.get(i, 0.0) for i in range(n)], removed


# ----------------------------------------------------------------- the cases

NEW_STAGES: list[dict[str, Any]] = [
    {"typical_p": 0.5},
    {"typical_p": 0.9},
    {"top_n_sigma": 1.0},
    {"top_n_sigma": 0.3},
    {"xtc_probability": 1.0, "xtc_threshold": 0.1},
    {"xtc_probability": 1.0, "xtc_threshold": 0.02},
    {"dynatemp_range": 0.5},
    {"dynatemp_range": 1.0, "dynatemp_exponent": 2.0, "temperature": 0.7},
    {"dry_multiplier": 0.8},
    {"dry_multiplier": 1.5, "dry_base": 2.0, "dry_allowed_length": 1},
    {"mirostat": 1, "mirostat_tau": 3.0},
    {"mirostat": 2, "mirostat_tau": 2.0},
    {"mirostat": 2, "mirostat_tau": 0.5, "top_k": 3},
]
CLASSIC: list[dict[str, Any]] = [
    {"temperature": 1.0, "top_k": 0, "top_p": 1.0, "min_p": 0.0},
    {"temperature": 0.8, "top_k": 10, "top_p": 0.9, "min_p": 0.05, "repeat_penalty": 1.3},
    {"temperature": 0.0},
]
CASES = [
    SamplingParams(**{**classic, **new}, order=order)
    for classic, new, order in itertools.product(
        CLASSIC, NEW_STAGES, (DEFAULT_ORDER, LLAMA_CPP_ORDER)
    )
]
CASES += [
    SamplingParams(top_k=20, top_p=0.9, min_p=0.05, typical_p=0.8, top_n_sigma=1.5, order=order)
    for order in (DEFAULT_ORDER, LLAMA_CPP_ORDER, tuple(reversed(DEFAULT_ORDER)))
]


def repeating_history(rng: np.random.Generator, n: int) -> list[int]:
    """A history that repeats itself, so DRY has something to find."""
    base = [int(t) for t in rng.integers(0, n, 5)]
    return base + [int(t) for t in rng.integers(0, n, 3)] + base[:4]


@pytest.mark.parametrize("params", CASES, ids=lambda p: repr(p)[14:120])
def test_the_sampler_matches_the_reference(params: SamplingParams) -> None:
    rng = np.random.default_rng(7)
    for trial in range(8):
        logits = rng.normal(0, 2.5, 40).astype(np.float32)
        history = repeating_history(rng, 40)
        want, want_removed = reference(logits.tolist(), params, history)
        step = Sampler(params.with_seed(trial), n_candidates=40).step(logits, history)
        got = {row[0]: row for row in step.candidates}
        assert len(got) == 40
        for tok, (_, _, _, p_final, by) in got.items():
            assert p_final == pytest.approx(want[tok], abs=1e-6), (tok, params)
            assert by == want_removed.get(tok), (tok, params)
        assert want[step.token] > 0


@pytest.mark.parametrize("params", CASES, ids=lambda p: repr(p)[14:120])
def test_the_pipeline_matches_the_reference_and_rerank(params: SamplingParams) -> None:
    rng = np.random.default_rng(8)
    for _ in range(5):
        logits = rng.normal(0, 2.5, 30).astype(np.float32).tolist()
        history = repeating_history(rng, 30)
        stages = pipeline(logits, params, history)
        want, want_removed = reference(logits, params, history)
        assert list(stages[-1].probs) == pytest.approx(want, abs=1e-9)
        assert removed_by(stages) == [
            "greedy" if want_removed.get(i) == "greedy" else want_removed.get(i) for i in range(30)
        ]
        again = rerank(logits, params, history)
        assert [r[0] for r in again] == pytest.approx(want, abs=1e-9)
        for stage in stages:
            assert sum(stage.probs) == pytest.approx(1.0)


def test_each_new_stage_is_drawn_only_when_on_and_in_the_order_given() -> None:
    logits = [3.0, 2.0, 1.0, 0.5, 0.0, -1.0]
    plain = pipeline(logits, SamplingParams())
    assert [s.name for s in plain] == ["raw", "temperature", "top_k", "top_p", "min_p"]
    every = SamplingParams(
        repeat_penalty=1.2,
        dry_multiplier=0.8,
        top_n_sigma=2.0,
        typical_p=0.95,
        xtc_probability=0.5,
        order=LLAMA_CPP_ORDER,
    )
    names = [s.name for s in pipeline(logits, every, history=[0, 1, 0])]
    assert names == ["raw", *LLAMA_CPP_ORDER]
    miro = [s.name for s in pipeline(logits, SamplingParams(mirostat=2))]
    assert miro == ["raw", "temperature", "top_k", "top_p", "min_p", "mirostat"]
    settings = {s.name: s.setting for s in pipeline(logits, SamplingParams(mirostat=2))}
    assert settings["top_k"] == "off" and settings["mirostat"].startswith("v2")


def test_the_llama_cpp_order_applies_temperature_after_top_p() -> None:
    """At temperature 2 the glassbox order flattens before top-p; llama.cpp's does not."""
    logits = [4.0, 2.0, 1.0, 0.0, -1.0]
    ours = SamplingParams(temperature=2.0, top_k=0, top_p=0.9, min_p=0.0)
    theirs = SamplingParams(temperature=2.0, top_k=0, top_p=0.9, min_p=0.0, order=LLAMA_CPP_ORDER)
    kept_ours = pipeline(logits, ours)[-1].kept
    kept_theirs = pipeline(logits, theirs)[-1].kept
    assert sum(kept_ours) > sum(kept_theirs)
    assert list(pipeline(logits, theirs)[-1].probs) == pytest.approx(
        reference(logits, theirs, [])[0], abs=1e-12
    )


def test_the_default_is_the_classic_chain_unchanged() -> None:
    assert SamplingParams().classic()
    assert SamplingParams(order=LLAMA_CPP_ORDER).classic() is False
    assert not SamplingParams(typical_p=0.9).classic()
    # Moving only stages that are off keeps the classic path.
    moved = ("dry", "xtc", *[s for s in DEFAULT_ORDER if s not in ("dry", "xtc")])
    assert SamplingParams(order=moved).classic()


def test_dry_matches_the_reference_on_long_repeating_contexts() -> None:
    rng = np.random.default_rng(3)
    for trial in range(40):
        vocab = int(rng.integers(2, 6))
        context = [int(t) for t in rng.integers(0, vocab, int(rng.integers(1, 80)))]
        params = SamplingParams(
            dry_multiplier=0.8,
            dry_base=float(rng.choice([1.0, 1.75, 3.0])),
            dry_allowed_length=int(rng.integers(0, 4)),
            dry_last_n=int(rng.choice([-1, 10, 30])),
        )
        breakers = {0} if trial % 2 else set()
        got = dry_penalties(context, params, breakers.__contains__)
        want = ref_dry(context, params, breakers)
        assert got.keys() == want.keys(), (context, params)
        for t in want:
            assert got[t] == pytest.approx(want[t])


def test_dry_penalises_the_token_that_would_continue_a_repeat() -> None:
    # "a b c x a b" -> "c" would repeat "a b c": length 2, allowed 2 -> multiplier * base**0.
    context = [1, 2, 3, 9, 1, 2]
    params = SamplingParams(dry_multiplier=0.8, dry_allowed_length=2)
    assert dry_penalties(context, params) == {3: pytest.approx(0.8)}
    # A breaker in the repeat ends the search before it.
    assert dry_penalties(context, params, lambda t: t == 1) == {}


def test_dry_breakers_are_read_from_token_text_in_the_sampler() -> None:
    text = {0: "a", 1: "b", 2: "\n", 3: "c"}
    logits = np.zeros(4, dtype=np.float32)
    params = SamplingParams(dry_multiplier=2.0, dry_allowed_length=1, temperature=1.0, top_k=0)
    history = [0, 1, 0]  # "a b a": "b" would repeat "a b"
    step = Sampler(params.with_seed(1), 4, token_text=text.__getitem__).step(logits, history)
    p_final = {row[0]: row[3] for row in step.candidates}
    assert p_final[1] < p_final[3]
    # Through a breaker ("a \n a"), "\n" itself is never penalised.
    step = Sampler(params.with_seed(1), 4, token_text=text.__getitem__).step(logits, [0, 2, 0])
    p_final = {row[0]: row[3] for row in step.candidates}
    assert p_final[2] == pytest.approx(0.25)


def test_mirostat_carries_mu_from_token_to_token() -> None:
    rng = np.random.default_rng(4)
    params = SamplingParams(mirostat=2, mirostat_tau=3.0, mirostat_eta=0.1, top_k=0, seed=9)
    sampler = Sampler(params, n_candidates=50)
    assert sampler.mu == 6.0
    mus = []
    for _ in range(20):
        logits = rng.normal(0, 2, 200).astype(np.float32)
        before = sampler.mu
        want, _ = reference(logits.tolist(), params, [], mu=before)
        step = sampler.step(logits)
        assert step.p == pytest.approx(want[step.token], abs=1e-9)
        surprise = -math.log2(step.p)
        assert sampler.mu == pytest.approx(before - 0.1 * (surprise - 3.0))
        mus.append(sampler.mu)
    assert len(set(mus)) > 1
    # The same seed gives the same reply, mu and all.
    again = Sampler(params, n_candidates=50)
    rng = np.random.default_rng(4)
    for want_mu in mus:
        again.step(rng.normal(0, 2, 200).astype(np.float32))
        assert again.mu == pytest.approx(want_mu)


def test_xtc_uses_the_seeded_stream() -> None:
    logits = np.array([2.0, 1.9, 1.8, 0.0, -1.0], dtype=np.float32)
    params = SamplingParams(xtc_probability=0.5, xtc_threshold=0.1, top_k=0, min_p=0.0, seed=5)
    first = [Sampler(params, 5).step(logits).token for _ in range(3)]
    assert len(set(first)) == 1
    cut = 0
    for seed in range(200):
        step = Sampler(params.with_seed(seed), 5).step(logits)
        cut += any(row[4] == "xtc" for row in step.candidates)
    assert 60 < cut < 140  # fires about half the time


def test_the_whole_vocabulary_path_agrees_with_the_reference() -> None:
    rng = np.random.default_rng(6)
    logits = rng.normal(0, 2.5, 5000).astype(np.float32)
    logits[:4] += 8
    for params in (
        SamplingParams(typical_p=0.9, top_k=0, top_p=1.0, min_p=0.0),
        SamplingParams(top_n_sigma=1.0, top_k=0, order=LLAMA_CPP_ORDER),
        SamplingParams(mirostat=1, mirostat_tau=4.0),
    ):
        step = Sampler(params.with_seed(0), 50).step(logits)
        want, want_removed = reference(logits.tolist(), params, [])
        for tok, _, _, p_final, by in step.candidates:
            assert p_final == pytest.approx(want[tok], abs=1e-6)
            assert by == want_removed.get(tok)


# ----------------------------------------------------------------- records and bounds


def test_every_new_setting_round_trips_through_a_record() -> None:
    params = SamplingParams(
        typical_p=0.7,
        top_n_sigma=1.5,
        xtc_probability=0.3,
        xtc_threshold=0.2,
        dynatemp_range=0.4,
        dynatemp_exponent=1.5,
        dry_multiplier=0.8,
        dry_base=2.0,
        dry_allowed_length=3,
        dry_last_n=256,
        dry_breakers=("\n", "。"),
        mirostat=2,
        mirostat_tau=4.0,
        mirostat_eta=0.2,
        order=LLAMA_CPP_ORDER,
    )
    record = json.loads(json.dumps(params.to_record()))
    assert record["order"] == list(LLAMA_CPP_ORDER)
    assert SamplingParams.from_record(record) == params
    # A record from before these settings existed reads as the classic chain.
    old = {"temperature": 0.7, "top_k": 20}
    assert SamplingParams.from_record(old).classic()


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"order": ("temperature", "top_k")}, "leaves out penalty"),
        ({"order": (*DEFAULT_ORDER, "top_k")}, "top_k more than once"),
        ({"order": (*DEFAULT_ORDER[:-1], "beam")}, "unknown stage(s) 'beam'"),
        ({"order": "temperature"}, "must be a list of stages"),
        ({"mirostat": 3}, "Mirostat must be between 0 and 2, not 3."),
        ({"mirostat": 1.5}, "Mirostat must be a whole number, not 1.5."),
        ({"typical_p": 1.5}, "Typical-p must be between 0.0 and 1.0, not 1.5."),
        ({"dry_breakers": "\n"}, "DRY sequence breakers must be a list of non-empty strings."),
        ({"dry_last_n": -2}, "DRY window must be between -1 and 131072, not -2."),
        ({"xtc_threshold": float("nan")}, "XTC threshold must be between"),
    ],
)
def test_bad_settings_are_refused_with_a_clear_sentence(
    values: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidRequestError) as err:
        SamplingParams(**values)
    assert message in str(err.value)
    with pytest.raises(InvalidRequestError):
        SamplingParams.from_record(
            {k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}
        )


def test_orders_are_read_from_a_preset_name_or_a_list() -> None:
    assert parse_order("llama.cpp") == LLAMA_CPP_ORDER
    assert parse_order("glassbox") == DEFAULT_ORDER
    text = ",".join(reversed(DEFAULT_ORDER)).replace("_", "-")
    assert parse_order(text) == tuple(reversed(DEFAULT_ORDER))
    with pytest.raises(InvalidRequestError, match="leaves out"):
        parse_order("temperature,top-k")


@pytest.mark.parametrize("version", [1, 2])
@pytest.mark.parametrize("tau", [0.0, 1.0, 10.0])
def test_mirostat_on_a_flat_or_single_distribution_still_draws(version: int, tau: float) -> None:
    """Equal logits make mirostat v1's Zipf fit divide by zero; it must still draw."""
    params = SamplingParams(mirostat=version, mirostat_tau=tau, mirostat_eta=1.0, seed=2)
    for logits in (np.ones(30, dtype=np.float32), np.zeros(1, dtype=np.float32)):
        sampler = Sampler(params, n_candidates=min(20, logits.size))
        for _ in range(3):
            step = sampler.step(logits)
            assert 0 <= step.token < logits.size and step.p > 0
            assert math.isfinite(sampler.mu)
