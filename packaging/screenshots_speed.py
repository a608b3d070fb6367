"""Screenshots for the README: Model panel → Speed with the bundled draft model loaded,
and a drafted reply with its accepted tokens marked and one token's notes shown.

Both come from the real window on the fake engine, which pretends to draft when a
request asks for it (every fourth token "replaced", the others "accepted").

    QT_QPA_PLATFORM=offscreen python packaging/screenshots_speed.py docs/screenshots
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from shots import fresh_home, wait

SCRIPT = (
    "The area of a circle is pi times the radius squared: area = math.pi * radius ** 2, "
    "so a circle of radius 2 has an area of about 12.57."
)


def main(out: Path) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    home = fresh_home()
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtGui import QPainter
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication, QGroupBox, QLabel, QScrollArea

    from desktop_app.app import build
    from desktop_app.core.engine.fake import FakeEngine
    from desktop_app.core.models.defaults import DEFAULT_MODELS, DRAFT_DEFAULT
    from desktop_app.core.sampling import SamplingParams
    from desktop_app.core.settings import Settings
    from desktop_app.ui.chat.view import token_tooltip
    from desktop_app.workers.engine.inference import InferenceController, ProgressCallback

    app = QApplication.instance() or QApplication(sys.argv)
    out.mkdir(parents=True, exist_ok=True)
    model = home / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
    model.write_bytes(b"GGUF")
    draft = home / DEFAULT_MODELS[DRAFT_DEFAULT].file_name
    draft.write_bytes(b"GGUF")

    def resolver(spec: str, _progress: ProgressCallback) -> Path:
        return draft if spec == DRAFT_DEFAULT else Path(spec)

    settings = Settings(draft_model=DRAFT_DEFAULT, prompt_lookup=True, max_draft=8)
    controller = InferenceController(
        lambda: FakeEngine(SCRIPT),
        settings=settings.with_sampling(SamplingParams.greedy()),
        resolver=resolver,
    )
    window = build(controller, model_spec=str(model)).window
    window.resize(1280, 860)
    window.show()
    wait(app, lambda: controller.model_loaded is not None)

    # 1. The Speed section of the Model panel.
    panel = window._model_panel
    panel.show()
    panel.raise_()
    wait(app, lambda: not panel.reading, 5.0)
    for _ in range(20):
        app.processEvents()
    speed = next(b for b in panel.findChildren(QGroupBox) if b.accessibleName() == "Speed")
    scroll = panel.findChild(QScrollArea)
    if scroll is not None:
        scroll.ensureWidgetVisible(speed)
    app.processEvents()
    speed.grab().save(str(out / "speed-panel.png"))

    # 2. A drafted reply: accepted tokens underlined, one selected with its notes.
    window._drafts_action.setChecked(True)
    window._input.insertPlainText("What is the area of a circle?")
    QTest.keyClick(window._input, Qt.Key.Key_Return)
    wait(app, lambda: not window.session.busy)
    for _ in range(20):
        app.processEvents()
    view = window.view
    reply = window.session.path[-1].id
    index = 4  # "a" of "area": drafted and accepted
    view.select_token(reply, index)
    app.processEvents()
    shot = window.grab()
    _kept, _index, token = view.selected_token() or (0, 0, None)
    if token is not None:
        tip = QLabel()
        tip.setTextFormat(Qt.TextFormat.RichText)
        tip.setText(token_tooltip(token))
        tip.setStyleSheet(
            "QLabel { background: #ffffe1; color: #111; border: 1px solid #888; padding: 6px; }"
        )
        tip.adjustSize()
        start, _end = view.token_span(reply, index)
        cursor = view.textCursor()
        cursor.setPosition(start)
        at = view.viewport().mapTo(window, view.cursorRect(cursor).bottomLeft() + QPoint(0, 56))
        painter = QPainter(shot)
        painter.drawPixmap(at, tip.grab())
        painter.end()
    shot.save(str(out / "drafted-token.png"))
    window.close()
    controller.shutdown()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots"))
