"""Replies with tools in a chat, with the fake engine replaying one script per generation:
the call and its tokens in the reply, approval (allow, always, deny), Stop while a
call waits, a tool server that fails, the steps kept with the chat, a branch at the
decision token, and the window's event loop running all the while."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtGui import QFont, QTextCursor
from PySide6.QtWidgets import QTextBrowser
from pytestqt.qtbot import QtBot

from desktop_app.core.chat.store import ChatStore
from desktop_app.core.engine.fake import FakeEngine
from desktop_app.core.engine.protocol import ErrorEvent, Event, GenerateRequest
from desktop_app.core.sampling import SamplingParams
from desktop_app.core.settings import Settings
from desktop_app.core.tools.approval import ApprovalRequest
from desktop_app.ui.chat.session import TYPED_TOKEN_ID, ChatOptions, ChatSession
from desktop_app.ui.chat.view import ChatView
from desktop_app.workers.engine.inference import InferenceController

TIMEOUT_MS = 10000
CALL = '\n{"name": "calculator", "arguments": {"expression": "%s"}}\n</tool_call>'
NOTES_SERVER = Path(__file__).resolve().parents[1] / "mcp_notes_server.py"


class ScriptedEngine(FakeEngine):
    """Replays one script per generation, in order; the last one again when they run out."""

    def __init__(self, scripts: list[str], delay_s: float = 0.0) -> None:
        super().__init__(delay_s=delay_s)
        self.scripts = list(scripts)

    def generate(self, request: GenerateRequest) -> Iterator[Event]:
        self.script = self.scripts.pop(0) if len(self.scripts) > 1 else self.scripts[0]
        return super().generate(request)


def asked_count(asked: list[ApprovalRequest], n: int) -> bool:
    return len(asked) == n


def make_session(
    qtbot: QtBot, tmp_path: Path, engine: FakeEngine, settings: Settings | None = None
) -> tuple[ChatSession, InferenceController, ChatStore]:
    settings = (settings or Settings()).with_sampling(SamplingParams.greedy())
    controller = InferenceController(
        lambda: engine,
        settings,
        settings_path=tmp_path / "settings.json",
        resolver=lambda spec, progress: Path(spec),
        remember_model=False,
    )
    store = ChatStore(tmp_path / "chats.sqlite3")
    session = ChatSession(store, controller)
    session.set_params(SamplingParams.greedy())
    with qtbot.waitSignal(controller.sig_model_loaded, timeout=TIMEOUT_MS):
        controller.load_model(str(tmp_path / "model.gguf"))
    return session, controller, store


@pytest.fixture
def engine() -> ScriptedEngine:
    return ScriptedEngine(["<tool_call>", CALL % "6*7", "It is 42."])


@pytest.fixture
def session(qtbot: QtBot, tmp_path: Path, engine: ScriptedEngine) -> Iterator[ChatSession]:
    s, controller, store = make_session(qtbot, tmp_path, engine)
    s.set_options(ChatOptions(tools=["calculator"], tools_ask_builtin=True))
    yield s
    s.close()
    controller.shutdown()
    store.close()


def ask_and_answer(qtbot: QtBot, session: ChatSession, decision: str) -> ApprovalRequest:
    """Send a question; answer the approval with ``decision``; wait for the reply's end."""
    asked: list[ApprovalRequest] = []
    session.sig_tool_approval.connect(asked.append)
    with qtbot.waitSignal(session.sig_reply_ended, timeout=TIMEOUT_MS):
        assert session.send("What is 6*7?")
        qtbot.waitUntil(lambda: bool(asked), timeout=TIMEOUT_MS)
        session.decide_tool(decision)
    session.wait_saved()
    return asked[0]


