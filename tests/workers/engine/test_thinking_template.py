"""A tiny GGUF model whose own chat template has Qwen3's thinking switch: the loaded
template is read for it, the switch reaches the prompt llama.cpp evaluates, and an
earlier turn's reasoning stays out of it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from gguf_factory import write_tiny_llama
from thinking_templates import QWEN3_LIKE

from desktop_app.core.chat.thinking import opens_in_prompt, thinking_support
from desktop_app.core.engine.llama_backend import LlamaCppEngine
from desktop_app.core.engine.protocol import EngineConfig, GenerateRequest, Message
from desktop_app.core.sampling import SamplingParams


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaCppEngine]:
    path = write_tiny_llama(
        tmp_path_factory.mktemp("think") / "tiny-think.gguf", n_ctx=256, chat_template=QWEN3_LIKE
    )
    e = LlamaCppEngine()
    e.load(EngineConfig(model_path=str(path), n_ctx=256, n_threads=1))
    yield e
    e.unload()


def _prompt(engine: LlamaCppEngine, messages: tuple[Message, ...], thinking: bool | None) -> str:
    tokens, _stops, _dropped = engine.build_prompt(
        GenerateRequest(
            params=SamplingParams.greedy(max_tokens=4), messages=messages, thinking=thinking
        )
    )
    text = b"".join(engine.piece(t, special=True) for t in tokens).decode("utf-8")
    return text.replace(" ", "")  # SentencePiece writes word starts as spaces


def test_the_files_template_is_read_for_its_switch(engine: LlamaCppEngine, tmp_path: Path) -> None:
    loaded = engine.load(
        EngineConfig(
            model_path=str(
                write_tiny_llama(tmp_path / "t.gguf", n_ctx=256, chat_template=QWEN3_LIKE)
            ),
            n_ctx=256,
            n_threads=1,
        )
    )
    support = thinking_support(loaded.chat_template)
    assert support.switch == "enable_thinking" and support.default_on
    request = GenerateRequest(messages=(Message("user", "hi"),), thinking=False)
    assert not opens_in_prompt(loaded, request)


def test_the_switch_reaches_the_evaluated_prompt(engine: LlamaCppEngine) -> None:
    chat = (Message("user", "hello"),)
    off = _prompt(engine, chat, False)
    on = _prompt(engine, chat, True)
    default = _prompt(engine, chat, None)
    assert off.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")
    assert on.endswith("<|im_start|>assistant\n") and default == on


def test_an_earlier_turns_reasoning_is_not_evaluated(engine: LlamaCppEngine) -> None:
    chat = (
        Message("user", "first"),
        Message("assistant", "four", reasoning="secretsteps"),
        Message("user", "second"),
    )
    text = _prompt(engine, chat, None)
    assert "secretsteps" not in text and "<|im_start|>assistant\nfour<|im_end|>" in text
