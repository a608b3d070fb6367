"""Turn a file into text and structure: txt, md, html, pdf, docx, csv, json, epub, odt,
pptx, and scanned pages (PNG, JPEG and TIFF images, PDF pages without a text layer) by OCR.

These functions run inside the parser process (``parse_host``), which has a memory
limit and is killed past its time limit; here the checks that need the file are
made before a library opens it: the file size, every archive member's declared
size and compression ratio, member names that climb out with ``..``, and XML that
declares entities (billion laughs). Extracted text is capped. A refusal raises
:class:`ParseError` with the reason the user sees.

Images are bounded before they are decoded: the pixels of each image or page
(Pillow's own bomb check is set to the same limit) and the number of pages read by
OCR in one document. OCR reports each page through a ``progress`` callback, which
may stop the work between pages by raising :class:`ParseCancelled`.
"""

from __future__ import annotations

import csv
import io
import json
import posixpath
import warnings
import zipfile
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING

from desktop_app.core.kb.chunking import Block, ParsedDocument, text_blocks
from desktop_app.core.kb.errors import ParseError

if TYPE_CHECKING:
    from PIL import Image

    from desktop_app.core.kb.ocr import OcrParagraph


@dataclass(frozen=True, slots=True)
class ParseLimits:
    """Bounds on what one file may cost. The process limits live in ``parse_host``."""

    max_file_bytes: int = 200 * 1024 * 1024
    max_text_chars: int = 20_000_000
    #: Sum of the declared sizes of an archive's members.
    max_unpacked_bytes: int = 500 * 1024 * 1024
    #: Largest uncompressed ÷ compressed ratio of a member bigger than 1 MiB.
    max_zip_ratio: float = 100.0
    max_zip_members: int = 10_000
    #: Largest decoded size of one PDF stream (a page's text, a font map): a content
    #: stream of a few MiB already takes pypdf seconds, and far more memory, to read.
    max_pdf_stream_bytes: int = 4 * 1024 * 1024
    #: Pixels of one image or scanned page (a 600 dpi A4 scan holds 35 million).
    max_image_pixels: int = 50_000_000
    #: Pages read by OCR in one document (about 1 s each on two cores).
    max_ocr_pages: int = 300
    #: Per file; while OCR goes on, each page done gives it this much again.
    timeout_s: float = 120.0
    memory_bytes: int = 2 * 1024 * 1024 * 1024


#: Told ``(pages done, pages to read)`` before the first page and after each page of OCR.
PageProgress = Callable[[int, int], None]


class ParseCancelled(ParseError):
    """Raised by a ``PageProgress`` callback to stop reading a document between pages."""

    def __init__(self, message: str = "reading the document was cancelled") -> None:
        super().__init__(message)


#: File types by extension (lower case, without the dot).
TYPES: dict[str, str] = {
    "txt": "txt", "text": "txt", "log": "txt", "rst": "txt",
    "md": "md", "markdown": "md",
    "html": "html", "htm": "html", "xhtml": "html",
    "pdf": "pdf", "docx": "docx", "csv": "csv", "tsv": "csv", "json": "json",
    "epub": "epub", "odt": "odt", "pptx": "pptx",
    "png": "image", "jpg": "image", "jpeg": "image", "tif": "image", "tiff": "image",
}  # fmt: skip

#: What Pillow may decode for an ``image`` document, whatever the file's name says.
IMAGE_FORMATS = ("PNG", "JPEG", "TIFF")

ZIP_TYPES = frozenset({"docx", "epub", "odt", "pptx"})


def file_type(path: Path) -> str | None:
    """The document type of a path, or None if Glassbox cannot read that kind of file."""
    return TYPES.get(path.suffix.lower().lstrip("."))


