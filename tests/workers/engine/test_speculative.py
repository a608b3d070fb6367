"""Speculative decoding in the engine: the reply is the target's, drafted or not.

The tiny random-weight model drafts for itself (same file: every proposal the
target's greedy choice), for a twin with other weights (same vocabulary, most
proposals rejected), and is refused as a draft for a model with another
vocabulary. Prompt lookup needs no second model: the tiny model's greedy replies
fall into loops, which is where lookup finds its matches.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from gguf_factory import write_tiny_llama

from desktop_app.core.engine.llama_backend import LlamaCppEngine
from desktop_app.core.engine.protocol import (
    DoneEvent,
    DraftSettings,
    EngineConfig,
    ErrorEvent,
    GenerateRequest,
    Message,
    TokenEvent,
)
from desktop_app.core.sampling import SamplingParams

# Fixed lengths: for the tiny model, whose draft is as large as itself, drafting
# never pays, and the engine would rightly choose not to propose anything.
LOOKUP = DraftSettings(prompt_lookup=True, max_draft=6, fixed=True)
DRAFT = DraftSettings(draft_model=True, max_draft=4, fixed=True)
BOTH = DraftSettings(prompt_lookup=True, draft_model=True, max_draft=5, fixed=True)
PROMPT = "the model and the token and the model and the token and the answer to the question is"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("spec")
    return {
        "model": write_tiny_llama(folder / "tiny.gguf", n_ctx=512),
        "twin": write_tiny_llama(folder / "twin.gguf", n_ctx=512, seed=3),
        "other_vocab": write_tiny_llama(folder / "other.gguf", n_ctx=512, vocab_extra=7),
    }


def config(files: dict[str, Path], draft: str | None = None) -> EngineConfig:
    return EngineConfig(
        str(files["model"]),
        n_ctx=512,
        n_threads=1,
        n_threads_batch=1,
        draft_model_path=str(files[draft]) if draft else None,
    )


@pytest.fixture
def engine() -> Iterator[LlamaCppEngine]:
    e = LlamaCppEngine()
    yield e
    e.unload()


def run(
    engine: LlamaCppEngine, draft: DraftSettings, params: SamplingParams, **kw: object
) -> tuple[list[TokenEvent], DoneEvent]:
    request = GenerateRequest(
        params=params, prompt=kw.pop("prompt", PROMPT), draft=draft, ignore_eos=True, **kw
    )  # type: ignore[arg-type]
    tokens: list[TokenEvent] = []
    for event in engine.generate(request):
        if isinstance(event, ErrorEvent):
            raise AssertionError(event.message)
        if isinstance(event, TokenEvent):
            tokens.append(event)
        elif isinstance(event, DoneEvent):
            return tokens, event
    raise AssertionError("no done event")


def close(a: list[TokenEvent], b: list[TokenEvent]) -> None:
    """Same ids, and the same probabilities within batched arithmetic's tolerance."""
    assert [t.id for t in a] == [t.id for t in b]
    for x, y in zip(a, b, strict=True):
        assert x.p == pytest.approx(y.p, abs=1e-3)
        assert [c.id for c in x.candidates[:3]] == [c.id for c in y.candidates[:3]]
        for cx, cy in zip(x.candidates[:3], y.candidates[:3], strict=True):
            assert cx.p_raw == pytest.approx(cy.p_raw, abs=1e-3)


GREEDY = SamplingParams.greedy(max_tokens=60)


def test_prompt_lookup_at_temperature_zero_gives_the_same_tokens_and_marks_them(
    engine: LlamaCppEngine, files: dict[str, Path]
) -> None:
    engine.load(config(files))
    plain, plain_done = run(engine, DraftSettings(), GREEDY, reuse_prefix=False)
    drafted, done = run(engine, LOOKUP, GREEDY, reuse_prefix=False)
    close(plain, drafted)
    assert plain_done.draft_proposed == 0 and all(t.draft == "" for t in plain)
    assert done.draft_proposed > 0 and done.draft_accepted > 0
    marks = [t.draft for t in drafted]
    assert marks.count("accepted") == done.draft_accepted
    assert done.completion_tokens == len(drafted) == 60
    assert [t.index for t in drafted] == list(range(60))
    assert done.text == "".join(t.text for t in drafted)


