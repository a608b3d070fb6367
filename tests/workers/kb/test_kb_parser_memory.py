"""The parser process's memory limit: a file that needs more fails alone, with a reason."""

from __future__ import annotations

import re
from pathlib import Path

from desktop_app.bench.faults.doc_bombs import repeated_file
from desktop_app.core.kb.errors import ParseError
from desktop_app.core.kb.parse_host import ChunkConfig, ChunkedDocument
from desktop_app.core.kb.parsers import ParseLimits
from desktop_app.workers.kb.parser import SandboxedParser

MIB = 1 << 20


def _vm_peak_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmPeak:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmPeak")


def test_a_file_beyond_the_memory_limit_fails_alone_and_the_next_one_parses(
    tmp_path: Path,
) -> None:
    small = tmp_path / "small.txt"
    small.write_text("A small note about the zephyrine quokka.", "utf-8")
    # How much address space the parser process uses for a small text file.
    with SandboxedParser(config=ChunkConfig()) as probe:
        assert isinstance(dict(probe.parse_many([small]))[small], ChunkedDocument)
        assert probe._proc is not None
        peak = _vm_peak_bytes(probe._proc.pid)
    # Reading and decoding 48 MiB of text needs ~96 MiB more; the limit leaves 64 MiB.
    big = repeated_file(tmp_path / "big.txt", b"word ", 48 * MIB)
    limits = ParseLimits(memory_bytes=peak + 64 * MIB, max_text_chars=100_000_000)
    with SandboxedParser(limits, ChunkConfig()) as parser:
        results = dict(parser.parse_many([big, small]))
    assert isinstance(results[big], ParseError)
    assert re.search(r"needs more (memory|than \d+ MiB of memory)", str(results[big]))
    assert isinstance(results[small], ChunkedDocument)
