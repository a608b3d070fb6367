"""The built-in tools over the user's own material: knowledge search with citations,
and reading a file dropped into the chat."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from kb_fakes import HashEmbedder

from desktop_app.core.engine.fake import FakeEngine
from desktop_app.core.engine.protocol import EngineConfig, Event, GenerateRequest, Message
from desktop_app.core.errors import InvalidRequestError
from desktop_app.core.kb.knowledge_base import KnowledgeBase
from desktop_app.core.kb.parse_host import InProcessParser
from desktop_app.core.sampling import SamplingParams
from desktop_app.core.tools.builtin import BUILTIN_NAMES, builtin_tools
from desktop_app.core.tools.builtin.files import CHUNK_CHARS, ReadFile
from desktop_app.core.tools.format import call_grammar
from desktop_app.core.tools.loop import ToolLoop
from desktop_app.core.tools.spec import ToolError

NEVER = threading.Event()


@pytest.fixture
def kb(tmp_path: Path) -> Iterator[KnowledgeBase]:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "quota.txt").write_text("Disk quotas are switched on with usrquota.", "utf-8")
    (docs / "tea.txt").write_text("Green tea is steeped at 80 degrees for two minutes.", "utf-8")
    with KnowledgeBase(tmp_path / "kb", embedder=HashEmbedder()) as store:
        store.ingest([docs], "notes", InProcessParser())
        yield store


def test_the_knowledge_search_returns_numbered_passages_with_their_files(
    kb: KnowledgeBase,
) -> None:
    [tool] = builtin_tools(["knowledge"], kb=kb, collections=["notes"])
    first = tool.run({"query": "usrquota disk quotas"}, NEVER)
    assert first.text.startswith("[1] (from quota.txt)")
    assert "usrquota" in first.text
    assert first.sources and first.sources[0].chunk.path.endswith("quota.txt")
    # Numbers go on across calls in one reply.
    second = tool.run({"query": "green tea"}, NEVER)
    assert f"[{len(first.sources) + 1}]" in second.text


class ScriptedEngine(FakeEngine):
    def __init__(self, scripts: list[str]) -> None:
        super().__init__()
        self.scripts = list(scripts)
        self.load(EngineConfig("scripted.gguf"))

    def generate(self, request: GenerateRequest) -> Iterator[Event]:
        self.script = self.scripts.pop(0)
        return super().generate(request)


def test_a_reply_keeps_the_searched_passages_as_its_sources(kb: KnowledgeBase) -> None:
    engine = ScriptedEngine(
        [
            "<tool_call>",
            '\n{"name": "search_knowledge", "arguments": {"query": "usrquota"}}\n</tool_call>',
            "Switch them on with usrquota [1].",
        ]
    )
    tools = builtin_tools(["knowledge"], kb=kb, collections=["notes"])
    reply = ToolLoop(engine, tools, template_has_tools=True).run(
        [Message("user", "How do I switch on disk quotas?")], SamplingParams(temperature=0.0)
    )
    assert reply.steps[0].status == "ok"  # read-only built-in: no approval needed
    assert reply.sources and reply.sources[0].chunk.path.endswith("quota.txt")
    assert "[1]" in reply.text


def test_read_file_reads_only_the_chats_files_in_bounded_parts(tmp_path: Path) -> None:
    long = tmp_path / "long.md"
    long.write_text("# Title\n\n" + "word " * 2000, "utf-8")
    secret = tmp_path / "secret.txt"
    secret.write_text("not attached", "utf-8")
    tool = ReadFile([long])
    assert tool.spec.parameters["properties"]["name"]["enum"] == ["long.md"]
    # The call grammar can only name the chat's files.
    assert '"\\"long.md\\""' in call_grammar([tool.spec])
    part = tool.run({"name": "long.md"}, NEVER).text
    assert part.startswith(("Title", "# Title"))
    assert f"call again with offset {CHUNK_CHARS}" in part
    rest = tool.run({"name": "long.md", "offset": CHUNK_CHARS}, NEVER).text
    assert "[end of long.md" in rest
    with pytest.raises(ToolError):
        tool.run({"name": "secret.txt"}, NEVER)
    with pytest.raises(ToolError):
        tool.run({"name": "../secret.txt"}, NEVER)


def test_a_file_the_parsers_refuse_gives_a_clear_error(tmp_path: Path) -> None:
    odd = tmp_path / "data.xyz"
    odd.write_bytes(b"\x00\x01")
    with pytest.raises(ToolError, match=r"data\.xyz cannot be read"):
        ReadFile([odd]).run({"name": "data.xyz"}, NEVER)


def test_builtin_names_are_checked() -> None:
    assert [t.spec.name for t in builtin_tools(["calculator", "datetime"])] == [
        "calculator",
        "current_datetime",
    ]
    assert set(BUILTIN_NAMES) >= {"calculator", "datetime", "knowledge", "files"}
    with pytest.raises(InvalidRequestError, match="no built-in tool 'shell'"):
        builtin_tools(["shell"])
    with pytest.raises(InvalidRequestError, match="--collection"):
        builtin_tools(["knowledge"])
