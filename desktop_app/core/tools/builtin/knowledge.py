"""Search the knowledge collections attached to the chat, as a tool.

The passages come back numbered, with the file (and page) they are quoted from,
so the reply can cite them as ``[n]`` as grounded answers do; the numbers go on
across calls in one reply, and the hits are kept as the reply's sources. The
search is the knowledge base's own (vector and keyword rankings, fused).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop_app.core.tools.spec import ToolError, ToolResult, ToolSpec

if TYPE_CHECKING:
    from desktop_app.core.kb.knowledge_base import KnowledgeBase

#: Passages per call, and the most characters of each given to the model.
PASSAGES = 4
PASSAGE_CHARS = 1200

SPEC = ToolSpec(
    name="search_knowledge",
    description=(
        "Search the user's documents (the knowledge collections attached to this chat) "
        "and get the best matching passages, numbered; cite them as [n]."
    ),
    parameters={
        "type": "object",
        "properties": {
            "query": {
                "type": "string",
                "maxLength": 300,
                "description": "What to look for, in a few words or a question.",
            }
        },
        "required": ["query"],
    },
    read_only=True,
)


class KnowledgeSearch:
    """The tool over ``kb``'s ``collections``; ``sources`` are every hit given so far."""

    spec = SPEC

    def __init__(self, kb: KnowledgeBase, collections: Sequence[str], k: int = PASSAGES) -> None:
        if not collections:
            raise ToolError("Attach a knowledge collection to the chat to search it.")
        self.kb = kb
        self.collections = tuple(collections)
        self.k = k
        self.sources: list[Any] = []

    def run(self, arguments: Mapping[str, Any], cancel: threading.Event) -> ToolResult:
        """The passages for ``arguments["query"]``, numbered after those given before."""
        query = str(arguments.get("query", "")).strip()
        if not query:
            raise ToolError("The search needs a query.")
        try:
            hits = self.kb.search_many(query, self.collections, self.k)
        except (OSError, ValueError) as exc:
            raise ToolError(f"The knowledge search failed ({exc}).") from exc
        if not hits:
            return ToolResult(f"No passage matches {query!r}.")
        blocks = []
        for hit in hits:
            self.sources.append(hit)
            n = len(self.sources)
            where = Path(hit.chunk.path).name
            if hit.chunk.page:
                where += f", page {hit.chunk.page}"
            text = hit.chunk.text[:PASSAGE_CHARS]
            blocks.append(f"[{n}] (from {where})\n{text}")
        return ToolResult("\n\n".join(blocks), sources=tuple(hits))
