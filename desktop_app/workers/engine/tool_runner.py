"""A chat reply with tools, run on the inference controller's engine thread.

``ToolRunner.start`` runs the core ``ToolLoop`` as a task of the
``InferenceController`` (one engine thread: never beside another reply, never on
the GUI thread). What the loop does comes back to the GUI thread as signals, in
the order it happened:

- ``sig_tokens``: the reply's tokens, numbered from 0 across every step. At a
  call, the token where the model decided to call (``<tool_call>``, or the first
  token of a call written without it) comes first, with its alternatives, then
  the call's own tokens as the grammar let the model write them, each with its
  probability;
- ``sig_approval``: a call waits for the user (``decide`` answers it);
- ``sig_step``: a call has its result (or was denied, or failed);
- ``sig_note``: something to say in the reply (a tool server that did not start);
- ``sig_done`` with a ``ToolRun``, or ``sig_error``.

``stop`` ends the reply at any step: the running generation (the engine is
cancelled), a call waiting for approval (denied), a running tool (its cancel is
set; an MCP call stops waiting) and a server still starting.

MCP servers are started lazily, on the engine thread, the first time a reply of
the chat needs them, and kept until ``close_servers`` (another chat, the window
closing), which ends them on a thread of its own. Starting waits in small steps,
so Stop does not wait for a server that hangs; a server that fails to start is
left out of the reply with its message as a note.

The knowledge tool's searches go to the ``KnowledgeController`` on the GUI
thread (the knowledge base belongs to its own thread); the engine thread waits
for the answer, or for Stop.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from desktop_app.core.engine.protocol import (
    DoneEvent,
    Engine,
    Event,
    GenerateRequest,
    Message,
    TokenEvent,
)
from desktop_app.core.errors import GlassboxError
from desktop_app.core.tools.approval import ApprovalGate, ApprovalRequest, Decision
from desktop_app.core.tools.loop import Phase, ToolChoice, ToolLoop, ToolReply, ToolStep
from desktop_app.core.tools.mcp_client import CALL_TIMEOUT_S, McpConnection, McpServerConfig
from desktop_app.core.tools.spec import Tool, ToolError
from desktop_app.workers.engine.task_runner import TaskProgress, TaskTokens
from desktop_app.workers.jobs import JobHandle

log = logging.getLogger(__name__)

#: How often a wait on the engine thread looks at Stop, in seconds.
_POLL_S = 0.05


@dataclass(frozen=True)
class ChatTools:
    """The tools a chat has on, as the runner needs them."""

    builtin: tuple[str, ...] = ()
    servers: tuple[McpServerConfig, ...] = ()
    collections: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    ask_builtin: bool = False
    always: tuple[str, ...] = ()
    max_steps: int = 4
    template_has_tools: bool = True
    #: Which tool the reply calls first ("auto": as the model decides; see ``ToolLoop.run``).
    tool_choice: ToolChoice = "auto"
    #: Seconds an MCP call has to answer (the check of hostile servers makes it short).
    call_timeout_s: float = CALL_TIMEOUT_S


@dataclass(frozen=True)
class ToolRun:
    """What a reply with tools ended with: the loop's reply (None when it was
    stopped before the loop began) and the notes given on the way."""

    reply: ToolReply | None
    notes: tuple[str, ...] = ()
    cancelled: bool = False


@dataclass(frozen=True)
class _Decision:
    """Progress marker: the next token is the one where the model decided to call."""


_DECISION = _Decision()


@dataclass(frozen=True)
class _Repeated:
    """Progress marker: the call just written repeats an earlier one and does not run
    (the model answers with the result it has)."""


_REPEATED = _Repeated()


@dataclass
class _Search:
    """A knowledge search asked for from the engine thread, answered on the GUI thread."""

    query: str
    collections: tuple[str, ...]
    k: int
    answered: threading.Event = field(default_factory=threading.Event)
    hits: list[Any] = field(default_factory=list)
    error: str = ""


class _Tap:
    """The engine, keeping the tokens of the generation before the running one (the
    free reply in which the model decided to call)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.previous: list[TokenEvent] = []
        self._current: list[TokenEvent] = []

    def generate(self, request: GenerateRequest) -> Iterator[Event]:
        """Generate through the engine, keeping the tokens."""
        self.previous, self._current = self._current, []
        for event in self._engine.generate(request):
            if isinstance(event, TokenEvent):
                self._current.append(event)
            yield event

    def cancel(self) -> None:
        """Cancel the engine's generation."""
        self._engine.cancel()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)


