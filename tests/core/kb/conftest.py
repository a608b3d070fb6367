"""Knowledge-base fixtures: a hash embedder (no torch) and a store on tmp_path."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from desktop_app.core.kb.store import KnowledgeBase


class HashEmbedder:
    """Stands in where embedding quality does not matter: a vector from word hashes."""

    name = "all-MiniLM-L6-v2"
    dim = 32

    def __init__(self) -> None:
        self.calls = 0

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        self.calls += 1
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.split() or [text]:
                h = int(hashlib.md5(word.encode()).hexdigest(), 16)
                out[row, h % self.dim] += 1.0
            out[row] /= max(float(np.linalg.norm(out[row])), 1e-6)
        return out


@pytest.fixture
def kb(tmp_path: Path) -> Iterator[KnowledgeBase]:
    store = KnowledgeBase(tmp_path / "kb", embedder=HashEmbedder())
    yield store
    store.close()
