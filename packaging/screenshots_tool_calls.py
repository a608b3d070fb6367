"""Screenshots for the README: a tool call in the window with the default model.

Qwen2.5-Coder-1.5B-Instruct at temperature 0 is asked a product with the
calculator on (and "Ask before built-in tools too", so the approval shows): the
first picture is the approval row under the streaming reply, the second the
finished reply with probabilities shown and the token where the model decided
to call selected (outlined in bold), beside it what hovering it shows: the
decision's note and its alternatives, each marked as starting a call or text.

    QT_QPA_PLATFORM=offscreen python packaging/screenshots_tool_calls.py MODEL.gguf docs/screenshots
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

QUESTION = "What is 3847 * 2931?"


def main(model: Path, out: Path) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["GLASSBOX_HOME"] = tempfile.mkdtemp(prefix="glassbox-shots-")
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication, QHBoxLayout, QLabel, QWidget

    from desktop_app.app import build
    from desktop_app.core.sampling import SamplingParams
    from desktop_app.core.settings import Settings
    from desktop_app.ui.chat.tool_approval import ToolApprovalRow
    from desktop_app.workers.engine.client import EngineClient
    from desktop_app.workers.engine.inference import InferenceController

    app = QApplication.instance() or QApplication(sys.argv)

    def wait(what: Callable[[], bool], seconds: float = 600) -> None:
        end = time.monotonic() + seconds
        while not what():
            if time.monotonic() > end:
                raise TimeoutError("the window did not get there in time")
            app.processEvents()
            time.sleep(0.01)
        for _ in range(10):
            app.processEvents()

    settings = Settings(n_ctx=4096).with_sampling(SamplingParams.greedy(max_tokens=80))
    controller = InferenceController(
        EngineClient, settings, resolver=lambda spec, progress: model, remember_model=False
    )
    window = build(controller, model_spec=str(model)).window
    window.resize(1280, 820)
    window.show()
    wait(lambda: controller.model_loaded is not None)
    session = window.session
    session.options.tools = ["calculator"]
    session.options.tools_ask_builtin = True
    # The Conversation panel in front, with the chat's tool switches.
    window._options.set_options(session.options)
    window._options.raise_()
    window._options.tools.list.scrollToTop()
    ended: list[object] = []
    session.sig_reply_ended.connect(ended.append)
    session.send(QUESTION)
    slot = window._tool_slot
    wait(lambda: isinstance(slot.widget, ToolApprovalRow))
    out.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(out / "tool-approval.png"))
    row = slot.widget
    assert isinstance(row, ToolApprovalRow)
    row.allow_once.click()
    wait(lambda: bool(ended))
    session.wait_saved()
    reply = session.path[-1]
    records = session.store.read_tokens(reply.id).records
    index = int(reply.meta["tool_steps"][0]["decision"])
    window._probs_check.setChecked(True)
    window.view.select_token(reply.id, index)
    for _ in range(20):
        app.processEvents()
    shot = QWidget()
    layout = QHBoxLayout(shot)
    picture = QLabel()
    grabbed = window.view.grab()
    height = min(grabbed.height(), int(window.view.document().size().height()) + 24)
    picture.setPixmap(grabbed.copy(0, 0, grabbed.width(), height))
    layout.addWidget(picture)
    event = records[index].event
    print(f"decision token {index}: id {event.id} {event.text!r} p {event.p:.3f}")
    for cand in event.candidates[:5]:
        print(f"  {cand.id} {cand.text!r} {cand.p_raw:.3f}")
    assert window.view.is_decision(reply.id, index)
    start, _end = window.view.token_span(reply.id, index)
    notes = QLabel(window.view.tooltip_at(start))  # what hovering the token shows
    notes.setWordWrap(True)
    notes.setMaximumWidth(420)
    notes.setTextFormat(Qt.TextFormat.RichText)  # built with every token text escaped
    notes.setAlignment(Qt.AlignmentFlag.AlignTop)
    notes.setStyleSheet("QLabel { background: #ffffe8; border: 1px solid #bbb; padding: 6px; }")
    layout.addWidget(notes)
    shot.show()
    for _ in range(10):
        app.processEvents()
    shot.grab().save(str(out / "tool-decision-token.png"))
    window.close()
    controller.shutdown()


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
