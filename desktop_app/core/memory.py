"""Handing freed memory back to the system.

glibc's allocator keeps what a thread freed in that thread's arena. A server thread
that read an 8 MiB request body leaves megabytes behind that no later request may
reuse, so the process grows with every large request although Python's own
memory stays flat. ``malloc_trim`` returns the free pages of every arena.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def _libc() -> Any:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


def release_free_memory() -> bool:
    """Return the allocator's free pages to the system; False where there is no glibc."""
    libc = _libc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True


#: glibc's ``mallopt`` parameter for the most arenas the allocator may make.
_M_ARENA_MAX = -8
#: Arenas for the window's process: Python runs one thread at a time, so more
#: arenas buy no speed, while each keeps what its threads freed.
WINDOW_ARENAS = 2


def limit_arenas(arenas: int = WINDOW_ARENAS) -> bool:
    """Let the allocator make at most ``arenas`` arenas from now on (glibc only).

    Call it early, before threads start: each thread that allocates gets an arena of
    its own by default (up to eight per core), and memory freed in one is not reused
    by another, so a server thread per request makes the process grow.
    """
    libc = _libc()
    if libc is None or not hasattr(libc, "mallopt"):
        return False
    return bool(libc.mallopt(_M_ARENA_MAX, arenas))
