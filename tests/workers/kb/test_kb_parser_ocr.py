"""OCR in the sandboxed parser process: within its memory limit, page by page, cancellable."""

from __future__ import annotations

from pathlib import Path

import pytest
from scanned_pages import PAGES, cjk_font_path, render_page

from desktop_app.core.kb.errors import ParseError
from desktop_app.core.kb.parse_host import ChunkedDocument
from desktop_app.core.kb.parsers import ParseCancelled, ParseLimits
from desktop_app.workers.kb.parser import SandboxedParser

pytestmark = pytest.mark.skipif(cjk_font_path() is None, reason="no font with Chinese glyphs")


def test_pages_are_reported_and_a_cancel_stops_the_file_but_not_the_queue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # ONNX Runtime left alone writes a device id under ~/.cache and looks up its
    # telemetry host; the parser process turns that off.
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.delenv("ORT_DISABLE_TELEMETRY", raising=False)
    first = render_page(PAGES["en_b"][:2], seed=11, dpi=100)
    second = render_page(PAGES["zh_b"][:2], seed=12, dpi=100)
    long_scan = tmp_path / "long.tiff"
    first.save(long_scan, save_all=True, append_images=[second] * 4)
    short_scan = tmp_path / "short.png"
    second.save(short_scan)
    note = tmp_path / "note.txt"
    note.write_text("Typed text after the scans.", "utf-8")
    heard: list[tuple[str, int, int]] = []

    def on_page(path: Path, done: int, total: int) -> bool:
        heard.append((path.name, done, total))
        return path == long_scan and done >= 1

    # The default limits: onnxruntime and its models fit the parser's address space.
    limits = ParseLimits()
    assert limits.memory_bytes == 2 * 1024**3
    with SandboxedParser(limits, prefetch=3) as parser:
        results = dict(parser.parse_many([long_scan, short_scan, note], on_page=on_page))
        assert parser.restarts == 0
    assert isinstance(results[long_scan], ParseCancelled)
    # The cancel goes at the first page's report and is seen at the next page's end
    # or the one after (the child reads on while the answer travels): never all five.
    long_pages = [done for name, done, total in heard if name == "long.tiff" and total == 5]
    assert long_pages[:2] == [0, 1] and max(long_pages) < 5
    short = results[short_scan]
    assert isinstance(short, ChunkedDocument), short
    assert "借阅" in short.chunks[0].text and short.chunks[0].ocr_confidence is not None
    assert ("short.png", 1, 1) in heard
    assert isinstance(results[note], ChunkedDocument)
    assert list(home.rglob("*")) == []


def test_ocr_under_a_memory_limit_too_small_fails_that_file_alone(tmp_path: Path) -> None:
    scan = tmp_path / "scan.png"
    render_page(PAGES["en_a"][:2], seed=13, dpi=100).save(scan)
    note = tmp_path / "note.txt"
    note.write_text("Still indexed.", "utf-8")
    with SandboxedParser(ParseLimits(memory_bytes=700 * 1024**2)) as parser:
        results = dict(parser.parse_many([scan, note]))
    assert isinstance(results[scan], ParseError)
    assert "memory" in str(results[scan])
    assert isinstance(results[note], ChunkedDocument)


def test_a_run_stopped_with_files_in_flight_leaves_no_reply_for_the_next(tmp_path: Path) -> None:
    # An ingestion cancelled mid-queue closes parse_many while the child still holds
    # prefetched files; their late replies used to be taken for the next run's first
    # file, which then failed as "needs more than 2048 MiB of memory".
    files = []
    for i in range(4):
        files.append(tmp_path / f"note{i}.txt")
        files[-1].write_text(f"Note number {i}.", "utf-8")
    with SandboxedParser(prefetch=3) as parser:
        run = parser.parse_many(files[:3])
        first_path, first = next(run)
        assert first_path == files[0] and isinstance(first, ChunkedDocument)
        run.close()
        [(path, result)] = list(parser.parse_many([files[3]]))
    assert path == files[3]
    assert isinstance(result, ChunkedDocument), result
    assert result.chunks[0].text == "Note number 3."
