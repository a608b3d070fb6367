"""Screenshots for the README: importing a ChatGPT export in the window (the progress
dialog over the window, which keeps running), then the imported chats in the sidebar
with the tooltip that says where one came from. The real window on the fake engine.

    QT_QPA_PLATFORM=offscreen python packaging/screenshots_import.py docs/screenshots
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path


def main(out: Path) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    home = Path(tempfile.mkdtemp(prefix="glassbox-shots-"))
    os.environ["GLASSBOX_HOME"] = str(home)
    from PySide6.QtCore import QPoint, QRect, Qt
    from PySide6.QtGui import QColor, QPainter, QPixmap
    from PySide6.QtWidgets import QApplication, QToolTip, QWidget

    from desktop_app.app import build
    from desktop_app.bench.chat_import import write_export
    from desktop_app.core.engine.fake import FakeEngine
    from desktop_app.core.settings import Settings
    from desktop_app.workers.engine.inference import InferenceController

    export = home / "conversations.json"
    write_export(export, chats=600, mb=30.0, seed=3)
    # A few hand-made conversations at the end, so the newest chats have real titles.
    fixture = Path(__file__).resolve().parent.parent / "tests/data/chatgpt/conversations.json"
    extra = json.loads(fixture.read_text(encoding="utf-8"))[:2]
    for n, conv in enumerate(extra):
        conv["update_time"] = time.time() - 600 * (n + 1)  # the newest: at the top
    text = export.read_text(encoding="utf-8").rstrip().rstrip("]")
    export.write_text(text + "," + json.dumps(extra, ensure_ascii=False)[1:], encoding="utf-8")

    app = QApplication.instance() or QApplication(sys.argv)
    model = home / "tiny-demo-model.gguf"
    model.write_bytes(b"GGUF")
    controller = InferenceController(FakeEngine, settings=Settings())
    window = build(controller, model_spec=str(model)).window
    window.resize(1440, 820)
    window.show()
    loaded = time.monotonic() + 10
    while "Loaded" not in window._status_label.text() and time.monotonic() < loaded:
        app.processEvents()
        time.sleep(0.01)
    out.mkdir(parents=True, exist_ok=True)

    def composite(widgets: list[QWidget]) -> QPixmap:
        """The window with the given top-level widgets painted where they stand over it."""
        shot = window.grab()
        painter = QPainter(shot)
        origin = window.mapToGlobal(QPoint(0, 0))
        for widget in widgets:
            at = widget.mapToGlobal(QPoint(0, 0)) - origin
            if widget.windowTitle():
                # Offscreen windows have no frame: draw a plain title bar and border.
                bar = QRect(at.x() - 1, at.y() - 26, widget.width() + 2, 26)
                painter.fillRect(bar, QColor("#dcdcdc"))
                painter.setPen(QColor("#222222"))
                painter.drawText(
                    bar.adjusted(10, 0, 0, 0), Qt.AlignmentFlag.AlignVCenter, widget.windowTitle()
                )
                painter.setPen(QColor("#777777"))
                painter.drawRect(bar.united(QRect(at, widget.size())).adjusted(0, 0, 0, 1))
            painter.drawPixmap(at, widget.grab())
        painter.end()
        return shot

    window.import_chats(str(export))
    deadline = time.monotonic() + 120
    dialog = window.importer.dialog
    while dialog is not None and dialog.value() < 400 and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.005)
    if dialog is not None:
        dialog.move(window.geometry().center() - dialog.rect().center())
        for _ in range(5):
            app.processEvents()
        composite([dialog]).save(str(out / "import-progress.png"))
    while window.importer.busy and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.01)
    for _ in range(30):
        app.processEvents()

    sidebar = window._chats
    window.resizeDocks([window._chats_dock], [420], Qt.Orientation.Horizontal)
    tree = sidebar._list
    first = tree.topLevelItem(0)
    if first is not None:
        tree.setCurrentItem(first)  # opens the chat; the list is rebuilt
    for _ in range(30):
        app.processEvents()
    item = tree.topLevelItem(0)
    if item is not None:
        # Under the chat's row, inside the widened sidebar: it covers no message.
        spot = tree.visualItemRect(item).bottomLeft() + QPoint(12, -2)
        QToolTip.showText(tree.viewport().mapToGlobal(spot), item.toolTip(0), tree)
    for _ in range(30):
        app.processEvents()
    tips = [w for w in QApplication.topLevelWidgets() if w.inherits("QTipLabel") and w.isVisible()]
    composite(tips).save(str(out / "import-done.png"))
    window.close()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots"))
