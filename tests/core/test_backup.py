"""Rolling backups of the chat database and the knowledge base, and restoring them:
made with the backup API, kept private and few, checked, taken before every
migration (and restored from when one fails), restored under an open connection."""

from __future__ import annotations

import os
import sqlite3
import stat
import time
from pathlib import Path

import pytest
from kb_fakes import HashEmbedder

from desktop_app.core import backup
from desktop_app.core.chat import db as chat_db
from desktop_app.core.chat.store import ChatStore
from desktop_app.core.errors import StorageError
from desktop_app.core.kb import db as kb_db
from desktop_app.core.kb.errors import KnowledgeBaseError
from desktop_app.core.kb.knowledge_base import KnowledgeBase
from desktop_app.core.kb.parse_host import InProcessParser


def _chats(home: Path) -> Path:
    return backup.live_path(backup.CHATS, home)


def _fill(home: Path, titles: list[str]) -> None:
    with ChatStore(_chats(home)) as store:
        for title in titles:
            chat = store.create_chat(title)
            store.add_message(chat, None, "user", f"question of {title}")


def _titles(store: ChatStore) -> list[str]:
    return sorted(c.title for c in store.list_chats())


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_backup_is_named_private_checked_and_listed(glassbox_home: Path) -> None:
    _fill(glassbox_home, ["alpha"])
    made = backup.back_up(
        _chats(glassbox_home), backup.CHATS, backup.MANUAL, backup.backups_folder(glassbox_home)
    )
    assert made.path.parent == glassbox_home / "backups"
    assert made.path.name.startswith("chats-") and made.path.name.endswith("-manual.sqlite3")
    if os.name == "posix":
        assert _mode(made.path.parent) == 0o700 and _mode(made.path) == 0o600
    listed = backup.list_backups(backup.backups_folder(glassbox_home))
    assert [(b.database, b.reason, b.path, b.ok) for b in listed] == [
        ("chats", "manual", made.path, True)
    ]
    assert listed[0].size == made.path.stat().st_size > 0
    # A single file: readable on its own, without a WAL beside it.
    assert not Path(f"{made.path}-wal").exists()
    conn = sqlite3.connect(made.path)
    assert conn.execute("SELECT title FROM chats").fetchall() == [("alpha",)]
    conn.close()


def test_a_damaged_backup_is_listed_as_such_and_never_restored(glassbox_home: Path) -> None:
    _fill(glassbox_home, ["alpha"])
    (made,) = backup.back_up_now(glassbox_home)
    with open(made.path, "r+b") as f:  # the header survives, the pages do not
        f.seek(4096)
        f.write(b"\xff" * 8192)
    (listed,) = backup.list_backups(backup.backups_folder(glassbox_home))
    assert listed.ok is False
    with pytest.raises(StorageError, match="damaged"):
        backup.restore(listed, glassbox_home)
    with ChatStore(_chats(glassbox_home)) as store:
        assert _titles(store) == ["alpha"]


def test_opening_an_existing_store_makes_one_daily_backup(glassbox_home: Path) -> None:
    folder = backup.backups_folder(glassbox_home)
    _fill(glassbox_home, ["alpha"])  # a new file: nothing to back up yet
    assert backup.list_backups(folder) == []
    ChatStore(_chats(glassbox_home)).close()
    ChatStore(_chats(glassbox_home)).close()
    (daily,) = backup.list_backups(folder)
    assert daily.reason == "daily" and daily.database == "chats"
    assert not backup.daily_due(folder, "chats", now=time.time() + 3600)
    assert backup.daily_due(folder, "chats", now=time.time() + 25 * 3600)


def test_seven_are_kept_within_the_size_limit_and_never_the_newest(tmp_path: Path) -> None:
    source = tmp_path / "chats.sqlite3"
    conn = sqlite3.connect(source)
    conn.execute("CREATE TABLE t(x)")
    conn.execute("INSERT INTO t VALUES (randomblob(100000))")
    conn.commit()
    conn.close()
    folder = tmp_path / "backups"
    start = time.time() - 100 * 86400
    made = [
        backup.back_up(source, "chats", backup.DAILY, folder, now=start + n * 86400)
        for n in range(10)
    ]
    left = backup.list_backups(folder, checked=False)
    assert [b.path for b in left] == [b.path for b in reversed(made[3:])]
    # Under a size limit two backups do not fit in: the oldest go first.
    backup.prune(folder, "chats", max_bytes=int(made[0].size * 2.5))
    assert [b.path for b in backup.list_backups(folder, checked=False)] == [
        made[9].path,
        made[8].path,
    ]
    # Not even one fits: the newest stays all the same.
    backup.prune(folder, "chats", max_bytes=1)
    assert [b.path for b in backup.list_backups(folder, checked=False)] == [made[9].path]


