"""The transcript: one conversation branch, every reply token hoverable and clickable.

The whole branch lives in one ``QTextDocument``. Streaming appends at the end
only, so a flush of tokens costs the same whatever the length of the reply; the
Markdown is styled in place by :class:`MarkdownHighlighter`; message actions
(regenerate, edit, ‹ 2/3 ›, …) are links in each message's header line.

Each rendered message remembers its first body block (a ``QTextBlock`` keeps its
place as text is added before or after it) and the start offset of every token
relative to it, so a point on screen maps to a token by two binary searches.
Tooltips and the alternatives menu are built only when asked for.
"""

from __future__ import annotations

import bisect
import html
from collections.abc import Sequence
from dataclasses import dataclass, field

from PySide6.QtCore import (
    QCoreApplication,
    QEvent,
    QPoint,
    QPointF,
    QRect,
    Qt,
    QUrl,
    Signal,
    Slot,
)
from PySide6.QtGui import (
    QAccessible,
    QAccessibleEvent,
    QColor,
    QDesktopServices,
    QFont,
    QGuiApplication,
    QHelpEvent,
    QKeyEvent,
    QMouseEvent,
    QTextBlock,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
    QTextLine,
)
from PySide6.QtWidgets import (
    QMenu,
    QMessageBox,
    QTextBrowser,
    QTextEdit,
    QToolTip,
    QWidget,
)

from desktop_app.core.chat.export import probability_rgb
from desktop_app.core.chat.thinking import Split, has_reasoning, stored_parts
from desktop_app.core.engine.contrast import from_documents
from desktop_app.core.engine.protocol import TokenEvent
from desktop_app.core.kb.check import LOW_SUPPORT, NO_CITATION, SentenceCheck
from desktop_app.core.tools.format import opens_call
from desktop_app.ui.chat.thinking_block import TOGGLE_ACTION, ThinkingSection, reasoning_format
from desktop_app.ui.common.markdown import (
    DARK,
    LIGHT,
    PLAIN_BLOCK,
    MarkdownHighlighter,
    code_blocks,
)
from desktop_app.ui.common.plain_text import inert_resource

#: Candidates listed in a token's tooltip and in its alternatives menu.
TOOLTIP_CANDIDATES = 5
MENU_CANDIDATES = 10
#: Tints are quantised to this many steps, so a long reply shares a few formats.
_TINT_STEPS = 64

_SCHEME = "glassbox"
#: Link schemes a transcript offers to open (in the browser or the mail program).
_OPENABLE = ("http", "https", "mailto")


def role_name(role: str) -> str:
    """The name shown above a message for its role (the role itself when unknown)."""
    names = {
        "user": QCoreApplication.translate("ChatView", "You"),
        "assistant": QCoreApplication.translate("ChatView", "Glassbox"),
        "system": QCoreApplication.translate("ChatView", "System"),
    }
    return names.get(role, role)


def probability_colour(p: float) -> QColor:
    """A light viridis tint for probability ``p`` (purple: unlikely, yellow: likely).

    The scale lives in ``core.chat.export``, so the window and an exported page agree.
    """
    return QColor(*probability_rgb(p))


def visible_text(text: str) -> str:
    """A token's text with whitespace made visible (tooltips, menus, announcements)."""
    return text.replace(" ", "␣").replace("\n", "↵").replace("\t", "⇥") or "∅"


def draft_note(token: TokenEvent) -> str:
    """What speculative decoding did at a token's position ("" when nothing was proposed)."""
    if token.draft == "accepted":
        return QCoreApplication.translate("ChatView", "Drafted, accepted by the model")
    if token.draft == "replaced":
        return QCoreApplication.translate(
            "ChatView", "Drawn by the model; the draft proposed another token"
        )
    return ""


def documents_note(token: TokenEvent) -> str:
    """The token's probability with and without the documents ("" when not measured)."""
    if token.p_with is None or token.p_without is None:
        return ""
    text = QCoreApplication.translate(
        "ChatView", "with the documents {with_p:.3f} · without them {without_p:.3f}"
    ).format(with_p=token.p_with, without_p=token.p_without)
    if from_documents(token.p_with, token.p_without):
        text += " · " + QCoreApplication.translate("ChatView", "from the documents")
    return text


def decision_note(token: TokenEvent) -> str:
    """What the token where the model decided to call a tool says about the decision:
    how likely its top candidates were to start a call or to go on as plain text."""
    shown = token.candidates[:TOOLTIP_CANDIDATES]
    call = sum(c.p_raw for c in shown if opens_call(c.text))
    texts = [c for c in shown if not opens_call(c.text)]
    note = QCoreApplication.translate(
        "ChatView",
        "The model decided to call a tool at this token. Among its top {n} candidates: "
        "a call {call} percent, plain text {text} percent.",
    ).format(n=len(shown), call=round(call * 100), text=round(sum(c.p_raw for c in texts) * 100))
    if texts:
        top = max(texts, key=lambda c: c.p_raw)
        note += " " + QCoreApplication.translate(
            "ChatView", "Click ‘{text}’ to branch without the call."
        ).format(text=visible_text(top.text))
    return note


