"""Parse and chunk documents; the loop that runs inside the parser process.

``workers.kb_parser`` starts ``main`` in a child process, which first lowers its
own address-space limit (``RLIMIT_AS``) so a file that makes a library allocate
without bound fails with ``MemoryError`` or dies alone; the parent kills it past
the time limit. Chunking happens here too, so the next file is parsed and
chunked while the app embeds the previous one.

:class:`InProcessParser` does the same work in the calling process, for tests and
for callers that trust their files.
"""

from __future__ import annotations

import contextlib
import resource
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Protocol

from desktop_app.core.kb.chunking import (
    DEFAULT_MAX_TOKENS,
    DEFAULT_OVERLAP_TOKENS,
    Chunk,
    TokenCounter,
    chunk_document,
    estimate_tokens,
)
from desktop_app.core.kb.errors import ParseError
from desktop_app.core.kb.ocr import quiet_onnxruntime
from desktop_app.core.kb.parsers import PageProgress, ParseCancelled, ParseLimits, parse_file


@dataclass(frozen=True, slots=True)
class ChunkConfig:
    """How to chunk: the token budget and the tokenizer that counts it."""

    max_tokens: int = DEFAULT_MAX_TOKENS
    overlap_tokens: int = DEFAULT_OVERLAP_TOKENS
    #: A Hugging Face ``tokenizer.json`` (the embedding model's); None estimates.
    tokenizer_path: str | None = None


@dataclass(frozen=True, slots=True)
class ChunkedDocument:
    """What the parser process sends back for one file."""

    type: str
    chunks: tuple[Chunk, ...]
    text_chars: int


ParseOutcome = tuple[Path, ChunkedDocument | ParseError]
#: Told ``(path, pages done, pages to read)`` while a file's pages are read by OCR;
#: returning True stops that file before its next page (it comes back cancelled).
PageCallback = Callable[[Path, int, int], bool]


class Parser(Protocol):
    """Parses files, in order, yielding each path with its chunks or the reason it failed."""

    def parse_many(
        self, paths: Sequence[Path], on_page: PageCallback | None = None
    ) -> Iterator[ParseOutcome]:
        """One outcome per path, in the same order; a failure never stops the rest."""
        ...


def token_counter(tokenizer_path: str | None) -> TokenCounter:
    """Count word pieces with the embedding model's own tokenizer (or estimate without one)."""
    if not tokenizer_path or not Path(tokenizer_path).is_file():
        return estimate_tokens
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(tokenizer_path)
    tokenizer.no_truncation()
    tokenizer.no_padding()

    def count(texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        encodings = tokenizer.encode_batch(list(texts), add_special_tokens=False)
        return [len(e.ids) for e in encodings]

    return count


def parse_and_chunk(
    path: Path,
    limits: ParseLimits,
    config: ChunkConfig,
    counter: TokenCounter,
    progress: PageProgress | None = None,
) -> ChunkedDocument:
    """Parse one file and chunk it; raises ParseError with the reason on failure."""
    doc = parse_file(path, limits, progress)
    chunks = chunk_document(
        doc,
        max_tokens=config.max_tokens,
        overlap_tokens=config.overlap_tokens,
        count_tokens=counter,
    )
    if not chunks:
        raise ParseError("no text found in the document")
    return ChunkedDocument(doc.type, tuple(chunks), len(doc.text))


class InProcessParser:
    """Parse in this process (no memory or time limit): tests and trusted input."""

    def __init__(self, limits: ParseLimits | None = None, config: ChunkConfig | None = None):
        self.limits = limits or ParseLimits()
        self.config = config or ChunkConfig()
        self._counter = token_counter(self.config.tokenizer_path)

    def parse_many(
        self, paths: Sequence[Path], on_page: PageCallback | None = None
    ) -> Iterator[ParseOutcome]:
        """Parse each path in turn."""
        for path in paths:
            try:
                progress = None if on_page is None else _stop_when(on_page, path)
                yield path, parse_and_chunk(path, self.limits, self.config, self._counter, progress)
            except ParseError as exc:
                yield path, exc
            except OSError as exc:
                yield path, ParseError(f"the file cannot be read ({exc.strerror or exc})")


def _stop_when(on_page: PageCallback, path: Path) -> PageProgress:
    def progress(done: int, total: int) -> None:
        if on_page(path, done, total):
            raise ParseCancelled()

    return progress


def limit_memory(max_bytes: int) -> None:
    """Lower this process's address-space limit (soft and hard) to ``max_bytes``."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    new_hard = max_bytes if hard == resource.RLIM_INFINITY else min(hard, max_bytes)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (min(max_bytes, new_hard), new_hard))
    # A parser that dumps core on a crash would write a file of the limit's size.
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def main(conn: Connection, limits: ParseLimits, config: ChunkConfig) -> None:
    """The parser process: ``(id, path)`` in, ``(id, ChunkedDocument | ParseError)`` out.

    While a file's pages are read by OCR, ``("page", id, done, total)`` goes out after
    each page, and a ``("cancel", id)`` that came in meanwhile stops that file there.
    Requests that arrive during a file wait their turn.
    """
    quiet_onnxruntime()  # before OCR loads it: no telemetry, nothing written in the home folder
    counter = token_counter(config.tokenizer_path)
    limit_memory(limits.memory_bytes)
    # Start-up time must not count against the first file's time limit.
    conn.send("ready")
    backlog: deque[Any] = deque()
    while True:
        try:
            message: Any = backlog.popleft() if backlog else conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        if message[0] == "cancel":
            continue  # for a file already answered
        request_id, raw_path = message
        path = Path(raw_path)

        def progress(done: int, total: int, request_id: int = request_id) -> None:
            conn.send(("page", request_id, done, total))
            while conn.poll(0):
                incoming = conn.recv()
                if incoming is None or tuple(incoming) == ("cancel", request_id):
                    if incoming is None:
                        backlog.append(None)
                    raise ParseCancelled()
                if incoming[0] != "cancel":
                    backlog.append(incoming)

        result: ChunkedDocument | ParseError
        try:
            result = parse_and_chunk(path, limits, config, counter, progress)
        except ParseError as exc:
            result = exc
        except MemoryError:
            result = ParseError("the document needs more memory than allowed (refused)")
        except OSError as exc:
            result = ParseError(f"the file cannot be read ({exc.strerror or exc})")
        except Exception as exc:  # noqa: BLE001 - one bad file must not end the process
            result = ParseError(f"the parser failed ({type(exc).__name__}: {exc})")
        try:
            conn.send((request_id, result))
        except (EOFError, OSError):
            return
