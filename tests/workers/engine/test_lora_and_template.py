"""LoRA adapters and the chat template override, on real tiny GGUF files.

The logits are compared in-process (``LlamaCppEngine``); refusals go through the
engine process (``EngineClient``), whose job is to keep the old model working.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from gguf_factory import (
    DEFAULT_TEMPLATE,
    N_EMBD,
    tiny_vocab_size,
    write_malformed,
    write_tiny_llama,
    write_tiny_lora,
)

from desktop_app.cli.generate import engine_config
from desktop_app.cli.generate import register as register_generate
from desktop_app.core.engine.llama_backend import LlamaCppEngine
from desktop_app.core.engine.protocol import (
    DoneEvent,
    EngineConfig,
    ErrorEvent,
    GenerateRequest,
    Message,
    TokenEvent,
)
from desktop_app.core.errors import InvalidRequestError, ModelFileError
from desktop_app.core.models.fingerprint import template_sha256
from desktop_app.core.models.gguf_info import inspect_lora
from desktop_app.core.sampling import SamplingParams
from desktop_app.core.settings import LoadOverrides, Settings, field_bounds
from desktop_app.workers.engine.client import EngineClient

BRACKETS = (
    "{% for m in messages %}[{{ m['role'] }}] {{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}[assistant] {% endif %}"
)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("lora")
    return {
        "model": write_tiny_llama(folder / "tiny.gguf", n_ctx=256),
        "lora": write_tiny_lora(folder / "tiny-lora.gguf"),
        "lora2": write_tiny_lora(folder / "tiny-lora-2.gguf", seed=7),
    }


@pytest.fixture(scope="module")
def engine() -> LlamaCppEngine:
    e = LlamaCppEngine()
    yield e
    e.unload()


def first_logits(engine: LlamaCppEngine, config: EngineConfig) -> dict[int, float]:
    """The raw logits of the 50 likeliest first tokens after a fixed prompt."""
    engine.load(config)
    request = GenerateRequest(
        params=SamplingParams.greedy(max_tokens=1),
        prompt="hello world",
        candidates=50,
        ignore_eos=True,
        reuse_prefix=False,
    )
    token = next(e for e in engine.generate(request) if isinstance(e, TokenEvent))
    return {c.id: c.logit for c in token.candidates}


def config(files: dict[str, Path], **kw: object) -> EngineConfig:
    return EngineConfig(str(files["model"]), n_ctx=256, n_threads=1, n_threads_batch=1, **kw)  # type: ignore[arg-type]


# -- LoRA ----------------------------------------------------------------------------


def test_the_factory_adapter_is_a_lora_that_fits_the_tiny_model(files: dict[str, Path]) -> None:
    info = inspect_lora(files["lora"], files["model"])
    assert info.architecture == "llama"
    assert info.alpha == 8.0 and info.rank == 4
    assert "blk.0.attn_q.weight" in info.targets and "blk.1.ffn_down.weight" in info.targets


def test_a_lora_changes_the_logits_and_scale_zero_is_the_base_model(
    engine: LlamaCppEngine, files: dict[str, Path]
) -> None:
    base = first_logits(engine, config(files))
    with_lora = first_logits(engine, config(files, lora_path=str(files["lora"])))
    assert engine.loaded is not None
    assert engine.loaded.lora_path == str(files["lora"]) and engine.loaded.lora_scale == 1.0
    other = first_logits(engine, config(files, lora_path=str(files["lora2"])))
    scale_zero = first_logits(engine, config(files, lora_path=str(files["lora"]), lora_scale=0.0))
    half = first_logits(engine, config(files, lora_path=str(files["lora"]), lora_scale=0.5))

    shared = base.keys() & with_lora.keys()
    assert max(abs(base[i] - with_lora[i]) for i in shared) > 0.05
    assert with_lora != other, "two different adapters give different logits"
    assert scale_zero.keys() == base.keys()
    assert all(scale_zero[i] == pytest.approx(base[i], abs=1e-5) for i in base)
    # Half the scale moves the logits, but less far than the full adapter.
    gap = lambda a: max(abs(a[i] - base[i]) for i in base.keys() & a.keys())  # noqa: E731
    assert 0 < gap(half) < gap(with_lora)


def test_a_lora_scale_out_of_bounds_is_refused_before_loading(
    engine: LlamaCppEngine, files: dict[str, Path]
) -> None:
    engine.load(config(files))
    with pytest.raises(InvalidRequestError, match="between 0 and 4"):
        engine.load(config(files, lora_path=str(files["lora"]), lora_scale=9.0))
    assert engine.loaded is not None and engine.loaded.lora_path is None


def _bad_adapter(kind: str, folder: Path, files: dict[str, Path]) -> Path:
    path = folder / f"{kind}.gguf"
    if kind == "base_model":
        path.write_bytes(files["model"].read_bytes())
    elif kind == "random_bytes":
        path.write_bytes(os.urandom(4096))
    elif kind == "truncated":
        data = files["lora"].read_bytes()
        path.write_bytes(data[: len(data) - 1000])
    elif kind == "other_model":
        write_tiny_lora(path, n_embd=N_EMBD * 2)
    elif kind == "missing":
        pass
    elif kind == "malformed":
        write_malformed(path, "huge_string_len")
    return path


@pytest.fixture(scope="module")
def client(files: dict[str, Path]) -> EngineClient:
    c = EngineClient()
    c.load(config(files))
    yield c
    c.close()


def greedy_reply(client: EngineClient) -> list[int]:
    request = GenerateRequest(
        params=SamplingParams.greedy(max_tokens=4), prompt="hello", ignore_eos=True
    )
    events = list(client.generate(request))
    assert isinstance(events[-1], DoneEvent), events[-1]
    return [e.id for e in events if isinstance(e, TokenEvent)]


@pytest.mark.parametrize(
    ("kind", "says"),
    [
        ("base_model", "is not a LoRA adapter: it is a model"),
        ("random_bytes", "is not a GGUF"),
        ("truncated", "is truncated"),
        ("other_model", "does not fit"),
        ("missing", "does not exist"),
        ("malformed", "impossible"),
    ],
)
def test_a_bad_adapter_is_refused_and_the_old_model_keeps_working(
    client: EngineClient, files: dict[str, Path], tmp_path: Path, kind: str, says: str
) -> None:
    before = greedy_reply(client)
    bad = _bad_adapter(kind, tmp_path, files)
    with pytest.raises(ModelFileError) as err:
        client.load(config(files, lora_path=str(bad)))
    message = str(err.value)
    assert f"LoRA adapter {bad}" in message and says in message
    assert client.loaded is not None and client.loaded.lora_path is None
    assert greedy_reply(client) == before, "the old model, without adapter, still answers"


def test_the_engine_process_applies_the_adapter(
    client: EngineClient, files: dict[str, Path]
) -> None:
    base = greedy_reply(client)
    try:
        loaded = client.load(config(files, lora_path=str(files["lora"]), lora_scale=2.0))
        assert loaded.lora_path == str(files["lora"]) and loaded.lora_scale == 2.0
        assert loaded.n_vocab == tiny_vocab_size()
        assert greedy_reply(client) != base
    finally:
        client.load(config(files))
    assert greedy_reply(client) == base


# -- chat template override -----------------------------------------------------------


def rendered(engine: LlamaCppEngine, messages: tuple[Message, ...]) -> str:
    tokens, _stops, _dropped = engine.build_prompt(
        GenerateRequest(params=SamplingParams.greedy(max_tokens=1), messages=messages)
    )
    text = b"".join(engine.piece(t, special=True) for t in tokens).decode("utf-8")
    # SentencePiece writes word starts as spaces: compare without them.
    return text.replace(" ", "")


def test_the_template_override_changes_the_rendered_prompt(
    engine: LlamaCppEngine, files: dict[str, Path]
) -> None:
    chat = (Message("user", "hello"),)
    loaded = engine.load(config(files))
    assert loaded.chat_template == DEFAULT_TEMPLATE
    assert loaded.template_sha256 == hashlib.sha256(DEFAULT_TEMPLATE.encode()).hexdigest()
    assert "<|im_start|>user\nhello<|im_end|>" in rendered(engine, chat)

    loaded = engine.load(config(files, chat_template=BRACKETS))
    assert loaded.chat_template == BRACKETS and loaded.has_chat_template
    assert loaded.template_sha256 == template_sha256(BRACKETS)
    text = rendered(engine, chat)
    assert "[user]hello\n[assistant]" in text and "<|im_start|>" not in text


def test_a_model_without_template_reports_the_plain_format(tmp_path: Path) -> None:
    path = write_tiny_llama(tmp_path / "plain.gguf", chat_template=None)
    e = LlamaCppEngine()
    try:
        loaded = e.load(EngineConfig(str(path), n_ctx=256, n_threads=1))
    finally:
        e.unload()
    assert loaded.chat_template is None and not loaded.has_chat_template
    assert loaded.template_sha256 == hashlib.sha256(b"plain").hexdigest()


@pytest.mark.parametrize(
    "template",
    [
        "{% for m in messages %}{{ m['content'] }",  # unclosed expression
        "{% if true %}no end",  # unclosed block
        "{{ raise_exception('no chats here') }}",  # fails on every conversation
    ],
)
def test_a_bad_template_override_is_a_clear_error_and_the_old_model_keeps_working(
    client: EngineClient, files: dict[str, Path], template: str
) -> None:
    before_sha = client.loaded.template_sha256 if client.loaded else None
    before = greedy_reply(client)
    with pytest.raises(InvalidRequestError) as err:
        client.load(config(files, chat_template=template))
    assert err.value.kind == "invalid_request"
    assert "chat template override is not a usable template" in str(err.value)
    assert client.loaded is not None and client.loaded.template_sha256 == before_sha
    assert greedy_reply(client) == before
    events = list(
        client.generate(
            GenerateRequest(
                params=SamplingParams.greedy(max_tokens=2), messages=(Message("user", "hi"),)
            )
        )
    )
    assert not isinstance(events[-1], ErrorEvent), "the model's own template still works"


# -- settings and command line ----------------------------------------------------------


def test_settings_carry_the_load_options_with_bounds() -> None:
    s = Settings()
    assert (s.lora_path, s.lora_scale, s.chat_template_override) == (None, 1.0, None)
    assert field_bounds("lora_scale") == (0.0, 4.0)
    assert field_bounds("n_gpu_layers") == (-1.0, 1000.0)
    o = LoadOverrides(
        n_ctx=1024,
        n_gpu_layers=-1,
        n_threads=3,
        chat_template_override="  ",
        lora_path="/a/l.gguf",
        lora_scale=0.5,
    )
    t = s.with_overrides(o)
    assert (t.n_ctx, t.n_gpu_layers, t.n_threads) == (1024, -1, 3)
    assert t.chat_template_override is None, "a blank override means none"
    assert (t.lora_path, t.lora_scale) == ("/a/l.gguf", 0.5)
    with pytest.raises(ValueError, match="lora_scale"):
        s.with_overrides(LoadOverrides(lora_scale=5.0))


def test_generate_takes_lora_and_template_arguments(files: dict[str, Path], tmp_path: Path) -> None:
    import argparse

    parser = argparse.ArgumentParser()
    register_generate(parser.add_subparsers())
    template = tmp_path / "t.jinja"
    template.write_text(BRACKETS, encoding="utf-8")
    args = parser.parse_args(
        [
            "generate",
            "--model",
            str(files["model"]),
            "--lora",
            str(files["lora"]),
            "--lora-scale",
            "0.25",
            "--chat-template",
            str(template),
        ]
    )
    cfg = engine_config(args)
    assert cfg.lora_path == str(files["lora"]) and cfg.lora_scale == 0.25
    assert cfg.chat_template == BRACKETS
    plain = engine_config(parser.parse_args(["generate", "--model", str(files["model"])]))
    assert plain.lora_path is None and plain.chat_template is None
