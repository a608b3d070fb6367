"""Task jobs on the inference controller's engine thread: what a task function is given.

A task (classify a batch, extract fields, summarize in parts…) is a plain
function ``fn(engine, progress)`` that the ``InferenceController`` runs on its one
engine thread, between chat replies, never beside one. The function reports
through ``TaskProgress`` and never touches a Qt object: the controller carries
what it reports to the ``on_progress`` given to ``run_task``, on the GUI thread,
and its return value to ``on_done``.

Streamed tokens (``progress.token``) are gathered per flush into one
``TaskTokens`` payload, so a panel showing a summary as it is written gets a
call per ~30 ms, not per token.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from desktop_app.core.engine.protocol import (
    DraftSettings,
    Engine,
    EngineConfig,
    Event,
    GenerateRequest,
    ModelLoaded,
    TokenEvent,
)
from desktop_app.workers.jobs import CANCELLED

__all__ = [
    "CANCELLED",
    "DraftingEngine",
    "TaskFn",
    "TaskProgress",
    "TaskTokens",
    "merge_task_progress",
]


class DraftingEngine:
    """An engine whose generations draft as ``draft`` says, unless a request asks itself.

    The window's tasks (rewrite, extract, summarize…) build their requests in core,
    without the Speed section's choices; their engine is wrapped in this, so they
    draft like chat replies. Everything else (scoring, counting tokens, ``loaded``)
    is the wrapped engine's.
    """

    def __init__(self, engine: Engine, draft: DraftSettings) -> None:
        self._engine = engine
        self._draft = draft

    def load(self, config: EngineConfig) -> ModelLoaded:
        """Load through the wrapped engine."""
        return self._engine.load(config)

    def generate(self, request: GenerateRequest) -> Iterator[Event]:
        """Generate with the drafting, unless the request already asks for some."""
        if not request.draft.enabled:
            request = replace(request, draft=self._draft)
        return self._engine.generate(request)

    def cancel(self) -> None:
        """Cancel the wrapped engine's generation."""
        self._engine.cancel()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)


@dataclass(frozen=True, slots=True)
class TaskTokens:
    """A progress payload: tokens the task's generation streamed, in order."""

    events: tuple[TokenEvent, ...]


def merge_task_progress(old: object, new: object) -> object | None:
    """Two undelivered payloads of a task as one: streamed tokens join; anything the
    task reported itself is delivered as it was (None: not merged)."""
    if isinstance(old, TaskTokens) and isinstance(new, TaskTokens):
        return TaskTokens(old.events + new.events)
    return None


class TaskProgress:
    """The handle a task function gets: report progress, stream tokens, see a cancel.

    Safe to use only from the thread running the function.
    """

    def __init__(self, stopped: Callable[[], bool], post: Callable[[object], None]) -> None:
        self._stopped = stopped
        self._post = post

    @property
    def cancelled(self) -> bool:
        """Whether the task was cancelled (or the window is closing): stop at the next item."""
        return self._stopped()

    def report(self, payload: object) -> None:
        """Send ``payload`` to the task's ``on_progress`` (each one delivered)."""
        self._post(payload)

    def token(self, event: TokenEvent) -> None:
        """Stream one generated token (delivered in ``TaskTokens`` batches)."""
        self._post(TaskTokens((event,)))


#: A task: runs on the engine thread with the engine and its progress handle.
TaskFn = Callable[[Engine, TaskProgress], object]