def test_an_allowed_call_shows_its_tokens_result_and_the_answer(
    qtbot: QtBot, session: ChatSession, engine: ScriptedEngine
) -> None:
    request = ask_and_answer(qtbot, session, "once")
    assert request.spec.name == "calculator"
    assert json.loads(request.call.arguments) == {"expression": "6*7"}
    reply = session.path[-1]
    assert reply.role == "assistant" and reply.status == "complete"
    assert reply.content == "It is 42."  # the final answer is the reply's content
    [step] = reply.meta["tool_steps"]
    assert step["name"] == "calculator" and step["status"] == "ok"
    assert step["result"] == "6*7 = 42"
    # The token view holds the decision (the first token of "<tool_call>", with its
    # alternatives), the call's tokens, the typed outcome and the answer, in order.
    records = session.store.read_tokens(reply.id).records
    text = "".join(r.event.text for r in records)
    # (the fake vocabulary has no newline: it writes a space instead)
    assert text.startswith('< {"name": "calculator", "arguments": {"expression": "6*7"}}')
    assert "6*7 = 42" in text and text.endswith("It is 42.")
    assert step["decision"] == 0
    decision = records[0].event
    assert decision.text == "<" and len(decision.candidates) > 1
    typed = [r for r in records if r.event.id == TYPED_TOKEN_ID]
    assert typed and all(r.forced for r in typed)
    assert [r.event.index for r in records] == list(range(len(records)))
    # The model saw the result as fenced data (the fake model's template has no tools:
    # the fallback format gives it back in a user message).
    last = engine.requests[-1].messages or ()
    assert any("BEGIN result of calculator" in m.content and "6*7 = 42" in m.content for m in last)


def test_a_denied_call_is_reported_to_the_model_and_does_not_run(
    qtbot: QtBot, session: ChatSession, engine: ScriptedEngine
) -> None:
    ask_and_answer(qtbot, session, "deny")
    reply = session.path[-1]
    [step] = reply.meta["tool_steps"]
    assert step["status"] == "denied" and "42" not in step["result"]
    last = engine.requests[-1].messages or ()
    told = [m.content for m in last if "BEGIN result of calculator" in m.content]
    assert told and "denied" in told[0]


def test_always_for_this_chat_is_remembered_and_not_asked_again(
    qtbot: QtBot, session: ChatSession, engine: ScriptedEngine
) -> None:
    ask_and_answer(qtbot, session, "always")
    assert session.options.tools_always == ["calculator"]
    saved = session.store.chat(session.chat_id or 0).options
    assert saved["tools_always"] == ["calculator"]
    engine.scripts = ["<tool_call>", CALL % "2+2", "It is 4."]
    asked: list[object] = []
    session.sig_tool_approval.connect(asked.append)
    with qtbot.waitSignal(session.sig_reply_ended, timeout=TIMEOUT_MS):
        session.send("And 2+2?")
    assert not asked
    assert session.path[-1].meta["tool_steps"][0]["result"] == "2+2 = 4"


def test_stop_while_a_call_waits_ends_the_reply(
    qtbot: QtBot, session: ChatSession, engine: ScriptedEngine
) -> None:
    asked: list[ApprovalRequest] = []
    session.sig_tool_approval.connect(asked.append)
    with qtbot.waitSignal(session.sig_reply_ended, timeout=TIMEOUT_MS):
        session.send("What is 6*7?")
        qtbot.waitUntil(lambda: bool(asked), timeout=TIMEOUT_MS)
        session.stop()
    reply = session.path[-1]
    assert reply.status == "cancelled"
    assert not session.busy
    # The next question works, and asks again.
    engine.scripts = ["<tool_call>", CALL % "6*7", "It is 42."]
    with qtbot.waitSignal(session.sig_reply_ended, timeout=TIMEOUT_MS):
        session.send("Again?")
        qtbot.waitUntil(lambda: len(asked) == 2, timeout=TIMEOUT_MS)
        session.decide_tool("once")


def test_the_steps_come_back_when_the_chat_is_opened_again(
    qtbot: QtBot, session: ChatSession
) -> None:
    ask_and_answer(qtbot, session, "once")
    chat_id = session.chat_id or 0
    shown: list[list[object]] = []
    session.sig_show.connect(shown.append)
    session.new_chat()
    session.open_chat(chat_id)
    reply = shown[-1][-1]
    text = "".join(t.text for t in reply.tokens)  # type: ignore[attr-defined]
    assert "6*7 = 42" in text and text.startswith("<")


