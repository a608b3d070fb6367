"""Fingerprints: the SHA-256 of a model file and of a chat template.

A conversation records which model and template produced it; a path says
little (files get renamed, replaced, re-downloaded), their hashes say exactly.
Hashing a gigabyte takes a second or more, so a file's hash is remembered in a
small JSON cache in the data folder, keyed by the resolved path and trusted
only while the file keeps the size and modification time it had when hashed.
A default model's ``.verified`` sidecar (see ``defaults``) already holds its
hash under the same rule and is used as it is.

The cache is a convenience: a cache file that cannot be read or parsed is
ignored (and replaced on the next write), and one that cannot be written only
costs a hash next time.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import secrets
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

from desktop_app.core import paths

__all__ = [
    "CACHE_NAME",
    "PLAIN_TEMPLATE",
    "cached_sha256",
    "model_sha256",
    "sha256_steps",
    "template_sha256",
]

log = logging.getLogger(__name__)

#: The cache file in ``paths.data_dir()``.
CACHE_NAME = "fingerprints.json"
#: Hash in blocks this large: memory stays flat and a caller can stop between blocks.
BLOCK_SIZE = 1 << 20
#: What ``template_sha256`` hashes for a model without a template (the plain format).
PLAIN_TEMPLATE = "plain"
#: Entries kept in the cache; the oldest go first. A person opens far fewer models.
MAX_ENTRIES = 256
# Written by ``defaults`` beside a default model: {"size", "mtime_ns", "sha256"}.
_VERIFIED_SUFFIX = ".verified"


def template_sha256(template: str | None) -> str:
    """The SHA-256 of the chat template in effect (of ``"plain"`` for the fallback)."""
    text = template if template else PLAIN_TEMPLATE
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _cache_path() -> Path:
    return paths.data_dir() / CACHE_NAME


def _identity(path: Path) -> tuple[str, int, int]:
    """(resolved path, size, mtime_ns): a cached hash is valid while these stay the same."""
    resolved = path.resolve()
    st = resolved.stat()
    return str(resolved), st.st_size, st.st_mtime_ns


def _matches(record: Any, size: int, mtime_ns: int) -> str | None:
    if not isinstance(record, dict):
        return None
    sha = record.get("sha256")
    if (
        record.get("size") == size
        and record.get("mtime_ns") == mtime_ns
        and isinstance(sha, str)
        and len(sha) == 64
    ):
        return sha
    return None


def _read_cache() -> dict[str, Any]:
    try:
        data = json.loads(_cache_path().read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.info("Ignoring the fingerprint cache %s: %s", _cache_path(), exc)
        return {}
    files = data.get("files") if isinstance(data, dict) else None
    return files if isinstance(files, dict) else {}


def _write_cache(files: dict[str, Any]) -> None:
    target = _cache_path()
    tmp = target.with_name(f".{target.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    try:
        tmp.write_text(json.dumps({"version": 1, "files": files}), encoding="utf-8")
        os.replace(tmp, target)
    except OSError as exc:
        # Only time is lost: the next lookup hashes the file again.
        log.warning("Could not save the fingerprint cache %s: %s", target, exc)
        with contextlib.suppress(OSError):
            tmp.unlink()


def _remember(key: str, size: int, mtime_ns: int, sha: str) -> None:
    files = _read_cache()
    files.pop(key, None)  # re-inserted last: the dict's order is the age order
    files[key] = {"size": size, "mtime_ns": mtime_ns, "sha256": sha}
    while len(files) > MAX_ENTRIES:
        del files[next(iter(files))]
    _write_cache(files)


def cached_sha256(path: str | os.PathLike[str]) -> str | None:
    """The file's SHA-256 if the cache or a ``.verified`` sidecar vouches for it, else None.

    Raises OSError when the file cannot be found or read.
    """
    key, size, mtime_ns = _identity(Path(path))
    sha = _matches(_read_cache().get(key), size, mtime_ns)
    if sha is not None:
        return sha
    sidecar = Path(key + _VERIFIED_SUFFIX)
    try:
        record = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return _matches(record, size, mtime_ns)


def sha256_steps(path: str | os.PathLike[str]) -> Generator[int, None, str]:
    """Hash the file block by block: yields the bytes hashed so far, returns the hex digest.

    The caller decides when to take the next block, so a worker can pause the
    hash for more urgent work or drop it. The result is remembered in the cache
    when the file did not change while it was read. Raises OSError when the file
    cannot be read.
    """
    key, size, mtime_ns = _identity(Path(path))
    digest = hashlib.sha256()
    done = 0
    with open(key, "rb") as fh:
        while block := fh.read(BLOCK_SIZE):
            digest.update(block)
            done += len(block)
            yield done
    sha = digest.hexdigest()
    if _identity(Path(key))[1:] == (size, mtime_ns) and done == size:
        _remember(key, size, mtime_ns, sha)
    return sha


def model_sha256(
    path: str | os.PathLike[str], progress: Callable[[int, int], None] | None = None
) -> str:
    """The SHA-256 of the file at ``path``, from the cache when it is still valid.

    ``progress(done, total)`` is called after each block when the file is hashed.
    Raises OSError when the file cannot be read.
    """
    cached = cached_sha256(path)
    if cached is not None:
        return cached
    total = Path(path).stat().st_size
    steps = sha256_steps(path)
    while True:
        try:
            done = next(steps)
        except StopIteration as stop:
            result: str = stop.value
            return result
        if progress is not None:
            progress(done, total)
