"""Tiny GGUF files for tests, written with the ``gguf`` package.

``write_tiny_llama`` writes a random-weight llama model (F32, about 650 KB) that
llama.cpp loads and runs: it tokenizes, evaluates and samples like a real model,
only its output is noise. ``write_malformed`` writes files that are broken in
one specific way, each derived from a valid tiny file or from raw bytes, so the
header check can be tested against every failure it claims to catch.

Nothing here touches the network; a file is written in a few milliseconds.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import gguf
import numpy as np

# Shape of the tiny model. Small enough to be written and loaded in milliseconds,
# with GQA (4 query heads sharing 2 KV heads) so the grouped path gets exercised.
N_EMBD = 64
N_LAYERS = 2
N_HEADS = 4
N_KV_HEADS = 2
N_FF = 128
HEAD_DIM = N_EMBD // N_HEADS
ROPE_FREQ_BASE = 10000.0
RMS_EPS = 1e-5
MODEL_NAME = "glassbox-tiny-llama"

# Vocabulary layout: SentencePiece conventions (unk/bos/eos first, then the 256
# byte fallback tokens), then the two ChatML control tokens, then ordinary pieces.
UNK_ID = 0
BOS_ID = 1
EOS_ID = 2
FIRST_BYTE_ID = 3
N_BYTE_TOKENS = 256
IM_START_ID = FIRST_BYTE_ID + N_BYTE_TOKENS  # 259
IM_END_ID = IM_START_ID + 1  # 260
N_SPECIAL_TOKENS = IM_END_ID + 1  # 261 tokens before the ordinary pieces

DEFAULT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)

# Words whose pieces (and every prefix of them, so SentencePiece's bigram merges
# can reach the whole word) make up the ordinary part of the vocabulary.
_WORDS_TEXT = (
    "the and of to a in is it you that he was for on are with as I his they be at one have"
    " this from or had by hot word but what some we can out other were all there when up use"
    " your how said an each she which do their time if will way about many then them write"
    " would like so these her long make thing see him two has look more day could go come did"
    " number sound no most people my over know water than call first who may down side been"
    " now find hello world model token answer question yes thanks please help Hello The What"
    " How Why Glassbox assistant user system"
)

_DEFAULT_VOCAB_EXTRA = 400


def tiny_vocab_size(vocab_extra: int = _DEFAULT_VOCAB_EXTRA) -> int:
    """The ``n_vocab`` of a file written by ``write_tiny_llama`` with this ``vocab_extra``."""
    return N_SPECIAL_TOKENS + vocab_extra


def _ordinary_pieces(count: int) -> list[str]:
    """``count`` distinct ordinary SentencePiece pieces, most useful first.

    Single characters come first and every multi-character piece follows its
    prefixes, so a truncated list still tokenizes what it covers.
    """
    chars = ["▁", *"abcdefghijklmnopqrstuvwxyz", *"ABCDEFGHIJKLMNOPQRSTUVWXYZ", *"0123456789"]
    chars += list(".,!?'\"-:;()")
    pieces: list[str] = []
    seen: set[str] = set()

    def push(piece: str) -> None:
        if piece not in seen:
            seen.add(piece)
            pieces.append(piece)

    for ch in chars:
        push(ch)
    for word in _WORDS_TEXT.split():
        full = "▁" + word
        for end in range(2, len(full) + 1):
            push(full[:end])
    filler = 0
    while len(pieces) < count:
        # Padding for callers that ask for a bigger vocabulary; unreachable by
        # merges, which is fine, they only widen the logits.
        push(f"▁tok{filler}")
        filler += 1
    return pieces[:count]


def _vocab(vocab_extra: int) -> tuple[list[str], list[float], list[int]]:
    tokens = ["<unk>", "<s>", "</s>"]
    types = [gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL]
    for byte in range(N_BYTE_TOKENS):
        tokens.append(f"<0x{byte:02X}>")
        types.append(gguf.TokenType.BYTE)
    tokens += ["<|im_start|>", "<|im_end|>"]
    types += [gguf.TokenType.CONTROL, gguf.TokenType.CONTROL]
    scores = [0.0] * len(tokens)
    for rank, piece in enumerate(_ordinary_pieces(vocab_extra)):
        tokens.append(piece)
        types.append(gguf.TokenType.NORMAL)
        # SentencePiece merges the adjacent pair whose result scores highest;
        # longer pieces come later in the list and get the *higher* score so
        # that whole words win over their fragments.
        scores.append(-1000.0 + float(rank))
    return tokens, scores, [int(t) for t in types]


def write_tiny_llama(
    path: str | os.PathLike[str],
    *,
    seed: int = 0,
    n_ctx: int = 256,
    chat_template: str | None = DEFAULT_TEMPLATE,
    vocab_extra: int = _DEFAULT_VOCAB_EXTRA,
) -> Path:
    """Write a random-weight llama-architecture GGUF model that llama.cpp can run.

    The weights come from ``numpy.random.default_rng(seed)``, so equal arguments
    give byte-identical files. ``n_ctx`` is written as ``llama.context_length``.
    With ``chat_template=None`` the file has no ``tokenizer.chat_template``.
    The vocabulary has ``tiny_vocab_size(vocab_extra)`` tokens.
    """
    if vocab_extra < 0:
        raise ValueError("vocab_extra must be >= 0")
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tokens, scores, types = _vocab(vocab_extra)
    n_vocab = len(tokens)
    rng = np.random.default_rng(seed)

    def weight(*shape: int) -> np.ndarray:
        # numpy shape is (rows, cols) = GGUF ne reversed; GGUFWriter flips it.
        return (rng.standard_normal(shape) * 0.02).astype(np.float32)

    def ones(n: int) -> np.ndarray:
        return np.ones(n, dtype=np.float32)

    writer = gguf.GGUFWriter(out, "llama")
    try:
        writer.add_name(MODEL_NAME)
        writer.add_file_type(int(gguf.LlamaFileType.ALL_F32))
        writer.add_context_length(n_ctx)
        writer.add_embedding_length(N_EMBD)
        writer.add_block_count(N_LAYERS)
        writer.add_feed_forward_length(N_FF)
        writer.add_head_count(N_HEADS)
        writer.add_head_count_kv(N_KV_HEADS)
        writer.add_layer_norm_rms_eps(RMS_EPS)
        writer.add_rope_dimension_count(HEAD_DIM)
        writer.add_rope_freq_base(ROPE_FREQ_BASE)
        writer.add_vocab_size(n_vocab)

        writer.add_tokenizer_model("llama")
        writer.add_token_list(tokens)
        writer.add_token_scores(scores)
        writer.add_token_types(types)
        writer.add_unk_token_id(UNK_ID)
        writer.add_bos_token_id(BOS_ID)
        writer.add_eos_token_id(EOS_ID)
        writer.add_eot_token_id(IM_END_ID)
        writer.add_add_bos_token(True)
        writer.add_add_eos_token(False)
        if chat_template is not None:
            writer.add_chat_template(chat_template)

        writer.add_tensor("token_embd.weight", weight(n_vocab, N_EMBD))
        for i in range(N_LAYERS):
            blk = f"blk.{i}"
            writer.add_tensor(f"{blk}.attn_norm.weight", ones(N_EMBD))
            writer.add_tensor(f"{blk}.attn_q.weight", weight(N_HEADS * HEAD_DIM, N_EMBD))
            writer.add_tensor(f"{blk}.attn_k.weight", weight(N_KV_HEADS * HEAD_DIM, N_EMBD))
            writer.add_tensor(f"{blk}.attn_v.weight", weight(N_KV_HEADS * HEAD_DIM, N_EMBD))
            writer.add_tensor(f"{blk}.attn_output.weight", weight(N_EMBD, N_HEADS * HEAD_DIM))
            writer.add_tensor(f"{blk}.ffn_norm.weight", ones(N_EMBD))
            writer.add_tensor(f"{blk}.ffn_gate.weight", weight(N_FF, N_EMBD))
            writer.add_tensor(f"{blk}.ffn_up.weight", weight(N_FF, N_EMBD))
            writer.add_tensor(f"{blk}.ffn_down.weight", weight(N_EMBD, N_FF))
        writer.add_tensor("output_norm.weight", ones(N_EMBD))
        writer.add_tensor("output.weight", weight(n_vocab, N_EMBD))

        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
    finally:
        writer.close()
    return out


def _lora_shapes(
    n_layers: int, n_embd: int, n_ff: int, n_heads: int, n_kv_heads: int
) -> dict[str, tuple[int, int]]:
    """The weights an adapter changes, as numpy (outputs, inputs): every projection."""
    head_dim = n_embd // n_heads
    shapes: dict[str, tuple[int, int]] = {}
    for i in range(n_layers):
        blk = f"blk.{i}"
        shapes[f"{blk}.attn_q.weight"] = (n_heads * head_dim, n_embd)
        shapes[f"{blk}.attn_k.weight"] = (n_kv_heads * head_dim, n_embd)
        shapes[f"{blk}.attn_v.weight"] = (n_kv_heads * head_dim, n_embd)
        shapes[f"{blk}.attn_output.weight"] = (n_embd, n_heads * head_dim)
        shapes[f"{blk}.ffn_gate.weight"] = (n_ff, n_embd)
        shapes[f"{blk}.ffn_up.weight"] = (n_ff, n_embd)
        shapes[f"{blk}.ffn_down.weight"] = (n_embd, n_ff)
    return shapes


def write_tiny_lora(
    path: str | os.PathLike[str],
    *,
    seed: int = 1,
    rank: int = 4,
    alpha: float = 8.0,
    std: float = 0.5,
    architecture: str = "llama",
    n_layers: int = N_LAYERS,
    n_embd: int = N_EMBD,
    n_ff: int = N_FF,
    n_heads: int = N_HEADS,
    n_kv_heads: int = N_KV_HEADS,
) -> Path:
    """Write a random LoRA adapter GGUF for the model ``write_tiny_llama`` writes.

    It follows llama.cpp's ``convert_lora_to_gguf.py``: ``general.type`` "adapter",
    ``adapter.type`` "lora", ``adapter.lora.alpha``, and for each adapted weight
    ``W`` (GGML shape ``[n_in, n_out]``) a pair ``W.lora_a`` of GGML shape
    ``[n_in, rank]`` and ``W.lora_b`` of ``[rank, n_out]``; llama.cpp adds
    ``scale * alpha / rank * B(A x)`` to ``W x``. Both halves are random (a
    trained adapter's B starts at zero), so the adapter visibly moves the logits.
    The shape arguments describe the base model; give other values to write an
    adapter that does not fit the tiny model.
    """
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    writer = gguf.GGUFWriter(out, architecture)
    try:
        writer.add_type(gguf.GGUFType.ADAPTER)
        writer.add_name(f"{MODEL_NAME}-lora")
        writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
        writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, float(alpha))
        shapes = _lora_shapes(n_layers, n_embd, n_ff, n_heads, n_kv_heads)
        for name, (n_out, n_in) in shapes.items():
            # numpy shapes are GGML's reversed: A is [n_in, rank] in GGML, B [rank, n_out].
            a = (rng.standard_normal((rank, n_in)) * std).astype(np.float32)
            b = (rng.standard_normal((n_out, rank)) * std).astype(np.float32)
            writer.add_tensor(f"{name}.lora_a", a)
            writer.add_tensor(f"{name}.lora_b", b)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
    finally:
        writer.close()
    return out


def tiny_tensor_count() -> int:
    """How many tensors ``write_tiny_llama`` writes."""
    return 3 + 9 * N_LAYERS


MALFORMED_KINDS = (
    "bad_magic",
    "truncated",
    "absurd_tensor_count",
    "unknown_arch",
    "empty",
    "huge_string_len",
    "tensor_past_eof",
    # Beyond the basic set: each a different check in the inspector.
    "bad_version",
    "no_arch",
    "huge_array_len",
)

# Fixed GGUF header: magic, version (u32), tensor_count (u64), kv_count (u64).
_HEADER = struct.Struct("<4sIQQ")


def _first_kv_value_offset(data: bytes) -> int:
    """Offset of the first KV pair's value (``general.architecture``, a string)."""
    pos = _HEADER.size
    (key_len,) = struct.unpack_from("<Q", data, pos)
    pos += 8 + key_len
    (vtype,) = struct.unpack_from("<I", data, pos)
    key = data[_HEADER.size + 8 : _HEADER.size + 8 + key_len]
    assert key == b"general.architecture" and vtype == gguf.GGUFValueType.STRING, key
    return pos + 4


def write_malformed(path: str | os.PathLike[str], kind: str) -> Path:
    """Write a file broken in one way; ``kind`` is one of ``MALFORMED_KINDS``.

    - ``bad_magic``: a ZIP archive's first bytes (what a PyTorch checkpoint looks like)
    - ``truncated``: a valid file cut off in its header (inside the first tensor description)
    - ``absurd_tensor_count``: a valid file whose header claims 2**60 tensors
    - ``unknown_arch``: a valid file whose ``general.architecture`` is ``"lla.a"``
    - ``empty``: zero bytes
    - ``huge_string_len``: the architecture string's length says 2**62 bytes
    - ``tensor_past_eof``: a valid file with its last 4 KiB of tensor data cut off
    - ``bad_version``: a valid file whose header says GGUF version 99
    - ``no_arch``: a valid file whose ``general.architecture`` key is renamed
    - ``huge_array_len``: ``tokenizer.ggml.tokens`` claims 2**62 strings
    """
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    if kind == "empty":
        out.write_bytes(b"")
        return out
    if kind == "bad_magic":
        out.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 8)
        return out
    if kind not in MALFORMED_KINDS:
        raise ValueError(f"unknown malformed kind {kind!r}; pick one of {MALFORMED_KINDS}")

    write_tiny_llama(out)
    data = bytearray(out.read_bytes())
    if kind == "truncated":
        # Cut inside the first tensor description (in its shape), after all the
        # metadata: the header is complete up to there and every length read
        # before the cut is sensible.
        first = bytes(data).index(b"token_embd.weight")
        data = data[: first + len(b"token_embd.weight") + 4 + 6]
    elif kind == "absurd_tensor_count":
        struct.pack_into("<Q", data, 8, 1 << 60)
    elif kind == "unknown_arch":
        value = _first_kv_value_offset(bytes(data))
        (length,) = struct.unpack_from("<Q", data, value)
        assert data[value + 8 : value + 8 + length] == b"llama"
        # Same length, so every later offset stays valid: only the name is wrong.
        data[value + 8 : value + 8 + length] = b"lla.a"
    elif kind == "huge_string_len":
        value = _first_kv_value_offset(bytes(data))
        struct.pack_into("<Q", data, value, 1 << 62)
    elif kind == "tensor_past_eof":
        data = data[: len(data) - 4096]
    elif kind == "bad_version":
        struct.pack_into("<I", data, 4, 99)
    elif kind == "no_arch":
        key = bytes(data).index(b"general.architecture")
        # Same length, so the layout stays valid; only the required key is gone.
        data[key : key + len(b"general.architecture")] = b"general.xrchitecture"
    elif kind == "huge_array_len":
        key = bytes(data).index(b"tokenizer.ggml.tokens")
        # After the key: value type ARRAY (u32), item type STRING (u32), length (u64).
        pos = key + len(b"tokenizer.ggml.tokens")
        assert struct.unpack_from("<II", data, pos) == (
            gguf.GGUFValueType.ARRAY,
            gguf.GGUFValueType.STRING,
        )
        struct.pack_into("<Q", data, pos + 8, 1 << 62)
    out.write_bytes(bytes(data))
    return out


