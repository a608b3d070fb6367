"""Rolling backups of the chat database and the knowledge base's SQLite, and restore.

Backups are made with SQLite's online backup API (``sqlite3.Connection.backup``):
a consistent copy even while another connection writes, WAL included. They go to
``backups/`` in the data folder (0700, each file 0600, like the databases), named
``<database>-<UTC time>-<reason>.sqlite3``:

- daily: when a database is opened and its newest backup is older than 24 hours;
- before a migration: before the first step of a schema upgrade runs, so a step
  that fails puts the file back as it was (``restore_after_failed_migration``);
- before a restore: the state a restore replaces, so a restore can be undone;
- by hand: ``glassbox backup`` and Settings → Data.

The last :data:`KEEP` of each database are kept, oldest dropped first while they
take more than :data:`MAX_BYTES` together; the newest is never dropped. A backup
is offered for restore only when ``PRAGMA quick_check`` passes on it.

A restore copies the backup over the live file with the backup API too, through a
connection to it: other connections (the window's) see the restored data at their
next read, and the WAL stays consistent. It never copies files under an open WAL.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from desktop_app.core import paths
from desktop_app.core.errors import StorageError

if TYPE_CHECKING:
    from desktop_app.core.kb.index import SyncReport
    from desktop_app.core.kb.knowledge_base import KnowledgeBase

log = logging.getLogger(__name__)

#: The databases backed up: the chats and the knowledge base's registry.
CHATS = "chats"
KNOWLEDGE = "kb"
DATABASES: tuple[str, ...] = (CHATS, KNOWLEDGE)
#: How each is called in messages.
LABELS = {CHATS: "chat database", KNOWLEDGE: "knowledge base"}

#: Why a backup was made (the last part of its file name).
DAILY = "daily"
MANUAL = "manual"
BEFORE_MIGRATION = "before-migration"
BEFORE_RESTORE = "before-restore"
REASONS: tuple[str, ...] = (DAILY, MANUAL, BEFORE_MIGRATION, BEFORE_RESTORE)

#: Backups kept per database.
KEEP = 7
#: The most bytes one database's backups may take together (the newest always stays).
MAX_BYTES = 2 * 1024**3
#: A database opened after this long without a backup gets a daily one.
DAILY_S = 24 * 3600.0
FOLDER = "backups"

_STAMP = "%Y%m%d-%H%M%S-%f"
_NAME = re.compile(
    r"^(?P<db>" + "|".join(DATABASES) + r")-(?P<stamp>\d{8}-\d{6}-\d{6})-"
    r"(?P<reason>" + "|".join(REASONS) + r")\.sqlite3$"
)
_CHECK_WAIT_S = 10.0


@dataclass(frozen=True, slots=True)
class Backup:
    """One backup file: which database, when (Unix seconds), why, its size and path."""

    database: str
    when: float
    reason: str
    size: int
    path: Path
    #: Whether ``PRAGMA quick_check`` passed (None: not checked).
    ok: bool | None = None

    @property
    def id(self) -> str:
        """The name ``glassbox restore`` takes: the file name without ``.sqlite3``."""
        return self.path.stem

    def as_dict(self) -> dict[str, object]:
        """The JSON form of ``glassbox backup --json`` and ``restore --list --json``."""
        return {
            "id": self.id,
            "database": self.database,
            "when": datetime.fromtimestamp(self.when, UTC).isoformat(timespec="seconds"),
            "reason": self.reason,
            "size": self.size,
            "path": str(self.path),
            "ok": self.ok,
        }


@dataclass(frozen=True, slots=True)
class Restored:
    """What a restore did: the backup restored, the one made of what it replaced,
    and for the knowledge base how each collection's vectors were brought in step."""

    backup: Backup
    saved: Backup
    synced: list[SyncReport] = field(default_factory=list)
    #: Collections whose vectors could not be checked (their server is down), and why.
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        """The JSON form of ``glassbox restore --json``."""
        return {
            "type": "restored",
            "backup": self.backup.as_dict(),
            "saved": self.saved.as_dict(),
            "synced": [
                {"collection": r.collection, "added": r.added, "removed": r.removed_orphans}
                for r in self.synced
            ],
            "problems": list(self.problems),
        }


# ---------------------------------------------------------------- where things are


def live_path(database: str, data: Path | None = None) -> Path:
    """The live file of ``database`` in the data folder ``data`` (None: Glassbox's)."""
    base = data if data is not None else paths.data_dir()
    if database == CHATS:
        return base / "chats.sqlite3"
    if database == KNOWLEDGE:
        return base / "kb" / "kb.sqlite3"
    raise ValueError(f"unknown database {database!r}")