def test_a_draft_model_with_the_same_weights_is_always_accepted(
    engine: LlamaCppEngine, files: dict[str, Path]
) -> None:
    loaded = engine.load(config(files, "model"))
    assert loaded.draft_model_path == str(files["model"]) and loaded.draft_error == ""
    plain, _ = run(engine, DraftSettings(), GREEDY, reuse_prefix=False)
    drafted, done = run(engine, DRAFT, GREEDY, reuse_prefix=False)
    close(plain, drafted)
    assert done.draft_proposed > 20
    assert done.draft_accepted == done.draft_proposed
    assert "replaced" not in [t.draft for t in drafted]


def test_a_draft_model_with_other_weights_is_corrected_by_the_target(
    engine: LlamaCppEngine, files: dict[str, Path]
) -> None:
    engine.load(config(files, "twin"))
    plain, _ = run(engine, DraftSettings(), GREEDY, reuse_prefix=False)
    drafted, done = run(engine, BOTH, GREEDY, reuse_prefix=False)
    close(plain, drafted)
    assert done.draft_accepted < done.draft_proposed
    assert "replaced" in [t.draft for t in drafted]


# The tiny model's logits are close together: only a very low temperature lets its
# replies repeat themselves, which prompt lookup needs to find anything.
@pytest.mark.parametrize(("draft", "temperature"), [(LOOKUP, 0.002), (DRAFT, 0.8), (BOTH, 0.8)])
def test_a_seeded_reply_at_temperature_is_reproducible_and_that_of_no_drafting(
    engine: LlamaCppEngine, files: dict[str, Path], draft: DraftSettings, temperature: float
) -> None:
    engine.load(config(files, "twin"))
    warm = SamplingParams(temperature=temperature, top_k=40, seed=1234, max_tokens=50)
    plain, _ = run(engine, DraftSettings(), warm, reuse_prefix=False)
    first, done = run(engine, draft, warm, reuse_prefix=False)
    again, _ = run(engine, draft, warm, reuse_prefix=False)
    assert [t.id for t in first] == [t.id for t in again]
    assert done.draft_proposed > 0
    # The sampler's random stream is consumed once per token either way.
    close(plain, first)


def test_the_repeat_penalty_sees_the_accepted_tokens_as_without_drafting(
    engine: LlamaCppEngine, files: dict[str, Path]
) -> None:
    engine.load(config(files, "model"))
    params = SamplingParams.greedy(max_tokens=60, repeat_penalty=1.3, repeat_last_n=16)
    plain, _ = run(engine, DraftSettings(), params, reuse_prefix=False)
    drafted, done = run(engine, BOTH, params, reuse_prefix=False)
    close(plain, drafted)
    assert done.draft_accepted > 0
    # The penalty changed the reply: a chain that ignored it would differ.
    unpenalised, _ = run(engine, DraftSettings(), GREEDY, reuse_prefix=False)
    assert [t.id for t in unpenalised][:60] != [t.id for t in plain]


def test_after_a_drafted_reply_the_cache_holds_the_conversation(
    engine: LlamaCppEngine, files: dict[str, Path]
) -> None:
    """A follow-up turn reuses the cache and answers as a fresh engine does."""
    engine.load(config(files, "twin"))
    short = SamplingParams.greedy(max_tokens=25)
    first = (Message("user", PROMPT),)
    reply, _ = run(engine, BOTH, short, prompt=None, messages=first)
    follow = (
        *first,
        Message("assistant", "".join(t.text for t in reply)),
        Message("user", "and the model"),
    )
    cached, done = run(engine, BOTH, short, prompt=None, messages=follow)
    assert done.prompt_tokens_reused > 0
    fresh_engine = LlamaCppEngine()
    try:
        fresh_engine.load(config(files))
        fresh, _ = run(fresh_engine, DraftSettings(), short, prompt=None, messages=follow)
    finally:
        fresh_engine.unload()
    close(fresh, cached)


