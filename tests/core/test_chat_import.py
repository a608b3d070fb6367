"""Import: Glassbox's own JSON export comes back whole; ChatGPT's mapping tree becomes branches."""

from __future__ import annotations

import json
import math
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_app.core.chat import importer
from desktop_app.core.chat.codecs import TokenRecord
from desktop_app.core.chat.export import export_chat
from desktop_app.core.chat.importer import (
    ImportProgress,
    ImportRefusedError,
    Origin,
    import_file,
    parse_origin,
)
from desktop_app.core.chat.store import ChatStore, StoredMessage
from desktop_app.core.engine.protocol import TokenEvent
from desktop_app.core.sampling import Candidate

FIXTURE = Path(__file__).parents[1] / "data" / "chatgpt" / "conversations.json"


def tok(index: int, text: str, p: float) -> TokenEvent:
    return TokenEvent(
        index=index,
        id=100 + index,
        text=text,
        p=p,
        candidates=(
            Candidate(100 + index, text, 3.25, p, min(1.0, p + 0.125), None),
            Candidate(7, "猫", -math.inf, 0.1, 0.0, "top_k"),
        ),
    )


@pytest.fixture
def store(glassbox_home: Path) -> Iterator[ChatStore]:
    s = ChatStore()
    yield s
    s.close()


def branchy_chat(store: ChatStore) -> int:
    """A chat with two questions (an edit), two replies to one of them (a regenerate),
    token records, an edited reply, an interrupted one, a card and options."""
    chat = store.create_chat("分支 & branches", system_prompt="Be kind.\n要简短。")
    store.rename_chat(chat, "分支  &\tbranches " + "长" * 600)
    store.set_chat_options(chat, {"collections": ["notes"], "reasoning": "off", "deep": [{"a": 1}]})
    q1 = store.add_message(chat, None, "user", "Name a cat 猫")
    first = [TokenRecord(tok(0, "Mi", 0.5)), TokenRecord(tok(1, "so", 0.25), forced=True)]
    a1 = store.add_message(
        chat,
        q1,
        "assistant",
        "Miso",
        meta={"model_path": "/m/tiny.gguf", "seed": 7, "sampling": {"temperature": 0.7}},
        tokens=first,
    )
    store.add_message(chat, a1, "user", "And a dog?")
    a2 = store.add_message(
        chat, q1, "assistant", "豆", status="interrupted", tokens=[tok(0, "豆", 0.875)]
    )
    store.update_message_content(a2, "豆豆 (edited)")
    q1b = store.add_message(chat, None, "user", "Name a dog")
    a3 = store.add_message(chat, q1b, "assistant", "Rex", status="error", tokens=[tok(0, "Rex", 1)])
    store.set_current_leaf(chat, a1)
    assert a3
    return chat


def shape(store: ChatStore, chat_id: int) -> list[tuple[object, ...]]:
    """Every message of the chat with its parent as a position, so ids do not matter."""
    tree = store.tree(chat_id)
    pos = {m.id: i for i, m in enumerate(tree)}

    def row(m: StoredMessage) -> tuple[object, ...]:
        parent = None if m.parent_id is None else pos[m.parent_id]
        return (
            parent,
            m.role,
            m.content,
            m.created,
            m.status,
            m.edited,
            dict(m.meta),
            store.tokens(m.id),
            [s.content for s in store.siblings(m.id)],
        )

    return [row(m) for m in tree]


def test_glassbox_export_then_import_gives_every_message_branch_and_token_back(
    store: ChatStore, tmp_path: Path
) -> None:
    old = branchy_chat(store)
    text = export_chat(store, store.chat(old), store.current_path(old), "json")
    path = tmp_path / "chat.json"
    path.write_text(text, encoding="utf-8")

    result = import_file(store.path, path)

    assert (result.format, result.chats, result.messages) == ("glassbox", 1, 6)
    assert result.tokens == 4
    (new,) = result.chat_ids
    assert new != old
    assert shape(store, new) == shape(store, old)
    before, after = store.chat(old), store.chat(new)
    assert after.title == before.title
    assert after.system_prompt == before.system_prompt
    assert dict(after.options) == dict(before.options)
    assert (after.created, after.updated) == (before.created, before.updated)
    assert after.deleted_at is None
    # The chat opens on the branch it was exported on.
    assert [m.content for m in store.current_path(new)] == ["Name a cat 猫", "Miso", "And a dog?"]
    assert [r.forced for r in store.tokens(store.current_path(new)[1].id)] == [False, True]
    origin = parse_origin(after.origin)
    assert origin is not None and (origin.source, origin.file) == ("glassbox", "chat.json")
    assert before.origin == ""
    # The imported chat is found by search like any other.
    assert {h.chat_id for h in store.search("豆豆")} == {old, new}


