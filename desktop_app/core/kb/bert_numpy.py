"""Questions embedded in numpy: a BERT sentence-transformers model without torch.

Importing sentence-transformers costs seconds (torch, transformers, scikit-learn);
a `glassbox search` process embeds one question, which takes a few milliseconds.
``QuickQueryEmbedder`` embeds questions with the model's own weights
(``model.safetensors``) and tokenizer (``tokenizer.json``) in numpy, the same
arithmetic as the library's forward pass, and loads sentence-transformers only
when passages are embedded (ingestion). Its vectors equal the library's to 1e-6
(``tests/core/kb/test_kb_bert_numpy.py``), so a collection embedded by the library
is searched with the same vectors.

Only models this module can run exactly are taken (``quick_query_embedder``
returns None otherwise): a BERT encoder with absolute positions and GELU, mean
pooling over the tokens, no query prompt, no dense layer after pooling —
all-MiniLM-L6-v2, the default, is one.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

_TRANSFORMER = "sentence_transformers.models.Transformer"
_POOLING = "sentence_transformers.models.Pooling"
_NORMALIZE = "sentence_transformers.models.Normalize"

F32 = npt.NDArray[np.float32]


class _FullEmbedder(Protocol):
    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> F32: ...


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text("utf-8"))


def supported(model_dir: Path) -> bool:
    """Whether ``model_dir`` is a model ``NumpyBert`` computes exactly as the library does."""
    try:
        modules = [m.get("type") for m in _read_json(model_dir / "modules.json")]
        config = _read_json(model_dir / "config.json")
        pooling_dir = next(
            m.get("path", "")
            for m in _read_json(model_dir / "modules.json")
            if m.get("type") == _POOLING
        )
        pooling = _read_json(model_dir / pooling_dir / "config.json")
        st_config_file = model_dir / "config_sentence_transformers.json"
        st_config = _read_json(st_config_file) if st_config_file.is_file() else {}
    except (OSError, ValueError, StopIteration, AttributeError, TypeError):
        return False
    prompts = st_config.get("prompts") or {}
    mean_only = pooling.get("pooling_mode_mean_tokens") is True and not any(
        v
        for k, v in pooling.items()
        if k.startswith("pooling_mode_") and k != "pooling_mode_mean_tokens"
    )
    return (
        modules in ([_TRANSFORMER, _POOLING], [_TRANSFORMER, _POOLING, _NORMALIZE])
        and config.get("model_type") == "bert"
        and config.get("hidden_act") == "gelu"
        and config.get("position_embedding_type", "absolute") == "absolute"
        and mean_only
        and pooling.get("include_prompt", True) is True
        and not any(prompts.values())
        and not st_config.get("default_prompt_name")
        and (model_dir / "tokenizer.json").is_file()
        and (model_dir / "model.safetensors").is_file()
    )


# erf in float64 (Cephes' rational approximations; within 4e-16 of math.erf), so
# that GELU matches torch's exact, erf-based one without scipy.
# fmt: off
_T = (9.60497373987051638749e0, 9.00260197203842689217e1, 2.23200534594684319226e3,
      7.00332514112805075473e3, 5.55923013010394962768e4)
_U = (3.35617141647503099647e1, 5.21357949780152679795e2, 4.59432382970980127987e3,
      2.26290000613890934246e4, 4.92673942608635921086e4)
_P = (2.46196981473530512524e-10, 5.64189564831068821977e-1, 7.46321056442269912687e0,
      4.86371970985681366614e1, 1.96520832956077098242e2, 5.26445194995477358631e2,
      9.34528527171957607540e2, 1.02755188689515710272e3, 5.57535335369399327526e2)
_Q = (1.32281951154744992508e1, 8.67072140885989742329e1, 3.54937778887819891062e2,
      9.75708501743205489753e2, 1.82390916687909736289e3, 2.24633760818710981792e3,
      1.65666309194161350182e3, 5.57535340817727675546e2)
_R = (5.64189583547755073984e-1, 1.27536670759978104416e0, 5.01905042251180477414e0,
      6.16021097993053585195e0, 7.40974269950448939160e0, 2.97886665372100240670e0)
_S = (2.26052863220117276590e0, 9.39603524938001434673e0, 1.20489539808096656605e1,
      1.70814450747565897222e1, 9.60896809063285878198e0, 3.36907645100081516050e0)
# fmt: on


def _polevl(x: npt.NDArray[np.float64], coef: Sequence[float]) -> npt.NDArray[np.float64]:
    out = np.full_like(x, coef[0])
    for c in coef[1:]:
        out = out * x + c
    return out


def _p1evl(x: npt.NDArray[np.float64], coef: Sequence[float]) -> npt.NDArray[np.float64]:
    out = x + coef[0]
    for c in coef[1:]:
        out = out * x + c
    return out


def erf(x: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """The error function, elementwise, in float64."""
    v = np.asarray(x, dtype=np.float64)
    a = np.minimum(np.abs(v), 30.0)
    small = v * _polevl(v * v, _T) / _p1evl(v * v, _U)
    tail = np.exp(-a * a)
    erfc = np.where(
        a < 8.0, tail * _polevl(a, _P) / _p1evl(a, _Q), tail * _polevl(a, _R) / _p1evl(a, _S)
    )
    result: npt.NDArray[np.float64] = np.where(np.abs(v) < 1.0, small, np.sign(v) * (1.0 - erfc))
    return result


def _gelu(x: F32) -> F32:
    wide = x.astype(np.float64)
    return (0.5 * wide * (1.0 + erf(wide / np.sqrt(2.0)))).astype(np.float32)


def _layer_norm(x: F32, weight: F32, bias: F32, eps: float) -> F32:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(axis=-1, keepdims=True)
    out: F32 = centred / np.sqrt(var + np.float32(eps)) * weight + bias
    return out


class NumpyBert:
    """A BERT sentence-transformers model's forward pass and mean pooling, in numpy.

    The weights (90 MB for MiniLM) and the tokenizer are read on the first ``encode``:
    a combined collection asked a Chinese question never runs MiniLM's half, and its
    search process then never reads them."""

    def __init__(self, model_dir: Path) -> None:
        config = _read_json(model_dir / "config.json")
        bert = _read_json(model_dir / "sentence_bert_config.json")
        self.model_dir = model_dir
        self.layers = int(config["num_hidden_layers"])
        self.heads = int(config["num_attention_heads"])
        self.hidden = int(config["hidden_size"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.max_seq_length = int(bert.get("max_seq_length") or 512)
        self.lower_case = bool(bert.get("do_lower_case", False))
        for name in ("model.safetensors", "tokenizer.json"):
            if not (model_dir / name).is_file():
                raise OSError(f"{model_dir / name} is missing")
        self._w: dict[str, F32] | None = None
        self._tokenizer: Any = None
        self._load_lock = threading.Lock()
        self._threads: Any = None
        with contextlib.suppress(ImportError):
            from threadpoolctl import ThreadpoolController

            self._threads = ThreadpoolController()

    @property
    def loaded(self) -> bool:
        """Whether the weights and the tokenizer have been read."""
        return self._w is not None

    def _load(self) -> tuple[dict[str, F32], Any]:
        with self._load_lock:
            if self._w is None:
                from safetensors.numpy import load_file
                from tokenizers import Tokenizer

                try:
                    weights = load_file(str(self.model_dir / "model.safetensors"))
                    tokenizer = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
                except Exception as exc:  # safetensors' and tokenizers' own error types
                    raise OSError(f"{self.model_dir} cannot be read ({exc})") from exc
                tokenizer.no_padding()
                tokenizer.enable_truncation(max_length=self.max_seq_length)
                self._tokenizer = tokenizer
                # Checkpoints saved from a BertModel have no prefix; some carry "bert.".
                self._w = {k.removeprefix("bert."): v for k, v in weights.items()}
            return self._w, self._tokenizer

    @property
    def w(self) -> dict[str, F32]:
        """The model's weights by name (read on first use)."""
        return self._load()[0]

    def encode(self, texts: Sequence[str]) -> F32:
        """One L2-normalised float32 row per text (texts one at a time: no padding)."""
        out = np.zeros((len(texts), self.hidden), dtype=np.float32)
        _, tokenizer = self._load()
        # A question's products are small: BLAS threads cost more than they give
        # (about 1 s instead of 40 ms on a busy 2-core machine).
        single = (
            self._threads.limit(limits=1, user_api="blas")
            if self._threads is not None
            else contextlib.nullcontext()
        )
        with single:
            for row, text in enumerate(texts):
                text = str(text).strip()  # as the library's tokenize()
                if self.lower_case:
                    text = text.lower()
                ids = np.asarray(tokenizer.encode(text).ids, dtype=np.int64)
                pooled = self._forward(ids).mean(axis=0)
                out[row] = pooled / max(float(np.linalg.norm(pooled)), 1e-12)
        return out

    def _forward(self, ids: npt.NDArray[np.int64]) -> F32:
        w = self.w
        n = len(ids)
        h = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:n]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        h = _layer_norm(
            h, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps
        )
        d = self.hidden // self.heads
        scale = np.float32(1.0 / np.sqrt(d))
        for i in range(self.layers):
            p = f"encoder.layer.{i}."

            def dense(x: F32, name: str, p: str = p) -> F32:
                out: F32 = x @ w[p + name + ".weight"].T + w[p + name + ".bias"]
                return out

            q = dense(h, "attention.self.query").reshape(n, self.heads, d).transpose(1, 0, 2)
            k = dense(h, "attention.self.key").reshape(n, self.heads, d).transpose(1, 0, 2)
            v = dense(h, "attention.self.value").reshape(n, self.heads, d).transpose(1, 0, 2)
            scores = (q @ k.transpose(0, 2, 1)) * scale
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(1, 0, 2).reshape(n, self.hidden)
            h = _layer_norm(
                dense(context, "attention.output.dense") + h,
                w[p + "attention.output.LayerNorm.weight"],
                w[p + "attention.output.LayerNorm.bias"],
                self.eps,
            )
            inner = _gelu(dense(h, "intermediate.dense"))
            h = _layer_norm(
                dense(inner, "output.dense") + h,
                w[p + "output.LayerNorm.weight"],
                w[p + "output.LayerNorm.bias"],
                self.eps,
            )
        return h


