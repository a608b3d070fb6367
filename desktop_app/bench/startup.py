"""``glassbox bench startup``: process start to the main window painted, no model.

Each run starts ``glassbox gui --no-model --exit-when-shown`` in a fresh process
with an empty data folder; the window prints the wall-clock time of its first
paint and quits. One unmeasured run first puts the libraries in the OS file
cache, as on a desktop where the app was used before.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from typing import Any

#: What the child prints when its window has been painted.
SHOWN_MARKER = "glassbox-window-shown"


@dataclass(frozen=True)
class StartupResult:
    """Figures of ``glassbox bench startup``."""

    runs: int
    startup_s_median: float
    startup_s_min: float
    startup_s_max: float
    per_run_s: list[float]
    command: list[str]

    def as_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return asdict(self)


#: What is passed to Glassbox to open the window with no model and exit once painted.
STARTUP_ARGS = ("gui", "--no-model", "--exit-when-shown")


def startup_command() -> list[str]:
    """The command that opens the window with no model and exits once it is painted."""
    if getattr(sys, "frozen", False):
        return [sys.executable, *STARTUP_ARGS]
    return [sys.executable, "-m", "desktop_app", *STARTUP_ARGS]


def run_startup_bench(runs: int = 5, command: list[str] | None = None) -> StartupResult:
    """Start the window ``runs`` times in fresh processes; time start to first paint."""
    cmd = command or startup_command()
    times: list[float] = []
    with tempfile.TemporaryDirectory(prefix="glassbox-bench-startup-") as home:
        env = dict(os.environ, GLASSBOX_HOME=home)
        if not env.get("QT_QPA_PLATFORM"):
            env["QT_QPA_PLATFORM"] = "offscreen"
        # One run first so the OS file cache holds the libraries, as on a used desktop.
        for n in range(runs + 1):
            start = time.time()
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
            shown = [
                float(line.split()[1])
                for line in proc.stdout.splitlines()
                if line.startswith(SHOWN_MARKER)
            ]
            if proc.returncode != 0 or not shown:
                raise RuntimeError(
                    f"The window did not start (exit {proc.returncode}): "
                    f"{(proc.stderr or proc.stdout).strip()[-400:]}"
                )
            if n:
                times.append(shown[0] - start)
    return StartupResult(
        runs=runs,
        startup_s_median=statistics.median(times),
        startup_s_min=min(times),
        startup_s_max=max(times),
        per_run_s=times,
        command=cmd,
    )
