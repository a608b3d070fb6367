"""A reply's reasoning is stored with it, left out of the next prompt, exported and found."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_app.core.chat.export import to_html, to_json, to_markdown
from desktop_app.core.chat.store import ChatStore
from desktop_app.core.engine.protocol import Message, TokenEvent

REPLY = "<think>\nThe user wants 2+2. Carry nothing: quokka.\n</think>\n\nIt is 4."


@pytest.fixture
def store(glassbox_home: Path) -> Iterator[ChatStore]:
    s = ChatStore()
    yield s
    s.close()


@pytest.fixture
def chat_id(store: ChatStore) -> int:
    chat = store.create_chat("Sums")
    q = store.add_message(chat, None, "user", "What is 2+2?")
    store.add_message(
        chat, q, "assistant", REPLY, meta={"thinking": {"tokens": 12, "seconds": 1.25}}
    )
    return chat


def test_the_stored_reply_keeps_its_reasoning_apart_for_the_next_prompt(
    store: ChatStore, chat_id: int
) -> None:
    path = store.current_path(chat_id)
    assert path[-1].content == REPLY
    assert path[-1].as_message() == Message(
        "assistant", "It is 4.", reasoning="The user wants 2+2. Carry nothing: quokka."
    )
    assert path[0].as_message() == Message("user", "What is 2+2?")


def test_a_reply_whose_prompt_opened_the_block_is_read_back_with_its_card(store: ChatStore) -> None:
    chat = store.create_chat("Opened")
    q = store.add_message(chat, None, "user", "Hi")
    store.add_message(chat, q, "assistant", "cut short", meta={"thinking": {"opened": True}})
    got = store.current_path(chat)[-1].as_message()
    assert got == Message("assistant", "", reasoning="cut short")


def test_markdown_marks_the_thinking_and_json_carries_it_apart(
    store: ChatStore, chat_id: int
) -> None:
    chat = store.chat(chat_id)
    path = store.current_path(chat_id)
    md = to_markdown(chat, path)
    assert "**Thinking** (12 tokens, 1.2 s):\n\n> The user wants 2+2. Carry nothing: quokka." in md
    assert "**Answer:**\n\nIt is 4." in md
    assert "<think>" not in md
    doc = json.loads(to_json(chat, path))
    reply = doc["messages"][-1]
    assert reply["content"] == REPLY
    assert reply["reasoning_content"] == "The user wants 2+2. Carry nothing: quokka."
    assert reply["answer"] == "It is 4."
    assert "reasoning_content" not in doc["messages"][0]


def test_search_finds_words_of_the_reasoning_and_says_so(store: ChatStore, chat_id: int) -> None:
    hits = store.search("quokka")
    assert [h.in_thinking for h in hits] == [True]
    assert "quokka" in hits[0].plain_snippet and "<think>" not in hits[0].plain_snippet
    answer_hits = store.search("It is 4")
    assert [h.in_thinking for h in answer_hits] == [False]
    assert store.search("2+2")[0].role == "user"


def test_tool_calls_are_exported_and_found_by_search(store: ChatStore) -> None:
    chat = store.create_chat("Product")
    q = store.add_message(chat, None, "user", "What is 3847 * 2931?")
    steps = [
        {
            "name": "calculator",
            "arguments": '{"expression": "3847 * 2931"}',
            "id": "call_0",
            "status": "ok",
            "result": "3847 * 2931 = 11275557\n```quoted```",
            "error": False,
            "said": "",
            "decision": 0,
            "end": 20,
        }
    ]
    store.add_message(chat, q, "assistant", "It is a big number.", meta={"tool_steps": steps})
    summary = store.chat(chat)
    path = store.current_path(chat)
    md = to_markdown(summary, path)
    assert '**Tool calls:**\n\n1. `calculator` `{"expression": "3847 * 2931"}` — ok' in md
    # The result (tool output) is fenced longer than any backticks in it.
    assert "   ````\n   3847 * 2931 = 11275557\n   ```quoted```\n   ````" in md
    assert md.index("**Tool calls:**") < md.index("**Answer:**\n\nIt is a big number.")
    reply = json.loads(to_json(summary, path))["messages"][-1]
    assert reply["tool_calls"] == [
        {
            "name": "calculator",
            "arguments": {"expression": "3847 * 2931"},
            "status": "ok",
            "result": "3847 * 2931 = 11275557\n```quoted```",
        }
    ]
    assert reply["content"] == "It is a big number."
    # A number only the result holds finds the reply, marked as a tool call's.
    for query in ("11275557", "CALCULATOR", '"expression"'):
        [hit] = [h for h in store.search(query) if h.chat_id == chat]
        assert hit.in_tool and not hit.in_thinking and hit.role == "assistant"
        assert query.casefold() in hit.plain_snippet.casefold()
    # Text of the answer is found as before, once.
    [hit] = store.search("big number")
    assert not hit.in_tool
    assert store.search("nowhere at all") == []


def test_the_html_export_shows_the_thinking_as_a_closed_block_and_lists_the_calls(
    store: ChatStore, chat_id: int
) -> None:
    chat = store.chat(chat_id)
    page = to_html(chat, store.current_path(chat_id))
    block = re.search(r'<details class="thinking">(.*?)</details>', page, flags=re.DOTALL)
    assert block is not None
    assert "<summary>Thinking (12 tokens, 1.2 s)</summary>" in block.group(1)
    assert "quokka" in block.group(1) and "It is 4." not in block.group(1)
    assert "It is 4." in page[block.end() :]
    # With its tokens: the reasoning's tokens go in the block, the answer's after it.
    q = store.add_message(chat_id, None, "user", "Again?")
    pieces = ["<think>", "quokka", "</think>", "\n\n", "Yes", "."]
    events = [TokenEvent(i, i, t, 0.5, ()) for i, t in enumerate(pieces)]
    store.add_message(chat_id, q, "assistant", "".join(pieces), tokens=events)
    path = store.current_path(chat_id)
    page = to_html(chat, path, {m.id: store.tokens(m.id) for m in path})
    block = re.search(r'<details class="thinking">(.*?)</details>', page, flags=re.DOTALL)
    assert block is not None and block.group(1).count('class="tok"') == 3
    assert page[block.end() :].count('class="tok"') == 3
    # A reply with tool calls lists them, escaped, above its answer.
    steps = [{"name": "calculator", "arguments": '{"expression": "<b>2</b>"}', "status": "ok",
              "result": "<script>x</script> = 2"}]  # fmt: skip
    store.add_message(chat_id, q, "assistant", "Two.", meta={"tool_steps": steps})
    page = to_html(chat, store.current_path(chat_id))
    calls = page.index('<section class="calls">')
    assert "<code>calculator</code>" in page and "&lt;script&gt;x&lt;/script&gt; = 2" in page
    assert "<script>x" not in page and calls < page.index("Two.")
