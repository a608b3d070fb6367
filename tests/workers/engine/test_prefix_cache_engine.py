"""Going back to an earlier conversation reuses its saved KV state, with the same reply."""

from __future__ import annotations

from pathlib import Path

import pytest
from gguf_factory import write_tiny_llama

from desktop_app.core.engine.llama_backend import LlamaCppEngine
from desktop_app.core.engine.protocol import (
    DoneEvent,
    EngineConfig,
    GenerateRequest,
    Message,
    TokenEvent,
)
from desktop_app.core.sampling import SamplingParams

SYSTEM = Message("system", "You are a helpful assistant. " * 3)


def chat(topic: str) -> tuple[Message, ...]:
    return (SYSTEM, Message("user", f"Tell me about {topic}. " * 12))


def ask(engine: LlamaCppEngine, messages: tuple[Message, ...]) -> tuple[list[int], DoneEvent]:
    request = GenerateRequest(params=SamplingParams.greedy(max_tokens=8), messages=messages)
    events = list(engine.generate(request))
    done = events[-1]
    assert isinstance(done, DoneEvent), done
    return [e.id for e in events if isinstance(e, TokenEvent)], done


@pytest.fixture
def model(tmp_path: Path) -> str:
    return str(write_tiny_llama(tmp_path / "tiny.gguf", n_ctx=1024))


def test_a_conversation_left_and_taken_up_again_is_not_evaluated_again(model: str) -> None:
    engine = LlamaCppEngine()
    try:
        engine.load(EngineConfig(model, n_ctx=1024, n_threads=1, n_threads_batch=1))
        first, done_a = ask(engine, chat("water"))
        _, done_b = ask(engine, chat("the world"))
        assert done_b.prompt_tokens_reused < done_a.prompt_tokens // 2  # only the system part
        again, done_again = ask(engine, chat("water"))
        assert done_again.prompt_tokens_reused == done_a.prompt_tokens - 1
        assert again == first
    finally:
        engine.unload()
    fresh = LlamaCppEngine()
    try:
        fresh.load(EngineConfig(model, n_ctx=1024, n_threads=1, n_threads_batch=1))
        assert ask(fresh, chat("water"))[0] == first
    finally:
        fresh.unload()


def test_a_saved_state_llama_cpp_refuses_means_evaluating_the_prompt_again(
    model: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import llama_cpp

    engine = LlamaCppEngine()
    try:
        engine.load(EngineConfig(model, n_ctx=1024, n_threads=1, n_threads_batch=1))
        first, _ = ask(engine, chat("water"))
        ask(engine, chat("the world"))
        monkeypatch.setattr(llama_cpp, "llama_state_seq_set_data", lambda *args: 0)
        again, done = ask(engine, chat("water"))
        assert done.prompt_tokens_reused == 0
        assert again == first
    finally:
        engine.unload()
