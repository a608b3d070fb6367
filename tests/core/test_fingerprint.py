"""Model fingerprints: right hashes, cached while the file is unchanged, cache failures harmless."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from gguf_factory import write_tiny_llama

from desktop_app.core import paths
from desktop_app.core.models import fingerprint
from desktop_app.core.models.fingerprint import (
    CACHE_NAME,
    cached_sha256,
    model_sha256,
    sha256_steps,
    template_sha256,
)


@pytest.fixture
def model(tmp_path: Path) -> Path:
    return write_tiny_llama(tmp_path / "m.gguf")


def real_sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records every file actually hashed (as opposed to answered from the cache)."""
    seen: list[str] = []
    original = fingerprint.sha256_steps

    def counting(path: str | os.PathLike[str]):  # type: ignore[no-untyped-def]
        seen.append(os.fspath(path))
        return (yield from original(path))

    monkeypatch.setattr(fingerprint, "sha256_steps", counting)
    return seen


def test_the_hash_is_the_files_sha256_and_progress_counts_bytes(
    model: Path, hashes: list[str]
) -> None:
    calls: list[tuple[int, int]] = []
    assert model_sha256(model, progress=lambda d, t: calls.append((d, t))) == real_sha(model)
    size = model.stat().st_size
    assert calls and calls[-1] == (size, size)
    assert hashes == [str(model)]


def test_a_second_lookup_is_a_cache_hit(model: Path, hashes: list[str]) -> None:
    first = model_sha256(model)
    assert cached_sha256(model) == first
    assert model_sha256(model) == first
    assert len(hashes) == 1
    cache = json.loads((paths.data_dir() / CACHE_NAME).read_text())
    assert cache["files"][str(model.resolve())]["sha256"] == first


def test_a_changed_modification_time_is_a_miss(model: Path, hashes: list[str]) -> None:
    model_sha256(model)
    st = model.stat()
    os.utime(model, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert cached_sha256(model) is None
    assert model_sha256(model) == real_sha(model)
    assert len(hashes) == 2


def test_new_contents_give_a_new_hash(model: Path) -> None:
    before = model_sha256(model)
    write_tiny_llama(model, seed=5)
    after = model_sha256(model)
    assert after != before and after == real_sha(model)


@pytest.mark.parametrize(
    "content",
    [b"not json {", b"[1, 2, 3]", b'{"files": "nope"}', b'{"files": {"x": 1}}', b"\xff\xfe"],
)
def test_a_bad_cache_file_is_ignored_and_replaced(
    model: Path, hashes: list[str], content: bytes
) -> None:
    cache = paths.data_dir() / CACHE_NAME
    cache.write_bytes(content)
    assert cached_sha256(model) is None
    assert model_sha256(model) == real_sha(model)
    assert json.loads(cache.read_text())["files"][str(model.resolve())]["sha256"]
    assert model_sha256(model) == real_sha(model)
    assert len(hashes) == 1


def test_a_wrong_cached_record_is_not_trusted(model: Path) -> None:
    st = model.stat()
    record = {"size": st.st_size + 1, "mtime_ns": st.st_mtime_ns, "sha256": "0" * 64}
    (paths.data_dir() / CACHE_NAME).write_text(
        json.dumps({"version": 1, "files": {str(model.resolve()): record}})
    )
    assert model_sha256(model) == real_sha(model)


def test_a_default_models_verified_sidecar_is_used(model: Path, hashes: list[str]) -> None:
    st = model.stat()
    vouched = "ab" * 32
    sidecar = model.with_name(model.name + ".verified")
    sidecar.write_text(
        json.dumps({"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": vouched})
    )
    assert model_sha256(model) == vouched
    assert hashes == [], "the sidecar vouches for the file: nothing is hashed"
    os.utime(model, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert model_sha256(model) == real_sha(model), "a stale sidecar is ignored"


def test_the_cache_keeps_a_bounded_number_of_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fingerprint, "MAX_ENTRIES", 3)
    files = []
    for i in range(5):
        f = tmp_path / f"f{i}.bin"
        f.write_bytes(bytes([i]) * 10)
        files.append(f)
        model_sha256(f)
    cache = json.loads((paths.data_dir() / CACHE_NAME).read_text())["files"]
    assert list(cache) == [str(f.resolve()) for f in files[2:]]


def test_an_unwritable_cache_still_gives_the_hash(model: Path) -> None:
    (paths.data_dir() / CACHE_NAME).mkdir()  # a folder where the file should be
    assert model_sha256(model) == real_sha(model)


def test_steps_can_be_taken_one_block_at_a_time(tmp_path: Path) -> None:
    f = tmp_path / "big.bin"
    f.write_bytes(os.urandom(fingerprint.BLOCK_SIZE * 2 + 5))
    steps = sha256_steps(f)
    assert next(steps) == fingerprint.BLOCK_SIZE
    assert next(steps) == 2 * fingerprint.BLOCK_SIZE
    assert next(steps) == f.stat().st_size
    with pytest.raises(StopIteration) as stop:
        next(steps)
    assert stop.value.value == real_sha(f)


def test_a_missing_file_raises_oserror(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        model_sha256(tmp_path / "gone.gguf")


def test_template_fingerprints() -> None:
    assert template_sha256(None) == template_sha256("") == hashlib.sha256(b"plain").hexdigest()
    assert template_sha256("{{ x }}") == hashlib.sha256(b"{{ x }}").hexdigest()
