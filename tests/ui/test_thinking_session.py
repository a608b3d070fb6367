"""A chat with a reasoning model (scripted by the fake engine): the switch, the card,
the next prompt, and the panel's Thinking switch."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot
from thinking_templates import PLAIN_CHATML, QWEN3_LIKE, R1_LIKE

from desktop_app.core.chat.store import ChatStore
from desktop_app.core.chat.thinking import thinking_support
from desktop_app.core.engine.fake import FakeEngine
from desktop_app.core.engine.protocol import Message
from desktop_app.core.sampling import SamplingParams
from desktop_app.core.settings import Settings
from desktop_app.ui.chat.options import ChatOptionsPanel
from desktop_app.ui.chat.session import ChatOptions, ChatSession
from desktop_app.ui.chat.view import ChatView
from desktop_app.workers.engine.inference import InferenceController

SCRIPT = "<think>Add two and two.</think> It is 4."
TIMEOUT_MS = 5000


def _session(
    qtbot: QtBot, tmp_path: Path, engine: FakeEngine, template: str | None
) -> tuple[ChatSession, InferenceController, ChatStore]:
    settings = Settings(chat_template_override=template).with_sampling(SamplingParams.greedy())
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
def engine() -> FakeEngine:
    return FakeEngine(script=SCRIPT)


@pytest.fixture
def qwen(qtbot: QtBot, tmp_path: Path, engine: FakeEngine) -> Iterator[ChatSession]:
    session, controller, store = _session(qtbot, tmp_path, engine, QWEN3_LIKE)
    yield session
    session.close()
    controller.shutdown()
    store.close()


def _reply(qtbot: QtBot, session: ChatSession, action: object) -> None:
    with qtbot.waitSignal(session.sig_reply_ended, timeout=TIMEOUT_MS):
        action()  # type: ignore[operator]
    session.wait_saved()


def test_the_reply_is_stored_whole_with_its_thinking_card_and_shown_in_a_block(
    qtbot: QtBot, qwen: ChatSession
) -> None:
    view = ChatView()
    qtbot.addWidget(view)
    qwen.sig_show.connect(view.show_messages)
    qwen.sig_append.connect(view.append_message)
    qwen.sig_reply_begun.connect(view.begin_reply)
    qwen.sig_reply_tokens.connect(view.append_tokens)
    qwen.sig_reply_ended.connect(view.end_reply)
    _reply(qtbot, qwen, lambda: qwen.send("2+2?"))
    answer = qwen.path[-1]
    assert answer.content == SCRIPT
    card = answer.meta["thinking"]
    assert card["opened"] is False and card["tokens"] == len("Add two and two.")
    assert isinstance(card["seconds"], float) and card["seconds"] >= 0
    assert view.thinking_expanded(answer.id) is False
    assert "It is 4." in view.toPlainText() and "<think>" not in view.toPlainText()
    # Opened again from the store, the block is there with the stored figures.
    qwen.open_chat(qwen.chat_id or 0)
    assert view.thinking_expanded(answer.id) is False
    assert f"Thinking · {card['tokens']} tokens" in view.toPlainText()


def test_the_next_prompt_leaves_the_reasoning_out_and_the_switch_reaches_the_template(
    qtbot: QtBot, qwen: ChatSession, engine: FakeEngine
) -> None:
    _reply(qtbot, qwen, lambda: qwen.send("2+2?"))
    assert engine.requests[-1].thinking is None
    options = ChatOptions(thinking=False)
    qwen.set_options(options)
    _reply(qtbot, qwen, lambda: qwen.send("And 3+3?"))
    request = engine.requests[-1]
    assert request.thinking is False
    assert request.messages is not None
    earlier = request.messages[1]
    assert earlier == Message("assistant", "It is 4.", reasoning="Add two and two.")
    # The template the request is rendered with drops it and closes thinking.
    from desktop_app.core.models.templates import render_chat

    text = render_chat(request.messages, QWEN3_LIKE, thinking=request.thinking).text
    assert "Add two and two" not in text and text.endswith("<think>\n\n</think>\n\n")
    # The choice is saved with the chat and in the reply's card (Replay keeps it).
    assert ChatOptions.from_dict(options.to_dict()).thinking is False
    assert qwen.path[-1].meta["request"]["thinking"] is False
    assert qwen.path[-1].meta["request"]["messages"][1]["reasoning"] == "Add two and two."


def test_a_template_that_opens_the_block_marks_the_reply(qtbot: QtBot, tmp_path: Path) -> None:
    engine = FakeEngine(script="Hmm, four.</think>4")
    session, controller, store = _session(qtbot, tmp_path, engine, R1_LIKE)
    try:
        _reply(qtbot, session, lambda: session.send("2+2?"))
        answer = session.path[-1]
        assert answer.meta["thinking"]["opened"] is True
        assert answer.as_message() == Message("assistant", "4", reasoning="Hmm, four.")
    finally:
        session.close()
        controller.shutdown()
        store.close()


def test_the_panel_switch_is_enabled_only_where_the_template_has_one(qtbot: QtBot) -> None:
    panel = ChatOptionsPanel(ChatStore())
    qtbot.addWidget(panel)
    switch = panel.thinking
    assert not switch.isEnabled() and "Load a model" in switch.toolTip()
    switch.set_support(thinking_support(PLAIN_CHATML))
    assert not switch.isEnabled() and "no thinking switch" in switch.toolTip()
    switch.set_support(thinking_support(R1_LIKE))
    assert not switch.isEnabled() and switch.isChecked() and "always thinks" in switch.toolTip()
    switch.set_support(thinking_support(QWEN3_LIKE))
    assert switch.isEnabled() and switch.isChecked()  # Qwen3 thinks by default
    assert "enable_thinking" in switch.toolTip()
    with qtbot.waitSignal(panel.sig_options_changed) as changed:
        switch.click()
    assert changed.args[0].thinking is False
    panel.set_options(ChatOptions(thinking=True))
    assert switch.isChecked()
    panel.set_options(ChatOptions())
    assert switch.isChecked() and switch.value is None


def test_the_chat_search_finds_a_word_of_the_reasoning_and_says_where(
    qtbot: QtBot, tmp_path: Path
) -> None:
    from PySide6.QtWidgets import QLabel, QTreeWidget

    from desktop_app.ui.chat.conversation_list import ConversationList

    store = ChatStore(tmp_path / "search.sqlite3")
    chat = store.create_chat("Sums")
    q = store.add_message(chat, None, "user", "2+2?")
    store.add_message(chat, q, "assistant", "<think>carry the quokka</think>It is 4.")
    widget = ConversationList(store)
    qtbot.addWidget(widget)
    widget.search("quokka")
    tree = widget.findChild(QTreeWidget)
    assert tree is not None and tree.topLevelItemCount() == 1
    label = tree.itemWidget(tree.topLevelItem(0), 0)
    assert isinstance(label, QLabel)
    assert "(thinking): carry the <b>quokka</b>" in label.text()
    widget.search("It is 4")
    label = tree.itemWidget(tree.topLevelItem(0), 0)
    assert isinstance(label, QLabel) and "(thinking)" not in label.text()
    store.close()