class _TextBuilder:
    """Concatenates extracted pieces and records their blocks, up to a text cap."""

    def __init__(self, max_chars: int) -> None:
        self.parts: list[str] = []
        self.blocks: list[Block] = []
        self.length = 0
        self.max_chars = max_chars
        self.ocr_spans: list[tuple[int, int, float]] = []

    def add(self, text: str, *, heading: bool = False, page: int | None = None) -> None:
        text = text.strip()
        if not text:
            return
        if self.length:
            self.parts.append("\n\n")
            self.length += 2
        if self.length + len(text) > self.max_chars:
            raise ParseError(
                f"the document holds more than {self.max_chars:,} characters of text (refused)"
            )
        self.blocks.append(Block(self.length, self.length + len(text), heading, page))
        self.parts.append(text)
        self.length += len(text)

    def add_text(
        self,
        text: str,
        page: int | None = None,
        *,
        markdown: bool = True,
        heading_lines: Collection[int] = (),
    ) -> None:
        """Add free text, split into paragraphs and headings (see ``text_blocks``;
        ``heading_lines`` count the lines of ``text`` as given)."""
        stripped = text.strip()
        if not stripped:
            return
        if heading_lines:
            # Lines dropped from the front by strip() shift the numbers.
            dropped = text[: text.index(stripped[0])].count("\n")
            heading_lines = frozenset(n - dropped for n in heading_lines)
        text = stripped
        if self.length:
            self.parts.append("\n\n")
            self.length += 2
        if self.length + len(text) > self.max_chars:
            raise ParseError(
                f"the document holds more than {self.max_chars:,} characters of text (refused)"
            )
        self.blocks.extend(
            text_blocks(
                text, page, offset=self.length, markdown=markdown, heading_lines=heading_lines
            )
        )
        self.parts.append(text)
        self.length += len(text)

    def add_document(self, doc: ParsedDocument) -> None:
        """Add a document parsed on its own (an e-book's chapter), its blocks kept."""
        if not doc.text:
            return
        if self.length:
            self.parts.append("\n\n")
            self.length += 2
        if self.length + len(doc.text) > self.max_chars:
            raise ParseError(
                f"the document holds more than {self.max_chars:,} characters of text (refused)"
            )
        self.blocks.extend(
            Block(b.start + self.length, b.end + self.length, b.heading, b.page) for b in doc.blocks
        )
        self.parts.append(doc.text)
        self.length += len(doc.text)

    def add_ocr(self, paragraphs: Sequence[OcrParagraph], page: int | None) -> None:
        """Add paragraphs read by OCR, each line's span kept with its confidence."""
        for paragraph in paragraphs:
            pieces = paragraph.joined()
            before = self.length
            self.add("".join(pieces), page=page)
            if self.length == before:
                continue
            pos = self.blocks[-1].start
            for i, piece in enumerate(pieces):
                if i % 2 == 0:  # lines, with separators between them
                    confidence = paragraph.lines[i // 2].confidence
                    self.ocr_spans.append((pos, pos + len(piece), confidence))
                pos += len(piece)

    def build(self, type_: str) -> ParsedDocument:
        return ParsedDocument(type_, "".join(self.parts), tuple(self.blocks), tuple(self.ocr_spans))


def _decode(data: bytes) -> str:
    for encoding in (
        ("utf-8-sig", "utf-16") if data[:2] in (b"\xff\xfe", b"\xfe\xff") else ("utf-8-sig",)
    ):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    for encoding in ("gb18030", "big5"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", errors="replace")


def _too_much_text(limits: ParseLimits) -> ParseError:
    return ParseError(
        f"the document holds more than {limits.max_text_chars:,} characters of text (refused)"
    )


def _read_text_file(path: Path, limits: ParseLimits) -> str:
    # No encoding read here spends more than 4 bytes on a character: a larger file
    # is over the text limit, and is refused without being read into memory.
    if path.stat().st_size > 4 * limits.max_text_chars:
        raise _too_much_text(limits)
    text = _decode(path.read_bytes())
    if len(text) > limits.max_text_chars:
        raise ParseError(
            f"the document holds more than {limits.max_text_chars:,} characters of text (refused)"
        )
    if "\x00" in text[:4096]:
        raise ParseError("the file is binary, not text")
    return text


def parse_txt(path: Path, limits: ParseLimits) -> ParsedDocument:
    """Plain text or Markdown: paragraphs and heading lines, offsets into the file's text."""
    text = _read_text_file(path, limits)
    return ParsedDocument("txt", text, tuple(text_blocks(text)))


def parse_md(path: Path, limits: ParseLimits) -> ParsedDocument:
    """Markdown is read as text; ``#`` lines become headings."""
    doc = parse_txt(path, limits)
    return ParsedDocument("md", doc.text, doc.blocks)


_HTML_DROP = frozenset(
    ("script", "style", "noscript", "template", "svg", "head", "iframe", "object")
)
_HTML_HEADINGS = frozenset(("h1", "h2", "h3", "h4", "h5", "h6"))
_HTML_PARAGRAPHS = frozenset(("p", "div", "section", "article", "table"))
_HTML_LINES = frozenset(("li", "tr", "br"))
#: Marks the start of a heading's line while the visible text is collected (a
#: private-use character, removed from the page's own text first).
_HEADING_MARK = "\ue000"


class _VisibleText(HTMLParser):
    """Collects an HTML page's visible text in one pass, holding no tree.

    Markup nested 100,000 elements deep costs no more than flat markup: nothing here
    walks up or down a tree, so hostile nesting cannot make parsing quadratic.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.dropping: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body" and "head" in self.dropping:
            self.dropping = [t for t in self.dropping if t != "head"]  # an unclosed <head>
        if tag in _HTML_DROP:
            self.dropping.append(tag)
        elif tag in _HTML_HEADINGS:
            self.parts.append(f"\n\n{_HEADING_MARK}# ")
        elif tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HTML_DROP:
            if tag in self.dropping:
                del self.dropping[len(self.dropping) - 1 - self.dropping[::-1].index(tag)]
        elif tag in _HTML_HEADINGS or tag in _HTML_PARAGRAPHS:
            self.parts.append("\n\n")
        elif tag in _HTML_LINES and tag != "br":
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.dropping:
            self.parts.append(data.replace(_HEADING_MARK, ""))


def html_to_document(markup: str, limits: ParseLimits, type_: str = "html") -> ParsedDocument:
    """Visible text of an HTML page: scripts, styles and other non-text removed."""
    reader = _VisibleText()
    reader.feed(markup)
    reader.close()
    out = _TextBuilder(limits.max_text_chars)
    lines = [" ".join(line.split()) for line in "".join(reader.parts).splitlines()]
    # Headings are the lines the markup made so (kept as "# Title" in the text); a
    # "#" line of the page's own text, such as a root prompt in <pre>, stays text.
    headings = frozenset(i for i, line in enumerate(lines) if line.startswith(_HEADING_MARK))
    lines = [line.replace(_HEADING_MARK, "") for line in lines]
    out.add_text("\n".join(lines), markdown=False, heading_lines=headings)
    return out.build(type_)


def parse_html(path: Path, limits: ParseLimits) -> ParsedDocument:
    """An HTML file's visible text."""
    return html_to_document(_read_text_file(path, limits), limits)


def parse_pdf(
    path: Path, limits: ParseLimits, progress: PageProgress | None = None
) -> ParsedDocument:
    """Text of each page, page numbers kept; pages with no text layer are read by OCR."""
    from pypdf import PdfReader, apply_configuration
    from pypdf.errors import LimitReachedError, PdfReadError

    cap = limits.max_pdf_stream_bytes
    out = _TextBuilder(limits.max_text_chars)
    try:
        # Every decoder stops at the cap while inflating, so a bomb is never expanded.
        with apply_configuration(
            zlib_maximum_output_length=cap,
            lzw_maximum_output_length=cap,
            run_length_maximum_output_length=cap,
            brotli_maximum_output_length=cap,
            array_based_stream_maximum_output_length=cap,
        ):
            reader = PdfReader(str(path))
            if reader.is_encrypted:
                try:
                    reader.decrypt("")
                except Exception as exc:
                    raise ParseError("the PDF is encrypted with a password") from exc
            pages = len(reader.pages)
            texts: list[str] = []
            chars = 0
            for page in reader.pages:
                texts.append((page.extract_text() or "").strip())
                chars += len(texts[-1])
                if chars > limits.max_text_chars:
                    raise _too_much_text(limits)
            scanned = [number for number, text in enumerate(texts, start=1) if not text]
            if len(scanned) > limits.max_ocr_pages:
                raise ParseError(
                    f"the PDF has {len(scanned)} pages without a text layer; Glassbox reads "
                    f"at most {limits.max_ocr_pages} pages of one document by OCR (refused)"
                )
            read: dict[int, list[OcrParagraph]] = {}
            if scanned:
                _report(progress, 0, len(scanned))
            for done, number in enumerate(scanned, start=1):
                read[number] = _ocr_pdf_page(reader.pages[number - 1], number, limits)
                _report(progress, done, len(scanned))
            for number, text in enumerate(texts, start=1):
                if number in read:
                    out.add_ocr(read[number], page=number)
                else:
                    out.add_text(text, page=number, markdown=False)
    except ParseError:
        raise
    except LimitReachedError as exc:
        if "decompress" in str(exc).lower() or "output length" in str(exc).lower():
            raise ParseError(
                f"the PDF holds a compressed stream that expands beyond "
                f"{cap / 2**20:g} MiB (a decompression bomb, refused)"
            ) from exc
        raise ParseError(f"the PDF goes beyond safe parsing limits ({exc}) (refused)") from exc
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        raise ParseError(
            f"the PDF is damaged or unsupported ({type(exc).__name__}: {exc})"
        ) from exc
    except Exception as exc:
        name = type(exc).__name__
        if "Limit" in name:
            raise ParseError(f"the PDF goes beyond safe parsing limits ({exc}) (refused)") from exc
        raise ParseError(f"the PDF could not be read ({name}: {exc})") from exc
    if not out.blocks:
        if pages:
            raise ParseError(
                "the PDF has no text layer and OCR found no text on its pages (nothing to index)"
            )
        raise ParseError("the PDF has no pages")
    return out.build("pdf")


def _report(progress: PageProgress | None, done: int, total: int) -> None:
    if progress is not None:
        progress(done, total)


def _check_pixels(width: int, height: int, limits: ParseLimits, what: str) -> None:
    if width * height > limits.max_image_pixels:
        raise ParseError(
            f"{what} is {width:,} × {height:,} pixels, more than the "
            f"{limits.max_image_pixels / 1e6:g} million Glassbox reads by OCR "
            "(a decompression bomb or an oversized scan, refused)"
        )


#: Images narrower or lower than this hold no line of text worth reading.
_MIN_IMAGE_SIDE = 16
#: Images read on one scanned page (a page cut into strips holds a few).
_MAX_IMAGES_PER_PAGE = 32


def _ocr_pdf_page(page: object, number: int, limits: ParseLimits) -> list[OcrParagraph]:
    """The paragraphs OCR reads in the images of a page without a text layer."""
    from pypdf import PageObject, apply_configuration

    from desktop_app.core.kb import ocr

    assert isinstance(page, PageObject)
    what = f"the image on page {number}"
    # Declared sizes first: an image is refused before its stream is decoded.
    resources = page.get("/Resources")
    xobjects = resources.get_object().get("/XObject") if resources is not None else None
    count = 0
    for ref in xobjects.get_object().values() if xobjects is not None else ():
        obj = ref.get_object()
        if obj.get("/Subtype") == "/Image":
            count += 1
            _check_pixels(int(obj.get("/Width", 0)), int(obj.get("/Height", 0)), limits, what)
    if count > _MAX_IMAGES_PER_PAGE:
        raise ParseError(
            f"page {number} holds {count} images; Glassbox reads at most "
            f"{_MAX_IMAGES_PER_PAGE} on one scanned page (refused)"
        )
    # A page's scan is one image of up to max_image_pixels, 4 bytes a pixel at most.
    cap = max(limits.max_pdf_stream_bytes, limits.max_image_pixels * 4)
    out: list[OcrParagraph] = []
    with apply_configuration(
        zlib_maximum_output_length=cap,
        lzw_maximum_output_length=cap,
        run_length_maximum_output_length=cap,
        image_maximum_buffer_size=cap,
    ):
        for index, item in enumerate(page.images):
            if index >= _MAX_IMAGES_PER_PAGE:
                break
            image = item.image
            if image is None or min(image.size) < _MIN_IMAGE_SIDE:
                continue
            _check_pixels(image.width, image.height, limits, what)
            out.extend(ocr.paragraphs(ocr.recognize(image)))
    return out


def parse_image(
    path: Path, limits: ParseLimits, progress: PageProgress | None = None
) -> ParsedDocument:
    """A PNG, JPEG or TIFF image read by OCR; each frame of a TIFF is a page."""
    from PIL import Image, UnidentifiedImageError

    from desktop_app.core.kb import ocr

    out = _TextBuilder(limits.max_text_chars)
    # Pillow refuses an image of over twice this many pixels as it opens it (and only
    # warns past it): below that, the size it declares is checked here before decoding.
    Image.MAX_IMAGE_PIXELS = limits.max_image_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path, formats=IMAGE_FORMATS) as image:
                frames = int(getattr(image, "n_frames", 1) or 1)
                if frames > limits.max_ocr_pages:
                    raise ParseError(
                        f"the image has {frames} pages; Glassbox reads at most "
                        f"{limits.max_ocr_pages} pages of one document by OCR (refused)"
                    )
                _report(progress, 0, frames)
                for index in range(frames):
                    image.seek(index)
                    what = "the image" if frames == 1 else f"page {index + 1} of the image"
                    _check_pixels(image.width, image.height, limits, what)
                    if frames == 1 and min(image.size) < _MIN_IMAGE_SIDE:
                        # An icon or a bullet: refused before the recognizer is loaded.
                        raise ParseError(
                            f"the image is {image.width} × {image.height} pixels, "
                            "too small to hold a line of text (nothing to index)"
                        )
                    frame = _page_image(image)
                    out.add_ocr(ocr.paragraphs(ocr.recognize(frame)), page=index + 1)
                    del frame
                    _report(progress, index + 1, frames)
    except ParseError:
        raise
    except Image.DecompressionBombError as exc:
        raise ParseError(
            f"the image declares more than {limits.max_image_pixels / 1e6:g} million pixels "
            "(a decompression bomb or an oversized scan, refused)"
        ) from exc
    except UnidentifiedImageError as exc:
        raise ParseError(
            "the file is not a PNG, JPEG or TIFF image that can be read "
            "(its content does not match its name, or it is damaged)"
        ) from exc
    except MemoryError:
        raise
    except Exception as exc:  # Pillow's decoders raise OSError, ValueError, SyntaxError …
        raise ParseError(
            f"the image is damaged or unsupported ({type(exc).__name__}: {exc})"
        ) from exc
    if not out.blocks:
        raise ParseError("OCR found no text in the image (nothing to index)")
    return out.build("image")


def _page_image(image: Image.Image) -> Image.Image:
    """The current frame decoded, in a mode OCR reads (grey or colour)."""
    image.load()
    if image.mode in ("RGB", "L"):
        return image.copy()
    if image.mode in ("1", "P", "RGBA", "LA", "CMYK", "YCbCr", "PA", "La", "RGBa"):
        return image.convert("RGB")
    # 16- and 32-bit grey: scaled down to 8 bits.
    return image.convert("L")


#: How many bytes of archive members may expand beyond ``max_zip_ratio``, in all.
_INFLATING_BYTES = 1024 * 1024


def check_zip(path: Path, limits: ParseLimits) -> None:
    """Refuse an archive that would expand too far, climbs out of itself, or holds entity XML."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > limits.max_zip_members:
                raise ParseError(f"the archive has more than {limits.max_zip_members} members")
            total = 0
            # Bytes in members that expand more than the ratio allows: one member over
            # 1 MiB, or hundreds of small ones that only add up to a bomb together.
            inflating = 0
            for info in infos:
                name = info.filename
                parts = posixpath.normpath(name.replace("\\", "/")).split("/")
                if name.startswith(("/", "\\")) or ".." in parts or ":" in parts[0]:
                    raise ParseError(
                        f"the archive has a member outside itself ({name!r}) (refused)"
                    )
                total += info.file_size
                if total > limits.max_unpacked_bytes:
                    raise ParseError(
                        f"the archive would expand to more than "
                        f"{limits.max_unpacked_bytes // (1024 * 1024)} MiB (zip bomb, refused)"
                    )
                ratio = info.file_size / max(info.compress_size, 1)
                if ratio <= limits.max_zip_ratio:
                    continue
                if info.file_size > _INFLATING_BYTES:
                    raise ParseError(
                        f"the member {name!r} expands {ratio:.0f} times (zip bomb, refused)"
                    )
                inflating += info.file_size
                if inflating > _INFLATING_BYTES:
                    raise ParseError(
                        f"the archive's members expand more than {limits.max_zip_ratio:.0f} "
                        f"times, to over {_INFLATING_BYTES // (1024 * 1024)} MiB together "
                        "(zip bomb, refused)"
                    )
            for info in infos:
                if info.filename.lower().endswith(
                    (".xml", ".rels", ".opf", ".ncx", ".xhtml", ".html", ".htm")
                ):
                    _check_xml_member(zf, info)
    except zipfile.BadZipFile as exc:
        raise ParseError(f"the file is not a valid zip-based document ({exc})") from exc


def _check_xml_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """Office and e-book XML never declares entities; one that does is an entity bomb."""
    tail = b""
    read = 0
    with zf.open(info) as fh:
        while True:
            block = fh.read(1024 * 1024)
            if not block:
                break
            read += len(block)
            if read > info.file_size + 1:
                raise ParseError(f"the member {info.filename!r} is larger than declared (refused)")
            window = tail + block
            if b"<!ENTITY" in window or b"<!entity" in window:
                raise ParseError(
                    f"the XML in {info.filename!r} declares entities "
                    "(an entity expansion bomb, refused)"
                )
            tail = block[-16:]


def parse_docx(path: Path, limits: ParseLimits) -> ParsedDocument:
    """Word document: paragraphs (headings from their styles) and table cells."""
    import docx

    check_zip(path, limits)
    out = _TextBuilder(limits.max_text_chars)
    try:
        document = docx.Document(str(path))
        for para in document.paragraphs:
            style = (para.style.name or "") if para.style is not None else ""
            heading = style.lower().startswith(("heading", "title"))
            out.add(para.text, heading=heading)
        for table in document.tables:
            for row in table.rows:
                out.add(" | ".join(cell.text.strip() for cell in row.cells))
    except ParseError:
        raise
    except Exception as exc:
        raise ParseError(f"the DOCX could not be read ({type(exc).__name__}: {exc})") from exc
    return out.build("docx")


def parse_pptx(path: Path, limits: ParseLimits) -> ParsedDocument:
    """PowerPoint: each slide's title as a heading, then the text of its shapes."""
    from pptx import Presentation

    check_zip(path, limits)
    out = _TextBuilder(limits.max_text_chars)
    try:
        deck = Presentation(str(path))
        for number, slide in enumerate(deck.slides, start=1):
            title = slide.shapes.title
            if title is not None and title.has_text_frame:
                out.add(title.text_frame.text, heading=True, page=number)
            for shape in slide.shapes:
                if shape is title or not getattr(shape, "has_text_frame", False):
                    continue
                out.add(shape.text_frame.text, page=number)
    except ParseError:
        raise
    except Exception as exc:
        raise ParseError(f"the PPTX could not be read ({type(exc).__name__}: {exc})") from exc
    return out.build("pptx")


def parse_odt(path: Path, limits: ParseLimits) -> ParsedDocument:
    """OpenDocument text: headings and paragraphs in order."""
    from odf import teletype, text
    from odf.opendocument import load

    check_zip(path, limits)
    out = _TextBuilder(limits.max_text_chars)
    try:
        document = load(str(path))
        for element in document.text.childNodes:
            if element.qname == (text.TEXTNS, "h"):
                out.add(teletype.extractText(element), heading=True)
            elif element.qname in ((text.TEXTNS, "p"), (text.TEXTNS, "list")):
                out.add(teletype.extractText(element))
    except ParseError:
        raise
    except Exception as exc:
        raise ParseError(f"the ODT could not be read ({type(exc).__name__}: {exc})") from exc
    return out.build("odt")


def parse_epub(path: Path, limits: ParseLimits) -> ParsedDocument:
    """E-book: the visible text of each chapter in reading order."""
    import ebooklib
    from ebooklib import epub

    check_zip(path, limits)
    out = _TextBuilder(limits.max_text_chars)
    try:
        book = epub.read_epub(str(path), options={"ignore_ncx": True})
        # Reading order is the spine's, not the manifest's; chapters the spine leaves
        # out still hold text, so they follow it.
        documents = {item.get_id(): item for item in book.get_items_of_type(ebooklib.ITEM_DOCUMENT)}
        spine = [documents.pop(idref) for idref, _linear in book.spine if idref in documents]
        for item in spine + list(documents.values()):
            chapter = html_to_document(item.get_content().decode("utf-8", "replace"), limits)
            out.add_document(chapter)
    except ParseError:
        raise
    except Exception as exc:
        raise ParseError(f"the EPUB could not be read ({type(exc).__name__}: {exc})") from exc
    return out.build("epub")


def parse_csv(path: Path, limits: ParseLimits) -> ParsedDocument:
    """A table: each row as ``column: value`` pairs, so a chunk keeps its column names."""
    text = _read_text_file(path, limits)
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:8192])
    except csv.Error:
        dialect = csv.excel
    out = _TextBuilder(limits.max_text_chars)
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        header = [h.strip() for h in next(reader, [])]
        rows = 0
        for row in reader:  # row by row: a table's rows are never all held at once
            rows += 1
            out.add(_csv_row(header, row))
        if not rows:
            out.add(_csv_row(header, header))
    except csv.Error as exc:
        raise ParseError(f"the table could not be read as CSV ({exc})") from exc
    return out.build("csv")


