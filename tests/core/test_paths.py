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
