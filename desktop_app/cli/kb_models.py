"""``glassbox kb models``, ``kb create`` and ``kb reembed``: the embedding model of each
collection, chosen when it is made and changed by re-embedding its stored chunks."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from desktop_app.core.errors import InvalidRequestError
from desktop_app.core.kb.embed import embedder_choices
from desktop_app.core.kb.knowledge_base import KnowledgeBase
from desktop_app.core.kb.location import describe
from desktop_app.core.kb.reembed import ReembedProgress

EMBEDDER_HELP = (
    "the embedding model: a name from `glassbox kb models` or a local sentence-transformers folder"
)


def register(kb_sub: Any) -> None:
    """Add ``models``, ``create`` and ``reembed`` to ``glassbox kb``."""
    p = kb_sub.add_parser("models", help="the embedding models a collection can use")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run_models)

    p = kb_sub.add_parser("create", help="create an empty collection for an embedding model")
    p.add_argument("name")
    p.add_argument(
        "--embedder", default=None, metavar="NAME", help=EMBEDDER_HELP + " (default: the default)"
    )
    p.add_argument(
        "--chroma-url", default=None, metavar="URL", help="keep its vectors on this Chroma server"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run_create)

    p = kb_sub.add_parser(
        "reembed",
        help="embed a collection's stored chunks again with another model (no file is parsed)",
    )
    p.add_argument("name")
    p.add_argument("--embedder", required=True, metavar="NAME", help=EMBEDDER_HELP)
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run_reembed)


def _open() -> KnowledgeBase:
    return KnowledgeBase()


def _print(args: argparse.Namespace, payload: object, text: str) -> None:
    print(json.dumps(payload, ensure_ascii=False) if args.json else text, flush=True)


def run_models(args: argparse.Namespace) -> int:
    """List the embedding models, with whether each is installed."""
    rows = [
        {
            "name": c.name,
            "label": c.label,
            "languages": c.languages,
            "dim": c.dim,
            "installed": c.installed(),
            "summary": c.summary,
            "licence": c.licence,
            "install_hint": c.install_hint,
        }
        for c in embedder_choices()
    ]
    lines = []
    for i, r in enumerate(rows):
        default = " (default)" if i == 0 else ""
        installed = "yes" if r["installed"] else "no"
        lines.append(f"{r['name']}{default}: installed {installed}; {r['languages']}")
        lines.append(f"  {r['summary']}")
        if not r["installed"]:
            lines.append(f"  {r['install_hint']}")
    _print(args, {"models": rows}, "\n".join(lines))
    return 0


def run_create(args: argparse.Namespace) -> int:
    """Create an empty collection for an embedding model."""
    with _open() as kb:
        coll = kb.create_collection(args.name, args.chroma_url, embed_model=args.embedder)
        where = describe(coll.chroma_url)
    _print(
        args,
        {"name": coll.name, "embed_model": coll.embed_model, "dim": coll.dim, "chroma": where},
        f"Created {coll.name} ({coll.embed_model}, {coll.dim}-d vectors, {where}).",
    )
    return 0


def _progress_printer(quiet: bool) -> Any:
    def progress(p: ReembedProgress) -> None:
        if quiet:
            return
        eta = "--:--" if p.eta_s is None else f"{int(p.eta_s) // 60:02d}:{int(p.eta_s) % 60:02d}"
        print(
            f"chunks {p.done}/{p.total}, {p.rate_chunks_s:.1f} chunks/s, ETA {eta}",
            file=sys.stderr,
            flush=True,
        )

    return progress


def run_reembed(args: argparse.Namespace) -> int:
    """Re-embed a collection with another model, printing progress to stderr."""
    with _open() as kb:
        old = kb.registry.collection(args.name)
        try:
            report = kb.reembed(args.name, args.embedder, progress=_progress_printer(args.quiet))
        except KeyboardInterrupt:
            raise InvalidRequestError(
                f"Re-embedding was stopped: {old.name} still uses {old.embed_model} and its "
                "old vectors. Run the command again to start over."
            ) from None
    if report.unchanged:
        text = f"{report.collection} already uses {report.new_model}: nothing to do."
    else:
        text = (
            f"{report.collection}: {report.chunks} chunks embedded again with "
            f"{report.new_model} ({report.dim}-d) in {report.seconds:.1f} s "
            f"(was {report.old_model})."
        )
    _print(args, report.as_dict(), text)
    return 0
