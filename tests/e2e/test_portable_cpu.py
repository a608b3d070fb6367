"""The llama.cpp build runs on a processor without AVX-512: emulated with QEMU.

``qemu-x86_64 -cpu Haswell`` runs this Python as on a 2013 laptop CPU (AVX2, no
AVX-512, no AMX). A ``-march=native`` build made on an AVX-512 machine dies there
with SIGILL as soon as it loads a model; the portable build picks its ``haswell``
kernels and replies. The engine runs in this process here (the engine child of
the window would run outside the emulator).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

QEMU = shutil.which("qemu-x86_64")

SCRIPT = """
import json, sys
from desktop_app.core.engine.native import load_backends
from desktop_app.core.engine.llama_backend import LlamaCppEngine
from desktop_app.core.engine.protocol import DoneEvent, EngineConfig, GenerateRequest
from desktop_app.core.sampling import SamplingParams

backends = load_backends()
engine = LlamaCppEngine()
loaded = engine.load(EngineConfig(sys.argv[1], n_ctx=256, n_threads=2))
request = GenerateRequest(params=SamplingParams.greedy(max_tokens=3), prompt="Paris is the")
done = [e for e in engine.generate(request) if isinstance(e, DoneEvent)][-1]
print(json.dumps({"variant": backends.cpu_variant, "kernels": loaded.kernels,
                  "tokens": done.completion_tokens, "text": done.text}))
"""


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="x86-64 only")
def test_the_build_replies_on_an_emulated_haswell_cpu(gemma_path: Path) -> None:
    if QEMU is None:
        message = "qemu-x86_64 is not installed (Debian: apt-get install qemu-user)"
        if os.environ.get("CI"):
            pytest.fail(message + "; .ci/run installs it")
        pytest.skip(message)
    proc = subprocess.run(
        [QEMU, "-cpu", "Haswell", sys.executable, "-c", SCRIPT, str(gemma_path)],
        capture_output=True,
        text=True,
        timeout=540,
        env={**os.environ, "OMP_NUM_THREADS": "2"},
    )
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stderr[-3000:]}"
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["variant"] == "haswell", result
    assert result["tokens"] == 3 and result["text"].strip(), result
