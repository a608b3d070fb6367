"""The window's System check: ``glassbox doctor --json`` in a child process.

The doctor loads llama.cpp and starts Qt's probe, neither of which belongs in the
window's process; a ``QProcess`` runs it while the event loop goes on, and the
report comes back as findings by signal.
"""

from __future__ import annotations

import json

from PySide6.QtCore import QCoreApplication, QObject, QProcess, QTimer, Signal, Slot

from desktop_app.core.doctor import Finding
from desktop_app.workers.doctor.probe import PROBE_TIMEOUT_S, glassbox_command

__all__ = ["RUN_TIMEOUT_S", "SystemCheck", "parse_report"]

#: The whole run gives up after this long (the Qt probe alone may take PROBE_TIMEOUT_S).
RUN_TIMEOUT_S = PROBE_TIMEOUT_S + 60.0


def parse_report(stdout: str) -> list[Finding]:
    """The findings in ``glassbox doctor --json``'s output; ValueError if there are none."""
    for line in reversed(stdout.strip().splitlines()):
        try:
            data = json.loads(line)
        except ValueError:
            continue
        if isinstance(data, dict) and data.get("type") == "doctor":
            findings = data.get("findings")
            if not isinstance(findings, list):
                break
            return [Finding.from_dict(item) for item in findings if isinstance(item, dict)]
    raise ValueError("glassbox doctor printed no report")


class SystemCheck(QObject):
    """Runs ``glassbox doctor --json`` in a child process, one run at a time."""

    sig_finished = Signal(object)
    """A run ended with a report: its findings (``list[Finding]``)."""

    sig_failed = Signal(str)
    """A run ended without a report: what went wrong, as the child or the system said it."""

    def __init__(self, parent: QObject | None = None, command: list[str] | None = None) -> None:
        super().__init__(parent)
        self._command = command or glassbox_command("doctor", "--json")
        self._process: QProcess | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(int(RUN_TIMEOUT_S * 1000))
        self._timer.timeout.connect(self._on_timer_timeout)
        app = QCoreApplication.instance()
        if app is not None:
            # Quitting while a check runs: end the child rather than leave it to
            # QProcess's destructor (which warns).
            app.aboutToQuit.connect(self.cancel)

    def is_running(self) -> bool:
        """Whether a run is under way."""
        return self._process is not None

    def start(self) -> None:
        """Start a run (nothing happens while one is under way)."""
        if self._process is not None:
            return
        process = QProcess(self)
        process.setProgram(self._command[0])
        process.setArguments(self._command[1:])
        process.setStandardInputFile(QProcess.nullDevice())
        process.finished.connect(self._on_process_finished)
        process.errorOccurred.connect(self._on_process_error_occurred)
        self._process = process
        self._timer.start()
        process.start()

    @Slot()
    def cancel(self) -> None:
        """Stop a run under way; neither signal is sent for it."""
        process = self._end()
        if process is not None:
            process.kill()
            process.waitForFinished(5000)
            process.deleteLater()

    def _end(self) -> QProcess | None:
        """Forget the run under way (returned) so that its late signals are ignored."""
        process, self._process = self._process, None
        self._timer.stop()
        if process is not None:
            process.finished.disconnect(self._on_process_finished)
            process.errorOccurred.disconnect(self._on_process_error_occurred)
        return process

    @Slot(int, QProcess.ExitStatus)
    def _on_process_finished(self, code: int, status: QProcess.ExitStatus) -> None:
        process = self._end()
        if process is None:
            return
        out = bytes(process.readAllStandardOutput().data()).decode("utf-8", "replace")
        err = bytes(process.readAllStandardError().data()).decode("utf-8", "replace")
        process.deleteLater()
        try:
            findings = parse_report(out)
        except ValueError:
            said = err.strip()[-2000:] or out.strip()[-2000:]
            crashed = status == QProcess.ExitStatus.CrashExit
            reason = "crashed" if crashed else f"exit status {code}"
            self.sig_failed.emit(f"{' '.join(self._command)}: {reason}\n{said}".strip())
            return
        self.sig_finished.emit(findings)

    @Slot(QProcess.ProcessError)
    def _on_process_error_occurred(self, error: QProcess.ProcessError) -> None:
        # Only a process that never started ends here; a crash also ends in finished.
        if error != QProcess.ProcessError.FailedToStart or self._process is None:
            return
        process = self._end()
        reason = process.errorString() if process is not None else str(error)
        if process is not None:
            process.deleteLater()
        self.sig_failed.emit(f"{' '.join(self._command)}: {reason}")

    @Slot()
    def _on_timer_timeout(self) -> None:
        if self._process is None:
            return
        self.cancel()
        self.sig_failed.emit(
            f"{' '.join(self._command)}: no report after {RUN_TIMEOUT_S:.0f} s; stopped"
        )
