"""Knowledge-base commands: ingest, search, ask, kb list|stats|remove|delete|trash|restore|
rebuild|rename|check|watch|unwatch|sync|move, and eval retrieval.

``kb delete NAME`` moves a collection to the trash, as the window does: ``kb trash``
lists it for 7 days and ``kb restore NAME`` brings it back whole; ``kb delete NAME
--purge`` deletes it (from the collections or from the trash) for good, after a
confirmation at a terminal or with ``--yes``.

Output promises: ``search --json`` prints one object ``{"query", "hits": [...]}``,
``ask --json`` prints ``{"answer", "citations": [...]}``, ``eval retrieval --json``
prints ``{"k", "questions", "hit_at_k", "mrr", "buckets", "per_question"}`` (and
``"splits"`` when the file has both, ``"unanswered"`` when it has questions of the
bucket ``"none"``). Outputs about one collection
carry ``"chroma"``: where its vectors live (a server URL, or ``"local"``). Errors
are one line (or one JSON object) and exit status 2, like every other command.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from desktop_app.cli import kb_models
from desktop_app.cli.crosslang import (
    add_eval_arguments,
    add_expand_argument,
    add_translate_argument,
    eval_model_steps,
    needs_translation,
    note_line,
    search_terms,
    search_translation,
)
from desktop_app.cli.generate import add_model_arguments, engine_config
from desktop_app.cli.thinking_print import (
    add_thinking_arguments,
    thinking_lines,
    thinking_payload,
    thinking_value,
)
from desktop_app.cli.tools import add_tool_arguments, uses_tools
from desktop_app.core.errors import InvalidRequestError
from desktop_app.core.kb.db import TRASH_KEEP_S, Filters, TrashedCollection
from desktop_app.core.kb.errors import CollectionNotFoundError
from desktop_app.core.kb.ingest import IngestProgress, IngestReport
from desktop_app.core.kb.knowledge_base import KnowledgeBase
from desktop_app.core.kb.language import describe as describe_languages
from desktop_app.core.kb.location import describe
from desktop_app.core.kb.parsers import ParseLimits
from desktop_app.core.kb.retrieve import Hit


def _add_store_arguments(p: argparse.ArgumentParser, collection: bool = True) -> None:
    if collection:
        p.add_argument("--collection", "-c", required=True, help="the collection's name")
    p.add_argument(
        "--embedder",
        "--embed-model",
        dest="embed_model",
        metavar="NAME",
        default=None,
        help="embedding model of a new collection: a name from `glassbox kb models` or a "
        "local sentence-transformers folder (default: the first of `kb models`); an "
        "existing collection uses its own (`kb reembed` changes it)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")


def _add_search_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--k", type=int, default=5, help="passages to return (1–100)")
    p.add_argument("--type", action="append", default=[], help="only this file type (repeatable)")
    p.add_argument("--folder", default=None, help="only documents under this folder")
    p.add_argument(
        "--min-similarity", type=float, default=None, help="drop vector matches below (0–1)"
    )
    p.add_argument(
        "--after", default=None, metavar="YYYY-MM-DD", help="only files modified on or after"
    )
    p.add_argument(
        "--before", default=None, metavar="YYYY-MM-DD", help="only files modified before"
    )


def _add_chroma_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--chroma-url",
        default=None,
        metavar="URL",
        help="create the collection on this Chroma server (http://host:port, started with "
        "`chroma run`) instead of the local data folder; documents and chunks stay local",
    )


def register(sub: Any) -> None:
    """Add ingest, search, ask, kb and eval."""
    p = sub.add_parser("ingest", help="add files and folders to a knowledge-base collection")
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    _add_store_arguments(p)
    p.add_argument(
        "--keep-missing",
        action="store_true",
        help="keep documents whose files were deleted from the folders given",
    )
    p.add_argument("--timeout", type=float, default=120.0, help="seconds allowed per file")
    p.add_argument("--memory-mb", type=int, default=2048, help="parser memory limit (MiB)")
    p.add_argument("--max-file-mb", type=int, default=200, help="largest file accepted (MiB)")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.add_argument(
        "--list-skipped",
        action="store_true",
        help="list each file passed over (of a type Glassbox does not read, or hidden)",
    )
    _add_chroma_argument(p)
    p.set_defaults(func=run_ingest)

    p = sub.add_parser("search", help="hybrid search of a collection (vector + keyword)")
    p.add_argument("query")
    _add_store_arguments(p)
    _add_search_arguments(p)
    p.add_argument(
        "--explain",
        action="store_true",
        help="a test query: ranks and scores of each side, keyword terms used and left out",
    )
    add_translate_argument(p)
    add_expand_argument(p)
    add_model_arguments(p)
    p.set_defaults(func=run_search)

    p = sub.add_parser("ask", help="answer a question from a collection, with citations")
    p.add_argument("question")
    _add_store_arguments(p)
    _add_search_arguments(p)
    add_model_arguments(p)
    p.add_argument(
        "--allow-outside-knowledge",
        action="store_true",
        help="let the model answer beyond the documents (it says when it does)",
    )
    p.add_argument("--max-tokens", type=int, default=512, help="longest answer (tokens)")
    p.add_argument("--seed", type=int, default=0, help="sampling seed (temperature is 0)")
    p.add_argument(
        "--multi-query",
        type=int,
        default=0,
        metavar="N",
        help="let the model write N other phrasings; all are searched and fused (0–5)",
    )
    p.add_argument(
        "--rerank",
        default=None,
        metavar="model|PATH",
        help="rerank the passages: 'model' (the loaded model's yes/no probabilities) or a "
        "local cross-encoder folder",
    )
    add_translate_argument(p)
    add_expand_argument(p)
    add_cad_argument(p)
    add_thinking_arguments(p)
    p.add_argument(
        "--whole-documents",
        action="store_true",
        help="give the model the collection's documents whole instead of passages, when "
        "they fit the context with room for the answer (refused with the counts otherwise)",
    )
    add_tool_arguments(p, sources=False)
    p.set_defaults(func=run_ask)

    kb = sub.add_parser(
        "kb", help="knowledge-base collections: list, stats, remove, delete, trash, rebuild"
    )
    kb_sub = kb.add_subparsers(dest="kb_command", metavar="ACTION", required=True)
    p = kb_sub.add_parser("list", help="collections with their counts")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run_list)
    p = kb_sub.add_parser("stats", help="documents, chunks, vectors and failures of a collection")
    p.add_argument("name")
    _add_store_arguments(p, collection=False)
    p.set_defaults(func=run_stats)
    p = kb_sub.add_parser(
        "remove",
        help="remove documents (PATH…) or, with no path, move the collection to the trash",
    )
    p.add_argument("name")
    p.add_argument("paths", nargs="*", type=Path, metavar="PATH")
    _add_store_arguments(p, collection=False)
    p.set_defaults(func=run_remove)
    p = kb_sub.add_parser(
        "delete",
        help="move a collection to the trash (kept 7 days; `kb restore` brings it back)",
    )
    p.add_argument("name")
    p.add_argument(
        "--purge",
        action="store_true",
        help="delete it for good instead, with its documents and vectors (also one in the "
        "trash); asks for confirmation",
    )
    p.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run_delete, parser=p)
    p = kb_sub.add_parser("trash", help="the deleted collections, kept 7 days")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run_trash)
    p = kb_sub.add_parser("restore", help="take a deleted collection out of the trash")
    p.add_argument("name")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run_restore)
    p = kb_sub.add_parser("rebuild", help="rebuild the vector index of a collection from SQLite")
    p.add_argument("name")
    _add_store_arguments(p, collection=False)
    p.set_defaults(func=run_rebuild)
    p = kb_sub.add_parser("check", help="compare the vector index with SQLite and repair it")
    p.add_argument("name")
    _add_store_arguments(p, collection=False)
    p.set_defaults(func=run_check)
    p = kb_sub.add_parser("watch", help="watch a folder: its changes are indexed by `kb sync`")
    p.add_argument("folder", type=Path, metavar="FOLDER")
    _add_store_arguments(p)
    p.add_argument(
        "--follow",
        action="store_true",
        help="keep running: sync whenever the watched folders change (Ctrl-C stops)",
    )
    p.add_argument("--interval", type=float, default=3.0, help="seconds between scans (--follow)")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    _add_chroma_argument(p)
    p.set_defaults(func=run_watch)
    p = kb_sub.add_parser("unwatch", help="stop watching a folder (its documents stay)")
    p.add_argument("folder", type=Path, metavar="FOLDER")
    _add_store_arguments(p)
    p.add_argument("--remove-documents", action="store_true", help="remove its documents too")
    p.set_defaults(func=run_unwatch)
    p = kb_sub.add_parser(
        "sync", help="index what changed in the watched folders (changed, new, deleted files)"
    )
    _add_store_arguments(p)
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.set_defaults(func=run_sync)
    p = kb_sub.add_parser(
        "move", help="move a collection's vectors to a Chroma server or back to this computer"
    )
    p.add_argument("name")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--chroma-url", default=None, metavar="URL", help="a Chroma server")
    where.add_argument("--local", action="store_true", help="the local data folder")
    _add_store_arguments(p, collection=False)
    p.set_defaults(func=run_move)
    p = kb_sub.add_parser("rename", help="rename a collection")
    p.add_argument("name")
    p.add_argument("new_name")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run_rename)
    kb_models.register(kb_sub)

    ev = sub.add_parser("eval", help="quality measurements")
    ev_sub = ev.add_subparsers(dest="eval_command", metavar="WHAT", required=True)
    p = ev_sub.add_parser("retrieval", help="hit@k and MRR of a question file on a collection")
    p.add_argument("--questions", type=Path, required=True, help="a JSON Lines question file")
    p.add_argument("--k", type=int, default=5, help="passages per question")
    p.add_argument(
        "--split",
        choices=("dev", "held", "all"),
        default="all",
        help="only the questions of this split (default: all, reported per split too)",
    )
    add_eval_arguments(p)
    add_model_arguments(p)
    p.add_argument(
        "--indexes",
        default=None,
        metavar="NAMES",
        help="for measuring: search only these keyword indexes, comma-separated, of "
        "trigram, bigram and words (default: all three, as search and ask do)",
    )
    _add_store_arguments(p)
    p.set_defaults(func=run_eval)
    from desktop_app.cli.eval_tools import register as register_tools
    from desktop_app.cli.evaluate import register_eval

    register_eval(ev_sub)
    register_tools(ev_sub)


def _open(args: argparse.Namespace) -> KnowledgeBase:
    return KnowledgeBase(embed_model=getattr(args, "embed_model", None))


def _print(args: argparse.Namespace, payload: object, text: str) -> None:
    if args.json:
        print(json.dumps(payload, ensure_ascii=False), flush=True)
    else:
        print(text, flush=True)


def _day(text: str | None, option: str) -> float | None:
    """Local midnight starting the day ``YYYY-MM-DD``, as Unix seconds."""
    if text is None:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%d").timestamp()
    except ValueError:
        raise InvalidRequestError(f"{option} takes a date like 2024-05-31, not {text!r}.") from None


def _filters(args: argparse.Namespace) -> Filters | None:
    if not 1 <= args.k <= 100:
        raise InvalidRequestError(f"--k must be between 1 and 100, not {args.k}.")
    if args.min_similarity is not None and not -1.0 <= args.min_similarity <= 1.0:
        raise InvalidRequestError("--min-similarity is a cosine similarity between -1 and 1.")
    after = _day(args.after, "--after")
    before = _day(args.before, "--before")
    if after is not None and before is not None and after >= before:
        raise InvalidRequestError("--after must be a day before --before.")
    filters = Filters(types=tuple(args.type), folder=args.folder, after=after, before=before)
    return filters if filters.active else None


def _format_eta(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    seconds = int(seconds)
    return f"{seconds // 60:02d}:{seconds % 60:02d}"


def run_ingest(args: argparse.Namespace) -> int:
    """Ingest files and folders, printing progress to stderr."""
    from desktop_app.workers.kb.parser import SandboxedParser

    limits = ParseLimits(
        timeout_s=args.timeout,
        memory_bytes=args.memory_mb * 1024 * 1024,
        max_file_bytes=args.max_file_mb * 1024 * 1024,
    )
    progress = _progress_printer(args.quiet)
    with (
        _open(args) as kb,
        SandboxedParser(limits, kb.chunk_config_for(args.collection, args.embed_model)) as parser,
    ):
        report = kb.ingest(
            args.paths,
            args.collection,
            parser,
            progress=progress,
            remove_missing=not args.keep_missing,
            chroma_url=args.chroma_url,
            embed_model=args.embed_model,
        )
        chroma = describe(kb.location(args.collection))
    _print(
        args,
        {**report.as_dict(), "chroma": chroma},
        _report_text(report) + skipped_text(report, list_all=args.list_skipped),
    )
    return 0


def _progress_printer(quiet: bool) -> Callable[[IngestProgress], None]:
    last = [0.0]

    def progress(p: IngestProgress) -> None:
        if quiet:
            return
        now = time.monotonic()
        done = p.files_done >= p.files_total
        if now - last[0] < 1.0 and not done:
            return
        last[0] = now
        print(
            f"files {p.files_done}/{p.files_total}, chunks {p.chunks_done}/{p.chunks_queued}, "
            f"{p.rate_chunks_s:.1f} chunks/s, ETA {_format_eta(p.eta_s)}, "
            f"failed {p.failed}, unchanged {p.skipped}",
            file=sys.stderr,
            flush=True,
        )

    return progress


def _report_text(report: IngestReport) -> str:
    failed = "".join(f"\n  failed: {p}: {r}" for p, r in report.failed)
    return (
        f"{report.collection}: {report.indexed} indexed, {report.resumed} resumed, "
        f"{report.skipped_unchanged} unchanged, {report.removed} removed, "
        f"{len(report.failed)} failed; {report.chunks_added} chunks in "
        f"{report.seconds:.1f} s{failed}"
    )


#: File types named in the one-line count of unsupported files; the rest are summed.
TYPES_SHOWN = 6


def skipped_text(report: IngestReport, *, list_all: bool = False) -> str:
    """Lines saying what was passed over without being read, each kind apart: files of
    a type Glassbox does not read (counted by extension), hidden files and folders,
    files over the size limit (always listed, with the limit). ``list_all`` lists
    every unsupported and hidden path too."""
    lines: list[str] = []
    by_type = report.unsupported_by_type()
    if by_type:
        shown = ", ".join(f"{n} {ext or '(no extension)'}" for ext, n in by_type[:TYPES_SHOWN])
        others = sum(n for _, n in by_type[TYPES_SHOWN:])
        if others:
            shown += f", {others} of {len(by_type) - TYPES_SHOWN} other types"
        count = len(report.unsupported)
        hint = "" if list_all else "; --list-skipped lists them"
        lines.append(
            f"skipped {count} {'file' if count == 1 else 'files'} of a type Glassbox does "
            f"not read: {shown}{hint}"
        )
        if list_all:
            lines += [f"  not read: {p}" for p in report.unsupported]
    if report.hidden:
        count = len(report.hidden)
        lines.append(
            f"skipped {count} hidden {'file or folder' if count == 1 else 'files and folders'} "
            "(names starting with a dot; files inside a hidden folder are not looked at)"
        )
        if list_all:
            lines += [f"  hidden: {p}" for p in report.hidden]
    if report.too_large:
        count = len(report.too_large)
        lines.append(
            f"skipped {count} {'file' if count == 1 else 'files'} over the size limit "
            "(--max-file-mb raises it):"
        )
        lines += [f"  too large: {p}: {r}" for p, r in report.too_large]
    return "".join(f"\n{line}" for line in lines)


def run_search(args: argparse.Namespace) -> int:
    """Print the best passages with their vector, keyword and fused scores."""
    filters = _filters(args)
    if args.explain:
        with _open(args) as kb, contextlib.ExitStack() as stack:
            cross = search_translation(args, kb, args.query, stack)
            terms = search_terms(args, args.query, stack)
            others = cross.alternatives
            explained = kb.explain(args.query, args.collection, args.k, filters=filters)
            if others or terms:
                # The hits of the question and its translation in one fusion, ranked
                # again by the terms.
                fused = kb.search(
                    args.query, args.collection, args.k, filters=filters,
                    alternatives=others, record=False, terms=terms,
                )  # fmt: skip
                explained = replace(explained, hits=tuple(fused))
            chroma = describe(kb.location(args.collection))
        lines = [
            f"keyword terms: {' '.join(explained.keyword_terms) or '-'}; left out (most common): "
            f"{' '.join(explained.keyword_left_out) or '-'}; weights vector "
            f"{explained.weights.vector}, keyword {explained.weights.keyword}",
            *(
                f"  {name}: {' '.join(kept) or '-'}; left out: {' '.join(left_out) or '-'}"
                for name, (kept, left_out) in explained.index_terms.items()
            ),
            "timings: " + ", ".join(f"{k} {v:.1f} ms" for k, v in explained.timings_ms.items()),
        ]
        for h in explained.hits:
            per_index = " ".join(
                f"{name} #{rank or '-'}"
                for name, rank in explained.index_ranks.get(h.chunk.chunk_id, {}).items()
            )
            lines.append(
                f"[{h.rank}] {h.chunk.path}  vector #{h.vector_rank or '-'} "
                f"{_score(h.vector)}, keyword #{h.keyword_rank or '-'} {_score(h.keyword)} "
                f"({per_index or 'no keyword index'}), "
                f"fused {h.fused:.5f}\n    " + h.chunk.text[:200].replace("\n", " ")
            )
        if cross.note:
            lines.insert(0, note_line(cross))
        if terms:
            lines.insert(0, f"terms: {terms}")
        _print(
            args,
            {
                **explained.as_dict(),
                "chroma": chroma,
                "translation": cross.as_dict(),
                "terms": terms or None,
            },
            "\n".join(lines),
        )
        return 0
    with _open(args) as kb, contextlib.ExitStack() as stack:
        cross = search_translation(args, kb, args.query, stack)
        terms = search_terms(args, args.query, stack)
        hits = kb.search(
            args.query, args.collection, args.k, filters=filters,
            min_similarity=args.min_similarity,
            alternatives=cross.alternatives, terms=terms,
        )  # fmt: skip
        chroma = describe(kb.location(args.collection))
    if cross.note and not args.json:
        print(note_line(cross), file=sys.stderr, flush=True)
    if terms and not args.json:
        print(f"terms: {terms}", file=sys.stderr, flush=True)
    lines = []
    for h in hits:
        s = h.as_dict()["scores"]
        lines.append(
            f"[{h.rank}] {h.chunk.path}  {s}\n    " + h.chunk.text[:300].replace("\n", " ")
        )
    _print(
        args,
        {
            "query": args.query,
            "hits": [h.as_dict() for h in hits],
            "chroma": chroma,
            "translation": cross.as_dict(),
            "terms": terms or None,
        },
        "\n".join(lines) or "no passage found",
    )
    return 0


def _score(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def run_ask(args: argparse.Namespace) -> int:
    """Retrieve passages, then let the local model answer with citations.

    With ``--multi-query`` the model first writes other phrasings of the question;
    with ``--rerank`` a larger pool of passages is scored (by the model or a
    cross-encoder) and the best ``--k`` are kept: the window's grounding steps
    (``core.kb.grounding``), run here on one thread.
    """
    from desktop_app.core.kb.answer import answer
    from desktop_app.core.kb.grounding import MAX_PHRASINGS, GroundingOptions, ground
    from desktop_app.core.kb.rerank import CrossEncoderReranker
    from desktop_app.core.sampling import SamplingParams
    from desktop_app.workers.engine.client import EngineClient

    if uses_tools(args):
        return _ask_with_tools(args)
    if not 0 <= args.multi_query <= MAX_PHRASINGS:
        raise InvalidRequestError(
            f"--multi-query must be between 0 and {MAX_PHRASINGS}, not {args.multi_query}."
        )
    cross = None
    if args.rerank not in (None, "model"):
        cross = CrossEncoderReranker(Path(args.rerank))
    options = GroundingOptions(
        collections=(args.collection,),
        k=args.k,
        min_similarity=args.min_similarity,
        filters=_filters(args),
        multi_query=args.multi_query,
        rerank=args.rerank is not None,
        translate=not args.no_translate,
        expand=args.expand,
    )
    params = SamplingParams(temperature=0.0, max_tokens=args.max_tokens, seed=args.seed)
    only = not args.allow_outside_knowledge
    needs_model_first = args.multi_query > 0 or args.expand or args.rerank == "model"
    if args.whole_documents:
        return _ask_whole(args, params, only)
    with _open(args) as kb:
        kb.collection(args.collection)  # a missing collection fails before the model loads
        # A question in another language than the documents' is first translated.
        needs_model_first = needs_model_first or needs_translation(args, kb, args.question)
        chroma = describe(kb.location(args.collection))
        if not needs_model_first:
            grounded = ground(kb, None, args.question, options, reranker=cross)
            if not grounded.hits and only:
                result = answer(_NoEngine(), args.question, [], only_from_documents=True)
            else:
                with EngineClient() as client:
                    loaded = client.load(engine_config(args))
                    result = answer(
                        client, args.question, grounded.hits, only_from_documents=only,
                        chat_template=loaded.has_chat_template, params=params, cad=args.cad,
                        thinking=thinking_value(args),
                    )  # fmt: skip
        else:
            with EngineClient() as client:
                loaded = client.load(engine_config(args))
                chat = loaded.has_chat_template
                grounded = ground(
                    kb, client, args.question, options, chat_template=chat, reranker=cross
                )
                result = answer(
                    client, args.question, grounded.hits, only_from_documents=only,
                    chat_template=chat, params=params, cad=args.cad,
                    thinking=thinking_value(args),
                )  # fmt: skip
                if grounded.phrasings and not args.json:
                    print("phrasings: " + " | ".join(grounded.phrasings), file=sys.stderr)
                if grounded.terms and not args.json:
                    print(f"terms: {grounded.terms}", file=sys.stderr)
                if grounded.cross.note and not args.json:
                    print(note_line(grounded.cross), file=sys.stderr)
    sources = "\n".join(
        f"[{c.n}]{'*' if c.cited else ' '} {c.source}: {c.text[:160].replace(chr(10), ' ')}"
        for c in result.citations
    )
    _print(
        args,
        {
            **thinking_payload(args, result.as_dict()),
            "chroma": chroma,
            "translation": grounded.cross.as_dict(),
            "phrasings": grounded.phrasings,
            "terms": grounded.terms or None,
            "cad": args.cad,
        },
        thinking_lines(args, result.reasoning)
        + f"{result.text}\n\n{sources}{unsupported_lines(result)}".rstrip(),
    )
    return 0


def _ask_with_tools(args: argparse.Namespace) -> int:
    """``ask --tools``: the collection is searched as a tool, the model writing the query
    (and calling the other tools named as it decides); the passages it read are listed
    as the sources."""
    from desktop_app.cli.tools import run_with_tools
    from desktop_app.core.engine.protocol import Message
    from desktop_app.core.sampling import SamplingParams
    from desktop_app.workers.engine.client import EngineClient

    names = ["knowledge", *(n.strip() for n in str(args.tools or "").split(",") if n.strip())]
    tool_args = argparse.Namespace(**vars(args))
    tool_args.tools = ",".join(dict.fromkeys(names))
    tool_args.collection = [args.collection]
    tool_args.file = []
    tool_args.candidates = 10
    params = SamplingParams(temperature=0.0, max_tokens=args.max_tokens, seed=args.seed)
    system = (
        "Answer the user's question. Search their documents with the search_knowledge "
        "tool first, and cite the passages you use as [n]."
    )
    question = [Message("system", system), Message("user", args.question)]
    with _open(args) as kb:
        kb.collection(args.collection)  # a missing collection fails before the model loads
        with EngineClient() as client:
            loaded = client.load(engine_config(args))
            # The question is always searched first; what comes next is the model's call.
            reply = run_with_tools(
                tool_args, client, loaded, question, params, kb=kb, tool_choice="search_knowledge"
            )
    if not args.json:
        for n, hit in enumerate(reply.sources, start=1):
            text = hit.chunk.text[:160].replace("\n", " ")
            print(f"[{n}] {hit.chunk.path}: {text}")
    return 0


def cad_alpha(text: str) -> float:
    """``--cad``'s value: a weight α between 0 and ``CONTRAST_ALPHA_MAX``."""
    from desktop_app.core.engine.protocol import CONTRAST_ALPHA_MAX

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= value <= CONTRAST_ALPHA_MAX:
        raise argparse.ArgumentTypeError(
            f"α must be between 0 and {CONTRAST_ALPHA_MAX:g} (0 only measures), not {text}"
        )
    return value


