"""Schema 4: a words index kept in step with the chunks by triggers, from a version 3 file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from desktop_app.core.kb.db import DB_NAME, MIGRATIONS, Registry, _statements


def _v3_file(root: Path) -> None:
    root.mkdir(parents=True)
    conn = sqlite3.connect(root / DB_NAME)
    for script in MIGRATIONS[:3]:
        for statement in _statements(script):
            conn.execute(statement)
    conn.execute("PRAGMA user_version=3")
    conn.execute(
        "INSERT INTO collections(name, embed_model, dim, created_at) VALUES ('c', 'm', 3, 0)"
    )
    conn.execute(
        "INSERT INTO documents(id, collection_id, path, status, updated_at) "
        "VALUES (1, 1, '/d.txt', 'indexed', 0)"
    )
    for i in range(3):
        conn.execute(
            "INSERT INTO chunks(chunk_id, doc_id, collection_id, idx, text, search_text, "
            "bigram_text, char_start, char_end) VALUES (?, 1, 1, ?, 'old text', 'old text', "
            "'', 0, 8)",
            (f"c{i}", i),
        )
    conn.commit()
    conn.close()


def _words_hits(reg: Registry, word: str) -> int:
    return int(
        reg.conn.execute(
            "SELECT count(*) FROM chunks_words WHERE chunks_words MATCH ?", (word,)
        ).fetchone()[0]
    )


def test_a_version_3_file_keeps_its_chunks_and_gains_a_words_index(tmp_path: Path) -> None:
    _v3_file(tmp_path / "kb")
    with Registry(tmp_path / "kb") as reg:
        assert reg.conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) >= 4
        assert reg.conn.execute("SELECT count(*) FROM chunks").fetchone()[0] == 3
        assert _words_hits(reg, "old") == 0  # not segmented yet: not in the words index
        with reg.transaction() as c:
            c.execute("UPDATE chunks SET words_text = '磁盘 配额 usrquota' WHERE idx < 2")
        assert _words_hits(reg, "配额") == 2
        with reg.transaction() as c:
            c.execute("UPDATE chunks SET words_text = '虚拟机 xen' WHERE idx = 0")
        assert _words_hits(reg, "配额") == 1 and _words_hits(reg, "xen") == 1
        with reg.transaction() as c:
            c.execute("DELETE FROM chunks WHERE idx = 0")
            c.execute("DELETE FROM chunks WHERE idx = 2")  # never segmented
        assert _words_hits(reg, "xen") == 0 and _words_hits(reg, "配额") == 1
        # Counted when the version 3 file was opened (the raw deletes above bypass the
        # registry's own counting).
        row = reg.conn.execute("SELECT languages FROM collections").fetchone()
        assert row == ('{"en": 3}',)
