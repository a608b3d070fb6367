"""The tool loop on a remote engine: glassbox serve (the default model, Qwen2.5-Coder-1.5B)
started by the test takes the tools as OpenAI's ``tools``, writes the call under its
grammar and streams it back as ``tool_calls``; the loop here runs the calculator and
sends the result back for the final answer. Asserts the structure, not the wording."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_app.core.engine.openai_remote import OpenAIEngine
from desktop_app.core.engine.protocol import EngineConfig, Message
from desktop_app.core.sampling import SamplingParams
from desktop_app.core.tools.builtin.calculator import calculator, evaluate
from desktop_app.core.tools.loop import ToolLoop
from desktop_app.workers.api.server import ApiServer

pytestmark = pytest.mark.e2e

TOKEN = "remote-tools-token"


@pytest.fixture(scope="module")
def server(qwen_path: Path) -> Iterator[ApiServer]:
    with ApiServer(EngineConfig(str(qwen_path), n_ctx=2048), port=0, token=TOKEN) as api:
        yield api


def test_the_tool_loop_runs_on_glassbox_serve_with_native_tool_calls(server: ApiServer) -> None:
    engine = OpenAIEngine(server.url, api_key=TOKEN, timeout_s=300)
    engine.load(EngineConfig("default"))
    loop = ToolLoop(engine, [calculator()], template_has_tools=False, max_steps=2)
    reply = loop.run(
        [Message("user", "What is 3847 * 2931?")],
        # Room for a final answer that explains (greedy replies vary between runs).
        SamplingParams(temperature=0.0, max_tokens=200, seed=0),
    )
    assert not engine.tools_refused  # the server took the tools
    assert reply.steps, f"no tool call; the reply was {reply.text!r}"
    step = reply.steps[0]
    assert step.call.name == "calculator" and step.status == "ok"
    assert evaluate(json.loads(step.call.arguments)["expression"]) == 3847 * 2931
    assert step.result.text.endswith("= 11275557")
    assert reply.finish == "answer"
    assert "11275557" in reply.text.replace(",", "").replace(" ", "")