def add_cad_argument(p: argparse.ArgumentParser) -> None:
    """``--cad ALPHA``: context-aware decoding against the prompt without the documents."""
    p.add_argument(
        "--cad",
        type=cad_alpha,
        default=None,
        metavar="ALPHA",
        help="context-aware decoding: favour what the passages say, drawing from "
        "(1+ALPHA)·logits with them − ALPHA·logits without them (0.5–1 typical; 0 only measures)",
    )


def unsupported_lines(result: Any) -> str:
    """The text output's lines for the answer's unsupported sentences ("" when none)."""
    lines = []
    for c in result.sentences:
        if c.supported:
            continue
        keys = ", ".join(f"{k.token.strip()!r} {k.p:.2f}" for k in c.key_tokens)
        support = "" if c.support is None else f", support {c.support:.2f}"
        lines.append(f"unsupported ({c.reason}{support}{'; ' + keys if keys else ''}): {c.text}")
    return "\n\n" + "\n".join(lines) if lines else ""


def _ask_whole(args: argparse.Namespace, params: Any, only: bool) -> int:
    """``ask --whole-documents``: the collection's documents whole, counted with the
    model's tokenizer; refused with the counts when they do not fit."""
    from desktop_app.core.kb.answer import answer
    from desktop_app.core.kb.whole import require_fit, whole_documents
    from desktop_app.workers.engine.client import EngineClient

    with _open(args) as kb:
        kb.collection(args.collection)
        chroma = describe(kb.location(args.collection))
        with EngineClient() as client:
            loaded = client.load(engine_config(args))
            docs, fits = whole_documents(
                kb, [args.collection], args.question, loaded.n_ctx, args.max_tokens,
                _filters(args), count=client.count_tokens,
            )  # fmt: skip
            require_fit(fits)
            result = answer(
                client, args.question, docs, only_from_documents=only,
                chat_template=loaded.has_chat_template, params=params, whole=True,
                cad=args.cad, thinking=thinking_value(args),
            )  # fmt: skip
    sources = "\n".join(f"[{c.n}]{'*' if c.cited else ' '} {c.source}" for c in result.citations)
    _print(
        args,
        {**thinking_payload(args, result.as_dict()), "chroma": chroma, "fit": fits.as_dict()},
        thinking_lines(args, result.reasoning)
        + f"{result.text}\n\n(whole documents, about {fits.tokens:,} tokens)\n{sources}"
        f"{unsupported_lines(result)}".rstrip(),
    )
    return 0


