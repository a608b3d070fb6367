"""Markdown styles by line, from markdown-it-py and Pygments, for text kept as written."""

from __future__ import annotations

from desktop_app.core.chat.markdown import Link, Styled, fenced_code, parse

TEXT = """## Sampling *stages*

| Stage | **Keeps** |
|:------|----------:|
| `top_k` | k tokens |

1. Load the model
   - pick a *quantisation*
   - read the [notes](https://example.com/notes?a=1)
2. Stream

![diagram](https://example.com/d.png)

<b>not bold</b> <img src="https://example.com/x.png">

```rust
fn main() { let x = 1; }
```

```haskell
main = putStrLn "hi" -- greet
```

```no-such-language
plain text here
```
"""


def styles_of(styled: Styled, text: str, line: int) -> list[tuple[str, tuple[str, ...]]]:
    row = text.split("\n")[line]
    return [(row[a:b], keys) for a, b, keys in styled.runs[line]]


def keys_of(styled: Styled, text: str, line: int, piece: str) -> set[str]:
    return {k for p, keys in styles_of(styled, text, line) if p.strip() == piece for k in keys}


def test_headings_tables_lists_and_emphasis() -> None:
    s = parse(TEXT)
    assert styles_of(s, TEXT, 0)[0] == ("##", ("h2", "marker"))
    assert keys_of(s, TEXT, 0, "stages") == {"h2", "italic"}
    # The table: header in bold, delimiter row and pipes dimmed, all monospace.
    assert keys_of(s, TEXT, 2, "Stage") == {"table", "table_head"}
    assert keys_of(s, TEXT, 2, "Keeps") == {"table", "table_head", "bold"}
    assert keys_of(s, TEXT, 3, ":------") == {"table", "marker"}
    assert keys_of(s, TEXT, 4, "`top_k`") == {"table", "code_inline"}
    assert ("|", ("table", "marker")) in styles_of(s, TEXT, 4)
    # Nested lists: every marker, at its own depth.
    assert ("1.", ("bullet",)) in styles_of(s, TEXT, 6)
    assert ("-", ("bullet",)) in styles_of(s, TEXT, 7)
    assert ("2.", ("bullet",)) in styles_of(s, TEXT, 9)
    assert keys_of(s, TEXT, 7, "quantisation") == {"italic"}


def test_links_and_images_are_shown_with_their_addresses() -> None:
    s = parse(TEXT)
    row = TEXT.split("\n")[8]
    assert keys_of(s, TEXT, 8, "notes") == {"link"}
    assert keys_of(s, TEXT, 8, "](https://example.com/notes?a=1)") == {"address"}
    (link,) = s.links
    assert link == Link(8, row.index("[notes]"), len(row), "https://example.com/notes?a=1")
    # An image: its alt text and its address, styled, and not a link to follow.
    assert keys_of(s, TEXT, 11, "diagram") == {"image"}
    assert keys_of(s, TEXT, 11, "](https://example.com/d.png)") == {"address"}


def test_html_from_the_model_is_text() -> None:
    s = parse(TEXT)
    # No tag is recognised: nothing on that line is styled at all.
    assert s.runs[13] == []


def test_code_is_coloured_in_any_language_pygments_knows() -> None:
    s = parse(TEXT)
    assert styles_of(s, TEXT, 15)[0] == ("```rust", ("fence",))
    assert keys_of(s, TEXT, 16, "fn") == {"code", "keyword"}
    assert keys_of(s, TEXT, 16, "main") == {"code", "name"}
    assert keys_of(s, TEXT, 20, '"hi"') == {"code", "string"}
    assert keys_of(s, TEXT, 20, "-- greet") == {"code", "comment"}
    # A language Pygments does not know: monospace code, no colours.
    assert styles_of(s, TEXT, 24) == [("plain text here", ("code",))]
    assert [tag for tag, _ in fenced_code(TEXT)] == ["rust", "haskell", "no-such-language"]
    assert fenced_code("```py\nx = 1\n") == [("py", "x = 1")]  # cut short: still a block


def test_parsing_from_the_last_block_gives_the_same_styles() -> None:
    whole = parse(TEXT)
    lines = TEXT.split("\n")
    for cut in (whole.last_block, 15, 11):
        tail = parse("\n".join(lines[cut:]))
        assert tail.runs == whole.runs[cut:], cut


def test_a_table_is_styled_once_its_delimiter_row_arrives() -> None:
    before = parse("| a | b |")
    assert before.runs[0] == []
    after = parse("| a | b |\n|---|---|")
    assert keys_of(after, "| a | b |", 0, "a") == {"table", "table_head"}
    assert before.last_block == after.last_block == 0
