"""A model's native reasoning: ``<think>…</think>`` split from the answer, and what a
chat template does with it.

Reasoning models (Qwen3, QwQ, DeepSeek-R1 and its distills…) write their reasoning
between ``<think>`` and ``</think>`` before the answer. Their templates may open the
block in the prompt themselves (the reply then starts inside it), may take a switch
that turns thinking on or off (``enable_thinking`` in Qwen3's template, ``thinking``
in others), and drop earlier turns' reasoning from the next prompt. Remote servers
send the reasoning in a field of its own (``reasoning_content``); the remote engine
turns it back into a block, so everything downstream sees one form.

:class:`ThinkingSplitter` separates the two token by token while a reply streams:
tags may be split across tokens, the block may stay unclosed at the end, and a
token is only handed on once it is known which part it belongs to.
:func:`thinking_support` reads a chat template by rendering it (sandboxed) with
probes, not by matching its text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Generic, Literal, TypeVar

from desktop_app.core.engine.protocol import Message
from desktop_app.core.errors import InvalidRequestError

OPEN_TAG = "<think>"
CLOSE_TAG = "</think>"

PieceKind = Literal["reasoning", "answer", "tag"]
#: Which part of a reply a token is shown in.
Section = Literal["reasoning", "answer"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Piece:
    """Part of a token's text: reasoning, answer, or a tag (and the blank lines around
    tags) that is not shown."""

    kind: PieceKind
    text: str


@dataclass(frozen=True, slots=True)
class Split(Generic[T]):
    """One token (``item``) with its text divided into pieces."""

    item: T
    pieces: tuple[Piece, ...]

    @property
    def section(self) -> Section:
        """Where the token belongs: the answer once any of its text is answer."""
        return "answer" if any(p.kind == "answer" for p in self.pieces) else "reasoning"

    def text(self, kind: PieceKind) -> str:
        """The token's text of one kind."""
        return "".join(p.text for p in self.pieces if p.kind == kind)


_START, _LEAD, _REASONING, _AFTER, _ANSWER = range(5)


