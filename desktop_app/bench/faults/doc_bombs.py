"""``doc-bombs``: a document bomb of every supported format, fed to the real parser process.

For each format the check builds bombs (zip bombs whose members carry text, members
that lie about their size, archives with too many members or many small inflating
ones, XML entity bombs, deeply nested markup, PDF streams that inflate hundreds of
times, text files over the text limit, one huge line, millions of JSON values …) and
feeds them to :class:`SandboxedParser` with the default limits, one after another,
each followed by a good document. A bomb must be refused within 2 s while the
parser process stays under 256 MB resident (its peak, ``VmHWM``, reset before each
file); every good document after a bomb must parse: the queue goes on.

The builders are plain functions of a path, so tests can build the same files.
``--quick`` builds the same bombs with 64 MiB instead of 256 MiB behind each zip and
PDF bomb (16 MiB instead of 64 MiB of JSON values).
"""

from __future__ import annotations

import json
import resource
import struct
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from desktop_app.bench.faults import FaultContext, FaultRow, describe
from desktop_app.core.kb.errors import ParseError
from desktop_app.core.kb.parse_host import ChunkConfig, ChunkedDocument
from desktop_app.core.kb.parsers import ParseLimits
from desktop_app.workers.kb.parser import SandboxedParser

GOAL_S = 2.0
GOAL_RSS_MB = 256.0
MIB = 1 << 20

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_P = "http://schemas.openxmlformats.org/presentationml/2006/main"
_A = "http://schemas.openxmlformats.org/drawingml/2006/main"
_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
_XHTML = "http://www.w3.org/1999/xhtml"

BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + "".join(
        f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'
        for i in range(1, 10)
    )
    + "]>\n"
)

#: A member body: bytes, or a repeated unit and how many bytes of it to write.
Body = bytes | tuple[bytes, int]


# --- archives ---------------------------------------------------------------------------


def write_zip(path: Path, members: dict[str, Body], *, stored: tuple[str, ...] = ()) -> Path:
    """A zip whose members are written in pieces: a bomb never sits whole in memory."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, body in members.items():
            kind = zipfile.ZIP_STORED if name in stored else zipfile.ZIP_DEFLATED
            if isinstance(body, bytes):
                zf.writestr(name, body, compress_type=kind)
                continue
            unit, size = body
            block = unit * max(1, MIB // len(unit))
            info = zipfile.ZipInfo(name)
            info.compress_type = kind
            info._compresslevel = 9  # type: ignore[attr-defined]
            with zf.open(info, "w", force_zip64=size > 1 << 31) as fh:
                left = size
                while left > 0:
                    piece = block[:left]
                    fh.write(piece)
                    left -= len(piece)
    return path


_DOCX_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.wordprocessingml.document.main+xml"/></Types>'
)
_DOCX_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{_R}/officeDocument" Target="word/document.xml"/>'
    "</Relationships>"
)


def docx_members(body: Body) -> dict[str, Body]:
    """The parts of a DOCX whose document.xml is ``body``."""
    return {"[Content_Types].xml": _DOCX_TYPES.encode(), "_rels/.rels": _DOCX_RELS.encode(),
            "word/document.xml": body}  # fmt: skip


def docx_xml(paragraphs: str) -> tuple[bytes, bytes]:
    """document.xml split around its body: (head, tail)."""
    head = f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{_W}"><w:body>'
    return head.encode() + paragraphs.encode(), b"</w:body></w:document>"


def good_docx(path: Path, text: str) -> Path:
    """A small Word document holding ``text``."""
    head, tail = docx_xml(f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>")
    return write_zip(path, docx_members(head + tail))


def good_pptx(path: Path, text: str) -> Path:
    """A small PowerPoint deck, one slide holding ``text`` (made by python-pptx)."""
    from pptx import Presentation

    deck = Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[1])
    slide.shapes.title.text = "Slide"
    slide.placeholders[1].text = text
    deck.save(str(path))
    return path


def pptx_with_slide(path: Path, slide_xml: Body, extra: dict[str, Body] | None = None) -> Path:
    """A copy of a good deck whose first slide's XML is replaced by ``slide_xml``."""
    good = good_pptx(path.with_name(path.stem + ".base.pptx"), "base")
    members: dict[str, Body] = {}
    with zipfile.ZipFile(good) as zf:
        for info in zf.infolist():
            members[info.filename] = zf.read(info)
    good.unlink()
    members["ppt/slides/slide1.xml"] = slide_xml
    members.update(extra or {})
    return write_zip(path, members)


