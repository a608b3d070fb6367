"""``glassbox eval classify|extract``: quality figures of the task panels on a labelled set.

``eval classify --json`` prints ``{"n", "accuracy", "macro_f1", "ece", "confusion",
"calibration_bins", ...}``; with ``--compare-single`` it also classifies the same
texts one call at a time with nothing kept in the cache and prints batch
throughput ÷ single-call throughput. ``eval extract --json`` prints
``{"n", "field_exact_match", "per_field", "schema_valid"}``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from desktop_app.cli.generate import add_model_arguments, engine_config
from desktop_app.core.errors import InvalidRequestError
from desktop_app.core.tasks.prompts import load_templates


def register_eval(ev_sub: Any) -> None:
    """Add ``classify`` and ``extract`` to the ``eval`` subcommands."""
    p = ev_sub.add_parser("classify", help="accuracy, macro-F1 and calibration of classify")
    p.add_argument("--data", type=Path, required=True, help='JSON Lines: {"text", "label"}')
    p.add_argument("--examples", type=Path, help="few-shot examples (JSON Lines)")
    p.add_argument("--normalize", choices=("sum", "mean"), default="sum")
    p.add_argument("--limit", type=int, default=None, help="only the first N texts")
    p.add_argument(
        "--compare-single",
        action="store_true",
        help="also run one call per text without prefix reuse and print the throughput ratio",
    )
    add_model_arguments(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run_eval_classify)

    p = ev_sub.add_parser("extract", help="field exact match and schema validity of extract")
    p.add_argument("--data", type=Path, required=True, help='JSON Lines: {"text", "fields"}')
    p.add_argument("--schema", type=Path, required=True, help="the JSON Schema")
    p.add_argument("--limit", type=int, default=None, help="only the first N documents")
    add_model_arguments(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run_eval_extract)

    from desktop_app.cli.eval_answers import register as register_answers

    register_answers(ev_sub)

    from desktop_app.cli.eval_model import register as register_model

    register_model(ev_sub)


def _print(args: argparse.Namespace, payload: object, text: str) -> None:
    if args.json:
        print(json.dumps(payload, ensure_ascii=False), flush=True)
    else:
        print(text, flush=True)


def run_eval_classify(args: argparse.Namespace) -> int:
    """Classify every text of --data with the labels found in it, then score."""
    from desktop_app.core.tasks.classify import (
        ClassifySpec,
        classify_batch,
        labels_from_names,
        load_examples,
    )
    from desktop_app.core.tasks.metrics import classify_scores
    from desktop_app.workers.engine.client import EngineClient

    data = load_examples(args.data)[: args.limit]
    names = list(dict.fromkeys(e.label for e in data))
    examples = load_examples(args.examples) if args.examples else ()
    spec = ClassifySpec(labels_from_names(names), examples, args.normalize)
    texts = [e.text for e in data]
    templates = load_templates()
    with EngineClient() as client:
        client.load(engine_config(args))

        def progress(i: int, _: Any) -> None:
            if (i + 1) % 10 == 0:
                print(f"{i + 1}/{len(texts)}", file=sys.stderr, flush=True)

        start = time.perf_counter()
        results = classify_batch(client, texts, spec, templates, on_result=progress)
        batch_s = time.perf_counter() - start
        single_s = None
        if args.compare_single:
            start = time.perf_counter()
            classify_batch(client, texts, spec, templates, reuse_prefix=False)
            single_s = time.perf_counter() - start
    scores = classify_scores(
        [e.label for e in data],
        [r.label for r in results],
        [r.probabilities[r.label] for r in results],
        names,
    )
    payload = scores.as_dict() | {
        "labels": names,
        "examples": len(examples),
        "normalize": args.normalize,
        "batch_texts_per_s": len(texts) / batch_s,
    }
    ratio = ""
    if single_s is not None:
        payload["single_texts_per_s"] = len(texts) / single_s
        payload["batch_over_single"] = single_s / batch_s
        ratio = (
            f"\nbatch {len(texts) / batch_s:.2f} texts/s, single calls "
            f"{len(texts) / single_s:.2f} texts/s: ratio {single_s / batch_s:.2f}"
        )
    matrix = "\n".join(
        f"  {g:>10}: " + " ".join(f"{row[p]:4d}" for p in names)
        for g, row in scores.confusion.items()
    )
    _print(
        args,
        payload,
        f"{scores.n} texts, {len(examples)} examples, normalize {args.normalize}: accuracy "
        f"{scores.accuracy:.3f}, macro-F1 {scores.macro_f1:.3f}, ECE {scores.ece:.3f}\n"
        f"confusion (rows gold, columns {', '.join(names)}):\n{matrix}{ratio}",
    )
    return 0


def _load_extract_data(path: Path) -> list[dict[str, Any]]:
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if not isinstance(row.get("text"), str) or not isinstance(row.get("fields"), dict):
                raise ValueError("needs text and fields")
        except (ValueError, AttributeError) as exc:
            raise InvalidRequestError(
                f'{path}, line {n}: expected {{"text": …, "fields": {{…}}}} ({exc}).'
            ) from exc
        rows.append(row)
    if not rows:
        raise InvalidRequestError(f"{path} holds no documents.")
    return rows


def run_eval_extract(args: argparse.Namespace) -> int:
    """Extract every document of --data, then compare fields with the gold ones."""
    from desktop_app.core.errors import GlassboxError
    from desktop_app.core.tasks.extract import extract, load_schema
    from desktop_app.core.tasks.metrics import extract_scores
    from desktop_app.workers.engine.client import EngineClient

    schema = load_schema(args.schema)
    rows = _load_extract_data(args.data)[: args.limit]
    predicted: list[Any] = []
    valid: list[bool] = []
    failures: list[str] = []
    templates = load_templates()
    start = time.perf_counter()
    with EngineClient() as client:
        client.load(engine_config(args))
        for i, row in enumerate(rows, start=1):
            try:
                result = extract(client, row["text"], schema, templates)
            except GlassboxError as exc:
                if exc.kind in ("engine_crashed", "no_model", "model_load"):
                    raise
                predicted.append(None)
                valid.append(False)
                failures.append(f"document {i}: {exc}")
                continue
            predicted.append(result.data)
            valid.append(result.valid)
            if i % 5 == 0:
                print(f"{i}/{len(rows)}", file=sys.stderr, flush=True)
    scores = extract_scores([r["fields"] for r in rows], predicted, valid)
    per_field = ", ".join(f"{k} {v:.2f}" for k, v in scores.per_field.items())
    payload = scores.as_dict() | {
        "seconds": time.perf_counter() - start,
        "failures": failures,
    }
    _print(
        args,
        payload,
        f"{scores.n} documents: field exact match {scores.field_exact_match:.3f}, "
        f"schema-valid {scores.schema_valid:.1%}\n  {per_field}"
        + "".join(f"\n  failed: {f}" for f in failures),
    )
    return 0
