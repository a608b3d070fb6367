"""Builders of hostile and ordinary documents for the parser tests."""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

from desktop_app.bench.faults.doc_bombs import pdf_bytes

_DOCX_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.wordprocessingml.document.main+xml"/></Types>'
)
_DOCX_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="word/document.xml"/></Relationships>'
)
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"

BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + "".join(
        f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'
        for i in range(1, 10)
    )
    + "]>\n"
)


def docx(path: Path, body_xml: str, extra: dict[str, bytes] | None = None) -> Path:
    """A minimal DOCX whose document.xml is ``body_xml``."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", _DOCX_TYPES)
        zf.writestr("_rels/.rels", _DOCX_RELS)
        zf.writestr("word/document.xml", body_xml)
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return path


def docx_text(paragraphs: list[str]) -> str:
    """document.xml with plain paragraphs."""
    paras = "".join(f"<w:p><w:r><w:t>{p}</w:t></w:r></w:p>" for p in paragraphs)
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<w:document xmlns:w="{_W}"><w:body>{paras}</w:body></w:document>'
    )


def docx_entity_bomb(path: Path) -> Path:
    """Billion laughs inside word/document.xml."""
    body = BILLION_LAUGHS + f'<w:document xmlns:w="{_W}"><w:body><w:p><w:r><w:t>&lol9;</w:t>'
    return docx(path, body + "</w:r></w:p></w:body></w:document>")


def docx_zip_bomb(path: Path, megabytes: int = 64) -> Path:
    """A DOCX with a member that inflates ~1000 times (tens of MiB from tens of KiB)."""
    return docx(path, docx_text(["x"]), {"word/media/bomb.xml": b" " * (megabytes << 20)})


def odt_entity_bomb(path: Path) -> Path:
    """An ODT whose content.xml carries billion laughs."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        zf.writestr(
            "content.xml",
            BILLION_LAUGHS + '<office:document-content xmlns:office="urn:oasis:names:tc:'
            'opendocument:xmlns:office:1.0"><office:body>&lol9;</office:body>'
            "</office:document-content>",
        )
    return path


def zip_with_escaping_member(path: Path) -> Path:
    """A DOCX holding a member named ``../../evil.xml``."""
    return docx(path, docx_text(["hello"]), {"../../evil.xml": b"<x/>"})


def pdf_with_content(path: Path, content: bytes, compress: bool = False) -> Path:
    """A one-page PDF whose content stream is ``content`` (optionally Flate-compressed)."""
    data = zlib.compress(content, 9) if compress else content
    filt = b" /Filter /FlateDecode" if compress else b""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(data)}{filt.decode()} >>\nstream\n".encode() + data + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    path.write_bytes(pdf_bytes(objects))
    return path


def pdf_text(path: Path, text: str) -> Path:
    """A PDF with a real text layer."""
    return pdf_with_content(path, f"BT /F1 12 Tf 20 100 Td ({text}) Tj ET".encode())


PDF_TEXT_OPERATORS = b"BT /F1 12 Tf 20 100 Td (bomb text) Tj ET\n"


def pdf_bomb(path: Path, megabytes: int = 200, kib: int = 0) -> Path:
    """A PDF whose content stream (text operators) inflates to ``megabytes`` MiB + ``kib`` KiB.

    The stream carries text, so a parser without a decompression limit would inflate it
    and extract millions of characters instead of refusing it.
    """
    comp = zlib.compressobj(9)
    block = PDF_TEXT_OPERATORS * ((1 << 20) // len(PDF_TEXT_OPERATORS))
    data = b"".join(comp.compress(block) for _ in range(megabytes))
    data += comp.compress(PDF_TEXT_OPERATORS * ((kib << 10) // len(PDF_TEXT_OPERATORS)))
    data += comp.flush()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(data)} /Filter /FlateDecode >>\nstream\n".encode()
        + data
        + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    path.write_bytes(pdf_bytes(objects))
    return path
