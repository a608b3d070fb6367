"""Shared test set-up: every test gets its own data folder; Qt runs offscreen."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Before any Qt import: tests never need a display.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# As in the app (workers.jobs_qt.collect_garbage_on_gui_thread): garbage cycles that
# hold Qt objects are collected on the main thread only, after each test, never by
# a worker thread that happens to allocate.
gc.disable()


@pytest.fixture(autouse=True)
def collect_garbage_on_the_main_thread() -> Iterator[None]:
    yield
    gc.collect()


@pytest.fixture(autouse=True)
def glassbox_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point ``GLASSBOX_HOME`` at a fresh folder so no test touches the user's data."""
    home = tmp_path / "glassbox-home"
    monkeypatch.setenv("GLASSBOX_HOME", str(home))
    return home


# The offscreen platform warns whenever a top-level window's size limits change;
# a real platform plugin does not. Qt warnings fail tests (qt_log_level_fail), so
# only this one, which says nothing about our code, is let through.
_OFFSCREEN_SIZE_HINTS = r"^This plugin does not support propagateSizeHints\(\)$"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Let the offscreen-only size-hint warning through in every test."""
    for item in items:
        item.add_marker(pytest.mark.qt_log_ignore(_OFFSCREEN_SIZE_HINTS, extend=True))
