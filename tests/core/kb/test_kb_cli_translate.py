"""`glassbox search`: a question in another language than the documents' is also searched
as the model writes it in theirs; --no-translate switches that off, and a model that
cannot be loaded leaves the question alone, said by --explain."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from kb_fakes import HashEmbedder, engine_loader

from desktop_app.cli import crosslang, main
from desktop_app.cli import kb as cli_kb
from desktop_app.core.engine.protocol import DoneEvent, Event, GenerateRequest, TokenEvent
from desktop_app.core.errors import ModelInstallError
from desktop_app.core.kb.knowledge_base import KnowledgeBase
from desktop_app.core.kb.parse_host import InProcessParser

QUESTION = "How do I switch on disk quotas for users?"


class Translating:
    """A model that writes one fixed translation."""

    def __init__(self) -> None:
        self.requests: list[GenerateRequest] = []

    def generate(self, request: GenerateRequest) -> Iterator[Event]:
        self.requests.append(request)
        yield TokenEvent(0, 0, "如何为用户启用磁盘配额", 1.0, ())
        yield DoneEvent("eos", 10, 1, 0.0, 1.0, 0)


@pytest.fixture
def chinese(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setattr(cli_kb, "_open", lambda _args: KnowledgeBase(embedder=HashEmbedder()))
    docs = tmp_path / "docs"
    docs.mkdir()
    for i, topic in enumerate(["软件包管理", "网络配置", "系统启动", "备份与恢复"]):
        (docs / f"zh{i}.txt").write_text(f"本章介绍{topic}的基本概念和常用命令。", "utf-8")
    (docs / "quota.txt").write_text(
        "要为用户启用磁盘配额，在 fstab 中加入 usrquota 选项。", "utf-8"
    )
    with KnowledgeBase(embedder=HashEmbedder()) as kb:
        kb.ingest([docs], "c", InProcessParser())
    loads: list[str] = []
    return loads


def test_search_fuses_the_translated_question(
    chinese: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    model = Translating()
    monkeypatch.setattr(crosslang, "load_engine", engine_loader(chinese, model))
    assert main(["search", QUESTION, "-c", "c", "--json", "--k", "2"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["translation"]["target"] == "zh"
    assert payload["translation"]["phrasing"] == "如何为用户启用磁盘配额"
    assert Path(payload["hits"][0]["source"]).name == "quota.txt"
    assert model.requests[0].params.temperature == 0.0
    # --explain shows the phrasing searched, and its hits are the fused ones.
    assert main(["search", QUESTION, "-c", "c", "--explain", "--k", "2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("translation: also searched in Chinese: 如何为用户启用磁盘配额")
    assert "quota.txt" in out.split("\n[1] ", 1)[1].split("\n", 1)[0]


def test_no_translate_switches_it_off_and_loads_no_model(
    chinese: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(crosslang, "load_engine", engine_loader(chinese, Translating()))
    assert main(["search", QUESTION, "-c", "c", "--explain", "--no-translate"]) == 0
    out = capsys.readouterr().out
    assert chinese == []
    assert out.startswith("translation: not written in Chinese: translation is switched off.")
    # A question in the documents' language needs no model either.
    assert main(["search", "磁盘配额", "-c", "c", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["translation"]["target"] is None
    assert chinese == []


def test_a_model_that_cannot_be_loaded_leaves_the_question_and_explain_says_so(
    chinese: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = ModelInstallError("the default model is not installed.")
    monkeypatch.setattr(crosslang, "load_engine", engine_loader(chinese, missing))
    assert main(["search", QUESTION, "-c", "c", "--explain"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(
        "translation: not written in Chinese: the model could not be loaded (the default "
        "model is not installed); searched with the original question."
    )
    assert main(["search", QUESTION, "-c", "c"]) == 0
    captured = capsys.readouterr()
    assert "searched with the original question" in captured.err
    assert captured.out.startswith("[1] ")
