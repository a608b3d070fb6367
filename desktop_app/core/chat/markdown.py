"""Markdown styles for text that stays exactly as written: runs of style keys per line.

A reply is shown as the model wrote it, character for character, because every
token of it can be hovered and clicked. So Markdown is not converted into other
text: it is parsed (markdown-it-py, CommonMark with tables; raw HTML is not
recognised, so it stays text) and its token source map says which characters of
which line are a heading, a table, a list marker, strong text, a link, code...
Code in fences is coloured by Pygments, in every language it knows.

The window's highlighter and the HTML export apply these styles the same way. A
streaming reply is parsed again from the start of its last top-level block only
(:attr:`Styled.last_block`): blocks before it can no longer change.
"""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.token import Comment, Keyword, Name, Number, String, _TokenType
from pygments.util import ClassNotFound

#: A run of styles on one line: start and end column, and the style keys, outer first.
Run = tuple[int, int, tuple[str, ...]]

#: Languages whose lexers are prepared ahead (:func:`warm_up`), so the first code
#: block in one of them does not hold up the window while Pygments compiles it.
COMMON_LANGUAGES = (
    "python",
    "javascript",
    "typescript",
    "rust",
    "go",
    "c",
    "cpp",
    "java",
    "csharp",
    "bash",
    "sql",
    "json",
    "yaml",
    "html",
    "css",
    "toml",
)

_INLINE_RULES_WITH_PLACES = ("backticks", "emphasis", "link", "image", "autolink")
_LIST_MARKER = re.compile(r"([-+*]|\d{1,9}[.)])")
_HEADING_MARKS = re.compile(r"\s*(#{1,6})")
_QUOTE_MARKS = re.compile(r"[ \t>]*")


@dataclass(frozen=True, slots=True)
class Link:
    """A link in the text: its line, columns and address (shown, never followed unasked)."""

    line: int
    start: int
    end: int
    href: str


@dataclass
class Styled:
    """Styles of some lines: ``runs[i]`` for line ``i``, links, and where the last
    top-level block starts (the first line a longer text could still restyle)."""

    runs: list[list[Run]]
    links: list[Link] = field(default_factory=list)
    last_block: int = 0
    fences: list[tuple[int, str]] = field(default_factory=list)  # (first line, language tag)
    missing: set[str] = field(default_factory=set)  # languages whose lexers were not loaded


# --------------------------------------------------------------------------- parser


def _with_places(rule: Callable[[StateInline, bool], bool], name: str) -> Any:
    """Wrap an inline rule so its tokens remember where in the inline text they were."""

    def wrapped(state: StateInline, silent: bool) -> bool:
        start = state.pos
        before = len(state.tokens)
        found = rule(state, silent)
        if not found or silent:
            return found
        end = state.pos
        new = state.tokens[before:]
        if name == "emphasis":
            # One token per marker character, the last ``end - start`` pushed.
            for k, token in enumerate(new[len(new) - (end - start) :]):
                token.meta["at"] = (start + k, start + k + 1)
            return found
        label_end = -1
        if name in ("link", "image"):
            label_end = state.md.helpers.parseLinkLabel(
                state, start + (1 if name == "image" else 0), name == "link"
            )
            state.pos = end
        for token in new:
            if token.type != "text" and "at" not in token.meta:
                token.meta["at"] = (start, end)
                token.meta["label_end"] = label_end
        return found

    return wrapped


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    for rule in md.inline.ruler.__rules__:
        if rule.name in _INLINE_RULES_WITH_PLACES:
            md.inline.ruler.at(rule.name, _with_places(rule.fn, rule.name))
    return md


_local = threading.local()


def _md() -> MarkdownIt:
    md: MarkdownIt | None = getattr(_local, "md", None)
    if md is None:
        md = _local.md = _parser()
    return md


def _blocks_md() -> MarkdownIt:
    # Blocks only, no inline parsing: finding the code blocks of a long reply is quick.
    md: MarkdownIt | None = getattr(_local, "blocks_md", None)
    if md is None:
        md = MarkdownIt("commonmark", {"html": False}).enable("table")
        md.disable(["inline", "text_join"])
        _local.blocks_md = md
    return md


