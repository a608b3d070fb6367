"""A conversation as a file: Markdown to read, JSON to keep everything, HTML to show tokens.

The HTML page is one self-contained file: inline CSS, no script and no address
outside it, so it opens the same offline, years later, in any browser. Every
assistant token is tinted by its probability with the viridis scale the window
uses (``probability_rgb`` is that scale's one definition), and hovering or
focusing a token shows its top alternatives. Message text is hostile input: it
is escaped everywhere, so a ``<script>`` in a reply comes out as text.

Markdown in the page is styled as in the window (:mod:`desktop_app.core.chat.markdown`):
the text stays as written, with headings, tables, lists, links, images and code
set by classes over it. A link's address is shown, not followed; an image's alt
text and address are shown, never loaded. The Markdown export is the text
itself, so its structure is the reply's own.

The JSON export (``"format": "glassbox-chat"``) carries the chat (``"chat"``, its
``project_id`` included), its messages with cards and token records, and the
project the chat is in as ``"project"``: ``null`` outside a project (or when the
project was deleted), otherwise an object with these keys and types::

    "project": {
        "name": "Thesis",                 # str, not empty
        "system_prompt": "…",             # str
        "sampling": {"temperature": 0.3}, # object: sampling values, as a preset's
        "collections": ["papers"],        # list of str: knowledge collection names
        "files": ["/home/me/outline.md"]  # list of str: pinned file paths
    }

An importer finds or creates a project by that name and puts the chat in it.

A reply with native reasoning (a ``<think>`` block) keeps its whole text in
``"content"``; the JSON message adds ``"reasoning_content"`` (the reasoning) and
``"answer"`` (the text after it), and the Markdown export shows the reasoning as a
quoted block headed **Thinking** above the answer.

A reply made with tools lists its calls: the JSON message adds ``"tool_calls"``
(each call's tool, arguments, outcome and the result the model was told), and the
Markdown export shows them under **Tool calls** above the answer, each result in
a code block.
"""

from __future__ import annotations

import bisect
import contextlib
import html
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import datetime
from pathlib import PurePath
from typing import Any, Literal

from desktop_app.core.chat import markdown
from desktop_app.core.chat.codecs import TokenRecord
from desktop_app.core.chat.store import ChatStore, ChatSummary, Project, StoredMessage
from desktop_app.core.chat.thinking import CLOSE_TAG, has_reasoning, meta_figures, stored_parts
from desktop_app.core.errors import InvalidRequestError

#: Export formats, named by their usual file suffix.
ExportFormat = Literal["md", "json", "html"]

#: File name suffix of each format.
SUFFIXES: dict[str, str] = {"md": ".md", "json": ".json", "html": ".html"}

#: Version of the JSON layout written by :func:`to_json`.
JSON_VERSION = 1

#: Viridis at nine stops: perceptually uniform and readable with colour blindness.
VIRIDIS: tuple[tuple[int, int, int], ...] = (
    (0x44, 0x01, 0x54),
    (0x47, 0x2D, 0x7B),
    (0x3B, 0x52, 0x8B),
    (0x2C, 0x72, 0x8E),
    (0x21, 0x91, 0x8C),
    (0x28, 0xAE, 0x80),
    (0x5E, 0xC9, 0x62),
    (0xAD, 0xDC, 0x30),
    (0xFD, 0xE7, 0x25),
)
#: Share of viridis in the tint; the rest is white, so black text stays readable
#: (contrast above 7:1 even at the dark purple end).
TINT_STRENGTH = 0.45
#: Candidates listed in a token's tooltip.
TOOLTIP_CANDIDATES = 5

_ROLE_TITLES = {"system": "System", "user": "User", "assistant": "Assistant"}


