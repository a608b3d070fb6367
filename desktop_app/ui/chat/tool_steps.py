"""Replies with tools in a chat: how ``ChatSession`` runs them and what the reply shows.

A chat with any tool on (``ChatOptions.tools``, ``tool_servers``) answers through
the ``ToolRunner`` (the core tool loop on the engine thread) instead of a plain
generation. The reply's tokens are everything the model wrote, in order: its
text, the token where it decided to call (with its alternatives, like any
token), the call's arguments as the grammar let it write them (each with its
probability), then, as typed text, the outcome of the call (the result fenced
as a code block, cut when long: the whole result is in the reply's card), and
so on to the final answer. The reply's content is the final answer, so the next
turn sees the answer, not the calls. Saved with the reply:

- ``meta["tool_steps"]``: each call (tool, arguments, outcome, the result as the
  model was told, what the model wrote before it, ``decision``: the index of the
  token where it decided to call, -1 when it was chosen, and ``end``: the token
  index after its outcome);
- ``meta["citations"]``: the passages the knowledge tool found, numbered as the
  model was given them, shown as the reply's sources like a grounded reply's.

Branching at a token (an alternative at the decision point) goes on from the
same prompt with the calls made before that token and their saved results (no
tool runs again), and the chosen token as the start of the next free text: a
``<tool_call>`` chosen there makes the call at once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication

from desktop_app.core.chat.cards import done_card
from desktop_app.core.engine.protocol import Message, TokenEvent, ToolCall
from desktop_app.core.tools.approval import ApprovalRequest
from desktop_app.core.tools.loop import ToolStep
from desktop_app.ui.chat.inline_widget import InlineSlot
from desktop_app.workers.engine.tool_runner import ChatTools, ToolRun, ToolRunner, final_done

if TYPE_CHECKING:
    from desktop_app.core.chat.codecs import TokenRecord
    from desktop_app.core.chat.store import StoredMessage
    from desktop_app.core.settings import Settings
    from desktop_app.ui.chat.session import ChatOptions, ChatSession, _Reply
    from desktop_app.ui.chat.view import ChatView

#: The longest result (characters, lines) shown in the reply; the card keeps it whole.
SHOWN_CHARS = 400
SHOWN_LINES = 8


def new_chat_tools(options: ChatOptions, settings: Settings) -> None:
    """A new chat's tools: the settings' built-in tools and every enabled server."""
    options.tools = list(settings.tools_builtin)
    try:
        servers = [c.name for c in settings.mcp_servers() if c.enabled]
    except ValueError:
        servers = []
    options.tool_servers = servers
    options.tool_files = []
    options.tools_always = []


def chat_tools(session: ChatSession) -> ChatTools:
    """What the runner needs from the open chat's options and the settings."""
    from desktop_app.core.models.templates import supports_tools

    options = session.options
    settings = session._controller.settings
    try:
        configs = {c.name: c for c in settings.mcp_servers()}
    except ValueError:
        configs = {}
    loaded = session._controller.model_loaded
    template = getattr(loaded, "chat_template", None)
    return ChatTools(
        builtin=tuple(options.tools),
        servers=tuple(configs[n] for n in options.tool_servers if n in configs),
        collections=tuple(options.collections),
        files=tuple(options.tool_files),
        ask_builtin=options.tools_ask_builtin,
        always=tuple(options.tools_always),
        max_steps=settings.tools_max_steps,
        template_has_tools=supports_tools(template) if template else False,
    )


