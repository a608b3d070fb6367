"""The collapsible "Thinking" block above a reply's answer in the transcript.

A reasoning model's ``<think>…</think>`` block is shown between the reply's header
and its answer: a line that opens and closes it ("▸ Thinking · 42 tokens · 3.1 s")
and the reasoning's tokens, tinted and clickable like the answer's (the token
view's tooltips, alternatives and branching work on them the same way). While
the reasoning streams the block is open; once the answer starts it closes,
unless the user opened or closed it by hand. Closing hides the blocks (Qt keeps
their text, so token positions stay valid).

:class:`ReplyThinking` is the session's side: it times the reasoning of a
streaming reply and writes its figures into the reply's card.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QColor, QTextBlock, QTextBlockFormat, QTextCharFormat, QTextCursor

from desktop_app.core.chat.thinking import (
    META_KEY,
    Split,
    ThinkingSplitter,
    meta_figures,
    opened_in_meta,
    opens_in_prompt,
    sections,
)
from desktop_app.core.engine.protocol import GenerateRequest, ModelLoaded, TokenEvent

__all__ = [
    "TOGGLE_ACTION",
    "ReplyThinking",
    "ThinkingSection",
    "meta_figures",
    "opened_in_meta",
    "prompt_opens_thinking",
    "reasoning_format",
    "thinking_label",
]
from desktop_app.ui.common.markdown import PLAIN_BLOCK

#: The action name of the link that opens and closes a block.
TOGGLE_ACTION = "thinking"


def thinking_label(expanded: bool, streaming: bool, tokens: int, seconds: float | None) -> str:
    """The text of the line that opens and closes a Thinking block."""
    arrow = "▾" if expanded else "▸"
    if streaming:
        title = QCoreApplication.translate("ThinkingBlock", "Thinking…")
    else:
        title = QCoreApplication.translate("ThinkingBlock", "Thinking")
    if tokens == 1:
        count = QCoreApplication.translate("ThinkingBlock", "1 token")
    else:
        count = QCoreApplication.translate("ThinkingBlock", "{n} tokens").format(n=tokens)
    parts = [f"{arrow} {title}", count]
    if seconds is not None:
        parts.append(QCoreApplication.translate("ThinkingBlock", "{s:.1f} s").format(s=seconds))
    return " · ".join(parts)


class ThinkingSection:
    """One reply's Thinking block: where its blocks are, and whether it is open.

    ``opened`` says the prompt opened ``<think>`` (the reply starts inside it);
    ``seconds`` is the stored reasoning time (None: measured here while it streams).
    """

    def __init__(self, opened: bool, seconds: float | None, streaming: bool) -> None:
        self.splitter: ThinkingSplitter[int] = ThinkingSplitter(opened)
        self.toggle: QTextBlock | None = None
        self.first: QTextBlock | None = None
        self.expanded = streaming
        self.user_set = False
        self.streaming = streaming
        self.count = 0  # tokens with reasoning text
        self.seconds = seconds
        self._started: float | None = None
        self._ended: float | None = None
        self.n_tokens = 0  # tokens in the section (reasoning and tags): a prefix of the reply
        self.waiting: list[TokenEvent] = []  # tokens the splitter has not decided yet
        self._link = QTextCharFormat()

    @property
    def created(self) -> bool:
        """Whether the block is in the document (a reply without reasoning has none)."""
        return self.first is not None

    def push(self, tokens: Sequence[tuple[int, str]]) -> list[Split[int]]:
        """Tokens (index, text) into the splitter; the ones now decided."""
        out: list[Split[int]] = []
        for index, text in tokens:
            out.extend(self.splitter.push(text, index))
        return out

    def finish(self) -> list[Split[int]]:
        """The reply ended: the tokens still undecided."""
        self.streaming = False
        return self.splitter.finish()

    def note_reasoning(self, has_text: bool) -> None:
        """A token of the reasoning was shown (``has_text``: not only a tag)."""
        if has_text:
            self.count += 1
        if not self.streaming:
            return  # a stored reply: its seconds come from its card
        now = time.monotonic()
        if self._started is None:
            self._started = now
        self._ended = now

    def shown_seconds(self) -> float | None:
        """The reasoning's seconds: stored, or measured while it streamed."""
        if self.seconds is not None:
            return self.seconds
        if self._started is None or self._ended is None:
            return None
        return self._ended - self._started

    def create(
        self, header: QTextBlock, message_id: int, link: QTextCharFormat, dark: bool
    ) -> None:
        """Put the toggle line and the first reasoning block under the reply's header."""
        cursor = QTextCursor(header)
        cursor.movePosition(QTextCursor.MoveOperation.EndOfBlock)
        line = QTextBlockFormat()
        line.setProperty(PLAIN_BLOCK, True)
        line.setTopMargin(4.0)
        cursor.insertBlock(line, QTextCharFormat())
        self.toggle = cursor.block()
        fmt = QTextCharFormat(link)
        fmt.setAnchor(True)
        fmt.setAnchorHref(f"glassbox:{TOGGLE_ACTION}/{message_id}")
        self._link = fmt
        cursor.insertText(self.label(), fmt)
        box = QTextBlockFormat()
        box.setProperty(PLAIN_BLOCK, True)
        box.setLeftMargin(14.0)
        box.setBackground(QColor(0x2A, 0x2E, 0x35) if dark else QColor(0xF2, 0xF3, 0xF5))
        cursor.insertBlock(box, QTextCharFormat())
        self.first = cursor.block()
        # A little room between the block and the answer under it.
        gap = QTextBlockFormat()
        gap.setTopMargin(6.0)
        QTextCursor(self.first.next()).mergeBlockFormat(gap)

    def label(self) -> str:
        """The toggle line's text now."""
        return thinking_label(self.expanded, self.streaming, self.count, self.shown_seconds())

    def relabel(self) -> None:
        """Write the toggle line again (the counts or the state changed)."""
        if self.toggle is None:
            return
        cursor = QTextCursor(self.toggle)
        cursor.movePosition(QTextCursor.MoveOperation.EndOfBlock, QTextCursor.MoveMode.KeepAnchor)
        cursor.insertText(self.label(), self._link)

    def end_cursor(self, body: QTextBlock) -> QTextCursor:
        """A cursor at the end of the reasoning (just above the answer)."""
        cursor = QTextCursor(body)
        cursor.setPosition(body.position() - 1)
        return cursor

    def base(self) -> int:
        """Document position the reasoning tokens' offsets count from."""
        return self.first.position() if self.first is not None else 0

    def show(self, body: QTextBlock, expanded: bool | None = None) -> None:
        """Open or close the block (None: apply the current state to new blocks)."""
        if expanded is not None:
            self.expanded = expanded
        if self.first is None:
            return
        block = self.first
        while block.isValid() and block != body:
            block.setVisible(self.expanded)
            block = block.next()
        doc = self.first.document()
        start = self.first.position()
        doc.markContentsDirty(start, max(1, body.position() - start))
        self.relabel()