def test_json_export_holds_every_branch(store: ChatStore) -> None:
    chat = branchy_chat(store)
    doc = json.loads(export_chat(store, store.chat(chat), store.current_path(chat), "json"))
    assert [m["content"] for m in doc["messages"]] == [
        "Name a cat 猫",
        "Miso",
        "And a dog?",
        "豆豆 (edited)",
        "Name a dog",
        "Rex",
    ]
    assert doc["chat"]["current_leaf"] == store.chat(chat).current_leaf


def test_a_second_round_trip_changes_nothing(store: ChatStore, tmp_path: Path) -> None:
    old = branchy_chat(store)
    one = tmp_path / "one.json"
    one.write_text(export_chat(store, store.chat(old), [], "json"), encoding="utf-8")
    (mid,) = import_file(store.path, one).chat_ids
    two = tmp_path / "two.json"
    two.write_text(export_chat(store, store.chat(mid), [], "json"), encoding="utf-8")
    (new,) = import_file(store.path, two).chat_ids
    assert shape(store, new) == shape(store, old)


def test_a_list_of_glassbox_exports_imports_every_chat(store: ChatStore, tmp_path: Path) -> None:
    a = store.create_chat("A")
    store.add_message(a, None, "user", "first")
    b = branchy_chat(store)
    docs = [json.loads(export_chat(store, store.chat(c), [], "json")) for c in (a, b)]
    path = tmp_path / "both.json"
    path.write_text(json.dumps(docs), encoding="utf-8")
    result = import_file(store.path, path, "glassbox")
    assert result.chats == 2
    assert [store.chat(c).title for c in result.chat_ids] == ["A", store.chat(b).title]


def test_chatgpt_export_becomes_chats_with_branches(store: ChatStore) -> None:
    seen: list[ImportProgress] = []
    result = import_file(store.path, FIXTURE, progress=seen.append)

    assert result.format == "openai"
    assert (result.chats, result.messages, result.tokens) == (2, 9, 0)
    # The hidden system node, the tool call and its output; the system-only chat.
    assert (result.skipped_messages, result.skipped_chats) == (4, 1)
    assert seen and seen[-1].fraction == 1.0 and seen[-1].chats == 2

    cats, sums = (store.chat(c) for c in result.chat_ids)
    assert cats.title == "给猫起名字 · Naming the cat"
    assert (cats.created, cats.updated) == (1700000000.123, 1700000400.5)
    tree = store.tree(cats.id)
    assert [(m.role, m.content) for m in tree] == [
        ("user", "给我的猫起个名字吧。Name my cat, please."),
        ("assistant", "可以叫它「小米」。"),
        ("user", "One in English?"),
        ("assistant", "How about **Miso**? <script>alert(1)</script>"),
        ("assistant", "叫它「豆豆」怎么样？"),
        ("user", "这张照片里的猫像豆豆吗？"),  # the image part is left out
        ("assistant", "是的，很像！It does look like 豆豆."),
    ]
    question = tree[0]
    assert question.parent_id is None
    # The regenerated reply is a second branch under the question, in time order.
    assert [m.content for m in store.children(cats.id, question.id)] == [
        "可以叫它「小米」。",
        "叫它「豆豆」怎么样？",
    ]
    # current_node (after the tool call) opens the second branch.
    assert [m.content for m in store.current_path(cats.id)] == [
        "给我的猫起个名字吧。Name my cat, please.",
        "叫它「豆豆」怎么样？",
        "这张照片里的猫像豆豆吗？",
        "是的，很像！It does look like 豆豆.",
    ]
    assert tree[1].created == 1700000005.0 and tree[1].meta == {"imported_model": "gpt-4o"}
    assert all(m.status == "complete" and not m.edited for m in tree)

    # No title: the first line of the first message stands in.
    assert sums.title == "What is 2 + 2?"
    reply = store.current_path(sums.id)[-1]
    assert (reply.content, reply.status) == ("4", "complete")

    origin = parse_origin(cats.origin)
    assert origin is not None
    assert (origin.source, origin.file, origin.source_name) == (
        "chatgpt",
        "conversations.json",
        "ChatGPT",
    )
    assert origin.sentence().startswith("Imported from a ChatGPT export, conversations.json, on ")
    # One import: the same source, file and day; each keeps its own id in the file.
    other = parse_origin(sums.origin)
    assert other is not None
    assert (other.source, other.file, other.date) == (origin.source, origin.file, origin.date)
    assert other.chat != origin.chat


def test_chatgpt_zip_is_read(store: ChatStore, tmp_path: Path) -> None:
    archive = tmp_path / "chatgpt-export.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("chat.html", "<html></html>")
        zf.write(FIXTURE, "conversations.json")
    result = import_file(store.path, archive, "openai")
    assert result.chats == 2