def folder_for(database: str, path: Path) -> Path:
    """The backups folder of a live file: ``backups/`` of the data folder, which holds
    ``chats.sqlite3`` and the ``kb/`` folder of ``kb.sqlite3``."""
    base = path.parent
    if database == KNOWLEDGE and base.name == "kb":
        base = base.parent
    return base / FOLDER


def backups_folder(data: Path | None = None) -> Path:
    """The backups folder of the data folder ``data`` (None: Glassbox's)."""
    return (data if data is not None else paths.data_dir()) / FOLDER


def _ensure_folder(folder: Path) -> Path:
    if not folder.exists():
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if os.name == "posix":
        mode = folder.stat().st_mode & 0o777
        if mode & 0o077:
            folder.chmod(mode & 0o700)
    return folder


# ---------------------------------------------------------------- listing


def _parse(path: Path) -> Backup | None:
    found = _NAME.match(path.name)
    if found is None:
        return None
    try:
        when = datetime.strptime(found["stamp"], _STAMP).replace(tzinfo=UTC).timestamp()
        size = path.stat().st_size
    except (ValueError, OSError):
        return None
    return Backup(found["db"], when, found["reason"], size, path)


def _all(folder: Path, database: str | None) -> list[Backup]:
    """Backups in ``folder`` (of ``database``, or all), newest first, unchecked."""
    try:
        entries = list(folder.iterdir())
    except OSError:
        return []
    found = [b for b in map(_parse, entries) if b is not None]
    if database is not None:
        found = [b for b in found if b.database == database]
    return sorted(found, key=lambda b: (b.when, b.path.name), reverse=True)


# Files never change once written: a check's result is kept by (path, size, mtime).
_checked: dict[tuple[str, int, int], bool] = {}


def check(path: Path) -> bool:
    """Whether ``PRAGMA quick_check`` passes on a backup file (read-only)."""
    try:
        st = path.stat()
    except OSError:
        return False
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _checked:
        _checked[key] = _quick_check(path)
    return _checked[key]


def _quick_check(path: Path) -> bool:
    try:
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=_CHECK_WAIT_S)
    except sqlite3.Error:
        return False
    try:
        rows = conn.execute("PRAGMA quick_check").fetchall()
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.Error as exc:
        log.warning("The backup %s cannot be read: %s", path, exc)
        return False
    finally:
        conn.close()
    good = [tuple(r) for r in rows] == [("ok",)] and int(version) > 0
    if not good:
        log.warning("The backup %s failed its check: %s", path, rows[:3])
    return good


def list_backups(
    folder: Path | None = None, database: str | None = None, *, checked: bool = True
) -> list[Backup]:
    """The backups in ``folder`` (None: the data folder's), newest first; with
    ``checked`` each carries whether ``quick_check`` passed (``ok``)."""
    found = _all(folder if folder is not None else backups_folder(), database)
    if not checked:
        return found
    return [Backup(b.database, b.when, b.reason, b.size, b.path, check(b.path)) for b in found]


def find(name: str, folder: Path | None = None) -> Backup:
    """The backup called ``name`` (its id, or its file name), checked."""
    wanted = Path(name).name
    for backup in list_backups(folder, checked=False):
        if wanted in (backup.id, backup.path.name):
            return Backup(*_fields(backup), ok=check(backup.path))
    raise StorageError(
        f"There is no backup called {name!r}. `glassbox restore --list` shows the backups."
    )


def _fields(b: Backup) -> tuple[str, float, str, int, Path]:
    return (b.database, b.when, b.reason, b.size, b.path)


# ---------------------------------------------------------------- making backups


