"""Every sentence of a grounded answer checked against the passage it cites.

After generation the answer is split into sentences (Chinese and English
punctuation, and line breaks). Each sentence's citations ``[n]`` name the passages
it claims to come from; a sentence without one takes the citation of the sentence
before it in the same paragraph (a model told to begin with ``[n]`` writes one
citation for its whole paragraph), and the first sentence of a paragraph without
any is "no citation".

Support is lexical: the sentence's key terms (jieba words for Chinese, as the words
index cuts them; content words, numbers and code identifiers for English, less the
stop words) and the share of them the cited passages hold. A sentence under
``SUPPORTED_AT`` is unsupported. A sentence with no key term at all (a bare "[2]",
"Answer:") is not judged. A sentence in another language than the passages it
cites (an English answer from a Chinese manual) is judged only by what both write
alike: the terms the passages hold, and its numbers and code identifiers, which a
translation keeps (``support_across``); with none of them it is not judged (reason
``OTHER_LANGUAGE``). Each sentence keeps the probabilities the model gave its key
tokens, from the reply's token events.

When most judged sentences are unsupported, the answer is prefixed with
``WARNINGS`` in the question's language: Glassbox's sentence, never model text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from desktop_app.core.engine.protocol import TokenEvent
from desktop_app.core.kb import keyword, language, words

#: The share of a sentence's key terms its cited passages must hold.
SUPPORTED_AT = 0.5
#: Key tokens kept per sentence (the least probable ones, in their order).
KEY_TOKENS = 8

#: The prefix of an answer whose sentences are mostly unsupported, by language.
WARNINGS = {
    "en": (
        "Warning: most sentences of this answer are not supported by the passages they "
        "cite; check them against the sources."
    ),
    "zh": "注意：这个回答的大部分句子没有得到所引用段落的支持，请对照来源核实。",
}

#: Why a sentence is unsupported (``SentenceCheck.reason``).
NO_CITATION = "no_citation"
UNKNOWN_SOURCE = "unknown_source"
LOW_SUPPORT = "low_support"
#: Why a sentence was not judged: in another language than its passages, with
#: nothing both write alike (``support_across``).
OTHER_LANGUAGE = "other_language"

_CITATION = re.compile(r"\[(\d{1,3}(?:\s*[,，、]\s*\d{1,3})*)\]")
# A sentence ends after Chinese end punctuation, after . ! ? ; followed by a space
# or the end, and at a line break. Citations and closing quotes right after the
# punctuation stay with the sentence they close.
_END = re.compile(
    r"(?:[。！？；]|[.!?;](?=\s|$))[\"'”’」）)]*(?:\s*\[\d{1,3}(?:\s*[,，、]\s*\d{1,3})*\])*|\n"
)
# English key terms: code identifiers whole (apt-get, /etc/hostname, dpkg.cfg,
# set_value, camelCase), then words and numbers.
_IDENTIFIER = re.compile(
    r"/?[A-Za-z0-9_~]*[A-Za-z0-9](?:[-_./:][A-Za-z0-9_]+)+|(?<![A-Za-z0-9_])[A-Za-z]*[a-z][A-Z]\w*"
)
_WORD = re.compile(r"[A-Za-z]+|\d+(?:\.\d+)*")
_SUFFIXES = ("ing", "ed", "es", "s")


@dataclass(frozen=True, slots=True)
class KeyToken:
    """The generated tokens of one of a sentence's key terms (joined), and the
    probability the model gave them (their product)."""

    token: str
    p: float

    def as_dict(self) -> dict[str, object]:
        return {"token": self.token, "p": round(self.p, 4)}


@dataclass(frozen=True, slots=True)
class SentenceCheck:
    """One sentence of an answer and how well the passages it cites support it.

    ``start`` and ``end`` are character offsets in the checked text (the answer
    without a warning prefix). ``support`` is None for a sentence with no key term.
    """

    text: str
    start: int
    end: int
    citations: tuple[int, ...]
    supported: bool
    support: float | None
    reason: str = ""
    key_tokens: tuple[KeyToken, ...] = ()
    #: The key terms the cited passages do not hold.
    missing: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        """The JSON form of ``glassbox ask --json`` and the API."""
        return {
            "text": self.text,
            "citations": list(self.citations),
            "supported": self.supported,
            "support": None if self.support is None else round(self.support, 3),
            "reason": self.reason,
            "missing": list(self.missing),
            "key_tokens": [k.as_dict() for k in self.key_tokens],
            "start": self.start,
            "end": self.end,
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> SentenceCheck | None:
        """A check saved with a reply (None when it does not fit)."""
        try:
            support = data.get("support")
            keys = data.get("key_tokens") or []
            return cls(
                text=str(data["text"]),
                start=int(data["start"]),  # type: ignore[call-overload]
                end=int(data["end"]),  # type: ignore[call-overload]
                citations=tuple(int(n) for n in data.get("citations") or []),  # type: ignore[attr-defined]
                supported=bool(data["supported"]),
                support=None if support is None else float(support),  # type: ignore[arg-type]
                reason=str(data.get("reason") or ""),
                key_tokens=tuple(
                    KeyToken(str(k["token"]), float(k["p"]))
                    for k in keys  # type: ignore[attr-defined]
                ),
                missing=tuple(str(m) for m in data.get("missing") or []),  # type: ignore[attr-defined]
            )
        except (KeyError, TypeError, ValueError):
            return None


def split_sentences(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each sentence of ``text``, whitespace trimmed, in order.

    A piece that is only citations or punctuation joins the sentence before it.
    """
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _END.finditer(text):
        spans.append((start, m.end()))
        start = m.end()
    spans.append((start, len(text)))
    out: list[tuple[int, int]] = []
    for a, b in spans:
        piece = text[a:b]
        lead = len(piece) - len(piece.lstrip())
        a, b = a + lead, a + len(piece.rstrip())
        if a >= b:
            continue
        bare = _CITATION.sub("", text[a:b]).strip(" \t.。,，;；:：!！?？\"'”’")
        if not bare and out and "\n" not in text[out[-1][1] : a]:
            out[-1] = (out[-1][0], b)
            continue
        out.append((a, b))
    return out


