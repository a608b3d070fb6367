"""A batch over several texts: per-item reports, failures that stay with their item, cancel."""

from __future__ import annotations

import pytest

from desktop_app.core.engine.protocol import CancelledError
from desktop_app.core.errors import (
    ContextOverflowError,
    EngineCrashedError,
    EngineNotReadyError,
    GlassboxError,
)
from desktop_app.core.tasks.batch import ItemDone, ItemStarted, run_batch


class Progress:
    """Collects what a batch reports; cancels once ``cancel_after`` items have started."""

    def __init__(self, cancel_after: int | None = None) -> None:
        self.payloads: list[object] = []
        self.cancel_after = cancel_after

    @property
    def cancelled(self) -> bool:
        started = sum(isinstance(p, ItemStarted) for p in self.payloads)
        return self.cancel_after is not None and started >= self.cancel_after

    def report(self, payload: object) -> None:
        self.payloads.append(payload)


def test_every_item_is_started_then_done_in_order() -> None:
    progress = Progress()
    assert run_batch(["a", "bb"], len, progress) == 2
    assert progress.payloads == [ItemStarted(0), ItemDone(0, 1), ItemStarted(1), ItemDone(1, 2)]


def test_an_item_the_model_refuses_fails_alone() -> None:
    def work(text: str) -> str:
        if text == "long":
            raise ContextOverflowError("The text does not fit the context.")
        return text.upper()

    progress = Progress()
    assert run_batch(["a", "long", "b"], work, progress) == 3
    done = [p for p in progress.payloads if isinstance(p, ItemDone)]
    assert done == [
        ItemDone(0, "A"),
        ItemDone(1, error="The text does not fit the context."),
        ItemDone(2, "B"),
    ]


@pytest.mark.parametrize("error", [EngineCrashedError("crashed"), EngineNotReadyError("none")])
def test_a_crashed_engine_or_no_model_ends_the_batch(error: GlassboxError) -> None:
    def work(text: str) -> str:
        raise error

    progress = Progress()
    with pytest.raises(type(error)):
        run_batch(["a", "b"], work, progress)
    assert progress.payloads == [ItemStarted(0)]


def test_a_cancel_keeps_only_whole_results() -> None:
    # Cancelled while the second item runs: its result is not reported, the third never starts.
    progress = Progress(cancel_after=2)
    assert run_batch(["a", "b", "c"], str.upper, progress) == 1
    assert progress.payloads == [ItemStarted(0), ItemDone(0, "A"), ItemStarted(1)]


def test_a_cancelled_generation_stops_the_batch() -> None:
    def work(text: str) -> str:
        raise CancelledError()

    progress = Progress()
    assert run_batch(["a", "b"], work, progress) == 0
    assert progress.payloads == [ItemStarted(0)]