# --------------------------------------------------------------------------- code


_lexers: dict[str, Lexer | None] = {}
_lexers_lock = threading.Lock()


def lexer_for(tag: str) -> Lexer | None:
    """The Pygments lexer for a fence's language tag (None when Pygments has none)."""
    name = tag.strip().lower()
    if not name:
        return None
    with _lexers_lock:
        if name in _lexers:
            return _lexers[name]
    try:
        lexer: Lexer | None = get_lexer_by_name(name, stripnl=False, ensurenl=False)
        if lexer is not None:
            # A lexer's rules are compiled on first use: do it now, not mid-stream.
            for _ in lexer.get_tokens_unprocessed("x"):
                pass
    except ClassNotFound:
        lexer = None
    with _lexers_lock:
        _lexers[name] = lexer
    return lexer


def loaded_lexer(tag: str) -> tuple[bool, Lexer | None]:
    """Whether the lexer for ``tag`` was looked up already, and that lexer (never loads)."""
    name = tag.strip().lower()
    with _lexers_lock:
        if name in _lexers:
            return True, _lexers[name]
    return False, None


def warm_up(languages: Iterable[str] = COMMON_LANGUAGES) -> None:
    """Prepare the parser and the lexers of ``languages`` (run it on a worker thread)."""
    parse("# x\n\n| a |\n|---|\n| *b* |\n\n- [c](https://example.com)\n")
    for name in languages:
        lexer_for(name)


@lru_cache(maxsize=512)
def _code_key(ttype: _TokenType) -> str | None:
    if ttype in Comment:
        return "comment"
    if ttype in String:
        return "string"
    if ttype in Number:
        return "number"
    if ttype in Keyword:
        return "keyword"
    if ttype in Name.Builtin:
        return "builtin"
    if ttype in Name.Function or ttype in Name.Class:
        return "name"
    return None


@lru_cache(maxsize=256)
def _code_runs(tag: str, code: str) -> tuple[tuple[tuple[int, int, str], ...], ...]:
    """Per line of ``code``: (start, end, key) of what Pygments recognises."""
    lines = code.split("\n")
    out: list[list[tuple[int, int, str]]] = [[] for _ in lines]
    lexer = lexer_for(tag)
    if lexer is None:
        return tuple(tuple(x) for x in out)
    starts = [0]
    for text in lines[:-1]:
        starts.append(starts[-1] + len(text) + 1)
    line = 0
    for index, ttype, value in lexer.get_tokens_unprocessed(code):
        key = _code_key(ttype)
        if key is None or not value:
            continue
        a, b = index, index + len(value)
        while line + 1 < len(starts) and starts[line + 1] <= a:
            line += 1
        n = line
        while a < b and n < len(lines):
            end = min(b, starts[n] + len(lines[n]))
            if end > a:
                out[n].append((a - starts[n], end - starts[n], key))
            n += 1
            if n < len(starts):
                a = starts[n]
    return tuple(tuple(x) for x in out)


# --------------------------------------------------------------------------- styling


class _Builder:
    def __init__(self, lines: Sequence[str], load_lexers: bool = True) -> None:
        self.lines = lines
        self.load_lexers = load_lexers
        self.missing: set[str] = set()
        self.spans: list[list[tuple[int, int, str]]] = [[] for _ in lines]
        self.links: list[Link] = []
        self.marker_hint: dict[int, int] = {}
        self.cell_hint: dict[int, int] = {}

    def add(self, line: int, start: int, end: int, key: str) -> None:
        if 0 <= line < len(self.lines):
            end = min(end, len(self.lines[line]))
            if end > start >= 0:
                self.spans[line].append((start, end, key))

    def whole(self, line: int, key: str) -> None:
        if 0 <= line < len(self.lines):
            self.add(line, 0, len(self.lines[line]), key)

    def runs(self) -> list[list[Run]]:
        return [_merge(spans) for spans in self.spans]


