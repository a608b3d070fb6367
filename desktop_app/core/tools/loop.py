"""The tool loop of one reply: the model writes, calls a tool, reads the result, goes on.

Each step is two generations. The first is the free reply, watched for
``<tool_call>``: when the model writes it, the loop stops that generation (the
token that decided stays in the step with its alternatives). The second writes
the call under ``call_grammar``, continuing from the same text, so the call is
always a known tool with arguments that fit its schema. The call is then checked
against the tool's full schema, approved or denied (``Approver``), run, and its
result fenced as untrusted data before the model sees it.

The loop ends when a free reply ends without a call, when ``max_steps`` calls
were made and the model asks for one more (``finish`` "max_steps"), or when
``cancel`` is called, which stops the running generation or tool and every
step after it.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from desktop_app.core.engine.protocol import (
    DoneEvent,
    Engine,
    ErrorEvent,
    GenerateRequest,
    Message,
    PromptProgress,
    TokenEvent,
    ToolCall,
)
from desktop_app.core.errors import EngineCrashedError, GlassboxError, error_from_event
from desktop_app.core.sampling import SamplingParams
from desktop_app.core.tools.format import (
    CALL_OPEN,
    ToolPrompt,
    call_grammar,
    call_max_tokens,
    call_start,
    check_arguments,
    fence,
    parse_call,
    tool_prompt,
)
from desktop_app.core.tools.spec import Tool, ToolResult, ToolSpec, by_name, clip

#: Calls one reply may make unless the settings say otherwise.
DEFAULT_MAX_STEPS = 4
MAX_STEPS_LIMIT = 20
#: The longest call the grammar is given room for, in tokens.
MAX_CALL_TOKENS = 2048

Phase = Literal["reply", "call"]
Status = Literal["ok", "denied", "invalid", "error", "cancelled"]
Finish = Literal["answer", "max_steps", "cancelled", "length", "context_full"]
ToolChoice = Literal["auto", "none", "required"] | str

#: Asked before a call runs: True runs it, False denies it.
Approver = Callable[[ToolSpec, ToolCall], bool]
#: Streams each token: the step (0 for the first reply), the phase, the event.
OnToken = Callable[[int, Phase, TokenEvent], None]
#: Told about each call once it has a result (or was denied).
OnStep = Callable[["ToolStep"], None]


def read_only_builtins(spec: ToolSpec, call: ToolCall) -> bool:
    """The default approval where nobody can be asked: built-in read-only tools run,
    everything else is denied."""
    return spec.builtin and spec.read_only


@dataclass(frozen=True, slots=True)
class ToolStep:
    """One call: what was called, what happened, and the tokens that decided and wrote it.

    ``result`` is what the model was told (before fencing). ``decision`` holds the
    free reply's tokens up to and including the one that started the call.
    """

    call: ToolCall
    status: Status
    result: ToolResult
    decision: tuple[TokenEvent, ...] = ()
    call_tokens: tuple[TokenEvent, ...] = ()

    @property
    def arguments(self) -> dict[str, Any]:
        """The call's arguments as an object."""
        value = json.loads(self.call.arguments)
        return value if isinstance(value, dict) else {}


@dataclass(frozen=True, slots=True)
class ToolReply:
    """A reply made with tools: the final text, each call, and the messages it adds
    to the chat (assistant calls, tool results, the final assistant message)."""

    text: str
    steps: tuple[ToolStep, ...]
    messages: tuple[Message, ...]
    finish: Finish
    tokens: tuple[TokenEvent, ...] = ()
    done: DoneEvent | None = None
    style: str = ""
    sources: tuple[Any, ...] = field(default=())


@dataclass
class _Free:
    """A free reply, stopped at ``<tool_call>`` when the model wrote it."""

    text: str
    tokens: list[TokenEvent]
    done: DoneEvent | None
    called: bool
    #: The call, when a server that calls tools itself made it (no grammar step).
    call: ToolCall | None = None


