"""Fetch the retrieval development set's documents: three Debian documentation packages.

    .venv/bin/python packaging/eval_docs.py [--dest eval/docs/debian]

Downloads the pinned .deb files from the Debian archive, checks their SHA-256, extracts
them in pure Python (a .deb is an ``ar`` archive holding ``data.tar.*``) and lays out:

    zh-reference/debian-reference.zh-cn.pdf   Debian Reference 2.100, Chinese PDF
    en-reference/*.en.html                    Debian Reference 2.100, English HTML
    zh-handbook/                              The Debian Administrator's Handbook 11,
                                              zh-CN HTML with its images and stylesheets

A second run finds the folder complete and does nothing. Archive members with absolute
paths, ``..`` or links leading out of the destination are refused.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import posixpath
import shutil
import sys
import tarfile
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

MIRROR = "https://deb.debian.org/debian/"
ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DEST = ROOT / "eval" / "docs" / "debian"
MARKER = ".complete"


@dataclass(frozen=True)
class Package:
    """One pinned .deb and how its members map into the folder (None: not wanted)."""

    name: str
    version: str
    pool_path: str
    sha256: str
    size: int
    folder: str
    select: Callable[[str], str | None]


def _under(
    prefix: str, keep: Callable[[str], bool] = lambda _: True
) -> Callable[[str], str | None]:
    def select(name: str) -> str | None:
        name = name.removeprefix("./")
        if not name.startswith(prefix):
            return None
        rest = name[len(prefix) :]
        return rest if rest and keep(rest) else None

    return select


PACKAGES = (
    Package(
        "debian-reference-zh-cn",
        "2.100",
        "pool/main/d/debian-reference/debian-reference-zh-cn_2.100_all.deb",
        "6d2d8d9a646397e28b04cdff23d2e4374101ebf9be348e35961af62c8a2d0977",
        1885052,
        "zh-reference",
        _under("usr/share/debian-reference/", lambda rest: rest == "debian-reference.zh-cn.pdf"),
    ),
    Package(
        "debian-reference-en",
        "2.100",
        "pool/main/d/debian-reference/debian-reference-en_2.100_all.deb",
        "9f31d3a17df505de09689ca255512ea58c1fc47c59bb1b0c7bf1c23362e9743f",
        1704872,
        "en-reference",
        _under("usr/share/debian-reference/", lambda rest: rest.endswith(".en.html")),
    ),
    Package(
        "debian-handbook",
        "11.20220922",
        "pool/main/d/debian-handbook/debian-handbook_11.20220922_all.deb",
        "3d5dbeac1f1afc9c094eab9d0f701f6ecff99c4927d5a4794cf6c85678134faa",
        34758056,
        "zh-handbook",
        _under("usr/share/doc/debian-handbook/html/zh-CN/"),
    ),
)


class UnsafeArchiveError(Exception):
    """An archive member would land outside the destination."""


class FetchError(Exception):
    """A download failed or did not match its pinned hash."""


def ar_members(data: bytes) -> dict[str, bytes]:
    """The members of an ``ar`` archive (the outer format of a .deb), by name."""
    if not data.startswith(b"!<arch>\n"):
        raise UnsafeArchiveError("not a .deb (ar) archive")
    out: dict[str, bytes] = {}
    pos = 8
    while pos + 60 <= len(data):
        header = data[pos : pos + 60]
        if header[58:60] != b"`\n":
            raise UnsafeArchiveError(f"damaged ar header at byte {pos}")
        name = header[:16].decode("ascii", "replace").strip().rstrip("/")
        size = int(header[48:58].decode("ascii").strip())
        start = pos + 60
        if start + size > len(data):
            raise UnsafeArchiveError(f"ar member {name} runs past the end of the file")
        out[name] = data[start : start + size]
        pos = start + size + (size % 2)
    return out


def _safe_relative(name: str) -> str:
    """``name`` as a plain relative path; raises on absolute paths and ``..``."""
    if name.startswith("/") or "\\" in name or (len(name) > 1 and name[1] == ":"):
        raise UnsafeArchiveError(f"absolute path in archive: {name}")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise UnsafeArchiveError(f"'..' in archive path: {name}")
    return "/".join(parts)


def extract_deb(
    deb: bytes, dest: Path, select: Callable[[str], str | None] = lambda n: n
) -> list[Path]:
    """Extract the members of ``deb``'s data archive that ``select`` maps to a path in
    ``dest`` (None: skipped). Every member is checked before anything is written."""
    members = ar_members(deb)
    data_name = next((n for n in members if n.startswith("data.tar")), None)
    if data_name is None:
        raise UnsafeArchiveError("no data.tar.* in the .deb")
    root = dest.resolve()
    plan: list[tuple[tarfile.TarInfo, Path]] = []
    with tarfile.open(fileobj=io.BytesIO(members[data_name]), mode="r:*") as tar:
        for info in tar.getmembers():
            name = _safe_relative(info.name)
            if info.islnk():
                _safe_relative(info.linkname)  # a hard link names another member
            wanted = select(name)
            if wanted is None:
                continue
            target = (root / _safe_relative(wanted)).resolve()
            if target != root and root not in target.parents:
                raise UnsafeArchiveError(f"archive path leaves the destination: {info.name}")
            if info.issym():
                pointed = (target.parent / info.linkname).resolve()
                if posixpath.isabs(info.linkname) or (
                    pointed != root and root not in pointed.parents
                ):
                    raise UnsafeArchiveError(
                        f"link leads out of the destination: {info.name} -> {info.linkname}"
                    )
            elif not (info.isfile() or info.islnk() or info.isdir()):
                raise UnsafeArchiveError(f"unsupported archive member type: {info.name}")
            plan.append((info, target))
        written: list[Path] = []
        for info, target in plan:
            if info.isdir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if info.issym():
                target.unlink(missing_ok=True)
                target.symlink_to(info.linkname)
            else:
                source = tar.extractfile(info)  # hard links: the member they name
                if source is None:
                    raise UnsafeArchiveError(f"cannot read archive member {info.name}")
                with source, open(target, "wb") as out:
                    shutil.copyfileobj(source, out)
            written.append(target)
    return written


def download(package: Package, cache: Path) -> bytes:
    """The package's .deb, from ``cache`` or the archive, checked against its SHA-256."""
    local = cache / Path(package.pool_path).name
    if local.is_file():
        data = local.read_bytes()
        if hashlib.sha256(data).hexdigest() == package.sha256:
            return data
    url = MIRROR + package.pool_path
    print(f"Downloading {url} ({package.size / 1e6:.1f} MB)…", file=sys.stderr)
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            data = bytes(response.read())
    except (urllib.error.URLError, OSError) as exc:
        raise FetchError(
            f"Could not download {url} ({exc}). Check the network connection and run "
            "`make eval-docs` again, or copy the .deb into "
            f"{cache} and run it offline."
        ) from exc
    digest = hashlib.sha256(data).hexdigest()
    if digest != package.sha256:
        raise FetchError(
            f"{url} does not match its pinned SHA-256 (expected {package.sha256}, got "
            f"{digest}); the file was not used. Try again later or from another mirror."
        )
    cache.mkdir(parents=True, exist_ok=True)
    local.write_bytes(data)
    return data


