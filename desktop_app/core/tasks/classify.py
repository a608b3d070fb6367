"""Classify texts into labels with a probability for every label, read from logits.

The model is never asked to write a label that is then parsed. Each label's
whole token sequence is scored right after the prompt (``ScoreRequest``), and the
labels' probabilities are a softmax over those log-probabilities, so they always
sum to 1 and a label the model would spell in several tokens is judged on all
of them.

Two ways to compare labels of different lengths (``Normalize``):

- ``"sum"`` (default): the log-probability of the label's whole sequence. It is
  the probability that the model writes that label, restricted to the labels.
- ``"mean"``: the mean log-probability per token, which stops long labels from
  being penalised for their length, at the cost of no longer being a probability
  of anything the model does. ``glassbox eval classify --normalize`` measures both.

The prompt is laid out so that everything before the text (instructions, the
label list, few-shot examples) is the same for every text: classifying a batch
evaluates that prefix once and keeps it in the engine's KV cache.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from desktop_app.core.engine.protocol import Message, Scorer, ScoreRequest, ScoreResult
from desktop_app.core.errors import InvalidRequestError
from desktop_app.core.tasks.prompts import DEFAULT_TEMPLATES, render

Normalize = Literal["sum", "mean"]


@dataclass(frozen=True, slots=True)
class Label:
    """A label the model may choose, with an optional description shown to it."""

    name: str
    description: str = ""


@dataclass(frozen=True, slots=True)
class Example:
    """A few-shot example: a text and its gold label."""

    text: str
    label: str


@dataclass(frozen=True, slots=True)
class ClassifySpec:
    """What to classify into: labels, few-shot examples and how to normalise."""

    labels: tuple[Label, ...]
    examples: tuple[Example, ...] = ()
    normalize: Normalize = "sum"

    def __post_init__(self) -> None:
        names = [label.name for label in self.labels]
        if len(names) < 2:
            raise InvalidRequestError("Give at least two labels to classify into.")
        if any(not n.strip() for n in names):
            raise InvalidRequestError("A label cannot be empty.")
        if len(set(names)) != len(names):
            raise InvalidRequestError("Labels must be different from each other.")
        unknown = sorted({e.label for e in self.examples} - set(names))
        if unknown:
            raise InvalidRequestError(
                f"Examples use labels that are not in the list: {', '.join(unknown)}."
            )
        if self.normalize not in ("sum", "mean"):
            raise InvalidRequestError(f"Normalize must be 'sum' or 'mean', not {self.normalize!r}.")

    @property
    def names(self) -> tuple[str, ...]:
        """The label names, in order."""
        return tuple(label.name for label in self.labels)


@dataclass(frozen=True, slots=True)
class Classification:
    """The result for one text: the most likely label and every label's probability."""

    text: str
    label: str
    probabilities: Mapping[str, float]
    logprobs: Mapping[str, float] = field(default_factory=dict)
    n_tokens: Mapping[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, object]:
        """The JSON form printed by ``glassbox task classify --json``."""
        return {"label": self.label, "probabilities": dict(self.probabilities)}


def labels_from_names(names: Sequence[str]) -> tuple[Label, ...]:
    """Labels from bare names (the command line's ``--labels A,B,C``)."""
    return tuple(Label(n.strip()) for n in names if n.strip())


def build_request(
    spec: ClassifySpec,
    text: str,
    templates: Mapping[str, str] | None = None,
    *,
    reuse_prefix: bool = True,
) -> ScoreRequest:
    """The score request for one text: shared instructions and examples, then the text.

    Few-shot examples are earlier turns of the chat (the example as the user's
    message, its label as the assistant's reply), so the model sees the exact
    form its answer is scored in.
    """
    t = templates or DEFAULT_TEMPLATES
    listing = "\n".join(
        f"- {lab.name}" + (f": {lab.description}" if lab.description else "") for lab in spec.labels
    )
    messages = [Message("system", render(t["classify.system"], labels=listing))]
    for ex in spec.examples:
        messages.append(Message("user", render(t["classify.user"], text=ex.text)))
        messages.append(Message("assistant", ex.label))
    messages.append(Message("user", render(t["classify.user"], text=text)))
    return ScoreRequest(
        continuations=spec.names, messages=tuple(messages), reuse_prefix=reuse_prefix
    )


def label_probabilities(
    result: ScoreResult, names: Sequence[str], normalize: Normalize = "sum"
) -> dict[str, float]:
    """Softmax over the labels' scores: total log-probability, or its mean per token."""
    if normalize == "mean":
        scores = [lp / max(n, 1) for lp, n in zip(result.logprobs, result.n_tokens, strict=True)]
    else:
        scores = list(result.logprobs)
    top = max(scores)
    weights = [math.exp(s - top) for s in scores]
    total = math.fsum(weights)
    return {name: w / total for name, w in zip(names, weights, strict=True)}


def classify(
    scorer: Scorer,
    text: str,
    spec: ClassifySpec,
    templates: Mapping[str, str] | None = None,
    *,
    reuse_prefix: bool = True,
) -> Classification:
    """Classify one text; raises the engine's ``GlassboxError`` on failure."""
    if not text.strip():
        raise InvalidRequestError("There is no text to classify.")
    result = scorer.score(build_request(spec, text, templates, reuse_prefix=reuse_prefix))
    probs = label_probabilities(result, spec.names, spec.normalize)
    best = max(spec.names, key=lambda n: probs[n])
    return Classification(
        text=text,
        label=best,
        probabilities=probs,
        logprobs=dict(zip(spec.names, result.logprobs, strict=True)),
        n_tokens=dict(zip(spec.names, result.n_tokens, strict=True)),
        seconds=result.seconds,
    )


def classify_batch(
    scorer: Scorer,
    texts: Sequence[str],
    spec: ClassifySpec,
    templates: Mapping[str, str] | None = None,
    *,
    on_result: Callable[[int, Classification], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    reuse_prefix: bool = True,
) -> list[Classification]:
    """Classify ``texts`` in order; returns what finished.

    ``on_result(index, classification)`` is called after each text (progress and
    streaming into a table); ``should_stop`` is checked before each text, so a
    cancelled batch keeps every result it finished. The shared prompt prefix
    stays in the engine's cache from one text to the next.
    """
    out: list[Classification] = []
    for i, text in enumerate(texts):
        if should_stop is not None and should_stop():
            break
        item = classify(scorer, text, spec, templates, reuse_prefix=reuse_prefix)
        out.append(item)
        if on_result is not None:
            on_result(i, item)
    return out


def load_examples(path: Path) -> tuple[Example, ...]:
    """Few-shot or evaluation examples from JSON Lines: ``{"text": …, "label": …}`` per line."""
    examples: list[Example] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidRequestError(f"{path} cannot be read ({exc}).") from exc
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            examples.append(Example(str(row["text"]), str(row["label"])))
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidRequestError(
                f'{path}, line {n}: expected {{"text": …, "label": …}} ({exc}).'
            ) from exc
    if not examples:
        raise InvalidRequestError(f"{path} holds no examples.")
    return tuple(examples)
