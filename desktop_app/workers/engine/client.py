"""EngineClient: starts the engine host process and talks to it.

Used by the window (through the inference controller) and by the command line.
Plain Python, no Qt. If the process dies, the current call ends with an
``engine_crashed`` error and the next call starts a fresh process and reloads
the last model. Cancel is a byte in shared memory, read between tokens and by
llama.cpp's abort callback during prompt evaluation; if the engine has not
stopped shortly after, the process is killed.
"""

from __future__ import annotations

import multiprocessing as mp
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from multiprocessing.connection import Connection
from typing import Any

from desktop_app.core.engine import host
from desktop_app.core.engine.protocol import (
    REFUSED_BEFORE_LOAD,
    DoneEvent,
    EngineConfig,
    ErrorEvent,
    Event,
    GenerateRequest,
    ModelLoaded,
    ScoreRequest,
    ScoreResult,
)
from desktop_app.core.errors import (
    EngineCrashedError,
    EngineNotReadyError,
    GlassboxError,
    ModelLoadError,
    error_from_event,
)
from desktop_app.workers.process import ask_to_exit, reap

#: After a cancel, how long the engine gets to stop by itself before it is killed.
CANCEL_GRACE_S = 0.35
_POLL_S = 0.05


class EngineClient:
    """A handle on the engine host process (thread-safe ``cancel``; one request at a time)."""

    def __init__(self) -> None:
        self._ctx = mp.get_context("spawn")
        self._proc: Any = None
        self._conn: Connection | None = None
        self._cancel = self._ctx.RawValue("b", 0)
        self._cancel_at: float | None = None
        self._lock = threading.Lock()
        self.config: EngineConfig | None = None
        self.loaded: ModelLoaded | None = None
        self._last_exit = ""

    # -- process -----------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        """The engine process id, or None when it is not running."""
        return self._proc.pid if self._proc is not None and self._proc.is_alive() else None

    def _start(self) -> Connection:
        if self._proc is not None and self._proc.is_alive() and self._conn is not None:
            return self._conn
        self._reap()
        parent, child = self._ctx.Pipe(duplex=True)
        proc = self._ctx.Process(
            target=host.main, args=(child, self._cancel), name="glassbox-engine", daemon=True
        )
        proc.start()
        child.close()
        self._proc, self._conn = proc, parent
        self.loaded = None
        return parent

    def _reap(self) -> str:
        """Forget a dead (or killed) process; return how it ended, for messages."""
        how = reap(self._proc, self._conn)
        self._proc = None
        self._conn = None
        self.loaded = None
        return f"killed by {how}" if how and not how.startswith("exit code") else how

    def _recv(self, conn: Connection, deadline_kill: bool = True) -> Any:
        """Receive one message; raise EngineCrashedError if the process dies first."""
        while True:
            cancelled_at = self._cancel_at
            overdue = cancelled_at is not None and time.monotonic() - cancelled_at > CANCEL_GRACE_S
            if deadline_kill and overdue:
                self._reap()
                raise _Killed
            try:
                if conn.poll(_POLL_S):
                    return conn.recv()
            except (EOFError, OSError):
                pass
            else:
                if self._proc is not None and self._proc.is_alive():
                    continue
            how = self._last_exit = self._reap()
            raise EngineCrashedError(
                "The engine process stopped unexpectedly"
                + (f" ({how})" if how else "")
                + ". It will restart with the next request."
            )

    # -- API ---------------------------------------------------------------------

    def load(self, config: EngineConfig) -> ModelLoaded:
        """Load a model in the engine process (starting it if needed)."""
        with self._lock:
            return self._load(config)

    def _load(self, config: EngineConfig) -> ModelLoaded:
        """Load ``config``; if the engine process dies doing it, load once more in
        safe mode (see ``EngineConfig.safe_mode``) and say so in ``ModelLoaded``."""
        try:
            return self._load_once(config)
        except _LoadCrashed as first:
            if config.safe_mode:
                raise ModelLoadError(_crash_message(config, first.how, None)) from first
            safe = replace(config, safe_mode=True)
            try:
                loaded = self._load_once(safe)
            except _LoadCrashed as second:
                raise ModelLoadError(_crash_message(config, first.how, second.how)) from second
            self.loaded = replace(loaded, safe_reason=first.how or "the engine process stopped")
            return self.loaded

    def _load_once(self, config: EngineConfig) -> ModelLoaded:
        previous = (self.config, self.loaded)
        self.config = config
        conn = self._start()
        self._cancel.value = 0
        self._cancel_at = None
        conn.send(("load", config))
        try:
            reply = self._recv(conn, deadline_kill=False)
        except EngineCrashedError as exc:
            raise _LoadCrashed(self._last_exit) from exc
        if isinstance(reply, ErrorEvent):
            if reply.kind in REFUSED_BEFORE_LOAD:
                # The checks refused the files or template before the old model was touched.
                self.config, self.loaded = previous
            else:
                self.config = None
            raise error_from_event(reply)
        if not isinstance(reply, ModelLoaded):
            raise EngineCrashedError(f"The engine answered a load with {type(reply).__name__}.")
        self.loaded = reply
        return reply

    def generate(self, request: GenerateRequest) -> Iterator[Event]:
        """Stream events for ``request``; failures arrive as a final ``ErrorEvent``."""
        with self._lock:
            try:
                conn = self._ensure_loaded()
            except GlassboxError as exc:
                yield ErrorEvent(exc.kind, str(exc))
                return
            self._cancel.value = 0
            self._cancel_at = None
            conn.send(("generate", request))
            n_tokens = 0
            while True:
                try:
                    event = self._recv(conn)
                except _Killed:
                    yield DoneEvent("cancelled", 0, n_tokens, 0.0, 0.0, request.params.seed or 0)
                    return
                except EngineCrashedError as exc:
                    yield ErrorEvent(exc.kind, str(exc))
                    return
                yield event
                if isinstance(event, DoneEvent | ErrorEvent):
                    self._cancel_at = None
                    return
                n_tokens += 1

    def score(self, request: ScoreRequest) -> ScoreResult:
        """Log-probabilities of each continuation (see ``ScoreRequest``).

        One round trip per request: a batch is a loop over requests, and the
        engine keeps their shared prompt beginning in its cache between them.
        A cancel during the prompt's evaluation raises ``CancelledError``.
        """
        reply = self._call(("score", request))
        if not isinstance(reply, ScoreResult):
            raise GlassboxError(f"The engine answered a score request with {type(reply).__name__}.")
        return reply

    def count_tokens(self, text: str) -> int:
        """How many tokens ``text`` is for the loaded model."""
        reply = self._call(("count_tokens", text))
        if not isinstance(reply, int):
            raise GlassboxError(f"The engine answered a token count with {type(reply).__name__}.")
        return reply

    def _call(self, message: tuple[Any, ...]) -> Any:
        """Send one request that has one reply; an error reply is raised."""
        with self._lock:
            conn = self._ensure_loaded()
            self._cancel.value = 0
            self._cancel_at = None
            conn.send(message)
            # Not killed after a cancel: these requests are short, and the engine's
            # abort callback stops a long prompt evaluation by itself.
            reply = self._recv(conn, deadline_kill=False)
        if isinstance(reply, ErrorEvent):
            raise error_from_event(reply)
        return reply

    def _ensure_loaded(self) -> Connection:
        if self.loaded is not None and self._conn is not None and self.pid is not None:
            return self._conn
        if self.config is None:
            raise EngineNotReadyError("No model is loaded. Open a model first.")
        # The process was restarted (crash, kill, cancel): bring the model back.
        self._load(self.config)
        assert self._conn is not None
        return self._conn

    def cancel(self) -> None:
        """Ask the current generation to stop; returns at once (any thread)."""
        self._cancel.value = 1
        if self._cancel_at is None:
            self._cancel_at = time.monotonic()

    def unload(self) -> None:
        """Free the model's memory by ending the engine process."""
        self.close()
        self.config = None

    def close(self) -> None:
        """End the engine process."""
        ask_to_exit(self._proc, self._conn, ("exit",), grace_s=3)
        self._reap()

    def __enter__(self) -> EngineClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Killed(Exception):
    """The engine was killed because it did not stop in time after a cancel."""


class _LoadCrashed(Exception):
    """The engine process died while loading; ``how`` says how ("killed by SIGSEGV")."""

    def __init__(self, how: str) -> None:
        super().__init__(how)
        self.how = how


def _crash_message(config: EngineConfig, first: str, second: str | None) -> str:
    """What was tried, on which processor, and what to do next."""
    from desktop_app.core.doctor import named_flags
    from desktop_app.core.engine.native import cpu_flags, cpu_name

    features = ", ".join(named_flags(cpu_flags())) or "unknown"
    tried = (
        f"The engine process stopped while loading {config.model_path} ({first or 'no exit code'})"
    )
    if second is not None:
        tried += (
            ", and again in safe mode, without extra buffer types and with AVX2 CPU "
            f"kernels at most ({second or 'no exit code'})"
        )
    return (
        f"{tried}. Processor: {cpu_name()}; features: {features}. "
        "The file may be damaged or too large for this computer's memory: try another "
        "model file or a smaller one. If other models fail the same way, run "
        "`glassbox doctor` and report what it prints."
    )
