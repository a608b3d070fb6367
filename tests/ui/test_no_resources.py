"""A text view that shows outside text never reads a file, whatever the text asks for.

A ``QTextDocument`` holding ``<img src=…>`` (or Markdown ``![x](…)``, or a style
sheet link) asks its view's ``loadResource``; when the answer is empty, Qt reads
the file (or the bare path) itself. ``<img src="/dev/zero">`` then grows the GUI
until it is killed. Each view is fed the markup both as text (the way model output
and documents arrive) and as rich text (what a future renderer might insert); the
image must not be the picture on disk, and a FIFO in its place must never be opened.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtGui import QColor, QImage, QPixmap, QTextCursor, QTextDocument
from PySide6.QtWidgets import QApplication, QPlainTextEdit, QTextEdit, QWidget
from pytestqt.qtbot import QtBot

from desktop_app.ui.chat.view import ChatView, MessageView
from desktop_app.ui.knowledge.source_viewer import SourceViewer
from desktop_app.ui.tasks import panels
from desktop_app.ui.tasks.token_dialog import TokenDialog
from desktop_app.ui.window.system_check import SystemCheckDialog

MARKER_SIZE = (7, 5)

# Opens the FIFO for writing again and again; each time a reader opens it, a line
# goes to the log. A process of its own: a blocked reader cannot stall it.
_WRITER = """
import os, sys
fifo, log, data = sys.argv[1], sys.argv[2], open(sys.argv[3], 'rb').read()
while True:
    fd = os.open(fifo, os.O_WRONLY)
    with open(log, 'a') as f:
        f.write('opened\\n')
    try:
        os.write(fd, data)
    except OSError:
        pass
    os.close(fd)
"""


class Bait:
    """A real PNG and a FIFO that records every open."""

    def __init__(self, folder: Path) -> None:
        self.png = folder / "marker.png"
        image = QImage(*MARKER_SIZE, QImage.Format.Format_ARGB32)
        image.fill(QColor("red"))
        assert image.save(str(self.png))
        self.fifo = folder / "trap.png"
        os.mkfifo(self.fifo)
        self.log = folder / "opens.log"
        self.log.touch()
        self.writer = subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(self.fifo), str(self.log), str(self.png)]
        )

    def opens(self) -> int:
        return len(self.log.read_text().splitlines())

    def close(self) -> None:
        self.writer.kill()
        self.writer.wait()

    def markup(self) -> tuple[str, str]:
        """(HTML, Markdown) asking for the picture, the FIFO and a style sheet."""
        html = (
            f'Qwen <img src="{self.png.as_uri()}"> <img src="{self.png}">'
            f' <img src="{self.fifo}"> <link rel="stylesheet" href="{self.fifo}"> <b>bold</b>'
        )
        markdown = f"![x]({self.png}) ![y]({self.fifo})"
        return html, markdown

    def urls(self) -> list[QUrl]:
        return [QUrl(self.png.as_uri()), QUrl(str(self.png)), QUrl(str(self.fifo))]


@pytest.fixture
def bait(tmp_path: Path) -> Iterator[Bait]:
    b = Bait(tmp_path)
    yield b
    b.close()


class _NoKnowledge:
    def load_source(self, *args: Any, **kwargs: Any) -> None:
        return None


def chat_view(text: str) -> tuple[QWidget, QTextEdit | QPlainTextEdit]:
    view = ChatView()
    view.show_messages([MessageView(1, "assistant", text)])
    return view, view


def token_dialog(text: str) -> tuple[QWidget, QTextEdit | QPlainTextEdit]:
    dialog = TokenDialog("a task", text, [])
    return dialog, dialog.view


def task_output(text: str) -> tuple[QWidget, QTextEdit | QPlainTextEdit]:
    host = QWidget()
    view = panels._result_view("Summary", host)
    view.setPlainText(text)
    return host, view


def source_viewer(text: str) -> tuple[QWidget, QTextEdit | QPlainTextEdit]:
    viewer = SourceViewer(_NoKnowledge(), ("/docs/a.txt", 0, 0))  # type: ignore[arg-type]
    view = viewer.findChild(QPlainTextEdit)
    assert view is not None
    view.setPlainText(text)
    return viewer, view


def system_check(text: str) -> tuple[QWidget, QTextEdit | QPlainTextEdit]:
    dialog = SystemCheckDialog(runner=None)
    dialog.text.setPlainText(text)
    return dialog, dialog.text


VIEWS: dict[str, Callable[[str], tuple[QWidget, QTextEdit | QPlainTextEdit]]] = {
    "chat view": chat_view,
    "token dialog": token_dialog,
    "task output": task_output,
    "source viewer": source_viewer,
    "system check": system_check,
}


def loaded_size(document: QTextDocument, url: QUrl) -> tuple[int, int]:
    data = document.resource(QTextDocument.ResourceType.ImageResource, url)
    if isinstance(data, (QImage, QPixmap)):
        return data.width(), data.height()
    image = QImage()
    if isinstance(data, (bytes, bytearray)) or hasattr(data, "data"):
        image.loadFromData(bytes(data))
    return image.width(), image.height()


@pytest.mark.parametrize("name", list(VIEWS))
def test_a_text_view_loads_no_image_or_style_sheet(
    qtbot: QtBot, qapp: QApplication, bait: Bait, name: str
) -> None:
    html, markdown = bait.markup()
    top, view = VIEWS[name](f"{html}\n{markdown}")
    qtbot.addWidget(top)
    top.show()
    qtbot.waitExposed(top)
    qapp.processEvents()
    document = view.document()
    assert document.toPlainText().count("<img") == 3  # shown as text, as it came
    # What a renderer of rich text or Markdown would put in the document.
    cursor = QTextCursor(document)
    cursor.movePosition(QTextCursor.MoveOperation.End)
    cursor.insertHtml(html)
    cursor.insertMarkdown(markdown)
    view.viewport().repaint()
    qapp.processEvents()
    assert bait.opens() == 0
    for url in bait.urls():
        assert loaded_size(document, url) != MARKER_SIZE, url.toString()
    assert loaded_size(document, QUrl(bait.png.as_uri())) in ((0, 0), (1, 1))
    assert bait.opens() == 0, f"the {name} opened a file named in its text"
