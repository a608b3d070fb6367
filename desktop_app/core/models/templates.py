"""Chat formatting with the model's own template, rendered in a sandbox.

Templates come from model files people download, so they are untrusted code:
they run in llama-cpp-python's ``ImmutableSandboxedEnvironment`` (the fix for
CVE-2024-34359). A model without a template gets a plain, clearly labelled
fallback rather than an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from desktop_app.core.engine.protocol import Message
from desktop_app.core.errors import InvalidRequestError

#: Used when a model has no chat template (base models such as Gemma 3 270M).
PLAIN_ROLES = {"system": "System", "user": "User", "assistant": "Assistant"}


@dataclass(frozen=True, slots=True)
class ChatPrompt:
    """A rendered chat prompt and the strings that end the assistant's turn."""

    text: str
    stop: tuple[str, ...]
    template: str  # "model" when the file's template was used, "plain" for the fallback


def plain_prompt(messages: Sequence[Message], assistant_prefix: str = "") -> ChatPrompt:
    """The fallback format: ``Role: text`` paragraphs, ending with ``Assistant:``."""
    parts = [f"{PLAIN_ROLES[m.role]}: {m.content.strip()}" for m in messages]
    parts.append(f"Assistant:{' ' + assistant_prefix if assistant_prefix else ''}")
    stops = ("\nUser:", "\nAssistant:", "\nSystem:")
    return ChatPrompt("\n\n".join(parts), stop=stops, template="plain")


def render_chat(
    messages: Sequence[Message],
    template: str | None,
    bos_token: str = "",
    eos_token: str = "",
    assistant_prefix: str = "",
) -> ChatPrompt:
    """Render ``messages`` with ``template`` (sandboxed), or the plain fallback if None.

    ``assistant_prefix`` is appended after the generation prompt so that a reply
    can be continued or branched from a chosen token.
    """
    if not messages:
        raise InvalidRequestError("A chat needs at least one message.")
    if not template:
        return plain_prompt(messages, assistant_prefix)
    import jinja2

    try:
        formatter = _formatter(template, eos_token, bos_token)
        payload: list[Any] = [{"role": m.role, "content": m.content} for m in messages]
        result = formatter(messages=payload)
    except (
        jinja2.TemplateError,
        ValueError,
        TypeError,
        ArithmeticError,  # the sandbox's refusal of a range bomb is an OverflowError
        RecursionError,
        MemoryError,
    ) as exc:
        raise InvalidRequestError(
            f"The model's chat template was refused or could not be rendered "
            f"({type(exc).__name__}: {exc}). The fault is in the model file, not in your "
            "messages: set a template override in the model settings."
        ) from exc
    stop = result.stop
    stops = tuple(s for s in ((stop,) if isinstance(stop, str) else (stop or ())) if s)
    return ChatPrompt(result.prompt + assistant_prefix, stop=stops, template="model")


@lru_cache(maxsize=8)
def _formatter(template: str, eos_token: str, bos_token: str) -> Any:
    """A compiled, sandboxed formatter; compiling a template costs milliseconds per turn."""
    # Imported here: the window must not pay for llama_cpp at start-up.
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    return Jinja2ChatFormatter(template=template, eos_token=eos_token, bos_token=bos_token)
