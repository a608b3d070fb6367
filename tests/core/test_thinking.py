"""Native reasoning: the streaming splitter, and what chat templates do with it."""

from __future__ import annotations

import pytest
from thinking_templates import KEEPS, PLAIN_CHATML, QWEN3_LIKE, R1_LIKE

from desktop_app.core.chat.thinking import (
    ThinkingSplitter,
    sections,
    split_reasoning,
    thinking_support,
)
from desktop_app.core.engine.protocol import Message
from desktop_app.core.models.templates import render_chat


def _stream(tokens: list[str], opened: bool = False) -> list[tuple[int, str, str, str]]:
    """(token, reasoning, answer, tag) per token, in the order the splitter decides them."""
    splitter: ThinkingSplitter[int] = ThinkingSplitter(opened)
    out = []
    for n, text in enumerate(tokens):
        out.extend(splitter.push(text, n))
    out.extend(splitter.finish())
    return [(s.item, s.text("reasoning"), s.text("answer"), s.text("tag")) for s in out]


def test_a_block_at_the_start_is_reasoning_and_the_rest_the_answer() -> None:
    got = _stream(["<think>", "\n", "Two", " plus", " two", "\n", "</think>", "\n\n", "4", "."])
    assert [g[0] for g in got] == list(range(10))
    assert "".join(g[1] for g in got) == "Two plus two"  # the blank before the tag is not
    assert "".join(g[2] for g in got) == "4."
    assert [n for n, r, a, _ in got if a] == [8, 9]


def test_tags_split_over_one_character_tokens() -> None:
    text = "<think>ab <c> d</think>Answer <think> stays"
    got = _stream(list(text))
    assert "".join(g[1] for g in got) == "ab <c> d"
    assert "".join(g[2] for g in got) == "Answer <think> stays"
    assert "".join(g[3] for g in got) == "<think></think>"
    # Every token is handed on exactly once, in order.
    assert [g[0] for g in got] == list(range(len(text)))


def test_a_token_waits_only_while_it_may_be_part_of_a_tag() -> None:
    splitter: ThinkingSplitter[int] = ThinkingSplitter()
    assert splitter.push("<th", 0) == []
    assert [s.item for s in splitter.push("ink>Hm", 1)] == [0, 1]
    assert splitter.in_reasoning
    assert splitter.push("</", 2) == []
    assert [s.item for s in splitter.push("b>", 3)] == [2, 3]  # "</b>" is reasoning text
    assert splitter.reasoning == "Hm</b>"


def test_an_unclosed_block_at_the_end_is_reasoning() -> None:
    got = _stream(["<think>", "still", " going", "</thi"])
    assert "".join(g[1] for g in got) == "still going</thi"
    assert all(not g[2] for g in got)


def test_a_reply_that_starts_inside_a_block_the_prompt_opened() -> None:
    got = _stream(["\n", "Let", " me", " see", "</think>", "\n\n", "Yes"], opened=True)
    assert "".join(g[1] for g in got) == "Let me see"
    assert "".join(g[2] for g in got) == "Yes"


def test_a_reply_without_a_block_is_all_answer_at_once() -> None:
    splitter: ThinkingSplitter[int] = ThinkingSplitter()
    assert [s.section for s in splitter.push("Hello", 0)] == ["answer"]
    assert not splitter.thinking
    # Blank space first waits, then turns out to be answer.
    assert _stream(["\n", "Hi"]) == [(0, "", "\n", ""), (1, "", "Hi", "")]
    assert _stream(["<b>", "x"]) == [(0, "", "<b>", ""), (1, "", "x", "")]


def test_split_reasoning_of_stored_text() -> None:
    assert split_reasoning("<think>\nwhy\n</think>\n\nbecause") == ("why", "because")
    assert split_reasoning("why</think>because") == ("why", "because")
    assert split_reasoning("plain answer") == ("", "plain answer")
    assert split_reasoning("thinking on", opened=True) == ("thinking on", "")
    assert [s.section for s in sections(["<think>", "a", "</think>", "b"])] == [
        "reasoning",
        "reasoning",
        "reasoning",
        "answer",
    ]


def test_qwen3_like_template_has_a_switch_on_by_default_and_drops_old_reasoning() -> None:
    support = thinking_support(QWEN3_LIKE)
    assert support.switch == "enable_thinking"
    assert support.default_on
    assert not support.opens_on and not support.opens_off  # off closes an empty block
    assert not support.keeps_history
    assert support.effective(None) and not support.effective(False)
    off = render_chat([Message("user", "Hi")], QWEN3_LIKE, thinking=False).text
    assert off.endswith("<think>\n\n</think>\n\n")
    on = render_chat([Message("user", "Hi")], QWEN3_LIKE, thinking=True).text
    assert on.endswith("<|im_start|>assistant\n")


def test_earlier_reasoning_is_left_out_unless_the_template_writes_it() -> None:
    history = [
        Message("user", "Q1"),
        Message("assistant", "A1", reasoning="secret-steps"),
        Message("user", "Q2"),
    ]
    for template in (QWEN3_LIKE, R1_LIKE, PLAIN_CHATML, None):
        text = render_chat(history, template).text
        assert "secret-steps" not in text and "A1" in text
    assert "<think>secret-steps</think>A1" in render_chat(history, KEEPS).text
    assert thinking_support(KEEPS).keeps_history
    # Within a tool step after the last question, Qwen3's template keeps it.
    step = [Message("user", "Q"), Message("assistant", "calling", reasoning="plan-x")]
    assert "plan-x" in render_chat([*step, Message("tool", "42")], QWEN3_LIKE).text


def test_r1_like_template_opens_the_block_in_the_prompt_without_a_switch() -> None:
    support = thinking_support(R1_LIKE)
    assert support.switch == "" and not support.switchable
    assert support.opens_on and support.opened(None) and support.opened(False)
    assert support.default_on and support.reasoning_model


@pytest.mark.parametrize("template", [PLAIN_CHATML, None, "{{ broken"])
def test_templates_without_reasoning(template: str | None) -> None:
    support = thinking_support(template)
    assert not support.reasoning_model and not support.switchable and not support.default_on


def test_flag_switched_template() -> None:
    flagged = (
        "{%- set mode = '/think' %}{%- if messages[0].role == 'system' and "
        "'/no_think' in messages[0].content %}{%- set mode = '/no_think' %}{%- endif %}"
        "{%- for m in messages %}{%- if m.role != 'system' %}{{ m.role }}: {{ m.content }}\n"
        "{%- endif %}{%- endfor %}{%- if add_generation_prompt %}assistant:"
        "{%- if mode == '/no_think' %}<think></think>{%- endif %}{%- endif %}"
    )
    support = thinking_support(flagged)
    assert support.switch == "flag" and support.default_on
    off = render_chat([Message("user", "Hi")], flagged, thinking=False).text
    assert off.endswith("<think></think>")
    assert render_chat([Message("user", "Hi")], flagged, thinking=True).text.endswith(":")


def test_a_switch_that_changes_only_the_system_part_is_found() -> None:
    # Granite 3.3's kind: ``thinking`` adds instructions to the system message.
    granite_like = (
        "{%- if thinking %}system: Think in <think></think> first.\n{%- endif %}"
        "{%- for m in messages %}{{ m.role }}: {{ m.content }}\n{%- endfor %}"
        "{%- if add_generation_prompt %}assistant:{%- endif %}"
    )
    support = thinking_support(granite_like)
    assert support.switch == "thinking" and not support.default_on
    on = render_chat([Message("user", "Hi")], granite_like, thinking=True).text
    assert on.startswith("system: Think")
