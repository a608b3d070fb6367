"""Tokens and keys come from files or the environment, and the API always has one."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from desktop_app.core.api import secrets as api_secrets
from desktop_app.core.errors import InvalidRequestError


def test_a_token_is_generated_once_and_readable_by_its_owner_only(
    glassbox_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(api_secrets.TOKEN_ENV, raising=False)
    first = api_secrets.api_token()
    path = api_secrets.token_path()
    assert len(first) >= 40 and path.read_text("utf-8").strip() == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert api_secrets.api_token() == first  # kept, not a new one per start
    assert api_secrets.api_token("  mine  ") == "mine"
    monkeypatch.setenv(api_secrets.TOKEN_ENV, "from-env")
    assert api_secrets.api_token() == "from-env"


def test_secrets_are_read_from_a_file_and_bad_files_say_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = tmp_path / "key"
    key.write_text("sk-abc\nignored second line\n", "utf-8")
    assert api_secrets.secret_from(api_secrets.REMOTE_KEY_ENV, key) == "sk-abc"
    monkeypatch.setenv(api_secrets.REMOTE_KEY_ENV, "sk-env")
    assert api_secrets.secret_from(api_secrets.REMOTE_KEY_ENV) == "sk-env"
    (tmp_path / "empty").write_text("\n", "utf-8")
    (tmp_path / "big").write_bytes(b"x" * 5000)
    for name, why in [("empty", "is empty"), ("big", "too long"), ("missing", "Cannot read")]:
        with pytest.raises(InvalidRequestError, match=why):
            api_secrets.read_secret_file(tmp_path / name)
