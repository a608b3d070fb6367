"""Render the app icon's PNG sizes from its SVG with QtSvg.

    .venv/bin/python packaging/render_icons.py

Writes resources/icons/hicolor/<n>x<n>/apps/glassbox.png for the freedesktop icon
theme and desktop_app/assets/icons/glassbox.{svg,png} (256 px) for the window.
The PNGs are committed: run this again only after changing the SVG.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SVG = ROOT / "resources" / "icons" / "hicolor" / "scalable" / "apps" / "glassbox.svg"
HICOLOR = ROOT / "resources" / "icons" / "hicolor"
ASSETS = ROOT / "desktop_app" / "assets" / "icons"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(SVG))
    if not renderer.isValid():
        print(f"not a valid SVG: {SVG}", file=sys.stderr)
        return 1
    for size in SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        renderer.render(painter)
        painter.end()
        out = HICOLOR / f"{size}x{size}" / "apps" / "glassbox.png"
        out.parent.mkdir(parents=True, exist_ok=True)
        if not image.save(str(out), "PNG"):
            print(f"could not write {out}", file=sys.stderr)
            return 1
        print(out.relative_to(ROOT))
    ASSETS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(HICOLOR / "256x256" / "apps" / "glassbox.png", ASSETS / "glassbox.png")
    shutil.copyfile(SVG, ASSETS / "glassbox.svg")
    print((ASSETS / "glassbox.png").relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