class ThinkingSplitter(Generic[T]):
    """Splits a streamed reply into reasoning and answer, one token at a time.

    Only a block at the start of the reply is reasoning (blank space before it is
    allowed); a ``<think>`` later in the answer is the answer's text. ``opened`` says
    the prompt already opened the block (the template wrote ``<think>`` after the
    assistant's header), so the reply starts inside it and only closes it.

    :meth:`push` takes a token's text and anything that identifies it, and returns
    the tokens now decided, in order, each with its pieces; a token that may be part
    of a tag waits for the next. :meth:`finish` decides the rest: an unclosed block
    is reasoning, a half-written opening tag is answer.
    """

    def __init__(self, opened: bool = False) -> None:
        self._state = _LEAD if opened else _START
        self._opened_any = opened
        self._closed = False
        self._buf = ""  # text not yet decided
        self._pending: list[tuple[T, str]] = []  # tokens not yet decided, in order
        self._done: list[Piece] = []  # decided pieces of the pending tokens' text
        self.reasoning = ""
        self.answer = ""

    @property
    def thinking(self) -> bool:
        """Whether the reply has (or is in) a reasoning block."""
        return self._opened_any

    @property
    def closed(self) -> bool:
        """Whether the block was closed (the answer has begun)."""
        return self._closed

    @property
    def in_reasoning(self) -> bool:
        """Whether the text is now inside the block."""
        return self._state in (_LEAD, _REASONING)

    def push(self, text: str, item: T) -> list[Split[T]]:
        """Add one token; returns the tokens it decided (none, or earlier ones too)."""
        self._pending.append((item, text))
        self._buf += text
        self._scan(final=False)
        return self._release()

    def finish(self) -> list[Split[T]]:
        """The reply ended: decide whatever waits."""
        self._scan(final=True)
        return self._release(final=True)

    # ------------------------------------------------------------------ internals

    def _emit(self, kind: PieceKind, text: str) -> None:
        if not text:
            return
        self._done.append(Piece(kind, text))
        if kind == "reasoning":
            self.reasoning += text
        elif kind == "answer":
            self.answer += text

    def _scan(self, final: bool) -> None:
        while self._buf:
            buf = self._buf
            if self._state == _START:
                stripped = buf.lstrip()
                if stripped.startswith(OPEN_TAG):
                    cut = len(buf) - len(stripped) + len(OPEN_TAG)
                    self._emit("tag", buf[:cut])
                    self._buf = buf[cut:]
                    self._state = _LEAD
                    self._opened_any = True
                    continue
                if not final and (not stripped or OPEN_TAG.startswith(stripped)):
                    return  # blank so far, or the start of "<think>": wait
                self._state = _ANSWER
                continue
            if self._state == _LEAD:
                stripped = buf.lstrip()
                self._emit("tag", buf[: len(buf) - len(stripped)])
                self._buf = stripped
                if not stripped:
                    return
                self._state = _REASONING
                continue
            if self._state == _REASONING:
                at = buf.find(CLOSE_TAG)
                if at >= 0:
                    body = buf[:at].rstrip()
                    self._emit("reasoning", body)
                    # Blank space before the closing tag belongs to the tag.
                    self._emit("tag", buf[len(body) : at] + CLOSE_TAG)
                    self._buf = buf[at + len(CLOSE_TAG) :]
                    self._state = _AFTER
                    self._closed = True
                    continue
                keep = 0
                if not final:
                    # What may start the closing tag waits, and the blank space before it.
                    keep = _partial_suffix(buf, CLOSE_TAG)
                    keep += len(buf[: len(buf) - keep]) - len(buf[: len(buf) - keep].rstrip())
                self._emit("reasoning", buf[: len(buf) - keep])
                self._buf = buf[len(buf) - keep :]
                return
            if self._state == _AFTER:
                stripped = buf.lstrip()
                self._emit("tag", buf[: len(buf) - len(stripped)])
                self._buf = stripped
                if not stripped:
                    return
                self._state = _ANSWER
                continue
            self._emit("answer", buf)
            self._buf = ""

    def _release(self, final: bool = False) -> list[Split[T]]:
        out: list[Split[T]] = []
        decided = sum(len(p.text) for p in self._done)
        while self._pending:
            item, text = self._pending[0]
            if len(text) > decided and not final:
                break
            # Take this token's share of the decided pieces.
            need = len(text)
            mine: list[Piece] = []
            while need and self._done:
                piece = self._done[0]
                if len(piece.text) <= need:
                    mine.append(piece)
                    need -= len(piece.text)
                    self._done.pop(0)
                else:
                    mine.append(Piece(piece.kind, piece.text[:need]))
                    self._done[0] = Piece(piece.kind, piece.text[need:])
                    need = 0
            decided -= len(text) - need
            self._pending.pop(0)
            out.append(Split(item, tuple(mine)))
        return out


def _partial_suffix(text: str, tag: str) -> int:
    """How many characters at the end of ``text`` could start ``tag``."""
    for n in range(min(len(tag) - 1, len(text)), 0, -1):
        if tag.startswith(text[-n:]):
            return n
    return 0


def split_reasoning(text: str, opened: bool = False) -> tuple[str, str]:
    """A whole reply's reasoning and answer (``("", text)`` when it has no block).

    A ``</think>`` with no ``<think>`` before it closes a block the prompt opened,
    as the templates that open it read their own replies back.
    """
    if not opened and CLOSE_TAG in text and OPEN_TAG not in text.split(CLOSE_TAG, 1)[0]:
        opened = True
    splitter: ThinkingSplitter[None] = ThinkingSplitter(opened)
    splitter.push(text, None)
    splitter.finish()
    return splitter.reasoning.strip(), splitter.answer


def sections(texts: Iterable[str], opened: bool = False) -> list[Split[int]]:
    """Every token of a finished reply with its pieces, by position."""
    splitter: ThinkingSplitter[int] = ThinkingSplitter(opened)
    out: list[Split[int]] = []
    for n, text in enumerate(texts):
        out.extend(splitter.push(text, n))
    out.extend(splitter.finish())
    return out


# ---------------------------------------------------------------------- templates