def _csv_row(header: list[str], row: list[str]) -> str:
    return "; ".join(
        f"{header[i] if i < len(header) and header[i] else i + 1}: {v.strip()}"
        for i, v in enumerate(row)
        if v.strip()
    )


def parse_json(path: Path, limits: ParseLimits) -> ParsedDocument:
    """JSON: one line per leaf value, ``path.to.key: value``."""
    text = _read_text_file(path, limits)
    # Every value but the last in a list or object is followed by a comma: counting
    # them refuses millions of tiny values before they are loaded (8 million took
    # seconds and 184 MB). Commas inside strings count too, so this is a bound.
    max_values = max(1, limits.max_text_chars // 4)
    if text.count(",") > max_values:
        raise ParseError(
            f"the JSON holds more than {max_values:,} values or commas (too many to index, refused)"
        )
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ParseError(f"the file is not valid JSON ({exc})") from exc
    out = _TextBuilder(limits.max_text_chars)
    lines: list[str] = []
    # A value's line holds at least four characters: more values than a quarter of
    # the text limit is refused before they are walked.
    values = 0

    def walk(value: object, where: str, depth: int) -> None:
        nonlocal values
        if depth > 64:
            raise ParseError("the JSON is nested more than 64 levels deep (refused)")
        if isinstance(value, dict | list):
            values += len(value)
            if values > max_values:
                raise ParseError(f"the JSON holds more than {max_values:,} values (refused)")
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, f"{where}.{key}" if where else str(key), depth + 1)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, f"{where}[{i}]", depth + 1)
        elif value is not None:
            lines.append(f"{where}: {value}" if where else str(value))
        if len(lines) >= 50:
            out.add("\n".join(lines))
            lines.clear()

    walk(data, "", 0)
    out.add("\n".join(lines))
    return out.build("json")


