"""Schema to grammar, and a random-weight model that can only ever write valid JSON."""

from __future__ import annotations

import json

import jsonschema
import pytest
from gguf_factory import write_tiny_llama

from desktop_app.core.engine.fake import FakeEngine
from desktop_app.core.engine.llama_backend import LlamaCppEngine
from desktop_app.core.engine.protocol import DoneEvent, EngineConfig, GenerateRequest
from desktop_app.core.errors import InvalidRequestError
from desktop_app.core.sampling import SamplingParams
from desktop_app.core.tasks.extract import (
    Field,
    describe_fields,
    extract,
    field_confidences,
    fields_to_schema,
    value_spans,
)
from desktop_app.core.tasks.grammar import max_output_bytes, schema_to_grammar

SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 16},
        "age": {"type": ["integer", "null"]},
        "tags": {"type": "array", "items": {"enum": ["a", "b", "c d"]}, "maxItems": 3},
        "when": {"type": "string", "format": "date"},
        "score": {"type": "number"},
        "ok": {"type": "boolean"},
        "nested": {
            "type": "object",
            "properties": {"x": {"type": "string", "maxLength": 5}},
            "required": ["x"],
        },
    },
    "required": ["name", "age"],
}


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    path = write_tiny_llama(tmp_path_factory.mktemp("tiny") / "tiny.gguf", n_ctx=512)
    e = LlamaCppEngine()
    e.load(EngineConfig(str(path), n_ctx=512, n_threads=1, n_threads_batch=1))
    return e


def test_a_random_model_always_writes_json_valid_for_the_schema(engine):
    grammar = schema_to_grammar(SCHEMA)
    bound = max_output_bytes(SCHEMA) + 1
    seen_optional = set()
    for seed in range(40):
        params = SamplingParams(
            temperature=1.5, top_k=0, top_p=1.0, min_p=0.0, seed=seed, max_tokens=bound
        )
        events = list(engine.generate(GenerateRequest(params, prompt="hello", grammar=grammar)))
        done = events[-1]
        assert isinstance(done, DoneEvent), done
        assert done.finish_reason == "eos"  # finished inside the bound, never cut off
        data = json.loads(done.text)
        jsonschema.validate(data, SCHEMA)
        seen_optional.update(set(data) - {"name", "age"})
        for ev in events[:-1]:
            assert all(c.p_raw > 0 for c in ev.candidates)  # rejected tokens are not shown
    assert seen_optional  # optional members do get written


def test_the_same_seed_gives_the_same_constrained_reply(engine):
    grammar = schema_to_grammar(SCHEMA)
    params = SamplingParams(temperature=1.0, seed=7, max_tokens=max_output_bytes(SCHEMA) + 1)
    a = list(engine.generate(GenerateRequest(params, prompt="the", grammar=grammar)))[-1]
    b = list(engine.generate(GenerateRequest(params, prompt="the", grammar=grammar)))[-1]
    assert a.text == b.text


def test_extract_with_a_random_model_returns_a_valid_object_and_confidences(engine):
    schema = fields_to_schema(
        [
            Field("name", "text", max_length=12),
            Field("total", "number"),
            Field("when", "date", required=False),
            Field("kind", "enum", options=("x", "y")),
            Field("items", "list", max_length=6),
        ]
    )
    schema["properties"]["items"]["maxItems"] = 3
    for seed in range(5):
        params = SamplingParams(temperature=1.2, top_k=0, top_p=1.0, min_p=0.0, seed=seed)
        result = extract(engine, "Order by Ann", schema, params=params)
        assert result.valid, result.errors
        assert set(result.data) == {"name", "total", "when", "kind", "items"}
        assert set(result.confidence) == set(result.data)
        for conf in result.confidence.values():
            assert 0 < conf.joint <= conf.lowest <= conf.confidence <= 1


def test_a_bad_grammar_is_refused_and_the_engine_goes_on(engine):
    events = list(engine.generate(GenerateRequest(prompt="hi", grammar="root ::= (")))
    assert events[-1].kind == "invalid_request"
    assert isinstance(list(engine.generate(GenerateRequest(prompt="hi")))[-1], DoneEvent)


def test_grammar_text_for_fields():
    g = schema_to_grammar(SCHEMA)
    assert g.startswith("root ::= ")
    assert '"\\"name\\": "' in g and "char{0,16}" in g
    assert "[12] [0-9]{3}" in g  # dates
    assert '(", " tags-item' in g


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "string", "pattern": "^a"},
        {"type": "object", "properties": {"a": {"$ref": "#/x"}}},
        {"type": "object", "properties": {"a": {}}},
        {"type": "object", "properties": {}, "required": []},
        {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["b"]},
        {"type": "number", "minimum": 0},
    ],
)
def test_constraints_the_grammar_cannot_enforce_are_refused(schema):
    with pytest.raises(InvalidRequestError):
        schema_to_grammar(schema)


def test_fields_become_a_schema_with_nullable_optional_fields():
    schema = fields_to_schema(
        [Field("who", description="the buyer"), Field("n", "integer", required=False)]
    )
    assert schema["required"] == ["who", "n"]
    jsonschema.validate({"who": "x", "n": None}, schema)
    listing = describe_fields(schema)
    assert "- who (string, required): the buyer" in listing
    assert "- n (integer, optional)" in listing
    with pytest.raises(InvalidRequestError):
        Field("e", "enum")
    with pytest.raises(InvalidRequestError):
        fields_to_schema([Field("a"), Field("a")])


def test_value_spans_and_confidences_follow_the_tokens():
    text = '{"a": "xy", "b": 12}'
    spans = value_spans(text)
    assert text[slice(*spans["a"])] == '"xy"' and text[slice(*spans["b"])] == "12"
    engine = FakeEngine(script=text)
    engine.load(EngineConfig("fake.gguf"))
    events = [e for e in engine.generate(GenerateRequest(prompt="x")) if hasattr(e, "candidates")]
    conf = field_confidences(text, events)
    assert set(conf) == {"a", "b"}
    assert conf["b"].n_tokens == 2


def test_extract_refuses_a_reply_cut_off_before_the_json_closed():
    engine = FakeEngine(script='{"a": "unfinished')
    engine.load(EngineConfig("fake.gguf"))
    schema = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}
    with pytest.raises(Exception, match=r"before the JSON was complete|not JSON"):
        extract(engine, "text", schema, max_tokens=5)


def test_extract_says_when_the_model_loops_instead_of_blaming_the_limit():
    engine = FakeEngine(script='{"a": "' + "the same words " * 40)
    engine.load(EngineConfig("fake.gguf"))
    schema = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}
    with pytest.raises(Exception, match=r"kept writing the same text over and over") as caught:
        extract(engine, "text", schema, max_tokens=2000)
    assert "Lower the fields' maximum lengths" not in str(caught.value)
