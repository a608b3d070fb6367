"""End to end: `glassbox eval answers` on a tiny question file, with the default model.

One English question the document answers and one Chinese question it does not: the
figures come per bucket, each answer is listed with its scores, and whatever the
model says to the Chinese question, a refusal is shown in Chinese.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# Assembling the model, ingesting and two answers take minutes on a busy 2-core machine.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

LIGHTHOUSE = (
    "The Varnholm lighthouse stands on the northern cape of the island of Varnholm.\n\n"
    "In 1912 the painter Edda Lindqvist painted the lighthouse green, and it has kept "
    "that colour since. The lamp was automated in 1958.\n"
)


def glassbox(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GLASSBOX_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "desktop_app", *args],
        capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip


def test_eval_answers_scores_a_grounded_answer_and_a_refusal(
    tmp_path: Path, qwen_path: Path
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "varnholm.txt").write_text(LIGHTHOUSE, encoding="utf-8")
    home = tmp_path / "home"
    out = glassbox(home, "ingest", str(docs), "--collection", "notes", "--json", "--quiet")
    assert out.returncode == 0, out.stderr
    questions = tmp_path / "questions.jsonl"
    lines = [
        {
            "id": "en-1", "question": "Who painted the Varnholm lighthouse green?",
            "lang": "en", "bucket": "en", "split": "dev", "sources": ["varnholm.txt"],
            "must_contain": ["Edda Lindqvist"], "fact": ["Edda Lindqvist"],
        },
        {
            "id": "none-1", "question": "怎样在 Kubernetes 集群里部署 MongoDB？", "lang": "zh",
            "bucket": "none", "split": "dev", "sources": [], "must_contain": [],
        },
    ]  # fmt: skip
    questions.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines), "utf-8")
    out = glassbox(
        home, "eval", "answers", "--questions", str(questions), "--collection", "notes",
        "--json", "--model", str(qwen_path), "--max-tokens", "48", "--n-ctx", "2048",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    print(json.dumps(result["per_question"], ensure_ascii=False))
    assert result["questions"] == 2 and set(result["buckets"]) == {"en", "none"}
    en, none = result["per_question"]
    assert en["id"] == "en-1" and en["fact_in_passages"] == [1]
    assert en["names_fact"] is True and en["language_match"] is True
    assert result["buckets"]["en"]["names_fact_rate"] == 1.0
    assert result["seconds_median"] > 0 and result["first_token_s_median"] > 0
    if not none["found"]:
        assert none["answer"] == "文档中没有找到答案。" and none["language_match"] is True
    assert result["refusal_recall"] == (0.0 if none["found"] else 1.0)
