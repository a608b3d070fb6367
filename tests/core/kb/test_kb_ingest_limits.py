"""Ingestion refuses oversized files and pipes before reading them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from desktop_app.core.kb import ingest
from desktop_app.core.kb.errors import ParseError
from desktop_app.core.kb.knowledge_base import KnowledgeBase
from desktop_app.core.kb.parse_host import InProcessParser
from desktop_app.core.kb.parsers import ParseLimits


def test_a_file_over_the_size_limit_is_refused_without_being_read(
    kb: KnowledgeBase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hashed: list[Path] = []
    real = ingest.file_sha256
    monkeypatch.setattr(ingest, "file_sha256", lambda p: hashed.append(p) or real(p))
    huge = tmp_path / "huge.txt"
    with huge.open("wb") as fh:
        fh.truncate(1 << 40)  # a sparse terabyte: hashing it would stall the queue for hours
    small = tmp_path / "small.txt"
    small.write_text("A note about the zephyrine tool.", "utf-8")

    parser = InProcessParser(ParseLimits(max_file_bytes=1 << 20))
    report = kb.ingest([huge, small], "c", parser)

    assert hashed == [small]
    assert report.indexed == 1
    assert not report.failed  # not a failure: a file passed over, said apart
    assert dict(report.too_large) == {
        str(huge): "the file is 1048576 MiB, above the limit of 1 MiB"
    }


def test_a_pipe_where_a_document_was_is_not_opened_for_reading(tmp_path: Path) -> None:
    fifo = tmp_path / "notes.txt"
    os.mkfifo(fifo)
    with pytest.raises(ParseError, match="not a regular file"):
        ingest.file_sha256(fifo)  # returns at once instead of waiting for a writer