def _stem(word: str) -> str:
    for suffix in _SUFFIXES:
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def key_terms(sentence: str) -> list[str]:
    """The terms of a sentence that carry its content, normalised, each once."""
    bare = _CITATION.sub(" ", sentence)
    terms: list[str] = []

    def add(term: str) -> None:
        if term and term not in terms:
            terms.append(term)

    for m in _IDENTIFIER.finditer(bare):
        add(m.group(0).lower().rstrip(".:-"))
    ascii_part = _IDENTIFIER.sub(" ", bare)
    for m in _WORD.finditer(ascii_part):
        word = m.group(0).lower()
        if word in words.STOP_WORDS or (len(word) < 3 and not word[0].isdigit()):
            continue
        add(_stem(word))
    if keyword.has_cjk(bare):
        for word in words.query_words(bare):
            if keyword.has_cjk(word):
                add(word)
    return terms


def _holds(passages: str, term: str) -> bool:
    """Whether the normalised passages hold ``term``: Chinese anywhere, an English
    term at the start of a word (its stem: "install" holds "installed")."""
    if keyword.has_cjk(term) or not term[0].isalnum():
        return term in passages
    return re.search(r"(?<![a-z0-9])" + re.escape(term), passages) is not None


def support_of(sentence: str, passages: Sequence[str]) -> tuple[float | None, list[str]]:
    """The share of ``sentence``'s key terms found in ``passages`` (None: no key term),
    and the terms not found."""
    terms = key_terms(sentence)
    if not terms:
        return None, []
    folded = keyword.normalize(" ".join(passages))
    missing = [t for t in terms if not _holds(folded, t)]
    return (len(terms) - len(missing)) / len(terms), missing


def _neutral(term: str) -> bool:
    """Whether a key term is written the same in any language: a number or a code
    identifier (``apt-get``, ``/etc/fstab``)."""
    return any(c.isdigit() for c in term) or _IDENTIFIER.fullmatch(term) is not None


def support_across(sentence: str, passages: Sequence[str]) -> tuple[float | None, list[str]]:
    """``support_of`` for passages in another language than the sentence: its words
    cannot be found in them, only what is written alike in both. A term counts when
    the passages hold it (a name, a command) or when it is a number or an identifier
    (which a translation keeps); None when the sentence has no such term."""
    terms = key_terms(sentence)
    folded = keyword.normalize(" ".join(passages))
    found = [t for t in terms if _holds(folded, t)]
    missing = [t for t in terms if t not in found and _neutral(t)]
    if not found and not missing:
        return None, []
    return len(found) / (len(found) + len(missing)), missing


def _languages_differ(sentence: str, passages: Sequence[str]) -> bool:
    own = language.detect(_CITATION.sub(" ", sentence))
    theirs = language.detect(" ".join(passages))
    return own is not None and theirs is not None and own != theirs


