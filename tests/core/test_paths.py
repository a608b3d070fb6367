"""The data folder is its owner's only: chats, documents and API keys live there."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from desktop_app.core import paths

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_data_folder_is_made_for_its_owner_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GLASSBOX_HOME", str(tmp_path / "deep" / "home"))
    assert mode(paths.data_dir()) == 0o700


def test_an_old_open_platform_folder_is_tightened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = tmp_path / "Glassbox"
    old.mkdir(mode=0o755)
    old.chmod(0o755)
    monkeypatch.delenv("GLASSBOX_HOME", raising=False)
    monkeypatch.setattr(paths.platformdirs, "user_data_dir", lambda _name: str(old))
    assert paths.data_dir() == old and mode(old) == 0o700


def test_a_folder_the_user_chose_keeps_its_permissions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chosen = tmp_path / "shared"
    chosen.mkdir()
    chosen.chmod(0o750)
    monkeypatch.setenv("GLASSBOX_HOME", str(chosen))
    assert mode(paths.data_dir()) == 0o750


def test_the_chat_database_and_its_journal_files_are_its_owners_only(
    glassbox_home: Path,
) -> None:
    from desktop_app.core.chat.store import ChatStore

    old = os.umask(0o022)  # the usual default, which made them 0644
    try:
        with ChatStore() as store:
            store.create_chat("private")
            # While open: the -wal and -shm files exist only then.
            modes = {p.name: mode(p) for p in glassbox_home.rglob("*sqlite*")}
    finally:
        os.umask(old)
    assert "chats.sqlite3-wal" in modes
    assert modes == dict.fromkeys(modes, 0o600)


def test_private_file_tightens_an_existing_file_and_creates_a_missing_one(tmp_path: Path) -> None:
    loose = tmp_path / "kb.sqlite3"
    loose.write_bytes(b"")
    loose.chmod(0o644)
    assert mode(paths.private_file(loose)) == 0o600
    assert mode(paths.private_file(tmp_path / "new.sqlite3")) == 0o600


def test_the_knowledge_base_database_is_its_owners_only(tmp_path: Path) -> None:
    from desktop_app.core.kb.db import DB_NAME, open_registry

    old = os.umask(0o022)
    try:
        registry = open_registry(tmp_path / "kb")
        try:
            modes = {p.name: mode(p) for p in (tmp_path / "kb").glob(f"{DB_NAME}*")}
        finally:
            registry.close()
    finally:
        os.umask(old)
    assert DB_NAME in modes and modes == dict.fromkeys(modes, 0o600)
