"""Task jobs on the inference controller's engine thread: what a task function is given.

A task (classify a batch, extract fields, summarize in parts…) is a plain
function ``fn(engine, progress)`` that the ``InferenceController`` runs on its one
engine thread, between chat replies, never beside one. The function reports
through ``TaskProgress`` and never touches a Qt object: the controller carries
what it reports to the GUI thread as ``sig_task_progress`` and its return value
as ``sig_task_done``.

Streamed tokens (``progress.token``) are gathered per flush into one
``TaskTokens`` payload, so a panel showing a summary as it is written gets a
signal per ~30 ms, not per token.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from desktop_app.core.engine.protocol import Engine, TokenEvent

#: Kind of ``sig_task_failed`` for a task cancelled before it could finish.
CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class TaskTokens:
    """A ``sig_task_progress`` payload: tokens the task's generation streamed, in order."""

    events: tuple[TokenEvent, ...]


@dataclass(frozen=True, slots=True)
class TaskUpdate:
    """What the worker thread posts for a task: a payload, or one streamed token."""

    payload: object
    token: bool = False


class TaskProgress:
    """The handle a task function gets: report progress, stream tokens, see a cancel.

    Safe to use only from the thread running the function.
    """

    def __init__(self, stopped: Callable[[], bool], post: Callable[[TaskUpdate], None]) -> None:
        self._stopped = stopped
        self._post = post

    @property
    def cancelled(self) -> bool:
        """Whether the task was cancelled (or the window is closing): stop at the next item."""
        return self._stopped()

    def report(self, payload: object) -> None:
        """Send ``payload`` to the GUI thread as ``sig_task_progress``."""
        self._post(TaskUpdate(payload))

    def token(self, event: TokenEvent) -> None:
        """Stream one generated token (delivered in ``TaskTokens`` batches)."""
        self._post(TaskUpdate(event, token=True))


#: A task: runs on the engine thread with the engine and its progress handle.
TaskFn = Callable[[Engine, TaskProgress], object]
