"""Errors raised by the core, each with a message a user can act on.

The UI and the command line show ``str(error)`` as it is, so messages name the
file or value at fault and say what to do about it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from desktop_app.core.engine.protocol import ErrorEvent


class GlassboxError(Exception):
    """Base class of every error the core raises on purpose."""

    #: A short machine-readable name, printed as ``kind`` by ``--json`` commands.
    kind = "error"


class ModelFileError(GlassboxError):
    """A model file is missing, is not GGUF, is truncated or declares impossible sizes."""

    kind = "model_file"


class ModelInstallError(GlassboxError):
    """A default model could not be assembled or verified."""

    kind = "model_install"


class ModelLoadError(GlassboxError):
    """llama.cpp refused to load a model that passed the header check."""

    kind = "model_load"


class ContextOverflowError(GlassboxError):
    """A prompt does not fit in the model's context window."""

    kind = "context_overflow"


class EngineCrashedError(GlassboxError):
    """The engine process ended unexpectedly (crash, kill, out of memory)."""

    kind = "engine_crashed"


class EngineNotReadyError(GlassboxError):
    """A request was sent before a model was loaded."""

    kind = "no_model"


class CancelledError(GlassboxError):
    """A request that returns one result (scoring) was cancelled before it finished."""

    kind = "cancelled"


class InvalidRequestError(GlassboxError):
    """A request or its parameters are out of bounds."""

    kind = "invalid_request"


class RemoteEngineError(GlassboxError):
    """A remote OpenAI-compatible server cannot be reached, timed out or broke off a reply."""

    kind = "remote"


class StorageError(GlassboxError):
    """The conversation database cannot be opened, read or written."""

    kind = "storage"


#: The error class for each kind an engine reports in an ``ErrorEvent``; another
#: kind is raised as a plain GlassboxError that keeps it.
ERROR_CLASSES: dict[str, type[GlassboxError]] = {
    "model_file": ModelFileError,
    "model_load": ModelLoadError,
    "no_model": EngineNotReadyError,
    "invalid_request": InvalidRequestError,
    "context_overflow": ContextOverflowError,
    "engine_crashed": EngineCrashedError,
    "cancelled": CancelledError,
}


def error_from_event(event: ErrorEvent) -> GlassboxError:
    """The core error an error event from an engine stands for, with the event's kind.

    Errors cross the pipe to the engine process (and the API) as events; this
    turns them back into the classes callers catch.
    """
    error = ERROR_CLASSES.get(event.kind, GlassboxError)(event.message)
    error.kind = event.kind
    return error