def decision_shown(view: ChatView, message_id: int) -> None:
    """The reply's first token is shown marked as the decision, its tooltip saying so
    and telling a call from plain text among its candidates."""
    assert view.is_decision(message_id, 0) and not view.is_decision(message_id, 1)
    start, end = view.token_span(message_id, 0)
    assert view.toPlainText()[start:end] == "<"
    cursor = QTextCursor(view.document())
    cursor.setPosition(end)  # the format of the character before
    assert cursor.charFormat().fontWeight() == QFont.Weight.Bold
    assert cursor.charFormat().fontUnderline()
    assert cursor.charFormat().foreground().color().name() == "#1a5fb4"
    tip = view.tooltip_at(start)
    assert "decided to call a tool" in tip
    assert "<td style='padding-left:12px'>call</td>" in tip
    assert "<td style='padding-left:12px'>text</td>" in tip
    assert "branch without the call" in tip
    view.select_token(message_id, 0)  # a screen reader hears the decision too
    assert "decided to call a tool" in view.accessibleDescription()
    view.select_token(message_id, 1)
    assert "decided to call" not in view.accessibleDescription()
    # Any other token's tooltip is the usual one.
    after = view.tooltip_at(view.token_span(message_id, 1)[0])
    assert after and "decided to call" not in after


def test_the_decision_token_is_marked_with_a_note_as_it_streams_and_when_reopened(
    qtbot: QtBot, session: ChatSession
) -> None:
    view = ChatView()
    qtbot.addWidget(view)
    session.sig_show.connect(view.show_messages)
    session.sig_append.connect(view.append_message)
    session.sig_reply_begun.connect(view.begin_reply)
    session.sig_reply_tokens.connect(view.append_tokens)
    session.sig_reply_ended.connect(view.end_reply)
    ask_and_answer(qtbot, session, "once")
    reply = session.path[-1]
    decision_shown(view, reply.id)
    chat_id = session.chat_id or 0
    session.new_chat()
    session.open_chat(chat_id)
    decision_shown(view, reply.id)
    # A token after the decision keeps its place: the same text as stored.
    records = session.store.read_tokens(reply.id).records
    for i in (0, 1, len(records) - 1):
        start, end = view.token_span(reply.id, i)
        assert view.toPlainText()[start:end] == records[i].event.text


def test_an_alternative_at_the_decision_token_branches_without_the_call(
    qtbot: QtBot, session: ChatSession, engine: ScriptedEngine
) -> None:
    ask_and_answer(qtbot, session, "once")
    reply = session.path[-1]
    decision = session.store.read_tokens(reply.id).records[0].event
    other = next(c for c in decision.candidates if c.text != "<")
    engine.scripts = ["-- just text."]
    with qtbot.waitSignal(session.sig_reply_ended, timeout=TIMEOUT_MS):
        session.branch_from_alternative(reply.id, 0, other.id)
    session.wait_saved()
    branch = session.path[-1]
    assert branch.id != reply.id and branch.meta.get("tool_steps") == []
    assert branch.content.startswith(other.text)
    # The branch went on from the chosen token, with the tools still offered.
    assert engine.requests[-1].assistant_prefix == other.text
    system = (engine.requests[-1].messages or ())[0]
    assert system.role == "system" and '"calculator"' in system.content


def test_the_window_keeps_running_during_a_reply_with_tools(qtbot: QtBot, tmp_path: Path) -> None:
    engine = ScriptedEngine(["<tool_call>", CALL % "6*7", "It is 42, computed."], delay_s=0.01)
    s, controller, store = make_session(qtbot, tmp_path, engine)
    s.set_options(ChatOptions(tools=["calculator"], tools_ask_builtin=True))
    ticks = [0]
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.__setitem__(0, ticks[0] + 1))
    timer.start()
    asked: list[object] = []
    s.sig_tool_approval.connect(asked.append)
    try:
        with qtbot.waitSignal(s.sig_reply_ended, timeout=TIMEOUT_MS):
            s.send("What is 6*7?")
            qtbot.waitUntil(lambda: bool(asked), timeout=TIMEOUT_MS)
            before = ticks[0]
            qtbot.wait(200)  # the engine thread waits for the answer; the window does not
            assert ticks[0] > before
            s.decide_tool("once")
        # About 70 tokens at 10 ms each and a 200 ms wait: the timer ran throughout.
        assert ticks[0] >= 20
    finally:
        timer.stop()
        s.close()
        controller.shutdown()
        store.close()


