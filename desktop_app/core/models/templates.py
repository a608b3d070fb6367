"""Chat formatting with the model's own template, rendered in a sandbox.

Templates come from model files people download, so they are untrusted code:
they run in llama-cpp-python's ``ImmutableSandboxedEnvironment`` (the fix for
CVE-2024-34359). A model without a template gets a plain, clearly labelled
fallback rather than an error.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from desktop_app.core.engine.protocol import Message
from desktop_app.core.errors import InvalidRequestError

#: Used when a model has no chat template (base models such as Gemma 3 270M).
PLAIN_ROLES = {"system": "System", "user": "User", "assistant": "Assistant", "tool": "Tool"}


@dataclass(frozen=True, slots=True)
class ChatPrompt:
    """A rendered chat prompt and the strings that end the assistant's turn."""

    text: str
    stop: tuple[str, ...]
    template: str  # "model" when the file's template was used, "plain" for the fallback


def plain_prompt(messages: Sequence[Message], assistant_prefix: str = "") -> ChatPrompt:
    """The fallback format: ``Role: text`` paragraphs, ending with ``Assistant:``."""
    parts = [f"{PLAIN_ROLES[m.role]}: {_plain_content(m)}" for m in messages]
    parts.append(f"Assistant:{' ' + assistant_prefix if assistant_prefix else ''}")
    stops = ("\nUser:", "\nAssistant:", "\nSystem:")
    return ChatPrompt("\n\n".join(parts), stop=stops, template="plain")


def _plain_content(m: Message) -> str:
    """A message's text for the plain format, its tool calls written as the model wrote them."""
    calls = [
        f'<tool_call>\n{{"name": {json.dumps(c.name)}, "arguments": {c.arguments}}}\n</tool_call>'
        for c in m.tool_calls
    ]
    return "\n".join([m.content.strip(), *calls]).strip()


def message_payload(m: Message) -> dict[str, Any]:
    """A message as chat templates (and OpenAI's format) take it: tool calls with
    their arguments as an object, a tool result with its call's id and tool name."""
    out: dict[str, Any] = {"role": m.role, "content": m.content}
    if m.tool_calls:
        out["tool_calls"] = [
            {
                "id": c.id,
                "type": "function",
                "function": {"name": c.name, "arguments": _arguments(c.arguments)},
            }
            for c in m.tool_calls
        ]
    if m.role == "tool":
        out["tool_call_id"] = m.tool_call_id
        out["name"] = m.name
    if m.reasoning and m.role == "assistant":
        # Qwen3's and llama.cpp's name for it; a template that does not read it
        # leaves the reasoning out of the prompt, which is what most want.
        out["reasoning_content"] = m.reasoning
    return out


def _arguments(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def supports_tools(template: str | None) -> bool:
    """Whether ``template`` writes the tools it is given into the prompt (Qwen2.5,
    Hermes, Llama 3.1…): rendered with a probe tool, the probe's name shows up."""
    if not template or "tools" not in template:
        return False
    probe = "glassbox_probe_tool"
    tool = {
        "type": "function",
        "function": {
            "name": probe,
            "description": "A probe.",
            "parameters": {"type": "object", "properties": {}},
        },
    }
    try:
        text = render_chat([Message("user", "Hi")], template, tools=(tool,)).text
    except InvalidRequestError:
        return False
    return probe in text


def render_chat(
    messages: Sequence[Message],
    template: str | None,
    bos_token: str = "",
    eos_token: str = "",
    assistant_prefix: str = "",
    *,
    source: str = "model",
    tools: Sequence[dict[str, Any]] = (),
    thinking: bool | None = None,
    variables: Mapping[str, Any] | None = None,
) -> ChatPrompt:
    """Render ``messages`` with ``template`` (sandboxed), or the plain fallback if None.

    ``tools`` are passed to the template as its ``tools`` variable (the plain
    fallback has no place for them: the caller writes them into a message).
    ``assistant_prefix`` is appended after the generation prompt so that a reply
    can be continued or branched from a chosen token. ``source`` says where the
    template came from ("model" for the model file, "override" for the user's
    override), so that a refusal names the right culprit. ``thinking`` sets a
    reasoning model's thinking switch the way the template takes it (see
    :mod:`desktop_app.core.chat.thinking`; None leaves the template's default);
    ``variables`` are further render variables.

    A template that escapes the sandbox, fails, or would take more than
    :data:`~desktop_app.core.models.template_sandbox.TIME_LIMIT_S` seconds or
    build far more text than the chat holds, is refused with
    :class:`InvalidRequestError`.
    """
    if not messages:
        raise InvalidRequestError("A chat needs at least one message.")
    if not template:
        return plain_prompt(messages, assistant_prefix)
    # Imported here: the window must not pay for Jinja2 at start-up.
    from desktop_app.core.models.template_sandbox import (
        BASE_CHARS,
        TemplateRefused,
        raise_exception,
        render,
        strftime_now,
    )

    extra: dict[str, Any] = dict(variables or {})
    if thinking is not None:
        from desktop_app.core.chat.thinking import template_variables, with_flag

        support = _support(template)
        extra.update(template_variables(support, thinking))
        if support.switch == "flag":
            messages = with_flag(messages, thinking)
    payload: list[Any] = [message_payload(m) for m in messages]
    inputs = sum(
        len(m.content) + len(m.reasoning) + sum(len(c.arguments) for c in m.tool_calls)
        for m in messages
    )
    inputs += len(bos_token) + len(eos_token)
    inputs += sum(len(json.dumps(t)) for t in tools)
    try:
        compiled = _compile(template)
        text = render(
            compiled,
            BASE_CHARS + 4 * inputs,
            messages=payload,
            eos_token=eos_token,
            bos_token=bos_token,
            raise_exception=raise_exception,
            add_generation_prompt=True,
            functions=None,
            function_call=None,
            tools=list(tools) or None,
            tool_choice=None,
            strftime_now=strftime_now,
            **extra,
        )
    # Whatever the template's own code raises is the template's fault: besides
    # Jinja2's errors, ValueError (raise_exception), OverflowError (the sandbox's
    # refusal of a range bomb), RecursionError, LookupError from str.format…
    except (TemplateRefused, Exception) as exc:
        if isinstance(exc, TemplateRefused):
            why = f"it was stopped because {exc}"
        else:
            why = f"{type(exc).__name__}: {exc}"
        if source == "override":
            raise InvalidRequestError(
                f"The chat template override was refused or could not be rendered ({why}). "
                "The fault is in the override, not in your messages: fix it, or turn the "
                "override off to use the model's own template."
            ) from exc
        raise InvalidRequestError(
            f"The model's chat template was refused or could not be rendered ({why}). "
            "The fault is in the model file, not in your messages: set a template override "
            "in the model settings."
        ) from exc
    stops = (eos_token,) if eos_token else ()
    return ChatPrompt(text + assistant_prefix, stop=stops, template="model")


def _support(template: str) -> Any:
    """What the template does with reasoning (remembered per template)."""
    from desktop_app.core.chat.thinking import thinking_support

    return thinking_support(template)


@lru_cache(maxsize=8)
def _compile(template: str) -> Any:
    """The template compiled in the guarded sandbox; compiling costs milliseconds per turn."""
    from desktop_app.core.models.template_sandbox import compile_template

    return compile_template(template)
