"""Languages: every visible string goes through Qt's translation system, Chinese is
complete, the language follows settings, and stretched text fits the layouts."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QLocale, Qt
from PySide6.QtGui import QAction, QTextDocumentFragment
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QDockWidget,
    QGroupBox,
    QLabel,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QTabWidget,
    QTextEdit,
    QWidget,
)
from pytestqt.qtbot import QtBot

from desktop_app.app import build
from desktop_app.core.engine.fake import FakeEngine
from desktop_app.core.kb.embed import embedder_choices
from desktop_app.core.settings import Settings, load_settings
from desktop_app.ui.common.i18n import (
    PseudoTranslator,
    install_translators,
    qm_path,
    resolve_language,
    stretch,
)
from desktop_app.ui.knowledge.embedders import _catalog_text
from desktop_app.ui.window.main_window import MainWindow
from desktop_app.workers.engine.inference import InferenceController, ModelProgress

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_MS = 5000
#: Text that is the same in every language: names, numbers, symbols.
_UNTRANSLATED_OK = re.compile(
    r"^(Glassbox|GGUF|JSON|CSV|HTML|Markdown|SHA-256|LoRA|"
    r"English|简体中文|https?://\S+|[^A-Za-z]*|[A-Za-z]|\S+\.(gguf|txt|md|pdf))$"
)


@pytest.fixture
def language(qapp: QApplication) -> Iterator[Callable[[str], str]]:
    def use(choice: str) -> str:
        return install_translators(qapp, choice)

    yield use
    install_translators(qapp, "en")
    QLocale.setDefault(QLocale(QLocale.Language.English, QLocale.Country.UnitedStates))


@pytest.fixture
def make_window(qtbot: QtBot, tmp_path: Path) -> Iterator[Callable[..., MainWindow]]:
    controllers: list[InferenceController] = []
    model = tmp_path / "tiny-test-model.gguf"
    model.write_bytes(b"GGUF")

    def make(settings: Settings | None = None, no_model: bool = False) -> MainWindow:
        controller = InferenceController(
            lambda: FakeEngine(), settings=settings if settings is not None else load_settings()
        )
        controllers.append(controller)
        window = build(controller, model_spec=None if no_model else str(model)).window
        qtbot.addWidget(window)
        return window

    yield make
    for controller in controllers:
        assert controller.shutdown()


def visible_texts(root: QWidget) -> list[tuple[str, str]]:
    """(where, text) for every string a person can read in ``root`` and its menus."""
    out: list[tuple[str, str]] = []

    def add(where: object, text: str | None) -> None:
        text = (text or "").replace("&&", "&")
        if text.strip():
            out.append((f"{type(where).__name__} {getattr(where, 'objectName', str)()}", text))

    for widget in [root, *root.findChildren(QWidget)]:
        if isinstance(widget, QMenu):
            add(widget, widget.title())
        elif isinstance(widget, QDockWidget):
            add(widget, widget.windowTitle())
        if isinstance(widget, QLabel):
            text = widget.text()
            rich = widget.textFormat() == Qt.TextFormat.RichText or (
                widget.textFormat() == Qt.TextFormat.AutoText and "<" in text and ">" in text
            )
            add(widget, QTextDocumentFragment.fromHtml(text).toPlainText() if rich else text)
        elif isinstance(widget, QAbstractButton):
            add(widget, widget.text())
        elif isinstance(widget, QGroupBox):
            add(widget, widget.title())
        elif isinstance(widget, QLineEdit | QPlainTextEdit | QTextEdit):
            add(widget, widget.placeholderText())
        elif isinstance(widget, QComboBox):
            for i in range(widget.count()):
                if widget.itemData(i, Qt.ItemDataRole.UserRole + 100) is None:
                    add(widget, widget.itemText(i))
        elif isinstance(widget, QTabWidget):
            for i in range(widget.count()):
                add(widget, widget.tabText(i))
        add(widget, widget.toolTip())
        add(widget, widget.accessibleName())
    for action in root.findChildren(QAction):
        if not action.isSeparator():
            add(action, action.text())
            if action.toolTip() != action.text().replace("&", ""):
                add(action, action.toolTip())
    return out


def untranslated(texts: list[tuple[str, str]]) -> list[tuple[str, str]]:
    close = PseudoTranslator.MARK_CLOSE
    return [
        (where, text)
        for where, text in texts
        if f"~{close}" not in text and not _UNTRANSLATED_OK.match(text.strip())
    ]


# ---- the translation files -------------------------------------------------------


def test_translations_are_complete_and_compiled() -> None:
    """Every translatable string is in the .ts, translated, and compiled into the .qm."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "packaging" / "translations.py"), "check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert Path(qm_path("zh_CN")).stat().st_size > 1000


def test_stretch_keeps_placeholders_mnemonics_and_lines() -> None:
    text = stretch("&Open {name}\nsecond line")
    assert text.format(name="x").startswith("[&Open x ")
    assert text.count("\n") == 1
    assert stretch("") == ""


