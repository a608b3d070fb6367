"""How long a backup, its check and a restore take for a chat database of a given size.

    .venv/bin/python packaging/measure_backup.py 100   # megabytes

Fills a temporary data folder's chats.sqlite3 with chats of 2,000-character messages
(full-text index included) to about that size, then times ``back_up`` (SQLite's online
backup API), ``quick_check`` of the copy and ``restore_chats`` (which backs up the
current state first), each once, on this machine.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path


def _pages(conn: sqlite3.Connection) -> int:
    count = conn.execute("PRAGMA page_count").fetchone()[0]
    return int(count) * int(conn.execute("PRAGMA page_size").fetchone()[0])


def main(megabytes: float) -> None:
    home = Path(tempfile.mkdtemp(prefix="glassbox-backup-bench-"))
    os.environ["GLASSBOX_HOME"] = str(home)
    from desktop_app.core import backup
    from desktop_app.core.chat.store import ChatStore

    path = backup.live_path(backup.CHATS, home)
    text = ("Sampling keeps the most likely tokens and draws one of them. " * 40)[:2000]
    with ChatStore(path) as store:
        conn = store._db()
        n = 0
        while _pages(conn) < megabytes * 1e6:
            conn.execute("BEGIN")
            for _ in range(500):
                chat = conn.execute(
                    "INSERT INTO chats(title, created, updated) VALUES (?, 0, 0)", (f"c{n}",)
                ).lastrowid
                for i in range(10):
                    conn.execute(
                        "INSERT INTO messages(chat_id, role, content, created) VALUES (?, ?, ?, 0)",
                        (chat, "user" if i % 2 == 0 else "assistant", f"{n} {i} {text}"),
                    )
                n += 1
            conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = path.stat().st_size
    folder = backup.backups_folder(home)
    start = time.perf_counter()
    made = backup.back_up(path, backup.CHATS, backup.MANUAL, folder)
    t_backup = time.perf_counter() - start
    start = time.perf_counter()
    ok = backup.check(made.path)
    t_check = time.perf_counter() - start
    with ChatStore(path) as window:  # restored under an open connection
        start = time.perf_counter()
        backup.restore_chats(made, home)
        t_restore = time.perf_counter() - start
        assert len(window.list_chats()) == n
    print(f"chat database: {size / 1e6:.1f} MB, {n} chats, {n * 10} messages")
    print(f"backup (online backup API): {t_backup:.2f} s ({made.size / 1e6:.1f} MB)")
    print(f"quick_check of the backup: {t_check:.2f} s (ok: {ok})")
    print(f"restore (backup of the current state, then copy back): {t_restore:.2f} s")


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 100.0)
