"""The translation check catches translations that would break ``str.format``."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _checker():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(
        "translations", ROOT / "packaging" / "translations.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fields_must_match_and_braces_must_balance() -> None:
    fields = _checker()._fields
    source = "Loaded {name} in {seconds:.1f} s"
    assert fields(source) == fields("已加载 {name}，用时 {seconds:.1f} 秒") == {"name", "seconds"}
    assert fields(source) != fields("已加载 {nom}")  # a renamed field: KeyError at run time
    assert isinstance(fields("已加载 {name"), str)  # unbalanced: ValueError at run time
    assert isinstance(fields("已加载 {} {name}"), str)  # positional: IndexError at run time
    # A field repeated in the translation is fine.
    assert fields("{name} 和 {name}") == {"name"}
