"""Markdown styling for the transcript, applied in place as the text streams.

The transcript keeps the exact text of every token (each one can be hovered and
clicked), so Markdown is not converted to rich text: a ``QSyntaxHighlighter``
lays styles over the text as written. What is styled comes from a real parser
(:mod:`desktop_app.core.chat.markdown`: markdown-it-py with tables, Pygments for
code): headings grow, strong and emphasised text take effect with their markers
dimmed, tables are set in a monospace font with the header in bold, list markers
stand out, links are coloured (and opened only after a confirmation, see
``ChatView``), images show their alt text and address and are never loaded, and
code is coloured in every language Pygments knows.

Each message body is a *source*. When one of its lines changes, the source is
parsed again from the start of its last top-level block only: blocks before it
cannot change any more, so styling costs the same per token at the 5,000th
token as at the first. Lines whose style a later line changed (a paragraph that
became a table when its delimiter row arrived) are re-styled just after.
"""

from __future__ import annotations

import bisect
import threading
import time
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QSyntaxHighlighter,
    QTextBlock,
    QTextCharFormat,
    QTextDocument,
    QTextFormat,
)

from desktop_app.core.chat.markdown import Link, Run, fenced_code, lexer_for, parse

#: Block-format property marking blocks the highlighter leaves alone (headers, notes).
PLAIN_BLOCK = QTextFormat.Property.UserProperty + 1

# Keys applied first lose to keys applied later (a marker's dim colour wins).
_PRIORITY = {
    key: n
    for n, key in enumerate(
        (
            "quote",
            "table",
            "table_head",
            "h6",
            "h5",
            "h4",
            "h3",
            "h2",
            "h1",
            "code",
            "builtin",
            "name",
            "keyword",
            "number",
            "string",
            "comment",
            "bold",
            "italic",
            "code_inline",
            "link",
            "image",
            "address",
            "fence",
            "bullet",
            "marker",
        )
    )
}
_NO_LINE = 1 << 62
#: How often, at most, a streaming message is parsed again (styles lag this much at most).
PARSE_INTERVAL_S = 0.04
_HEADING_SCALE = {"h1": 1.5, "h2": 1.3, "h3": 1.15, "h4": 1.05, "h5": 1.0, "h6": 1.0}


@dataclass(frozen=True)
class Palette:
    """Colours for the styled Markdown; light and dark themes have their own."""

    marker: str
    code_background: str
    keyword: str
    string: str
    comment: str
    number: str
    link: str
    name: str = "#00627a"
    builtin: str = "#871094"
    bullet: str = "#c75f00"


LIGHT = Palette("#9a9a9a", "#f1f3f5", "#0033b3", "#067d17", "#8c8c8c", "#1750eb", "#1a5fb4")
DARK = Palette(
    "#7a7a7a",
    "#2b2d30",
    "#cc7832",
    "#6aab73",
    "#7a7e85",
    "#2aacb8",
    "#78aeed",
    "#56a8f5",
    "#c77dbb",
    "#e0a050",
)


@dataclass(eq=False)
class _Source:
    """One message body: its first block, and the styles of its lines."""

    body: QTextBlock
    texts: list[str] = field(default_factory=list)
    runs: list[list[Run]] = field(default_factory=list)
    links: dict[int, list[Link]] = field(default_factory=dict)
    fences: dict[int, str] = field(default_factory=dict)  # first line: language tag
    stable: int = 0  # lines before this one keep their styles
    parsed_at: float = 0.0  # when it was last parsed (time.monotonic)
    streaming: bool = False  # code lexers load on a thread (the window must not wait)
    stale: set[int] = field(default_factory=set)  # lines styled before their text was parsed


class _LexerLoader(QObject):
    """Loads Pygments lexers on a thread; says in the GUI thread when one is ready."""

    sig_loaded = Signal(str)

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self._asked: set[str] = set()

    def load(self, tags: set[str]) -> None:
        new = sorted(tags - self._asked)
        if not new:
            return
        self._asked.update(new)

        def run() -> None:
            for tag in new:
                lexer_for(tag)
                self.sig_loaded.emit(tag)

        threading.Thread(target=run, name="pygments-lexers", daemon=True).start()


