"""Screenshots for the README: a grounded reply with an unsupported sentence underlined
and its tooltip, and a reply in whole-document mode with the Conversation panel's
"Use whole documents" ticked.

Both come from the real window on the fake engine; the passages and documents are
given by a stand-in for the knowledge thread (the text of a Debian-like page).

    QT_QPA_PLATFORM=offscreen python packaging/screenshots_grounding.py docs/screenshots
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from shots import fresh_home, wait

PASSAGE = (
    "The name of the machine is kept in /etc/hostname. After editing it, run "
    "hostnamectl set-hostname NAME so that the running system uses it at once."
)
OTHER = "Network interfaces are configured in /etc/network/interfaces."
ANSWER = (
    "[1] The host name is kept in /etc/hostname; after editing it, run hostnamectl "
    "set-hostname NAME. Then reboot the router so the change reaches the network."
)
WHOLE = (
    "[1] Edit /etc/hostname, then run hostnamectl set-hostname NAME so that the running "
    "system uses the new name at once."
)


def main(out: Path) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    home = fresh_home()
    from PySide6.QtCore import QObject, QPoint, Qt, QTimer
    from PySide6.QtGui import QPainter
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication, QLabel

    from desktop_app.app import build
    from desktop_app.core.engine.fake import FakeEngine
    from desktop_app.core.kb.db import StoredChunk
    from desktop_app.core.kb.retrieve import Hit
    from desktop_app.core.kb.whole import Fit, estimate_tokens
    from desktop_app.core.sampling import SamplingParams
    from desktop_app.core.settings import Settings
    from desktop_app.ui.chat.session import ChatOptions
    from desktop_app.workers.engine.inference import InferenceController
    from desktop_app.workers.jobs import JobHandle

    def hit(n: int, path: str, text: str) -> Hit:
        chunk = StoredChunk(f"c{n}", n, path, "html", 0, text, None, None, 0, len(text))
        return Hit(n, chunk, 0.6, 4.0, 0.032 - n / 1000, n, n)

    hits = [
        hit(1, "/docs/debian/reference/ch03.en.html", PASSAGE),
        hit(2, "/docs/debian/reference/ch05.en.html", OTHER),
    ]

    class Knowledge(QObject):
        def find_passages(
            self, question: str, options: Any, alternatives: Sequence[str] = (), *,
            terms: str = "", on_done: Callable[[list[Hit]], None],
            on_failed: Callable[[str, str], None],
        ) -> JobHandle:  # fmt: skip
            QTimer.singleShot(0, lambda: on_done(hits))
            return JobHandle(1, lambda _h: None)

        def whole_documents(
            self, question: str, options: Any, n_ctx: int, answer_tokens: int, *,
            on_done: Callable[[tuple[list[Hit], Fit]], None], on_failed: Callable[[str, str], None],
        ) -> JobHandle:  # fmt: skip
            tokens = sum(estimate_tokens(h.chunk.text) + 24 for h in hits)
            fit = Fit(True, len(hits), tokens, n_ctx - answer_tokens - 400, n_ctx, answer_tokens)
            QTimer.singleShot(0, lambda: on_done((hits, fit)))
            return JobHandle(2, lambda _h: None)

    app = QApplication.instance() or QApplication(sys.argv)
    out.mkdir(parents=True, exist_ok=True)
    model = home / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
    model.write_bytes(b"GGUF")

    engine = FakeEngine(ANSWER)
    controller = InferenceController(
        lambda: engine, settings=Settings().with_sampling(SamplingParams.greedy())
    )
    application = build(controller, model_spec=str(model))
    window = application.window
    window.resize(1280, 820)
    window.show()
    wait(app, lambda: controller.model_loaded is not None)
    knowledge = Knowledge()
    window.session.set_knowledge(knowledge)
    panel = window._options
    panel.set_available_collections(["debian"])
    options = ChatOptions(collections=["debian"], top_k=2)

    def ask(question: str) -> None:
        window._input.insertPlainText(question)
        QTest.keyClick(window._input, Qt.Key.Key_Return)
        wait(app, lambda: not window.session.busy)
        for _ in range(30):
            app.processEvents()

    # 1. Passages: the second sentence is not in the cited passage.
    window.session.set_options(options)
    panel.set_options(options)
    ask("How do I change the host name?")
    view = window.view
    reply = window.session.path[-1].id
    text = view.message_text(reply) or ""
    start = view.token_span(reply, 0)[0] + text.find("Then reboot") + 5
    shot = window.grab()
    tip = QLabel()
    tip.setTextFormat(Qt.TextFormat.RichText)
    tip.setText(view.tooltip_at(start))
    tip.setWordWrap(True)
    tip.setFixedWidth(520)
    tip.setStyleSheet(
        "QLabel { background: #ffffe1; color: #111; border: 1px solid #888; padding: 6px; }"
    )
    tip.adjustSize()
    cursor = view.textCursor()
    cursor.setPosition(start)
    where = view.viewport().mapTo(window, view.cursorRect(cursor).bottomLeft() + QPoint(0, 40))
    painter = QPainter(shot)
    painter.drawPixmap(where, tip.grab())
    painter.end()
    shot.save(str(out / "grounding-sentence-marks.png"))

    # 2. Whole documents: ticked in the Conversation panel, said under the reply.
    engine.script = WHOLE
    whole = ChatOptions(collections=["debian"], top_k=2, whole_documents=True)
    window.session.new_chat()
    window.session.set_options(whole)
    panel.set_options(whole)
    panel.show()
    panel.raise_()
    ask("How do I change the host name?")
    panel.set_available_collections(["debian", "notes"])
    panel.set_options(whole)
    for _ in range(10):
        app.processEvents()
    window.grab().save(str(out / "grounding-whole-documents.png"))
    window.close()
    controller.shutdown()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots"))
