"""``glassbox gui``: open the window (the default command).

Qt, the window and the engine are imported only when the command runs, so the
other subcommands start without them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop_app.cli.generate import add_adapter_arguments, check_lora_scale
from desktop_app.core.settings import Settings, load_settings

if TYPE_CHECKING:
    from desktop_app.core.engine.protocol import Engine

#: What the hidden ``--fake`` engine says, slowly enough to watch it stream.
FAKE_SCRIPT = (
    "Hello! I am the fake engine. Every token here went through the real sampler "
    "chain, so hovering one shows its alternatives and what each sampler stage did."
)
FAKE_DELAY_S = 0.02


def register(sub: Any) -> None:
    """Add the ``gui`` subcommand."""
    p = sub.add_parser("gui", help="open the Glassbox window (the default command)")
    p.add_argument(
        "--model",
        default=None,
        metavar="PATH|default",
        help="a GGUF file, a default model key, or 'default' "
        "(default: the last model used if it still exists, else 'default')",
    )
    add_adapter_arguments(p)
    p.add_argument(
        "--no-model", action="store_true", help="open the window without loading any model"
    )
    p.add_argument(
        "--language",
        choices=["system", "en", "zh_CN", "pseudo"],
        default=None,
        help="the window's language for this run (default: as in settings, else the system's; "
        "pseudo stretches every string to check layouts)",
    )
    # Screenshots and window tests: canned replies, no model.
    p.add_argument("--fake", action="store_true", help=argparse.SUPPRESS)
    # The start-up benchmark: print when the window is painted, then quit.
    p.add_argument("--exit-when-shown", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(func=run)


def initial_model(settings: Settings, requested: str | None) -> str:
    """The model to open: the one asked for, else the last one used while it exists."""
    from desktop_app.core.models.defaults import DEFAULT_MODELS

    if requested:
        return requested
    last = settings.last_model
    if last and (last == "default" or last in DEFAULT_MODELS or Path(last).is_file()):
        return last
    return "default"


def with_adapter(settings: Settings, args: argparse.Namespace) -> Settings:
    """The settings with the adapter asked for on the command line (saved once it loads)."""
    if not getattr(args, "lora", None):
        return settings
    return settings.model_copy(
        update={
            "lora_path": str(Path(args.lora).expanduser()),
            "lora_scale": check_lora_scale(args.lora_scale),
        }
    )


def _make_engine_client() -> Engine:
    # Imported here: the engine client pulls in multiprocessing machinery the
    # window does not need until a model is loaded.
    from desktop_app.workers.engine_process import EngineClient

    return EngineClient()


def _make_fake_engine() -> Engine:
    from desktop_app.core.engine.fake import FakeEngine

    return FakeEngine(script=FAKE_SCRIPT, delay_s=FAKE_DELAY_S)


def _fake_resolve(spec: str, progress: Any) -> Path:
    # The fake engine needs no file; show a plausible name in the status bar.
    return Path("fake-model.gguf" if spec == "default" else spec)


def _exit_when_painted(app: Any, window: Any) -> None:
    """Print the wall-clock time of the window's first paint, then quit (bench startup)."""
    import time

    from PySide6.QtCore import QEvent, QObject, QTimer

    from desktop_app.workers.bench_startup import SHOWN_MARKER

    class _FirstPaint(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint and watched is window:
                window.removeEventFilter(self)
                # After the paint has been flushed to the window.
                QTimer.singleShot(0, _report)
            return False

    def _report() -> None:
        print(f"{SHOWN_MARKER} {time.time():.6f}", flush=True)
        window.close()
        app.quit()

    window._first_paint_filter = _FirstPaint(window)
    window.installEventFilter(window._first_paint_filter)


def run(args: argparse.Namespace) -> int:
    """Open the window and run the event loop; returns the exit code."""
    from PySide6.QtWidgets import QApplication

    from desktop_app.ui.i18n import install_translators
    from desktop_app.ui.main_window import MainWindow
    from desktop_app.workers.inference import InferenceController, resolve_with_defaults

    settings = with_adapter(load_settings(), args)
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName("Glassbox")
    app.setApplicationDisplayName("Glassbox")
    # Before any widget exists: every string is translated as it is created.
    install_translators(app, args.language or settings.language)

    if args.fake:
        controller = InferenceController(
            _make_fake_engine, settings, resolver=_fake_resolve, remember_model=False
        )
        spec = args.model or "default"
    else:
        controller = InferenceController(
            _make_engine_client, settings, resolver=resolve_with_defaults
        )
        spec = initial_model(settings, args.model)
    window = MainWindow(controller, model_spec=None if args.no_model else spec)
    if args.exit_when_shown:
        _exit_when_painted(app, window)
    window.show()
    try:
        return int(app.exec())
    finally:
        # Also when the loop ends without the window closing (app.quit(), session
        # end); shutting down twice is harmless.
        controller.shutdown()