def slide_xml(runs: str) -> tuple[bytes, bytes]:
    """A slide with one text box: (head, tail) around its runs."""
    head = (
        f'<?xml version="1.0" encoding="UTF-8"?><p:sld xmlns:p="{_P}" xmlns:a="{_A}" '
        f'xmlns:r="{_R}"><p:cSld><p:spTree><p:nvGrpSpPr><p:cNvPr id="1" name=""/>'
        "<p:cNvGrpSpPr/><p:nvPr/></p:nvGrpSpPr><p:grpSpPr/><p:sp><p:nvSpPr>"
        '<p:cNvPr id="2" name="Text"/><p:cNvSpPr txBox="1"/><p:nvPr/></p:nvSpPr><p:spPr/>'
        "<p:txBody><a:bodyPr/><a:p>"
    )
    return (head + runs).encode(), b"</a:p></p:txBody></p:sp></p:spTree></p:cSld></p:sld>"


def odt_members(content: Body) -> dict[str, Body]:
    """The parts of an ODT whose content.xml is ``content``."""
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest='
        '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type='
        '"application/vnd.oasis.opendocument.text"/><manifest:file-entry manifest:full-path='
        '"content.xml" manifest:media-type="text/xml"/></manifest:manifest>'
    )
    return {"mimetype": b"application/vnd.oasis.opendocument.text",
            "META-INF/manifest.xml": manifest.encode(), "content.xml": content}  # fmt: skip


def odt_xml(paragraphs: str) -> tuple[bytes, bytes]:
    """content.xml split around its text: (head, tail)."""
    head = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        f'xmlns:office="{_OFFICE}" xmlns:text="{_TEXT}" office:version="1.2">'
        "<office:body><office:text>"
    )
    return (head + paragraphs).encode(), b"</office:text></office:body></office:document-content>"


def good_odt(path: Path, text: str) -> Path:
    """A small OpenDocument text holding ``text``."""
    head, tail = odt_xml(f"<text:p>{text}</text:p>")
    return write_zip(path, odt_members(head + tail), stored=("mimetype",))


def epub_members(chapters: dict[str, Body]) -> dict[str, Body]:
    """An EPUB 3 whose spine reads ``chapters`` (file name → XHTML) in the given order."""
    manifest = "".join(
        f'<item id="c{i}" href="{name}" media-type="application/xhtml+xml"/>'
        for i, name in enumerate(chapters)
    )
    spine = "".join(f'<itemref idref="c{i}"/>' for i in range(len(chapters)))
    opf = (
        '<?xml version="1.0" encoding="UTF-8"?><package xmlns="http://www.idpf.org/2007/opf" '
        'version="3.0" unique-identifier="id"><metadata xmlns:dc="http://purl.org/dc/elements/'
        '1.1/"><dc:identifier id="id">urn:uuid:0</dc:identifier><dc:title>Book</dc:title>'
        "<dc:language>en</dc:language></metadata>"
        f"<manifest>{manifest}</manifest><spine>{spine}</spine></package>"
    )
    container = (
        '<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:'
        'xmlns:container"><rootfiles><rootfile full-path="OEBPS/content.opf" '
        'media-type="application/oebps-package+xml"/></rootfiles></container>'
    )
    members: dict[str, Body] = {
        "mimetype": b"application/epub+zip",
        "META-INF/container.xml": container.encode(),
        "OEBPS/content.opf": opf.encode(),
    }
    members.update({f"OEBPS/{name}": body for name, body in chapters.items()})
    return members


def xhtml(body: str) -> tuple[bytes, bytes]:
    """A chapter split around its body: (head, tail)."""
    head = (
        f'<?xml version="1.0" encoding="UTF-8"?><html xmlns="{_XHTML}"><head><title>c</title>'
        f"</head><body>{body}"
    )
    return head.encode(), b"</body></html>"


