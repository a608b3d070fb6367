"""Where Glassbox keeps its data: the platform's data folder, or ``GLASSBOX_HOME``."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "Glassbox"


def data_location() -> Path:
    """Where the data folder is, without creating it (``glassbox doctor`` asks first)."""
    override = os.environ.get("GLASSBOX_HOME")
    return Path(override).expanduser() if override else Path(platformdirs.user_data_dir(APP_NAME))


def data_dir() -> Path:
    """The folder holding models, databases and settings (created on demand).

    It holds chats, documents and API keys, so it is readable by its owner only
    (0700): made so, and Glassbox's own platform folder is tightened if an older
    version made it with the default permissions. A ``GLASSBOX_HOME`` the user
    made is left as it is.
    """
    base = data_location()
    if not base.exists():
        base.parent.mkdir(parents=True, exist_ok=True)
        base.mkdir(mode=0o700, exist_ok=True)
    elif "GLASSBOX_HOME" not in os.environ and os.name == "posix":
        mode = base.stat().st_mode & 0o777
        if mode & 0o077:
            base.chmod(mode & 0o700)
    return base


def models_dir() -> Path:
    """The folder the default models are assembled into."""
    path = data_dir() / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


def settings_path() -> Path:
    """The settings file (JSON written by the settings model)."""
    return data_dir() / "settings.json"


def private_file(path: Path) -> Path:
    """``path`` made readable and writable by its owner only (0600), created empty if
    missing. For the databases: SQLite gives its -wal and -shm files the database
    file's permissions, so they follow."""
    if os.name != "posix":
        return path
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            path.chmod(mode & 0o700)
    else:
        os.close(fd)
    return path
