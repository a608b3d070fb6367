"""Tool calling on the default model (Qwen2.5-Coder-1.5B-Instruct) at temperature 0.

The model gets the calculator through its own chat template; the loop must see a
call, write it under the call grammar (so its JSON is valid and names the
calculator), run it, and give the result back for the final answer. The test
asserts that structure, not the answer's wording. The engine runs in its own
process, as in the window, so stopping the free reply at the call goes through
the real cancel path.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_app.core.engine.protocol import EngineConfig, Message, ModelLoaded
from desktop_app.core.models.templates import supports_tools
from desktop_app.core.sampling import SamplingParams
from desktop_app.core.tools.builtin.calculator import calculator, evaluate
from desktop_app.core.tools.loop import ToolLoop
from desktop_app.workers.engine.client import EngineClient

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def engine(qwen_path: Path) -> Iterator[tuple[EngineClient, ModelLoaded]]:
    client = EngineClient()
    loaded = client.load(EngineConfig(str(qwen_path), n_ctx=2048))
    yield client, loaded
    client.close()


def test_a_question_that_needs_arithmetic_gets_a_calculator_call_and_its_result(
    engine: tuple[EngineClient, ModelLoaded],
) -> None:
    client, loaded = engine
    assert supports_tools(loaded.chat_template)  # Qwen2.5's template takes tools
    loop = ToolLoop(
        client,
        [calculator()],
        template_has_tools=True,
        max_steps=3,
    )
    reply = loop.run(
        [Message("user", "What is 3847 * 2931?")],
        SamplingParams(temperature=0.0, max_tokens=60, seed=0),
    )
    assert reply.steps, f"no tool call; the reply was {reply.text!r}"
    step = reply.steps[0]
    assert step.call.name == "calculator" and step.status == "ok"
    # The call's JSON is valid and its expression computes the product.
    arguments = json.loads(step.call.arguments)
    assert evaluate(arguments["expression"]) == 3847 * 2931
    assert step.result.text.endswith("= 11275557")
    # The result reaches the final answer (digits may be grouped).
    assert reply.finish == "answer"
    assert "11275557" in reply.text.replace(",", "").replace(" ", "")
    # The call's tokens carry their probabilities under the grammar.
    assert step.call_tokens and all(0.0 < t.p <= 1.0 for t in step.call_tokens)
