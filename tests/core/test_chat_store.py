"""The chat store on real SQLite files: trees, branches, search, recorder, damage."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from desktop_app.core.chat.cards import replay_request, reply_card
from desktop_app.core.chat.codecs import TokenRecord, decode_token, encode_token
from desktop_app.core.chat.db import MIGRATIONS, SCHEMA_VERSION
from desktop_app.core.chat.recorder import ReplyRecorder
from desktop_app.core.chat.store import DB_NAME, MARK_CLOSE, MARK_OPEN, ChatStore
from desktop_app.core.engine.protocol import DoneEvent, GenerateRequest, Message, TokenEvent
from desktop_app.core.errors import InvalidRequestError, StorageError
from desktop_app.core.sampling import Candidate, SamplingParams

REPO = Path(__file__).resolve().parents[2]
#: How long a test waits for a recorder's timed commit (it is due within 1 s).
COMMIT_WAIT_S = 5.0


def tok(index: int, text: str, p: float = 0.5) -> TokenEvent:
    """A token with two candidates: the drawn one and one top-k removed."""
    return TokenEvent(
        index=index,
        id=100 + index,
        text=text,
        p=p,
        candidates=(
            Candidate(100 + index, text, 3.25, p, p + 0.125, None),
            Candidate(7, "<alt>", -1.5, 0.0625, 0.0, "top_k"),
        ),
    )


@pytest.fixture
def store(glassbox_home: Path) -> Iterator[ChatStore]:
    s = ChatStore()
    yield s
    s.close()


def probe(path: Path) -> sqlite3.Connection:
    """A second connection, as another process would read the file."""
    return sqlite3.connect(path)


def wait_for(predicate: Callable[[], bool], timeout: float = COMMIT_WAIT_S) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


# --------------------------------------------------------------------------- opening


def test_default_file_lives_in_the_data_folder_with_wal_and_schema(
    store: ChatStore, glassbox_home: Path
) -> None:
    assert store.path == glassbox_home / DB_NAME
    assert store.path.exists()
    con = probe(store.path)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert store._db().execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert store._db().execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert store.recovered_from is None


def test_reopening_keeps_everything(glassbox_home: Path) -> None:
    with ChatStore() as s:
        chat = s.create_chat("Kept", system_prompt="Be brief.")
        s.add_message(chat, None, "user", "Hello")
    with ChatStore() as s:
        (summary,) = s.list_chats()
        assert (summary.title, summary.system_prompt) == ("Kept", "Be brief.")
        assert [m.content for m in s.current_path(chat)] == ["Hello"]


def test_a_file_from_a_newer_app_is_refused_not_touched(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    con = sqlite3.connect(path)
    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    con.close()
    with pytest.raises(StorageError, match="newer Glassbox"):
        ChatStore(path)
    assert path.exists()


def test_a_file_that_is_not_a_database_is_moved_aside(glassbox_home: Path) -> None:
    glassbox_home.mkdir(parents=True, exist_ok=True)
    garbage = b"this is not SQLite, just some bytes\n" * 200
    (glassbox_home / DB_NAME).write_bytes(garbage)

    with ChatStore() as s:
        assert s.recovered_from is not None
        assert s.recovered_from.name.startswith(f"{DB_NAME}.bad-")
        assert s.recovered_from.read_bytes() == garbage
        assert s.recovery_note is not None and s.recovered_from.name in s.recovery_note
        assert s.list_chats() == []
        chat = s.create_chat("Fresh start")
        assert [c.id for c in s.list_chats()] == [chat]


# --------------------------------------------------------------------------- trees


def test_branches_are_siblings_in_creation_order(store: ChatStore) -> None:
    chat = store.create_chat("Tree")
    q = store.add_message(chat, None, "user", "Question")
    a1 = store.add_message(chat, q, "assistant", "First answer")
    a2 = store.add_message(chat, q, "assistant", "Second answer")
    a3 = store.add_message(chat, q, "assistant", "Third answer")

    assert [m.id for m in store.children(chat, q)] == [a1, a2, a3]
    assert [m.id for m in store.children(chat, None)] == [q]
    assert [m.id for m in store.siblings(a2)] == [a1, a2, a3]
    assert store.branch_position(a2) == (2, 3)
    assert store.branch_position(q) == (1, 1)


def test_path_leaf_and_current_branch(store: ChatStore) -> None:
    chat = store.create_chat("Paths")
    q = store.add_message(chat, None, "user", "Q1")
    a1 = store.add_message(chat, q, "assistant", "A1")
    a2 = store.add_message(chat, q, "assistant", "A2")
    q2 = store.add_message(chat, a1, "user", "Q2 on the first branch")

    assert [m.id for m in store.path_to(q2)] == [q, a1, q2]
    assert store.latest_leaf(q) == a2  # the newest child, not the deepest branch
    assert store.latest_leaf(a1) == q2
    # Adding a message makes it the current leaf.
    assert [m.content for m in store.current_path(chat)] == ["Q1", "A1", "Q2 on the first branch"]

    store.set_current_leaf(chat, a2)
    assert [m.id for m in store.current_path(chat)] == [q, a2]
    # A remembered message that gained replies is followed down to the newest one.
    store.set_current_leaf(chat, a1)
    assert store.current_path(chat)[-1].id == q2
    assert store.chat(chat).current_leaf == a1


def test_messages_cannot_cross_chats(store: ChatStore) -> None:
    one = store.create_chat("One")
    two = store.create_chat("Two")
    m = store.add_message(one, None, "user", "hi")
    with pytest.raises(InvalidRequestError):
        store.add_message(two, m, "assistant", "wrong chat")
    with pytest.raises(InvalidRequestError):
        store.set_current_leaf(two, m)
    with pytest.raises(InvalidRequestError):
        store.add_message(one, m, "robot", "no such role")  # type: ignore[arg-type]
    assert [x.id for x in store.children(one, m)] == []


def test_hand_edit_sets_the_flag_and_bumps_the_chat(store: ChatStore) -> None:
    older = store.create_chat("Older")
    q = store.add_message(older, None, "user", "hi")
    a = store.add_message(older, q, "assistant", "helo")
    store.create_chat("Newer")
    assert store.list_chats()[0].title == "Newer"

    store.update_message_content(a, "hello")
    msg = store.message(a)
    assert (msg.content, msg.edited) == ("hello", True)
    assert store.message(q).edited is False
    assert store.list_chats()[0].title == "Older"


def test_list_is_newest_first_and_rename(store: ChatStore) -> None:
    a = store.create_chat("A")
    b = store.create_chat("B")
    assert [c.title for c in store.list_chats()] == ["B", "A"]
    store.add_message(a, None, "user", "bump")
    assert [c.title for c in store.list_chats()] == ["A", "B"]
    store.rename_chat(b, "  Renamed  ")
    assert store.chat(b).title == "Renamed"
    with pytest.raises(InvalidRequestError):
        store.rename_chat(b, "   ")
    with pytest.raises(StorageError, match="does not exist"):
        store.rename_chat(9999, "Nope")


def test_fork_copies_the_path_with_tokens_and_meta(store: ChatStore) -> None:
    chat = store.create_chat("Origin", system_prompt="Answer in French.")
    q = store.add_message(chat, None, "user", "Say hi")
    tokens = [TokenRecord(tok(0, "Bon")), TokenRecord(tok(1, "jour"), forced=True)]
    a = store.add_message(chat, q, "assistant", "Bonjour", meta={"seed": 42}, tokens=tokens)
    store.add_message(chat, q, "assistant", "Salut")  # another branch, not on the path
    store.add_message(chat, a, "user", "after the fork point")

    fork = store.fork(chat, a)

    summary = store.chat(fork)
    assert summary.title == "Origin (fork)"
    assert summary.system_prompt == "Answer in French."
    path = store.current_path(fork)
    assert [(m.role, m.content) for m in path] == [("user", "Say hi"), ("assistant", "Bonjour")]
    assert path[1].meta == {"seed": 42}
    assert path[0].id != q and path[1].parent_id == path[0].id
    assert store.tokens(path[1].id) == tokens
    # The original is untouched.
    assert len(store.children(chat, q)) == 2
    assert store.tokens(a) == tokens


def test_soft_delete_restore_and_purge(store: ChatStore) -> None:
    keep = store.create_chat("Keep")
    gone = store.create_chat("Gone")
    m = store.add_message(gone, None, "user", "searchable words here")
    store.add_message(gone, m, "assistant", "reply", tokens=[tok(0, "reply")])

    store.delete_chat(gone)
    assert [c.id for c in store.list_chats()] == [keep]
    assert {c.id for c in store.list_chats(include_deleted=True)} == {keep, gone}
    assert store.chat(gone).deleted_at is not None
    assert store.search("searchable") == []

    store.restore_chat(gone)
    assert [c.id for c in store.list_chats()] == [gone, keep]
    assert [h.message_id for h in store.search("searchable")] == [m]

    store.delete_chat(gone)
    assert store.purge_deleted(older_than_s=3600) == 0  # deleted just now
    assert store.purge_deleted() == 1
    assert [c.id for c in store.list_chats(include_deleted=True)] == [keep]
    db = store._db()
    assert db.execute("SELECT count(*) FROM messages").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM tokens").fetchone()[0] == 0
    db.execute("INSERT INTO messages_fts(messages_fts) VALUES ('integrity-check')")


# --------------------------------------------------------------------------- search


@pytest.fixture
def searchable(store: ChatStore) -> dict[str, int]:
    en = store.create_chat("English")
    zh = store.create_chat("中文")
    hostile = store.create_chat("Hostile")
    ids = {
        "en": store.add_message(en, None, "user", "How do Transformers handle long context?"),
        "zh": store.add_message(zh, None, "user", "请介绍一下大语言模型的工作原理。"),
        "hostile": store.add_message(
            hostile,
            None,
            "user",
            'He wrote "quoted" * NEAR(a b) then \'; DROP TABLE chats; -- 100% a_b \\ done',
        ),
        "plain": store.add_message(hostile, None, "user", "nothing special 100 ab"),
    }
    return ids


def test_search_english_is_case_insensitive_with_marked_snippet(
    store: ChatStore, searchable: dict[str, int]
) -> None:
    (hit,) = store.search("transformers")
    assert (hit.message_id, hit.chat_title, hit.role) == (searchable["en"], "English", "user")
    assert f"{MARK_OPEN}Transformers{MARK_CLOSE}" in hit.snippet
    assert hit.plain_snippet == "How do Transformers handle long context?"
    assert ("Transformers", True) in hit.snippet_parts()


def test_search_chinese_long_and_short(store: ChatStore, searchable: dict[str, int]) -> None:
    (hit,) = store.search("大语言模型")
    assert hit.message_id == searchable["zh"]
    assert f"{MARK_OPEN}大语言模型{MARK_CLOSE}" in hit.snippet
    # Two characters cannot use trigrams; the fallback still finds them.
    (short,) = store.search("模型")
    assert short.message_id == searchable["zh"]
    assert f"{MARK_OPEN}模型{MARK_CLOSE}" in short.snippet
    assert store.search("不存在的词") == []


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('"', {"hostile"}),
        ("*", {"hostile"}),
        ("NEAR(", {"hostile"}),
        ("NEAR(a b)", {"hostile"}),
        ("'; DROP", {"hostile"}),
        ("'; DROP TABLE chats; --", {"hostile"}),
        ('"quoted"', {"hostile"}),
        ("%", {"hostile"}),
        ("_", {"hostile"}),
        ("a_b", {"hostile"}),
        ("\\", {"hostile"}),
        ("100%", {"hostile"}),
        ("content:", set()),
        ("a OR b", set()),
        ("-", {"hostile"}),
        ("(", {"hostile"}),
        ("^", set()),
        ("   ", set()),
    ],
)
def test_any_typed_text_is_a_literal_search(
    store: ChatStore, searchable: dict[str, int], query: str, expected: set[str]
) -> None:
    hits = store.search(query)
    names = {name for name, mid in searchable.items() if mid in {h.message_id for h in hits}}
    assert names == expected
    assert len(store.list_chats()) == 3  # nothing was dropped


def test_search_limit(store: ChatStore) -> None:
    chat = store.create_chat("Many")
    for i in range(5):
        store.add_message(chat, None, "user", f"repeated phrase number {i}")
    assert len(store.search("repeated phrase", limit=3)) == 3
    assert len(store.search("re", limit=2)) == 2
    assert store.search("repeated", limit=0) == []


def test_search_follows_edits_and_streamed_text(store: ChatStore) -> None:
    chat = store.create_chat("Edits")
    m = store.add_message(chat, None, "user", "original wording")
    store.update_message_content(m, "rewritten entirely")
    assert store.search("original") == []
    assert [h.message_id for h in store.search("rewritten")] == [m]
    rec = store.begin_reply(chat, m)
    rec.append([tok(0, "stream"), tok(1, "ed reply")])
    rec.finish()
    assert [h.message_id for h in store.search("streamed")] == [rec.message_id]


# --------------------------------------------------------------------------- tokens


def test_token_records_round_trip_exactly(store: ChatStore) -> None:
    chat = store.create_chat("Tokens")
    q = store.add_message(chat, None, "user", "hi")
    events = [tok(0, "Hel", 0.1 + 0.2), tok(1, "lo\n", 1 / 3), tok(2, "\ud83d", 0.999)]
    a = store.add_message(chat, q, "assistant", "Hello", tokens=events)

    records = store.tokens(a)
    assert [r.event for r in records] == events
    assert [r.forced for r in records] == [False, False, False]
    assert store.read_tokens(a).note is None


def test_token_encoding_is_compact_and_exact() -> None:
    event = tok(3, "词", 0.123456789012345)
    text = encode_token(event)
    assert decode_token(text) == event
    assert "candidates" not in text and "removed_by" not in text
    assert json.loads(text)[0] == 3
    with pytest.raises(ValueError):
        decode_token('[1, 2, "x"]')
    with pytest.raises(ValueError):
        decode_token('[1, 2, "x", 0.5, [[1, "a", 0.1, 0.2, 0.3, 5]]]')


def test_reply_card_replays_the_same_request() -> None:
    request = GenerateRequest(
        params=SamplingParams(temperature=0.7, top_k=12, stop=("\n\n",)),
        messages=(Message("system", "Be short."), Message("user", "Hi")),
        candidates=8,
        assistant_prefix="Well,",
    )
    done = DoneEvent("stop", 12, 5, 0.25, 40.0, seed=1234)
    card = json.loads(json.dumps(reply_card(request, model_path="/m.gguf", done=done)))
    assert card["seed"] == 1234 and card["finish_reason"] == "stop"
    assert card["request"]["assistant_prefix"] == "Well,"
    again = replay_request(card)
    assert again.params == request.params.with_seed(1234)
    assert again.messages == request.messages
    assert (again.candidates, again.assistant_prefix) == (8, "Well,")
    with pytest.raises(InvalidRequestError, match="cannot be replayed"):
        replay_request({"model_path": "/m.gguf"})


# --------------------------------------------------------------------------- presets


def test_presets_save_replace_list_delete(store: ChatStore) -> None:
    store.save_preset("Precise", "Answer exactly.", {"temperature": 0.0})
    store.save_preset("creative", "Be playful.", {"temperature": 1.3, "top_p": 0.9})
    store.save_preset("Precise", "Answer exactly and briefly.", {"temperature": 0.1})

    presets = store.presets()
    assert [p.name for p in presets] == ["creative", "Precise"]
    assert presets[1].system_prompt == "Answer exactly and briefly."
    assert presets[1].sampling == {"temperature": 0.1}

    with pytest.raises(InvalidRequestError):
        store.save_preset("Hot", "", {"temperature": 5.0})
    with pytest.raises(InvalidRequestError):
        store.save_preset("Odd", "", {"warmth": 1})
    with pytest.raises(InvalidRequestError):
        store.save_preset("  ", "", {})

    store.delete_preset("creative")
    assert [p.name for p in store.presets()] == ["Precise"]


# --------------------------------------------------------------------------- recorder


def test_recorder_commits_within_a_second_without_flush(store: ChatStore) -> None:
    chat = store.create_chat("Streaming")
    q = store.add_message(chat, None, "user", "go")
    rec = store.begin_reply(chat, q, meta={"model_path": "m.gguf"})
    assert store.message(rec.message_id).status == "streaming"

    rec.append([tok(0, "Hello"), tok(1, ",")])
    rec.append([tok(2, " world")])
    con = probe(store.path)

    def committed() -> bool:
        row = con.execute("SELECT content FROM messages WHERE id = ?", [rec.message_id]).fetchone()
        return bool(row[0] == "Hello, world")

    started = time.monotonic()
    assert wait_for(committed)
    assert time.monotonic() - started < 2.0  # due one interval after the first token
    assert con.execute(
        "SELECT count(*) FROM tokens WHERE message_id = ?", [rec.message_id]
    ).fetchone() == (3,)
    assert con.execute("SELECT status FROM messages WHERE id = ?", [rec.message_id]).fetchone() == (
        "streaming",
    )
    rec.finish("complete", {"finish_reason": "stop"})
    msg = store.message(rec.message_id)
    assert (msg.status, msg.content) == ("complete", "Hello, world")
    assert msg.meta == {"model_path": "m.gguf", "finish_reason": "stop"}


def test_append_does_not_wait_for_a_busy_disk(store: ChatStore) -> None:
    chat = store.create_chat("Busy")
    rec = store.begin_reply(chat, None, interval_s=0.0)
    blocker = sqlite3.connect(store.path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # holds the write lock
    try:
        started = time.monotonic()
        for i in range(50):
            rec.append([tok(i, "x")])
        assert time.monotonic() - started < 0.5
        time.sleep(0.3)  # the recorder thread is now waiting for the lock
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    rec.flush()
    assert store.message(rec.message_id).content == "x" * 50
    rec.finish()


def test_flush_finish_and_errors(store: ChatStore) -> None:
    chat = store.create_chat("Finish")
    q = store.add_message(chat, None, "user", "go")
    rec = store.begin_reply(chat, q, interval_s=60.0)
    rec.append([tok(0, "abc")])
    rec.flush()
    assert store.message(rec.message_id).content == "abc"
    rec.append([tok(1, "def"), tok(2, "<stop>")], forced=True)
    rec.finish("cancelled", {"finish_reason": "cancelled"}, content="abcdef")
    rec.finish("complete")  # a second call changes nothing
    msg = store.message(rec.message_id)
    assert (msg.status, msg.content, msg.meta) == (
        "cancelled",
        "abcdef",
        {"finish_reason": "cancelled"},
    )
    assert [r.forced for r in store.tokens(rec.message_id)] == [False, True, True]
    assert rec.finished and rec.error is None
    with pytest.raises(RuntimeError):
        rec.append([tok(3, "late")])
    rec2 = store.begin_reply(chat, q)
    with pytest.raises(InvalidRequestError):
        rec2.finish("streaming")
    rec2.finish("error")
    assert store.message(rec2.message_id).status == "error"


def test_saved_tells_what_is_on_disk(store: ChatStore) -> None:
    """What a caller may call acknowledged: each pair was committed when it is read."""
    chat = store.create_chat("Saved")
    q = store.add_message(chat, None, "user", "go")
    rec = store.begin_reply(chat, q, tokens=[TokenRecord(tok(0, "The"))], interval_s=60.0)
    assert rec.saved == (1, "The")
    rec.append([tok(1, " cat")])
    assert rec.saved == (1, "The")  # queued, not yet committed
    rec.flush()
    assert (
        rec.saved
        == (2, "The cat")
        == (
            len(store.tokens(rec.message_id)),
            store.message(rec.message_id).content,
        )
    )
    rec.append([tok(2, " sat<stop>")])
    rec.finish(content="The cat sat")
    assert (
        rec.saved
        == (3, "The cat sat")
        == (
            len(store.tokens(rec.message_id)),
            store.message(rec.message_id).content,
        )
    )


def test_begin_reply_with_a_copied_prefix(store: ChatStore) -> None:
    chat = store.create_chat("Branch from a token")
    q = store.add_message(chat, None, "user", "go")
    prefix = [TokenRecord(tok(0, "The")), TokenRecord(tok(1, " cat"), forced=True)]
    rec = store.begin_reply(chat, q, tokens=prefix)
    assert store.message(rec.message_id).content == "The cat"
    assert store.chat(chat).current_leaf == rec.message_id
    rec.append([tok(0, " sat")])
    rec.finish()
    records = store.tokens(rec.message_id)
    assert [r.event.text for r in records] == ["The", " cat", " sat"]
    assert [r.forced for r in records] == [False, True, False]
    assert store.message(rec.message_id).content == "The cat sat"


def test_closing_the_store_interrupts_open_replies(glassbox_home: Path) -> None:
    s = ChatStore()
    chat = s.create_chat("Closing")
    rec = s.begin_reply(chat, None, interval_s=60.0)
    rec.append([tok(0, "half a")])
    s.close()
    assert rec.finished
    with ChatStore() as again:
        msg = again.message(rec.message_id)
        assert (msg.status, msg.content) == ("interrupted", "half a")


def test_recorders_and_gui_writes_interleave(store: ChatStore) -> None:
    chat = store.create_chat("Concurrent")
    recs = [store.begin_reply(chat, None, interval_s=0.01) for _ in range(3)]

    def feed(r: ReplyRecorder) -> None:
        for i in range(40):
            r.append([tok(i, "y")])
            time.sleep(0.002)

    threads = [threading.Thread(target=feed, args=(r,)) for r in recs]
    for t in threads:
        t.start()
    for i in range(20):
        store.add_message(chat, None, "user", f"gui {i}")
    for t in threads:
        t.join()
    for r in recs:
        r.finish()
        assert store.message(r.message_id).content == "y" * 40
        assert len(store.tokens(r.message_id)) == 40


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_a_killed_process_leaves_the_committed_reply_interrupted(tmp_path: Path) -> None:
    db = tmp_path / "killed.sqlite3"
    script = textwrap.dedent(
        """
        import os, signal, sqlite3, sys, time
        from desktop_app.core.chat.store import ChatStore
        from desktop_app.core.engine.protocol import TokenEvent
        store = ChatStore(sys.argv[1])
        chat = store.create_chat("Killed")
        user = store.add_message(chat, None, "user", "hi")
        rec = store.begin_reply(chat, user, {"model_path": "m.gguf"})
        rec.append([TokenEvent(i, i, t, 0.5, ()) for i, t in enumerate(["Par", "tial"])])
        probe = sqlite3.connect(sys.argv[1])
        deadline = time.monotonic() + 10
        sql = "SELECT content FROM messages WHERE id = ?"
        while probe.execute(sql, (rec.message_id,)).fetchone()[0] != "Partial":
            if time.monotonic() > deadline:
                sys.exit(3)
            time.sleep(0.02)
        print(rec.message_id, flush=True)
        rec.append([TokenEvent(2, 2, " never saved", 0.5, ())])
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, str(db)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    message_id = int(proc.stdout.split()[0])

    with ChatStore(db) as s:
        msg = s.message(message_id)
        assert (msg.status, msg.content) == ("interrupted", "Partial")
        assert msg.meta == {"model_path": "m.gguf"}
        assert [r.event.text for r in s.tokens(message_id)] == ["Par", "tial"]
        (chat,) = s.list_chats()
        assert [m.content for m in s.current_path(chat.id)] == ["hi", "Partial"]


