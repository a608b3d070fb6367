"""Read a GGUF file's header and check it before llama.cpp ever sees the file.

llama.cpp answers a damaged model file with a crash or a one-line log message,
so the app reads the header itself first and turns every problem into a
:class:`~desktop_app.core.errors.ModelFileError` that names the file and says
what is wrong with it.

The header is parsed here with :mod:`struct` over bounded reads (``os.pread`` in
1 MiB chunks) rather than with ``gguf.GGUFReader``, for two reasons found by
measurement:

* ``GGUFReader`` makes a numpy view for every element of every array, which
  takes about 8 seconds for Gemma 3's 262,144-token vocabulary. This parser
  skips over array contents it does not need and reads the same file in well
  under a second.
* ``GGUFReader`` trusts every count and length in the file: a crafted string or
  array length makes it loop for as long as the length says. Here each length
  is compared with the bytes left in the file before anything is read, and the
  fixed header's counts are compared with the file size before the loop starts.

The file is read, not memory-mapped: a file that shrinks while it is read (a
copy or download being redone) would make a mapped page vanish and kill the
process with SIGBUS. A read that comes back short is a "changed or truncated"
error instead, and no read goes past the size the file had when it was opened.

Tensor data is never read: only the tensor descriptions, to check that every
tensor's bytes lie inside the file (a cut-off download shows up there). The
``gguf`` package still supplies the format's constants (value types, tensor
types and their sizes, file types, known architectures).
"""

from __future__ import annotations

import codecs
import dataclasses
import os
import stat
import struct
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

import gguf

from desktop_app.core.errors import ModelFileError

__all__ = [
    "AttentionShape",
    "GGUFInfo",
    "LoraInfo",
    "ModelContents",
    "TensorInfo",
    "inspect_contents",
    "inspect_gguf",
    "inspect_lora",
]

_MAGIC = b"GGUF"
# Version 1 (mid-2023) used 32-bit counts and is no longer read by llama.cpp.
_SUPPORTED_VERSIONS = (2, 3)
# magic, version, tensor_count, kv_count; GGUF is little-endian throughout.
_FIXED_HEADER = struct.Struct("<4sIQQ")
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")

# The smallest a metadata entry or a tensor description can be on disk: an empty
# key (8-byte length), a 4-byte type and a 1-byte value; an empty name, zero
# dimensions, a 4-byte type and an 8-byte offset. A count larger than the file
# could hold at these sizes is impossible, whatever the entries contain.
_MIN_KV_BYTES = 8 + 4 + 1
_MIN_TENSOR_INFO_BYTES = 8 + 4 + 4 + 8
# Caps far above any real model (about 50 entries and a few thousand tensors),
# so that a crafted but consistent file cannot make us build millions of objects.
_MAX_KV_COUNT = 1 << 20
_MAX_TENSOR_COUNT = 1 << 20
_MAX_ARRAY_NESTING = 8
_GGML_MAX_DIMS = 4  # GGML_MAX_DIMS in ggml.h; llama.cpp rejects more.
_INT64_MAX = (1 << 63) - 1
# A single metadata value or tensor description larger than this is corruption,
# not truncation: the largest real ones (vocabularies) are a few megabytes.
_PLAUSIBLE_ITEM_BYTES = 1 << 30
# Tensors larger than this (1 PiB) cannot exist; such a size is corruption.
_PLAUSIBLE_TENSOR_BYTES = 1 << 50
# How much is read at once: the whole header of most models, a few reads for the
# largest vocabularies. Values are sliced out of the chunk in hand.
_CHUNK_BYTES = 1 << 20
# Numeric arrays up to this length keep their values (per-layer head counts);
# longer ones (token scores and types) are only skipped over.
_KEEP_ARRAY_VALUES = 4096

_VT = gguf.GGUFValueType
_SCALARS: dict[int, struct.Struct] = {
    _VT.UINT8: struct.Struct("<B"),
    _VT.INT8: struct.Struct("<b"),
    _VT.UINT16: struct.Struct("<H"),
    _VT.INT16: struct.Struct("<h"),
    _VT.UINT32: struct.Struct("<I"),
    _VT.INT32: struct.Struct("<i"),
    _VT.FLOAT32: struct.Struct("<f"),
    _VT.BOOL: struct.Struct("<B"),
    _VT.UINT64: struct.Struct("<Q"),
    _VT.INT64: struct.Struct("<q"),
    _VT.FLOAT64: struct.Struct("<d"),
}

# llama_ftype values that gguf.LlamaFileType no longer lists but old files carry.
_REMOVED_FILE_TYPES = {4: "Q4_1_SOME_F16", 33: "Q4_0_4_4", 34: "Q4_0_4_8", 35: "Q4_0_8_8"}

_KNOWN_ARCHITECTURES = frozenset(gguf.MODEL_ARCH_NAMES.values())


