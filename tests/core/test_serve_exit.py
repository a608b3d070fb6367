"""After Ctrl+C, glassbox serve ends even when a thread would hold the interpreter's exit."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import threading
from desktop_app.cli.serve import _end_after
threading.Thread(target=threading.Event().wait).start()  # never ends, not a daemon
_end_after(0.2, 0, "A thread was still running after the stop; ending.")
"""


def test_a_leftover_thread_cannot_keep_the_process_alive() -> None:
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    assert "still running after the stop" in out.stderr


def test_a_stop_that_hangs_ends_with_status_one() -> None:
    script = SCRIPT.replace("_end_after(0.2, 0,", "_end_after(0.2, 1,")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 1
