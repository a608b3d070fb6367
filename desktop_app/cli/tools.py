"""Tools on the command line: ``--tools``, ``--mcp CONFIG`` and approval at a terminal.

Built-in read-only tools run. Any other call (an MCP server's tool) asks
``Allow …? [y/N]`` on the terminal; when standard input is not a terminal it is
denied, and the model is told so, unless ``--allow-tools`` is given. Each call
is reported on standard error (tool, arguments, what happened); with ``--json``
it is a ``{"type": "tool_call", …}`` line among the token events.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

from desktop_app.core.engine.protocol import Engine, Message, ModelLoaded, TokenEvent, ToolCall
from desktop_app.core.errors import InvalidRequestError
from desktop_app.core.sampling import SamplingParams
from desktop_app.core.tools.builtin import BUILTIN_NAMES, builtin_tools
from desktop_app.core.tools.loop import (
    DEFAULT_MAX_STEPS,
    MAX_STEPS_LIMIT,
    Approver,
    Phase,
    ToolLoop,
    ToolReply,
    ToolStep,
    read_only_builtins,
)
from desktop_app.core.tools.spec import Tool, ToolSpec


def add_tool_arguments(parser: argparse.ArgumentParser, *, sources: bool = True) -> None:
    """--tools, --mcp, --allow-tools and --max-tool-calls (and, with ``sources``, the
    --file and --collection the built-in file and knowledge tools read)."""
    parser.add_argument(
        "--tools",
        default="",
        metavar="NAMES",
        help=f"built-in tools the model may call, comma-separated: {','.join(BUILTIN_NAMES)}",
    )
    parser.add_argument(
        "--mcp",
        type=Path,
        default=None,
        metavar="CONFIG",
        help='a JSON file of MCP servers whose tools the model may call: {"servers": '
        '[{"name": …, "command": …, "args": […]} or {"name": …, "url": …, "token": …}]}',
    )
    parser.add_argument(
        "--allow-tools",
        action="store_true",
        help="run every tool call without asking (otherwise built-in read-only tools run, "
        "others ask y/N at a terminal and are denied when standard input is not one)",
    )
    parser.add_argument(
        "--max-tool-calls",
        type=int,
        default=DEFAULT_MAX_STEPS,
        metavar="N",
        help=f"most tool calls in one reply, 0–{MAX_STEPS_LIMIT} (default {DEFAULT_MAX_STEPS})",
    )
    if sources:
        parser.add_argument(
            "--file",
            type=Path,
            action="append",
            default=[],
            metavar="PATH",
            help="a file the 'files' tool may read (repeatable)",
        )
        parser.add_argument(
            "--collection",
            action="append",
            default=[],
            metavar="NAME",
            help="a knowledge collection the 'knowledge' tool searches (repeatable)",
        )


def uses_tools(args: argparse.Namespace) -> bool:
    """Whether the command line asks for tools."""
    return bool(getattr(args, "tools", "") or getattr(args, "mcp", None))


def terminal_approver(
    allow_all: bool, stdin: IO[str] | None = None, stderr: IO[str] | None = None
) -> Approver:
    """Approval on the command line (see the module docstring)."""

    def approve(spec: ToolSpec, call: ToolCall) -> bool:
        err = stderr or sys.stderr
        inp = stdin or sys.stdin
        if allow_all or read_only_builtins(spec, call):
            return True
        if inp is None or not inp.isatty():
            print(
                f"[tool] {spec.name} ({spec.source}) denied: standard input is not a terminal "
                "(give --allow-tools to allow tool calls)",
                file=err,
                flush=True,
            )
            return False
        print(
            f"Allow the tool {spec.name} ({spec.source}) with {call.arguments}? [y/N] ",
            end="",
            file=err,
            flush=True,
        )
        return inp.readline().strip().lower() in ("y", "yes")

    return approve


def run_with_tools(
    args: argparse.Namespace,
    engine: Engine,
    loaded: ModelLoaded,
    messages: Sequence[Message],
    params: SamplingParams,
    *,
    kb: Any = None,
    out: IO[str] | None = None,
    err: IO[str] | None = None,
    approve: Approver | None = None,
    tool_choice: str = "auto",
) -> ToolReply:
    """Answer ``messages`` with the tools the command line names, streaming the reply;
    ``tool_choice`` as in ``ToolLoop.run`` (a tool's name: that call comes first)."""
    from desktop_app.core.models.templates import supports_tools
    from desktop_app.core.tools.mcp_client import McpConnection, connect_all, load_config

    stdout = out or sys.stdout
    stderr = err or sys.stderr
    if not 0 <= args.max_tool_calls <= MAX_STEPS_LIMIT:
        raise InvalidRequestError(f"--max-tool-calls must be between 0 and {MAX_STEPS_LIMIT}.")
    names = [n for n in str(args.tools or "").split(",") if n.strip()]
    tools: list[Tool] = builtin_tools(
        names,
        kb=kb,
        collections=getattr(args, "collection", None) or (),
        files=getattr(args, "file", None) or (),
    )
    connections: list[McpConnection] = []
    try:
        if args.mcp is not None:
            connections, errors = connect_all(load_config(args.mcp))
            for message in errors:
                print(f"[tool] {message}", file=stderr, flush=True)
            for conn in connections:
                tools.extend(conn.tools())
        loop = ToolLoop(
            engine,
            tools,
            template_has_tools=supports_tools(loaded.chat_template),
            max_steps=args.max_tool_calls,
            approve=approve or terminal_approver(args.allow_tools),
            on_token=_token_printer(args.json, stdout),
            on_step=_step_printer(args.json, stdout, stderr),
            candidates=getattr(args, "candidates", 10),
        )
        reply = loop.run(messages, params, tool_choice)
    finally:
        for conn in connections:
            conn.close()
    note = reply.done.note if reply.done is not None else ""
    if note:
        # A remote server that did not take the tools: they went into the prompt.
        print(f"[tool] {note}", file=stderr, flush=True)
    if args.json:
        done: dict[str, Any] = {"type": "done", "finish_reason": reply.finish, "text": reply.text}
        done["tool_calls"] = len(reply.steps)
        print(json.dumps(done, ensure_ascii=False), file=stdout, flush=True)
    else:
        stdout.write("\n")
        calls = f", {len(reply.steps)} tool call{'s' * (len(reply.steps) != 1)}"
        print(f"[{reply.finish}{calls}]", file=stderr, flush=True)
    return reply


def _token_printer(as_json: bool, out: IO[str]) -> Callable[[int, Phase, TokenEvent], None]:
    def on_token(step: int, phase: Phase, event: TokenEvent) -> None:
        if as_json:
            line = event.to_json()
            line.update(step=step, phase=phase)
            print(json.dumps(line, ensure_ascii=False), file=out, flush=True)
        elif phase == "reply":
            out.write(event.text)
            out.flush()

    return on_token


def _step_printer(as_json: bool, out: IO[str], err: IO[str]) -> Callable[[ToolStep], None]:
    def on_step(step: ToolStep) -> None:
        if as_json:
            line = {
                "type": "tool_call",
                "name": step.call.name,
                "arguments": json.loads(step.call.arguments),
                "status": step.status,
                "result": step.result.text,
            }
            print(json.dumps(line, ensure_ascii=False), file=out, flush=True)
            return
        first = step.result.text.splitlines()[0] if step.result.text else ""
        print(
            f"[tool] {step.call.name} {step.call.arguments} → {step.status}: {first[:200]}",
            file=err,
            flush=True,
        )

    return on_step
