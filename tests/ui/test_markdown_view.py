"""Markdown in the transcript: styled in place while it streams, tokens untouched.

The reply streamed here is the UI benchmark's (tables, nested lists, a link, an
image, code in five languages), cut into the same BPE-like pieces.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QPoint, Qt, QTimer, QUrl
from PySide6.QtGui import QDesktopServices, QTextBlock, QTextCursor
from PySide6.QtWidgets import QAbstractButton, QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from desktop_app.bench.ui import synthetic_tokens
from desktop_app.core.chat.markdown import loaded_lexer, warm_up
from desktop_app.core.engine.protocol import TokenEvent
from desktop_app.ui.chat.view import ChatView, MessageView

TOKENS = synthetic_tokens(900, candidates=4)
TEXT = "".join(t.text for t in TOKENS)


@pytest.fixture
def view(qtbot: QtBot) -> Iterator[ChatView]:
    v = ChatView()
    qtbot.addWidget(v)
    v.resize(900, 600)
    v.show()
    yield v


def body_blocks(view: ChatView, message_id: int) -> list[QTextBlock]:
    start, _ = view.token_span(message_id, 0)
    block = view.document().findBlock(start)
    out = []
    for _ in TEXT.split("\n"):
        out.append(block)
        block = block.next()
    return out


def styles(view: ChatView, message_id: int) -> list[list[tuple[object, ...]]]:
    """What the highlighter laid over each line of a message body."""
    out = []
    for block in body_blocks(view, message_id):
        row = []
        for r in block.layout().formats():
            f = r.format
            row.append(
                (
                    r.start,
                    r.length,
                    f.fontWeight(),
                    f.fontItalic(),
                    f.fontFixedPitch(),
                    f.foreground().color().name(),
                    f.fontPointSize(),
                )
            )
        out.append(row)
    return out


def stream(qtbot: QtBot, view: ChatView, tokens: tuple[TokenEvent, ...], batch: int) -> None:
    view.begin_reply(MessageView(1, "assistant", "", status="streaming"))
    for i in range(0, len(tokens), batch):
        view.append_tokens(tokens[i : i + batch])
    view.end_reply(MessageView(1, "assistant", TEXT, tokens=tokens))
    qtbot.wait(20)  # lines restyled by a later line are done just after


def test_a_streamed_reply_is_styled_like_the_whole_reply(qtbot: QtBot, view: ChatView) -> None:
    warm_up()  # lexers loaded: the streamed reply is coloured at once, as the whole one
    stream(qtbot, view, TOKENS, batch=7)
    whole = ChatView()
    qtbot.addWidget(whole)
    whole.show_messages([MessageView(1, "assistant", TEXT, tokens=TOKENS)])
    streamed = styles(view, 1)
    assert streamed == styles(whole, 1)
    assert sum(1 for row in streamed if row) > len(streamed) // 2


def test_streaming_keeps_the_model_text_and_every_token_span(qtbot: QtBot, view: ChatView) -> None:
    view.set_show_probabilities(True)
    stream(qtbot, view, TOKENS, batch=5)
    assert TEXT in view.toPlainText()
    doc = view.document()
    for i in range(0, len(TOKENS), 37):
        start, end = view.token_span(1, i)
        cursor = QTextCursor(doc)
        cursor.setPosition(start)
        cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
        assert cursor.selectedText().replace("\u2029", "\n") == TOKENS[i].text
        if TOKENS[i].text.strip():
            assert view.token_at(start) is not None
            assert view.token_at(start)[1] == i  # type: ignore[index]
    # The probability tint is still on every token (the styles lie over it).
    start, end = view.token_span(1, 3)
    cursor = QTextCursor(doc)
    cursor.setPosition(start + 1)
    assert cursor.charFormat().background().color().alpha() == 255


def test_tables_and_code_in_two_languages_are_styled(qtbot: QtBot, view: ChatView) -> None:
    stream(qtbot, view, TOKENS, batch=9)
    lines = TEXT.split("\n")
    blocks = body_blocks(view, 1)

    def fmt_at(line: int, piece: str) -> tuple[int, bool, str]:
        col = lines[line].index(piece)
        for r in blocks[line].layout().formats():
            if r.start <= col < r.start + r.length:
                f = r.format
                return f.fontWeight(), f.fontFixedPitch(), f.foreground().color().name()
        return 400, False, "none"

    head = lines.index("| Stage | Keeps | Typical value |")
    assert fmt_at(head, "Stage")[:2] == (700, True)  # header: bold, monospace
    assert fmt_at(head + 2, "all, reshaped")[:2] == (400, True)
    rust = lines.index("fn min_p(probs: &[f32], p: f32) -> Vec<usize> {")
    python = lines.index("def softmax(logits, temperature=0.8):")
    assert fmt_at(rust, "fn")[0] == 700 and fmt_at(rust, "fn")[2] != "#000000"
    assert fmt_at(python, "def")[0] == 700
    assert fmt_at(python + 1, "# Scale")[1]  # a comment, in the code's monospace


def answer(choice: str, seen: list[str]) -> None:
    def click() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, click)
            return
        seen.append(f"{box.text()} {box.informativeText()}")
        button = box.findChild(QAbstractButton, choice)
        assert button is not None
        button.click()

    QTimer.singleShot(0, click)


def test_a_link_opens_only_after_a_confirmation_naming_it(
    qtbot: QtBot, view: ChatView, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toString()))
    text = "Read [the notes](https://example.com/notes) first."
    view.show_messages([MessageView(1, "assistant", text)])
    start = view.toPlainText().index("the notes") + 2
    cursor = QTextCursor(view.document())
    cursor.setPosition(start)
    point = view.cursorRect(cursor).center() + QPoint(2, 0)
    assert view.link_at(start) == "https://example.com/notes"
    assert view.link_at(view.toPlainText().index("Read")) is None

    seen: list[str] = []
    answer("cancel", seen)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert seen == ["Open this address in your web browser? https://example.com/notes"]
    assert opened == []

    answer("open", seen)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert opened == ["https://example.com/notes"]


def test_only_web_and_mail_links_are_offered(
    qtbot: QtBot, view: ChatView, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[QUrl] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", opened.append)
    seen: list[str] = []

    def close_box() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, close_box)
            return
        seen.append(box.text())
        box.close()

    QTimer.singleShot(0, close_box)
    assert not view.open_link("ftp://example.com/file")
    assert "only web (http, https) and e-mail links" in seen[0]
    assert opened == []


def test_an_image_is_shown_as_alt_text_and_address_and_never_loaded(
    qtbot: QtBot, view: ChatView, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[object] = []
    original = ChatView.loadResource

    def spy(self: ChatView, kind: int, name: object) -> object:
        asked.append(name)
        return original(self, kind, name)  # type: ignore[arg-type]

    monkeypatch.setattr(ChatView, "loadResource", spy)
    text = "Here: ![a diagram](https://example.com/d.png) and <img src='https://example.com/x.png'>"
    view.show_messages([MessageView(1, "assistant", text)])
    qtbot.wait(20)
    assert text in view.toPlainText()
    assert asked == []
    start = view.toPlainText().index("a diagram")
    assert view.link_at(start) is None  # not a link to follow either


def test_code_in_a_language_not_loaded_yet_is_coloured_once_its_lexer_is(
    qtbot: QtBot, view: ChatView
) -> None:
    # While a reply streams, a lexer loads on a thread, not in the window's.
    text = "Ada:\n\n```ada\nprocedure Hello is\nbegin\n   null;\nend Hello;\n```\n"
    assert loaded_lexer("ada") == (False, None)
    pieces = [text[i : i + 3] for i in range(0, len(text), 3)]
    tokens = tuple(TokenEvent(i, i, piece, 0.5, ()) for i, piece in enumerate(pieces))
    view.begin_reply(MessageView(1, "assistant", "", status="streaming"))
    view.append_tokens(tokens)
    view.end_reply(MessageView(1, "assistant", text, tokens=tokens))
    start = view.toPlainText().index("procedure")
    block = view.document().findBlock(start)

    def bold_keyword() -> bool:
        return any(r.start == 0 and r.format.fontWeight() == 700 for r in block.layout().formats())

    qtbot.waitUntil(bold_keyword, timeout=5000)
    assert loaded_lexer("ada")[0]
