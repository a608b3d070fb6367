"""Request bodies that would hold the interpreter (and the window) for long: refused or
parsed by the Python scanner, with the same result as the C parser."""

from __future__ import annotations

import json

import pytest

from desktop_app.core.api.openai import C_PARSER_VALUES, MAX_BODY_VALUES, parse_body
from desktop_app.core.errors import InvalidRequestError


def test_a_body_of_too_many_values_is_refused_with_a_sentence() -> None:
    body = b'{"x": [' + b"[]," * MAX_BODY_VALUES + b"0]}"
    with pytest.raises(InvalidRequestError, match=r"too complex.*Send fewer or shorter messages"):
        parse_body(body)


def test_a_body_of_many_values_is_parsed_as_the_c_parser_would() -> None:
    value = {
        "messages": [
            {"role": "user", "content": f'line {i}, with "quotes" \u2713'} for i in range(5000)
        ],
        "stop": ["a"] * 100,
        "nested": [[1.5, None, True, {"k": "v"}]] * 3000,
    }
    raw = json.dumps(value, ensure_ascii=False).encode()
    assert raw.count(b",") > C_PARSER_VALUES
    assert parse_body(raw) == value


@pytest.mark.parametrize("opener", [b"[", b'{"a":'])
def test_deep_nesting_in_a_large_body_is_a_400_too(opener: bytes) -> None:
    with pytest.raises(InvalidRequestError, match="nested too deeply"):
        parse_body(b'{"a": ' + opener * (C_PARSER_VALUES * 2) + b"1")
    with pytest.raises(InvalidRequestError, match="not JSON"):
        parse_body(b'{"a": [' + b"1," * (C_PARSER_VALUES * 2) + b"}")