def probability_rgb(p: float) -> tuple[int, int, int]:
    """A light viridis tint for probability ``p`` (purple: unlikely, yellow: likely)."""
    if not math.isfinite(p):
        p = 0.0
    t = min(max(p, 0.0), 1.0) * (len(VIRIDIS) - 1)
    i = min(int(t), len(VIRIDIS) - 2)
    frac = t - i
    lo, hi = VIRIDIS[i], VIRIDIS[i + 1]
    rgb = [a + (b - a) * frac for a, b in zip(lo, hi, strict=True)]
    r, g, b = (round(255 - (255 - c) * TINT_STRENGTH) for c in rgb)
    return r, g, b


def probability_hex(p: float) -> str:
    """The tint of :func:`probability_rgb` as ``#rrggbb``."""
    r, g, b = probability_rgb(p)
    return f"#{r:02x}{g:02x}{b:02x}"


def visible_token(text: str) -> str:
    """Token text with whitespace made visible (a lone space would vanish in a list)."""
    return text.replace(" ", "␣").replace("\n", "↵").replace("\t", "⇥") or "∅"


def suggested_filename(chat: ChatSummary, fmt: ExportFormat) -> str:
    """A file name for the export: the title without characters file systems refuse."""
    if fmt not in SUFFIXES:
        raise InvalidRequestError(f"Unknown export format {fmt!r}; use one of {list(SUFFIXES)}.")
    safe = "".join("_" if c in '<>:"/\\|?*' or ord(c) < 32 else c for c in chat.title).strip(". ")
    return PurePath((safe or "chat")[:80]).name + SUFFIXES[fmt]


def export_chat(
    store: ChatStore, chat: ChatSummary, path_messages: Sequence[StoredMessage], fmt: str
) -> str:
    """``path_messages`` of ``chat`` in ``fmt``, with token records read from ``store``.

    JSON keeps everything, so it holds every branch of the chat, not only the path
    shown (``chat.current_leaf`` says which one that is); the import reads it back.
    """
    if fmt == "md":
        return to_markdown(chat, path_messages)
    if fmt not in SUFFIXES:
        raise InvalidRequestError(f"Unknown export format {fmt!r}; use one of {list(SUFFIXES)}.")
    if fmt == "json":
        path_messages = store.tree(chat.id)
    tokens = {m.id: store.tokens(m.id) for m in path_messages if m.role == "assistant"}
    if fmt == "json":
        project = None
        if chat.project_id is not None:
            found = store.project(chat.project_id)
            project = found if found.deleted_at is None else None
        return to_json(chat, path_messages, tokens, project)
    return to_html(chat, path_messages, tokens)


# --------------------------------------------------------------------------- shared


def _when(stamp: float) -> str:
    try:
        return datetime.fromtimestamp(stamp).strftime("%Y-%m-%d %H:%M")
    except (OverflowError, OSError, ValueError):
        return "unknown date"


def _card_line(meta: Mapping[str, Any]) -> str:
    """One line describing how a reply was made, from the parts of its card present."""
    parts = []
    model = meta.get("model_path")
    if isinstance(model, str) and model:
        parts.append(PurePath(model).name)
    sampling = meta.get("sampling")
    if isinstance(sampling, Mapping):
        shown = []
        for key, label in (("temperature", "temperature"), ("top_k", "top-k"), ("top_p", "top-p")):
            if key in sampling:
                shown.append(f"{label} {sampling[key]}")
        if shown:
            parts.append(", ".join(shown))
    if meta.get("seed") is not None:
        parts.append(f"seed {meta['seed']}")
    if meta.get("completion_tokens") is not None:
        parts.append(f"{meta['completion_tokens']} tokens")
    speed = meta.get("tokens_per_s")
    if isinstance(speed, int | float) and math.isfinite(speed):
        parts.append(f"{speed:.1f} tokens/s")
    if meta.get("finish_reason"):
        parts.append(f"finished: {meta['finish_reason']}")
    return " · ".join(str(p) for p in parts)


def _status_words(msg: StoredMessage) -> list[str]:
    words: list[str] = []
    if msg.status != "complete":
        words.append(msg.status)
    if msg.edited:
        words.append("edited by hand")
    return words