# --------------------------------------------------------------------------- damage


def test_damaged_rows_load_with_defaults_and_notes(store: ChatStore) -> None:
    good = store.create_chat("Good")
    gq = store.add_message(good, None, "user", "fine question")
    ga = store.add_message(good, gq, "assistant", "fine", tokens=[tok(0, "fine")])
    bad = store.create_chat("Bad")
    bq = store.add_message(bad, None, "user", "question")
    ba = store.add_message(bad, bq, "assistant", "answer", meta={"seed": 1}, tokens=[tok(0, "x")])
    weird = store.create_chat("Weird")

    db = store._db()
    db.execute("UPDATE messages SET meta = '{not json' WHERE id = ?", [ba])
    db.execute("UPDATE tokens SET data = 'garbage[' WHERE message_id = ?", [ba])
    db.execute("UPDATE chats SET title = CAST(x'4f6bfffe21' AS TEXT) WHERE id = ?", [weird])
    db.execute("UPDATE chats SET updated = 'yesterday' WHERE id = ?", [weird])

    chats = {c.id: c for c in store.list_chats()}
    assert set(chats) == {good, bad, weird}
    assert chats[weird].title.startswith("Ok") and "\ufffd" in chats[weird].title
    assert chats[weird].note is not None and "dates" in chats[weird].note

    path = store.current_path(bad)
    assert [m.content for m in path] == ["question", "answer"]
    assert path[1].meta == {}
    assert path[1].note is not None and "could not be read" in path[1].note
    read = store.read_tokens(ba)
    assert read.records == () and read.note is not None
    assert store.tokens(ba) == []

    assert store.message(ga).note is None
    assert [r.event.text for r in store.tokens(ga)] == ["fine"]
    assert [h.message_id for h in store.search("fine question")] == [gq]


