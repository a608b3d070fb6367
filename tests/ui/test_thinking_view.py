"""The Thinking block in the transcript: above the answer, collapsible, with its own tokens."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtGui import QTextCursor
from pytestqt.qtbot import QtBot
from test_chat_view import make_tokens

from desktop_app.ui.chat.view import ChatView, MessageView

THINK = [
    "<",
    "think",
    ">",
    "\n",
    "Two",
    " and",
    " two",
    " make",
    " four",
    ".",
    "\n",
    "</",
    "think",
    ">",
]
ANSWER = ["\n\n", "It", " is", " 4", "."]


@pytest.fixture
def view(qtbot: QtBot) -> ChatView:
    v = ChatView()
    qtbot.addWidget(v)
    v.resize(700, 500)
    v.show()
    qtbot.waitExposed(v)
    return v


def _toggle_line(view: ChatView) -> str:
    return next(line for line in view.toPlainText().splitlines() if "Thinking" in line)


def _text_at(view: ChatView, message_id: int, index: int) -> str:
    start, end = view.token_span(message_id, index)
    cursor = QTextCursor(view.document())
    cursor.setPosition(start)
    cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
    return cursor.selectedText()


def _block_visible(view: ChatView, text: str) -> bool:
    block = view.document().find(text).block()
    assert block.isValid(), text
    return block.isVisible()


def test_streamed_reasoning_opens_a_block_that_closes_when_the_answer_starts(
    view: ChatView,
) -> None:
    tokens = make_tokens(THINK + ANSWER)
    view.show_messages([MessageView(1, "user", "2+2?")])
    view.begin_reply(MessageView(2, "assistant", "", status="streaming"))
    view.append_tokens(tokens[:2])  # "<", "think": may be a tag, so nothing shown yet
    assert view.token_count(2) == 0
    view.append_tokens(tokens[2:9])
    assert view.thinking_expanded(2) is True
    assert "Thinking…" in _toggle_line(view)
    assert _block_visible(view, "Two and two make")
    view.append_tokens(tokens[9:])
    # The answer began: the block closed, the answer is below it without the tags.
    assert view.thinking_expanded(2) is False
    assert not _block_visible(view, "Two and two make")
    view.end_reply(MessageView(2, "assistant", "".join(THINK + ANSWER)))
    assert view.token_count(2) == len(tokens)
    line = _toggle_line(view)
    assert line.startswith("▸ Thinking · 6 tokens · ") and line.endswith(" s")
    assert "<think>" not in view.toPlainText() and "It is 4." in view.toPlainText()
    # Each token is where its text is, reasoning and answer alike.
    assert _text_at(view, 2, 5) == " and"
    assert _text_at(view, 2, 0) == "" and _text_at(view, 2, 12) == ""  # tags
    assert _text_at(view, 2, 16) == " is"


def test_the_reasoning_tokens_have_their_own_token_view(view: ChatView, qtbot: QtBot) -> None:
    tokens = make_tokens(THINK + ANSWER)
    text = "".join(THINK + ANSWER)
    view.show_messages(
        [
            MessageView(1, "user", "2+2?"),
            MessageView(2, "assistant", text, tokens=tokens, thinking_seconds=2.5),
        ]
    )
    assert _toggle_line(view) == "▸ Thinking · 6 tokens · 2.5 s"
    assert view.thinking_expanded(2) is False
    # Selecting a reasoning token opens the block and offers its alternatives.
    view.select_token(2, 6)
    assert view.thinking_expanded(2) is True
    assert view.selected_token() == (2, 6, tokens[6])
    start, _ = view.token_span(2, 6)
    assert view.token_at(start) == (2, 6, tokens[6])
    menu = view.alternatives_menu(2, 6)
    branch = [a for a in menu.actions() if a.text().startswith("Branch")]
    assert branch
    with qtbot.waitSignal(view.sig_alternative) as blocker:
        branch[0].trigger()
    assert blocker.args[:2] == [2, 6]
    # Answer tokens are still found where they are.
    start, _ = view.token_span(2, 17)
    assert view.token_at(start) == (2, 17, tokens[17])
    # The line's link closes it again.
    view.anchorClicked.emit(QUrl("glassbox:thinking/2"))
    assert view.thinking_expanded(2) is False
    assert _toggle_line(view).startswith("▸")
    # Tints and the probability switch reach the reasoning tokens too.
    view.set_show_probabilities(True)
    assert view.token_at(view.token_span(2, 17)[0]) == (2, 17, tokens[17])


def test_a_reply_that_starts_inside_a_block_the_prompt_opened(view: ChatView) -> None:
    texts = ["Hm", "m", ",", " yes", "</think>", "Yes", "."]
    tokens = make_tokens(texts)
    view.show_messages(
        [MessageView(2, "assistant", "".join(texts), tokens=tokens, thinking_opened=True)]
    )
    assert _toggle_line(view).startswith("▸ Thinking · 4 tokens")
    assert _text_at(view, 2, 3) == " yes" and _text_at(view, 2, 5) == "Yes"


def test_a_reply_without_reasoning_has_no_block(view: ChatView) -> None:
    texts = ["A", " <think>", " tag", " later"]
    tokens = make_tokens(texts)
    view.show_messages([MessageView(2, "assistant", "".join(texts), tokens=tokens)])
    assert "Thinking" not in view.toPlainText()
    assert view.thinking_expanded(2) is None
    assert view.toPlainText().splitlines()[1] == "A <think> tag later"
    assert _text_at(view, 2, 1) == " <think>"


def test_an_unclosed_block_keeps_its_tokens_when_the_reply_ends(view: ChatView) -> None:
    texts = ["<think>", "still", " going", "</thi"]
    tokens = make_tokens(texts)
    view.begin_reply(MessageView(2, "assistant", "", status="streaming"))
    view.append_tokens(tokens)
    assert view.token_count(2) == 3  # "</thi" may still become the closing tag
    view.end_reply(MessageView(2, "assistant", "".join(texts), status="cancelled"))
    assert view.token_count(2) == 4
    assert _text_at(view, 2, 3) == "</thi"
    assert view.thinking_expanded(2) is True  # no answer came: it stays open


def test_copy_takes_the_answer_without_the_reasoning(view: ChatView) -> None:
    from PySide6.QtGui import QGuiApplication

    texts = ["<think>", "Try:\n```py\nx\n```", "</think>", "Run:\n", "```sh\nls\n```"]
    tokens = make_tokens(texts)
    view.show_messages([MessageView(2, "assistant", "".join(texts), tokens=tokens)])
    assert view.answer_text(2) == "Run:\n```sh\nls\n```"
    view.anchorClicked.emit(QUrl("glassbox:copy/2"))
    assert QGuiApplication.clipboard().text() == "Run:\n```sh\nls\n```"
    assert "Copy code (sh)" in view.toPlainText() and "Copy code 2" not in view.toPlainText()
    # A stored reply without figures in its card shows no seconds.
    assert _toggle_line(view) == "▸ Thinking · 1 token"
