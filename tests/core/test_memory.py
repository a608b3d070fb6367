"""Freed memory goes back to the system, and threads share a few allocator arenas."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from desktop_app.core import memory

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc")


def test_free_pages_are_returned_to_the_system() -> None:
    # A child process: the allocator is left as it was for the rest of the tests.
    code = textwrap.dedent(
        """
        import os
        from desktop_app.core.memory import release_free_memory

        def rss():
            with open(f"/proc/{os.getpid()}/statm") as f:
                return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

        blocks = [bytearray(64 * 1024) for _ in range(3000)]  # 192 MiB in small blocks
        keep = blocks[::50]  # pinned here and there: the heap cannot shrink from its top
        del blocks
        before = rss()
        assert release_free_memory()
        print(before - rss())
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert int(out.stdout) > 100 * 1024 * 1024


def test_the_arena_limit_is_accepted() -> None:
    code = "from desktop_app.core.memory import limit_arenas; print(limit_arenas())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"


def test_without_glibc_both_say_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "_libc", lambda: None)
    assert memory.release_free_memory() is False
    assert memory.limit_arenas() is False
