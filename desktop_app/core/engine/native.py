"""Which llama.cpp kernels run on this computer, and loading them.

Glassbox builds llama-cpp-python the way llama.cpp builds its release binaries
(``GGML_BACKEND_DL``, ``GGML_CPU_ALL_VARIANTS``): one CPU backend library per
instruction-set level (``libggml-cpu-haswell.so``, ``libggml-cpu-icelake.so``, …)
beside ``libllama``, and the best one the CPU supports is chosen when the
process starts. llama-cpp-python does not load them by itself, so every process
that runs a model calls :func:`load_backends` first.

The choice is ggml's own (each library's ``ggml_backend_score``). On a processor
with Intel AMX that is the ``sapphirerapids`` variant, whose AMX buffer type
crashes in ``ggml_backend_amx_mul_mat`` (upstream issue 20824): the engine then
loads models without extra buffer types (``NativeBackends.has_amx``), which
avoids it. Measured on such a machine, that keeps prompt evaluation as fast as a
native build, where passing the variant over (the next one down, ``zen4``, with
weight repacking) loses 30% of it (README, "Portable llama.cpp").
``GLASSBOX_CPU_VARIANT`` names a variant to use instead, and ``GLASSBOX_CPU_SKIP``
(comma-separated) variants to pass over.

A build without dynamic backends (a native build, Metal, a user's own
``CMAKE_ARGS``) registers its CPU backend statically; then nothing is loaded and
the report says so.
"""

from __future__ import annotations

import ctypes
import os
import platform
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: The environment variable naming CPU variants to pass over ("sapphirerapids,zen4").
SKIP_ENV = "GLASSBOX_CPU_SKIP"

#: A safe start: no AVX-512, no AMX. The first of these that the CPU supports is
#: used after a load that crashed (``load_backends(safe=True)``).
SAFE_VARIANTS = ("haswell", "sandybridge", "sse42", "x64")

#: The environment variable that forces a CPU variant (a name such as "haswell").
VARIANT_ENV = "GLASSBOX_CPU_VARIANT"

#: Backends other than the CPU that a build may carry as loadable libraries.
_GPU_BACKENDS = ("cuda", "hip", "vulkan", "sycl", "metal", "musa", "opencl", "cann", "blas")


@dataclass(frozen=True, slots=True)
class NativeBackends:
    """What was loaded into this process.

    ``dynamic`` is False for a build whose CPU backend is linked in (nothing to
    choose). ``cpu_variant`` is the variant's name ("icelake"), ``cpu_features``
    the instruction sets its kernels use as ggml reports them, ``available``
    every variant the CPU supports, best first, and ``passed_over`` those left
    out because ``GLASSBOX_CPU_SKIP`` names them.
    """

    dynamic: bool
    cpu_variant: str | None = None
    cpu_features: tuple[str, ...] = ()
    available: tuple[str, ...] = ()
    passed_over: tuple[str, ...] = ()
    gpu: tuple[str, ...] = ()
    safe: bool = False
    library_dir: str = ""
    notes: tuple[str, ...] = field(default=())

    @property
    def has_amx(self) -> bool:
        """Whether the CPU kernels in use include Intel AMX (then extra buffer types
        stay off: the AMX buffer type is what crashes)."""
        return any(f.startswith("AMX") for f in self.cpu_features)

    def describe(self) -> str:
        """One line for the status bar, About and ``glassbox doctor``."""
        if not self.dynamic:
            return "CPU kernels built into llama.cpp (no runtime choice)"
        chosen = self.cpu_variant or "none"
        text = f"CPU kernels: {chosen}"
        if self.cpu_features:
            text += f" ({', '.join(self.cpu_features)})"
        if self.safe:
            text += ", safe mode"
        return text


_loaded: NativeBackends | None = None


