"""Per-call callbacks of the workers' jobs, recorded for a test to wait on and check."""

from __future__ import annotations

from typing import Any

from pytestqt.qtbot import QtBot


class Calls:
    """Give ``on_done``/``on_failed``/``on_progress`` to a job; ``wait`` for its end."""

    def __init__(self) -> None:
        self.done: list[Any] = []
        self.failed: list[tuple[str, str]] = []
        self.progress: list[Any] = []

    def on_done(self, result: Any) -> None:
        self.done.append(result)

    def on_failed(self, kind: str, message: str) -> None:
        self.failed.append((kind, message))

    def on_progress(self, payload: Any) -> None:
        self.progress.append(payload)

    @property
    def over(self) -> bool:
        """Whether the job's result or failure arrived."""
        return bool(self.done or self.failed)

    def wait(self, qtbot: QtBot, timeout: int = 5000) -> Calls:
        qtbot.waitUntil(lambda: self.over, timeout=timeout)
        return self
