"""packaging/eval_docs.py: .deb extraction refuses paths and links out of the folder,
uses the pinned hash, and a second run does nothing. No network: the .debs are built here."""

from __future__ import annotations

import hashlib
import importlib.util
import io
import sys
import tarfile
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def eval_docs() -> ModuleType:
    spec = importlib.util.spec_from_file_location("eval_docs", ROOT / "packaging" / "eval_docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["eval_docs"] = module
    spec.loader.exec_module(module)
    return module


def _tar(entries: list[tarfile.TarInfo | tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:xz") as tar:
        for entry in entries:
            if isinstance(entry, tarfile.TarInfo):
                tar.addfile(entry)
            else:
                name, data = entry
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _link(name: str, target: str, kind: bytes) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info


def _deb(entries: list[tarfile.TarInfo | tuple[str, bytes]]) -> bytes:
    out = [b"!<arch>\n"]
    for name, data in (
        ("debian-binary", b"2.0\n"),
        ("control.tar.xz", _tar([("./control", b"Package: x\n")])),
        ("data.tar.xz", _tar(entries)),
    ):
        header = f"{name + '/':<16}{0:<12}{0:<6}{0:<6}{'100644':<8}{len(data):<10}`\n"
        out += [header.encode("ascii"), data, b"\n" if len(data) % 2 else b""]
    return b"".join(out)


def _docs(name: str) -> str | None:
    prefix = "usr/share/doc/pkg/"
    return name[len(prefix) :] if name.startswith(prefix) and name != prefix else None


def test_extracts_the_selected_files_and_resolves_hard_links(
    eval_docs: ModuleType, tmp_path: Path
) -> None:
    deb = _deb(
        [
            ("./usr/share/doc/other/img.png", b"PNG"),
            ("./usr/share/doc/pkg/index.html", b"<p>hi</p>"),
            _link(
                "./usr/share/doc/pkg/images/img.png",
                "./usr/share/doc/other/img.png",
                tarfile.LNKTYPE,
            ),
            _link("./usr/share/doc/unrelated", "../../../../etc/passwd", tarfile.SYMTYPE),
        ]
    )
    dest = tmp_path / "out"
    eval_docs.extract_deb(deb, dest, _docs)
    assert (dest / "index.html").read_bytes() == b"<p>hi</p>"
    assert (dest / "images" / "img.png").read_bytes() == b"PNG"
    assert not (dest / "images" / "img.png").is_symlink()
    assert sorted(p.name for p in dest.rglob("*")) == ["images", "img.png", "index.html"]


@pytest.mark.parametrize(
    "bad",
    [
        ("../../escaped.txt", b"x"),
        ("/tmp/absolute.txt", b"x"),
        ("./usr/share/doc/pkg/../../../../escaped.txt", b"x"),
        _link("./usr/share/doc/pkg/up", "../../../../../escaped.txt", tarfile.SYMTYPE),
        _link("./usr/share/doc/pkg/abs", "/etc/passwd", tarfile.SYMTYPE),
        _link("./usr/share/doc/pkg/hard", "../escaped.txt", tarfile.LNKTYPE),
    ],
    ids=["dotdot", "absolute", "dotdot-inside", "symlink-up", "symlink-absolute", "hardlink-up"],
)
def test_refuses_members_that_leave_the_destination_and_writes_nothing(
    eval_docs: ModuleType, tmp_path: Path, bad: tarfile.TarInfo | tuple[str, bytes]
) -> None:
    deb = _deb([("./usr/share/doc/pkg/index.html", b"ok"), bad])
    dest = tmp_path / "a" / "b" / "out"
    with pytest.raises(eval_docs.UnsafeArchiveError):
        eval_docs.extract_deb(deb, dest, _docs)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_builds_from_a_checked_cache_once_then_does_nothing(
    eval_docs: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deb = _deb([("./usr/share/doc/pkg/index.html", b"ok")])
    package = eval_docs.Package(
        "pkg",
        "1",
        "pool/main/p/pkg/pkg_1_all.deb",
        hashlib.sha256(deb).hexdigest(),
        len(deb),
        "docs",
        _docs,
    )
    monkeypatch.setattr(eval_docs, "PACKAGES", (package,))
    monkeypatch.setattr(eval_docs, "MIRROR", "http://127.0.0.1:9/")  # nothing listens
    cache = tmp_path / "debs"
    cache.mkdir()
    (cache / "pkg_1_all.deb").write_bytes(deb)
    dest = tmp_path / "docs"
    assert eval_docs.build(dest, cache) is True
    assert (dest / "docs" / "index.html").read_bytes() == b"ok"
    assert eval_docs.build(dest, cache) is False


def test_a_failed_download_says_what_to_do(
    eval_docs: ModuleType,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    deb = _deb([("./usr/share/doc/pkg/index.html", b"ok")])
    package = eval_docs.Package(
        "pkg",
        "1",
        "pool/main/p/pkg/pkg_1_all.deb",
        hashlib.sha256(deb).hexdigest(),
        len(deb),
        "docs",
        _docs,
    )
    monkeypatch.setattr(eval_docs, "PACKAGES", (package,))
    monkeypatch.setattr(eval_docs, "MIRROR", "http://127.0.0.1:9/")
    cache = tmp_path / "debs"
    cache.mkdir()
    (cache / "pkg_1_all.deb").write_bytes(deb + b"tampered")
    status = eval_docs.main(["--dest", str(tmp_path / "docs"), "--cache", str(cache)])
    assert status == 1
    err = capsys.readouterr().err
    assert "Could not download http://127.0.0.1:9/pool/main/p/pkg/pkg_1_all.deb" in err
    assert "run `make eval-docs` again" in err
    assert not (tmp_path / "docs" / "docs").exists()
