"""What the README's screenshot scripts share (``packaging/screenshots_*.py``).

Each runs the real window offscreen in a data folder of its own and waits for the
window's work while Qt's events keep going.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def fresh_home() -> Path:
    """A new, empty Glassbox data folder, set as ``GLASSBOX_HOME`` (before the app is
    imported, which reads it)."""
    home = Path(tempfile.mkdtemp(prefix="glassbox-shots-"))
    os.environ["GLASSBOX_HOME"] = str(home)
    return home


def wait(app: Any, condition: Callable[[], object], timeout: float = 30.0) -> None:
    """Process ``app``'s events until ``condition()`` holds or ``timeout`` seconds pass."""
    end = time.monotonic() + timeout
    while not condition() and time.monotonic() < end:
        app.processEvents()
        time.sleep(0.005)