@dataclass(frozen=True, slots=True)
class GGUFInfo:
    """What a GGUF file's header declares about the model inside it.

    Fields the file does not carry are ``None``. ``parameter_count`` comes from
    ``general.parameter_count`` when present, else it is the sum of the tensors'
    element counts. ``rope`` holds ``freq_base``, ``dimension_count``,
    ``scaling_type``, ``scaling_factor`` and ``scaling_original_context_length``
    where the file sets them.
    """

    path: str
    size_bytes: int
    gguf_version: int
    architecture: str
    name: str | None
    parameter_count: int | None
    n_layers: int | None
    n_heads: int | None
    n_kv_heads: int | None
    n_embd: int | None
    n_ff: int | None
    n_ctx_train: int | None
    rope: dict[str, float | int | str]
    file_type: int | None
    quantization: str | None
    vocab_size: int | None
    tokenizer_model: str | None
    has_chat_template: bool
    chat_template: str | None
    tensor_count: int
    kv_count: int

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-serialisable dict (``glassbox models info --json``)."""
        return dataclasses.asdict(self)


def inspect_gguf(path: str | os.PathLike[str]) -> GGUFInfo:
    """Read and check the header of the GGUF model file at ``path``.

    Only the header and tensor descriptions are read (in bounded chunks), so
    this is quick even on multi-gigabyte files.

    Raises:
        ModelFileError: the file is missing, unreadable, not GGUF, of an
            unsupported GGUF version, truncated, internally inconsistent, or
            declares an architecture llama.cpp does not know. The message names
            the file and the problem.
    """
    return _parse(os.fspath(path), "Model file", _Parser.parse)


@dataclass(frozen=True, slots=True)
class TensorInfo:
    """One tensor as the header describes it: its GGML type, shape and size in the file.

    ``shape`` is in GGML order (the row length first); ``n_bytes`` is what its
    data takes in the file.
    """

    name: str
    type_name: str
    shape: tuple[int, ...]
    n_elements: int
    n_bytes: int


@dataclass(frozen=True, slots=True)
class AttentionShape:
    """The numbers llama.cpp sizes the KV cache from, one entry per layer where they vary.

    ``n_head_kv`` is per layer (0 for a layer without attention); ``head_dim_k``
    and ``head_dim_v`` come from ``attention.key_length``/``value_length``, or
    are ``embedding_length / head_count``. ``swa_layers`` marks the layers that
    attend only to the last ``sliding_window`` tokens (Gemma 2 and 3, Cohere 2);
    ``swa_pattern`` says where that came from.
    """

    n_layer: int
    n_head: int
    n_head_kv: tuple[int, ...]
    head_dim_k: int
    head_dim_v: int
    n_embd: int
    n_vocab: int
    n_ctx_train: int | None
    sliding_window: int | None
    swa_layers: tuple[bool, ...]
    swa_pattern: str

    @property
    def n_swa_layers(self) -> int:
        """How many layers use the sliding window."""
        return sum(self.swa_layers)


@dataclass(frozen=True, slots=True)
class ModelContents:
    """Everything the header says: the summary, every tensor, and the attention shape.

    ``attention`` is None when the header lacks or garbles the numbers a KV
    cache is sized from; ``attention_problem`` then says which, in words.
    """

    info: GGUFInfo
    tensors: tuple[TensorInfo, ...]
    attention: AttentionShape | None
    attention_problem: str | None


def inspect_contents(path: str | os.PathLike[str]) -> ModelContents:
    """Read and check the header at ``path`` as :func:`inspect_gguf` does, keeping every
    tensor's type and shape and the numbers the KV cache is sized from.

    Raises:
        ModelFileError: as :func:`inspect_gguf`.
    """
    return _parse(os.fspath(path), "Model file", _Parser.parse_contents)


_T = TypeVar("_T")


def _parse(shown: str, what: str, walk: Callable[[_Parser], _T]) -> _T:
    """Run ``walk`` over the file, every failure a ModelFileError naming it."""
    _regular_file_size(shown, what)
    try:
        with _opened(shown, what) as (fd, size):
            if size == 0:
                raise _error(
                    shown,
                    "is empty (0 bytes). The download or copy did not complete; "
                    "get the file again.",
                    what,
                )
            parser = _Parser(shown, fd, size, what)
            result = walk(parser)
            parser.check_unchanged()
            return result
    except ModelFileError:
        raise
    except (struct.error, ValueError, IndexError, OverflowError, UnicodeDecodeError) as exc:
        # The parser checks every bound it relies on; this is a safety net so
        # that a case it missed still reaches the user as a model-file problem.
        raise _error(
            shown, f"could not be read as a GGUF file ({exc}). It may be damaged.", what
        ) from exc
    except OSError as exc:
        raise _error(shown, f"could not be read: {exc.strerror or exc}.", what) from exc


@dataclass(frozen=True, slots=True)
class LoraInfo:
    """What a LoRA adapter's header declares.

    ``rank`` is the inner size of the low-rank pairs (the largest, when they
    differ); ``targets`` are the base model's tensors the adapter changes.
    """

    path: str
    size_bytes: int
    architecture: str
    alpha: float | None
    rank: int | None
    targets: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-serialisable dict."""
        return dataclasses.asdict(self)


_LORA_A = ".lora_a"
_LORA_B = ".lora_b"


