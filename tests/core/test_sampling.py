"""The sampler chain against a brute-force reference, and its parameter bounds."""

from __future__ import annotations

import json
import math
from dataclasses import fields

import numpy as np
import pytest

from desktop_app.core.errors import InvalidRequestError
from desktop_app.core.sampling import Sampler, SamplingParams, param_bounds, rerank


def reference(logits: np.ndarray, p: SamplingParams, history=()) -> tuple[np.ndarray, dict]:
    """Full-sort implementation of the documented chain: final probs and removed-by."""
    work = logits.astype(np.float64).copy()
    if p.repeat_penalty != 1.0 and history:
        for t in set(list(history)[-p.repeat_last_n :]):
            work[t] = work[t] / p.repeat_penalty if work[t] > 0 else work[t] * p.repeat_penalty
    n = len(work)
    removed: dict[int, str] = {}
    if p.temperature == 0:
        best = int(np.argmax(work))
        final = np.zeros(n)
        final[best] = 1.0
        removed = {i: "greedy" for i in range(n) if i != best}
        return final, removed
    scaled = work / p.temperature
    order = list(np.argsort(-scaled, kind="stable"))
    alive = order
    if p.top_k > 0:
        for i in alive[p.top_k :]:
            removed[i] = "top_k"
        alive = alive[: p.top_k]
    probs = np.exp(scaled[alive] - scaled[alive].max())
    probs /= probs.sum()
    if p.top_p < 1.0:
        cum = np.cumsum(probs)
        keep = next(i for i, c in enumerate(cum) if c >= p.top_p) + 1
        for i in alive[keep:]:
            removed[i] = "top_p"
        alive, probs = alive[:keep], probs[:keep]
    if p.min_p > 0:
        keep_mask = probs >= p.min_p * probs.max()
        for i, k in zip(alive, keep_mask, strict=True):
            if not k:
                removed[i] = "min_p"
        alive = [a for a, k in zip(alive, keep_mask, strict=True) if k]
        probs = probs[keep_mask]
    final = np.zeros(n)
    final[alive] = probs / probs.sum()
    return final, removed


PARAM_CASES = [
    SamplingParams(temperature=1.0, top_k=0, top_p=1.0, min_p=0.0),
    SamplingParams(temperature=0.7, top_k=10, top_p=1.0, min_p=0.0),
    SamplingParams(temperature=1.3, top_k=40, top_p=0.9, min_p=0.0),
    SamplingParams(temperature=0.8, top_k=40, top_p=0.95, min_p=0.05),
    SamplingParams(temperature=1.0, top_k=0, top_p=0.8, min_p=0.0),
    SamplingParams(temperature=1.0, top_k=0, top_p=1.0, min_p=0.1),
    SamplingParams(temperature=2.0, top_k=0, top_p=0.5, min_p=0.02),
    SamplingParams(temperature=0.9, top_k=25, top_p=0.9, min_p=0.1, repeat_penalty=1.3),
    SamplingParams(temperature=0.0),
    SamplingParams(temperature=0.0, repeat_penalty=1.5),
]


@pytest.mark.parametrize("params", PARAM_CASES, ids=lambda p: repr(p)[14:80])
def test_every_probability_matches_brute_force_on_a_small_vocabulary(params):
    rng = np.random.default_rng(1)
    history = [3, 7, 7, 11]
    for trial in range(20):
        logits = rng.normal(0, 3, 50).astype(np.float32)
        step = Sampler(params.with_seed(trial), n_candidates=50).step(logits, history)
        want, want_removed = reference(logits, params, history)
        got = {row[0]: row for row in step.candidates}
        assert len(got) == 50
        for tok, (_, logit, p_raw, p_final, removed_by) in got.items():
            assert logit == pytest.approx(float(logits[tok]))
            raw = np.exp(logits.astype(np.float64) - logits.max())
            assert p_raw == pytest.approx(raw[tok] / raw.sum(), rel=1e-4)
            assert p_final == pytest.approx(want[tok], abs=1e-6)
            assert removed_by == want_removed.get(tok)
        assert want[step.token] > 0
        assert step.p == pytest.approx(want[step.token], abs=1e-6)


