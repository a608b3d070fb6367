"""``glassbox eval model``: accuracy, calibration and speed of a model on a question set.

``--data`` is a JSONL or CSV file (MMLU's or C-Eval's multiple-choice layout, or
GSM8K-style word problems) or a shipped sample (mc-en, mc-zh, math-en, math-zh,
or ``samples`` for all four); it may be given several times. ``--compare`` runs a
second model on the same items; ``--lora`` alone compares the model without and
with the adapter. Each run is saved as JSON in the data folder's
``evaluations/``. ``--json`` prints ``{"reports": [{"model", "lora", "data",
"kind", "scoring", "n", "total", "correct", "accuracy", "ci95", "ece",
"calibration_bins", "per_subject", "items_per_s", "seconds",
"prompt_reused_share", "confidently_wrong"}, …], "saved": [paths]}``.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from desktop_app.cli.generate import add_adapter_arguments, add_model_arguments, engine_config
from desktop_app.core.engine.protocol import EngineConfig
from desktop_app.core.lab.questions import DEFAULT_SAMPLE, SAMPLES


def register(ev_sub: Any) -> None:
    """Add ``model`` to the ``eval`` subcommands."""
    p = ev_sub.add_parser(
        "model", help="accuracy with its 95% interval, calibration (ECE) and items/s of a model"
    )
    p.add_argument(
        "--data",
        action="append",
        default=None,
        metavar="FILE|SAMPLE",
        help="a JSONL or CSV question file, or a shipped sample: "
        f"{', '.join(SAMPLES)}, or 'samples' for all of them (default {DEFAULT_SAMPLE}); "
        "repeat to evaluate several",
    )
    p.add_argument(
        "--compare",
        default=None,
        metavar="PATH|KEY",
        help="a second model evaluated on the same items, side by side",
    )
    p.add_argument(
        "--scoring",
        choices=("letter", "text"),
        default="letter",
        help="multiple choice: the probability of each choice's letter (default) or of its "
        "whole text (per token)",
    )
    p.add_argument("--limit", type=int, default=None, metavar="N", help="only the first N items")
    p.add_argument(
        "--max-tokens",
        type=int,
        default=320,
        metavar="N",
        help="most tokens of a step-by-step answer to a word problem",
    )
    p.add_argument("--no-save", action="store_true", help="do not save the results")
    add_model_arguments(p)
    add_adapter_arguments(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def _data_specs(args: argparse.Namespace) -> list[str]:
    specs: list[str] = []
    for spec in args.data or [DEFAULT_SAMPLE]:
        specs.extend(SAMPLES if spec == "samples" else [spec])
    return specs


def _targets(args: argparse.Namespace) -> list[EngineConfig]:
    main = engine_config(args)
    if args.compare:
        other = replace(
            engine_config(argparse.Namespace(**(vars(args) | {"model": args.compare}))),
            lora_path=None,
        )
        return [main, other]
    if main.lora_path:
        return [replace(main, lora_path=None), main]
    return [main]


def run(args: argparse.Namespace) -> int:
    """Evaluate each model on each question set, print the figures and save them."""
    from desktop_app.core.lab.model_eval import (
        EvalReport,
        ItemResult,
        evaluate,
        export_markdown,
        save_reports,
    )
    from desktop_app.core.lab.questions import load_questions, resolve_data
    from desktop_app.workers.engine.client import EngineClient

    sets = [load_questions(resolve_data(spec)) for spec in _data_specs(args)]
    targets = _targets(args)
    by_set: dict[int, list[EvalReport]] = {i: [] for i in range(len(sets))}
    with EngineClient() as client:
        for config in targets:
            client.load(config)
            for i, questions in enumerate(sets):
                label = f"{Path(config.model_path).name} on {questions.name}"

                def progress(r: ItemResult, total: int, label: str = label) -> None:
                    if (r.index + 1) % 10 == 0 or r.index + 1 == total:
                        print(f"{label}: {r.index + 1}/{total}", file=sys.stderr, flush=True)

                by_set[i].append(
                    evaluate(
                        client,
                        questions,
                        model=config.model_path,
                        lora=config.lora_path,
                        scoring=args.scoring,
                        limit=args.limit,
                        max_tokens=args.max_tokens,
                        on_item=progress,
                    )
                )
    saved = [] if args.no_save else [str(save_reports(reps)) for reps in by_set.values()]
    reports = [r for reps in by_set.values() for r in reps]
    if args.json:
        payload = {"reports": [r.summary() for r in reports], "saved": saved}
        print(json.dumps(payload, ensure_ascii=False), flush=True)
        return 0
    for reps in by_set.values():
        print(export_markdown(reps), flush=True)
    for path in saved:
        print(f"saved: {path}", flush=True)
    return 0