def inspect_lora(
    path: str | os.PathLike[str], base_model: str | os.PathLike[str] | None = None
) -> LoraInfo:
    """Read and check the header of the LoRA adapter at ``path``.

    The adapter must be a GGUF file with ``general.type`` "adapter" and
    ``adapter.type`` "lora" whose tensors come in ``.lora_a``/``.lora_b`` pairs.
    With ``base_model``, each pair must also fit a tensor of that model with the
    same architecture: llama.cpp checks this only after the old model is gone,
    and answers a mismatch with a log line.

    Raises:
        ModelFileError: the adapter (or the base model) is not usable; the
            message names the file and the problem.
    """
    shown = os.fspath(path)
    fields, tensors = _parse(shown, "LoRA adapter", _Parser.parse_adapter)
    size = os.stat(shown).st_size

    def fail(problem: str) -> ModelFileError:
        return _error(shown, problem, "LoRA adapter")

    pairs: dict[str, dict[str, tuple[int, ...]]] = {}
    for t in tensors:
        if t.name.endswith(_LORA_A):
            pairs.setdefault(t.name.removesuffix(_LORA_A), {})["a"] = t.shape
        elif t.name.endswith(_LORA_B):
            pairs.setdefault(t.name.removesuffix(_LORA_B), {})["b"] = t.shape
        elif not t.name.endswith("_norm.weight"):  # llama.cpp skips norm vectors
            raise fail(f"has a tensor {t.name!r} that is not part of a LoRA pair.")
    if not pairs:
        raise fail("holds no LoRA tensors.")
    for target, pair in pairs.items():
        if "a" not in pair or "b" not in pair or len(pair["a"]) != 2 or len(pair["b"]) != 2:
            raise fail(f"is corrupt: the LoRA pair for {target!r} is incomplete or not 2-D.")

    arch: str = fields["general.architecture"]
    if base_model is not None:
        base_shown = os.fspath(base_model)
        base_fields, base_tensors = _parse(base_shown, "Model file", _Parser.parse_tensors)
        base_arch = base_fields["general.architecture"]
        if base_arch != arch:
            raise fail(
                f"was made for {arch!r} models, but {base_shown} is a {base_arch!r} model. "
                "Pick the adapter made for this model."
            )
        shapes = {t.name: t.shape for t in base_tensors}
        for target, pair in pairs.items():
            shape = shapes.get(target)
            if shape is None:
                raise fail(
                    f"changes the tensor {target!r}, which {base_shown} does not have. "
                    "It was made for another model."
                )
            a, b = pair["a"], pair["b"]
            if target.endswith("token_embd.weight"):
                # llama.cpp applies the embedding's pair the other way round.
                fits = len(shape) == 2 and shape[0] == b[1] and shape[1] == a[1]
            else:
                fits = len(shape) == 2 and shape[0] == a[0] and shape[1] == b[1] and a[1] == b[0]
            if not fits:
                raise fail(
                    f"does not fit {base_shown}: tensor {target!r} is {list(shape)} in the "
                    f"model but the adapter's pair is {list(a)} x {list(b)}. It was made "
                    "for another model."
                )
    alpha = fields.get("adapter.lora.alpha")
    if not isinstance(alpha, int | float) or isinstance(alpha, bool):
        alpha = None
    ranks = [p["b"][0] for t, p in pairs.items() if not t.endswith("token_embd.weight")]
    return LoraInfo(
        path=shown,
        size_bytes=size,
        architecture=arch,
        alpha=None if alpha is None else float(alpha),
        rank=max(ranks) if ranks else None,
        targets=tuple(sorted(pairs)),
    )


# -- opening the file ---------------------------------------------------------------


def _error(path: str, problem: str, what: str = "Model file") -> ModelFileError:
    return ModelFileError(f"{what} {path} {problem}")


def _regular_file_size(path: str, what: str = "Model file") -> int:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise _error(
            path, "does not exist. Check the path, or pick the file again.", what
        ) from None
    except PermissionError:
        raise _error(path, "cannot be read: permission denied.", what) from None
    except OSError as exc:
        raise _error(path, f"cannot be read: {exc.strerror or exc}.", what) from exc
    if stat.S_ISDIR(st.st_mode):
        raise _error(path, "is a folder, not a file. Pick the .gguf file inside it.", what)
    if not stat.S_ISREG(st.st_mode):
        # A pipe or device would block or never end; llama.cpp needs a real file.
        raise _error(path, "is not a regular file. Pick a .gguf file.", what)
    return st.st_size


@contextmanager
def _opened(path: str, what: str = "Model file") -> Iterator[tuple[int, int]]:
    """The open file's descriptor and its size now (the earlier stat may be stale)."""
    try:
        # O_NONBLOCK: a path swapped for a FIFO since the stat must not block the open.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except PermissionError:
        raise _error(path, "cannot be read: permission denied.", what) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise _error(path, "is not a regular file. Pick a .gguf file.", what)
        yield fd, st.st_size
    finally:
        os.close(fd)


# -- parsing ------------------------------------------------------------------------


class _Array(NamedTuple):
    """An array value: its element type, its length, and its values when kept."""

    item_type: int
    length: int
    values: tuple[Any, ...] | None


class _Tensor(NamedTuple):
    name: str
    n_elements: int
    n_bytes: int
    offset: int
    shape: tuple[int, ...]  # GGML order: the row length first
    type_name: str = "F32"  # the GGML type's name: F32, F16, Q4_K, …


