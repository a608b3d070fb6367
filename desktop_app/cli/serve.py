"""``glassbox serve``: the loaded model as an OpenAI-compatible API, without a window."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
from pathlib import Path
from typing import Any

from desktop_app.cli.generate import (
    add_adapter_arguments,
    add_draft_arguments,
    add_model_arguments,
    check_draft_loaded,
    draft_settings,
    engine_config,
)
from desktop_app.cli.sampler_args import add_sampler_arguments, sampler_values
from desktop_app.core.sampling import SamplingParams, llama_server_fields


def register(sub: Any) -> None:
    """Add the ``serve`` subcommand."""
    p = sub.add_parser(
        "serve",
        help="serve the model as an OpenAI-compatible API (/v1/models, /v1/chat/completions, "
        "/v1/knowledge/answer) until Ctrl+C",
    )
    add_model_arguments(p)
    add_adapter_arguments(p)
    add_draft_arguments(p)
    add_sampler_arguments(p)
    p.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (loopback unless --allow-remote)"
    )
    p.add_argument("--port", type=int, default=8765, help="port to listen on (0: pick a free one)")
    p.add_argument(
        "--token-file",
        type=Path,
        default=None,
        metavar="FILE",
        help="the token clients must send ('Authorization: Bearer TOKEN'), on the file's first "
        "line; default: $GLASSBOX_API_TOKEN, else one generated once and kept in the data folder",
    )
    p.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a non-loopback --host: other computers can then use the model",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted; prints the base URL once the model is loaded."""
    from desktop_app.core.api.secrets import TOKEN_ENV, api_token, secret_from, token_path
    from desktop_app.core.memory import limit_arenas
    from desktop_app.workers.api.server import ApiServer, check_host

    limit_arenas()  # a thread per connection: arenas would keep what each one freed

    check_host(args.host, args.allow_remote)
    token = api_token(secret_from(TOKEN_ENV, args.token_file))
    if args.token_file is not None:
        where = str(args.token_file)
    elif secret_from(TOKEN_ENV):
        where = f"${TOKEN_ENV}"
    else:
        where = str(token_path())
    server = ApiServer(
        engine_config(args),
        host=args.host,
        port=args.port,
        token=token,
        allow_remote=args.allow_remote,
        draft=draft_settings(args),
        # The newer samplers' flags become defaults for requests that do not set them.
        sampling=llama_server_fields(SamplingParams(**sampler_values(args))),
    )
    loaded = server.start()
    interrupted = False
    try:
        check_draft_loaded(loaded)
        print(f"Serving {server.model_id} at {server.url}", flush=True)
        print(f"Clients send 'Authorization: Bearer <token>'; the token is in {where}", flush=True)
        print(f"[{loaded.backend}, context {loaded.n_ctx}; Ctrl+C stops]", flush=True)
        threading.Event().wait()
    except KeyboardInterrupt:
        interrupted = True
        print("stopped", flush=True)
    finally:
        # Ctrl+C always ends the process: if stopping hangs, it ends with status 1;
        # once stopped cleanly, a leftover thread cannot hold the interpreter's exit.
        watchdog = (
            _end_after(STOP_TIMEOUT_S, 1, "Stopping took too long; ending anyway.")
            if interrupted
            else None
        )
        server.stop()
        if watchdog is not None:
            watchdog.cancel()
            _end_after(EXIT_GRACE_S, 0, "A thread was still running after the stop; ending.")
    return 0


#: Seconds Ctrl+C may take to stop the server (requests cancelled, the engine ended).
STOP_TIMEOUT_S = 45.0
#: Seconds the interpreter may take to exit after a clean stop.
EXIT_GRACE_S = 10.0


def _end_after(seconds: float, status: int, message: str) -> threading.Timer:
    """A daemon timer that ends the process with ``status`` after ``seconds``."""

    def end() -> None:
        print(message, file=sys.stderr, flush=True)
        logging.shutdown()
        os._exit(status)

    timer = threading.Timer(seconds, end)
    timer.daemon = True
    timer.start()
    return timer