def connect(session: ChatSession, runner: ToolRunner) -> None:
    """Route the runner's news to the session's streaming reply."""

    def live() -> _Reply | None:
        reply = session._reply
        return reply if reply is not None and reply.tools else None

    def on_tokens(tokens: list[TokenEvent]) -> None:
        reply = live()
        if reply is None:
            return
        # Numbered on from the reply's tokens (its typed outcomes included).
        base = len(reply.tokens)
        shifted = [replace(t, index=base + k) for k, t in enumerate(tokens)]
        reply.tokens.extend(shifted)
        reply.texts.extend(t.text for t in shifted)
        reply.recorder.append(shifted)
        if reply.thinking is not None:
            reply.thinking.on_tokens(shifted)  # a reasoning model's thinking, timed
        session.sig_reply_tokens.emit(shifted)

    def on_decision() -> None:
        reply = live()
        if reply is not None:
            reply.tool_decision = len(reply.tokens)

    def on_approval(request: ApprovalRequest) -> None:
        if live() is not None:
            session.sig_tool_approval.emit(request)

    def on_step(step: ToolStep) -> None:
        reply = live()
        if reply is None:
            return
        _append_typed(session, reply, close_fence("".join(reply.texts)) + step_text(step))
        reply.tool_steps.append(step_record(step, reply, len(reply.tokens)))
        reply.tool_decision = -1
        reply.tool_sources.extend(step.result.sources)
        session.sig_tool_step.emit(step)

    def on_repeated() -> None:
        reply = live()
        if reply is not None:
            note = QCoreApplication.translate(
                "ToolSteps",
                "The same call again: not run; the model answers with the result it has.",
            )
            text = close_fence("".join(reply.texts)) + f"\n↳ {note}\n\n"
            _append_typed(session, reply, text)
            reply.tool_decision = -1

    def on_note(text: str) -> None:
        reply = live()
        if reply is not None:
            _append_typed(session, reply, f"⚠ {text}\n\n")

    def on_done(run: ToolRun) -> None:
        reply = live()
        if reply is None:
            return
        done = final_done(run)
        if run.reply is not None and run.reply.finish == "max_steps":
            note = QCoreApplication.translate(
                "ToolSteps",
                "The most tool calls one reply may make ({n}, Settings → Tools) were made; "
                "the model answered with what it had.",
            ).format(n=len(run.reply.steps))
            _append_typed(session, reply, f"\n\n↳ {note}")
        reply.meta_update.update(done_card(done))
        reply.meta_update["tool_steps"] = list(reply.tool_steps)
        reply.meta_update["tool_finish"] = run.reply.finish if run.reply is not None else ""
        if reply.tool_sources:
            from desktop_app.ui.chat.session import _citation

            reply.meta_update["citations"] = [
                _citation(n, hit) for n, hit in enumerate(reply.tool_sources, start=1)
            ]
        if run.reply is not None and done.finish_reason != "cancelled":
            reply.content = run.reply.text
        session._finish(reply, done.finish_reason, done)

    def on_error(kind: str, message: str) -> None:
        reply = live()
        if reply is not None:
            _append_typed(session, reply, f"\n⚠ {message}\n")  # said in the reply itself
            session._on_controller_error(kind, message)
            session.sig_notice.emit(message, True)

    runner.sig_tokens.connect(on_tokens)
    runner.sig_decision.connect(on_decision)
    runner.sig_repeated.connect(on_repeated)
    runner.sig_approval.connect(on_approval)
    runner.sig_step.connect(on_step)
    runner.sig_note.connect(on_note)
    runner.sig_done.connect(on_done)
    runner.sig_error.connect(on_error)


def start(
    session: ChatSession,
    runner: ToolRunner,
    reply: _Reply,
    same_prompt_as: StoredMessage | None,
) -> bool:
    """Run ``reply`` with the chat's tools; False when it is a plain reply (no tool
    on, a grounded or two-stage reply, a request without messages)."""
    request = reply.request
    if (
        not session.options.uses_tools
        or request.messages is None
        or reply.two_stage
        or reply.sources
        or request.grammar is not None
    ):
        return False
    reply.tools = True
    history = list(request.messages)
    prefix = request.assistant_prefix
    saved = same_prompt_as.meta.get("tool_steps") if same_prompt_as is not None else None
    if prefix and isinstance(saved, list):
        # A branch after some calls: those calls and their results come before the
        # text the branch goes on from (they are not run again).
        covered = len(reply.prefix)
        cut = 0
        for record in saved:
            if not isinstance(record, dict) or int(record.get("end", covered + 1)) > covered:
                break
            history += step_messages(record)
            reply.tool_steps.append(dict(record))
            cut = int(record["end"])
        prefix = "".join(r.event.text for r in reply.prefix[cut:])
    runner.start(replace(request, assistant_prefix=prefix), chat_tools(session), history)
    return True


def inside_call(meta: Mapping[str, Any], index: int) -> bool:
    """Whether token ``index`` of a reply is one of a call's own tokens (after the token
    that decided it): a branch there is not offered."""
    for step in saved_steps(meta):
        decision, end = step.get("decision"), step.get("end")
        if isinstance(decision, int) and isinstance(end, int) and 0 <= decision < index < end:
            return True
    return False


def whole_reply(session: ChatSession, message: StoredMessage) -> list[TokenRecord]:
    """Every token record of a reply with tools (to continue it from its end), or none
    for a plain reply or one edited by hand."""
    if message.edited or not saved_steps(message.meta):
        return []
    return session._records(message.id)


def decide(session: ChatSession, runner: ToolRunner, decision: str) -> None:
    """Answer the waiting call; "always" is remembered with the chat."""
    if decision not in ("once", "always", "deny"):
        raise ValueError(f"unknown decision {decision!r}")
    pending = runner.pending
    runner.decide(decision)  # type: ignore[arg-type]
    if decision == "always" and pending is not None:
        name = pending.spec.name
        if name not in session.options.tools_always:
            session.options.tools_always.append(name)
            session.save_options()


def step_record(step: ToolStep, reply: _Reply, end: int) -> dict[str, Any]:
    """A call as saved in the reply's card."""
    said = "".join(t.text for t in step.decision[:-1]) if step.decision else ""
    return {
        "name": step.call.name,
        "arguments": step.call.arguments,
        "id": step.call.id,
        "status": step.status,
        "result": step.result.text,
        "error": step.result.is_error,
        "said": said.strip(),
        "decision": reply.tool_decision,
        "end": end,
    }


