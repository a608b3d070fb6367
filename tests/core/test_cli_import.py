"""``glassbox import FILE``: a summary or one JSON object, a refusal as one line and exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop_app.cli import EXIT_ERROR, chat_import, main
from desktop_app.core.chat.store import ChatStore

FIXTURE = Path(__file__).parents[1] / "data" / "chatgpt" / "conversations.json"


def titles() -> list[str]:
    with ChatStore() as store:
        return sorted(c.title for c in store.list_chats())


def test_import_json_prints_one_object_and_the_chats_are_there(
    glassbox_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", str(FIXTURE), "--json"]) == 0
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert out["type"] == "import" and out["format"] == "openai"
    assert (out["chats"], out["messages"], out["skipped_chats"]) == (2, 9, 1)
    assert out["origin"]["source"] == "chatgpt" and out["origin"]["file"] == "conversations.json"
    assert captured.err == ""  # a small file: no progress lines
    assert titles() == ["What is 2 + 2?", "给猫起名字 · Naming the cat"]


def test_import_prints_a_sentence(glassbox_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", str(FIXTURE), "--format", "openai"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Imported 2 chats (9 messages, 0 token records) from a ChatGPT export")
    assert "Each chat shows: Imported from a ChatGPT export, conversations.json, on " in out


def test_a_refused_file_is_one_line_exit_2_and_adds_nothing(
    glassbox_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("[" * 50_000, encoding="utf-8")
    assert main(["import", str(bad)]) == EXIT_ERROR
    err = capsys.readouterr().err
    assert err.startswith("glassbox: The file is not usable JSON: it is nested too deeply.")
    assert err.count("\n") == 1 and "Traceback" not in err
    assert main(["import", str(tmp_path / "missing.json"), "--json"]) == EXIT_ERROR
    out = json.loads(capsys.readouterr().out)
    assert out["kind"] == "import_refused" and "cannot be read" in out["message"]
    assert main(["import", str(FIXTURE), "--format", "glassbox", "--json"]) == EXIT_ERROR
    assert "not a Glassbox chat export" in json.loads(capsys.readouterr().out)["message"]
    assert titles() == []


def test_big_files_report_progress_on_stderr(
    glassbox_home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chat_import, "PROGRESS_BYTES", 0)
    monkeypatch.setattr(chat_import, "PROGRESS_INTERVAL_S", 0.0)
    assert main(["import", str(FIXTURE), "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["chats"] == 2
    lines = captured.err.splitlines()
    assert lines and all(line.startswith("glassbox: importing… ") for line in lines)
    assert lines[-1] == "glassbox: importing… 100% of the file read, 2 chats, 9 messages"


def test_importing_the_same_file_again_says_the_chats_were_skipped(
    glassbox_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", str(FIXTURE)]) == 0
    capsys.readouterr()
    assert main(["import", str(FIXTURE)]) == 0
    out = capsys.readouterr().out
    assert out == (
        "Nothing was added: the 2 chats of this ChatGPT export were already imported, skipped.\n"
    )
    assert main(["import", str(FIXTURE), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["chats"], data["already_imported"]) == (0, 2)
    assert titles() == ["What is 2 + 2?", "给猫起名字 · Naming the cat"]
