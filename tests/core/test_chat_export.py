"""Exports: Markdown to read, JSON with everything, HTML with tinted tokens and no way out."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest

from desktop_app.core.chat.codecs import TokenRecord
from desktop_app.core.chat.export import (
    TOOLTIP_CANDIDATES,
    VIRIDIS,
    export_chat,
    probability_hex,
    probability_rgb,
    suggested_filename,
    to_html,
    to_json,
    to_markdown,
)
from desktop_app.core.chat.store import ChatStore
from desktop_app.core.engine.protocol import TokenEvent
from desktop_app.core.errors import InvalidRequestError
from desktop_app.core.sampling import Candidate

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)> & "quotes"'


def tok(
    index: int, text: str, p: float, alt: str = "dog", removed: str | None = "top_k"
) -> TokenEvent:
    return TokenEvent(
        index=index,
        id=10 + index,
        text=text,
        p=p,
        candidates=(
            Candidate(10 + index, text, 2.0, p, min(1.0, p + 0.1), None),
            Candidate(99, alt, 1.0, 0.2, 0.0, removed),
        ),
    )


def export(store: ChatStore, chat_id: int, fmt: str) -> str:
    """What the window writes: the chat's current branch in ``fmt``."""
    return export_chat(store, store.chat(chat_id), store.current_path(chat_id), fmt)


@pytest.fixture
def store(glassbox_home: Path) -> Iterator[ChatStore]:
    s = ChatStore()
    yield s
    s.close()


@pytest.fixture
def chat_id(store: ChatStore) -> int:
    chat = store.create_chat("Cats <b>& dogs</b>", system_prompt="Be kind.\nBe brief.")
    q = store.add_message(chat, None, "user", f"Tell me {HOSTILE}")
    records = [
        TokenRecord(tok(0, "The", 0.9)),
        TokenRecord(tok(1, " cat", 0.05, alt="<script>evil()</script>"), forced=True),
        TokenRecord(tok(2, " sat", 0.5)),
        TokenRecord(tok(3, "<stop>", 0.4)),  # held back by the engine: not in the text
    ]
    store.add_message(
        chat,
        q,
        "assistant",
        "The cat sat",
        meta={
            "model_path": "/models/tiny.gguf",
            "sampling": {"temperature": 0.7, "top_k": 40, "top_p": 0.95},
            "seed": 1234,
            "completion_tokens": 4,
            "tokens_per_s": 21.5,
            "finish_reason": "stop",
        },
        tokens=records,
    )
    return chat


def test_probability_scale_ends_and_clamps() -> None:
    def tint(c: int) -> int:
        return round(255 - (255 - c) * 0.45)

    assert probability_rgb(0.0) == tuple(tint(c) for c in VIRIDIS[0])
    assert probability_rgb(1.0) == tuple(tint(c) for c in VIRIDIS[-1])
    assert probability_rgb(-3.0) == probability_rgb(0.0)
    assert probability_rgb(7.0) == probability_rgb(1.0)
    assert probability_rgb(float("nan")) == probability_rgb(0.0)
    assert probability_hex(1.0) == "#{:02x}{:02x}{:02x}".format(*probability_rgb(1.0))
    mid = probability_rgb(0.5)
    assert mid == tuple(tint(c) for c in VIRIDIS[4])


def test_markdown_has_turns_system_prompt_and_card(store: ChatStore, chat_id: int) -> None:
    md = export(store, chat_id, "md")
    assert md.startswith("# Cats <b>& dogs</b>\n")
    assert "> Be kind.\n> Be brief." in md
    assert "## User\n\nTell me <script>" in md  # Markdown is text: nothing is executed
    assert "## Assistant\n\nThe cat sat\n" in md
    assert "*tiny.gguf · temperature 0.7, top-k 40, top-p 0.95 · seed 1234" in md
    assert "21.5 tokens/s" in md and "finished: stop" in md


def test_markdown_marks_interrupted_and_edited(store: ChatStore) -> None:
    chat = store.create_chat("States")
    q = store.add_message(chat, None, "user", "go")
    a = store.add_message(chat, q, "assistant", "half", status="interrupted")
    store.update_message_content(a, "half, fixed")
    md = to_markdown(store.chat(chat), store.current_path(chat))
    assert "## Assistant (interrupted, edited by hand)\n\nhalf, fixed" in md


