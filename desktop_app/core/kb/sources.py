"""A document's text as indexed, for the source viewer: the cited passage located in it.

The window shows where a cited passage comes from. For plain text and Markdown
whose file has not changed since it was indexed, that is the file's own text;
for every other document (PDF, DOCX …), the text is rebuilt from its chunks as
they were extracted (:func:`stitch_chunks`), with the passage's offsets mapped
into it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from desktop_app.core.errors import GlassboxError
from desktop_app.core.kb.db import Collection, Document, StoredChunk
from desktop_app.core.kb.ingest import file_sha256
from desktop_app.core.kb.parsers import ParseLimits, parse_file

if TYPE_CHECKING:
    from desktop_app.core.kb.knowledge_base import KnowledgeBase

#: File types whose extracted text is the file's own text (the viewer reads the file).
PLAIN_TYPES = ("txt", "md")

#: What :class:`SourceText` says about its text.
NOTE_MISSING = "missing"  # the file is not in the knowledge base
NOTE_FAILED = "failed"  # it could not be indexed (``reason`` says why)
NOTE_PENDING = "pending"  # it is still being indexed
NOTE_FILE = "file"  # the file's own text
NOTE_EXTRACTED = "extracted"  # the passages stitched together, as indexed


@dataclass(frozen=True, slots=True)
class SourceText:
    """A document's text as indexed, with the cited passage at ``[start, end)`` of ``text``.

    ``start`` and ``end`` are None when nothing is to be highlighted; ``note`` says
    how the text was obtained or why there is none, as one of the ``NOTE_*`` keys
    (the window words it in its language), with the failure's ``reason``.
    """

    path: str
    type: str | None
    text: str
    start: int | None
    end: int | None
    note: str = ""
    reason: str = ""
    #: The recognizer's confidence when the passage was read by OCR, else None.
    ocr_confidence: float | None = None


def stitch_chunks(
    chunks: Sequence[StoredChunk], start: int | None, end: int | None
) -> tuple[str, int | None, int | None]:
    """The document text rebuilt from its chunks, with ``[start, end)`` mapped into it.

    A chunk is ``text[char_start:char_end]`` of the extracted document, and
    consecutive chunks overlap, so their union is the document except what lies
    between blocks (blank lines, dropped page furniture): those gaps become a
    paragraph break, and the offsets are mapped across them.
    """
    parts: list[str] = []
    segments: list[tuple[int, int, int]] = []  # (document offset, text offset, length)
    covered = 0
    length = 0
    for chunk in sorted(chunks, key=lambda c: (c.char_start, c.char_end)):
        if chunk.char_end <= covered:
            continue
        begin = max(chunk.char_start, covered)
        if parts and begin > covered:
            gap = "\n\n" if begin - covered >= 2 else "\n"
            parts.append(gap)
            length += len(gap)
        piece = chunk.text[begin - chunk.char_start :]
        segments.append((begin, length, len(piece)))
        parts.append(piece)
        length += len(piece)
        covered = chunk.char_end
    text = "".join(parts)
    if start is None or end is None or end <= start or not segments:
        return text, None, None

    def place(offset: int, after: bool) -> int:
        for doc_at, text_at, size in segments:
            if offset < doc_at:
                return text_at  # in a gap: the next segment begins the passage
            if offset < doc_at + size or (after and offset == doc_at + size):
                return text_at + offset - doc_at
        return length

    return text, place(start, False), place(end, True)


def find_document(
    kb: KnowledgeBase, path: str, doc_id: int | None
) -> tuple[Collection, Document] | None:
    """The document stored for ``path``: the one with ``doc_id`` when given, else an
    indexed one in any collection, else the first found."""
    fallback: tuple[Collection, Document] | None = None
    for coll in kb.collections():
        doc = kb.registry.document(coll, path)
        if doc is None:
            continue
        if doc_id is None or doc.id == doc_id:
            if doc.status == "indexed" or doc_id is not None:
                return coll, doc
            fallback = fallback or (coll, doc)
    return fallback


def plain_text(doc: Document) -> str | None:
    """The file's text when it is the one indexed (same content hash), else None."""
    path = Path(doc.path)
    try:
        if file_sha256(path) != doc.sha256:
            return None
        return parse_file(path, ParseLimits()).text
    except (OSError, GlassboxError):
        return None


def source_text(
    kb: KnowledgeBase,
    path: str,
    start: int | None = None,
    end: int | None = None,
    doc_id: int | None = None,
) -> SourceText:
    """``path``'s text as indexed, with the passage ``[start, end)`` of the extracted
    document located in it; ``doc_id`` (a hit's ``chunk.doc_id``) picks the right
    collection when the file is in several."""
    found = find_document(kb, path, doc_id)
    if found is None:
        return SourceText(path, None, "", None, None, NOTE_MISSING)
    coll, doc = found
    if doc.status == "failed":
        return SourceText(path, doc.type, "", None, None, NOTE_FAILED, doc.reason or "")
    if doc.status == "pending":
        return SourceText(path, doc.type, "", None, None, NOTE_PENDING)
    if doc.type in PLAIN_TYPES:
        plain = plain_text(doc)
        if plain is not None:
            passage = start is not None and end is not None and end > start
            s, e = (start, end) if passage else (None, None)
            return SourceText(path, doc.type, plain, s, e, NOTE_FILE)
    chunks = list(kb.registry.chunks_by_id(coll, kb.registry.document_chunk_ids(doc)).values())
    text, s, e = stitch_chunks(chunks, start, end)
    confidence = passage_confidence(chunks, start, end) if s is not None else None
    return SourceText(path, doc.type, text, s, e, NOTE_EXTRACTED, ocr_confidence=confidence)


def passage_confidence(
    chunks: Sequence[StoredChunk], start: int | None, end: int | None
) -> float | None:
    """The OCR confidence of the passage ``[start, end)``: its chunks' confidences,
    weighted by how much of the passage each covers; None when none was read by OCR."""
    if start is None or end is None:
        return None
    weight = total = 0.0
    for chunk in chunks:
        if chunk.ocr_confidence is None:
            continue
        inside = min(chunk.char_end, end) - max(chunk.char_start, start)
        if inside > 0:
            weight += inside
            total += inside * chunk.ocr_confidence
    return total / weight if weight else None