def back_up(
    source: sqlite3.Connection | Path,
    database: str,
    reason: str,
    folder: Path,
    *,
    keep: int = KEEP,
    max_bytes: int = MAX_BYTES,
    now: float | None = None,
) -> Backup:
    """Copy ``source`` (an open connection, or a live file) into ``folder`` with the
    online backup API, then drop old backups; returns the new one.

    The copy is written beside its final name and renamed when complete, so a
    crash never leaves a half backup that looks whole; it is a single file
    (rollback journal mode), readable without its WAL.
    """
    if reason not in REASONS or database not in DATABASES:
        raise ValueError(f"unknown backup {database!r}/{reason!r}")
    _ensure_folder(folder)
    stamp = now if now is not None else time.time()
    moment = datetime.fromtimestamp(stamp, UTC)
    final = folder / f"{database}-{moment.strftime(_STAMP)}-{reason}.sqlite3"
    while final.exists():  # two in the same microsecond
        moment = moment.replace(microsecond=(moment.microsecond + 1) % 1_000_000)
        final = folder / f"{database}-{moment.strftime(_STAMP)}-{reason}.sqlite3"
    partial = final.with_name(f".{final.name}.partial")
    with contextlib.suppress(FileNotFoundError):
        partial.unlink()
    own = isinstance(source, Path)
    src = _connect(source) if isinstance(source, Path) else source
    try:
        dst = sqlite3.connect(paths.private_file(partial), isolation_level=None)
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
        with open(partial, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(partial, final)
    except BaseException:
        with contextlib.suppress(OSError):
            partial.unlink()
        raise
    finally:
        if own:
            src.close()
    made = _parse(final)
    assert made is not None
    log.info("Backed up the %s to %s (%s).", LABELS[database], final, reason)
    prune(folder, database, keep=keep, max_bytes=max_bytes)
    return Backup(*_fields(made), ok=True)


def _connect(path: Path) -> sqlite3.Connection:
    if not path.exists():
        raise StorageError(f"There is no database at {path} to back up.")
    return sqlite3.connect(path, timeout=_CHECK_WAIT_S, isolation_level=None)


def prune(
    folder: Path, database: str, *, keep: int = KEEP, max_bytes: int = MAX_BYTES
) -> list[Path]:
    """Drop the oldest backups of ``database`` beyond ``keep`` and while they take more
    than ``max_bytes`` together; the newest always stays. Returns what was dropped."""
    found = _all(folder, database)
    dropped: list[Path] = []
    total = sum(b.size for b in found)
    while len(found) > 1 and (len(found) > max(keep, 1) or total > max_bytes):
        oldest = found.pop()
        try:
            oldest.path.unlink()
        except OSError as exc:
            log.warning("An old backup %s could not be deleted: %s", oldest.path, exc)
            break
        total -= oldest.size
        dropped.append(oldest.path)
    return dropped


def daily_due(folder: Path, database: str, now: float | None = None) -> bool:
    """Whether the newest backup of ``database`` is older than a day (or there is none)."""
    found = _all(folder, database)
    return not found or (now if now is not None else time.time()) - found[0].when >= DAILY_S


def daily(conn: sqlite3.Connection, database: str, path: Path) -> Backup | None:
    """The daily backup of an opened database, when due. Never raises: a full disk
    must not keep the user from their chats (it is logged)."""
    folder = folder_for(database, path)
    try:
        if not daily_due(folder, database):
            return None
        return back_up(conn, database, DAILY, folder)
    except (OSError, sqlite3.Error, StorageError) as exc:
        log.warning("The daily backup of %s could not be made: %s", path, exc)
        return None


def before_migration(conn: sqlite3.Connection, database: str, path: Path) -> Backup:
    """The backup made before a schema upgrade; a StorageError when it cannot be
    made (the upgrade must not run without it)."""
    try:
        return back_up(conn, database, BEFORE_MIGRATION, folder_for(database, path))
    except (OSError, sqlite3.Error) as exc:
        raise StorageError(
            f"The {LABELS[database]} {path} needs an upgrade, but it could not be backed up "
            f"first ({exc}). Free some disk space (or check the permissions of "
            f"{folder_for(database, path)}) and start Glassbox again."
        ) from exc


# ---------------------------------------------------------------- restoring


def copy_into(backup: Backup | Path, conn: sqlite3.Connection) -> None:
    """Copy a backup over the database of ``conn`` with the online backup API (the
    connection must not be in a transaction). Other connections see the copy at
    their next read."""
    path = backup.path if isinstance(backup, Backup) else backup
    src = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=_CHECK_WAIT_S)
    try:
        src.backup(conn)
    finally:
        src.close()
    # Fold the restored pages into the file now; readers keep working meanwhile.
    with contextlib.suppress(sqlite3.Error):
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)")


def restore_after_failed_migration(
    saved: Backup, conn: sqlite3.Connection, database: str, number: int, exc: BaseException
) -> str:
    """Put a database back from its pre-migration backup after step ``number`` failed
    with ``exc``; returns the sentence for the user (the caller raises it)."""
    label = LABELS[database]
    try:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        copy_into(saved, conn)
    except (OSError, sqlite3.Error) as again:
        log.error("Restoring %s after a failed migration failed: %s", saved.path, again)
        return (
            f"Upgrading the {label} to schema {number} failed ({exc}), and putting it back "
            f"from the backup made just before failed too ({again}). With Glassbox closed, "
            f"copy {saved.path} over the database by hand."
        )
    log.warning("Migration %d of the %s failed (%s); restored from %s.", number, label, exc, saved)
    return (
        f"Upgrading the {label} to schema {number} failed ({exc}). It was put back as it "
        f"was before the upgrade, from the backup {saved.path.name}; nothing was lost. "
        "Keep using the previous version of Glassbox and report this problem."
    )


