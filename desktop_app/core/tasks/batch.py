"""A batch: one task function over several texts, item by item, on the engine thread.

The task panels run a batch when several files or documents are chosen. The loop
needs no Qt: it reports each item through whatever progress handle runs it (the
inference controller's ``TaskProgress`` in the window) and stops when that handle
says the batch was cancelled.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from desktop_app.core.engine.protocol import CancelledError
from desktop_app.core.errors import GlassboxError


@dataclass(frozen=True, slots=True)
class ItemStarted:
    """A batch's progress payload: item ``index`` is being worked on."""

    index: int


@dataclass(frozen=True, slots=True)
class ItemDone:
    """A batch's progress payload: item ``index`` gave ``result``, or ``error`` says why not."""

    index: int
    result: object = None
    error: str = ""


class BatchProgress(Protocol):
    """What a batch reports through and asks whether it should stop."""

    @property
    def cancelled(self) -> bool:
        """Whether the batch was cancelled: stop before the next item."""
        ...

    def report(self, payload: object) -> None:
        """Send one ``ItemStarted`` or ``ItemDone`` to whoever shows the batch."""
        ...


def run_batch(texts: Sequence[str], work: Callable[[str], object], progress: BatchProgress) -> int:
    """Run ``work`` on each text in turn on the engine thread; returns how many finished.

    Each item reports ``ItemStarted`` then ``ItemDone``. An item the model refuses
    (too long, bad input) fails alone and the batch goes on; a crashed engine or
    no model ends the batch. A cancel stops at once, and the item it cut short
    is not reported: only whole results are kept.
    """
    done = 0
    for i, text in enumerate(texts):
        if progress.cancelled:
            break
        progress.report(ItemStarted(i))
        try:
            result = work(text)
        except CancelledError:
            break
        except GlassboxError as exc:
            if exc.kind in ("engine_crashed", "no_model"):
                raise
            if progress.cancelled:
                break
            progress.report(ItemDone(i, error=str(exc)))
            done += 1
            continue
        if progress.cancelled:
            break
        progress.report(ItemDone(i, result))
        done += 1
    return done