def test_a_chatgpt_node_whose_parent_is_missing_starts_the_chat(
    store: ChatStore, tmp_path: Path
) -> None:
    conv = {
        "title": "orphan",
        "mapping": {
            "x": {
                "message": {
                    "author": {"role": "user"},
                    "content": {"content_type": "text", "parts": ["hi"]},
                },
                "parent": "gone",
            }
        },
        "current_node": "nowhere",
    }
    path = tmp_path / "c.json"
    path.write_text(json.dumps(conv), encoding="utf-8")
    (chat,) = import_file(store.path, path).chat_ids
    assert [m.parent_id for m in store.tree(chat)] == [None]
    assert store.chat(chat).current_leaf is None


def test_origin_text_that_is_not_ours_reads_as_none() -> None:
    assert parse_origin("") is None
    assert parse_origin("{nope") is None
    assert parse_origin('{"source": 1, "file": "f", "date": "d"}') is None
    assert parse_origin("[]") is None
    o = Origin("chatgpt", 'a "b".json', "2026-12-06")
    assert parse_origin(o.encode()) == o


def test_result_summary_reads_well(store: ChatStore) -> None:
    result = import_file(store.path, FIXTURE)
    assert result.sentence() == (
        "Imported 2 chats (9 messages, 0 token records) from a ChatGPT export; left out "
        "4 system, tool, hidden or empty messages and 1 conversations with no messages."
    )
    data = result.as_dict()
    assert data["type"] == "import" and data["origin"]["source"] == "chatgpt"
    assert json.dumps(data)


def test_unknown_format_is_refused(store: ChatStore) -> None:
    with pytest.raises(ImportRefusedError, match="Unknown import format"):
        importer.import_file(store.path, FIXTURE, "csv")


def test_a_chat_exported_from_a_project_goes_back_into_it(store: ChatStore, tmp_path: Path) -> None:
    pid = store.create_project(
        "Thesis", system_prompt="Tutor.", sampling={"temperature": 0.3}, collections=["papers"]
    )
    chat = store.create_chat_in_project(pid, "Chapter 1")
    store.add_message(chat, None, "user", "Outline chapter 1.")
    path = tmp_path / "c.json"
    path.write_text(export_chat(store, store.chat(chat), [], "json"), encoding="utf-8")

    # Into the same file: the project of that name takes it.
    (same,) = import_file(store.path, path).chat_ids
    assert store.chat(same).project_id == pid
    assert len(store.list_projects()) == 1

    # Into another file: the project is made with the exported settings.
    with ChatStore(tmp_path / "other.sqlite3") as other:
        (moved,) = import_file(other.path, path).chat_ids
        (project,) = other.list_projects()
        assert other.chat(moved).project_id == project.id
        assert (project.name, project.system_prompt) == ("Thesis", "Tutor.")
        assert (dict(project.sampling), project.collections) == ({"temperature": 0.3}, ("papers",))


def test_importing_the_same_chatgpt_file_again_adds_nothing(store: ChatStore) -> None:
    first = import_file(store.path, FIXTURE)
    assert (first.chats, first.already_imported) == (2, 0)
    again = import_file(store.path, FIXTURE)
    assert (again.chats, again.messages, again.already_imported) == (0, 0, 2)
    assert again.as_dict()["already_imported"] == 2
    assert again.sentence() == (
        "Nothing was added: the 2 chats of this ChatGPT export were already imported, skipped."
    )
    assert len(store.list_chats()) == 2
    # A chat deleted since comes back with the next import; the other is still skipped.
    store.delete_chat(first.chat_ids[0])
    third = import_file(store.path, FIXTURE)
    assert (third.chats, third.already_imported) == (1, 1)
    assert third.sentence().endswith("; 1 already imported, skipped.")
    assert len(store.list_chats()) == 2


def test_a_glassbox_export_imported_twice_is_added_once(store: ChatStore, tmp_path: Path) -> None:
    chat = branchy_chat(store)
    path = tmp_path / "chat.json"
    path.write_text(export_chat(store, store.chat(chat), store.current_path(chat), "json"), "utf-8")
    first = import_file(store.path, path)
    origin = parse_origin(store.chat(first.chat_ids[0]).origin)
    assert origin is not None and origin.chat == str(chat)
    assert origin.created == store.chat(chat).created
    again = import_file(store.path, path)
    assert (again.chats, again.already_imported) == (0, 1)
    assert len(store.list_chats()) == 2  # the chat and its one import


def test_the_same_conversation_twice_in_one_file_is_added_once(
    store: ChatStore, tmp_path: Path
) -> None:
    conversations = json.loads(FIXTURE.read_text("utf-8"))
    doubled = tmp_path / "conversations.json"
    doubled.write_text(json.dumps(conversations + conversations), "utf-8")
    result = import_file(store.path, doubled)
    assert (result.chats, result.already_imported) == (2, 2)
    # Conversations without an id are never taken for one another.
    for c in conversations:
        c.pop("id", None)
        c.pop("conversation_id", None)
    doubled.write_text(json.dumps(conversations + conversations), "utf-8")
    assert import_file(store.path, doubled).chats == 4
