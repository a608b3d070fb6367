"""What a model is made of (tensor types by layer, shares, bits per weight) and the memory
estimate (KV cache, repacked weights, fit labels), from headers written by gguf_factory."""

from __future__ import annotations

from pathlib import Path

import gguf
import pytest
from gguf_factory import write_malformed, write_quantized, write_tiny_llama

from desktop_app.core.errors import ModelFileError
from desktop_app.core.models.gguf_info import inspect_contents, inspect_gguf
from desktop_app.core.models.memory_fit import (
    FITS,
    NO_FIT,
    TIGHT,
    MachineMemory,
    compute_bytes,
    compute_reserved_bytes,
    estimate_memory,
    fit_memory,
    kv_cache_bytes,
    machine_memory,
    repacked_bytes,
)
from desktop_app.core.models.weights import bits_per_weight, group_by_layer, type_shares

AVX2 = frozenset({"avx", "avx2", "fma"})


def _size(type_name: str, rows: int, cols: int) -> int:
    block, size = gguf.GGML_QUANT_SIZES[gguf.GGMLQuantizationType[type_name]]
    return rows * cols // block * size


@pytest.fixture
def quantized(tmp_path: Path) -> Path:
    return write_quantized(tmp_path / "q.gguf")


def test_each_tensor_keeps_its_type_and_shape(quantized: Path) -> None:
    contents = inspect_contents(quantized)
    by_name = {t.name: t for t in contents.tensors}
    assert by_name["token_embd.weight"].type_name == "Q8_0"
    assert by_name["blk.0.ffn_down.weight"].type_name == "Q6_K"
    assert by_name["blk.1.ffn_down.weight"].type_name == "Q4_K"
    assert by_name["blk.0.attn_norm.weight"].type_name == "F32"
    # GGML order: the row length first.
    assert by_name["blk.0.ffn_up.weight"].shape == (256, 512)
    assert by_name["blk.0.ffn_up.weight"].n_bytes == _size("Q4_K", 512, 256)
    assert contents.info == inspect_gguf(quantized)


def test_tensors_are_grouped_by_layer_in_order(tmp_path: Path) -> None:
    path = write_quantized(tmp_path / "q.gguf", n_layers=12)
    groups = group_by_layer(inspect_contents(path).tensors)
    names = [g.name for g in groups]
    # blk.10 after blk.9, not after blk.1; outside tensors before and after the layers.
    assert names == [
        "token_embd.weight",
        *(f"blk.{i}" for i in range(12)),
        "output_norm.weight",
        "output.weight",
    ]
    first, second = groups[1], groups[2]
    assert first.layer == 0 and len(first.tensors) == 9
    assert first.types[0] == "Q4_K" and "Q6_K" in first.types and "F32" in first.types
    assert "Q6_K" not in second.types
    assert first.n_bytes == sum(t.n_bytes for t in first.tensors)


def test_type_shares_and_bits_per_weight_match_a_hand_count(quantized: Path) -> None:
    tensors = inspect_contents(quantized).tensors
    # Hand count for the default shape: embd 256, ff 512, 4 heads of 64, 2 KV heads, vocab 512.
    q4k = 2 * (
        _size("Q4_K", 256, 256) + _size("Q4_K", 128, 256) + _size("Q4_K", 256, 256)
    ) + 2 * 2 * _size("Q4_K", 512, 256)
    q4k += _size("Q4_K", 128, 256) + _size("Q4_K", 256, 512)  # layer 1's attn_v and ffn_down
    q6k = _size("Q6_K", 128, 256) + _size("Q6_K", 256, 512) + _size("Q6_K", 512, 256)
    q8 = _size("Q8_0", 512, 256)
    f32 = (2 * 2 + 1) * 256 * 4
    total = q4k + q6k + q8 + f32
    shares = {s.type_name: s for s in type_shares(tensors)}
    assert set(shares) == {"Q4_K", "Q6_K", "Q8_0", "F32"}
    assert shares["Q4_K"].n_bytes == q4k and shares["Q6_K"].n_bytes == q6k
    assert shares["Q4_K"].share == pytest.approx(q4k / total)
    assert sum(s.share for s in shares.values()) == pytest.approx(1.0)
    assert shares["Q4_K"].bits_per_weight == pytest.approx(4.5)
    assert shares["Q6_K"].bits_per_weight == pytest.approx(6.5625)
    assert shares["Q8_0"].bits_per_weight == pytest.approx(8.5)
    elements = sum(t.n_elements for t in tensors)
    assert bits_per_weight(tensors) == pytest.approx(8 * total / elements)
    assert type_shares(tensors)[0].type_name == "Q4_K"  # the most bytes first