def test_language_follows_the_system_unless_chosen() -> None:
    chinese = QLocale(QLocale.Language.Chinese, QLocale.Country.China)
    taiwan = QLocale(QLocale.Language.Chinese, QLocale.Country.Taiwan)
    english = QLocale(QLocale.Language.English, QLocale.Country.UnitedKingdom)
    assert resolve_language("system", chinese) == "zh_CN"
    assert resolve_language("system", taiwan) == "zh_CN"
    assert resolve_language("system", english) == "en"
    assert resolve_language("en", chinese) == "en"
    assert resolve_language("zh_CN", english) == "zh_CN"


# ---- the window -------------------------------------------------------------------


def test_every_visible_string_goes_through_translation(
    qtbot: QtBot, make_window: Callable[..., MainWindow], language: Callable[[str], str]
) -> None:
    """Under the pseudo language, text without its brackets was never translated."""
    assert language("pseudo") == "pseudo"
    window = make_window()
    with qtbot.waitSignal(window._controller.sig_model_loaded, timeout=TIMEOUT_MS):
        window.show()
    texts = visible_texts(window)
    dialogs = (
        window.about_dialog(),
        window.shortcuts_dialog(),
        window.settings_dialog(),
        window.system_check_dialog(),
    )
    for dialog in dialogs:
        texts += visible_texts(dialog)
    missed = untranslated(texts)
    assert not missed, "\n".join(f"{where}: {text!r}" for where, text in missed)


def test_first_run_page_is_translated(
    qtbot: QtBot, make_window: Callable[..., MainWindow], language: Callable[[str], str]
) -> None:
    language("pseudo")
    window = make_window(no_model=True)
    window.show()
    qtbot.waitExposed(window)
    assert window.welcome_shown
    missed = untranslated(visible_texts(window))
    assert not missed, "\n".join(f"{where}: {text!r}" for where, text in missed)


def test_chinese_window(
    qtbot: QtBot, make_window: Callable[..., MainWindow], language: Callable[[str], str]
) -> None:
    """With Simplified Chinese chosen in settings, the menus and docks read in Chinese."""
    settings = load_settings().model_copy(update={"language": "zh_CN"})
    assert language(settings.language) == "zh_CN"
    window = make_window(settings=settings)
    window.show()
    titles = [a.text() for a in window.menuBar().actions()]
    assert any("对话" in t for t in titles) and any("帮助" in t for t in titles), titles
    chinese = [t for _, t in visible_texts(window) if re.search(r"[\u4e00-\u9fff]", t)]
    assert len(chinese) > 50


def test_stretched_strings_fit_the_layouts(
    qtbot: QtBot, make_window: Callable[..., MainWindow], language: Callable[[str], str]
) -> None:
    """Half as long again, every label and button still gets the room it asks for,
    and the window still fits a 1366×768 screen."""
    language("pseudo")
    window = make_window()
    window.resize(1366, 768)
    with qtbot.waitSignal(window._controller.sig_model_loaded, timeout=TIMEOUT_MS):
        window.show()
    qtbot.waitExposed(window)
    hint = window.minimumSizeHint()
    assert hint.width() <= 1366 and hint.height() <= 768, hint
    squeezed = []
    for widget in window.findChildren(QLabel) + window.findChildren(QAbstractButton):
        if not widget.isVisible() or not widget.text():
            continue
        if isinstance(widget, QLabel) and widget.wordWrap():
            continue
        if widget.width() + 1 < widget.minimumSizeHint().width():
            squeezed.append((widget.objectName() or type(widget).__name__, widget.text()))
    assert not squeezed, squeezed


def test_engine_progress_reads_in_chinese(
    qtbot: QtBot, make_window: Callable[..., MainWindow], language: Callable[[str], str]
) -> None:
    """The engine thread reports where it is; the window says it in its language."""
    language("zh_CN")
    window = make_window(no_model=True)
    preparing = ModelProgress("prepare", fraction=0.42, default=True)
    assert window.progress_text(preparing) == "正在准备默认模型… 42%"
    assert preparing.text() == "Preparing default model… 42%"
    assert window.progress_text(ModelProgress("load", "qwen.gguf")) == "正在加载 qwen.gguf…"
    assert window.progress_text(ModelProgress("restart")) == "正在重启推理引擎…"


def test_every_embedding_model_reads_in_chinese(language: Callable[[str], str]) -> None:
    """The catalog's English lives in core; the window translates it by its exact
    wording, so a reworded entry must be translated again, not shown in English."""
    language("zh_CN")
    for choice in embedder_choices():
        for text in (choice.label, choice.summary, choice.install_hint):
            assert _catalog_text(text) != text, text
        if choice.languages != "English":
            assert _catalog_text(choice.languages) != choice.languages
