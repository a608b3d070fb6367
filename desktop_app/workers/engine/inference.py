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
import threading
from collections.abc import Callable, Generator
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError
from PySide6.QtCore import QObject, Signal

from desktop_app.core.engine.capabilities import (
    REMOTE_CAPABILITIES,
    EngineCapabilities,
    capabilities_of,
)
from desktop_app.core.engine.openai_remote import OpenAIEngine, is_remote
from desktop_app.core.engine.protocol import (
    REFUSED_BEFORE_LOAD,
    DoneEvent,
    DraftSettings,
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
from desktop_app.workers.engine.task_runner import TaskProgress, merge_task_progress
from desktop_app.workers.jobs import (
    CANCELLED,
    INTERNAL_ERROR,
    FailedCallback,
    JobContext,
    JobHandle,
    JobQueue,
    StepAside,
)
from desktop_app.workers.jobs_qt import GuiDrain

log = logging.getLogger(__name__)

#: ``(bytes_done, bytes_total)`` progress while a default model is prepared.
ProgressCallback = Callable[[int, int], None]
#: Turns what the user chose ("default", a key or a path) into a model file.
ModelResolver = Callable[[str, ProgressCallback], Path]
#: Makes a fresh engine (an ``EngineClient`` in the app, a ``FakeEngine`` in tests).
EngineFactory = Callable[[], Engine]

__all__ = [
    "INTERNAL_ERROR",
    "InferenceController",
    "ModelProgress",
    "RemoteProbe",
    "RemoteServer",
    "resolve_with_defaults",
]

#: A task's result.
R = TypeVar("R")


def resolve_with_defaults(spec: str, progress: ProgressCallback) -> Path:
    """Resolve ``spec`` through the default-model installer (imported lazily)."""
    from desktop_app.core.models import defaults

    return defaults.resolve_model(spec, progress=progress)


def _is_default_spec(spec: str) -> bool:
    from desktop_app.core.models import defaults

    return spec == "default" or spec in defaults.DEFAULT_MODELS


# --------------------------------------------------------------------------- jobs


@dataclass(frozen=True, slots=True)
class RemoteServer:
    """An OpenAI-compatible server to use as the engine, and the model id on it."""

    base_url: str
    api_key: str | None = None
    model: str | None = None
    timeout_s: float = 60.0


@dataclass(frozen=True)
class _Load:
    """What a load job loads, with the settings it was asked with."""

    spec: str
    settings: Settings
    overridden: bool = False  # the settings carry the model panel's choices
    remote: RemoteServer | None = None  # a server to switch to instead of a file


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


class _Shutdown(Exception):
    """Raised inside a progress callback to abandon a model install on shutdown."""


class _EngineSlot:
    """The engine as the worker thread owns it: made by the factory on first use,
    discarded after a crash or a switch between a local model and a server.

    Only the worker thread changes it; ``cancel`` may be called from any thread.
    """

    def __init__(self, factory: EngineFactory) -> None:
        self.factory = factory
        self.local_factory = factory
        #: Whether the engine the factory makes is a remote one.
        self.remote = False
        #: What the engine was last loaded with (to reload it after a crash).
        self.config: EngineConfig | None = None
        self._engine: Engine | None = None
        self._lock = threading.Lock()  # guards the reference, read by cancel()

    @property
    def current(self) -> Engine | None:
        """The engine, if one has been made."""
        with self._lock:
            return self._engine

    def get(self) -> Engine:
        """The engine, made now when there is none."""
        engine = self.current
        if engine is None:
            engine = self.factory()
            self.install(engine)
        return engine

    def install(self, engine: Engine) -> None:
        """Use ``engine`` from now on."""
        with self._lock:
            self._engine = engine

    def discard(self) -> None:
        """Close the engine and forget it (the next ``get`` makes a new one)."""
        with self._lock:
            engine, self._engine = self._engine, None
        close: Callable[[], None] | None = getattr(engine, "close", None)
        if close is None:
            return
        try:
            close()
        except Exception:
            # The engine is being thrown away (crashed or shutting down); a failure
            # to close it cleanly is worth a log line, not a second error dialog.
            log.exception("Closing the engine failed")

    def cancel(self) -> None:
        """Ask the engine to stop what it generates (any thread; returns at once)."""
        engine = self.current
        if engine is not None:
            engine.cancel()


_Ctx = JobContext[_EngineSlot, object]


def _join_tokens(old: object, new: object) -> object | None:
    """A reply's undelivered tokens as one batch (prompt progress is not merged)."""
    if isinstance(old, list) and isinstance(new, list):
        return old + new
    return None


# --------------------------------------------------------------------------- controller


class InferenceController(QObject):
    """Runs engine jobs on one background thread and reports on the GUI thread.

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
        # GUI-side: where the last load asked to go (until a model is loaded).
        self._want_remote = False
        self._settings_path = settings_path
        self._settings = settings if settings is not None else load_settings(settings_path)
        self._resolver = resolver
        self._remember_model = remember_model

        self._slot = _EngineSlot(engine_factory)  # owned by the worker thread
        self._jobs: JobQueue[_EngineSlot] = JobQueue(
            lambda: self._slot,
            _EngineSlot.discard,
            name="glassbox-engine",
            on_busy=self.sig_busy.emit,
            on_refused=self.sig_error.emit,
        )
        self._drain = GuiDrain(self._jobs, self)
        self._open_replies: list[JobHandle] = []  # GUI-side: replies not yet ended
        self._hashing: JobHandle | None = None  # GUI-side: the model file's fingerprint job
        self._loaded: ModelLoaded | None = None
        self._fingerprint: tuple[str, str] | None = None
        self._gpu_offload: bool | None = None

    # ----------------------------------------------------------------- GUI-thread API

    @property
    def settings(self) -> Settings:
        """The current settings (updated when a model loads)."""
        return self._settings

    @property
    def model_loaded(self) -> ModelLoaded | None:
        """The model the engine has ready, or None."""
        return self._loaded

    def draft_settings(self) -> DraftSettings:
        """The drafting the settings ask for (Model panel → Speed), with the draft model
        only when one is loaded beside the model."""
        loaded = self._loaded
        return DraftSettings(
            prompt_lookup=self._settings.prompt_lookup,
            draft_model=bool(loaded is not None and loaded.draft_model_path),
            max_draft=self._settings.max_draft,
        )

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
        self._submit_load(_Load(spec=model or "", settings=self._settings, remote=server))

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
        return any(not handle.cancelled for handle in self._open_replies)

    @property
    def worker_thread(self) -> threading.Thread | None:
        """The background thread, once started (for shutdown checks)."""
        return self._jobs.worker_thread

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
        self._submit_load(
            _Load(spec=spec_or_path, settings=settings, overridden=overrides is not None)
        )

    def send(self, request: GenerateRequest) -> None:
        """Generate a reply in the background; tokens arrive as ``sig_tokens``, the end
        as ``sig_done`` (or ``sig_error``)."""
        handle: JobHandle | None = None

        def done(final: DoneEvent | ErrorEvent) -> None:
            self._end_reply(handle)
            if isinstance(final, DoneEvent):
                self.sig_done.emit(final)
            else:
                self.sig_error.emit(final.kind, final.message)

        def failed(kind: str, message: str) -> None:
            self._end_reply(handle)
            if kind == CANCELLED:
                # Stopped while queued: end it as the engine would have.
                self.sig_done.emit(DoneEvent("cancelled", 0, 0, 0.0, 0.0, 0))
            else:
                self.sig_error.emit(kind, message)

        def progress(item: object) -> None:
            if handle is None or handle.cancelled:
                return  # tokens still arriving for a stopped reply are dropped
            if isinstance(item, PromptProgress):
                self.sig_prompt_progress.emit(item.done, item.total)
            elif isinstance(item, list):
                self.sig_tokens.emit(item)

        handle = self._jobs.run(
            lambda slot, ctx: self._do_generate(slot, ctx, request),
            done,
            failed,
            progress,
            merge=_join_tokens,
            on_cancel=self._slot.cancel,
            label="reply",
        )
        if not handle.finished:
            self._open_replies.append(handle)

    def run_task(
        self,
        fn: Callable[[Engine, TaskProgress], R],
        *,
        label: str,
        on_done: Callable[[R], None] | None = None,
        on_failed: FailedCallback | None = None,
        on_progress: Callable[[object], None] | None = None,
    ) -> JobHandle:
        """Run ``fn(engine, progress)`` on the engine thread after the queued jobs.

        ``on_progress`` gets what ``fn`` gave ``progress.report`` (each one) and the
        tokens it streamed (``TaskTokens``, gathered per flush); ``on_done`` what it
        returned (also after a cancel the function noticed and returned from, e.g.
        the finished part of a batch); ``on_failed`` the error's kind and a message
        for the user: a ``GlassboxError``'s kind, "internal" for a bug, "cancelled"
        when it was cancelled before it ran or raised ``CancelledError``. All are
        called on the GUI thread. ``fn`` must not touch Qt objects and should stop
        when ``progress.cancelled`` is set; ``label`` names the task in logs.

        ``handle.cancel()`` drops a queued task (``on_failed`` "cancelled") or lets
        a running one see ``progress.cancelled``, its generation or scoring cancelled
        in the engine.
        """

        def run(slot: _EngineSlot, ctx: _Ctx) -> R:
            engine = slot.get()
            progress = TaskProgress(lambda: ctx.cancelled, ctx.progress)
            try:
                return fn(engine, progress)
            except EngineCrashedError:
                ctx.defer(lambda: self._restart_engine(slot))
                raise

        return self._jobs.run(
            run,
            on_done,
            on_failed,
            on_progress,
            merge=merge_task_progress,
            on_cancel=self._slot.cancel,
            label=f"task {label!r}",
        )

    def stop(self) -> None:
        """Stop the running (and any queued) reply; returns at once.

        Only the window's own replies are stopped: a task running on the engine (an
        API request, a classification) is left alone; a queued reply ends at once
        (``sig_done``, finish reason "cancelled") without running.
        """
        for handle in list(self._open_replies):
            handle.cancel()

    def shutdown(self, timeout_s: float = 5.0) -> bool:
        """Stop everything, close the engine and join the thread; True when it ended in time."""
        self.stop()
        self._drain.stop()
        self._slot.cancel()
        return self._jobs.shutdown(timeout_s)

    # ----------------------------------------------------------------- GUI thread

    def _submit_load(self, load: _Load) -> None:
        if self._hashing is not None:
            # A newer model is coming: the older hash is no longer wanted.
            self._hashing.cancel()
            self._hashing = None
        self._jobs.run(
            lambda slot, _ctx: self._do_load(slot, load),
            on_failed=self.sig_error.emit,
            label="load",
        )

    def _submit_fingerprint(self, path: str) -> None:
        if self._jobs.closing:
            return
        if self._hashing is not None:
            self._hashing.cancel()
        steps: Generator[int, None, str] | None = None

        def run(_slot: _EngineSlot, ctx: _Ctx) -> str | None:
            """The file's SHA-256, one block at a time, stepping aside for other jobs."""
            from desktop_app.core.models import fingerprint

            nonlocal steps
            try:
                if steps is None:
                    sha = fingerprint.cached_sha256(path)
                    if sha is not None:
                        return sha
                    steps = fingerprint.sha256_steps(path)
                while True:
                    if ctx.cancelled:
                        steps.close()
                        return None
                    if ctx.others_waiting:
                        raise StepAside
                    next(steps)
            except StopIteration as stop:
                return str(stop.value)
            except OSError as exc:
                # The model is loaded and works; only its fingerprint is unknown.
                log.warning("Could not fingerprint %s: %s", path, exc)
                return None

        def done(sha: str | None) -> None:
            if sha is not None:
                self._fingerprint = (path, sha)
                self.sig_model_fingerprint.emit(path, sha)

        self._hashing = self._jobs.run(run, done, label="fingerprint")

    def _end_reply(self, handle: JobHandle | None) -> None:
        if handle in self._open_replies:
            self._open_replies.remove(handle)

    def _on_loaded(self, loaded: ModelLoaded, *, hash_it: bool) -> None:
        self._loaded = loaded
        self.sig_model_loaded.emit(loaded)
        if hash_it and not is_remote(loaded):
            self._submit_fingerprint(loaded.model_path)

    def _on_kept(self, error: ErrorEvent, loaded: ModelLoaded) -> None:
        """A load failed and the model before it works on: told as "loaded", then the
        error, so whoever shows the last news (the status bar, the settings dialog)
        ends on the error."""
        self._loaded = loaded
        self.sig_model_loaded.emit(loaded)
        self.sig_error.emit(error.kind, error.message)
        if not is_remote(loaded) and self.model_fingerprint is None:
            # Its hash was set aside for the load that failed.
            self._submit_fingerprint(loaded.model_path)

    def _on_settings_changed(self, update: dict[str, Any], save: bool) -> None:
        """Merge fields a load changed into the settings. Only those fields: the rest may
        have been changed here while the load ran (a remote server can take a minute to
        answer), and must not be reverted."""
        self._settings = self._settings.model_copy(update=update)
        if save:
            try:
                save_settings(self._settings, self._settings_path)
            except OSError as exc:
                # The model is loaded and works; only next start's choice is lost.
                log.warning("Could not save the settings: %s", exc)

    # ----------------------------------------------------------------- worker thread

    def _tell_progress(self, progress: ModelProgress) -> None:
        self._jobs.post(lambda: self.sig_model_progress.emit(progress))

    def _tell_loaded(self, loaded: ModelLoaded, *, hash_it: bool) -> None:
        self._jobs.post(lambda: self._on_loaded(loaded, hash_it=hash_it))

    def _tell_error(self, error: ErrorEvent) -> None:
        self._jobs.post(lambda: self.sig_error.emit(error.kind, error.message))

    def _remember(self, update: dict[str, Any], *, save: bool = True) -> None:
        """Merge ``update`` into the settings (and save them) on the GUI thread."""
        self._jobs.post(lambda: self._on_settings_changed(update, save))

    def _do_load(self, slot: _EngineSlot, load: _Load) -> None:
        try:
            if load.remote is not None:
                self._do_load_remote(slot, load, load.remote)
            else:
                self._do_load_local(slot, load)
        except _Shutdown:
            log.info("Model preparation abandoned: Glassbox is shutting down.")

    def _do_load_remote(self, slot: _EngineSlot, load: _Load, server: RemoteServer) -> None:
        self._tell_progress(ModelProgress("connect", server.base_url))
        try:
            engine = OpenAIEngine(server.base_url, server.api_key, server.model, server.timeout_s)
            loaded = engine.load(
                EngineConfig(model_path=server.model or "", n_ctx=load.settings.n_ctx)
            )
        except GlassboxError as exc:
            # The server was not reached or refused: the current engine works on.
            self._fail_load(slot, ErrorEvent(exc.kind, str(exc)), keep=True)
            return
        slot.discard()
        chosen = loaded.model_path

        def make() -> Engine:
            return OpenAIEngine(server.base_url, server.api_key, chosen, server.timeout_s)

        slot.factory = make
        slot.remote = True
        slot.install(engine)
        slot.config = EngineConfig(model_path=chosen, n_ctx=load.settings.n_ctx)
        self._remember(
            {
                "engine": "openai",
                "remote_base_url": server.base_url,
                "remote_api_key": server.api_key,
                "remote_model": chosen,
                "remote_timeout_s": server.timeout_s,
            }
        )
        self._tell_loaded(loaded, hash_it=True)

    def _do_load_local(self, slot: _EngineSlot, load: _Load) -> None:
        spec = load.spec
        is_default = _is_default_spec(spec)
        self._tell_progress(ModelProgress("prepare", default=is_default))
        last_percent = -1

        def progress(done: int, total: int) -> None:
            nonlocal last_percent
            if self._jobs.closing:
                raise _Shutdown
            fraction = done / total if total > 0 else -1.0
            percent = int(fraction * 100) if total > 0 else -1
            # Hashing calls this every megabyte; the GUI only needs whole percents.
            if percent != last_percent:
                last_percent = percent
                self._tell_progress(ModelProgress("prepare", fraction=fraction, default=is_default))

        try:
            path = self._resolver(spec, progress)
        except GlassboxError as exc:
            # No file to load: the engine (local or a server) was not touched.
            self._fail_load(slot, ErrorEvent(exc.kind, str(exc)), keep=True)
            return
        if slot.remote:
            # Back to a local model, now that it is known to exist: the server
            # connection is dropped, the factory makes local engines again.
            slot.discard()
            slot.factory = slot.local_factory
            slot.remote = False
            slot.config = None
        settings = load.settings
        # The draft model (the bundled one is assembled on first use, here on the
        # worker thread); one that cannot be had leaves the model to load without it.
        draft_path, draft_error = self._resolve_draft(settings.draft_model, progress)
        try:
            config = EngineConfig(
                model_path=str(path),
                n_ctx=settings.n_ctx,
                n_threads=settings.n_threads,
                n_threads_batch=settings.n_threads_batch,
                n_gpu_layers=settings.n_gpu_layers,
                chat_template=settings.chat_template_override,
                lora_path=settings.lora_path,
                lora_scale=settings.lora_scale,
                draft_model_path=draft_path,
            )
            self._tell_progress(ModelProgress("load", path.name))
            loaded = slot.get().load(config)
            if draft_error and not loaded.draft_error:
                loaded = replace(loaded, draft_error=draft_error)
        except GlassboxError as exc:
            if isinstance(exc, EngineCrashedError):
                slot.discard()
            # The file or template was refused before the loaded model was touched:
            # keep using it.
            self._fail_load(
                slot, ErrorEvent(exc.kind, str(exc)), keep=exc.kind in REFUSED_BEFORE_LOAD
            )
            return
        slot.config = config
        update: dict[str, Any] = {}
        if self._remember_model:
            update["last_model"] = spec if is_default else str(path.resolve())
        if load.overridden:
            # The model panel's options for this load are kept for the next ones.
            update.update({f.name: getattr(settings, f.name) for f in fields(LoadOverrides)})
        switched = settings.engine != "local"
        if switched:
            update["engine"] = "local"
        if self._remember_model or load.overridden:
            # Saved before the news goes out, so whoever reacts to sig_model_loaded
            # already sees the model (and the options it was loaded with) remembered.
            self._remember(update)
        elif switched:
            # A run that remembers nothing (--fake, --smoke-test) uses the local model
            # now but leaves the saved choice of a server alone.
            self._remember(update, save=False)
        self._tell_loaded(loaded, hash_it=True)

    def _resolve_draft(
        self, spec: str | None, progress: ProgressCallback
    ) -> tuple[str | None, str]:
        """The draft model's file for ``spec`` (a default's key or a path), or why not."""
        if not spec:
            return None, ""
        try:
            return str(self._resolver(spec, progress)), ""
        except GlassboxError as exc:
            return None, f"The draft model could not be prepared: {exc}"

    def _fail_load(self, slot: _EngineSlot, error: ErrorEvent, *, keep: bool) -> None:
        """Report a failed load; with ``keep``, the engine's model (if any) works on."""
        still = getattr(slot.current, "loaded", None) if keep else None
        if isinstance(still, ModelLoaded):
            self._jobs.post(lambda: self._on_kept(error, still))
        else:
            self._tell_error(error)

    def _do_generate(
        self, slot: _EngineSlot, ctx: _Ctx, request: GenerateRequest
    ) -> DoneEvent | ErrorEvent:
        final: DoneEvent | ErrorEvent | None = None
        cancelled = False
        engine = slot.get()
        try:
            for event in engine.generate(request):
                if ctx.cancelled and not cancelled:
                    # A stop() that came before the engine started generating.
                    cancelled = True
                    engine.cancel()
                if isinstance(event, DoneEvent | ErrorEvent):
                    final = event
                    break
                ctx.progress([event] if isinstance(event, TokenEvent) else event)
        except GlassboxError as exc:
            final = ErrorEvent(exc.kind, str(exc))
        if final is None:
            crashed = EngineCrashedError("The engine stopped before finishing the reply.")
            final = ErrorEvent(crashed.kind, str(crashed))
        if isinstance(final, ErrorEvent) and final.kind == EngineCrashedError.kind:
            # Told after the reply's end: the window hears of the crash, then of the restart.
            ctx.defer(lambda: self._restart_engine(slot))
        return final

    def _restart_engine(self, slot: _EngineSlot) -> None:
        slot.discard()
        config = slot.config
        if config is None or self._jobs.closing:
            return
        self._tell_progress(ModelProgress("restart"))
        try:
            loaded = slot.get().load(config)
        except GlassboxError as exc:
            if isinstance(exc, EngineCrashedError):
                slot.discard()
            self._tell_error(ErrorEvent(exc.kind, f"The engine could not be restarted: {exc}"))
            return
        self._tell_loaded(loaded, hash_it=False)


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