def test_kv_cache_matches_a_hand_computation(quantized: Path) -> None:
    att = inspect_contents(quantized).attention
    assert att is not None
    assert (att.n_layer, att.n_head, att.n_head_kv, att.head_dim_k, att.head_dim_v) == (
        2,
        4,
        (2, 2),
        64,
        64,
    )
    # 1,000 tokens are 1,024 cells; per layer K and V rows of 2 heads × 64 values.
    assert kv_cache_bytes(att, 1000) == 2 * 1024 * (128 + 128) * 2
    assert kv_cache_bytes(att, 1024, "q8_0") == 2 * 1024 * (4 * 34 + 4 * 34)
    assert kv_cache_bytes(att, 1024, "q4_0") == 2 * 1024 * (4 * 18 + 4 * 18)
    with pytest.raises(ValueError, match="unknown KV cache type"):
        kv_cache_bytes(att, 1024, "q3_k")


def test_per_layer_heads_and_separate_key_and_value_sizes(tmp_path: Path) -> None:
    path = write_quantized(
        tmp_path / "q.gguf", n_layers=3, n_kv_heads=[2, 0, 1], key_length=128, value_length=64
    )
    att = inspect_contents(path).attention
    assert att is not None and att.n_head_kv == (2, 0, 1)
    assert kv_cache_bytes(att, 256) == 256 * 2 * (2 * 128 + 2 * 64 + 1 * 128 + 1 * 64)


def test_gemma3_sliding_window_layers(tmp_path: Path) -> None:
    path = write_quantized(
        tmp_path / "g.gguf", arch="gemma3", n_layers=12, n_kv_heads=1, sliding_window=512
    )
    att = inspect_contents(path).attention
    assert att is not None and att.sliding_window == 512
    # llama.cpp's pattern for Gemma 3: every 6th layer attends to the whole context.
    assert att.swa_layers == (True,) * 5 + (False,) + (True,) * 5 + (False,)
    assert att.n_swa_layers == 10
    row = 2 * 64 * 2  # K and V, one KV head of 64 values, f16
    # The engine keeps a full-size cache for every layer (llama.cpp's default)...
    assert kv_cache_bytes(att, 16384) == 12 * 16384 * row
    # ...without it the window layers hold window + batch cells, rounded to 256.
    assert kv_cache_bytes(att, 16384, swa_full=False) == (2 * 16384 + 10 * 1024) * row


def test_repacked_weights_follow_the_cpu(quantized: Path) -> None:
    tensors = inspect_contents(quantized).tensors
    q4k_in_layers = sum(
        t.n_bytes for t in tensors if t.type_name == "Q4_K" and t.name.startswith("blk.")
    )
    assert repacked_bytes(tensors, AVX2) == q4k_in_layers
    assert repacked_bytes(tensors, AVX2 | {"amx_int8", "amx_tile"}) == 0
    assert repacked_bytes(tensors, frozenset({"sse4_2"})) == 0
    # Q4_0 is repacked too, but never the token embedding (it is looked up by row).
    path = write_quantized(
        quantized.parent / "q40.gguf", types={"token_embd": "Q4_0", "output": "Q4_0"}
    )
    q40 = inspect_contents(path).tensors
    out = next(t for t in q40 if t.name == "output.weight")
    assert repacked_bytes(q40, AVX2) == out.n_bytes


