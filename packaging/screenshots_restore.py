"""Screenshot for the README: Settings → Data, the backups of the chats and the
knowledge base with Restore…, from the real window on the fake engine.

    QT_QPA_PLATFORM=offscreen python packaging/screenshots_restore.py docs/screenshots
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path


def main(out: Path) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    home = Path(tempfile.mkdtemp(prefix="glassbox-shots-"))
    os.environ["GLASSBOX_HOME"] = str(home)
    from PySide6.QtWidgets import QApplication

    from desktop_app.app import build
    from desktop_app.core import backup
    from desktop_app.core.chat.store import ChatStore
    from desktop_app.core.engine.fake import FakeEngine
    from desktop_app.core.kb.db import Registry
    from desktop_app.core.settings import Settings
    from desktop_app.workers.engine.inference import InferenceController

    with ChatStore() as store:
        for n in range(40):
            chat = store.create_chat(f"Chat {n}")
            store.add_message(chat, None, "user", "How do the sampling stages work? " * 40)
    with Registry(home / "kb") as registry:
        registry.create_collection("papers", "all-MiniLM-L6-v2", 384)
    folder = backup.backups_folder(home)
    now = time.time()
    day = 86400.0
    plan = [
        (backup.CHATS, backup.DAILY, now - 3 * day),
        (backup.KNOWLEDGE, backup.DAILY, now - 3 * day + 60),
        (backup.CHATS, backup.DAILY, now - 2 * day),
        (backup.CHATS, backup.BEFORE_MIGRATION, now - 2 * day + 3600),
        (backup.KNOWLEDGE, backup.DAILY, now - day),
        (backup.CHATS, backup.DAILY, now - day + 120),
        (backup.CHATS, backup.BEFORE_RESTORE, now - 3600),
        (backup.CHATS, backup.MANUAL, now - 600),
        (backup.KNOWLEDGE, backup.MANUAL, now - 590),
    ]
    for database, reason, when in plan:
        backup.back_up(backup.live_path(database, home), database, reason, folder, now=when)

    app = QApplication.instance() or QApplication(sys.argv)
    model = home / "tiny-demo-model.gguf"
    model.write_bytes(b"GGUF")
    controller = InferenceController(FakeEngine, settings=Settings())
    window = build(controller, model_spec=str(model)).window
    window.resize(1280, 860)
    window.show()
    dialog = window.settings_dialog()
    dialog.tabs.setCurrentWidget(dialog.data_page)
    dialog.resize(760, 560)
    dialog.show()
    end = time.monotonic() + 30
    while dialog.data_page.working and time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)
    dialog.data_page.select(0)
    for _ in range(20):
        app.processEvents()
    out.mkdir(parents=True, exist_ok=True)
    dialog.grab().save(str(out / "restore.png"))
    dialog.close()
    window.close()
    controller.shutdown()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots"))