def test_stop_strings_and_max_tokens_end_a_drafted_reply_where_they_would(
    engine: LlamaCppEngine, files: dict[str, Path]
) -> None:
    engine.load(config(files, "model"))
    plain, _ = run(engine, DraftSettings(), GREEDY, reuse_prefix=False)
    text = "".join(t.text for t in plain)
    stop = text[len(text) // 2 : len(text) // 2 + 3]
    assert stop.strip()
    params = SamplingParams.greedy(max_tokens=60, stop=(stop,))
    _, a_done = run(engine, DraftSettings(), params, reuse_prefix=False)
    _, b_done = run(engine, DRAFT, params, reuse_prefix=False)
    assert a_done.finish_reason == b_done.finish_reason == "stop"
    assert a_done.text == b_done.text
    # Tokens drafted and drawn past the stop string are not counted.
    assert a_done.completion_tokens == b_done.completion_tokens
    for n in (1, 2, 7):
        c, c_done = run(engine, DRAFT, SamplingParams.greedy(max_tokens=n), reuse_prefix=False)
        assert len(c) == c_done.completion_tokens == n


def test_without_fixed_lengths_a_draft_as_costly_as_the_model_proposes_nothing(
    engine: LlamaCppEngine, files: dict[str, Path]
) -> None:
    engine.load(config(files, "model"))
    adaptive = DraftSettings(draft_model=True, max_draft=4)
    plain, _ = run(engine, DraftSettings(), GREEDY, reuse_prefix=False)
    drafted, done = run(engine, adaptive, GREEDY, reuse_prefix=False)
    close(plain, drafted)
    assert done.draft_proposed == 0


def test_a_draft_model_with_another_vocabulary_is_refused_and_the_model_still_answers(
    engine: LlamaCppEngine, files: dict[str, Path]
) -> None:
    loaded = engine.load(config(files, "other_vocab"))
    assert loaded.draft_model_path is None
    assert "cannot draft for this model" in loaded.draft_error
    assert "vocabulary" in loaded.draft_error
    tokens, _ = run(engine, LOOKUP, GREEDY, reuse_prefix=False)
    assert len(tokens) == 60
    events = list(engine.generate(GenerateRequest(params=GREEDY, prompt=PROMPT, draft=DRAFT)))
    assert isinstance(events[-1], ErrorEvent)
    assert "No draft model is loaded" in events[-1].message


def test_drafting_under_a_grammar_keeps_the_grammar(
    engine: LlamaCppEngine, files: dict[str, Path]
) -> None:
    engine.load(config(files, "model"))
    grammar = 'root ::= ("the model " | "the token ")+'
    params = SamplingParams.greedy(max_tokens=30)
    plain, _ = run(engine, DraftSettings(), params, grammar=grammar, reuse_prefix=False)
    drafted, done = run(engine, BOTH, params, grammar=grammar, reuse_prefix=False)
    close(plain, drafted)
    assert done.draft_proposed > 0
    text = "".join(t.text for t in drafted)
    assert set(text.split()) <= {"the", "model", "token"}


@pytest.mark.parametrize(
    ("draft", "method"),
    [(DraftSettings(), "_decode_prepared"), (LOOKUP, "_decode_rows")],
    ids=["plain", "drafted"],
)
def test_a_decode_failure_mid_reply_is_the_last_event(
    engine: LlamaCppEngine,
    files: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    draft: DraftSettings,
    method: str,
) -> None:
    engine.load(config(files))
    real = getattr(engine, method)
    calls = 0

    def failing(*args: object) -> int:
        nonlocal calls
        calls += 1
        return -3 if calls == 3 else real(*args)

    monkeypatch.setattr(engine, method, failing)
    request = GenerateRequest(params=GREEDY, prompt=PROMPT, draft=draft, ignore_eos=True)
    events = list(engine.generate(request))
    assert calls >= 3
    assert isinstance(events[-1], ErrorEvent), events[-1]
    assert "code -3" in events[-1].message
    assert not any(isinstance(e, DoneEvent) for e in events)
