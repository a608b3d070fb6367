"""`glassbox kb delete` moves a collection to the trash, as the window does; `kb trash`,
`kb restore` and `kb delete --purge` (confirmed) complete it."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from kb_fakes import HashEmbedder

from desktop_app.cli import kb as cli_kb
from desktop_app.cli import main
from desktop_app.core.kb.knowledge_base import KnowledgeBase
from desktop_app.core.kb.parse_host import InProcessParser


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "kb"
    monkeypatch.setattr(cli_kb, "_open", lambda *_a: KnowledgeBase(root, embedder=HashEmbedder()))
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Roses are pruned in March, before the buds open.", "utf-8")
    with KnowledgeBase(root, embedder=HashEmbedder()) as kb:
        kb.ingest([docs], "garden", InProcessParser())
    return root


def _kb(root: Path) -> KnowledgeBase:
    return KnowledgeBase(root, embedder=HashEmbedder())


def test_delete_moves_to_the_trash_and_restore_brings_it_back_whole(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["kb", "delete", "garden"]) == 0
    out = capsys.readouterr().out
    assert "moved to the trash" in out and "glassbox kb restore garden" in out
    with _kb(root) as kb:
        assert kb.collections() == []
        assert [t.name for t in kb.trash()] == ["garden"]
    assert main(["kb", "trash", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)["trash"]
    assert row["name"] == "garden" and row["deleted_at"] < row["purged_at"]
    assert main(["kb", "trash"]) == 0
    assert "garden: deleted" in capsys.readouterr().out
    assert main(["kb", "restore", "garden", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"restored": "garden"}
    with _kb(root) as kb:
        assert [c.name for c in kb.collections()] == ["garden"]
        assert kb.search("roses pruned", "garden", 1)
        assert kb.trash() == []


def test_remove_without_paths_also_moves_to_the_trash(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["kb", "remove", "garden", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["trashed"] is True
    with _kb(root) as kb:
        assert [t.name for t in kb.trash()] == ["garden"]


def test_purge_needs_yes_without_a_terminal_and_then_deletes_for_good(
    root: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    with pytest.raises(SystemExit):
        main(["kb", "delete", "garden", "--purge"])
    assert "--yes" in capsys.readouterr().err
    with _kb(root) as kb:
        assert [c.name for c in kb.collections()] == ["garden"]
    assert main(["kb", "delete", "garden", "--purge", "--yes", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["deleted"] is True
    with _kb(root) as kb:
        assert kb.collections() == [] and kb.trash() == []


def test_purge_asks_at_a_terminal_and_empties_one_from_the_trash(
    root: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["kb", "delete", "garden"]) == 0
    monkeypatch.setattr("sys.stdin", _Terminal("n\n"))
    assert main(["kb", "delete", "garden", "--purge"]) == 1
    assert "Nothing was deleted." in capsys.readouterr().out
    with _kb(root) as kb:
        assert [t.name for t in kb.trash()] == ["garden"]
    monkeypatch.setattr("sys.stdin", _Terminal("y\n"))
    assert main(["kb", "delete", "garden", "--purge"]) == 0
    assert "deleted for good from the trash" in capsys.readouterr().out
    with _kb(root) as kb:
        assert kb.trash() == [] and kb.collections() == []


def test_unknown_names_are_refused_with_what_to_do(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["kb", "restore", "garden"]) == 2
    assert "glassbox kb trash" in capsys.readouterr().err
    assert main(["kb", "delete", "garden"]) == 0
    capsys.readouterr()
    assert main(["kb", "delete", "garden"]) == 2
    assert "already in the trash" in capsys.readouterr().err
    assert main(["kb", "delete", "nothing", "--purge", "--yes"]) == 2
    assert "kb list" in capsys.readouterr().err
