"""Summaries of any length of text: in one pass, or in parts that are then combined.

A text that does not fit in the context with room for its summary is split at
paragraph (then sentence, then character) boundaries into parts that do; each
part is summarized on its own, then the part summaries, headed by their part
number, are combined into one summary that cites where each point came from
("[part 2]"). Progress is reported per step, so the panel can show "part 3 of 7".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from desktop_app.core.engine.protocol import Engine, GenerateRequest, Message
from desktop_app.core.errors import CancelledError, InvalidRequestError
from desktop_app.core.sampling import SamplingParams
from desktop_app.core.tasks.generation import Generation, OnToken, generate
from desktop_app.core.tasks.prompts import DEFAULT_TEMPLATES, render

Length = Literal["sentence", "paragraph", "bullets", "words"]

_LENGTH_TEXT = {
    "sentence": "Write the summary as one sentence.",
    "paragraph": "Write the summary as one paragraph.",
    "bullets": "Write the summary as a list of short bullet points, one per line, each "
    "starting with '- '.",
}


@dataclass(frozen=True, slots=True)
class SummaryOptions:
    """How the summary should read. ``words`` applies when ``length`` is ``"words"``."""

    length: Length = "paragraph"
    words: int = 100
    audience: str = "a general reader"
    language: str = "the language of the text"

    def __post_init__(self) -> None:
        if self.length not in ("sentence", "paragraph", "bullets", "words"):
            raise InvalidRequestError(
                f"The length must be sentence, paragraph, bullets or words, not {self.length!r}."
            )
        if not 5 <= self.words <= 2000:
            raise InvalidRequestError(f"The word count must be 5–2000, not {self.words}.")

    def instruction(self) -> str:
        """The length instruction given to the model."""
        if self.length == "words":
            return f"Write the summary in about {self.words} words."
        return _LENGTH_TEXT[self.length]

    def max_tokens(self) -> int:
        """A reply budget that the asked length fits in with room to spare."""
        return {"sentence": 120, "paragraph": 400, "bullets": 500}.get(
            self.length, int(self.words * 2.5) + 50
        )


@dataclass(frozen=True, slots=True)
class SummaryProgress:
    """Where a summary is: ``step`` of ``steps`` (parts, then the combining step)."""

    step: int
    steps: int
    label: str


@dataclass(frozen=True, slots=True)
class Summary:
    """The summary, the parts it was made from, and each step's generation."""

    text: str
    parts: tuple[str, ...]
    part_summaries: tuple[str, ...]
    generations: tuple[Generation, ...]


def split_text(text: str, count_tokens: Callable[[str], int], budget: int) -> list[str]:
    """Cut ``text`` into consecutive parts of at most ``budget`` tokens each.

    Paragraphs are kept whole when they fit, then sentences, then runs of
    characters; neighbouring pieces are packed together up to the budget, so the
    parts are few and each reads as a whole.
    """
    if budget < 16:
        raise InvalidRequestError("The context is too small to summarize in parts.")
    pieces: list[str] = []
    for para in re.split(r"\n\s*\n", text.strip()):
        if not para.strip():
            continue
        if count_tokens(para) <= budget:
            pieces.append(para)
            continue
        for sent in re.split(r"(?<=[.!?。！？])\s*", para):
            if not sent:
                continue
            if count_tokens(sent) <= budget:
                pieces.append(sent)
                continue
            step = max(budget, 8)  # at least one character per token: chars ≥ tokens
            while sent:
                cut = min(len(sent), step)
                while cut > 1 and count_tokens(sent[:cut]) > budget:
                    cut = cut * 3 // 4
                pieces.append(sent[:cut])
                sent = sent[cut:]
    parts: list[str] = []
    current = ""
    for piece in pieces:
        candidate = f"{current}\n\n{piece}" if current else piece
        if current and count_tokens(candidate) > budget:
            parts.append(current)
            current = piece
        else:
            current = candidate
    if current:
        parts.append(current)
    return parts


def plan_parts(
    text: str, count_tokens: Callable[[str], int], n_ctx: int, options: SummaryOptions
) -> list[str]:
    """The parts ``text`` is summarized in: one when it fits, else pieces that do.

    A part leaves room for the instructions (about 200 tokens) and the reply.
    """
    budget = n_ctx - options.max_tokens() - 256
    if count_tokens(text) <= budget:
        return [text]
    return split_text(text, count_tokens, budget)


def _messages(system: str, user: str) -> tuple[Message, ...]:
    return (Message("system", system), Message("user", user))


def summarize(
    engine: Engine,
    text: str,
    options: SummaryOptions,
    count_tokens: Callable[[str], int],
    n_ctx: int,
    templates: Mapping[str, str] | None = None,
    *,
    params: SamplingParams | None = None,
    progress: Callable[[SummaryProgress], None] | None = None,
    on_token: OnToken | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Summary:
    """Summarize ``text``; in parts and combined when it does not fit in ``n_ctx``.

    ``count_tokens`` measures text for the loaded model (``EngineClient.count_tokens``).
    """
    if not text.strip():
        raise InvalidRequestError("There is no text to summarize.")
    t = templates or DEFAULT_TEMPLATES
    base = params or SamplingParams.greedy(seed=0)
    system = render(
        t["summarize.system"],
        length=options.instruction(),
        audience=options.audience,
        language=options.language,
    )

    def run(user: str, max_tokens: int) -> Generation:
        request = GenerateRequest(
            params=replace(base, max_tokens=max_tokens),
            messages=_messages(system, user),
            candidates=5,
        )
        return generate(engine, request, on_token)

    parts = plan_parts(text, count_tokens, n_ctx, options)
    steps = len(parts) + (1 if len(parts) > 1 else 0)
    if len(parts) == 1:
        if progress is not None:
            progress(SummaryProgress(0, 1, "summarizing"))
        gen = run(render(t["summarize.user"], text=text), options.max_tokens())
        if progress is not None:
            progress(SummaryProgress(1, 1, "done"))
        return Summary(gen.text.strip(), (text,), (), (gen,))

    gens: list[Generation] = []
    summaries: list[str] = []
    part_options = SummaryOptions("paragraph", audience=options.audience)
    for i, part in enumerate(parts, start=1):
        if should_stop is not None and should_stop():
            raise_cancelled()
        if progress is not None:
            progress(SummaryProgress(i - 1, steps, f"part {i} of {len(parts)}"))
        user = render(t["summarize.part"], part=str(i), parts=str(len(parts)), text=part)
        gen = run(user, part_options.max_tokens())
        gens.append(gen)
        summaries.append(gen.text.strip())
    if progress is not None:
        progress(SummaryProgress(len(parts), steps, "combining"))
    combined = combine_input(summaries)
    user = render(t["summarize.combine"], length=options.instruction(), text=combined)
    gen = run(user, options.max_tokens())
    gens.append(gen)
    if progress is not None:
        progress(SummaryProgress(steps, steps, "done"))
    return Summary(gen.text.strip(), tuple(parts), tuple(summaries), tuple(gens))


def combine_input(summaries: Sequence[str]) -> str:
    """The part summaries as the combining step reads them, each headed ``[part N]``."""
    return "\n\n".join(f"[part {i}]\n{s}" for i, s in enumerate(summaries, start=1))


def raise_cancelled() -> None:
    """Stop a summary between parts."""
    raise CancelledError("The summary was cancelled.")
