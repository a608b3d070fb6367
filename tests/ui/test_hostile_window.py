"""Markup from every outside source is shown as text everywhere in the real window.

One window (fake engine) per source. The hostile string goes in through the way
that source really reaches the window, then every label, button, group box, tab,
tooltip, item, window title and the status bar is walked: wherever a piece of the
markup appears, Qt must show it literally (plain text, escaped rich text, or a
tooltip the guard escapes), and no image may have been loaded.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import gguf_factory
import pytest
import remote_server
from kb_fakes import HashEmbedder
from PySide6 import QtGui
from PySide6.QtCore import QAbstractItemModel, QEvent, QModelIndex, QPoint, Qt
from PySide6.QtGui import QHelpEvent, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QApplication,
    QGroupBox,
    QLabel,
    QMenu,
    QPlainTextEdit,
    QTabBar,
    QTextEdit,
    QToolTip,
    QWidget,
)
from pytestqt.qtbot import QtBot
from remote_server import running_server

from desktop_app.app import Application, build, make_controller
from desktop_app.core.chat.store import ChatStore
from desktop_app.core.engine.fake import FakeEngine
from desktop_app.core.kb.knowledge_base import KnowledgeBase
from desktop_app.core.kb.parse_host import InProcessParser
from desktop_app.core.sampling import SamplingParams
from desktop_app.core.settings import Settings
from desktop_app.ui.common import plain_text
from desktop_app.ui.model.panel import ModelPanel
from desktop_app.ui.tasks.base import TaskTab
from desktop_app.ui.tasks.extract import ExtractTab
from desktop_app.ui.tasks.panels import TasksPanel
from desktop_app.ui.window.settings_dialog import SettingsDialog
from desktop_app.workers.kb.controller import KnowledgeController

TIMEOUT_MS = 15_000
# The image path leads nowhere: a leak fails the walk below instead of making the
# test process read /dev/zero until the system kills it.
HOSTILE = (
    'Qwen <img src="/nonexistent/glassbox-marker.png"> <b>bold</b> '
    '<a href="file:///etc/passwd">x</a>'
)
# A file name cannot hold "/": the same markup without it.
HOSTILE_FILE = 'Qwen <img src="zero.png"> <b>bold<b> <a href="passwd">x<a>'
# Pieces of the markup above, never in our own: found raw where Qt renders rich text,
# they would be rendered.
PIECES = ('<img src="', "<b>bold", '<a href="file', '<a href="passwd')


def rendered_as_rich(text: str, fmt: Qt.TextFormat) -> bool:
    if fmt == Qt.TextFormat.RichText:
        return True
    # mightBeRichText is QtGui's, not QtCore's Qt namespace.
    return fmt == Qt.TextFormat.AutoText and bool(QtGui.Qt.mightBeRichText(text))


def _has_piece(text: object) -> bool:
    return isinstance(text, str) and any(p in text for p in PIECES)


def _rich_tooltips(widget: QWidget) -> bool:
    return bool(widget.property(plain_text.RICH_TOOLTIP))


def _model_texts(model: QAbstractItemModel, parent: QModelIndex) -> Iterator[tuple[int, str]]:
    try:
        rows, cols = model.rowCount(parent), max(model.columnCount(parent), 1)
    except TypeError:  # a model that keeps its counts private (a list model)
        rows, cols = model.rowCount(), 1
    for row in range(rows):
        for col in range(cols):
            index = model.index(row, col, parent)
            for role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
                data = index.data(role)
                if isinstance(data, str):
                    yield role, data
            if col == 0 and index.isValid() and model.rowCount(index) > 0:
                yield from _model_texts(model, index)


def leaks() -> tuple[list[str], int]:
    """Places where the markup would be rendered, and how many places show it at all."""
    found: list[str] = []
    seen = 0

    def check(where: str, text: object, rich: bool) -> None:
        nonlocal seen
        if _has_piece(text):
            seen += 1
            if rich:
                found.append(f"{where}: {text!r}")

    for w in QApplication.allWidgets():
        w.ensurePolished()
        name = f"{type(w).__name__}({w.objectName() or w.accessibleName()})"
        check(f"{name} window title", w.windowTitle(), False)
        # A widget's tooltip is escaped by the guard unless it is marked as ours.
        check(f"{name} tooltip", w.toolTip(), _rich_tooltips(w))
        if isinstance(w, QLabel):
            check(f"{name} text", w.text(), rendered_as_rich(w.text(), w.textFormat()))
        if isinstance(w, QAbstractButton):
            check(f"{name} text", w.text(), False)
        if isinstance(w, QGroupBox):
            check(f"{name} title", w.title(), False)
        if isinstance(w, QTabBar):
            for i in range(w.count()):
                check(f"{name} tab {i}", w.tabText(i), False)
                check(f"{name} tab {i} tooltip", w.tabToolTip(i), _rich_tooltips(w))
        if isinstance(w, QMenu):
            for action in w.actions():
                check(f"{name} action", action.text(), False)
                check(f"{name} action tooltip", action.toolTip(), _rich_tooltips(w))
        if isinstance(w, QTextEdit | QPlainTextEdit):
            # Shown literally, the markup is in the view's text; rendered, its tags
            # stay in the document's HTML (an escaped piece reads "&lt;img …").
            check(f"{name} text", w.toPlainText(), False)
            check(f"{name} document", w.document().toHtml(), True)
        if isinstance(w, QAbstractItemView) and w.model() is not None:
            model = w.model()
            rich = _rich_tooltips(w)
            for role, text in _model_texts(model, QModelIndex()):
                tip = role == Qt.ItemDataRole.ToolTipRole
                check(f"{name} item {'tooltip' if tip else 'text'}", text, tip and rich)
            if isinstance(model, QStandardItemModel):
                for col in range(model.columnCount()):
                    item = model.horizontalHeaderItem(col)
                    if item is not None:
                        check(f"{name} header", item.text(), False)
    return found, seen


@pytest.fixture
def application(qtbot: QtBot, tmp_path: Path) -> Iterator[Application]:
    # Greedy: the fake engine's reply is then exactly its script.
    controller = make_controller(Settings().with_sampling(SamplingParams.greedy()), fake=True)
    # A real store with a hash embedder: no embedding model, files parsed in this process.
    knowledge = KnowledgeController(
        lambda: KnowledgeBase(embedder=HashEmbedder()),
        lambda kb: InProcessParser(config=kb.chunk_config()),
    )
    app = build(
        controller,
        model_spec="default",
        store=ChatStore(tmp_path / "chats.sqlite3"),
        knowledge=knowledge,
    )
    qtbot.addWidget(app.window)
    plain_text.install(QApplication.instance())  # type: ignore[arg-type]
    with qtbot.waitSignal(controller.sig_model_loaded, timeout=TIMEOUT_MS):
        app.window.show()
    qtbot.waitExposed(app.window)
    yield app
    app.window.close()
    assert controller.shutdown()
    assert knowledge.shutdown()


def gguf_metadata(
    app: Application, qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gguf_factory, "MODEL_NAME", HOSTILE)
    model = gguf_factory.write_tiny_llama(tmp_path / "hostile.gguf")
    panel = app.window.findChild(ModelPanel)
    assert panel is not None
    with qtbot.waitSignal(panel.sig_inspected, timeout=TIMEOUT_MS):
        panel.inspect(model)


def remote_server_texts(
    app: Application, qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(remote_server, "MODELS", [HOSTILE, "other"])
    with running_server() as server:
        dialog = SettingsDialog(app.controller, parent=app.window)
        dialog.remote_radio.setChecked(True)
        dialog.base_url.setText(server.url)
        dialog.list_button.click()
        qtbot.waitUntil(lambda: dialog.model.count() == 2, timeout=TIMEOUT_MS)
        dialog.show()
        # The real remote engine: the server's model id, then its error text for a chat.
        with qtbot.waitSignal(app.controller.sig_model_loaded, timeout=TIMEOUT_MS):
            app.controller.use_remote(server.url, None, HOSTILE)
        server.chat_error = HOSTILE
        with qtbot.waitSignal(app.controller.sig_error, timeout=TIMEOUT_MS) as failed:
            assert app.session.send("Hello?")
    assert HOSTILE in failed.args[1]


def document_names(
    app: Application, qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from desktop_app.ui.knowledge.source_viewer import SourceViewer

    path = tmp_path / f"{HOSTILE_FILE}.txt"
    path.write_text("A passage about alpacas.\n", encoding="utf-8")
    viewer = SourceViewer(app.knowledge, (str(path), 0, 5), parent=app.window)
    viewer.show()
    qtbot.waitUntil(lambda: viewer.source is not None, timeout=TIMEOUT_MS)


def model_output(
    app: Application, qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app.store.create_chat(HOSTILE)
    chats = app.window._chats
    chats.refresh()
    qtbot.waitUntil(lambda: HOSTILE in chats.chat_titles(), timeout=TIMEOUT_MS)
    extract = app.window.findChild(ExtractTab)
    assert extract is not None
    extract.on_failed("invalid_request", f"The reply did not match the schema: {HOSTILE}")


def _tasks(app: Application) -> TasksPanel:
    tasks = app.window.findChild(TasksPanel)
    assert tasks is not None
    return tasks


def _run(qtbot: QtBot, tab: TaskTab) -> None:
    tab.run_button.click()
    assert tab.running, tab.status.text()
    qtbot.waitUntil(lambda: not tab.running, timeout=TIMEOUT_MS)


def knowledge_base_documents(
    app: Application, qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    path = folder / f"{HOSTILE_FILE}.txt"
    path.write_text("A passage about alpacas and their soft wool.\n", encoding="utf-8")
    knowledge = app.knowledge
    with qtbot.waitSignal(
        knowledge.sig_busy, check_params_cb=lambda busy: not busy, timeout=TIMEOUT_MS
    ):
        app.window._knowledge_panel.add_paths([str(path)], "Notes")
    tasks = _tasks(app)
    # A task's document picker lists the document by its name, its path as tooltip.
    text_input = tasks.summarize.input
    text_input.kb_button.click()
    picker = text_input.picker
    assert picker is not None
    qtbot.waitUntil(lambda: picker.documents.count() == 1, timeout=TIMEOUT_MS)
    picker.documents.item(0).setSelected(True)
    picker.use_button.click()
    qtbot.waitUntil(lambda: not text_input.loading, timeout=TIMEOUT_MS)
    assert HOSTILE_FILE in text_input.source_label.text()
    # The picker again, left open: its list is walked too.
    text_input.kb_button.click()
    reopened = text_input.picker
    assert reopened is not None
    qtbot.waitUntil(lambda: reopened.documents.count() == 1, timeout=TIMEOUT_MS)
    # Search hits name the document too.
    search = tasks.search
    search.set_collections(["Notes"])
    handle = search.search("alpacas wool")
    assert handle is not None
    qtbot.waitUntil(lambda: handle.finished and search.table.rowCount() == 1, timeout=TIMEOUT_MS)


def task_output(
    app: Application, qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> list[str]:
    engine = app.controller._slot.current
    assert isinstance(engine, FakeEngine)
    engine.delay_s = 0.0
    engine.script = HOSTILE
    tasks = _tasks(app)
    # Summaries of a batch of two files: the rows' tooltips hold each summary.
    files = []
    for i in range(2):
        f = tmp_path / f"report{i}.txt"
        f.write_text(f"Report {i}: sales went up.", encoding="utf-8")
        files.append(f)
    summarize = tasks.summarize
    summarize.input.open_files(files)
    _run(qtbot, summarize)
    assert [r.status for r in summarize.batch.rows()] == ["done", "done"]
    summarize.batch.table.selectRow(0)
    # A rewrite, opened in the token view.
    rewrite = tasks.rewrite
    rewrite.input.set_text("The cat sat on the mat.")
    _run(qtbot, rewrite)
    rewrite.tokens_button.click()
    # Extract: first a reply that fills a field, then one that is not JSON, whose
    # text the error quotes. The reply is walked while it streams in, too.
    extract = tasks.extract
    schema = {"type": "object", "properties": {"name": {"type": "string"}}}
    extract.schema_edit.setPlainText(json.dumps(schema))
    extract.schema_tabs.setCurrentIndex(1)
    extract.input.set_text("Invoice from Ann Lee.")
    engine.script = json.dumps({"name": HOSTILE})
    _run(qtbot, extract)
    value = extract.table.item(0, 1)
    assert value is not None and value.text() == HOSTILE
    engine.script, engine.delay_s = HOSTILE, 0.01
    extract.run_button.click()
    qtbot.waitUntil(lambda: _has_piece(extract.valid_label.text()), timeout=TIMEOUT_MS)
    streaming, _seen = leaks()
    qtbot.waitUntil(lambda: not extract.running, timeout=TIMEOUT_MS)
    assert HOSTILE in app.window._status_label.text()
    return [f"while streaming, {leak}" for leak in streaming]


#: Each source feeds the markup in; it returns what it found rendered along the way.
SOURCES: dict[str, Callable[[Application, QtBot, Path, pytest.MonkeyPatch], list[str] | None]] = {
    "gguf metadata": gguf_metadata,
    "remote server": remote_server_texts,
    "document names": document_names,
    "model output": model_output,
    "knowledge base documents": knowledge_base_documents,
    "task output": task_output,
}


@pytest.mark.parametrize("source", list(SOURCES))
def test_markup_from_each_source_is_shown_as_text(
    qtbot: QtBot,
    application: Application,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    source: str,
) -> None:
    early = SOURCES[source](application, qtbot, tmp_path, monkeypatch) or []
    QApplication.processEvents()
    found, seen = leaks()
    found += early
    assert seen, f"the {source} text reached no widget: the walk checked nothing"
    assert not found, f"markup from {source} rendered as rich text:\n" + "\n".join(found)


def _tooltip_shown(target: QWidget, at: QPoint) -> str:
    QToolTip.hideText()
    QApplication.sendEvent(target, QHelpEvent(QEvent.Type.ToolTip, at, target.mapToGlobal(at)))
    return QToolTip.text()


# The offscreen platform cannot raise the tooltip window; the text is what matters.
@pytest.mark.qt_log_ignore("This plugin does not support (raise|grabbing)")
def test_tab_and_menu_action_tooltips_are_shown_escaped(qtbot: QtBot, qapp: QApplication) -> None:
    # Qt shows these itself, from the tab or the action, not from the widget's toolTip().
    plain_text.install(qapp)
    tabs = QTabBar()
    tabs.addTab("a document")
    tabs.setTabToolTip(0, f"/docs/{HOSTILE_FILE}.txt")
    qtbot.addWidget(tabs)
    tabs.show()
    qtbot.waitExposed(tabs)
    shown = _tooltip_shown(tabs, tabs.tabRect(0).center())
    assert "<img" not in shown and "&lt;img" in shown

    menu = QMenu()
    menu.setToolTipsVisible(True)
    menu.addAction("a chat").setToolTip(HOSTILE)
    qtbot.addWidget(menu)
    menu.show()
    qtbot.waitExposed(menu)
    shown = _tooltip_shown(menu, menu.actionGeometry(menu.actions()[0]).center())
    assert "<img" not in shown and "&lt;img" in shown