def token_tooltip(token: TokenEvent, decision: bool = False) -> str:
    """Rich-text tooltip: the drawn token and the top candidates with what the sampler
    did; at a ``decision`` (where the model called a tool), what each candidate starts."""
    gap = "style='padding-left:12px'"
    call_word = html.escape(QCoreApplication.translate("ChatView", "call"))
    text_word = html.escape(QCoreApplication.translate("ChatView", "text"))
    rows = []
    for cand in token.candidates[:TOOLTIP_CANDIDATES]:
        bold = " style='font-weight:bold'" if cand.id == token.id else ""
        removed = html.escape(cand.removed_by) if cand.removed_by else "—"
        kind = ""
        if decision:
            kind = f"<td {gap}>{call_word if opens_call(cand.text) else text_word}</td>"
        rows.append(
            f"<tr{bold}><td>{html.escape(visible_text(cand.text))}</td>"
            f"<td align='right' {gap}>{cand.p_raw:.3f}</td>"
            f"<td align='right' {gap}>{cand.p_final:.3f}</td><td {gap}>{removed}</td>{kind}</tr>"
        )
    head = f"<b>{html.escape(visible_text(token.text))}</b> &nbsp; p = {token.p:.3f}"
    if decision:
        head += f"<br>{html.escape(decision_note(token))}"
    drafted = draft_note(token)
    if drafted:
        head += f"<br><i>{html.escape(drafted)}</i>"
    documents = documents_note(token)
    if documents:
        head += f"<br>{html.escape(documents)}"
    if not rows:
        return head
    token_head = html.escape(QCoreApplication.translate("ChatView", "token"))
    before = html.escape(QCoreApplication.translate("ChatView", "before"))
    after = html.escape(QCoreApplication.translate("ChatView", "after"))
    cut_by = html.escape(QCoreApplication.translate("ChatView", "cut by"))
    starts = html.escape(QCoreApplication.translate("ChatView", "starts"))
    kind_head = f"<th align='left' {gap}>{starts}</th>" if decision else ""
    headers = (
        f"<tr><th align='left'>{token_head}</th><th align='right' {gap}>{before}</th>"
        f"<th align='right' {gap}>{after}</th><th align='left' {gap}>{cut_by}</th>"
        f"{kind_head}</tr>"
    )
    hint = html.escape(
        QCoreApplication.translate("ChatView", "Click to branch from an alternative.")
    )
    return (
        f"{head}<table cellspacing='0' cellpadding='1'>{headers}"
        + "".join(rows)
        + f"</table><i>{hint}</i>"
    )


def describe_token(token: TokenEvent, forced: bool = False) -> str:
    """What a screen reader says for a token: "token ‘Paris’, 92 percent; alternatives: …"."""
    alternatives = [c for c in token.candidates if c.id != token.id][:3]
    text, percent = visible_text(token.text), round(token.p * 100)
    if forced:
        said = QCoreApplication.translate(
            "ChatView", "token ‘{text}’, {percent} percent, chosen by you"
        )
    else:
        said = QCoreApplication.translate("ChatView", "token ‘{text}’, {percent} percent")
    said = said.format(text=text, percent=percent)
    drafted = draft_note(token)
    if drafted:
        said = f"{said}; {drafted[:1].lower()}{drafted[1:]}"
    if token.p_with is not None and token.p_without is not None:
        said += "; " + QCoreApplication.translate(
            "ChatView", "{with_p} percent with the documents, {without_p} without them"
        ).format(with_p=round(token.p_with * 100), without_p=round(token.p_without * 100))
    if not alternatives:
        return said
    parts = []
    for c in alternatives:
        if c.removed_by:
            parts.append(
                QCoreApplication.translate(
                    "ChatView", "‘{text}’ {percent} percent, cut by {stage}"
                ).format(
                    text=visible_text(c.text),
                    percent=round(c.p_raw * 100),
                    stage=c.removed_by.replace("_", "-"),
                )
            )
        else:
            parts.append(
                QCoreApplication.translate("ChatView", "‘{text}’ {percent} percent").format(
                    text=visible_text(c.text), percent=round(c.p_final * 100)
                )
            )
    return QCoreApplication.translate("ChatView", "{token}; alternatives: {alternatives}").format(
        token=said, alternatives=QCoreApplication.translate("ChatView", "; ").join(parts)
    )


def sentence_note(check: SentenceCheck) -> str:
    """Plain-text tooltip of an unsupported sentence: why, and its key tokens'
    probabilities."""
    cited = ", ".join(f"[{n}]" for n in check.citations)
    if check.reason == NO_CITATION:
        why = QCoreApplication.translate("ChatView", "Unsupported: this sentence cites no source.")
    elif check.reason == LOW_SUPPORT:
        why = QCoreApplication.translate(
            "ChatView",
            "Unsupported: the cited passage {cited} holds {percent}% of this sentence's key terms.",
        ).format(cited=cited, percent=round((check.support or 0.0) * 100))
    else:
        why = QCoreApplication.translate(
            "ChatView", "Unsupported: it cites {cited}, which was not given."
        ).format(cited=cited)
    lines = [why]
    if check.missing:
        lines.append(
            QCoreApplication.translate("ChatView", "Not in the passage: {terms}").format(
                terms=", ".join(check.missing[:8])
            )
        )
    if check.key_tokens:
        tokens = ", ".join(
            f"‘{k.token.strip() or visible_text(k.token)}’ {k.p:.2f}" for k in check.key_tokens
        )
        lines.append(
            QCoreApplication.translate("ChatView", "Key tokens (probability): {tokens}").format(
                tokens=tokens
            )
        )
    return "\n".join(lines)


@dataclass(frozen=True)
class SentenceMark:
    """An unsupported sentence of a reply: its span in the reply's text and its note."""

    start: int
    end: int
    note: str


def sentence_marks(
    checks: Sequence[SentenceCheck], shown: str, body: str
) -> tuple[SentenceMark, ...]:
    """Marks for the unsupported ``checks`` of ``body`` (the checked answer) placed in
    ``shown`` (the reply's text as rendered); none when ``body`` is not in it."""
    base = shown.find(body) if body else -1
    if base < 0:
        return ()
    return tuple(
        SentenceMark(base + c.start, base + c.end, sentence_note(c))
        for c in checks
        if not c.supported and c.end <= len(body)
    )


@dataclass(frozen=True)
class MessageView:
    """What the transcript shows of one message."""

    id: int
    role: str
    content: str
    tokens: tuple[TokenEvent, ...] = ()
    forced: frozenset[int] = frozenset()
    status: str = "complete"
    branch_index: int = 1
    branch_count: int = 1
    edited: bool = False
    detail: str = ""
    sources: tuple[tuple[int, str], ...] = ()  # (n, file name) of the documents it cites
    marks: tuple[SentenceMark, ...] = ()  # its sentences the cited passages do not support
    #: The prompt opened the reply's <think> block, and the reasoning's stored seconds.
    thinking_opened: bool = False
    thinking_seconds: float | None = None
    #: The tokens where the model decided to call a tool (marked, with a note).
    decisions: frozenset[int] = frozenset()


@dataclass(eq=False)
class _Rendered:
    view: MessageView
    body: QTextBlock
    tokens: list[TokenEvent] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)  # relative to the body start
    ends: list[int] = field(default_factory=list)
    forced: set[int] = field(default_factory=set)
    header: QTextBlock | None = None
    # A reply's Thinking block; its tokens are the first ``think.n_tokens``, with
    # offsets from the block's start instead of the body's.
    think: ThinkingSection | None = None


