"""A trash for deleted collections: schema 5, restore whole, emptied after 7 days."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from desktop_app.core.kb.db import DB_NAME, MIGRATIONS, TRASH_KEEP_S, Registry, _statements
from desktop_app.core.kb.errors import CollectionNotFoundError, KnowledgeBaseError
from desktop_app.core.kb.knowledge_base import KnowledgeBase
from desktop_app.core.kb.parse_host import InProcessParser


def _v4_file(root: Path) -> None:
    root.mkdir(parents=True)
    conn = sqlite3.connect(root / DB_NAME)
    for script in MIGRATIONS[:4]:
        for statement in _statements(script):
            conn.execute(statement)
    conn.execute("PRAGMA user_version=4")
    conn.execute(
        "INSERT INTO collections(name, embed_model, dim, created_at) VALUES ('kept', 'm', 3, 0)"
    )
    conn.commit()
    conn.close()


def test_a_version_4_file_gains_the_trash_and_keeps_its_collections(tmp_path: Path) -> None:
    _v4_file(tmp_path / "kb")
    with Registry(tmp_path / "kb") as reg:
        assert reg.conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) >= 5
        assert [c.name for c in reg.collections()] == ["kept"]
        assert reg.trashed_collections() == []
        reg.trash_collection(reg.collection("kept"))
        assert reg.collections() == [] and reg.find_collection("kept") is None
        (trashed,) = reg.trashed_collections()
        assert trashed.name == "kept"


def _ingest(kb: KnowledgeBase, tmp_path: Path, name: str) -> None:
    docs = tmp_path / f"docs-{name}"
    docs.mkdir()
    (docs / "a.txt").write_text(
        "\n\n".join(f"Paragraph {j} about gardens and roses." for j in range(20)), "utf-8"
    )
    kb.ingest([docs], name, InProcessParser())


def test_trashed_collection_is_hidden_then_restored_with_its_vectors(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    _ingest(kb, tmp_path, "garden")
    before = kb.search("roses", "garden", 3)
    assert before
    kb.trash_collection("garden")
    assert [c.name for c in kb.collections()] == []
    with pytest.raises(CollectionNotFoundError):
        kb.search("roses", "garden", 3)
    # Its name can be used again meanwhile, and then restoring waits for it.
    other = kb.create_collection("garden")
    (trashed,) = kb.trash()
    with pytest.raises(KnowledgeBaseError, match="exists now"):
        kb.restore_collection(trashed.collection.id)
    kb.delete_collection(other.name)
    restored = kb.restore_collection(trashed.collection.id)
    assert restored.name == "garden" and kb.trash() == []
    after = kb.search("roses", "garden", 3)
    assert [h.chunk.text for h in after] == [h.chunk.text for h in before]
    with pytest.raises(KnowledgeBaseError, match="no longer in the trash"):
        kb.restore_collection(trashed.collection.id)


def test_empty_trash_deletes_only_what_is_older_than_a_week(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    _ingest(kb, tmp_path, "old")
    _ingest(kb, tmp_path, "new")
    old_id = kb.collection("old").id
    kb.trash_collection("old")
    kb.trash_collection("new")
    assert kb.empty_trash() == 0
    week_ago = time.time() - TRASH_KEEP_S - 60
    with kb.registry.transaction() as c:
        c.execute("UPDATE collections SET deleted_at = ? WHERE id = ?", (week_ago, old_id))
    assert kb.empty_trash() == 1
    assert [t.name for t in kb.trash()] == ["new"]
    chunks = kb.registry.conn.execute(
        "SELECT count(*) FROM chunks WHERE collection_id = ?", (old_id,)
    ).fetchone()[0]
    assert chunks == 0
