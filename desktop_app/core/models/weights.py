"""What a model's weights are made of: each tensor's type, by layer, and what each type takes.

A "Q4_K_M" file is not all Q4_K: llama.cpp's quantizer keeps some tensors in
Q6_K (half of ``ffn_down`` and ``attn_v``, the output), norms in F32, and so on.
These functions turn the header's tensor list (:class:`TensorInfo`) into the
tables the Model panel's inspector and ``glassbox models info`` show: the
tensors grouped by layer (``blk.N``), the share of the file each type takes,
and the bits per weight overall.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from desktop_app.core.models.gguf_info import TensorInfo

__all__ = [
    "LayerGroup",
    "TypeShare",
    "bits_per_weight",
    "group_by_layer",
    "type_shares",
]

_BLOCK = re.compile(r"^blk\.(\d+)\.")


@dataclass(frozen=True, slots=True)
class TypeShare:
    """One tensor type's part of the model: how many tensors, weights and bytes.

    ``share`` is its fraction of all tensor data (0–1); ``bits_per_weight`` is
    what one weight of this type takes, block scales included.
    """

    type_name: str
    n_tensors: int
    n_elements: int
    n_bytes: int
    share: float

    @property
    def bits_per_weight(self) -> float:
        """Bits per weight of this type (8 × bytes ÷ weights)."""
        return 8 * self.n_bytes / self.n_elements if self.n_elements else 0.0


@dataclass(frozen=True, slots=True)
class LayerGroup:
    """The tensors of one layer (``blk.N``), or of the parts outside the layers.

    ``layer`` is N for ``blk.N``, None for the tensors before and after the
    layers (token embedding, output norm, output); ``name`` is what a table
    shows: ``blk.3``, or the tensor's own name outside the layers.
    """

    name: str
    layer: int | None
    tensors: tuple[TensorInfo, ...]

    @property
    def n_bytes(self) -> int:
        """Bytes of all its tensors."""
        return sum(t.n_bytes for t in self.tensors)

    @property
    def n_elements(self) -> int:
        """Weights in all its tensors."""
        return sum(t.n_elements for t in self.tensors)

    @property
    def types(self) -> tuple[str, ...]:
        """Its tensor types, the most bytes first."""
        totals: dict[str, int] = {}
        for t in self.tensors:
            totals[t.type_name] = totals.get(t.type_name, 0) + t.n_bytes
        return tuple(sorted(totals, key=lambda k: (-totals[k], k)))


def type_shares(tensors: Iterable[TensorInfo]) -> list[TypeShare]:
    """Each tensor type's count, weights, bytes and share of the tensor data; most bytes first."""
    counts: dict[str, list[int]] = {}
    for t in tensors:
        row = counts.setdefault(t.type_name, [0, 0, 0])
        row[0] += 1
        row[1] += t.n_elements
        row[2] += t.n_bytes
    total = sum(r[2] for r in counts.values())
    shares = [
        TypeShare(name, n, elements, n_bytes, n_bytes / total if total else 0.0)
        for name, (n, elements, n_bytes) in counts.items()
    ]
    shares.sort(key=lambda s: (-s.n_bytes, s.type_name))
    return shares


def bits_per_weight(tensors: Iterable[TensorInfo]) -> float:
    """Bits per weight over all tensors: 8 × tensor bytes ÷ weights (0 with no weights)."""
    n_bytes = n_elements = 0
    for t in tensors:
        n_bytes += t.n_bytes
        n_elements += t.n_elements
    return 8 * n_bytes / n_elements if n_elements else 0.0


def group_by_layer(tensors: Sequence[TensorInfo]) -> list[LayerGroup]:
    """The tensors by layer: those before the layers (each its own group), ``blk.0`` … in
    numeric order, then those after them, in file order within each group.

    A tensor outside the layers is "before" when it comes before the first
    ``blk.`` tensor in the file (the token embedding), else "after".
    """
    layers: dict[int, list[TensorInfo]] = {}
    before: list[TensorInfo] = []
    after: list[TensorInfo] = []
    for t in tensors:
        m = _BLOCK.match(t.name)
        if m is not None:
            layers.setdefault(int(m.group(1)), []).append(t)
        elif layers:
            after.append(t)
        else:
            before.append(t)
    groups = [LayerGroup(t.name, None, (t,)) for t in before]
    groups += [LayerGroup(f"blk.{n}", n, tuple(ts)) for n, ts in sorted(layers.items())]
    groups += [LayerGroup(t.name, None, (t,)) for t in after]
    return groups