def write_epub(path: Path, chapters: dict[str, Body]) -> Path:
    """An EPUB file of ``chapters`` (the mimetype stored first, as the format asks)."""
    return write_zip(path, epub_members(chapters), stored=("mimetype",))


def good_epub(path: Path, text: str) -> Path:
    """A small EPUB holding ``text``."""
    head, tail = xhtml(f"<p>{text}</p>")
    return write_epub(path, {"c1.xhtml": head + tail})


def zip_bomb(path: Path, kind: str, megabytes: int = 256) -> Path:
    """A document of ``kind`` whose main text part inflates to ``megabytes`` MiB of text."""
    size = megabytes * MIB
    if kind == "docx":
        head, tail = docx_xml("")
        unit = b"<w:p><w:r><w:t>bomb text </w:t></w:r></w:p>"
        return _zip_with_giant(path, docx_members(b""), "word/document.xml", head, unit, tail, size)
    if kind == "pptx":
        head, tail = slide_xml("")
        unit = b"<a:r><a:t>bomb text </a:t></a:r>"
        good = pptx_with_slide(path.with_name(path.stem + ".tmp.pptx"), head + tail)
        with zipfile.ZipFile(good) as zf:
            members: dict[str, Body] = {i.filename: zf.read(i) for i in zf.infolist()}
        good.unlink()
        return _zip_with_giant(path, members, "ppt/slides/slide1.xml", head, unit, tail, size)
    if kind == "odt":
        head, tail = odt_xml("")
        unit = b"<text:p>bomb text</text:p>"
        return _zip_with_giant(path, odt_members(b""), "content.xml", head, unit, tail, size)
    if kind == "epub":
        head, tail = xhtml("")
        unit = b"<p>bomb text</p>"
        members = epub_members({"c1.xhtml": b""})
        return _zip_with_giant(path, members, "OEBPS/c1.xhtml", head, unit, tail, size)
    raise ValueError(kind)


