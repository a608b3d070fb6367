"""The inference controller: the GUI thread's handle on one engine.

Every engine call (resolving and loading a model, generating, closing) runs on a
single background thread the controller owns, one job after another, so the
engine has one owner and the GUI thread never waits on it. The worker never
touches a Qt object: it puts events on a thread-safe queue, and a ~30 ms timer in
the GUI thread drains that queue and emits the signals. Tokens are therefore
delivered in batches, which keeps the window responsive at hundreds of tokens per
second, and every signal is emitted in the GUI thread.

``stop()`` is immediate from the window's point of view: the engine is asked to
cancel, and tokens that still arrive for the stopped reply are dropped here; the
reply ends with the engine's own ``DoneEvent`` (finish reason "cancelled").

When the engine process crashes during a reply, the controller reports the error,
discards the engine, makes a new one with the factory and reloads the last model,
so a later ``send`` works again.

Tasks (``run_task``) are jobs too: a function run with the engine on the same
thread, after whatever is queued, so a classification never runs beside a reply.

The engine can also be a remote OpenAI-compatible server (``use_remote``), and
back (``use_local``) without restarting: the switch is a load job like any
other, so it waits for the running reply. A remote "model" is the server's model
id, not a file: it is never resolved, fingerprinted or remembered as the last
model file. ``capabilities`` tells the window what a remote engine cannot do.

After a model loads, its file is fingerprinted (SHA-256) on the same thread as a
job of its own. Hashing a large file takes seconds, so the job steps through the
file one block at a time and steps aside whenever another job is waiting: a reply
never waits for a hash.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
from collections.abc import Callable, Generator
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from PySide6.QtCore import QObject, QTimer, Signal, Slot

from desktop_app.core.engine.capabilities import (
    REMOTE_CAPABILITIES,
    EngineCapabilities,
    capabilities_of,
)
from desktop_app.core.engine.openai_remote import OpenAIEngine, is_remote
from desktop_app.core.engine.protocol import (
    REFUSED_BEFORE_LOAD,
    DoneEvent,
    Engine,
    EngineConfig,
    ErrorEvent,
    GenerateRequest,
    ModelLoaded,
    PromptProgress,
    TokenEvent,
)
from desktop_app.core.errors import EngineCrashedError, GlassboxError, InvalidRequestError
from desktop_app.core.settings import LoadOverrides, Settings, load_settings, save_settings
from desktop_app.workers.engine.task_runner import (
    CANCELLED,
    TaskFn,
    TaskProgress,
    TaskTokens,
    TaskUpdate,
)

log = logging.getLogger(__name__)

#: How often queued engine events are flushed to the GUI (milliseconds).
FLUSH_INTERVAL_MS = 30

#: ``(bytes_done, bytes_total)`` progress while a default model is prepared.
ProgressCallback = Callable[[int, int], None]
#: Turns what the user chose ("default", a key or a path) into a model file.
ModelResolver = Callable[[str, ProgressCallback], Path]
#: Makes a fresh engine (an ``EngineClient`` in the app, a ``FakeEngine`` in tests).
EngineFactory = Callable[[], Engine]

INTERNAL_ERROR = "internal"


def resolve_with_defaults(spec: str, progress: ProgressCallback) -> Path:
    """Resolve ``spec`` through the default-model installer (imported lazily)."""
    from desktop_app.core.models import defaults

    return defaults.resolve_model(spec, progress=progress)


def _is_default_spec(spec: str) -> bool:
    from desktop_app.core.models import defaults

    return spec == "default" or spec in defaults.DEFAULT_MODELS


# --------------------------------------------------------------------------- jobs


@dataclass(eq=False)
class _Job:
    id: int
    stopped: threading.Event = field(default_factory=threading.Event)


@dataclass(frozen=True, slots=True)
class RemoteServer:
    """An OpenAI-compatible server to use as the engine, and the model id on it."""

    base_url: str
    api_key: str | None = None
    model: str | None = None
    timeout_s: float = 60.0


@dataclass(eq=False)
class _LoadJob(_Job):
    spec: str = ""
    settings: Settings = field(default_factory=Settings)
    overridden: bool = False  # the settings carry the model panel's choices
    remote: RemoteServer | None = None  # a server to switch to instead of a file


@dataclass(eq=False)
class _GenerateJob(_Job):
    request: GenerateRequest = field(default_factory=GenerateRequest)


@dataclass(eq=False)
class _FingerprintJob(_Job):
    path: str = ""
    # The hash in progress while the job has stepped aside for others.
    steps: Generator[int, None, str] | None = None


@dataclass(eq=False)
class _TaskJob(_Job):
    fn: TaskFn | None = None
    label: str = ""


# What the worker puts on the outbox besides engine events.
@dataclass(frozen=True)
class ModelProgress:
    """How far getting a model ready has come, for the window to say in its language.

    ``stage`` is "prepare" (assembling and checking a file; ``default`` for the
    default model), "load" (``subject`` the file's name), "connect" (``subject``
    the server's URL) or "restart" (the engine after a crash). ``fraction`` is
    0–1, or -1 when the amount of work is unknown.
    """

    stage: str
    subject: str = ""
    fraction: float = -1.0
    default: bool = False

    @property
    def percent(self) -> int | None:
        """Whole percent done, or None when unknown."""
        return int(self.fraction * 100) if self.fraction >= 0 else None

    def text(self) -> str:
        """The line in English (logs; the window translates from the fields)."""
        if self.stage == "prepare":
            what = "default model" if self.default else "model"
            percent = self.percent
            return f"Preparing {what}… {percent}%" if percent is not None else f"Preparing {what}…"
        if self.stage == "load":
            return f"Loading {self.subject}…"
        if self.stage == "connect":
            return f"Connecting to {self.subject}…"
        return "Restarting the engine…"


@dataclass(frozen=True)
class _SettingsChanged:
    """Fields a load changed, merged into the settings on the GUI thread.

    Only those fields: the rest may have been changed there while the load ran
    (a remote server can take a minute to answer), and must not be reverted.
    """

    update: dict[str, Any]
    save: bool


@dataclass(frozen=True)
class _Fingerprint:
    path: str
    sha256: str


@dataclass(frozen=True)
class _TaskDone:
    result: object


@dataclass(frozen=True)
class _TaskFailed:
    kind: str
    message: str


@dataclass(frozen=True)
class _JobFinished:
    pass


@dataclass(frozen=True)
class _Kept:
    """A load failed and the model before it works on: told as "loaded", then the error.

    One item, so both signals go out together and in that order: whoever shows the
    last news (the status bar, the settings dialog) ends on the error.
    """

    error: ErrorEvent
    loaded: ModelLoaded


class _Shutdown(Exception):
    """Raised inside a progress callback to abandon a model install on shutdown."""


# --------------------------------------------------------------------------- controller


class InferenceController(QObject):
    """Runs engine jobs on one background thread and reports through signals.

    Lives in the GUI thread. Nothing happens at construction: the thread starts
    with the first job and the engine is made (by ``engine_factory``, on that
    thread) when a job first needs it.
    """

    sig_model_progress = Signal(object)
    """A model is being prepared or loaded: a :class:`ModelProgress`."""

    sig_model_loaded = Signal(object)
    """A model is ready (a ``ModelLoaded``); ``send`` works from now on."""

    sig_prompt_progress = Signal(int, int)
    """Prompt evaluation progress of the running reply: tokens done, tokens total."""

    sig_tokens = Signal(list)
    """A batch of ``TokenEvent``s of the running reply, in order (flushed every ~30 ms)."""

    sig_done = Signal(object)
    """The reply ended (a ``DoneEvent``; finish reason "cancelled" after ``stop``)."""

    sig_error = Signal(str, str)
    """A load or a reply failed: the error's kind and a message for the user."""

    sig_busy = Signal(bool)
    """True when the controller starts working on jobs, False when all are done."""

    sig_model_fingerprint = Signal(str, str)
    """The loaded model file's path and SHA-256 (hex), some time after ``sig_model_loaded``."""

    sig_task_progress = Signal(int, object)
    """A task (``run_task``) reported: its job id and the payload it gave
    ``progress.report``, or a ``TaskTokens`` of tokens it streamed."""

    sig_task_done = Signal(int, object)
    """A task ended: its job id and what its function returned (also after a cancel
    the function noticed and returned from, e.g. the finished part of a batch)."""

    sig_task_failed = Signal(int, str, str)
    """A task failed: its job id, the error's kind ("cancelled" when it was cancelled
    before it ran or raised ``CancelledError``) and a message for the user."""

    def __init__(
        self,
        engine_factory: EngineFactory,
        settings: Settings | None = None,
        *,
        settings_path: Path | None = None,
        resolver: ModelResolver = resolve_with_defaults,
        remember_model: bool = True,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._factory = engine_factory
        self._local_factory = engine_factory
        # Worker-side: whether the engine the factory makes is a remote one.
        self._engine_remote = False
        # GUI-side: where the last load asked to go (until a model is loaded).
        self._want_remote = False
        self._settings_path = settings_path
        self._settings = settings if settings is not None else load_settings(settings_path)
        self._resolver = resolver
        self._remember_model = remember_model

        self._ids = itertools.count(1)
        self._jobs: queue.Queue[_Job | None] = queue.Queue()
        self._outbox: queue.SimpleQueue[tuple[_Job, object]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._closing = threading.Event()
        self._pending = 0  # jobs submitted whose _JobFinished has not been drained
        self._open_replies: list[_GenerateJob] = []  # GUI-side: replies not yet ended
        self._open_tasks: dict[int, _TaskJob] = {}  # GUI-side: tasks not yet finished
        self._loaded: ModelLoaded | None = None
        self._fingerprint: tuple[str, str] | None = None
        self._gpu_offload: bool | None = None

        # Owned by the worker thread; the lock guards the reference, which the GUI
        # thread reads only to call the thread-safe cancel().
        self._engine: Engine | None = None
        self._engine_lock = threading.Lock()
        self._config: EngineConfig | None = None
        # The task the worker is running; a cancel only reaches the engine while it is
        # this one, so cancelling a queued task never stops the reply before it.
        self._running_task: _TaskJob | None = None
        # The window's reply the worker is running; only it is cancelled by stop().
        self._running_reply: _GenerateJob | None = None

        self._flush_timer = QTimer(self)
        self._flush_timer.setInterval(FLUSH_INTERVAL_MS)
        self._flush_timer.timeout.connect(self._on_flush_timer_timeout)

    # ----------------------------------------------------------------- GUI-thread API

    @property
    def settings(self) -> Settings:
        """The current settings (updated when a model loads)."""
        return self._settings

    @property
    def model_loaded(self) -> ModelLoaded | None:
        """The model the engine has ready, or None."""
        return self._loaded

    @property
    def model_fingerprint(self) -> tuple[str, str] | None:
        """(path, SHA-256) of the loaded model file once hashed, or None."""
        loaded = self._loaded
        fp = self._fingerprint
        return fp if loaded is not None and fp is not None and fp[0] == loaded.model_path else None

    def gpu_offload_supported(self) -> bool:
        """Whether this llama.cpp build can offload layers to a GPU (asked once, then cached).

        The first call imports llama_cpp (a fraction of a second): call it after
        the window is shown, not while it is built.
        """
        if self._gpu_offload is None:
            from desktop_app.core.engine.llama_backend import supports_gpu_offload

            self._gpu_offload = supports_gpu_offload()
        return self._gpu_offload

    def is_remote(self) -> bool:
        """Whether replies come from a remote server (the loaded model, else the one asked for)."""
        loaded = self._loaded
        return is_remote(loaded) if loaded is not None else self._want_remote

    @property
    def capabilities(self) -> EngineCapabilities:
        """What the engine offers: a remote one reports no sampler stages and cannot score."""
        if self._loaded is None and self._want_remote:
            return REMOTE_CAPABILITIES
        return capabilities_of(self._loaded)

    def use_remote(
        self,
        base_url: str,
        api_key: str | None = None,
        model: str | None = None,
        timeout_s: float | None = None,
    ) -> None:
        """Switch to an OpenAI-compatible server (in the background, after the queued jobs).

        The server is asked for its models first: when it cannot be reached or lacks
        ``model``, ``sig_error`` says why and the current model stays loaded. Else
        the local engine is closed (its memory freed), ``sig_model_loaded`` carries
        the remote model (its ``model_path`` is the server's model id) and the
        choice is saved in the settings, so the next start uses the server too.
        """
        timeout = self._settings.remote_timeout_s if timeout_s is None else timeout_s
        server = RemoteServer(base_url.strip(), api_key or None, model or None, timeout)
        self.stop()
        self._want_remote = True
        self._loaded = None
        self._submit(
            _LoadJob(next(self._ids), spec=model or "", settings=self._settings, remote=server)
        )

    def use_local(self, spec_or_path: str | None = None) -> None:
        """Switch back to a local model: ``spec_or_path``, else the last one, else the default."""
        self.load_model(spec_or_path or self._settings.last_model or "default")

    def load_initial(self, spec_or_path: str, *, explicit: bool = False) -> None:
        """Load at start: the model asked for ``explicit``-ly (the command line named it),
        else the remote server when the settings chose one, else ``spec_or_path``."""
        s = self._settings
        if not explicit and s.engine == "openai" and s.remote_base_url:
            self.use_remote(s.remote_base_url, s.remote_api_key, s.remote_model)
        else:
            self.load_model(spec_or_path)

    @property
    def generating(self) -> bool:
        """Whether a reply is running or queued (and not stopped)."""
        return any(not job.stopped.is_set() for job in self._open_replies)

    @property
    def worker_thread(self) -> threading.Thread | None:
        """The background thread, once started (for shutdown checks)."""
        return self._thread

    def update_settings(self, settings: Settings) -> None:
        """Use and save ``settings`` (sampling values, context length for the next load).

        Called from the GUI thread; a file that cannot be written is logged, the new
        values are used anyway.
        """
        self._settings = settings
        try:
            save_settings(settings, self._settings_path)
        except OSError as exc:
            log.warning("Could not save the settings: %s", exc)

    def load_model(self, spec_or_path: str, overrides: LoadOverrides | None = None) -> None:
        """Prepare and load a model in the background: "default", a default's key or a path.

        ``overrides`` (from the model panel) replace the load options of the
        settings for this load; once the model is loaded they are saved as the
        new settings. Values out of bounds are refused at once with ``sig_error``
        and nothing changes. A running reply is stopped first. Progress arrives
        as ``sig_model_progress``, then ``sig_model_loaded`` or ``sig_error``.
        """
        settings = self._settings
        if overrides is not None:
            try:
                settings = settings.with_overrides(overrides)
            except ValidationError as exc:
                problems = "; ".join(
                    f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
                )
                self.sig_error.emit(
                    InvalidRequestError.kind, f"The model settings are not valid ({problems})."
                )
                return
        self.stop()
        self._loaded = None
        self._want_remote = False
        self._submit(
            _LoadJob(
                next(self._ids),
                spec=spec_or_path,
                settings=settings,
                overridden=overrides is not None,
            )
        )

    def send(self, request: GenerateRequest) -> None:
        """Generate a reply in the background; tokens arrive as ``sig_tokens``."""
        job = _GenerateJob(next(self._ids), request=request)
        self._open_replies.append(job)
        self._submit(job)

    def run_task(self, fn: TaskFn, *, label: str) -> int:
        """Run ``fn(engine, progress)`` on the engine thread after the queued jobs.

        Returns the job id that ``sig_task_progress``, ``sig_task_done`` and
        ``sig_task_failed`` carry. ``fn`` must not touch Qt objects; it reports
        through ``progress`` and should stop when ``progress.cancelled`` is set.
        A ``GlassboxError`` it raises becomes ``sig_task_failed`` with the error's
        kind; ``label`` names the task in logs.
        """
        job = _TaskJob(next(self._ids), fn=fn, label=label)
        self._open_tasks[job.id] = job
        self._submit(job)
        return job.id

    def cancel_task(self, job_id: int) -> None:
        """Cancel a queued or running task; returns at once (unknown ids are ignored).

        A queued task ends with ``sig_task_failed`` (kind "cancelled") without
        running; a running one sees ``progress.cancelled`` and its generation or
        scoring is cancelled in the engine.
        """
        job = self._open_tasks.get(job_id)
        if job is None or job.stopped.is_set():
            return
        job.stopped.set()
        with self._engine_lock:
            engine = self._engine if self._running_task is job else None
            if engine is not None:
                engine.cancel()

    @property
    def tasks_pending(self) -> list[int]:
        """Ids of the tasks submitted and not yet finished, oldest first."""
        return list(self._open_tasks)

    def stop(self) -> None:
        """Stop the running (and any queued) reply; returns at once.

        Only the window's own replies are stopped: a task running on the engine (an
        API request, a classification) is left alone; a queued reply ends without
        running when its turn comes.
        """
        stopped: list[_GenerateJob] = []
        for job in self._open_replies:
            if not job.stopped.is_set():
                job.stopped.set()
                stopped.append(job)
        if stopped:
            with self._engine_lock:
                engine = self._engine if self._running_reply in stopped else None
            if engine is not None:
                engine.cancel()

    def shutdown(self, timeout_s: float = 5.0) -> bool:
        """Stop everything, close the engine and join the thread; True when it ended in time."""
        self._closing.set()
        self.stop()
        self._cancel_engine()
        self._flush_timer.stop()
        thread = self._thread
        if thread is None:
            return True
        self._jobs.put(None)
        thread.join(timeout_s)
        if thread.is_alive():
            log.warning("The engine thread did not end within %.1f s.", timeout_s)
            return False
        return True

    def _submit(self, job: _Job) -> None:
        if self._closing.is_set():
            self.sig_error.emit(INTERNAL_ERROR, "Glassbox is shutting down.")
            return
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run_worker, name="glassbox-engine", daemon=True
            )
            self._thread.start()
        self._pending += 1
        if self._pending == 1:
            self.sig_busy.emit(True)
        if not self._flush_timer.isActive():
            self._flush_timer.start()
        self._jobs.put(job)

    def _cancel_engine(self) -> None:
        with self._engine_lock:
            engine = self._engine
        if engine is not None:
            engine.cancel()

    # ----------------------------------------------------------------- GUI-thread drain

    @Slot()
    def _on_flush_timer_timeout(self) -> None:
        batch: list[TokenEvent] = []
        task_tokens: list[TokenEvent] = []
        task_job: _Job | None = None
        while True:
            try:
                job, item = self._outbox.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, TokenEvent):
                if not job.stopped.is_set():
                    batch.append(item)
                continue
            if isinstance(item, TaskUpdate) and item.token and isinstance(item.payload, TokenEvent):
                if task_job is not job and task_tokens and task_job is not None:
                    self.sig_task_progress.emit(task_job.id, TaskTokens(tuple(task_tokens)))
                    task_tokens = []
                task_job = job
                task_tokens.append(item.payload)
                continue
            if batch:
                self.sig_tokens.emit(batch)
                batch = []
            if task_tokens and task_job is not None:
                self.sig_task_progress.emit(task_job.id, TaskTokens(tuple(task_tokens)))
                task_tokens = []
            self._dispatch(job, item)
        if batch:
            self.sig_tokens.emit(batch)
        if task_tokens and task_job is not None:
            self.sig_task_progress.emit(task_job.id, TaskTokens(tuple(task_tokens)))
        if self._pending == 0:
            self._flush_timer.stop()

    def _dispatch(self, job: _Job, item: object) -> None:
        if isinstance(item, ModelProgress):
            self.sig_model_progress.emit(item)
        elif isinstance(item, ModelLoaded):
            self._loaded = item
            self.sig_model_loaded.emit(item)
            if isinstance(job, _LoadJob) and not self._closing.is_set() and not is_remote(item):
                self._submit(_FingerprintJob(next(self._ids), path=item.model_path))
        elif isinstance(item, _Kept):
            self._loaded = item.loaded
            self.sig_model_loaded.emit(item.loaded)
            self.sig_error.emit(item.error.kind, item.error.message)
            if (
                not is_remote(item.loaded)
                and self.model_fingerprint is None
                and not self._closing.is_set()
            ):
                # Its hash was set aside for the load that failed.
                self._submit(_FingerprintJob(next(self._ids), path=item.loaded.model_path))
        elif isinstance(item, _Fingerprint):
            self._fingerprint = (item.path, item.sha256)
            self.sig_model_fingerprint.emit(item.path, item.sha256)
        elif isinstance(item, PromptProgress):
            if not job.stopped.is_set():
                self.sig_prompt_progress.emit(item.done, item.total)
        elif isinstance(item, DoneEvent):
            self._close_reply(job)
            self.sig_done.emit(item)
        elif isinstance(item, ErrorEvent):
            self._close_reply(job)
            self.sig_error.emit(item.kind, item.message)
        elif isinstance(item, _SettingsChanged):
            self._settings = self._settings.model_copy(update=item.update)
            if item.save:
                try:
                    save_settings(self._settings, self._settings_path)
                except OSError as exc:
                    # The model is loaded and works; only next start's choice is lost.
                    log.warning("Could not save the settings: %s", exc)
        elif isinstance(item, TaskUpdate):
            self.sig_task_progress.emit(job.id, item.payload)
        elif isinstance(item, _TaskDone):
            self.sig_task_done.emit(job.id, item.result)
        elif isinstance(item, _TaskFailed):
            self.sig_task_failed.emit(job.id, item.kind, item.message)
        elif isinstance(item, _JobFinished):
            self._close_reply(job)
            self._open_tasks.pop(job.id, None)
            self._pending -= 1
            if self._pending == 0:
                self.sig_busy.emit(False)
        else:
            log.error("Unexpected item from the engine thread: %r", item)

    def _close_reply(self, job: _Job) -> None:
        if job in self._open_replies:
            self._open_replies.remove(job)

    # ----------------------------------------------------------------- worker thread

    def _post(self, job: _Job, item: object) -> None:
        self._outbox.put((job, item))

    def _run_worker(self) -> None:
        aside: _FingerprintJob | None = None  # a hash that stepped aside for other jobs
        while True:
            if aside is not None and self._jobs.empty():
                job: _Job | None = aside
                aside = None
            else:
                job = self._jobs.get()
            if job is None:
                break
            if aside is not None and (isinstance(job, _LoadJob | _FingerprintJob)):
                # A newer model is coming: the older hash is no longer wanted.
                self._finish_fingerprint(aside)
                aside = None
            finished = True
            try:
                if self._closing.is_set():
                    continue
                if isinstance(job, _LoadJob):
                    self._do_load(job)
                elif isinstance(job, _GenerateJob):
                    self._do_generate(job)
                elif isinstance(job, _TaskJob):
                    self._do_task(job)
                elif isinstance(job, _FingerprintJob):
                    finished = self._do_fingerprint(job)
                    if not finished:
                        aside = job
            except _Shutdown:
                log.info("Model preparation abandoned: Glassbox is shutting down.")
            except Exception as exc:
                # A bug or an unexpected OS failure must not kill the thread that
                # every later job needs; the user sees it, the log keeps the trace.
                log.exception("Engine job %d failed", job.id)
                self._post(job, ErrorEvent(INTERNAL_ERROR, f"Unexpected error: {exc}"))
            finally:
                if finished:
                    self._post(job, _JobFinished())
        if aside is not None:
            self._finish_fingerprint(aside)
        self._discard_engine()

    def _finish_fingerprint(self, job: _FingerprintJob) -> None:
        """End a hash that will not be completed (superseded or shutting down)."""
        if job.steps is not None:
            job.steps.close()
            job.steps = None
        self._post(job, _JobFinished())

    def _do_fingerprint(self, job: _FingerprintJob) -> bool:
        """Hash the model file; False when it stepped aside because another job is waiting."""
        from desktop_app.core.models import fingerprint

        try:
            if job.steps is None:
                sha = fingerprint.cached_sha256(job.path)
                if sha is not None:
                    self._post(job, _Fingerprint(job.path, sha))
                    return True
                job.steps = fingerprint.sha256_steps(job.path)
            while True:
                if self._closing.is_set():
                    job.steps.close()
                    return True
                if not self._jobs.empty():
                    return False
                next(job.steps)
        except StopIteration as stop:
            job.steps = None
            self._post(job, _Fingerprint(job.path, str(stop.value)))
        except OSError as exc:
            # The model is loaded and works; only its fingerprint is unknown.
            job.steps = None
            log.warning("Could not fingerprint %s: %s", job.path, exc)
        return True

    def _ensure_engine(self) -> Engine:
        with self._engine_lock:
            engine = self._engine
        if engine is None:
            engine = self._factory()
            with self._engine_lock:
                self._engine = engine
        return engine

    def _discard_engine(self) -> None:
        with self._engine_lock:
            engine, self._engine = self._engine, None
        close: Any = getattr(engine, "close", None)
        if close is None:
            return
        try:
            close()
        except Exception:
            # The engine is being thrown away (crashed or shutting down); a failure
            # to close it cleanly is worth a log line, not a second error dialog.
            log.exception("Closing the engine failed")

    def _do_load_remote(self, job: _LoadJob, server: RemoteServer) -> None:
        self._post(job, ModelProgress("connect", server.base_url))
        config = EngineConfig(model_path=server.model or "", n_ctx=job.settings.n_ctx)
        try:
            engine = OpenAIEngine(server.base_url, server.api_key, server.model, server.timeout_s)
            loaded = engine.load(config)
        except GlassboxError as exc:
            # The server was not reached or refused: the current engine works on.
            self._fail_load(job, ErrorEvent(exc.kind, str(exc)), keep=True)
            return
        self._discard_engine()
        chosen = loaded.model_path

        def make() -> Engine:
            return OpenAIEngine(server.base_url, server.api_key, chosen, server.timeout_s)

        self._factory = make
        self._engine_remote = True
        with self._engine_lock:
            self._engine = engine
        self._config = EngineConfig(model_path=chosen, n_ctx=job.settings.n_ctx)
        self._remember(
            job,
            {
                "engine": "openai",
                "remote_base_url": server.base_url,
                "remote_api_key": server.api_key,
                "remote_model": chosen,
                "remote_timeout_s": server.timeout_s,
            },
        )
        self._post(job, loaded)

    def _do_load(self, job: _LoadJob) -> None:
        if job.remote is not None:
            self._do_load_remote(job, job.remote)
            return
        spec = job.spec
        is_default = _is_default_spec(spec)
        self._post(job, ModelProgress("prepare", default=is_default))
        last_percent = -1

        def progress(done: int, total: int) -> None:
            nonlocal last_percent
            if self._closing.is_set():
                raise _Shutdown
            fraction = done / total if total > 0 else -1.0
            percent = int(fraction * 100) if total > 0 else -1
            # Hashing calls this every megabyte; the GUI only needs whole percents.
            if percent != last_percent:
                last_percent = percent
                self._post(job, ModelProgress("prepare", fraction=fraction, default=is_default))

        try:
            path = self._resolver(spec, progress)
        except GlassboxError as exc:
            # No file to load: the engine (local or a server) was not touched.
            self._fail_load(job, ErrorEvent(exc.kind, str(exc)), keep=True)
            return
        if self._engine_remote:
            # Back to a local model, now that it is known to exist: the server
            # connection is dropped, the factory makes local engines again.
            self._discard_engine()
            self._factory = self._local_factory
            self._engine_remote = False
            self._config = None
        try:
            settings = job.settings
            config = EngineConfig(
                model_path=str(path),
                n_ctx=settings.n_ctx,
                n_threads=settings.n_threads,
                n_threads_batch=settings.n_threads_batch,
                n_gpu_layers=settings.n_gpu_layers,
                chat_template=settings.chat_template_override,
                lora_path=settings.lora_path,
                lora_scale=settings.lora_scale,
            )
            self._post(job, ModelProgress("load", path.name))
            engine = self._ensure_engine()
            loaded = engine.load(config)
        except GlassboxError as exc:
            if isinstance(exc, EngineCrashedError):
                self._discard_engine()
            # The file or template was refused before the loaded model was touched:
            # keep using it.
            self._fail_load(
                job, ErrorEvent(exc.kind, str(exc)), keep=exc.kind in REFUSED_BEFORE_LOAD
            )
            return
        self._config = config
        update: dict[str, Any] = {}
        if self._remember_model:
            update["last_model"] = spec if is_default else str(path.resolve())
        if job.overridden:
            # The model panel's options for this load are kept for the next ones.
            update.update({f.name: getattr(job.settings, f.name) for f in fields(LoadOverrides)})
        switched = job.settings.engine != "local"
        if switched:
            update["engine"] = "local"
        if self._remember_model or job.overridden:
            # Saved before the news goes out, so whoever reacts to sig_model_loaded
            # already sees the model (and the options it was loaded with) remembered.
            self._remember(job, update)
        elif switched:
            # A run that remembers nothing (--fake, --smoke-test) uses the local model
            # now but leaves the saved choice of a server alone.
            self._post(job, _SettingsChanged(update, save=False))
        self._post(job, loaded)

    def _fail_load(self, job: _Job, error: ErrorEvent, *, keep: bool) -> None:
        """Report a failed load; with ``keep``, the engine's model (if any) works on."""
        still = getattr(self._engine, "loaded", None) if keep else None
        if isinstance(still, ModelLoaded):
            self._post(job, _Kept(error, still))
        else:
            self._post(job, error)

    def _remember(self, job: _Job, update: dict[str, Any]) -> None:
        """Merge ``update`` into the settings and save them (on the GUI thread)."""
        self._post(job, _SettingsChanged(update, save=True))

    def _do_generate(self, job: _GenerateJob) -> None:
        with self._engine_lock:
            # Set before the stopped check: a stop() from now on reaches the engine
            # (or, before the engine starts generating, _generate_reply sees it).
            self._running_reply = job
        try:
            if job.stopped.is_set():
                # Stopped while queued: end it as the engine would have.
                self._post(job, DoneEvent("cancelled", 0, 0, 0.0, 0.0, 0))
                return
            final = self._generate_reply(self._ensure_engine(), job)
        finally:
            with self._engine_lock:
                self._running_reply = None
        if isinstance(final, ErrorEvent) and final.kind == EngineCrashedError.kind:
            self._restart_engine(job)

    def _generate_reply(self, engine: Engine, job: _GenerateJob) -> DoneEvent | ErrorEvent:
        final: DoneEvent | ErrorEvent | None = None
        cancelled = False
        try:
            for event in engine.generate(job.request):
                if job.stopped.is_set() and not cancelled:
                    # A stop() that came before the engine started generating.
                    cancelled = True
                    engine.cancel()
                self._post(job, event)
                if isinstance(event, DoneEvent | ErrorEvent):
                    final = event
                    break
        except GlassboxError as exc:
            final = ErrorEvent(exc.kind, str(exc))
            self._post(job, final)
        if final is None:
            crashed = EngineCrashedError("The engine stopped before finishing the reply.")
            final = ErrorEvent(crashed.kind, str(crashed))
            self._post(job, final)
        return final

    def _do_task(self, job: _TaskJob) -> None:
        if job.stopped.is_set() or job.fn is None:
            self._post(job, _TaskFailed(CANCELLED, "Cancelled before it started."))
            return
        engine = self._ensure_engine()
        progress = TaskProgress(
            lambda: job.stopped.is_set() or self._closing.is_set(),
            lambda update: self._post(job, update),
        )
        with self._engine_lock:
            self._running_task = job
        try:
            result = job.fn(engine, progress)
        except GlassboxError as exc:
            self._post(job, _TaskFailed(exc.kind, str(exc)))
            if exc.kind == EngineCrashedError.kind:
                self._restart_engine(job)
            return
        except Exception as exc:
            # A bug in a task must not end the thread every later reply needs.
            log.exception("Task %r (job %d) failed", job.label, job.id)
            self._post(job, _TaskFailed(INTERNAL_ERROR, f"Unexpected error: {exc}"))
            return
        finally:
            with self._engine_lock:
                self._running_task = None
        self._post(job, _TaskDone(result))

    def _restart_engine(self, job: _Job) -> None:
        self._discard_engine()
        config = self._config
        if config is None or self._closing.is_set():
            return
        self._post(job, ModelProgress("restart"))
        try:
            loaded = self._ensure_engine().load(config)
        except GlassboxError as exc:
            if isinstance(exc, EngineCrashedError):
                self._discard_engine()
            self._post(job, ErrorEvent(exc.kind, f"The engine could not be restarted: {exc}"))
            return
        self._post(job, loaded)


class RemoteProbe(QObject):
    """Asks a remote server for its models off the GUI thread (settings dialog).

    Each ``probe`` runs in a thread of its own and never touches the engine, so a
    check answers even while a reply runs; the server's silence is bounded by
    ``timeout_s``. Lives in the GUI thread; results arrive as queued signals.
    """

    sig_models = Signal(int, list, float)
    """A probe's id, the model ids the server lists and the round trip in milliseconds."""

    sig_failed = Signal(int, str)
    """A probe's id and why the server could not be used (a message for the user)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ids = itertools.count(1)

    def probe(self, base_url: str, api_key: str | None, timeout_s: float = 10.0) -> int:
        """List the server's models in the background; returns the id the signals carry."""
        pid = next(self._ids)
        threading.Thread(
            target=self._run,
            args=(pid, base_url, api_key, timeout_s),
            name="glassbox-remote-probe",
            daemon=True,
        ).start()
        return pid

    def _run(self, pid: int, base_url: str, api_key: str | None, timeout_s: float) -> None:
        import time

        start = time.perf_counter()
        try:
            models = OpenAIEngine(base_url, api_key or None, timeout_s=timeout_s).list_models()
        except GlassboxError as exc:
            self._emit(self.sig_failed, pid, str(exc))
            return
        self._emit(self.sig_models, pid, models, (time.perf_counter() - start) * 1000.0)

    @staticmethod
    def _emit(signal: Any, *args: object) -> None:
        try:
            signal.emit(*args)
        except RuntimeError:
            # The dialog that asked was closed (its probe deleted): nobody waits.
            log.debug("A server check finished after its dialog closed.")