class ToolLoop:
    """Runs replies with ``tools`` on ``engine``; ``cancel`` is safe from any thread.

    ``template_has_tools`` says whether the loaded model's template takes tools
    (``templates.supports_tools``); otherwise the fallback format is used. An
    engine with ``native_tools`` (a remote server) is given the tools and its
    calls are taken from ``DoneEvent.tool_calls`` (the first of them, one per
    step) instead of being written under the grammar here.
    """

    def __init__(
        self,
        engine: Engine,
        tools: Sequence[Tool],
        *,
        template_has_tools: bool,
        max_steps: int = DEFAULT_MAX_STEPS,
        approve: Approver = read_only_builtins,
        on_token: OnToken | None = None,
        on_step: OnStep | None = None,
        candidates: int = 10,
    ) -> None:
        if not 0 <= max_steps <= MAX_STEPS_LIMIT:
            raise GlassboxError(f"The maximum number of tool calls must be 0–{MAX_STEPS_LIMIT}.")
        self.engine = engine
        self.tools = by_name(tools)
        self.native = getattr(engine, "native_tools", False) is True
        self.template_has_tools = template_has_tools or self.native
        self.max_steps = max_steps
        self.approve = approve
        self.on_token = on_token
        self.on_step = on_step
        self.candidates = candidates
        self._cancel = threading.Event()

    def cancel(self) -> None:
        """Stop the reply: the running generation or tool, and every step after it."""
        self._cancel.set()
        self.engine.cancel()

    @property
    def cancelled(self) -> bool:
        """Whether ``cancel`` was called."""
        return self._cancel.is_set()

    def run(
        self,
        history: Sequence[Message],
        params: SamplingParams,
        tool_choice: ToolChoice = "auto",
        assistant_prefix: str = "",
    ) -> ToolReply:
        """One reply to ``history`` with calls as the model decides (``tool_choice``
        "auto"), none ("none"), at least one first ("required") or one of the tool
        named by ``tool_choice`` first.

        ``history`` may end with earlier calls and their results (``tool`` messages,
        fenced here as untrusted data). ``assistant_prefix`` is the start of the
        reply's next free text (a branch from a chosen token); when it ends with
        ``<tool_call>`` the call is written at once."""
        specs = [t.spec for t in self.tools.values()]
        if tool_choice not in ("auto", "none", "required") and tool_choice not in self.tools:
            raise GlassboxError(f"tool_choice names {tool_choice!r}, which is not a given tool.")
        prompt = tool_prompt(
            specs, self.template_has_tools, [m.content for m in history] + [assistant_prefix]
        )
        convo = [
            replace(m, content=fence(m.name or "a tool", m.content, prompt.mark))
            if m.role == "tool"
            else m
            for m in history
        ]
        added: list[Message] = []
        steps: list[ToolStep] = []
        sources: list[Any] = []
        made: set[tuple[str, str]] = set()
        for n in range(self.max_steps + 1):
            if self._cancel.is_set():
                return self._end("", steps, added, "cancelled", prompt, sources)
            forced = n == 0 and tool_choice not in ("auto", "none")
            before = assistant_prefix if n == 0 else ""
            if n == 0 and self.tools and before.endswith(CALL_OPEN):
                free = _Free(before[: -len(CALL_OPEN)], [], None, called=True)
            elif not self.tools or tool_choice == "none":
                free = self._free(
                    n, prompt, convo, params, watch=False, prefix=before, choice="none"
                )
            elif forced and not self.native:
                free = _Free(before, [], None, called=True)
            else:
                choice = tool_choice if forced else "auto"
                free = self._free(
                    n, prompt, convo, params, watch=True, prefix=before, choice=choice
                )
            if self._cancel.is_set():
                return self._end(free.text, steps, added, "cancelled", prompt, sources)
            if not free.called:
                return self._answer(free, steps, added, prompt, sources, "answer")
            if n >= self.max_steps:
                # One call too many: the answer is asked for with the tools withheld.
                final = self._free(n, prompt, convo, params, watch=False, withheld=True)
                return self._answer(final, steps, added, prompt, sources, "max_steps")
            only = [self.tools[tool_choice].spec] if forced and tool_choice != "required" else specs
            call_tokens: tuple[TokenEvent, ...] = ()
            if free.call is not None:
                call = free.call
            else:
                call, call_tokens = self._write_call(n, prompt, convo, params, free.text, only)
            if self._cancel.is_set():
                return self._end(free.text, steps, added, "cancelled", prompt, sources)
            key = (call.name, _canonical(call.arguments))
            if key in made:
                # The same call again: the model has its result and small models
                # repeat themselves here; it is asked to answer with the tools withheld.
                final = self._free(n, prompt, convo, params, watch=False, withheld=True)
                return self._answer(final, steps, added, prompt, sources, "answer")
            made.add(key)
            step = self._execute(call, prompt, tuple(free.tokens), call_tokens)
            sources.extend(step.result.sources)
            steps.append(step)
            if self.on_step is not None:
                self.on_step(step)
            said = Message("assistant", free.text.strip(), tool_calls=(call,))
            answer = Message(
                "tool",
                fence(call.name, step.result.text, prompt.mark),
                tool_call_id=call.id,
                name=call.name,
            )
            convo += [said, answer]
            added += [said, answer]
        raise AssertionError("unreachable: the last step returns")  # pragma: no cover

    def _answer(
        self,
        free: _Free,
        steps: Sequence[ToolStep],
        added: list[Message],
        prompt: ToolPrompt,
        sources: Sequence[Any],
        finish: Finish,
    ) -> ToolReply:
        added.append(Message("assistant", free.text))
        reason = free.done.finish_reason if free.done is not None else ""
        if reason == "cancelled" or self._cancel.is_set():
            finish = "cancelled"
        elif reason in ("length", "context_full"):
            finish = reason
        return self._end(free.text, steps, added, finish, prompt, sources, free.tokens, free.done)

    # -- generations -----------------------------------------------------------

    def _request(
        self,
        prompt: ToolPrompt,
        convo: Sequence[Message],
        params: SamplingParams,
        withheld: bool = False,
        **extra: Any,
    ) -> GenerateRequest:
        return GenerateRequest(
            params=params,
            messages=prompt.messages(convo, withheld=withheld),
            tools=() if withheld else prompt.request_tools,
            candidates=self.candidates,
            **extra,
        )

    def _free(
        self,
        n: int,
        prompt: ToolPrompt,
        convo: Sequence[Message],
        params: SamplingParams,
        *,
        watch: bool,
        withheld: bool = False,
        prefix: str = "",
        choice: str = "auto",
    ) -> _Free:
        """A free reply; with ``watch``, stopped as soon as it starts a call. ``withheld``
        leaves the tools out of the prompt (the results stay); ``prefix`` is the
        reply's given start (its text counts as the reply's, its tokens are not
        streamed again)."""
        if prefix:
            request = self._request(
                prompt, convo, params, withheld, assistant_prefix=prefix, tool_choice=choice
            )
        else:
            request = self._request(prompt, convo, params, withheld, tool_choice=choice)
        names = [spec.name for spec in prompt.specs]
        tokens: list[TokenEvent] = []
        held: list[TokenEvent] = []
        text = prefix
        called = False
        done: DoneEvent | None = None
        for event in self.engine.generate(request):
            if isinstance(event, TokenEvent):
                if called:
                    continue  # drawn before the stop took effect
                tokens.append(event)
                text += event.text
                if not watch:
                    self._emit(n, "reply", [event])
                    continue
                held.append(event)
                start = call_start(text, names)
                if start is not None and start >= 0:
                    called = True
                    text = text[:start]
                    self.engine.cancel()
                    # The tokens before the call were the reply's own text.
                    emitted = tokens[: len(tokens) - len(held)]
                    shown = len(text) - len(prefix) - sum(len(e.text) for e in emitted)
                    self._emit(n, "reply", _upto(held, shown))
                    held = []
                elif start is None:
                    self._emit(n, "reply", held)
                    held = []
            elif isinstance(event, DoneEvent):
                done = event
                break
            elif isinstance(event, ErrorEvent):
                raise error_from_event(event)
            elif not isinstance(event, PromptProgress):
                raise GlassboxError(f"The engine sent an unexpected {type(event).__name__}.")
        else:
            raise EngineCrashedError("The engine ended a generation without saying how.")
        if held and not called:
            self._emit(n, "reply", held)
        if done is not None and done.text and not called:
            text = prefix + done.text
        if done is not None and done.tool_calls and not called:
            first = done.tool_calls[0]
            return _Free(text, tokens, done, True, replace(first, id=first.id or f"call_{n}"))
        return _Free(text, tokens, done, called)

    def _write_call(
        self,
        n: int,
        prompt: ToolPrompt,
        convo: Sequence[Message],
        params: SamplingParams,
        before: str,
        specs: Sequence[ToolSpec],
    ) -> tuple[ToolCall, tuple[TokenEvent, ...]]:
        """The call after ``before`` + ``<tool_call>``, written under the call grammar."""
        limit = min(call_max_tokens(specs), MAX_CALL_TOKENS)
        request = self._request(
            prompt,
            convo,
            replace(params, max_tokens=limit, stop=()),
            assistant_prefix=before + CALL_OPEN,
            grammar=call_grammar(specs),
        )
        tokens: list[TokenEvent] = []
        done: DoneEvent | None = None
        for event in self.engine.generate(request):
            if isinstance(event, TokenEvent):
                tokens.append(event)
                self._emit(n, "call", [event])
            elif isinstance(event, DoneEvent):
                done = event
                break
            elif isinstance(event, ErrorEvent):
                raise error_from_event(event)
        if done is None:
            raise EngineCrashedError("The engine ended a tool call without saying how.")
        text = done.text or "".join(t.text for t in tokens)
        if done.finish_reason == "cancelled":
            self._cancel.set()
            return ToolCall("", "{}", f"call_{n}"), tuple(tokens)
        if done.finish_reason == "loop":
            raise GlassboxError(
                f"The model kept writing the same text over and over in a tool call "
                f"({len(tokens)} tokens), before its arguments were complete."
            )
        if done.finish_reason not in ("eos", "stop"):
            raise GlassboxError(
                f"The tool call stopped ({done.finish_reason}) after {len(tokens)} tokens, "
                "before its arguments were complete. Load the model with a larger context."
            )
        return parse_call(text, f"call_{n}"), tuple(tokens)

    # -- tools -----------------------------------------------------------------

    def _execute(
        self,
        call: ToolCall,
        prompt: ToolPrompt,
        decision: tuple[TokenEvent, ...],
        call_tokens: tuple[TokenEvent, ...],
    ) -> ToolStep:
        def step(status: Status, result: ToolResult) -> ToolStep:
            return ToolStep(call, status, result, decision, call_tokens)

        tool = self.tools.get(call.name)
        if tool is None:
            return step(
                "invalid", ToolResult(f"There is no tool named {call.name!r}.", is_error=True)
            )
        arguments = json.loads(call.arguments)
        problems = check_arguments(tool.spec, arguments)
        if problems:
            why = "; ".join(problems)
            return step("invalid", ToolResult(f"The arguments are not valid: {why}", is_error=True))
        if not self.approve(tool.spec, call):
            return step(
                "denied", ToolResult("The user denied this call; it did not run.", is_error=True)
            )
        if self._cancel.is_set():
            return step("cancelled", ToolResult("The call was cancelled.", is_error=True))
        try:
            result = tool.run(arguments, self._cancel)
        except GlassboxError as exc:
            return step("error", ToolResult(f"The tool failed: {exc}", is_error=True))
        if self._cancel.is_set():
            return step("cancelled", ToolResult("The call was cancelled.", is_error=True))
        return step("ok", replace(result, text=clip(result.text)))

    def _emit(self, n: int, phase: Phase, events: Sequence[TokenEvent]) -> None:
        if self.on_token is not None:
            for event in events:
                self.on_token(n, phase, event)

    def _end(
        self,
        text: str,
        steps: Sequence[ToolStep],
        added: Sequence[Message],
        finish: Finish,
        prompt: ToolPrompt,
        sources: Sequence[Any],
        tokens: Sequence[TokenEvent] = (),
        done: DoneEvent | None = None,
    ) -> ToolReply:
        # A fence marker echoed back is never shown as if it were the reply's own text.
        clean = text.replace(prompt.mark, "")
        return ToolReply(
            clean, tuple(steps), tuple(added), finish, tuple(tokens), done, prompt.style,
            tuple(sources),
        )  # fmt: skip


