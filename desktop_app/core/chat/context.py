"""The context budget: which turns of a conversation fit in the model's window."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from desktop_app.core.engine.protocol import Message
from desktop_app.core.errors import ContextOverflowError


def fit_messages(
    messages: Sequence[Message],
    count_tokens: Callable[[Sequence[Message]], int],
    budget: int,
) -> tuple[list[Message], int]:
    """Drop the oldest turns until the prompt fits ``budget`` tokens.

    System messages and the last message are always kept; whole user/assistant
    turns are dropped oldest first, so the model never sees half an exchange.
    Returns the kept messages and how many were dropped. Raises
    ``ContextOverflowError`` when even the system prompt and the last message
    do not fit.
    """
    kept = list(messages)
    dropped = 0
    while count_tokens(kept) > budget:
        droppable = [i for i, m in enumerate(kept[:-1]) if m.role != "system"]
        if not droppable:
            raise ContextOverflowError(
                f"The message is too long for the model's context: it needs "
                f"{count_tokens(kept)} tokens and {budget} are available. Shorten it, "
                "or load the model with a larger context length."
            )
        first = droppable[0]
        # Drop a user turn together with the assistant reply that answered it.
        end = first + 1
        if kept[first].role == "user" and end < len(kept) - 1 and kept[end].role == "assistant":
            end += 1
        dropped += end - first
        del kept[first:end]
    return kept, dropped
