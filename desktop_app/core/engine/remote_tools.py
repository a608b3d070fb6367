"""Tools through a remote OpenAI-compatible server (``openai_remote.OpenAIEngine``).

A server that takes tools (llama.cpp's server with ``--jinja``, vLLM, Ollama,
``glassbox serve``) gets them as OpenAI's ``tools`` and ``tool_choice``, renders
them with its own chat template and sends the calls back as ``tool_calls``, whole
or streamed in pieces (``CallCollector`` puts them together). The grammar that
keeps a local model's call valid cannot be sent that way; the tool loop still
checks every call against its tool's schema before it runs.

A server that refuses them (HTTP 400, 422, 500 …) is asked again with the tools
described in the system message in Glassbox's documented prompt format
(``core.tools.format``); the reply is then read for ``<tool_call>`` (or a bare
``{"name": …}`` object) by ``PromptCalls``, which also catches a server that
takes the tools but passes the model's call through as text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from desktop_app.core.engine.protocol import Message, TokenEvent, ToolCall
from desktop_app.core.errors import GlassboxError, RemoteEngineError

#: HTTP statuses that mean "not with these fields" rather than a broken server or key.
_NO_TOOLS_STATUSES = frozenset({400, 404, 405, 415, 422, 500, 501})


def refused_tools(status: int) -> bool:
    """Whether a refusal with ``status`` of a request with tools may be the tools'."""
    return status in _NO_TOOLS_STATUSES


def no_tools_note(where: str, detail: str) -> str:
    """What the user is told when a server does not take tools."""
    return (
        f"The server at {where} does not take tools ({detail}); Glassbox described "
        "them in the prompt in its own format instead, and reads the calls from the reply."
    )


def wire_message(m: Message) -> dict[str, Any]:
    """A message in OpenAI's format, with its calls or the call it answers."""
    out: dict[str, Any] = {"role": m.role, "content": m.content}
    if m.tool_calls:
        out["tool_calls"] = [
            {
                "id": c.id or f"call_{i}",
                "type": "function",
                "function": {"name": c.name, "arguments": c.arguments},
            }
            for i, c in enumerate(m.tool_calls)
        ]
    if m.role == "tool":
        out["tool_call_id"] = m.tool_call_id
        if m.name:
            out["name"] = m.name
    return out


def wire_tool_choice(choice: str) -> Any:
    """``tool_choice`` in OpenAI's format: "auto", "none", "required" or a function."""
    if choice in ("auto", "none", "required"):
        return choice
    return {"type": "function", "function": {"name": choice}}