def reasoning_format(base: QTextCharFormat, dark: bool) -> QTextCharFormat:
    """A reasoning token's format: its tint (if any), in italics, muted when untinted."""
    fmt = QTextCharFormat(base)
    fmt.setFontItalic(True)
    if not base.hasProperty(QTextCharFormat.Property.BackgroundBrush):
        fmt.setForeground(QColor(0xA8, 0xAD, 0xB4) if dark else QColor(0x55, 0x5B, 0x63))
    return fmt


class ReplyThinking:
    """A streaming reply's reasoning, seen from the session: when it started and
    ended, for the reply's card (``{"opened", "tokens", "seconds"}``)."""

    def __init__(self, opened: bool) -> None:
        self.opened = opened
        self._splitter: ThinkingSplitter[None] = ThinkingSplitter(opened)
        self._first: float | None = None
        self._last: float | None = None

    def on_tokens(self, tokens: Sequence[TokenEvent]) -> None:
        """Tokens arrived now."""
        if not tokens:
            return
        now = time.monotonic()
        if self._first is None:
            self._first = now
        for token in tokens:
            self._splitter.push(token.text, None)
        if self._splitter.thinking and (self._splitter.in_reasoning or self._last is None):
            self._last = now

    def card(self, texts: Sequence[str]) -> dict[str, Any]:
        """What the reply's card keeps about its reasoning (empty when it had none)."""
        splits = sections(texts, self.opened)
        count = sum(1 for s in splits if s.section == "reasoning" and s.text("reasoning"))
        if not count and not self.opened:
            return {}
        seconds = (
            round(self._last - self._first, 3)
            if self._first is not None and self._last is not None
            else None
        )
        return {META_KEY: {"opened": self.opened, "tokens": count, "seconds": seconds}}


def prompt_opens_thinking(loaded: ModelLoaded | None, request: GenerateRequest) -> bool:
    """Whether the prompt ``request`` renders for ``loaded`` opens ``<think>`` itself
    (so the reply starts inside its reasoning)."""
    return opens_in_prompt(loaded, request)
