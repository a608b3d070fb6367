"""``glassbox gui``: open the window (the default command).

Qt, the window and the engine are imported only when the command runs, so the
other subcommands start without them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from desktop_app.cli.generate import add_adapter_arguments, check_lora_scale
from desktop_app.core.settings import Settings, load_settings

#: The smoke test gives up after this long (seconds), and its reply is this short.
SMOKE_TIMEOUT_S = 300.0
SMOKE_MAX_TOKENS = 32
SMOKE_OK = "SMOKE OK"
SMOKE_FAIL = "SMOKE FAIL"


#: When start-up is over and its objects are left out of garbage collection (ms).
SETTLE_HEAP_AFTER_MS = 3000


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
    # CI's check of the bundle: load --model, send PROMPT through the window's own
    # input box, wait for the whole reply, print "SMOKE OK tokens=N text=…", exit 0;
    # on an error or after --smoke-timeout seconds print "SMOKE FAIL …" and exit 1.
    p.add_argument("--smoke-test", metavar="PROMPT", default=None, help=argparse.SUPPRESS)
    p.add_argument("--smoke-timeout", type=float, default=SMOKE_TIMEOUT_S, help=argparse.SUPPRESS)
    p.add_argument("--smoke-tokens", type=int, default=SMOKE_MAX_TOKENS, help=argparse.SUPPRESS)
    # A file manager's "Open with" (the desktop entry's %F): a GGUF is loaded as the
    # model, anything else is added to the knowledge base.
    p.add_argument(
        "files",
        nargs="*",
        metavar="FILE",
        help="GGUF model to load, or documents to add to the knowledge base",
    )
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


def _exit_when_painted(app: Any, window: Any) -> None:
    """Print the wall-clock time of the window's first paint, then quit (bench startup)."""
    import time

    from PySide6.QtCore import QEvent, QObject, QTimer

    from desktop_app.bench.startup import SHOWN_MARKER

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


def _window_icon() -> Any:
    """The app icon from the package's assets (a null icon when it is missing)."""
    from importlib import resources

    from PySide6.QtGui import QIcon

    icons = resources.files("desktop_app").joinpath("assets", "icons")
    icon = QIcon()
    for name in ("glassbox.svg", "glassbox.png"):
        path = icons.joinpath(name)
        if path.is_file():
            icon.addFile(str(path))
    return icon


def _wait_for_replaced_instance(timeout_s: float = 20.0) -> None:
    """After Restart now: let the Glassbox this one replaces finish quitting first."""
    import os
    import time

    pid = os.environ.pop("GLASSBOX_REPLACES_PID", "")
    if not pid.isdigit():
        return
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return
        except OSError:
            return  # not ours to ask about: it is not the Glassbox we replace
        time.sleep(0.1)


def split_files(files: list[str]) -> tuple[str | None, list[str]]:
    """The files given on the command line as (a GGUF to load, documents to add)."""
    model: str | None = None
    documents: list[str] = []
    for name in files:
        # A desktop's %F may hand over file:// URLs from some launchers.
        path = name[len("file://") :] if name.startswith("file://") else name
        if model is None and path.lower().endswith(".gguf"):
            model = path
        else:
            documents.append(path)
    return model, documents


def explicit_model(args: argparse.Namespace) -> bool:
    """Whether this run asked for a model itself (it then wins over Settings' server).

    ``--model``, a GGUF file handed over (the desktop entry's "Open with"),
    ``--fake`` and ``--smoke-test`` all name what the window must load.
    """
    file_model, _ = split_files(list(getattr(args, "files", None) or []))
    return bool(
        getattr(args, "model", None)
        or file_model is not None
        or getattr(args, "fake", False)
        or getattr(args, "smoke_test", None) is not None
    )


