"""Question sets for ``glassbox eval model``: multiple choice and arithmetic word problems.

Multiple choice is read in the two layouts people find on the web:

- MMLU's: ``question``, ``choices`` (a list; in CSV a JSON list) and ``answer``
  (a 0-based index or a letter), optional ``subject``;
- C-Eval's: ``question``, ``A``, ``B``, ``C``, ``D`` (more letters allowed) and
  ``answer`` (a letter), optional ``subject``.

A GSM8K-style item has ``question`` and a numeric ``answer``; GSM8K's own answers
(the worked solution ending in ``#### 42``) are accepted. Files are JSON Lines or
CSV with a header row; MMLU's original header-less CSV (question, A, B, C, D,
answer) is read too. Every error names the file and line.

Glassbox ships small sets of each, in English and Chinese, written for it
(``SAMPLES``).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from desktop_app.core.errors import InvalidRequestError

Kind = Literal["choice", "numeric"]

LETTERS = "ABCDEFGHIJ"

#: The sets shipped with Glassbox: name → file under ``desktop_app/assets/eval``.
SAMPLES: dict[str, str] = {
    "mc-en": "mc_en.jsonl",
    "mc-zh": "mc_zh.csv",
    "math-en": "math_en.jsonl",
    "math-zh": "math_zh.jsonl",
}
DEFAULT_SAMPLE = "mc-en"

_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?|-?\.\d+")


@dataclass(frozen=True, slots=True)
class Item:
    """One question: ``choices`` and the index ``answer`` of the right one, or a number.

    ``line`` is where it was read (1-based), so a report can point back to it.
    """

    question: str
    answer: int | float
    choices: tuple[str, ...] = ()
    subject: str = ""
    line: int = 0

    @property
    def kind(self) -> Kind:
        """``choice`` for multiple choice, ``numeric`` for a word problem."""
        return "choice" if self.choices else "numeric"

    @property
    def gold(self) -> str:
        """The right answer as shown: a letter, or the number."""
        if self.choices:
            return LETTERS[int(self.answer)]
        return format_number(float(self.answer))


@dataclass(frozen=True, slots=True)
class QuestionSet:
    """The items of one file (all of one kind) and its name."""

    name: str
    kind: Kind
    items: tuple[Item, ...]

    @property
    def language(self) -> str:
        """``zh`` when most questions are written in Chinese, else ``en``."""
        zh = sum(bool(re.search(r"[\u4e00-\u9fff]", it.question)) for it in self.items)
        return "zh" if zh * 2 > len(self.items) else "en"


def format_number(value: float) -> str:
    """A number as a person writes it: 42, not 42.0; 2.5 stays 2.5."""
    if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:g}"


def parse_number(text: str) -> float | None:
    """The number in ``text`` ("1,250", "-3.5", "$12"), or None when there is none."""
    found = _NUMBER.findall(text)
    if not found:
        return None
    try:
        return float(found[-1].replace(",", ""))
    except ValueError:
        return None


def sample_path(name: str) -> Path:
    """The shipped sample ``name`` (see ``SAMPLES``) as a file path."""
    if name not in SAMPLES:
        raise InvalidRequestError(
            f"There is no sample set {name!r}; the samples are {', '.join(SAMPLES)}."
        )
    ref = resources.files("desktop_app").joinpath("assets", "eval", SAMPLES[name])
    return Path(str(ref))


def resolve_data(spec: str | Path) -> Path:
    """A sample name or a file path, as a path that exists."""
    if isinstance(spec, str) and spec in SAMPLES:
        return sample_path(spec)
    path = Path(spec).expanduser()
    if not path.is_file():
        raise InvalidRequestError(
            f"{path} is not a file (give a JSONL or CSV file, or a sample: {', '.join(SAMPLES)})."
        )
    return path


def load_questions(path: Path, name: str | None = None) -> QuestionSet:
    """Read a question file; raises ``InvalidRequestError`` naming the line at fault."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidRequestError(f"{path} cannot be read ({exc}).") from exc
    label = name or next((k for k, v in SAMPLES.items() if path.name == v), path.name)
    rows = _csv_rows(text, path) if path.suffix.lower() == ".csv" else _jsonl_rows(text, path)
    items: list[Item] = []
    for line, row in rows:
        item = _item(row, path, line)
        if items and item.kind != items[0].kind:
            raise InvalidRequestError(
                f"{path}, line {line}: a {_kind_name(item.kind)} item in a file of "
                f"{_kind_name(items[0].kind)} items; keep one kind per file."
            )
        items.append(item)
    if not items:
        raise InvalidRequestError(f"{path} holds no questions.")
    return QuestionSet(label, items[0].kind, tuple(items))


def _kind_name(kind: Kind) -> str:
    return "multiple-choice" if kind == "choice" else "numeric-answer"


