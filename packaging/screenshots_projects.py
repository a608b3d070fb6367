"""Screenshots for the README: the Chats sidebar with projects as folders, and a
project's settings, from the real window on the fake engine.

    QT_QPA_PLATFORM=offscreen python packaging/screenshots_projects.py docs/screenshots
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path


def main(out: Path) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    home = Path(tempfile.mkdtemp(prefix="glassbox-shots-"))
    os.environ["GLASSBOX_HOME"] = str(home)
    from PySide6.QtWidgets import QApplication

    from desktop_app.app import build
    from desktop_app.core.chat.store import ChatStore
    from desktop_app.core.engine.fake import FakeEngine
    from desktop_app.core.settings import Settings
    from desktop_app.ui.chat.projects import ProjectDialog
    from desktop_app.workers.engine.inference import InferenceController

    with ChatStore() as store:
        store.save_preset("Precise", "", {"temperature": 0.2, "top_p": 0.9})
        thesis = store.create_project(
            "Thesis",
            system_prompt="You are a patient tutor. Cite the papers you use.",
            sampling={"temperature": 0.2, "top_p": 0.9},
            collections=["papers"],
            files=["/home/me/thesis/outline.md", "/home/me/thesis/notes/smith2021.pdf"],
        )
        trip = store.create_project("Trip to Kyoto")
        store.create_project("Home repairs")
        chats = [
            ("Leaky kitchen tap", None),
            ("Chapter 2: related work", thesis),
            ("Which trains from Osaka?", trip),
            ("Summarise Smith et al. 2021", thesis),
            ("Ryokan or hotel?", trip),
            ("Outline of chapter 1", thesis),
            ("Rust borrow checker question", None),
            ("Weekly meal plan", None),
        ]
        for title, project in chats:
            chat = store.create_chat(title, project_id=project)
            store.add_message(chat, None, "user", title)
        home_id = next(p.id for p in store.list_projects() if p.name == "Home repairs")
        project_thesis = store.project(thesis)
        presets = store.presets()

    app = QApplication.instance() or QApplication(sys.argv)
    model = home / "tiny-demo-model.gguf"
    model.write_bytes(b"GGUF")
    controller = InferenceController(FakeEngine, settings=Settings())
    window = build(controller, model_spec=str(model)).window
    window.resize(1280, 820)
    window.show()
    sidebar = window._chats
    sidebar.refresh()
    folder = sidebar.project_item(home_id)
    if folder is not None:
        folder.setExpanded(False)
    for _ in range(30):
        app.processEvents()
    out.mkdir(parents=True, exist_ok=True)
    sidebar.grab().save(str(out / "projects.png"))

    dialog = ProjectDialog(project_thesis, ["papers", "handbook"], presets, window)
    dialog.resize(560, 520)
    dialog.show()
    for _ in range(30):
        app.processEvents()
    dialog.grab().save(str(out / "project-settings.png"))
    dialog.close()
    window.close()
    controller.shutdown()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots"))