def test_a_failed_chat_migration_restores_the_file(
    glassbox_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fill(glassbox_home, ["alpha", "beta"])
    # Step 5 commits and loses every message; step 6 then fails.
    monkeypatch.setattr(
        chat_db,
        "MIGRATIONS",
        (*chat_db.MIGRATIONS, "DELETE FROM messages; DELETE FROM chats;", "SELECT no_such(1);"),
    )
    with pytest.raises(StorageError, match=r"schema 6 failed.*put back.*nothing was lost"):
        ChatStore(_chats(glassbox_home))
    monkeypatch.undo()
    with ChatStore(_chats(glassbox_home)) as store:
        assert _titles(store) == ["alpha", "beta"]
        assert len(store.current_path(store.list_chats()[0].id)) == 1
    conn = sqlite3.connect(_chats(glassbox_home))
    assert conn.execute("PRAGMA user_version").fetchone()[0] == chat_db.SCHEMA_VERSION
    conn.close()
    reasons = {b.reason for b in backup.list_backups(backup.backups_folder(glassbox_home))}
    assert "before-migration" in reasons


def test_a_migration_that_works_is_backed_up_first(
    glassbox_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fill(glassbox_home, ["alpha"])
    monkeypatch.setattr(chat_db, "MIGRATIONS", (*chat_db.MIGRATIONS, "CREATE TABLE extra(x);"))
    ChatStore(_chats(glassbox_home)).close()
    (before,) = backup.list_backups(backup.backups_folder(glassbox_home))
    assert before.reason == "before-migration"
    conn = sqlite3.connect(before.path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == chat_db.SCHEMA_VERSION
    conn.close()


def test_a_restore_while_the_store_is_open_shows_the_restored_chats(glassbox_home: Path) -> None:
    _fill(glassbox_home, ["alpha"])
    with ChatStore(_chats(glassbox_home)) as window:  # the window's connection
        (old,) = backup.back_up_now(glassbox_home)
        window.create_chat("written after the backup")
        assert _titles(window) == ["alpha", "written after the backup"]
        done = backup.restore(old, glassbox_home)
        # The same connection, not reopened, reads the restored file.
        assert _titles(window) == ["alpha"]
        new = window.create_chat("after the restore")
        assert window.chat(new).title == "after the restore"
        assert not window.closed
    assert done.saved.reason == "before-restore"
    conn = sqlite3.connect(done.saved.path)
    titles = sorted(r[0] for r in conn.execute("SELECT title FROM chats"))
    conn.close()
    assert titles == ["alpha", "written after the backup"]  # the restore can be undone
    with ChatStore(_chats(glassbox_home)) as again:
        assert _titles(again) == ["after the restore", "alpha"]


def test_a_backup_from_an_older_schema_is_upgraded_when_restored(
    glassbox_home: Path, tmp_path: Path
) -> None:
    _fill(glassbox_home, ["alpha"])
    older = tmp_path / "schema3.sqlite3"  # as an older Glassbox left it
    conn = sqlite3.connect(older, isolation_level=None)
    conn.executescript("".join(chat_db.MIGRATIONS[:3]) + "PRAGMA user_version = 3;")
    conn.execute("INSERT INTO chats(title, created, updated) VALUES ('from schema 3', 0, 0)")
    conn.close()
    old = backup.back_up(older, "chats", backup.MANUAL, backup.backups_folder(glassbox_home))
    with ChatStore(_chats(glassbox_home)) as window:
        backup.restore(old, glassbox_home)
        assert _titles(window) == ["from schema 3"]
        version = window._db().execute("PRAGMA user_version").fetchone()[0]
        assert version == chat_db.SCHEMA_VERSION


def test_a_failed_knowledge_base_migration_restores_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with kb_db.Registry(tmp_path / "kb") as reg:
        reg.create_collection("notes", "all-MiniLM-L6-v2", 32)
    monkeypatch.setattr(
        kb_db,
        "MIGRATIONS",
        (*kb_db.MIGRATIONS, "DELETE FROM collections;", "SELECT no_such(1);"),
    )
    with pytest.raises(KnowledgeBaseError, match="put back"):
        kb_db.Registry(tmp_path / "kb")
    monkeypatch.undo()
    with kb_db.Registry(tmp_path / "kb") as reg:  # the lock was released
        assert [c.name for c in reg.collections()] == ["notes"]
    (before,) = backup.list_backups(tmp_path / "backups")
    assert (before.database, before.reason) == ("kb", "before-migration")


def _docs(tmp_path: Path, name: str, text: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / f"{name}.txt").write_text(text, "utf-8")
    return folder


def test_a_knowledge_base_restore_brings_chroma_back_in_step(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with KnowledgeBase(home / "kb", embedder=HashEmbedder()) as kb:
        kb.ingest(
            [_docs(tmp_path, "a", "Zephyrine is the northern codename.")],
            "notes",
            InProcessParser(),
        )
        (old,) = [b for b in backup.back_up_now(home) if b.database == "kb"]
        kb.ingest([_docs(tmp_path, "b", "Quillmarsh ships in spring.")], "notes", InProcessParser())
        coll = kb.registry.collection("notes")
        assert kb.index.count(coll) == 2
        done = backup.restore_knowledge_base(kb, old)
        coll = kb.registry.collection("notes")
        assert [d.path.endswith("a.txt") for d in kb.registry.documents(coll)] == [True]
        # The vectors of the document the restore took away are gone from Chroma too.
        assert kb.index.count(coll) == kb.registry.counts(coll)["chunks"] == 1
        assert [r.removed_orphans for r in done.synced] == [1]
        hits = kb.search("Quillmarsh spring", "notes", record=False)
        assert [h.chunk.path.endswith("a.txt") for h in hits] == [True]
    assert done.saved.reason == "before-restore"


def test_the_knowledge_base_open_elsewhere_is_not_restored_behind_its_back(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    with KnowledgeBase(home / "kb", embedder=HashEmbedder()) as kb:
        kb.registry.create_collection("notes", "all-MiniLM-L6-v2", 32)
        (old,) = [b for b in backup.back_up_now(home) if b.database == "kb"]
        with pytest.raises(Exception, match="open in another Glassbox"):
            backup.restore(old, home)