class _Parser:
    """A bounds-checked walk over the header; every read is checked against the file end."""

    def __init__(self, path: str, fd: int, size: int, what: str = "Model file") -> None:
        self.path = path
        self.fd = fd
        self.size = size  # when it was opened: nothing past it is ever read
        self.pos = 0
        self.what = what
        # The chunk in hand: the file's bytes from ``base`` to ``base + len(buf)``,
        # a view of ``_space``, which is reused (a fresh megabyte for every read
        # costs more in page faults than the parse itself).
        self._space = bytearray()
        self.buf = memoryview(self._space)
        self.base = 0

    # errors

    def _fail(self, problem: str) -> ModelFileError:
        return _error(self.path, problem, self.what)

    def _truncated(self, what: str) -> ModelFileError:
        return self._fail(
            f"is truncated: it ends ({self.size:,} bytes) in the middle of {what}. "
            "The download or copy was probably interrupted; get the file again."
        )

    def _corrupt(self, problem: str) -> ModelFileError:
        return self._fail(f"is corrupt: {problem}. Get the file again or pick another model.")

    def _changed(self) -> ModelFileError:
        return self._fail(
            f"changed or is truncated: it had {self.size:,} bytes when reading began but "
            "became shorter while its header was read. If it is still being copied or "
            "downloaded, wait until that has finished, then pick it again."
        )

    def check_unchanged(self) -> None:
        """Raise the "changed" error when the file shrank after its header was read."""
        if os.fstat(self.fd).st_size < self.size:
            raise self._changed()

    # primitive reads

    def _read(self, offset: int, n: int) -> bytes:
        """``n`` bytes at ``offset`` (within the opened size); short only if the file shrank."""
        data = os.pread(self.fd, n, offset)
        while 0 < len(data) < n:  # a short read of a regular file: at its (new) end
            more = os.pread(self.fd, n - len(data), offset + len(data))
            if not more:
                break
            data += more
        return data

    def _fill(self, n: int) -> int:
        """Make the ``n`` bytes at ``pos`` available in ``buf``; returns their index there.

        The caller has checked that they lie within ``size``.
        """
        at = self.pos - self.base
        if at >= 0 and at + n <= len(self.buf):
            return at
        want = min(max(n, _CHUNK_BYTES), self.size - self.pos)
        if len(self._space) < want:
            self.buf.release()
            self._space = bytearray(want)
        self.buf = memoryview(self._space)[:want]
        got = 0
        while got < want:  # a short read of a regular file: at its (new) end
            count = os.preadv(self.fd, [self.buf[got:]], self.pos + got)
            if count == 0:
                break
            got += count
        if got < n:
            raise self._changed()
        self.buf = self.buf[:got]
        self.base = self.pos
        return 0

    def _overrun(self, n: int, what: str) -> ModelFileError:
        """The error for ``n`` bytes of ``what`` not fitting in the rest of the file."""
        if n > _PLAUSIBLE_ITEM_BYTES:
            # No real metadata value comes near this, so the length itself is
            # garbage; a cut-off file would still carry a sensible length.
            return self._corrupt(f"{what} claims an impossible {n:,} bytes")
        return self._truncated(what)

    def _need(self, n: int, what: str) -> None:
        if n > self.size - self.pos:
            raise self._overrun(n, what)

    def _u32(self, what: str) -> int:
        self._need(4, what)
        at = self._fill(4)  # before ``self.buf`` is read: it may replace the chunk
        (value,) = _U32.unpack_from(self.buf, at)
        self.pos += 4
        return int(value)

    def _u64(self, what: str) -> int:
        self._need(8, what)
        at = self._fill(8)
        (value,) = _U64.unpack_from(self.buf, at)
        self.pos += 8
        return int(value)

    def _string_bytes(self, what: str) -> bytes:
        length = self._u64(f"the length of {what}")
        self._need(length, what)
        at = self._fill(length)
        data = bytes(self.buf[at : at + length])
        self.pos += length
        return data

    def _key(self, what: str) -> str:
        raw = self._string_bytes(what)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise self._corrupt(f"{what} is not valid UTF-8 text") from None

    # values

    def _value(self, vtype: int, key: str, depth: int = 0) -> Any:
        scalar = _SCALARS.get(vtype)
        if scalar is not None:
            self._need(scalar.size, f"the value of {key}")
            at = self._fill(scalar.size)
            (value,) = scalar.unpack_from(self.buf, at)
            self.pos += scalar.size
            return bool(value) if vtype == _VT.BOOL else value
        if vtype == _VT.STRING:
            # Values are shown to people, not matched: a stray bad byte in, say,
            # a description should not make a working model unusable.
            return self._string_bytes(f"the value of {key}").decode("utf-8", errors="replace")
        if vtype == _VT.ARRAY:
            return self._array(key, depth)
        raise self._corrupt(f"metadata entry {key} has unknown value type {vtype}")

    def _array(self, key: str, depth: int) -> _Array:
        if depth >= _MAX_ARRAY_NESTING:
            raise self._corrupt(f"metadata entry {key} nests arrays more than {depth} deep")
        item_type = self._u32(f"the array type of {key}")
        length = self._u64(f"the array length of {key}")
        scalar = _SCALARS.get(item_type)
        if scalar is not None:
            n_bytes = length * scalar.size
            self._need(n_bytes, f"the array {key} ({length:,} items)")
            values: tuple[Any, ...] | None = None
            if length <= _KEEP_ARRAY_VALUES:
                fmt = f"<{length}{scalar.format[-1]}"
                at = self._fill(n_bytes)
                values = struct.unpack_from(fmt, self.buf, at)
                if item_type == _VT.BOOL:
                    values = tuple(bool(v) for v in values)
            self.pos += n_bytes
            return _Array(item_type, length, values)
        if item_type == _VT.STRING:
            # Each string has at least its 8-byte length: reject an impossible
            # count before looping over it.
            self._need(length * 8, f"the array {key} ({length:,} strings)")
            # The hot loop of a vocabulary (262,144 strings for Gemma 3): the
            # chunk in hand is used directly, a new one read when it runs out.
            # ``i`` counts from the chunk's start (one subtraction less per
            # string), and the loop reads ``_space`` rather than its view ``buf``
            # (faster to unpack from); ``filled`` keeps it inside the part read.
            buf, base, filled = self._space, self.base, len(self.buf)
            i = self.pos - base
            end = self.size - base
            unpack = _U64.unpack_from
            for _ in range(length):
                if i + 8 > filled:
                    self.pos = base + i
                    if i + 8 > end:
                        raise self._truncated(f"the array {key}")
                    self._fill(8)
                    buf, base, filled = self._space, self.base, len(self.buf)
                    i = 0
                    end = self.size - base
                (slen,) = unpack(buf, i)
                i += 8
                if slen > end - i:
                    self.pos = base + i
                    raise self._overrun(slen, f"a string in the array {key}")
                i += slen
            self.pos = base + i
            return _Array(item_type, length, None)
        if item_type == _VT.ARRAY:
            # A nested array is at least its 4-byte type and 8-byte length.
            self._need(length * 12, f"the array {key} ({length:,} arrays)")
            for _ in range(length):
                self._array(key, depth + 1)
            return _Array(item_type, length, None)
        raise self._corrupt(f"metadata array {key} has unknown item type {item_type}")

    # sections

    def _fixed_header(self) -> tuple[int, int, int]:
        if self.size < _FIXED_HEADER.size:
            if self._read(0, 4)[:4] != _MAGIC[: min(4, self.size)]:
                raise self._not_gguf()
            raise self._truncated("the 24-byte GGUF header")
        at = self._fill(_FIXED_HEADER.size)
        magic, version, tensor_count, kv_count = _FIXED_HEADER.unpack_from(self.buf, at)
        if magic != _MAGIC:
            raise self._not_gguf()
        if version & 0xFFFF == 0 and version != 0:
            raise self._fail(
                "is a big-endian GGUF file, made for a different kind of computer; "
                "llama.cpp on this one cannot read it. Get the little-endian version."
            )
        if version not in _SUPPORTED_VERSIONS:
            newer = "a newer" if version > max(_SUPPORTED_VERSIONS) else "an older"
            raise self._fail(
                f"uses GGUF version {version}, which is not supported (this app reads "
                f"versions {' and '.join(map(str, _SUPPORTED_VERSIONS))}). It was made by "
                f"{newer} tool; convert it again with a current llama.cpp."
            )
        if tensor_count > _MAX_TENSOR_COUNT or kv_count > _MAX_KV_COUNT:
            raise self._corrupt(
                f"its header declares {tensor_count:,} tensors and {kv_count:,} metadata "
                f"entries, impossibly many for a {self.size:,}-byte file"
            )
        room = self.size - _FIXED_HEADER.size
        if tensor_count * _MIN_TENSOR_INFO_BYTES + kv_count * _MIN_KV_BYTES > room:
            # Plausible counts that do not fit: the rest of the file is missing.
            raise self._fail(
                f"is truncated: its header declares {tensor_count:,} tensors and "
                f"{kv_count:,} metadata entries, which cannot fit in its {self.size:,} "
                "bytes. The download or copy was probably interrupted; get the file again."
            )
        self.pos = _FIXED_HEADER.size
        return int(version), int(tensor_count), int(kv_count)

    def _not_gguf(self) -> ModelFileError:
        looks = _describe_non_gguf(self._read(0, min(512, self.size)), self.size)
        return self._fail(f"is not a GGUF model file: {looks}. Glassbox runs .gguf models only.")

    def _metadata(self, kv_count: int) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        for index in range(kv_count):
            key = self._key(f"the name of metadata entry {index}")
            vtype = self._u32(f"the type of metadata entry {key}")
            if key in fields:
                # llama.cpp refuses duplicate keys; which one would win is unclear.
                raise self._corrupt(f"metadata entry {key} appears twice")
            fields[key] = self._value(vtype, key)
        return fields

    def _tensor_infos(self, tensor_count: int) -> list[_Tensor]:
        tensors: list[_Tensor] = []
        names: set[str] = set()
        for index in range(tensor_count):
            name = self._key(f"the name of tensor {index}")
            if name in names:
                raise self._corrupt(f"tensor {name!r} appears twice")
            names.add(name)
            n_dims = self._u32(f"the description of tensor {name!r}")
            if n_dims > _GGML_MAX_DIMS:
                raise self._corrupt(f"tensor {name!r} has {n_dims} dimensions (at most 4 exist)")
            dims = [self._u64(f"the shape of tensor {name!r}") for _ in range(n_dims)]
            raw_type = self._u32(f"the description of tensor {name!r}")
            offset = self._u64(f"the description of tensor {name!r}")
            if any(d > _INT64_MAX for d in dims):
                raise self._corrupt(f"tensor {name!r} has an impossible shape {dims}")
            try:
                ggml_type = gguf.GGMLQuantizationType(raw_type)
                block_size, type_size = gguf.GGML_QUANT_SIZES[ggml_type]
            except (ValueError, KeyError):
                raise self._fail(
                    f"uses tensor type {raw_type} (tensor {name!r}), which this version of "
                    "llama.cpp does not know. The file may need a newer Glassbox."
                ) from None
            n_elements = 1
            for d in dims:
                n_elements *= d
            if dims and dims[0] % block_size != 0:
                raise self._corrupt(
                    f"tensor {name!r} has a row of {dims[0]} values, not a multiple of its "
                    f"{ggml_type.name} block size {block_size}"
                )
            tensors.append(
                _Tensor(
                    name,
                    n_elements,
                    n_elements // block_size * type_size,
                    offset,
                    tuple(dims),
                    ggml_type.name,
                )
            )
        return tensors

    def _alignment(self, fields: dict[str, Any]) -> int:
        value = fields.get("general.alignment", gguf.GGUF_DEFAULT_ALIGNMENT)
        if (
            not isinstance(value, int)
            or isinstance(value, bool)
            or value <= 0
            or value & (value - 1)
        ):
            raise self._corrupt(f"general.alignment is {value!r}, not a power of two")
        return value

    def _check_tensor_data(self, tensors: list[_Tensor], alignment: int) -> None:
        # Tensor offsets count from the first aligned byte after the descriptions.
        data_start = -(-self.pos // alignment) * alignment
        for t in tensors:
            if t.offset % alignment:
                raise self._corrupt(
                    f"tensor {t.name!r} starts at offset {t.offset}, not a multiple of the "
                    f"file's alignment {alignment}"
                )
            if t.n_bytes > _PLAUSIBLE_TENSOR_BYTES or t.offset > _PLAUSIBLE_TENSOR_BYTES:
                raise self._corrupt(
                    f"tensor {t.name!r} claims an impossible size or position "
                    f"({t.n_bytes:,} bytes at offset {t.offset:,})"
                )
            end = data_start + t.offset + t.n_bytes
            if end > self.size:
                raise self._fail(
                    f"is truncated: tensor {t.name!r} ends at byte {end:,} but the file has "
                    f"only {self.size:,} bytes. The download or copy was probably "
                    "interrupted; get the file again."
                )

    def parse(self) -> GGUFInfo:
        """Walk the whole header and build the summary; raises ModelFileError."""
        version, tensor_count, kv_count = self._fixed_header()
        fields, tensors = self._checked_model(kv_count, tensor_count)
        return _summarise(self.path, self.size, version, tensor_count, kv_count, fields, tensors)

    def parse_contents(self) -> ModelContents:
        """Walk the whole header: the summary, every tensor and the attention shape."""
        version, tensor_count, kv_count = self._fixed_header()
        fields, tensors = self._checked_model(kv_count, tensor_count)
        info = _summarise(self.path, self.size, version, tensor_count, kv_count, fields, tensors)
        attention, problem = _attention_shape(fields, info)
        return ModelContents(
            info=info,
            tensors=tuple(
                TensorInfo(t.name, t.type_name, t.shape, t.n_elements, t.n_bytes) for t in tensors
            ),
            attention=attention,
            attention_problem=problem,
        )

    def parse_tensors(self) -> tuple[dict[str, Any], list[_Tensor]]:
        """Walk the whole header of a model: its metadata and tensors; raises ModelFileError."""
        _version, tensor_count, kv_count = self._fixed_header()
        return self._checked_model(kv_count, tensor_count)

    def _checked_model(
        self, kv_count: int, tensor_count: int
    ) -> tuple[dict[str, Any], list[_Tensor]]:
        fields = self._metadata(kv_count)
        self._check_architecture(fields)
        tensors = self._tensor_infos(tensor_count)
        self._check_tensor_data(tensors, self._alignment(fields))
        return fields, tensors

    def parse_adapter(self) -> tuple[dict[str, Any], list[_Tensor]]:
        """Walk the header of a LoRA adapter: its metadata and tensors; raises ModelFileError."""
        _version, tensor_count, kv_count = self._fixed_header()
        fields = self._metadata(kv_count)
        # Checked before the architecture: a model or a stray GGUF picked as the
        # adapter is better told so than told about its architecture.
        general_type = fields.get("general.type")
        if general_type != "adapter":
            looks = (
                "it is a model, not an adapter"
                if general_type == "model" or "tokenizer.ggml.tokens" in fields
                else f"its general.type is {general_type!r}, not 'adapter'"
            )
            raise self._fail(f"is not a LoRA adapter: {looks}. Pick the adapter's .gguf file.")
        adapter_type = fields.get("adapter.type")
        if adapter_type != "lora":
            raise self._fail(
                f"is an adapter of type {adapter_type!r}; only LoRA adapters (adapter.type "
                "'lora') can be applied."
            )
        self._check_architecture(fields)
        tensors = self._tensor_infos(tensor_count)
        self._check_tensor_data(tensors, self._alignment(fields))
        return fields, tensors

    def _check_architecture(self, fields: dict[str, Any]) -> None:
        arch = fields.get("general.architecture")
        if not isinstance(arch, str):
            if "split.no" in fields and fields["split.no"] != 0:
                raise self._fail(
                    f"is part {fields['split.no'] + 1} of a model split into several files. "
                    "Open the first part (…-00001-of-….gguf) instead."
                )
            raise self._fail(
                "has no general.architecture entry, so llama.cpp cannot tell what model it "
                "holds. It may not be a language model, or it was written by a broken tool."
            )
        if arch not in _KNOWN_ARCHITECTURES:
            raise self._fail(
                f"declares the model architecture {arch!r}, which this version of llama.cpp "
                "does not know. A newer Glassbox may support it."
            )


# -- summary ------------------------------------------------------------------------


def _int(value: Any) -> int | None:
    # Some architectures store per-layer arrays (e.g. head counts); the largest
    # entry is the figure a person means by "heads".
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, _Array) and value.values:
        ints = [v for v in value.values if isinstance(v, int) and not isinstance(v, bool)]
        return max(ints) if ints else None
    return None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _quantization(file_type: int | None) -> str | None:
    if file_type is None:
        return None
    try:
        name = gguf.LlamaFileType(file_type).name
    except ValueError:
        return _REMOVED_FILE_TYPES.get(file_type)
    if name == "GUESSED":
        return None
    return name.removeprefix("MOSTLY_").removeprefix("ALL_")


