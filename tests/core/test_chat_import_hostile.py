"""Hostile and malformed files to import: refused with a sentence, nothing half-imported."""

from __future__ import annotations

import functools
import json
import sqlite3
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from desktop_app.core.chat import importer
from desktop_app.core.chat.export import export_chat
from desktop_app.core.chat.importer import ImportRefusedError, import_file
from desktop_app.core.chat.store import ChatStore
from desktop_app.core.engine.protocol import TokenEvent
from desktop_app.core.errors import CancelledError, StorageError
from desktop_app.core.sampling import Candidate


@pytest.fixture
def store(glassbox_home: Path) -> Iterator[ChatStore]:
    s = ChatStore()
    s.create_chat("Already here")
    yield s
    s.close()


def rows(store: ChatStore) -> tuple[int, int, int]:
    """Chats (hidden ones included), messages and token records in the file."""
    conn = sqlite3.connect(store.path)
    try:
        chats, messages, tokens = (
            int(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0])
            for t in ("chats", "messages", "tokens")
        )
        return chats, messages, tokens
    finally:
        conn.close()


def node(role: str, text: Any, parent: str | None) -> dict[str, Any]:
    return {
        "message": {
            "author": {"role": role},
            "content": {"content_type": "text", "parts": [text]},
            "create_time": 1700000000.0,
        },
        "parent": parent,
        "children": [],
    }


def conversation(title: str = "ok") -> dict[str, Any]:
    return {
        "title": title,
        "create_time": 1700000000.0,
        "mapping": {
            "root": {"message": None, "parent": None, "children": ["u"]},
            "u": node("user", "hello 你好", "root"),
            "a": node("assistant", "hi", "u"),
        },
        "current_node": "a",
    }


class _Scratch:
    """A throwaway store in a temporary folder, for building Glassbox documents."""

    def __enter__(self) -> ChatStore:
        self._dir = tempfile.TemporaryDirectory()
        self._store = ChatStore(Path(self._dir.name) / "c.sqlite3")
        return self._store

    def __exit__(self, *exc: object) -> None:
        self._store.close()
        self._dir.cleanup()


@functools.cache
def _glassbox_text() -> str:
    event = TokenEvent(0, 5, "hi", 0.5, (Candidate(5, "hi", 1.0, 0.5, 0.5, None),))
    with _Scratch() as s:
        chat = s.create_chat("G")
        q = s.add_message(chat, None, "user", "q")
        s.add_message(chat, q, "assistant", "hi", tokens=[event])
        return export_chat(s, s.chat(chat), [], "json")


def glassbox_doc() -> dict[str, Any]:
    """A fresh copy of a small Glassbox export: a question and a reply with one token."""
    doc: dict[str, Any] = json.loads(_glassbox_text())
    return doc


def refused(store: ChatStore, path: Path, match: str, fmt: str = "auto") -> ImportRefusedError:
    before = rows(store)
    with pytest.raises(ImportRefusedError, match=match) as info:
        import_file(store.path, path, fmt)
    assert rows(store) == before
    assert str(info.value).endswith("Nothing was imported.")
    return info.value


def write(tmp_path: Path, data: Any, name: str = "in.json") -> Path:
    path = tmp_path / name
    if isinstance(data, bytes):
        path.write_bytes(data)
    elif isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_text(json.dumps(data), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- the file itself


def test_a_file_over_the_size_cap_is_refused_before_it_is_read(
    store: ChatStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "huge.json"
    with path.open("wb") as f:
        f.truncate(importer.MAX_FILE_BYTES + 1)  # sparse: no disk used
    opened: list[Path] = []
    real_open = Path.open

    def spy(self: Path, *args: Any, **kwargs: Any) -> Any:
        opened.append(self)
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", spy)
    refused(store, path, "files over 512 MB are not imported")
    assert path not in opened


def test_a_zip_whose_json_unpacks_too_big_is_refused(
    store: ChatStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "MAX_FILE_BYTES", 10_000)
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("conversations.json", "[" + " " * 50_000 + "]")
    assert path.stat().st_size < 10_000
    refused(store, path, "unpacks to")


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"\xff\xfe[\x00]\x00", "not UTF-8"),
        ("{oops", "not valid JSON"),
        ("", "neither"),
        ("42", "neither"),
        ('"a string"', "neither"),
        ("[1, 2]", "Item 1 of the file is not a JSON object"),
        ('[{"foo": 1}]', "neither a Glassbox chat export nor a ChatGPT conversation"),
        ("[]", "holds no conversation"),
        ("[] x", "something follows its list"),
        ("{} {}", "something follows its object"),
        ('[{"mapping": {}} {"mapping": {}}]', "expected ',' or ']'"),
        ('[{"mapping": {}},]', "not valid JSON"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('[{"mapping": {}, "x": ' + "9" * 5000 + "}]", "not valid JSON"),
        ('{"mapping": {}}', "holds no conversation"),
    ],
)
def test_files_that_are_not_chat_exports_are_refused(
    store: ChatStore, tmp_path: Path, data: str | bytes, match: str
) -> None:
    refused(store, write(tmp_path, data), match)


