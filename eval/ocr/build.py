"""Build the OCR evaluation folder, or time OCR in the sandboxed parser.

    python eval/ocr/build.py OUT           # rendered scans + the typed test articles in OUT
    python eval/ocr/build.py OUT --speed   # then pages/s of OCR in the parser process

The scans are rendered deterministically by ``tests/scanned_pages.py`` (about
110–130 dpi, a 1.5–2.5° skew, salt-and-pepper noise, JPEG artefacts for the JPEG):
four pages hold the facts ``questions.jsonl`` asks about (5 questions in Chinese,
5 in English), four more hold near-identical distractors (another reservoir,
library, festival and rental shop), and the seven typed articles of
``tests/data/docs`` stand for the rest of a folder.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from scanned_pages import PAGES, render_page, save_pdf  # noqa: E402

DISTRACTORS: dict[str, list[str]] = {
    "zh_c": [
        "白沙河水库运行规程",
        "白沙河水库建于一九八五年，总库容为八百五十万立方米，主要向城区供水。",
        "水库由县水务局直接管理，每季度开展一次水质检测。",
        "每年六月至八月为主汛期，主汛期内水库停止对外开放参观。",
    ],
    "zh_d": [
        "月湖社区阅览室须知",
        "阅览室图书仅限室内阅读，不外借，读者离开前请将图书放回原处。",
        "阅览室每周三下午闭馆消毒，其余时间开放到晚上八点。",
        "遗失图书的读者需要按原价的两倍赔偿。",
    ],
    "en_c": [
        "Riverside Kite Day notes",
        "Riverside Kite Day takes place on the first Sunday of May.",
        "Guests leave their cars in the Oak Avenue lot, which opens at nine in the morning.",
        "The kite parade starts at the north gate and ends near the old mill.",
    ],
    "en_d": [
        "Lakeside scooter hire terms",
        "Hiring a scooter costs six dollars for the first hour and three dollars after that.",
        "Riders under eighteen need written consent from a parent.",
        "Scooters brought back after ten in the evening cost an extra twenty dollars.",
    ],
}


def say(line: str) -> None:
    sys.stdout.write(line + "\n")


def build(out: Path) -> list[Path]:
    """Write the folder; returns the scanned files (the typed articles are copied too)."""
    out.mkdir(parents=True, exist_ok=True)
    zh_a = render_page(PAGES["zh_a"], seed=101, dpi=120, skew_deg=2.0)
    zh_b = render_page(PAGES["zh_b"], seed=102, dpi=120, skew_deg=-1.5)
    save_pdf([zh_a, zh_b], out / "regulations_scan.pdf", dpi=120)
    render_page(PAGES["en_a"], seed=103, dpi=130, skew_deg=2.5).save(out / "lantern_festival.png")
    en_b = render_page(PAGES["en_b"], seed=104, dpi=110, skew_deg=-2.0)
    en_b.convert("RGB").save(out / "bicycle_rules.jpg", quality=75)
    pages = [render_page(DISTRACTORS[k], seed=105 + i) for i, k in enumerate(DISTRACTORS)]
    pages[0].save(out / "other_notices.tiff", save_all=True, append_images=pages[1:])
    typed = out / "typed"
    shutil.copytree(ROOT / "tests" / "data" / "docs", typed, dirs_exist_ok=True)
    return [
        out / "regulations_scan.pdf",
        out / "lantern_festival.png",
        out / "bicycle_rules.jpg",
        out / "other_notices.tiff",
    ]


def speed(scans: list[Path]) -> None:
    """Pages/s of OCR in the sandboxed parser (its default limits), model load apart."""
    from desktop_app.workers.kb.parser import SandboxedParser

    pages: dict[Path, int] = {}

    def on_page(path: Path, _done: int, total: int) -> bool:
        pages[path] = total
        return False

    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with SandboxedParser() as parser:
        started = time.monotonic()
        list(parser.parse_many([scans[1]]))  # loads the models, then one page
        first = time.monotonic() - started
        started = time.monotonic()
        results = list(parser.parse_many(scans, on_page=on_page))
        seconds = time.monotonic() - started
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the parser process, ended
    cpu = (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime)
    failed = [(p.name, str(r)) for p, r in results if isinstance(r, Exception)]
    total = sum(pages.values())
    say(f"first file (model load + 1 page): {first:.1f} s")
    say(f"{total} pages in {seconds:.1f} s: {total / seconds:.2f} pages/s (parse + chunk)")
    say(f"parser process CPU time, all {total + 1} pages and model load: {cpu:.1f} s")
    if failed:
        say(f"failed: {failed}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--speed", action="store_true", help="also time OCR in the parser process")
    args = ap.parse_args()
    scans = build(args.out)
    say(f"wrote {len(scans)} scanned files and the typed articles to {args.out}")
    if args.speed:
        speed(scans)


if __name__ == "__main__":
    main()