def _library_names() -> tuple[str, str]:
    """(prefix, suffix) of a backend library's file name on this system."""
    if sys.platform == "win32":
        return "ggml-", ".dll"
    if sys.platform == "darwin":
        return "libggml-", ".so"  # ggml builds backend modules with .so on macOS too
    return "libggml-", ".so"


def library_dir() -> Path:
    """The folder holding llama-cpp-python's shared libraries (imports nothing)."""
    import importlib.util

    spec = importlib.util.find_spec("llama_cpp")
    if spec is None or spec.origin is None:
        raise ImportError("llama-cpp-python is not installed")
    return Path(spec.origin).parent / "lib"


def cpu_variants(folder: Path) -> dict[str, Path]:
    """The CPU variant libraries in ``folder``, by variant name."""
    prefix, suffix = _library_names()
    stem = prefix + "cpu-"
    found: dict[str, Path] = {}
    if folder.is_dir():
        for path in sorted(folder.iterdir()):
            if path.name.startswith(stem) and path.name.endswith(suffix):
                found[path.name[len(stem) : -len(suffix)]] = path
    return found


def _score(path: Path) -> int:
    """ggml's score of one CPU variant on this CPU (0: not supported)."""
    try:
        lib = ctypes.CDLL(str(path))
        fn = lib.ggml_backend_score
    except (OSError, AttributeError):
        return 0
    fn.restype = ctypes.c_int
    fn.argtypes = []
    return int(fn())


class _Feature(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("value", ctypes.c_char_p)]


def _ggml(llama_cpp: Any) -> Any:
    """The ggml functions, reached through libllama's handle (its dependency)."""
    lib = llama_cpp.llama_cpp._lib
    lib.ggml_backend_reg_count.restype = ctypes.c_size_t
    lib.ggml_backend_reg_count.argtypes = []
    lib.ggml_backend_reg_get.restype = ctypes.c_void_p
    lib.ggml_backend_reg_get.argtypes = [ctypes.c_size_t]
    lib.ggml_backend_reg_name.restype = ctypes.c_char_p
    lib.ggml_backend_reg_name.argtypes = [ctypes.c_void_p]
    lib.ggml_backend_reg_get_proc_address.restype = ctypes.c_void_p
    lib.ggml_backend_reg_get_proc_address.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    lib.ggml_backend_load.restype = ctypes.c_void_p
    lib.ggml_backend_load.argtypes = [ctypes.c_char_p]
    return lib


def registered(llama_cpp: Any) -> list[tuple[str, tuple[str, ...]]]:
    """Each registered backend's name and the features it reports ("AVX2", …)."""
    lib = _ggml(llama_cpp)
    out: list[tuple[str, tuple[str, ...]]] = []
    getter_type = ctypes.CFUNCTYPE(ctypes.POINTER(_Feature), ctypes.c_void_p)
    for i in range(lib.ggml_backend_reg_count()):
        reg = lib.ggml_backend_reg_get(i)
        name = (lib.ggml_backend_reg_name(reg) or b"?").decode("utf-8", "replace")
        features: list[str] = []
        address = lib.ggml_backend_reg_get_proc_address(reg, b"ggml_backend_get_features")
        if address:
            rows = getter_type(address)(reg)
            j = 0
            while rows and rows[j].name is not None:
                label = rows[j].name.decode("utf-8", "replace")
                value = (rows[j].value or b"").decode("utf-8", "replace")
                if value in ("1", ""):
                    features.append(label)
                j += 1
        out.append((name, tuple(features)))
    return out


def _choose(variants: dict[str, Path], safe: bool) -> tuple[str | None, list[str], list[str]]:
    """(variant to load, supported variants best first, passed over)."""
    scores = {name: _score(path) for name, path in variants.items()}
    supported = sorted((n for n, s in scores.items() if s > 0), key=lambda n: -scores[n])
    forced = os.environ.get(VARIANT_ENV, "").strip()
    if forced:
        if forced not in supported:
            raise RuntimeError(
                f"{VARIANT_ENV}={forced} is not a CPU variant this computer supports "
                f"(supported: {', '.join(supported) or 'none'})."
            )
        return forced, supported, []
    if safe:
        for name in SAFE_VARIANTS:
            if name in supported:
                return name, supported, [n for n in supported if n != name]
    skip = {n.strip() for n in os.environ.get(SKIP_ENV, "").split(",") if n.strip()}
    passed = [n for n in supported if n in skip]
    usable = [n for n in supported if n not in skip]
    return (usable[0] if usable else None), supported, passed


