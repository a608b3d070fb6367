"""Extract fields from a document into JSON that always validates against its schema.

Fields are defined in the panel (name, type, required or not, description) or
given as a JSON Schema. The schema becomes a GBNF grammar (``grammar``) that the
engine applies before its sampler chain, so the model cannot write anything the
schema rejects; the result is still checked with ``jsonschema``, and a reply cut
off before the JSON closed is an error, never a half object.

Each top-level field gets a confidence from the probabilities of the tokens that
wrote its value, under the grammar-constrained distribution (``p_raw`` of the
drawn token): ``confidence`` is their geometric mean (length-neutral, so a long
text is not judged unsure for being long), ``joint`` their product (the chance
of exactly this value) and ``lowest`` the least sure token.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from desktop_app.core.engine.protocol import Engine, GenerateRequest, Message, TokenEvent
from desktop_app.core.errors import GlassboxError, InvalidRequestError
from desktop_app.core.sampling import SamplingParams
from desktop_app.core.tasks.generation import Generation, OnToken, generate
from desktop_app.core.tasks.grammar import max_output_bytes, schema_to_grammar
from desktop_app.core.tasks.prompts import DEFAULT_TEMPLATES, render

FieldType = Literal["text", "number", "integer", "date", "list", "enum", "boolean"]
FIELD_TYPES: tuple[str, ...] = ("text", "number", "integer", "date", "list", "enum", "boolean")


@dataclass(frozen=True, slots=True)
class Field:
    """One field to extract, as the panel defines it.

    ``options`` are the allowed values of an ``enum``; ``max_length`` bounds a
    text (characters) or a list (items of up to ``max_length`` characters).
    """

    name: str
    type: FieldType = "text"
    required: bool = True
    description: str = ""
    options: tuple[str, ...] = ()
    max_length: int = 200

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise InvalidRequestError("A field needs a name.")
        if self.type not in FIELD_TYPES:
            raise InvalidRequestError(
                f"Field {self.name!r}: the type must be one of {', '.join(FIELD_TYPES)}."
            )
        if self.type == "enum" and not self.options:
            raise InvalidRequestError(f"Field {self.name!r}: an enum needs options.")
        if not 1 <= self.max_length <= 4000:
            raise InvalidRequestError(f"Field {self.name!r}: max length must be 1–4000.")


def fields_to_schema(fields: Sequence[Field]) -> dict[str, Any]:
    """The JSON Schema of the panel's fields: every field written, optional ones nullable.

    Writing every field (null when absent) keeps the columns of a batch table
    the same for every document.
    """
    if not fields:
        raise InvalidRequestError("Define at least one field to extract.")
    names = [f.name for f in fields]
    if len(set(names)) != len(names):
        raise InvalidRequestError("Field names must be different from each other.")
    props: dict[str, Any] = {}
    for f in fields:
        text: dict[str, Any] = {"type": "string", "maxLength": f.max_length}
        by_type: dict[str, dict[str, Any]] = {
            "text": text,
            "number": {"type": "number"},
            "integer": {"type": "integer"},
            "date": {"type": "string", "format": "date"},
            "list": {"type": "array", "items": {"type": "string", "maxLength": f.max_length},
                     "maxItems": 20},
            "enum": {"enum": list(f.options)},
            "boolean": {"type": "boolean"},
        }  # fmt: skip
        sub = by_type[f.type]
        if not f.required:
            sub = {"anyOf": [sub, {"type": "null"}]}
        if f.description:
            sub = {**sub, "description": f.description}
        props[f.name] = sub
    return {"type": "object", "properties": props, "required": names}


def describe_fields(schema: Mapping[str, Any]) -> str:
    """The field list shown to the model: name, type, required or optional, description."""
    required = set(schema.get("required", []))
    lines = []
    for name, sub in schema.get("properties", {}).items():
        kind = _kind(sub)
        need = "required" if name in required and not _nullable(sub) else "optional"
        desc = sub.get("description", "") if isinstance(sub, Mapping) else ""
        lines.append(f"- {name} ({kind}, {need})" + (f": {desc}" if desc else ""))
    return "\n".join(lines)


def _nullable(sub: Any) -> bool:
    if not isinstance(sub, Mapping):
        return False
    kinds = sub.get("type")
    if kinds == "null" or (isinstance(kinds, list) and "null" in kinds):
        return True
    return any(_nullable(s) for s in sub.get("anyOf", []))


def _kind(sub: Any) -> str:
    if not isinstance(sub, Mapping):
        return "value"
    if "enum" in sub:
        return "one of " + ", ".join(json.dumps(v, ensure_ascii=False) for v in sub["enum"])
    if "anyOf" in sub:
        return " or ".join(_kind(s) for s in sub["anyOf"] if s.get("type") != "null")
    kind = sub.get("type", "value")
    if kind == "string" and sub.get("format") == "date":
        return "date YYYY-MM-DD"
    if kind == "array":
        return f"list of {_kind(sub.get('items', {}))}"
    return str(kind)


@dataclass(frozen=True, slots=True)
class FieldConfidence:
    """How sure the model was of one field's value (see the module docstring)."""

    confidence: float
    joint: float
    lowest: float
    n_tokens: int


