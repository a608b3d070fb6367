"""``glassbox eval answers``: the quality of grounded answers on a question file.

Each question goes through ``glassbox ask``'s path (``core.kb.grounding.ground``,
then ``core.kb.answer.answer`` on the loaded model) and is scored by
``core.kb.evaluate_answers``. ``--json`` prints ``{"prompt", "questions",
"grounded_citation_rate", "names_fact_rate", "language_match", "refusal_precision",
"refusal_recall", "seconds_median", "first_token_s_median", "buckets",
"per_question"}`` (and ``"splits"`` when both are present); with several
``--prompt`` styles or ``--cad`` weights, one such object per run under ``"runs"``
(each with its ``"cad"``, null when off).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from desktop_app.cli.crosslang import add_expand_argument
from desktop_app.cli.generate import add_model_arguments
from desktop_app.core.errors import InvalidRequestError


def register(ev_sub: Any) -> None:
    """Add ``answers`` to the ``eval`` subcommands."""
    p = ev_sub.add_parser(
        "answers",
        help="grounded citations, facts named, language and refusals of answers on a question file",
    )
    p.add_argument("--questions", type=Path, required=True, help="a JSON Lines question file")
    p.add_argument("--collection", "-c", required=True, help="the collection's name")
    p.add_argument(
        "--split",
        choices=("dev", "held", "all"),
        default="all",
        help="only the questions of this split (default: all, reported per split too)",
    )
    p.add_argument(
        "--limit",
        type=int,
        default=None,
        metavar="N",
        help="only N questions, taken in turn from each bucket (zh, en, cross, none)",
    )
    p.add_argument("--k", type=int, default=5, help="passages per question (as ask)")
    p.add_argument(
        "--prompt",
        default=None,
        metavar="STYLES",
        help="for measuring: prompt styles to compare, comma-separated, each plain or "
        "features joined with + (quote, sandwich, trim, example, cite, lang, own); default: "
        "the one ask uses",
    )
    p.add_argument(
        "--cad",
        type=cad_weights,
        default=(None,),
        metavar="ALPHA[,ALPHA…]",
        help="context-aware decoding at weight ALPHA; several, comma-separated, with off "
        "for none, are compared on the same questions and passages (e.g. off,0.5)",
    )
    p.add_argument("--max-tokens", type=int, default=512, help="longest answer (tokens)")
    p.add_argument(
        "--embed-model",
        default=None,
        help="embedding model of a new collection: a name from `glassbox kb models` or a "
        "local sentence-transformers folder (default: the first of `kb models`)",
    )
    add_model_arguments(p)
    p.add_argument(
        "--answers-out",
        type=Path,
        default=None,
        metavar="FILE",
        help="also write each answer with its scores to FILE (JSON Lines) as it comes",
    )
    add_expand_argument(p)
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run_eval_answers)


def cad_weights(text: str) -> tuple[float | None, ...]:
    """``--cad``'s value: weights α (``off``: no context-aware decoding), comma-separated."""
    from desktop_app.cli.kb import cad_alpha

    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts:
        raise argparse.ArgumentTypeError("give a weight α, or off")
    return tuple(None if p.lower() == "off" else cad_alpha(p) for p in parts)


def run_eval_answers(args: argparse.Namespace) -> int:
    """Answer every question of the file (per prompt style) and print the figures."""
    from desktop_app.cli.generate import engine_config
    from desktop_app.core.kb.answer import DEFAULT_PROMPT, Answer, answer, prompt_features
    from desktop_app.core.kb.evaluate import select_split
    from desktop_app.core.kb.evaluate_answers import (
        AnswerOutcome,
        AnswerReport,
        load_answer_questions,
        outcome_dict,
        pick,
        run_answers,
    )
    from desktop_app.core.kb.grounding import GroundingOptions, ground
    from desktop_app.core.kb.knowledge_base import KnowledgeBase
    from desktop_app.core.kb.retrieve import Hit
    from desktop_app.core.sampling import SamplingParams
    from desktop_app.workers.engine.client import EngineClient

    if not 1 <= args.k <= 100:
        raise InvalidRequestError(f"--k must be between 1 and 100, not {args.k}.")
    if args.limit is not None and args.limit < 1:
        raise InvalidRequestError(f"--limit must be 1 or more, not {args.limit}.")
    styles = [s.strip() for s in (args.prompt or DEFAULT_PROMPT).split(",") if s.strip()]
    for style in styles:
        prompt_features(style)  # an unknown style fails before anything loads
    items = load_answer_questions(args.questions)
    chosen = {id(q) for q in select_split([i.question for i in items], args.split)}
    items = pick([i for i in items if id(i.question) in chosen], args.limit)
    params = SamplingParams(temperature=0.0, max_tokens=args.max_tokens, seed=0)
    with KnowledgeBase(embed_model=args.embed_model) as kb, contextlib.ExitStack() as stack:
        kb.collection(args.collection)  # a missing collection fails before the model loads
        client = stack.enter_context(EngineClient())
        chat = client.load(engine_config(args)).has_chat_template
        out = (
            stack.enter_context(args.answers_out.open("a", encoding="utf-8"))
            if args.answers_out
            else None
        )
        options = GroundingOptions(collections=(args.collection,), k=args.k, expand=args.expand)
        found: dict[str, list[Hit]] = {}

        def search(question: str) -> Sequence[Hit]:
            # ask's grounding (with its cross-language step); the same hits for every style.
            if question not in found:
                found[question] = ground(kb, client, question, options, chat_template=chat).hits
            return found[question]

        runs = [(style, cad) for style in styles for cad in dict.fromkeys(args.cad)]
        outcomes: dict[tuple[str, float | None], list[AnswerOutcome]] = {r: [] for r in runs}
        # Question by question, every run in turn: a run cut short has compared the
        # styles and weights on the same questions.
        for i, item in enumerate(items):
            if len(runs) > 1:
                search(item.question.question)  # runs compared on answering time alone
            for style, cad in runs:

                def ask(
                    question: str,
                    hits: Sequence[Hit],
                    on_token: Callable[[str], None],
                    style: str = style,
                    cad: float | None = cad,
                ) -> Answer:
                    return answer(
                        client, question, hits, chat_template=chat, params=params,
                        style=style, on_token=on_token, cad=cad,
                    )  # fmt: skip

                (o,) = run_answers([item], search, ask, style=style, cad=cad).outcomes
                outcomes[style, cad].append(o)
                if out is not None:
                    record = {"prompt": style, "cad": cad, **outcome_dict(o)}
                    out.write(json.dumps(record, ensure_ascii=False))
                    out.write("\n")
                    out.flush()
                if not args.quiet:
                    label = style if cad is None else f"{style} cad={cad:g}"
                    print(
                        f"{label} {i + 1}/{len(items)} [{o.item.question.id}] {o.seconds:.1f} s: "
                        + o.text[:100].replace("\n", " "),
                        file=sys.stderr,
                        flush=True,
                    )
    reports = [AnswerReport(tuple(outcomes[r]), r[0], r[1]) for r in runs]
    if args.json:
        payload: object = (
            reports[0].as_dict() if len(reports) == 1 else {"runs": [r.as_dict() for r in reports]}
        )
        print(json.dumps(payload, ensure_ascii=False), flush=True)
    else:
        print("\n".join(r.text() for r in reports), flush=True)
    return 0
