"""What a tool is: a name, a description, a JSON Schema for its arguments, and whether
it only reads (a read-only built-in runs without asking; everything else asks first).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from desktop_app.core.errors import GlassboxError, InvalidRequestError

#: Tool names as OpenAI's format and the MCP specification allow them.
NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
#: The longest tool result the model is shown; the rest is cut with a note.
MAX_RESULT_CHARS = 8000


class ToolError(GlassboxError):
    """A tool could not run (bad arguments, a server that failed, timed out or broke)."""

    kind = "tool"


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool as the model sees it. ``source`` is "builtin" or "mcp:<server>"."""

    name: str
    description: str
    parameters: Mapping[str, Any]
    read_only: bool = False
    source: str = "builtin"

    def __post_init__(self) -> None:
        if not NAME_PATTERN.match(self.name):
            raise InvalidRequestError(
                f"{self.name!r} is not a usable tool name: 1–64 letters, digits, '_', '-' or '.'."
            )
        if not isinstance(self.parameters, Mapping) or self.parameters.get("type") != "object":
            raise InvalidRequestError(
                f"The parameters of tool {self.name!r} must be a JSON Schema of type object."
            )

    @property
    def builtin(self) -> bool:
        """Whether Glassbox itself provides the tool (no server)."""
        return self.source == "builtin"

    def openai(self) -> dict[str, Any]:
        """The tool in OpenAI's format, which chat templates take as ``tools``."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": dict(self.parameters),
            },
        }


@dataclass(frozen=True, slots=True)
class ToolResult:
    """What a tool returned: text for the model, and any sources it cites (passages)."""

    text: str
    sources: tuple[Any, ...] = field(default=())
    is_error: bool = False


class Tool(Protocol):
    """A tool that can run: its spec, and ``run`` (may raise :class:`ToolError`)."""

    @property
    def spec(self) -> ToolSpec:
        """The tool's definition."""
        ...

    def run(self, arguments: Mapping[str, Any], cancel: threading.Event) -> ToolResult:
        """Run with validated ``arguments``; stop early when ``cancel`` is set."""
        ...


@dataclass(frozen=True)
class FunctionTool:
    """A tool backed by a Python function of its arguments (the built-ins)."""

    spec: ToolSpec
    func: Callable[[Mapping[str, Any]], ToolResult | str]

    def run(self, arguments: Mapping[str, Any], cancel: threading.Event) -> ToolResult:
        """Call the function; a plain string result becomes a ``ToolResult``."""
        out = self.func(arguments)
        return out if isinstance(out, ToolResult) else ToolResult(out)


def clip(text: str, limit: int = MAX_RESULT_CHARS) -> str:
    """``text`` cut to ``limit`` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n[… {len(text) - limit} more characters left out]"


def by_name(tools: Sequence[Tool]) -> dict[str, Tool]:
    """Tools by name; two tools of the same name are refused."""
    out: dict[str, Tool] = {}
    for tool in tools:
        name = tool.spec.name
        if name in out:
            raise InvalidRequestError(f"Two tools are named {name!r}; rename or remove one.")
        out[name] = tool
    return out
