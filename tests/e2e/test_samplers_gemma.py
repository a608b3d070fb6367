"""The newer samplers on a real model (Gemma 3 270M) through ``glassbox generate``."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.e2e

REPEATING = "one two three one two three one two three one two"


def generate(model: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "desktop_app", "generate", "--model", model, "--raw", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_dry_breaks_a_greedy_repetition(gemma_path):
    common = ["--prompt", REPEATING, "--temperature", "0", "--max-tokens", "6"]
    plain = generate(str(gemma_path), *common)
    dry = generate(str(gemma_path), *common, "--dry-multiplier", "3")
    assert plain.returncode == 0 and dry.returncode == 0, plain.stderr + dry.stderr
    assert plain.stdout.startswith(" three one two")
    assert not dry.stdout.startswith(" three one two")


def test_every_new_flag_reaches_the_chain_and_a_seed_replays(gemma_path):
    args = [
        "--prompt", "The sky is", "--max-tokens", "8", "--candidates", "10", "--json",
        "--seed", "11", "--sampler-order", "llama.cpp", "--mirostat", "2",
        "--mirostat-tau", "2", "--typical-p", "0.9", "--xtc-probability", "0.5",
        "--dynatemp-range", "0.3", "--top-n-sigma", "2", "--dry-multiplier", "0.8",
    ]  # fmt: skip
    first = generate(str(gemma_path), *args)
    again = generate(str(gemma_path), *args)
    assert first.returncode == 0, first.stderr
    tokens = [json.loads(line) for line in first.stdout.splitlines()][:-1]
    assert [t["id"] for t in tokens] == [
        json.loads(line)["id"] for line in again.stdout.splitlines()[:-1]
    ]
    reasons = {c["removed_by"] for t in tokens for c in t["candidates"]}
    assert "mirostat" in reasons
    for t in tokens:
        assert sum(c["p_final"] for c in t["candidates"]) <= 1.0 + 1e-9


def test_a_bad_order_is_one_clear_line(gemma_path):
    out = generate(str(gemma_path), "--prompt", "hi", "--sampler-order", "top-k,temperature")
    assert out.returncode == 2
    assert "Sampler order leaves out" in out.stderr + out.stdout
    assert "Traceback" not in out.stderr


def test_a_greedy_loop_is_stopped_and_loop_stop_0_lets_it_run(gemma_path):
    common = ["--prompt", REPEATING, "--temperature", "0", "--max-tokens", "200", "--json"]
    stopped = generate(str(gemma_path), *common)
    running = generate(str(gemma_path), *common, "--loop-stop", "0")
    assert stopped.returncode == 0 and running.returncode == 0, stopped.stderr + running.stderr
    lines = [json.loads(line) for line in stopped.stdout.splitlines()]
    endless_lines = [json.loads(line) for line in running.stdout.splitlines()]
    done, endless = lines[-1], endless_lines[-1]
    assert endless["finish_reason"] == "length" and endless["completion_tokens"] == 200
    assert done["finish_reason"] == "loop"
    # " three one two" over and over: stopped once its copies span 200 characters,
    # which the endless reply's first tokens are, word for word.
    text = "".join(t["text"] for t in lines[:-1])
    assert done["completion_tokens"] < 80 and len(text) >= 200
    assert "".join(t["text"] for t in endless_lines[:-1]).startswith(text)
