"""The Knowledge dock on the real thing: sentence-transformers, Chroma, the sandboxed parser.

The test documents (``tests/data/docs``) go in through ``add_paths`` (what a drop
on the window calls), the controller's thread does the work, and the test looks at
what the panel shows. The embedding model is loaded once per process, so only the
first test pays for it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from corpus import DOCS, HALLUCINATION_ZH, N_DOCS, SAMPLING_EN, TRAINING_ZH
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QPushButton, QTableWidget, QWidget
from pytestqt.qtbot import QtBot

from desktop_app.core.kb.ingest import IngestProgress, IngestReport
from desktop_app.ui.knowledge.panel import KnowledgePanel
from desktop_app.ui.knowledge.source_viewer import SourceViewer
from desktop_app.workers.kb.controller import KnowledgeController

INGEST_TIMEOUT_MS = 180_000
SCREENSHOT = Path("/tmp/knowledge_panel.png")
VIEWER_SCREENSHOT = Path("/tmp/source_viewer.png")
WATCHED_SCREENSHOT = Path("/tmp/knowledge_watched.png")
#: Seconds between the folder watcher's scans (the app's default is 3 s).
WATCH_INTERVAL_S = 0.3


@pytest.fixture
def controller() -> Iterator[KnowledgeController]:
    c = KnowledgeController(watch_interval_s=WATCH_INTERVAL_S)
    yield c
    assert c.shutdown(timeout_s=30)


@pytest.fixture
def panel(qtbot: QtBot, controller: KnowledgeController) -> KnowledgePanel:
    p = KnowledgePanel(controller)
    qtbot.addWidget(p)
    p.resize(600, 1150)
    return p


def named(widget: QWidget, kind: type[QWidget], accessible: str) -> QWidget:
    found = [w for w in widget.findChildren(kind) if w.accessibleName() == accessible]
    assert len(found) == 1, (accessible, found)
    return found[0]


def rows_of(panel: QWidget, accessible: str) -> list[list[str]]:
    table = named(panel, QTableWidget, accessible)
    assert isinstance(table, QTableWidget)
    return [
        [table.item(r, c).text() for c in range(table.columnCount())]
        for r in range(table.rowCount())
    ]


def test_documents_are_indexed_searched_and_shown_in_their_document(
    qtbot: QtBot, panel: KnowledgePanel, controller: KnowledgeController, tmp_path: Path
) -> None:
    broken = tmp_path / "scan.pdf"
    broken.write_bytes(os.urandom(4096))
    paths = [str(TRAINING_ZH), str(SAMPLING_EN), str(broken)]
    reports: list[IngestReport] = []
    controller.sig_ingest_done.connect(reports.append)
    with qtbot.waitSignal(
        controller.sig_busy, check_params_cb=lambda busy: not busy, timeout=INGEST_TIMEOUT_MS
    ):
        panel.add_paths(paths, "Notes")
    (report,) = reports
    assert report.indexed == 2 and report.chunks_added > 10
    assert [Path(p).name for p, _ in report.failed] == ["scan.pdf"]

    rows = {r[0]: r for r in rows_of(panel, "Document table")}
    assert set(rows) == {TRAINING_ZH.name, SAMPLING_EN.name, "scan.pdf"}
    assert rows[TRAINING_ZH.name][1:3] == ["txt", "indexed"]
    assert rows[SAMPLING_EN.name][1:3] == ["md", "indexed"]
    for name in (TRAINING_ZH.name, SAMPLING_EN.name):
        assert int(rows[name][3]) > 0
    assert rows["scan.pdf"][2].startswith("failed: ") and rows["scan.pdf"][3] == "0"
    assert "Failed documents: 1" in named(panel, QLabel, "Failed documents").text()

    search = panel.run_query("知识蒸馏")
    assert search is not None
    qtbot.waitUntil(lambda: search.finished, timeout=60_000)
    hits = rows_of(panel, "Test query hits")
    assert hits and [h[0] for h in hits] == [str(i) for i in range(1, len(hits) + 1)]
    assert all(h[4] != "—" for h in hits)  # every hit has a fused score
    assert any(h[2] != "—" for h in hits) and any(h[3] != "—" for h in hits)
    best = panel._hits[0]
    assert Path(best.chunk.path) == TRAINING_ZH
    assert "知识蒸馏" in best.chunk.text and best.keyword is not None

    panel.show()
    named(panel, QPushButton, "Run test query").setFocus()
    panel.grab().save(str(SCREENSHOT))
    assert SCREENSHOT.stat().st_size > 0

    opened: list[object] = []
    panel.sig_open_source.connect(opened.append)
    table = named(panel, QTableWidget, "Test query hits")
    assert isinstance(table, QTableWidget)
    table.cellDoubleClicked.emit(0, 5)
    assert opened == [best]
    (viewer,) = panel.findChildren(SourceViewer)
    qtbot.waitUntil(lambda: viewer.source is not None, timeout=10_000)
    assert viewer.highlighted_text() == best.chunk.text
    text = named(viewer, QPlainTextEdit, "Source text")
    assert isinstance(text, QPlainTextEdit) and text.isReadOnly()
    assert text.toPlainText() == TRAINING_ZH.read_text(encoding="utf-8")
    qtbot.waitUntil(lambda: text.verticalScrollBar().value() > 0)
    viewer.grab().save(str(VIEWER_SCREENSHOT))
    viewer.close()


def test_a_larger_ingestion_pauses_resumes_and_cancels(
    qtbot: QtBot, panel: KnowledgePanel, controller: KnowledgeController
) -> None:
    def after_first_file(p: IngestProgress) -> bool:
        return p.files_done >= 1 and not p.paused

    with qtbot.waitSignal(
        controller.sig_progress, check_params_cb=after_first_file, timeout=INGEST_TIMEOUT_MS
    ):
        panel.add_paths([str(DOCS)], "All documents")
    pause = named(panel, QPushButton, "Pause indexing")
    with qtbot.waitSignal(
        controller.sig_progress, check_params_cb=lambda p: p.paused, timeout=INGEST_TIMEOUT_MS
    ) as held:
        pause.click()
    assert pause.text() == "Resume" and pause.accessibleName() == "Resume indexing"
    assert "paused" in named(panel, QLabel, "Indexing status").text()
    files_at_pause = held.args[0].files_done
    assert files_at_pause < N_DOCS

    # While held, the ingestion goes no further but the store still answers.
    with qtbot.waitSignal(controller.sig_documents, timeout=30_000) as listed:
        controller.documents("All documents")
    assert sum(d.status == "indexed" for d in listed.args[1]) <= files_at_pause
    with qtbot.assertNotEmitted(controller.sig_progress, wait=1000):
        pass

    with qtbot.waitSignal(
        controller.sig_progress,
        check_params_cb=lambda p: not p.paused and p.files_done > files_at_pause,
        timeout=INGEST_TIMEOUT_MS,
    ):
        pause.click()
    assert pause.text() == "Pause"

    with qtbot.waitSignal(controller.sig_ingest_done, timeout=INGEST_TIMEOUT_MS) as done:
        named(panel, QPushButton, "Cancel indexing").click()
    report = done.args[0]
    assert report.cancelled
    # Stopped before the end: files were left to parse, or the last file's chunks to
    # embed (the documents are small, so the cancel may land in that last stretch).
    with qtbot.waitSignal(controller.sig_documents, timeout=30_000) as listed:
        controller.documents("All documents")
    assert report.indexed < N_DOCS or any(d.status == "pending" for d in listed.args[1])
    assert named(panel, QLabel, "Indexing status").text().startswith("Cancelled")
    assert not named(panel, QPushButton, "Cancel indexing").isEnabled()


def test_a_watched_folder_follows_its_files_with_the_real_model(
    qtbot: QtBot, panel: KnowledgePanel, controller: KnowledgeController, tmp_path: Path
) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    for doc in (TRAINING_ZH, SAMPLING_EN):
        shutil.copy(doc, folder)
    kept, dropped = folder / TRAINING_ZH.name, folder / SAMPLING_EN.name
    syncs: list[tuple[IngestReport, bool]] = []
    controller.sig_sync_done.connect(lambda report, by_watcher: syncs.append((report, by_watcher)))
    panel.watch_folder(str(folder), "Watched notes")
    qtbot.waitUntil(lambda: len(syncs) == 1, timeout=INGEST_TIMEOUT_MS)
    assert syncs[0][0].indexed == 2 and not syncs[0][1]
    qtbot.waitUntil(lambda: panel.watched_folders() == [str(folder.resolve())])

    with kept.open("a", encoding="utf-8") as f:
        f.write("\n\nAppendix: the lighthouse keeper logs every passing ship in a ledger.\n")
    dropped.unlink()
    shutil.copy(HALLUCINATION_ZH, folder)
    qtbot.waitUntil(lambda: len(syncs) == 2, timeout=INGEST_TIMEOUT_MS)
    report, by_watcher = syncs[1]
    assert by_watcher and (report.indexed, report.removed) == (2, 1) and not report.failed
    listed = {kept.name, HALLUCINATION_ZH.name}
    qtbot.waitUntil(lambda: {r[0] for r in rows_of(panel, "Document table")} == listed)
    status = named(panel, QLabel, "Indexing status").text()
    assert "A watched folder changed: 2 changed, 1 removed, 0 unchanged" in status

    search = panel.run_query("Who records the ships passing the lighthouse?")
    assert search is not None
    qtbot.waitUntil(lambda: search.finished, timeout=60_000)
    best = panel._hits[0]
    assert Path(best.chunk.path).name == kept.name and "lighthouse keeper" in best.chunk.text

    panel.show()
    panel.grab().save(str(WATCHED_SCREENSHOT))
    assert WATCHED_SCREENSHOT.stat().st_size > 0
