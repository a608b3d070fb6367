"""A window killed with SIGKILL takes its engine process (and the model's memory) with it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from gguf_factory import write_tiny_llama

CHILD = """
import sys, time
from desktop_app.core.engine.protocol import EngineConfig, GenerateRequest
from desktop_app.core.sampling import SamplingParams
from desktop_app.workers.engine.client import EngineClient

if __name__ == "__main__":
    client = EngineClient()
    client.load(EngineConfig(sys.argv[1], n_ctx=2048, n_threads=1))
    print(client.pid, flush=True)
    if sys.argv[2] == "idle":
        time.sleep(120)
    request = GenerateRequest(
        params=SamplingParams(max_tokens=2000), prompt="hello", ignore_eos=True
    )
    for i, _event in enumerate(client.generate(request)):
        if i == 5:
            print("streaming", flush=True)
"""


def ended(pid: int) -> bool:
    """Whether ``pid`` has exited (a zombie has: nobody is left to reap it here)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except FileNotFoundError:
        return True


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")
@pytest.mark.parametrize("moment", ["idle", "streaming"])
def test_the_engine_process_ends_when_its_parent_is_killed(tmp_path: Path, moment: str) -> None:
    model = write_tiny_llama(tmp_path / "tiny.gguf", n_ctx=2048)
    script = tmp_path / "window.py"
    script.write_text(CHILD, "utf-8")
    parent = subprocess.Popen(
        [sys.executable, str(script), str(model), moment], stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    engine = int(parent.stdout.readline())
    if moment == "streaming":
        assert parent.stdout.readline().strip() == "streaming"
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while not ended(engine) and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        assert ended(engine), "the engine outlived the window that started it"
    finally:
        if not ended(engine):
            os.kill(engine, signal.SIGKILL)


BUSY_CHILD = """
import multiprocessing as mp
import sys
import time

from desktop_app.core.engine import host


class Busy:
    \"\"\"The engine's pipe while the engine is inside a long llama.cpp call (a model
    load, a long prompt): nothing is read from it, so the parent's end is not seen.\"\"\"

    def recv(self):
        while True:
            time.sleep(60)

    def send(self, message):
        pass


def engine(cancel):
    host.main(Busy(), cancel)


if __name__ == "__main__":
    ctx = mp.get_context("spawn")
    proc = ctx.Process(target=engine, args=(ctx.RawValue("b", 0),), daemon=True)
    proc.start()
    print(proc.pid, flush=True)
    time.sleep(120)
"""


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")
def test_a_busy_engine_ends_when_its_parent_is_killed(tmp_path: Path) -> None:
    """Killed while the engine does not read its pipe: it must not wait until it does."""
    script = tmp_path / "window.py"
    script.write_text(BUSY_CHILD, "utf-8")
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    engine = int(parent.stdout.readline())
    time.sleep(0.5)  # the engine is inside its busy call
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while not ended(engine) and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        assert ended(engine), "a busy engine outlived the window that started it"
    finally:
        if not ended(engine):
            os.kill(engine, signal.SIGKILL)
