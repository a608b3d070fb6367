"""The kill checks of ``glassbox bench faults`` see a loss when there is one.

``stream-kill`` and ``ingest-kill`` report 0 lost and 0 orphans; these tests show
that their judges would report a lost acknowledged message, a shortened reply, a
chunk missing from Chroma and a chunk twice.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np

from desktop_app.bench.faults.ingest_kill import COLLECTION, inspect
from desktop_app.bench.faults.stream_kill import Ack, Moment, check_store, due, parse_ack, where
from desktop_app.core.chat.store import ChatStore
from desktop_app.core.engine.protocol import TokenEvent


def tok(index: int, text: str) -> TokenEvent:
    return TokenEvent(index, index, text, 0.5, ())


def test_acknowledged_messages_are_found_and_losses_are_seen(tmp_path: Path) -> None:
    db = tmp_path / "chats.sqlite3"
    with ChatStore(db) as store:
        chat = store.create_chat("c")
        user = store.add_message(chat, None, "user", "Hello")
        rec = store.begin_reply(chat, user, interval_s=60.0)
        rec.append([tok(0, "Hi"), tok(1, " there")])
        rec.flush()
        saved = rec.saved
    acks = {
        user: Ack("user", user, 0, "Hello"),
        rec.message_id: Ack("reply", rec.message_id, saved[0], saved[1]),
    }
    assert check_store(db, acks) == (True, [])

    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE messages SET content = 'Hi' WHERE id = ?", [rec.message_id])
        conn.execute("DELETE FROM tokens WHERE message_id = ? AND idx = 1", [rec.message_id])
    conn.close()
    ok, lost = check_store(db, acks)
    assert ok and len(lost) == 1 and "acknowledged 2 tokens" in lost[0]

    acks[999] = Ack("user", 999, 0, "never saved")
    assert "user message 999 is missing" in check_store(db, acks)[1]


def test_the_child_s_lines_are_read_and_the_moment_found() -> None:
    ack = parse_ack('ACK reply 7 3 " I\'m \\u4e2d"')
    assert ack == Ack("reply", 7, 3, " I'm 中")
    assert parse_ack("TOKEN 0 1") is None
    assert parse_ack('ACK reply 7 3 " I') is None  # cut by the kill
    moment = Moment("stream", turn=1, token=3)
    assert not due(moment, "TOKEN 1 2") and due(moment, "TOKEN 1 3")
    assert due(moment, "PROMPT 2")  # the reply ended before its third token
    assert where([]) == "start-up"
    assert where(["ENGINE 5", 'ACK user 1 0 "q"', 'ACK reply 2 0 ""', "PROMPT 0"]) == "prompt"
    assert where(["ENGINE 5", "PROMPT 0", "TOKEN 0 1", 'ACK reply 2 1 "a"']) == "streaming"
    assert where(["ENGINE 5", "PROMPT 0", "TOKEN 0 1", 'ACK done 2 1 "a"']) == "between turns"


def test_duplicate_and_orphan_chunks_are_seen(tmp_path: Path) -> None:
    from desktop_app.core.kb.db import NewChunk, open_registry
    from desktop_app.core.kb.index import VectorIndex, chunk_metadata

    home = tmp_path / "home"
    doc = tmp_path / "a.txt"
    doc.write_text("alpha beta", "utf-8")
    registry = open_registry(home / "kb")
    coll = registry.create_collection(COLLECTION, "m", 2, None)
    chunks = [NewChunk(f"c{i}", i, f"text {i}", f"text {i}", None, None, i, i + 1) for i in (0, 1)]
    doc_id, _ = registry.replace_document(
        coll, str(doc), sha256="s", size=10, mtime=0.0, type_="txt", chunker_version=1,
        chunks=chunks,
    )  # fmt: skip
    ids = ["c0", "c1"]
    vectors = np.ones((2, 2), dtype=np.float32)
    registry.store_vectors(coll, ids, vectors)
    index = VectorIndex(home / "kb", registry.kb_id())
    index.upsert(coll, ids, vectors, [chunk_metadata(str(doc), "txt")] * 2)
    registry.mark_in_index(coll, ids)
    registry.mark_indexed([doc_id])
    registry.set_dirty(coll, False)
    registry.close()
    clean, stored = inspect(home, None)
    assert clean.problems == () and (clean.sqlite, clean.chroma) == (2, 2)
    assert stored == set(ids)

    index.delete(coll, ids[:1])
    conn = sqlite3.connect(home / "kb" / "kb.sqlite3")
    with conn:
        conn.execute(
            "INSERT INTO chunks (chunk_id, doc_id, collection_id, idx, text, search_text, "
            "bigram_text, char_start, char_end) SELECT chunk_id || 'x', doc_id, collection_id, "
            "idx, text, search_text, bigram_text, char_start, char_end FROM chunks LIMIT 1"
        )
    conn.close()
    found, _ = inspect(home, set(ids))
    assert found.duplicates == 2  # the same position twice, the same text there twice
    assert found.orphans == 2  # two chunks in SQLite only
    assert any("1 extra" in p for p in found.problems)
