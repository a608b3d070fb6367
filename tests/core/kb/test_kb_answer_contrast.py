"""Context-aware decoding's second prompt: the grounded prompt without its passages."""

from __future__ import annotations

from collections.abc import Iterator

from desktop_app.core.engine.protocol import DoneEvent, Event, GenerateRequest, TokenEvent
from desktop_app.core.kb.answer import answer, build_prompt
from desktop_app.core.kb.db import StoredChunk
from desktop_app.core.kb.retrieve import Hit

PASSAGE = "The disk quota options are usrquota and grpquota in /etc/fstab."


def _hit(n: int, text: str) -> Hit:
    chunk = StoredChunk(f"c{n}", 1, f"/d/{n}.html", "html", 0, text, None, None, 0, len(text))
    return Hit(n, chunk, 0.5, None, 0.1, n, None)


class _Recording:
    """Keeps the requests it is given and answers with a citation."""

    def __init__(self) -> None:
        self.requests: list[GenerateRequest] = []

    def generate(self, request: GenerateRequest) -> Iterator[Event]:
        self.requests.append(request)
        yield TokenEvent(0, 0, "[1] usrquota.", 1.0, ())
        yield DoneEvent("stop", 10, 1, 0.1, 10.0, 0)


def test_the_prompt_without_documents_keeps_the_instructions_and_the_question() -> None:
    prompt = build_prompt("Which options turn quotas on?", [_hit(1, PASSAGE)])
    (system, user) = prompt.messages
    (system_without, user_without) = prompt.without
    assert system_without == system  # the same cells start both sequences
    assert "Which options turn quotas on?" in user_without.content
    assert PASSAGE in user.content
    assert PASSAGE not in user_without.content
    assert prompt.delimiter not in user_without.content
    assert PASSAGE not in prompt.raw_without
    assert "Which options turn quotas on?" in prompt.raw_without
    assert prompt.contrast(0.5).messages == prompt.without
    assert prompt.contrast(0.5, chat_template=False).prompt == prompt.raw_without


def test_answer_asks_for_cad_only_when_told() -> None:
    engine = _Recording()
    hits = [_hit(1, PASSAGE)]
    answer(engine, "Which options turn quotas on?", hits)
    answer(engine, "Which options turn quotas on?", hits, cad=0.5)
    answer(engine, "Which options turn quotas on?", hits, cad=1.0, chat_template=False)
    plain, cad, raw = engine.requests
    assert plain.contrast is None
    assert cad.contrast is not None and cad.contrast.alpha == 0.5
    assert cad.contrast.messages is not None
    assert all(PASSAGE not in m.content for m in cad.contrast.messages)
    assert raw.contrast is not None and raw.contrast.prompt is not None
    assert raw.prompt is not None and PASSAGE in raw.prompt
