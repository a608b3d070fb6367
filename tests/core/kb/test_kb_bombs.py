"""Document bombs of every zip-based format, EPUB reading order, and the parser limits."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from desktop_app.bench.faults.doc_bombs import (
    lying_bomb,
    many_members,
    repeated_file,
    small_members_bomb,
    write_epub,
    xhtml,
    zip_bomb,
)
from desktop_app.core.kb.errors import ParseError
from desktop_app.core.kb.parsers import ParseLimits, parse_file


def _epub_with_manifest_out_of_order(path: Path) -> Path:
    """A real small EPUB: the manifest lists chapter two first, the spine reads one first."""
    one = xhtml("<h1>第一章 Beginning</h1><p>春眠不觉晓，处处闻啼鸟。</p><p>The first chapter.</p>")
    two = xhtml("<h1>Chapter two</h1><p>夜来风雨声，花落知多少。</p><p>The second chapter.</p>")
    opf = (
        '<?xml version="1.0" encoding="UTF-8"?><package xmlns="http://www.idpf.org/2007/opf" '
        'version="3.0" unique-identifier="id"><metadata xmlns:dc="http://purl.org/dc/elements/'
        '1.1/"><dc:identifier id="id">urn:uuid:1</dc:identifier><dc:title>诗 Poems</dc:title>'
        "<dc:language>zh</dc:language></metadata><manifest>"
        '<item id="two" href="text/two.xhtml" media-type="application/xhtml+xml"/>'
        '<item id="one" href="text/one.xhtml" media-type="application/xhtml+xml"/>'
        '</manifest><spine><itemref idref="one"/><itemref idref="two"/></spine></package>'
    )
    container = (
        '<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:'
        'xmlns:container"><rootfiles><rootfile full-path="OEBPS/book.opf" '
        'media-type="application/oebps-package+xml"/></rootfiles></container>'
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        zf.writestr("META-INF/container.xml", container)
        zf.writestr("OEBPS/book.opf", opf)
        zf.writestr("OEBPS/text/two.xhtml", b"".join(two))
        zf.writestr("OEBPS/text/one.xhtml", b"".join(one))
    return path


def test_an_epub_parses_into_its_text_in_reading_order(tmp_path: Path) -> None:
    doc = parse_file(_epub_with_manifest_out_of_order(tmp_path / "poems.epub"))
    assert doc.type == "epub"
    order = [
        "第一章 Beginning",
        "春眠不觉晓，处处闻啼鸟。",
        "The first chapter.",
        "Chapter two",
        "夜来风雨声，花落知多少。",
        "The second chapter.",
    ]
    positions = [doc.text.find(piece) for piece in order]
    assert -1 not in positions, doc.text
    assert positions == sorted(positions), doc.text
    assert [doc.text[b.start : b.end] for b in doc.blocks if b.heading] == [
        "# 第一章 Beginning",
        "# Chapter two",
    ]


@pytest.mark.parametrize("kind", ["pptx", "odt", "epub", "docx"])
def test_a_text_part_that_inflates_hundreds_of_times_is_refused(tmp_path: Path, kind: str) -> None:
    # 8 MiB of real text markup: without the ratio check each of these parses.
    bomb = zip_bomb(tmp_path / f"bomb.{kind}", kind, megabytes=8)
    assert bomb.stat().st_size < 200_000
    with pytest.raises(ParseError, match=r"expands [0-9]+ times \(zip bomb, refused\)"):
        parse_file(bomb)


@pytest.mark.parametrize("kind", ["pptx", "odt", "epub", "docx"])
def test_a_member_that_lies_about_its_size_is_refused(tmp_path: Path, kind: str) -> None:
    # Declares 1,000 bytes (no ratio to see) and inflates to 8 MiB of text.
    bomb = lying_bomb(tmp_path / f"liar.{kind}", kind, megabytes=8)
    with pytest.raises(ParseError, match="not a valid zip-based document"):
        parse_file(bomb)


def test_many_small_members_that_add_up_to_a_bomb_are_refused(tmp_path: Path) -> None:
    # 40 chapters of 1 MiB each: every member is under the one-member check.
    bomb = small_members_bomb(tmp_path / "chapters.epub", 40)
    with pytest.raises(ParseError, match=r"expand more than 100 times.*zip bomb"):
        parse_file(bomb)


@pytest.mark.parametrize("kind", ["pptx", "odt", "epub", "docx"])
def test_max_zip_members_refuses_an_archive_of_too_many_members(tmp_path: Path, kind: str) -> None:
    limits = ParseLimits(max_zip_members=120)
    bomb = many_members(tmp_path / f"many.{kind}", kind, count=150)
    with pytest.raises(ParseError, match="more than 120 members"):
        parse_file(bomb, limits)
    fine = many_members(tmp_path / f"fine.{kind}", kind, count=10)
    assert "many members" in parse_file(fine, limits).text


def test_max_text_chars_refuses_a_document_with_more_text(tmp_path: Path) -> None:
    limits = ParseLimits(max_text_chars=1000)
    (tmp_path / "fits.txt").write_text("a" * 1000, "utf-8")
    assert len(parse_file(tmp_path / "fits.txt", limits).text) == 1000
    (tmp_path / "over.txt").write_text("a" * 1001, "utf-8")
    with pytest.raises(ParseError, match="more than 1,000 characters"):
        parse_file(tmp_path / "over.txt", limits)
    head, tail = xhtml("<p>" + "word " * 300 + "</p>")
    epub = write_epub(tmp_path / "long.epub", {"c1.xhtml": head + tail})
    with pytest.raises(ParseError, match="more than 1,000 characters"):
        parse_file(epub, limits)


def test_a_text_file_far_over_the_text_limit_is_refused_without_being_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    huge = repeated_file(tmp_path / "huge.txt", b"a", 4001)
    read: list[Path] = []
    real = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        read.append(self)
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    with pytest.raises(ParseError, match="more than 1,000 characters"):
        parse_file(huge, ParseLimits(max_text_chars=1000))
    assert read == []


def test_a_csv_field_over_the_csv_field_limit_is_refused_with_a_reason(tmp_path: Path) -> None:
    path = repeated_file(tmp_path / "field.csv", b"a", 200_000, head=b"x,y\n1,")
    with pytest.raises(ParseError, match="could not be read as CSV"):
        parse_file(path)


def test_a_csv_with_only_a_header_row_still_gives_its_text(tmp_path: Path) -> None:
    (tmp_path / "h.csv").write_text("name,city\n", "utf-8")
    assert "name: name; city: city" in parse_file(tmp_path / "h.csv").text


@pytest.mark.timeout(60)
def test_html_nested_deep_is_read_in_one_pass(tmp_path: Path) -> None:
    # Inserting separators into a 50,000-deep tree took quadratic time (minutes).
    path = repeated_file(tmp_path / "deep.html", b"<div>", 50_000 * 5, tail=b"<p>deep text</p>")
    assert parse_file(path).text == "deep text"


def test_html_text_keeps_headings_and_drops_scripts_and_an_unclosed_head(tmp_path: Path) -> None:
    (tmp_path / "a.html").write_text(
        "<html><head><title>Title</title><body><h2>Heading</h2><script>x()</script>"
        "<ul><li>one</li><li>two</li></ul><p>Para &amp; more<br>next line</p></body></html>",
        "utf-8",
    )
    doc = parse_file(tmp_path / "a.html")
    assert "Title" not in doc.text and "x()" not in doc.text
    assert doc.text.startswith("# Heading")
    assert "one\ntwo" in doc.text and "Para & more\nnext line" in doc.text
    assert doc.blocks[0].heading


def test_a_json_of_more_values_than_the_text_limit_allows_is_refused_before_walking(
    tmp_path: Path,
) -> None:
    limits = ParseLimits(max_text_chars=400)  # room for 100 values
    (tmp_path / "empties.json").write_text("[" + ",".join(["[]"] * 101) + "]", "utf-8")
    with pytest.raises(ParseError, match="more than 100 values"):
        parse_file(tmp_path / "empties.json", limits)
    # 100 commas, 101 values: the count after loading refuses what the commas let by.
    (tmp_path / "nested.json").write_text("[[[]]" + ",[]" * 99 + ",[]]", "utf-8")
    with pytest.raises(ParseError, match="more than 100 values"):
        parse_file(tmp_path / "nested.json", limits)
    (tmp_path / "fits.json").write_text('{"a": [' + ",".join(["1"] * 20) + "]}", "utf-8")
    assert "a[19]: 1" in parse_file(tmp_path / "fits.json", limits).text


def test_a_json_of_millions_of_commas_is_refused_before_it_is_loaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    loaded: list[str] = []
    real = json.loads

    def loads(text: str) -> object:
        loaded.append(text)
        return real(text)

    monkeypatch.setattr(json, "loads", loads)
    limits = ParseLimits(max_text_chars=400)
    (tmp_path / "tiny.json").write_text("[" + "0," * 150 + "0]", "utf-8")
    with pytest.raises(ParseError, match="more than 100 values or commas"):
        parse_file(tmp_path / "tiny.json", limits)
    assert loaded == []
