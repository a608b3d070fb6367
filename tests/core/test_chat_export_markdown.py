"""Exports keep a reply's Markdown structure: the HTML page styles it as the window does."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import pytest

from desktop_app.core.chat.codecs import TokenRecord
from desktop_app.core.chat.export import export_chat
from desktop_app.core.chat.store import ChatStore
from desktop_app.core.engine.protocol import TokenEvent
from desktop_app.core.sampling import Candidate

REPLY = """## Results

| Model | Score |
|-------|------:|
| **tiny** | 0.5 |

- one
  - nested [link](https://example.com/a)
- ![chart](https://example.com/c.png)

```python
def f():  # note
    return "<script>x</script>"
```

```rust
fn main() {}
```
"""


def pieces(text: str) -> list[str]:
    return re.findall(r" ?[^\s]{1,4}|\n|\s", text)


@pytest.fixture
def store(glassbox_home: Path) -> Iterator[ChatStore]:
    s = ChatStore()
    yield s
    s.close()


def make_chat(store: ChatStore) -> int:
    chat = store.create_chat("Markdown")
    q = store.add_message(chat, None, "user", "Show me **a table**")
    records = [
        TokenRecord(TokenEvent(i, i, t, 0.5, (Candidate(i, t, 1.0, 0.5, 0.5, None),)))
        for i, t in enumerate(pieces(REPLY))
    ]
    store.add_message(chat, q, "assistant", REPLY, tokens=records)
    return chat


def test_html_styles_the_reply_like_the_window(store: ChatStore) -> None:
    chat = make_chat(store)
    page = export_chat(store, store.chat(chat), store.current_path(chat), "html")
    reply = page.split('class="msg assistant"')[1]
    # The text is the model's, token by token and character by character.
    visible = re.sub(r'<span class="tip".*?</span></span>', "</span>", reply, flags=re.S)
    visible = unescape(re.sub(r"<[^>]+>", "", visible))
    assert REPLY in visible
    assert reply.count('class="tok"') == len(pieces(REPLY))
    # Headings, tables, lists, links, images and code carry the window's styles.
    assert '<span class="md-h2 md-marker">##</span>' in reply
    assert '<span class="md-table md-table_head">' in reply
    assert '<span class="md-table md-bold">ti</span>' in reply  # "tiny", cut into tokens
    assert '<span class="md-bullet">-</span>' in reply
    assert '<span class="md-link">lin</span>' in reply
    assert '<span class="md-image">ch</span>' in reply
    assert '<span class="md-code md-keyword">def</span>' in reply
    assert '<span class="md-code md-keyword">fn</span>' in reply
    assert '<span class="md-code md-comment">#</span>' in reply
    # Nothing from the reply is markup: no live link, no image, no script.
    assert "<a " not in page and "<img" not in page and "<script" not in page
    assert "&quot;&lt;sc" in reply  # the string '"<script>…', escaped
    # The question, without tokens, is styled too.
    assert '<span class="md-bold">a table</span>' in page


def test_markdown_export_keeps_the_structure_as_written(store: ChatStore) -> None:
    chat = make_chat(store)
    text = export_chat(store, store.chat(chat), store.current_path(chat), "md")
    assert REPLY.strip() in text
