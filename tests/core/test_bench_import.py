"""``glassbox bench import``: its synthetic ChatGPT export has the real shape and imports whole."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop_app.bench.chat_import import write_export
from desktop_app.cli import main
from desktop_app.core.chat.importer import import_file
from desktop_app.core.chat.store import ChatStore


def test_synthetic_export_has_branches_and_mixed_text(tmp_path: Path) -> None:
    path = tmp_path / "conversations.json"
    size = write_export(path, chats=20, mb=0.5, seed=1)
    assert size == path.stat().st_size
    assert 0.4 < size / 2**20 < 0.6  # steered toward the size asked for
    with ChatStore(tmp_path / "c.sqlite3") as store:
        result = import_file(store.path, path, "openai")
        assert result.chats == 20 and result.skipped_messages >= 20  # the system nodes
        texts = "".join(m.content for c in result.chat_ids for m in store.tree(c))
        assert "模型" in texts and "model" in texts
        branched = [
            c for c in result.chat_ids if any(len(store.siblings(m.id)) > 1 for m in store.tree(c))
        ]
        assert branched  # regenerated replies or edited questions


def test_bench_import_json(glassbox_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "import", "--chats", "5", "--mb", "0.05", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["chats"] == 5 and out["progress_reports"] >= 5
    assert set(out) >= {"chats", "mb", "seconds", "chats_per_s", "met"}
