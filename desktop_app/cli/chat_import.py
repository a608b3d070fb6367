"""``glassbox import FILE``: chats from a Glassbox JSON export or a ChatGPT ``conversations.json``.

The chats land in the same database the window uses (``desktop_app/core/chat/importer.py``
does the work). A file that cannot be imported is refused with a sentence and
exit status 2, and nothing of it stays. Progress goes to stderr for big files,
so ``--json`` keeps stdout to one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from desktop_app.core.chat import importer

#: Files at least this big report their progress on stderr.
PROGRESS_BYTES = 5 * 1024 * 1024
#: At most one progress line this often (seconds).
PROGRESS_INTERVAL_S = 1.0


def register(subparsers: Any) -> None:
    """Add ``import`` to the top-level subparsers."""
    parser = subparsers.add_parser(
        "import",
        help="import chats from a Glassbox JSON export or a ChatGPT conversations.json",
        description="Import chats into Glassbox: a chat exported as JSON from Glassbox "
        "(every branch and token record comes back), or ChatGPT's conversations.json "
        "(or the export's .zip), whose regenerated replies and edited questions become "
        "branches. Each chat remembers where it came from. A malformed file is refused "
        f"and nothing of it is kept; files over {importer.MAX_FILE_BYTES // 2**20} MB "
        "are refused.",
    )
    parser.add_argument("file", type=Path, metavar="FILE", help="the file to import")
    parser.add_argument(
        "--format",
        choices=importer.FORMATS,
        default="auto",
        help="what the file is (default: auto, told apart by its content)",
    )
    parser.add_argument(
        "--json", action="store_true", help="machine-readable output: one JSON object on stdout"
    )
    parser.set_defaults(func=cmd_import)


class _Progress:
    """Prints a line on stderr now and then while a big file is imported."""

    def __init__(self, size: int) -> None:
        self.enabled = size >= PROGRESS_BYTES
        self.last = time.monotonic()

    def __call__(self, p: importer.ImportProgress) -> None:
        now = time.monotonic()
        if not self.enabled or now - self.last < PROGRESS_INTERVAL_S:
            return
        self.last = now
        print(
            f"glassbox: importing… {p.fraction:.0%} of the file read, {p.chats} chats, "
            f"{p.messages} messages",
            file=sys.stderr,
            flush=True,
        )


def cmd_import(args: argparse.Namespace) -> int:
    """Import the file's chats and say what was added."""
    from desktop_app.core.chat.store import ChatStore

    try:
        size = args.file.stat().st_size
    except OSError:
        size = 0  # the importer says why it cannot be read
    # Opening the store creates the database or brings it up to date first.
    with ChatStore() as store:
        path = store.path
    result = importer.import_file(path, args.file, args.format, progress=_Progress(size))
    if args.json:
        print(json.dumps(result.as_dict(), ensure_ascii=False))
        return 0
    print(result.sentence())
    origin = importer.parse_origin(result.origin)
    if origin is not None and result.chats:
        print(f"Each chat shows: {origin.sentence()}")
    return 0