def load_backends(safe: bool = False) -> NativeBackends:
    """Load llama.cpp's backends into this process, once; report what was chosen.

    Call before the first model load. ``safe`` picks the safest CPU variant
    (see ``SAFE_VARIANTS``); it only has an effect on the first call.
    """
    global _loaded
    if _loaded is not None:
        return _loaded
    import llama_cpp

    lib = _ggml(llama_cpp)
    folder = library_dir()
    variants = cpu_variants(folder)
    if lib.ggml_backend_reg_count() > 0 or not variants:
        # Linked-in backends (no GGML_BACKEND_DL): nothing to choose.
        regs = registered(llama_cpp)
        cpu = next((f for n, f in regs if n == "CPU"), ())
        _loaded = NativeBackends(
            dynamic=False,
            cpu_features=cpu,
            gpu=tuple(n for n, _ in regs if n != "CPU"),
            library_dir=str(folder),
        )
        return _loaded
    prefix, suffix = _library_names()
    notes: list[str] = []
    for name in _GPU_BACKENDS:
        path = folder / f"{prefix}{name}{suffix}"
        if path.is_file() and not lib.ggml_backend_load(str(path).encode()):
            notes.append(f"The {name.upper()} backend is in the build but could not be loaded.")
    chosen, supported, passed = _choose(variants, safe)
    if chosen is None:
        raise RuntimeError(
            "None of llama.cpp's CPU libraries runs on this processor "
            f"({', '.join(variants)} were found in {folder})."
        )
    if not lib.ggml_backend_load(str(variants[chosen]).encode()):
        raise RuntimeError(f"llama.cpp's CPU library {variants[chosen].name} could not be loaded.")
    regs = registered(llama_cpp)
    _loaded = NativeBackends(
        dynamic=True,
        cpu_variant=chosen,
        cpu_features=next((f for n, f in regs if n == "CPU"), ()),
        available=tuple(supported),
        passed_over=tuple(passed),
        gpu=tuple(n for n, _ in regs if n != "CPU"),
        safe=safe,
        library_dir=str(folder),
        notes=tuple(notes),
    )
    return _loaded


def cpu_flags() -> tuple[str, ...]:
    """The processor's instruction-set flags as the system lists them (Linux), or ()."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ()
    for line in text.splitlines():
        if line.startswith("flags"):
            return tuple(line.partition(":")[2].split())
    return ()


def cpu_name() -> str:
    """The processor's model name, as the system gives it."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return platform.processor() or platform.machine()
    for line in text.splitlines():
        if line.startswith("model name"):
            return line.partition(":")[2].strip()
    return platform.processor() or platform.machine()


def run_module(argv: list[str]) -> None:
    """``python -m desktop_app.core.engine.native MODULE [ARGS…]``: run a module that uses
    llama-cpp-python (``llama_cpp.server``) with the backends loaded first, and models
    loaded as the engine loads them."""
    import runpy

    if not argv:
        raise SystemExit("usage: python -m desktop_app.core.engine.native MODULE [ARGS…]")
    import llama_cpp

    from desktop_app.core.engine.llama_backend import model_params_override

    backends = load_backends()
    sys.argv = argv
    # As the engine loads models: no extra buffer types where AMX kernels run (they crash).
    with model_params_override(llama_cpp, use_extra_bufts=not backends.has_amx):
        runpy.run_module(argv[0], run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    run_module(sys.argv[1:])
