"""Test doubles of the knowledge-base tests, importable by name (``from kb_fakes import …``):
a module called ``conftest`` would clash with the end-to-end folder's own."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import numpy.typing as npt

from desktop_app.core.engine.protocol import DoneEvent, Event, GenerateRequest, TokenEvent


class HashEmbedder:
    """Stands in where embedding quality does not matter: a vector from word hashes."""

    name = "all-MiniLM-L6-v2"
    dim = 32

    def __init__(self) -> None:
        self.calls = 0

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        self.calls += 1
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.split() or [text]:
                h = int(hashlib.md5(word.encode()).hexdigest(), 16)
                out[row, h % self.dim] += 1.0
            out[row] /= max(float(np.linalg.norm(out[row])), 1e-6)
        return out


class ScriptedEngine:
    """A model that streams a fixed reply in pieces and keeps each request."""

    def __init__(self, *pieces: str) -> None:
        self.pieces = pieces
        self.requests: list[GenerateRequest] = []

    def generate(self, request: GenerateRequest) -> Iterator[Event]:
        self.requests.append(request)
        for i, piece in enumerate(self.pieces):
            yield TokenEvent(i, i, piece, 1.0, ())
        yield DoneEvent("eos", 10, len(self.pieces), 0.0, 1.0, 0)


def engine_loader(
    loads: list[str], engine: object | Exception, *, chat_template: bool = False
) -> Callable[[object, contextlib.ExitStack[bool | None]], tuple[object, bool]]:
    """Stands in for ``cli.crosslang.load_engine``: counts each load in ``loads`` and
    gives ``engine`` (or raises it, when it is an exception)."""

    def load(args: object, stack: contextlib.ExitStack[bool | None]) -> tuple[object, bool]:
        loads.append("load")
        if isinstance(engine, Exception):
            raise engine
        return engine, chat_template

    return load
