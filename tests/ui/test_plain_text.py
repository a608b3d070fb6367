"""Text from outside (model files, file names, servers, model output) is never HTML."""

from __future__ import annotations

from pathlib import Path

import gguf_factory
import pytest
from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QHelpEvent
from PySide6.QtWidgets import QApplication, QLabel, QListWidget, QListWidgetItem, QToolTip
from pytestqt.qtbot import QtBot

from desktop_app.core.settings import Settings
from desktop_app.ui.common import plain_text
from desktop_app.ui.model.panel import ModelPanel

HOSTILE = 'Qwen <img src="/dev/zero"> <b>bold</b>'


@pytest.fixture(autouse=True)
def guard(qapp: QApplication) -> None:
    plain_text.install(qapp)


def test_a_gguf_named_with_html_shows_its_name_as_text(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The case checked in the window: a 191-byte GGUF whose general.name is markup.
    monkeypatch.setattr(gguf_factory, "MODEL_NAME", HOSTILE)
    model = gguf_factory.write_tiny_llama(tmp_path / "hostile.gguf")
    panel = ModelPanel(Settings(), gpu_offload=False)
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.sig_inspected, timeout=5000) as blocker:
        panel.inspect(model)
    assert blocker.args == [str(model), True]
    panel.show()
    qtbot.waitExposed(panel)
    name = next(w for w in panel.findChildren(QLabel) if w.accessibleName() == "Name")
    assert name.text() == HOSTILE
    assert name.textFormat() == Qt.TextFormat.PlainText
    # No label of the panel is left to guess: AutoText would render the markup.
    assert not [w for w in panel.findChildren(QLabel) if w.textFormat() == Qt.TextFormat.AutoText]


def test_a_label_made_after_the_window_is_shown_is_plain_too(qtbot: QtBot) -> None:
    label = QLabel(HOSTILE)
    qtbot.addWidget(label)
    label.show()
    qtbot.waitExposed(label)
    assert label.textFormat() == Qt.TextFormat.PlainText
    rich = QLabel("<b>ours</b>")
    rich.setTextFormat(Qt.TextFormat.RichText)  # our own markup says so
    qtbot.addWidget(rich)
    rich.show()
    assert rich.textFormat() == Qt.TextFormat.RichText


def tooltip_of(widget: object, at: QPoint) -> str:
    QToolTip.hideText()
    target = widget.viewport() if isinstance(widget, QListWidget) else widget  # type: ignore[union-attr]
    event = QHelpEvent(QEvent.Type.ToolTip, at, target.mapToGlobal(at))
    QApplication.sendEvent(target, event)
    return QToolTip.text()


# The offscreen platform cannot raise the tooltip window; the text is what matters.
@pytest.mark.qt_log_ignore("This plugin does not support raise")
def test_tooltips_of_widgets_and_of_list_items_are_shown_escaped(qtbot: QtBot) -> None:
    label = QLabel("file")
    label.setToolTip(f"/docs/{HOSTILE}.pdf")  # a document's file name
    qtbot.addWidget(label)
    label.show()
    qtbot.waitExposed(label)
    shown = tooltip_of(label, QPoint(2, 2))
    assert "<img" not in shown and "&lt;img" in shown

    chats = QListWidget()
    item = QListWidgetItem("a chat")
    item.setToolTip(HOSTILE)  # model output in a chat's title
    chats.addItem(item)
    qtbot.addWidget(chats)
    chats.show()
    qtbot.waitExposed(chats)
    shown = tooltip_of(chats, chats.visualItemRect(item).center())
    assert "<img" not in shown and "&lt;b&gt;" in shown

    ours = QLabel("ours")
    ours.setToolTip("<b>built by us</b>")
    ours.setProperty(plain_text.RICH_TOOLTIP, True)
    qtbot.addWidget(ours)
    ours.show()
    qtbot.waitExposed(ours)
    assert tooltip_of(ours, QPoint(2, 2)) == "<b>built by us</b>"
