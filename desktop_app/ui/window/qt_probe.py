"""The Qt half of ``glassbox doctor``, run in a child process (``glassbox doctor --qt-probe``).

Qt aborts the whole process when its platform plugin cannot load, so this runs
apart from the doctor and prints what it found as it goes, one JSON object a line;
whatever was printed before an abort still reaches the parent
(``desktop_app.workers.doctor.probe`` reads it into a ``QtReport``).

On Linux, Qt's X11 plugin is first loaded on its own with ``dlopen``: that names
the missing system library (``libxcb-cursor.so.0: cannot open shared object
file``) where Qt only says "could not load the Qt platform plugin". Without a
display the font check runs on the offscreen platform, which reads the same
fontconfig fonts.
"""

from __future__ import annotations

import ctypes
import json
import os
import sys
from pathlib import Path
from typing import Any

from desktop_app.core.doctor import display_kind


def _emit(**data: Any) -> None:
    # Flushed line by line: a later abort must not lose what was found before it.
    sys.stdout.write(json.dumps(data) + "\n")
    sys.stdout.flush()


def xcb_error() -> str:
    """Why Qt's X11 platform plugin cannot be loaded, or "" when it can (Linux only)."""
    from PySide6.QtCore import QLibraryInfo

    folder = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)) / "platforms"
    plugin = folder / "libqxcb.so"
    if not plugin.is_file():
        return f"{plugin} is missing"
    try:
        ctypes.CDLL(str(plugin))
    except OSError as exc:
        return str(exc)
    return ""


def cjk_families() -> list[str]:
    """Font families that cover Simplified Chinese (a QGuiApplication must exist)."""
    from PySide6.QtGui import QFontDatabase

    return sorted(QFontDatabase.families(QFontDatabase.WritingSystem.SimplifiedChinese))


def main() -> int:
    """Probe Qt; print the findings as JSON lines; exit 0 (an abort speaks for itself)."""
    forced = os.environ.get("QT_QPA_PLATFORM", "").strip()
    display = display_kind(os.environ)
    _emit(display=display, forced=forced)
    if sys.platform.startswith("linux"):
        _emit(xcb_error=xcb_error())
    if not forced and not display:
        # Nothing to show a window on; the fonts can still be read.
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication([sys.argv[0]])
    _emit(platform=QGuiApplication.platformName())
    _emit(cjk_fonts=cjk_families())
    del app
    return 0
