"""``glassbox backup`` and ``glassbox restore``: the rolling backups of the chat
database and the knowledge base (``desktop_app/core/backup.py``) from the command line.

``backup`` makes one of each database now and lists them all; ``restore --list``
lists them; ``restore ID`` restores one after a confirmation (``--yes`` skips it),
backing up the current state first.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from desktop_app.core import backup


def register(subparsers: Any) -> None:
    """Add ``backup`` and ``restore`` to the top-level subparsers."""
    parser = subparsers.add_parser(
        "backup",
        help="back up the chats and the knowledge base now, and list the backups",
        description="Copy the chat database and the knowledge base's database into the "
        "backups folder of the data folder now (SQLite's online backup, safe while "
        "Glassbox runs), then list every backup. Glassbox also backs them up daily and "
        f"before every upgrade, keeping the last {backup.KEEP} of each.",
    )
    parser.add_argument(
        "--json", action="store_true", help="machine-readable output: one JSON object on stdout"
    )
    parser.set_defaults(func=cmd_backup)

    parser = subparsers.add_parser(
        "restore",
        help="restore the chats or the knowledge base from a backup",
        description="Restore a backup (an ID from `glassbox restore --list`) over its "
        "database. What it replaces is backed up first, so a restore can be undone. A "
        "knowledge base open in the window cannot be restored from here: use Settings → "
        "Data there.",
    )
    parser.add_argument("id", nargs="?", metavar="ID", help="the backup to restore")
    parser.add_argument("--list", action="store_true", help="list the backups and stop")
    parser.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    parser.add_argument(
        "--json", action="store_true", help="machine-readable output: one JSON object on stdout"
    )
    parser.set_defaults(func=cmd_restore, parser=parser)


def _listing(made: list[backup.Backup] | None = None) -> dict[str, object]:
    out: dict[str, object] = {
        "type": "backups",
        "folder": str(backup.backups_folder()),
        "backups": [b.as_dict() for b in backup.list_backups()],
    }
    if made is not None:
        out["made"] = [b.as_dict() for b in made]
    return out


def cmd_backup(args: argparse.Namespace) -> int:
    """Back up both databases now and list the backups."""
    made = backup.back_up_now()
    if args.json:
        print(json.dumps(_listing(made), ensure_ascii=False))
        return 0
    if not made:
        print("There are no chats or knowledge base to back up yet.")
    for b in made:
        print(f"Backed up the {backup.LABELS[b.database]}: {b.path}")
    print()
    print(backup.describe(backup.list_backups()))
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    """List the backups, or restore one after a confirmation."""
    if args.list or args.id is None:
        if args.id is None and not args.list:
            args.parser.error("give the ID of a backup to restore, or --list to see them")
        if args.json:
            print(json.dumps(_listing(), ensure_ascii=False))
        else:
            print(backup.describe(backup.list_backups()))
        return 0
    # A damaged or vanished backup is refused before anything is asked.
    chosen = backup.usable(backup.find(args.id))
    if not args.yes:
        if not sys.stdin.isatty():
            args.parser.error(
                "restoring replaces the current data: confirm with --yes when not asked "
                "at a terminal"
            )
        label = backup.LABELS[chosen.database]
        answer = input(
            f"Replace the {label} with the backup {chosen.id}? The current state is backed "
            "up first. [y/N] "
        )
        if answer.strip().lower() not in ("y", "yes"):
            print("Nothing was restored.")
            return 1
    done = backup.restore(chosen)
    if args.json:
        print(json.dumps(done.as_dict(), ensure_ascii=False))
        return 0
    print(f"Restored the {backup.LABELS[chosen.database]} from {chosen.id}.")
    print(f"What it replaced was backed up as {done.saved.id}.")
    for report in done.synced:
        print(
            f"Collection {report.collection}: {report.added} vector(s) added to Chroma, "
            f"{report.removed_orphans} removed."
        )
    for problem in done.problems:
        print(f"Not checked against Chroma: {problem}")
    return 0