#: The tensor types ``write_quantized`` gives each tensor by default, as
#: llama.cpp's Q4_K_M recipe does: Q6_K for ``attn_v`` and ``ffn_down`` in the
#: first layer, Q4_K for the other matrices, Q8_0 for the embedding, F32 norms.
QUANTIZED_TYPES = {
    "token_embd": "Q8_0",
    "attn_q": "Q4_K",
    "attn_k": "Q4_K",
    "attn_v": "Q6_K",
    "attn_output": "Q4_K",
    "ffn_gate": "Q4_K",
    "ffn_up": "Q4_K",
    "ffn_down": "Q6_K",
    "output": "Q6_K",
}


def write_quantized(
    path: str | os.PathLike[str],
    *,
    arch: str = "llama",
    n_layers: int = 2,
    n_embd: int = 256,
    n_heads: int = 4,
    n_kv_heads: int | list[int] = 2,
    n_ff: int = 512,
    n_vocab: int = 512,
    n_ctx: int = 2048,
    key_length: int | None = None,
    value_length: int | None = None,
    sliding_window: int | None = None,
    types: dict[str, str] | None = None,
    tied_output: bool = False,
) -> Path:
    """Write a GGUF header with quantized tensors (zeroed data) for inspecting, not running.

    Each matrix gets its type from ``types`` (by the tensor's short name, see
    ``QUANTIZED_TYPES``, the default); in layers after the first, Q6_K matrices
    become Q4_K, so layers differ as in a real Q4_K_M file. Norms are F32.
    ``n_kv_heads`` may be a per-layer list. Tensor data is all zero bytes.
    """
    chosen = dict(QUANTIZED_TYPES if types is None else types)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    q = gguf.GGMLQuantizationType
    head_k = key_length or n_embd // n_heads
    head_v = value_length or n_embd // n_heads
    kv_list = n_kv_heads if isinstance(n_kv_heads, list) else [n_kv_heads] * n_layers

    writer = gguf.GGUFWriter(out, arch)

    def add(name: str, short: str, rows: int, cols: int, layer: int | None = None) -> None:
        type_name = chosen.get(short, "F32")
        if layer and type_name == "Q6_K":
            type_name = "Q4_K"
        qtype = q[type_name]
        if qtype == q.F32:
            writer.add_tensor(name, np.zeros((rows, cols), dtype=np.float32))
            return
        if qtype == q.F16:
            writer.add_tensor(name, np.zeros((rows, cols), dtype=np.float16))
            return
        block, size = gguf.GGML_QUANT_SIZES[qtype]
        data = np.zeros((rows, cols // block * size), dtype=np.uint8)
        writer.add_tensor(name, data, raw_dtype=qtype)

    try:
        writer.add_name(f"glassbox-quantized-{arch}")
        writer.add_file_type(int(gguf.LlamaFileType.MOSTLY_Q4_K_M))
        writer.add_context_length(n_ctx)
        writer.add_embedding_length(n_embd)
        writer.add_block_count(n_layers)
        writer.add_feed_forward_length(n_ff)
        writer.add_head_count(n_heads)
        if isinstance(n_kv_heads, list):
            writer.add_key_value(
                f"{arch}.attention.head_count_kv", n_kv_heads, gguf.GGUFValueType.ARRAY
            )
        else:
            writer.add_head_count_kv(n_kv_heads)
        if key_length is not None:
            writer.add_key_length(key_length)
        if value_length is not None:
            writer.add_value_length(value_length)
        if sliding_window is not None:
            writer.add_sliding_window(sliding_window)
        writer.add_layer_norm_rms_eps(RMS_EPS)
        writer.add_vocab_size(n_vocab)

        add("token_embd.weight", "token_embd", n_vocab, n_embd)
        for i in range(n_layers):
            blk = f"blk.{i}"
            kv = kv_list[i]
            writer.add_tensor(f"{blk}.attn_norm.weight", np.ones(n_embd, dtype=np.float32))
            add(f"{blk}.attn_q.weight", "attn_q", n_heads * head_k, n_embd, i)
            if kv:
                add(f"{blk}.attn_k.weight", "attn_k", kv * head_k, n_embd, i)
                add(f"{blk}.attn_v.weight", "attn_v", kv * head_v, n_embd, i)
            add(f"{blk}.attn_output.weight", "attn_output", n_embd, n_heads * head_v, i)
            writer.add_tensor(f"{blk}.ffn_norm.weight", np.ones(n_embd, dtype=np.float32))
            add(f"{blk}.ffn_gate.weight", "ffn_gate", n_ff, n_embd, i)
            add(f"{blk}.ffn_up.weight", "ffn_up", n_ff, n_embd, i)
            add(f"{blk}.ffn_down.weight", "ffn_down", n_embd, n_ff, i)
        writer.add_tensor("output_norm.weight", np.ones(n_embd, dtype=np.float32))
        if not tied_output:
            add("output.weight", "output", n_vocab, n_embd)

        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
    finally:
        writer.close()
    return out
