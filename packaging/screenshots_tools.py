"""Screenshot for the README: Settings → Tools with an MCP server's tools listed (the
notes server the tests use, started for real), from the real window on the fake engine.

    QT_QPA_PLATFORM=offscreen python packaging/screenshots_tools.py docs/screenshots
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(out: Path) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    home = Path(tempfile.mkdtemp(prefix="glassbox-shots-"))
    os.environ["GLASSBOX_HOME"] = str(home)
    # "python3" is this Python (the one with the mcp SDK).
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    from PySide6.QtWidgets import QApplication

    from desktop_app.app import build
    from desktop_app.core.engine.fake import FakeEngine
    from desktop_app.core.settings import Settings
    from desktop_app.workers.engine.inference import InferenceController

    notes = home / "notes"
    notes.mkdir()
    (notes / "shopping.txt").write_text("milk, bread", encoding="utf-8")
    shutil.copy(ROOT / "tests" / "mcp_notes_server.py", home / "notes_server.py")
    settings = Settings(
        tools_builtin=["calculator", "datetime", "knowledge"],
        tools_max_steps=4,
        tool_servers=[
            {
                "name": "notes",
                "command": "python3",
                "args": ["notes_server.py", "notes"],
                "cwd": str(home),
            },
            {"name": "wiki", "url": "https://wiki.example.org/mcp", "token": "s3cret"},
        ],
    )
    app = QApplication.instance() or QApplication(sys.argv)
    model = home / "tiny-demo-model.gguf"
    model.write_bytes(b"GGUF")
    controller = InferenceController(FakeEngine, settings=settings)
    window = build(controller, model_spec=str(model)).window
    window.resize(1280, 860)
    window.show()
    dialog = window.settings_dialog()
    page = dialog.tools_page
    dialog.tabs.setCurrentWidget(page)
    dialog.resize(780, 820)
    dialog.show()
    page.server_list.setCurrentRow(0)
    listed: list[str] = []
    page.sig_listed.connect(listed.append)
    page.test_button.click()
    end = time.monotonic() + 60
    while not listed and time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)
    for _ in range(20):
        app.processEvents()
    out.mkdir(parents=True, exist_ok=True)
    dialog.grab().save(str(out / "settings-tools.png"))
    dialog.close()
    window.close()
    controller.shutdown()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots"))