#: The switches chat templates take as a render variable, most common first.
SWITCH_VARIABLES = ("enable_thinking", "thinking")
#: The flags some templates read in the system prompt (SmolLM3: "/think", "/no_think").
FLAG_ON, FLAG_OFF = "/think", "/no_think"

_PROBE = "Glassbox probe question"
_PROBE_REASONING = "glassbox-probe-reasoning"


@dataclass(frozen=True, slots=True)
class ThinkingSupport:
    """What a chat template does with reasoning, found by rendering it.

    ``switch`` is how thinking is turned on or off: a render variable's name
    (``enable_thinking``, ``thinking``), ``"flag"`` for ``/think`` and ``/no_think``
    in the system prompt, or ``""`` when the template has no switch. ``default_on``
    is whether it thinks when not told. ``opens_on``/``opens_off`` say whether the
    generation prompt leaves ``<think>`` open with thinking on/off (the reply then
    starts inside the block). ``keeps_history`` is True when the template writes an
    earlier turn's reasoning back into the prompt (most drop it).
    """

    switch: str = ""
    default_on: bool = False
    opens_on: bool = False
    opens_off: bool = False
    keeps_history: bool = False
    mentions_think: bool = False

    @property
    def switchable(self) -> bool:
        """Whether thinking can be turned on and off for this template."""
        return bool(self.switch)

    @property
    def reasoning_model(self) -> bool:
        """Whether the template knows about reasoning blocks at all."""
        return self.switchable or self.opens_on or self.mentions_think

    def effective(self, thinking: bool | None) -> bool:
        """Whether a reply thinks with the chat's switch at ``thinking`` (None: default)."""
        if not self.switchable or thinking is None:
            return self.default_on
        return thinking

    def opened(self, thinking: bool | None) -> bool:
        """Whether the prompt opens the block, with the switch at ``thinking``."""
        return self.opens_on if self.effective(thinking) else self.opens_off

    def describe(self) -> str:
        """One line for the model panel and the tooltips."""
        if not self.reasoning_model:
            return "The model's chat template has no reasoning (thinking) format."
        parts = []
        if self.switch == "flag":
            parts.append(f"thinking is switched by {FLAG_ON} / {FLAG_OFF} in the system prompt")
        elif self.switch:
            parts.append(f"thinking is switched by the template's {self.switch!r} variable")
        else:
            parts.append("the template has no thinking switch")
        parts.append("on by default" if self.default_on else "off by default")
        if self.opens_on:
            parts.append("the prompt opens <think> itself")
        parts.append(
            "earlier turns' reasoning is kept in the prompt"
            if self.keeps_history
            else "earlier turns' reasoning is left out of the prompt"
        )
        return "; ".join(parts) + "."


def _opens(text: str) -> bool:
    tail = text[text.rfind(_PROBE) :] if _PROBE in text else text
    return tail.rfind(OPEN_TAG) > tail.rfind(CLOSE_TAG)


def _after_probe(text: str) -> str:
    return text[text.rfind(_PROBE) :] if _PROBE in text else text


@lru_cache(maxsize=16)
def thinking_support(template: str | None) -> ThinkingSupport:
    """What ``template`` does with reasoning (no reasoning for None or a broken one).

    Rendered with probes in the template sandbox, so it costs a few renders; the
    answer is remembered per template."""
    if not template:
        return ThinkingSupport()
    from desktop_app.core.models.templates import render_chat

    question = [Message("user", _PROBE)]

    def render(messages: Sequence[Message], **variables: object) -> str | None:
        try:
            return render_chat(messages, template, variables=variables).text
        except InvalidRequestError:
            return None

    base = render(question)
    if base is None:
        return ThinkingSupport()
    switch = ""
    on_text = off_text = base
    for name in SWITCH_VARIABLES:
        if name not in template:
            continue
        on = render(question, **{name: True})
        off = render(question, **{name: False})
        # The whole prompt: some templates switch through the system part (Granite).
        if on is not None and off is not None and on != off:
            switch, on_text, off_text = name, on, off
            break
    if not switch and FLAG_OFF in template:
        on = render([Message("system", FLAG_ON), *question])
        off = render([Message("system", FLAG_OFF), *question])
        plain = render([Message("system", "You are helpful."), *question])
        if on is not None and off is not None and _after_probe(on) != _after_probe(off):
            switch, on_text, off_text = "flag", on, off
            base = plain or on
    if switch == "flag":
        # The system prompts differ by construction: compare what follows the question.
        default_on = _after_probe(base) == _after_probe(on_text)
    else:
        default_on = bool(switch) and base == on_text
    if not switch:
        default_on = _opens(base) or "<think>" in template
    history = render(
        [
            Message("user", "First question"),
            Message("assistant", "First answer", reasoning=_PROBE_REASONING),
            *question,
        ]
    )
    return ThinkingSupport(
        switch=switch,
        default_on=default_on,
        opens_on=_opens(on_text),
        opens_off=_opens(off_text),
        keeps_history=history is not None and _PROBE_REASONING in history,
        mentions_think=OPEN_TAG in template or CLOSE_TAG in template,
    )


