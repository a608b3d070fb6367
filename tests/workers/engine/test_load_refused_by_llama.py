"""A file that passes the header check but that llama.cpp refuses keeps the old model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from gguf_factory import write_tiny_llama

from desktop_app.core.engine.llama_backend import LlamaCppEngine
from desktop_app.core.engine.protocol import DoneEvent, EngineConfig, GenerateRequest
from desktop_app.core.errors import ModelFileError
from desktop_app.core.models.gguf_info import inspect_gguf
from desktop_app.core.sampling import SamplingParams
from desktop_app.workers.engine.client import EngineClient


def _config(path: Path) -> EngineConfig:
    return EngineConfig(str(path), n_ctx=256, n_threads=1, n_threads_batch=1)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("refused")
    good = write_tiny_llama(folder / "good.gguf")
    data = good.read_bytes()
    # Same length, valid UTF-8: the header is consistent, but llama.cpp misses
    # the tensor it needs (found by the gguf-fuzz check as a flipped name byte).
    odd = data.replace(b"output_norm.weight", b"outpux_norm.weight", 1)
    assert odd != data
    bad = folder / "odd-tensor.gguf"
    bad.write_bytes(odd)
    inspect_gguf(bad)  # the header check accepts it
    return {"good": good, "bad": bad}


def _answers(events: Iterator[object]) -> bool:
    return any(isinstance(e, DoneEvent) for e in events)


_HELLO = GenerateRequest(params=SamplingParams.greedy(max_tokens=2), prompt="hello", candidates=0)


def test_the_old_model_is_loaded_again_in_process(files: dict[str, Path]) -> None:
    engine = LlamaCppEngine()
    try:
        engine.load(_config(files["good"]))
        with pytest.raises(ModelFileError, match="was loaded again") as refused:
            engine.load(_config(files["bad"]))
        assert str(files["bad"]) in str(refused.value)
        assert engine.loaded is not None and engine.loaded.model_path == str(files["good"])
        assert _answers(engine.generate(_HELLO))
    finally:
        engine.unload()


def test_the_engine_process_keeps_answering(files: dict[str, Path]) -> None:
    with EngineClient() as client:
        client.load(_config(files["good"]))
        with pytest.raises(ModelFileError, match="was loaded again"):
            client.load(_config(files["bad"]))
        assert client.loaded is not None and client.loaded.model_path == str(files["good"])
        assert client.config is not None and client.config.model_path == str(files["good"])
        assert _answers(client.generate(_HELLO))
