"""``glassbox eval tools``: call precision and recall, argument validity and answer
success of tool calling, on prompts in English and Chinese (``eval/tools_prompts.jsonl``)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from desktop_app.cli.generate import add_model_arguments, engine_config


def register(ev_sub: Any) -> None:
    """Add ``eval tools``."""
    p = ev_sub.add_parser(
        "tools", help="tool calling: call precision and recall, argument validity, answers"
    )
    p.add_argument("--data", type=Path, default=Path("eval/tools_prompts.jsonl"))
    p.add_argument("--limit", type=int, default=None, help="only the first N prompts")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    add_model_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Answer every prompt with the calculator and the date tool offered, then score."""
    from desktop_app.core.models.templates import supports_tools
    from desktop_app.core.tools.builtin import builtin_tools
    from desktop_app.core.tools.evaluate import as_rows, load_cases, run_case, summarize
    from desktop_app.workers.engine.client import EngineClient

    cases = load_cases(args.data)[: args.limit]
    results = []
    with EngineClient() as client:
        loaded = client.load(engine_config(args))
        template = supports_tools(loaded.chat_template)
        for n, case in enumerate(cases, start=1):
            tools = builtin_tools(["calculator", "datetime"])
            result = run_case(client, tools, case, template_has_tools=template)
            results.append(result)
            if not args.json:
                mark = "ok " if result.success else "BAD"
                print(
                    f"{n:>3}/{len(cases)} {mark} {case.id}: called {result.called} "
                    f"(expected {case.expect}); {result.answer[:80]!r}",
                    file=sys.stderr,
                    flush=True,
                )
    summary = summarize(results)
    if args.json:
        print(json.dumps({**summary, "results": as_rows(results)}, ensure_ascii=False))
    else:
        for key, value in summary.items():
            print(f"{key}: {value}")
    return 0