def _summarise(
    path: str,
    size: int,
    version: int,
    tensor_count: int,
    kv_count: int,
    fields: dict[str, Any],
    tensors: list[_Tensor],
) -> GGUFInfo:
    arch: str = fields["general.architecture"]

    def arch_field(suffix: str) -> Any:
        return fields.get(f"{arch}.{suffix}")

    rope: dict[str, float | int | str] = {}
    for suffix, label in (
        ("rope.freq_base", "freq_base"),
        ("rope.dimension_count", "dimension_count"),
        ("rope.scaling.type", "scaling_type"),
        ("rope.scaling.factor", "scaling_factor"),
        ("rope.scaling.original_context_length", "scaling_original_context_length"),
    ):
        value = arch_field(suffix)
        if isinstance(value, int | float | str) and not isinstance(value, bool):
            rope[label] = value

    tokens = fields.get("tokenizer.ggml.tokens")
    vocab_size = tokens.length if isinstance(tokens, _Array) else _int(arch_field("vocab_size"))
    template = _str(fields.get("tokenizer.chat_template"))
    parameter_count = _int(fields.get("general.parameter_count"))
    if parameter_count is None:
        parameter_count = sum(t.n_elements for t in tensors)
    file_type = _int(fields.get("general.file_type"))

    return GGUFInfo(
        path=path,
        size_bytes=size,
        gguf_version=version,
        architecture=arch,
        name=_str(fields.get("general.name")),
        parameter_count=parameter_count,
        n_layers=_int(arch_field("block_count")),
        n_heads=_int(arch_field("attention.head_count")),
        n_kv_heads=_int(arch_field("attention.head_count_kv")),
        n_embd=_int(arch_field("embedding_length")),
        n_ff=_int(arch_field("feed_forward_length")),
        n_ctx_train=_int(arch_field("context_length")),
        rope=rope,
        file_type=file_type,
        quantization=_quantization(file_type),
        vocab_size=vocab_size,
        tokenizer_model=_str(fields.get("tokenizer.ggml.model")),
        has_chat_template=bool(template),
        chat_template=template,
        tensor_count=tensor_count,
        kv_count=kv_count,
    )


