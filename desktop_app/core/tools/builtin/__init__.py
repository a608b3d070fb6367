"""Tools Glassbox provides itself, offline: calculator, date and time, knowledge
search, and reading a file dropped into the chat."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from desktop_app.core.errors import InvalidRequestError
from desktop_app.core.tools.spec import Tool

if TYPE_CHECKING:
    from desktop_app.core.kb.knowledge_base import KnowledgeBase

#: The names ``--tools`` and the settings use, in the order they are listed.
BUILTIN_NAMES = ("calculator", "datetime", "knowledge", "files")


def builtin_tools(
    names: Sequence[str],
    *,
    kb: KnowledgeBase | None = None,
    collections: Sequence[str] = (),
    files: Sequence[Path] = (),
) -> list[Tool]:
    """The built-in tools named (see ``BUILTIN_NAMES``); the knowledge search needs a
    knowledge base and collections, reading files needs the chat's files."""
    from desktop_app.core.tools.builtin.calculator import calculator
    from desktop_app.core.tools.builtin.clock import current_datetime
    from desktop_app.core.tools.builtin.files import ReadFile
    from desktop_app.core.tools.builtin.knowledge import KnowledgeSearch

    out: list[Tool] = []
    for name in dict.fromkeys(n.strip() for n in names if n.strip()):
        if name == "calculator":
            out.append(calculator())
        elif name == "datetime":
            out.append(current_datetime())
        elif name == "knowledge":
            if kb is None or not collections:
                raise InvalidRequestError(
                    "The knowledge tool needs a collection: give --collection NAME."
                )
            out.append(KnowledgeSearch(kb, collections))
        elif name == "files":
            if not files:
                raise InvalidRequestError("The files tool needs files: give --file PATH.")
            out.append(ReadFile([Path(f) for f in files]))
        else:
            raise InvalidRequestError(
                f"There is no built-in tool {name!r}; choose from {', '.join(BUILTIN_NAMES)}."
            )
    return out