def test_estimate_adds_up_and_grows_with_the_context(quantized: Path) -> None:
    contents = inspect_contents(quantized)
    small = estimate_memory(contents, 2048, cpu_flags=AVX2)
    large = estimate_memory(contents, 8192, cpu_flags=AVX2)
    assert small.weights == sum(t.n_bytes for t in contents.tensors)
    assert small.total == sum(v for k, v in small.parts().items() if k != "total")
    assert large.kv_cache == 4 * small.kv_cache
    assert large.compute > small.compute
    assert large.weights == small.weights and large.runtime == small.runtime
    assert estimate_memory(contents, 2048, "q4_0").kv_cache < small.kv_cache


def test_tiny_model_has_an_estimate(tmp_path: Path) -> None:
    contents = inspect_contents(write_tiny_llama(tmp_path / "tiny.gguf"))
    assert contents.attention is not None and contents.attention_problem is None
    assert contents.attention.n_vocab == contents.info.vocab_size
    assert estimate_memory(contents, 256).kv_cache == 2 * 256 * (2 * 16) * 2 * 2


@pytest.mark.parametrize("kind", ["truncated", "tensor_past_eof", "absurd_tensor_count", "empty"])
def test_hostile_headers_still_give_clear_errors(tmp_path: Path, kind: str) -> None:
    path = write_malformed(tmp_path / f"{kind}.gguf", kind)
    with pytest.raises(ModelFileError, match=str(path)):
        inspect_contents(path)


def test_garbled_attention_numbers_say_why_there_is_no_estimate(tmp_path: Path) -> None:
    # A per-layer head count with the wrong number of entries.
    path = write_quantized(tmp_path / "bad.gguf", n_layers=2, n_kv_heads=[2, 2, 2])
    contents = inspect_contents(path)  # the header itself reads
    assert contents.attention is None
    assert contents.attention_problem == "its KV head count is an array of 3 entries for 2 layers"
    with pytest.raises(ValueError, match="cannot be estimated: its KV head count"):
        estimate_memory(contents, 4096)


def test_fit_labels() -> None:
    gib = 2**30
    ram = MachineMemory(total=16 * gib, available=10 * gib)
    assert fit_memory(4 * gib, ram).label == FITS
    assert fit_memory(9 * gib, ram).label == TIGHT  # more than 80 % of what is free
    assert fit_memory(12 * gib, ram).label == TIGHT  # more than is free, less than there is
    assert fit_memory(17 * gib, ram).label == NO_FIT
    vram = MachineMemory(total=8 * gib, available=8 * gib)
    decided = fit_memory(2 * gib, ram, vram_needed=9 * gib, vram=vram)
    assert (decided.label, decided.where) == (NO_FIT, "VRAM")


def test_machine_memory_reads_meminfo(tmp_path: Path) -> None:
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       16000 kB\nMemFree:  1 kB\nMemAvailable:   8000 kB\n")
    assert machine_memory(meminfo) == MachineMemory(16000 * 1024, 8000 * 1024)
    real = machine_memory()
    assert real is not None and 0 < real.available <= real.total


def test_compute_is_what_llama_cpp_reserves_at_most_plus_the_work_buffer(tmp_path: Path) -> None:
    # A large vocabulary: the logits of a 512-token batch are the largest tensor.
    big_vocab = inspect_contents(write_quantized(tmp_path / "v.gguf", n_vocab=65536)).attention
    assert big_vocab is not None
    activations = 4 * 512 * 256 * 8
    assert compute_reserved_bytes(big_vocab, 4096) == 4 * 512 * 65536 + activations
    # At a long context the attention scores are: 4 heads + 1 mask floats per cell and token.
    assert compute_reserved_bytes(big_vocab, 131072) == 4 * 512 * 131072 * 5 + activations
    for n_ctx in (512, 4096, 65536, 131072):
        cells = -(-n_ctx // 256) * 256
        work = 2 * 512 * cells * 4  # the scores again, in f16, for the product with V
        touched = min(4 * 512 * cells * 5 + activations, compute_reserved_bytes(big_vocab, n_ctx))
        assert compute_bytes(big_vocab, n_ctx) == touched + work
    assert compute_bytes(big_vocab, 1024) < compute_bytes(big_vocab, 4096)