@pytest.mark.parametrize("params", PARAM_CASES[:8], ids=lambda p: repr(p)[14:80])
def test_large_vocabulary_candidates_match_brute_force(params):
    """The windowed search for top-p / min-p without top-k sees the whole vocabulary."""
    rng = np.random.default_rng(2)
    logits = rng.normal(0, 2.5, 30_000).astype(np.float32)
    logits[:5] += 9  # a few strong tokens, as in a real model
    step = Sampler(params.with_seed(0), n_candidates=50).step(logits)
    want, want_removed = reference(logits, params)
    for tok, _, _, p_final, removed_by in step.candidates:
        assert p_final == pytest.approx(want[tok], abs=1e-6)
        assert removed_by == want_removed.get(tok)


def test_tokens_are_drawn_from_the_reported_distribution():
    """20,000 draws: each token's frequency matches its p_final."""
    logits = np.array([2.0, 1.5, 1.0, 0.5, 0.0, -1.0, -3.0], dtype=np.float32)
    params = SamplingParams(temperature=1.0, top_k=5, top_p=0.9, min_p=0.0, seed=42)
    sampler = Sampler(params, n_candidates=7)
    first = sampler.step(logits)
    expected = {row[0]: row[3] for row in first.candidates}
    counts = np.zeros(len(logits))
    n = 20_000
    for _ in range(n):
        counts[sampler.step(logits).token] += 1
    for tok, p in expected.items():
        sd = math.sqrt(max(p * (1 - p), 1e-12) / n)
        assert abs(counts[tok] / n - p) < 5 * sd + 1e-9, (tok, counts[tok] / n, p)
    assert counts[5] == counts[6] == 0  # cut by top-k


def test_same_seed_same_tokens_different_seed_different_tokens():
    rng = np.random.default_rng(5)
    rows = [rng.normal(0, 1, 500).astype(np.float32) for _ in range(64)]
    params = SamplingParams(temperature=1.0, top_k=0, top_p=1.0, min_p=0.0)

    def run(seed):
        s = Sampler(params.with_seed(seed))
        return [s.step(r).token for r in rows]

    assert run(7) == run(7)
    assert run(7) != run(8)


def test_greedy_is_argmax_of_raw_probability():
    rng = np.random.default_rng(3)
    logits = rng.normal(0, 1, 1000).astype(np.float32)
    step = Sampler(SamplingParams.greedy(), n_candidates=20).step(logits)
    assert step.token == int(np.argmax(logits))
    assert step.p == 1.0
    top = max(step.candidates, key=lambda r: r[2])
    assert top[0] == step.token
    assert [r[4] for r in step.candidates].count(None) == 1


def test_candidates_are_sorted_and_their_raw_probabilities_sum_to_at_most_one():
    rng = np.random.default_rng(4)
    logits = rng.normal(0, 4, 5000).astype(np.float32)
    step = Sampler(SamplingParams(seed=1), n_candidates=20).step(logits)
    p_raw = [r[2] for r in step.candidates[:20]]
    assert p_raw == sorted(p_raw, reverse=True)
    assert sum(p_raw) <= 1.0 + 1e-6
    assert sum(r[3] for r in step.candidates) <= 1.0 + 1e-6


def test_drawn_token_outside_the_top_k_is_still_reported():
    logits = np.linspace(1.0, 0.0, 100).astype(np.float32)  # almost flat
    params = SamplingParams(temperature=2.0, top_k=0, top_p=1.0, min_p=0.0)
    for seed in range(50):
        step = Sampler(params.with_seed(seed), n_candidates=3).step(logits)
        ids = [r[0] for r in step.candidates]
        assert step.token in ids
        if step.token not in ids[:3]:
            assert ids[-1] == step.token and len(ids) == 4
            return
    pytest.fail("a flat distribution should draw outside the top 3 within 50 seeds")


