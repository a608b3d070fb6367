"""``chroma run`` as a child process on a free loopback port, for the tests that
need a real Chroma server: restartable on another folder, always killed and
waited for."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

CHROMA = Path(sys.executable).with_name("chroma")
#: Whether this environment can start a server (the chromadb package's CLI).
HAVE_CHROMA = CHROMA.exists() or shutil.which("chroma") is not None


def free_port(family: socket.AddressFamily = socket.AF_INET, host: str = "127.0.0.1") -> int:
    with socket.socket(family) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class ChromaServer:
    """``chroma run --path FOLDER --host H --port N``; logs go to ``log_dir``."""

    def __init__(self, log_dir: Path, host: str = "127.0.0.1") -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.host = host
        self.port = free_port(family, host)
        self.url = f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"
        self.log_dir = log_dir
        self.proc: subprocess.Popen[bytes] | None = None
        self._starts = 0

    def start(self, path: Path, timeout_s: float = 60) -> None:
        """Serve ``path``; returns once the heartbeat answers."""
        assert self.proc is None
        self._starts += 1
        exe = str(CHROMA) if CHROMA.exists() else "chroma"
        with (self.log_dir / f"chroma-{self._starts}.log").open("wb") as log:
            self.proc = subprocess.Popen(
                [exe, "run", "--path", str(path), "--host", self.host, "--port", str(self.port)],
                stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"chroma run exited with {self.proc.returncode}")
            try:
                if httpx.get(f"{self.url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise AssertionError(f"chroma run did not answer within {timeout_s} s")

    def stop(self) -> None:
        """Kill the server and wait for it (the next start may reuse the port)."""
        proc, self.proc = self.proc, None
        if proc is not None:
            proc.kill()
            proc.wait(timeout=30)
