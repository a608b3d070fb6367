"""The transcript view: tokens mapped to positions, tints, menus, keyboard, links."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt, QUrl
from PySide6.QtGui import QColor, QGuiApplication, QTextCursor
from PySide6.QtWidgets import QApplication, QMenu
from pytestqt.qtbot import QtBot

from desktop_app.core.engine.protocol import TokenEvent
from desktop_app.core.sampling import Candidate, Sampler, SamplingParams
from desktop_app.ui.chat.view import (
    ChatView,
    MessageView,
    describe_token,
    probability_colour,
    token_tooltip,
)
from desktop_app.ui.common.markdown import code_blocks

WORDS = ["The", " capital", " of", " France", " is", " Paris", ".", "\n", "```python\n", "x = 1"]


def make_tokens(texts: list[str], seed: int = 0) -> tuple[TokenEvent, ...]:
    """Token events with real candidates from the sampler chain."""
    rng = np.random.default_rng(seed)
    sampler = Sampler(SamplingParams(temperature=0.7, top_k=5, seed=seed), n_candidates=8)
    out = []
    for i, text in enumerate(texts):
        logits = rng.normal(0, 2, 40).astype(np.float32)
        logits[i] += 8.0
        step = sampler.step(logits)
        cands = tuple(
            Candidate(c[0], texts[c[0]] if c[0] < len(texts) else f"w{c[0]}", *c[1:])
            for c in step.candidates
        )
        out.append(TokenEvent(i, step.token, text, step.p, cands))
    return tuple(out)


@pytest.fixture
def view(qtbot: QtBot) -> ChatView:
    v = ChatView()
    qtbot.addWidget(v)
    v.resize(700, 500)
    v.show()
    qtbot.waitExposed(v)
    return v


def show_pair(view: ChatView, tokens: tuple[TokenEvent, ...]) -> None:
    view.show_messages(
        [
            MessageView(1, "user", "What is the capital of France?"),
            MessageView(2, "assistant", "".join(t.text for t in tokens), tokens=tokens),
        ]
    )


def test_tokens_map_to_their_positions(view: ChatView) -> None:
    tokens = make_tokens(WORDS)
    show_pair(view, tokens)
    for i, token in enumerate(tokens):
        start, end = view.token_span(2, i)
        assert end - start == len(token.text)
        found = view.token_at(start)
        assert found is not None and found[:2] == (2, i)
        assert view.token_at(end - 1) is not None
    # The user's message has no tokens; header text is not a token.
    assert view.token_at(0) is None
    assert "Paris" in view.toPlainText()
    assert view.message_text(2) == "".join(WORDS)


def test_probability_tints_follow_the_toggle(view: ChatView) -> None:
    tokens = make_tokens(WORDS)
    show_pair(view, tokens)

    def background(i: int) -> QColor:
        start, _ = view.token_span(2, i)
        cursor = QTextCursor(view.document())
        cursor.setPosition(start + 1)
        return cursor.charFormat().background().color()

    assert background(3).alpha() == 0 or background(3) == QColor(0, 0, 0)
    view.set_show_probabilities(True)
    want = probability_colour(round(tokens[3].p * 64) / 64)
    assert background(3).name() == want.name()
    view.set_show_probabilities(False)
    start, _ = view.token_span(2, 3)
    cursor = QTextCursor(view.document())
    cursor.setPosition(start + 1)
    assert cursor.charFormat().background().style() == Qt.BrushStyle.NoBrush


def test_streaming_appends_and_ends_with_actions(view: ChatView) -> None:
    tokens = make_tokens(WORDS)
    view.show_messages([MessageView(1, "user", "Hi")])
    view.begin_reply(
        MessageView(2, "assistant", "", status="streaming", branch_index=2, branch_count=2)
    )
    assert "Regenerate" not in view.toPlainText()
    view.append_tokens(tokens[:4])
    view.append_tokens(tokens[4:])
    assert view.token_count(2) == len(tokens)
    view.end_reply(MessageView(2, "assistant", "".join(WORDS), branch_index=2, branch_count=2))
    text = view.toPlainText()
    assert "Regenerate" in text and "2/2" in text
    # Positions survive the footer being added under them.
    start, _ = view.token_span(2, 5)
    assert view.toPlainText()[start : start + 6] == " Paris"
    assert "Copy code (python)" in text


def test_alternative_menu_branches(view: ChatView, qtbot: QtBot) -> None:
    tokens = make_tokens(WORDS)
    show_pair(view, tokens)
    menu = view.alternatives_menu(2, 5)
    actions = [a for a in menu.actions() if a.isEnabled() and a.text().startswith("Branch")]
    assert actions, "the alternatives are offered"
    other = next(c for c in tokens[5].candidates if c.id != tokens[5].id)
    chosen = next(a for a in actions if f"‘{other.text.replace(' ', '␣')}’" in a.text())
    with qtbot.waitSignal(view.sig_alternative) as blocker:
        chosen.trigger()
    assert blocker.args == [2, 5, other.id]


def test_keyboard_reaches_tokens_and_announces_them(view: ChatView, qtbot: QtBot) -> None:
    tokens = make_tokens(WORDS)
    show_pair(view, tokens)
    view.setFocus()
    with qtbot.waitSignal(view.sig_token_selected) as blocker:
        qtbot.keyClick(view, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)
    assert blocker.args[1] == (2, 0)
    qtbot.keyClick(view, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)
    selected = view.selected_token()
    assert selected is not None and selected[:2] == (2, 1)
    said = view.accessibleDescription()
    assert said.startswith("token ‘␣capital’, ")
    assert "percent; alternatives: " in said


def test_describe_token_reads_like_speech() -> None:
    token = TokenEvent(
        0,
        1,
        "Paris",
        0.92,
        (
            Candidate(1, "Paris", 5.0, 0.8, 0.92, None),
            Candidate(2, "London", 3.0, 0.05, 0.08, None),
            Candidate(3, "Lyon", 1.0, 0.01, 0.0, "top_p"),
        ),
    )
    said = describe_token(token)
    assert said == (
        "token ‘Paris’, 92 percent; alternatives: ‘London’ 8 percent; "
        "‘Lyon’ 1 percent, cut by top-p"
    )
    tip = token_tooltip(token)
    assert "London" in tip and "top_p" in tip


def test_links_emit_actions_and_copy(view: ChatView, qtbot: QtBot) -> None:
    tokens = make_tokens(WORDS)
    show_pair(view, tokens)
    with qtbot.waitSignal(view.sig_action) as blocker:
        view.anchorClicked.emit(QUrl("glassbox:regenerate/2"))
    assert blocker.args == ["regenerate", 2]
    view.anchorClicked.emit(QUrl("glassbox:copy/2"))
    assert QGuiApplication.clipboard().text() == "".join(WORDS)
    view.anchorClicked.emit(QUrl("glassbox:copy-code/2/0"))
    assert QGuiApplication.clipboard().text() == "x = 1"
    # Anything else (a link inside a document, say) does nothing.
    view.anchorClicked.emit(QUrl("https://example.com/"))


def test_hostile_text_is_shown_not_run(view: ChatView) -> None:
    evil = '<script>alert(1)</script><img src="http://example.com/x.png"> **bold**'
    view.show_messages([MessageView(1, "user", evil)])
    assert evil in view.toPlainText()
    assert "<img" not in view.toHtml().split("<body")[1].replace("&lt;img", "")


# The offscreen platform cannot raise a popup or grab the keyboard for it.
@pytest.mark.qt_log_ignore(r"^This plugin does not support (raise|grabbing)", extend=True)
def test_clicking_a_token_selects_it(view: ChatView, qtbot: QtBot) -> None:
    tokens = make_tokens(WORDS)
    show_pair(view, tokens)
    start, _ = view.token_span(2, 3)
    cursor = QTextCursor(view.document())
    cursor.setPosition(start + 2)
    rect = view.cursorRect(cursor)
    with qtbot.waitSignal(view.sig_token_selected) as blocker:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert blocker.args[1] == (2, 3)
    # The alternatives menu popped up; close it so it does not outlive the test.
    for w in QApplication.topLevelWidgets():
        if isinstance(w, QMenu):
            w.close()
    assert view._position_at(QPoint(-50, -50)) == -1


def test_code_blocks_and_highlighting(view: ChatView) -> None:
    text = "Intro\n```python\ndef f():\n    return 1  # one\n```\nafter\n```\nraw\n"
    assert code_blocks(text) == [("python", "def f():\n    return 1  # one"), ("", "raw")]
    view.show_messages([MessageView(1, "assistant", text)])
    doc = view.document()
    block = doc.findBlockByNumber(0)
    while block.isValid() and block.text() != "def f():":
        block = block.next()
    assert block.isValid()
    formats = block.layout().formats()
    assert any(f.format.fontFixedPitch() for f in formats), "code is monospace"
    assert any(f.format.fontWeight() > 500 and f.start == 0 for f in formats), "keyword bold"


def test_read_only_view_offers_no_actions_and_no_branching(qtbot: QtBot) -> None:
    view = ChatView(read_only=True)
    qtbot.addWidget(view)
    tokens = make_tokens(WORDS)
    view.show_messages(
        [MessageView(7, "assistant", "".join(WORDS), tokens=tokens, detail="a summary")]
    )
    text = view.toPlainText()
    assert "Regenerate" not in text and "Fork" not in text and "a summary" in text
    menu = view.alternatives_menu(7, 5)
    offered = [a for a in menu.actions() if a.isEnabled() and not a.isSeparator()]
    assert offered == [] and len(menu.actions()) > 2
