"""How values are written to the chat database and read back, damage included.

Token records are compact JSON that gives the same event back. Text that is not
UTF-8, numbers that are not numbers and JSON that does not parse are read as
defaults (with a note where the caller shows one), so one bad row never hides
the others.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Literal, get_args

from desktop_app.core.engine.protocol import DraftMark, TokenEvent
from desktop_app.core.sampling import Candidate

#: Where a message stands; ``streaming`` only while a recorder writes it.
MessageStatus = Literal["complete", "streaming", "interrupted", "cancelled", "error"]
STATUSES: tuple[str, ...] = get_args(MessageStatus)


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """A stored token: the event as the engine reported it, and whether the user forced it."""

    event: TokenEvent
    forced: bool = False


def encode_token(event: TokenEvent) -> str:
    """A token event as compact JSON: ``[index, id, text, p, [[id, text, logit, p_raw,
    p_final, removed_by], ...]]``, with a sixth item, the draft mark, only for a token
    speculative decoding proposed (or measured with and without the documents), and a
    seventh, ``[p_with, p_without]``, only for a token context-aware decoding measured.
    Floats are written in full, so decoding gives the
    same event back."""
    data: list[Any] = [
        int(event.index),
        int(event.id),
        event.text,
        float(event.p),
        [
            [int(c.id), c.text, float(c.logit), float(c.p_raw), float(c.p_final), c.removed_by]
            for c in event.candidates
        ],
    ]
    if event.draft or event.p_without is not None:
        data.append(event.draft)
    if event.p_with is not None and event.p_without is not None:
        # Context-aware decoding measured it: its probability with and without the documents.
        data.append([float(event.p_with), float(event.p_without)])
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # A token cut inside a character can hold a lone surrogate; escaped JSON
        # still gives it back exactly, where raw text could not be stored.
        text = json.dumps(data, ensure_ascii=True, separators=(",", ":"))
    return text


def _want_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected an integer, got {value!r}")
    return value


def _want_float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number, got {value!r}")
    return float(value)


def _want_str(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected text, got {value!r}")
    return value


def decode_token(text: str) -> TokenEvent:
    """The token event written by :func:`encode_token`; ValueError when it is damaged."""
    data = json.loads(text)
    if not isinstance(data, list) or len(data) not in (5, 6, 7) or not isinstance(data[4], list):
        raise ValueError("a token record is not a five-item list")
    mark = data[5] if len(data) >= 6 else ""
    p_with = p_without = None
    if len(data) == 7:
        pair = data[6]
        if not isinstance(pair, list) or len(pair) != 2:
            raise ValueError("a token's probabilities with and without documents are not a pair")
        p_with, p_without = _want_float(pair[0]), _want_float(pair[1])
    draft: DraftMark
    if mark == "accepted":
        draft = "accepted"
    elif mark == "replaced":
        draft = "replaced"
    elif mark == "":
        draft = ""
    else:
        raise ValueError(f"unknown draft mark: {mark!r}")
    candidates = []
    for item in data[4]:
        if not isinstance(item, list) or len(item) != 6:
            raise ValueError("a candidate record is not a six-item list")
        removed = item[5]
        if removed is not None and not isinstance(removed, str):
            raise ValueError(f"removed_by is not text: {removed!r}")
        candidates.append(
            Candidate(
                id=_want_int(item[0]),
                text=_want_str(item[1]),
                logit=_want_float(item[2]),
                p_raw=_want_float(item[3]),
                p_final=_want_float(item[4]),
                removed_by=removed,
            )
        )
    return TokenEvent(
        index=_want_int(data[0]),
        id=_want_int(data[1]),
        text=_want_str(data[2]),
        p=_want_float(data[3]),
        candidates=tuple(candidates),
        draft=draft,
        p_with=p_with,
        p_without=p_without,
    )


def decode_text(raw: bytes) -> str:
    """Text read from the file, with replacement characters where it is not UTF-8."""
    # Text that is not UTF-8 (a damaged page, a foreign writer) is read with
    # replacement characters instead of failing the whole query.
    return raw.decode("utf-8", errors="replace")


def storable(text: str) -> str:
    """``text`` as it can be written: lone surrogates become replacement characters."""
    # Lone surrogates (half a character) cannot be written as UTF-8.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", errors="replace").decode("utf-8")
    return text


def as_text(value: Any) -> str | None:
    """A column read as text (None stays None), whatever type the file holds."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def as_float(value: Any) -> float | None:
    """A column read as a finite number, or None when it is not one."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def as_int(value: Any) -> int | None:
    """A column read as an integer, or None when it is not one."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


def decode_json_object(raw: Any, what: str) -> tuple[dict[str, Any], str | None]:
    """A JSON object column, and a note naming ``what`` when it could not be read."""
    text = as_text(raw)
    if not text:
        return {}, None
    try:
        data = json.loads(text)
    except ValueError as exc:
        return {}, f"The {what} could not be read ({exc})."
    if not isinstance(data, dict):
        return {}, f"The {what} could not be read (not a JSON object)."
    return data, None
