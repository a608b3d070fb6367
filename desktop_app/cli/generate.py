"""``glassbox generate``: stream a reply, each token with its alternatives and probabilities."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from desktop_app.cli.sampler_args import add_sampler_arguments, sampler_values
from desktop_app.cli.thinking_print import (
    ThinkingPrinter,
    add_thinking_arguments,
    prompt_opens,
    thinking_value,
)
from desktop_app.cli.tools import add_tool_arguments, run_with_tools, uses_tools
from desktop_app.core.engine.protocol import (
    LORA_SCALE_MAX,
    LORA_SCALE_MIN,
    MAX_DRAFT_LIMIT,
    DoneEvent,
    DraftSettings,
    EngineConfig,
    ErrorEvent,
    Event,
    GenerateRequest,
    Message,
    ModelLoaded,
    TokenEvent,
)
from desktop_app.core.errors import InvalidRequestError, ModelFileError
from desktop_app.core.models.defaults import DRAFT_DEFAULT
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


def add_remote_arguments(parser: argparse.ArgumentParser) -> None:
    """--engine, --base-url and --api-key-file, shared by generate and bench."""
    parser.add_argument(
        "--engine",
        choices=("local", "openai"),
        default="local",
        help="local: llama.cpp in a process of its own; openai: a remote OpenAI-compatible "
        "server (--model is then a model name the server lists, or 'default' for its first)",
    )
    parser.add_argument(
        "--base-url", default=None, metavar="URL", help="the server, e.g. http://127.0.0.1:8080"
    )
    parser.add_argument(
        "--api-key-file",
        type=Path,
        default=None,
        metavar="FILE",
        help="the server's API key, on the file's first line (default: $GLASSBOX_REMOTE_API_KEY)",
    )
    parser.add_argument(
        "--timeout", type=float, default=60.0, metavar="S", help="seconds to wait on the server"
    )


def remote_engine(args: argparse.Namespace) -> Any:
    """The remote engine described by --base-url, --api-key-file, --model and --timeout.

    The key never comes from the command line, where other local users could read it.
    """
    from desktop_app.core.api.secrets import REMOTE_KEY_ENV, secret_from
    from desktop_app.core.engine.openai_remote import OpenAIEngine

    if not args.base_url:
        raise InvalidRequestError("--engine openai needs --base-url URL.")
    model = None if args.model == "default" else args.model
    key = secret_from(REMOTE_KEY_ENV, args.api_key_file)
    return OpenAIEngine(args.base_url, key, model=model, timeout_s=args.timeout)


def add_adapter_arguments(parser: argparse.ArgumentParser) -> None:
    """--lora and --lora-scale, shared by generate and gui.

    Not given to bench: its raw llama-cpp-python baseline runs the bare model.
    """
    parser.add_argument(
        "--lora", default=None, metavar="PATH", help="a LoRA adapter GGUF applied to the model"
    )
    parser.add_argument(
        "--lora-scale",
        type=float,
        default=1.0,
        metavar="X",
        help=f"how strongly the adapter applies, {LORA_SCALE_MIN:g}–{LORA_SCALE_MAX:g} "
        "(0: not at all, 1: as trained)",
    )


def add_draft_arguments(parser: argparse.ArgumentParser) -> None:
    """--draft-model, --prompt-lookup and --max-draft: speculative decoding."""
    parser.add_argument(
        "--draft-model",
        default=None,
        metavar="GGUF|KEY",
        help="a small model with the same vocabulary that drafts tokens for the model to check "
        f"(a path, or {DRAFT_DEFAULT} for the bundled one)",
    )
    parser.add_argument(
        "--prompt-lookup",
        action="store_true",
        help="draft tokens by finding the reply's last words earlier in the prompt or reply",
    )
    parser.add_argument(
        "--max-draft",
        type=int,
        default=8,
        metavar="N",
        help=f"most tokens drafted at once, 1–{MAX_DRAFT_LIMIT} (default 8)",
    )


def draft_settings(args: argparse.Namespace) -> DraftSettings:
    """The drafting asked for on the command line (off when no option was given)."""
    n = getattr(args, "max_draft", 8)
    if not 1 <= n <= MAX_DRAFT_LIMIT:
        raise InvalidRequestError(f"--max-draft must be between 1 and {MAX_DRAFT_LIMIT}, not {n}.")
    return DraftSettings(
        prompt_lookup=bool(getattr(args, "prompt_lookup", False)),
        draft_model=_draft_spec(args) is not None,
        max_draft=n,
    )


def _draft_spec(args: argparse.Namespace) -> str | None:
    spec: str | None = getattr(args, "draft_model", None)
    return None if spec is None or spec.lower() == "none" else spec


def check_draft_loaded(loaded: ModelLoaded) -> None:
    """Refuse to go on when the draft model asked for was not loaded (the reason says why)."""
    if loaded.draft_error:
        raise ModelFileError(loaded.draft_error)


def check_lora_scale(scale: float) -> float:
    """``scale`` when it lies within the adapter scale's bounds."""
    if not LORA_SCALE_MIN <= scale <= LORA_SCALE_MAX:
        raise InvalidRequestError(
            f"--lora-scale must be between {LORA_SCALE_MIN:g} and {LORA_SCALE_MAX:g}, "
            f"not {scale:g}."
        )
    return scale


