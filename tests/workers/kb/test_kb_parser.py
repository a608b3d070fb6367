"""Parsers: every format to text, and hostile files refused with a reason, alone."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hostile import (
    docx,
    docx_entity_bomb,
    docx_text,
    docx_zip_bomb,
    odt_entity_bomb,
    pdf_bomb,
    pdf_text,
    pdf_with_content,
    zip_with_escaping_member,
)

from desktop_app.core.kb.errors import ParseError
from desktop_app.core.kb.parse_host import ChunkConfig, ChunkedDocument
from desktop_app.core.kb.parsers import ParseLimits, parse_file
from desktop_app.workers.kb.parser import SandboxedParser


def test_text_formats(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("# Title\n\nSome *markdown* text.\n", "utf-8")
    (tmp_path / "b.html").write_text(
        "<html><head><title>t</title><style>p{color:red}</style></head><body>"
        "<h1>Heading</h1><script>alert('x')</script><p>Visible 文字</p></body></html>",
        "utf-8",
    )
    (tmp_path / "c.csv").write_text("name,city\nAda,London\n", "utf-8")
    (tmp_path / "d.json").write_text(json.dumps({"a": {"b": [1, "two"]}}), "utf-8")
    (tmp_path / "e.txt").write_bytes("中文 GBK 编码".encode("gb18030"))
    md = parse_file(tmp_path / "a.md")
    assert md.type == "md" and md.blocks[0].heading
    html = parse_file(tmp_path / "b.html")
    assert "Visible 文字" in html.text and "alert" not in html.text and "color" not in html.text
    assert "Ada" in parse_file(tmp_path / "c.csv").text
    assert "city: London" in parse_file(tmp_path / "c.csv").text
    assert "a.b[1]: two" in parse_file(tmp_path / "d.json").text
    assert "中文" in parse_file(tmp_path / "e.txt").text


def test_office_formats(tmp_path: Path) -> None:
    import docx as python_docx
    from pptx import Presentation

    d = python_docx.Document()
    d.add_heading("Chapter", level=1)
    d.add_paragraph("Body text in Word.")
    d.save(str(tmp_path / "w.docx"))
    doc = parse_file(tmp_path / "w.docx")
    assert "Body text in Word." in doc.text and doc.blocks[0].heading

    deck = Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[1])
    slide.shapes.title.text = "Slide title"
    slide.placeholders[1].text = "Slide body"
    deck.save(str(tmp_path / "p.pptx"))
    pres = parse_file(tmp_path / "p.pptx")
    assert "Slide body" in pres.text and pres.blocks[0].page == 1


def test_pdf_text_layer_and_scanned_pdf(tmp_path: Path) -> None:
    doc = parse_file(pdf_text(tmp_path / "t.pdf", "Hello PDF"))
    assert "Hello PDF" in doc.text and doc.blocks[0].page == 1
    scanned = pdf_with_content(tmp_path / "s.pdf", b"0 0 10 10 re f")
    with pytest.raises(ParseError, match="no text layer and OCR found no text"):
        parse_file(scanned)


def test_pdf_decompression_bomb_is_refused(tmp_path: Path) -> None:
    bomb = pdf_bomb(tmp_path / "bomb.pdf", megabytes=200)
    assert bomb.stat().st_size < 1_000_000
    with pytest.raises(ParseError, match="decompression bomb"):
        parse_file(bomb)


def test_pdf_stream_limit_refuses_a_text_stream_pypdf_would_read(tmp_path: Path) -> None:
    # 1.1 MiB of text operators: far under pypdf's own 75 MB limit, over this one.
    bomb = pdf_bomb(tmp_path / "over.pdf", megabytes=1, kib=100)
    with pytest.raises(ParseError, match="expands beyond 1 MiB"):
        parse_file(bomb, ParseLimits(max_pdf_stream_bytes=1 << 20))
    under = pdf_bomb(tmp_path / "under.pdf", megabytes=0, kib=64)
    assert "bomb text" in parse_file(under, ParseLimits(max_pdf_stream_bytes=1 << 20)).text


def test_docx_zip_bomb_is_refused_before_opening(tmp_path: Path) -> None:
    bomb = docx_zip_bomb(tmp_path / "bomb.docx", megabytes=64)
    assert bomb.stat().st_size < 200_000
    with pytest.raises(ParseError, match="zip bomb"):
        parse_file(bomb)


@pytest.mark.parametrize("maker", [docx_entity_bomb, odt_entity_bomb])
def test_xml_entity_bombs_are_refused(tmp_path: Path, maker: Callable[[Path], Path]) -> None:
    suffix = ".docx" if maker is docx_entity_bomb else ".odt"
    with pytest.raises(ParseError, match="entit"):
        parse_file(maker(tmp_path / f"lol{suffix}"))


def test_archive_member_climbing_out_with_dotdot_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match="outside"):
        parse_file(zip_with_escaping_member(tmp_path / "evil.docx"))
    assert not (tmp_path.parent / "evil.xml").exists()


def test_a_plain_docx_still_parses(tmp_path: Path) -> None:
    assert "hello" in parse_file(docx(tmp_path / "ok.docx", docx_text(["hello"]))).text


def test_size_limit_and_unsupported_type(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_text("x" * 2000, "utf-8")
    with pytest.raises(ParseError, match="above the limit"):
        parse_file(big, ParseLimits(max_file_bytes=1000))
    (tmp_path / "a.exe").write_bytes(b"MZ")
    with pytest.raises(ParseError, match="not supported"):
        parse_file(tmp_path / "a.exe")


def test_sandboxed_parser_fails_a_slow_file_alone_and_goes_on(tmp_path: Path) -> None:
    slow = tmp_path / "slow.txt"
    slow.write_text(("word " * 200 + "\n\n") * 8000, "utf-8")  # seconds of chunking
    bomb = docx_zip_bomb(tmp_path / "bomb.docx", megabytes=16)
    fine = tmp_path / "fine.txt"
    fine.write_text("A small file that parses at once.", "utf-8")
    start = time.monotonic()
    with SandboxedParser(ParseLimits(timeout_s=0.3), ChunkConfig()) as parser:
        results = dict(parser.parse_many([slow, bomb, fine]))
        assert parser.restarts >= 1
    assert time.monotonic() - start < 30
    assert isinstance(results[slow], ParseError) and "longer" in str(results[slow])
    assert isinstance(results[bomb], ParseError) and "zip bomb" in str(results[bomb])
    assert isinstance(results[fine], ChunkedDocument)
