"""``glassbox backup`` and ``glassbox restore``: back up now, list, restore after a
confirmation (or ``--yes``), refuse what cannot be restored, with ``--json`` output."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from desktop_app.cli import main
from desktop_app.core import backup
from desktop_app.core.chat.store import ChatStore


def _store(home: Path) -> ChatStore:
    return ChatStore(backup.live_path(backup.CHATS, home))


def _titles(home: Path) -> list[str]:
    with _store(home) as store:
        return sorted(c.title for c in store.list_chats())


@pytest.fixture
def home_with_chat(glassbox_home: Path) -> Path:
    with _store(glassbox_home) as store:
        store.create_chat("kept")
    return glassbox_home


def test_backup_json_makes_one_now_and_lists_it(
    home_with_chat: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["backup", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["type"] == "backups"
    assert [(m["database"], m["reason"]) for m in out["made"]] == [("chats", "manual")]
    assert [b["id"] for b in out["backups"]] == [out["made"][0]["id"]]
    assert out["backups"][0]["ok"] is True
    assert Path(out["backups"][0]["path"]).parent == home_with_chat / "backups"


def test_restore_asks_first_and_does_nothing_on_no(
    home_with_chat: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (made,) = backup.back_up_now(home_with_chat)
    with _store(home_with_chat) as store:
        store.create_chat("later")
    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    assert main(["restore", made.id]) == 1
    assert "Nothing was restored" in capsys.readouterr().out
    assert _titles(home_with_chat) == ["kept", "later"]
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    assert main(["restore", made.id]) == 0
    assert f"Restored the chat database from {made.id}" in capsys.readouterr().out
    assert _titles(home_with_chat) == ["kept"]


def test_restore_without_a_terminal_needs_yes(
    home_with_chat: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (made,) = backup.back_up_now(home_with_chat)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    with pytest.raises(SystemExit):
        main(["restore", made.id])
    assert "--yes" in capsys.readouterr().err
    assert main(["restore", made.id, "--yes", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["type"] == "restored" and out["backup"]["id"] == made.id
    assert out["saved"]["reason"] == "before-restore"


def test_restore_list_and_unknown_or_damaged_ids(
    home_with_chat: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (made,) = backup.back_up_now(home_with_chat)
    assert main(["restore", "--list"]) == 0
    listing = capsys.readouterr().out
    assert made.id in listing and "chat database" in listing and "manual" in listing
    assert main(["restore", "chats-nothing", "--yes", "--json"]) == 2
    err = json.loads(capsys.readouterr().out)
    assert err["type"] == "error" and "restore --list" in err["message"]
    made.path.write_bytes(b"not a database at all" * 300)
    assert main(["restore", made.id, "--yes"]) == 2
    assert "damaged" in capsys.readouterr().err
    assert _titles(home_with_chat) == ["kept"]
