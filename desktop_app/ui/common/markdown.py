"""Markdown styling for the transcript, applied as the text streams.

The transcript keeps the exact text of every token (each one can be hovered and
clicked), so Markdown is not converted to rich text: a ``QSyntaxHighlighter``
styles it in place. Headings grow, ``**bold**`` and ``*italic*`` take effect with
their markers dimmed, inline code and fenced code blocks are set in a monospace
font, and code is coloured by a small per-language keyword table.

The highlighter only re-styles the blocks that changed, so styling a reply costs
the same per token at the 5,000th token as at the first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QSyntaxHighlighter,
    QTextCharFormat,
    QTextDocument,
    QTextFormat,
)

#: Block-format property marking blocks the highlighter leaves alone (headers, notes).
PLAIN_BLOCK = QTextFormat.Property.UserProperty + 1

_FENCE = re.compile(r"^\s{0,3}(```|~~~)\s*([\w+#.-]*)")
_HEADING = re.compile(r"^(#{1,6})\s")
_BULLET = re.compile(r"^\s*([-*+]|\d+[.)])\s")
_QUOTE = re.compile(r"^\s*>")
_BOLD = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_ITALIC = re.compile(r"(?<![*\w])([*_])(?=\S)([^*_]+?)(?<=\S)\1(?![*\w])")
_INLINE_CODE = re.compile(r"`[^`\n]+`")
_LINK = re.compile(r"\[([^\]\n]+)\]\(([^)\s]+)\)")

_NUMBER = re.compile(r"\b\d+(\.\d+)?\b")
_STRING = re.compile(r"\"(\\.|[^\"\\])*\"?|'(\\.|[^'\\])*'?")

_C_LIKE = (
    "auto break case catch char class const continue default delete do double else enum "
    "extern false final float for fn func go if impl import int interface let long match mod "
    "mut namespace new nil null package private protected pub public return self short signed "
    "sizeof static struct super switch template this throw true try type typedef typename "
    "union unsigned use var virtual void volatile while"
)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


@dataclass(frozen=True)
class _Language:
    keywords: frozenset[str]
    comment: re.Pattern[str]


_HASH_COMMENT = re.compile(r"#.*$")
_SLASH_COMMENT = re.compile(r"//.*$")
_LANGUAGES: dict[str, _Language] = {
    "python": _Language(
        _words(
            "False None True and as assert async await break class continue def del elif "
            "else except finally for from global if import in is lambda nonlocal not or pass "
            "raise return try while with yield match case self"
        ),
        _HASH_COMMENT,
    ),
    "c": _Language(_words(_C_LIKE), _SLASH_COMMENT),
    "javascript": _Language(
        frozenset(
            (
                _C_LIKE + " async await const export extends function in instanceof let of "
                "typeof undefined yield from"
            ).split()
        ),
        _SLASH_COMMENT,
    ),
    "shell": _Language(
        _words(
            "if then else elif fi for while do done case esac in function return export "
            "local echo cd exit set"
        ),
        _HASH_COMMENT,
    ),
    "sql": _Language(
        _words(
            "select from where insert into values update set delete create table index join "
            "left right inner outer on group by order limit and or not null as primary key "
            "SELECT FROM WHERE INSERT INTO VALUES UPDATE SET DELETE CREATE TABLE INDEX JOIN "
            "LEFT RIGHT INNER OUTER ON GROUP BY ORDER LIMIT AND OR NOT NULL AS PRIMARY KEY"
        ),
        re.compile(r"--.*$"),
    ),
}
_ALIASES = {
    "py": "python",
    "python3": "python",
    "js": "javascript",
    "ts": "javascript",
    "typescript": "javascript",
    "jsx": "javascript",
    "tsx": "javascript",
    "json": "javascript",
    "sh": "shell",
    "bash": "shell",
    "zsh": "shell",
    "console": "shell",
    "cpp": "c",
    "c++": "c",
    "h": "c",
    "hpp": "c",
    "java": "c",
    "rust": "c",
    "rs": "c",
    "go": "c",
    "csharp": "c",
    "cs": "c",
    "kotlin": "c",
    "swift": "c",
}
_LANGUAGE_IDS = {name: i + 1 for i, name in enumerate(_LANGUAGES)}
_LANGUAGE_BY_ID = {i: _LANGUAGES[name] for name, i in _LANGUAGE_IDS.items()}

# Block states: -1 unset, 0 prose, FENCE_BASE + language id inside a fence.
_PROSE = 0
_FENCE_BASE = 1 << 8


def _language_id(tag: str) -> int:
    name = _ALIASES.get(tag.lower(), tag.lower())
    return _LANGUAGE_IDS.get(name, 0)


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


LIGHT = Palette("#9a9a9a", "#f1f3f5", "#0033b3", "#067d17", "#8c8c8c", "#1750eb", "#1a5fb4")
DARK = Palette("#7a7a7a", "#2b2d30", "#cc7832", "#6aab73", "#7a7e85", "#2aacb8", "#78aeed")


class MarkdownHighlighter(QSyntaxHighlighter):
    """Styles Markdown in a transcript document, block by block as it changes."""

    def __init__(self, document: QTextDocument) -> None:
        super().__init__(document)
        self._palette = LIGHT
        self._backgrounds = True
        self._mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self._formats: dict[str, QTextCharFormat] = {}
        self._build_formats()

    def set_style(self, palette: Palette, backgrounds: bool) -> None:
        """Change colours; ``backgrounds`` False keeps code backgrounds off (probability tints)."""
        if palette == self._palette and backgrounds == self._backgrounds:
            return
        self._palette = palette
        self._backgrounds = backgrounds
        self._build_formats()
        self.rehighlight()

    def _build_formats(self) -> None:
        p = self._palette

        def fmt(
            colour: str | None = None,
            mono: bool = False,
            bold: bool = False,
            italic: bool = False,
            background: bool = False,
        ) -> QTextCharFormat:
            f = QTextCharFormat()
            if colour:
                f.setForeground(QColor(colour))
            if mono:
                f.setFontFamilies(self._mono.families())
                f.setFontFixedPitch(True)
                if background and self._backgrounds:
                    f.setBackground(QColor(p.code_background))
            if bold:
                f.setFontWeight(QFont.Weight.Bold)
            if italic:
                f.setFontItalic(True)
            return f

        self._formats = {
            "marker": fmt(p.marker),
            "fence": fmt(p.marker, mono=True),
            "code": fmt(mono=True, background=True),
            "keyword": fmt(p.keyword, mono=True, bold=True, background=True),
            "string": fmt(p.string, mono=True, background=True),
            "comment": fmt(p.comment, mono=True, italic=True, background=True),
            "number": fmt(p.number, mono=True, background=True),
            "inline_code": fmt(mono=True, background=True),
            "bold": fmt(bold=True),
            "italic": fmt(italic=True),
            "quote": fmt(p.marker, italic=True),
            "link": fmt(p.link),
        }
        heading = fmt(bold=True)
        doc = self.document()
        base = doc.defaultFont().pointSizeF() if doc is not None else -1.0
        heading.setFontPointSize(base * 1.3 if base > 0 else 13.0)
        self._formats["heading"] = heading

    def highlightBlock(self, text: str) -> None:
        block = self.currentBlock()
        if block.blockFormat().boolProperty(PLAIN_BLOCK):
            self.setCurrentBlockState(_PROSE)
            return
        previous = self.previousBlockState()
        fence = _FENCE.match(text)
        if previous >= _FENCE_BASE:
            if fence and not fence.group(2):
                self.setFormat(0, len(text), self._formats["fence"])
                self.setCurrentBlockState(_PROSE)
                return
            self._highlight_code(text, _LANGUAGE_BY_ID.get(previous - _FENCE_BASE))
            self.setCurrentBlockState(previous)
            return
        if fence:
            self.setFormat(0, len(text), self._formats["fence"])
            self.setCurrentBlockState(_FENCE_BASE + _language_id(fence.group(2)))
            return
        self.setCurrentBlockState(_PROSE)
        self._highlight_prose(text)

    def _highlight_prose(self, text: str) -> None:
        f = self._formats
        heading = _HEADING.match(text)
        if heading:
            self.setFormat(0, len(text), f["heading"])
            self.setFormat(0, len(heading.group(1)), f["marker"])
            return
        if _QUOTE.match(text):
            self.setFormat(0, len(text), f["quote"])
        bullet = _BULLET.match(text)
        if bullet:
            self.setFormat(bullet.start(1), len(bullet.group(1)), f["marker"])
        for m in _BOLD.finditer(text):
            self.setFormat(m.start(), m.end() - m.start(), f["bold"])
            self._dim_markers(m.start(), m.end(), len(m.group(1)))
        for m in _ITALIC.finditer(text):
            self.setFormat(m.start(), m.end() - m.start(), f["italic"])
            self._dim_markers(m.start(), m.end(), 1)
        for m in _LINK.finditer(text):
            self.setFormat(m.start(1), len(m.group(1)), f["link"])
            self.setFormat(m.start(2) - 2, len(m.group(2)) + 3, f["marker"])
        for m in _INLINE_CODE.finditer(text):
            self.setFormat(m.start(), m.end() - m.start(), f["inline_code"])

    def _dim_markers(self, start: int, end: int, width: int) -> None:
        self.setFormat(start, width, self._formats["marker"])
        self.setFormat(end - width, width, self._formats["marker"])

    def _highlight_code(self, text: str, language: _Language | None) -> None:
        f = self._formats
        self.setFormat(0, len(text), f["code"])
        if language is None or not text:
            return
        for m in _NUMBER.finditer(text):
            self.setFormat(m.start(), m.end() - m.start(), f["number"])
        for m in re.finditer(r"[A-Za-z_][A-Za-z_0-9]*", text):
            if m.group() in language.keywords:
                self.setFormat(m.start(), m.end() - m.start(), f["keyword"])
        strings = [(m.start(), m.end()) for m in _STRING.finditer(text)]
        for start, end in strings:
            self.setFormat(start, end - start, f["string"])
        comment = language.comment.search(text)
        # A comment marker inside a string literal does not start a comment.
        if comment and not any(s <= comment.start() < e for s, e in strings):
            self.setFormat(comment.start(), len(text) - comment.start(), f["comment"])


def code_blocks(text: str) -> list[tuple[str, str]]:
    """The fenced code blocks of Markdown ``text``: (language tag, code), in order.

    An unclosed fence at the end counts (a reply stopped mid-block).
    """
    blocks: list[tuple[str, str]] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        tag = m.group(2)
        body: list[str] = []
        i += 1
        while i < len(lines):
            close = _FENCE.match(lines[i])
            if close and not close.group(2):
                break
            body.append(lines[i])
            i += 1
        code = "\n".join(body)
        # An unclosed fence runs to the end of the text, newline included.
        blocks.append((tag, code if i < len(lines) else code.rstrip("\n")))
        i += 1
    return blocks
