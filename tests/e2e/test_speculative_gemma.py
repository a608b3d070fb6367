"""Speculative decoding on a real model: replies at temperature 0 with and without drafting.

llama.cpp evaluates a batch of positions with other kernels than a single
position, so the logits of a drafted batch differ slightly from those of
token-by-token decoding (up to a few tenths of a logit on quantized weights).
Replies can therefore part where the two likeliest tokens are nearly tied. The
check: wherever two replies differ, the first differing position is such a near
tie in the reply without drafting, and over 50 prompts at least 45 replies are
identical. How many prompts meet a near tie at all depends on the CPU's kernels:
48 of 50 were identical on one machine of the 2-core kind, 47 on another (AVX-512,
no AMX), with every parting at a near tie.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_app.core.engine.llama_backend import LlamaCppEngine
from desktop_app.core.engine.protocol import (
    DoneEvent,
    DraftSettings,
    EngineConfig,
    GenerateRequest,
    Message,
    TokenEvent,
)
from desktop_app.core.sampling import SamplingParams

pytestmark = pytest.mark.e2e

#: The largest top-2 logit gap at which batched and single-token arithmetic may
#: disagree on the favourite (the largest difference measured between the two
#: on the default models is 0.41).
NEAR_TIE = 0.5

SUBJECTS = (
    "the river", "a small robot", "the old library", "my grandmother", "the train to Lyon",
    "a cup of tea", "the first snow", "the lighthouse keeper", "a lost key", "the market",
)  # fmt: skip
FORMS = (
    "Once upon a time, {s} {s} {s} was",
    "List: {s}, {s}, {s}, and",
    "Q: Where is {s}? A: {s} is near {s}, and",
    "Repeat after me: {s} and {s}. Repeat after me: {s} and",
    "In 1999, {s} was seen near {s}. In 2009, {s} was",
)


def prompts() -> list[str]:
    return [form.format(s=subject) for form in FORMS for subject in SUBJECTS]


@pytest.fixture(scope="module")
def engine(gemma_path: Path) -> Iterator[LlamaCppEngine]:
    e = LlamaCppEngine()
    e.load(EngineConfig(str(gemma_path), n_ctx=512))
    yield e
    e.unload()


def reply(engine: LlamaCppEngine, prompt: str, draft: DraftSettings) -> list[TokenEvent]:
    request = GenerateRequest(
        params=SamplingParams.greedy(max_tokens=12),
        prompt=prompt,
        candidates=2,
        ignore_eos=True,
        draft=draft,
    )
    events = list(engine.generate(request))
    assert isinstance(events[-1], DoneEvent), events[-1]
    return [e for e in events if isinstance(e, TokenEvent)]


def test_fifty_prompts_give_the_same_tokens_with_and_without_drafting(
    engine: LlamaCppEngine,
) -> None:
    lookup = DraftSettings(prompt_lookup=True, max_draft=4, fixed=True)
    assert len(prompts()) == 50
    same = 0
    drafted_tokens = 0
    for prompt in prompts():
        plain = reply(engine, prompt, DraftSettings())
        drafted = reply(engine, prompt, lookup)
        drafted_tokens += sum(1 for t in drafted if t.draft)
        a, b = [t.id for t in plain], [t.id for t in drafted]
        if a == b:
            same += 1
            continue
        first = next(i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y)
        top = plain[first].candidates
        assert top[0].logit - top[1].logit < NEAR_TIE, (prompt, first, top[:2])
    assert drafted_tokens > 75  # the check is about drafted replies
    assert same >= 45, same


def test_the_bundled_draft_model_drafts_for_the_default_model(
    qwen_path: Path, draft_path: Path
) -> None:
    """The two Qwen models share a vocabulary: the draft loads and most proposals are kept."""
    engine = LlamaCppEngine()
    try:
        loaded = engine.load(
            EngineConfig(str(qwen_path), n_ctx=1024, draft_model_path=str(draft_path))
        )
        assert loaded.draft_error == "" and loaded.draft_model_path == str(draft_path)
        text = "The quick brown fox jumps over the lazy dog near the river bank."
        request = GenerateRequest(
            params=SamplingParams.greedy(max_tokens=20),
            messages=(Message("user", f"Repeat this sentence exactly: {text}"),),
            draft=DraftSettings(draft_model=True, max_draft=4, fixed=True),
        )
        events = list(engine.generate(request))
        done = events[-1]
        assert isinstance(done, DoneEvent), done
        assert done.draft_proposed >= 8
        assert done.draft_accepted / done.draft_proposed > 0.5
        assert "quick brown fox" in done.text
    finally:
        engine.unload()
