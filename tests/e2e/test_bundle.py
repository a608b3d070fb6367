"""The double-clickable app (PyInstaller, ``make bundle``) really works.

The bundle is built without the default chat model's weights
(``GLASSBOX_BUNDLE_MODELS=none``) into a temporary folder that is removed
afterwards; ``GLASSBOX_TEST_BUNDLE=/path/to/dist/Glassbox`` reuses a bundle built
before instead (it is left as it is). Then, each in a fresh data folder:
``--version`` and ``--help``; the window's smoke test, a prompt through the real
window to Gemma 3 270M in the engine child process; a document into the knowledge
base (parser child process, sentence-transformers on CPU torch, Chroma) and a
search that finds it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_app.core.kb.embed import e5_cpu_problem

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "packaging" / "glassbox.spec"
#: A cold build takes about 2.7 minutes on a 2-core machine.
BUILD_TIMEOUT_S = 900
RUN_TIMEOUT_S = 240

# Whichever test comes first builds the bundle, so each may take the build's time.
pytestmark = [pytest.mark.e2e, pytest.mark.bundle, pytest.mark.timeout(BUILD_TIMEOUT_S + 600)]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The bundle's executable: built here, or the one GLASSBOX_TEST_BUNDLE names."""
    given = os.environ.get("GLASSBOX_TEST_BUNDLE")
    if given:
        exe = Path(given).expanduser()
        exe = exe / "glassbox" if exe.is_dir() else exe
        if not exe.is_file():
            pytest.fail(f"GLASSBOX_TEST_BUNDLE={given}: no bundle executable there")
        yield exe
        return
    if shutil.which("pyinstaller", path=str(Path(sys.executable).parent)) is None:
        pytest.fail("PyInstaller is not installed: run `pip install -e '.[test]'`")
    work = tmp_path_factory.mktemp("bundle")
    env = dict(os.environ, GLASSBOX_BUNDLE_MODELS="none")
    start = time.monotonic()
    try:
        build = subprocess.run(
            [
                sys.executable,
                "-m",
                "PyInstaller",
                "--noconfirm",
                "--clean",
                "--log-level",
                "WARN",
                "--distpath",
                str(work / "dist"),
                "--workpath",
                str(work / "build"),
                str(SPEC),
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=BUILD_TIMEOUT_S,
        )
        assert build.returncode == 0, build.stderr[-4000:]
        print(f"bundle built in {time.monotonic() - start:.0f} s")
        # PyInstaller's work folder is 1 GB of copies: gone before the tests run.
        shutil.rmtree(work / "build", ignore_errors=True)
        yield work / "dist" / "Glassbox" / "glassbox"
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(
    exe: Path, args: list[str], home: Path, timeout: float = RUN_TIMEOUT_S
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, GLASSBOX_HOME=str(home), QT_QPA_PLATFORM="offscreen")
    # The bundle must not lean on this checkout or its virtual environment.
    for name in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"):
        env.pop(name, None)
    return subprocess.run(
        [str(exe), *args],
        cwd=home,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def assert_clean(proc: subprocess.CompletedProcess[str]) -> None:
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    assert "Traceback" not in proc.stderr, proc.stderr


def test_version_and_help(bundle: Path, tmp_path: Path) -> None:
    from desktop_app import __version__

    proc = run(bundle, ["--version"], tmp_path)
    assert_clean(proc)
    assert proc.stdout.strip() == f"glassbox {__version__}"
    proc = run(bundle, ["--help"], tmp_path)
    assert_clean(proc)
    for command in ("gui", "generate", "models", "bench", "ingest", "search"):
        assert command in proc.stdout


def test_the_bundle_carries_translations_icons_and_the_desktop_entry(bundle: Path) -> None:
    """What only shows outside an English run: a missing .qm falls back to English
    without an error, so the files are checked themselves."""
    package = next(bundle.parent.rglob("desktop_app/i18n"))
    assert (package / "glassbox_zh_CN.qm").stat().st_size > 1000
    assets = package.parent / "assets"
    assert (assets / "linux" / "glassbox.desktop").is_file()
    assert (assets / "icons" / "glassbox.svg").is_file()


def test_smoke_test_sends_a_prompt_through_the_window(
    bundle: Path, gemma_path: Path, tmp_path: Path
) -> None:
    start = time.monotonic()
    # The smoke test gives up (and says where it was waiting) before the test does.
    args = ["gui", "--model", str(gemma_path), "--smoke-test", "Hello", "--smoke-timeout", "180"]
    proc = run(bundle, args, tmp_path)
    elapsed = time.monotonic() - start
    assert_clean(proc)
    match = re.search(r"^SMOKE OK tokens=(\d+) .*text=(.*)$", proc.stdout, re.MULTILINE)
    assert match, proc.stdout + proc.stderr
    assert int(match.group(1)) >= 1
    print(f"smoke test in the bundle: {elapsed:.1f} s; {match.group(0)}")


def test_knowledge_base_ingests_and_finds_a_document(bundle: Path, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "kettle.md").write_text(
        "# The kettle\n\nThe blue kettle in the staff kitchen boils water in ninety seconds.\n",
        encoding="utf-8",
    )
    (docs / "garden.txt").write_text(
        "Tomatoes in the garden need watering every second morning.\n", encoding="utf-8"
    )
    home = tmp_path / "home"
    home.mkdir()
    proc = run(bundle, ["ingest", str(docs), "-c", "notes", "--quiet"], home)
    assert_clean(proc)
    proc = run(bundle, ["search", "how fast does the kettle boil", "-c", "notes", "--json"], home)
    assert_clean(proc)
    hits = json.loads(proc.stdout)["hits"]
    assert hits, proc.stdout
    assert "kettle" in json.dumps(hits[0])


def test_source_smoke_test_fails_cleanly_without_a_model(tmp_path: Path) -> None:
    # The same option from source: a missing model is a clear failure, not a hang.
    env = dict(os.environ, GLASSBOX_HOME=str(tmp_path), QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "desktop_app",
            "gui",
            "--model",
            str(tmp_path / "missing.gguf"),
            "--smoke-test",
            "Hello",
            "--smoke-timeout",
            "60",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "SMOKE FAIL" in proc.stderr
    assert "missing.gguf" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_source_smoke_test_replies(gemma_path: Path, tmp_path: Path) -> None:
    env = dict(os.environ, GLASSBOX_HOME=str(tmp_path), QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "desktop_app",
            "gui",
            "--model",
            str(gemma_path),
            "--smoke-test",
            "Hello",
            "--smoke-timeout",
            "180",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert_clean(proc)
    assert re.search(r"^SMOKE OK tokens=[1-9]\d* ", proc.stdout, re.MULTILINE), proc.stdout


def test_the_bundle_carries_the_portable_llama_cpp_build(bundle: Path) -> None:
    """The CPU-variant libraries in the bundle are the very files of this install, which
    tests/e2e/test_portable_cpu.py runs on an emulated Haswell CPU.

    The bundle itself cannot run under qemu-user: PyInstaller's one-folder launcher
    re-executes itself on Linux, and the new image runs outside the emulator.
    """
    import hashlib

    from desktop_app.core.engine import native

    def digest(path: Path) -> str:
        return hashlib.sha256(path.read_bytes()).hexdigest()

    installed = native.cpu_variants(native.library_dir())
    bundled = native.cpu_variants(next(bundle.parent.rglob("llama_cpp/lib")))
    assert {"x64", "sse42", "haswell"} <= installed.keys()
    assert bundled.keys() == installed.keys()
    assert all(digest(bundled[n]) == digest(installed[n]) for n in installed)
    # No CPU backend linked for the build machine's processor alone.
    assert not list(bundle.parent.rglob("llama_cpp/lib/libggml-cpu.so*"))


def test_the_bundle_loads_and_runs_a_model_with_runtime_kernels(
    bundle: Path, gemma_path: Path, tmp_path: Path
) -> None:
    proc = run(bundle, ["doctor", "--json", "--model", str(gemma_path)], tmp_path)
    findings = {f["check"]: f for f in json.loads(proc.stdout)["findings"]}
    assert findings["model_run"]["status"] == "ok", findings["model_run"]
    variant = findings["kernels"]["fields"]["variant"]
    assert variant in findings["kernels"]["fields"]["available"].split(", ")
    assert findings["model_run"]["fields"]["kernels"].startswith(f"CPU kernels: {variant}")


def test_the_bundle_embeds_with_use_multilingual_and_cuts_chinese_into_words(
    bundle: Path, tmp_path: Path
) -> None:
    """The optional pieces imported inside functions travel too: USE multilingual's
    weights and tokenizer, jieba's dictionary."""
    docs = tmp_path / "docs"
    docs.mkdir()
    quota = "在 /etc/fstab 里给分区加上 usrquota 选项即可启用磁盘配额。"
    (docs / "quota.txt").write_text(quota, "utf-8")
    (docs / "other.txt").write_text("The kiosk opens at nine and lends helmets.", "utf-8")
    proc = run(bundle, ["kb", "models", "--json"], tmp_path)
    assert_clean(proc)
    installed = {m["name"]: m["installed"] for m in json.loads(proc.stdout)["models"]}
    assert installed["use-multilingual-v3"] is True
    ingest = ["ingest", str(docs), "-c", "c", "--embedder", "use-multilingual-v3"]
    proc = run(bundle, ingest, tmp_path)
    assert_clean(proc)
    search = ["search", "怎样启用磁盘配额", "-c", "c", "--k", "1", "--json", "--no-translate"]
    proc = run(bundle, search, tmp_path)
    assert_clean(proc)
    assert "usrquota" in proc.stdout
    # E5 small: its C engine and 4-bit model travel (where the processor runs it).
    assert installed["multilingual-e5-small"] is (e5_cpu_problem() is None)
    if installed["multilingual-e5-small"]:
        ingest = ["ingest", str(docs), "-c", "e", "--embedder", "multilingual-e5-small"]
        assert_clean(run(bundle, ingest, tmp_path))
        search[3] = "e"
        proc = run(bundle, search, tmp_path)
        assert_clean(proc)
        assert "usrquota" in proc.stdout