def test_a_missing_token_position_drops_the_records(store: ChatStore) -> None:
    chat = store.create_chat("Gap")
    a = store.add_message(chat, None, "assistant", "abc", tokens=[tok(0, "a"), tok(1, "b")])
    store._db().execute("DELETE FROM tokens WHERE message_id = ? AND idx = 0", [a])
    assert store.read_tokens(a).records == ()
    assert "missing" in (store.read_tokens(a).note or "")


def test_a_damaged_preset_keeps_its_name(store: ChatStore) -> None:
    store.save_preset("Broken", "prompt", {"temperature": 0.2})
    store._db().execute("UPDATE presets SET sampling = '[1, 2' WHERE name = 'Broken'")
    (preset,) = store.presets()
    assert (preset.name, preset.system_prompt, dict(preset.sampling)) == ("Broken", "prompt", {})
    assert preset.note is not None


def test_a_closed_store_says_so(glassbox_home: Path) -> None:
    s = ChatStore()
    s.close()
    s.close()
    assert s.closed
    with pytest.raises(StorageError, match="closed"):
        s.list_chats()
    with ChatStore() as again, pytest.raises(StorageError, match="does not exist"):
        again.message(12345)


def test_chat_options_are_saved_and_an_old_file_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    # A file written by the first schema (before chats had options).
    conn = sqlite3.connect(path)
    conn.executescript(f"BEGIN;\n{MIGRATIONS[0]}\nPRAGMA user_version = 1;\nCOMMIT;")
    conn.execute(
        "INSERT INTO chats (title, created, updated, system_prompt) VALUES ('Old', 1, 1, '')"
    )
    conn.commit()
    conn.close()
    with ChatStore(path) as store:
        (chat,) = store.list_chats()
        assert chat.title == "Old" and chat.options == {}
        store.set_chat_options(chat.id, {"collections": ["seeds", "笔记"], "reasoning": "off"})
        assert store.chat(chat.id).options == {"collections": ["seeds", "笔记"], "reasoning": "off"}
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()


