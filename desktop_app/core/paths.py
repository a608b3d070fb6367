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
    """The folder holding models, databases and settings (created on demand)."""
    base = data_location()
    base.mkdir(parents=True, exist_ok=True)
    return base


def models_dir() -> Path:
    """The folder the default models are assembled into."""
    path = data_dir() / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


def settings_path() -> Path:
    """The settings file (JSON written by the settings model)."""
    return data_dir() / "settings.json"
