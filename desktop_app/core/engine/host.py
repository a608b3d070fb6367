"""The engine host: the body of the child process that owns the model.

A crash inside llama.cpp (a crafted file, an abort, the kernel's out-of-memory
killer) ends this process, not the window. The parent talks to it over a pipe:

    parent -> host:  ("load", EngineConfig) | ("generate", GenerateRequest)
                     | ("score", ScoreRequest) | ("count_tokens", str) | ("unload",)
                     | ("exit",)
    host -> parent:  ModelLoaded | TokenEvent* PromptProgress* (DoneEvent | ErrorEvent)
                     | ScoreResult | int | None (unloaded) | ErrorEvent

Cancellation does not go through the pipe: the parent sets a byte in shared
memory that the decode loop and llama.cpp's abort callback both read.

The process ends when its parent does, even in the middle of a long llama.cpp
call (a model load, a long prompt) during which the pipe is not read: a thread
waits on the parent's sentinel and exits the process at once.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import threading
from multiprocessing.connection import Connection, wait
from typing import Any

from desktop_app.core.engine.protocol import (
    EngineConfig,
    ErrorEvent,
    GenerateRequest,
    ScoreRequest,
)
from desktop_app.core.errors import GlassboxError
from desktop_app.core.memory import limit_arenas


def exit_with_parent() -> None:
    """End this process as soon as the process that started it is gone (any platform).

    Without it an engine killed along with its window would go on loading a model
    or evaluating a prompt, holding its memory, until it next wrote to the pipe.
    """
    parent = mp.parent_process()
    sentinel = None if parent is None else parent.sentinel
    if sentinel is None:
        return

    def watch() -> None:
        wait([sentinel])
        os._exit(0)

    threading.Thread(target=watch, name="engine-parent-watch", daemon=True).start()


def main(conn: Connection, cancel_byte: Any) -> None:
    """Serve requests on ``conn`` until told to exit or the parent goes away."""
    exit_with_parent()
    # Each load starts a fresh worker thread; with an arena per thread, what each
    # one freed stayed behind: the process grew by 8% over 150 loads.
    limit_arenas()
    # Ctrl+C in a terminal reaches the whole process group: the parent decides.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from desktop_app.core.engine.llama_backend import LlamaCppEngine, check_request

    engine = LlamaCppEngine(cancel_flag=lambda: cancel_byte.value != 0)
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return  # the parent is gone
        command = message[0]
        try:
            if command == "load":
                config: EngineConfig = message[1]
                conn.send(engine.load(config))
            elif command == "generate":
                request: GenerateRequest = message[1]
                check_request(request)
                for event in engine.generate(request):
                    conn.send(event)
            elif command == "score":
                score: ScoreRequest = message[1]
                conn.send(engine.score(score))
            elif command == "count_tokens":
                text: str = message[1]
                conn.send(engine.count_tokens(text))
            elif command == "unload":
                # Frees the model but keeps the process (the load-cycle check's path).
                engine.unload()
                conn.send(None)
            elif command == "exit":
                engine.unload()
                return
            else:
                conn.send(ErrorEvent("invalid_request", f"Unknown engine command {command!r}."))
        except GlassboxError as exc:
            conn.send(ErrorEvent(exc.kind, str(exc)))
        except (BrokenPipeError, EOFError):
            return
        except MemoryError:
            conn.send(ErrorEvent("memory", "The engine ran out of memory."))
        except Exception as exc:  # noqa: BLE001 - report any bug to the app instead of dying silently
            conn.send(ErrorEvent("internal", f"The engine failed: {type(exc).__name__}: {exc}"))
