"""Read a file the user dropped into this chat, as a tool.

Only the chat's own files can be named (the schema's enum lists them, so the call
grammar cannot write another path); the text comes from the knowledge base's
parsers with tight limits (size, text, no OCR), and a call returns at most
``CHUNK_CHARS`` characters from ``offset``, saying where the next part starts.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from desktop_app.core.tools.spec import ToolError, ToolResult, ToolSpec

#: The largest file read, and the most text taken from it.
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_TEXT_CHARS = 2_000_000
#: Characters returned by one call.
CHUNK_CHARS = 6000


def spec_for(names: Sequence[str]) -> ToolSpec:
    """The tool's definition for a chat with the files ``names``."""
    return ToolSpec(
        name="read_file",
        description=(
            "Read a file the user attached to this chat, as plain text, "
            f"{CHUNK_CHARS} characters at a time from offset."
        ),
        parameters={
            "type": "object",
            "properties": {
                "name": {"enum": list(names), "description": "The file's name."},
                "offset": {
                    "type": "integer",
                    "description": "Where to start reading, in characters (default 0).",
                },
            },
            "required": ["name"],
        },
        read_only=True,
    )


class ReadFile:
    """The tool over the chat's ``files``."""

    def __init__(self, files: Sequence[Path]) -> None:
        if not files:
            raise ToolError("No file was dropped into this chat.")
        self.files = {p.name: p for p in files}
        self.spec = spec_for(list(self.files))
        self._texts: dict[str, str] = {}

    def run(self, arguments: Mapping[str, Any], cancel: threading.Event) -> ToolResult:
        """Part of a file's text, from ``offset``."""
        name = str(arguments.get("name", ""))
        path = self.files.get(name)
        if path is None:
            raise ToolError(f"{name!r} is not a file of this chat.")
        text = self._texts.get(name)
        if text is None:
            text = self._texts[name] = _read(path)
        offset = arguments.get("offset", 0)
        if not isinstance(offset, int) or offset < 0:
            raise ToolError("offset must be a whole number of characters, 0 or more.")
        part = text[offset : offset + CHUNK_CHARS]
        end = offset + len(part)
        note = (
            f"\n[characters {offset}–{end} of {len(text)}; call again with offset {end} for more]"
            if end < len(text)
            else f"\n[end of {name}, {len(text)} characters]"
        )
        return ToolResult(part + note)


def _read(path: Path) -> str:
    from desktop_app.core.kb.errors import ParseError
    from desktop_app.core.kb.parsers import ParseLimits, parse_file

    limits = ParseLimits(
        max_file_bytes=MAX_FILE_BYTES,
        max_text_chars=MAX_TEXT_CHARS,
        max_unpacked_bytes=4 * MAX_FILE_BYTES,
        max_ocr_pages=0,
        timeout_s=30.0,
    )
    try:
        return parse_file(path, limits).text
    except ParseError as exc:
        raise ToolError(f"{path.name} cannot be read: {exc}") from exc
    except OSError as exc:
        raise ToolError(f"{path.name} cannot be read ({exc.strerror or exc}).") from exc
