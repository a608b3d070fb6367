"""Knowledge-base fixtures: a hash embedder (no torch) and a store on tmp_path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kb_fakes import HashEmbedder

from desktop_app.core.kb.knowledge_base import KnowledgeBase


@pytest.fixture
def kb(tmp_path: Path) -> Iterator[KnowledgeBase]:
    store = KnowledgeBase(tmp_path / "kb", embedder=HashEmbedder())
    yield store
    store.close()