PARSERS: dict[str, Callable[[Path, ParseLimits], ParsedDocument]] = {
    "txt": parse_txt, "md": parse_md, "html": parse_html, "pdf": parse_pdf,
    "docx": parse_docx, "csv": parse_csv, "json": parse_json, "epub": parse_epub,
    "odt": parse_odt, "pptx": parse_pptx, "image": parse_image,
}  # fmt: skip

#: Parsers that may read pages by OCR, and report each page.
PAGED_PARSERS: dict[str, Callable[[Path, ParseLimits, PageProgress | None], ParsedDocument]] = {
    "pdf": parse_pdf,
    "image": parse_image,
}


def size_problem(size: int, limits: ParseLimits) -> str | None:
    """Why a file of ``size`` bytes is refused, or None when it is within the limit."""
    if size <= limits.max_file_bytes:
        return None
    return (
        f"the file is {size / 2**20:.0f} MiB, above the limit of "
        f"{limits.max_file_bytes / 2**20:.0f} MiB"
    )


def parse_file(
    path: Path, limits: ParseLimits | None = None, progress: PageProgress | None = None
) -> ParsedDocument:
    """Parse one file by its extension (in the current process: call it from ``parse_host``);
    ``progress`` hears of each page read by OCR."""
    limits = limits or ParseLimits()
    type_ = file_type(path)
    if type_ is None:
        raise ParseError(f"files of type {path.suffix or '(none)'!r} are not supported")
    if not path.is_file():
        raise ParseError("not a regular file")
    too_big = size_problem(path.stat().st_size, limits)
    if too_big is not None:
        raise ParseError(too_big)
    try:
        if type_ in PAGED_PARSERS:
            return PAGED_PARSERS[type_](path, limits, progress)
        return PARSERS[type_](path, limits)
    except ParseError:
        raise
    except RecursionError as exc:
        raise ParseError("the document is nested too deeply (refused)") from exc
    except MemoryError as exc:
        raise ParseError("the document needs more memory than allowed (refused)") from exc
    except UnicodeDecodeError as exc:
        raise ParseError(f"the text encoding could not be read ({exc})") from exc