def register(sub: Any) -> None:
    """Add the ``generate`` subcommand."""
    p = sub.add_parser("generate", help="generate text from a prompt or a chat")
    add_model_arguments(p)
    add_remote_arguments(p)
    add_adapter_arguments(p)
    add_draft_arguments(p)
    p.add_argument(
        "--chat-template",
        type=Path,
        default=None,
        metavar="FILE",
        help="a Jinja chat template file used instead of the model's own",
    )
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
    p.add_argument(
        "--loop-stop",
        type=int,
        default=defaults.loop_stop,
        metavar="N",
        help="end the reply once its last stretch is written again N times in a row, "
        "over 200 characters (0: off; default %(default)s)",
    )
    p.add_argument("--candidates", type=int, default=20, help="alternatives per token, 0–50")
    p.add_argument("--json", action="store_true", help="print JSON Lines events")
    add_tool_arguments(p)
    add_sampler_arguments(p)
    add_thinking_arguments(p)
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
        loop_stop=args.loop_stop,
        **sampler_values(args),
    )
    if not 0 <= args.candidates <= 50:
        raise InvalidRequestError(f"--candidates must be between 0 and 50, not {args.candidates}.")
    prompt, messages = _messages(args)
    return GenerateRequest(
        params=params,
        prompt=prompt,
        messages=messages,
        candidates=args.candidates,
        draft=draft_settings(args),
        thinking=thinking_value(args),
    )


def engine_config(args: argparse.Namespace) -> EngineConfig:
    """Resolve --model (installing a default model if needed) into a load config."""
    from desktop_app.core.models.defaults import resolve_model

    path = resolve_model(args.model)
    draft = _draft_spec(args)
    # bench shares this function but not the adapter and template options.
    template_file: Path | None = getattr(args, "chat_template", None)
    lora: str | None = getattr(args, "lora", None)
    template: str | None = None
    if template_file is not None:
        try:
            template = template_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidRequestError(
                f"The chat template file {template_file} cannot be read ({exc})."
            ) from exc
    return EngineConfig(
        model_path=str(path),
        n_ctx=args.n_ctx,
        n_threads=args.threads,
        n_threads_batch=args.threads_batch,
        n_gpu_layers=args.gpu_layers,
        chat_template=template,
        lora_path=str(Path(lora).expanduser()) if lora else None,
        lora_scale=check_lora_scale(getattr(args, "lora_scale", 1.0)),
        draft_model_path=None if draft is None else str(resolve_model(draft)),
    )


def run(args: argparse.Namespace) -> int:
    """Stream the reply; with --json, one JSON object per line."""
    from desktop_app.workers.engine.client import EngineClient

    request = build_request(args)
    if uses_tools(args) and request.messages is None:
        raise InvalidRequestError("Tools need a chat: leave out --raw.")
    if args.engine == "openai":
        engine = remote_engine(args)
        loaded = engine.load(EngineConfig(model_path=args.model, n_ctx=args.n_ctx))
        if uses_tools(args):
            return _run_tools(args, engine, loaded, request)
        _print_events(args, engine.generate(request), loaded, request)
        return 0
    config = engine_config(args)
    with EngineClient() as client:
        loaded = client.load(config)
        check_draft_loaded(loaded)
        if uses_tools(args):
            return _run_tools(args, client, loaded, request)
        _print_events(args, client.generate(request), loaded, request)
    return 0


def _run_tools(
    args: argparse.Namespace, engine: Any, loaded: ModelLoaded, request: GenerateRequest
) -> int:
    """The reply with the tools of --tools and --mcp (see ``cli.tools``)."""
    kb = None
    if "knowledge" in str(args.tools):
        from desktop_app.core.kb.knowledge_base import KnowledgeBase

        kb = KnowledgeBase()
    try:
        assert request.messages is not None
        run_with_tools(args, engine, loaded, request.messages, request.params, kb=kb)
    finally:
        if kb is not None:
            kb.close()
    return 0


def _print_events(
    args: argparse.Namespace,
    events: Iterable[Event],
    loaded: ModelLoaded | None = None,
    request: GenerateRequest | None = None,
) -> None:
    from desktop_app.core.errors import error_from_event

    # A reasoning model's thinking is printed marked, or left out (--hide-thinking).
    opened = loaded is not None and request is not None and prompt_opens(loaded, request)
    printer = ThinkingPrinter(opened, getattr(args, "hide_thinking", False), args.json)
    for event in events:
        if isinstance(event, TokenEvent):
            printer.token(event)
        elif isinstance(event, DoneEvent):
            printer.finish()
            if args.json:
                done = event.to_json()
                if printer.reasoning_tokens:
                    done["reasoning_tokens"] = printer.reasoning_tokens
                print(json.dumps(done), flush=True)
            else:
                sys.stdout.write("\n")
                print(
                    f"[{event.finish_reason}: {event.completion_tokens} tokens, "
                    f"{event.tokens_per_s:.1f} tokens/s, first token {event.ttft_s:.2f} s, "
                    f"seed {event.seed}"
                    + (
                        f", drafted {event.draft_accepted}/{event.draft_proposed} accepted"
                        if event.draft_proposed
                        else ""
                    )
                    + "]",
                    file=sys.stderr,
                )
        elif isinstance(event, ErrorEvent):
            printer.finish()
            if not args.json:
                sys.stdout.write("\n")
            raise error_from_event(event)