def test_a_tool_server_that_crashes_gives_a_clear_error_in_the_reply(
    qtbot: QtBot, tmp_path: Path
) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    server = {
        "name": "notes",
        "command": sys.executable,
        "args": [str(NOTES_SERVER), str(notes), "--mode", "crash"],
    }
    settings = Settings(tool_servers=[server])
    crash = '\n{"name": "crash_now", "arguments": {}}\n</tool_call>'
    engine = ScriptedEngine(["<tool_call>", crash, "The server failed."])
    s, controller, store = make_session(qtbot, tmp_path, engine, settings)
    s.set_options(ChatOptions(tool_servers=["notes"]))
    asked: list[ApprovalRequest] = []
    s.sig_tool_approval.connect(asked.append)
    try:
        with qtbot.waitSignal(s.sig_reply_ended, timeout=60000):
            s.send("Crash, please.")
            qtbot.waitUntil(lambda: bool(asked), timeout=30000)
            assert asked[0].spec.source == "mcp:notes"  # a server's tool always asks
            s.decide_tool("once")
        s.wait_saved()
        reply = s.path[-1]
        [step] = reply.meta["tool_steps"]
        assert step["status"] == "error" and "notes" in step["result"]
        text = "".join(r.event.text for r in s.store.read_tokens(reply.id).records)
        assert "crash_now failed" in text
        assert reply.content == "The server failed."
    finally:
        s.close()
        controller.shutdown()
        store.close()


def test_a_tool_server_that_does_not_start_is_named_in_the_reply(
    qtbot: QtBot, tmp_path: Path
) -> None:
    server = {"name": "broken", "command": sys.executable, "args": ["-c", "raise SystemExit(3)"]}
    engine = ScriptedEngine(["No tools today."])
    s, controller, store = make_session(qtbot, tmp_path, engine, Settings(tool_servers=[server]))
    s.set_options(ChatOptions(tool_servers=["broken"]))
    try:
        with qtbot.waitSignal(s.sig_reply_ended, timeout=60000):
            s.send("Hello?")
        s.wait_saved()
        reply = s.path[-1]
        text = "".join(r.event.text for r in s.store.read_tokens(reply.id).records)
        assert "'broken'" in text and "could not be started" in text
        assert reply.content == "No tools today."
    finally:
        s.close()
        controller.shutdown()
        store.close()


def test_the_same_call_again_is_not_run_and_the_reply_says_so(
    qtbot: QtBot, session: ChatSession, engine: ScriptedEngine
) -> None:
    engine.scripts = ["<tool_call>", CALL % "6*7", "<tool_call>", CALL % "6*7", "It is 42."]
    ask_and_answer(qtbot, session, "always")
    reply = session.path[-1]
    assert len(reply.meta["tool_steps"]) == 1 and reply.content == "It is 42."
    text = "".join(r.event.text for r in session.store.read_tokens(reply.id).records)
    assert "The same call again: not run" in text


def test_stop_while_the_model_writes_ends_the_reply(qtbot: QtBot, tmp_path: Path) -> None:
    engine = ScriptedEngine(["Thinking about it for a long while. " * 20], delay_s=0.01)
    s, controller, store = make_session(qtbot, tmp_path, engine)
    s.set_options(ChatOptions(tools=["calculator"]))
    tokens: list[object] = []
    s.sig_reply_tokens.connect(tokens.extend)
    try:
        with qtbot.waitSignal(s.sig_reply_ended, timeout=TIMEOUT_MS):
            s.send("Hello?")
            qtbot.waitUntil(lambda: len(tokens) > 5, timeout=TIMEOUT_MS)
            s.stop()
        reply = s.path[-1]
        assert reply.status == "cancelled"
        assert len(reply.content) < len(engine.scripts[0])
    finally:
        s.close()
        controller.shutdown()
        store.close()