def test_queued_messages_keep_their_order_and_edits(store: ChatStore) -> None:
    chat = store.create_chat("Queue")
    other = store.create_chat("Other")
    first = store.queue_message(chat, "先翻译这一段")
    second = store.queue_message(chat, "then summarise it")
    store.queue_message(other, "elsewhere")
    store.update_queued_message(first, "先翻译这两段")
    assert [(q.id, q.content) for q in store.queued_messages(chat)] == [
        (first, "先翻译这两段"),
        (second, "then summarise it"),
    ]
    store.remove_queued_message(first)
    assert [q.content for q in store.queued_messages(chat)] == ["then summarise it"]
    with pytest.raises(StorageError, match="already sent or removed"):
        store.update_queued_message(first, "too late")
    store.clear_queue(chat)
    assert store.queued_messages(chat) == []
    assert [q.content for q in store.queued_messages(other)] == ["elsewhere"]


def test_a_schema_2_file_is_migrated_and_queues_messages(tmp_path: Path) -> None:
    path = tmp_path / "schema2.sqlite3"
    # A file written before messages could be queued (schema 2).
    conn = sqlite3.connect(path)
    conn.executescript(
        f"BEGIN;\n{MIGRATIONS[0]}\n{MIGRATIONS[1]}\nPRAGMA user_version = 2;\nCOMMIT;"
    )
    conn.execute(
        "INSERT INTO chats (title, created, updated, system_prompt, options)"
        " VALUES ('Old', 1, 1, '', '{\"reasoning\": \"off\"}')"
    )
    conn.commit()
    conn.close()
    with ChatStore(path) as store:
        (chat,) = store.list_chats()
        assert chat.title == "Old" and chat.options == {"reasoning": "off"}
        assert store.queued_messages(chat.id) == []
        store.queue_message(chat.id, "still there after a restart")
    with ChatStore(path) as store:
        assert [q.content for q in store.queued_messages(chat.id)] == [
            "still there after a restart"
        ]
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4
    conn.close()


def test_a_schema_3_file_gains_projects_and_origins_and_keeps_its_chats(tmp_path: Path) -> None:
    path = tmp_path / "schema3.sqlite3"
    conn = sqlite3.connect(path)
    conn.executescript(
        "BEGIN;\n" + "\n".join(MIGRATIONS[:3]) + "\nPRAGMA user_version = 3;\nCOMMIT;"
    )
    conn.execute(
        "INSERT INTO chats (title, created, updated, system_prompt) "
        "VALUES ('Kept', 1, 1, 'Be brief')"
    )
    conn.commit()
    conn.close()
    with ChatStore(path) as store:
        (chat,) = store.list_chats()
        assert (chat.title, chat.system_prompt) == ("Kept", "Be brief")
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 4
    assert conn.execute("SELECT origin, project_id FROM chats").fetchone() == ("", None)
    assert conn.execute("SELECT count(*) FROM projects").fetchone() == (0,)
    conn.close()
