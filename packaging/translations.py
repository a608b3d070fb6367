"""Keep the window's translations in step with the code.

    python packaging/translations.py update   # lupdate: new strings into the .ts files
    python packaging/translations.py compile  # lrelease: the .ts files into the package's .qm
    python packaging/translations.py check    # fail if anything is missing or stale

One ``.ts`` per source module (``resources/i18n/<lang>/ui.chat.view.ts``), so people
translating different panels never edit the same file. Locations are left out of
the ``.ts`` files: moving code does not change them, only changing strings does.
"""

from __future__ import annotations

import re
import shutil
import string
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [ROOT / "desktop_app" / "ui", ROOT / "desktop_app" / "workers"]
TS_ROOT = ROOT / "resources" / "i18n"
QM_DIR = ROOT / "desktop_app" / "i18n"
LANGS = ["zh_CN"]
# Strings are found where the code asks Qt to translate them.
_EXTRACOMMENT = re.compile(r"\n *<extracomment>.*?</extracomment>", re.DOTALL)
_MARKER = re.compile(r"(?:\btr|\btranslate)\(\s*[\"']")


def _fields(text: str) -> set[str] | str:
    """The ``{fields}`` that ``str.format`` fills in ``text`` (what the code passes),
    or the reason ``.format()`` would fail on it (a stray or unbalanced brace)."""
    try:
        found = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as exc:
        return f"broken braces: {exc}"
    # "{}" and "{0}" take positional values the code never passes.
    return found if all(name and not name.isdigit() for name in found) else "positional field"


def _tool(name: str) -> str:
    here = Path(sys.executable).parent / name
    found = str(here) if here.exists() else shutil.which(name)
    if not found:
        raise SystemExit(f"{name} not found: install PySide6 (pip install -e .)")
    return found


def modules() -> list[Path]:
    """Source files that contain translatable strings."""
    found = []
    for folder in SOURCES:
        for path in sorted(folder.rglob("*.py")):
            if _MARKER.search(path.read_text(encoding="utf-8")):
                found.append(path)
    return found


def ts_name(source: Path) -> str:
    """The catalogue of one source file, named by its place in the package:
    ``desktop_app/ui/chat/view.py`` → ``ui.chat.view.ts`` (two panels may share a stem)."""
    relative = source.relative_to(ROOT / "desktop_app").with_suffix("")
    return ".".join(relative.parts) + ".ts"


def _lupdate(source: Path, ts: Path) -> None:
    ts.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            _tool("pyside6-lupdate"),
            "-silent",
            "-no-obsolete",
            "-locations",
            "none",
            "-target-language",
            ts.parent.name,
            str(source),
            "-ts",
            str(ts),
        ],
        check=True,
    )
    # lupdate takes a Python "#:" comment as a note to translators and hangs it on
    # the next string; in this code "#:" documents a constant, so drop those notes.
    text = ts.read_text(encoding="utf-8")
    cleaned = _EXTRACOMMENT.sub("", text)
    if cleaned != text:
        ts.write_text(cleaned, encoding="utf-8")


def _messages(ts: Path) -> dict[tuple[str, str], ET.Element]:
    tree = ET.parse(ts)
    out = {}
    for context in tree.getroot().iter("context"):
        name = context.findtext("name") or ""
        for message in context.iter("message"):
            out[(name, message.findtext("source") or "")] = message
    return out


def update() -> None:
    for lang in LANGS:
        wanted = set()
        for source in modules():
            ts = TS_ROOT / lang / ts_name(source)
            wanted.add(ts)
            _lupdate(source, ts)
        for stale in (TS_ROOT / lang).glob("*.ts"):
            if stale not in wanted:
                stale.unlink()


def compile_qm(out_dir: Path = QM_DIR) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for lang in LANGS:
        files = sorted((TS_ROOT / lang).glob("*.ts"))
        qm = out_dir / f"glassbox_{lang}.qm"
        subprocess.run(
            [_tool("pyside6-lrelease"), "-silent", *map(str, files), "-qm", str(qm)], check=True
        )
        written.append(qm)
    return written


def check() -> list[str]:
    """Everything wrong with the translations, as sentences; empty when all is well."""
    problems: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for lang in LANGS:
            for source in modules():
                committed = TS_ROOT / lang / ts_name(source)
                fresh = Path(tmp) / lang / f"{source.stem}.ts"
                _lupdate(source, fresh)
                want = set(_messages(fresh))
                have = set(_messages(committed)) if committed.exists() else set()
                for context, text in sorted(want - have):
                    problems.append(f"{lang}: {source.name}: not in the .ts: {context}: {text!r}")
                for _context, text in sorted(have - want):
                    problems.append(f"{lang}: {source.name}: no longer in the code: {text!r}")
            for ts in sorted((TS_ROOT / lang).glob("*.ts")):
                for (context, text), message in _messages(ts).items():
                    node = message.find("translation")
                    done = node is not None and (node.text or "").strip()
                    if not done or (node is not None and node.get("type") == "unfinished"):
                        problems.append(f"{lang}: {ts.name}: untranslated: {context}: {text!r}")
                        continue
                    assert node is not None
                    translated = node.text or ""
                    if _fields(text) != _fields(translated):
                        problems.append(
                            f"{lang}: {ts.name}: placeholders differ: {text!r} -> {translated!r}"
                        )
        for qm in compile_qm(Path(tmp) / "qm"):
            shipped = QM_DIR / qm.name
            if not shipped.exists() or shipped.read_bytes() != qm.read_bytes():
                problems.append(f"{shipped.name} is stale: run make translations")
    return problems


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "check"
    if command == "update":
        update()
    elif command == "compile":
        compile_qm()
    elif command == "check":
        problems = check()
        for line in problems:
            print(line)
        return 1 if problems else 0
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