def _merge(spans: list[tuple[int, int, str]]) -> list[Run]:
    """Non-overlapping runs, each with the keys of the spans over it, in order."""
    if not spans:
        return []
    cuts = sorted({p for s in spans for p in s[:2]})
    runs: list[Run] = []
    for a, b in itertools.pairwise(cuts):
        keys = tuple(k for s, e, k in spans if s <= a and b <= e)
        if not keys:
            continue
        if runs and runs[-1][1] == a and runs[-1][2] == keys:
            runs[-1] = (runs[-1][0], b, keys)
        else:
            runs.append((a, b, keys))
    return runs


def _block(b: _Builder, token: Token) -> None:
    kind, where = token.type, token.map
    if where is None:
        return
    first, last = where[0], where[1]
    lines = b.lines
    if kind == "heading_open":
        level = f"h{token.tag[1:]}"
        if token.markup.startswith("#"):
            b.whole(first, level)
            m = _HEADING_MARKS.match(lines[first]) if first < len(lines) else None
            if m:
                b.add(first, m.start(1), m.end(1), "marker")
        else:  # setext: text lines, then the underline
            for n in range(first, last - 1):
                b.whole(n, level)
            b.whole(last - 1, "marker")
    elif kind == "fence":
        _fence(b, token, first, last)
    elif kind == "code_block":
        for n in range(first, last):
            b.whole(n, "code")
    elif kind == "table_open":
        for n in range(first, last):
            b.whole(n, "table")
            text = lines[n] if n < len(lines) else ""
            for m in re.finditer(r"(?<!\\)\|", text):
                b.add(n, m.start(), m.end(), "marker")
        b.whole(first, "table_head")
        b.whole(first + 1, "marker")
    elif kind == "blockquote_open":
        for n in range(first, last):
            b.whole(n, "quote")
            text = lines[n] if n < len(lines) else ""
            m = _QUOTE_MARKS.match(text)
            if m:
                for k in range(m.start(), m.end()):
                    if text[k] == ">":
                        b.add(n, k, k + 1, "marker")
    elif kind == "list_item_open":
        text = lines[first] if first < len(lines) else ""
        hint = b.marker_hint.get(first, 0)
        m = _LIST_MARKER.search(text, hint)
        if m:
            b.add(first, m.start(), m.end(), "bullet")
            b.marker_hint[first] = m.end()
    elif kind == "hr":
        b.whole(first, "marker")
    elif kind == "inline":
        _inline(b, token, first, last)


def _fence(b: _Builder, token: Token, first: int, last: int) -> None:
    lines = b.lines
    b.whole(first, "fence")
    closing = last - 1
    text = lines[closing] if closing < len(lines) else ""
    closed = closing > first and text.strip().startswith(token.markup)
    body_end = closing if closed else last
    if closed:
        b.whole(closing, "fence")
    code_lines = token.content.split("\n")
    tag = token.info.split()[0] if token.info.strip() else ""
    per_line: tuple[tuple[tuple[int, int, str], ...], ...] = ()
    if tag and (b.load_lexers or loaded_lexer(tag)[0]):
        per_line = _code_runs(tag, token.content)
    elif tag:
        b.missing.add(tag)  # coloured once its lexer is loaded (elsewhere)
    for k, n in enumerate(range(first + 1, body_end)):
        b.whole(n, "code")
        if k >= len(per_line) or n >= len(lines):
            continue
        code_line = code_lines[k]
        doc_line = lines[n]
        # A fence inside a list item has the item's indentation taken off its lines.
        offset = len(doc_line) - len(code_line) if doc_line.endswith(code_line) else 0
        for start, end, key in per_line[k]:
            b.add(n, offset + start, offset + end, key)


