"""The ingest report says which files it passed over, and why: unsupported, hidden,
too large, each counted apart."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from desktop_app.core.kb import parsers
from desktop_app.core.kb.knowledge_base import KnowledgeBase
from desktop_app.core.kb.parse_host import InProcessParser
from desktop_app.core.kb.parsers import ParseLimits


def _folder(root: Path) -> Path:
    site = root / "site"
    (site / "img").mkdir(parents=True)
    (site / ".git" / "objects").mkdir(parents=True)
    (site / "index.html").write_text("<p>The zephyrine tool sets quotas.</p>", "utf-8")
    (site / "notes.txt").write_text("Notes about the zephyrine tool.", "utf-8")
    for name in ("a.svg", "b.svg", "c.SVG"):
        (site / "img" / name).write_bytes(b"<svg/>")
    (site / "style.css").write_text("p { color: red }", "utf-8")
    (site / "Makefile").write_text("all:\n", "utf-8")
    (site / ".hidden.txt").write_text("a hidden note", "utf-8")
    (site / ".git" / "objects" / "x.txt").write_text("inside a hidden folder", "utf-8")
    (site / "big.txt").write_text("x" * 3000, "utf-8")
    return site


def test_the_report_counts_skipped_files_by_type_hidden_and_too_large_apart(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    site = _folder(tmp_path)
    report = kb.ingest([site], "c", InProcessParser(ParseLimits(max_file_bytes=2000)))

    assert report.indexed == 2 and not report.failed
    assert report.unsupported_by_type() == [(".svg", 3), ("", 1), (".css", 1)]
    assert sorted(Path(p).name for p in report.unsupported) == [
        "Makefile", "a.svg", "b.svg", "c.SVG", "style.css",
    ]  # fmt: skip
    # A hidden folder is one entry, marked as a folder, and its files are not looked at.
    assert sorted(report.hidden) == [str(site / ".git") + os.sep, str(site / ".hidden.txt")]
    assert [Path(p).name for p, _ in report.too_large] == ["big.txt"]
    assert "above the limit" in report.too_large[0][1]

    skipped = report.as_dict()["skipped"]
    assert isinstance(skipped, dict)
    assert skipped["unsupported"]["count"] == 5
    assert skipped["unsupported"]["by_type"] == {".svg": 3, "": 1, ".css": 1}
    assert skipped["hidden"]["count"] == 2
    assert skipped["too_large"] == [{"path": p, "reason": r} for p, r in report.too_large]


def test_a_file_named_on_its_own_of_an_unknown_type_is_skipped_not_failed(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    image = tmp_path / "logo.svg"
    image.write_bytes(b"<svg/>")
    report = kb.ingest([image], "c", InProcessParser())
    assert report.unsupported == [str(image)] and not report.failed and report.indexed == 0


def test_unsupported_follows_the_parsers_types(
    kb: KnowledgeBase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # When a type becomes readable (OCR makes images documents), it is no longer
    # reported as skipped: the report asks the parsers, it keeps no list of its own.
    site = _folder(tmp_path)
    monkeypatch.setitem(parsers.TYPES, "css", "txt")
    report = kb.ingest([site], "c", InProcessParser())
    assert ".css" not in dict(report.unsupported_by_type())
    assert report.indexed == 4  # index.html, notes.txt, big.txt and style.css
