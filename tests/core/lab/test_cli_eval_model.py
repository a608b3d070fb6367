"""``glassbox eval model``: bad data is refused with the file and line before any model loads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop_app.cli import main


def test_a_broken_file_is_one_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "Q", "choices": ["a", "b"], "answer": "Z"}\n', encoding="utf-8")
    assert main(["eval", "model", "--data", str(bad), "--json"]) == 2
    err = json.loads(capsys.readouterr().out)
    assert err["kind"] == "invalid_request"
    assert f"{bad}, line 1" in err["message"]


def test_an_unknown_sample_names_the_samples(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "model", "--data", "mmlu-full"]) == 2
    err = capsys.readouterr().err
    assert "mc-en, mc-zh, math-en, math-zh" in err
