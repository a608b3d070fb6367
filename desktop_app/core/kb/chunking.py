"""Structure- and token-aware chunking with overlap.

A parsed document is one text plus blocks (headings and paragraphs, with pages).
A chunk is a contiguous span of that text, so a citation can highlight exactly
the passage in the document. Chunks never cross a heading or a page, break at
sentence and line ends when they can, and stay within the embedding model's
input limit (all-MiniLM-L6-v2 reads 256 word pieces and silently drops the
rest; a Chinese character is about one word piece, an English word one or two).
Consecutive chunks share a few sentences so a passage cut in two is still found.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace

#: Bump when chunk boundaries change: chunk ids include it, so a new version re-indexes.
#: 2: a ``#`` line of a PDF page or of HTML text (a root shell prompt) is text, not a
#: heading that left the command out of every chunk.
CHUNKER_VERSION = 2

#: Defaults for all-MiniLM-L6-v2 (max_seq_length 256, minus [CLS]/[SEP] and a margin).
DEFAULT_MAX_TOKENS = 200
DEFAULT_OVERLAP_TOKENS = 32

TokenCounter = Callable[[Sequence[str]], list[int]]


@dataclass(frozen=True, slots=True)
class Block:
    """A heading or a paragraph: ``text[start:end]`` of the document, on ``page`` (1-based)."""

    start: int
    end: int
    heading: bool = False
    page: int | None = None


@dataclass(frozen=True, slots=True)
class ParsedDocument:
    """The text a parser extracted and its structure."""

    type: str
    text: str
    blocks: tuple[Block, ...]
    #: Text read by OCR: ``(start, end, confidence)`` of each recognised line, in order.
    ocr_spans: tuple[tuple[int, int, float], ...] = ()


@dataclass(frozen=True, slots=True)
class Chunk:
    """One chunk: ``text`` is ``document.text[char_start:char_end]``."""

    index: int
    text: str
    char_start: int
    char_end: int
    heading: str | None
    page: int | None
    tokens: int
    #: The recognizer's mean confidence over the OCR lines the chunk holds (weighted by
    #: their length in the chunk); None for text from a text layer.
    ocr_confidence: float | None = None


_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]")
_WORD = re.compile(r"[^\W_]+|[^\w\s]", re.UNICODE)
# Sentence ends: Chinese punctuation, or . ! ? ; followed by space, and line breaks.
_SENTENCE_END = re.compile(r"[。！？；!?]+[”’」』)）]*|[.;:](?=\s)|\n+")
_HEADING_MD = re.compile(r"^\s{0,3}#{1,6}\s+\S")
_HEADING_TRAILING_HASH = re.compile(r"^\S.{0,80}\s#\s*$")


def estimate_tokens(texts: Sequence[str]) -> list[int]:
    """A tokenizer-free estimate: one per CJK character, 1.3 per other word or symbol."""
    out = []
    for text in texts:
        cjk = len(_CJK.findall(text))
        other = len(_WORD.findall(_CJK.sub(" ", text)))
        out.append(cjk + int(other * 1.3 + 0.999))
    return out


def chunk_id(doc_sha256: str, index: int, version: int = CHUNKER_VERSION) -> str:
    """Deterministic id: the same document chunked twice gives the same ids (no duplicates)."""
    return hashlib.sha256(f"{doc_sha256}:{version}:{index}".encode()).hexdigest()[:32]


def text_blocks(
    text: str,
    page: int | None = None,
    offset: int = 0,
    *,
    markdown: bool = True,
    heading_lines: Collection[int] = (),
) -> list[Block]:
    """Paragraphs (runs of non-blank lines) and heading lines of plain or Markdown text.

    With ``markdown``, a heading is a Markdown ``#`` line, or a short line ending in
    `` #`` (how many web pages copied as text mark their section titles). Without it
    (text taken from a PDF page, or from HTML whose headings the markup gives), a
    ``#`` line is text: in manuals it is a root shell prompt (``# losetup -f
    disk.img``), the very line a question is about. ``heading_lines`` (numbers of
    lines from 0) are headings either way.
    """
    blocks: list[Block] = []
    para_start: int | None = None
    para_end = 0
    pos = 0
    for number, line in enumerate(text.splitlines(keepends=True)):
        start, stripped = pos, line.rstrip("\r\n")
        pos += len(line)
        end = start + len(stripped)
        if not stripped.strip():
            if para_start is not None:
                blocks.append(Block(offset + para_start, offset + para_end, False, page))
                para_start = None
            continue
        if number in heading_lines or (
            markdown and (_HEADING_MD.match(stripped) or _HEADING_TRAILING_HASH.match(stripped))
        ):
            if para_start is not None:
                blocks.append(Block(offset + para_start, offset + para_end, False, page))
                para_start = None
            blocks.append(Block(offset + start, offset + end, True, page))
            continue
        if para_start is None:
            para_start = start
        para_end = end
    if para_start is not None:
        blocks.append(Block(offset + para_start, offset + para_end, False, page))
    return blocks


def heading_text(text: str) -> str:
    """A heading line without its Markdown marks."""
    return text.strip().strip("#").strip()


def _pieces(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence or line spans of ``text[start:end]``, whitespace trimmed."""
    spans: list[tuple[int, int]] = []
    cursor = start
    for m in _SENTENCE_END.finditer(text, start, end):
        if m.end() > cursor:
            spans.append((cursor, m.end()))
            cursor = m.end()
    if cursor < end:
        spans.append((cursor, end))
    out = []
    for s, e in spans:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            out.append((s, e))
    return out


