"""``glassbox task summarize|extract|classify|rewrite|search``: the task panels on the command line.

Input is ``--text``, ``--file`` or standard input. Output promises with ``--json``:
classify prints ``{"label", "probabilities": {label: p}}`` (summing to 1);
extract prints ``{"data": {...valid for the schema...}, "confidence": {field: p}}``;
summarize and rewrite print ``{"text", ...}``; search prints ``{"query", "hits"}``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from desktop_app.cli.generate import add_model_arguments, engine_config
from desktop_app.core.errors import GlassboxError, InvalidRequestError
from desktop_app.core.tasks.prompts import load_templates


def add_input_arguments(p: argparse.ArgumentParser) -> None:
    """--text, --file (or standard input)."""
    src = p.add_mutually_exclusive_group()
    src.add_argument("--text", help="the text to work on")
    src.add_argument("--file", type=Path, help="a UTF-8 text file to work on")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def read_input(args: argparse.Namespace) -> str:
    """The text from --text, --file or standard input."""
    if args.text is not None:
        return str(args.text)
    if args.file is not None:
        try:
            return str(args.file.read_text(encoding="utf-8"))
        except UnicodeDecodeError as exc:
            raise InvalidRequestError(f"{args.file} is not UTF-8 text ({exc}).") from exc
    if sys.stdin is None or sys.stdin.isatty():
        raise InvalidRequestError("Give --text TEXT, --file PATH, or pipe text in.")
    return sys.stdin.read()


def _print(args: argparse.Namespace, payload: object, text: str) -> None:
    if args.json:
        print(json.dumps(payload, ensure_ascii=False), flush=True)
    else:
        print(text, flush=True)


def register(sub: Any) -> None:
    """Add ``task`` and its five subcommands."""
    task = sub.add_parser("task", help="summarize, extract, classify, rewrite or search")
    tsub = task.add_subparsers(dest="task_command", metavar="TASK", required=True)

    p = tsub.add_parser("summarize", help="summarize a text (in parts when it is long)")
    add_input_arguments(p)
    add_model_arguments(p)
    p.add_argument(
        "--length", choices=("sentence", "paragraph", "bullets", "words"), default="paragraph"
    )
    p.add_argument("--words", type=int, default=100, help="target words with --length words")
    p.add_argument("--audience", default="a general reader")
    p.add_argument("--language", default="the language of the text")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.set_defaults(func=run_summarize)

    p = tsub.add_parser("extract", help="extract fields into JSON valid for a schema")
    add_input_arguments(p)
    add_model_arguments(p)
    p.add_argument("--schema", type=Path, required=True, help="a JSON Schema file")
    p.add_argument("--max-tokens", type=int, default=2048)
    p.set_defaults(func=run_extract)

    p = tsub.add_parser("classify", help="a probability for every label, from the logits")
    add_input_arguments(p)
    add_model_arguments(p)
    p.add_argument("--labels", required=True, help="comma-separated labels: A,B,C")
    p.add_argument("--examples", type=Path, help='few-shot JSON Lines: {"text", "label"}')
    p.add_argument("--normalize", choices=("sum", "mean"), default="sum")
    p.set_defaults(func=run_classify)

    p = tsub.add_parser("rewrite", help="polish, fix, simplify, change tone or translate")
    add_input_arguments(p)
    add_model_arguments(p)
    p.add_argument(
        "--mode",
        choices=("polish", "fix", "simplify", "formal", "friendly", "concise", "translate"),
        default="polish",
    )
    p.add_argument("--language", default="English", help="target language of translate")
    p.add_argument("--diff", action="store_true", help="also print a word-level diff")
    p.set_defaults(func=run_rewrite)

    p = tsub.add_parser("search", help="search a knowledge-base collection")
    p.add_argument("query")
    p.add_argument("--collection", "-c", required=True)
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--embed-model", default=None)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run_search)


def _client(args: argparse.Namespace) -> Any:
    from desktop_app.workers.engine.client import EngineClient

    client = EngineClient()
    client.load(engine_config(args))
    return client


def run_classify(args: argparse.Namespace) -> int:
    """Print the most likely label and every label's probability."""
    from desktop_app.core.tasks.classify import (
        ClassifySpec,
        classify,
        labels_from_names,
        load_examples,
    )

    text = read_input(args)
    examples = load_examples(args.examples) if args.examples else ()
    spec = ClassifySpec(labels_from_names(args.labels.split(",")), examples, args.normalize)
    with _client(args) as client:
        result = classify(client, text, spec, load_templates())
    bars = "\n".join(
        f"{name:>16} {p:6.1%} {'█' * round(p * 30)}" for name, p in result.probabilities.items()
    )
    _print(args, result.as_dict(), f"{result.label}\n{bars}")
    return 0


