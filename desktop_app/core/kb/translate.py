"""Cross-language questions: the model writes the question in the documents' language.

An English question about Chinese documents finds little: the keyword indexes
match no Chinese word, and an English embedding model does not read Chinese.
When a question's language (``language.detect``) is not the collection's main one
(``language.target_language`` over its chunk counts), the loaded model writes the
question in that language, and the phrasing is searched too: its vector and
keyword rankings are fused with the question's own (``retrieve.search``'s
``alternatives``), so what the question alone finds still ranks.

A hypothetical-answer search (HyDE) is here too: the model writes a short passage
answering the question, in the documents' language, and that passage is searched.

Both are short generations (temperature 0, a few dozen tokens) bounded in time;
they only ever add to a search. A model that is missing, fails or runs out of
time leaves the search to the original question, and ``CrossLanguage.note`` says
so for ``--explain``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from desktop_app.core.engine.protocol import GenerateRequest, Message
from desktop_app.core.errors import GlassboxError
from desktop_app.core.kb import language
from desktop_app.core.kb.answer import TextGenerator, generate_text
from desktop_app.core.kb.keyword import normalize
from desktop_app.core.sampling import SamplingParams

#: Tokens a translated question may take (a question is short; a bound anyway).
TRANSLATE_TOKENS = 48
#: Tokens of a hypothetical answer passage.
HYDE_TOKENS = 64
#: Seconds a translation may take before the search goes on without it.
TRANSLATE_TIMEOUT_S = 20.0
#: Seconds a hypothetical answer may take.
HYDE_TIMEOUT_S = 40.0
#: Longest phrasing kept (characters).
MAX_TRANSLATION_CHARS = 300

#: How the model is asked to write each language.
_WRITTEN_IN = {
    "zh": "Simplified Chinese",
    "en": "English",
    "ja": "Japanese",
    "ko": "Korean",
}

#: (question, target language) -> the question written in that language. Raises a
#: ``GlassboxError`` (or returns an empty string) when it cannot.
Translator = Callable[[str, str], str]


class TranslationError(GlassboxError):
    """The model could not write the question in the documents' language."""


@dataclass(frozen=True, slots=True)
class CrossLanguage:
    """What the cross-language step did for one question."""

    #: The documents' language the question was written in (None: no need).
    target: str | None = None
    #: The question in that language (None: not translated).
    phrasing: str | None = None
    #: Plain text for ``--explain`` and the command line's notes; "" when nothing to say.
    note: str = ""
    #: Seconds the model took.
    seconds: float = 0.0

    @property
    def alternatives(self) -> list[str]:
        """The phrasings to search besides the question."""
        return [self.phrasing] if self.phrasing else []

    def as_dict(self) -> dict[str, object]:
        """The JSON form added to ``glassbox search --json`` and ``ask --json``."""
        return {
            "target": self.target,
            "phrasing": self.phrasing,
            "note": self.note,
            "seconds": round(self.seconds, 3),
        }


def language_name(lang: str) -> str:
    """The language's English name ("Chinese"), or its code when unknown."""
    return language.LANGUAGE_NAMES.get(lang, lang)


def translate_prompt(question: str, lang: str) -> str:
    """The instruction asking for ``question`` written in ``lang``, nothing else."""
    return (
        f"Translate this search question into {_WRITTEN_IN.get(lang, lang)}. Keep commands, "
        "file names, options and product names exactly as they are. Reply with the "
        "translation only, on one line.\n\n"
        f"Question: {question.strip()}"
    )


def hyde_prompt(question: str, lang: str) -> str:
    """The instruction asking for a short passage that answers ``question``, in ``lang``."""
    return (
        f"Write a short passage in {_WRITTEN_IN.get(lang, lang)}, two or three sentences as "
        "in a technical manual, that answers the question below. Name the commands, "
        "packages and configuration files involved. Reply with the passage only.\n\n"
        f"Question: {question.strip()}"
    )


def _request(prompt: str, max_tokens: int, chat_template: bool, label: str) -> GenerateRequest:
    params = SamplingParams(temperature=0.0, max_tokens=max_tokens)
    if chat_template:
        return GenerateRequest(params=params, messages=(Message("user", prompt),), candidates=0)
    return GenerateRequest(params=params, prompt=f"{prompt}\n\n{label}:", candidates=0)


