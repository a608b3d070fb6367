"""``glassbox serve``: the loaded model as an OpenAI-compatible API, without a window."""

from __future__ import annotations

import argparse
import threading
from typing import Any

from desktop_app.cli.generate import add_adapter_arguments, add_model_arguments, engine_config


def register(sub: Any) -> None:
    """Add the ``serve`` subcommand."""
    p = sub.add_parser(
        "serve",
        help="serve the model as an OpenAI-compatible API (/v1/models, /v1/chat/completions, "
        "/v1/knowledge/answer) until Ctrl+C",
    )
    add_model_arguments(p)
    add_adapter_arguments(p)
    p.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (loopback unless --allow-remote)"
    )
    p.add_argument("--port", type=int, default=8765, help="port to listen on (0: pick a free one)")
    p.add_argument(
        "--token", default=None, metavar="TOKEN", help="require 'Authorization: Bearer TOKEN'"
    )
    p.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a non-loopback --host: other computers can then use the model",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted; prints the base URL once the model is loaded."""
    from desktop_app.workers.api.server import ApiServer, check_host

    check_host(args.host, args.allow_remote)
    server = ApiServer(
        engine_config(args),
        host=args.host,
        port=args.port,
        token=args.token,
        allow_remote=args.allow_remote,
    )
    loaded = server.start()
    try:
        print(f"Serving {server.model_id} at {server.url}", flush=True)
        print(f"[{loaded.backend}, context {loaded.n_ctx}; Ctrl+C stops]", flush=True)
        threading.Event().wait()
    except KeyboardInterrupt:
        print("stopped", flush=True)
    finally:
        server.stop()
    return 0
