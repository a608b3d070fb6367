"""Hostile chat templates, in a model file or an override, through the engine process.

The engine renders every chat with the template; one that would build gigabytes
of text or loop for minutes is refused with a message that blames the template,
and the engine process stays up and usable.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from gguf_factory import write_tiny_llama

from desktop_app.core.engine.protocol import (
    DoneEvent,
    EngineConfig,
    ErrorEvent,
    GenerateRequest,
    Message,
    TokenEvent,
)
from desktop_app.core.errors import InvalidRequestError
from desktop_app.core.sampling import SamplingParams
from desktop_app.workers.engine.client import EngineClient

MEMORY = '{{ "a" * 10**10 }}'
CPU = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
ESCAPE = "{{ cycler.__init__.__globals__.os.system('touch pwned') }}"
BROKEN = "{% if %}never closed"
#: Harmless for one message (the check at load time), a burner for longer chats.
LATE = (
    "{% if messages|length > 1 %}{{ 'x'|center(10**10) }}{% endif %}"
    "{% for m in messages %}[{{ m.role }}] {{ m.content }}\n{% endfor %}"
)


def config(path: Path, **kw: object) -> EngineConfig:
    return EngineConfig(str(path), n_ctx=256, n_threads=1, n_threads_batch=1, **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("hostile")
    return {
        "good": write_tiny_llama(folder / "good.gguf"),
        "memory": write_tiny_llama(folder / "memory.gguf", chat_template=MEMORY),
        "cpu": write_tiny_llama(folder / "cpu.gguf", chat_template=CPU),
        "escape": write_tiny_llama(folder / "escape.gguf", chat_template=ESCAPE),
        "broken": write_tiny_llama(folder / "broken.gguf", chat_template=BROKEN),
    }


@pytest.fixture(scope="module")
def client() -> Iterator[EngineClient]:
    c = EngineClient()
    yield c
    c.close()


def chat(client: EngineClient, *texts: str) -> list[object]:
    request = GenerateRequest(
        params=SamplingParams.greedy(max_tokens=2),
        messages=tuple(
            Message("user" if i % 2 == 0 else "assistant", t) for i, t in enumerate(texts)
        ),
    )
    return list(client.generate(request))


def still_works(client: EngineClient) -> None:
    request = GenerateRequest(
        params=SamplingParams.greedy(max_tokens=2), prompt="hello", ignore_eos=True
    )
    events = list(client.generate(request))
    assert isinstance(events[-1], DoneEvent), events[-1]
    assert any(isinstance(e, TokenEvent) for e in events)


@pytest.mark.parametrize(
    ("model", "why"),
    [
        # Before Glassbox kept llama-cpp-python from compiling the file's template at
        # load time, the first was built there (10 GB), and the last failed the load.
        ("memory", "over the limit"),
        ("cpu", "ran for more than"),
        ("escape", "SecurityError"),
        ("broken", "TemplateSyntaxError"),
    ],
)
def test_a_hostile_template_in_the_model_file_is_refused_and_the_engine_lives_on(
    client: EngineClient, models: dict[str, Path], model: str, why: str, tmp_path: Path
) -> None:
    client.load(config(models[model]))
    events = chat(client, "hi")
    last = events[-1]
    assert isinstance(last, ErrorEvent), last
    assert last.kind == "invalid_request"
    assert "model's chat template was refused" in last.message and why in last.message
    assert "set a template override" in last.message
    still_works(client)
    assert not (tmp_path / "pwned").exists() and not Path("pwned").exists()


def test_an_override_that_burns_at_load_is_refused_and_the_old_model_stays(
    client: EngineClient, models: dict[str, Path]
) -> None:
    client.load(config(models["good"]))
    with pytest.raises(InvalidRequestError) as err:
        client.load(config(models["good"], chat_template=CPU))
    message = str(err.value)
    assert "chat template override is not a usable template" in message
    assert "ran for more than" in message
    assert client.loaded is not None and client.loaded.chat_template != CPU
    still_works(client)


def test_an_override_that_burns_later_is_blamed_on_the_override(
    client: EngineClient, models: dict[str, Path]
) -> None:
    client.load(config(models["good"], chat_template=LATE))
    last = chat(client, "hi", "hello", "again")[-1]
    assert isinstance(last, ErrorEvent), last
    assert "template override was refused" in last.message and "over the limit" in last.message
    assert "turn the override off" in last.message
    assert isinstance(chat(client, "hi")[-1], DoneEvent), "one message still renders"