def generate_bounded(engine: TextGenerator, request: GenerateRequest, timeout_s: float) -> str:
    """The text of a generation, cancelled after ``timeout_s`` seconds (the engine's
    ``cancel``, from a timer thread); a generation cut short raises ``TranslationError``."""
    cancel = getattr(engine, "cancel", None)
    fired = threading.Event()

    def stop() -> None:
        fired.set()
        if callable(cancel):
            cancel()

    timer = threading.Timer(timeout_s, stop)
    timer.daemon = True
    started = time.monotonic()
    timer.start()
    try:
        text = generate_text(engine, request)
    finally:
        timer.cancel()
    if fired.is_set() or time.monotonic() - started > timeout_s:
        raise TranslationError(f"the model took longer than {timeout_s:g} s")
    return text


def clean_phrasing(text: str, question: str) -> str:
    """The model's reply as one search phrasing: its first non-empty line, without a
    label or quotes; "" when it is empty, too long or the question itself."""
    for raw in text.splitlines():
        line = raw.strip()
        for label in ("translation:", "question:", "翻译：", "翻译:", "问题：", "问题:"):
            if line.lower().startswith(label):
                line = line[len(label) :].strip()
        line = line.strip().strip("\"'“”「」`").strip()
        if not line:
            continue
        if len(line) > MAX_TRANSLATION_CHARS:
            return ""
        if normalize(line).strip(" ?？。.") == normalize(question).strip(" ?？。."):
            return ""
        return line
    return ""


def translate_question(
    engine: TextGenerator,
    question: str,
    lang: str,
    *,
    chat_template: bool = True,
    timeout_s: float = TRANSLATE_TIMEOUT_S,
) -> str:
    """``question`` written in ``lang`` by the loaded model (greedy, short, bounded)."""
    request = _request(
        translate_prompt(question, lang), TRANSLATE_TOKENS, chat_template, "Translation"
    )
    text = clean_phrasing(generate_bounded(engine, request, timeout_s), question)
    if not text:
        raise TranslationError("the model wrote no usable translation")
    return text


def hypothetical_answer(
    engine: TextGenerator,
    question: str,
    lang: str,
    *,
    chat_template: bool = True,
    timeout_s: float = HYDE_TIMEOUT_S,
) -> str:
    """A short passage answering ``question`` in ``lang``, written by the loaded model:
    searched like a phrasing, it lands near passages that answer (HyDE)."""
    request = _request(hyde_prompt(question, lang), HYDE_TOKENS, chat_template, "Passage")
    text = " ".join(generate_bounded(engine, request, timeout_s).split()).strip()
    if not text:
        raise TranslationError("the model wrote no passage")
    return text


def engine_translator(
    engine: TextGenerator, *, chat_template: bool = True, timeout_s: float = TRANSLATE_TIMEOUT_S
) -> Translator:
    """A ``Translator`` that asks the loaded model (``translate_question``)."""

    def translate(question: str, lang: str) -> str:
        return translate_question(
            engine, question, lang, chat_template=chat_template, timeout_s=timeout_s
        )

    return translate


def merge_counts(counts: Mapping[str, Mapping[str, int]]) -> dict[str, int]:
    """Chunks per language over several collections (a chat may search more than one)."""
    out: dict[str, int] = {}
    for per in counts.values():
        for lang, n in per.items():
            out[lang] = out.get(lang, 0) + n
    return out


def cross_language(
    question: str,
    counts: Mapping[str, int],
    translator: Translator | None,
    *,
    enabled: bool = True,
) -> CrossLanguage:
    """The cross-language step for ``question`` on documents with these language
    counts: which language it needs, and the translator's phrasing, or why none.

    Never raises for the translator's failures: the search then runs on the
    question alone, and the note says so.
    """
    target = language.target_language(question, counts)
    if target is None:
        return CrossLanguage()
    name = language_name(target)
    if not enabled:
        return CrossLanguage(target, None, f"not written in {name}: translation is switched off.")
    if translator is None:
        return CrossLanguage(
            target,
            None,
            f"not written in {name}: no model is loaded; searched with the original question.",
        )
    started = time.monotonic()
    try:
        phrasing = translator(question, target).strip()
    except Exception as exc:  # noqa: BLE001 - the search goes on with the question alone
        return CrossLanguage(
            target,
            None,
            f"not written in {name}: {exc}; searched with the original question.",
            time.monotonic() - started,
        )
    seconds = time.monotonic() - started
    if not phrasing:
        return CrossLanguage(
            target,
            None,
            f"not written in {name}: the model wrote nothing usable; searched with the "
            "original question.",
            seconds,
        )
    return CrossLanguage(target, phrasing, f"also searched in {name}: {phrasing}", seconds)
