"""The ``glassbox`` command line: gui (default), generate, models, bench.

Each subcommand lives in its own module with ``register(subparsers)``; the module
sets ``func`` on its parser. Errors the core raises on purpose are printed as one
line (or one JSON object with ``--json``) and exit with status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

from desktop_app import __version__
from desktop_app.core.errors import GlassboxError

EXIT_ERROR = 2


def build_parser() -> argparse.ArgumentParser:
    """The whole command-line grammar."""
    from desktop_app.cli import (
        backup,
        bench,
        chat_import,
        doctor,
        generate,
        gui,
        kb,
        models,
        serve,
        task,
    )

    parser = argparse.ArgumentParser(
        prog="glassbox",
        description="Glassbox: an offline assistant that shows the probability of every token.",
    )
    parser.add_argument("--version", action="version", version=f"glassbox {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in (gui, generate, models, bench, kb, task, serve, doctor, backup, chat_import):
        module.register(sub)
    return parser


def print_error(error: GlassboxError | str, as_json: bool, kind: str = "error") -> None:
    """Print an error the way the command line promises: one line or one JSON object."""
    message = str(error)
    if isinstance(error, GlassboxError):
        kind = error.kind
    if as_json:
        print(json.dumps({"type": "error", "kind": kind, "message": message}), flush=True)
    else:
        print(f"glassbox: {message}", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``glassbox`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["gui", *(argv or [])])
    as_json = bool(getattr(args, "json", False))
    try:
        return int(args.func(args) or 0)
    except GlassboxError as exc:
        print_error(exc, as_json)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print_error("interrupted", as_json, kind="interrupted")
        return 130
    except BrokenPipeError:
        # The reader went away (`glassbox search … | head`): nothing more to say, and
        # Python's own flush at exit must not fail on the closed pipe either.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return 141
    except OSError as exc:
        # A path that cannot be read or written, a full disk: say which and why.
        print_error(f"{exc.strerror or exc}: {exc.filename or ''}".strip(": "), as_json, "os")
        return EXIT_ERROR