def _jsonl_rows(text: str, path: Path) -> Iterator[tuple[int, Mapping[str, Any]]]:
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise InvalidRequestError(f"{path}, line {n}: not valid JSON ({exc}).") from exc
        if not isinstance(row, dict):
            raise InvalidRequestError(f"{path}, line {n}: expected a JSON object.")
        yield n, row


def _csv_rows(text: str, path: Path) -> Iterator[tuple[int, Mapping[str, Any]]]:
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        raise InvalidRequestError(f"{path}, line 1: not valid CSV ({exc}).") from exc
    keys = [h.strip() for h in header]
    lowered = [k.lower() for k in keys]
    if "question" in lowered:
        keys = [k if k.upper() in LETTERS else k.lower() for k in keys]
        start = 2
    else:
        # MMLU's original files have no header: question, A, B, C, D, answer.
        if len(keys) < 4:
            raise InvalidRequestError(
                f"{path}, line 1: expected a header row naming a 'question' column, or "
                "MMLU's layout without one (question, choices…, answer)."
            )
        keys = ["question", *LETTERS[: len(header) - 2], "answer"]
        reader = csv.reader(io.StringIO(text))
        start = 1
    try:
        for n, values in enumerate(reader, start=start):
            if not any(v.strip() for v in values):
                continue
            if len(values) != len(keys):
                raise InvalidRequestError(
                    f"{path}, line {n}: {len(values)} columns where the header has {len(keys)}."
                )
            yield n, dict(zip(keys, values, strict=True))
    except csv.Error as exc:
        raise InvalidRequestError(f"{path}: not valid CSV ({exc}).") from exc


def _item(row: Mapping[str, Any], path: Path, line: int) -> Item:
    where = f"{path}, line {line}"
    question = row.get("question")
    if not isinstance(question, str) or not question.strip():
        raise InvalidRequestError(f"{where}: the question is missing or empty.")
    subject = str(row.get("subject") or row.get("category") or "").strip()
    choices = _choices(row, where)
    answer = row.get("answer")
    if answer is None or (isinstance(answer, str) and not answer.strip()):
        raise InvalidRequestError(f"{where}: the answer is missing.")
    if choices:
        index = _choice_index(answer, len(choices), where)
        return Item(question.strip(), index, choices, subject, line)
    if isinstance(answer, bool):
        raise InvalidRequestError(f"{where}: the answer must be a number, not {answer!r}.")
    if isinstance(answer, int | float):
        value: float | None = float(answer)
    else:
        text = str(answer)
        value = parse_number(text.rsplit("####", 1)[1] if "####" in text else text)
    if value is None:
        raise InvalidRequestError(
            f"{where}: no choices (A, B, C, D or a 'choices' list) and the answer "
            f"{str(answer)[:40]!r} is not a number."
        )
    return Item(question.strip(), value, (), subject, line)


def _choices(row: Mapping[str, Any], where: str) -> tuple[str, ...]:
    raw = row.get("choices")
    if raw is not None:
        if isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except ValueError as exc:
                raise InvalidRequestError(
                    f"{where}: 'choices' must be a list (in CSV, a JSON list) ({exc})."
                ) from exc
        if not isinstance(raw, list) or not all(isinstance(c, str | int | float) for c in raw):
            raise InvalidRequestError(f"{where}: 'choices' must be a list of texts.")
        out = tuple(str(c).strip() for c in raw)
    else:
        out = ()
        for letter in LETTERS:
            value = row.get(letter)
            if value is None:
                break
            out += (str(value).strip(),)
    if not out:
        return ()
    if len(out) < 2:
        raise InvalidRequestError(f"{where}: a multiple-choice question needs two choices or more.")
    if len(out) > len(LETTERS):
        raise InvalidRequestError(f"{where}: at most {len(LETTERS)} choices, not {len(out)}.")
    if any(not c for c in out):
        raise InvalidRequestError(f"{where}: a choice is empty.")
    return out


def _choice_index(answer: Any, n: int, where: str) -> int:
    if isinstance(answer, bool):
        raise InvalidRequestError(f"{where}: the answer must be a letter or an index.")
    if isinstance(answer, int):
        index = answer
    elif isinstance(answer, float) and answer == int(answer):
        index = int(answer)
    else:
        text = str(answer).strip().upper()
        if text.isdigit():
            index = int(text)
        elif len(text) == 1 and text in LETTERS:
            index = LETTERS.index(text)
        else:
            raise InvalidRequestError(
                f"{where}: the answer {str(answer)[:40]!r} is neither a letter "
                f"(A–{LETTERS[n - 1]}) nor an index (0–{n - 1})."
            )
    if not 0 <= index < n:
        raise InvalidRequestError(
            f"{where}: the answer {answer!r} is outside the {n} choices "
            f"(A–{LETTERS[n - 1]} or 0–{n - 1})."
        )
    return index
