"""The tool runner on the controller's engine thread: what it tells the GUI thread, in
order, and Stop before a server has started."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

from pytestqt.qtbot import QtBot

from desktop_app.core.engine.fake import FakeEngine
from desktop_app.core.engine.protocol import Event, GenerateRequest, Message
from desktop_app.core.sampling import SamplingParams
from desktop_app.core.settings import Settings
from desktop_app.core.tools.approval import ApprovalRequest
from desktop_app.core.tools.loop import ToolStep
from desktop_app.core.tools.mcp_client import McpServerConfig
from desktop_app.workers.engine.inference import InferenceController
from desktop_app.workers.engine.tool_runner import ChatTools, ToolRun, ToolRunner, final_done

CALL = '\n{"name": "calculator", "arguments": {"expression": "6*7"}}\n</tool_call>'


class ScriptedEngine(FakeEngine):
    def __init__(self, scripts: list[str]) -> None:
        super().__init__()
        self.scripts = list(scripts)

    def generate(self, request: GenerateRequest) -> Iterator[Event]:
        self.script = self.scripts.pop(0) if len(self.scripts) > 1 else self.scripts[0]
        return super().generate(request)


def controller_for(qtbot: QtBot, tmp_path: Path, engine: FakeEngine) -> InferenceController:
    controller = InferenceController(
        lambda: engine,
        Settings(),
        settings_path=tmp_path / "settings.json",
        resolver=lambda spec, progress: Path(spec),
        remember_model=False,
    )
    with qtbot.waitSignal(controller.sig_model_loaded, timeout=5000):
        controller.load_model(str(tmp_path / "model.gguf"))
    return controller


def request() -> GenerateRequest:
    return GenerateRequest(
        params=SamplingParams.greedy(),
        messages=(Message("user", "What is 6*7?"),),
        candidates=5,
    )


def test_the_news_comes_in_order_with_the_decision_before_the_call(
    qtbot: QtBot, tmp_path: Path
) -> None:
    engine = ScriptedEngine(["Let me see. <tool_call>", CALL, "42."])
    controller = controller_for(qtbot, tmp_path, engine)
    runner = ToolRunner(controller)
    news: list[object] = []
    runner.sig_tokens.connect(lambda tokens: news.extend(("token", t.text) for t in tokens))
    runner.sig_decision.connect(lambda: news.append("decision"))

    def on_approval(_request: ApprovalRequest) -> None:
        news.append("approval")
        runner.decide("once")

    runner.sig_approval.connect(on_approval)
    runner.sig_step.connect(lambda step: news.append(("step", step.status)))
    try:
        with qtbot.waitSignal(runner.sig_done, timeout=10000) as done:
            runner.start(request(), ChatTools(builtin=("calculator",), ask_builtin=True))
        run = done.args[0]
        assert isinstance(run, ToolRun) and run.reply is not None and not run.cancelled
        assert run.reply.text == "42."
        assert final_done(run).finish_reason == "eos" and final_done(run).text == "42."
        at = news.index("decision")
        # The reply's own text, then the decision token ("<" starts "<tool_call>"), the
        # call's tokens, the approval, the outcome and the answer.
        before = [item[1] for item in news[:at] if isinstance(item, tuple)]
        assert "".join(before) == "Let me see. "
        assert news[at + 1] == ("token", "<")
        assert news.index("approval") < news.index(("step", "ok")) < news.index(("token", "4"))
        assert not runner.running
    finally:
        controller.shutdown()


def test_stop_while_a_server_is_starting_ends_at_once(qtbot: QtBot, tmp_path: Path) -> None:
    engine = ScriptedEngine(["never used"])
    controller = controller_for(qtbot, tmp_path, engine)
    runner = ToolRunner(controller)
    # A "server" that never speaks MCP and never exits: it would be waited for 20 s.
    # (One that read a line and ended, ``input()``, could fail the start before Stop.)
    silent = McpServerConfig(
        "silent", command=sys.executable, args=("-c", "import time; time.sleep(60)")
    )
    steps: list[ToolStep] = []
    asked: list[ApprovalRequest] = []
    runner.sig_step.connect(steps.append)
    runner.sig_approval.connect(asked.append)
    try:
        with qtbot.waitSignal(runner.sig_done, timeout=10000) as done:
            runner.start(request(), ChatTools(servers=(silent,)))
            qtbot.wait(200)
            runner.stop()
        run = done.args[0]
        assert run.cancelled and run.reply is None
        assert final_done(run).finish_reason == "cancelled"
        assert not steps and not asked and not engine.requests
    finally:
        runner.close_servers()
        controller.shutdown()


NOTES_SERVER = str(Path(__file__).resolve().parents[2] / "mcp_notes_server.py")


def test_a_server_cut_off_in_one_reply_is_started_again_for_the_next(
    qtbot: QtBot, tmp_path: Path
) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "a.txt").write_text("first note", encoding="utf-8")
    flood = '\n{"name": "flood_note", "arguments": {}}\n</tool_call>'
    read = '\n{"name": "list_notes", "arguments": {}}\n</tool_call>'
    engine = ScriptedEngine(["<tool_call>", flood, "Too long.", "<tool_call>", read, "Done."])
    controller = controller_for(qtbot, tmp_path, engine)
    runner = ToolRunner(controller)
    runner.sig_approval.connect(lambda _request: runner.decide("once"))
    steps: list[ToolStep] = []
    runner.sig_step.connect(steps.append)
    notes = McpServerConfig(
        "notes", command=sys.executable, args=(NOTES_SERVER, str(folder), "--mode", "hostile")
    )
    try:
        for _ in range(2):
            with qtbot.waitSignal(runner.sig_done, timeout=60000):
                runner.start(request(), ChatTools(servers=(notes,)))
        # The 5 MB result ended the first connection; the next reply has the server back.
        assert [s.call.name for s in steps] == ["flood_note", "list_notes"]
        assert steps[0].status == "error" and "not read" in steps[0].result.text
        assert steps[1].status == "ok" and "a.txt" in steps[1].result.text
    finally:
        runner.close_servers()
        controller.shutdown()
