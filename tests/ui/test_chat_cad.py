"""Context-aware decoding in the window: the Conversation panel's toggle with α, and
each token's probability with and without the documents in the token view."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QCheckBox, QDoubleSpinBox
from pytestqt.qtbot import QtBot

from desktop_app.core.chat.codecs import decode_token, encode_token
from desktop_app.core.chat.store import ChatStore
from desktop_app.core.engine.protocol import TokenEvent
from desktop_app.core.sampling import Candidate
from desktop_app.ui.chat.options import ChatOptionsPanel
from desktop_app.ui.chat.session import ChatOptions
from desktop_app.ui.chat.view import (
    ChatView,
    MessageView,
    describe_token,
    documents_note,
    token_tooltip,
)


@pytest.fixture
def panel(qtbot: QtBot, tmp_path: Path) -> Iterator[ChatOptionsPanel]:
    store = ChatStore(tmp_path / "chats.sqlite3")
    p = ChatOptionsPanel(store)
    qtbot.addWidget(p)
    yield p
    store.close()


def _cad_controls(panel: ChatOptionsPanel) -> tuple[QCheckBox, QDoubleSpinBox]:
    (check,) = [c for c in panel.findChildren(QCheckBox) if "CAD" in c.text()]
    (spin,) = [s for s in panel.findChildren(QDoubleSpinBox) if s.prefix().startswith("α")]
    return check, spin


def test_the_cad_toggle_and_its_weight_are_chat_options(
    panel: ChatOptionsPanel, qtbot: QtBot
) -> None:
    check, spin = _cad_controls(panel)
    assert not check.isChecked() and not spin.isEnabled()
    with qtbot.waitSignal(panel.sig_options_changed) as sent:
        check.setChecked(True)
    assert sent.args[0].cad == 0.5 and spin.isEnabled()
    with qtbot.waitSignal(panel.sig_options_changed) as sent:
        spin.setValue(1.0)
    assert sent.args[0].cad == 1.0
    with qtbot.waitSignal(panel.sig_options_changed) as sent:
        check.setChecked(False)
    assert sent.args[0].cad is None and not spin.isEnabled()
    # A chat's saved options show without emitting anything.
    with qtbot.assertNotEmitted(panel.sig_options_changed):
        panel.set_options(ChatOptions(collections=["notes"], cad=0.25))
    assert check.isChecked() and spin.value() == 0.25
    saved = ChatOptions(cad=0.75).to_dict()
    assert ChatOptions.from_dict(saved).cad == 0.75
    assert ChatOptions.from_dict({"cad": 99}).cad is None
    assert ChatOptions.from_dict({"cad": True}).cad is None


def _token(text: str, p_with: float | None, p_without: float | None) -> TokenEvent:
    cands = (Candidate(7, text, 3.0, p_with or 0.5, p_with or 0.5, None),)
    return TokenEvent(0, 7, text, p_with or 0.5, cands, p_with=p_with, p_without=p_without)


def test_the_token_view_shows_probabilities_with_and_without_the_documents() -> None:
    from_docs = _token(" Quellport", 0.91, 0.002)
    anyway = _token(" the", 0.8, 0.7)
    plain = _token(" the", None, None)
    tip = token_tooltip(from_docs)
    assert "with the documents 0.910" in tip and "without them 0.002" in tip
    assert "from the documents" in tip
    assert "from the documents" not in token_tooltip(anyway)
    assert documents_note(plain) == "" and "with the documents" not in token_tooltip(plain)
    assert "91 percent with the documents, 0 without them" in describe_token(from_docs)
    # Kept with the message: the stored token gives both probabilities back.
    assert decode_token(encode_token(from_docs)) == from_docs


def test_words_from_the_documents_are_underlined_when_asked(qtbot: QtBot) -> None:
    view = ChatView()
    qtbot.addWidget(view)
    made = (
        _token("The", 0.6, 0.5),
        _token(" capital", 0.7, 0.6),
        _token(" is", 0.9, 0.9),
        _token(" Quellport", 0.91, 0.002),
    )
    tokens = tuple(
        TokenEvent(i, t.id, t.text, t.p, t.candidates, p_with=t.p_with, p_without=t.p_without)
        for i, t in enumerate(made)
    )
    view.show_messages(
        [
            MessageView(1, "user", "What is the capital of Zarnia?"),
            MessageView(2, "assistant", "".join(t.text for t in tokens), tokens=tokens),
        ]
    )

    def underlined(i: int) -> bool:
        start, _ = view.token_span(2, i)
        cursor = QTextCursor(view.document())
        cursor.setPosition(start + 1)
        return cursor.charFormat().fontUnderline()

    assert not any(underlined(i) for i in range(4))
    view.set_mark_documents(True)
    assert [underlined(i) for i in range(4)] == [False, False, False, True]
    view.set_mark_documents(False)
    assert not underlined(3)
