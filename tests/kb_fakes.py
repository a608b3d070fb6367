"""Test doubles of the knowledge-base tests, importable by name (``from kb_fakes import …``):
a module called ``conftest`` would clash with the end-to-end folder's own."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt


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