class _SmokeTest:
    """Drive one prompt through the window as a user would, then report and quit."""

    def __init__(
        self, app: Any, window: Any, controller: Any, prompt: str, timeout_s: float
    ) -> None:
        from PySide6.QtCore import QTimer

        self.app, self.window, self.controller, self.prompt = app, window, controller, prompt
        self.tokens = 0
        self.exit_code: int | None = None
        self.started = 0.0
        controller.sig_model_loaded.connect(self._on_loaded)
        controller.sig_error.connect(self._on_error)
        window.session.sig_reply_tokens.connect(self._on_tokens)
        window.session.sig_reply_ended.connect(self._on_reply_ended)
        self.timer = QTimer(window)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self._on_timeout)
        self.timer.start(int(timeout_s * 1000))
        self.timeout_s = timeout_s

    def _on_loaded(self, loaded: Any) -> None:
        import time

        from desktop_app.ui.window.main_window import ChatInput

        if self.started:
            return
        box = self.window.findChild(ChatInput)
        if box is None:
            self._finish(1, f"{SMOKE_FAIL}: the window has no message box")
            return
        self.started = time.monotonic()
        print(f"smoke: model loaded ({loaded.backend}), sending {self.prompt!r}", flush=True)
        # Exactly what typing and pressing Enter does.
        box.setPlainText(self.prompt)
        box.sig_submit.emit()
        if not self.window.session.busy:
            self._finish(1, f"{SMOKE_FAIL}: the window did not send the message")

    def _on_tokens(self, tokens: list[Any]) -> None:
        self.tokens += len(tokens)

    def _on_reply_ended(self, view: Any) -> None:
        import time

        path = self.window.session.path
        reply = path[-1] if path else None
        if reply is None or reply.role != "assistant":
            self._finish(1, f"{SMOKE_FAIL}: no reply in the conversation")
            return
        text = " ".join(reply.content.split())
        if self.tokens < 1 or reply.status != "complete":
            self._finish(
                1, f"{SMOKE_FAIL}: reply {reply.status!r} with {self.tokens} tokens: {text!r}"
            )
            return
        elapsed = time.monotonic() - self.started
        self._finish(0, f"{SMOKE_OK} tokens={self.tokens} seconds={elapsed:.1f} text={text}")

    def _on_error(self, kind: str, message: str) -> None:
        self._finish(1, f"{SMOKE_FAIL}: {kind}: {message}")

    def _on_timeout(self) -> None:
        stage = "the reply" if self.started else "the model to load"
        self._finish(1, f"{SMOKE_FAIL}: timed out after {self.timeout_s:.0f} s waiting for {stage}")

    def _finish(self, code: int, line: str) -> None:
        if self.exit_code is not None:
            return
        self.exit_code = code
        self.timer.stop()
        print(line, file=sys.stdout if code == 0 else sys.stderr, flush=True)
        self.window.close()
        self.app.exit(code)


def run(args: argparse.Namespace) -> int:
    """Open the window and run the event loop; returns the exit code."""
    from desktop_app.core.memory import limit_arenas

    limit_arenas()  # before Qt, the workers and the local API start their threads
    from PySide6.QtWidgets import QApplication

    from desktop_app.app import build, make_controller
    from desktop_app.ui.common.i18n import install_translators

    settings = with_adapter(load_settings(), args)
    explicit = explicit_model(args)
    files = list(getattr(args, "files", None) or [])
    file_model, documents = split_files(files)
    if file_model is not None and args.model is None:
        args.model = file_model
    smoke = getattr(args, "smoke_test", None)
    if smoke is not None:
        if not smoke.strip():
            raise SystemExit(f"{SMOKE_FAIL}: --smoke-test needs a prompt")
        if args.no_model:
            raise SystemExit(f"{SMOKE_FAIL}: --smoke-test needs a model, not --no-model")
        # A short reply; this run's settings only (the model is not remembered either).
        from dataclasses import replace

        settings = settings.with_sampling(
            replace(settings.sampling_params(), max_tokens=max(1, args.smoke_tokens))
        )
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName("Glassbox")
    app.setApplicationDisplayName("Glassbox")
    # The desktop entry's name: Wayland matches the window to glassbox.desktop by it.
    app.setDesktopFileName("glassbox")
    app.setWindowIcon(_window_icon())
    # Before any widget exists: every string is translated as it is created.
    install_translators(app, args.language or settings.language)

    # One window per data folder: a Glassbox already open takes the files and
    # comes to the front. Test, benchmark and smoke runs always start their own.
    instance = None
    if not (args.fake or smoke is not None or args.exit_when_shown):
        from desktop_app.ui.window.single_instance import InstanceServer, forward_to_running

        _wait_for_replaced_instance()
        given = list(files)
        if args.model and args.model.lower().endswith(".gguf") and args.model not in given:
            given.append(args.model)
        handed = [str(Path(name.removeprefix("file://")).expanduser().resolve()) for name in given]
        if forward_to_running(handed):
            print("Glassbox is already open: it was brought to the front.")
            return 0
        instance = InstanceServer(parent=app)
        instance.listen()

    controller = make_controller(settings, fake=args.fake, remember_model=smoke is None)
    spec = (args.model or "default") if args.fake else initial_model(settings, args.model)
    window = build(
        controller, model_spec=None if args.no_model else spec, explicit_model=explicit
    ).window
    if args.exit_when_shown:
        _exit_when_painted(app, window)
    smoke_test = (
        _SmokeTest(app, window, controller, smoke, args.smoke_timeout)
        if smoke is not None
        else None
    )
    if instance is not None:
        instance.sig_files.connect(window.open_paths)
    window.show()
    if documents and smoke_test is None:
        window.add_documents(documents)
    from PySide6.QtCore import QTimer

    from desktop_app.workers.jobs_qt import settle_heap

    # Start-up's objects live as long as the window: out of later full collections.
    QTimer.singleShot(SETTLE_HEAP_AFTER_MS, settle_heap)
    try:
        code = int(app.exec())
        if smoke_test is not None and smoke_test.exit_code is None:
            print(f"{SMOKE_FAIL}: the window closed before the reply", file=sys.stderr)
            return 1
        return code
    finally:
        # Also when the loop ends without the window closing (app.quit(), session
        # end); shutting down twice is harmless.
        if instance is not None:
            instance.close()
        controller.shutdown()
