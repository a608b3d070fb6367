"""``glassbox bench retrieval --embedder``: the latency of one model against another."""

from __future__ import annotations

import json

import pytest

from desktop_app.cli import main


def test_the_retrieval_bench_times_the_model_it_is_given(
    capsys: pytest.CaptureFixture[str], tmp_path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no seed articles, no questions file: built-in words
    argv = ["bench", "retrieval", "--chunks", "100", "--queries", "3"]
    assert main([*argv, "--embedder", "use-multilingual-v3", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["model"] == "use-multilingual-v3 (512-d)"
    assert report["chunks"] == 100 and report["queries"] == 3 and report["p95_ms"] > 0
    assert main([*argv, "--embedder", "use-multilingual-v3"]) == 0
    assert "use-multilingual-v3 (512-d)" in capsys.readouterr().out.splitlines()[0]
