"""Build llama-cpp-python once per machine, portably, and reuse the wheel.

    python packaging/llama_wheel.py            # print the wheel's path, building it if needed
    python packaging/llama_wheel.py --install  # and install it into this Python

llama-cpp-python is published as source only, and its default build is
``-march=native``: tied to the CPU it was built on (SIGILL on an older one), and
on CPUs with Intel AMX it crashes in llama.cpp's AMX path. This builds it the way
llama.cpp builds its release binaries instead: every CPU variant from plain
x86-64 to AVX-512 as a loadable library, the best one chosen when the engine
starts (``desktop_app/core/engine/native.py``).

The source archive's SHA-256 comes from the lock (``requirements.lock``) and is
checked before anything is built; so do the build tools. The wheel is cached under
``$GLASSBOX_WHEEL_CACHE`` (default ``~/.cache/glassbox/wheels``), in a folder
named by a hash of everything that changes the result: the version, the source
hash, the CMake flags, this script's recipe, the platform and the compiler. A
second ``make test`` on the same machine reuses it; a change of flags builds anew.

Extra flags go in ``CMAKE_ARGS`` as usual, after the portable ones, so they win:
``CMAKE_ARGS="-DGGML_CUDA=on"`` adds CUDA; ``CMAKE_ARGS="-DGGML_NATIVE=ON
-DGGML_BACKEND_DL=OFF -DGGML_CPU_ALL_VARIANTS=OFF"`` gives today's native build.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "llama-cpp-python"
#: What the build needs in this Python (--no-build-isolation), installed from the lock.
BUILD_TOOLS = ("scikit-build-core", "cmake", "ninja", "packaging", "pathspec")

#: Bump when the build recipe changes in a way the flags do not show.
RECIPE = 1

#: The portable build: runtime CPU dispatch, the variant libraries installed beside
#: libllama (not in site-packages/bin), and no multimodal library (Glassbox does
#: not use it; it saves a third of the build).
PORTABLE_FLAGS = (
    "-DGGML_NATIVE=OFF",
    "-DGGML_BACKEND_DL=ON",
    "-DGGML_CPU_ALL_VARIANTS=ON",
    "-DCMAKE_INSTALL_BINDIR=llama_cpp/lib",
    "-DLLAVA_BUILD=OFF",
)
#: macOS: Metal, as llama-cpp-python configures it; dynamic backends are not used there.
MACOS_FLAGS = ("-DLLAVA_BUILD=OFF",)


def lock_entries(lock: Path) -> dict[str, str]:
    """Each locked package's requirement line with its hashes, by normalized name."""
    entries: dict[str, str] = {}
    pattern = (
        r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==\S+"
        r"(?:\s*\\\s*\n\s*--hash=sha256:[0-9a-f]{64})+"
    )
    for match in re.finditer(pattern, lock.read_text(encoding="utf-8"), re.MULTILINE):
        entries[re.sub(r"[-_.]+", "-", match.group(1)).lower()] = match.group(0)
    return entries


def pinned_source(lock: Path) -> tuple[str, list[str]]:
    """The locked version of llama-cpp-python and the SHA-256 hashes allowed for it."""
    entry = lock_entries(lock).get(PACKAGE)
    if entry is None:
        raise SystemExit(f"{lock.name} has no hashed {PACKAGE} entry: run `make lock`.")
    version = entry.split("==", 1)[1].split()[0]
    return version, re.findall(r"sha256:([0-9a-f]{64})", entry)


def build_flags() -> list[str]:
    """The portable flags for this platform, then the user's ``CMAKE_ARGS``."""
    base = MACOS_FLAGS if sys.platform == "darwin" else PORTABLE_FLAGS
    return [*base, *os.environ.get("CMAKE_ARGS", "").split()]


def _compiler() -> str:
    for cc in (os.environ.get("CC", ""), "cc", "gcc", "clang"):
        if cc and shutil.which(cc):
            out = subprocess.run([cc, "--version"], capture_output=True, text=True, check=False)
            return out.stdout.splitlines()[0] if out.stdout else cc
    return "unknown"