class _NoEngine:
    """Stands in when no model is needed (nothing was retrieved)."""

    def generate(self, request: Any) -> Any:
        raise AssertionError("not called without sources")


def run_list(args: argparse.Namespace) -> int:
    """Collections with their counts."""
    with KnowledgeBase() as kb:
        rows = []
        languages: list[dict[str, int]] = []
        for coll in kb.collections():
            counts = kb.registry.counts(coll)
            languages.append(kb.registry.languages(coll))
            rows.append(
                {
                    "name": coll.name,
                    "embed_model": coll.embed_model,
                    "documents": counts["documents"],
                    "failed": counts["failed"],
                    "pending": counts["pending"],
                    "chunks": counts["chunks"],
                    "chroma": describe(coll.chroma_url),
                    "languages": languages[-1],
                }
            )
    text = "\n".join(
        f"{r['name']}: {r['documents']} documents ({r['failed']} failed, {r['pending']} "
        f"pending), {r['chunks']} chunks, {r['embed_model']}, vectors: {r['chroma']}, "
        f"languages: {describe_languages(langs)}"
        for r, langs in zip(rows, languages, strict=True)
    )
    _print(args, {"collections": rows}, text or "no collection yet")
    return 0


def run_stats(args: argparse.Namespace) -> int:
    """Counts, sizes, duplicates and failures of a collection."""
    with _open(args) as kb:
        stats = kb.stats(args.name)
    d = stats.as_dict()
    failures = "".join(f"\n  failed: {p}: {r}" for p, r in stats.failures)
    _print(
        args,
        d,
        f"{stats.name} ({stats.embed_model}): {stats.documents} documents ({stats.indexed} "
        f"indexed, {stats.pending} pending, {stats.failed} failed), {stats.bytes:,} bytes, "
        f"{stats.chunks} chunks, {stats.vectors_in_chroma} vectors, "
        f"{stats.duplicate_chunks} duplicate chunks, vectors: {describe(stats.chroma_url)}, "
        f"languages: {describe_languages(stats.languages)}{failures}",
    )
    return 0


