"""``glassbox generate``: stream a reply, each token with its alternatives and probabilities."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from desktop_app.core.engine.protocol import (
    DoneEvent,
    EngineConfig,
    ErrorEvent,
    GenerateRequest,
    Message,
    TokenEvent,
)
from desktop_app.core.errors import InvalidRequestError
from desktop_app.core.sampling import SamplingParams


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """--model and the load options shared by generate and bench."""
    parser.add_argument(
        "--model", default="default", help="a GGUF path, a default model key, or 'default'"
    )
    parser.add_argument("--n-ctx", type=int, default=4096, help="context length (tokens)")
    parser.add_argument("--threads", type=int, default=None, help="generation threads")
    parser.add_argument("--threads-batch", type=int, default=None, help="prompt threads")
    parser.add_argument("--gpu-layers", type=int, default=0, help="layers offloaded to a GPU")


def register(sub: Any) -> None:
    """Add the ``generate`` subcommand."""
    p = sub.add_parser("generate", help="generate text from a prompt or a chat")
    add_model_arguments(p)
    src = p.add_mutually_exclusive_group()
    src.add_argument("--prompt", help="the user's message ('-' reads standard input)")
    src.add_argument("--messages", type=Path, help='a JSON file: [{"role":…,"content":…}, …]')
    p.add_argument("--system", help="a system prompt placed before --prompt")
    p.add_argument(
        "--raw", action="store_true", help="send --prompt as is, without the chat template"
    )
    defaults = SamplingParams()
    p.add_argument("--temperature", type=float, default=defaults.temperature)
    p.add_argument("--top-k", type=int, default=defaults.top_k)
    p.add_argument("--top-p", type=float, default=defaults.top_p)
    p.add_argument("--min-p", type=float, default=defaults.min_p)
    p.add_argument("--repeat-penalty", type=float, default=defaults.repeat_penalty)
    p.add_argument("--repeat-last-n", type=int, default=defaults.repeat_last_n)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--max-tokens", type=int, default=defaults.max_tokens)
    p.add_argument("--stop", action="append", default=[], help="stop string (repeatable)")
    p.add_argument("--candidates", type=int, default=20, help="alternatives per token, 0–50")
    p.add_argument("--json", action="store_true", help="print JSON Lines events")
    p.set_defaults(func=run)


def _messages(args: argparse.Namespace) -> tuple[str | None, tuple[Message, ...] | None]:
    if args.messages is not None:
        try:
            raw = json.loads(args.messages.read_text(encoding="utf-8"))
            msgs = tuple(Message(m["role"], m["content"]) for m in raw)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise InvalidRequestError(
                f'{args.messages} is not a JSON list of {{"role", "content"}} messages ({exc}).'
            ) from exc
        bad = [m.role for m in msgs if m.role not in ("system", "user", "assistant")]
        if bad or not msgs:
            raise InvalidRequestError(f"{args.messages}: roles must be system, user or assistant.")
        return None, msgs
    text = args.prompt
    if text is None or text == "-":
        if sys.stdin is None or sys.stdin.isatty():
            raise InvalidRequestError("Give --prompt TEXT, --messages FILE.json, or pipe text in.")
        text = sys.stdin.read()
    if args.raw:
        return text, None
    msgs = (Message("user", text),)
    if args.system:
        msgs = (Message("system", args.system), *msgs)
    return None, msgs


def build_request(args: argparse.Namespace) -> GenerateRequest:
    """The request described by the command-line arguments (validated)."""
    params = SamplingParams(
        temperature=args.temperature,
        top_k=args.top_k,
        top_p=args.top_p,
        min_p=args.min_p,
        repeat_penalty=args.repeat_penalty,
        repeat_last_n=args.repeat_last_n,
        seed=args.seed,
        max_tokens=args.max_tokens,
        stop=tuple(args.stop),
    )
    if not 0 <= args.candidates <= 50:
        raise InvalidRequestError(f"--candidates must be between 0 and 50, not {args.candidates}.")
    prompt, messages = _messages(args)
    return GenerateRequest(
        params=params, prompt=prompt, messages=messages, candidates=args.candidates
    )


def engine_config(args: argparse.Namespace) -> EngineConfig:
    """Resolve --model (installing a default model if needed) into a load config."""
    from desktop_app.core.models.defaults import resolve_model

    path = resolve_model(args.model)
    return EngineConfig(
        model_path=str(path),
        n_ctx=args.n_ctx,
        n_threads=args.threads,
        n_threads_batch=args.threads_batch,
        n_gpu_layers=args.gpu_layers,
    )


def run(args: argparse.Namespace) -> int:
    """Stream the reply; with --json, one JSON object per line."""
    from desktop_app.workers.engine_process import EngineClient, error_from_event

    request = build_request(args)
    config = engine_config(args)
    with EngineClient() as client:
        client.load(config)
        for event in client.generate(request):
            if isinstance(event, TokenEvent):
                if args.json:
                    print(json.dumps(event.to_json(), ensure_ascii=False), flush=True)
                else:
                    sys.stdout.write(event.text)
                    sys.stdout.flush()
            elif isinstance(event, DoneEvent):
                if args.json:
                    print(json.dumps(event.to_json()), flush=True)
                else:
                    sys.stdout.write("\n")
                    print(
                        f"[{event.finish_reason}: {event.completion_tokens} tokens, "
                        f"{event.tokens_per_s:.1f} tokens/s, first token {event.ttft_s:.2f} s, "
                        f"seed {event.seed}]",
                        file=sys.stderr,
                    )
            elif isinstance(event, ErrorEvent):
                raise error_from_event(event)
    return 0
