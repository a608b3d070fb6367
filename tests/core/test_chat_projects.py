"""Projects and deletes with Undo in the chat store, on real SQLite files."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_app.core.chat.export import export_chat
from desktop_app.core.chat.store import ChatStore
from desktop_app.core.errors import InvalidRequestError, StorageError

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def store(glassbox_home: Path) -> Iterator[ChatStore]:
    s = ChatStore()
    yield s
    s.close()


def test_project_create_update_list_and_chat_summary(store: ChatStore) -> None:
    pid = store.create_project(
        "Thesis",
        system_prompt="Answer as a patient tutor.",
        sampling={"temperature": 0.3},
        collections=["papers", "papers", "notes"],
        files=["/home/me/outline.md"],
    )
    other = store.create_project("  alpha  ")
    assert [p.name for p in store.list_projects()] == ["alpha", "Thesis"]
    project = store.project(pid)
    assert project.system_prompt == "Answer as a patient tutor."
    assert dict(project.sampling) == {"temperature": 0.3}
    assert project.collections == ("papers", "notes")
    assert project.files == ("/home/me/outline.md",)
    assert project.note is None

    store.update_project(pid, name="Thesis 2026", files=[])
    project = store.project(pid)
    assert (project.name, project.files, project.collections) == (
        "Thesis 2026",
        (),
        ("papers", "notes"),
    )
    store.rename_project(other, "Beta")
    assert store.project(other).name == "Beta"
    with pytest.raises(InvalidRequestError):
        store.create_project("   ")
    with pytest.raises(InvalidRequestError):
        store.update_project(pid, name="")
    # Sampling values are checked as a preset's are.
    with pytest.raises(InvalidRequestError):
        store.create_project("Hot", sampling={"temperature": -4})
    with pytest.raises(StorageError):
        store.project(9999)


def test_new_chat_in_project_inherits_and_moves(store: ChatStore) -> None:
    pid = store.create_project("Work", system_prompt="Be brief.", collections=["handbook"])
    chat = store.create_chat_in_project(pid, "Question")
    summary = store.chat(chat)
    assert summary.project_id == pid
    assert summary.system_prompt == "Be brief."
    assert summary.options["collections"] == ["handbook"]

    loose = store.create_chat("Loose")
    assert store.chat(loose).project_id is None
    store.move_chat(loose, pid)
    assert store.chat(loose).project_id == pid
    store.move_chat(chat, None)
    assert store.chat(chat).project_id is None
    # Moving a chat keeps its own settings.
    assert store.chat(chat).system_prompt == "Be brief."
    with pytest.raises(StorageError):
        store.move_chat(loose, 4242)
    with pytest.raises(StorageError):
        store.move_chat(4242, pid)


def test_deleted_project_keeps_its_chats_and_comes_back(store: ChatStore) -> None:
    pid = store.create_project("Trip")
    chat = store.create_chat("Packing", project_id=pid)
    store.delete_project(pid)
    assert store.list_projects() == []
    assert [p.id for p in store.list_projects(include_deleted=True)] == [pid]
    assert store.chat(chat).deleted_at is None
    with pytest.raises(StorageError):
        store.create_chat("More", project_id=pid)
    with pytest.raises(StorageError):
        store.move_chat(chat, pid)
    store.restore_project(pid)
    assert [p.name for p in store.list_projects()] == ["Trip"]
    assert store.chat(chat).project_id == pid

    store.delete_project(pid)
    store.purge_deleted()
    assert store.list_projects(include_deleted=True) == []
    # Purged for good: the chat stays, outside any project.
    assert store.chat(chat).project_id is None


def test_damaged_project_row_is_read_with_a_note(store: ChatStore) -> None:
    pid = store.create_project("Fine")
    conn = sqlite3.connect(store.path)
    conn.execute(
        "UPDATE projects SET sampling = '[1', collections = '{\"a\": 1}', files = '[1, \"x\"]' "
        "WHERE id = ?",
        [pid],
    )
    conn.commit()
    conn.close()
    project = store.project(pid)
    assert project.name == "Fine"
    assert dict(project.sampling) == {} and project.collections == ()
    assert project.files == ("x",)
    assert project.note is not None and "sampling" in project.note


def _conversation(store: ChatStore) -> tuple[int, dict[str, int]]:
    chat = store.create_chat("Tree")
    ids: dict[str, int] = {}
    ids["q"] = store.add_message(chat, None, "user", "What is a tree?")
    ids["a1"] = store.add_message(chat, ids["q"], "assistant", "A plant with wood.")
    ids["q2"] = store.add_message(chat, ids["a1"], "user", "And a graph tree?")
    ids["a3"] = store.add_message(chat, ids["q2"], "assistant", "A connected graph, no cycle.")
    ids["a2"] = store.add_message(chat, ids["q"], "assistant", "A data structure.")
    return chat, ids


def test_hidden_branch_is_left_out_then_undone(store: ChatStore) -> None:
    chat, ids = _conversation(store)
    store.set_current_leaf(chat, ids["a3"])
    branch = store.hide_branch(ids["a1"])
    assert branch.ids == {ids["a1"], ids["q2"], ids["a3"]}
    # The neighbour branch is shown; the hidden ones are nowhere to be read.
    assert [m.id for m in store.current_path(chat)] == [ids["q"], ids["a2"]]
    assert [m.id for m in store.children(chat, ids["q"])] == [ids["a2"]]
    assert store.branch_position(ids["a2"]) == (1, 1)
    assert store.search("connected graph") == []
    with pytest.raises(InvalidRequestError):
        store.hide_branch(ids["q2"])

    store.unhide_branch(ids["a1"])
    assert [m.id for m in store.current_path(chat)] == [ids["q"], ids["a1"], ids["q2"], ids["a3"]]
    assert len(store.search("connected graph")) == 1
    with pytest.raises(StorageError):
        store.unhide_branch(ids["a1"])


def test_delete_hidden_removes_rows_tokens_and_search_entries(store: ChatStore) -> None:
    chat, ids = _conversation(store)
    store.hide_branch(ids["q2"])
    assert [m.id for m in store.current_path(chat)] == [ids["q"], ids["a2"]]
    assert store.delete_hidden() == 2
    with pytest.raises(StorageError):
        store.message(ids["a3"])
    assert store.search("connected graph") == []
    assert store.hidden_branches == []
    # The last message of a chat: the chat is then empty.
    only = store.create_chat("One")
    first = store.add_message(only, None, "user", "hello there")
    store.hide_branch(first)
    assert store.current_path(only) == []
    store.delete_hidden(first)
    assert store.children(only, None) == []


def test_close_deletes_what_is_still_hidden(glassbox_home: Path) -> None:
    s = ChatStore()
    chat, ids = _conversation(s)
    s.hide_branch(ids["a2"])
    s.close()
    with ChatStore() as again:
        assert [m.id for m in again.children(chat, ids["q"])] == [ids["a1"]]


def test_killed_process_loses_no_hidden_message(glassbox_home: Path) -> None:
    with ChatStore() as s:
        chat, ids = _conversation(s)
    script = textwrap.dedent(
        f"""
        import os, signal
        from desktop_app.core.chat.store import ChatStore
        s = ChatStore()
        s.hide_branch({ids["a1"]})
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=REPO, check=False)
    assert proc.returncode != 0
    with ChatStore() as again:
        assert {m.id for m in again.children(chat, ids["q"])} == {ids["a1"], ids["a2"]}
        assert again.message(ids["a3"]).content == "A connected graph, no cycle."


def test_json_export_carries_the_project(store: ChatStore) -> None:
    pid = store.create_project(
        "Thesis",
        system_prompt="Tutor.",
        sampling={"temperature": 0.3},
        collections=["papers"],
        files=["/home/me/outline.md"],
    )
    chat = store.create_chat_in_project(pid, "Chapter 1")
    store.add_message(chat, None, "user", "Outline chapter 1.")
    doc = json.loads(export_chat(store, store.chat(chat), store.current_path(chat), "json"))
    assert doc["chat"]["project_id"] == pid
    assert doc["project"] == {
        "name": "Thesis",
        "system_prompt": "Tutor.",
        "sampling": {"temperature": 0.3},
        "collections": ["papers"],
        "files": ["/home/me/outline.md"],
    }
    loose = store.create_chat("Loose")
    doc = json.loads(export_chat(store, store.chat(loose), [], "json"))
    assert doc["project"] is None
    # A deleted project is not exported with the chat.
    store.delete_project(pid)
    doc = json.loads(export_chat(store, store.chat(chat), store.current_path(chat), "json"))
    assert doc["project"] is None
