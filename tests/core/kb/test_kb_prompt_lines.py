"""A ``#`` line of a manual (a root shell prompt) is text, not a heading, in PDF and HTML.

Manuals print commands run as root as ``# losetup -f disk.img``. Read as a Markdown
heading, such a line left every chunk (it only named the next chunks' section), so
a question about the command could never find a passage holding it.
"""

from __future__ import annotations

from pathlib import Path

from desktop_app.core.kb.chunking import chunk_document
from desktop_app.core.kb.parsers import ParseLimits, html_to_document, parse_file
from tests.hostile import pdf_with_content

_HTML = (
    "<html><body><h1>Disk images</h1><p>Attach the image to a loop device:</p>"
    "<pre># losetup -v -f partition.img\nLoop device is /dev/loop0</pre>"
    "<h2>Clocks</h2><p>Set the hardware clock:</p><pre># hwclock --utc --systohc</pre>"
    "</body></html>"
)


def test_a_root_prompt_in_html_stays_in_the_chunks_and_headings_come_from_the_markup() -> None:
    doc = html_to_document(_HTML, ParseLimits())
    chunks = chunk_document(doc)
    texts = "\n".join(c.text for c in chunks)
    assert "# losetup -v -f partition.img" in texts
    assert "# hwclock --utc --systohc" in texts
    assert [c.heading for c in chunks] == ["Disk images", "Clocks"]
    assert next(c for c in chunks if "losetup" in c.text).heading == "Disk images"


def test_a_heading_mark_in_the_page_text_makes_no_heading() -> None:
    doc = html_to_document("<p>a \ue000# b</p><p>\ue000# c</p>", ParseLimits())
    assert not any(b.heading for b in doc.blocks)
    assert "\ue000" not in doc.text


def test_an_e_book_chapter_keeps_its_headings_and_prompts() -> None:
    # parse_epub adds each chapter as parsed; html_to_document is what it parses with.
    from desktop_app.core.kb.parsers import _TextBuilder

    out = _TextBuilder(10_000)
    out.add_text("Preface text.")
    out.add_document(html_to_document(_HTML, ParseLimits()))
    doc = out.build("epub")
    chunks = chunk_document(doc)
    assert any("# losetup" in c.text for c in chunks)
    assert {c.heading for c in chunks} == {None, "Disk images", "Clocks"}
    for block in doc.blocks:
        assert doc.text[block.start : block.end].strip()


def test_a_root_prompt_on_a_pdf_page_stays_in_the_chunks(tmp_path: Path) -> None:
    content = (
        b"BT /F1 10 Tf 10 150 Td (Attach the image to a loop device:) Tj "
        b"0 -20 Td (# losetup -v -f partition.img) Tj "
        b"0 -20 Td (Loop device is /dev/loop0) Tj ET"
    )
    doc = parse_file(pdf_with_content(tmp_path / "manual.pdf", content))
    chunks = chunk_document(doc)
    assert any("losetup -v -f partition.img" in c.text for c in chunks)
    assert all(c.heading is None for c in chunks)
    assert all(c.page == 1 for c in chunks)


def test_markdown_headings_are_still_headings(tmp_path: Path) -> None:
    path = tmp_path / "notes.md"
    path.write_text("# Title\n\nBody text.\n", encoding="utf-8")
    chunks = chunk_document(parse_file(path))
    assert [(c.heading, c.text) for c in chunks] == [("Title", "Body text.")]