def test_repeat_penalty_lowers_recent_tokens():
    logits = np.array([3.0, 2.9, -1.0], dtype=np.float32)
    greedy = SamplingParams.greedy(repeat_penalty=1.5)
    assert Sampler(greedy).step(logits, history=[0]).token == 1
    assert Sampler(SamplingParams.greedy()).step(logits, history=[0]).token == 0
    assert Sampler(greedy).step(logits, history=[2]).token == 0


@pytest.mark.parametrize(
    "field,value",
    [
        ("temperature", -0.1),
        ("temperature", 2.5),
        ("temperature", float("nan")),
        ("top_p", 1.5),
        ("min_p", -0.2),
        ("top_k", -1),
        ("repeat_penalty", 0.5),
        ("max_tokens", 0),
        ("seed", -1),
        ("temperature", "hot"),
    ],
)
def test_out_of_bounds_parameters_are_refused_with_the_name(field, value):
    with pytest.raises(InvalidRequestError) as err:
        SamplingParams(**{field: value})
    assert param_bounds()[field]["label"] in str(err.value)


def test_stop_must_be_strings():
    with pytest.raises(InvalidRequestError):
        SamplingParams(stop=("",))
    with pytest.raises(InvalidRequestError):
        SamplingParams(stop="abc")  # type: ignore[arg-type]


def test_a_record_round_trips_through_json():
    params = SamplingParams(temperature=0.3, top_k=7, seed=42, stop=("###", "\n\n"))
    record = params.to_record()
    assert record["stop"] == ["###", "\n\n"]  # JSON has no tuples
    assert SamplingParams.from_record(json.loads(json.dumps(record))) == params
    assert set(record) == {f.name for f in fields(SamplingParams)}


def test_a_record_with_missing_values_takes_the_defaults():
    assert SamplingParams.from_record({}) == SamplingParams()
    assert SamplingParams.from_record({"top_k": 3}) == SamplingParams(top_k=3)


def test_a_record_with_unknown_or_malformed_values_is_refused():
    with pytest.raises(InvalidRequestError, match=r"Unknown sampling setting.*no_such_knob"):
        SamplingParams.from_record({"temperature": 0.5, "no_such_knob": 1})
    with pytest.raises(InvalidRequestError, match="not valid"):
        SamplingParams.from_record({"stop": 5})
    with pytest.raises(InvalidRequestError, match="Stop strings"):
        SamplingParams.from_record({"stop": "abc"})


@pytest.mark.parametrize(
    ("field", "value"),
    [("temperature", 2.5), ("top_p", 1.5), ("top_k", -1), ("seed", -1), ("top_p", "high")],
)
def test_a_record_out_of_bounds_is_refused_as_the_constructor_refuses_it(field, value):
    with pytest.raises(InvalidRequestError) as direct:
        SamplingParams(**{field: value})
    with pytest.raises(InvalidRequestError) as from_record:
        SamplingParams.from_record({field: value})
    assert str(from_record.value) == str(direct.value)


def test_bounds_describe_every_numeric_parameter():
    bounds = param_bounds()
    assert set(bounds) >= {"temperature", "top_k", "top_p", "min_p", "repeat_penalty", "seed"}
    assert bounds["temperature"]["min"] == 0.0 and bounds["temperature"]["max"] == 2.0


def test_rerank_shows_what_a_setting_would_have_done():
    logits = [4.0, 3.0, 2.0, 1.0, 0.0]
    loose = rerank(logits, SamplingParams(temperature=1.0, top_k=0, top_p=1.0, min_p=0.0))
    assert all(r[1] is None for r in loose)
    assert sum(r[0] for r in loose) == pytest.approx(1.0)
    tight = rerank(logits, SamplingParams(temperature=1.0, top_k=2, top_p=1.0, min_p=0.0))
    assert [r[1] for r in tight] == [None, None, "top_k", "top_k", "top_k"]
    assert tight[0][0] == pytest.approx(math.e / (math.e + 1))