def test_a_zip_without_conversations_is_refused(store: ChatStore, tmp_path: Path) -> None:
    path = tmp_path / "other.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "hi")
    refused(store, path, "without a conversations.json")
    refused(store, write(tmp_path, b"PK\x03\x04garbage", "bad.zip"), "damaged or unsupported zip")


def test_a_missing_file_is_refused(store: ChatStore, tmp_path: Path) -> None:
    refused(store, tmp_path / "nope.json", "cannot be read")


# --------------------------------------------------------------------------- ChatGPT


def _mutate(change: Callable[[dict[str, Any]], None]) -> list[dict[str, Any]]:
    conv = conversation()
    change(conv)
    return [conversation("first"), conv]


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda c: c.update(mapping=[]), "'mapping' is not a JSON object"),
        (lambda c: c["mapping"].update(u="node"), "node 'u' is not a JSON object"),
        (lambda c: c["mapping"]["u"].update(parent=3), "parent of node 'u' is not a node id"),
        (lambda c: c["mapping"]["u"].update(message="text"), "a message is not a JSON object"),
        # u -> a -> u: a circle, with or without the root.
        (lambda c: c["mapping"]["u"].update(parent="a"), "goes round in a circle"),
        (lambda c: c["mapping"]["a"].update(parent="a"), "goes round in a circle"),
    ],
)
def test_broken_chatgpt_trees_are_refused(
    store: ChatStore, tmp_path: Path, change: Callable[[dict[str, Any]], None], match: str
) -> None:
    error = refused(store, write(tmp_path, _mutate(change)), match)
    assert str(error).startswith("Chat 2 ('ok')")


def test_odd_chatgpt_values_are_left_out_not_trusted(store: ChatStore, tmp_path: Path) -> None:
    conv = conversation()
    m = conv["mapping"]
    m["img"] = node("user", {"content_type": "image_asset_pointer"}, "a")  # no text at all
    m["num"] = node("user", 12, "a")  # a part that is not text
    m["who"] = node("assistant", "x", "a")
    m["who"]["message"]["author"] = "assistant"  # not an object: no role
    m["ct"] = node("user", "x", "a")
    m["ct"]["message"]["content"] = "plain"  # content that is not an object
    m["parts"] = node("user", "x", "a")
    m["parts"]["message"]["content"]["parts"] = "x"
    m["blank"] = node("user", "   \n", "a")
    m["odd"] = node("user", "kept", "a")
    m["odd"]["message"]["create_time"] = 1e400  # inf: not a date
    conv["title"] = ["not", "text"]
    conv["create_time"] = "yesterday"
    (chat,) = import_file(store.path, write(tmp_path, [conv])).chat_ids
    contents = [msg.content for msg in store.tree(chat)]
    assert contents == ["hello 你好", "hi", "kept"]
    assert store.chat(chat).title == "hello 你好"


def test_too_many_nodes_or_chats_are_refused(
    store: ChatStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "MAX_MESSAGES_PER_CHAT", 2)
    refused(store, write(tmp_path, [conversation()]), "more than 2 nodes")
    monkeypatch.setattr(importer, "MAX_MESSAGES_PER_CHAT", 100)
    monkeypatch.setattr(importer, "MAX_CHATS", 2)
    refused(store, write(tmp_path, [conversation()] * 3), "more than 2 chats")
    monkeypatch.setattr(importer, "MAX_CHATS", 100)
    monkeypatch.setattr(importer, "MAX_MESSAGES", 3)
    refused(store, write(tmp_path, [conversation()] * 2), "more than 3 messages")


