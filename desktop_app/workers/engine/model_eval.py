"""Model → Evaluate…'s worker: evaluate models on a question set in an engine process of its own.

The evaluation loads the models it compares one after another, so it runs in its
own engine process on its own job thread, never on the window's engine: the
chat keeps its model and stays usable while an evaluation runs. Each answered
item is reported as it comes (``sig_item``), Cancel stops at the next item (the
running scoring or generation is cancelled in the engine) and keeps what
finished.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from desktop_app.core.engine.protocol import EngineConfig
from desktop_app.core.lab.model_eval import EvalReport, ItemResult, Scoring, evaluate
from desktop_app.core.lab.questions import QuestionSet
from desktop_app.workers.engine.client import EngineClient
from desktop_app.workers.jobs import JobContext, JobHandle, JobQueue
from desktop_app.workers.jobs_qt import GuiDrain, while_alive


@dataclass(frozen=True, slots=True)
class EvalProgress:
    """What a running evaluation reports: a model starts loading, or an item is done."""

    target: int
    total: int
    loading: str = ""
    item: ItemResult | None = None


def _join(old: list[EvalProgress], new: list[EvalProgress]) -> list[EvalProgress]:
    return old + new


def _close(client: EngineClient) -> None:
    client.close()


class ModelEvalRunner(QObject):
    """Runs ``core.lab.model_eval.evaluate`` for each model in turn, off the GUI thread."""

    sig_progress = Signal(object)
    """An ``EvalProgress``: a model is loading, or one more item was answered."""

    sig_finished = Signal(list, bool)
    """The reports (one per model that ran) and whether the run was cancelled."""

    sig_failed = Signal(str, str)
    """The run failed: the error's kind and a message for the user."""

    def __init__(
        self,
        parent: QObject | None = None,
        client_factory: Callable[[], EngineClient] = EngineClient,
    ) -> None:
        super().__init__(parent)
        # The client is kept outside ``self`` so that the queue's thread holds no
        # reference back to this object (no garbage cycle through the dialog).
        clients: list[EngineClient] = []

        def open_client() -> EngineClient:
            clients.append(client_factory())
            return clients[-1]

        self._clients = clients
        self._jobs: JobQueue[EngineClient] = JobQueue(
            open_client, _close, name="glassbox-model-eval"
        )
        self._drain = GuiDrain(self._jobs, self)
        self._handle: JobHandle | None = None

    @property
    def running(self) -> bool:
        """Whether an evaluation runs."""
        return self._handle is not None

    def start(
        self,
        questions: QuestionSet,
        targets: Sequence[EngineConfig],
        *,
        scoring: Scoring = "letter",
        limit: int | None = None,
        max_tokens: int = 320,
    ) -> bool:
        """Evaluate each of ``targets`` on ``questions``; False while another run goes on."""
        if self._handle is not None:
            return False
        configs = list(targets)

        def op(
            client: EngineClient, ctx: JobContext[EngineClient, list[EvalProgress]]
        ) -> tuple[list[EvalReport], bool]:
            reports: list[EvalReport] = []
            total = len(questions.items[:limit])
            for t, config in enumerate(configs):
                if ctx.cancelled:
                    break
                ctx.progress([EvalProgress(t, total, loading=Path(config.model_path).name)])
                client.load(config)

                def on_item(r: ItemResult, n: int, t: int = t) -> None:
                    ctx.progress([EvalProgress(t, n, item=r)])

                report = evaluate(
                    client,
                    questions,
                    model=config.model_path,
                    lora=config.lora_path,
                    scoring=scoring,
                    limit=limit,
                    max_tokens=max_tokens,
                    on_item=on_item,
                    should_stop=lambda: ctx.cancelled,
                )
                reports.append(report)
            return (reports, ctx.cancelled)

        def done(result: tuple[list[EvalReport], bool]) -> None:
            self._handle = None
            reports, cancelled = result
            self.sig_finished.emit(reports, cancelled)

        def failed(kind: str, message: str) -> None:
            self._handle = None
            self.sig_failed.emit(kind, message)

        def progress(items: list[EvalProgress]) -> None:
            for p in items:
                self.sig_progress.emit(p)

        self._handle = self._jobs.run(
            op,
            while_alive(self, done),
            while_alive(self, failed),
            while_alive(self, progress),
            merge=_join,
            on_cancel=self._cancel_engine,
            label="evaluate model",
        )
        return True

    def _cancel_engine(self) -> None:
        # The client's cancel only sets a flag the engine process reads: safe from here.
        for client in self._clients:
            client.cancel()

    def cancel(self) -> None:
        """Stop at the next item; the finished part is reported by ``sig_finished``."""
        if self._handle is not None:
            self._handle.cancel()

    def shutdown(self, timeout_s: float = 5.0) -> bool:
        """Cancel, close the engine process and join the thread."""
        self.cancel()
        self._drain.stop()
        return self._jobs.shutdown(timeout_s)
