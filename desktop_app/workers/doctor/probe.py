"""Running ``glassbox doctor``'s child processes: the Qt probe, and the doctor itself.

The probe (``desktop_app/ui/window/qt_probe.py``) prints one JSON object a line and may
be aborted by Qt half-way; :func:`parse_qt_probe` makes a ``QtReport`` of whatever
it printed, with Qt's own last words when it did not get as far as a platform.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from desktop_app.core.doctor import QtReport

#: How long the probe may take to start Qt and list the fonts (seconds).
PROBE_TIMEOUT_S = 60.0

#: Qt's messages worth quoting when it could not start (the rest is noise).
_QT_WORDS = ("platform plugin", "could not connect", "cannot open", "could not load")


def glassbox_command(*args: str) -> list[str]:
    """The command that runs ``glassbox ARGS`` with this installation (or this bundle)."""
    if getattr(sys, "frozen", False):
        return [sys.executable, *args]
    return [sys.executable, "-m", "desktop_app", *args]


def parse_qt_probe(stdout: str, stderr: str, returncode: int | None) -> QtReport:
    """The probe's report from its output; ``returncode`` None means it timed out."""
    data: dict[str, Any] = {}
    for line in stdout.splitlines():
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict):
            data.update(obj)
    fonts = data.get("cjk_fonts")
    platform = str(data.get("platform") or "")
    error = ""
    if not platform:
        lines = [line.strip() for line in stderr.splitlines() if line.strip()]
        # Qt's categorised warnings say what went wrong; its closing advice does not.
        said = [line for line in lines if line.startswith("qt.qpa")] or [
            line for line in lines if any(word in line.lower() for word in _QT_WORDS)
        ]
        if said:
            error = " ".join(said[-3:])
        elif returncode is None:
            error = f"Qt did not start within {PROBE_TIMEOUT_S:.0f} s"
        else:
            tail = stderr.strip().splitlines()[-1:] or [f"exit status {returncode}"]
            error = tail[0]
    return QtReport(
        display=str(data.get("display", "")),
        forced=str(data.get("forced", "")),
        xcb_error=str(data.get("xcb_error", "")),
        platform=platform,
        error=error,
        cjk_fonts=tuple(str(f) for f in fonts) if isinstance(fonts, list) else None,
    )


def _text(output: str | bytes | None) -> str:
    # A timed-out run hands back bytes even when text was asked for.
    if isinstance(output, bytes):
        return output.decode(errors="replace")
    return output or ""


def run_qt_probe(timeout_s: float = PROBE_TIMEOUT_S) -> QtReport:
    """Run the Qt probe in a child process and read its report."""
    try:
        proc = subprocess.run(
            glassbox_command("doctor", "--qt-probe"),
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout_s,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        return parse_qt_probe(_text(exc.stdout), _text(exc.stderr), None)
    return parse_qt_probe(proc.stdout, proc.stderr, proc.returncode)