def prompt_messages(
    messages: Sequence[Message], tools: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """``messages`` with ``tools`` described in the system message in Glassbox's own
    format, earlier calls written as the model writes them and results as
    ``<tool_response>`` user messages (for a server that does not take tools)."""
    from desktop_app.core.tools.format import call_text, fallback_instructions
    from desktop_app.core.tools.spec import ToolSpec

    specs = []
    for tool in tools:
        fn = tool.get("function") or {}
        specs.append(
            ToolSpec(
                str(fn.get("name", "")),
                str(fn.get("description", "")),
                fn.get("parameters") or {"type": "object", "properties": {}},
            )
        )
    note = fallback_instructions(specs) if specs else ""
    out: list[dict[str, Any]] = []
    for m in messages:
        if m.tool_calls:
            text = "\n".join([m.content, *(call_text(c) for c in m.tool_calls)]).strip()
            out.append({"role": "assistant", "content": text})
        elif m.role == "tool":
            body = f"<tool_response>\n{m.content}\n</tool_response>"
            out.append({"role": "user", "content": body})
        else:
            out.append({"role": m.role, "content": m.content})
    if not specs:
        return out
    if out and out[0]["role"] == "system":
        out[0] = {"role": "system", "content": f"{note}\n\n{out[0]['content']}".strip()}
    else:
        out.insert(0, {"role": "system", "content": note})
    return out


class CallCollector:
    """The ``tool_calls`` of a streamed reply, put together from their deltas: each
    call's id and name come once, its arguments in pieces (or whole, or as an object)."""

    def __init__(self) -> None:
        self._calls: dict[int, dict[str, str]] = {}

    def add(self, deltas: Any) -> None:
        """Take one chunk's ``tool_calls`` (a list; anything else raises ``TypeError``)."""
        if not isinstance(deltas, list):
            raise TypeError("'tool_calls' must be a list")
        for i, delta in enumerate(deltas):
            if not isinstance(delta, dict):
                raise TypeError("a tool call must be an object")
            index = delta.get("index", len(self._calls) if "id" in delta else i)
            if not isinstance(index, int):
                raise TypeError("a tool call's index must be a number")
            slot = self._calls.setdefault(index, {"id": "", "name": "", "arguments": ""})
            if isinstance(delta.get("id"), str) and delta["id"]:
                slot["id"] = delta["id"]
            fn = delta.get("function") or {}
            if not isinstance(fn, dict):
                raise TypeError("a tool call's function must be an object")
            if isinstance(fn.get("name"), str) and fn["name"] and not slot["name"]:
                slot["name"] = fn["name"]
            args = fn.get("arguments")
            if isinstance(args, str):
                slot["arguments"] += args
            elif isinstance(args, dict):
                slot["arguments"] = json.dumps(args, ensure_ascii=False)

    def __bool__(self) -> bool:
        return bool(self._calls)

    def calls(self, where: str) -> tuple[ToolCall, ...]:
        """The calls, their arguments as JSON object text; a call without a name or
        with arguments that are not a JSON object raises ``RemoteEngineError``."""
        out: list[ToolCall] = []
        for index in sorted(self._calls):
            slot = self._calls[index]
            if not slot["name"]:
                raise RemoteEngineError(f"The server at {where} sent a tool call without a name.")
            raw = slot["arguments"].strip() or "{}"
            try:
                args = json.loads(raw)
            except ValueError:
                args = None
            if not isinstance(args, dict):
                raise RemoteEngineError(
                    f"The server at {where} sent a call to {slot['name']!r} whose arguments "
                    f"are not a JSON object: {raw[:200]}"
                )
            arguments = json.dumps(args, ensure_ascii=False)
            out.append(ToolCall(slot["name"], arguments, slot["id"] or f"call_{index}"))
        return tuple(out)


class PromptCalls:
    """Reads calls written as text in a streamed reply: the tokens before a call are
    passed on as the reply's, the call's own are held back and parsed at the end."""

    def __init__(self, tools: Sequence[Mapping[str, Any]]) -> None:
        self.names = [str((t.get("function") or {}).get("name", "")) for t in tools]
        self.text = ""
        self._held: list[TokenEvent] = []
        self._start: int | None = None
        self._passed = 0  # characters passed on
        self._after: list[TokenEvent] = []  # the tokens from the call's start

    def feed(self, event: TokenEvent) -> list[TokenEvent]:
        """The tokens that can be shown now (none while a call may be starting)."""
        from desktop_app.core.tools.format import call_start

        self.text += event.text
        if self._start is not None:
            self._after.append(event)
            return []
        self._held.append(event)
        start = call_start(self.text, self.names)
        if start is None:
            out, self._held = self._held, []
            self._passed = len(self.text)
            return out
        if start >= 0:
            self._start = start
            return self._split(start)
        return []

    def _split(self, chars: int) -> list[TokenEvent]:
        """The held tokens before ``chars`` (the last one cut); the rest kept aside."""
        out: list[TokenEvent] = []
        pos = self._passed
        for ev in self._held:
            cut = max(0, min(len(ev.text), chars - pos))
            pos += len(ev.text)
            if cut:
                out.append(ev if cut == len(ev.text) else replace(ev, text=ev.text[:cut]))
            if cut < len(ev.text):
                self._after.append(ev if not cut else replace(ev, text=ev.text[cut:]))
        self._held = []
        return out

    def finish(self) -> tuple[list[TokenEvent], str, tuple[ToolCall, ...]]:
        """At the end of the reply: the tokens still to show, the reply's text, and
        the calls (none when what looked like a call is not one: it stays text)."""
        from desktop_app.core.tools.format import CALL_OPEN, parse_call, parse_calls

        if self._start is None:
            out, self._held = self._held, []
            return out, self.text, ()
        start = self._start
        try:
            if CALL_OPEN in self.text[start:]:
                _, calls = parse_calls(self.text[start:])
            else:
                body = self.text[start:].strip().removeprefix("```json").removeprefix("```")
                calls = [parse_call(body.removesuffix("```").strip(), "call_0")]
        except GlassboxError:
            calls = []
        calls = [c for c in calls if c.name in self.names]
        if not calls:
            # Not a call after all: the rest of the reply is shown as written.
            return self._after, self.text, ()
        return [], self.text[:start], tuple(calls)
