"""``glassbox eval model``'s core with the real Gemma 3 270M: a few sample items of each kind."""

from __future__ import annotations

import pytest

from desktop_app.core.engine.protocol import EngineConfig
from desktop_app.core.lab.model_eval import evaluate
from desktop_app.core.lab.questions import load_questions, sample_path
from desktop_app.workers.engine.client import EngineClient

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def client(gemma_path):  # type: ignore[no-untyped-def]
    c = EngineClient()
    c.load(EngineConfig(str(gemma_path), n_ctx=2048))
    yield c
    c.close()


def test_multiple_choice_from_logits_with_the_prefix_in_the_cache(client) -> None:  # type: ignore[no-untyped-def]
    report = evaluate(client, load_questions(sample_path("mc-zh")), model="gemma", limit=2)
    assert report.n == 2
    for item in report.items:
        assert list(item.probabilities) == ["A", "B", "C", "D"]
        assert sum(item.probabilities.values()) == pytest.approx(1.0)
        assert item.confidence == max(item.probabilities.values())
    # Instructions and examples are evaluated once, then found in the cache.
    assert all(r.prompt_tokens_reused > 0 for r in report.items[1:])
    low, high = report.interval
    assert low <= report.accuracy <= high


def test_word_problems_generate_and_read_a_number(client) -> None:  # type: ignore[no-untyped-def]
    report = evaluate(
        client, load_questions(sample_path("math-en")), model="gemma", limit=1, max_tokens=24
    )
    assert report.n == 1
    for item in report.items:
        assert item.reply and item.tokens
        assert "".join(t.text for t in item.tokens) == item.reply
        assert 0.0 <= item.confidence <= 1.0
