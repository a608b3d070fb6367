"""A reasoning model's thinking before a grounded answer is kept apart: the answer,
its citations and its sentence checks are the text after it; ask prints it marked."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

from desktop_app.cli.thinking_print import thinking_lines, thinking_payload
from desktop_app.core.engine.protocol import DoneEvent, Event, GenerateRequest, TokenEvent
from desktop_app.core.kb.answer import answer
from desktop_app.core.kb.db import StoredChunk
from desktop_app.core.kb.retrieve import Hit

PASSAGE = "The disk quota options are usrquota and grpquota in /etc/fstab."
REPLY = ["<think>", "Source 1 names them.", "</think>", "\n\n", "[1] usrquota", " and grpquota."]


def _hit(n: int, text: str) -> Hit:
    chunk = StoredChunk(f"c{n}", 1, f"/d/{n}.html", "html", 0, text, None, None, 0, len(text))
    return Hit(n, chunk, 0.5, None, 0.1, n, None)


class _Thinking:
    """Thinks, then answers with a citation; keeps the requests."""

    def __init__(self) -> None:
        self.requests: list[GenerateRequest] = []

    def generate(self, request: GenerateRequest) -> Iterator[Event]:
        self.requests.append(request)
        for i, text in enumerate(REPLY):
            yield TokenEvent(i, i, text, 0.9, ())
        yield DoneEvent("stop", 10, len(REPLY), 0.1, 10.0, 0)


def test_the_reasoning_is_kept_apart_from_the_checked_answer() -> None:
    engine = _Thinking()
    result = answer(engine, "Which options turn quotas on?", [_hit(1, PASSAGE)], thinking=True)
    assert engine.requests[0].thinking is True
    assert result.reasoning == "Source 1 names them."
    assert result.text == "[1] usrquota and grpquota." and result.found
    assert [c.cited for c in result.citations] == [True]
    assert result.sentences and all(s.end <= len(result.body) for s in result.sentences)
    payload = result.as_dict()
    assert payload["reasoning_content"] == "Source 1 names them."
    shown = argparse.Namespace(hide_thinking=False)
    hidden = argparse.Namespace(hide_thinking=True)
    assert (
        thinking_lines(shown, result.reasoning)
        == "[thinking]\nSource 1 names them.\n[/thinking]\n\n"
    )
    assert thinking_lines(hidden, result.reasoning) == ""
    assert "reasoning_content" not in thinking_payload(hidden, payload)
