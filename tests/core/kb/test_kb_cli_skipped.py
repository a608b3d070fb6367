"""`glassbox ingest` says what it passed over: a count by type, the hidden entries and
the files over the size limit apart, and every path with --list-skipped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kb_fakes import HashEmbedder

from desktop_app.cli import kb as cli_kb
from desktop_app.cli import main
from desktop_app.core.kb.knowledge_base import KnowledgeBase


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(cli_kb, "_open", lambda _args: KnowledgeBase(embedder=HashEmbedder()))
    folder = tmp_path / "site"
    (folder / "img").mkdir(parents=True)
    (folder / "index.html").write_text("<p>The zephyrine tool sets quotas.</p>", "utf-8")
    for name in ("a.svg", "b.svg"):
        (folder / "img" / name).write_bytes(b"<svg/>")
    (folder / "style.css").write_text("p { color: red }", "utf-8")
    (folder / ".cache").mkdir()
    (folder / "huge.txt").write_text("x" * (2 * 1024 * 1024), "utf-8")
    return folder.resolve()


def test_ingest_counts_the_skipped_files_by_type(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ingest", str(site), "-c", "docs", "--quiet", "--max-file-mb", "1"]) == 0
    out = capsys.readouterr().out
    assert "docs: 1 indexed" in out and "0 failed" in out
    assert (
        "skipped 3 files of a type Glassbox does not read: 2 .svg, 1 .css; "
        "--list-skipped lists them"
    ) in out
    assert "skipped 1 hidden file or folder" in out
    assert "skipped 1 file over the size limit" in out
    assert f"too large: {site / 'huge.txt'}: the file is 2 MiB, above the limit of 1 MiB" in out
    assert "a.svg" not in out  # listed only on request


def test_list_skipped_lists_every_path(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ingest", str(site), "-c", "docs", "--quiet", "--list-skipped"]) == 0
    out = capsys.readouterr().out
    assert f"  not read: {site / 'img' / 'a.svg'}" in out
    assert f"  not read: {site / 'style.css'}" in out
    assert f"  hidden: {site / '.cache'}/" in out
    assert "lists them" not in out


def test_ingest_json_carries_the_skipped_files(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ingest", str(site), "-c", "docs", "--quiet", "--json", "--max-file-mb", "1"]) == 0
    payload = json.loads(capsys.readouterr().out)
    skipped = payload["skipped"]
    assert skipped["unsupported"]["count"] == 3
    assert skipped["unsupported"]["by_type"] == {".svg": 2, ".css": 1}
    assert sorted(Path(p).name for p in skipped["unsupported"]["paths"]) == [
        "a.svg", "b.svg", "style.css",
    ]  # fmt: skip
    assert skipped["hidden"] == {"count": 1, "paths": [f"{site / '.cache'}/"]}
    assert [Path(t["path"]).name for t in skipped["too_large"]] == ["huge.txt"]
    assert payload["failed"] == []


def test_watch_and_sync_say_what_they_passed_over(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["kb", "watch", str(site), "-c", "docs", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"watching {site}\n") and "2 indexed" in out
    assert "skipped 3 files of a type Glassbox does not read: 2 .svg, 1 .css" in out
    assert "skipped 1 hidden file or folder" in out
    assert main(["kb", "sync", "-c", "docs", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "2 unchanged" in out and "skipped 3 files of a type" in out