def template_variables(support: ThinkingSupport, thinking: bool | None) -> dict[str, object]:
    """The render variables that set the switch (none when it is left at the default)."""
    if thinking is None or support.switch in ("", "flag"):
        return {}
    return {support.switch: thinking}


def with_flag(messages: Sequence[Message], thinking: bool | None) -> list[Message]:
    """The messages with ``/think`` or ``/no_think`` at the end of the system prompt
    (for templates switched by the flag)."""
    if thinking is None:
        return list(messages)
    flag = FLAG_ON if thinking else FLAG_OFF
    out = list(messages)
    if out and out[0].role == "system":
        out[0] = Message("system", f"{out[0].content.rstrip()}\n{flag}".strip())
    else:
        out.insert(0, Message("system", flag))
    return out


# ---------------------------------------------------------------------- stored replies

#: The key of a reply's card that describes its reasoning.
META_KEY = "thinking"


def opened_in_meta(meta: Mapping[str, Any] | None) -> bool:
    """Whether a stored reply's prompt opened the block (its card says so)."""
    info = (meta or {}).get(META_KEY)
    return isinstance(info, Mapping) and info.get("opened") is True


def meta_figures(meta: Mapping[str, Any] | None) -> tuple[int | None, float | None]:
    """The reasoning's token count and seconds from a stored reply's card (None: unknown)."""
    info = (meta or {}).get(META_KEY)
    if not isinstance(info, Mapping):
        return None, None
    tokens, seconds = info.get("tokens"), info.get("seconds")
    n = tokens if isinstance(tokens, int) and not isinstance(tokens, bool) and tokens >= 0 else None
    s = (
        float(seconds)
        if isinstance(seconds, int | float) and not isinstance(seconds, bool) and seconds >= 0
        else None
    )
    return n, s


def has_reasoning(content: str, meta: Mapping[str, Any] | None = None) -> bool:
    """Whether a stored reply's text holds reasoning (cheap test before splitting)."""
    return OPEN_TAG in content or CLOSE_TAG in content or opened_in_meta(meta)


def stored_parts(content: str, meta: Mapping[str, Any] | None = None) -> tuple[str, str]:
    """A stored reply's reasoning and answer (``("", content)`` when it has none)."""
    if not has_reasoning(content, meta):
        return "", content
    return split_reasoning(content, opened=opened_in_meta(meta))


def opens_in_prompt(loaded: Any, request: Any) -> bool:
    """Whether the prompt of chat ``request`` (a ``GenerateRequest``) rendered for the
    local model ``loaded`` (a ``ModelLoaded``) opens ``<think>`` itself, so the reply
    starts inside its reasoning (DeepSeek-R1's and QwQ's templates). A remote server
    sends its reasoning apart, so never there."""
    from desktop_app.core.engine.openai_remote import is_remote

    if loaded is None or getattr(request, "messages", None) is None or is_remote(loaded):
        return False
    template = getattr(loaded, "chat_template", None)
    support = thinking_support(template if isinstance(template, str) else None)
    return support.opened(getattr(request, "thinking", None))