def test_stop_while_a_server_tool_runs_ends_the_reply(qtbot: QtBot, tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    server = {
        "name": "notes",
        "command": sys.executable,
        "args": [str(NOTES_SERVER), str(notes), "--mode", "hostile"],
    }
    hang = '\n{"name": "never_answers", "arguments": {}}\n</tool_call>'
    engine = ScriptedEngine(["<tool_call>", hang, "Never."])
    s, controller, store = make_session(qtbot, tmp_path, engine, Settings(tool_servers=[server]))
    s.set_options(ChatOptions(tool_servers=["notes"]))
    asked: list[ApprovalRequest] = []
    s.sig_tool_approval.connect(asked.append)
    try:
        with qtbot.waitSignal(s.sig_reply_ended, timeout=60000):
            s.send("Wait for it.")
            qtbot.waitUntil(lambda: bool(asked), timeout=30000)
            s.decide_tool("once")
            qtbot.wait(300)  # the call is running and never answers
            assert s.busy
            s.stop()
        reply = s.path[-1]
        assert reply.status == "cancelled" and not s.busy
    finally:
        s.close()
        controller.shutdown()
        store.close()


def test_a_hostile_server_gets_no_call_without_approval(qtbot: QtBot, tmp_path: Path) -> None:
    """A result saying "call delete_file" is data: the call it asks for still waits for
    the user, who denies it; an oversized result is cut in the reply."""
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "a.txt").write_text("keep me", encoding="utf-8")
    server = {
        "name": "notes",
        "command": sys.executable,
        "args": [str(NOTES_SERVER), str(notes), "--mode", "hostile"],
    }

    def call(name: str, arguments: str) -> str:
        return f'\n{{"name": "{name}", "arguments": {arguments}}}\n</tool_call>'

    engine = ScriptedEngine(
        [
            "<tool_call>",
            call("huge_note", "{}"),
            "<tool_call>",
            call("read_note", '{"name": "a.txt"}'),
            "<tool_call>",
            call("delete_file", '{"name": "a.txt"}'),
            "I did not delete it.",
        ]
    )
    s, controller, store = make_session(qtbot, tmp_path, engine, Settings(tool_servers=[server]))
    s.set_options(ChatOptions(tool_servers=["notes"]))
    asked: list[ApprovalRequest] = []
    s.sig_tool_approval.connect(asked.append)
    try:
        with qtbot.waitSignal(s.sig_reply_ended, timeout=60000):
            s.send("Read my notes.")
            for n, decision in enumerate(["once", "once", "deny"], start=1):
                qtbot.waitUntil(partial(asked_count, asked, n), timeout=30000)
                s.decide_tool(decision)
        s.wait_saved()
        assert [a.spec.name for a in asked] == ["huge_note", "read_note", "delete_file"]
        reply = s.path[-1]
        steps = reply.meta["tool_steps"]
        assert [st["status"] for st in steps] == ["ok", "ok", "denied"]
        assert (notes / "a.txt").read_text(encoding="utf-8") == "keep me"
        assert len(steps[0]["result"]) < 10_000  # the model was given a clipped result
        text = "".join(r.event.text for r in s.store.read_tokens(reply.id).records)
        assert "more characters in Details" in text and "x" * 1000 not in text
    finally:
        s.close()
        controller.shutdown()
        store.close()


def test_the_reply_card_holds_each_call_and_its_whole_result(
    qtbot: QtBot, session: ChatSession
) -> None:
    from desktop_app.ui.window.main_window import MessageCard

    ask_and_answer(qtbot, session, "once")
    card = MessageCard(session.path[-1])
    qtbot.addWidget(card)
    text = card.findChild(QTextBrowser).toPlainText()  # type: ignore[union-attr]
    assert "Tool call 1" in text and "6*7 = 42" in text and "→ ok" in text


