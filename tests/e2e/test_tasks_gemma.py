"""Task panels' core with the real Gemma 3 270M in the engine process."""

from __future__ import annotations

import json

import jsonschema
import pytest

from desktop_app.core.engine.protocol import EngineConfig
from desktop_app.core.tasks.classify import ClassifySpec, Label, classify, classify_batch
from desktop_app.core.tasks.extract import extract
from desktop_app.workers.engine.client import EngineClient

pytestmark = pytest.mark.e2e

SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 40},
        "age": {"type": "integer"},
        "city": {"type": ["string", "null"], "maxLength": 40},
        "languages": {"type": "array", "items": {"type": "string", "maxLength": 20}, "maxItems": 4},
    },
    "required": ["name", "age", "city", "languages"],
}


@pytest.fixture(scope="module")
def client(gemma_path):
    c = EngineClient()
    c.load(EngineConfig(str(gemma_path), n_ctx=2048))
    yield c
    c.close()


def test_label_probabilities_sum_to_one_and_favour_the_obvious_label(client):
    spec = ClassifySpec((Label("positive"), Label("negative")))
    good = classify(client, "I love this phone, the battery lasts forever. Wonderful!", spec)
    bad = classify(client, "Terrible. It broke after one day and support ignored me.", spec)
    for result in (good, bad):
        assert sum(result.probabilities.values()) == pytest.approx(1.0)
        assert all(0 < p < 1 for p in result.probabilities.values())
    assert good.label == "positive"
    assert good.probabilities["positive"] > bad.probabilities["positive"]


def test_a_batch_reuses_the_shared_prefix_and_matches_single_calls(client):
    spec = ClassifySpec((Label("sport"), Label("cooking"), Label("music")))
    texts = ["The striker scored twice.", "Stir the sauce slowly.", "The band played jazz."]
    batch = classify_batch(client, texts, spec)
    single = [classify(client, t, spec, reuse_prefix=False) for t in texts]
    for b, s in zip(batch, single, strict=True):
        # The same numbers up to rounding: a quantized model evaluates a prompt in other
        # batch shapes when its beginning comes from the cache.
        assert b.label == s.label
        for name in spec.names:
            assert b.probabilities[name] == pytest.approx(s.probabilities[name], abs=0.03)


def test_extraction_is_valid_json_for_the_schema_with_confidences(client):
    text = "Maria Lopez is 34 years old, lives in Madrid and speaks Spanish and English."
    result = extract(client, text, SCHEMA)
    jsonschema.validate(result.data, SCHEMA)
    assert json.loads(result.generation.text) == result.data
    assert result.data["age"] == 34 and "Maria" in result.data["name"]
    assert set(result.confidence) == set(SCHEMA["properties"])
    assert all(0 < c.confidence <= 1 for c in result.confidence.values())