# --------------------------------------------------------------------------- Markdown


def to_markdown(chat: ChatSummary, path_messages: Sequence[StoredMessage]) -> str:
    """The conversation as Markdown: a heading per turn, the reply's card in italics."""
    lines = [f"# {chat.title}", "", f"*Glassbox chat, started {_when(chat.created)}.*", ""]
    if chat.system_prompt:
        lines += ["**System prompt:**", ""]
        lines += [f"> {line}" if line else ">" for line in chat.system_prompt.splitlines()]
        lines.append("")
    for msg in path_messages:
        title = _ROLE_TITLES.get(msg.role, msg.role)
        extra = _status_words(msg)
        lines += [f"## {title}" + (f" ({', '.join(extra)})" if extra else ""), ""]
        reasoning, answer = (
            stored_parts(msg.content, msg.meta) if msg.role == "assistant" else ("", msg.content)
        )
        if reasoning:
            lines += [f"**Thinking**{_thinking_figures(msg.meta)}:", ""]
            lines += [f"> {line}" if line else ">" for line in reasoning.splitlines()]
            lines += ["", "**Answer:**", ""]
        calls = _tool_calls(msg.meta) if msg.role == "assistant" else []
        if calls:
            lines += _calls_markdown(calls)
            if not reasoning:
                lines += ["**Answer:**", ""]
        lines += [answer, ""]
        card = _card_line(msg.meta) if msg.role == "assistant" else ""
        if card:
            lines += [f"*{card}*", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def _tool_calls(meta: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A reply's calls as exported: tool, arguments, outcome, result."""
    steps = meta.get("tool_steps")
    if not isinstance(steps, list):
        return []
    out = []
    for step in steps:
        if not isinstance(step, Mapping):
            continue
        arguments: Any = step.get("arguments", "{}")
        with contextlib.suppress(ValueError):  # otherwise kept as the model wrote it
            arguments = json.loads(str(arguments))
        out.append(
            {
                "name": str(step.get("name", "")),
                "arguments": arguments,
                "status": str(step.get("status", "")),
                "result": str(step.get("result", "")),
            }
        )
    return out


def _calls_markdown(calls: Sequence[Mapping[str, Any]]) -> list[str]:
    lines = ["**Tool calls:**", ""]
    for n, call in enumerate(calls, 1):
        arguments = json.dumps(call["arguments"], ensure_ascii=False)
        lines += [f"{n}. `{call['name']}` `{arguments}` — {call['status']}", ""]
        result = call["result"]
        # A fence longer than any run of backticks in the result (which is tool output).
        fence = "`" * max(3, _longest_backticks(result) + 1)
        lines += [f"   {fence}"]
        lines += [f"   {line}" if line else "" for line in result.splitlines()]
        lines += [f"   {fence}", ""]
    return lines


def _longest_backticks(text: str) -> int:
    longest = run = 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    return longest


def _thinking_figures(meta: Mapping[str, Any]) -> str:
    tokens, seconds = meta_figures(meta)
    parts = []
    if tokens is not None:
        parts.append(f"{tokens} tokens")
    if seconds is not None:
        parts.append(f"{seconds:.1f} s")
    return f" ({', '.join(parts)})" if parts else ""


def _message_json(m: StoredMessage, records: Sequence[TokenRecord]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": m.id,
        "parent_id": m.parent_id,
        "role": m.role,
        "content": m.content,
        "created": m.created,
        "status": m.status,
        "edited": m.edited,
        "note": m.note,
        "meta": dict(m.meta),
        "tokens": [_record_json(r) for r in records],
    }
    if m.role == "assistant":
        reasoning, answer = stored_parts(m.content, m.meta)
        if reasoning:
            out["reasoning_content"] = reasoning
            out["answer"] = answer
        calls = _tool_calls(m.meta)
        if calls:
            out["tool_calls"] = calls
    return out


# --------------------------------------------------------------------------- JSON


def _record_json(record: TokenRecord) -> dict[str, Any]:
    event = record.event
    out = {
        "index": event.index,
        "id": event.id,
        "text": event.text,
        "p": event.p,
        "forced": record.forced,
        "candidates": [asdict(c) for c in event.candidates],
    }
    # Only a token speculative decoding proposed carries the mark (older events lack it).
    draft = getattr(event, "draft", "")
    if draft:
        out["draft"] = draft
    return out


def project_json(project: Project | None) -> dict[str, Any] | None:
    """The ``"project"`` field of the JSON export (see the module docstring)."""
    if project is None:
        return None
    return {
        "name": project.name,
        "system_prompt": project.system_prompt,
        "sampling": dict(project.sampling),
        "collections": list(project.collections),
        "files": list(project.files),
    }


def to_json(
    chat: ChatSummary,
    path_messages: Sequence[StoredMessage],
    tokens: Mapping[int, Sequence[TokenRecord]] | None = None,
    project: Project | None = None,
) -> str:
    """Everything about the conversation: chat, project, messages with cards and tokens."""
    tokens = tokens or {}
    doc = {
        "format": "glassbox-chat",
        "version": JSON_VERSION,
        "chat": asdict(chat),
        "project": project_json(project),
        "messages": [_message_json(m, tokens.get(m.id, ())) for m in path_messages],
    }
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


# --------------------------------------------------------------------------- HTML

_CSS = """
body { font: 15px/1.55 system-ui, sans-serif; color: #111; background: #fafafa;
       max-width: 52rem; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; }
.sub { color: #555; margin-top: 0; }
.legend { display: flex; align-items: center; gap: .6rem; font-size: .85rem; color: #333;
          margin: 1rem 0; flex-wrap: wrap; }
.bar { width: 14rem; height: .9rem; border: 1px solid #999; border-radius: 2px; }
.msg { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: .6rem 1rem;
       margin: 1rem 0; }
.msg h2 { font-size: .85rem; text-transform: uppercase; letter-spacing: .05em; color: #1f3a5f;
          margin: 0 0 .4rem; }
.user { background: #f2f6fb; }
.system { background: #f6f6f6; }
.text { white-space: pre-wrap; overflow-wrap: anywhere; }
.card, .note { font-size: .8rem; color: #555; margin: .5rem 0 0; }
.thinking { margin: 0 0 .5rem; }
.thinking summary { font-size: .85rem; color: #1f3a5f; cursor: pointer; }
.thinking .text { font-style: italic; color: #444; background: #f4f4f4; padding: .3rem .5rem; }
.calls h3 { font-size: .85rem; color: #1f3a5f; margin: 0 0 .3rem; }
.calls pre { background: #f4f4f4; padding: .3rem .5rem; white-space: pre-wrap;
             overflow-wrap: anywhere; margin: .2rem 0 .4rem; }
.tok { position: relative; border-radius: 2px; }
.tok:hover, .tok:focus { outline: 1px solid #333; }
.forced { text-decoration: underline dotted #a40000; }
.tip { display: none; position: absolute; left: 0; top: 1.5em; z-index: 10; min-width: 16rem;
       background: #fff; color: #111; border: 1px solid #888; border-radius: 4px;
       padding: .3rem .5rem; font-size: .8rem; white-space: normal;
       box-shadow: 0 2px 6px rgba(0,0,0,.2); }
.tok:hover .tip, .tok:focus .tip { display: block; }
.row { display: block; white-space: nowrap; }
.row.drawn { font-weight: bold; }
.head { display: block; margin-bottom: .2rem; }
code { font-family: ui-monospace, monospace; }
.md-code, .md-code_inline, .md-fence, .md-table { font-family: ui-monospace, monospace; }
.md-h1 { font-size: 1.5em; font-weight: bold; }
.md-h2 { font-size: 1.3em; font-weight: bold; }
.md-h3 { font-size: 1.15em; font-weight: bold; }
.md-h4, .md-h5, .md-h6, .md-bold, .md-table_head { font-weight: bold; }
.md-italic { font-style: italic; }
.md-quote { font-style: italic; color: #555; }
.md-marker, .md-address, .md-fence { color: #8a8a8a; }
.md-link { color: #1a5fb4; text-decoration: underline; }
.md-image { color: #1a5fb4; font-style: italic; }
.md-bullet { color: #c75f00; font-weight: bold; }
.md-keyword { color: #0033b3; font-weight: bold; }
.md-string { color: #067d17; }
.md-comment { color: #6a6a6a; font-style: italic; }
.md-number { color: #1750eb; }
.md-name { color: #00627a; }
.md-builtin { color: #871094; }
"""


def _legend() -> str:
    stops = ", ".join(
        f"{probability_hex(i / (len(VIRIDIS) - 1))} {100 * i / (len(VIRIDIS) - 1):.1f}%"
        for i in range(len(VIRIDIS))
    )
    return (
        '<div class="legend" role="note"><span>Token probability:</span>'
        "<span>0 (unlikely)</span>"
        f'<span class="bar" style="background: linear-gradient(to right, {stops});"></span>'
        "<span>1 (likely)</span>"
        "<span>Hover or focus a reply token to see its top alternatives: probability "
        "before → after sampling, and the stage that removed each.</span></div>"
    )


def _tooltip(record: TokenRecord) -> str:
    event = record.event
    head = f"p = {event.p:.3f}" + (" · forced by the user" if record.forced else "")
    rows = [f'<span class="head">{html.escape(head)}</span>']
    for cand in event.candidates[:TOOLTIP_CANDIDATES]:
        removed = f"removed by {cand.removed_by}" if cand.removed_by else "kept"
        drawn = " drawn" if cand.id == event.id else ""
        rows.append(
            f'<span class="row{drawn}"><code>{html.escape(visible_token(cand.text))}</code> '
            f"{cand.p_raw:.3f} → {cand.p_final:.3f} · {html.escape(removed)}</span>"
        )
    return f'<span class="tip" role="tooltip">{"".join(rows)}</span>'


class _Styles:
    """The Markdown styles of a message's text, by character range, as HTML spans."""

    def __init__(self, content: str) -> None:
        self.content = content
        self.segments: list[tuple[int, int, tuple[str, ...]]] = []
        offset = 0
        styled = markdown.parse(content)
        for line, runs in zip(content.split("\n"), styled.runs, strict=False):
            self.segments += [(offset + a, offset + z, keys) for a, z, keys in runs]
            offset += len(line) + 1
        self.ends = [z for _, z, _ in self.segments]

    def html(self, start: int, end: int) -> str:
        """``content[start:end]``, escaped, in spans carrying its styles."""
        out = []
        pos = start
        k = bisect.bisect_right(self.ends, start)
        while pos < end:
            if k >= len(self.segments) or self.segments[k][0] >= end:
                out.append(html.escape(self.content[pos:end]))
                break
            a, z, keys = self.segments[k]
            if a > pos:
                out.append(html.escape(self.content[pos:a]))
                pos = a
            stop = min(z, end)
            names = " ".join(f"md-{key}" for key in keys)
            out.append(f'<span class="{names}">{html.escape(self.content[pos:stop])}</span>')
            pos = stop
            k += 1
        return "".join(out)


def _token_html(content: str, records: Sequence[TokenRecord], cut: int = 0) -> tuple[str, str]:
    """The reply's text as tinted token spans, as far as the tokens spell the text,
    with its Markdown styles inside them: what comes before ``cut`` (a reasoning
    block; a token reaching over it goes with it) and what comes after.

    A stop string trimmed at the end or text cut short leaves tokens or text
    over; the text is what counts, and what the tokens do not cover is plain.
    """
    styles = _Styles(content)
    head: list[str] = []
    tail: list[str] = []
    pos = 0
    for record in records:
        text = record.event.text
        if not text or not content.startswith(text, pos):
            break
        classes = "tok forced" if record.forced else "tok"
        (head if pos < cut else tail).append(
            f'<span class="{classes}" tabindex="0" '
            f'style="background:{probability_hex(record.event.p)}">'
            f"{styles.html(pos, pos + len(text))}{_tooltip(record)}</span>"
        )
        pos += len(text)
    if pos < cut:
        head.append(styles.html(pos, cut))
        pos = cut
    tail.append(styles.html(pos, len(content)))
    return "".join(head), "".join(tail)


def _reasoning_end(content: str, meta: Mapping[str, Any]) -> int:
    """Where a stored reply's reasoning block (its tags included) ends; 0 without one."""
    if not has_reasoning(content, meta):
        return 0
    end = content.find(CLOSE_TAG)
    return len(content) if end < 0 else end + len(CLOSE_TAG)


def _calls_html(calls: Sequence[Mapping[str, Any]]) -> str:
    esc = html.escape
    items = []
    for call in calls:
        arguments = json.dumps(call["arguments"], ensure_ascii=False)
        items.append(
            f"<li><code>{esc(call['name'])}</code> <code>{esc(arguments)}</code> — "
            f"{esc(call['status'])}<pre>{esc(call['result'])}</pre></li>"
        )
    return f'<section class="calls"><h3>Tool calls</h3><ol>{"".join(items)}</ol></section>'


def to_html(
    chat: ChatSummary,
    path_messages: Sequence[StoredMessage],
    tokens: Mapping[int, Sequence[TokenRecord]] | None = None,
) -> str:
    """A self-contained page: messages, tinted reply tokens with alternatives, a legend."""
    tokens = tokens or {}
    esc = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        # Belt and braces: even if something slipped through escaping, nothing loads or runs.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(chat.title)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<header><h1>{esc(chat.title)}</h1>",
        f'<p class="sub">Glassbox chat, started {esc(_when(chat.created))}.</p>',
        _legend(),
        "</header><main>",
    ]
    if chat.system_prompt:
        parts.append(
            '<article class="msg system"><h2>System prompt</h2>'
            f'<div class="text">{esc(chat.system_prompt)}</div></article>'
        )
    for msg in path_messages:
        title = _ROLE_TITLES.get(msg.role, msg.role)
        extra = _status_words(msg)
        heading = title + (f" ({', '.join(extra)})" if extra else "")
        records = tokens.get(msg.id, ())
        cut = _reasoning_end(msg.content, msg.meta) if msg.role == "assistant" else 0
        if msg.role == "assistant" and records and not msg.edited:
            thinking, body = _token_html(msg.content, records, cut)
        else:
            styles = _Styles(msg.content)
            thinking, body = styles.html(0, cut), styles.html(cut, len(msg.content))
        parts.append(f'<article class="msg {esc(msg.role)}"><h2>{esc(heading)}</h2>')
        if cut:
            figures = _thinking_figures(msg.meta)
            parts.append(
                f'<details class="thinking"><summary>Thinking{esc(figures)}</summary>'
                f'<div class="text">{thinking}</div></details>'
            )
        calls = _tool_calls(msg.meta) if msg.role == "assistant" else []
        if calls:
            parts.append(_calls_html(calls))
        parts.append(f'<div class="text">{body}</div>')
        if msg.role == "assistant":
            card = _card_line(msg.meta)
            if card:
                parts.append(f'<p class="card">{esc(card)}</p>')
            if msg.edited and records:
                parts.append(
                    '<p class="note">Edited by hand after it was generated, so its token '
                    "probabilities are not shown.</p>"
                )
        if msg.note:
            parts.append(f'<p class="note">{esc(msg.note)}</p>')
        parts.append("</article>")
    parts.append("</main></body></html>")
    return "\n".join(parts) + "\n"