def build(dest: Path, cache: Path) -> bool:
    """Lay out ``dest``; False when it was already complete."""
    stamp = "\n".join(f"{p.name} {p.version} {p.sha256}" for p in PACKAGES) + "\n"
    marker = dest / MARKER
    if marker.is_file() and marker.read_text(encoding="utf-8") == stamp:
        return False
    for package in PACKAGES:
        deb = download(package, cache)
        folder = dest / package.folder
        if folder.exists():
            shutil.rmtree(folder)
        files = [p for p in extract_deb(deb, folder, package.select) if p.is_file()]
        print(
            f"{package.folder}: {len(files)} files from {package.name} {package.version}",
            file=sys.stderr,
        )
    marker.write_text(stamp, encoding="utf-8")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Fetch the retrieval development set's documents (Debian packages)."
    )
    parser.add_argument("--dest", type=Path, default=DEFAULT_DEST, help="the folder to lay out")
    parser.add_argument(
        "--cache",
        type=Path,
        default=None,
        help="where the .deb files are kept (default: DEST/../debs)",
    )
    args = parser.parse_args(argv)
    dest: Path = args.dest
    cache: Path = args.cache or dest.parent / "debs"
    try:
        dest.mkdir(parents=True, exist_ok=True)
        changed = build(dest, cache)
    except (FetchError, UnsafeArchiveError, tarfile.TarError, OSError) as exc:
        print(f"eval-docs: {exc}", file=sys.stderr)
        return 1
    print(f"{dest}: {'laid out' if changed else 'already complete, nothing to do'}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
