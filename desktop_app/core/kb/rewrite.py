"""Query rewriting: the loaded model writes other phrasings of a question.

A question and the passage answering it often use different words ("LoRA" and
"low-rank adaptation", "幻觉" and "hallucination"). Each phrasing is searched and
all the rankings are fused (``retrieve.search``'s ``alternatives``), so a passage
found by any phrasing can rank; the original question keeps its own rankings.
"""

from __future__ import annotations

import re

from desktop_app.core.engine.protocol import GenerateRequest, Message
from desktop_app.core.kb.answer import TextGenerator, generate_text
from desktop_app.core.kb.keyword import normalize
from desktop_app.core.sampling import SamplingParams

#: Longest alternative phrasing kept (characters); a longer line is not a query.
MAX_PHRASING_CHARS = 200
#: Phrasings asked for at most (the window, the command line and the API alike).
MAX_PHRASINGS = 5

_LEADER = re.compile(r"^\s*(?:[-*•·]+|\(?\d{1,2}[.)、:：]|[a-z][.)])\s*", re.IGNORECASE)


def rewrite_prompt(question: str, n: int) -> str:
    """The instruction asking for ``n`` phrasings, one per line, in the question's language."""
    return (
        f"Rewrite the question below as {n} different short search queries that mean the "
        "same thing, using other words or synonyms. Write them in the same language as the "
        "question, one per line, with no numbering and no explanation.\n\n"
        f"Question: {question.strip()}"
    )


def parse_phrasings(text: str, question: str, n: int) -> list[str]:
    """The usable lines of the model's reply: numbering and quotes removed, the question
    itself, duplicates, labels and overlong lines dropped; at most ``n``."""
    seen = {normalize(question).strip(" ?？。.")}
    out: list[str] = []
    for line in text.splitlines():
        line = _LEADER.sub("", line).strip().strip("\"'“”「」").strip()
        if not line or len(line) > MAX_PHRASING_CHARS or line.endswith(":"):
            continue
        if line.lower().startswith(("question:", "query:", "queries:", "here are")):
            continue
        key = normalize(line).strip(" ?？。.")
        if key in seen:
            continue
        seen.add(key)
        out.append(line)
        if len(out) == n:
            break
    return out


def rewrite_queries(
    engine: TextGenerator,
    question: str,
    n: int = 3,
    *,
    chat_template: bool = True,
    params: SamplingParams | None = None,
) -> list[str]:
    """Up to ``n`` other phrasings of ``question`` written by the loaded model.

    Greedy by default (temperature 0), so the same model gives the same phrasings.
    An empty list when the model wrote nothing usable: retrieval then runs on the
    question alone.
    """
    n = max(0, min(n, MAX_PHRASINGS))
    if n == 0 or not question.strip():
        return []
    prompt = rewrite_prompt(question, n)
    params = params or SamplingParams(temperature=0.0, max_tokens=40 * n)
    request = (
        GenerateRequest(params=params, messages=(Message("user", prompt),), candidates=0)
        if chat_template
        else GenerateRequest(params=params, prompt=f"{prompt}\n\nQueries:\n", candidates=0)
    )
    return parse_phrasings(generate_text(engine, request), question, n)


#: Tokens the list of an answer's terms may take.
TERMS_TOKENS = 32
#: Longest single term kept (characters): a longer item is a sentence, not a term.
MAX_TERM_CHARS = 60

_TERM_SEPARATORS = re.compile(r"[,，、;；\n]+")
_TERM_LABEL = re.compile(r"^\s*(?:terms?|words?|keywords?|answer|list)\s*[:：]\s*", re.IGNORECASE)


def terms_prompt(question: str) -> str:
    """The instruction asking for the words a passage answering ``question`` would hold."""
    return (
        "Write the words that a passage answering this question would contain: names of "
        "commands, packages, files, options and products, and technical terms, separated "
        "by commas. Reply with the list only, on one line.\n\n"
        f"Question: {question.strip()}"
    )


def parse_terms(text: str, question: str) -> str:
    """The model's list as one search phrasing ("vgcreate, pvcreate, lvm"): its first
    non-empty line, labels, quotes and code marks taken off, duplicates and overlong
    items dropped, at most ``MAX_PHRASING_CHARS``; "" when nothing is left or it is
    the question itself."""
    line = next((raw for raw in text.splitlines() if raw.strip()), "")
    line = _TERM_LABEL.sub("", line)
    seen: set[str] = set()
    kept: list[str] = []
    used = 0
    for item in _TERM_SEPARATORS.split(line):
        term = item.strip().strip("\"'“”「」`*.。").strip()
        key = normalize(term)
        if not term or len(term) > MAX_TERM_CHARS or key in seen:
            continue
        if used + len(term) > MAX_PHRASING_CHARS:
            break
        seen.add(key)
        kept.append(term)
        used += len(term) + 2
    phrasing = ", ".join(kept)
    if normalize(phrasing).strip(" ?？。.") == normalize(question).strip(" ?？。."):
        return ""
    return phrasing


def answer_terms(
    engine: TextGenerator,
    question: str,
    *,
    chat_template: bool = True,
    params: SamplingParams | None = None,
) -> str:
    """The commands, files, options and terms the loaded model expects a passage that
    answers ``question`` to name, as one phrasing to search ("" when it wrote none).

    Paraphrased questions share few words with the passage that answers them; the
    names in that passage (``usrquota``, ``vgcreate``) are what the model knows best
    and what the keyword indexes match in any language. A short greedy generation.
    """
    if not question.strip():
        return ""
    prompt = terms_prompt(question)
    params = params or SamplingParams(temperature=0.0, max_tokens=TERMS_TOKENS)
    request = (
        GenerateRequest(params=params, messages=(Message("user", prompt),), candidates=0)
        if chat_template
        else GenerateRequest(params=params, prompt=f"{prompt}\n\nWords:", candidates=0)
    )
    return parse_terms(generate_text(engine, request), question)
