"""``glassbox bench …``: benchmark commands that print figures and ratios."""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from typing import Any

from desktop_app.cli.generate import (
    add_model_arguments,
    add_remote_arguments,
    engine_config,
    remote_engine,
)


def register(sub: Any) -> None:
    """Add the ``bench`` subcommand and its benchmarks."""
    p = sub.add_parser("bench", help="benchmarks that print figures and ratios")
    benches = p.add_subparsers(dest="bench", metavar="BENCH", required=True)
    e = benches.add_parser(
        "engine", help="Glassbox engine vs raw llama-cpp-python: tokens/s, memory, prefix reuse"
    )
    add_model_arguments(e)
    add_remote_arguments(e)
    e.add_argument("--tokens", type=int, default=256, help="reply length of the short runs")
    e.add_argument("--long-tokens", type=int, default=2048, help="reply length of the long run")
    e.add_argument("--rounds", type=int, default=5, help="alternating rounds at --tokens")
    e.add_argument("--long-rounds", type=int, default=2, help="alternating rounds at --long-tokens")
    e.add_argument("--candidates", type=int, default=20, help="K, alternatives per token")
    e.add_argument("--json", action="store_true", help="print one JSON object")
    e.set_defaults(func=run_engine)
    from desktop_app.cli import bench_kb

    bench_kb.register(benches)

    sp = benches.add_parser(
        "speculative",
        help="replies with drafting (prompt lookup, a draft model) against replies without",
    )
    add_model_arguments(sp)
    sp.add_argument(
        "--draft-model",
        default="qwen2.5-coder-0.5b-instruct",
        metavar="GGUF|KEY|none",
        help="the draft model (default: the bundled Qwen2.5-Coder-0.5B; none: prompt lookup only)",
    )
    sp.add_argument(
        "--sets",
        nargs="+",
        default=["code", "prose", "grounded", "rewrite"],
        choices=["code", "prose", "grounded", "rewrite"],
        help="prompt sets to run",
    )
    sp.add_argument(
        "--modes",
        nargs="+",
        default=["off", "lookup", "draft"],
        choices=["off", "lookup", "draft", "both"],
        help="drafting modes (off is always run: the ratios are to it)",
    )
    sp.add_argument(
        "--temperatures", nargs="+", type=float, default=[0.0, 0.7], help="temperatures"
    )
    sp.add_argument("--tokens", type=int, default=128, help="reply length")
    sp.add_argument("--max-draft", type=int, default=8, help="most tokens proposed at once")
    sp.add_argument(
        "--fixed",
        action="store_true",
        help="always propose --max-draft tokens (default: as many as the acceptance rate pays for)",
    )
    sp.add_argument("--candidates", type=int, default=20, help="K, alternatives per token")
    sp.add_argument(
        "--ttft",
        action="store_true",
        help="also time the first token of a 1,500-token prompt at batch sizes 256 to 2,048",
    )
    sp.add_argument(
        "--reference",
        action="store_true",
        help="also measure raw llama-cpp-python with and without its prompt lookup (temperature 0)",
    )
    sp.add_argument("--json", action="store_true", help="print one JSON object")
    sp.set_defaults(func=run_speculative)

    u = benches.add_parser(
        "ui", help="event-loop stalls while a fast reply streams into the window (offscreen)"
    )
    u.add_argument("--tokens", type=int, default=5000, help="length of the synthetic reply")
    u.add_argument("--rate", type=float, default=500.0, help="tokens per second streamed")
    u.add_argument("--candidates", type=int, default=20, help="alternatives per token")
    u.add_argument("--json", action="store_true", help="print one JSON object")
    u.set_defaults(func=run_ui)

    s = benches.add_parser("startup", help="process start to the main window painted, no model")
    s.add_argument("--runs", type=int, default=5, help="measured starts (after one warm-up)")
    s.add_argument(
        "--command",
        dest="startup_command",
        default=None,
        metavar="PROGRAM",
        help="another Glassbox to start instead of this one, e.g. the bundle "
        "'dist/Glassbox/glassbox' (one string; 'gui --no-model --exit-when-shown' is added)",
    )
    s.add_argument("--json", action="store_true", help="print one JSON object")
    s.set_defaults(func=run_startup)

    i = benches.add_parser(
        "import", help="chats/s importing a synthetic 50 MB ChatGPT conversations.json"
    )
    i.add_argument("--chats", type=int, default=1000, help="conversations in the file")
    i.add_argument("--mb", type=float, default=50.0, help="size of the file in MB")
    i.add_argument("--seed", type=int, default=0, help="seed of the synthetic conversations")
    i.add_argument("--json", action="store_true", help="print one JSON object")
    i.set_defaults(func=run_import)

    m = benches.add_parser(
        "memory",
        help="the memory estimate vs the engine process's RSS after loading and filling a context",
    )
    m.add_argument(
        "--models",
        nargs="+",
        default=["default", "gemma-3-270m"],
        metavar="GGUF|KEY",
        help="models (paths or default-model keys; default: the chat model and Gemma 3 270M)",
    )
    m.add_argument(
        "--contexts", nargs="+", type=int, default=[4096, 16384], help="context lengths (tokens)"
    )
    m.add_argument("--threads", type=int, default=None, help="threads (default: the engine's)")
    m.add_argument("--json", action="store_true", help="print one JSON object")
    m.set_defaults(func=run_memory)

    f = benches.add_parser(
        "faults", help="the fault-and-attack suite: kills, fuzzing, bombs, hostile templates"
    )
    f.add_argument("--quick", action="store_true", help="a few cases of each check (make test)")
    f.add_argument("--only", nargs="+", metavar="CHECK", default=None, help="run only these checks")
    f.add_argument("--runs", type=int, default=None, help="cases per check (default: its own)")
    f.add_argument("--seed", type=int, default=0, help="seed of the random cases")
    f.add_argument("--json", action="store_true", help="print one JSON object")
    f.set_defaults(func=run_faults)