class QuickQueryEmbedder:
    """Questions in numpy (``NumpyBert``), passages by the full library, loaded on first
    use: searching a collection no longer imports torch."""

    def __init__(self, model_dir: Path, name: str, load_full: Callable[[], _FullEmbedder]) -> None:
        self.model_dir = model_dir
        self.name = name
        self._encoder = NumpyBert(model_dir)
        self.dim = self._encoder.hidden
        self.max_seq_length = self._encoder.max_seq_length
        self._load_full = load_full
        self._full: _FullEmbedder | None = None
        self._lock = threading.Lock()

    @property
    def full(self) -> _FullEmbedder:
        """The library's model (sentence-transformers, torch), loaded on first use."""
        with self._lock:
            if self._full is None:
                self._full = self._load_full()
            return self._full

    def embed(self, texts: Sequence[str]) -> F32:
        """Passages: the library's own encode, batched (what ingestion stores)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self.full.embed(texts)

    def embed_queries(self, texts: Sequence[str]) -> F32:
        """Questions: the same vectors as the library's, computed in numpy, or by the
        library once it is loaded (a window that has indexed or warmed up): warm torch on
        all cores embeds a question in about a third of numpy's single-thread time."""
        full = self._full
        if full is not None:
            return full.embed(texts)  # no query prompt: a question embeds as a passage
        try:
            return self._encoder.encode(texts)
        except (ImportError, OSError, ValueError, KeyError):
            # Weights numpy cannot read (read only now): the library reads its own.
            return self.full.embed(texts)

    def raw_encode(self, texts: Sequence[str]) -> object:
        """The library's own encode (the bench's baseline)."""
        raw: Callable[[Sequence[str]], object] = getattr(self.full, "raw_encode", self.embed)
        return raw(texts)


def quick_query_embedder(
    model_dir: Path, name: str, load_full: Callable[[], _FullEmbedder]
) -> QuickQueryEmbedder | None:
    """A ``QuickQueryEmbedder`` for ``model_dir`` when numpy can compute its questions
    exactly (``supported``), else None (the caller loads the library)."""
    if not supported(model_dir):
        return None
    try:
        return QuickQueryEmbedder(model_dir, name, load_full)
    except (ImportError, OSError, ValueError, KeyError):
        return None
