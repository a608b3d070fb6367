"""Watched folders: persisted, synced by content hash, and a polling watcher."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from kb_fakes import HashEmbedder

from desktop_app.core.kb.knowledge_base import KnowledgeBase
from desktop_app.core.kb.parse_host import InProcessParser
from desktop_app.core.kb.watch import FolderChanges, diff, scan
from desktop_app.workers.kb.watch import FolderWatcher


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "watched"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("Alpha notes about apples.", "utf-8")
    (folder / "sub" / "b.md").write_text("# Beta\n\nBananas in a subfolder.", "utf-8")
    (folder / ".hidden.txt").write_text("never indexed", "utf-8")
    (folder / "image.bin").write_bytes(b"\0\1")
    return folder


def test_watched_folders_persist_and_sync_changed_new_and_deleted_files(tmp_path: Path):
    folder = _folder(tmp_path)
    root = tmp_path / "kb"
    with KnowledgeBase(root, embedder=HashEmbedder()) as kb:
        assert kb.watch("c", folder) == str(folder.resolve())
        first = kb.sync_watched("c", InProcessParser())
        assert first.indexed == 2 and not first.failed
    with KnowledgeBase(root, embedder=HashEmbedder()) as kb:  # reopened: still watched
        assert kb.watched("c") == [str(folder.resolve())]
        assert kb.stats("c").watched == (str(folder.resolve()),)
        assert not kb.pending_changes("c")
        os.utime(folder / "a.txt", (1_700_000_000, 1_700_000_000))  # touched, same content
        (folder / "sub" / "b.md").unlink()
        (folder / "c.txt").write_text("Cherries arrive.", "utf-8")
        changes = kb.pending_changes("c")
        assert [Path(p).name for p in changes.modified] == ["a.txt"]
        assert [Path(p).name for p in changes.added] == ["c.txt"]
        assert [Path(p).name for p in changes.removed] == ["b.md"]
        report = kb.sync_watched("c", InProcessParser())
        assert (report.indexed, report.skipped_unchanged, report.removed) == (1, 1, 1)
        assert not kb.pending_changes("c")  # the touched file's new time is recorded
        (folder / "a.txt").write_text("Alpha notes, now about apricots.", "utf-8")
        again = kb.sync_watched("c", InProcessParser())
        assert again.indexed == 1 and again.skipped_unchanged == 1
        assert "apricots" in kb.search("apricots", "c", 1)[0].chunk.text
        assert kb.unwatch("c", folder) and kb.watched("c") == []
        assert kb.stats("c").documents == 2  # documents stay after unwatch
        kb.watch("c", folder)
        assert kb.unwatch("c", folder, remove_documents=True)
        assert kb.stats("c").documents == 0


def test_a_missing_watched_folder_is_reported_and_its_documents_kept(tmp_path: Path):
    folder = _folder(tmp_path)
    with KnowledgeBase(tmp_path / "kb", embedder=HashEmbedder()) as kb:
        kb.watch("c", folder)
        kb.sync_watched("c", InProcessParser())
        folder.rename(tmp_path / "unplugged")
        report = kb.sync_watched("c", InProcessParser())
        assert report.failed == [(str(folder.resolve()), "watched folder not found")]
        assert kb.stats("c").documents == 2


def test_scan_and_diff_see_supported_files_only(tmp_path: Path):
    folder = _folder(tmp_path)
    state = scan([folder, tmp_path / "nowhere"])
    assert sorted(Path(p).name for p in state) == ["a.txt", "b.md"]
    assert not diff(state, state)
    moved = {**state, str(folder / "new.txt"): (1, 1.0)}
    assert diff(state, moved) == FolderChanges(added=(str(folder / "new.txt"),))


def test_the_watcher_reports_a_change_once_it_has_settled(tmp_path: Path):
    folder = _folder(tmp_path)
    seen: list[FolderChanges] = []
    reported = threading.Event()

    def on_change(changes: FolderChanges) -> None:
        seen.append(changes)
        reported.set()

    with FolderWatcher([folder], on_change, interval_s=0.05) as watcher:
        while watcher.scans < 2:
            threading.Event().wait(0.01)
        assert not seen  # nothing changed since the first scan
        (folder / "new.txt").write_text("Dates.", "utf-8")
        assert reported.wait(5)
    assert not watcher.is_alive()
    assert [Path(p).name for p in seen[0].added] == ["new.txt"] and len(seen) == 1


def test_the_watcher_compares_with_the_indexed_state_and_survives_callback_errors(
    tmp_path: Path,
):
    folder = _folder(tmp_path)
    errors: list[BaseException] = []
    got = threading.Event()

    def failing(changes: FolderChanges) -> None:
        raise RuntimeError("sync failed")

    def on_error(exc: BaseException) -> None:
        errors.append(exc)
        got.set()

    # An empty baseline (nothing indexed yet): the existing files are news.
    watcher = FolderWatcher(
        lambda: [folder], failing, interval_s=0.05, baseline={}, on_error=on_error
    )
    watcher.start()
    try:
        assert got.wait(5)
        assert watcher.is_alive() and isinstance(errors[0], RuntimeError)
    finally:
        watcher.stop()
