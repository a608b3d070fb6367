"""The desktop entry written by Help → Add to the applications menu (no Qt)."""

from __future__ import annotations

import configparser
from pathlib import Path

from desktop_app.core import desktop_entry


def parse(text: str) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(text)
    return dict(parser["Desktop Entry"])


def test_exec_points_at_the_command_and_quotes_what_needs_it() -> None:
    entry = parse(desktop_entry.render(["/opt/My Apps/Glassbox/glassbox"]))
    assert entry["Exec"] == '"/opt/My Apps/Glassbox/glassbox" gui %F'
    assert entry["TryExec"] == "/opt/My Apps/Glassbox/glassbox"
    plain = parse(desktop_entry.render(["/usr/bin/python3", "-m", "desktop_app"]))
    assert plain["Exec"] == "/usr/bin/python3 -m desktop_app gui %F"
    assert plain["Icon"] == "glassbox" and plain["Terminal"] == "false"


def test_install_writes_the_entry_and_icons_and_can_run_twice(tmp_path: Path) -> None:
    for _ in range(2):
        done = desktop_entry.install(tmp_path, ["/x/glassbox"])
    assert done.entry == tmp_path / "applications" / "glassbox.desktop"
    assert parse(done.entry.read_text(encoding="utf-8"))["Exec"] == "/x/glassbox gui %F"
    assert {p.name for p in done.icons} == {"glassbox.svg", "glassbox.png"}
    assert all(p.stat().st_size > 100 for p in done.icons)
    assert desktop_entry.installed(tmp_path)
    assert not list(tmp_path.rglob("*.tmp"))


def test_reserved_characters_and_field_codes_in_the_path_are_escaped() -> None:
    """Spec: %% for a literal %, \\$ inside quotes, and backslashes doubled once more
    because Exec is a string value; and the path reads back unchanged."""
    line = desktop_entry.render(['/opt/a$b%c/gl"ass']).splitlines()
    exec_line = next(x for x in line if x.startswith("Exec="))
    assert exec_line == 'Exec="/opt/a\\\\$b%%c/gl\\\\"ass" gui %F'
