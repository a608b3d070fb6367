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
from collections.abc import Iterator, Sequence
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
from desktop_app.core.kb.parsers import ParseLimits, parse_file


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


class Parser(Protocol):
    """Parses files, in order, yielding each path with its chunks or the reason it failed."""

    def parse_many(self, paths: Sequence[Path]) -> Iterator[ParseOutcome]:
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
    path: Path, limits: ParseLimits, config: ChunkConfig, counter: TokenCounter
) -> ChunkedDocument:
    """Parse one file and chunk it; raises ParseError with the reason on failure."""
    doc = parse_file(path, limits)
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

    def parse_many(self, paths: Sequence[Path]) -> Iterator[ParseOutcome]:
        """Parse each path in turn."""
        for path in paths:
            try:
                yield path, parse_and_chunk(path, self.limits, self.config, self._counter)
            except ParseError as exc:
                yield path, exc
            except OSError as exc:
                yield path, ParseError(f"the file cannot be read ({exc.strerror or exc})")


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
    """The parser process: ``(id, path)`` in, ``(id, ChunkedDocument | ParseError)`` out."""
    counter = token_counter(config.tokenizer_path)
    limit_memory(limits.memory_bytes)
    # Start-up time must not count against the first file's time limit.
    conn.send("ready")
    while True:
        try:
            message: Any = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        request_id, raw_path = message
        path = Path(raw_path)
        result: ChunkedDocument | ParseError
        try:
            result = parse_and_chunk(path, limits, config, counter)
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
