"""Which language a passage or a question is written in, cheaply, by script.

Counting scripts is enough to tell the languages that matter for retrieval apart:
Chinese characters against Latin letters (a Chinese passage quoting commands such
as ``apt-get install`` still has far fewer Latin letters per Chinese character than
an English one), and kana or hangul for Japanese and Korean. Latin-script text is
counted as English: the embedding and keyword sides do not tell English from
French, and the model writes a question in English for such a collection.

A collection keeps the number of chunks per language (``collections.languages``,
JSON); ``target_language`` decides from those counts whether a question should
also be searched in another language.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping

#: Languages a chunk or a question can be counted as.
LANGUAGE_NAMES: dict[str, str] = {
    "zh": "Chinese",
    "en": "English",
    "ja": "Japanese",
    "ko": "Korean",
}

#: A Chinese character weighs this many Latin letters when the two are compared
#: (a word is about one or two characters in Chinese, four to six letters in English).
HAN_WEIGHT = 4.0
#: Another language counts as the documents' language when it holds at least this
#: share of a collection's chunks (a few stray English chunks in a Chinese book do
#: not make every Chinese question worth translating).
MIN_SHARE = 0.2
#: A question is also searched in the documents' largest language when its own
#: language holds less than this share of the chunks. On the Debian set's dev split
#: (eval/debian), a collection of 55% Chinese and 45% English chunks lost hits when
#: every question was also searched in the other language (English 13/21 -> 11/21,
#: Chinese 13/25 -> 11/25) while English questions answered only in Chinese gained
#: (3/9 -> 5/9); restricted to the Chinese handbook, those gained the same.
QUESTION_SHARE = 0.35
#: Characters of a text looked at (a chunk is shorter; a bound anyway).
MAX_CHARS = 4000

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af\u1100-\u11ff]")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")


def detect(text: str) -> str | None:
    """The language of ``text`` by its script: "zh", "en", "ja" or "ko"; None when it
    has no letters at all (numbers, punctuation, an empty passage)."""
    sample = text[:MAX_CHARS]
    han = len(_HAN.findall(sample))
    kana = len(_KANA.findall(sample))
    hangul = len(_HANGUL.findall(sample))
    latin = len(_LATIN.findall(sample))
    if hangul and hangul >= han + kana:
        east: str | None = "ko"
    elif kana and kana * 5 >= han:
        east = "ja"
    elif han:
        east = "zh"
    else:
        east = None
    east_weight = (han + kana + hangul) * HAN_WEIGHT
    if east is not None and east_weight >= latin:
        return east
    if latin:
        return "en"
    return east


def count(texts: Iterable[str]) -> Counter[str]:
    """Chunks per language (texts with no letters are not counted)."""
    out: Counter[str] = Counter()
    for text in texts:
        lang = detect(text)
        if lang is not None:
            out[lang] += 1
    return out


def parse_counts(raw: str | None) -> dict[str, int] | None:
    """The counts stored as JSON; None when absent or unreadable (recounted then)."""
    if raw is None:
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    return {str(k): int(v) for k, v in data.items() if isinstance(v, int) and v > 0}


def dump_counts(counts: Mapping[str, int]) -> str:
    """The JSON stored for ``counts``: positive counts only, largest first."""
    kept = sorted(((k, v) for k, v in counts.items() if v > 0), key=lambda kv: (-kv[1], kv[0]))
    return json.dumps(dict(kept), ensure_ascii=False)


def describe(counts: Mapping[str, int] | None) -> str:
    """Plain text for users: ``Chinese 80%, English 20%``; "not counted yet" for None."""
    if counts is None:
        return "not counted yet"
    total = sum(v for v in counts.values() if v > 0)
    if total == 0:
        return "no text yet"
    parts = []
    for lang, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        if n <= 0:
            continue
        share = 100 * n / total
        shown = f"{share:.0f}%" if share >= 1 else "<1%"
        parts.append(f"{LANGUAGE_NAMES.get(lang, lang)} {shown}")
    return ", ".join(parts)


def main_languages(counts: Mapping[str, int], min_share: float = MIN_SHARE) -> list[str]:
    """Languages holding at least ``min_share`` of the chunks, most chunks first."""
    total = sum(v for v in counts.values() if v > 0)
    if total == 0:
        return []
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [lang for lang, n in ranked if n / total >= min_share]


def target_language(question: str, counts: Mapping[str, int]) -> str | None:
    """The language the question should also be searched in, or None.

    That is the collection's largest language, when the question's own language
    holds less than ``QUESTION_SHARE`` of the chunks: an English question on a
    mostly Chinese collection gets a Chinese phrasing, a Chinese question on an
    English collection an English one. A collection with a good share of the
    question's language is searched with the question alone (a translated phrasing
    there mostly pushes the passages in the question's language down).
    """
    asked = detect(question)
    total = sum(n for n in counts.values() if n > 0)
    if asked is None or total == 0:
        return None
    largest = main_languages(counts)[0]
    if largest == asked or counts.get(asked, 0) / total >= QUESTION_SHARE:
        return None
    return largest
