"""``glassbox bench engine`` runs end to end and prints every promised figure."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from gguf_factory import write_tiny_llama

pytestmark = pytest.mark.e2e

FIGURES = (
    "tokens_per_s_raw",
    "tokens_per_s_glassbox",
    "ratio",
    "ratio_2048",
    "ratio_vs_decode_loop",
    "rss_extra_mb",
    "ttft_ratio_turn5",
)


def bench_engine(*args: str) -> subprocess.CompletedProcess[str]:
    """``glassbox bench engine ARGS --json`` in a process of its own."""
    return subprocess.run(
        [sys.executable, "-m", "desktop_app", "bench", "engine", *args, "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_bench_engine_json_has_every_figure(tmp_path):
    model = write_tiny_llama(tmp_path / "tiny.gguf", n_ctx=1024)
    out = bench_engine(
        *("--model", str(model), "--n-ctx", "1024", "--tokens", "24", "--long-tokens", "48"),
        *("--rounds", "2", "--long-rounds", "1"),
    )
    assert out.returncode == 0, out.stderr
    figures = json.loads(out.stdout)
    for key in FIGURES:
        assert isinstance(figures[key], float), key
    for key in ("tokens_per_s_raw", "tokens_per_s_glassbox", "ratio", "ratio_2048"):
        assert figures[key] > 0, key
    assert len(figures["pairs_256"]) == 2 and len(figures["pairs_2048"]) == 1
    assert figures["ttft_ratio_turn5"] > 0
    assert "round 2/2" in out.stderr


def test_bench_startup_times_another_glassbox_given_as_one_command(tmp_path):
    """--command names another Glassbox (a bundle, here this one by another path);
    the bench adds the window arguments itself."""
    command = f"{sys.executable} -m desktop_app"
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "desktop_app",
            "bench",
            "startup",
            "--runs",
            "1",
            "--json",
            "--command",
            command,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    figures = json.loads(out.stdout)
    assert figures["command"][-3:] == ["gui", "--no-model", "--exit-when-shown"]
    assert figures["runs"] == 1 and 0 < figures["startup_s_median"] < 120


def test_bench_startup_says_clearly_when_the_command_does_not_start(tmp_path):
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "desktop_app",
            "bench",
            "startup",
            "--runs",
            "1",
            "--command",
            str(tmp_path / "no-such-glassbox"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 2
    assert "error: bench startup" in out.stderr and "Traceback" not in out.stderr


def test_bench_engine_without_long_rounds_skips_them(tmp_path):
    """--long-rounds 0 used to end in 'no median for empty data'."""
    model = write_tiny_llama(tmp_path / "tiny.gguf", n_ctx=1024)
    out = bench_engine(
        *("--model", str(model), "--n-ctx", "1024", "--tokens", "16", "--rounds", "1"),
        "--long-rounds=0",
    )
    assert out.returncode == 0, out.stderr
    figures = json.loads(out.stdout)
    assert figures["ratio"] > 0 and figures["pairs_2048"] == []