def run_remove(args: argparse.Namespace) -> int:
    """Remove documents, or a whole collection."""
    with _open(args) as kb:
        if args.paths:
            n = kb.remove(args.name, args.paths)
            _print(args, {"collection": args.name, "removed": n}, f"{n} documents removed")
        else:
            kb.trash_collection(args.name)
            _print(args, _trashed_payload(args.name), _trashed_text(args.name))
    return 0


def _trashed_payload(name: str) -> dict[str, object]:
    return {"collection": name, "deleted": False, "trashed": True, "keep_days": _KEEP_DAYS}


def _trashed_text(name: str) -> str:
    return (
        f"{name} moved to the trash; it is deleted for good after {_KEEP_DAYS} days. "
        f"Restore it with `glassbox kb restore {name}`."
    )


_KEEP_DAYS = round(TRASH_KEEP_S / 86400)


def _in_trash(kb: KnowledgeBase, name: str) -> TrashedCollection | None:
    """The most recently deleted collection of that name in the trash, or None."""
    return next((t for t in kb.trash() if t.name == name), None)


def run_delete(args: argparse.Namespace) -> int:
    """Move a collection to the trash, or with ``--purge`` delete it for good."""
    with _open(args) as kb:
        live = kb.registry.find_collection(args.name)
        if not args.purge:
            if live is None:
                raise CollectionNotFoundError(_not_found(kb, args.name))
            kb.trash_collection(args.name)
            _print(args, _trashed_payload(args.name), _trashed_text(args.name))
            return 0
        trashed = None if live is not None else _in_trash(kb, args.name)
        if live is None and trashed is None:
            raise CollectionNotFoundError(
                f"There is no collection named {args.name!r}, in use or in the trash: "
                "see `glassbox kb list` and `glassbox kb trash`."
            )
        where = "" if live is not None else " from the trash"
        if not args.yes:
            if sys.stdin is None or not sys.stdin.isatty():
                args.parser.error(
                    "--purge deletes the collection for good: confirm with --yes when not "
                    "asked at a terminal"
                )
            answer = input(
                f"Delete the collection {args.name!r}{where} for good, with its documents "
                "and vectors? This cannot be undone. [y/N] "
            )
            if answer.strip().lower() not in ("y", "yes"):
                print("Nothing was deleted.", flush=True)
                return 1
        if live is not None:
            kb.delete_collection(args.name)
        else:
            assert trashed is not None
            kb.purge_collection(trashed.collection.id)
    _print(
        args,
        {"collection": args.name, "deleted": True, "trashed": False},
        f"{args.name} deleted for good{where}.",
    )
    return 0


