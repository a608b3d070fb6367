"""Screenshot for the README: a reply that looped, stopped, with the status bar saying
why and the Sampling panel's Loop stop setting beside it.

It comes from the real window on the fake engine, whose script repeats one sentence
(the kind of loop the default model fell into answering from a manual).

    QT_QPA_PLATFORM=offscreen python packaging/screenshots_loop.py docs/screenshots
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from shots import fresh_home, wait

SENTENCE = (
    "The smartd daemon can be customized with the /etc/smartd.conf file, "
    "including how to be notified of warnings. "
)


def main(out: Path) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    home = fresh_home()
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication, QGroupBox, QScrollArea

    from desktop_app.app import build
    from desktop_app.core.engine.fake import FakeEngine
    from desktop_app.core.sampling import SamplingParams
    from desktop_app.core.settings import Settings

    app = QApplication.instance() or QApplication(sys.argv)
    out.mkdir(parents=True, exist_ok=True)
    model = home / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
    model.write_bytes(b"GGUF")

    from desktop_app.workers.engine.inference import InferenceController

    controller = InferenceController(
        lambda: FakeEngine("Disk health is watched by smartd. " + SENTENCE * 12),
        settings=Settings().with_sampling(SamplingParams.greedy()),
    )
    window = build(controller, model_spec=str(model)).window
    window.resize(1280, 820)
    window.show()
    wait(app, lambda: controller.model_loaded is not None)
    window._sampling_panel_action.trigger()
    window._input.insertPlainText("How can I get told when a disk starts failing?")
    QTest.keyClick(window._input, Qt.Key.Key_Return)
    wait(app, lambda: not window.session.busy)
    for _ in range(20):
        app.processEvents()
    # The Sampling panel scrolled to its Reply group, where Loop stop is.
    panel = window._sampling
    reply = next(b for b in panel.findChildren(QGroupBox) if b.accessibleName() == "Reply settings")
    scroll = panel.findChild(QScrollArea)
    if scroll is not None:
        scroll.ensureWidgetVisible(reply)
    for _ in range(20):
        app.processEvents()
    window.grab().save(str(out / "loop-stop.png"))
    window.close()
    controller.shutdown()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots"))
