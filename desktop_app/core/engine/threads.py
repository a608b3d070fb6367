"""Thread counts that are fast on this machine.

Generation is memory-bandwidth bound and barely gains from a second thread,
while a busy second thread can make it many times slower (measured on a 2-core
machine with the window busy); prompt evaluation is compute bound and scales.
So generation gets half the cores and prompt evaluation gets them all.
"""

from __future__ import annotations

import os


def available_cores() -> int:
    """Cores this process may run on (respects CPU affinity and containers)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS and Windows have no sched_getaffinity
        return max(1, os.cpu_count() or 1)


def default_threads(cores: int | None = None) -> tuple[int, int]:
    """(generation threads, prompt-evaluation threads) for ``cores`` cores."""
    n = available_cores() if cores is None else max(1, cores)
    generation = max(1, min(8, n // 2))
    return generation, max(1, min(16, n))
