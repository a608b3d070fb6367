"""Label scoring from logits: the engine's scores against a brute force over the same model."""

from __future__ import annotations

import math

import numpy as np
import pytest
from gguf_factory import write_tiny_llama

from desktop_app.core.engine.fake import FakeEngine
from desktop_app.core.engine.llama_backend import LlamaCppEngine
from desktop_app.core.engine.protocol import (
    EngineConfig,
    GenerateRequest,
    Message,
    ScoreRequest,
)
from desktop_app.core.errors import InvalidRequestError
from desktop_app.core.tasks.classify import (
    ClassifySpec,
    Example,
    Label,
    build_request,
    classify,
    classify_batch,
    label_probabilities,
)

CONTINUATIONS = ("hello world", "yes", "the model answer", "thanks please help")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return write_tiny_llama(tmp_path_factory.mktemp("tiny") / "tiny.gguf", n_ctx=256)


def _engine(path) -> LlamaCppEngine:
    engine = LlamaCppEngine()
    engine.load(EngineConfig(str(path), n_ctx=256, n_threads=1, n_threads_batch=1))
    return engine


def brute_force(engine: LlamaCppEngine, prompt: list[int], tokens: list[int]) -> list[float]:
    """Decode prompt then continuation one token at a time in an empty cache, and take the
    log-softmax of the full-vocabulary logits at each step."""
    llm = engine._llm
    llm._ctx.kv_cache_clear()
    engine._tokens = []
    engine._snapshot = None
    out = []
    seq = prompt + tokens
    for i, tok in enumerate(seq[:-1]):
        llm._batch.set_batch(batch=[tok], n_past=i, logits_all=False)
        assert engine._decode_prepared(tok) == 0
        if i >= len(prompt) - 1:
            logits = engine._logits().astype(np.float64)
            lse = logits.max() + math.log(np.exp(logits - logits.max()).sum())
            out.append(float(logits[seq[i + 1]] - lse))
    return out


@pytest.mark.parametrize("chat", [False, True])
def test_scores_equal_the_log_softmax_of_full_logits_decoded_step_by_step(tiny, chat):
    engine, fresh = _engine(tiny), _engine(tiny)
    if chat:
        kw = {"messages": (Message("system", "Answer."), Message("user", "What is it"))}
    else:
        kw = {"prompt": "What is the answer"}
    result = engine.score(ScoreRequest(continuations=CONTINUATIONS, **kw))
    prompt, _, _ = fresh.build_prompt(GenerateRequest(**kw))
    assert result.prompt_tokens == len(prompt)
    for text, per_token, total, n in zip(
        CONTINUATIONS, result.token_logprobs, result.logprobs, result.n_tokens, strict=True
    ):
        tokens = fresh.tokenize(text, add_bos=False, special=False)
        assert n == len(tokens) == len(per_token)
        expected = brute_force(fresh, prompt, tokens)
        assert per_token == pytest.approx(expected, abs=1e-4)
        assert total == pytest.approx(sum(per_token))
        assert total < 0


def test_a_second_request_reuses_the_shared_prompt_and_scores_the_same(tiny):
    engine = _engine(tiny)
    spec = ClassifySpec((Label("yes"), Label("no"), Label("hello world")))
    first = engine.score(build_request(spec, "the model"))
    other = engine.score(build_request(spec, "an answer"))
    again = engine.score(build_request(spec, "the model"))
    assert other.prompt_tokens_reused > 0  # the instructions were not evaluated again
    assert again.logprobs == pytest.approx(first.logprobs, abs=1e-4)
    cold = _engine(tiny).score(build_request(spec, "the model", reuse_prefix=False))
    assert cold.logprobs == pytest.approx(first.logprobs, abs=1e-4)
    # Scoring leaves the cache holding the prompt only: generation still works after it.
    events = list(engine.generate(GenerateRequest(prompt="hello", candidates=3)))
    assert events[-1].__class__.__name__ == "DoneEvent"


def test_label_probabilities_are_the_softmax_of_the_summed_or_mean_logprobs(tiny):
    engine = _engine(tiny)
    names = ("yes", "thanks please help")
    result = engine.score(ScoreRequest(continuations=names, prompt="hello"))
    probs = label_probabilities(result, names, "sum")
    z = [math.exp(lp) for lp in result.logprobs]
    assert [probs[n] for n in names] == pytest.approx([x / sum(z) for x in z])
    assert sum(probs.values()) == pytest.approx(1.0)
    mean = label_probabilities(result, names, "mean")
    zm = [math.exp(lp / n) for lp, n in zip(result.logprobs, result.n_tokens, strict=True)]
    assert [mean[n] for n in names] == pytest.approx([x / sum(zm) for x in zm])


def test_a_continuation_past_the_context_is_refused(tiny):
    engine = _engine(tiny)
    with pytest.raises(InvalidRequestError):
        engine.score(ScoreRequest(continuations=("",), prompt="hello"))
    with pytest.raises(Exception, match="context"):
        engine.score(ScoreRequest(continuations=("hello " * 300,), prompt="hello"))


def test_classify_with_the_fake_engine_picks_the_label_the_script_spells():
    engine = FakeEngine(script="negative")
    engine.load(EngineConfig("fake.gguf"))
    spec = ClassifySpec((Label("positive"), Label("negative"), Label("neutral")))
    result = classify(engine, "Broke on day one.", spec)
    assert result.label == "negative"
    assert sum(result.probabilities.values()) == pytest.approx(1.0)
    assert result.as_dict()["label"] == "negative"


def test_few_shot_examples_are_earlier_turns_and_the_prefix_is_shared():
    spec = ClassifySpec(
        (Label("pos", "happy"), Label("neg")),
        (Example("great", "pos"), Example("awful", "neg")),
    )
    a, b = build_request(spec, "first"), build_request(spec, "second")
    roles = [m.role for m in a.messages]
    assert roles == ["system", "user", "assistant", "user", "assistant", "user"]
    assert "- pos: happy" in a.messages[0].content and "- neg" in a.messages[0].content
    assert a.messages[2].content == "pos"
    assert a.messages[:-1] == b.messages[:-1]
    assert a.continuations == ("pos", "neg")


def test_a_batch_stops_when_asked_and_keeps_what_finished():
    engine = FakeEngine(script="pos")
    engine.load(EngineConfig("fake.gguf"))
    spec = ClassifySpec((Label("pos"), Label("neg")))
    seen = []
    done = classify_batch(
        engine, ["a", "b", "c", "d"], spec,
        on_result=lambda i, r: seen.append(i), should_stop=lambda: len(seen) >= 2,
    )  # fmt: skip
    assert len(done) == 2 and seen == [0, 1]


@pytest.mark.parametrize(
    "labels,examples",
    [
        ((Label("a"),), ()),
        ((Label("a"), Label("a")), ()),
        ((Label("a"), Label("b")), (Example("x", "c"),)),
    ],
)
def test_bad_specs_are_refused(labels, examples):
    with pytest.raises(InvalidRequestError):
        ClassifySpec(labels, examples)
