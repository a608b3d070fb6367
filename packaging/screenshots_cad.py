"""Screenshot for the README: context-aware decoding in the window.

A real reply of Gemma 3 270M to a question about a short document, measured with
α = 0 (each token's probability with and without the document), shown in the chat
view with View → Mark words from the documents on, the notes of one such token,
and the Conversation panel's CAD toggle.

    QT_QPA_PLATFORM=offscreen python packaging/screenshots_cad.py MODEL.gguf docs/screenshots
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

DOCUMENT = (
    "The lighthouse on Kestrel Point was built in 1887 by the engineer Mara Vell; "
    "its lamp can be seen 22 nautical miles away."
)
QUESTION = "Who built the lighthouse on Kestrel Point, and when?"


def main(model: Path, out: Path) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["GLASSBOX_HOME"] = tempfile.mkdtemp(prefix="glassbox-shots-")
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication, QHBoxLayout, QLabel, QVBoxLayout, QWidget

    from desktop_app.core.chat.store import ChatStore
    from desktop_app.core.engine.contrast import from_documents
    from desktop_app.core.engine.llama_backend import LlamaCppEngine
    from desktop_app.core.engine.protocol import (
        ContrastSettings,
        EngineConfig,
        GenerateRequest,
        Message,
        TokenEvent,
    )
    from desktop_app.core.sampling import SamplingParams
    from desktop_app.ui.chat.options import ChatOptionsPanel
    from desktop_app.ui.chat.session import ChatOptions
    from desktop_app.ui.chat.view import ChatView, MessageView, token_tooltip

    engine = LlamaCppEngine()
    engine.load(EngineConfig(str(model), n_ctx=1024))
    system = Message("system", "Answer the question from the document, in one sentence.")
    asked = f"Question: {QUESTION}"
    request = GenerateRequest(
        params=SamplingParams(temperature=0.0, max_tokens=40),
        messages=(system, Message("user", f"Document: {DOCUMENT}\n{asked}")),
        candidates=5,
        contrast=ContrastSettings(0.0, messages=(system, Message("user", asked))),
    )
    tokens = tuple(e for e in engine.generate(request) if isinstance(e, TokenEvent))
    engine.unload()

    app = QApplication.instance() or QApplication(sys.argv)
    window = QWidget()
    window.setWindowTitle("Context-aware decoding")
    row = QHBoxLayout(window)
    left = QVBoxLayout()
    view = ChatView()
    view.set_show_probabilities(True)
    view.set_mark_documents(True)
    view.show_messages(
        [
            MessageView(1, "user", f"{QUESTION}\n\n(Document: {DOCUMENT})"),
            MessageView(2, "assistant", "".join(t.text for t in tokens), tokens=tokens),
        ]
    )
    left.addWidget(view, 3)
    marked = [t for t in tokens if from_documents(t.p_with, t.p_without)]
    shown = marked[0] if marked else tokens[0]
    notes = QLabel(token_tooltip(shown))
    notes.setTextFormat(Qt.TextFormat.RichText)  # built with every token text escaped
    notes.setStyleSheet("QLabel { background: #ffffe8; border: 1px solid #bbb; padding: 6px; }")
    left.addWidget(notes, 1)
    row.addLayout(left, 3)
    store = ChatStore(Path(os.environ["GLASSBOX_HOME"]) / "chats.sqlite3")
    panel = ChatOptionsPanel(store)
    panel.set_available_collections(["notes"])
    panel.set_options(ChatOptions(collections=["notes"], cad=0.5))
    row.addWidget(panel, 2)
    window.resize(1180, 640)
    window.show()
    app.processEvents()
    out.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(out / "cad-token-view.png"))
    store.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
