"""The chat database file: its schema by version, connections and transactions.

The schema is migrated by number (``PRAGMA user_version``), so a file written by
an older app opens in a newer one; each migration runs in one transaction with
its version bump. Every connection is in WAL mode with ``synchronous=FULL`` and
foreign keys on, and changes go through :func:`transaction`.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from desktop_app.core import backup, paths
from desktop_app.core.chat.codecs import decode_text
from desktop_app.core.errors import StorageError

log = logging.getLogger(__name__)

#: How long a connection waits for another one's write before giving up.
BUSY_TIMEOUT_S = 10.0

# SQLite primary result codes that mean the file itself is damaged.
_SQLITE_CORRUPT = 11
_SQLITE_NOTADB = 26

#: Script n brings a file from schema version n - 1 to n.
MIGRATIONS: tuple[str, ...] = (
    # 1: chats, message trees, token records, presets, trigram full-text index.
    """
    CREATE TABLE chats (
        id INTEGER PRIMARY KEY,
        title TEXT NOT NULL,
        created REAL NOT NULL,
        updated REAL NOT NULL,
        system_prompt TEXT NOT NULL DEFAULT '',
        deleted_at REAL,
        current_leaf INTEGER REFERENCES messages(id) ON DELETE SET NULL
    );
    CREATE INDEX chats_updated ON chats(deleted_at, updated);
    CREATE TABLE messages (
        id INTEGER PRIMARY KEY,
        chat_id INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
        parent_id INTEGER REFERENCES messages(id) ON DELETE CASCADE,
        role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
        content TEXT NOT NULL,
        created REAL NOT NULL,
        status TEXT NOT NULL DEFAULT 'complete'
            CHECK (status IN ('complete', 'streaming', 'interrupted', 'cancelled', 'error')),
        meta TEXT NOT NULL DEFAULT '{}',
        edited INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX messages_tree ON messages(chat_id, parent_id, created, id);
    CREATE INDEX messages_parent ON messages(parent_id);
    CREATE INDEX messages_status ON messages(status) WHERE status = 'streaming';
    CREATE TABLE tokens (
        message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        forced INTEGER NOT NULL DEFAULT 0,
        data TEXT NOT NULL,
        PRIMARY KEY (message_id, idx)
    ) WITHOUT ROWID;
    CREATE TABLE presets (
        name TEXT PRIMARY KEY,
        system_prompt TEXT NOT NULL DEFAULT '',
        sampling TEXT NOT NULL DEFAULT '{}',
        updated REAL NOT NULL
    );
    CREATE VIRTUAL TABLE messages_fts USING fts5(
        content, content='messages', content_rowid='id', tokenize='trigram'
    );
    CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
        INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
    END;
    CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, content)
            VALUES ('delete', old.id, old.content);
    END;
    CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, content)
            VALUES ('delete', old.id, old.content);
        INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
    END;
    """,
    # 2: per-chat options (attached knowledge collections, reasoning mode, examples).
    """
    ALTER TABLE chats ADD COLUMN options TEXT NOT NULL DEFAULT '{}';
    """,
    # 3: messages typed while a reply streamed, waiting to be sent, in order.
    """
    CREATE TABLE queued_messages (
        id INTEGER PRIMARY KEY,
        chat_id INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
        content TEXT NOT NULL,
        created REAL NOT NULL
    );
    CREATE INDEX queued_messages_chat ON queued_messages(chat_id, id);
    """,
    # 4: where an imported chat came from; projects that group chats and give new
    # ones a system prompt, a sampling preset, knowledge collections and pinned files.
    """
    ALTER TABLE chats ADD COLUMN origin TEXT NOT NULL DEFAULT '';
    CREATE TABLE projects (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        system_prompt TEXT NOT NULL DEFAULT '',
        sampling TEXT NOT NULL DEFAULT '{}',
        collections TEXT NOT NULL DEFAULT '[]',
        files TEXT NOT NULL DEFAULT '[]',
        created REAL NOT NULL,
        updated REAL NOT NULL,
        deleted_at REAL
    );
    ALTER TABLE chats ADD COLUMN project_id INTEGER REFERENCES projects(id) ON DELETE SET NULL;
    CREATE INDEX chats_project ON chats(project_id);
    """,
)

#: The schema version this code writes.
SCHEMA_VERSION = len(MIGRATIONS)


def damaged(exc: sqlite3.DatabaseError) -> bool:
    """Whether an error means the file itself is damaged (not a database, malformed)."""
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in (_SQLITE_CORRUPT, _SQLITE_NOTADB)
    text = str(exc).lower()
    return "not a database" in text or "malformed" in text


def connect(path: Path) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit) with our pragmas."""
    # The chats are the user's own words: not for other users of the computer.
    conn = sqlite3.connect(paths.private_file(path), timeout=BUSY_TIMEOUT_S, isolation_level=None)
    try:
        conn.text_factory = decode_text
        # Reading the journal mode reads the header: a file that is not a
        # database fails here, before anything is written to it.
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            log.warning("%s could not be switched to WAL mode (it is %s).", path, mode)
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
    except BaseException:
        conn.close()
        raise
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection, action: str) -> Iterator[sqlite3.Connection]:
    """One logical change: BEGIN IMMEDIATE … COMMIT, rolled back on any error.

    IMMEDIATE takes the write lock up front, so two connections (the GUI's and a
    recorder's) wait for each other with the busy timeout instead of failing.
    """
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.Error as exc:
        raise storage_error(action, exc) from exc
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException as exc:
        if conn.in_transaction:
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error as rollback_exc:
                log.warning("Rolling back after a failed %s failed too: %s", action, rollback_exc)
        if isinstance(exc, sqlite3.Error):
            raise storage_error(action, exc) from exc
        raise


def storage_error(action: str, exc: sqlite3.Error) -> StorageError:
    """A StorageError for a failed ``action`` that says what the user can do about it."""
    text = str(exc)
    hint = ""
    if "locked" in text or "busy" in text:
        hint = " Another Glassbox window may be writing; try again."
    elif "full" in text:
        hint = " The disk is full; free some space and try again."
    elif "readonly" in text or "read-only" in text:
        hint = " The data folder is read-only; check its permissions."
    return StorageError(f"Could not {action}: {text}.{hint}")


def migrate(conn: sqlite3.Connection, path: Path) -> int:
    """Bring the schema of ``path`` up to :data:`SCHEMA_VERSION`, one migration at a time;
    returns the version the file had (0: new).

    A file written by a newer app is refused: its schema cannot be read safely. An
    existing file is backed up before its first migration step, and put back from
    that backup when a step fails (a StorageError says so); one opened with no
    backup for a day gets its daily one (``core.backup``).
    """
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    target = len(MIGRATIONS)
    if version > target:
        raise StorageError(
            f"{path} was written by a newer Glassbox (schema {version}, this one "
            f"knows {target}). Update Glassbox to open these chats."
        )
    saved = None
    if 0 < version < target:
        saved = backup.before_migration(conn, backup.CHATS, path)
    for number in range(version + 1, target + 1):
        # executescript commits first, so the script carries its own transaction
        # and the version bump is part of it.
        script = MIGRATIONS[number - 1]
        try:
            conn.executescript(
                f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;"
            )
        except Exception as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if saved is None:
                raise
            note = backup.restore_after_failed_migration(saved, conn, backup.CHATS, number, exc)
            raise StorageError(note) from exc
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        log.info("Chat database %s migrated to schema %d.", path, number)
    if version:
        backup.daily(conn, backup.CHATS, path)
    return version
