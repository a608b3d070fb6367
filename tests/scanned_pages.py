"""Scanned-looking pages for the OCR tests and ``eval/ocr``: rendered here, deterministically.

A page is text drawn with a CJK-capable font at a low resolution (about 120 dpi),
turned by a slight skew and sprinkled with noise, as a cheap scanner would give it.
The font is Noto Sans CJK SC from the ``mplfonts`` package (a pinned test dependency:
its font file is found by path, the package is never imported), or any font named by
``GLASSBOX_CJK_FONT``, or a system CJK font.
"""

from __future__ import annotations

import importlib.util
import os
import random
from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

#: Where a font with Chinese glyphs is looked for, in order.
CJK_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)


def _packaged_font() -> str | None:
    """Noto Sans CJK SC inside the installed ``mplfonts`` package (not imported)."""
    spec = importlib.util.find_spec("mplfonts")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations)))
    return str(folder / "fonts" / "NotoSansCJKsc-Regular.otf")


def cjk_font_path() -> Path | None:
    """A font file with Chinese glyphs, or None when the machine has none."""
    named = os.environ.get("GLASSBOX_CJK_FONT")
    for candidate in [named, _packaged_font(), *CJK_FONTS]:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def _wrap(
    draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: int
) -> list[str]:
    """Lines of at most ``width`` pixels: English wraps at spaces, Chinese anywhere."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        tokens = paragraph.split(" ") if paragraph.isascii() else list(paragraph)
        sep = " " if paragraph.isascii() else ""
        for token in tokens:
            trial = f"{line}{sep}{token}" if line else token
            if draw.textlength(trial, font=font) <= width:
                line = trial
            else:
                lines.append(line)
                line = token
        lines.append(line)
        lines.append("")
    return lines


def render_page(
    paragraphs: Sequence[str],
    *,
    seed: int = 0,
    dpi: int = 120,
    skew_deg: float = 2.0,
    noise: float = 0.04,
    font_path: Path | None = None,
) -> Image.Image:
    """An A4-shaped grey page holding ``paragraphs`` at 11 pt, skewed and noisy."""
    font_path = font_path or cjk_font_path()
    if font_path is None:
        raise FileNotFoundError("no font with Chinese glyphs: `make test` installs mplfonts")
    width, height = int(8.27 * dpi), int(11.69 * dpi)
    margin = int(0.8 * dpi)
    size = round(11 / 72 * dpi * 1.25)  # 11 pt body text
    font = ImageFont.truetype(str(font_path), size)
    page = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(page)
    y = margin
    for line in _wrap(draw, "\n".join(paragraphs), font, width - 2 * margin):
        if line:
            draw.text((margin, y), line, font=font, fill=20)
        y += int(size * 1.5)
        if y > height - margin:
            break
    rng = random.Random(seed)
    page = page.rotate(skew_deg, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=255)
    page = page.filter(ImageFilter.GaussianBlur(0.4))
    pixels = page.load()
    assert pixels is not None
    for _ in range(int(width * height * noise)):
        x, yy = rng.randrange(width), rng.randrange(height)
        pixels[x, yy] = rng.choice((0, 60, 200, 255))
    return page


def save_pdf(pages: Sequence[Image.Image], path: Path, dpi: int = 120) -> Path:
    """An image-only PDF (no text layer), one page per image, as a scanner writes it."""
    first, *rest = [p.convert("RGB") for p in pages]
    first.save(path, "PDF", resolution=float(dpi), save_all=True, append_images=rest)
    return path


#: Pages about made-up facts (nothing a model or another document could know), with
#: the questions the OCR evaluation asks about them: 5 in Chinese, 5 in English.
PAGES: dict[str, list[str]] = {
    "zh_a": [
        "青石镇水库管理办法",
        "青石镇水库于二〇一九年重新修建，总库容为三千二百万立方米，主要用于灌溉和防洪。",
        "水库的管理单位是青石镇水利站，站长负责每年汛期前组织一次大坝安全检查。",
        "每年五月至九月为汛期，汛期内禁止在水库周边五百米范围内游泳和钓鱼。",
    ],
    "zh_b": [
        "星河图书馆借阅规定",
        "读者凭借阅证每次最多可以借阅八本图书，借期为四十五天，可以续借一次。",
        "逾期归还的图书，每本每天收取滞纳金二角，损坏图书需要按原价的三倍赔偿。",
        "图书馆每周一闭馆进行内部整理，其余时间开放到晚上九点。",
    ],
    "en_a": [
        "Harbor Lantern Festival guide",
        "The Harbor Lantern Festival is held every year on the second Saturday of October.",
        "Visitors park at the Maple Street garage, which opens at six in the evening.",
        "The lantern boats leave from Pier Seven and sail toward the old lighthouse.",
    ],
    "en_b": [
        "Greenfield bicycle rental rules",
        "A rental costs four dollars for the first hour and two dollars for each extra hour.",
        "Riders under sixteen must wear a helmet, which the kiosk lends for free.",
        "Bicycles returned after midnight are charged a late fee of fifteen dollars.",
    ],
}
