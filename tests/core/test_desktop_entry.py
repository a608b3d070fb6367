"""The Linux desktop entry and icons, and ``make install-desktop`` / ``uninstall-desktop``."""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from desktop_app.core.desktop_entry import render

ROOT = Path(__file__).resolve().parents[2]
DESKTOP = ROOT / "desktop_app" / "assets" / "linux" / "glassbox.desktop"
HICOLOR = ROOT / "resources" / "icons" / "hicolor"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def parse(path: Path) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read(path, encoding="utf-8")
    assert parser.sections() == ["Desktop Entry"]
    return dict(parser["Desktop Entry"])


def parse_text(text: str) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(text)
    return dict(parser["Desktop Entry"])


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC, path
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_desktop_entry_has_the_required_keys() -> None:
    entry = parse(DESKTOP)
    assert entry["Type"] == "Application"
    assert entry["Name"] == "Glassbox"
    for key in ("GenericName", "Comment", "Name[zh_CN]", "Comment[zh_CN]", "GenericName[zh_CN]"):
        assert entry[key].strip(), key
    assert entry["Exec"].split()[0] == "glassbox"
    assert entry["Exec"].endswith("%F")
    assert entry["Icon"] == "glassbox"
    assert entry["Terminal"] == "false"
    assert entry["StartupWMClass"] == "Glassbox"
    assert "Utility" in entry["Categories"].split(";")
    for key in ("Categories", "MimeType", "Keywords"):
        assert entry[key].endswith(";"), key
    # "Open with": a running Glassbox is handed the files (ui/single_instance.py).
    mimes = entry["MimeType"].split(";")
    assert {"text/plain", "application/pdf", "text/markdown"} <= set(mimes)


def test_every_icon_size_is_a_png_of_that_size() -> None:
    assert (HICOLOR / "scalable" / "apps" / "glassbox.svg").is_file()
    for n in SIZES:
        assert png_size(HICOLOR / f"{n}x{n}" / "apps" / "glassbox.png") == (n, n)
    window_icon = ROOT / "desktop_app" / "assets" / "icons" / "glassbox.png"
    assert png_size(window_icon) == (256, 256)


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_install_desktop_then_uninstall(tmp_path: Path) -> None:
    data = tmp_path / "share"
    # An empty DISTPATH: the entry points at the virtual environment's command.
    env = dict(os.environ, XDG_DATA_HOME=str(data))
    dist = tmp_path / "no-bundle"
    run = subprocess.run(
        ["make", "--no-print-directory", "install-desktop", f"DISTPATH={dist}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    installed = data / "applications" / "glassbox.desktop"
    entry = parse(installed)
    exe = ROOT / ".venv" / "bin" / "glassbox"
    assert entry["Exec"] == parse_text(render([str(exe)]))["Exec"] == f"{exe} gui %F"
    assert entry["TryExec"] == str(exe)
    for key in ("Name", "Icon", "MimeType", "StartupWMClass", "Comment[zh_CN]"):
        assert entry[key] == parse(DESKTOP)[key]
    for n in SIZES:
        assert png_size(data / "icons" / "hicolor" / f"{n}x{n}" / "apps" / "glassbox.png") == (n, n)
    assert (data / "icons" / "hicolor" / "scalable" / "apps" / "glassbox.svg").is_file()

    # With a bundle built, the entry starts the bundle instead.
    fake = dist / "Glassbox" / "glassbox"
    fake.parent.mkdir(parents=True)
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    run = subprocess.run(
        ["make", "--no-print-directory", "install-desktop", f"DISTPATH={dist}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert parse(installed)["Exec"] == f"{fake} gui %F"

    run = subprocess.run(
        ["make", "--no-print-directory", "uninstall-desktop"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    # update-desktop-database and gtk-update-icon-cache, where installed, leave
    # their caches behind; everything Glassbox wrote is gone.
    caches = {"mimeinfo.cache", "icon-theme.cache"}
    assert [p for p in data.rglob("*") if p.is_file() and p.name not in caches] == []


@pytest.mark.parametrize("path", ["/opt/a\nExec=/tmp/evil", "/opt/a\rb", "/opt/a\x1bb"])
def test_a_path_with_a_line_break_is_refused_not_written_as_a_new_key(path: str) -> None:
    with pytest.raises(ValueError, match="line break or another control character"):
        render([path])