def cache_key(version: str, hashes: list[str], flags: list[str]) -> str:
    """A short hash of everything that decides what the build produces."""
    facts = {
        "version": version,
        "source": sorted(hashes),
        "flags": flags,
        "recipe": RECIPE,
        "system": sys.platform,
        "machine": platform.machine(),
        "compiler": _compiler(),
    }
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()[:16]


def cache_root() -> Path:
    env = os.environ.get("GLASSBOX_WHEEL_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "glassbox" / "wheels"


def _pip(*args: str, env: dict[str, str] | None = None) -> None:
    subprocess.run([sys.executable, "-m", "pip", *args], check=True, env=env)


def install_build_tools(lock: Path, work: Path) -> None:
    """Install the locked, hash-checked build tools into this Python."""
    entries = lock_entries(lock)
    missing = [name for name in BUILD_TOOLS if name not in entries]
    if missing:
        raise SystemExit(
            f"{lock.name} lacks the build tools {', '.join(missing)}: run `make lock`."
        )
    req = work / "build-tools.txt"
    req.write_text("\n".join(entries[name] for name in BUILD_TOOLS) + "\n", encoding="utf-8")
    _pip("install", "--quiet", "--no-deps", "--require-hashes", "-r", str(req))


def build(lock: Path, version: str, hashes: list[str], flags: list[str], into: Path) -> Path:
    """Download the checked source archive and build the wheel into ``into``."""
    with tempfile.TemporaryDirectory(prefix="glassbox-llama-") as tmp:
        work = Path(tmp)
        install_build_tools(lock, work)
        req = work / "source.txt"
        req.write_text(
            f"{PACKAGE}=={version} " + " ".join(f"--hash=sha256:{h}" for h in hashes) + "\n",
            encoding="utf-8",
        )
        _pip("download", "--quiet", "--no-deps", "--no-binary", ":all:",
             "--require-hashes", "-r", str(req), "-d", str(work / "src"))  # fmt: skip
        (source,) = (work / "src").iterdir()
        print(f"Building {source.name} with CMAKE_ARGS={' '.join(flags)}", flush=True)
        env = {**os.environ, "CMAKE_ARGS": " ".join(flags)}
        env.setdefault("CMAKE_BUILD_PARALLEL_LEVEL", str(os.cpu_count() or 2))
        # The build tools (scikit-build-core, cmake, ninja) come pinned from the lock.
        _pip("wheel", "--no-deps", "--no-build-isolation", "-w", str(work / "out"),
             str(source), env=env)  # fmt: skip
        (wheel,) = (work / "out").glob("*.whl")
        into.mkdir(parents=True, exist_ok=True)
        partial = into / (wheel.name + ".partial")
        shutil.copyfile(wheel, partial)
        final = into / wheel.name
        partial.replace(final)  # atomic: an interrupted build leaves no wheel behind
        return final


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--install", action="store_true", help="install the wheel into this Python")
    parser.add_argument("--print-key", action="store_true", help="print the cache key and exit")
    parser.add_argument("--lock", type=Path, default=ROOT / "requirements.lock", help="the lock")
    args = parser.parse_args(argv)

    version, hashes = pinned_source(args.lock)
    flags = build_flags()
    key = cache_key(version, hashes, flags)
    if args.print_key:
        print(key)
        return 0
    folder = cache_root() / f"{PACKAGE}-{version}-{key}"
    wheels = sorted(folder.glob("*.whl"))
    if wheels:
        wheel = wheels[0]
        print(f"Reusing {wheel}", flush=True)
    else:
        wheel = build(args.lock, version, hashes, flags, folder)
        (folder / "flags.txt").write_text(" ".join(flags) + "\n", encoding="utf-8")
        print(f"Built {wheel}", flush=True)
    if args.install:
        _pip("install", "--quiet", "--no-deps", "--force-reinstall", str(wheel))
    return 0


if __name__ == "__main__":
    sys.exit(main())