def _canonical(arguments: str) -> str:
    try:
        return json.dumps(json.loads(arguments), sort_keys=True)
    except ValueError:
        return arguments


def _upto(events: Sequence[TokenEvent], chars: int) -> list[TokenEvent]:
    """The events that write the first ``chars`` characters (the last one trimmed)."""
    out: list[TokenEvent] = []
    pos = 0
    for ev in events:
        if pos >= chars:
            break
        keep = ev.text[: chars - pos]
        pos += len(ev.text)
        if keep:
            out.append(ev if keep == ev.text else replace(ev, text=keep))
    return out


def approvals(answers: Mapping[str, bool]) -> Approver:
    """An approver from fixed answers per tool name (unlisted tools: the default)."""

    def approve(spec: ToolSpec, call: ToolCall) -> bool:
        if spec.name in answers:
            return answers[spec.name]
        return read_only_builtins(spec, call)

    return approve


@dataclass(frozen=True, slots=True)
class ToolTurn:
    """One assistant turn for a client that runs the tools itself (the API): the text,
    and the calls the model made (none when it answered)."""

    text: str
    calls: tuple[ToolCall, ...]
    tokens: tuple[TokenEvent, ...]
    done: DoneEvent | None


def next_turn(
    engine: Engine,
    specs: Sequence[ToolSpec],
    history: Sequence[Message],
    params: SamplingParams,
    *,
    template_has_tools: bool,
    tool_choice: ToolChoice = "auto",
    candidates: int = 10,
) -> ToolTurn:
    """The model's next turn with ``specs`` offered: a reply, or a call written under the
    call grammar (the caller runs it and sends the result back as a ``tool`` message)."""
    tools = [_Offered(spec) for spec in specs]
    loop = ToolLoop(
        engine, tools, template_has_tools=template_has_tools, max_steps=1, candidates=candidates
    )
    if tool_choice not in ("auto", "none", "required") and tool_choice not in loop.tools:
        raise GlassboxError(f"tool_choice names {tool_choice!r}, which is not a given tool.")
    prompt = tool_prompt(specs, loop.template_has_tools, [m.content for m in history])
    # The client's tool results are untrusted like ours: fenced the same way.
    history = [
        replace(m, content=fence(m.name or "a tool", m.content, prompt.mark))
        if m.role == "tool"
        else m
        for m in history
    ]
    if tool_choice == "none" or not specs:
        free = loop._free(0, prompt, history, params, watch=False, choice="none")
        return ToolTurn(free.text, (), tuple(free.tokens), free.done)
    if tool_choice == "auto" or loop.native:
        free = loop._free(0, prompt, history, params, watch=True, choice=tool_choice)
        if free.call is not None:
            return ToolTurn(free.text, (free.call,), tuple(free.tokens), free.done)
        if not free.called or loop.cancelled:
            return ToolTurn(free.text, (), tuple(free.tokens), free.done)
        only = list(specs)
    else:
        free = _Free("", [], None, called=True)
        only = list(specs) if tool_choice == "required" else [loop.tools[tool_choice].spec]
    call, call_tokens = loop._write_call(0, prompt, history, params, free.text, only)
    call = replace(call, id=f"call_{secrets.token_hex(8)}")
    return ToolTurn(free.text, (call,), tuple(free.tokens) + call_tokens, free.done)


@dataclass(frozen=True)
class _Offered:
    """A tool offered to the model that Glassbox does not run (the client does)."""

    spec: ToolSpec

    def run(self, arguments: Mapping[str, Any], cancel: threading.Event) -> ToolResult:
        raise GlassboxError(f"{self.spec.name} is run by the client, not here.")
