"""Choosing llama.cpp's CPU kernels: ggml's score, variants skipped on request, safe mode."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from desktop_app.core.engine import native


def fake_variants(tmp_path: Path, names: list[str]) -> dict[str, Path]:
    for name in names:
        (tmp_path / f"libggml-cpu-{name}.so").write_bytes(b"")
    (tmp_path / "libggml-base.so").write_bytes(b"")
    return native.cpu_variants(tmp_path)


SCORES = {"x64": 1, "sse42": 2, "haswell": 10, "icelake": 40, "sapphirerapids": 60, "zen4": 0}


@pytest.fixture
def scored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    monkeypatch.setattr(native, "_score", lambda path: SCORES[path.name[12:-3]])
    monkeypatch.delenv(native.VARIANT_ENV, raising=False)
    monkeypatch.delenv(native.SKIP_ENV, raising=False)
    return fake_variants(tmp_path, list(SCORES))


def test_variants_are_found_by_file_name(scored: dict[str, Path]) -> None:
    assert sorted(scored) == sorted(SCORES)


def test_the_best_supported_variant_wins(scored: dict[str, Path]) -> None:
    chosen, supported, passed = native._choose(scored, safe=False)
    assert chosen == "sapphirerapids"
    assert supported == ["sapphirerapids", "icelake", "haswell", "sse42", "x64"]  # zen4: 0
    assert passed == []


def test_variants_can_be_passed_over(
    scored: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(native.SKIP_ENV, "sapphirerapids, icelake")
    chosen, _supported, passed = native._choose(scored, safe=False)
    assert chosen == "haswell" and passed == ["sapphirerapids", "icelake"]


def test_safe_mode_takes_the_first_safe_variant_the_cpu_supports(
    scored: dict[str, Path],
) -> None:
    assert native._choose(scored, safe=True)[0] == "haswell"


def test_a_variant_can_be_forced_but_only_a_supported_one(
    scored: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(native.VARIANT_ENV, "sapphirerapids")
    assert native._choose(scored, safe=False)[0] == "sapphirerapids"
    monkeypatch.setenv(native.VARIANT_ENV, "zen4")
    with pytest.raises(RuntimeError, match="not a CPU variant this computer supports"):
        native._choose(scored, safe=False)


def test_describe_names_the_variant_its_features_and_safe_mode() -> None:
    report = native.NativeBackends(
        dynamic=True, cpu_variant="haswell", cpu_features=("AVX2", "FMA"), safe=True
    )
    assert report.describe() == "CPU kernels: haswell (AVX2, FMA), safe mode"
    assert not report.has_amx
    assert native.NativeBackends(dynamic=True, cpu_features=("AMX_INT8",)).has_amx


def test_the_installed_build_loads_a_variant_this_cpu_runs() -> None:
    """In a fresh process, as the engine does: the real libraries, the real CPU."""
    code = (
        "import json; from desktop_app.core.engine import native;"
        "r = native.load_backends();"
        "print(json.dumps([r.dynamic, r.cpu_variant, list(r.available), list(r.cpu_features)]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    dynamic, variant, available, features = json.loads(out.stdout.strip().splitlines()[-1])
    assert dynamic, "llama-cpp-python was not built with runtime CPU dispatch (GGML_BACKEND_DL)"
    assert variant == available[0]  # the best this processor runs
    if platform.machine() in ("x86_64", "AMD64"):
        assert available[-1] == "x64"  # the plain x86-64 variant runs everywhere
    assert ("AMX_INT8" in features) == ("amx_int8" in native.cpu_flags())
