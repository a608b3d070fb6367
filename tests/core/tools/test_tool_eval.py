"""The tool-use eval's scoring, on scripted replies; and its prompt set."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from desktop_app.core.engine.fake import FakeEngine
from desktop_app.core.engine.protocol import EngineConfig, Event, GenerateRequest
from desktop_app.core.tools.builtin import builtin_tools
from desktop_app.core.tools.evaluate import (
    ToolCase,
    date_marks,
    load_cases,
    run_case,
    summarize,
)

DATA = Path(__file__).resolve().parents[3] / "eval" / "tools_prompts.jsonl"


class ScriptedEngine(FakeEngine):
    def __init__(self, scripts: list[str]) -> None:
        super().__init__()
        self.scripts = list(scripts)
        self.load(EngineConfig("scripted.gguf"))

    def generate(self, request: GenerateRequest) -> Iterator[Event]:
        self.script = self.scripts.pop(0)
        return super().generate(request)


CALC = '\n{"name": "calculator", "arguments": {"expression": "%s"}}\n</tool_call>'


def test_the_prompt_set_has_both_languages_and_every_kind() -> None:
    cases = load_cases(DATA)
    assert len(cases) >= 30
    assert {c.lang for c in cases} == {"en", "zh"}
    assert {c.expect for c in cases} == {"calculator", "current_datetime", "none"}


def test_scores_follow_what_the_model_did() -> None:
    tools = builtin_tools(["calculator", "datetime"])
    right = run_case(
        ScriptedEngine(["<tool_call>", CALC % "6*7", "It is 4,2."]),
        tools,
        ToolCase("a", "en", "6*7?", "calculator", ("42",)),
        template_has_tools=True,
    )
    assert right.called == "calculator" and right.valid_calls == 1 and right.success
    missed = run_case(
        ScriptedEngine(["About 40."]),
        tools,
        ToolCase("b", "en", "6*7?", "calculator", ("42",)),
        template_has_tools=True,
    )
    assert missed.called == "none" and not missed.success
    needless = run_case(
        ScriptedEngine(["<tool_call>", CALC % "1", "Paris."]),
        tools,
        ToolCase("c", "zh", "Capital of France?", "none"),
        template_has_tools=True,
    )
    assert needless.called == "calculator" and not needless.success
    summary = summarize([right, missed, needless])
    assert summary["call_precision"] == 0.5  # one of two calls was wanted
    assert summary["call_recall"] == 0.5  # one of two prompts needing it got it
    assert summary["argument_validity"] == 1.0
    assert summary["answer_success"] == round(1 / 3, 4)
    assert summary["answer_success_by_language"] == {"en": 0.5, "zh": 0.0}


def test_a_date_answer_may_quote_any_part_of_the_result() -> None:
    marks = date_marks("Sunday 2026-12-06 13:04:54 (UTC+0000, local time)")
    assert {"2026", "Sunday", "星期日", "周日", "13:04", "12月6"} <= marks
    assert "2025" not in marks
