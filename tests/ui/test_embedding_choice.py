"""Choosing a collection's embedding model in the window: the new collection dialog's
choice, and changing a collection's model (a re-index with progress and Cancel).

The store, Chroma and the controller's thread are real. Collections start on a hash
embedder recorded as MiniLM (quick); the model chosen in the window is the real USE
multilingual, small enough (33 MB, numpy) to load in a test.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from kb_fakes import HashEmbedder
from PySide6.QtCore import Qt
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import QLabel, QPushButton, QTableWidget, QWidget
from pytestqt.qtbot import QtBot

from desktop_app.core.kb.embed import (
    COMBINED_NAME,
    E5_NAME,
    GEMMA_NAME,
    MINILM_NAME,
    USE_NAME,
    e5_cpu_problem,
    embedder_choices,
)
from desktop_app.core.kb.knowledge_base import CollectionStats, KnowledgeBase
from desktop_app.core.kb.parse_host import ChunkConfig, InProcessParser
from desktop_app.core.kb.reembed import ReembedProgress, ReembedReport
from desktop_app.ui.knowledge.collection_dialog import CollectionDialog
from desktop_app.ui.knowledge.embedders import ChangeEmbeddingDialog
from desktop_app.ui.knowledge.panel import KnowledgePanel
from desktop_app.workers.kb.controller import KnowledgeController

TIMEOUT_MS = 60000


@pytest.fixture
def no_gemma(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """EmbeddingGemma is not installed (its folder is empty), whatever this machine has."""
    empty = tmp_path / "no-gemma"
    empty.mkdir()
    monkeypatch.setenv("GLASSBOX_EMBEDDING_GEMMA_DIR", str(empty))


@pytest.fixture
def controller() -> Iterator[KnowledgeController]:
    c = KnowledgeController(
        lambda: KnowledgeBase(embedder=HashEmbedder()),
        # Small chunks: one passage a paragraph, many passages from few files.
        lambda kb: InProcessParser(config=ChunkConfig(max_tokens=40, overlap_tokens=0)),
    )
    yield c
    assert c.shutdown(30)


@pytest.fixture
def panel(qtbot: QtBot, controller: KnowledgeController) -> KnowledgePanel:
    p = KnowledgePanel(controller)
    qtbot.addWidget(p)
    p.resize(520, 1100)
    with qtbot.waitSignal(controller.sig_collections, timeout=TIMEOUT_MS):
        p.show()
    return p


def named(parent: QWidget, kind: type[QWidget], accessible: str) -> QWidget:
    found = [w for w in parent.findChildren(kind) if w.accessibleName() == accessible]
    assert len(found) == 1, (accessible, found)
    return found[0]


def text_of(parent: QWidget, accessible: str) -> str:
    label = named(parent, QLabel, accessible)
    assert isinstance(label, QLabel)
    return label.text()


def button(parent: QWidget, accessible: str) -> QPushButton:
    widget = named(parent, QPushButton, accessible)
    assert isinstance(widget, QPushButton)
    return widget


def first_hit_file(table: QTableWidget) -> str:
    item = table.item(0, 1)
    assert item is not None
    return item.text()


def summary(panel: KnowledgePanel, name: str) -> CollectionStats:
    return panel._summaries[name]


def ingest_many(
    qtbot: QtBot, panel: KnowledgePanel, controller: KnowledgeController, folder: Path, n: int
) -> int:
    """``n`` paragraphs in a few files (one passage each with the fixture's small
    chunks: several embedding batches) and one about wool; returns the passages."""
    folder.mkdir()
    for f in range(4):
        (folder / f"notes{f}.txt").write_text(
            "\n\n".join(
                f"Note {i}: the alpaca number {i} grazes in valley {i % 7} of the Andes "
                f"mountains, far from the town, with the herd of farm {i % 11} all year."
                for i in range(f, n, 4)
            ),
            encoding="utf-8",
        )
    (folder / "wool.txt").write_text("Alpacas are kept for their soft wool.\n", encoding="utf-8")
    with qtbot.waitSignal(
        controller.sig_busy, check_params_cb=lambda busy: not busy, timeout=TIMEOUT_MS
    ):
        panel.add_paths([str(folder)], "notes")
    qtbot.waitUntil(lambda: summary(panel, "notes").documents == 5, timeout=TIMEOUT_MS)
    chunks = summary(panel, "notes").chunks
    assert chunks > n  # one passage a paragraph at least
    return chunks


def test_the_new_collection_dialog_offers_the_catalog_and_greys_out_what_is_missing(
    qtbot: QtBot, no_gemma: None
) -> None:
    dialog = CollectionDialog("New collection", embedders=embedder_choices())
    qtbot.addWidget(dialog)
    assert dialog.picker is not None
    combo = dialog.picker.combo
    model = combo.model()
    assert isinstance(model, QStandardItemModel)
    names = [model.item(i).data(Qt.ItemDataRole.UserRole) for i in range(model.rowCount())]
    assert names == [COMBINED_NAME, MINILM_NAME, USE_NAME, E5_NAME, GEMMA_NAME]
    # The default is chosen to start with, and described under the menu.
    assert combo.currentIndex() == 0 and dialog.picker.chosen() == COMBINED_NAME
    assert text_of(dialog, "Embedding model description").startswith(
        "Reads: English best; Chinese and 14 other languages."
    )
    assert model.item(1).text() == "MiniLM (English, fast)"
    use = model.item(2)
    assert use.isEnabled() and use.text() == "USE multilingual (small)"
    assert "Chinese" in use.toolTip()
    e5 = model.item(3)
    assert e5.text() == "E5 small (multilingual, Chinese best)"
    assert e5.isEnabled() == (e5_cpu_problem() is None)  # x86-64 needs AVX2 and FMA
    gemma = model.item(4)
    assert not gemma.isEnabled()
    assert gemma.text() == "EmbeddingGemma (multilingual, large) (not installed)"
    assert "make embedding-gemma" in gemma.toolTip()
    note = text_of(dialog, "Embedding models not installed")
    assert note.startswith("EmbeddingGemma (multilingual, large) is not installed.")
    assert "`make embedding-gemma`" in note
    # Even set by hand, a model that is not installed is refused with a sentence.
    dialog.name_edit.setText("papers")
    combo.setCurrentIndex(4)
    assert "\nNot installed. Install it with `make embedding-gemma`" in text_of(
        dialog, "Embedding model description"
    )
    dialog.accept()
    assert dialog.result_value() is None
    assert dialog.error_label.text().startswith("Choose an installed embedding model.")
    combo.setCurrentIndex(2)
    dialog.accept()
    assert dialog.result_value() == ("papers", None) and dialog.embed_model() == USE_NAME


def test_the_location_dialog_does_not_ask_for_a_model(qtbot: QtBot) -> None:
    dialog = CollectionDialog("Collection location", "notes")
    qtbot.addWidget(dialog)
    assert dialog.picker is None
    dialog.accept()
    assert dialog.result_value() == ("notes", None) and dialog.embed_model() is None


def test_a_new_collection_records_the_model_chosen_in_the_dialog(
    qtbot: QtBot,
    panel: KnowledgePanel,
    controller: KnowledgeController,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shown: list[CollectionDialog] = []

    def choose_use(dialog: CollectionDialog) -> int:
        shown.append(dialog)
        assert dialog.picker is not None
        dialog.name_edit.setText("中文资料")
        dialog.picker.combo.setCurrentIndex(2)
        dialog.accept()
        return 1

    monkeypatch.setattr(CollectionDialog, "exec", choose_use)
    with qtbot.waitSignal(
        controller.sig_collections,
        check_params_cb=lambda s: any(c.name == "中文资料" for c in s),
        timeout=TIMEOUT_MS,
    ):
        button(panel, "New collection").click()
    assert len(shown) == 1
    made = summary(panel, "中文资料")
    assert made.embed_model == USE_NAME
    qtbot.waitUntil(lambda: panel.current_collection() == "中文资料")
    assert text_of(panel, "Collection embedding model") == (
        "Embedding model: USE multilingual (small)"
    )
    listing = panel._collection_list
    tips = {
        listing.item(i).data(Qt.ItemDataRole.UserRole): listing.item(i).toolTip()
        for i in range(listing.count())
    }
    assert tips["中文资料"].startswith("USE multilingual (small) · ")
    # Files added to it are embedded by its model, and searched with it.
    doc = tmp_path / "羊驼.txt"
    doc.write_text("羊驼生活在安第斯山脉，人们饲养它们是为了柔软的羊毛。\n", encoding="utf-8")
    with qtbot.waitSignal(
        controller.sig_busy, check_params_cb=lambda busy: not busy, timeout=TIMEOUT_MS
    ):
        panel.add_paths([str(doc)], "中文资料")
    assert summary(panel, "中文资料").embed_model == USE_NAME
    assert summary(panel, "中文资料").chunks == 1
    handle = panel.run_query("alpaca wool")  # English: only the multilingual vectors match
    assert handle is not None
    qtbot.waitUntil(lambda: handle.finished, timeout=TIMEOUT_MS)
    assert panel._hits and panel._hits[0].chunk.path.endswith("羊驼.txt")
    assert panel._hits[0].vector is not None and panel._hits[0].vector > 0


def test_changing_the_model_reindexes_with_progress_answers_searches_and_cancels(
    qtbot: QtBot,
    panel: KnowledgePanel,
    controller: KnowledgeController,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    total = ingest_many(qtbot, panel, controller, tmp_path / "notes", 300)
    assert summary(panel, "notes").embed_model == MINILM_NAME
    assert text_of(panel, "Collection embedding model") == (
        "Embedding model: MiniLM (English, fast)"
    )
    change = button(panel, "Change embedding model")
    assert change.isEnabled()

    dialogs: list[ChangeEmbeddingDialog] = []

    def choose_use(dialog: ChangeEmbeddingDialog) -> int:
        dialogs.append(dialog)
        combo = dialog.picker.combo
        names = [combo.itemData(i) for i in range(combo.count())]
        assert MINILM_NAME not in names  # the model it has is not offered
        combo.setCurrentIndex(names.index(USE_NAME))
        dialog.accept()
        return 1

    monkeypatch.setattr(ChangeEmbeddingDialog, "exec", choose_use)
    # Held at its first progress: the bar and the line say how far it got.
    progress: list[ReembedProgress] = []
    held = threading.Event()

    def hold(p: ReembedProgress) -> None:
        progress.append(p)
        if not held.is_set():
            held.set()
            controller.pause()

    controller.sig_reembed_progress.connect(hold)
    change.click()
    intro = text_of(dialogs[0], "About changing the embedding model")
    assert "“notes” is embedded with MiniLM (English, fast)." in intro
    estimate = text_of(dialogs[0], "Re-indexing time estimate")
    assert estimate.startswith(f"{total:,} passages will be embedded again.")
    assert "not been measured" in estimate
    assert not change.isEnabled()  # one change at a time
    qtbot.waitUntil(held.is_set, timeout=TIMEOUT_MS)
    controller.sig_reembed_progress.disconnect(hold)
    first = progress[0]
    assert first.total == total and 0 < first.done < first.total
    bar = panel._progress_bar
    qtbot.waitUntil(lambda: bar.value() > 0, timeout=TIMEOUT_MS)
    assert bar.maximum() == total and bar.value() < total
    status = text_of(panel, "Indexing status")
    assert status.startswith("Embedding “notes” again with USE multilingual (small): ")
    assert f"/{total:,} passages" in status and "chunks/s" in status
    cancel = button(panel, "Cancel indexing")
    assert cancel.isEnabled()
    assert cancel.toolTip() == "Stop; the collection keeps its current model and vectors"

    # Paused midway: searches are still answered, on the old vectors.
    handle = panel.run_query("soft wool")
    assert handle is not None
    qtbot.waitUntil(lambda: handle.finished, timeout=TIMEOUT_MS)
    table = named(panel, QTableWidget, "Test query hits")
    assert isinstance(table, QTableWidget)
    assert first_hit_file(table) == "wool.txt"
    assert controller.reembedding == "notes"

    cancelled: list[ReembedReport] = []
    controller.sig_reembed_done.connect(cancelled.append)
    cancel.click()
    qtbot.waitUntil(lambda: bool(cancelled), timeout=TIMEOUT_MS)
    assert cancelled[0].cancelled
    assert text_of(panel, "Indexing status") == (
        "Cancelled: “notes” still uses MiniLM (English, fast) and its vectors are unchanged. "
        "Change the model again to start over."
    )
    qtbot.waitUntil(lambda: controller.reembedding is None)
    assert summary(panel, "notes").embed_model == MINILM_NAME
    assert change.isEnabled() and not cancel.isEnabled()
    assert cancel.toolTip().startswith("Stop; what was indexed stays")

    # Again, to the end: the speed measured the first time gives the estimate.
    rate = controller.measured_rate(USE_NAME)
    assert rate is not None and rate > 0
    with qtbot.waitSignal(controller.sig_reembed_done, timeout=TIMEOUT_MS) as done:
        change.click()
    estimate = text_of(dialogs[1], "Re-indexing time estimate")
    assert estimate.startswith(f"{total:,} passages will be embedded again: about ")
    assert f"at the {rate:.0f} chunks/s measured here." in estimate
    report = done.args[0]
    assert not report.cancelled and report.chunks == total and report.new_model == USE_NAME
    assert text_of(panel, "Indexing status").startswith(
        f"Done: “notes” now uses USE multilingual (small); {total:,} passages embedded again in "
    )
    qtbot.waitUntil(lambda: summary(panel, "notes").embed_model == USE_NAME, timeout=TIMEOUT_MS)
    qtbot.waitUntil(
        lambda: (
            text_of(panel, "Collection embedding model")
            == "Embedding model: USE multilingual (small)"
        )
    )
    assert bar.value() == bar.maximum()
    after = panel.run_query("soft wool")
    assert after is not None
    qtbot.waitUntil(lambda: after.finished, timeout=TIMEOUT_MS)
    assert first_hit_file(table) == "wool.txt"


def test_a_model_that_went_missing_is_said_and_the_collection_keeps_its_own(
    qtbot: QtBot,
    panel: KnowledgePanel,
    controller: KnowledgeController,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    no_gemma: None,
) -> None:
    ingest_many(qtbot, panel, controller, tmp_path / "notes", 3)
    # Listed when the dialog opened, removed since: the controller is asked for it.
    monkeypatch.setattr(panel, "_ask_new_model", lambda name: GEMMA_NAME)
    with qtbot.waitSignal(controller.sig_error, timeout=TIMEOUT_MS) as caught:
        button(panel, "Change embedding model").click()
    kind, message = caught.args
    assert kind == "kb_embedding_model" and "make embedding-gemma" in message
    error = panel._error_label.text()
    assert error.startswith("The embedding model could not be loaded.\n")
    assert text_of(panel, "Indexing status") == (
        "“notes” was not embedded again with EmbeddingGemma (multilingual, large): it still "
        "uses MiniLM (English, fast). The reason is shown above."
    )
    assert summary(panel, "notes").embed_model == MINILM_NAME
    assert button(panel, "Change embedding model").isEnabled()
