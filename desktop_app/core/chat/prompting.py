"""Building the messages a chat sends: system prompt, few-shot examples, reasoning.

Pure functions over ``Message`` tuples, so what the model is sent can be tested
and shown without a model. The reasoning options follow the zero-shot
chain-of-thought recipe: "Let's think step by step." after the question, and in
the two-stage form a second request that continues the reasoning with
"Therefore, the answer is" to extract the answer.
"""

from __future__ import annotations

from collections.abc import Sequence

from desktop_app.core.engine.protocol import Message

REASONING_OFF = "off"
REASONING_STEP_BY_STEP = "step_by_step"
REASONING_TWO_STAGE = "two_stage"
REASONING_MODES = (REASONING_OFF, REASONING_STEP_BY_STEP, REASONING_TWO_STAGE)

STEP_BY_STEP = "Let's think step by step."
THEREFORE = "Therefore, the answer is"


def build_messages(
    history: Sequence[Message],
    *,
    system_prompt: str = "",
    examples: Sequence[tuple[str, str]] = (),
    reasoning: str = REASONING_OFF,
) -> list[Message]:
    """The messages for the engine: system prompt, examples, then the conversation.

    ``history`` is the branch being answered (it ends with the user's message);
    system messages inside it are replaced by ``system_prompt`` when one is given.
    Examples become user/assistant pairs before the conversation. With a reasoning
    mode on, "Let's think step by step." is added to the last user message only,
    so earlier turns are sent as they were written.
    """
    if reasoning not in REASONING_MODES:
        raise ValueError(f"unknown reasoning mode {reasoning!r}")
    out: list[Message] = []
    system = system_prompt.strip()
    if system:
        out.append(Message("system", system))
    else:
        out.extend(m for m in history if m.role == "system")
    for question, answer in examples:
        if question.strip() and answer.strip():
            out.append(Message("user", question.strip()))
            out.append(Message("assistant", answer.strip()))
    turns = [m for m in history if m.role != "system"]
    if reasoning != REASONING_OFF and turns and turns[-1].role == "user":
        last = turns[-1]
        turns[-1] = Message("user", f"{last.content.rstrip()}\n\n{STEP_BY_STEP}")
    out.extend(turns)
    return out


def second_stage_prefix(reasoning_text: str) -> str:
    """The assistant text the second stage continues from: the reasoning, then "Therefore…"."""
    text = reasoning_text.rstrip()
    return f"{text}\n\n{THEREFORE}" if text else THEREFORE


def parse_examples(text: str) -> list[tuple[str, str]]:
    """Few-shot examples from the plain form people type.

    Each example is a line starting with ``User:`` (or ``Q:``) followed by one
    starting with ``Assistant:`` (or ``A:``); continuation lines belong to the
    part above them. Anything before the first ``User:`` line is ignored.
    """
    pairs: list[tuple[str, str]] = []
    question: list[str] | None = None
    answer: list[str] | None = None

    def close() -> None:
        if question is not None and answer is not None:
            pairs.append(("\n".join(question).strip(), "\n".join(answer).strip()))

    for line in text.splitlines():
        head, _, rest = line.partition(":")
        key = head.strip().lower()
        if key in ("user", "q"):
            close()
            question, answer = [rest.strip()], None
        elif key in ("assistant", "a") and question is not None:
            answer = [rest.strip()]
        elif answer is not None:
            answer.append(line)
        elif question is not None:
            question.append(line)
    close()
    return [(q, a) for q, a in pairs if q and a]


def format_examples(examples: Sequence[tuple[str, str]]) -> str:
    """The plain form :func:`parse_examples` reads."""
    return "\n\n".join(f"User: {q}\nAssistant: {a}" for q, a in examples)
