"""The Knowledge dock on a real store with a hash embedder (no model): quick and exact.

The store, Chroma and the controller's thread are real; only the embedding model
is a hash of words and files are parsed in this process, so each test takes a
fraction of a second. The real model and the sandboxed parser are in
``tests/e2e/test_kb_window.py``.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from callbacks import Calls
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QCheckBox,
    QFileDialog,
    QGroupBox,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QWidget,
)
from pytestqt.qtbot import QtBot

from desktop_app.core.kb.db import StoredChunk
from desktop_app.core.kb.ingest import IngestProgress, IngestReport
from desktop_app.core.kb.knowledge_base import KnowledgeBase
from desktop_app.core.kb.parse_host import (
    ChunkConfig,
    InProcessParser,
    PageCallback,
    ParseOutcome,
)
from desktop_app.core.kb.sources import stitch_chunks
from desktop_app.ui.knowledge.collection_dialog import CollectionDialog
from desktop_app.ui.knowledge.panel import KnowledgePanel
from desktop_app.ui.knowledge.source_viewer import SourceViewer
from desktop_app.ui.knowledge.texts import DEFAULT_COLLECTION, format_duration, progress_text
from desktop_app.workers.kb.controller import KnowledgeController

TIMEOUT_MS = 15000
#: Seconds between the folder watcher's scans: short, so a change is synced at once.
WATCH_INTERVAL_S = 0.2


class HashEmbedder:
    """A vector from word hashes: retrieval mechanics without a model."""

    name = "all-MiniLM-L6-v2"
    dim = 32

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.split() or [text]:
                out[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dim] += 1.0
            out[row] /= max(float(np.linalg.norm(out[row])), 1e-6)
        return out


class GatedParser(InProcessParser):
    """Parses only once the gate is open, so a test can act before the first file is done."""

    def __init__(self, gate: threading.Event, config: ChunkConfig) -> None:
        super().__init__(config=config)
        self.gate = gate

    def parse_many(
        self, paths: Sequence[Path], on_page: PageCallback | None = None
    ) -> Iterator[ParseOutcome]:
        for path, outcome in super().parse_many(paths, on_page):
            self.gate.wait(TIMEOUT_MS / 1000)
            yield path, outcome


def query(qtbot: QtBot, panel: KnowledgePanel, text: str) -> None:
    """Run a test query and wait until its hits are shown."""
    handle = panel.run_query(text)
    assert handle is not None
    qtbot.waitUntil(lambda: handle.finished, timeout=TIMEOUT_MS)


@pytest.fixture
def gate() -> threading.Event:
    opened = threading.Event()
    opened.set()
    return opened


@pytest.fixture
def controller(gate: threading.Event) -> Iterator[KnowledgeController]:
    c = KnowledgeController(
        lambda: KnowledgeBase(embedder=HashEmbedder()),
        lambda kb: GatedParser(gate, kb.chunk_config()),
        watch_interval_s=WATCH_INTERVAL_S,
    )
    yield c
    gate.set()
    assert c.shutdown()


@pytest.fixture
def panel(qtbot: QtBot, controller: KnowledgeController) -> KnowledgePanel:
    p = KnowledgePanel(controller)
    qtbot.addWidget(p)
    p.resize(520, 1100)
    return p


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "alpaca.txt").write_text(
        "Alpacas live in the Andes.\n\nThey are kept for their soft wool.\n", encoding="utf-8"
    )
    (folder / "notes.md").write_text(
        "# Knowledge distillation\n\nA small student model learns from a large teacher.\n\n"
        + "\n\n".join(f"Filler paragraph number {i} about nothing." for i in range(40))
        + "\n\n## Deep\n\nThe deep passage about quantization sits far down.\n",
        encoding="utf-8",
    )
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 not really" + bytes(range(256)) * 4)
    return folder


def named(panel: QWidget, kind: type[QWidget], accessible: str) -> QWidget:
    found = [w for w in panel.findChildren(kind) if w.accessibleName() == accessible]
    assert len(found) == 1, (accessible, found)
    return found[0]


def button(panel: QWidget, accessible: str) -> QPushButton:
    widget = named(panel, QPushButton, accessible)
    assert isinstance(widget, QPushButton)
    return widget


def table_rows(table: QTableWidget) -> list[list[str]]:
    return [
        [table.item(r, c).text() for c in range(table.columnCount())]
        for r in range(table.rowCount())
    ]


def ingest(
    qtbot: QtBot, panel: KnowledgePanel, controller: KnowledgeController, paths: list[str]
) -> IngestReport:
    """Index through the panel; returns the report once the lists are refreshed too."""
    reports: list[IngestReport] = []
    controller.sig_ingest_done.connect(reports.append)
    with qtbot.waitSignal(
        controller.sig_busy, check_params_cb=lambda busy: not busy, timeout=TIMEOUT_MS
    ):
        panel.add_paths(paths)
    controller.sig_ingest_done.disconnect(reports.append)
    assert len(reports) == 1
    return reports[0]


def test_progress_text_says_files_chunks_rate_and_time_left() -> None:
    p = IngestProgress(3, 10, 412, 500, 35.2, 20.4, "/a.txt", 0, 0)
    assert progress_text(p) == "files 3/10 · 412 chunks · 35 chunks/s · 20 s left"
    paused = IngestProgress(3, 10, 1412, 1500, 35.2, 200.0, None, 1, 2, paused=True)
    assert progress_text(paused) == (
        "files 3/10 · 1,412 chunks · 35 chunks/s · paused · 1 failed · 2 unchanged"
    )
    assert progress_text(IngestProgress(0, 4, 0, 0, 0.0, None, None, 0, 0)) == (
        "files 0/4 · 0 chunks · 0 chunks/s"
    )
    assert [format_duration(s) for s in (0.4, 59, 185, 3720)] == [
        "0 s",
        "59 s",
        "3 min 5 s",
        "1 h 2 min",
    ]


def test_every_widget_has_an_accessible_name(panel: KnowledgePanel) -> None:
    kinds = (
        QLabel,
        QPushButton,
        QLineEdit,
        QAbstractSpinBox,
        QGroupBox,
        QTableWidget,
        QListWidget,
        QProgressBar,
        QCheckBox,
    )
    unnamed = [
        f"{type(w).__name__} {getattr(w, 'text', lambda: '')()!r}"
        for w in panel.findChildren(QWidget)
        if isinstance(w, kinds)
        and not isinstance(w.parent(), QAbstractSpinBox)
        and not w.accessibleName()
    ]
    assert unnamed == []
    assert panel.accessibleName() == "Knowledge panel"
    assert panel.windowTitle() == "Knowledge"


def test_buttons_wait_for_something_to_act_on(panel: KnowledgePanel) -> None:
    for name in (
        "Pause indexing",
        "Cancel indexing",
        "Rename collection",
        "Delete collection",
        "Change embedding model",
        "Re-index documents",
        "Remove documents",
        "Run test query",
        "Stop watching folder",
        "Sync watched folders",
    ):
        assert not button(panel, name).isEnabled(), name
    for name in ("New collection", "Add files", "Add folder", "Watch folder"):
        assert button(panel, name).isEnabled(), name


def test_the_store_opens_off_the_gui_thread_when_the_panel_is_shown(
    qtbot: QtBot, panel: KnowledgePanel, controller: KnowledgeController
) -> None:
    assert controller.worker_thread is None  # building the panel touches nothing
    with qtbot.waitSignals([controller.sig_ready, controller.sig_collections], timeout=TIMEOUT_MS):
        panel.show()
    assert controller.ready and panel.selected_collections() == []


def test_dropped_files_are_indexed_failures_keep_their_reason(
    qtbot: QtBot, panel: KnowledgePanel, controller: KnowledgeController, docs: Path
) -> None:
    report = ingest(qtbot, panel, controller, [str(docs)])
    assert report.collection == DEFAULT_COLLECTION and report.indexed == 2
    assert [Path(p).name for p, _ in report.failed] == ["broken.pdf"]
    assert panel.selected_collections() == [DEFAULT_COLLECTION]

    rows = {r[0]: r for r in table_rows(named(panel, QTableWidget, "Document table"))}
    assert set(rows) == {"alpaca.txt", "notes.md", "broken.pdf"}
    assert rows["alpaca.txt"][1:3] == ["txt", "indexed"]
    assert int(rows["notes.md"][3]) >= 2
    assert rows["broken.pdf"][2].startswith("failed: ") and len(rows["broken.pdf"][2]) > 12
    assert rows["broken.pdf"][3] == "0"

    status = named(panel, QLabel, "Indexing status").text()
    assert status.startswith("Done: 2 indexed") and "1 failed" in status
    qtbot.waitUntil(lambda: "1" in named(panel, QLabel, "Failed documents").text())
    health = named(panel, QLabel, "Failed documents").text()
    assert "Failed documents: 1" in health and "broken.pdf" in health
    assert named(panel, QLabel, "Duplicate chunks").text().startswith("Duplicate chunks: 0")
    assert named(panel, QLabel, "Never retrieved").text().startswith("Documents never retrieved")
    # The collection's languages, in its details and its tooltip; the chat reads them
    # from the controller to decide whether a question needs translating.
    assert named(panel, QLabel, "Document languages").text() == "Languages: English 100%"
    assert "Languages: English 100%" in panel._collection_list.item(0).toolTip()
    assert set(controller.collection_languages(DEFAULT_COLLECTION)) == {"en"}
    assert not button(panel, "Pause indexing").isEnabled()


def test_pause_answers_searches_then_resume_and_cancel(
    qtbot: QtBot,
    panel: KnowledgePanel,
    controller: KnowledgeController,
    docs: Path,
    gate: threading.Event,
) -> None:
    ingest(qtbot, panel, controller, [str(docs / "alpaca.txt")])
    # Held from its first checkpoint: the progress says so, searches are still answered.
    gate.clear()
    with qtbot.waitSignal(
        controller.sig_progress, timeout=TIMEOUT_MS, check_params_cb=lambda p: p.paused
    ):
        panel.add_paths([str(docs / "notes.md")])
        button(panel, "Pause indexing").click()
        gate.set()
    assert button(panel, "Resume indexing").isEnabled()
    assert "paused" in named(panel, QLabel, "Indexing status").text()
    request = panel.run_query("wool")
    assert request is not None
    qtbot.waitUntil(lambda: request.finished, timeout=TIMEOUT_MS)
    assert controller.ingesting  # answered at the paused ingestion's checkpoint
    assert "alpaca.txt" in table_rows(named(panel, QTableWidget, "Test query hits"))[0][1]
    with qtbot.waitSignal(controller.sig_ingest_done, timeout=TIMEOUT_MS) as done:
        button(panel, "Resume indexing").click()
    assert not done.args[0].cancelled and done.args[0].indexed == 1

    (docs / "alpaca.txt").write_text("Changed: llamas now.\n", encoding="utf-8")
    gate.clear()
    with qtbot.waitSignal(controller.sig_ingest_done, timeout=TIMEOUT_MS) as done:
        panel.add_paths([str(docs / "alpaca.txt")])
        button(panel, "Cancel indexing").click()
        gate.set()
    assert done.args[0].cancelled
    assert named(panel, QLabel, "Indexing status").text().startswith("Cancelled")
    assert not button(panel, "Cancel indexing").isEnabled()


def test_test_query_lists_hits_with_three_scores_and_opens_the_source(
    qtbot: QtBot, panel: KnowledgePanel, controller: KnowledgeController, docs: Path
) -> None:
    ingest(qtbot, panel, controller, [str(docs / "notes.md"), str(docs / "alpaca.txt")])
    query(qtbot, panel, "quantization")
    rows = table_rows(named(panel, QTableWidget, "Test query hits"))
    assert rows and rows[0][1] == "notes.md" and "quantization" in rows[0][5]
    vector, keyword, fused = rows[0][2:5]
    assert float(keyword) > 0 and float(fused) > 0
    assert vector == "—" or -1 <= float(vector) <= 1

    opened: list[object] = []
    panel.sig_open_source.connect(opened.append)
    hit = panel._hits[0]
    viewer = panel.open_source(hit)
    qtbot.waitUntil(lambda: viewer.source is not None, timeout=TIMEOUT_MS)
    assert opened == [hit]
    assert viewer.highlighted_text() == hit.chunk.text
    text = named(viewer, QPlainTextEdit, "Source text")
    assert isinstance(text, QPlainTextEdit) and text.isReadOnly()
    assert text.toPlainText() == (docs / "notes.md").read_text(encoding="utf-8")
    qtbot.waitUntil(lambda: text.verticalScrollBar().value() > 0)  # scrolled down to it
    viewer.close()


def test_collections_are_created_renamed_and_deleted_after_confirmation(
    qtbot: QtBot,
    panel: KnowledgePanel,
    controller: KnowledgeController,
    docs: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ingest(qtbot, panel, controller, [str(docs / "alpaca.txt")])

    def type_papers(dialog: CollectionDialog) -> int:
        dialog.name_edit.setText("Papers")
        dialog.accept()  # on this computer, the default
        return 1

    monkeypatch.setattr(CollectionDialog, "exec", type_papers)
    with qtbot.waitSignal(controller.sig_collections, timeout=TIMEOUT_MS):
        button(panel, "New collection").click()
    assert panel.current_collection() == "Papers"
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("Articles", True))
    with qtbot.waitSignal(controller.sig_collections, timeout=TIMEOUT_MS) as listed:
        button(panel, "Rename collection").click()
    assert [s.name for s in listed.args[0]] == ["Articles", DEFAULT_COLLECTION]
    assert panel.current_collection() == "Articles"

    asked: list[str] = []

    def refuse(*args: object, **kwargs: object) -> QMessageBox.StandardButton:
        asked.append(str(args[2]))
        return QMessageBox.StandardButton.No

    monkeypatch.setattr(QMessageBox, "question", refuse)
    button(panel, "Delete collection").click()
    assert asked and "Articles" in asked[0] and "files themselves stay" in asked[0]
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    with qtbot.waitSignal(controller.sig_collections, timeout=TIMEOUT_MS) as listed:
        button(panel, "Delete collection").click()
    assert [s.name for s in listed.args[0]] == [DEFAULT_COLLECTION]
    assert panel.current_collection() == DEFAULT_COLLECTION


def test_remove_and_reindex_selected_documents(
    qtbot: QtBot,
    panel: KnowledgePanel,
    controller: KnowledgeController,
    docs: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ingest(qtbot, panel, controller, [str(docs / "alpaca.txt"), str(docs / "notes.md")])
    table = named(panel, QTableWidget, "Document table")
    assert isinstance(table, QTableWidget)
    table.selectRow(0)  # alpaca.txt (by path)
    assert button(panel, "Re-index documents").isEnabled()
    with qtbot.waitSignal(controller.sig_ingest_done, timeout=TIMEOUT_MS) as done:
        button(panel, "Re-index documents").click()
    assert done.args[0].indexed == 1 and done.args[0].skipped_unchanged == 0

    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    qtbot.waitUntil(lambda: table.rowCount() == 2)
    table.selectRow(0)
    with qtbot.waitSignal(
        controller.sig_documents, timeout=TIMEOUT_MS, check_params_cb=lambda c, d: len(d) == 1
    ):
        button(panel, "Remove documents").click()
    assert [r[0] for r in table_rows(table)] == ["notes.md"]


def test_a_second_instance_says_the_store_is_in_use_and_stays_usable(
    qtbot: QtBot, panel: KnowledgePanel, controller: KnowledgeController, docs: Path
) -> None:
    other = KnowledgeBase(embedder=HashEmbedder())  # the store, open in "another" Glassbox
    try:
        with qtbot.waitSignal(controller.sig_error, timeout=TIMEOUT_MS) as error:
            panel.show()
        assert error.args[0] == "kb_locked"
        banner = named(panel, QLabel, "Knowledge error")
        assert banner.isVisible() and "another Glassbox" in banner.text()
        assert button(panel, "Add files").isEnabled()
    finally:
        other.close()
    report = ingest(qtbot, panel, controller, [str(docs / "alpaca.txt")])
    assert report.indexed == 1 and not named(panel, QLabel, "Knowledge error").isVisible()


def test_stitched_chunks_rebuild_the_text_and_map_the_passage() -> None:
    doc = "Title\n\nfirst paragraph here. second sentence.\n\n\nlast one."
    first, second, last = doc.index("first"), doc.index("second"), doc.index("last")
    # A heading, two overlapping chunks of one paragraph, and one after a gap.
    spans = [(0, 5), (first, doc.index(" second")), (second - 6, second + 16), (last, len(doc))]
    chunks = [
        StoredChunk(f"c{i}", 1, "/d.pdf", "pdf", i, doc[s:e], None, 1, s, e)
        for i, (s, e) in enumerate(spans)
    ]
    text, start, end = stitch_chunks(chunks, second - 6, second + 16)
    assert text == "Title\n\nfirst paragraph here. second sentence.\n\nlast one."
    assert start is not None and end is not None
    assert text[start:end] == doc[second - 6 : second + 16] == "here. second sentence."
    text, start, end = stitch_chunks(chunks, last, len(doc))
    assert text[start:end] == "last one."  # type: ignore[misc]
    assert stitch_chunks(chunks, 0, 0)[1:] == (None, None)


def test_the_viewer_shows_why_a_failed_document_has_no_text(
    qtbot: QtBot, panel: KnowledgePanel, controller: KnowledgeController, docs: Path
) -> None:
    ingest(qtbot, panel, controller, [str(docs / "broken.pdf"), str(docs / "alpaca.txt")])
    viewer = SourceViewer(controller, (str(docs / "broken.pdf"), 0, 0))
    qtbot.addWidget(viewer)
    qtbot.waitUntil(lambda: viewer.source is not None, timeout=TIMEOUT_MS)
    note = named(viewer, QLabel, "Source note").text()
    assert note.startswith("This document could not be indexed: ")
    assert viewer.highlighted_text() == ""


def test_a_failed_search_is_reported_with_its_request_id(
    qtbot: QtBot, controller: KnowledgeController
) -> None:
    errors: list[tuple[str, str]] = []
    controller.sig_error.connect(lambda kind, message: errors.append((kind, message)))
    calls = Calls()
    controller.search(
        "anything", ["no such collection"], on_done=calls.on_done, on_failed=calls.on_failed
    )
    calls.wait(qtbot)
    assert calls.failed[0][0] == "kb_no_collection" and calls.done == []
    qtbot.waitUntil(lambda: bool(errors))
    assert errors[0][0] == "kb_no_collection" and "no such collection" in errors[0][1]


def test_shutdown_releases_the_store_for_the_next_instance(
    qtbot: QtBot, controller: KnowledgeController
) -> None:
    with qtbot.waitSignal(controller.sig_ready, timeout=TIMEOUT_MS):
        controller.refresh()
    assert controller.shutdown()
    assert controller.worker_thread is not None and not controller.worker_thread.is_alive()
    KnowledgeBase(embedder=HashEmbedder()).close()  # no "open in another Glassbox"


def test_files_dropped_on_the_dock_are_indexed(
    qtbot: QtBot, panel: KnowledgePanel, controller: KnowledgeController, docs: Path
) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(docs / "alpaca.txt"))])
    point = QPointF(panel.rect().center())
    buttons, modifiers = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(point.toPoint(), Qt.DropAction.CopyAction, mime, buttons, modifiers)
    QApplication.sendEvent(panel, enter)
    assert enter.isAccepted()
    drop = QDropEvent(point, Qt.DropAction.CopyAction, mime, buttons, modifiers)
    with qtbot.waitSignal(controller.sig_ingest_done, timeout=TIMEOUT_MS) as done:
        QApplication.sendEvent(panel, drop)
    assert done.args[0].indexed == 1 and done.args[0].collection == DEFAULT_COLLECTION

    text_only = QMimeData()
    text_only.setText("not a file")
    refused = QDragEnterEvent(
        point.toPoint(), Qt.DropAction.CopyAction, text_only, buttons, modifiers
    )
    QApplication.sendEvent(panel, refused)
    assert not refused.isAccepted()


def test_test_queries_leave_never_retrieved_alone_and_searches_count(
    qtbot: QtBot, panel: KnowledgePanel, controller: KnowledgeController, docs: Path
) -> None:
    ingest(qtbot, panel, controller, [str(docs / "alpaca.txt"), str(docs / "notes.md")])
    label = named(panel, QLabel, "Never retrieved")
    assert label.text().startswith("Documents never retrieved: 2")
    query(qtbot, panel, "wool")
    with qtbot.waitSignal(controller.sig_collections, timeout=TIMEOUT_MS) as listed:
        controller.refresh()
    assert len(listed.args[0][0].never_retrieved) == 2

    found = Calls()
    controller.search("wool", [DEFAULT_COLLECTION], k=1, on_done=found.on_done)  # a chat's
    assert Path(found.wait(qtbot).done[0][0].chunk.path).name == "alpaca.txt"
    with qtbot.waitSignal(controller.sig_collections, timeout=TIMEOUT_MS):
        controller.refresh()
    assert label.text() == "Documents never retrieved: 1\n  notes.md"


def test_a_watched_folder_is_kept_indexed_until_it_is_no_longer_watched(
    qtbot: QtBot,
    panel: KnowledgePanel,
    controller: KnowledgeController,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = tmp_path / "watched"
    folder.mkdir()
    (folder / "alpha.txt").write_text("Alpha notes about apples.\n", "utf-8")
    (folder / "beta.txt").write_text("Beta notes about bananas.\n", "utf-8")
    table = named(panel, QTableWidget, "Document table")
    assert isinstance(table, QTableWidget)
    status = named(panel, QLabel, "Indexing status")
    syncs: list[tuple[IngestReport, bool]] = []
    controller.sig_sync_done.connect(lambda report, by_watcher: syncs.append((report, by_watcher)))

    def synced(changed: int, removed: int, unchanged: int, by_watcher: bool) -> None:
        """Wait for the next sync; check its report, the status line and the table."""
        count = len(syncs)
        qtbot.waitUntil(lambda: len(syncs) > count, timeout=TIMEOUT_MS)
        report, watcher = syncs[-1]
        assert (report.indexed, report.removed, report.skipped_unchanged) == (
            changed,
            removed,
            unchanged,
        )
        assert watcher is by_watcher and len(syncs) == count + 1
        head = "A watched folder changed" if by_watcher else "Watched folders synced"
        assert re.fullmatch(
            rf"\d\d:\d\d · {head}: {changed} changed, {removed} removed, "
            rf"{unchanged} unchanged \(\d+\.\d s\)",
            status.text(),
        ), status.text()

    # Watching indexes the folder at once and lists it.
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))
    button(panel, "Watch folder").click()
    synced(2, 0, 0, by_watcher=False)
    qtbot.waitUntil(lambda: panel.watched_folders() == [str(folder.resolve())])
    assert panel.current_collection() == DEFAULT_COLLECTION and controller.watching
    qtbot.waitUntil(lambda: len(table_rows(table)) == 2)
    before = {r[0]: r for r in table_rows(table)}
    assert [r[2] for r in before.values()] == ["indexed", "indexed"]

    # One file modified, one deleted, one added: the watcher syncs them by itself.
    (folder / "alpha.txt").write_text(
        "Alpha notes, now about apricots and avocados as well.\n", "utf-8"
    )
    (folder / "beta.txt").unlink()
    (folder / "gamma.txt").write_text("Gamma notes about grapes.\n", "utf-8")
    synced(2, 1, 0, by_watcher=True)
    qtbot.waitUntil(lambda: {r[0] for r in table_rows(table)} == {"alpha.txt", "gamma.txt"})
    after = {r[0]: r for r in table_rows(table)}
    assert after["alpha.txt"][4] != before["alpha.txt"][4]  # its new size
    assert after["gamma.txt"][2] == "indexed"
    query(qtbot, panel, "apricots")
    assert "apricots" in panel._hits[0].chunk.text

    # Saved again without a change: the content hash skips both files.
    os.utime(folder / "alpha.txt", (1_700_000_000, 1_700_000_000))
    synced(0, 0, 2, by_watcher=True)
    assert table_rows(table) == list(after.values())
    button(panel, "Sync watched folders").click()
    synced(0, 0, 2, by_watcher=False)

    # Stop watching: the documents stay, and changes are no longer followed.
    unwatch = button(panel, "Stop watching folder")
    assert unwatch.isEnabled()
    with qtbot.waitSignal(
        controller.sig_watched, timeout=TIMEOUT_MS, check_params_cb=lambda c, f: f == []
    ):
        unwatch.click()
    assert panel.watched_folders() == [] and not unwatch.isEnabled()
    assert not button(panel, "Sync watched folders").isEnabled()
    (folder / "gamma.txt").write_text("Gamma notes, changed while nobody watches.\n", "utf-8")
    with qtbot.assertNotEmitted(controller.sig_ingest_done, wait=int(WATCH_INTERVAL_S * 5000)):
        pass
    assert {r[0] for r in table_rows(table)} == {"alpha.txt", "gamma.txt"}

    # Watched again, then stopped with its documents removed (after confirmation).
    panel.watch_folder(str(folder))
    synced(1, 0, 1, by_watcher=False)
    qtbot.waitUntil(lambda: panel.watched_folders() == [str(folder.resolve())])
    check = named(panel, QCheckBox, "Also remove its documents")
    assert isinstance(check, QCheckBox)
    check.setChecked(True)
    asked: list[str] = []

    def agree(*args: object, **kwargs: object) -> QMessageBox.StandardButton:
        asked.append(str(args[2]))
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", agree)
    with qtbot.waitSignal(
        controller.sig_watched, timeout=TIMEOUT_MS, check_params_cb=lambda c, f: f == []
    ):
        unwatch.click()
    assert asked and "remove its documents" in asked[0]
    qtbot.waitUntil(lambda: table.rowCount() == 0)
    assert not check.isChecked() and folder.is_dir()


def test_collection_dialog_checks_the_name_and_the_server_url(qtbot: QtBot) -> None:
    dialog = CollectionDialog("New collection")
    qtbot.addWidget(dialog)
    assert dialog.local_radio.isChecked() and not dialog.url_edit.isEnabled()
    dialog.accept()
    assert dialog.result_value() is None and "name" in dialog.error_label.text()
    dialog.name_edit.setText("team notes")
    dialog.server_radio.setChecked(True)
    assert dialog.url_edit.isEnabled()
    dialog.url_edit.setText("ftp://example.org")
    dialog.accept()
    assert dialog.result_value() is None
    assert "http://" in dialog.error_label.text()
    dialog.url_edit.setText("http://127.0.0.1")
    dialog.accept()
    # Normalised: Chroma's default port is filled in.
    assert dialog.result_value() == ("team notes", "http://127.0.0.1:8000")


def test_a_collection_on_a_server_that_does_not_answer_says_so_and_is_not_made(
    qtbot: QtBot,
    panel: KnowledgePanel,
    controller: KnowledgeController,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    monkeypatch.setattr(panel, "_ask_new_collection", lambda: ("on the server", url, None))
    with qtbot.waitSignal(controller.sig_error, timeout=TIMEOUT_MS) as caught:
        button(panel, "New collection").click()
    kind, message = caught.args
    assert kind == "kb_chroma_server" and url in message
    qtbot.waitUntil(lambda: url in panel._error_label.text(), timeout=TIMEOUT_MS)
    assert panel._error_label.isVisibleTo(panel)
    assert "on the server" not in panel._summaries


def test_location_moves_a_collection_and_the_list_says_where_it_lives(
    qtbot: QtBot,
    panel: KnowledgePanel,
    controller: KnowledgeController,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(panel, "_ask_new_collection", lambda: ("notes", None, None))
    with qtbot.waitSignal(controller.sig_collections, timeout=TIMEOUT_MS):
        button(panel, "New collection").click()
    qtbot.waitUntil(lambda: panel.current_collection() == "notes", timeout=TIMEOUT_MS)
    assert "on http" not in panel._collection_list.item(0).text()
    assert "this computer" in panel._collection_list.item(0).toolTip()
    moved: list[tuple[str, str | None]] = []
    monkeypatch.setattr(controller, "move_collection", lambda n, u: moved.append((n, u)))
    monkeypatch.setattr(panel, "_ask_collection", lambda *a: ("notes", "http://10.0.0.5:8000"))
    button(panel, "Collection location").click()
    assert moved == [("notes", "http://10.0.0.5:8000")]
    # The same place again moves nothing.
    monkeypatch.setattr(panel, "_ask_collection", lambda *a: ("notes", None))
    button(panel, "Collection location").click()
    assert moved == [("notes", "http://10.0.0.5:8000")]


def test_the_files_passed_over_are_counted_by_type_and_listed_on_request(
    qtbot: QtBot, panel: KnowledgePanel, controller: KnowledgeController, docs: Path
) -> None:
    (docs / "img").mkdir()
    for name in ("a.svg", "b.svg", "c.<i>"):
        (docs / "img" / name).write_bytes(b"<svg/>")
    (docs / "style.css").write_text("p { color: red }", encoding="utf-8")
    (docs / ".git").mkdir()
    panel.show()
    report = ingest(qtbot, panel, controller, [str(docs)])
    assert report.indexed == 2 and len(report.unsupported) == 4

    status = named(panel, QLabel, "Indexing status")
    assert isinstance(status, QLabel) and status.textFormat() == Qt.TextFormat.PlainText
    assert "4 skipped, a type Glassbox does not read (2 .svg, 1 .<i>, 1 .css)" in status.text()
    assert "1 hidden skipped" in status.text()

    show = button(panel, "Show skipped files")
    listed = named(panel, QPlainTextEdit, "Skipped files")
    assert isinstance(listed, QPlainTextEdit)
    assert show.isVisible() and not listed.isVisible()
    show.click()
    assert listed.isVisible() and show.text() == "Hide skipped files"
    text = listed.toPlainText()
    assert str(docs.resolve() / "img" / "c.<i>") in text  # the path as it is, not markup
    assert str(docs.resolve() / "style.css") in text
    assert f"{docs.resolve() / '.git'}{os.sep}" in text
    assert "alpaca.txt" not in text
    show.click()
    assert not listed.isVisible() and show.text() == "Show skipped files"

    # A later ingestion that passes nothing over hides the button.
    (docs / "img" / "a.svg").unlink()
    report = ingest(qtbot, panel, controller, [str(docs / "alpaca.txt")])
    assert not report.unsupported and not show.isVisible() and not listed.isVisible()


def test_a_deleted_collection_goes_to_the_trash_with_undo_and_restore(
    qtbot: QtBot,
    panel: KnowledgePanel,
    controller: KnowledgeController,
    docs: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ingest(qtbot, panel, controller, [str(docs / "alpaca.txt")])
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    trash = named(panel, QListWidget, "Deleted collections")
    assert isinstance(trash, QListWidget)
    with qtbot.waitSignal(controller.sig_trash, timeout=TIMEOUT_MS):
        button(panel, "Delete collection").click()
    assert panel.trashed_names() == [DEFAULT_COLLECTION]
    assert trash.isVisibleTo(panel)
    assert "kept until" in trash.item(0).text()
    # Undo, within its few seconds, brings it back whole.
    with qtbot.waitSignal(controller.sig_trash, timeout=TIMEOUT_MS) as listed:
        button(panel, "Undo delete").click()
    assert listed.args[0] == [] and panel.trashed_names() == []
    qtbot.waitUntil(lambda: panel.current_collection() == DEFAULT_COLLECTION, timeout=TIMEOUT_MS)

    # Later, from the trash: Restore.
    with qtbot.waitSignal(controller.sig_trash, timeout=TIMEOUT_MS):
        button(panel, "Delete collection").click()
    trash.setCurrentRow(0)
    with qtbot.waitSignal(controller.sig_collections, timeout=TIMEOUT_MS) as listed:
        button(panel, "Restore collection").click()
    assert [s.name for s in listed.args[0]] == [DEFAULT_COLLECTION]
    assert listed.args[0][0].documents == 1


def test_the_trash_is_emptied_of_week_old_collections_when_the_store_opens(
    qtbot: QtBot, glassbox_home: Path, gate: threading.Event
) -> None:
    with KnowledgeBase(embedder=HashEmbedder()) as kb:
        old = kb.create_collection("old")
        kb.create_collection("recent")
        kb.trash_collection("old")
        kb.trash_collection("recent")
        with kb.registry.transaction() as conn:
            conn.execute("UPDATE collections SET deleted_at = 0 WHERE id = ?", (old.id,))
    ctl = KnowledgeController(
        lambda: KnowledgeBase(embedder=HashEmbedder()),
        lambda kb: GatedParser(gate, kb.chunk_config()),
    )
    try:
        with qtbot.waitSignal(ctl.sig_trash, timeout=TIMEOUT_MS) as listed:
            ctl.refresh()
        assert [t.name for t in listed.args[0]] == ["recent"]
    finally:
        assert ctl.shutdown()