# -- attention shape ----------------------------------------------------------------

# Far above any real model; a larger figure is a garbled header, and sizing a
# cache from it would only print nonsense.
_MAX_LAYERS = 4096
_MAX_HEADS = 4096
_MAX_HEAD_DIM = 65536
# Where llama.cpp does not read the sliding-window layers from the file but
# knows them per architecture (llama-model.cpp, set_swa_pattern): every n-th
# layer attends to the whole context, the others to the window.
_SWA_PATTERNS = {"gemma2": 2, "gemma3": 6, "cohere2": 4}


def _per_layer(value: Any, n_layer: int, what: str) -> tuple[tuple[int, ...] | None, str | None]:
    """A per-layer count from an int or an array of ints; (None, why) when unusable."""
    if isinstance(value, _Array):
        ints = value.values
        if ints is None or value.length != n_layer:
            return None, f"its {what} is an array of {value.length:,} entries for {n_layer} layers"
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in ints):
            return None, f"its {what} array holds values that are not whole numbers"
        return tuple(int(v) for v in ints), None
    n = _int(value)
    if n is None:
        return None, None
    return (n,) * n_layer, None


def _attention_shape(
    fields: dict[str, Any], info: GGUFInfo
) -> tuple[AttentionShape | None, str | None]:
    """The KV cache's numbers from the metadata, or (None, what is missing or impossible)."""
    arch = info.architecture

    def arch_field(suffix: str) -> Any:
        return fields.get(f"{arch}.{suffix}")

    n_layer = info.n_layers
    if n_layer is None:
        return None, f"the file has no {arch}.block_count (number of layers)"
    if not 0 < n_layer <= _MAX_LAYERS:
        return None, f"the file declares {n_layer:,} layers"
    heads, why = _per_layer(arch_field("attention.head_count"), n_layer, "head count")
    if heads is None:
        return None, why or f"the file has no {arch}.attention.head_count"
    kv_value = arch_field("attention.head_count_kv")
    kv_heads, why = _per_layer(kv_value, n_layer, "KV head count")
    if why is not None:
        return None, why
    if kv_heads is None:
        kv_heads = heads  # llama.cpp's default: no grouped-query attention
    n_head = max(heads)
    if not 0 < n_head <= _MAX_HEADS or any(not 0 <= h <= _MAX_HEADS for h in (*heads, *kv_heads)):
        return None, f"the file declares {n_head:,} attention heads"
    n_embd = info.n_embd
    if n_embd is None or n_embd <= 0:
        return None, f"the file has no {arch}.embedding_length"
    head_dims: list[int] = []
    for suffix in ("attention.key_length", "attention.value_length"):
        dim = _int(arch_field(suffix))
        if dim is None:
            if n_embd % n_head:
                return None, (
                    f"the file has no {arch}.{suffix} and its embedding length {n_embd:,} "
                    f"is not a multiple of its {n_head} heads"
                )
            dim = n_embd // n_head
        if not 0 < dim <= _MAX_HEAD_DIM:
            return None, f"the file declares a head size of {dim:,}"
        head_dims.append(dim)

    window = _int(arch_field("attention.sliding_window"))
    if window is not None and window <= 0:
        window = None
    swa = (False,) * n_layer
    pattern_text = "none"
    if window is not None:
        pattern = arch_field("attention.sliding_window_pattern")
        if isinstance(pattern, _Array) and pattern.values is not None:
            if pattern.length != n_layer:
                return None, (
                    f"its sliding-window pattern has {pattern.length:,} entries "
                    f"for {n_layer} layers"
                )
            swa = tuple(bool(v) for v in pattern.values)
            pattern_text = "file"
        else:
            every = _int(pattern) or _SWA_PATTERNS.get(arch)
            if every is not None and every > 0:
                # llama_hparams::set_swa_pattern: layer il is full when il % n == n - 1.
                swa = tuple(il % every < every - 1 for il in range(n_layer))
                pattern_text = f"every {every}"
            else:
                # Unknown pattern: every layer sized as a full one, which over-counts.
                pattern_text = "unknown"
    return (
        AttentionShape(
            n_layer=n_layer,
            n_head=n_head,
            n_head_kv=kv_heads,
            head_dim_k=head_dims[0],
            head_dim_v=head_dims[1],
            n_embd=n_embd,
            n_vocab=info.vocab_size or 0,
            n_ctx_train=info.n_ctx_train,
            sliding_window=window,
            swa_layers=swa,
            swa_pattern=pattern_text,
        ),
        None,
    )


