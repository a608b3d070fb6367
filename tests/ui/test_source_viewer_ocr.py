"""The source viewer marks a passage read by OCR with the recognizer's confidence."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest
from kb_fakes import HashEmbedder
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot
from scanned_pages import PAGES, cjk_font_path, render_page

from desktop_app.core.kb.knowledge_base import KnowledgeBase
from desktop_app.core.kb.parse_host import InProcessParser
from desktop_app.core.kb.sources import SourceText, source_text
from desktop_app.ui.knowledge.source_viewer import SourceViewer
from desktop_app.workers.kb.controller import KnowledgeController

pytestmark = pytest.mark.skipif(cjk_font_path() is None, reason="no font with Chinese glyphs")


class _Sources:
    """Stands for the controller: answers ``load_source`` from a store, synchronously."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb

    def load_source(
        self,
        path: str,
        start: int | None,
        end: int | None,
        doc_id: int | None,
        *,
        on_done: Callable[[SourceText], None],
    ) -> Any:
        on_done(source_text(self.kb, path, start, end, doc_id))
        return None


def test_a_passage_read_by_ocr_shows_its_confidence_and_a_typed_one_does_not(
    qtbot: QtBot, tmp_path: Path
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    render_page(PAGES["en_b"], seed=21, dpi=110).save(docs / "rules.png")
    (docs / "typed.md").write_text("# Notes\n\nThe kiosk opens at nine.\n", "utf-8")
    kb = KnowledgeBase(tmp_path / "kb", embedder=HashEmbedder())
    try:
        report = kb.ingest([docs], "c", InProcessParser())
        assert report.indexed == 2, report.failed
        scan = kb.search("helmet riders under sixteen", "c", k=1, record=False)[0]
        assert scan.chunk.path.endswith("rules.png") and scan.chunk.ocr_confidence is not None
        typed = kb.search("kiosk opens at nine", "c", k=1, record=False)[0]
        assert typed.chunk.path.endswith("typed.md")
        controller = cast(KnowledgeController, _Sources(kb))

        viewer = SourceViewer(controller, scan)
        qtbot.addWidget(viewer)
        viewer.show()
        mark = viewer.ocr_text
        assert mark.startswith("Read by OCR, confidence 0.") and "recognition mistakes" in mark
        assert f"{scan.chunk.ocr_confidence:.2f}" in mark
        assert named_label(viewer, "OCR confidence").isVisible()
        # The passage highlighted is the recognised text (its words vary with the font).
        assert " ".join(scan.chunk.text.split()) in " ".join(viewer.highlighted_text().split())

        plain = SourceViewer(controller, typed)
        qtbot.addWidget(plain)
        plain.show()
        assert plain.ocr_text == "" and not named_label(plain, "OCR confidence").isVisible()
    finally:
        kb.close()


def named_label(viewer: SourceViewer, name: str) -> QLabel:
    [label] = [w for w in viewer.findChildren(QLabel) if w.accessibleName() == name]
    return label


def test_the_progress_line_says_which_page_ocr_is_reading() -> None:
    from desktop_app.core.kb.ingest import IngestProgress
    from desktop_app.ui.knowledge.texts import progress_text

    base = IngestProgress(2, 5, 10, 10, 1.0, None, "/d/scan.pdf", 0, 0)
    assert "OCR" not in progress_text(base)
    reading = IngestProgress(2, 5, 10, 10, 1.0, None, "/d/scan.pdf", 0, 0, page=3, pages=12)
    assert "OCR page 4/12" in progress_text(reading)
    done = IngestProgress(2, 5, 10, 10, 1.0, None, "/d/scan.pdf", 0, 0, page=12, pages=12)
    assert "OCR page 12/12" in progress_text(done)
