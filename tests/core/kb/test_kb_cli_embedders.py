"""`glassbox kb models`, `kb create --embedder`, `ingest --embedder` and `kb reembed`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kb_fakes import HashEmbedder

from desktop_app.cli import kb as cli_kb
from desktop_app.cli import kb_models, main
from desktop_app.core.kb.embed import COMBINED_NAME, MINILM_NAME, USE_NAME
from desktop_app.core.kb.knowledge_base import KnowledgeBase


@pytest.fixture
def docs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "kb"

    def open_kb(*_args: object) -> KnowledgeBase:
        # The fake stands in for MiniLM; USE multilingual is the real model.
        return KnowledgeBase(root, embedder=HashEmbedder())

    monkeypatch.setattr(cli_kb, "_open", open_kb)
    monkeypatch.setattr(kb_models, "_open", open_kb)
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "quota.txt").write_text("磁盘配额用 usrquota 选项在 /etc/fstab 中开启。", "utf-8")
    for i in range(5):
        (folder / f"p{i}.txt").write_text(f"Printer {i} is added with lpadmin.", "utf-8")
    return folder.resolve()


def _collection(tmp_path: Path, name: str) -> tuple[str, int]:
    with KnowledgeBase(tmp_path / "kb", embedder=HashEmbedder()) as kb:
        coll = kb.registry.collection(name)
        return coll.embed_model, coll.dim


def test_kb_models_lists_each_choice_with_installed_yes_or_no(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["kb", "models", "--json"]) == 0
    models = {m["name"]: m for m in json.loads(capsys.readouterr().out)["models"]}
    assert {MINILM_NAME, USE_NAME, "embeddinggemma-300m"} <= set(models)
    assert models[USE_NAME]["installed"] is True
    assert all(isinstance(m["installed"], bool) and m["summary"] for m in models.values())
    assert main(["kb", "models"]) == 0
    text = capsys.readouterr().out
    assert f"{COMBINED_NAME} (default): installed yes" in text
    assert f"{MINILM_NAME}: installed yes" in text
    assert f"{USE_NAME}: installed yes" in text


def test_create_and_ingest_choose_the_model_of_a_new_collection(
    docs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["kb", "create", "made", "--embedder", USE_NAME, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["embed_model"] == USE_NAME
    # Ingesting into it needs no option: the collection's own model is used.
    assert main(["ingest", str(docs), "-c", "made", "--quiet"]) == 0
    assert main(["ingest", str(docs), "-c", "new", "--embedder", USE_NAME, "--quiet"]) == 0
    assert main(["ingest", str(docs), "-c", "plain", "--quiet"]) == 0
    capsys.readouterr()
    assert _collection(tmp_path, "made") == (USE_NAME, 512)
    assert _collection(tmp_path, "new") == (USE_NAME, 512)
    assert _collection(tmp_path, "plain") == (MINILM_NAME, HashEmbedder.dim)
    # Another model for an existing collection is refused, saying how to change it.
    assert main(["ingest", str(docs), "-c", "plain", "--embedder", USE_NAME, "--quiet"]) != 0
    err = capsys.readouterr().err
    assert "glassbox kb reembed plain --embedder" in err


def test_reembed_reports_progress_on_stderr_and_switches_the_model(
    docs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ingest", str(docs), "-c", "docs", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["kb", "reembed", "docs", "--embedder", USE_NAME, "--json"]) == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert report["old_model"] == MINILM_NAME and report["new_model"] == USE_NAME
    assert report["chunks"] == 6 and report["cancelled"] is False
    assert "chunks 6/6" in captured.err
    assert _collection(tmp_path, "docs") == (USE_NAME, 512)
    # An English question now finds the Chinese passage through the vectors.
    assert main(["search", "how to enable disk quotas", "-c", "docs", "--k", "6", "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)["hits"]
    nearest = max(hits, key=lambda h: h["scores"]["vector"] or -1.0)
    assert nearest["source"].endswith("quota.txt")
    assert main(["kb", "reembed", "docs", "--embedder", USE_NAME]) == 0
    assert "already uses" in capsys.readouterr().out
