"""Help → System check: the report in words, shown as plain text, copied; the runner."""

from __future__ import annotations

import json
import string
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QLabel, QPushButton
from pytestqt.qtbot import QtBot

from desktop_app.app import build
from desktop_app.core import doctor
from desktop_app.core.doctor import Finding
from desktop_app.core.engine.fake import FakeEngine
from desktop_app.core.settings import load_settings
from desktop_app.ui.common.i18n import install_translators
from desktop_app.ui.window import system_check
from desktop_app.ui.window.system_check import SystemCheckDialog
from desktop_app.workers.doctor import check as runner_module
from desktop_app.workers.doctor.check import SystemCheck, parse_report
from desktop_app.workers.doctor.probe import parse_qt_probe
from desktop_app.workers.engine.inference import InferenceController

TIMEOUT_MS = 10_000
HOSTILE_PATH = "/home/<img src=x>/<b>Glassbox</b> & co"
HOSTILE_CPU = "<script>alert(1)</script> CPU"


def hostile_findings() -> list[Finding]:
    return [
        Finding("cpu", "ok", "cpu", {"name": HOSTILE_CPU, "flags": "AVX2"}),
        Finding(
            "data_folder",
            "fail",
            "data_folder_unwritable",
            {"path": HOSTILE_PATH, "reason": "Permission denied"},
        ),
        Finding("default_model", "warn", "model_missing", {"title": "Qwen", "folder": "<i>m</i>"}),
    ]


def canned_command(tmp_path: Path, stdout: str, code: int = 0, stderr: str = "") -> list[str]:
    """A child process that prints ``stdout`` (and ``stderr``) and exits with ``code``."""
    script = tmp_path / "child.py"
    script.write_text(
        "import sys\n"
        f"sys.stdout.write({stdout!r})\n"
        f"sys.stderr.write({stderr!r})\n"
        f"sys.exit({code})\n",
        encoding="utf-8",
    )
    return [sys.executable, str(script)]


def doctor_json(findings: list[Finding]) -> str:
    report = {"type": "doctor", "findings": [f.to_dict() for f in findings]}
    return json.dumps(report) + "\n"


def test_hostile_text_shows_literally_and_is_copied_as_it_is(qtbot: QtBot) -> None:
    dialog = SystemCheckDialog()
    qtbot.addWidget(dialog)
    dialog.show_findings(hostile_findings())
    shown = dialog.text.toPlainText()
    assert f"{HOSTILE_PATH} cannot be written: Permission denied." in shown
    assert HOSTILE_CPU in shown and "<i>m</i>" in shown
    # Characters, not markup: the document holds the escaped text and no image.
    assert "&lt;img src=x&gt;" in dialog.text.toHtml() and "<img" not in dialog.text.toHtml()
    assert "[FAIL] Data folder" in shown and "[WARN] Default model" in shown
    assert "To do: Run glassbox models install-default" in shown
    assert dialog.summary.textFormat() == Qt.TextFormat.PlainText
    assert dialog.summary.text().startswith("Something blocks Glassbox")
    for label in dialog.findChildren(QLabel):
        assert label.textFormat() == Qt.TextFormat.PlainText
    qtbot.mouseClick(dialog.copy_button, Qt.MouseButton.LeftButton)
    copied = QGuiApplication.clipboard().text()
    assert HOSTILE_PATH in copied and copied.startswith("Something blocks Glassbox")
    assert dialog.copy_button.text() == "Copied"


def test_the_window_words_every_finding_as_the_command_line_does() -> None:
    """Without a translator the window's sentences are core's, field for field."""
    ui_wording = system_check._wording()
    assert set(ui_wording) == set(doctor.WORDING)
    for code, sentences in doctor.WORDING.items():
        names = {
            n for s in sentences for _, n, _, _ in string.Formatter().parse(s) if n is not None
        }
        finding = Finding("cpu", "ok", code, {n: f"<{n}>" for n in names})
        assert system_check.finding_words(finding) == (finding.detail, finding.action), code
    for check, title in doctor.CHECKS.items():
        assert system_check.check_title(check) == title


@pytest.fixture
def chinese(qapp: QApplication) -> Iterator[None]:
    assert install_translators(qapp, "zh_CN") == "zh_CN"
    yield
    install_translators(qapp, "en")


@pytest.mark.usefixtures("chinese")
def test_the_report_reads_in_chinese_and_keeps_what_the_system_said(qtbot: QtBot) -> None:
    dialog = SystemCheckDialog()
    qtbot.addWidget(dialog)
    dialog.show_findings(hostile_findings())
    shown = dialog.text.toPlainText()
    assert "[失败] 数据文件夹" in shown
    assert f"无法写入 {HOSTILE_PATH}：Permission denied。" in shown
    assert "建议：运行 glassbox models install-default" in shown
    assert dialog.summary.text().startswith("有问题妨碍 Glassbox 使用")
    assert dialog.copy_button.text() == "复制(&C)"