def test_a_bad_chat_after_written_batches_leaves_nothing(
    store: ChatStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "BATCH_CHATS", 2)
    bad = conversation("bad")
    bad["mapping"]["u"]["parent"] = "a"
    path = write(tmp_path, [conversation(f"ok {i}") for i in range(7)] + [bad])
    seen: list[int] = []
    before = rows(store)
    with pytest.raises(ImportRefusedError, match="circle"):
        import_file(store.path, path, progress=lambda p: seen.append(p.chats))
    assert max(seen) == 7  # three batches were written before the bad chat
    assert rows(store) == before
    assert [c.title for c in store.list_chats(include_deleted=True)] == ["Already here"]


def test_cancel_leaves_nothing(
    store: ChatStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "BATCH_CHATS", 1)
    path = write(tmp_path, [conversation(f"ok {i}") for i in range(5)])
    asked = iter(range(100))
    before = rows(store)
    with pytest.raises(CancelledError, match="nothing was added"):
        import_file(store.path, path, cancelled=lambda: next(asked) >= 3)
    assert rows(store) == before


def test_a_database_failure_at_the_end_leaves_nothing(
    store: ChatStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(self: object) -> None:
        raise StorageError("Could not finish the import: disk I/O error.")

    monkeypatch.setattr(importer, "BATCH_CHATS", 1)
    monkeypatch.setattr(importer._Writer, "reveal", fail)
    before = rows(store)
    with pytest.raises(StorageError):
        import_file(store.path, write(tmp_path, [conversation()] * 3))
    assert rows(store) == before


def test_chats_left_pending_by_a_dead_import_are_removed_later(
    store: ChatStore, tmp_path: Path
) -> None:
    conn = sqlite3.connect(store.path)
    with conn:
        for stamp in (1_000_000_000, 4_000_000_000):  # long ago; "in the future" (running)
            conn.execute(
                "INSERT INTO chats (title, created, updated, deleted_at, origin) "
                "VALUES ('x', 0, 0, 1, ?)",
                (f"import-pending:{stamp:012d}:abc",),
            )
    conn.close()
    import_file(store.path, write(tmp_path, [conversation()]))
    origins = [c.origin for c in store.list_chats(include_deleted=True)]
    assert "import-pending:001000000000:abc" not in origins
    assert "import-pending:004000000000:abc" in origins


def test_the_format_asked_for_must_match(store: ChatStore, tmp_path: Path) -> None:
    refused(store, write(tmp_path, [conversation()]), "not a Glassbox chat export", "glassbox")
    refused(store, write(tmp_path, glassbox_doc()), "not a ChatGPT conversation", "openai")


# --------------------------------------------------------------------------- Glassbox


def _glassbox(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    doc = glassbox_doc()
    change(doc)
    return doc


def _deep(levels: int) -> Any:
    value: Any = 1
    for _ in range(levels):
        value = {"k": value}
    return value


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda d: d.update(version=2), "newer Glassbox"),
        (lambda d: d.update(version=True), "version is missing"),
        (lambda d: d.pop("version"), "version is missing"),
        (lambda d: d.update(chat=[]), "'chat' is not a JSON object"),
        (lambda d: d.update(messages={}), "'messages' is not a list"),
        (lambda d: d["chat"].update(title=5), "title or system prompt is not text"),
        (lambda d: d["chat"].update(options="x"), "options is not a JSON object"),
        (lambda d: d["chat"].update(options=_deep(100)), "nested more than 64 levels"),
        (lambda d: d["messages"].append(7), "message 3 is not a JSON object"),
        (lambda d: d["messages"][0].update(id="1"), "id is not a whole number"),
        (lambda d: d["messages"][0].update(id=True), "id is not a whole number"),
        (lambda d: d["messages"][1].update(parent_id=1.5), "parent_id is not a whole number"),
        (lambda d: d["messages"][1].update(id=d["messages"][0]["id"]), "is used twice"),
        (lambda d: d["messages"][1].update(parent_id=999), "which is not in the file"),
        (lambda d: d["messages"][0].update(parent_id=d["messages"][1]["id"]), "circle"),
        (lambda d: d["messages"][0].update(role="tool"), "role is not one of"),
        (lambda d: d["messages"][0].update(content=["a"]), "its text is not text"),
        (lambda d: d["messages"][0].update(content=None), "its text is not text"),
        (lambda d: d["messages"][0].update(status="done"), "status is not one of"),
        (lambda d: d["messages"][0].update(edited="yes"), "'edited' is not true or false"),
        (lambda d: d["messages"][0].update(meta=[]), "details is not a JSON object"),
        (lambda d: d["messages"][0].update(meta=_deep(65)), "nested more than 64 levels"),
        (lambda d: d["messages"][1].update(tokens={}), "tokens are not a list"),
        (lambda d: d["messages"][1]["tokens"].append("t"), "token 2 is not a JSON object"),
        (lambda d: d["messages"][1]["tokens"][0].update(p="high"), "token 1 is damaged"),
        (lambda d: d["messages"][1]["tokens"][0].update(index=None), "token 1 is damaged"),
        (lambda d: d["messages"][1]["tokens"][0].update(forced=1), "'forced' is not true"),
        (lambda d: d["messages"][1]["tokens"][0].update(candidates=3), "not a list"),
        (lambda d: d["messages"][1]["tokens"][0]["candidates"].append([1]), "damaged"),
        (lambda d: d["messages"][1]["tokens"][0]["candidates"][0].pop("text"), "damaged"),
    ],
)
def test_broken_glassbox_exports_are_refused(
    store: ChatStore, tmp_path: Path, change: Callable[[dict[str, Any]], None], match: str
) -> None:
    refused(store, write(tmp_path, _glassbox(change)), match)


