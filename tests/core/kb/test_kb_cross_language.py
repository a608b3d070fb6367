"""Cross-language questions: the question written in the documents' language is searched too."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from kb_fakes import ScriptedEngine

from desktop_app.core.engine.protocol import DoneEvent, Event, GenerateRequest
from desktop_app.core.errors import GlassboxError
from desktop_app.core.kb.grounding import GroundingOptions, find_passages, ground
from desktop_app.core.kb.knowledge_base import KnowledgeBase
from desktop_app.core.kb.parse_host import InProcessParser
from desktop_app.core.kb.retrieve import Hit
from desktop_app.core.kb.translate import (
    TranslationError,
    clean_phrasing,
    cross_language,
    generate_bounded,
    translate_question,
)

QUESTION = "How do I switch on disk quotas for users?"
TRANSLATED = "如何为用户启用磁盘配额"


@pytest.fixture
def chinese(kb: KnowledgeBase, tmp_path: Path) -> KnowledgeBase:
    docs = tmp_path / "docs"
    docs.mkdir()
    topics = ["软件包管理", "网络配置", "系统启动", "备份与恢复", "虚拟化"]
    for i, topic in enumerate(topics):
        (docs / f"zh{i}.txt").write_text(f"本章介绍{topic}的基本概念和常用命令。", "utf-8")
    (docs / "quota.txt").write_text(
        "要为用户启用磁盘配额，在 /etc/fstab 中为分区加入 usrquota 选项。", "utf-8"
    )
    (docs / "en.txt").write_text("The desktop menu lists the installed games.", "utf-8")
    kb.ingest([docs], "c", InProcessParser())
    return kb


class Recorder:
    """A translator function: the seam ``ground`` takes, here with a fixed reply."""

    def __init__(self, reply: str | Exception) -> None:
        self.reply = reply
        self.calls: list[tuple[str, str]] = []

    def __call__(self, question: str, lang: str) -> str:
        self.calls.append((question, lang))
        if isinstance(self.reply, Exception):
            raise self.reply
        return self.reply


def _top(hits: list[Hit]) -> str:
    return Path(hits[0].chunk.path).name if hits else ""


def test_an_english_question_on_chinese_documents_also_searches_its_translation(
    chinese: KnowledgeBase,
) -> None:
    options = GroundingOptions(collections=("c",), k=3)
    plain = find_passages(chinese, QUESTION, options)
    assert _top(plain) != "quota.txt"  # the English words match no Chinese passage
    translator = Recorder(TRANSLATED)
    grounded = ground(chinese, None, QUESTION, options, translator=translator)
    assert translator.calls == [(QUESTION, "zh")]
    assert grounded.cross.target == "zh" and grounded.cross.phrasing == TRANSLATED
    assert grounded.phrasings == [TRANSLATED]
    assert _top(grounded.hits) == "quota.txt"
    assert "also searched in Chinese" in grounded.cross.note


def test_a_failing_model_leaves_the_original_question_and_says_so(chinese: KnowledgeBase) -> None:
    options = GroundingOptions(collections=("c",), k=3)
    plain = find_passages(chinese, QUESTION, options)
    failing = Recorder(GlassboxError("the engine stopped"))
    grounded = ground(chinese, None, QUESTION, options, translator=failing)
    assert [h.chunk.chunk_id for h in grounded.hits] == [h.chunk.chunk_id for h in plain]
    assert grounded.cross.phrasing is None and grounded.phrasings == []
    assert "the engine stopped" in grounded.cross.note
    assert "searched with the original question" in grounded.cross.note


def test_no_translation_when_switched_off_or_in_the_documents_language(
    chinese: KnowledgeBase,
) -> None:
    translator = Recorder(TRANSLATED)
    off = GroundingOptions(collections=("c",), k=3, translate=False)
    grounded = ground(chinese, None, QUESTION, off, translator=translator)
    assert translator.calls == [] and "switched off" in grounded.cross.note
    same = ground(chinese, None, "磁盘配额", GroundingOptions(("c",), k=3), translator=translator)
    assert translator.calls == [] and same.cross.target is None and same.cross.note == ""
    # No model at all: the search goes on, and the note says why nothing was translated.
    alone = ground(chinese, None, QUESTION, GroundingOptions(("c",), k=3))
    assert alone.hits and "no model is loaded" in alone.cross.note


def test_the_model_is_asked_for_a_short_greedy_translation_on_one_line() -> None:
    engine = ScriptedEngine("Translation: ", "“如何启用", "磁盘配额”\n", "Note: kept usrquota.")
    assert translate_question(engine, QUESTION, "zh", chat_template=False) == "如何启用磁盘配额"
    request = engine.requests[0]
    assert request.params.temperature == 0.0 and request.params.max_tokens <= 64
    assert "Simplified Chinese" in (request.prompt or "") and QUESTION in (request.prompt or "")
    with pytest.raises(TranslationError):
        translate_question(ScriptedEngine(QUESTION), QUESTION, "zh")  # the question back
    assert clean_phrasing("\n\n", QUESTION) == ""


class StuckEngine:
    """Never answers until cancelled, as a model stuck in a long prompt would."""

    def __init__(self) -> None:
        self.cancelled = threading.Event()

    def cancel(self) -> None:
        self.cancelled.set()

    def generate(self, request: GenerateRequest) -> Iterator[Event]:
        self.cancelled.wait(30)
        yield DoneEvent("cancelled", 0, 0, 0.0, 0.0, 0)


def test_a_slow_model_is_cancelled_and_the_step_reports_it() -> None:
    engine = StuckEngine()
    with pytest.raises(TranslationError, match="longer than"):
        generate_bounded(engine, GenerateRequest(prompt="q"), 0.05)
    assert engine.cancelled.is_set()

    def slow(question: str, lang: str) -> str:
        return generate_bounded(StuckEngine(), GenerateRequest(prompt=question), 0.05)

    step = cross_language(QUESTION, {"zh": 5}, slow)
    assert step.phrasing is None and "longer than" in step.note