def test_a_finding_without_its_fields_still_shows(qtbot: QtBot) -> None:
    detail, _ = system_check.finding_words(Finding("disk", "ok", "disk", {}))
    assert detail == "? free on the disk that holds ?."


def test_a_run_reports_its_findings(qtbot: QtBot, tmp_path: Path) -> None:
    runner = SystemCheck(command=canned_command(tmp_path, doctor_json(hostile_findings()), 1))
    dialog = SystemCheckDialog(runner)
    qtbot.addWidget(dialog)
    assert not dialog.copy_button.isEnabled()
    with qtbot.waitSignal(runner.sig_finished, timeout=TIMEOUT_MS) as finished:
        dialog.start()
        assert dialog.summary.text().startswith("Checking this computer")
        assert not dialog.again_button.isEnabled()
    assert finished.args[0] == hostile_findings()
    assert HOSTILE_PATH in dialog.text.toPlainText()
    assert dialog.again_button.isEnabled() and dialog.copy_button.isEnabled()
    assert not runner.is_running()


def test_a_run_without_a_report_shows_what_the_child_said(qtbot: QtBot, tmp_path: Path) -> None:
    said = "Traceback: <b>not bold</b>"
    runner = SystemCheck(command=canned_command(tmp_path, "no json here", 3, said))
    dialog = SystemCheckDialog(runner)
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(runner.sig_failed, timeout=TIMEOUT_MS) as failed:
        dialog.start()
    assert "exit status 3" in failed.args[0]
    assert dialog.summary.text() == "The system check did not finish."
    assert said in dialog.text.toPlainText()


def test_a_command_that_cannot_start_is_reported(qtbot: QtBot, tmp_path: Path) -> None:
    runner = SystemCheck(command=[str(tmp_path / "no-such-program")])
    with qtbot.waitSignal(runner.sig_failed, timeout=TIMEOUT_MS) as failed:
        runner.start()
    assert "no-such-program" in failed.args[0]
    assert not runner.is_running()


def test_closing_the_dialog_stops_a_running_check(qtbot: QtBot) -> None:
    runner = SystemCheck(command=[sys.executable, "-c", "import time; time.sleep(60)"])
    dialog = SystemCheckDialog(runner)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.start()
    qtbot.waitUntil(runner.is_running)
    with qtbot.assertNotEmitted(runner.sig_failed), qtbot.assertNotEmitted(runner.sig_finished):
        dialog.reject()
        qtbot.wait(100)
    assert not runner.is_running()


def test_help_menu_opens_the_system_check(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    canned = canned_command(tmp_path, doctor_json(hostile_findings()))
    monkeypatch.setattr(runner_module, "glassbox_command", lambda *args: canned)
    controller = InferenceController(FakeEngine, settings=load_settings())
    window = build(controller, model_spec=None).window
    qtbot.addWidget(window)
    actions = [a for a in window.menuBar().actions() if a.text() == "&Help"]
    items = {a.text(): a for a in actions[0].menu().actions()}
    items["System &check…"].trigger()
    dialog = window.findChild(SystemCheckDialog)
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: HOSTILE_PATH in dialog.text.toPlainText(), timeout=TIMEOUT_MS)
    assert dialog.accessibleName() == "System check"
    for button in dialog.findChildren(QPushButton):
        assert button.accessibleName()
    dialog.close()
    window.close()
    assert controller.shutdown()
    QApplication.processEvents()


def test_parse_report_reads_the_last_report_line() -> None:
    findings = hostile_findings()
    assert parse_report("noise\n" + doctor_json(findings)) == findings
    with pytest.raises(ValueError):
        parse_report('{"type": "error"}\n')


def test_the_qt_probe_report_keeps_what_was_printed_before_an_abort() -> None:
    out = (
        '{"display": "x11", "forced": ""}\n'
        '{"xcb_error": "libxcb-cursor.so.0: cannot open shared object file"}\n'
    )
    err = (
        'qt.qpa.plugin: Could not load the Qt platform plugin "xcb" in "" even though it '
        "was found.\nThis application failed to start because no Qt platform plugin could be "
        "initialized. Reinstalling the application may fix this problem.\n"
    )
    report = parse_qt_probe(out, err, -6)
    assert report.display == "x11" and report.platform == ""
    assert report.xcb_error.startswith("libxcb-cursor.so.0")
    assert report.error.startswith("qt.qpa.plugin: Could not load")
    assert report.cjk_fonts is None
    done = parse_qt_probe(out + '{"platform": "xcb"}\n{"cjk_fonts": ["Noto Sans CJK SC"]}\n', "", 0)
    assert done.platform == "xcb" and done.cjk_fonts == ("Noto Sans CJK SC",)
    assert "did not start within" in parse_qt_probe("", "", None).error
