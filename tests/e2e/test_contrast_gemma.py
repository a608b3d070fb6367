"""Context-aware decoding on a real model: two sequences of one context, one batch per token.

llama.cpp evaluates a two-position batch with other kernels than a single
position (see ``test_speculative_gemma``), so α = 0 may part from a plain reply
only where the two likeliest tokens are nearly tied.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_app.core.engine.llama_backend import LlamaCppEngine
from desktop_app.core.engine.protocol import (
    ContrastSettings,
    DoneEvent,
    DraftSettings,
    EngineConfig,
    GenerateRequest,
    Message,
    ScoreRequest,
    TokenEvent,
)
from desktop_app.core.sampling import SamplingParams

pytestmark = pytest.mark.e2e

NEAR_TIE = 0.5
#: Largest difference of a log-probability between the second sequence, evaluated
#: two positions per batch, and the same prompt scored on its own.
LOGIT_TOLERANCE = 0.5

SYSTEM = Message("system", "Answer the question from the document.")
CASES = (
    ("The capital of the island of Zarnia is Quellport, founded in 1642.",
     "What is the capital of Zarnia?"),
    ("To list block devices on Debian, run lsblk; the disks are under /dev/sd*.",
     "Which command lists block devices?"),
)  # fmt: skip


def _messages(doc: str, question: str) -> tuple[tuple[Message, ...], tuple[Message, ...]]:
    q = f"Question: {question}"
    return (SYSTEM, Message("user", f"Document: {doc}\n{q}")), (SYSTEM, Message("user", q))


@pytest.fixture(scope="module")
def engine(gemma_path: Path) -> Iterator[LlamaCppEngine]:
    e = LlamaCppEngine()
    e.load(EngineConfig(str(gemma_path), n_ctx=1024))
    yield e
    e.unload()


def _run(engine: LlamaCppEngine, request: GenerateRequest) -> tuple[list[TokenEvent], DoneEvent]:
    events = list(engine.generate(request))
    done = events[-1]
    assert isinstance(done, DoneEvent), done
    return [e for e in events if isinstance(e, TokenEvent)], done


def _request(
    messages: tuple[Message, ...], contrast: ContrastSettings | None, **kw: object
) -> GenerateRequest:
    return GenerateRequest(
        params=SamplingParams(temperature=0.0, max_tokens=12, seed=5),
        messages=messages,
        candidates=5,
        contrast=contrast,
        **kw,  # type: ignore[arg-type]
    )


def test_alpha_zero_measures_without_changing_the_reply(engine: LlamaCppEngine) -> None:
    for doc, question in CASES:
        with_docs, without = _messages(doc, question)
        plain, _ = _run(engine, _request(with_docs, None))
        measured, done = _run(engine, _request(with_docs, ContrastSettings(0.0, without)))
        assert done.contrast_alpha == 0.0
        a, b = [t.id for t in plain], [t.id for t in measured]
        if a != b:
            k = next(i for i in range(min(len(a), len(b))) if a[i] != b[i])
            top = sorted((c.logit for c in plain[k].candidates), reverse=True)
            assert top[0] - top[1] < NEAR_TIE, (doc, k, a, b)
        assert all(t.p_with is not None and t.p_without is not None for t in measured)
        assert all(t.p_without is None for t in plain)
        # With α = 0 the drawn distribution is the one with the documents.
        for t in measured:
            (mine,) = [c for c in t.candidates if c.id == t.id]
            assert math.isclose(t.p_with or 0, mine.p_raw, rel_tol=1e-4)


def test_the_second_sequence_is_the_prompt_without_the_documents(
    engine: LlamaCppEngine,
) -> None:
    doc, question = CASES[0]
    with_docs, without = _messages(doc, question)
    measured, _ = _run(engine, _request(with_docs, ContrastSettings(0.0, without)))
    ids = [t.id for t in measured]
    text = "".join(t.text for t in measured)
    # The same tokens scored after the prompt without the documents, evaluated on its own.
    assert engine.tokenize(text, add_bos=False, special=False) == ids
    scored = engine.score(ScoreRequest((text,), messages=without, reuse_prefix=False))
    reference = [math.exp(lp) for lp in scored.token_logprobs[0]]
    got = [t.p_without or 0.0 for t in measured]
    # Logits of batches of other shapes differ by up to a few tenths (see above).
    for p, ref in zip(got, reference, strict=True):
        assert abs(math.log(max(p, 1e-12)) - math.log(max(ref, 1e-12))) < LOGIT_TOLERANCE, (
            got,
            reference,
        )
    # The document's own words rose with it; "Quellport" is unlikely without it.
    assert any((t.p_with or 0) > 0.3 and (t.p_without or 0) < 0.01 for t in measured)


def test_cad_turns_drafting_off_and_favours_the_document(engine: LlamaCppEngine) -> None:
    doc, question = CASES[0]
    with_docs, without = _messages(doc, question)
    tokens, done = _run(
        engine,
        _request(
            with_docs,
            ContrastSettings(1.0, without),
            draft=DraftSettings(prompt_lookup=True),
        ),
    )
    assert done.draft_skipped and done.draft_proposed == 0
    assert done.contrast_alpha == 1.0
    assert "Quellport" in "".join(t.text for t in tokens)
    # The cache holds the reply's own sequence only: the next request reuses it.
    plain, done = _run(engine, _request(with_docs, None))
    assert done.prompt_tokens_reused > 0 and plain
