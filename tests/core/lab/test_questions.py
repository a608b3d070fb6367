"""Question files: MMLU's and C-Eval's layouts, JSONL and CSV, GSM8K answers, broken files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop_app.core.errors import InvalidRequestError
from desktop_app.core.lab.questions import (
    SAMPLES,
    format_number,
    load_questions,
    parse_number,
    resolve_data,
    sample_path,
)


def _jsonl(path: Path, rows: list[object]) -> Path:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", "utf-8")
    return path


def test_mmlu_layout_jsonl_with_index_and_letter_answers(tmp_path: Path) -> None:
    path = _jsonl(
        tmp_path / "mmlu.jsonl",
        [
            {"question": "2+2?", "choices": ["3", "4", "5", "6"], "answer": 1, "subject": "math"},
            {"question": "Sky?", "choices": ["green", "blue"], "answer": "B"},
        ],
    )
    qs = load_questions(path)
    assert qs.kind == "choice"
    assert [it.answer for it in qs.items] == [1, 1]
    assert [it.gold for it in qs.items] == ["B", "B"]
    assert qs.items[0].subject == "math"
    assert qs.items[1].choices == ("green", "blue")
    assert [it.line for it in qs.items] == [1, 2]


def test_ceval_layout_csv(tmp_path: Path) -> None:
    path = tmp_path / "ceval.csv"
    path.write_text(
        "id,question,A,B,C,D,answer,subject\n1,一加一？,1,2,3,4,B,数学\n2,天空?,红,蓝,绿,黄,b,常识\n",
        encoding="utf-8",
    )
    qs = load_questions(path)
    assert qs.kind == "choice"
    assert qs.language == "zh"
    assert [it.gold for it in qs.items] == ["B", "B"]
    assert qs.items[0].choices == ("1", "2", "3", "4")
    assert [it.subject for it in qs.items] == ["数学", "常识"]
    assert [it.line for it in qs.items] == [2, 3]


def test_ceval_layout_jsonl_and_mmlu_choices_in_csv(tmp_path: Path) -> None:
    a = _jsonl(tmp_path / "c.jsonl", [{"question": "Q", "A": "x", "B": "y", "answer": "A"}])
    assert load_questions(a).items[0].choices == ("x", "y")
    b = tmp_path / "m.csv"
    b.write_text('question,choices,answer\nQ,"[""x"", ""y"", ""z""]",2\n', encoding="utf-8")
    assert load_questions(b).items[0].gold == "C"


def test_mmlu_original_csv_without_header(tmp_path: Path) -> None:
    path = tmp_path / "astronomy_test.csv"
    path.write_text("Which is a star?,Moon,Sun,Mars,Venus,B\nRed planet?,Mars,Earth,Moon,Sun,A\n")
    qs = load_questions(path)
    assert [it.gold for it in qs.items] == ["B", "A"]
    assert qs.items[0].question == "Which is a star?"


def test_gsm8k_answers(tmp_path: Path) -> None:
    path = _jsonl(
        tmp_path / "gsm.jsonl",
        [
            {"question": "a", "answer": "3 × 4 = 12 and 12 + 2 = 14.\n#### 14"},
            {"question": "b", "answer": 7},
            {"question": "c", "answer": "#### 1,250"},
            {"question": "d", "answer": "-2.5"},
        ],
    )
    qs = load_questions(path)
    assert qs.kind == "numeric"
    assert [it.answer for it in qs.items] == [14.0, 7.0, 1250.0, -2.5]
    assert [it.gold for it in qs.items] == ["14", "7", "1250", "-2.5"]


@pytest.mark.parametrize(
    ("content", "suffix", "message"),
    [
        (
            '{"question": "Q", "choices": ["a", "b"], "answer": 1}\n{oops\n',
            ".jsonl",
            "line 2: not valid JSON",
        ),
        (
            '{"question": "Q", "choices": ["a", "b"], "answer": "E"}\n',
            ".jsonl",
            "line 1: the answer 'E'",
        ),
        (
            '{"question": "Q", "choices": ["a", "b"], "answer": 5}\n',
            ".jsonl",
            "outside the 2 choices",
        ),
        ('{"question": "", "answer": 3}\n', ".jsonl", "line 1: the question is missing"),
        ('{"question": "Q", "answer": "many"}\n', ".jsonl", "is not a number"),
        (
            '{"question": "Q", "choices": "a, b", "answer": 0}\n',
            ".jsonl",
            "'choices' must be a list",
        ),
        (
            '\n\n{"question": "Q", "choices": ["a"], "answer": 0}\n',
            ".jsonl",
            "line 3: a multiple-choice question needs two",
        ),
        (
            '{"question": "Q", "answer": 3}\n'
            '{"question": "R", "A": "x", "B": "y", "answer": "A"}\n',
            ".jsonl",
            "line 2: a multiple-choice item in a file of numeric-answer items",
        ),
        ("question,A,B,answer\nQ,x,y\n", ".csv", "line 2: 3 columns where the header has 4"),
        ("question,A,B,answer\nQ,x,,A\n", ".csv", "line 2: a choice is empty"),
        ("a,b\n", ".csv", "line 1: expected a header row"),
        ("[1, 2]\n", ".jsonl", "line 1: expected a JSON object"),
        ("\n", ".jsonl", "holds no questions"),
    ],
)
def test_broken_files_say_what_and_where(
    tmp_path: Path, content: str, suffix: str, message: str
) -> None:
    path = tmp_path / f"bad{suffix}"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InvalidRequestError) as err:
        load_questions(path)
    assert message in str(err.value)
    assert str(path) in str(err.value)


def test_unreadable_and_missing_files(tmp_path: Path) -> None:
    bad = tmp_path / "latin1.jsonl"
    bad.write_bytes(b'{"question": "caf\xe9", "answer": 1}\n')
    with pytest.raises(InvalidRequestError, match="cannot be read"):
        load_questions(bad)
    with pytest.raises(InvalidRequestError, match="is not a file"):
        resolve_data(tmp_path / "nope.jsonl")
    with pytest.raises(InvalidRequestError, match="no sample set"):
        sample_path("mmlu")


def test_shipped_samples_are_large_enough_and_well_formed() -> None:
    kinds = {}
    for name in SAMPLES:
        qs = load_questions(resolve_data(name))
        assert qs.name == name
        assert len(qs.items) >= 30
        kinds[name] = (qs.kind, qs.language)
        if qs.kind == "choice":
            # Answers spread over the letters, so always answering one letter scores low.
            golds = [it.gold for it in qs.items]
            assert max(golds.count(x) for x in "ABCD") <= len(golds) // 2
    assert kinds == {
        "mc-en": ("choice", "en"),
        "mc-zh": ("choice", "zh"),
        "math-en": ("numeric", "en"),
        "math-zh": ("numeric", "zh"),
    }


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("42", 42.0),
        ("costs $1,250 in all", 1250.0),
        ("-3.5 degrees", -3.5),
        ("1 then 2", 2.0),
        ("none", None),
    ],
)
def test_parse_number(text: str, value: float | None) -> None:
    assert parse_number(text) == value


def test_format_number() -> None:
    assert [format_number(v) for v in (42.0, 2.5, -3.0, 1e20, float("inf"))] == [
        "42",
        "2.5",
        "-3",
        "1e+20",
        "inf",
    ]
