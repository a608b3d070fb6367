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