class MarkdownHighlighter(QSyntaxHighlighter):
    """Styles the Markdown of each message body in a transcript, as it changes."""

    def __init__(self, document: QTextDocument) -> None:
        super().__init__(document)
        self._palette = LIGHT
        self._backgrounds = True
        self._mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self._formats: dict[tuple[str, ...], QTextCharFormat] = {}
        self._sources: list[_Source] = []
        self._pending: set[tuple[int, int]] = set()  # (source id, line) to re-style
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(0)
        self._flush_timer.timeout.connect(self._on_flush_timer_timeout)
        # A streaming reply is parsed at most every PARSE_INTERVAL_S: text that
        # arrives in between keeps the styles of its line until the next parse.
        self._parse_timer = QTimer(self)
        self._parse_timer.setSingleShot(True)
        self._parse_timer.timeout.connect(self._on_parse_timer_timeout)
        self._loader = _LexerLoader(self)
        self._loader.sig_loaded.connect(self._on_loader_loaded)

    # ----------------------------------------------------------------- sources

    def add_source(self, body: QTextBlock, streaming: bool = False) -> None:
        """Style the message whose body starts at ``body`` (added below the others);
        ``streaming`` while its text arrives (see :meth:`end_source`)."""
        self._sources.append(_Source(body, streaming=streaming))

    def end_source(self, body: QTextBlock) -> None:
        """The message at ``body`` is complete: style what waits, and colour its code."""
        for source in reversed(self._sources):
            if source.body == body:
                source.streaming = False
                self._parse_now(source)
                return

    def clear_sources(self) -> None:
        """Forget every message (the transcript is about to be cleared)."""
        self._sources = []
        self._pending.clear()

    def fence_tags(self, body: QTextBlock) -> list[str] | None:
        """Language tags of the code blocks of the message at ``body``, as last styled
        (None when that message is not known here)."""
        for source in reversed(self._sources):
            if source.body == body:
                self._parse_now(source)
                return [source.fences[n] for n in sorted(source.fences)]
        return None

    def link_at(self, position: int) -> str | None:
        """The address of the Markdown link covering document ``position``, if any."""
        doc = self.document()
        if doc is None:
            return None
        block = doc.findBlock(position)
        found = self._source_of(block)
        if found is None:
            return None
        self._parse_now(found)
        line = block.blockNumber() - found.body.blockNumber()
        column = position - block.position()
        for link in found.links.get(line, ()):
            if link.start <= column < link.end:
                return link.href
        return None

    # ----------------------------------------------------------------- style

    def set_style(self, palette: Palette, backgrounds: bool) -> None:
        """Change colours; ``backgrounds`` False keeps code backgrounds off (probability tints)."""
        if palette == self._palette and backgrounds == self._backgrounds:
            return
        self._palette = palette
        self._backgrounds = backgrounds
        self._formats = {}
        self.rehighlight()

    def _format(self, keys: tuple[str, ...]) -> QTextCharFormat:
        fmt = self._formats.get(keys)
        if fmt is not None:
            return fmt
        p = self._palette
        fmt = QTextCharFormat()
        mono = False
        for key in sorted(keys, key=lambda k: _PRIORITY.get(k, 0)):
            if key in _HEADING_SCALE:
                fmt.setFontWeight(QFont.Weight.Bold)
                doc = self.document()
                base = doc.defaultFont().pointSizeF() if doc is not None else -1.0
                base = base if base > 0 else 10.0
                fmt.setFontPointSize(base * _HEADING_SCALE[key])
            elif key in ("code", "code_inline", "fence", "table"):
                mono = True
                if key != "table" and key != "fence" and self._backgrounds:
                    fmt.setBackground(QColor(p.code_background))
            elif key in ("table_head", "bold"):
                fmt.setFontWeight(QFont.Weight.Bold)
            elif key == "italic":
                fmt.setFontItalic(True)
            elif key == "quote":
                fmt.setForeground(QColor(p.marker))
                fmt.setFontItalic(True)
            elif key in ("marker", "address"):
                fmt.setForeground(QColor(p.marker))
            elif key == "link":
                fmt.setForeground(QColor(p.link))
                fmt.setFontUnderline(True)
            elif key == "image":
                fmt.setForeground(QColor(p.link))
                fmt.setFontItalic(True)
            elif key == "bullet":
                fmt.setForeground(QColor(p.bullet))
                fmt.setFontWeight(QFont.Weight.Bold)
            elif key == "keyword":
                fmt.setForeground(QColor(p.keyword))
                fmt.setFontWeight(QFont.Weight.Bold)
            elif key == "comment":
                fmt.setForeground(QColor(p.comment))
                fmt.setFontItalic(True)
            elif key in ("string", "number", "name", "builtin"):
                fmt.setForeground(QColor(getattr(p, key)))
        if mono:
            fmt.setFontFamilies(self._mono.families())
            fmt.setFontFixedPitch(True)
        self._formats[keys] = fmt
        return fmt

    # ----------------------------------------------------------------- highlighting

    def highlightBlock(self, text: str) -> None:
        block = self.currentBlock()
        self.setCurrentBlockState(0)
        if block.blockFormat().boolProperty(PLAIN_BLOCK):
            return
        source = self._source_of(block)
        if source is None:
            return
        line = block.blockNumber() - source.body.blockNumber()
        if line < 0:
            return
        if line >= len(source.texts) or source.texts[line] != text:
            now = time.monotonic()
            appending = line >= len(source.texts) - 1 and line >= source.stable
            if (
                appending
                and source is self._sources[-1]
                and now - source.parsed_at < (PARSE_INTERVAL_S)
            ):
                # Streaming: keep the line's last styles for now; parse a little later.
                source.stale.add(line)
                if not self._parse_timer.isActive():
                    wait = PARSE_INTERVAL_S - (now - source.parsed_at)
                    self._parse_timer.start(max(1, int(wait * 1000)))
            else:
                self._reparse(source, line)
        if line < len(source.runs):
            for start, end, keys in source.runs[line]:
                if start < len(text):
                    self.setFormat(start, min(end, len(text)) - start, self._format(keys))

    def _source_of(self, block: QTextBlock) -> _Source | None:
        sources = self._sources
        if not sources or not block.isValid():
            return None
        position = block.position()
        last = sources[-1]
        if position >= last.body.position():
            return last
        n = bisect.bisect_right(sources, position, key=lambda s: s.body.position()) - 1
        return sources[n] if n >= 0 else None

    def _reparse(self, source: _Source, changed: int, start: int | None = None) -> None:
        # Blocks before the last top-level one are final: parse from there on.
        if start is None:
            start = source.stable if changed >= source.stable else 0
        doc = self.document()
        if doc is None:
            return
        block = doc.findBlockByNumber(source.body.blockNumber() + start)
        texts: list[str] = []
        while block.isValid() and not block.blockFormat().boolProperty(PLAIN_BLOCK):
            texts.append(block.text())
            block = block.next()
        styled = parse("\n".join(texts), load_lexers=not source.streaming)
        source.parsed_at = time.monotonic()
        if styled.missing:
            self._loader.load(styled.missing)
        old_count = len(source.texts)
        old_runs = source.runs[start:]
        source.texts[start:] = texts
        source.runs[start:] = styled.runs
        source.stable = start + styled.last_block
        for n in [n for n in source.links if n >= start]:
            del source.links[n]
        for n in [n for n in source.fences if n >= start]:
            del source.fences[n]
        for line, tag in styled.fences:
            source.fences[start + line] = tag
        for link in styled.links:
            source.links.setdefault(start + link.line, []).append(
                Link(start + link.line, link.start, link.end, link.href)
            )
        # Lines already styled whose styles changed are styled again, just after.
        key = id(source)
        for k, runs in enumerate(styled.runs):
            n = start + k
            if n != changed and n < old_count and (k >= len(old_runs) or old_runs[k] != runs):
                self._pending.add((key, n))
        # Lines styled while their text waited for this parse are styled again.
        self._pending.update((key, n) for n in source.stale if n != changed)
        source.stale.clear()
        if self._pending:
            self._flush_timer.start()

    def _parse_now(self, source: _Source) -> None:
        """Parse a message whose latest text is waiting for its parse, and restyle it."""
        if not source.stale:
            return
        # No line is the one being styled now: every line that changed is restyled.
        self._reparse(source, _NO_LINE)
        self._on_flush_timer_timeout()

    def _on_loader_loaded(self, tag: str) -> None:
        # Code in that language, shown uncoloured so far, is parsed again from its fence.
        for source in self._sources:
            lines = [n for n, t in source.fences.items() if t == tag]
            if lines and source.body.isValid():
                self._reparse(source, _NO_LINE, start=min(min(lines), source.stable))
                self._on_flush_timer_timeout()

    def _on_parse_timer_timeout(self) -> None:
        for source in self._sources:
            self._parse_now(source)

    def _on_flush_timer_timeout(self) -> None:
        doc = self.document()
        pending, self._pending = self._pending, set()
        if doc is None:
            return
        by_id = {id(s): s for s in self._sources}
        for key, line in sorted(pending, key=lambda x: x[1]):
            source = by_id.get(key)
            if source is None or not source.body.isValid():
                continue
            block = doc.findBlockByNumber(source.body.blockNumber() + line)
            if block.isValid():
                self.rehighlightBlock(block)


def code_blocks(text: str) -> list[tuple[str, str]]:
    """The fenced code blocks of Markdown ``text``: (language tag, code), in order.

    An unclosed fence at the end counts (a reply stopped mid-block).
    """
    return fenced_code(text)