def _token_spans(tokens: Sequence[TokenEvent], offset: int) -> list[tuple[int, int, TokenEvent]]:
    spans = []
    at = -offset
    for token in tokens:
        spans.append((at, at + len(token.text), token))
        at += len(token.text)
    return spans


def _key_tokens(
    text: str,
    span: tuple[int, int],
    terms: Sequence[str],
    token_spans: Sequence[tuple[int, int, TokenEvent]],
) -> tuple[KeyToken, ...]:
    """The tokens that wrote each key term of the sentence, in order: one entry per
    term occurrence, its tokens joined and its probability their product (the
    model's probability of writing the term there); the ``KEY_TOKENS`` least likely."""
    a, b = span
    lowered = text[a:b].lower()
    occurrences: list[tuple[int, int]] = []
    for term in terms:
        for m in re.finditer(re.escape(term), lowered):
            occurrences.append((a + m.start(), a + m.end()))
    used: set[int] = set()
    found: list[tuple[int, KeyToken]] = []
    for start, end in sorted(occurrences):
        picked = [
            i
            for i, (s, e, t) in enumerate(token_spans)
            if s < end and e > start and i not in used and t.text.strip()
        ]
        if not picked:
            continue
        used.update(picked)
        p = 1.0
        for i in picked:
            p *= token_spans[i][2].p
        joined = "".join(token_spans[i][2].text for i in picked).strip()
        found.append((picked[0], KeyToken(joined, p)))
    if len(found) > KEY_TOKENS:
        keep = {id(k) for _, k in sorted(found, key=lambda it: it[1].p)[:KEY_TOKENS]}
        found = [(i, k) for i, k in found if id(k) in keep]
    return tuple(k for _, k in sorted(found, key=lambda it: it[0]))


def check_sentences(
    text: str,
    passages: Sequence[str],
    tokens: Sequence[TokenEvent] = (),
    *,
    token_offset: int = 0,
) -> list[SentenceCheck]:
    """Each sentence of ``text`` checked against the passages it cites.

    ``passages[n - 1]`` is source ``n``. ``tokens`` are the reply's tokens, whose
    joined text is ``text`` preceded by ``token_offset`` characters (whitespace the
    answer was stripped of), for the key tokens' probabilities.
    """
    token_spans = _token_spans(tokens, token_offset)
    out: list[SentenceCheck] = []
    carried: tuple[int, ...] = ()
    last_end = 0
    for a, b in split_sentences(text):
        sentence = text[a:b]
        if "\n\n" in text[last_end:a] or not out:
            carried = ()  # a new paragraph: no citation carries over
        last_end = b
        own = tuple(
            dict.fromkeys(
                int(n) for g in _CITATION.findall(sentence) for n in re.split(r"\s*[,，、]\s*", g)
            )
        )
        cited = own or carried
        if own:
            carried = own
        terms = key_terms(sentence)
        keys = _key_tokens(text, (a, b), terms, token_spans)
        if not terms:
            out.append(SentenceCheck(sentence, a, b, cited, True, None, "", keys))
            continue
        if not cited:
            out.append(
                SentenceCheck(sentence, a, b, (), False, 0.0, NO_CITATION, keys, tuple(terms))
            )
            continue
        given = [passages[n - 1] for n in cited if 1 <= n <= len(passages)]
        if not given:
            out.append(
                SentenceCheck(sentence, a, b, cited, False, 0.0, UNKNOWN_SOURCE, keys, tuple(terms))
            )
            continue
        across = _languages_differ(sentence, given)
        support, missing = (support_across if across else support_of)(sentence, given)
        if support is None:  # in another language, with nothing written alike: not judged
            out.append(SentenceCheck(sentence, a, b, cited, True, None, OTHER_LANGUAGE, keys))
            continue
        ok = support >= SUPPORTED_AT
        out.append(
            SentenceCheck(
                sentence, a, b, cited, ok, support, "" if ok else LOW_SUPPORT, keys, tuple(missing)
            )
        )
    return out


def mostly_unsupported(checks: Sequence[SentenceCheck]) -> bool:
    """Whether more than half of the judged sentences (those with key terms) are unsupported."""
    judged = [c for c in checks if c.support is not None]
    if not judged:
        return False
    return sum(not c.supported for c in judged) * 2 > len(judged)


def warning_for(question: str) -> str:
    """The warning in the question's language (English for any other)."""
    return WARNINGS.get(language.detect(question) or "en", WARNINGS["en"])