def test_too_many_tokens_are_refused(
    store: ChatStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "MAX_TOKENS_PER_MESSAGE", 0)
    refused(store, write(tmp_path, glassbox_doc()), "more than 0 tokens")


def test_lenient_where_nothing_is_lost(store: ChatStore, tmp_path: Path) -> None:
    """Dates that are not dates and a reply still streaming are read sensibly."""
    doc = _glassbox(lambda d: None)
    doc["chat"]["created"] = "soon"
    doc["chat"]["current_leaf"] = True
    doc["messages"][1]["status"] = "streaming"
    doc["messages"][1]["created"] = -5
    doc["messages"][0]["content"] = "\ud800 half a character"
    (chat,) = import_file(store.path, write(tmp_path, doc)).chat_ids
    first, reply = store.tree(chat)
    assert reply.status == "interrupted"
    assert reply.created == store.chat(chat).created
    assert first.content == "? half a character"  # as the store keeps such text


PROJECT = {"name": "P", "system_prompt": "", "sampling": {}, "collections": [], "files": []}


@pytest.mark.parametrize(
    ("project", "match"),
    [
        ("Thesis", "its project is not a JSON object"),
        ({**PROJECT, "name": " "}, "has no name"),
        ({**PROJECT, "name": 3}, "has no name"),
        ({**PROJECT, "files": "/etc/passwd"}, "must be lists of text"),
        ({**PROJECT, "collections": [1]}, "must be lists of text"),
        ({**PROJECT, "sampling": {"temperature": -1}}, "sampling values cannot be used"),
        ({**PROJECT, "sampling": {"rm -rf": 1}}, "sampling values cannot be used"),
        ({**PROJECT, "sampling": []}, "sampling values is not a JSON object"),
    ],
)
def test_broken_projects_are_refused(
    store: ChatStore, tmp_path: Path, project: Any, match: str
) -> None:
    doc = glassbox_doc()
    doc["project"] = project
    refused(store, write(tmp_path, doc), match)
    assert store.list_projects(include_deleted=True) == []


def test_a_project_made_by_a_failed_import_is_removed(
    store: ChatStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "BATCH_CHATS", 1)
    good = glassbox_doc()
    good["project"] = PROJECT
    bad = glassbox_doc()
    bad["messages"][0]["role"] = "tool"
    refused(store, write(tmp_path, [good, good, bad]), "role is not one of")
    assert store.list_projects(include_deleted=True) == []