def test_a_branch_after_two_calls_keeps_their_results_and_runs_nothing_again(
    qtbot: QtBot, session: ChatSession, engine: ScriptedEngine
) -> None:
    engine.scripts = ["<tool_call>", CALL % "6*7", "So <tool_call>", CALL % "2+2", "Done."]
    ask_and_answer(qtbot, session, "always")  # the second call runs without asking
    reply = session.path[-1]
    steps = reply.meta["tool_steps"]
    assert [s["result"] for s in steps] == ["6*7 = 42", "2+2 = 4"]
    records = session.store.read_tokens(reply.id).records
    at = steps[1]["end"]  # the first token of the answer, after both calls
    assert records[at].event.text == "D"
    other = next(c for c in records[at].event.candidates if c.text != "D")
    engine.scripts = ["one."]
    asked_before = len(engine.requests)
    with qtbot.waitSignal(session.sig_reply_ended, timeout=TIMEOUT_MS):
        session.branch_from_alternative(reply.id, at, other.id)
    session.wait_saved()
    branch = session.path[-1]
    # One generation: the answer, going on from the chosen token after both results.
    assert len(engine.requests) == asked_before + 1
    request = engine.requests[-1]
    assert request.assistant_prefix == other.text
    told = " ".join(m.content for m in request.messages or ())
    assert "6*7 = 42" in told and "2+2 = 4" in told
    assert [s["result"] for s in branch.meta["tool_steps"]] == ["6*7 = 42", "2+2 = 4"]
    assert branch.content == other.text + "one."


def test_a_chats_server_starts_once_and_ends_with_the_chat(qtbot: QtBot, tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "a.txt").write_text("hello", encoding="utf-8")
    server = {"name": "notes", "command": sys.executable, "args": [str(NOTES_SERVER), str(notes)]}
    read = '\n{"name": "read_note", "arguments": {"name": "a.txt"}}\n</tool_call>'
    engine = ScriptedEngine(["<tool_call>", read, "It says hello."])
    s, controller, store = make_session(qtbot, tmp_path, engine, Settings(tool_servers=[server]))
    s.set_options(ChatOptions(tool_servers=["notes"], tools_always=["read_note"]))
    runner = s._tools
    try:
        with qtbot.waitSignal(s.sig_reply_ended, timeout=60000):
            s.send("What does a.txt say?")
        assert s.path[-1].meta["tool_steps"][0]["result"] == "hello"
        first = runner._servers["notes"]
        engine.scripts = ["<tool_call>", read, "Still hello."]
        with qtbot.waitSignal(s.sig_reply_ended, timeout=60000):
            s.send("And now?")
        assert runner._servers["notes"] is first  # the same server, not started again
        s.new_chat()
        assert not runner._servers
        qtbot.waitUntil(lambda: first._loop is None, timeout=30000)  # its session ended
    finally:
        s.close()
        controller.shutdown()
        store.close()


def test_a_file_dropped_into_the_chat_is_read_by_its_tool(
    qtbot: QtBot, session: ChatSession, engine: ScriptedEngine, tmp_path: Path
) -> None:
    dropped = tmp_path / "plan.txt"
    dropped.write_text("Ship on Friday.", encoding="utf-8")
    session.set_options(ChatOptions(tools=["files"]))
    session.attach_files([str(dropped)])
    session.attach_files([str(dropped)])  # twice: kept once
    read = '\n{"name": "read_file", "arguments": {"name": "plan.txt"}}\n</tool_call>'
    engine.scripts = ["<tool_call>", read, "Friday."]
    with qtbot.waitSignal(session.sig_reply_ended, timeout=TIMEOUT_MS):
        session.send("When do we ship?")  # a built-in read-only tool: not asked
    session.wait_saved()
    assert session.options.tool_files == [str(dropped)]
    [step] = session.path[-1].meta["tool_steps"]
    assert step["name"] == "read_file" and "Ship on Friday." in step["result"]
    saved = session.store.chat(session.chat_id or 0).options
    assert saved["tool_files"] == [str(dropped)]


class FailingCallEngine(ScriptedEngine):
    """Writes "<tool_call>", then fails while writing the call."""

    def generate(self, request: GenerateRequest) -> Iterator[Event]:
        if request.grammar is not None:
            return iter([ErrorEvent("engine_crashed", "The engine stopped in the call.")])
        return super().generate(request)