def status_note(status: str) -> str | None:
    """The note shown under a message that did not end normally, or None."""
    notes = {
        "streaming": QCoreApplication.translate("ChatView", "still being written"),
        "interrupted": QCoreApplication.translate(
            "ChatView", "interrupted: Glassbox closed while this reply was being written"
        ),
        "cancelled": QCoreApplication.translate("ChatView", "stopped"),
        "error": QCoreApplication.translate("ChatView", "ended with an error"),
    }
    return notes.get(status)


class ChatView(QTextBrowser):
    """The transcript of the current branch, with the token view."""

    sig_action = Signal(str, int)
    """A message action link was followed: the action name and the message id
    (edit, regenerate, continue, fork, details, prev, next)."""

    sig_alternative = Signal(int, int, int)
    """Branch the reply: message id, token index, and the candidate token id to force."""

    sig_token_selected = Signal(object, object)
    """A token was selected by click or keyboard: its ``TokenEvent`` (or None) and
    ``(message_id, index)`` (or None)."""

    sig_source = Signal(int, int)
    """A numbered source under a reply was clicked: the message id and the source number."""

    sig_copied = Signal(str)
    """Text went to the clipboard; the argument says what ("message", "code block")."""

    def __init__(self, parent: QWidget | None = None, read_only: bool = False) -> None:
        super().__init__(parent)
        # Read-only: a result to look at (a task's output), with no chat actions and
        # alternatives shown but not offered for branching.
        self._read_only = read_only
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.setAccessibleName(self.tr("Transcript"))
        self.setAccessibleDescription(
            self.tr(
                "The conversation. Alt+Left and Alt+Right move between reply tokens; Enter opens a token's alternatives."  # noqa: E501
            )
        )
        doc = self.document()
        doc.setUndoRedoEnabled(False)
        doc.setDocumentMargin(12)
        self._highlighter = MarkdownHighlighter(doc)
        self._dark = False
        self._show_probs = False
        self._mark_drafts = False
        self._mark_documents = False
        self._document_tints: dict[int, QTextCharFormat] = {}
        self._messages: list[_Rendered] = []
        self._streaming: _Rendered | None = None
        self._selected: tuple[int, int] | None = None  # (message position, token index)
        self._plain = QTextCharFormat()
        self._tints: dict[int, QTextCharFormat] = {}
        self._forced_tints: dict[int, QTextCharFormat] = {}
        self._drafted_tints: dict[int, QTextCharFormat] = {}
        self.anchorClicked.connect(self._on_self_anchor_clicked)

    # ----------------------------------------------------------------- public

    def set_dark(self, dark: bool) -> None:
        """Use colours for a dark background."""
        self._dark = dark
        self._highlighter.set_style(DARK if dark else LIGHT, not self._show_probs)

    @property
    def show_probabilities(self) -> bool:
        """Whether reply tokens are tinted by their probability."""
        return self._show_probs

    def set_show_probabilities(self, show: bool) -> None:
        """Tint (or untint) every reply token by the probability it was drawn with."""
        if show == self._show_probs:
            return
        self._show_probs = show
        self._highlighter.set_style(DARK if self._dark else LIGHT, not show)
        self._restyle_tokens()

    @property
    def mark_drafts(self) -> bool:
        """Whether tokens a draft proposed and the model accepted are underlined."""
        return self._mark_drafts

    def set_mark_drafts(self, mark: bool) -> None:
        """Underline (dotted) every reply token that was drafted and accepted, or stop."""
        if mark == self._mark_drafts:
            return
        self._mark_drafts = mark
        self._restyle_tokens()

    @property
    def mark_documents(self) -> bool:
        """Whether tokens the documents made likelier are underlined."""
        return self._mark_documents

    def set_mark_documents(self, mark: bool) -> None:
        """Underline every reply token whose probability rose most with the documents
        (measured by context-aware decoding), or stop."""
        if mark == self._mark_documents:
            return
        self._mark_documents = mark
        self._restyle_tokens()

    def _restyle_tokens(self) -> None:
        cursor = QTextCursor(self.document())
        cursor.beginEditBlock()
        for rendered in self._messages:
            for i, token in enumerate(rendered.tokens):
                base = self._base(rendered, i)
                cursor.setPosition(base + rendered.starts[i])
                cursor.setPosition(base + rendered.ends[i], QTextCursor.MoveMode.KeepAnchor)
                fmt = self._format_of(token, i in rendered.forced)
                if base != rendered.body.position():
                    fmt = reasoning_format(fmt, self._dark)
                cursor.setCharFormat(fmt)
            self._apply_marks(cursor, rendered)
        cursor.endEditBlock()

    def _apply_marks(self, cursor: QTextCursor, rendered: _Rendered) -> None:
        """Underline (wavy) the reply's unsupported sentences; set the tokens where the
        model decided to call a tool in bold blue, underlined."""
        self._apply_decisions(cursor, rendered)
        if not rendered.view.marks:
            return
        base = rendered.body.position()
        length = len(self._text_of(rendered))
        fmt = QTextCharFormat()
        fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
        fmt.setUnderlineColor(QColor(0xE0, 0x6C, 0x75) if self._dark else QColor(0xC0, 0x1C, 0x28))
        for mark in rendered.view.marks:
            if mark.start >= mark.end or mark.end > length:
                continue
            cursor.setPosition(base + mark.start)
            cursor.setPosition(base + mark.end, QTextCursor.MoveMode.KeepAnchor)
            cursor.mergeCharFormat(fmt)

    def _apply_decisions(self, cursor: QTextCursor, rendered: _Rendered) -> None:
        if not rendered.view.decisions:
            return
        # Bold, blue and underlined, over the probability tint when it is shown.
        blue = QColor(0x78, 0xAE, 0xED) if self._dark else QColor(0x1A, 0x5F, 0xB4)
        if self._show_probs:
            blue = QColor(0x1A, 0x5F, 0xB4)  # the tints are light in both themes
        fmt = QTextCharFormat()
        fmt.setFontWeight(QFont.Weight.Bold)
        fmt.setForeground(blue)
        fmt.setFontUnderline(True)
        fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.SingleUnderline)
        fmt.setUnderlineColor(blue)
        for i in rendered.view.decisions:
            if 0 <= i < len(rendered.tokens) and rendered.starts[i] < rendered.ends[i]:
                base = self._base(rendered, i)
                cursor.setPosition(base + rendered.starts[i])
                cursor.setPosition(base + rendered.ends[i], QTextCursor.MoveMode.KeepAnchor)
                cursor.mergeCharFormat(fmt)

    def is_decision(self, message_id: int, index: int) -> bool:
        """Whether a reply's token is one where the model decided to call a tool."""
        return any(r.view.id == message_id and index in r.view.decisions for r in self._messages)

    def tooltip_at(self, position: int) -> str:
        """The tooltip at a document position: an unsupported sentence's note (plain
        text, escaped) above the token's table; "" for none."""
        found = self._locate(position)
        mark = self.mark_at(position)
        parts = []
        if mark is not None:
            parts.append("<p>" + html.escape(mark.note).replace("\n", "<br>") + "</p>")
        if found is not None:
            m, i = found
            decision = i in self._messages[m].view.decisions
            parts.append(token_tooltip(self._messages[m].tokens[i], decision))
        return "<hr>".join(parts)

    def mark_at(self, position: int) -> SentenceMark | None:
        """The unsupported sentence at a document position, or None."""
        if position < 0 or not self._messages:
            return None
        bases = [r.body.position() for r in self._messages]
        m = bisect.bisect_right(bases, position) - 1
        if m < 0:
            return None
        offset = position - bases[m]
        for mark in self._messages[m].view.marks:
            if mark.start <= offset < mark.end:
                return mark
        return None

    def show_messages(self, messages: Sequence[MessageView]) -> None:
        """Show a whole branch, replacing what is shown."""
        self._select(None)
        self._highlighter.clear_sources()
        self.clear()
        self._messages = []
        self._streaming = None
        cursor = QTextCursor(self.document())
        cursor.beginEditBlock()
        for view in messages:
            self._render(cursor, view)
        cursor.endEditBlock()
        self.verticalScrollBar().setValue(self.verticalScrollBar().maximum())

    def append_message(self, view: MessageView) -> None:
        """Add one finished message under the transcript."""
        was_at_bottom = self._at_bottom()
        cursor = self._end_cursor()
        cursor.beginEditBlock()
        self._render(cursor, view)
        cursor.endEditBlock()
        self._follow(was_at_bottom)

    def append_note(self, text: str, error: bool = False) -> None:
        """Add a line that is not a message (an error, a notice) under the transcript."""
        was_at_bottom = self._at_bottom()
        cursor = self._end_cursor()
        block = QTextBlockFormat()
        block.setProperty(PLAIN_BLOCK, True)
        block.setTopMargin(6.0)
        fmt = QTextCharFormat()
        fmt.setForeground(QColor(0xE0, 0x6C, 0x75) if self._dark else QColor(0xA4, 0x00, 0x00))
        if not error:
            fmt.setForeground(QColor(0x8A, 0x8A, 0x8A))
            fmt.setFontItalic(True)
        if self.document().isEmpty():
            cursor.setBlockFormat(block)
        else:
            cursor.insertBlock(block, QTextCharFormat())
        cursor.insertText(text, fmt)
        self._follow(was_at_bottom)

    def scroll_to_message(self, message_id: int) -> None:
        """Bring a message's header into view (a search hit)."""
        for rendered in self._messages:
            if rendered.view.id == message_id:
                cursor = QTextCursor(rendered.header or rendered.body.previous())
                self.setTextCursor(cursor)
                self.ensureCursorVisible()
                return
        raise KeyError(message_id)

    def begin_reply(self, view: MessageView) -> None:
        """Start showing a reply that will stream (``view.tokens`` is a forced prefix)."""
        was_at_bottom = self._at_bottom()
        cursor = self._end_cursor()
        cursor.beginEditBlock()
        self._streaming = self._render(cursor, view)
        cursor.endEditBlock()
        self._follow(was_at_bottom)

    def append_tokens(self, tokens: Sequence[TokenEvent]) -> None:
        """Add streamed tokens to the reply begun with :meth:`begin_reply`."""
        rendered = self._streaming
        if rendered is None or not tokens:
            return
        was_at_bottom = self._at_bottom()
        cursor = self._end_cursor()
        base = rendered.body.position()
        cursor.beginEditBlock()
        self._insert_tokens(cursor, rendered, tokens, base)
        cursor.endEditBlock()
        self._follow(was_at_bottom)

    def end_reply(self, view: MessageView) -> None:
        """The streamed reply ended: add its line of actions, state and code-copy links."""
        rendered = self._streaming
        self._streaming = None
        if rendered is None:
            return
        rendered.view = view
        was_at_bottom = self._at_bottom()
        cursor = self._end_cursor()
        if rendered.think is not None:
            self._place(cursor, rendered, rendered.think.finish())
        # The highlighter has parsed the reply as it streamed: its code blocks are known.
        self._highlighter.end_source(rendered.body)
        tags = self._highlighter.fence_tags(rendered.body)
        cursor.beginEditBlock()
        self._insert_footer(cursor, view, self._text_of(rendered), tags)
        self._apply_marks(cursor, rendered)
        cursor.endEditBlock()
        self._follow(was_at_bottom)

    def message_text(self, message_id: int) -> str | None:
        """The text shown for a message (tokens joined for a streamed reply)."""
        for rendered in self._messages:
            if rendered.view.id == message_id:
                return self._text_of(rendered)
        return None

    def answer_text(self, message_id: int) -> str | None:
        """A message's text without its reasoning (what Copy takes)."""
        for rendered in self._messages:
            if rendered.view.id == message_id:
                text = self._text_of(rendered)
                meta = {"thinking": {"opened": rendered.view.thinking_opened}}
                if rendered.think is None or not has_reasoning(text, meta):
                    return text
                return stored_parts(text, meta)[1]
        return None

    def message_ids(self) -> list[int]:
        """Ids of the messages shown, top to bottom."""
        return [r.view.id for r in self._messages]

    def token_count(self, message_id: int) -> int:
        """How many tokens of a message are shown with their probabilities."""
        for rendered in self._messages:
            if rendered.view.id == message_id:
                return len(rendered.tokens)
        return 0

    def tokens_before(self, message_id: int, index: int) -> list[TokenEvent]:
        """The tokens of a message shown before its ``index``-th (for DRY and the penalty)."""
        for rendered in self._messages:
            if rendered.view.id == message_id:
                return list(rendered.tokens[:index])
        return []

    def token_at(self, position: int) -> tuple[int, int, TokenEvent] | None:
        """The token covering document ``position``: (message id, index, event)."""
        found = self._locate(position)
        if found is None:
            return None
        m, i = found
        rendered = self._messages[m]
        return rendered.view.id, i, rendered.tokens[i]

    def token_span(self, message_id: int, index: int) -> tuple[int, int]:
        """Document positions (start, end) of a token."""
        for rendered in self._messages:
            if rendered.view.id == message_id:
                base = self._base(rendered, index)
                return base + rendered.starts[index], base + rendered.ends[index]
        raise KeyError(message_id)

    def selected_token(self) -> tuple[int, int, TokenEvent] | None:
        """The token selected by click or keyboard, if any."""
        if self._selected is None:
            return None
        m, i = self._selected
        rendered = self._messages[m]
        return rendered.view.id, i, rendered.tokens[i]

    def select_token(self, message_id: int, index: int) -> None:
        """Select a token (as a click or Alt+arrow would)."""
        for m, rendered in enumerate(self._messages):
            if rendered.view.id == message_id and 0 <= index < len(rendered.tokens):
                self._select((m, index))
                return
        raise KeyError((message_id, index))

    def alternatives_menu(self, message_id: int, index: int) -> QMenu:
        """The menu of a token's alternatives; choosing one emits ``sig_alternative``."""
        for rendered in self._messages:
            if rendered.view.id == message_id:
                return self._build_menu(rendered, index)
        raise KeyError(message_id)

    # ----------------------------------------------------------------- rendering

    def _format_of(self, token: TokenEvent, forced: bool) -> QTextCharFormat:
        """A token's format: its tint, dashed if chosen, dotted if drafted, a green
        underline if it came from the documents (each when marked)."""
        if not forced and self._mark_documents and from_documents(token.p_with, token.p_without):
            step = round(token.p * _TINT_STEPS) if self._show_probs else -1
            fmt = self._document_tints.get(step)
            if fmt is None:
                fmt = QTextCharFormat(self._token_format(token.p, False))
                fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.SingleUnderline)
                fmt.setUnderlineColor(QColor(0x1B, 0x8A, 0x3C))
                fmt.setFontUnderline(True)
                self._document_tints[step] = fmt
            return fmt
        if forced or not self._mark_drafts or token.draft != "accepted":
            return self._token_format(token.p, forced)
        step = round(token.p * _TINT_STEPS) if self._show_probs else -1
        fmt = self._drafted_tints.get(step)
        if fmt is None:
            fmt = QTextCharFormat(self._token_format(token.p, False))
            fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.DotLine)
            fmt.setUnderlineColor(QColor(0x8A, 0x8A, 0x8A))
            self._drafted_tints[step] = fmt
        return fmt

    def _token_format(self, p: float, forced: bool) -> QTextCharFormat:
        if not self._show_probs:
            if not forced:
                return self._plain
            cache, step = self._forced_tints, -1
        else:
            cache, step = (self._forced_tints if forced else self._tints), round(p * _TINT_STEPS)
        fmt = cache.get(step)
        if fmt is None:
            fmt = QTextCharFormat()
            if step >= 0:
                fmt.setBackground(probability_colour(step / _TINT_STEPS))
                fmt.setForeground(QColor(0x10, 0x10, 0x10))
            if forced:
                # A token the user chose: dashed underline, tinted or not.
                fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.DashUnderline)
            cache[step] = fmt
        return fmt

    def _render(self, cursor: QTextCursor, view: MessageView) -> _Rendered:
        doc = self.document()
        header = QTextBlockFormat()
        header.setProperty(PLAIN_BLOCK, True)
        header.setTopMargin(0.0 if doc.isEmpty() else 14.0)
        if doc.isEmpty():
            cursor.setBlockFormat(header)
        else:
            cursor.insertBlock(header, QTextCharFormat())
        self._insert_header(cursor, view)
        header_block = cursor.block()
        cursor.insertBlock(QTextBlockFormat(), self._plain)
        rendered = _Rendered(view, cursor.block(), forced=set(view.forced), header=header_block)
        if view.role == "assistant":
            rendered.think = ThinkingSection(
                view.thinking_opened, view.thinking_seconds, streaming=view.status == "streaming"
            )
        self._messages.append(rendered)
        self._highlighter.add_source(rendered.body, streaming=view.status == "streaming")
        if view.tokens:
            self._insert_tokens(cursor, rendered, view.tokens, rendered.body.position())
            if rendered.think is not None and view.status != "streaming":
                self._place(cursor, rendered, rendered.think.finish())
            # Text after the recorded tokens (a hand edit keeps no tokens; this is
            # only a safety net for a record cut short by a crash).
            shown = "".join(t.text for t in view.tokens)
            if view.content.startswith(shown) and len(view.content) > len(shown):
                cursor.insertText(view.content[len(shown) :], self._plain)
        else:
            cursor.insertText(view.content, self._plain)
        if view.status != "streaming":
            # Copy-code links count the answer's code blocks, not the reasoning's.
            self._insert_footer(cursor, view, self.answer_text(view.id) or view.content)
            if view.marks or view.decisions:
                self._apply_marks(QTextCursor(self.document()), rendered)
        return rendered

    def _insert_tokens(
        self, cursor: QTextCursor, rendered: _Rendered, tokens: Sequence[TokenEvent], base: int
    ) -> None:
        think = rendered.think
        if think is not None:
            # Through the reasoning splitter: a token is placed once it is known
            # whether it belongs to the Thinking block or the answer.
            first = len(rendered.tokens) + len(think.waiting)
            think.waiting.extend(tokens)
            self._place(
                cursor, rendered, think.push([(first + k, t.text) for k, t in enumerate(tokens)])
            )
            return
        starts, ends, forced = rendered.starts, rendered.ends, rendered.forced
        n = len(rendered.tokens)
        for k, token in enumerate(tokens):
            start = cursor.position()
            cursor.insertText(token.text, self._format_of(token, (n + k) in forced))
            starts.append(start - base)
            ends.append(cursor.position() - base)
        rendered.tokens.extend(tokens)

    def _place(
        self, cursor: QTextCursor, rendered: _Rendered, splits: Sequence[Split[int]]
    ) -> None:
        """Show decided tokens: the reasoning's in the Thinking block (made when the
        first comes), the answer's at ``cursor``; tags take no room."""
        think = rendered.think
        if think is None:
            return
        for split in splits:
            token = think.waiting.pop(0)
            i = len(rendered.tokens)
            fmt = self._format_of(token, i in rendered.forced)
            reasoning = split.text("reasoning")
            if split.section == "reasoning" and think.splitter.thinking and think.n_tokens == i:
                if not think.created:
                    header = rendered.header or rendered.body.previous()
                    think.create(header, rendered.view.id, self._toggle_format(), self._dark)
                at = think.end_cursor(rendered.body)
                start = at.position()
                if reasoning:
                    at.insertText(reasoning, reasoning_format(fmt, self._dark))
                rendered.starts.append(start - think.base())
                rendered.ends.append(at.position() - think.base())
                think.n_tokens += 1
                think.note_reasoning(bool(reasoning))
            else:
                if think.created and think.expanded and not think.user_set:
                    think.show(rendered.body, False)  # the answer has begun
                if reasoning and think.created:
                    think.end_cursor(rendered.body).insertText(
                        reasoning, reasoning_format(self._plain, self._dark)
                    )
                base = rendered.body.position()
                start = cursor.position()
                cursor.insertText(split.text("answer"), fmt)
                rendered.starts.append(start - base)
                rendered.ends.append(cursor.position() - base)
            rendered.tokens.append(token)
        if think.created:
            think.show(rendered.body)

    def _toggle_format(self) -> QTextCharFormat:
        fmt = QTextCharFormat()
        fmt.setForeground(QColor(0x78, 0xAE, 0xED) if self._dark else QColor(0x1A, 0x5F, 0xB4))
        return fmt

    def _base(self, rendered: _Rendered, index: int) -> int:
        """Document position a token's offsets count from (its block's or the body's)."""
        think = rendered.think
        if think is not None and index < think.n_tokens and think.created:
            return think.base()
        return rendered.body.position()

    def thinking_expanded(self, message_id: int) -> bool | None:
        """Whether a reply's Thinking block is open (None: it has none)."""
        for rendered in self._messages:
            if rendered.view.id == message_id:
                think = rendered.think
                return think.expanded if think is not None and think.created else None
        return None

    def set_thinking_expanded(self, message_id: int, expanded: bool) -> None:
        """Open or close a reply's Thinking block (as its line's link does)."""
        for rendered in self._messages:
            think = rendered.think
            if rendered.view.id == message_id and think is not None and think.created:
                think.user_set = True
                think.show(rendered.body, expanded)
                return

    def _insert_header(self, cursor: QTextCursor, view: MessageView) -> None:
        # Only what is known when a reply starts: it is never rewritten, so ending a
        # long reply costs nothing above it.
        role = QTextCharFormat()
        role.setFontWeight(QFont.Weight.Bold)
        role.setForeground(QColor(0x9F, 0xC3, 0xF0) if self._dark else QColor(0x1F, 0x3A, 0x5F))
        cursor.insertText(role_name(view.role), role)
        quiet = QTextCharFormat()
        quiet.setForeground(QColor(0x8A, 0x8A, 0x8A))
        if view.branch_count > 1:
            cursor.insertText("   ", quiet)
            self._link(cursor, "‹", "prev", view.id, enabled=view.branch_index > 1)
            cursor.insertText(f" {view.branch_index}/{view.branch_count} ", quiet)
            self._link(cursor, "›", "next", view.id, enabled=view.branch_index < view.branch_count)

    def _insert_footer(
        self, cursor: QTextCursor, view: MessageView, text: str, tags: list[str] | None = None
    ) -> None:
        """The line under a finished message: its state, its actions, code-copy links."""
        quiet = QTextCharFormat()
        quiet.setForeground(QColor(0x8A, 0x8A, 0x8A))
        footer = QTextBlockFormat()
        footer.setProperty(PLAIN_BLOCK, True)
        footer.setTopMargin(2.0)
        cursor.insertBlock(footer, QTextCharFormat())
        if self._read_only:
            quiet.setFontItalic(True)
            if view.detail:
                shown = view.detail
            elif len(view.tokens) == 1:
                shown = self.tr("1 token")
            else:
                shown = self.tr("{n} tokens").format(n=len(view.tokens))
            cursor.insertText(shown, quiet)
            return
        actions: list[tuple[str, str]] = [(self.tr("Copy"), "copy"), (self.tr("Edit"), "edit")]
        if view.role == "assistant":
            actions = [
                (self.tr("Regenerate"), "regenerate"),
                (self.tr("Continue"), "continue"),
                *actions,
                (self.tr("Details"), "details"),
            ]
        actions.append((self.tr("Fork"), "fork"))
        # The message and the replies under it; Undo is offered for a few seconds.
        actions.append(
            (self.tr("Delete branch") if view.branch_count > 1 else self.tr("Delete"), "delete")
        )
        for n, (label, action) in enumerate(actions):
            if n:
                cursor.insertText(" · ", quiet)
            self._link(cursor, label, action, view.id)
        if tags is None:
            tags = [tag for tag, _ in code_blocks(text)] if "```" in text or "~~~" in text else []
        blocks = tags
        for n, tag in enumerate(blocks):
            cursor.insertText(" · ", quiet)
            if len(blocks) > 1 and tag:
                label = self.tr("Copy code {n} ({language})").format(n=n + 1, language=tag)
            elif len(blocks) > 1:
                label = self.tr("Copy code {n}").format(n=n + 1)
            elif tag:
                label = self.tr("Copy code ({language})").format(language=tag)
            else:
                label = self.tr("Copy code")
            self._link(cursor, label, f"copy-code/{n}", view.id)
        if view.sources:
            cursor.insertText("     " + self.tr("Sources:") + " ", quiet)
            for k, (n, name) in enumerate(view.sources):
                if k:
                    cursor.insertText(" · ", quiet)
                self._link(cursor, f"[{n}] {name}", f"source/{n}", view.id)
        notes = []
        note = status_note(view.status)
        if note:
            notes.append(note)
        if view.edited:
            notes.append(self.tr("edited"))
        if view.detail:
            notes.append(view.detail)
        if notes:
            italic = QTextCharFormat(quiet)
            italic.setFontItalic(True)
            cursor.insertText("     " + " · ".join(notes), italic)

    def _link(
        self, cursor: QTextCursor, label: str, action: str, message_id: int, enabled: bool = True
    ) -> None:
        fmt = QTextCharFormat()
        if enabled:
            fmt.setAnchor(True)
            name, _, arg = action.partition("/")
            fmt.setAnchorHref(f"{_SCHEME}:{name}/{message_id}" + (f"/{arg}" if arg else ""))
            fmt.setForeground(QColor(0x78, 0xAE, 0xED) if self._dark else QColor(0x1A, 0x5F, 0xB4))
        else:
            fmt.setForeground(QColor(0xB0, 0xB0, 0xB0))
        cursor.insertText(label, fmt)

    def _text_of(self, rendered: _Rendered) -> str:
        if rendered.tokens and rendered.view.status in ("streaming",):
            return "".join(t.text for t in rendered.tokens)
        if rendered.tokens and not rendered.view.content:
            return "".join(t.text for t in rendered.tokens)
        return rendered.view.content

    # ----------------------------------------------------------------- scrolling

    def _end_cursor(self) -> QTextCursor:
        cursor = QTextCursor(self.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        return cursor

    def _at_bottom(self) -> bool:
        bar = self.verticalScrollBar()
        return bar.value() >= bar.maximum() - 4

    def _follow(self, was_at_bottom: bool) -> None:
        # Keep the newest text in view, unless the user scrolled up to read.
        if was_at_bottom:
            bar = self.verticalScrollBar()
            bar.setValue(bar.maximum())

    # ----------------------------------------------------------------- hit testing

    def _locate(self, position: int) -> tuple[int, int] | None:
        if position < 0 or not self._messages:
            return None
        bases = [
            r.think.base() if r.think is not None and r.think.created else r.body.position()
            for r in self._messages
        ]
        m = bisect.bisect_right(bases, position) - 1
        if m < 0:
            return None
        rendered = self._messages[m]
        think = rendered.think
        split = think.n_tokens if think is not None and think.created else 0
        if split and position < rendered.body.position():
            offset, lo, hi = position - bases[m], 0, split  # in the Thinking block
        else:
            offset, lo, hi = position - rendered.body.position(), split, len(rendered.tokens)
        i = bisect.bisect_right(rendered.starts, offset, lo, hi) - 1
        if i < lo or offset >= rendered.ends[i]:
            return None
        return m, i

    def _position_at(self, point: QPoint) -> int:
        """The document position of the character under a viewport point, or -1."""
        doc_point = QPointF(
            point.x() + self.horizontalScrollBar().value(),
            point.y() + self.verticalScrollBar().value(),
        )
        layout = self.document().documentLayout()
        pos = layout.hitTest(doc_point, Qt.HitTestAccuracy.FuzzyHit)
        if pos < 0:
            return -1
        block = self.document().findBlock(pos)
        block_rect = layout.blockBoundingRect(block)
        text_layout = block.layout()
        local = doc_point - block_rect.topLeft()
        for n in range(text_layout.lineCount()):
            line = text_layout.lineAt(n)
            rect = line.naturalTextRect()
            if rect.top() <= local.y() < rect.bottom():
                if not rect.left() <= local.x() < rect.right():
                    return -1
                index = line.xToCursor(local.x(), QTextLine.CursorPosition.CursorOnCharacter)
                return block.position() + index
        return -1

    def _token_rect(self, m: int, i: int) -> QRect:
        rendered = self._messages[m]
        cursor = QTextCursor(self.document())
        cursor.setPosition(self._base(rendered, i) + rendered.starts[i])
        rect = self.cursorRect(cursor)
        return rect

    # ----------------------------------------------------------------- selection

    def _select(self, found: tuple[int, int] | None) -> None:
        self._selected = found
        if found is None:
            self.setExtraSelections([])
            self.sig_token_selected.emit(None, None)
            return
        m, i = found
        rendered = self._messages[m]
        think = rendered.think
        if think is not None and think.created and i < think.n_tokens and not think.expanded:
            think.user_set = True
            think.show(rendered.body, True)  # a reasoning token is shown when selected
        base = self._base(rendered, i)
        selection = QTextEdit.ExtraSelection()
        cursor = QTextCursor(self.document())
        cursor.setPosition(base + rendered.starts[i])
        cursor.setPosition(base + rendered.ends[i], QTextCursor.MoveMode.KeepAnchor)
        selection.cursor = cursor
        fmt = QTextCharFormat()
        palette = self.palette()
        fmt.setBackground(palette.highlight())
        fmt.setForeground(palette.highlightedText())
        selection.format = fmt
        self.setExtraSelections([selection])
        token = rendered.tokens[i]
        said = describe_token(token, i in rendered.forced)
        if i in rendered.view.decisions:
            said += "; " + decision_note(token)  # a screen reader hears the decision too
        self.setAccessibleDescription(said)
        QAccessible.updateAccessibility(
            QAccessibleEvent(self, QAccessible.Event.DescriptionChanged)
        )
        self._scroll_to(cursor)
        self.sig_token_selected.emit(token, (rendered.view.id, i))

    def _scroll_to(self, cursor: QTextCursor) -> None:
        rect = self.cursorRect(cursor)
        viewport = self.viewport().rect()
        if not viewport.contains(rect):
            bar = self.verticalScrollBar()
            bar.setValue(bar.value() + rect.center().y() - viewport.center().y())

    def _step_selection(self, delta: int) -> None:
        flat = [(m, i) for m, r in enumerate(self._messages) for i in range(len(r.tokens))]
        if not flat:
            return
        if self._selected is None:
            # Start from the last reply, where people usually look.
            target = flat[-1] if delta < 0 else flat[0]
            last = max(m for m, _ in flat)
            if delta > 0:
                target = next(x for x in flat if x[0] == last)
        else:
            k = flat.index(self._selected) + delta
            target = flat[min(max(k, 0), len(flat) - 1)]
        self._select(target)

    def _build_menu(self, rendered: _Rendered, index: int) -> QMenu:
        token = rendered.tokens[index]
        menu = QMenu(self)
        menu.setAccessibleName(self.tr("Token alternatives"))
        menu.setToolTipsVisible(True)
        title = menu.addAction(
            self.tr("Drawn: ‘{text}’  {p:.1%}").format(text=visible_text(token.text), p=token.p)
        )
        title.setEnabled(False)
        drafted = draft_note(token)
        if drafted:
            menu.addAction(drafted).setEnabled(False)
        menu.addSeparator()
        heading = len(menu.actions())
        for cand in token.candidates[:MENU_CANDIDATES]:
            if cand.id == token.id:
                continue
            if cand.removed_by:
                fate = self.tr("{p:.1%}, cut by {stage}").format(
                    p=cand.p_raw, stage=cand.removed_by.replace("_", "-")
                )
            else:
                fate = f"{cand.p_raw:.1%} → {cand.p_final:.1%}"
            if self._read_only:
                menu.addAction(f"‘{visible_text(cand.text)}’   {fate}").setEnabled(False)
                continue
            action = menu.addAction(
                self.tr("Branch with ‘{text}’   {fate}").format(
                    text=visible_text(cand.text), fate=fate
                )
            )
            action.setToolTip(self.tr("Generate the rest of the reply from this token instead."))
            message_id, cand_id = rendered.view.id, cand.id
            action.triggered.connect(
                lambda _=False, m=message_id, i=index, c=cand_id: self.sig_alternative.emit(m, i, c)
            )
        if len(menu.actions()) == heading:
            menu.addAction(self.tr("No alternatives were recorded for this token.")).setEnabled(
                False
            )
        return menu

    def _open_menu(self, m: int, i: int, where: QPoint | None = None) -> None:
        menu = self._build_menu(self._messages[m], i)
        if where is None:
            where = self._token_rect(m, i).bottomLeft()
        menu.popup(self.viewport().mapToGlobal(where))

    # ----------------------------------------------------------------- Qt events

    def viewportEvent(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            tip = self.tooltip_at(self._position_at(event.pos()))
            if not tip:
                QToolTip.hideText()
                event.ignore()
                return True
            QToolTip.showText(event.globalPos(), tip, self.viewport())
            return True
        return super().viewportEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        super().mouseReleaseEvent(event)
        if event.button() != Qt.MouseButton.LeftButton or self.textCursor().hasSelection():
            return
        if self.anchorAt(event.position().toPoint()):
            return
        position = self._position_at(event.position().toPoint())
        href = self._highlighter.link_at(position) if position >= 0 else None
        if href:
            event.accept()
            self.open_link(href)
            return
        found = self._locate(position)
        if found is None:
            return
        event.accept()
        self._select(found)
        self._open_menu(*found, where=event.position().toPoint())

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        alt = event.modifiers() & Qt.KeyboardModifier.AltModifier
        if alt and key in (Qt.Key.Key_Right, Qt.Key.Key_Left):
            self._step_selection(1 if key == Qt.Key.Key_Right else -1)
            event.accept()
            return
        if self._selected is not None and key in (
            Qt.Key.Key_Return,
            Qt.Key.Key_Enter,
            Qt.Key.Key_Space,
            Qt.Key.Key_Menu,
        ):
            self._open_menu(*self._selected)
            event.accept()
            return
        super().keyPressEvent(event)

    def link_at(self, position: int) -> str | None:
        """The address of the Markdown link at document ``position``, if any."""
        return self._highlighter.link_at(position)

    def link_box(self, href: str) -> QMessageBox:
        """The question asked before a link in a message is opened; it names the address."""
        box = QMessageBox(self)
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle(self.tr("Open link"))
        box.setText(self.tr("Open this address in your web browser?"))
        box.setInformativeText(href)
        open_button = box.addButton(self.tr("Open"), QMessageBox.ButtonRole.AcceptRole)
        open_button.setObjectName("open")
        cancel = box.addButton(self.tr("Do not open"), QMessageBox.ButtonRole.RejectRole)
        cancel.setObjectName("cancel")
        box.setDefaultButton(cancel)
        box.setEscapeButton(cancel)
        return box

    def open_link(self, href: str) -> bool:
        """Ask, naming the address, then open a link from a message; True when opened."""
        url = QUrl(href)
        if url.scheme().lower() not in _OPENABLE:
            box = QMessageBox(self)
            box.setTextFormat(Qt.TextFormat.PlainText)
            box.setIcon(QMessageBox.Icon.Information)
            box.setWindowTitle(self.tr("Link not opened"))
            box.setText(
                self.tr(
                    "Glassbox opens only web (http, https) and e-mail links; this one was not opened."  # noqa: E501
                )
            )
            box.setInformativeText(href)
            box.exec()
            return False
        box = self.link_box(href)
        box.exec()
        chosen = box.clickedButton()
        if chosen is None or chosen.objectName() != "open":
            return False
        return QDesktopServices.openUrl(url)

    def loadResource(self, type: int, name: QUrl | str) -> object:
        # Nothing in a transcript may load anything, from the network or from disk:
        # an empty answer, not None (on None, Qt reads the file itself).
        return inert_resource(type)

    # ----------------------------------------------------------------- links

    @Slot(QUrl)
    def _on_self_anchor_clicked(self, url: QUrl) -> None:
        if url.scheme() != _SCHEME:
            return
        parts = url.path().split("/")
        try:
            action, message_id = parts[0], int(parts[1])
        except (IndexError, ValueError):
            return
        if action == TOGGLE_ACTION:
            expanded = self.thinking_expanded(message_id)
            if expanded is not None:
                self.set_thinking_expanded(message_id, not expanded)
            return
        if action == "copy":
            text = self.answer_text(message_id)
            if text is not None:
                QGuiApplication.clipboard().setText(text)
                self.sig_copied.emit("message")
            return
        if action == "copy-code":
            text = self.answer_text(message_id) or ""
            blocks = code_blocks(text)
            n = int(parts[2]) if len(parts) > 2 and parts[2].isdigit() else 0
            if n < len(blocks):
                QGuiApplication.clipboard().setText(blocks[n][1])
                self.sig_copied.emit("code block")
            return
        if action == "source":
            if len(parts) > 2 and parts[2].isdigit():
                self.sig_source.emit(message_id, int(parts[2]))
            return
        self.sig_action.emit(action, message_id)
