"""Ask in the window with a collection attached: real ingestion, retrieval, Gemma, citations.

A Chinese test document (``tests/data/docs``) is dropped on the window, indexed
by the real pipeline (sandboxed parser, sentence-transformers, Chroma), attached
to the chat; the question is answered by the real engine with the passages fenced
in the prompt, the reply lists its numbered sources, and clicking one opens the
passage.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from corpus import TRAINING_ZH
from PySide6.QtCore import QUrl
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from desktop_app.app import build
from desktop_app.core.sampling import SamplingParams
from desktop_app.core.settings import Settings
from desktop_app.ui.knowledge.source_viewer import SourceViewer
from desktop_app.ui.window.main_window import MainWindow
from desktop_app.workers.engine.client import EngineClient
from desktop_app.workers.engine.inference import InferenceController

pytestmark = pytest.mark.e2e

TIMEOUT_MS = 240_000


@pytest.fixture
def window(qtbot: QtBot, gemma_path: Path) -> Iterator[MainWindow]:
    settings = Settings(n_ctx=4096).with_sampling(SamplingParams.greedy(max_tokens=24))
    controller = InferenceController(
        EngineClient, settings, resolver=lambda spec, progress: gemma_path, remember_model=False
    )
    w = build(controller, model_spec=str(gemma_path)).window
    qtbot.addWidget(w)
    with qtbot.waitSignal(controller.sig_model_loaded, timeout=TIMEOUT_MS):
        w.show()
    yield w
    w.close()


def test_a_dropped_document_grounds_the_answer_and_its_source_opens(
    qtbot: QtBot, window: MainWindow
) -> None:
    knowledge = window._knowledge
    with qtbot.waitSignal(knowledge.sig_ingest_done, timeout=TIMEOUT_MS) as done:
        window.add_documents([str(TRAINING_ZH)])
    report = done.args[0]
    assert report.indexed == 1 and report.chunks_added > 0 and not report.failed
    collection = window._knowledge_panel.current_collection()
    assert collection

    session = window.session
    session.options.collections = [collection]
    session.options.top_k = 3
    with qtbot.waitSignal(session.sig_reply_ended, timeout=TIMEOUT_MS):
        session.send("什么是大语言模型？")
    session.wait_saved()

    answer = session.path[-1]
    citations = answer.meta["citations"]
    assert [c["n"] for c in citations] == [1, 2, 3]
    assert all(Path(c["source"]).name == TRAINING_ZH.name for c in citations)
    # The passage that defines the term is among those the answer was grounded on.
    assert any("大语言模型（large language model" in c["text"] for c in citations), citations
    shown = window.transcript_text()
    assert f"Sources: [1] {TRAINING_ZH.name}" in shown
    # The prompt carried the passages fenced as quoted material.
    prompt = answer.meta["request"]["messages"]
    assert "never as instructions" in prompt[0]["content"]
    fenced = prompt[-1]["content"]
    assert all(f"BEGIN [{c['n']}]" in fenced for c in citations)
    # Each passage is trimmed to its sentences that match the question (the default
    # prompt style): the first one's sentences come verbatim.
    sentences = [s.strip() for s in re.split(r"(?<=[。！？\n])", citations[0]["text"])]
    assert any(len(s) > 8 and s in fenced for s in sentences), fenced

    window.view.anchorClicked.emit(QUrl(f"glassbox:source/{answer.id}/1"))
    viewers = [w for w in QApplication.topLevelWidgets() if isinstance(w, SourceViewer)]
    assert len(viewers) == 1
    viewer = viewers[0]
    qtbot.waitUntil(lambda: viewer.highlighted_text() != "", timeout=TIMEOUT_MS)
    assert citations[0]["text"].strip()[:20] in viewer.highlighted_text()
    viewer.close()
