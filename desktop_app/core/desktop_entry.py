"""Glassbox in the Linux applications menu: the desktop entry and its icon.

The same entry (``assets/linux/glassbox.desktop``) is installed by ``make
install-desktop`` from a checkout and by Help → Add to the applications menu from
the window, so a person who never opens a terminal can do it too. Everything goes
under the user's own data folder (``$XDG_DATA_HOME``, else ``~/.local/share``).
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

DESKTOP_NAME = "glassbox.desktop"
ICON_NAME = "glassbox"


@dataclass(frozen=True, slots=True)
class Installed:
    """What :func:`install` wrote."""

    entry: Path
    icons: tuple[Path, ...]
    command: str


def data_home() -> Path:
    """Where per-user applications and icons go (the XDG data folder)."""
    xdg = os.environ.get("XDG_DATA_HOME", "").strip()
    return Path(xdg) if xdg else Path.home() / ".local" / "share"


def glassbox_command() -> list[str]:
    """The command that starts this Glassbox: the bundle's executable, the
    ``glassbox`` script beside this Python, else ``python -m desktop_app``."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    script = Path(sys.executable).with_name("glassbox")
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", "desktop_app"]


def template() -> str:
    """The desktop entry as shipped (``Exec=glassbox gui %F``)."""
    return (
        resources.files("desktop_app").joinpath("assets", "linux", DESKTOP_NAME).read_text("utf-8")
    )


def render(command: list[str]) -> str:
    """The entry with ``Exec`` and ``TryExec`` pointing at ``command``.

    Raises ``ValueError`` for a command with a line break or another control
    character: the entry is one key per line, so such a path would add keys of its own.
    """
    bad = next((part for part in command if any(ord(c) < 0x20 or c == "\x7f" for c in part)), None)
    if bad is not None:
        raise ValueError(
            f"The path {bad!r} holds a line break or another control character, which a "
            "desktop entry cannot hold: move Glassbox to a folder whose name has none."
        )
    exec_line = " ".join(_quote(part) for part in command)
    out = []
    for line in template().splitlines():
        if line.startswith("Exec="):
            line = f"Exec={exec_line} gui %F"
        elif line.startswith("TryExec="):
            line = f"TryExec={command[0]}"
        out.append(line)
    return "\n".join(out) + "\n"


def install(home: Path | None = None, command: list[str] | None = None) -> Installed:
    """Write the entry and the icons under ``home`` (default: :func:`data_home`).

    Raises ``OSError`` with the path when a file cannot be written.
    """
    home = home if home is not None else data_home()
    command = command or glassbox_command()
    entry = home / "applications" / DESKTOP_NAME
    entry.parent.mkdir(parents=True, exist_ok=True)
    tmp = entry.with_suffix(".tmp")
    tmp.write_text(render(command), encoding="utf-8")
    tmp.chmod(0o644)
    tmp.replace(entry)
    icons = resources.files("desktop_app").joinpath("assets", "icons")
    written = []
    for source, folder in (("glassbox.svg", "scalable"), ("glassbox.png", "256x256")):
        target = home / "icons" / "hicolor" / folder / "apps" / f"{ICON_NAME}{Path(source).suffix}"
        target.parent.mkdir(parents=True, exist_ok=True)
        with resources.as_file(icons.joinpath(source)) as path:
            shutil.copyfile(path, target)
        written.append(target)
    return Installed(entry, tuple(written), " ".join(command))


def installed(home: Path | None = None) -> bool:
    """Whether an entry for Glassbox is in the user's applications menu."""
    home = home if home is not None else data_home()
    return (home / "applications" / DESKTOP_NAME).is_file()


def _quote(part: str) -> str:
    """One argument of ``Exec`` as the desktop entry spec wants it.

    ``%`` is doubled (field codes); an argument with anything but plain path
    characters is double-quoted with ``"`` `` ` `` ``$`` ``\\`` escaped; and, as
    ``Exec`` is a string value, every backslash of that is escaped once more.
    """
    part = part.replace("%", "%%")
    if part and all(c.isalnum() or c in "/._-+%" for c in part):
        return part
    quoted = "".join("\\" + c if c in '"`$\\' else c for c in part)
    return '"' + quoted.replace("\\", "\\\\") + '"'
