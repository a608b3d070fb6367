"""JSON Schema (a safe subset) to a GBNF grammar whose every sentence validates.

The grammar is written for the engine's grammar mask, which removes every token
that would leave it, so the model can only write JSON that the schema accepts.
Three choices keep that promise whatever the model samples:

- No free whitespace: objects are written ``{"a": 1, "b": "x"}`` and arrays
  ``[1, 2]``, so a model cannot spend its token budget on blank lines.
- Every string and array has a maximum length (``maxLength`` and ``maxItems``,
  or the defaults below), so the longest sentence is known: ``max_output_bytes``
  gives it, and a generation allowed that many tokens always finishes the JSON
  (each token moves the grammar at least one byte on).
- Keywords whose constraint the grammar cannot express (``pattern``, ``minimum``,
  ``$ref``…) are refused with a message, never silently ignored.

Object properties come in the schema's order. Properties not in ``required``
may be left out; ``additionalProperties`` is never needed, as only the listed
properties are written. ``format: date`` strings are ``YYYY-MM-DD``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from desktop_app.core.errors import InvalidRequestError

#: The longest string or array written when the schema gives no bound.
DEFAULT_MAX_LENGTH = 300
DEFAULT_MAX_ITEMS = 20
#: Digits of a number's integer and fraction parts.
INT_DIGITS = 15
FRACTION_DIGITS = 6

#: Keywords that only describe (or that the grammar enforces by construction).
_ANNOTATIONS = frozenset(
    {
        "$schema", "$id", "$comment", "title", "description", "default", "examples",
        "additionalProperties", "format", "type", "properties", "required", "items",
        "enum", "const", "maxLength", "minLength", "maxItems", "minItems", "anyOf",
        "oneOf", "readOnly", "writeOnly", "deprecated",
    }
)  # fmt: skip

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}

_PRIMITIVES = {
    # A character of a JSON string: anything but a quote, a backslash or a control
    # character, or a short escape. No \\u escapes: a lone surrogate would parse
    # but could not be printed as UTF-8.
    "char": '[^"\\\\\\x00-\\x1f] | "\\\\" ["\\\\/bfnrt]',
    "integer": f'"-"? ("0" | [1-9] [0-9]{{0,{INT_DIGITS - 1}}})',
    "number": f'integer ("." [0-9]{{1,{FRACTION_DIGITS}}})?',
    "boolean": '"true" | "false"',
    "null": '"null"',
    "date": (
        '"\\"" [12] [0-9]{3} "-" ("0" [1-9] | "1" [0-2]) "-" '
        '("0" [1-9] | [12] [0-9] | "3" [01]) "\\""'
    ),
}
_PRIMITIVE_BYTES = {
    "integer": 1 + INT_DIGITS,
    "number": 1 + INT_DIGITS + 1 + FRACTION_DIGITS,
    "boolean": 5,
    "null": 4,
    "date": 12,
}
_DEPENDS = {"number": ("integer",)}


def _literal(text: str) -> str:
    """``text`` as a GBNF string literal."""
    out = []
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


class _Builder:
    def __init__(self) -> None:
        self.rules: dict[str, str] = {}
        self.counter = 0

    def name(self, hint: str) -> str:
        self.counter += 1
        clean = "".join(c if c.isalnum() else "-" for c in hint.lower()).strip("-") or "v"
        return f"{clean[:24]}-{self.counter}"

    def primitive(self, kind: str) -> str:
        for dep in _DEPENDS.get(kind, ()):
            self.primitive(dep)
        self.rules[kind] = _PRIMITIVES[kind]
        return kind

    def add(self, hint: str, body: str) -> str:
        rule = self.name(hint)
        self.rules[rule] = body
        return rule

    def visit(self, schema: Any, hint: str) -> str:
        """A rule name matching exactly the JSON values ``schema`` accepts (within bounds)."""
        if schema is True or schema == {}:
            raise InvalidRequestError(
                f"The schema of {hint!r} accepts anything: give it a type so the "
                "output can be constrained."
            )
        if not isinstance(schema, Mapping):
            raise InvalidRequestError(f"The schema of {hint!r} is not an object: {schema!r}.")
        unsupported = sorted(set(schema) - _ANNOTATIONS)
        if unsupported:
            raise InvalidRequestError(
                f"The schema of {hint!r} uses {', '.join(unsupported)}, which the output "
                "grammar cannot enforce. Remove it (or describe it in a description)."
            )
        if "const" in schema:
            return self.add(hint, _literal(json.dumps(schema["const"], ensure_ascii=False)))
        if "enum" in schema:
            values = schema["enum"]
            if not isinstance(values, list) or not values:
                raise InvalidRequestError(f"The enum of {hint!r} must be a non-empty list.")
            alts = " | ".join(_literal(json.dumps(v, ensure_ascii=False)) for v in values)
            return self.add(hint, alts)
        for key in ("anyOf", "oneOf"):
            if key in schema:
                subs = schema[key]
                if not isinstance(subs, list) or not subs:
                    raise InvalidRequestError(f"{key} of {hint!r} must be a non-empty list.")
                if key == "oneOf" and len(subs) > 1:
                    raise InvalidRequestError(
                        f"oneOf of {hint!r}: use anyOf, the grammar cannot make the "
                        "alternatives exclusive."
                    )
                return self.add(hint, " | ".join(self.visit(s, hint) for s in subs))
        kind = schema.get("type")
        if isinstance(kind, list):
            if not kind:
                raise InvalidRequestError(f"The type list of {hint!r} is empty.")
            return self.add(hint, " | ".join(self.visit({**schema, "type": k}, hint) for k in kind))
        if kind == "object":
            return self.object(schema, hint)
        if kind == "array":
            return self.array(schema, hint)
        if kind == "string":
            if schema.get("format") == "date":
                return self.primitive("date")
            lo, hi = _bounds(schema, "minLength", "maxLength", DEFAULT_MAX_LENGTH, hint)
            self.primitive("char")
            return self.add(hint, f'"\\"" char{{{lo},{hi}}} "\\""')
        if kind in ("integer", "number", "boolean", "null"):
            return self.primitive(kind)
        raise InvalidRequestError(f"The schema of {hint!r} has no supported type ({kind!r}).")

    def object(self, schema: Mapping[str, Any], hint: str) -> str:
        props = schema.get("properties", {})
        if not isinstance(props, Mapping) or not props:
            raise InvalidRequestError(f"The object {hint!r} needs properties.")
        required = set(schema.get("required", []))
        missing = sorted(required - set(props))
        if missing:
            raise InvalidRequestError(
                f"{hint!r} requires {', '.join(missing)}, which it does not define."
            )
        members = []
        for key, sub in props.items():
            value = self.visit(sub, key)
            members.append((_literal(json.dumps(key, ensure_ascii=False) + ": ") + " " + value,
                            key in required))  # fmt: skip
        # Optional members may be left out, so whether a comma comes before a member
        # depends on whether one was written already: a rule per (position, state).
        n = len(members)
        base = self.name(hint)
        after = [f"{base}-a{i}" for i in range(n + 1)]
        first = [f"{base}-f{i}" for i in range(n + 1)]
        self.rules[after[n]] = '""'
        self.rules[first[n]] = '""'
        for i in range(n - 1, -1, -1):
            member, needed = members[i]
            if needed:
                self.rules[after[i]] = f'", " {member} {after[i + 1]}'
                self.rules[first[i]] = f"{member} {after[i + 1]}"
            else:
                self.rules[after[i]] = f'(", " {member})? {after[i + 1]}'
                self.rules[first[i]] = f"{member} {after[i + 1]} | {first[i + 1]}"
        return self.add(hint, f'"{{" {first[0]} "}}"')

    def array(self, schema: Mapping[str, Any], hint: str) -> str:
        items = schema.get("items")
        if not isinstance(items, Mapping):
            raise InvalidRequestError(f"The array {hint!r} needs an items schema.")
        item = self.visit(items, hint + "-item")
        lo, hi = _bounds(schema, "minItems", "maxItems", DEFAULT_MAX_ITEMS, hint)
        if hi == 0:
            return self.add(hint, '"[]"')
        rest = f'(", " {item}){{{max(lo - 1, 0)},{hi - 1}}}'
        body = f'"[" {item} {rest} "]"'
        if lo == 0:
            body = f'"[]" | {body}'
        return self.add(hint, body)


def _bounds(
    schema: Mapping[str, Any], lo_key: str, hi_key: str, default: int, hint: str
) -> tuple[int, int]:
    lo = schema.get(lo_key, 0)
    hi = schema.get(hi_key, default)
    ok = isinstance(lo, int) and isinstance(hi, int) and 0 <= lo <= hi
    if not ok:
        raise InvalidRequestError(f"{lo_key}/{hi_key} of {hint!r} must be 0 <= min <= max.")
    return int(lo), int(hi)


def schema_to_grammar(schema: Mapping[str, Any]) -> str:
    """GBNF text (root rule ``root``) for the JSON values ``schema`` accepts."""
    builder = _Builder()
    top = builder.visit(schema, "root")
    lines = [f"root ::= {top}"]
    lines += [f"{name} ::= {body}" for name, body in builder.rules.items()]
    return "\n".join(lines) + "\n"


def max_output_bytes(schema: Mapping[str, Any]) -> int:
    """The longest sentence of ``schema_to_grammar(schema)``, in UTF-8 bytes.

    A character of a string counts 4 bytes (the longest UTF-8 character; an
    escape is 2). Since the engine's grammar mask only lets tokens through that
    move the grammar on by at least one byte, this is also a bound in tokens.
    """
    if "const" in schema:
        return len(json.dumps(schema["const"], ensure_ascii=False).encode())
    if "enum" in schema:
        return max(len(json.dumps(v, ensure_ascii=False).encode()) for v in schema["enum"])
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return max(max_output_bytes(s) for s in schema[key])
    kind = schema.get("type")
    if isinstance(kind, list):
        return max(max_output_bytes({**schema, "type": k}) for k in kind)
    if kind == "object":
        total = 2
        for key, sub in schema.get("properties", {}).items():
            total += len(json.dumps(key, ensure_ascii=False).encode()) + 4 + max_output_bytes(sub)
        return total
    if kind == "array":
        hi = int(schema.get("maxItems", DEFAULT_MAX_ITEMS))
        return 2 + hi * (max_output_bytes(schema["items"]) + 2)
    if kind == "string":
        if schema.get("format") == "date":
            return _PRIMITIVE_BYTES["date"]
        return 2 + 4 * int(schema.get("maxLength", DEFAULT_MAX_LENGTH))
    return _PRIMITIVE_BYTES[str(kind)]


def value_rules(schemas: Sequence[tuple[str, Mapping[str, Any]]]) -> tuple[list[str], list[str]]:
    """Rules for several schemas in one grammar (tool arguments): the rule name of
    each schema's values, in order, and the lines of every rule they need."""
    builder = _Builder()
    tops = [builder.visit(schema, hint) for hint, schema in schemas]
    return tops, [f"{name} ::= {body}" for name, body in builder.rules.items()]
