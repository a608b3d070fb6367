"""How much memory a model will take once loaded, and whether it fits this machine.

Computed from the header alone (:class:`ModelContents`), before anything is
loaded, the way the engine process loads models (llama-cpp-python on the CPU,
no flash attention, a full-size cache for sliding-window layers, 512-token
micro-batches). The engine process's resident memory (RSS) after a model is
loaded and its context filled is the sum of:

- **weights**: the tensor data. llama.cpp maps the file; every page is read
  (during the load or the first evaluation), so all of it is resident.
- **repacked weights**: on x86 CPUs with AVX2 llama.cpp copies the Q4_0, Q4_K,
  IQ4_NL and MXFP4 matrices (and Q2_K with AVX-512) of the layers into an
  interleaved layout for faster kernels. The copy is extra memory: the mapped
  pages it was read from stay resident too.
- **KV cache**: ``2 (K and V) × layers × cells × KV heads × head size`` in the
  cache type; cells is the context rounded up to 256. llama.cpp zeroes the
  whole cache when the context is created, so it is resident from the load
  on, filled or not.
- **compute buffers**: without flash attention, each layer's attention scores
  for a 512-token batch, ``4 bytes × 512 × cells × (heads + masks)``, plus the
  batch's activations. llama.cpp reserves a buffer for the largest graph
  (attention at a full context, or the logits of 512 outputs) but only the
  pages evaluation writes become resident, never more than the reserved
  buffer. Besides it, the CPU backend's work buffer holds the scores again in
  f16 for the multiplication with V: ``2 bytes × 512 × cells × heads``.
- **runtime**: the Python process, llama.cpp's libraries and the vocabulary.

The two runtime figures were fitted to ``glassbox bench memory`` on this
machine; the other parts are sizes computed as llama.cpp computes them. Not
counted: the engine's saved conversation states (up to 256 MB, kept when
switching between chats).

``glassbox bench memory`` loads real models in the engine process and compares
this estimate with the measured RSS.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from desktop_app.core.models.gguf_info import AttentionShape, ModelContents, TensorInfo

__all__ = [
    "CACHE_TYPES",
    "MachineMemory",
    "MemoryEstimate",
    "MemoryFit",
    "compute_bytes",
    "compute_reserved_bytes",
    "estimate_memory",
    "fit_memory",
    "kv_cache_bytes",
    "machine_memory",
    "repacked_bytes",
]

#: KV cache types: (values per block, bytes per block). The engine loads with
#: f16; the quantized types need flash attention in llama.cpp.
CACHE_TYPES: dict[str, tuple[int, int]] = {"f16": (1, 2), "q8_0": (32, 34), "q4_0": (32, 18)}

#: llama.cpp pads the context (and the sliding-window cache) to this many cells.
CTX_PAD = 256
#: llama-cpp-python's micro-batch: min(n_batch, 512) tokens per evaluation.
N_UBATCH = 512

# The engine process's memory besides the model, fitted to ``glassbox bench
# memory`` (Gemma 3 270M and Qwen2.5-Coder-1.5B at 4k): Python with the
# engine's imports and llama.cpp's libraries, and the vocabulary (token texts
# and lookup maps, about 250 bytes an entry).
_RUNTIME_BASE_BYTES = 51 * 2**20
_RUNTIME_PER_TOKEN_BYTES = 257
# Activations of a 512-token batch besides the attention scores, in units of
# 4 bytes × batch × embedding size (residual, norms, Q/K/V, FFN halves).
_ACTIVATION_WIDTHS = 8

# Fit labels.
FITS = "fits"
TIGHT = "tight"
NO_FIT = "no_fit"
#: Up to this share of the memory available now is "fits"; above it, "tight".
_COMFORT = 0.8

# Types llama.cpp's CPU backend repacks on x86 (ggml-cpu/repack.cpp), and the
# instruction set each needs.
_REPACK_X86 = {"Q4_0": "avx2", "Q4_K": "avx2", "IQ4_NL": "avx2", "MXFP4": "avx2", "Q2_K": "avx512f"}


def _pad(n: int, to: int) -> int:
    return -(-n // to) * to


def _row_bytes(n_values: int, cache_type: str) -> int:
    block, size = CACHE_TYPES[cache_type]
    return -(-n_values // block) * size


def kv_cache_bytes(
    attention: AttentionShape,
    n_ctx: int,
    cache_type: str = "f16",
    *,
    swa_full: bool = True,
    n_ubatch: int = N_UBATCH,
) -> int:
    """Bytes of the KV cache for a context of ``n_ctx`` tokens, as llama.cpp allocates it.

    Per layer: ``cells × (KV heads × head_dim_k + KV heads × head_dim_v)`` values
    in ``cache_type``, where cells is ``n_ctx`` rounded up to 256. With
    ``swa_full`` False a sliding-window layer keeps only ``window + n_ubatch``
    cells (rounded up to 256, at most the context); the engine keeps the full
    size (llama.cpp's default), so that replies can be continued from any point.

    Raises:
        ValueError: an unknown cache type or a context below 1.
    """
    if cache_type not in CACHE_TYPES:
        raise ValueError(
            f"unknown KV cache type {cache_type!r}; use one of {', '.join(CACHE_TYPES)}"
        )
    if n_ctx < 1:
        raise ValueError(f"the context must be at least 1 token, not {n_ctx}")
    cells = _pad(n_ctx, CTX_PAD)
    swa_cells = cells
    if attention.sliding_window is not None and not swa_full:
        swa_cells = _pad(min(cells, attention.sliding_window + n_ubatch), CTX_PAD)
    total = 0
    for il in range(attention.n_layer):
        kv_heads = attention.n_head_kv[il]
        if kv_heads == 0:
            continue  # a layer without attention (recurrent layers of hybrid models)
        layer_cells = swa_cells if attention.swa_layers[il] else cells
        row = _row_bytes(kv_heads * attention.head_dim_k, cache_type) + _row_bytes(
            kv_heads * attention.head_dim_v, cache_type
        )
        total += layer_cells * row
    return total


def _cpu_flags() -> frozenset[str]:
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.partition(":")[2].split())
    return frozenset()


def repacked_bytes(tensors: Sequence[TensorInfo], cpu_flags: frozenset[str] | None = None) -> int:
    """Bytes of the weights llama.cpp's CPU backend copies into its repacked layout here.

    The layers' matrices (2-D, rows a multiple of 8) of the types the CPU's
    instruction set has repacked kernels for; not the token embedding, which is
    looked up by row. None of them where the CPU has AMX: the engine then turns
    the extra buffer types off (they crash there), and off x86 (where the
    kernels differ) this returns 0.
    """
    flags = _cpu_flags() if cpu_flags is None else cpu_flags
    if "avx2" not in flags or any(f.startswith("amx") for f in flags):
        return 0
    total = 0
    for t in tensors:
        needs = _REPACK_X86.get(t.type_name)
        if needs is None or needs not in flags or len(t.shape) != 2 or t.shape[1] % 8:
            continue
        if t.name.startswith("token_embd"):
            continue
        total += t.n_bytes
    return total


@dataclass(frozen=True, slots=True)
class MemoryEstimate:
    """The expected resident memory of the engine process, in bytes, by part."""

    n_ctx: int
    cache_type: str
    weights: int
    repacked: int
    kv_cache: int
    compute: int
    runtime: int

    @property
    def total(self) -> int:
        """The expected RSS of the engine process after loading and filling the context."""
        return self.weights + self.repacked + self.kv_cache + self.compute + self.runtime

    def parts(self) -> dict[str, int]:
        """Each part and the total, for printing and JSON."""
        return {
            "weights": self.weights,
            "repacked": self.repacked,
            "kv_cache": self.kv_cache,
            "compute": self.compute,
            "runtime": self.runtime,
            "total": self.total,
        }


def compute_reserved_bytes(attention: AttentionShape, n_ctx: int, n_batch: int = 512) -> int:
    """Bytes llama.cpp reserves for its compute buffer: the larger of a full-context
    attention step and the logits of a whole batch, with the batch's activations."""
    cells = _pad(n_ctx, CTX_PAD)
    n_ub = min(n_batch, N_UBATCH, cells)
    activations = 4 * n_ub * attention.n_embd * _ACTIVATION_WIDTHS
    logits = 4 * n_ub * attention.n_vocab
    return max(_attention_step(attention, cells, n_ub), logits) + activations


def _attention_step(attention: AttentionShape, cells: int, n_ub: int) -> int:
    # One layer's scores, heads × cells × batch floats (softmax works in place),
    # next to the masks (one, two with sliding-window layers) of cells × batch.
    masks = 2 if any(attention.swa_layers) else 1
    return 4 * n_ub * cells * (attention.n_head + masks)


def compute_bytes(attention: AttentionShape, n_ctx: int, n_batch: int = 512) -> int:
    """Bytes of compute memory that evaluating a full context leaves resident.

    The largest attention step plus the activations, at most the reserved
    buffer (:func:`compute_reserved_bytes`), and the CPU backend's work buffer:
    the scores converted to f16 (heads × cells × batch × 2 bytes) for the
    multiplication with V.
    """
    cells = _pad(n_ctx, CTX_PAD)
    n_ub = min(n_batch, N_UBATCH, cells)
    activations = 4 * n_ub * attention.n_embd * _ACTIVATION_WIDTHS
    touched = _attention_step(attention, cells, n_ub) + activations
    work = 2 * n_ub * cells * attention.n_head
    return min(touched, compute_reserved_bytes(attention, n_ctx, n_batch)) + work


def estimate_memory(
    contents: ModelContents,
    n_ctx: int,
    cache_type: str = "f16",
    *,
    n_batch: int = 512,
    cpu_flags: frozenset[str] | None = None,
) -> MemoryEstimate:
    """The engine process's expected RSS for this model at ``n_ctx`` tokens and ``cache_type``.

    Raises:
        ValueError: the header lacks the attention numbers (``contents.attention``
            is None; the message says what is missing), an unknown cache type, or
            a context below 1.
    """
    attention = contents.attention
    if attention is None:
        raise ValueError(
            "The memory a context takes cannot be estimated: "
            f"{contents.attention_problem or 'the file lacks the attention numbers'}."
        )
    weights = sum(t.n_bytes for t in contents.tensors)
    return MemoryEstimate(
        n_ctx=_pad(n_ctx, CTX_PAD),
        cache_type=cache_type,
        weights=weights,
        repacked=repacked_bytes(contents.tensors, cpu_flags),
        kv_cache=kv_cache_bytes(attention, n_ctx, cache_type),
        compute=compute_bytes(attention, n_ctx, n_batch),
        runtime=_RUNTIME_BASE_BYTES + _RUNTIME_PER_TOKEN_BYTES * attention.n_vocab,
    )


@dataclass(frozen=True, slots=True)
class MachineMemory:
    """This machine's memory in bytes: all of it, and what is available now."""

    total: int
    available: int


def machine_memory(meminfo: str | os.PathLike[str] = "/proc/meminfo") -> MachineMemory | None:
    """RAM from ``/proc/meminfo`` (MemTotal, MemAvailable), or from sysconf; None if unknown."""
    try:
        values: dict[str, int] = {}
        for line in Path(meminfo).read_text(encoding="ascii", errors="replace").splitlines():
            key, _, rest = line.partition(":")
            parts = rest.split()
            if parts and parts[0].isdigit():
                values[key] = int(parts[0]) * 1024
        if "MemTotal" in values:
            return MachineMemory(values["MemTotal"], values.get("MemAvailable", values["MemTotal"]))
    except OSError:
        pass
    try:
        page = os.sysconf("SC_PAGE_SIZE")
        return MachineMemory(
            os.sysconf("SC_PHYS_PAGES") * page, os.sysconf("SC_AVPHYS_PAGES") * page
        )
    except (ValueError, OSError, AttributeError):
        return None


@dataclass(frozen=True, slots=True)
class MemoryFit:
    """Whether an estimate fits: ``label`` is "fits", "tight" or "no_fit".

    ``where`` is "RAM" or "VRAM": the memory that decided the label.
    """

    label: str
    needed: int
    available: int
    total: int
    where: str


def fit_memory(
    needed: int,
    ram: MachineMemory,
    *,
    vram_needed: int = 0,
    vram: MachineMemory | None = None,
) -> MemoryFit:
    """Jan-style fit label for ``needed`` bytes of RAM (and ``vram_needed`` of GPU memory).

    - "no_fit": more than the machine has at all; loading fails or swaps hard.
    - "tight": more than 80 % of what is available now; other programs must give
      memory back, or the system pages.
    - "fits": the rest.

    With ``vram`` the GPU's part is judged the same way, and the worse label wins.
    """
    ram_fit = _judge(needed, ram, "RAM")
    if vram is None or vram_needed <= 0:
        return ram_fit
    vram_fit = _judge(vram_needed, vram, "VRAM")
    order = (FITS, TIGHT, NO_FIT)
    return vram_fit if order.index(vram_fit.label) > order.index(ram_fit.label) else ram_fit


def _judge(needed: int, memory: MachineMemory, where: str) -> MemoryFit:
    if needed > memory.total:
        label = NO_FIT
    elif needed > _COMFORT * memory.available:
        label = TIGHT
    else:
        label = FITS
    return MemoryFit(label, needed, memory.available, memory.total, where)
