"""Screenshot for the README: the New collection dialog asking which embedding model
embeds the collection, with E5 small chosen and EmbeddingGemma (not installed) saying
how to install it. The collection's Chinese name is drawn with Noto Sans CJK from the
``mplfonts`` test dependency when the machine has no Chinese font.

    QT_QPA_PLATFORM=offscreen python packaging/screenshots_collection.py docs/screenshots
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

from shots import fresh_home


def main(out: Path) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    fresh_home()
    from PySide6.QtGui import QFontDatabase
    from PySide6.QtWidgets import QApplication

    from desktop_app.core.kb.embed import E5_NAME, embedder_choices
    from desktop_app.ui.knowledge.collection_dialog import CollectionDialog

    app = QApplication.instance() or QApplication(sys.argv)
    fonts = importlib.util.find_spec("mplfonts")
    if fonts is not None and fonts.submodule_search_locations:
        folder = Path(next(iter(fonts.submodule_search_locations)))
        QFontDatabase.addApplicationFont(str(folder / "fonts" / "NotoSansCJKsc-Regular.otf"))
    out.mkdir(parents=True, exist_ok=True)
    choices = embedder_choices()
    dialog = CollectionDialog("New collection", embedders=choices)
    dialog.name_edit.setText("Debian 手册")
    assert dialog.picker is not None
    dialog.picker.combo.setCurrentIndex([c.name for c in choices].index(E5_NAME))
    dialog.adjustSize()
    dialog.show()
    app.processEvents()
    dialog.grab().save(str(out / "knowledge-new-collection.png"))


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots"))