def run_extract(args: argparse.Namespace) -> int:
    """Print the extracted object (valid for the schema) and each field's confidence."""
    from desktop_app.core.tasks.extract import extract, load_schema

    schema = load_schema(args.schema)
    text = read_input(args)
    with _client(args) as client:
        result = extract(client, text, schema, load_templates(), max_tokens=args.max_tokens)
    if not result.valid:
        raise GlassboxError("The output does not validate: " + "; ".join(result.errors))
    conf = "\n".join(f"  {k}: {v.confidence:.1%}" for k, v in result.confidence.items())
    _print(
        args,
        result.as_dict(),
        json.dumps(result.data, ensure_ascii=False, indent=2) + f"\nconfidence:\n{conf}",
    )
    return 0


def run_summarize(args: argparse.Namespace) -> int:
    """Print the summary; progress of a summary in parts on stderr."""
    from desktop_app.core.tasks.summarize import SummaryOptions, SummaryProgress, summarize

    options = SummaryOptions(args.length, args.words, args.audience, args.language)
    text = read_input(args)

    def progress(p: SummaryProgress) -> None:
        if not args.quiet and p.steps > 1:
            print(f"{p.step}/{p.steps} {p.label}", file=sys.stderr, flush=True)

    with _client(args) as client:
        result = summarize(
            client, text, options, client.count_tokens, client.loaded.n_ctx,
            load_templates(), progress=progress,
        )  # fmt: skip
    _print(
        args,
        {"text": result.text, "parts": len(result.parts), "part_summaries": result.part_summaries},
        result.text,
    )
    return 0


def run_rewrite(args: argparse.Namespace) -> int:
    """Print the rewrite (and, with --diff, the word-level diff)."""
    from desktop_app.core.tasks.rewrite import rewrite

    text = read_input(args)
    with _client(args) as client:
        result = rewrite(
            client, text, args.mode, language=args.language, templates=load_templates()
        )
    diff = result.diff()
    marks = {"equal": "{}", "insert": "{{+{}+}}", "delete": "[-{}-]"}
    shown = result.text
    if args.diff:
        shown += "\n\n" + "".join(marks[op].format(t) for op, t in diff)
    _print(args, {"text": result.text, "diff": [list(d) for d in diff]}, shown)
    return 0


def run_search(args: argparse.Namespace) -> int:
    """Print the best passages with scores and highlighted terms."""
    from desktop_app.core.kb.knowledge_base import KnowledgeBase
    from desktop_app.core.tasks.search import search

    if not 1 <= args.k <= 100:
        raise InvalidRequestError(f"--k must be between 1 and 100, not {args.k}.")
    with KnowledgeBase(embed_model=args.embed_model) as kb:
        results = search(kb, args.query, args.collection, args.k)
    lines = []
    for r in results:
        text = r.hit.chunk.text
        marked, last = [], 0
        for a, b in r.highlights:
            marked.append(text[last:a] + "**" + text[a:b] + "**")
            last = b
        marked.append(text[last:])
        body = "".join(marked)[:300].replace("\n", " ")
        lines.append(f"[{r.hit.rank}] {r.hit.chunk.path}  {r.hit.fused:.4f}\n    {body}")
    payload = {
        "query": args.query,
        "hits": [
            {**r.hit.as_dict(), "highlights": [list(h) for h in r.highlights]} for r in results
        ],
    }
    _print(args, payload, "\n".join(lines) or "no passage found")
    return 0