@dataclass(frozen=True, slots=True)
class Extraction:
    """The extracted object, each field's confidence, and the generation behind it."""

    data: Any
    confidence: Mapping[str, FieldConfidence]
    valid: bool
    errors: tuple[str, ...]
    generation: Generation
    schema: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The JSON printed by ``glassbox task extract --json``: the object plus confidences."""
        return {
            "data": self.data,
            "confidence": {k: round(v.confidence, 4) for k, v in self.confidence.items()},
        }


def load_schema(path: Path) -> dict[str, Any]:
    """A JSON Schema file (checked to be a schema the grammar can enforce)."""
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InvalidRequestError(f"The schema file {path} cannot be read ({exc}).") from exc
    if not isinstance(schema, dict):
        raise InvalidRequestError(f"{path} is not a JSON Schema object.")
    check_schema(schema)
    return schema


def check_schema(schema: Mapping[str, Any]) -> None:
    """Refuse a schema that is not valid JSON Schema or that the grammar cannot enforce."""
    import jsonschema

    try:
        jsonschema.Draft202012Validator.check_schema(dict(schema))
    except jsonschema.SchemaError as exc:
        raise InvalidRequestError(f"The JSON Schema is not valid: {exc.message}.") from exc
    schema_to_grammar(schema)


def build_messages(
    schema: Mapping[str, Any], text: str, templates: Mapping[str, str] | None = None
) -> tuple[Message, ...]:
    """The chat that asks for the fields of ``text``."""
    t = templates or DEFAULT_TEMPLATES
    return (
        Message("system", render(t["extract.system"], fields=describe_fields(schema))),
        Message("user", render(t["extract.user"], text=text)),
    )


def extract(
    engine: Engine,
    text: str,
    schema: Mapping[str, Any],
    templates: Mapping[str, str] | None = None,
    *,
    max_tokens: int = 2048,
    params: SamplingParams | None = None,
    on_token: OnToken | None = None,
) -> Extraction:
    """Extract ``schema``'s fields from ``text`` (greedy unless ``params`` say otherwise).

    The reply is allowed the grammar's longest sentence in tokens (at most
    ``max_tokens``); a reply cut off before that raises ``GlassboxError``.
    """
    if not text.strip():
        raise InvalidRequestError("There is no text to extract from.")
    grammar = schema_to_grammar(schema)
    bound = max_output_bytes(schema) + 1  # and the end-of-generation token
    limit = min(bound, max_tokens)
    base = params or SamplingParams.greedy(seed=0)
    request = GenerateRequest(
        params=replace(base, max_tokens=limit),
        messages=build_messages(schema, text, templates),
        candidates=5,
        grammar=grammar,
    )
    gen = generate(engine, request, on_token)
    if gen.done.finish_reason == "loop":
        raise GlassboxError(
            f"The model kept writing the same text over and over ({gen.done.completion_tokens} "
            "tokens), before the JSON was complete. Try a larger model, or a sampling "
            "temperature above 0."
        )
    if gen.done.finish_reason not in ("eos", "stop"):
        raise GlassboxError(
            f"The extraction stopped ({gen.done.finish_reason}) after {limit} tokens, before "
            "the JSON was complete. Lower the fields' maximum lengths or load the model "
            "with a larger context."
        )
    try:
        data = json.loads(gen.text)
    except ValueError as exc:
        raise GlassboxError(f"The model's output is not JSON ({exc}): {gen.text[:200]}") from exc
    errors = validate(data, schema)
    return Extraction(
        data=data,
        confidence=field_confidences(gen.text, gen.tokens),
        valid=not errors,
        errors=errors,
        generation=gen,
        schema=schema,
    )


def validate(data: Any, schema: Mapping[str, Any]) -> tuple[str, ...]:
    """Why ``data`` does not validate against ``schema`` (empty when it does)."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(dict(schema))
    return tuple(
        f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}"
        for e in validator.iter_errors(data)
    )


def value_spans(text: str) -> dict[str, tuple[int, int]]:
    """Character span of each top-level member's value in a JSON object's text."""
    decoder = json.JSONDecoder()
    spans: dict[str, tuple[int, int]] = {}
    i = _skip(text, 0)
    if i >= len(text) or text[i] != "{":
        return spans
    i = _skip(text, i + 1)
    while i < len(text) and text[i] != "}":
        key, i = decoder.raw_decode(text, i)
        i = _skip(text, i)
        i = _skip(text, i + 1)  # the colon
        start = i
        _, i = decoder.raw_decode(text, i)
        spans[str(key)] = (start, i)
        i = _skip(text, i)
        if i < len(text) and text[i] == ",":
            i = _skip(text, i + 1)
    return spans


def _skip(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t\r\n":
        i += 1
    return i


def field_confidences(text: str, tokens: Sequence[TokenEvent]) -> dict[str, FieldConfidence]:
    """Per top-level field, the probabilities of the tokens that overlap its value."""
    probs: list[tuple[int, int, float]] = []
    pos = 0
    for ev in tokens:
        end = pos + len(ev.text)
        drawn = next((c.p_raw for c in ev.candidates if c.id == ev.id), ev.p)
        probs.append((pos, end, drawn))
        pos = end
    out: dict[str, FieldConfidence] = {}
    try:
        spans = value_spans(text)
    except ValueError:
        return out
    for name, (start, end) in spans.items():
        ps = [p for a, b, p in probs if a < end and b > start and b > a]
        if not ps:
            continue
        logs = [math.log(max(p, 1e-300)) for p in ps]
        out[name] = FieldConfidence(
            confidence=math.exp(math.fsum(logs) / len(logs)),
            joint=math.exp(math.fsum(logs)),
            lowest=min(ps),
            n_tokens=len(ps),
        )
    return out
