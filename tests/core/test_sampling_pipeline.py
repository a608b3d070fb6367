"""The stage-by-stage distributions of the sampling panel against a brute-force reference."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from desktop_app.core.sampling import (
    Sampler,
    SamplingParams,
    pipeline,
    removed_by,
    rerank,
)


def softmax_over(scores: np.ndarray, alive: list[int]) -> np.ndarray:
    out = np.zeros(len(scores))
    e = np.exp(scores[alive] - scores[alive].max())
    out[alive] = e / e.sum()
    return out


def reference_stages(
    logits: np.ndarray, p: SamplingParams, history: list[int]
) -> list[tuple[str, np.ndarray, set[int]]]:
    """The documented chain, one full sort per stage: (name, probs, survivors)."""
    n = len(logits)
    everyone = list(range(n))
    raw = logits.astype(np.float32).astype(np.float64)
    out = [("raw", softmax_over(raw, everyone), set(everyone))]
    work = raw.copy()
    if p.repeat_penalty != 1.0:
        recent = set(history[-p.repeat_last_n :]) if p.repeat_last_n else set()
        for t in recent:
            x = np.float32(work[t])
            pen = np.float32(p.repeat_penalty)
            work[t] = float(x / pen) if x > 0 else float(x * pen)
        out.append(("penalty", softmax_over(work, everyone), set(everyone)))
    order = sorted(everyone, key=lambda i: (-work[i], i))
    if p.temperature == 0:
        best = [order[0]]
        one_hot = softmax_over(work, best)
        return out + [
            (name, one_hot, set(best)) for name in ("temperature", "top_k", "top_p", "min_p")
        ]
    scaled = work / p.temperature
    alive = order
    out.append(("temperature", softmax_over(scaled, alive), set(alive)))
    if p.top_k > 0:
        alive = alive[: p.top_k]
    out.append(("top_k", softmax_over(scaled, alive), set(alive)))
    if p.top_p < 1.0:
        probs = softmax_over(scaled, alive)
        cumulative = np.cumsum([probs[i] for i in alive])
        reached = [n for n, c in enumerate(cumulative, start=1) if c >= p.top_p]
        alive = alive[: reached[0] if reached else len(alive)]
    out.append(("top_p", softmax_over(scaled, alive), set(alive)))
    if p.min_p > 0:
        probs = softmax_over(scaled, alive)
        top = probs[alive[0]]
        alive = [i for i in alive if probs[i] >= p.min_p * top]
    out.append(("min_p", softmax_over(scaled, alive), set(alive)))
    return out


PARAM_GRID = [
    SamplingParams(temperature=t, top_k=k, top_p=tp, min_p=mp, repeat_penalty=rp)
    for t, k, tp, mp, rp in itertools.product(
        (0.0, 0.3, 1.0, 1.7),
        (0, 1, 5, 40),
        (1.0, 0.9, 0.5),
        (0.0, 0.05, 0.3),
        (1.0, 1.4),
    )
]


@pytest.mark.parametrize("n", [1, 2, 7, 50])
def test_every_stage_matches_brute_force(n: int) -> None:
    rng = np.random.default_rng(n)
    for trial, params in enumerate(PARAM_GRID):
        logits = rng.normal(0, 3, n).astype(np.float32)
        history = [int(h) for h in rng.integers(0, n, 6)]
        got = pipeline(logits.tolist(), params, history)
        want = reference_stages(logits, params, history)
        assert [s.name for s in got] == [w[0] for w in want], (trial, params)
        for stage, (name, probs, alive) in zip(got, want, strict=True):
            assert stage.probs == pytest.approx(probs.tolist(), abs=1e-9), (name, params)
            assert {i for i, k in enumerate(stage.kept) if k} == alive, (name, params)
            assert sum(stage.probs) == pytest.approx(1.0)


@pytest.mark.parametrize("params", PARAM_GRID[::7], ids=lambda p: repr(p)[14:90])
def test_last_stage_is_what_rerank_reports(params: SamplingParams) -> None:
    rng = np.random.default_rng(11)
    for _ in range(10):
        logits = rng.normal(0, 2.5, 50).astype(np.float32).tolist()
        history = [3, 7, 7, 11, 42]
        stages = pipeline(logits, params, history)
        want = rerank(logits, params, history)
        assert list(stages[-1].probs) == pytest.approx([w[0] for w in want], abs=1e-6)
        assert removed_by(stages) == [w[1] for w in want]


def test_stages_come_in_chain_order_with_the_penalty_only_when_on() -> None:
    logits = [2.0, 1.0, 0.0]
    plain = pipeline(logits, SamplingParams())
    assert [s.name for s in plain] == ["raw", "temperature", "top_k", "top_p", "min_p"]
    penalised = pipeline(logits, SamplingParams(repeat_penalty=1.2), history=[0])
    assert [s.name for s in penalised] == [
        "raw",
        "penalty",
        "temperature",
        "top_k",
        "top_p",
        "min_p",
    ]
    assert penalised[1].probs[0] < penalised[0].probs[0]


def test_greedy_puts_all_the_mass_on_the_most_likely_candidate() -> None:
    logits = [1.0, 3.0, 2.5, -1.0]
    stages = pipeline(logits, SamplingParams.greedy())
    for stage in stages[1:]:
        assert stage.probs == (0.0, 1.0, 0.0, 0.0)
        assert stage.setting == "greedy"
    assert removed_by(stages) == ["greedy", None, "greedy", "greedy"]


def test_greedy_follows_the_penalty() -> None:
    logits = [3.0, 2.9, -1.0]
    stages = pipeline(logits, SamplingParams.greedy(repeat_penalty=1.5), history=[0])
    assert stages[-1].probs == (0.0, 1.0, 0.0)


def test_a_survivor_that_underflows_is_still_kept() -> None:
    """At temperature 0.01 a gap of 10 logits is exp(-1000): 0.0, yet top-k 2 keeps it."""
    stages = pipeline(
        [10.0, 0.0, -5.0], SamplingParams(temperature=0.01, top_k=2, top_p=1.0, min_p=0.0)
    )
    last = stages[-1]
    assert last.probs[1] == 0.0 and last.kept == (True, True, False)
    assert removed_by(stages) == [None, None, "top_k"]


def test_settings_read_as_the_user_wrote_them() -> None:
    stages = pipeline([1.0, 0.0], SamplingParams(temperature=0.8, top_k=0, top_p=1.0, min_p=0.05))
    assert {s.name: s.setting for s in stages} == {
        "raw": "",
        "temperature": "0.8",
        "top_k": "off",
        "top_p": "off",
        "min_p": "0.05",
    }


def test_candidates_of_a_real_step_rerank_to_the_same_stages() -> None:
    """The panel feeds a token's stored candidate logits; the chain gives their p_final."""
    rng = np.random.default_rng(5)
    vocab = rng.normal(0, 1, 40).astype(np.float32)
    vocab[:3] += 5
    params = SamplingParams(temperature=0.9, top_k=10, top_p=0.9, min_p=0.05, seed=3)
    step = Sampler(params, n_candidates=40).step(vocab)
    stages = pipeline([row[1] for row in step.candidates], params)
    assert list(stages[-1].probs) == pytest.approx([row[3] for row in step.candidates], abs=1e-6)
    assert removed_by(stages) == [row[4] for row in step.candidates]


def test_empty_candidates_give_no_stages() -> None:
    assert pipeline([], SamplingParams()) == []
    assert removed_by([]) == []