class _KnowledgeProxy:
    """The part of a knowledge base the knowledge tool uses, answered by the window's
    knowledge thread through the GUI thread."""

    def __init__(self, ask: Callable[[_Search], None], stopped: threading.Event) -> None:
        self._ask = ask
        self._stopped = stopped

    def search_many(self, query: str, collections: Sequence[str], k: int = 5) -> list[Any]:
        """The hits for ``query`` (waits for the answer, or for Stop)."""
        search = _Search(query, tuple(collections), k)
        self._ask(search)
        while not search.answered.wait(_POLL_S):
            if self._stopped.is_set():
                raise ToolError("The search was cancelled.")
        if search.error:
            raise ToolError(f"The knowledge search failed: {search.error}")
        return search.hits


class ToolRunner(QObject):
    """Runs the open chat's replies with tools (one at a time)."""

    sig_tokens = Signal(list)
    """The reply's tokens (``TokenEvent``s numbered from 0 across the reply)."""

    sig_decision = Signal()
    """The next token of ``sig_tokens`` is the one where the model decided to call."""

    sig_repeated = Signal()
    """The call just written repeats an earlier one: it does not run."""

    sig_approval = Signal(object)
    """A call waits for the user's answer: an ``ApprovalRequest``."""

    sig_step = Signal(object)
    """A call has its outcome: the loop's ``ToolStep``."""

    sig_note = Signal(str)
    """Something to say in the reply (a tool server could not start)."""

    sig_done = Signal(object)
    """The reply ended: a ``ToolRun``."""

    sig_error = Signal(str, str)
    """The reply failed: the error's kind and message."""

    def __init__(self, controller: Any, knowledge: Any = None, parent: QObject | None = None):
        super().__init__(parent)
        self._controller = controller
        self.knowledge = knowledge
        self._handle: JobHandle | None = None
        self._gate: ApprovalGate | None = None
        self._loop: ToolLoop | None = None
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        # Started servers by name, with the configuration they were started with.
        # Only the engine thread adds to it; ``close_servers`` empties it.
        self._servers: dict[str, McpConnection] = {}

    @property
    def running(self) -> bool:
        """Whether a reply with tools is running."""
        return self._handle is not None

    @property
    def pending(self) -> ApprovalRequest | None:
        """The call waiting for an answer, if any."""
        gate = self._gate
        return gate.pending if gate is not None else None

    def start(
        self,
        request: GenerateRequest,
        tools: ChatTools,
        history: Sequence[Message] | None = None,
    ) -> None:
        """Answer ``request`` (its messages, or ``history`` when given, and its
        ``assistant_prefix``) with ``tools``; the outcome comes as signals."""
        messages = list(history if history is not None else request.messages or ())
        stopped = threading.Event()
        self._stopped = stopped
        gate = ApprovalGate(lambda _r: None, tools.always, ask_builtin=tools.ask_builtin)
        self._gate = gate
        self._loop = None

        def run(engine: Engine, progress: TaskProgress) -> ToolRun:
            return self._run(engine, progress, request, messages, tools, gate, stopped)

        def on_progress(item: object) -> None:
            if stopped.is_set() and not isinstance(item, _Search):
                return  # what still arrives for a stopped reply is dropped
            if isinstance(item, TaskTokens):
                self.sig_tokens.emit(list(item.events))
            elif isinstance(item, _Decision):
                self.sig_decision.emit()
            elif isinstance(item, _Repeated):
                self.sig_repeated.emit()
            elif isinstance(item, ApprovalRequest):
                self.sig_approval.emit(item)
            elif isinstance(item, ToolStep):
                self.sig_step.emit(item)
            elif isinstance(item, str):
                self.sig_note.emit(item)
            elif isinstance(item, _Search):
                self._search(item, stopped)

        def on_done(result: ToolRun) -> None:
            self._handle = None
            self._gate = None
            self.sig_done.emit(result)

        def on_failed(kind: str, message: str) -> None:
            self._handle = None
            self._gate = None
            if kind == "cancelled":
                self.sig_done.emit(ToolRun(None, cancelled=True))
            else:
                self.sig_error.emit(kind, message)

        self._handle = self._controller.run_task(
            run, label="reply with tools", on_done=on_done, on_failed=on_failed,
            on_progress=on_progress,
        )  # fmt: skip

    def decide(self, decision: Decision) -> None:
        """The user's answer to the waiting call."""
        gate = self._gate
        if gate is not None:
            gate.decide(decision)

    def stop(self) -> None:
        """Stop the reply at whatever step it is (returns at once)."""
        self._stopped.set()
        gate = self._gate
        if gate is not None:
            gate.cancel()
        with self._lock:
            loop = self._loop
        if loop is not None:
            loop.cancel()
        handle = self._handle
        if handle is not None:
            handle.cancel()

    def close_servers(self) -> None:
        """End the chat's tool servers (on a thread of their own: no wait here)."""
        with self._lock:
            servers, self._servers = list(self._servers.values()), {}
        if servers:
            threading.Thread(
                target=_close_all, args=(servers,), name="mcp-close", daemon=True
            ).start()

    # ----------------------------------------------------------------- engine thread

    def _run(
        self,
        engine: Engine,
        progress: TaskProgress,
        request: GenerateRequest,
        history: list[Message],
        tools: ChatTools,
        gate: ApprovalGate,
        stopped: threading.Event,
    ) -> ToolRun:
        notes: list[str] = []

        def note(text: str) -> None:
            notes.append(text)
            progress.report(text)

        gate.on_request = progress.report
        chosen = self._tools(tools, progress, stopped, note)
        if stopped.is_set():
            return ToolRun(None, tuple(notes), cancelled=True)
        tap = _Tap(engine)
        count = 0
        in_step: dict[int, int] = {}  # reply tokens streamed in each step
        called: set[int] = set()
        ran: set[int] = set()  # steps whose call has its outcome

        def on_step(step: ToolStep) -> None:
            ran.add(len(ran))
            progress.report(step)

        def emit(event: TokenEvent) -> None:
            nonlocal count
            progress.token(replace(event, index=count))
            count += 1

        def on_token(step: int, phase: Phase, event: TokenEvent) -> None:
            if phase == "reply" and step in called and step not in ran:
                # The answer after a call that was not run (the same call again).
                ran.add(step)
                progress.report(_REPEATED)
            if phase == "reply":
                in_step[step] = in_step.get(step, 0) + 1
            elif step not in called:
                # The call's first token: the token that decided comes before it.
                called.add(step)
                seen = in_step.get(step, 0)
                if seen < len(tap.previous):
                    progress.report(_DECISION)
                    emit(tap.previous[seen])
            emit(event)

        loop = ToolLoop(
            tap,
            chosen,
            template_has_tools=tools.template_has_tools,
            max_steps=tools.max_steps,
            approve=gate.approve,
            on_token=on_token,
            on_step=on_step,
            candidates=request.candidates,
        )
        with self._lock:
            self._loop = loop
        if stopped.is_set():
            loop.cancel()
        reply = loop.run(
            history,
            request.params,
            tool_choice=tools.tool_choice,
            assistant_prefix=request.assistant_prefix,
        )
        return ToolRun(reply, tuple(notes), cancelled=loop.cancelled or stopped.is_set())

    def _tools(
        self,
        tools: ChatTools,
        progress: TaskProgress,
        stopped: threading.Event,
        note: Callable[[str], None],
    ) -> list[Tool]:
        from desktop_app.core.tools.builtin.calculator import calculator
        from desktop_app.core.tools.builtin.clock import current_datetime
        from desktop_app.core.tools.builtin.files import ReadFile
        from desktop_app.core.tools.builtin.knowledge import KnowledgeSearch

        out: list[Tool] = []
        for name in tools.builtin:
            if name == "calculator":
                out.append(calculator())
            elif name == "datetime":
                out.append(current_datetime())
            elif name == "knowledge" and tools.collections and self.knowledge is not None:
                proxy = _KnowledgeProxy(progress.report, stopped)
                out.append(KnowledgeSearch(proxy, tools.collections))  # type: ignore[arg-type]
            elif name == "files" and tools.files:
                out.append(ReadFile([Path(f) for f in tools.files]))
        for config in tools.servers:
            if stopped.is_set():
                break
            try:
                connection = self._connect(config, stopped, tools.call_timeout_s)
            except ToolError as exc:
                note(str(exc))
                continue
            if connection is not None:
                out.extend(connection.tools())
        return out

    def _connect(
        self, config: McpServerConfig, stopped: threading.Event, call_timeout_s: float
    ) -> McpConnection | None:
        """The running server for ``config``, started now when needed (None: stopped);
        one that has crashed or was cut off since the last reply is started again."""
        with self._lock:
            running = self._servers.get(config.name)
        if running is not None and running.config == config and running.alive:
            return running
        if running is not None:
            with self._lock:
                self._servers.pop(config.name, None)
            _close_all([running])
        connection = McpConnection(config, call_timeout_s=call_timeout_s)
        outcome: list[BaseException | None] = []
        starter = threading.Thread(
            target=_start, args=(connection, outcome), name="mcp-start", daemon=True
        )
        starter.start()
        while starter.is_alive():
            starter.join(_POLL_S)
            if stopped.is_set() and starter.is_alive():
                # Stop does not wait for a server that is slow to start; it is ended
                # once it has (or has failed to).
                threading.Thread(
                    target=_close_when_started, args=(starter, connection), daemon=True
                ).start()
                return None
        error = outcome[0] if outcome else ToolError(f"{config.name!r} did not start.")
        if error is not None:
            raise error if isinstance(error, ToolError) else ToolError(str(error))
        if stopped.is_set():
            # Stopped (another chat, the window closing) while it started: not kept.
            _close_all([connection])
            return None
        with self._lock:
            self._servers[config.name] = connection
        return connection

    # ----------------------------------------------------------------- GUI thread

    def _search(self, search: _Search, stopped: threading.Event) -> None:
        knowledge = self.knowledge
        if knowledge is None or stopped.is_set():
            search.error = "no knowledge base is open"
            search.answered.set()
            return

        def done(hits: list[Any]) -> None:
            search.hits = list(hits)
            search.answered.set()

        def failed(_kind: str, message: str) -> None:
            search.error = message
            search.answered.set()

        knowledge.search(
            search.query, list(search.collections), search.k, on_done=done, on_failed=failed
        )


def _start(connection: McpConnection, outcome: list[BaseException | None]) -> None:
    try:
        connection.start()
    except ToolError as exc:  # handed to the engine thread, which reports it
        outcome.append(exc)
        return
    outcome.append(None)


def _close_when_started(starter: threading.Thread, connection: McpConnection) -> None:
    starter.join()
    _close_all([connection])


def _close_all(connections: Sequence[McpConnection]) -> None:
    for connection in connections:
        try:
            connection.close()
        except (OSError, RuntimeError, GlassboxError):
            log.exception("Closing a tool server failed")


def final_done(run: ToolRun) -> DoneEvent:
    """The reply's end as one ``DoneEvent``: the last generation's, with the reply's
    text and its finish reason ("cancelled" after a stop)."""
    reply = run.reply
    base = reply.done if reply is not None and reply.done is not None else None
    if base is None:
        base = DoneEvent("cancelled", 0, 0, 0.0, 0.0, 0)
    finish = base.finish_reason
    if run.cancelled or reply is None or reply.finish == "cancelled":
        finish = "cancelled"
    elif reply.finish in ("length", "context_full"):
        finish = reply.finish
    return replace(base, finish_reason=finish, text=reply.text if reply is not None else "")