def _not_found(kb: KnowledgeBase, name: str) -> str:
    if _in_trash(kb, name) is not None:
        return (
            f"The collection {name!r} is already in the trash: `glassbox kb restore {name}` "
            f"brings it back, `glassbox kb delete {name} --purge` deletes it for good."
        )
    return f"There is no collection named {name!r}: see `glassbox kb list`."


def run_trash(args: argparse.Namespace) -> int:
    """The collections in the trash, most recently deleted first."""
    with _open(args) as kb:
        trash = kb.trash()
    now = time.time()
    rows = [
        {
            "name": t.name,
            "deleted_at": datetime.fromtimestamp(t.deleted_at).astimezone().isoformat(),
            "purged_at": datetime.fromtimestamp(t.deleted_at + TRASH_KEEP_S)
            .astimezone()
            .isoformat(),
            "embed_model": t.collection.embed_model,
        }
        for t in trash
    ]
    lines = []
    for t in trash:
        left = max(0.0, t.deleted_at + TRASH_KEEP_S - now)
        deleted = datetime.fromtimestamp(t.deleted_at).strftime("%Y-%m-%d %H:%M")
        lines.append(
            f"{t.name}: deleted {deleted}, deleted for good in {_days(left)} "
            f"(`glassbox kb restore {t.name}`)"
        )
    _print(args, {"trash": rows}, "\n".join(lines) or "the trash is empty")
    return 0