def run_engine(args: argparse.Namespace) -> int:
    """Run the engine benchmark and print its figures."""
    if args.engine == "openai":
        return _run_remote(args)
    from desktop_app.bench.engine import run_engine_bench

    result = run_engine_bench(
        engine_config(args),
        tokens=args.tokens,
        long_tokens=args.long_tokens,
        rounds=args.rounds,
        long_rounds=args.long_rounds,
        candidates=args.candidates,
    )
    if args.json:
        print(json.dumps(result.as_dict()))
        return 0
    r = result
    print(
        f"model {r.model}, context {r.n_ctx}, threads {r.n_threads}/{r.n_threads_batch}, "
        f"K={r.candidates}, {r.rounds} rounds"
    )
    print(
        f"  generation at {args.tokens} tokens: glassbox {r.tokens_per_s_glassbox:.1f} tok/s, "
        f"raw llama-cpp-python {r.tokens_per_s_raw:.1f} tok/s, ratio {r.ratio:.3f} (goal >= 0.97)"
    )
    print(
        f"  generation at {args.long_tokens} tokens: glassbox {r.tokens_per_s_glassbox_2048:.1f} "
        f"tok/s, raw {r.tokens_per_s_raw_2048:.1f} tok/s, ratio {r.ratio_2048:.3f} (goal >= 1.0)"
    )
    print(
        f"  vs a bare decode loop ({r.tokens_per_s_decode_loop:.1f} tok/s): "
        f"ratio {r.ratio_vs_decode_loop:.3f}"
    )
    print(
        f"  peak memory: glassbox engine {r.rss_glassbox_mb:.0f} MB, raw Llama "
        f"{r.rss_raw_mb:.0f} MB, extra {r.rss_extra_mb:+.0f} MB (goal <= 50)"
    )
    print(
        f"  5th-turn first token: {r.ttft_turn5_reuse_s * 1000:.0f} ms with prefix reuse, "
        f"{r.ttft_turn5_no_reuse_s * 1000:.0f} ms without, ratio {r.ttft_ratio_turn5:.3f} "
        "(goal <= 0.2)"
    )
    return 0


