"""``glassbox doctor``'s checks as pure functions: each finding, its status and what to do."""

from __future__ import annotations

import hashlib
import os
import string
from pathlib import Path

import pytest

from desktop_app.core import doctor, paths
from desktop_app.core.doctor import Finding, QtReport
from desktop_app.core.engine.native import NativeBackends
from desktop_app.core.models.defaults import DefaultModel, PartRef

CONTENT = b"GGUF and then some weights"


def fake_model(
    parts: tuple[PartRef, ...] = (PartRef("desktop_app", "__init__.py"),),
) -> DefaultModel:
    """A small default model; its one part is a file that is always installed."""
    return DefaultModel(
        key="fake",
        file_name="fake.gguf",
        size=len(CONTENT),
        sha256=hashlib.sha256(CONTENT).hexdigest(),
        parts=parts,
        title="Fake Model",
        licence="none",
        chat=True,
    )


# --------------------------------------------------------------------------- data folder


def test_an_unwritable_data_folder_fails_and_says_how_to_fix_it(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    finding = doctor.check_data_folder(blocker / "glassbox")
    assert finding.status == "fail" and finding.code == "data_folder_unwritable"
    assert str(blocker / "glassbox") in finding.detail
    assert "GLASSBOX_HOME" in finding.action
    assert doctor.exit_code([finding]) == 1


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes anywhere")
def test_a_read_only_data_folder_fails(tmp_path: Path) -> None:
    folder = tmp_path / "home"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        finding = doctor.check_data_folder(folder)
    finally:
        folder.chmod(0o700)
    assert finding.status == "fail"
    assert "Permission denied" in finding.detail


def test_a_new_data_folder_is_checked_without_leaving_it_behind(tmp_path: Path) -> None:
    folder = tmp_path / "not" / "yet" / "there"
    finding = doctor.check_data_folder(folder)
    assert finding.status == "ok" and finding.detail == f"{folder} is writable."
    assert not (tmp_path / "not").exists()


def test_storage_findings_read_glassbox_home(glassbox_home: Path) -> None:
    data, disk, model = doctor.storage_findings()
    assert paths.data_location() == glassbox_home
    assert data.fields["path"] == str(glassbox_home) and data.status == "ok"
    assert disk.fields["path"] == str(glassbox_home)
    assert model.fields["folder"] == str(glassbox_home / "models")
    assert model.status == "warn", "a model not installed yet does not block use"


# --------------------------------------------------------------------------- default model


def test_a_missing_default_model_is_a_warning_with_the_install_command(tmp_path: Path) -> None:
    finding = doctor.check_default_model(tmp_path / "models", fake_model())
    assert (finding.status, finding.code) == ("warn", "model_missing")
    assert "Fake Model is not installed yet" in finding.detail
    assert "glassbox models install-default" in finding.action
    assert doctor.exit_code([finding]) == 0


def test_a_model_with_a_wrong_hash_fails(tmp_path: Path) -> None:
    model = fake_model()
    (tmp_path / model.file_name).write_bytes(b"X" * model.size)  # right size, wrong bytes
    finding = doctor.check_default_model(tmp_path, model)
    assert (finding.status, finding.code) == ("fail", "model_corrupt")
    assert str(tmp_path / model.file_name) in finding.detail
    assert "install-default" in finding.action
    assert doctor.exit_code([finding]) == 1


def test_a_truncated_model_fails(tmp_path: Path) -> None:
    model = fake_model()
    (tmp_path / model.file_name).write_bytes(CONTENT[:5])
    assert doctor.check_default_model(tmp_path, model).code == "model_corrupt"


def test_a_model_that_matches_its_hash_is_ok(tmp_path: Path) -> None:
    model = fake_model()
    (tmp_path / model.file_name).write_bytes(CONTENT)
    finding = doctor.check_default_model(tmp_path, model)
    assert (finding.status, finding.code) == ("ok", "model_ok")
    assert "SHA-256" in finding.detail


def test_a_model_whose_packages_are_missing_names_them(tmp_path: Path) -> None:
    model = fake_model((PartRef("glassbox_no_such_part_package", "data/part.bin"),))
    finding = doctor.check_default_model(tmp_path, model)
    assert (finding.status, finding.code) == ("warn", "model_unavailable")
    assert ".[models]" in finding.action


# --------------------------------------------------------------------------- disk


@pytest.mark.parametrize(
    ("free", "needed", "status", "code"),
    [
        (50 * 10**9, 0, "ok", "disk"),
        (500 * 10**6, 0, "warn", "disk_low"),
        (1_200 * 10**6, 1_117_320_768, "warn", "disk_low_for_model"),
        (2 * 10**9, 1_117_320_768, "ok", "disk"),
        (10 * 10**6, 0, "fail", "disk_full"),
    ],
)
def test_free_space_thresholds(free: int, needed: int, status: str, code: str) -> None:
    finding = doctor.disk_finding("/data", free, needed)
    assert (finding.status, finding.code) == (status, code)
    assert "/data" in finding.detail


def test_the_disk_of_a_folder_not_made_yet_is_measured(tmp_path: Path) -> None:
    finding = doctor.check_disk(tmp_path / "a" / "b")
    assert finding.code in ("disk", "disk_low", "disk_full")
    assert "free on the disk that holds" in finding.detail


# --------------------------------------------------------------------------- processor, kernels


def test_the_processor_line_names_its_instruction_sets() -> None:
    flags = ("fpu", "sse4_2", "avx2", "fma", "avx512f", "amx_tile", "amx_int8")
    finding = doctor.check_cpu("Some CPU", flags)
    assert (
        finding.detail == "Some CPU; instruction sets: SSE4.2, FMA, AVX2, AVX-512, AMX, AMX-INT8."
    )
    assert doctor.check_cpu("Other", ()).code == "cpu_no_flags"


def test_kernels_name_the_variant_and_what_was_passed_over() -> None:
    backends = NativeBackends(
        dynamic=True,
        cpu_variant="icelake",
        cpu_features=("AVX2", "AVX512"),
        available=("sapphirerapids", "icelake", "haswell"),
        passed_over=("sapphirerapids",),
    )
    finding = doctor.kernels_finding(backends)
    assert (finding.status, finding.fields["variant"]) == ("ok", "icelake")
    assert finding.detail.startswith("llama.cpp runs its icelake kernels (AVX2, AVX512)")
    assert "sapphirerapids passed over, as GLASSBOX_CPU_SKIP asks" in finding.detail
    plain = NativeBackends(dynamic=True, cpu_variant="haswell", available=("haswell",))
    assert doctor.kernels_finding(plain).code == "kernels"


def test_forced_and_failed_kernels() -> None:
    backends = NativeBackends(dynamic=True, cpu_variant="haswell", available=("haswell",))
    forced = doctor.kernels_finding(backends, forced="haswell")
    assert (forced.status, forced.code) == ("warn", "kernels_forced")
    failed = doctor.kernels_finding(None, "no variant runs here")
    assert (failed.status, failed.code) == ("fail", "kernels_failed")
    assert "no variant runs here" in failed.detail and "llama_wheel.py" in failed.action
    bad_force = doctor.kernels_finding(None, "zen9 is not supported", forced="zen9")
    assert bad_force.code == "kernels_forced_failed" and "GLASSBOX_CPU_VARIANT" in bad_force.action
    builtin = doctor.kernels_finding(NativeBackends(dynamic=False, cpu_features=("AVX2",)))
    assert builtin.code == "kernels_builtin" and "AVX2" in builtin.detail


# --------------------------------------------------------------------------- GPU


def test_gpu_findings() -> None:
    usable = doctor.gpu_finding(["CUDA"], ["CUDA0 (NVIDIA H100, 80.00 GB free of 85.00 GB)"])
    assert usable.status == "ok" and "NVIDIA H100" in usable.detail
    assert "--gpu-layers" in usable.action
    failed = doctor.gpu_finding([], [], ["CUDA"], "libcuda.so.1: cannot open shared object file")
    assert (failed.status, failed.code) == ("warn", "gpu_backend_failed")
    assert "libcuda.so.1" in failed.detail and "driver" in failed.action
    assert doctor.gpu_finding(["Vulkan"], []).code == "gpu_no_device"
    not_built = doctor.gpu_finding([], [], nvidia=["NVIDIA H100 80GB HBM3"])
    assert (not_built.status, not_built.code) == ("warn", "gpu_not_built")
    assert "-DGGML_CUDA=on" in not_built.action
    assert doctor.gpu_finding([], []).status == "ok"


def test_nvidia_gpus_are_read_from_the_driver(tmp_path: Path) -> None:
    gpu = tmp_path / "0000:01:00.0"
    gpu.mkdir()
    (gpu / "information").write_text("Model: \t\t NVIDIA H100 80GB HBM3\nIRQ: 42\n")
    assert doctor.nvidia_gpus(tmp_path) == ["NVIDIA H100 80GB HBM3"]
    assert doctor.nvidia_gpus(tmp_path / "absent") == []


# --------------------------------------------------------------------------- Qt


def test_qt_that_cannot_load_its_x11_plugin_fails_with_the_missing_library() -> None:
    error = "libxcb-cursor.so.0: cannot open shared object file: No such file or directory"
    report = QtReport(display="x11", xcb_error=error, error="qt.qpa.plugin: Could not load")
    platform, font = doctor.qt_findings(report)
    assert (platform.status, platform.code) == ("fail", "qt_failed")
    assert "libxcb-cursor.so.0" in platform.detail and "libxcb-cursor0" in platform.action
    assert (font.status, font.code) == ("warn", "font_unknown")


def test_qt_that_cannot_reach_the_display_says_so() -> None:
    report = QtReport(display="x11", error="qt.qpa.xcb: could not connect to display :9")
    platform, _ = doctor.qt_findings(report)
    assert platform.code == "qt_no_connection" and "could not connect" in platform.detail
    wayland, _ = doctor.qt_findings(QtReport(display="wayland", error="no wayland"))
    assert wayland.code == "qt_failed_other" and wayland.fields["platform"] == "wayland"


def test_qt_without_a_display_or_with_a_forced_platform() -> None:
    headless, font = doctor.qt_findings(QtReport(platform="offscreen", cjk_fonts=()))
    assert (headless.status, headless.code) == ("warn", "qt_no_display")
    assert (font.status, font.code) == ("warn", "font_missing")
    assert "fonts-noto-cjk" in font.action
    forced, _ = doctor.qt_findings(QtReport(forced="offscreen", platform="offscreen"))
    assert (forced.status, forced.code) == ("ok", "qt_forced")
    xcb_missing, _ = doctor.qt_findings(
        QtReport(forced="offscreen", platform="offscreen", xcb_error="libxcb-icccm.so.4: …")
    )
    assert (xcb_missing.status, xcb_missing.code) == ("warn", "qt_xcb_missing")


def test_qt_on_a_desktop_with_chinese_fonts_is_ok() -> None:
    report = QtReport(display="x11", platform="xcb", cjk_fonts=("Noto Sans CJK SC", "WenQuanYi"))
    platform, font = doctor.qt_findings(report)
    assert (platform.status, platform.detail) == ("ok", "Qt opens its xcb platform plugin.")
    assert font.status == "ok" and font.fields == {"count": "2", "family": "Noto Sans CJK SC"}


def test_display_kind() -> None:
    assert doctor.display_kind({}, "linux") == ""
    assert doctor.display_kind({"DISPLAY": ":0"}, "linux") == "x11"
    assert doctor.display_kind({"DISPLAY": ":0", "WAYLAND_DISPLAY": "w-0"}, "linux") == "wayland"
    assert doctor.display_kind({}, "win32") == "native"


# --------------------------------------------------------------------------- findings


def test_findings_travel_as_json_and_back() -> None:
    finding = Finding(
        "data_folder", "fail", "data_folder_unwritable", {"path": "/x", "reason": "no"}
    )
    data = finding.to_dict()
    assert data["detail"].startswith("/x cannot be written: no.")
    assert data["title"] == "Data folder" and data["action"]
    assert Finding.from_dict(data) == finding
    for bad in ({}, {**data, "status": "bad"}, {**data, "fields": []}):
        with pytest.raises(ValueError):
            Finding.from_dict(bad)


def test_every_sentence_has_named_fields_only() -> None:
    """The window fills the same fields into its translations (``str.format_map``)."""
    for code, sentences in doctor.WORDING.items():
        for sentence in sentences:
            names = [n for _, n, _, _ in string.Formatter().parse(sentence) if n is not None]
            assert all(n and n.isidentifier() for n in names), code


def test_exit_code_is_one_only_when_something_fails() -> None:
    ok = Finding("disk", "ok", "disk", {"path": "/", "free": "1 GB"})
    warn = Finding("gpu", "warn", "gpu_no_device", {"backends": "Vulkan"})
    fail = Finding("disk", "fail", "disk_full", {"path": "/", "free": "1 MB"})
    assert doctor.exit_code([ok, warn]) == 0
    assert doctor.exit_code([ok, warn, fail]) == 1


def test_a_model_that_loads_and_replies_is_ok(tmp_path: Path) -> None:
    from gguf_factory import write_tiny_llama

    model = tmp_path / "tiny.gguf"
    write_tiny_llama(model)
    found = doctor.check_model_runs(model, n_tokens=3)
    assert found.status == "ok", found.detail
    assert found.fields["tokens"] == "3" and found.fields["kernels"].startswith("CPU kernels")


def test_a_model_that_cannot_load_fails_with_the_reason(tmp_path: Path) -> None:
    model = tmp_path / "broken.gguf"
    model.write_bytes(b"GGUF" + b"\0" * 12)
    found = doctor.check_model_runs(model)
    assert found.status == "fail" and found.code == "model_fails"
    assert str(model) in found.detail and found.fields["reason"]