def _days(seconds: float) -> str:
    if seconds >= 86400:
        days = int(seconds // 86400)
        return f"{days} day{'s' if days != 1 else ''}"
    hours = int(seconds // 3600)
    return f"{hours} hour{'s' if hours != 1 else ''}" if hours else "less than an hour"


def run_restore(args: argparse.Namespace) -> int:
    """Take a collection out of the trash under its name."""
    with _open(args) as kb:
        trashed = _in_trash(kb, args.name)
        if trashed is None:
            raise CollectionNotFoundError(
                f"There is no collection named {args.name!r} in the trash: see "
                "`glassbox kb trash` (a collection is deleted for good after "
                f"{_KEEP_DAYS} days)."
            )
        kb.restore_collection(trashed.collection.id)
    _print(args, {"restored": args.name}, f"{args.name} restored from the trash.")
    return 0


def _sync_text(r: Any) -> str:
    return (
        f"{r.collection}: {r.sqlite_chunks} chunks in SQLite, Chroma {r.chroma_before} -> "
        f"{r.chroma_after} ({r.added} added, {r.removed_orphans} orphans removed, "
        f"{r.awaiting_embedding} awaiting embedding)"
    )


def _sync_dict(r: Any) -> dict[str, object]:
    return {
        "collection": r.collection,
        "sqlite_chunks": r.sqlite_chunks,
        "chroma_before": r.chroma_before,
        "chroma_after": r.chroma_after,
        "added": r.added,
        "removed_orphans": r.removed_orphans,
        "awaiting_embedding": r.awaiting_embedding,
        "consistent": r.consistent,
    }


def run_rebuild(args: argparse.Namespace) -> int:
    """Rebuild Chroma from the vectors in SQLite."""
    with _open(args) as kb:
        report = kb.rebuild(args.name)
        chroma = describe(kb.location(args.name))
    _print(args, {**_sync_dict(report), "chroma": chroma}, _sync_text(report) + f" on {chroma}")
    return 0


def run_check(args: argparse.Namespace) -> int:
    """Compare Chroma with SQLite id by id and repair."""
    with _open(args) as kb:
        report = kb.check(args.name)
        chroma = describe(kb.location(args.name))
    _print(args, {**_sync_dict(report), "chroma": chroma}, _sync_text(report) + f" on {chroma}")
    return 0


def run_move(args: argparse.Namespace) -> int:
    """Move a collection's vectors to a Chroma server, or back to the data folder."""
    with _open(args) as kb:
        report = kb.move(args.name, None if args.local else args.chroma_url)
        chroma = describe(kb.location(args.name))
    _print(
        args,
        {**_sync_dict(report), "chroma": chroma},
        f"{args.name}: vectors now on {chroma}\n" + _sync_text(report),
    )
    return 0


def run_watch(args: argparse.Namespace) -> int:
    """Watch a folder, index it now, and with ``--follow`` keep it indexed."""
    from desktop_app.workers.kb.parser import SandboxedParser
    from desktop_app.workers.kb.watch import FolderWatcher

    if args.interval <= 0:
        raise InvalidRequestError("--interval is a number of seconds above 0.")
    progress = _progress_printer(args.quiet)
    with _open(args) as kb, SandboxedParser(config=kb.chunk_config()) as parser:
        folder = kb.watch(args.collection, args.folder, chroma_url=args.chroma_url)
        report = kb.sync_watched(args.collection, parser, progress=progress)
        _print(
            args,
            {"watching": folder, **report.as_dict()},
            f"watching {folder}\n" + _report_text(report) + skipped_text(report),
        )
        if not args.follow:
            return 0
        changed = threading.Event()
        watcher = FolderWatcher(
            lambda: [Path(f) for f in kb.watched(args.collection)],
            lambda _changes: changed.set(),
            interval_s=args.interval,
            baseline=kb.folder_state(args.collection),
        )
        watcher.start()
        try:
            while True:
                # A timeout keeps Ctrl-C responsive while waiting.
                if not changed.wait(0.5):
                    continue
                changed.clear()
                report = kb.sync_watched(args.collection, parser, progress=progress)
                watcher.set_baseline(kb.folder_state(args.collection))
                _print(args, report.as_dict(), _report_text(report))
        except KeyboardInterrupt:
            return 0
        finally:
            watcher.stop()


def run_unwatch(args: argparse.Namespace) -> int:
    """Stop watching a folder."""
    with _open(args) as kb:
        known = kb.unwatch(args.collection, args.folder, remove_documents=args.remove_documents)
    folder = str(args.folder.expanduser().resolve())
    text = f"no longer watching {folder}" if known else f"{folder} was not watched"
    _print(args, {"unwatched": folder, "was_watched": known}, text)
    return 0


def run_sync(args: argparse.Namespace) -> int:
    """Index what changed in the watched folders of a collection."""
    from desktop_app.workers.kb.parser import SandboxedParser

    with _open(args) as kb:
        if not kb.watched(args.collection):
            raise InvalidRequestError(
                f"The collection {args.collection!r} watches no folder: "
                "add one with `glassbox kb watch FOLDER -c NAME`."
            )
        with SandboxedParser(config=kb.chunk_config()) as parser:
            report = kb.sync_watched(
                args.collection, parser, progress=_progress_printer(args.quiet)
            )
    _print(args, report.as_dict(), _report_text(report) + skipped_text(report))
    return 0


def run_rename(args: argparse.Namespace) -> int:
    """Rename a collection."""
    with KnowledgeBase() as kb:
        kb.rename(args.name, args.new_name)
    _print(args, {"renamed": args.name, "to": args.new_name}, f"{args.name} -> {args.new_name}")
    return 0


def _keyword_indexes(names: str | None) -> tuple[str, ...] | None:
    """The keyword indexes named by ``--indexes`` (None: all), checked."""
    if names is None:
        return None
    from desktop_app.core.kb.db import KEYWORD_INDEXES

    chosen = tuple(dict.fromkeys(n.strip().lower() for n in names.split(",") if n.strip()))
    unknown = [n for n in chosen if n not in KEYWORD_INDEXES]
    if unknown or not chosen:
        raise InvalidRequestError(
            f"--indexes takes one or more of {', '.join(KEYWORD_INDEXES)}, separated by "
            f"commas, not {names!r}."
        )
    return chosen


def run_eval(args: argparse.Namespace) -> int:
    """hit@k and MRR of a question file."""
    from desktop_app.core.kb.evaluate import evaluate, load_questions, select_split
    from desktop_app.core.kb.grounding import GroundingOptions, find_passages

    if not 1 <= args.k <= 100:
        raise InvalidRequestError(f"--k must be between 1 and 100, not {args.k}.")
    questions = select_split(load_questions(args.questions), args.split)
    indexes = _keyword_indexes(args.indexes)
    with _open(args) as kb, contextlib.ExitStack() as stack:
        coll = args.collection
        steps = eval_model_steps(args, kb, stack)
        if indexes is not None:
            kb.registry.keyword_indexes = indexes

        def search(question: str, k: int) -> list[Hit]:
            # The window's and ask's search step, without the model's steps.
            options = GroundingOptions(collections=(coll,), k=k)
            alternatives = steps.alternatives(question) if steps is not None else []
            terms = steps.terms(question) if steps is not None else ""
            return find_passages(kb, question, options, alternatives, record=False, terms=terms)

        result = evaluate(questions, search, args.k)
    payload = result.as_dict()
    if steps is not None:
        payload["model_steps"] = steps.as_dict()
    _print(args, payload, result.text() + (steps.text() if steps is not None else ""))
    return 0