def step_messages(record: Mapping[str, Any]) -> list[Message]:
    """A saved call as the two messages the model saw: its call and the result."""
    call = ToolCall(str(record.get("name", "")), str(record.get("arguments", "{}")),
                    str(record.get("id", "call")))  # fmt: skip
    return [
        Message("assistant", str(record.get("said", "")), tool_calls=(call,)),
        Message("tool", str(record.get("result", "")), tool_call_id=call.id, name=call.name),
    ]


def close_fence(text: str) -> str:
    """What closes a Markdown code fence left open at the end of ``text`` (a model that
    opens its call with a fence), so the outcome after it is not read as code."""
    fence = ""
    for line in text.splitlines():
        mark = line.strip()
        if not fence:
            if mark.startswith(("```", "~~~")):
                fence = mark[: len(mark) - len(mark.lstrip(mark[0]))]
        elif mark.startswith(fence) and not mark.strip(fence[0]):
            fence = ""
    return f"\n{fence}" if fence else ""


def step_text(step: ToolStep) -> str:
    """The outcome of a call as shown in the reply, after the call's own tokens."""
    tool = step.call.name
    heads = {
        "ok": QCoreApplication.translate("ToolSteps", "Result of {tool}:"),
        "denied": QCoreApplication.translate(
            "ToolSteps", "{tool} was denied; the model was told so."
        ),
        "error": QCoreApplication.translate("ToolSteps", "{tool} failed:"),
        "invalid": QCoreApplication.translate("ToolSteps", "The call to {tool} was not valid:"),
        "cancelled": QCoreApplication.translate("ToolSteps", "The call to {tool} was stopped."),
    }
    head = heads.get(step.status, "{tool}:").format(tool=tool)
    if step.status in ("denied", "cancelled"):
        return f"\n↳ {head}\n\n"
    return f"\n↳ {head}\n{fenced(shorten(step.result.text))}\n\n"


def shorten(text: str) -> str:
    """``text`` cut to a few lines, saying how much more the card holds."""
    lines = text.splitlines()
    shown = "\n".join(lines[:SHOWN_LINES])[:SHOWN_CHARS]
    if len(shown) >= len(text):
        return text
    more = len(text) - len(shown)
    return (
        shown
        + "\n… "
        + QCoreApplication.translate("ToolSteps", "({n} more characters in Details)").format(n=more)
    )


def fenced(text: str) -> str:
    """``text`` as a Markdown code block (shown verbatim, never as markup)."""
    longest = run = 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    fence = "`" * max(3, longest + 1)
    return f"{fence}\n{text}\n{fence}"


def _append_typed(session: ChatSession, reply: _Reply, text: str) -> None:
    """Text the window wrote into the reply (no distribution behind it)."""
    from desktop_app.ui.chat.session import typed_token

    token = typed_token(len(reply.tokens), text)
    reply.tokens.append(token)
    reply.texts.append(text)
    reply.recorder.append([token], forced=True)
    session.sig_reply_tokens.emit([token])


def saved_steps(meta: Mapping[str, Any]) -> Sequence[Mapping[str, Any]]:
    """The calls saved with a reply (none for a plain reply)."""
    steps = meta.get("tool_steps")
    return [s for s in steps if isinstance(s, dict)] if isinstance(steps, list) else []


def describe_steps(meta: Mapping[str, Any]) -> str:
    """The calls of a reply, one per line, for its card."""
    lines = []
    for s in saved_steps(meta):
        try:
            arguments = json.dumps(json.loads(str(s.get("arguments"))), ensure_ascii=False)
        except ValueError:
            arguments = str(s.get("arguments"))
        lines.append(f"{s.get('name')} {arguments} → {s.get('status')}")
    return "\n".join(lines)


def attach_view(session: ChatSession, view: ChatView) -> InlineSlot:
    """Show a waiting call's approval row in ``view``, under the streaming reply, and
    take it away once the call has its outcome or the reply ends."""
    from desktop_app.ui.chat.tool_approval import ToolApprovalRow

    slot = InlineSlot(view)

    def on_approval(request: ApprovalRequest) -> None:
        row = ToolApprovalRow(request)
        row.sig_decided.connect(session.decide_tool)
        slot.show(row)
        row.allow_once.setFocus()

    def on_over(*_args: object) -> None:
        slot.clear()

    session.sig_tool_approval.connect(on_approval)
    session.sig_tool_step.connect(on_over)
    session.sig_reply_ended.connect(on_over)
    session.sig_show.connect(on_over)
    return slot


def server_names(settings: Callable[[], Settings]) -> Callable[[], list[str]]:
    """The configured servers' names, read from the current settings when asked."""

    def names() -> list[str]:
        try:
            return [c.name for c in settings().mcp_servers()]
        except ValueError:
            return []

    return names


def card_rows(meta: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The reply card's rows for its calls: the call and its whole result."""
    rows = []
    for n, step in enumerate(saved_steps(meta), start=1):
        label = QCoreApplication.translate("ToolSteps", "Tool call {n}").format(n=n)
        head = f"{step.get('name')} {step.get('arguments')} → {step.get('status')}"
        rows.append((label, f"{head}\n{step.get('result', '')}"))
    return rows