def usable(backup: Backup) -> Backup:
    """``backup`` when it can be restored; a StorageError saying why not otherwise."""
    if not backup.path.exists():
        raise StorageError(f"The backup {backup.path} is gone. Choose another one.")
    if not check(backup.path):
        raise StorageError(
            f"The backup {backup.path.name} is damaged (it failed SQLite's check), so it "
            "was not restored. Choose another one."
        )
    return backup


def restore_chats(
    backup: Backup, data: Path | None = None, *, on_copied: Callable[[], None] | None = None
) -> Restored:
    """Restore the chat database from ``backup``: the current state is backed up first
    ("before-restore"), then the backup is copied over the live file and upgraded to
    this version's schema. Works while the window holds the file open: its
    connection reads the restored chats (it should list them again)."""
    from desktop_app.core.chat.db import connect, migrate

    usable(backup)
    if backup.database != CHATS:
        raise StorageError(f"{backup.id} is not a backup of the chat database.")
    path = live_path(CHATS, data)
    folder = folder_for(CHATS, path)
    conn = connect(path)
    try:
        saved = back_up(conn, CHATS, BEFORE_RESTORE, folder)
        try:
            copy_into(backup, conn)
        except sqlite3.Error as exc:
            raise StorageError(
                f"The chat database could not be restored from {backup.id} ({exc}). It is "
                "as it was; try again, with the window's reply stopped."
            ) from exc
        migrate(conn, path)
        if on_copied is not None:
            on_copied()
    finally:
        conn.close()
    return Restored(backup, saved)


def restore_knowledge_base(kb: KnowledgeBase, backup: Backup) -> Restored:
    """Restore the knowledge base's SQLite from ``backup`` through the open ``kb`` (it
    holds the writer lock), then bring Chroma in step with it as at start-up: every
    collection is compared with Chroma id by id and repaired."""
    from desktop_app.core.kb.errors import ChromaServerError, KnowledgeBaseError

    usable(backup)
    if backup.database != KNOWLEDGE:
        raise StorageError(f"{backup.id} is not a backup of the knowledge base.")
    registry = kb.registry
    path = registry.root / "kb.sqlite3"
    kb.flush_retrievals()
    saved = back_up(registry.conn, KNOWLEDGE, BEFORE_RESTORE, folder_for(KNOWLEDGE, path))
    try:
        copy_into(backup, registry.conn)
    except sqlite3.Error as exc:
        raise KnowledgeBaseError(
            f"The knowledge base could not be restored from {backup.id} ({exc}). It is as "
            "it was; wait for its ingestion to finish and try again."
        ) from exc
    registry.reopened()
    synced: list[SyncReport] = []
    problems: list[str] = []
    for coll in registry.collections():
        kb.forget_sync(coll)
        try:
            synced.append(kb.check(coll.name))
        except ChromaServerError as exc:
            problems.append(f"{coll.name}: {exc}")
    return Restored(backup, saved, synced, problems)


def restore(backup: Backup, data: Path | None = None) -> Restored:
    """Restore ``backup`` over its database in the data folder ``data`` (None:
    Glassbox's). The knowledge base is opened for it, so a window that has it open
    makes this fail with a clear error (restore it from the window instead)."""
    if backup.database == CHATS:
        return restore_chats(backup, data)
    from desktop_app.core.kb.knowledge_base import KnowledgeBase

    root = live_path(KNOWLEDGE, data).parent
    with KnowledgeBase(root) as kb:
        return restore_knowledge_base(kb, backup)


def back_up_now(data: Path | None = None) -> list[Backup]:
    """Back up each database of the data folder that exists (``glassbox backup``)."""
    made: list[Backup] = []
    for database in DATABASES:
        path = live_path(database, data)
        if path.exists():
            made.append(back_up(path, database, MANUAL, folder_for(database, path)))
    return made


def describe(backups: Sequence[Backup]) -> str:
    """A table of backups for the command line."""
    if not backups:
        return "No backups yet."
    lines = []
    for b in backups:
        when = datetime.fromtimestamp(b.when).strftime("%Y-%m-%d %H:%M:%S")
        state = "" if b.ok in (True, None) else "  DAMAGED"
        lines.append(
            f"{b.id}  {LABELS[b.database]:<14} {when}  {b.reason:<15} {human_size(b.size):>9}"
            f"{state}"
        )
    return "\n".join(lines)


def human_size(size: int) -> str:
    """1.2 MB and the like."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"
