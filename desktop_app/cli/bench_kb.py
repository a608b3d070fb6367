"""``glassbox bench ingest`` and ``glassbox bench retrieval``: knowledge-base figures."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from desktop_app.core.errors import InvalidRequestError

#: The shared seed articles, beside the repository on developer and CI machines.
_SEEDS = Path("..") / "shared" / "seeds"
_QUESTIONS = Path("eval") / "retrieval_seeds.jsonl"


def register(benches: Any) -> None:
    """Add the knowledge-base benchmarks to ``glassbox bench``."""
    p = benches.add_parser(
        "ingest", help="end-to-end ingestion chunks/s ÷ raw sentence-transformers encode"
    )
    p.add_argument("paths", nargs="*", type=Path, metavar="PATH", help=f"default: {_SEEDS}")
    p.add_argument("--rounds", type=int, default=2, help="alternating rounds (best is kept)")
    _add_embedder(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run_ingest)

    p = benches.add_parser("retrieval", help="p95 latency of a hybrid query on a synthetic corpus")
    p.add_argument("--chunks", type=int, default=100_000, help="size of the synthetic corpus")
    p.add_argument("--queries", type=int, default=100, help="queries timed")
    p.add_argument("--k", type=int, default=5)
    p.add_argument(
        "--corpus", type=Path, action="append", default=[], help=f"text cut into chunks ({_SEEDS})"
    )
    _add_embedder(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run_retrieval)


def _add_embedder(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--embedder",
        metavar="NAME",
        default=None,
        help="embedding model: a name from `glassbox kb models` or a model folder "
        "(default: the default for new collections)",
    )


def _default_paths(paths: list[Path]) -> list[Path]:
    if paths:
        return paths
    if _SEEDS.is_dir():
        return [_SEEDS]
    raise InvalidRequestError(f"Give the documents to use (there is no {_SEEDS} here).")


def run_ingest(args: argparse.Namespace) -> int:
    """Run the ingestion benchmark and print its figures."""
    from desktop_app.bench.kb import run_ingest_bench

    r = run_ingest_bench(_default_paths(args.paths), rounds=args.rounds, model=args.embedder)
    if args.json:
        print(json.dumps(r.as_dict()))
        return 0
    print(f"{r.files} files, {r.chunks} chunks, {r.model}, best of {r.rounds} rounds")
    print(
        f"  end to end: {r.chunks_per_s_end_to_end:.1f} chunks/s ({r.seconds_end_to_end:.2f} s); "
        f"raw encode: {r.chunks_per_s_raw_encode:.1f} chunks/s ({r.seconds_raw_encode:.2f} s); "
        f"ratio {r.ratio:.3f} (goal >= 0.85)"
    )
    return 0


def run_retrieval(args: argparse.Namespace) -> int:
    """Run the retrieval latency benchmark and print its figures."""
    from desktop_app.bench.kb import run_retrieval_bench
    from desktop_app.core.kb.evaluate import load_questions

    if not 100 <= args.chunks <= 2_000_000:
        raise InvalidRequestError("--chunks must be between 100 and 2,000,000.")
    if _QUESTIONS.is_file():
        base = [q.question for q in load_questions(_QUESTIONS)]
    else:
        base = ["什么是大模型的幻觉?", "How does LoRA fine-tuning work?", "检索增强生成"]
    queries = [base[i % len(base)] for i in range(max(1, args.queries))]
    corpus = args.corpus or ([_SEEDS] if _SEEDS.is_dir() else [])
    r = run_retrieval_bench(args.chunks, queries, corpus, k=args.k, model=args.embedder)
    if args.json:
        print(json.dumps(r.as_dict(), ensure_ascii=False))
        return 0
    print(f"corpus: {r.corpus} (built in {r.build_s:.0f} s), {r.model}")
    if r.repetition is None:
        print(
            "  adversarial: every chunk draws from the same few words, so every keyword "
            "is in most chunks"
        )
    elif r.repetition > 2:
        print(
            f"  adversarial: each character of the source text is in {r.repetition:.0f} chunks "
            "on average, so every query term is far more common than in real documents "
            "(more keyword work per query, not less)"
        )
    for name, (p50, p95) in r.stages.items():
        # The keyword side's parts are indented under it (p95s of parts need not add up).
        label = f"  {name[len('keyword.') :]}" if name.startswith("keyword.") else name
        print(f"  {label:<9} p50 {p50:6.1f} ms, p95 {p95:6.1f} ms")
    print(
        f"  hybrid query (embed + vector beside keyword, then fusion), k={r.k}, "
        f"{r.queries} queries: "
        f"p50 {r.p50_ms:.1f} ms, p95 {r.p95_ms:.1f} ms (goal <= 40), max {r.max_ms:.1f} ms"
    )
    return 0
