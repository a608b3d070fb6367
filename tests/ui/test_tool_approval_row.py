"""The approval row: the call shown as plain text, and each answer reaching the gate."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from desktop_app.core.engine.protocol import ToolCall
from desktop_app.core.tools.approval import ApprovalGate, ApprovalRequest
from desktop_app.core.tools.spec import ToolSpec
from desktop_app.ui.chat.tool_approval import ToolApprovalRow

SPEC = ToolSpec(
    "delete_file",
    "Delete a file.",
    {"type": "object", "properties": {"name": {"type": "string"}}},
    source="mcp:<b>notes</b>",
)
CALL = ToolCall("delete_file", '{"name": "<img src=x>a.txt"}')


def test_the_call_is_shown_as_plain_text(qtbot: QtBot) -> None:
    row = ToolApprovalRow(ApprovalRequest(SPEC, CALL))
    qtbot.addWidget(row)
    assert row.title.textFormat() == Qt.TextFormat.PlainText
    assert row.arguments.textFormat() == Qt.TextFormat.PlainText
    assert "delete_file" in row.title.text() and "<b>notes</b>" in row.title.text()
    assert '"name": "<img src=x>a.txt"' in row.arguments.text()


@pytest.mark.parametrize(
    ("button", "decision", "allowed"),
    [("allow_once", "once", True), ("allow_always", "always", True), ("deny", "deny", False)],
)
def test_each_answer_reaches_the_waiting_loop(
    qtbot: QtBot, button: str, decision: str, allowed: bool
) -> None:
    gate = ApprovalGate(on_request=lambda r: None)
    result: list[bool] = []
    worker = threading.Thread(target=lambda: result.append(gate.approve(SPEC, CALL)))
    worker.start()
    qtbot.waitUntil(lambda: gate.pending is not None)
    assert gate.pending is not None
    row = ToolApprovalRow(gate.pending)
    qtbot.addWidget(row)
    row.sig_decided.connect(gate.decide)
    with qtbot.waitSignal(row.sig_decided) as blocker:
        getattr(row, button).click()
    assert blocker.args == [decision]
    worker.join(5)
    assert result == [allowed]
    assert row.deny.isHidden() and row.state.text()
    assert (SPEC.name in gate.always) == (decision == "always")
