"""Rewrite text (polish, fix, simplify, change tone, translate) and diff it word by word."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Literal

from desktop_app.core.engine.protocol import Engine, GenerateRequest, Message
from desktop_app.core.errors import InvalidRequestError
from desktop_app.core.sampling import SamplingParams
from desktop_app.core.tasks.generation import Generation, OnToken, generate
from desktop_app.core.tasks.prompts import DEFAULT_TEMPLATES, REWRITE_INSTRUCTIONS, render

Mode = Literal["polish", "fix", "simplify", "formal", "friendly", "concise", "translate"]
MODES: tuple[str, ...] = tuple(REWRITE_INSTRUCTIONS)
DiffOp = Literal["equal", "insert", "delete"]

# A word with its trailing spaces, a single CJK character (those languages put no
# spaces between words), or a run of other non-space characters.
_WORDS = re.compile(
    r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uac00-\ud7af]\s*|[^\s\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uac00-\ud7af]+\s*|\s+"
)


@dataclass(frozen=True, slots=True)
class Rewrite:
    """The rewritten text and the generation that wrote it."""

    original: str
    text: str
    generation: Generation

    def diff(self) -> list[tuple[DiffOp, str]]:
        """The word-level diff from the original to the rewrite."""
        return word_diff(self.original, self.text)


def build_messages(
    text: str, mode: str, language: str = "English", templates: Mapping[str, str] | None = None
) -> tuple[Message, ...]:
    """The chat asking for one rewrite."""
    if mode not in REWRITE_INSTRUCTIONS:
        raise InvalidRequestError(f"The rewrite mode must be one of {', '.join(MODES)}.")
    t = templates or DEFAULT_TEMPLATES
    instruction = render(REWRITE_INSTRUCTIONS[mode], language=language)
    return (
        Message("system", t["rewrite.system"]),
        Message("user", render(t["rewrite.user"], instruction=instruction, text=text)),
    )


def rewrite(
    engine: Engine,
    text: str,
    mode: str,
    *,
    language: str = "English",
    templates: Mapping[str, str] | None = None,
    params: SamplingParams | None = None,
    on_token: OnToken | None = None,
) -> Rewrite:
    """Rewrite ``text`` in ``mode`` (``language`` is the target of ``translate``)."""
    if not text.strip():
        raise InvalidRequestError("There is no text to rewrite.")
    base = params or SamplingParams.greedy(seed=0)
    budget = max(64, len(text) * 2)  # a rewrite is about as long as its text
    request = GenerateRequest(
        params=replace(base, max_tokens=min(budget, 4096)),
        messages=build_messages(text, mode, language, templates),
        candidates=5,
    )
    gen = generate(engine, request, on_token)
    return Rewrite(text, gen.text.strip(), gen)


def split_words(text: str) -> list[str]:
    """``text`` as diff units: words with their trailing space, CJK characters one by one."""
    return _WORDS.findall(text)


def word_diff(a: str, b: str) -> list[tuple[DiffOp, str]]:
    """How to turn ``a`` into ``b``, word by word: ``(op, text)`` runs in reading order.

    Joining the texts of the ``equal`` and ``delete`` runs gives ``a``; of the
    ``equal`` and ``insert`` runs, ``b``. A replaced word is a delete then an insert.
    """
    wa, wb = split_words(a), split_words(b)
    out: list[tuple[DiffOp, str]] = []

    def push(op: DiffOp, text: str) -> None:
        if not text:
            return
        if out and out[-1][0] == op:
            out[-1] = (op, out[-1][1] + text)
        else:
            out.append((op, text))

    matcher = difflib.SequenceMatcher(a=wa, b=wb, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            push("equal", "".join(wa[i1:i2]))
        else:
            push("delete", "".join(wa[i1:i2]))
            push("insert", "".join(wb[j1:j2]))
    return out