def _hard_split(
    text: str, start: int, end: int, max_tokens: int, count: TokenCounter
) -> list[tuple[int, int]]:
    """Cut a span with no sentence end into pieces of at most ``max_tokens``."""
    out: list[tuple[int, int]] = []
    while start < end:
        n = count([text[start:end]])[0]
        if n <= max_tokens:
            out.append((start, end))
            break
        # Guess the cut from the density, then shrink until it fits.
        cut = start + max(1, int((end - start) * max_tokens / n * 0.95))
        while cut > start + 1 and count([text[start:cut]])[0] > max_tokens:
            cut = start + max(1, int((cut - start) * 0.9))
        # Prefer to cut at a space so an English word is not split.
        space = text.rfind(" ", start + 1, cut)
        if space > start + (cut - start) // 2:
            cut = space
        out.append((start, cut))
        start = cut
        while start < end and text[start].isspace():
            start += 1
    return out


def chunk_document(
    doc: ParsedDocument,
    *,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    overlap_tokens: int = DEFAULT_OVERLAP_TOKENS,
    count_tokens: TokenCounter = estimate_tokens,
) -> list[Chunk]:
    """Split a parsed document into chunks (see the module docstring for the rules)."""
    if max_tokens < 8 or not 0 <= overlap_tokens < max_tokens // 2:
        raise ValueError("max_tokens must be >= 8 and overlap below half of it")
    text = doc.text
    # Units: (start, end, tokens, heading text in force, page, is_heading).
    units: list[tuple[int, int, int, str | None, int | None, bool]] = []
    heading: str | None = None
    for block in doc.blocks:
        if block.heading:
            heading = heading_text(text[block.start : block.end]) or None
            continue
        spans = _pieces(text, block.start, block.end)
        counts = count_tokens([text[s:e] for s, e in spans])
        for (s, e), n in zip(spans, counts, strict=True):
            if n > max_tokens:
                parts = _hard_split(text, s, e, max_tokens, count_tokens)
                for (ps, pe), pn in zip(
                    parts, count_tokens([text[a:b] for a, b in parts]), strict=True
                ):
                    units.append((ps, pe, pn, heading, block.page, False))
            else:
                units.append((s, e, n, heading, block.page, False))

    chunks: list[Chunk] = []
    heading_tokens: dict[str | None, int] = {None: 0}

    def budget(h: str | None) -> int:
        # The heading is embedded with the chunk, so it takes part of the budget.
        if h not in heading_tokens:
            heading_tokens[h] = min(count_tokens([h or ""])[0] + 1, max_tokens // 4)
        return max_tokens - heading_tokens[h]

    current: list[tuple[int, int, int, str | None, int | None, bool]] = []

    def flush() -> None:
        if not current:
            return
        s, e = current[0][0], current[-1][1]
        chunks.append(
            Chunk(
                index=len(chunks),
                text=text[s:e],
                char_start=s,
                char_end=e,
                heading=current[0][3],
                page=current[0][4],
                tokens=sum(u[2] for u in current),
            )
        )

    for unit in units:
        if current:
            same_section = unit[3] == current[-1][3] and unit[4] == current[-1][4]
            fits = sum(u[2] for u in current) + unit[2] <= budget(unit[3])
            if same_section and fits:
                current.append(unit)
                continue
            flush()
            carried: list[tuple[int, int, int, str | None, int | None, bool]] = []
            if same_section and overlap_tokens:
                total = 0
                for prev in reversed(current):
                    if total + prev[2] > overlap_tokens or len(carried) == len(current) - 1:
                        break
                    carried.insert(0, prev)
                    total += prev[2]
                while carried and sum(u[2] for u in carried) + unit[2] > budget(unit[3]):
                    carried.pop(0)
            current = carried
        current.append(unit)
    flush()
    if doc.ocr_spans:
        chunks = [
            replace(c, ocr_confidence=ocr_confidence(doc.ocr_spans, c.char_start, c.char_end))
            for c in chunks
        ]
    return chunks


def ocr_confidence(spans: Sequence[tuple[int, int, float]], start: int, end: int) -> float | None:
    """Mean confidence of the OCR lines overlapping ``[start, end)``, weighted by how many
    of their characters lie inside; None when no OCR line does."""
    first = bisect.bisect_right([s[1] for s in spans], start)
    weight = total = 0.0
    for s, e, confidence in spans[first:]:
        if s >= end:
            break
        inside = min(e, end) - max(s, start)
        if inside > 0:
            weight += inside
            total += inside * confidence
    return round(total / weight, 4) if weight else None


def embedding_text(chunk_text: str, heading: str | None) -> str:
    """What is embedded for a chunk: its heading (context for short passages) and text."""
    if heading and heading not in chunk_text[: len(heading) + 8]:
        return f"{heading}\n{chunk_text}"
    return chunk_text
