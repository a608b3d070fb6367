"""The knowledge controller's part of the embedding choice: a new collection's model,
changing a collection's model in the background (reported, cancellable, its
failures said in sentences), and the speeds the window estimates from.

Real store, Chroma and worker thread; collections start on a hash embedder recorded
as MiniLM, and the model changed to is the real USE multilingual (small, numpy).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from kb_fakes import HashEmbedder
from pytestqt.qtbot import QtBot

from desktop_app.core.kb.embed import GEMMA_NAME, MINILM_NAME, USE_NAME
from desktop_app.core.kb.ingest import IngestControl
from desktop_app.core.kb.knowledge_base import CollectionStats, KnowledgeBase
from desktop_app.core.kb.parse_host import ChunkConfig, InProcessParser
from desktop_app.core.kb.reembed import ReembedProgress, ReembedReport
from desktop_app.workers.kb.controller import KnowledgeController

TIMEOUT_MS = 60000


class DiskFullKnowledgeBase(KnowledgeBase):
    """A store whose disk fills up while a collection is embedded again."""

    def reembed(
        self,
        name: str,
        new_model: str,
        *,
        progress: Callable[[ReembedProgress], None] | None = None,
        control: IngestControl | None = None,
    ) -> ReembedReport:
        raise sqlite3.OperationalError("database or disk is full")


def make_controller(kb_class: type[KnowledgeBase] = KnowledgeBase) -> KnowledgeController:
    return KnowledgeController(
        lambda: kb_class(embedder=HashEmbedder()),
        lambda kb: InProcessParser(config=ChunkConfig(max_tokens=40, overlap_tokens=0)),
    )


@pytest.fixture
def controller() -> Iterator[KnowledgeController]:
    c = make_controller()
    yield c
    assert c.shutdown(30)


def listed(
    qtbot: QtBot,
    controller: KnowledgeController,
    until: Callable[[dict[str, CollectionStats]], bool] = lambda _: True,
) -> dict[str, CollectionStats]:
    """The collections as the controller lists them, once ``until`` holds (the jobs
    already queued answer first: a listing is quick and may pass them)."""
    seen: list[dict[str, CollectionStats]] = []

    def note(summaries: list[CollectionStats]) -> None:
        seen.append({s.name: s for s in summaries})

    controller.sig_collections.connect(note)
    try:
        controller.refresh()
        qtbot.waitUntil(lambda: bool(seen) and until(seen[-1]), timeout=TIMEOUT_MS)
    finally:
        controller.sig_collections.disconnect(note)
    return seen[-1]


def ingest_notes(qtbot: QtBot, controller: KnowledgeController, folder: Path, n: int) -> None:
    folder.mkdir()
    (folder / "notes.txt").write_text(
        "\n\n".join(
            f"Note {i}: the alpaca number {i} grazes in valley {i % 7} of the Andes "
            f"mountains, far from the town, with the herd of farm {i % 11} all year."
            for i in range(n)
        ),
        encoding="utf-8",
    )
    with qtbot.waitSignal(controller.sig_ingest_done, timeout=TIMEOUT_MS) as done:
        controller.ingest([str(folder)], "notes")
    assert done.args[0].indexed == 1


def test_a_new_collection_gets_the_model_asked_for(
    qtbot: QtBot, controller: KnowledgeController, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    controller.create_collection("plain")
    controller.create_collection("multilingual", embed_model=USE_NAME)
    collections = listed(qtbot, controller, lambda c: len(c) == 2)
    assert collections["plain"].embed_model == MINILM_NAME
    assert collections["multilingual"].embed_model == USE_NAME

    # A model that is not installed: said, and no collection is made.
    empty = tmp_path / "no-gemma"
    empty.mkdir()
    monkeypatch.setenv("GLASSBOX_EMBEDDING_GEMMA_DIR", str(empty))
    with qtbot.waitSignal(controller.sig_error, timeout=TIMEOUT_MS) as caught:
        controller.create_collection("large", embed_model=GEMMA_NAME)
    kind, message = caught.args
    assert kind == "kb_embedding_model"
    assert "EmbeddingGemma is not installed" in message and "make embedding-gemma" in message
    assert "large" not in listed(qtbot, controller)


def test_a_change_of_model_runs_in_the_background_and_measures_the_speed(
    qtbot: QtBot, controller: KnowledgeController, tmp_path: Path
) -> None:
    ingest_notes(qtbot, controller, tmp_path / "docs", 150)
    chunks = listed(qtbot, controller)["notes"].chunks
    assert chunks >= 150
    # The ingestion measured the collection's model (parsing included).
    ingest_rate = controller.measured_rate(MINILM_NAME)
    assert ingest_rate is not None and ingest_rate > 0
    assert controller.measured_rate(USE_NAME) is None

    progress: list[ReembedProgress] = []
    controller.sig_reembed_progress.connect(progress.append)
    with qtbot.waitSignal(controller.sig_reembed_done, timeout=TIMEOUT_MS) as done:
        controller.change_embedding("notes", USE_NAME)
        assert controller.reembedding == "notes" and controller.ingesting
    report = done.args[0]
    assert isinstance(report, ReembedReport)
    assert (report.old_model, report.new_model, report.chunks) == (MINILM_NAME, USE_NAME, chunks)
    assert not report.cancelled and report.dim == 512
    assert progress and progress[-1].done == chunks and progress[-1].total == chunks
    assert controller.reembedding is None and not controller.ingesting
    assert listed(qtbot, controller)["notes"].embed_model == USE_NAME
    rate = controller.measured_rate(USE_NAME)
    assert rate is not None and rate == pytest.approx(chunks / report.seconds)


def test_a_change_cancelled_before_it_starts_leaves_the_collection_alone(
    qtbot: QtBot, controller: KnowledgeController, tmp_path: Path
) -> None:
    ingest_notes(qtbot, controller, tmp_path / "docs", 5)
    controller.pause()  # nothing runs: the change waits at its first checkpoint
    with qtbot.waitSignal(controller.sig_reembed_done, timeout=TIMEOUT_MS) as done:
        controller.change_embedding("notes", USE_NAME)
        controller.cancel()
    report = done.args[0]
    assert report.cancelled and report.chunks == 0
    assert controller.reembedding is None
    assert listed(qtbot, controller)["notes"].embed_model == MINILM_NAME


def test_a_full_disk_is_said_in_a_sentence(qtbot: QtBot, tmp_path: Path) -> None:
    controller = make_controller(DiskFullKnowledgeBase)
    try:
        ingest_notes(qtbot, controller, tmp_path / "docs", 3)
        with qtbot.waitSignal(controller.sig_error, timeout=TIMEOUT_MS) as caught:
            controller.change_embedding("notes", USE_NAME)
        kind, message = caught.args
        assert kind == "kb_error"
        assert message == (
            f"The disk is full: the collection 'notes' could not be embedded again with "
            f"{USE_NAME}. It still uses its old model; free some space and try again."
        )
        assert controller.reembedding is None and not controller.ingesting
    finally:
        assert controller.shutdown(30)
