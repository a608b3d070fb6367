"""Run one generation to the end and keep its token events, for tasks.

Every generated task result keeps its events so the window can open it in the
token view, and so extraction can compute field confidences from them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from desktop_app.core.engine.protocol import (
    DoneEvent,
    Engine,
    ErrorEvent,
    GenerateRequest,
    PromptProgress,
    TokenEvent,
)
from desktop_app.core.errors import EngineCrashedError, GlassboxError, error_from_event

#: Called with each token event as it arrives (streaming into a panel).
OnToken = Callable[[TokenEvent], None]


@dataclass(frozen=True, slots=True)
class Generation:
    """A finished generation: its text, every token event, and how it ended."""

    text: str
    tokens: tuple[TokenEvent, ...]
    done: DoneEvent


def generate(
    engine: Engine, request: GenerateRequest, on_token: OnToken | None = None
) -> Generation:
    """Run ``request`` to its end; an error event is raised as a ``GlassboxError``."""
    tokens: list[TokenEvent] = []
    for event in engine.generate(request):
        if isinstance(event, TokenEvent):
            tokens.append(event)
            if on_token is not None:
                on_token(event)
        elif isinstance(event, DoneEvent):
            text = event.text or "".join(t.text for t in tokens)
            return Generation(text, tuple(tokens), event)
        elif isinstance(event, ErrorEvent):
            raise error_from_event(event)
        elif not isinstance(event, PromptProgress):
            raise GlassboxError(f"The engine sent an unexpected {type(event).__name__}.")
    raise EngineCrashedError("The engine ended a generation without saying how.")