def test_an_engine_error_during_a_call_is_said_in_the_reply(qtbot: QtBot, tmp_path: Path) -> None:
    engine = FailingCallEngine(["<tool_call>"])
    s, controller, store = make_session(qtbot, tmp_path, engine)
    s.set_options(ChatOptions(tools=["calculator"]))
    try:
        with qtbot.waitSignal(s.sig_reply_ended, timeout=TIMEOUT_MS):
            s.send("What is 6*7?")
        s.wait_saved()
        reply = s.path[-1]
        assert reply.status == "error" and not s.busy
        assert "The engine stopped in the call." in reply.content
    finally:
        s.close()
        controller.shutdown()
        store.close()


def test_continue_goes_on_from_the_end_of_a_reply_with_its_calls(
    qtbot: QtBot, session: ChatSession, engine: ScriptedEngine
) -> None:
    ask_and_answer(qtbot, session, "once")
    reply = session.path[-1]
    records = session.store.read_tokens(reply.id).records
    engine.scripts = [" Really."]
    with qtbot.waitSignal(session.sig_reply_ended, timeout=TIMEOUT_MS):
        session.continue_reply(reply.id)
    session.wait_saved()
    more = session.path[-1]
    assert more.id != reply.id
    # The loop went on from the answer, with the call and its result before it.
    request = engine.requests[-1]
    assert request.assistant_prefix == "It is 42."
    assert any("6*7 = 42" in m.content for m in request.messages or ())
    assert more.content == "It is 42. Really."
    kept = session.store.read_tokens(more.id).records
    assert [r.event.text for r in kept[: len(records)]] == [r.event.text for r in records]


def test_no_branch_inside_a_calls_arguments(
    qtbot: QtBot, session: ChatSession, engine: ScriptedEngine
) -> None:
    ask_and_answer(qtbot, session, "once")
    reply = session.path[-1]
    records = session.store.read_tokens(reply.id).records
    inside = records[5].event  # a token of the call's JSON
    notices: list[tuple[str, bool]] = []
    session.sig_notice.connect(lambda text, error: notices.append((text, error)))
    asked = len(engine.requests)
    session.branch_from_alternative(reply.id, 5, inside.candidates[-1].id)
    assert notices and "grammar" in notices[-1][0] and notices[-1][1]
    assert len(engine.requests) == asked and not session.busy


def test_the_reply_says_when_the_most_calls_were_made(qtbot: QtBot, tmp_path: Path) -> None:
    engine = ScriptedEngine(
        ["<tool_call>", CALL % "1+1", "<tool_call>", CALL % "2+2", "<tool_call>", "So: 4."]
    )
    s, controller, store = make_session(qtbot, tmp_path, engine, Settings(tools_max_steps=2))
    s.set_options(ChatOptions(tools=["calculator"]))
    try:
        with qtbot.waitSignal(s.sig_reply_ended, timeout=TIMEOUT_MS):
            s.send("Add things.")
        s.wait_saved()
        reply = s.path[-1]
        assert len(reply.meta["tool_steps"]) == 2 and reply.meta["tool_finish"] == "max_steps"
        assert reply.content == "So: 4."
        text = "".join(r.event.text for r in s.store.read_tokens(reply.id).records)
        assert text.endswith(
            "(2, Settings → Tools) were made; the model answered with what it had."
        )
    finally:
        s.close()
        controller.shutdown()
        store.close()


def test_the_chat_search_finds_a_tool_result_and_says_where(
    qtbot: QtBot, session: ChatSession
) -> None:
    from PySide6.QtWidgets import QLabel, QTreeWidget

    from desktop_app.ui.chat.conversation_list import ConversationList

    ask_and_answer(qtbot, session, "once")
    widget = ConversationList(session.store)
    qtbot.addWidget(widget)
    widget.search("6*7 = 42")  # only the call's result says it
    tree = widget.findChild(QTreeWidget)
    assert tree is not None and tree.topLevelItemCount() == 1
    item = tree.topLevelItem(0)
    assert item is not None
    label = tree.itemWidget(item, 0)
    assert isinstance(label, QLabel)
    assert "(tool call): calculator" in label.text() and "<b>6*7 = 42</b>" in label.text()
