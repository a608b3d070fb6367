"""Tool calls in the window with the default model (Qwen2.5-Coder-1.5B-Instruct) at
temperature 0, the call's arguments written under the grammar.

1. The calculator: the question gets a call, the approval row under the reply (the
   test clicks Allow once), the result, and a final answer holding the result.
2. A real MCP server (tests/mcp_notes_server.py, started by the window as a child
   process): the same with its read_note tool.
3. The knowledge search as a tool over a small collection from tests/data/docs: the
   passages it found are the reply's numbered sources.

The tests assert the structure (a valid call to the right tool, its result in the
answer, the decision token with its alternatives), not the wording.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from desktop_app.app import build
from desktop_app.core.sampling import SamplingParams
from desktop_app.core.settings import Settings
from desktop_app.core.tools.builtin.calculator import evaluate
from desktop_app.ui.chat.tool_approval import ToolApprovalRow
from desktop_app.ui.window.main_window import MainWindow
from desktop_app.workers.engine.client import EngineClient
from desktop_app.workers.engine.inference import InferenceController

pytestmark = pytest.mark.e2e

TIMEOUT_MS = 240_000
TESTS = Path(__file__).resolve().parents[1]
NOTES_SERVER = TESTS / "mcp_notes_server.py"
DOC = TESTS / "data" / "docs" / "en_sampling_and_decoding.md"


def open_window(qtbot: QtBot, qwen_path: Path, settings: Settings) -> MainWindow:
    settings = settings.with_sampling(SamplingParams.greedy(max_tokens=80))
    controller = InferenceController(
        EngineClient, settings, resolver=lambda spec, progress: qwen_path, remember_model=False
    )
    w = build(controller, model_spec=str(qwen_path)).window
    qtbot.addWidget(w)
    with qtbot.waitSignal(controller.sig_model_loaded, timeout=TIMEOUT_MS):
        w.show()
    return w


@pytest.fixture
def window(qtbot: QtBot, qwen_path: Path) -> Iterator[MainWindow]:
    w = open_window(qtbot, qwen_path, Settings(n_ctx=4096))
    yield w
    w.close()


def allow_when_asked(qtbot: QtBot, window: MainWindow) -> ToolApprovalRow:
    """Wait for the approval row under the reply and click Allow once."""
    slot = window._tool_slot
    qtbot.waitUntil(lambda: isinstance(slot.widget, ToolApprovalRow), timeout=TIMEOUT_MS)
    row = slot.widget
    assert isinstance(row, ToolApprovalRow) and row.isVisible()
    # Inside the transcript, under the streaming reply.
    assert row.parent() is window.view.viewport()
    row.allow_once.click()
    return row


def digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def test_a_calculator_question_gets_the_call_the_approval_the_result_and_the_answer(
    qtbot: QtBot, window: MainWindow
) -> None:
    session = window.session
    session.options.tools = ["calculator"]
    session.options.tools_ask_builtin = True  # so that the built-in asks too
    with qtbot.waitSignal(session.sig_reply_ended, timeout=TIMEOUT_MS):
        session.send("What is 3847 * 2931?")
        row = allow_when_asked(qtbot, window)
        assert row.request.spec.name == "calculator"
    session.wait_saved()
    reply = session.path[-1]
    assert reply.status == "complete"
    [step, *_] = reply.meta["tool_steps"]
    assert step["name"] == "calculator" and step["status"] == "ok"
    assert evaluate(json.loads(step["arguments"])["expression"]) == 3847 * 2931
    assert "11275557" in digits(reply.content)
    # The decision: the token where the call began has its alternatives, and the
    # argument tokens after it carry their probabilities.
    records = session.store.read_tokens(reply.id).records
    at = step["decision"]
    assert at >= 0
    decision = records[at].event
    assert len(decision.candidates) > 1
    arguments = [r.event for r in records[at + 1 : step["end"]] if r.event.id >= 0]
    assert arguments and all(0.0 < t.p <= 1.0 for t in arguments)
    # The transcript shows the call, its result and the answer, and the decision
    # token is shown as written, marked, its tooltip telling a call from plain text.
    shown = window.transcript_text()
    assert "calculator" in shown and "11275557" in shown
    assert decision.text.strip() and window.view.is_decision(reply.id, at)
    start, end = window.view.token_span(reply.id, at)
    assert window.view.toPlainText()[start:end] == decision.text
    tip = window.view.tooltip_at(start)
    assert "decided to call a tool" in tip and ">call</td>" in tip and ">text</td>" in tip
    # Clicking a plain-text alternative at the decision token branches the reply
    # from there: it starts with that token, and the model goes on from it.
    plain = next(c for c in decision.candidates if c.text.strip() and c.text.strip()[0].isalpha())
    with qtbot.waitSignal(session.sig_reply_ended, timeout=TIMEOUT_MS):
        window.view.sig_alternative.emit(reply.id, at, plain.id)
        if session.options.tools_ask_builtin:
            # If the model still calls later, the test allows it again.
            qtbot.waitUntil(
                lambda: not session.busy or window._tool_slot.widget is not None,
                timeout=TIMEOUT_MS,
            )
            if window._tool_slot.widget is not None:
                allow_when_asked(qtbot, window)
    session.wait_saved()
    branch = session.path[-1]
    assert branch.id != reply.id and branch.parent_id == reply.parent_id
    branch_records = session.store.read_tokens(branch.id).records
    assert branch_records[at].event.text == plain.text and branch_records[at].forced


def test_a_real_mcp_server_tool_is_called_after_approval(
    qtbot: QtBot, qwen_path: Path, tmp_path: Path
) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "groceries.txt").write_text("eggs, milk and 7 apples\n", encoding="utf-8")
    server = {"name": "notes", "command": sys.executable, "args": [str(NOTES_SERVER), str(notes)]}
    w = open_window(qtbot, qwen_path, Settings(n_ctx=4096, tool_servers=[server]))
    try:
        session = w.session
        session.options.tools = []
        session.options.tool_servers = ["notes"]
        with qtbot.waitSignal(session.sig_reply_ended, timeout=TIMEOUT_MS):
            session.send("Use the read_note tool to read my note groceries.txt. What is in it?")
            row = allow_when_asked(qtbot, w)
            assert row.request.spec.source == "mcp:notes"
        session.wait_saved()
        reply = session.path[-1]
        steps = reply.meta["tool_steps"]
        assert steps and steps[0]["name"] == "read_note" and steps[0]["status"] == "ok"
        assert json.loads(steps[0]["arguments"]) == {"name": "groceries.txt"}
        assert "apples" in steps[0]["result"]
        assert "apples" in reply.content.lower() or "milk" in reply.content.lower()
    finally:
        w.close()
    assert sorted(p.name for p in notes.iterdir()) == ["groceries.txt"]


def test_knowledge_search_as_a_tool_cites_its_passages(qtbot: QtBot, window: MainWindow) -> None:
    knowledge = window._knowledge
    with qtbot.waitSignal(knowledge.sig_ingest_done, timeout=TIMEOUT_MS) as done:
        window.add_documents([str(DOC)])
    assert done.args[0].indexed == 1
    collection = window._knowledge_panel.current_collection()
    assert collection
    session = window.session
    session.options.collections = [collection]
    session.options.tools = ["knowledge"]
    with qtbot.waitSignal(session.sig_reply_ended, timeout=TIMEOUT_MS):
        session.send("Search my documents: what does nucleus (top-p) sampling do?")
    session.wait_saved()
    reply = session.path[-1]
    steps = reply.meta["tool_steps"]
    assert steps and steps[0]["name"] == "search_knowledge" and steps[0]["status"] == "ok"
    citations = reply.meta["citations"]
    assert citations and [c["n"] for c in citations] == list(range(1, len(citations) + 1))
    assert all(Path(c["source"]).name == DOC.name for c in citations)
    assert f"[1] {DOC.name}" in window.transcript_text()
