"""OCR: scanned pages and images, Chinese and English, read into chunks with confidences.

The pages are rendered here (``scanned_pages``): low resolution, a 2° skew and
noise. Hostile images are refused with a reason before they are decoded.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from scanned_pages import PAGES, cjk_font_path, render_page, save_pdf

from desktop_app.core.kb.chunking import Block, ParsedDocument, chunk_document, ocr_confidence
from desktop_app.core.kb.errors import ParseError
from desktop_app.core.kb.knowledge_base import KnowledgeBase
from desktop_app.core.kb.parse_host import InProcessParser
from desktop_app.core.kb.parsers import ParseCancelled, ParseLimits, file_type, parse_file

if cjk_font_path() is None:
    if os.environ.get("CI"):
        raise RuntimeError("no font with Chinese glyphs: the test dependencies install mplfonts")
    pytest.skip("no font with Chinese glyphs (pip install mplfonts)", allow_module_level=True)


def squeezed(text: str) -> str:
    """Text without spaces: OCR of a low-resolution page sometimes drops one."""
    return "".join(text.split())


@pytest.fixture(scope="module")
def pages_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("scans")
    zh = render_page(PAGES["zh_b"], seed=1, skew_deg=2.0)
    en = render_page(PAGES["en_b"], seed=2, skew_deg=-1.5, dpi=110)
    zh.save(folder / "library.png")
    en.convert("RGB").save(folder / "bicycles.jpg", quality=70)
    yield folder


def test_chunk_confidence_is_the_mean_of_its_lines_weighted_by_length() -> None:
    spans = ((0, 10, 0.9), (12, 22, 0.5), (24, 34, 0.7))
    assert ocr_confidence(spans, 0, 22) == pytest.approx(0.7)
    assert ocr_confidence(spans, 5, 17) == pytest.approx((5 * 0.9 + 5 * 0.5) / 10)
    assert ocr_confidence(spans, 40, 50) is None
    text = "first line. second one. third line"
    ocr = chunk_document(ParsedDocument("image", text, (Block(0, 34, page=1),), spans))
    assert [c.ocr_confidence for c in ocr] == [pytest.approx(0.7)]
    typed = chunk_document(ParsedDocument("txt", text, (Block(0, 34),)))
    assert [c.ocr_confidence for c in typed] == [None]


def test_images_are_documents_and_are_read_in_chinese_and_english(pages_dir: Path) -> None:
    assert file_type(Path("scan.TIFF")) == file_type(Path("a.jpeg")) == "image"
    seen: list[tuple[int, int]] = []
    zh = parse_file(pages_dir / "library.png", progress=lambda d, t: seen.append((d, t)))
    assert seen == [(0, 1), (1, 1)]
    assert zh.type == "image"
    text = squeezed(zh.text)
    for phrase in ("星河图书馆借阅规定", "最多可以借阅八本图书", "滞纳金", "每周一闭馆"):
        assert phrase in text
    en = parse_file(pages_dir / "bicycles.jpg")
    text = squeezed(en.text).lower()
    for phrase in ("fourdollars", "helmet", "fifteendollars"):
        assert phrase in text
    chunks = chunk_document(en)
    assert chunks and all(c.page == 1 for c in chunks)
    assert all(c.ocr_confidence is not None and 0.5 <= c.ocr_confidence <= 1 for c in chunks)


def test_each_page_of_a_tiff_is_a_page_and_a_cancel_stops_between_pages(tmp_path: Path) -> None:
    one = render_page(PAGES["zh_a"][:2], seed=3, dpi=100)
    two = render_page(PAGES["en_a"][:2], seed=4, dpi=100, skew_deg=1.0)
    tiff = tmp_path / "scan.tif"
    one.save(tiff, save_all=True, append_images=[two, two], compression="tiff_lzw")
    calls: list[tuple[int, int]] = []

    def stop_after_first(_path: Path, done: int, total: int) -> bool:
        calls.append((done, total))
        return done >= 1

    [(_, cancelled)] = list(InProcessParser().parse_many([tiff], on_page=stop_after_first))
    assert isinstance(cancelled, ParseCancelled)
    assert calls == [(0, 3), (1, 3)]  # pages 2 and 3 were never read

    limited = InProcessParser(ParseLimits(max_ocr_pages=2))
    [(_, refused)] = list(limited.parse_many([tiff]))
    assert isinstance(refused, ParseError) and "at most 2 pages" in str(refused)


def _png(width: int, height: int, rows: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def test_hostile_images_are_refused_with_a_reason(tmp_path: Path) -> None:
    # It declares 60,000 × 60,000 grey pixels (3.6 GB decoded) in a file of a few bytes.
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(_png(60_000, 60_000, b"\x00" * 1000))
    with pytest.raises(ParseError, match="decompression bomb"):
        parse_file(bomb)
    # Under Pillow's own refusal (twice the limit), over the limit: refused before decoding.
    over_own_limit = tmp_path / "big.png"
    over_own_limit.write_bytes(_png(2500, 2500, b"\x00" * 1000))
    with pytest.raises(ParseError, match="the image is 2,500 × 2,500 pixels"):
        parse_file(over_own_limit, ParseLimits(max_image_pixels=4_000_000))
    disguised = tmp_path / "notes.png"
    disguised.write_text("GIF89a is not what this file says it is", "utf-8")
    with pytest.raises(ParseError, match="not a PNG, JPEG or TIFF image"):
        parse_file(disguised)
    truncated = tmp_path / "cut.jpg"
    render_page(["截断的图片"], seed=5, dpi=60).convert("RGB").save(truncated, quality=80)
    truncated.write_bytes(truncated.read_bytes()[:600])
    with pytest.raises(ParseError, match="damaged"):
        parse_file(truncated)
    icon = tmp_path / "bullet.png"
    render_page(["icon"], seed=6, dpi=60).resize((12, 12)).save(icon)
    with pytest.raises(ParseError, match="too small to hold a line of text"):
        parse_file(icon)
    blank = tmp_path / "blank.png"
    render_page([], seed=6, dpi=60, noise=0).save(blank)
    with pytest.raises(ParseError, match="OCR found no text in the image"):
        parse_file(blank)


def test_a_pdf_page_image_declaring_too_many_pixels_is_refused_before_decoding(
    tmp_path: Path,
) -> None:
    pdf = save_pdf([render_page(["Page"], seed=7, dpi=130)], tmp_path / "scan.pdf", dpi=130)
    data = pdf.read_bytes()
    assert b"/Width 1075" in data and b"/Height 1519" in data
    # The declared size only (same length, the offsets hold): 10,000 × 10,000 pixels.
    pdf.write_bytes(
        data.replace(b"/Width 1075", b"/Width 9999").replace(b"/Height 1519", b"/Height 9999")
    )
    with pytest.raises(ParseError, match="the image on page 1 is 9,999 × 9,999 pixels"):
        parse_file(pdf)


def test_a_scanned_pdf_is_ingested_searchable_and_marked_as_read_by_ocr(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    save_pdf(
        [render_page(PAGES["zh_a"], seed=8), render_page(PAGES["en_a"], seed=9, skew_deg=-2.5)],
        folder / "scan.pdf",
    )
    (folder / "typed.txt").write_text("A typed note about the tide tables.", "utf-8")
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    (folder / "bomb.png").write_bytes(_png(60_000, 60_000, b"\x00" * 1000))
    pages: list[tuple[int | None, int | None]] = []
    report = kb.ingest(
        [folder], "scans", InProcessParser(), progress=lambda p: pages.append((p.page, p.pages))
    )
    assert report.indexed == 2
    failed = {Path(p).name: r for p, r in report.failed}
    assert failed.keys() == {"broken.png", "bomb.png"}
    assert failed["broken.png"] == (
        "the file is not a PNG, JPEG or TIFF image that can be read "
        "(its content does not match its name, or it is damaged)"
    )
    assert "decompression bomb" in failed["bomb.png"]
    assert (0, 2) in pages and (2, 2) in pages
    hits = kb.search("水库汛期禁止游泳", "scans", k=3, record=False)
    assert hits and hits[0].chunk.path.endswith("scan.pdf") and hits[0].chunk.page == 1
    assert hits[0].chunk.ocr_confidence is not None and hits[0].chunk.ocr_confidence > 0.8
    hits = kb.search("Where do the lantern boats leave from?", "scans", k=3, record=False)
    assert any(h.chunk.page == 2 and "Pier" in h.chunk.text for h in hits)
    typed = kb.search("tide tables", "scans", k=1, record=False)
    assert typed[0].chunk.path.endswith("typed.txt") and typed[0].chunk.ocr_confidence is None


def test_a_pdf_scan_of_more_than_pypdfs_default_image_buffer_is_read(tmp_path: Path) -> None:
    # 4,135 × 5,845 colour pixels at 500 dpi: 97 MB as pypdf decodes it, over the
    # 75 MB it allows by default (a 600 dpi A4 scan is 139 MB).
    page = render_page(PAGES["en_b"][:2], seed=14, dpi=500, noise=0)
    doc = parse_file(save_pdf([page], tmp_path / "scan.pdf", dpi=500))
    assert "four dollars" in doc.text and doc.ocr_spans
