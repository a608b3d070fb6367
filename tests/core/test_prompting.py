"""What a chat sends: system prompt, few-shot examples and the reasoning options."""

from __future__ import annotations

import pytest

from desktop_app.core.chat.prompting import (
    REASONING_STEP_BY_STEP,
    REASONING_TWO_STAGE,
    STEP_BY_STEP,
    THEREFORE,
    build_messages,
    format_examples,
    parse_examples,
    second_stage_prefix,
)
from desktop_app.core.engine.protocol import Message

HISTORY = [
    Message("user", "What is 2+2?"),
    Message("assistant", "4"),
    Message("user", "And 3+5?"),
]


def test_plain_history_is_sent_as_is() -> None:
    assert build_messages(HISTORY) == HISTORY


def test_system_prompt_and_examples_come_first() -> None:
    out = build_messages(
        HISTORY, system_prompt="  Be brief. ", examples=[("1+1?", "2"), ("", "ignored")]
    )
    assert out[0] == Message("system", "Be brief.")
    assert out[1:3] == [Message("user", "1+1?"), Message("assistant", "2")]
    assert out[3:] == HISTORY


def test_step_by_step_goes_on_the_last_question_only() -> None:
    for mode in (REASONING_STEP_BY_STEP, REASONING_TWO_STAGE):
        out = build_messages(HISTORY, reasoning=mode)
        assert out[0] == HISTORY[0]
        assert out[-1] == Message("user", f"And 3+5?\n\n{STEP_BY_STEP}")


def test_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="reasoning"):
        build_messages(HISTORY, reasoning="telepathy")


def test_second_stage_prefix() -> None:
    assert second_stage_prefix("3 and 5 make 8.\n") == f"3 and 5 make 8.\n\n{THEREFORE}"
    assert second_stage_prefix("") == THEREFORE


def test_examples_round_trip_through_the_typed_form() -> None:
    examples = [("Translate 'chat'", "猫"), ("Two lines?", "Yes\nreally")]
    assert parse_examples(format_examples(examples)) == examples
    assert parse_examples("noise\nQ: a\nA: b\nUser: unanswered") == [("a", "b")]
