"""The command line's output piped into a reader that stops early (``| head``)."""

from __future__ import annotations

import subprocess
import sys


def test_a_reader_that_closes_the_pipe_early_gets_no_traceback() -> None:
    # `glassbox kb models` prints a few lines; the reader closes before reading any.
    proc = subprocess.Popen(
        [sys.executable, "-m", "desktop_app", "kb", "models", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read().decode("utf-8", "replace")
    proc.wait(timeout=120)
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
    assert proc.returncode == 141
