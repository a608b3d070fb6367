"""Settings: bounds, round trip, atomic save, and a bad file never stops the app."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from desktop_app.core import paths
from desktop_app.core.sampling import SamplingParams
from desktop_app.core.settings import Settings, load_settings, save_settings


def test_defaults_when_no_file() -> None:
    settings = load_settings()
    assert settings == Settings()
    assert settings.n_ctx == 4096
    assert settings.candidates == 20
    assert settings.last_model is None
    assert settings.sampling_params() == SamplingParams()
    assert not paths.settings_path().exists(), "loading must not create the file"


def test_round_trip_in_the_data_folder(tmp_path: Path) -> None:
    assert paths.data_dir() == tmp_path / "glassbox-home"  # set by the autouse fixture
    settings = Settings(last_model="/models/a.gguf", n_ctx=8192, n_threads=4, candidates=5)
    settings = settings.with_sampling(SamplingParams(temperature=0.2, seed=7, stop=("###",)))
    save_settings(settings)

    assert paths.settings_path().is_file()
    loaded = load_settings()
    assert loaded == settings
    assert loaded.sampling_params() == SamplingParams(temperature=0.2, seed=7, stop=("###",))
    # Only changed sampling values are stored, so new defaults reach old files.
    assert json.loads(paths.settings_path().read_text())["sampling"] == {
        "seed": 7,
        "stop": ["###"],
        "temperature": 0.2,
    }


def test_explicit_path(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "s.json"
    save_settings(Settings(candidates=3), target)
    assert load_settings(target).candidates == 3
    assert not paths.settings_path().exists()


@pytest.mark.parametrize(
    "values",
    [
        {"n_ctx": 100},
        {"n_ctx": 200_000},
        {"candidates": 51},
        {"candidates": -1},
        {"n_threads": 0},
        {"sampling": {"temperature": 3.0}},
        {"sampling": {"top_p": "high"}},
        {"sampling": {"no_such_knob": 1}},
    ],
)
def test_bounds_are_enforced(values: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Settings.model_validate(values)


def test_assignment_is_validated() -> None:
    settings = Settings()
    with pytest.raises(ValidationError):
        settings.n_ctx = 1


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b"[1, 2, 3]",
        b'{"n_ctx": 5}',
        b'{"sampling": {"temperature": -1}}',
        b"\xff\xfe\x00garbage",
        b"",
    ],
)
def test_bad_file_is_moved_aside_and_defaults_used(content: bytes) -> None:
    target = paths.settings_path()
    target.write_bytes(content)

    assert load_settings() == Settings()
    bad = target.with_name("settings.json.bad")
    assert bad.read_bytes() == content, "the user's file is kept for recovery"
    assert not target.exists()

    # The next save writes a fresh file and leaves the set-aside copy alone.
    save_settings(Settings(candidates=7))
    assert load_settings().candidates == 7
    assert bad.read_bytes() == content


def test_unreadable_path_is_moved_aside(tmp_path: Path) -> None:
    # A folder where the file should be cannot be read as text.
    target = tmp_path / "settings.json"
    target.mkdir()
    assert load_settings(target) == Settings()
    assert (tmp_path / "settings.json.bad").is_dir()


def test_unknown_keys_from_a_newer_version_are_ignored() -> None:
    paths.settings_path().write_text(json.dumps({"candidates": 9, "theme": "dark"}))
    assert load_settings().candidates == 9


def test_save_is_atomic_and_leaves_no_temporary_files(monkeypatch: pytest.MonkeyPatch) -> None:
    save_settings(Settings(candidates=1))
    before = paths.settings_path().read_bytes()

    def fail_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    # A nested context: undoing the outer monkeypatch would also drop GLASSBOX_HOME.
    with monkeypatch.context() as patch:
        patch.setattr(os, "replace", fail_replace)
        with pytest.raises(OSError):
            save_settings(Settings(candidates=2))

    assert paths.settings_path().read_bytes() == before
    assert sorted(p.name for p in paths.data_dir().iterdir()) == ["settings.json"]


def test_theme_is_remembered_and_checked() -> None:
    assert Settings().theme == "system"
    save_settings(Settings(theme="dark"))
    assert load_settings().theme == "dark"
    with pytest.raises(ValidationError):
        Settings(theme="purple")  # type: ignore[arg-type]
    # An unknown theme in the file is a bad file: set aside, defaults used.
    paths.settings_path().write_text(json.dumps({"theme": "purple"}), encoding="utf-8")
    assert load_settings().theme == "system"


def test_speed_choices_survive_a_restart() -> None:
    settings = Settings(draft_model="/models/draft.gguf", prompt_lookup=True, max_draft=5)
    save_settings(settings)
    loaded = load_settings()
    assert (loaded.draft_model, loaded.prompt_lookup, loaded.max_draft) == (
        "/models/draft.gguf",
        True,
        5,
    )
    defaults = Settings()
    assert (defaults.draft_model, defaults.prompt_lookup, defaults.max_draft) == (None, False, 8)
    assert Settings(draft_model="  ").draft_model is None
    with pytest.raises(ValidationError):
        Settings(max_draft=0)
    with pytest.raises(ValidationError):
        Settings(max_draft=17)