def _zip_with_giant(
    path: Path,
    members: dict[str, Body],
    name: str,
    head: bytes,
    unit: bytes,
    tail: bytes,
    size: int,
) -> Path:
    block = unit * max(1, MIB // len(unit))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for member, body in members.items():
            if member == name:
                continue
            kind = zipfile.ZIP_STORED if member == "mimetype" else zipfile.ZIP_DEFLATED
            assert isinstance(body, bytes)
            zf.writestr(member, body, compress_type=kind)
        info = zipfile.ZipInfo(name)
        info.compress_type = zipfile.ZIP_DEFLATED
        info._compresslevel = 9  # type: ignore[attr-defined]  # as writestr does
        with zf.open(info, "w", force_zip64=size > 1 << 31) as fh:
            fh.write(head)
            written = len(head)
            while written < size:
                fh.write(block)
                written += len(block)
            fh.write(tail)
    return path


_MAIN_PART = {"docx": "word/document.xml", "pptx": "ppt/slides/slide1.xml",
              "odt": "content.xml", "epub": "OEBPS/c1.xhtml"}  # fmt: skip


def lying_bomb(path: Path, kind: str, megabytes: int = 64) -> Path:
    """A zip bomb of ``kind`` whose main part declares 1,000 bytes in the central directory."""
    zip_bomb(path, kind, megabytes)
    data = bytearray(path.read_bytes())
    name = _MAIN_PART[kind].encode()
    entry = data.rfind(name) - 46  # the central directory, after every member's data
    if data[entry : entry + 4] != b"PK\x01\x02":
        raise ValueError("central directory entry not found")
    data[entry + 24 : entry + 28] = (1000).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    return path


def many_members(path: Path, kind: str, count: int = 20_000) -> Path:
    """A good document of ``kind`` with ``count`` tiny extra members (a zip of members)."""
    good = {"docx": good_docx, "pptx": good_pptx, "odt": good_odt, "epub": good_epub}[kind]
    base = good(path.with_name(path.stem + ".base." + kind), "many members")
    with zipfile.ZipFile(base) as zf:
        members: dict[str, Body] = {i.filename: zf.read(i) for i in zf.infolist()}
    base.unlink()
    for i in range(count):
        members[f"extra/{i}.txt"] = b"x"
    return write_zip(path, members, stored=("mimetype",))


def small_members_bomb(path: Path, count: int = 400) -> Path:
    """An EPUB of ``count`` chapters of 1 MiB of text each (each under the member check)."""
    head, tail = xhtml("")
    unit = b"<p>bomb text</p>"
    body = head + unit * ((MIB - len(head) - len(tail)) // len(unit)) + tail
    return write_epub(path, {f"c{i}.xhtml": body for i in range(count)})


def entity_bomb(path: Path, kind: str) -> Path:
    """Billion laughs in the main XML part of ``kind``."""
    if kind == "docx":
        body = BILLION_LAUGHS + f'<w:document xmlns:w="{_W}"><w:body><w:p><w:r><w:t>&lol9;'
        return write_zip(
            path, docx_members((body + "</w:t></w:r></w:p></w:body></w:document>").encode())
        )
    if kind == "pptx":
        head, tail = slide_xml("<a:r><a:t>&lol9;</a:t></a:r>")
        xml = head.replace(b"?>", b"?>" + BILLION_LAUGHS.split("?>", 1)[1].encode(), 1)
        return pptx_with_slide(path, xml + tail)
    if kind == "odt":
        head, tail = odt_xml("<text:p>&lol9;</text:p>")
        xml = head.replace(b"?>", b"?>" + BILLION_LAUGHS.split("?>", 1)[1].encode(), 1)
        return write_zip(path, odt_members(xml + tail), stored=("mimetype",))
    if kind == "epub":
        head, tail = xhtml("<p>&lol9;</p>")
        xml = head.replace(b"?>", b"?>" + BILLION_LAUGHS.split("?>", 1)[1].encode(), 1)
        return write_epub(path, {"c1.xhtml": xml + tail})
    raise ValueError(kind)


def nested_xml(path: Path, kind: str, depth: int = 20_000) -> Path:
    """The main XML part of ``kind`` nested ``depth`` elements deep."""
    if kind == "docx":
        head, tail = docx_xml("<w:p><w:r><w:t>deep</w:t></w:r></w:p>")
        inner = b"<w:sdt><w:sdtContent>" * depth + b"</w:sdtContent></w:sdt>" * depth
        return write_zip(path, docx_members(head + inner + tail))
    if kind == "odt":
        head, tail = odt_xml("")
        inner = b"<text:section>" * depth + b"deep" + b"</text:section>" * depth
        return write_zip(path, odt_members(head + inner + tail), stored=("mimetype",))
    if kind == "epub":
        head, tail = xhtml("")
        inner = b"<div>" * depth + b"deep" + b"</div>" * depth
        return write_epub(path, {"c1.xhtml": head + inner + tail})
    if kind == "pptx":
        head, tail = slide_xml("<a:r><a:t>deep</a:t></a:r>")
        inner = b"<a:r>" * depth + b"</a:r>" * depth
        return pptx_with_slide(path, head + inner + tail)
    raise ValueError(kind)


# --- PDF --------------------------------------------------------------------------------


def pdf_file(path: Path, contents: list[bytes], *, compress: bool = True) -> Path:
    """A one-page PDF whose page has these content streams (Flate-compressed by default)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    refs = []
    for data in contents:
        filt = b" /Filter /FlateDecode" if compress else b""
        objects.append(b"<< /Length %d%s >>\nstream\n" % (len(data), filt) + data + b"\nendstream")
        refs.append(f"{len(objects)} 0 R")
    objects[2] = (
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] "
        f"/Contents [{' '.join(refs)}] /Resources << /Font << /F1 4 0 R >> >> >>"
    ).encode()
    path.write_bytes(pdf_bytes(objects))
    return path


def pdf_bytes(objects: list[bytes]) -> bytes:
    """A PDF file of these objects (numbered from 1, the catalog first), with its xref."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    ).encode()
    return bytes(out)


PDF_TEXT_OP = b"BT /F1 12 Tf 20 100 Td (bomb text) Tj ET\n"


def inflating(unit: bytes, size: int) -> bytes:
    """A zlib stream of ``unit`` repeated to ``size`` bytes (built without holding them)."""
    comp = zlib.compressobj(9)
    block = unit * max(1, MIB // len(unit))
    parts = [comp.compress(block) for _ in range(max(1, size // len(block)))]
    return b"".join(parts) + comp.flush()


def pdf_text_bomb(path: Path, megabytes: int = 256, streams: int = 1) -> Path:
    """A PDF page whose content (text operators) inflates to ``megabytes`` MiB."""
    data = inflating(PDF_TEXT_OP, megabytes * MIB // streams)
    return pdf_file(path, [data] * streams)


def good_pdf(path: Path, text: str) -> Path:
    """A one-page PDF with a text layer."""
    return pdf_file(path, [zlib.compress(f"BT /F1 12 Tf 20 100 Td ({text}) Tj ET".encode())])


# --- text formats -----------------------------------------------------------------------


def repeated_file(path: Path, unit: bytes, size: int, head: bytes = b"", tail: bytes = b"") -> Path:
    """``head``, ``unit`` repeated to ``size`` bytes, ``tail`` — written in pieces."""
    block = unit * max(1, MIB // len(unit))
    with path.open("wb") as fh:
        fh.write(head)
        written = 0
        while written < size:
            fh.write(block)
            written += len(block)
        fh.write(tail)
    return path


def png_declaring(path: Path, width: int, height: int) -> Path:
    """A grey PNG whose header declares ``width`` × ``height`` pixels, in a few bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 4096, 9)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )
    return path


def tiff_pages(path: Path, pages: int) -> Path:
    """A TIFF of ``pages`` tiny blank pages (OCR would read each one)."""
    from PIL import Image

    frame = Image.new("L", (32, 32), 255)
    frame.save(path, save_all=True, append_images=[frame] * (pages - 1))
    return path


@dataclass(frozen=True, slots=True)
class Bomb:
    """One hostile file: its name and how to build it in a folder."""

    name: str
    build: Callable[[Path], Path]
    #: False for markup that is harmless once read in one linear pass (deep HTML):
    #: it must then be read within the same time and memory goals instead.
    refuse: bool = True


def _named(name: str, make: Callable[..., Path], *args: object) -> Callable[[Path], Path]:
    """A builder of the file ``name`` in the folder it is given."""
    return lambda folder: make(folder / name, *args)


def bombs(limits: ParseLimits, megabytes: int = 256) -> list[Bomb]:
    """Every bomb, for every supported format; zip and PDF bombs inflate to ``megabytes``."""
    over = limits.max_text_chars + MIB
    members = limits.max_zip_members + 1
    json_mib = max(16, megabytes // 4)
    out = [
        Bomb("txt: one line over the text limit",
             lambda d: repeated_file(d / "line.txt", b"a", over)),
        Bomb("txt: 4x the text limit in bytes",
             lambda d: repeated_file(d / "huge.txt", b"word ", 4 * limits.max_text_chars + MIB)),
        Bomb("txt: Chinese text just under 4x the text limit in bytes",
             lambda d: repeated_file(
                 d / "chinese.txt", "汉字".encode(), 4 * limits.max_text_chars - MIB)),
        Bomb("md: heading line over the text limit",
             lambda d: repeated_file(d / "line.md", b"#", over)),
        Bomb("html: visible text over the text limit",
             lambda d: repeated_file(d / "big.html", b"<p>bomb</p>", over)),
        Bomb("html: nested 200,000 elements deep",
             lambda d: repeated_file(d / "deep.html", b"<div>", 200_000 * 5, tail=b"deep"),
             refuse=False),
        Bomb("csv: rows over the text limit",
             lambda d: repeated_file(d / "rows.csv", b"a,b\n", over, head=b"x,y\n")),
        Bomb("csv: one field of 8 MiB",
             lambda d: repeated_file(d / "field.csv", b"a", 8 * MIB, head=b"x,y\n1,")),
        Bomb("json: nested 1,000,000 lists deep",
             lambda d: repeated_file(d / "deep.json", b"[", 1_000_000)),
        Bomb(f"json: {json_mib // 2} million tiny values",
             lambda d: repeated_file(
                 d / "tiny.json", b"0,", json_mib * MIB, head=b"[", tail=b"0]")),
        Bomb("json: one string over the text limit",
             lambda d: repeated_file(d / "big.json", b"a", over, head=b'["', tail=b'"]')),
        Bomb(f"pdf: text stream inflating to {megabytes} MiB",
             lambda d: pdf_text_bomb(d / "flate.pdf", megabytes)),
        Bomb("pdf: text stream just over the stream limit",
             lambda d: pdf_text_bomb(
                 d / "over.pdf", limits.max_pdf_stream_bytes // MIB + 1)),
        Bomb("pdf: 64 streams of 2 MiB of text on one page",
             lambda d: pdf_text_bomb(d / "many.pdf", 128, streams=64)),
        Bomb("epub: 400 chapters of 1 MiB",
             lambda d: small_members_bomb(d / "chapters.epub", 400)),
        Bomb("png: declares 60,000 x 60,000 pixels (3.6 GB decoded)",
             lambda d: png_declaring(d / "bomb.png", 60_000, 60_000)),
        Bomb("png: declares just over the OCR pixel limit",
             lambda d: png_declaring(
                 d / "over.png", 10_000, limits.max_image_pixels // 10_000 + 1)),
        Bomb(f"tiff: {limits.max_ocr_pages + 1} pages to read by OCR",
             lambda d: tiff_pages(d / "pages.tiff", limits.max_ocr_pages + 1)),
    ]  # fmt: skip
    for kind in ("docx", "pptx", "odt", "epub"):
        out += [
            Bomb(f"{kind}: text part inflating to {megabytes} MiB",
                 _named(f"bomb.{kind}", zip_bomb, kind, megabytes)),
            Bomb(f"{kind}: {members:,} members",
                 _named(f"many.{kind}", many_members, kind, members)),
            Bomb(f"{kind}: text part declaring 1 KB, inflating to {megabytes} MiB",
                 _named(f"liar.{kind}", lying_bomb, kind, megabytes)),
            Bomb(f"{kind}: XML entity bomb", _named(f"lol.{kind}", entity_bomb, kind)),
            Bomb(f"{kind}: XML nested 20,000 elements deep",
                 _named(f"deep.{kind}", nested_xml, kind)),
        ]  # fmt: skip
    return out


GOOD: dict[str, Callable[[Path, str], Path]] = {
    "txt": lambda p, t: _write(p, t), "md": lambda p, t: _write(p, f"# Note\n\n{t}\n"),
    "html": lambda p, t: _write(p, f"<html><body><p>{t}</p></body></html>"),
    "csv": lambda p, t: _write(p, f"word,note\n1,{t}\n"),
    "json": lambda p, t: _write(p, json.dumps({"note": t})),
    "pdf": good_pdf, "docx": good_docx, "pptx": good_pptx, "odt": good_odt, "epub": good_epub,
}  # fmt: skip


def _write(path: Path, text: str) -> Path:
    path.write_text(text, "utf-8")
    return path


# --- measuring --------------------------------------------------------------------------


def _status_mb(pid: int, key: str) -> float | None:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1000
    except (OSError, ValueError, IndexError):
        return None
    return None


def _reset_peak(pid: int) -> None:
    """Reset a process's peak resident size (``VmHWM``), so the next file's peak is its own."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
    except OSError:
        pass


def _children_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1000


@dataclass(slots=True)
class Outcome:
    """What became of one file in the queue."""

    path: Path
    result: ChunkedDocument | ParseError
    seconds: float
    peak_mb: float | None


def feed(parser: SandboxedParser, paths: list[Path]) -> Iterator[Outcome]:
    """Parse ``paths`` one at a time, timing each and reading the parser's peak for it."""
    outcomes = parser.parse_many(paths)
    children_before = _children_peak_mb()
    while True:
        proc = parser._proc
        pid = proc.pid if proc is not None else None
        if pid is not None:
            _reset_peak(pid)
        start = time.perf_counter()
        try:
            path, result = next(outcomes)
        except StopIteration:
            return
        seconds = time.perf_counter() - start
        proc = parser._proc
        peak = _status_mb(proc.pid, "VmHWM") if proc is not None and proc.pid == pid else None
        if peak is None:
            # The process that parsed it is gone: its peak is in the children's maximum.
            after = _children_peak_mb()
            peak = after if after > children_before else None
            children_before = after
        yield Outcome(path, result, seconds, peak)


def run(ctx: FaultContext) -> FaultRow:
    """Build every bomb, feed each with a good document after it, measure each refusal."""
    # The default limits, but a hung parse costs the run 20 s, not the default 120 s.
    limits = ParseLimits(timeout_s=20.0)
    all_bombs = bombs(limits, megabytes=256 if not ctx.quick else 64)
    folder = ctx.workdir
    marker = "zephyrine quokka"
    goods = list(GOOD.items())
    # A good document first: the parser process is started (and measured) from then on.
    queue = [GOOD["txt"](folder / "first.txt", marker)]
    kinds: dict[Path, Bomb] = {}
    for i, bomb in enumerate(all_bombs):
        where = folder / f"b{i}"
        where.mkdir()
        path = bomb.build(where)
        kinds[path] = bomb
        fmt, make = goods[i % len(goods)]
        queue += [path, make(where / f"good.{fmt}", f"{marker} {i}")]
    ctx.log(f"[faults] doc-bombs: {len(kinds)} bombs built, feeding them to the parser")
    failures: list[str] = []
    refused = read = good_ok = good_total = unread_peaks = 0
    slowest = peak_mb = 0.0
    failed_bombs: set[Path] = set()
    last_bomb: Path | None = None
    with SandboxedParser(limits, ChunkConfig(), prefetch=1) as parser:
        for out in feed(parser, queue):
            found = kinds.get(out.path)
            if found is None:
                good_total += 1
                if isinstance(out.result, ChunkedDocument):
                    good_ok += 1
                else:
                    failures.append(f"the good {out.path.name} after a bomb failed: {out.result}")
                    if last_bomb is not None:
                        failed_bombs.add(last_bomb)
                continue
            bomb, last_bomb = found, out.path
            slowest = max(slowest, out.seconds)
            if out.peak_mb is None:
                unread_peaks += 1
            else:
                peak_mb = max(peak_mb, out.peak_mb)
            why = []
            if isinstance(out.result, ParseError):
                refused += 1
                if not bomb.refuse:
                    why.append("refused though it can be read")
            elif bomb.refuse:
                why.append(f"parsed ({out.result.text_chars:,} characters)")
            else:
                read += 1
            if out.seconds > GOAL_S:
                why.append(f"took {out.seconds:.1f} s")
            if out.peak_mb is not None and out.peak_mb > GOAL_RSS_MB:
                why.append(f"peak RSS {out.peak_mb:.0f} MB")
            said = str(out.result) if isinstance(out.result, ParseError) else "read"
            if why:
                failures.append(f"{bomb.name}: {', '.join(why)} ({said})")
                failed_bombs.add(out.path)
            ctx.log(
                f"[faults] doc-bombs: {bomb.name}: {out.seconds:.2f} s, "
                f"{out.peak_mb or 0:.0f} MB: {said}"
            )
    total = len(kinds)
    defused = f"{refused}/{total} refused" + (f", {read} read harmlessly" if read else "")
    measured = (
        f"{defused}, slowest {slowest:.1f} s, peak RSS {peak_mb:.0f} MB, "
        f"{good_ok}/{good_total} good documents parsed"
    )
    if unread_peaks:
        measured += f" ({unread_peaks} peaks unread)"
    return FaultRow(
        check="document bombs",
        runs=total,
        failed=len(failed_bombs),
        goal=f"each refused within {GOAL_S:.0f} s, RSS ≤ {GOAL_RSS_MB:.0f} MB, the queue goes on",
        measured=measured,
        details=describe(failures),
    )
