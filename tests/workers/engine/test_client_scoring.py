"""Scoring through the engine process gives what the engine gives in this process."""

from __future__ import annotations

import pytest
from gguf_factory import write_tiny_llama

from desktop_app.core.engine.llama_backend import LlamaCppEngine
from desktop_app.core.engine.protocol import EngineConfig, ScoreRequest
from desktop_app.workers.engine.client import EngineClient

CONTINUATIONS = ("hello world", "yes", "the model answer", "thanks please help")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return write_tiny_llama(tmp_path_factory.mktemp("tiny") / "tiny.gguf", n_ctx=256)


def test_scoring_crosses_the_process_boundary(tiny):
    with EngineClient() as client:
        client.load(EngineConfig(str(tiny), n_ctx=256, n_threads=1, n_threads_batch=1))
        remote = client.score(ScoreRequest(continuations=CONTINUATIONS, prompt="hello"))
        assert client.count_tokens("hello world") == 2
    local_engine = LlamaCppEngine()
    local_engine.load(EngineConfig(str(tiny), n_ctx=256, n_threads=1, n_threads_batch=1))
    local = local_engine.score(ScoreRequest(continuations=CONTINUATIONS, prompt="hello"))
    assert remote.logprobs == pytest.approx(local.logprobs, abs=1e-4)