def _run_remote(args: argparse.Namespace) -> int:
    """Remote server tokens/s ÷ the local engine's, on the model --model names."""
    from desktop_app.bench.engine import run_remote_bench

    config = engine_config(args)
    # The server is asked for the model it lists (its name is often the file's path).
    args.model = "default"
    r = run_remote_bench(
        remote_engine(args),
        config,
        tokens=args.tokens,
        rounds=args.rounds,
        candidates=args.candidates,
    )
    if args.json:
        print(json.dumps(r.as_dict()))
        return 0
    print(f"model {r.model}, server {r.server}, K={r.candidates}, {r.rounds} rounds")
    print(
        f"  generation at {r.tokens} tokens: remote {r.tokens_per_s_remote:.1f} tok/s, "
        f"local engine {r.tokens_per_s_local:.1f} tok/s, ratio {r.ratio:.3f}"
    )
    return 0


def run_speculative(args: argparse.Namespace) -> int:
    """Run the speculative-decoding benchmark and print its figures."""
    from dataclasses import replace

    from desktop_app.bench.speculative import measure_ttft, run_reference, run_speculative_bench

    config = engine_config(args)  # resolves --draft-model ("none": prompt lookup only)

    def progress(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    result = run_speculative_bench(
        config,
        sets=tuple(args.sets),
        modes=tuple(args.modes),
        temperatures=tuple(args.temperatures),
        max_tokens=args.tokens,
        max_draft=args.max_draft,
        candidates=args.candidates,
        fixed=args.fixed,
        progress=progress,
    )
    out = result.as_dict()
    ttft: list[dict[str, float]] = []
    if args.ttft:
        base = replace(config, draft_model_path=None)
        ttft = [measure_ttft(replace(base, n_batch=b)) for b in (256, 512, 1024, 2048)]
        out["ttft"] = ttft
    reference: list[dict[str, object]] = []
    if args.reference:
        reference = run_reference(config, sets=tuple(args.sets), max_tokens=args.tokens)
        out["reference"] = reference
    if args.json:
        print(json.dumps(out))
        return 0
    print(
        f"model {result.model}, draft {result.draft_model or 'none'}, threads "
        f"{result.n_threads}/{result.n_threads_batch}, {result.max_tokens} tokens, "
        f"{'exactly' if result.fixed else 'up to'} {result.max_draft} drafted, "
        f"K={result.candidates}"
    )
    for row in result.rows:
        acc = row["acceptance"]
        print(
            f"  {row['set']:9} t={row['temperature']:<4g} {row['mode']:7} "
            f"{row['tokens_per_s']:6.2f} tok/s  ratio {row['ratio']}  "
            f"accepted {'-' if acc is None else acc}  "
            f"same tokens as off {row['same_tokens_as_off']}/{row['replies']}"
        )
    for r in reference:
        print(
            f"  raw llama-cpp-python {r['set']:9} t=0  off {r['tokens_per_s_off']} tok/s, "
            f"its prompt lookup {r['tokens_per_s_lookup']} tok/s, ratio {r['ratio']}"
        )
    for t in ttft:
        print(
            f"  first token after {t['prompt_tokens']:.0f} prompt tokens, batch "
            f"{t['n_batch']:.0f}: {t['ttft_s']:.2f} s; back to it after another chat: "
            f"{t['ttft_back_s']:.2f} s"
        )
    return 0


def run_ui(args: argparse.Namespace) -> int:
    """Stream a synthetic reply through the window and print the event-loop stalls."""
    from desktop_app.bench.ui import run_ui_bench

    r = run_ui_bench(tokens=args.tokens, rate=args.rate, candidates=args.candidates)
    if args.json:
        print(json.dumps(r.as_dict()))
        return 0
    print(
        f"{r.tokens} tokens at {r.rate:.0f} tokens/s, K={r.candidates}, probabilities on, "
        f"Markdown and code ({r.stream_s:.1f} s)"
    )
    print(
        f"  event-loop stall: p99 {r.stall_p99_ms:.2f} ms (goal <= 8), "
        f"max {r.stall_max_ms:.2f} ms (goal <= 16), median {r.stall_p50_ms:.2f} ms"
    )
    print(
        f"  lag behind the engine: {r.lag_start_ms:.0f} ms at the start, "
        f"{r.lag_end_ms:.0f} ms at the end, {r.lag_max_ms:.0f} ms at most; "
        f"{r.tokens_shown}/{r.tokens} tokens shown, kept up: {'yes' if r.kept_up else 'NO'}"
    )
    return 0


def run_startup(args: argparse.Namespace) -> int:
    """Time process start to the window painted, several times."""
    from desktop_app.bench.startup import STARTUP_ARGS, run_startup_bench

    command = None
    if args.startup_command:
        command = [*shlex.split(args.startup_command), *STARTUP_ARGS]
    try:
        r = run_startup_bench(runs=args.runs, command=command)
    except (OSError, RuntimeError, subprocess.TimeoutExpired) as exc:
        print(f"error: bench startup: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(r.as_dict()))
        return 0
    runs = ", ".join(f"{t:.2f}" for t in r.per_run_s)
    print(f"start to window shown, no model: median {r.startup_s_median:.2f} s (goal <= 1.0)")
    print(f"  runs: {runs} s; command: {' '.join(r.command)}")
    return 0


def run_import(args: argparse.Namespace) -> int:
    """Write a synthetic ChatGPT export and time its import."""
    from desktop_app.bench.chat_import import run_import_bench
    from desktop_app.core.errors import InvalidRequestError

    if not 1 <= args.chats <= 100_000 or not 0.01 <= args.mb <= 500:
        raise InvalidRequestError("--chats must be 1 to 100,000 and --mb 0.01 to 500.")
    r = run_import_bench(args.chats, args.mb, args.seed)
    if args.json:
        print(json.dumps(r.as_dict()))
        return 0
    print(
        f"{r.chats} chats ({r.messages} messages) from a {r.mb:.1f} MB conversations.json "
        f"in {r.seconds:.2f} s: {r.chats_per_s:.0f} chats/s, {r.mb_per_s:.1f} MB/s, "
        f"{r.progress_reports} progress reports, {r.cpus} CPUs "
        f"(goal: 1,000 chats from 50 MB in under {r.goal_s:.0f} s)"
    )
    return 0


def run_memory(args: argparse.Namespace) -> int:
    """Estimate and measure the engine process's memory; exit 1 if a ratio is outside 0.9-1.1."""
    from desktop_app.bench.memory import run_memory_bench
    from desktop_app.core.models.defaults import resolve_model

    paths = [str(resolve_model(m)) for m in args.models]

    def progress(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    rows = run_memory_bench(paths, args.contexts, n_threads=args.threads, progress=progress)
    ok = all(0.9 <= r.ratio <= 1.1 for r in rows)
    if args.json:
        print(json.dumps({"rows": [r.as_dict() for r in rows], "ok": ok}))
        return 0 if ok else 1
    mib = 2**20
    print("estimate vs the engine process's VmRSS after loading and filling the context (MiB)")
    for r in rows:
        e = r.estimate
        print(
            f"  {r.model} at {r.n_ctx:,} ({r.cache_type}): estimate {e['total'] / mib:,.0f} "
            f"(weights {e['weights'] / mib:,.0f} + repacked {e['repacked'] / mib:,.0f} + KV "
            f"{e['kv_cache'] / mib:,.0f} + compute {e['compute'] / mib:,.0f} + runtime "
            f"{e['runtime'] / mib:,.0f}); measured {r.rss_after_fill / mib:,.0f} after filling "
            f"{r.filled_tokens:,} tokens in {r.fill_s:.0f} s (anon {r.anon_after_fill / mib:,.0f}, "
            f"file {r.file_after_fill / mib:,.0f}, peak {r.hwm_after_fill / mib:,.0f}), "
            f"{r.rss_after_load / mib:,.0f} after loading; ratio {r.ratio:.3f} (goal 0.9-1.1)"
        )
    return 0 if ok else 1


def run_faults(args: argparse.Namespace) -> int:
    """Run the fault-and-attack suite and print its table; exit 1 if a goal was missed."""
    from desktop_app.bench.faults import CHECKS
    from desktop_app.bench.faults import run_faults as run

    if args.only and (unknown := [n for n in args.only if n not in CHECKS]):
        print(
            f"error: bench faults: unknown check {', '.join(unknown)}; "
            f"the checks are: {', '.join(CHECKS)}",
            file=sys.stderr,
        )
        return 2
    from desktop_app.core.memory import limit_arenas

    # At start, as the window and the server do: the checks measure their memory.
    limit_arenas()
    report = run(args.only, quick=args.quick, runs=args.runs, seed=args.seed)
    print(json.dumps(report.as_dict()) if args.json else report.table())
    return 0 if report.ok else 1