# -- what a non-GGUF file looks like --------------------------------------------------

_OLD_GGML_MAGICS = {b"lmgg": "GGML", b"fmgg": "GGMF", b"tjgg": "GGJT", b"algg": "GGLA"}


def _describe_non_gguf(head: bytes, size: int) -> str:
    """A guess at what a file is, from its first bytes, in words a user recognises."""
    if head[:4] in _OLD_GGML_MAGICS:
        return (
            f"it is an old {_OLD_GGML_MAGICS[head[:4]]} model from before GGUF (2023), "
            "which llama.cpp no longer reads; get a .gguf version of the model"
        )
    if head.startswith(b"version https://git-lfs"):
        return (
            "it is a Git LFS pointer, a small text file standing in for the model; "
            "fetch the real file (git lfs pull)"
        )
    if head.startswith(b"PK\x03\x04"):
        return (
            "it is a ZIP archive (a PyTorch checkpoint or a compressed download); "
            "unzip or convert it"
        )
    if len(head) >= 9 and head[8:9] == b"{":
        (header_len,) = _U64.unpack_from(head, 0)
        if 0 < header_len < size:
            return (
                "it is a safetensors file; convert it to GGUF with llama.cpp's "
                "convert_hf_to_gguf.py"
            )
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return "it is a Python pickle (a PyTorch .bin or .pt checkpoint); convert it to GGUF"
    for magic, kind in (
        (b"\x1f\x8b", "a gzip archive"),
        (b"7z\xbc\xaf", "a 7-Zip archive"),
        (b"Rar!", "a RAR archive"),
        (b"\x28\xb5\x2f\xfd", "a zstd-compressed file"),
        (b"\xfd7zXZ", "an xz-compressed file"),
    ):
        if head.startswith(magic):
            return f"it is {kind}; extract the .gguf file from it first"
    stripped = head.lstrip().lower()
    if stripped.startswith((b"<!doctype html", b"<html", b"<?xml", b"<head")):
        return (
            "it is a web page (HTML), probably an error or sign-in page saved instead of the model"
        )
    if stripped.startswith(b"{"):
        return "it is a JSON text file"
    try:
        # Incremental, so a character cut in two at the end of ``head`` is no error.
        text = codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        text = ""
    if text and all(c.isprintable() or c in "\r\n\t" for c in text):
        return "it is a text file"
    return f"its first bytes are {head[:4].hex(' ')}, where a GGUF file starts with 'GGUF'"
