"""The tool-use eval: prompts that need the calculator, the date and time, or no tool.

Each prompt is answered with both tools offered (temperature 0, at most two
calls). Reported:

- call precision: of the replies that called a tool, the share whose first call
  was the expected tool; call recall: of the prompts that need a tool, the share
  answered with a call of it; a prompt that needs none and got a call counts
  against precision only;
- argument validity: the share of calls whose arguments parse and validate
  against the tool's schema (the call grammar should make it 100%);
- answer success: the calculator's prompts need every ``answer_contains`` text in
  the reply (digit groups and spaces ignored); the date prompts need the expected
  call and the reply to quote the result (its year, weekday, time, or month and
  day); the others need a reply without a call.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from desktop_app.core.engine.protocol import Engine, Message
from desktop_app.core.errors import InvalidRequestError
from desktop_app.core.sampling import SamplingParams
from desktop_app.core.tools.format import check_arguments
from desktop_app.core.tools.loop import ToolLoop
from desktop_app.core.tools.spec import Tool


@dataclass(frozen=True, slots=True)
class ToolCase:
    """One prompt: what it needs (a tool's name or "none") and what the answer holds."""

    id: str
    lang: str
    prompt: str
    expect: str
    answer_contains: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ToolCaseResult:
    """What the model did with one prompt."""

    id: str
    lang: str
    expect: str
    called: str  # the first call's tool, or "none"
    calls: int
    valid_calls: int
    success: bool
    answer: str


def load_cases(path: Path) -> list[ToolCase]:
    """The prompts of a JSON Lines file."""
    cases = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InvalidRequestError(f"{path} cannot be read ({exc}).") from exc
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            cases.append(
                ToolCase(
                    id=str(raw["id"]),
                    lang=str(raw.get("lang", "")),
                    prompt=str(raw["prompt"]),
                    expect=str(raw["expect"]),
                    answer_contains=tuple(raw.get("answer_contains", ())),
                )
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidRequestError(f"{path}, line {n}: not a tool prompt ({exc}).") from exc
    return cases


def _plain(text: str) -> str:
    """Digits without group separators or spaces, for comparing numbers."""
    return re.sub(r"(?<=\d)[,\s\u202f](?=\d)", "", text)


_WEEKDAYS_ZH = {
    "Monday": ("星期一", "周一"),
    "Tuesday": ("星期二", "周二"),
    "Wednesday": ("星期三", "周三"),
    "Thursday": ("星期四", "周四"),
    "Friday": ("星期五", "周五"),
    "Saturday": ("星期六", "周六"),
    "Sunday": ("星期日", "星期天", "周日"),
}


def date_marks(result: str) -> set[str]:
    """What a right answer to a date question may quote from the date tool's result:
    the year, the weekday (in English or Chinese), the time (HH:MM) or the month and
    day written the Chinese way."""
    marks: set[str] = set()
    for year, month, day in re.findall(r"\b(20\d\d)-(\d\d)-(\d\d)", result):
        marks |= {year, f"{int(month)}月{int(day)}"}
    for weekday, names in _WEEKDAYS_ZH.items():
        if weekday in result:
            marks |= {weekday, *names}
    marks |= set(re.findall(r"\b(\d\d:\d\d):\d\d\b", result))
    return marks


def run_case(
    engine: Engine,
    tools: Sequence[Tool],
    case: ToolCase,
    *,
    template_has_tools: bool,
    max_tokens: int = 120,
) -> ToolCaseResult:
    """Answer one prompt with ``tools`` and judge it."""
    loop = ToolLoop(engine, tools, template_has_tools=template_has_tools, max_steps=2)
    reply = loop.run(
        [Message("user", case.prompt)],
        SamplingParams(temperature=0.0, max_tokens=max_tokens, seed=0),
    )
    specs = {t.spec.name: t.spec for t in tools}
    valid = 0
    for step in reply.steps:
        try:
            arguments = json.loads(step.call.arguments)
        except ValueError:
            continue
        spec = specs.get(step.call.name)
        if (
            spec is not None
            and isinstance(arguments, dict)
            and not check_arguments(spec, arguments)
        ):
            valid += 1
    called = reply.steps[0].call.name if reply.steps else "none"
    text = _plain(reply.text)
    if case.expect == "none":
        success = called == "none" and bool(reply.text.strip())
    elif case.answer_contains:
        success = all(_plain(want) in text for want in case.answer_contains)
    else:
        results = " ".join(step.result.text for step in reply.steps)
        success = called == case.expect and any(mark in reply.text for mark in date_marks(results))
    return ToolCaseResult(
        case.id, case.lang, case.expect, called, len(reply.steps), valid, success, reply.text
    )


def summarize(results: Iterable[ToolCaseResult]) -> dict[str, Any]:
    """Precision, recall, argument validity and answer success (see the module docstring)."""
    rows = list(results)
    called = [r for r in rows if r.called != "none"]
    needing = [r for r in rows if r.expect != "none"]
    calls = sum(r.calls for r in rows)

    def share(part: int, whole: int) -> float | None:
        return round(part / whole, 4) if whole else None

    by_lang = {
        lang: share(
            sum(r.success for r in rows if r.lang == lang), sum(r.lang == lang for r in rows)
        )
        for lang in sorted({r.lang for r in rows})
    }
    return {
        "prompts": len(rows),
        "call_precision": share(sum(r.called == r.expect for r in called), len(called)),
        "call_recall": share(sum(r.called == r.expect for r in needing), len(needing)),
        "no_tool_accuracy": share(
            sum(r.called == "none" for r in rows if r.expect == "none"),
            sum(r.expect == "none" for r in rows),
        ),
        "argument_validity": share(sum(r.valid_calls for r in rows), calls),
        "calls": calls,
        "answer_success": share(sum(r.success for r in rows), len(rows)),
        "answer_success_by_language": by_lang,
    }


def as_rows(results: Iterable[ToolCaseResult]) -> list[Mapping[str, Any]]:
    """Each result as JSON-ready data."""
    return [asdict(r) for r in results]