def _inline(b: _Builder, token: Token, first: int, last: int) -> None:
    children = token.children or []
    if not children:
        return
    content_lines = token.content.split("\n")
    # Where each line of the inline text starts in it, and in the line of the text.
    places: list[tuple[int, int, int]] = []  # (src start, doc line, doc column) per line
    pos = 0
    for k, cl in enumerate(content_lines):
        n = first + k
        if n >= len(b.lines) or n >= max(last, first + 1):
            break
        doc_line = b.lines[n]
        hint = b.cell_hint.get(n, 0)
        col = doc_line.find(cl, hint) if cl else hint
        if col >= 0:
            places.append((pos, n, col))
            b.cell_hint[n] = col + len(cl)
        pos += len(cl) + 1
    if not places:
        return
    line_len = [len(cl) for cl in content_lines]

    def span(a: int, z: int, key: str) -> None:
        for k, (src, n, col) in enumerate(places):
            length = line_len[k] if k < len(line_len) else 0
            lo, hi = max(a, src), min(z, src + length)
            if hi > lo:
                b.add(n, col + lo - src, col + hi - src, key)

    def link(a: int, z: int, href: str) -> None:
        for k, (src, n, col) in enumerate(places):
            length = line_len[k] if k < len(line_len) else 0
            lo, hi = max(a, src), min(z, src + length)
            if hi > lo:
                b.links.append(Link(n, col + lo - src, col + hi - src, href))

    opened: dict[str, list[int]] = {"strong": [], "em": []}
    for child in children:
        at = child.meta.get("at") if child.meta else None
        kind = child.type
        if kind in ("strong_open", "em_open") and at:
            name = kind[:-5]
            start = at[0] - (1 if name == "strong" else 0)
            opened[name].append(start)
            span(start, start + len(child.markup), "marker")
        elif kind in ("strong_close", "em_close") and at:
            name = kind[:-6]
            if opened[name]:
                start = opened[name].pop()
                end = at[0] + len(child.markup)
                span(start, end, "bold" if name == "strong" else "italic")
                span(at[0], end, "marker")
        elif kind == "code_inline" and at:
            span(at[0], at[1], "code_inline")
        elif kind == "link_open" and at:
            a, z = at
            href = str(child.attrs.get("href", ""))
            label_end = int(child.meta.get("label_end", -1))
            if child.markup == "autolink" or label_end < 0:
                span(a, z, "link")
            else:
                span(a, a + 1, "marker")
                span(a + 1, label_end, "link")
                span(label_end, z, "address")
            link(a, z, href)
        elif kind == "image" and at:
            a, z = at
            label_end = int(child.meta.get("label_end", -1))
            if label_end < 0:
                span(a, z, "image")
            else:
                span(a, a + 2, "marker")
                span(a + 2, label_end, "image")
                span(label_end, z, "address")


def parse(text: str, load_lexers: bool = True) -> Styled:
    """Styles of ``text``, line by line (the lines of ``text.split("\\n")``).

    ``load_lexers`` False leaves code in languages whose Pygments lexer is not
    loaded yet uncoloured (they are listed in :attr:`Styled.missing`): loading
    one takes tens of milliseconds.
    """
    # markdown-it reads a lone CR as a line break; the window does not.
    lines = text.replace("\r", " ").split("\n")
    tokens = _md().parse("\n".join(lines))
    builder = _Builder(lines, load_lexers)
    last_block = 0
    fences: list[tuple[int, str]] = []
    for token in tokens:
        if token.level == 0 and token.map is not None and token.nesting >= 0:
            last_block = token.map[0]
        if token.type == "fence" and token.map is not None:
            fences.append((token.map[0], token.info.split()[0] if token.info.strip() else ""))
        _block(builder, token)
    return Styled(builder.runs(), builder.links, last_block, fences, builder.missing)


def fenced_code(text: str) -> list[tuple[str, str]]:
    """The fenced code blocks of Markdown ``text``: (language tag, code), in order.

    An unclosed fence at the end counts (a reply stopped mid-block).
    """
    out = []
    for token in _blocks_md().parse(text.replace("\r", " ")):
        if token.type == "fence":
            tag = token.info.split()[0] if token.info.strip() else ""
            out.append((tag, token.content.removesuffix("\n")))
    return out