def test_json_holds_everything(store: ChatStore, chat_id: int) -> None:
    doc = json.loads(export(store, chat_id, "json"))
    assert doc["format"] == "glassbox-chat" and doc["version"] == 1
    assert doc["chat"]["title"] == "Cats <b>& dogs</b>"
    assert doc["chat"]["system_prompt"] == "Be kind.\nBe brief."
    user, reply = doc["messages"]
    assert user["content"] == f"Tell me {HOSTILE}" and user["tokens"] == []
    assert reply["meta"]["seed"] == 1234
    assert reply["parent_id"] == user["id"]
    assert [t["text"] for t in reply["tokens"]] == ["The", " cat", " sat", "<stop>"]
    assert [t["forced"] for t in reply["tokens"]] == [False, True, False, False]
    cand = reply["tokens"][1]["candidates"][1]
    assert cand == {
        "id": 99,
        "text": "<script>evil()</script>",
        "logit": 1.0,
        "p_raw": 0.2,
        "p_final": 0.0,
        "removed_by": "top_k",
    }


class _Collect(HTMLParser):
    """Every start tag with its attributes, and the text outside tooltips."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def test_html_is_inert_and_self_contained(store: ChatStore, chat_id: int) -> None:
    page = export(store, chat_id, "html")
    parser = _Collect()
    parser.feed(page)
    names = [t for t, _ in parser.tags]
    assert "script" not in names and "img" not in names and "link" not in names
    assert all(not k.startswith("on") for _, attrs in parser.tags for k in attrs)
    assert not any("src" in attrs or "href" in attrs for _, attrs in parser.tags)
    assert not re.search(r"https?://|//[a-z]", page, flags=re.IGNORECASE)
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "&lt;script&gt;evil()&lt;/script&gt;" in page  # a candidate's text, escaped
    assert "<title>Cats &lt;b&gt;&amp; dogs&lt;/b&gt;</title>" in page
    assert "Content-Security-Policy" in page


def test_html_tints_tokens_and_lists_alternatives(store: ChatStore, chat_id: int) -> None:
    page = export(store, chat_id, "html")
    spans = re.findall(
        r'<span class="(tok[^"]*)" tabindex="0" style="background:(#[0-9a-f]{6})">([^<]*)<', page
    )
    assert [(cls, text) for cls, _, text in spans] == [
        ("tok", "The"),
        ("tok forced", " cat"),
        ("tok", " sat"),
    ]
    assert [colour for _, colour, _ in spans] == [
        probability_hex(0.9),
        probability_hex(0.05),
        probability_hex(0.5),
    ]
    # The held-back token is not shown; the text is.
    assert "&lt;stop&gt;" not in page
    assert "p = 0.050 · forced by the user" in page
    assert "<code>dog</code> 0.200 → 0.000 · removed by top_k" in page
    assert '<span class="row drawn"><code>␣cat</code> 0.050 → 0.150 · kept</span>' in page
    assert (
        "Token probability:" in page and "linear-gradient(to right, " + probability_hex(0.0) in page
    )
    assert page.count("linear-gradient") == 1


def test_html_tooltips_stop_at_the_limit(store: ChatStore) -> None:
    chat = store.create_chat("Many candidates")
    cands = tuple(Candidate(i, f"c{i}", 1.0, 0.1, 0.1, None) for i in range(12))
    event = TokenEvent(0, 0, "c0", 0.1, cands)
    store.add_message(chat, None, "assistant", "c0", tokens=[event])
    page = export(store, chat, "html")
    assert page.count('class="row') == TOOLTIP_CANDIDATES


def test_html_edited_reply_is_plain(store: ChatStore, chat_id: int) -> None:
    reply = store.current_path(chat_id)[-1]
    store.update_message_content(reply.id, "The dog sat <b>")
    page = export(store, chat_id, "html")
    assert 'class="tok' not in page
    assert "The dog sat &lt;b&gt;" in page
    assert "Edited by hand" in page


def test_exports_of_an_empty_chat(store: ChatStore) -> None:
    chat = store.chat(store.create_chat("Empty"))
    assert to_markdown(chat, []).startswith("# Empty\n")
    assert json.loads(to_json(chat, []))["messages"] == []
    assert "<h1>Empty</h1>" in to_html(chat, [])


def test_file_names_and_unknown_format(store: ChatStore) -> None:
    chat = store.chat(store.create_chat('a/b: "c"?'))
    assert suggested_filename(chat, "html") == "a_b_ _c__.html"
    assert suggested_filename(chat, "md").endswith(".md")
    with pytest.raises(InvalidRequestError):
        suggested_filename(chat, "pdf")  # type: ignore[arg-type]
    with pytest.raises(InvalidRequestError):
        export(store, chat.id, "pdf")
