"""The cross-language steps of ``search``, ``ask`` and ``eval retrieval``.

When a question's language is not the collection's (``core.kb.language``), the
local model writes it in the documents' language and both are searched
(``core.kb.translate``). ``glassbox search`` loads the model only then; a model
that is missing or fails leaves the search to the question, said by ``--explain``
(and on stderr). ``eval retrieval --translate`` measures that step, ``--hyde`` a
hypothetical answer passage searched alongside the question, ``--expand`` the
terms an answer would name (``core.kb.rewrite.answer_terms``; ``--expand`` in
``search`` and ``ask`` too, a check box in the window).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from desktop_app.core.kb import language
from desktop_app.core.kb.rewrite import answer_terms
from desktop_app.core.kb.translate import (
    CrossLanguage,
    TranslationError,
    Translator,
    cross_language,
    engine_translator,
    hypothetical_answer,
)

if TYPE_CHECKING:
    from desktop_app.core.kb.answer import TextGenerator
    from desktop_app.core.kb.knowledge_base import KnowledgeBase


def add_translate_argument(p: argparse.ArgumentParser) -> None:
    """--no-translate, for search and ask."""
    p.add_argument(
        "--no-translate",
        action="store_true",
        help="do not let the model write a question in the documents' language when it is "
        "asked in another one (by default both phrasings are searched)",
    )


def add_expand_argument(p: argparse.ArgumentParser) -> None:
    """--expand, for search, ask and the evaluations."""
    p.add_argument(
        "--expand",
        action="store_true",
        help="rank the 20 best passages again by the commands, files and terms the model "
        "expects a passage that answers to name (helps with manuals; loads the model)",
    )


def add_eval_arguments(p: argparse.ArgumentParser) -> None:
    """--translate, --hyde and --expand, for eval retrieval."""
    p.add_argument(
        "--translate",
        action="store_true",
        help="also search each question as the model writes it in the documents' language, "
        "when it is asked in another one (as search and ask do)",
    )
    p.add_argument(
        "--hyde",
        action="store_true",
        help="also search a short answer passage the model writes in the documents' "
        "language (hypothetical-answer search)",
    )
    add_expand_argument(p)


def counts_of(kb: KnowledgeBase, collections: Sequence[str]) -> dict[str, int]:
    """Chunks per language of the collections searched."""
    from desktop_app.core.kb.grounding import collection_languages

    return collection_languages(kb, collections)


def needs_translation(args: argparse.Namespace, kb: KnowledgeBase, question: str) -> bool:
    """Whether the question is in another language than the collection's (and the
    step is on): the model is then needed before the search."""
    if getattr(args, "no_translate", False):
        return False
    return language.target_language(question, counts_of(kb, (args.collection,))) is not None


def load_engine(
    args: argparse.Namespace, stack: contextlib.ExitStack
) -> tuple[TextGenerator, bool]:
    """The local model of ``--model`` in its engine process (closed with ``stack``),
    and whether it has a chat template."""
    from desktop_app.cli.generate import engine_config
    from desktop_app.workers.engine.client import EngineClient

    cached: tuple[TextGenerator, bool] | None = getattr(args, "loaded_engine", None)
    if cached is not None:  # one engine process per command, whichever step loads it
        return cached
    config = engine_config(args)
    client = stack.enter_context(EngineClient())
    loaded = client.load(config)
    args.loaded_engine = (client, loaded.has_chat_template)
    return client, loaded.has_chat_template


def search_translation(
    args: argparse.Namespace, kb: KnowledgeBase, question: str, stack: contextlib.ExitStack
) -> CrossLanguage:
    """The cross-language step of ``glassbox search``: the model is loaded only when
    the question needs it; a model that cannot be had leaves the question alone."""
    counts = counts_of(kb, (args.collection,))
    enabled = not args.no_translate
    target = language.target_language(question, counts)
    if target is None or not enabled:
        return cross_language(question, counts, None, enabled=enabled)
    translator: Translator
    try:
        engine, chat = load_engine(args, stack)
        translator = engine_translator(engine, chat_template=chat)
    except Exception as exc:  # noqa: BLE001 - a search never fails for the translation
        reason = str(exc).rstrip(".")

        def translator(_question: str, _lang: str) -> str:
            raise TranslationError(f"the model could not be loaded ({reason})")

    return cross_language(question, counts, translator)


@dataclass
class EvalModelSteps:
    """The model's steps of ``eval retrieval --translate/--hyde/--expand``, timed per
    question."""

    engine: TextGenerator | None
    chat_template: bool
    counts: dict[str, int]
    translate: bool
    hyde: bool
    expand: bool = False
    seconds: dict[str, list[float]] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)

    def alternatives(self, question: str) -> list[str]:
        """The phrasings searched besides ``question`` (none when a step fails)."""
        out: list[str] = []
        if self.translate:
            translator = (
                None
                if self.engine is None
                else engine_translator(self.engine, chat_template=self.chat_template)
            )
            step = cross_language(question, self.counts, translator)
            if step.target is not None:
                self._note("translate", step.seconds, step.phrasing is None)
            out += step.alternatives
        main = language.main_languages(self.counts)
        if self.hyde and self.engine is not None and main:
            started = time.monotonic()
            try:
                out.append(
                    hypothetical_answer(
                        self.engine, question, main[0], chat_template=self.chat_template
                    )
                )
                failed = False
            except Exception:  # noqa: BLE001 - measured as a failure, the question goes on
                failed = True
            self._note("hyde", time.monotonic() - started, failed)
        return out

    def terms(self, question: str) -> str:
        """With ``expand``, the terms an answer would name, which rank the passages
        ("" when the step is off or fails)."""
        if not self.expand or self.engine is None:
            return ""
        started = time.monotonic()
        try:
            terms = answer_terms(self.engine, question, chat_template=self.chat_template)
        except Exception:  # noqa: BLE001 - measured as a failure, the question goes on
            terms = ""
        self._note("expand", time.monotonic() - started, not terms)
        return terms

    def _note(self, step: str, seconds: float, failed: bool) -> None:
        self.seconds.setdefault(step, []).append(seconds)
        self.failures[step] = self.failures.get(step, 0) + int(failed)

    def as_dict(self) -> dict[str, object]:
        """Per step: questions it ran for, mean seconds, failures."""
        return {
            step: {
                "questions": len(times),
                "seconds_mean": round(sum(times) / len(times), 3) if times else None,
                "failed": self.failures.get(step, 0),
            }
            for step, times in self.seconds.items()
        }

    def text(self) -> str:
        """One line per step for the text report."""
        return "".join(
            f"\nmodel step {step}: {len(times)} questions, "
            f"{sum(times) / len(times):.2f} s per question, {self.failures.get(step, 0)} failed"
            for step, times in self.seconds.items()
            if times
        )


def eval_model_steps(
    args: argparse.Namespace, kb: KnowledgeBase, stack: contextlib.ExitStack
) -> EvalModelSteps | None:
    """The model's steps asked for by ``--translate``/``--hyde``/``--expand``, or None."""
    if not (args.translate or args.hyde or args.expand):
        return None
    engine, chat = load_engine(args, stack)
    return EvalModelSteps(
        engine, chat, counts_of(kb, (args.collection,)), args.translate, args.hyde, args.expand
    )


def search_terms(args: argparse.Namespace, question: str, stack: contextlib.ExitStack) -> str:
    """``search --expand``: the terms the model expects an answer to name ("" when the
    step is off, or the model cannot be had: the search goes on without them)."""
    if not getattr(args, "expand", False):
        return ""
    try:
        engine, chat = load_engine(args, stack)
        return answer_terms(engine, question, chat_template=chat)
    except Exception as exc:  # noqa: BLE001 - a search never fails for this step
        print(f"terms: not listed ({str(exc).rstrip('.')})", file=sys.stderr, flush=True)
        return ""


def note_line(step: CrossLanguage) -> str:
    """The line ``--explain`` and stderr show about the step ("" when none ran)."""
    return f"translation: {step.note}" if step.note else ""


__all__ = [
    "EvalModelSteps",
    "add_eval_arguments",
    "add_expand_argument",
    "add_translate_argument",
    "eval_model_steps",
    "needs_translation",
    "note_line",
    "search_terms",
    "search_translation",
]
