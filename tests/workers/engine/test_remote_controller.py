"""The window's controller switched to a remote OpenAI-compatible server and back.

A loopback server (``tests/remote_server.py``) stands in for llama.cpp's server;
the local engine is the ``FakeEngine``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from callbacks import Calls
from pytestqt.qtbot import QtBot
from remote_server import REPLY, RemoteServer, closed_port, running_server

from desktop_app.core.engine.capabilities import SAMPLER_STAGES_UNAVAILABLE
from desktop_app.core.engine.fake import FakeEngine
from desktop_app.core.engine.openai_remote import NO_REMOTE_SCORING
from desktop_app.core.engine.protocol import (
    DoneEvent,
    Engine,
    GenerateRequest,
    Message,
    ModelLoaded,
    TokenEvent,
)
from desktop_app.core.sampling import SamplingParams
from desktop_app.core.settings import Settings, load_settings
from desktop_app.core.tasks.classify import ClassifySpec, Label, classify
from desktop_app.core.tasks.extract import extract
from desktop_app.workers.engine.inference import InferenceController
from desktop_app.workers.engine.task_runner import TaskProgress

TIMEOUT_MS = 10_000

CHAT = GenerateRequest(
    params=SamplingParams(temperature=0.0, seed=1, max_tokens=50),
    messages=(Message("user", "Hi"),),
    candidates=3,
)


@pytest.fixture
def server() -> Iterator[RemoteServer]:
    with running_server() as srv:
        yield srv


@pytest.fixture
def controller(qtbot: QtBot, tmp_path: Path) -> Iterator[InferenceController]:
    c = InferenceController(
        FakeEngine,
        Settings(),
        settings_path=tmp_path / "settings.json",
        resolver=lambda spec, progress: Path(spec),
    )
    yield c
    assert c.shutdown()


def load_local(qtbot: QtBot, controller: InferenceController, spec: str = "fake.gguf") -> None:
    with qtbot.waitSignal(controller.sig_model_loaded, timeout=TIMEOUT_MS):
        controller.load_model(spec)


def go_remote(qtbot: QtBot, controller: InferenceController, server: RemoteServer) -> ModelLoaded:
    with qtbot.waitSignal(controller.sig_model_loaded, timeout=TIMEOUT_MS) as blocker:
        controller.use_remote(server.url, None, "other")
    loaded = blocker.args[0]
    assert isinstance(loaded, ModelLoaded)
    return loaded


def reply(
    qtbot: QtBot, controller: InferenceController
) -> tuple[list[TokenEvent], DoneEvent | None, tuple[str, str] | None]:
    tokens: list[TokenEvent] = []
    ended: list[object] = []
    controller.sig_tokens.connect(tokens.extend)
    controller.sig_done.connect(ended.append)
    controller.sig_error.connect(lambda kind, msg: ended.append((kind, msg)))
    controller.send(CHAT)
    qtbot.waitUntil(lambda: bool(ended), timeout=TIMEOUT_MS)
    end = ended[0]
    done = end if isinstance(end, DoneEvent) else None
    error = end if isinstance(end, tuple) else None
    return tokens, done, error


def test_switching_to_a_server_streams_a_chat_reply_with_candidates(
    qtbot: QtBot, controller: InferenceController, server: RemoteServer, tmp_path: Path
) -> None:
    load_local(qtbot, controller)
    assert not controller.is_remote()
    assert controller.capabilities.sampler_stages

    loaded = go_remote(qtbot, controller, server)
    assert loaded.model_path == "other"
    assert controller.is_remote()
    caps = controller.capabilities
    assert caps.remote and not caps.sampler_stages and not caps.scoring
    assert SAMPLER_STAGES_UNAVAILABLE == "Sampler stages are not available from a remote server."

    tokens, done, error = reply(qtbot, controller)
    assert error is None and done is not None
    assert "".join(t.text for t in tokens) == "".join(REPLY)
    assert [c.p_raw for c in tokens[0].candidates] == pytest.approx([0.6, 0.3, 0.1])
    assert all(c.removed_by is None for t in tokens for c in t.candidates)
    assert server.bodies[-1]["model"] == "other"
    assert server.bodies[-1]["top_logprobs"] == 3

    # The choice is remembered for the next start, and is not a model file.
    saved = load_settings(tmp_path / "settings.json")
    assert saved.engine == "openai" and saved.remote_model == "other"
    assert saved.remote_base_url == server.url
    assert saved.last_model is not None and saved.last_model.endswith("fake.gguf")
    assert controller.model_fingerprint is None


def test_a_remote_model_is_not_fingerprinted_or_resolved(
    qtbot: QtBot, tmp_path: Path, server: RemoteServer
) -> None:
    resolved: list[str] = []

    def resolver(spec: str, progress: object) -> Path:
        resolved.append(spec)
        return Path(spec)

    c = InferenceController(
        FakeEngine, Settings(), settings_path=tmp_path / "s.json", resolver=resolver
    )
    try:
        busy: list[bool] = []
        c.sig_busy.connect(busy.append)
        go_remote(qtbot, c, server)
        qtbot.waitUntil(lambda: busy[-1] is False, timeout=TIMEOUT_MS)
        assert resolved == []
        assert c.model_fingerprint is None
    finally:
        assert c.shutdown()


def test_an_unreachable_server_keeps_the_local_model(
    qtbot: QtBot, controller: InferenceController
) -> None:
    load_local(qtbot, controller)
    errors: list[tuple[str, str]] = []
    controller.sig_error.connect(lambda kind, msg: errors.append((kind, msg)))
    with qtbot.waitSignal(controller.sig_model_loaded, timeout=TIMEOUT_MS) as blocker:
        controller.use_remote(f"http://127.0.0.1:{closed_port()}", None, None)
    assert errors and errors[0][0] == "remote" and "connection refused" in errors[0][1]
    assert blocker.args[0].backend == "fake"
    assert not controller.is_remote()
    tokens, done, _error = reply(qtbot, controller)
    assert done is not None and tokens


def test_classify_is_refused_remotely_with_a_clear_message(
    qtbot: QtBot, controller: InferenceController, server: RemoteServer
) -> None:
    go_remote(qtbot, controller, server)
    spec = ClassifySpec((Label("positive"), Label("negative")))

    def fn(engine: Engine, progress: TaskProgress) -> object:
        return classify(engine, "Great!", spec)  # type: ignore[arg-type]

    calls = Calls()
    controller.run_task(fn, label="classify", on_done=calls.on_done, on_failed=calls.on_failed)
    ((kind, message),) = calls.wait(qtbot).failed
    assert kind == "remote" and message == NO_REMOTE_SCORING


def test_extract_against_a_server_that_refuses_grammars_says_why(
    qtbot: QtBot, controller: InferenceController, server: RemoteServer
) -> None:
    server.refuse_grammar = True
    go_remote(qtbot, controller, server)
    schema = {"type": "object", "properties": {"name": {"type": "string", "maxLength": 20}}}

    def fn(engine: Engine, progress: TaskProgress) -> object:
        return extract(engine, "Ada Lovelace wrote the first program.", schema)

    calls = Calls()
    controller.run_task(fn, label="extract", on_done=calls.on_done, on_failed=calls.on_failed)
    ((kind, message),) = calls.wait(qtbot).failed
    assert kind == "remote"
    assert "HTTP 400" in message and "GBNF grammar" in message and "llama.cpp" in message


def test_a_server_dying_mid_reply_keeps_the_text_and_reports_it(
    qtbot: QtBot, controller: InferenceController, server: RemoteServer
) -> None:
    go_remote(qtbot, controller, server)
    server.drop_after = 2
    tokens, done, error = reply(qtbot, controller)
    assert done is None and error is not None
    assert [t.text for t in tokens] == REPLY[:2]
    assert error[0] == "remote" and "received so far is kept" in error[1]
    # The controller stays usable.
    server.drop_after = None
    tokens, done, error = reply(qtbot, controller)
    assert done is not None and "".join(t.text for t in tokens) == "".join(REPLY)


def test_switching_back_to_local_reloads_the_last_model(
    qtbot: QtBot, controller: InferenceController, server: RemoteServer, tmp_path: Path
) -> None:
    load_local(qtbot, controller, "first.gguf")
    go_remote(qtbot, controller, server)
    with qtbot.waitSignal(controller.sig_model_loaded, timeout=TIMEOUT_MS) as blocker:
        controller.use_local()
    assert blocker.args[0].backend == "fake"
    assert blocker.args[0].model_path.endswith("first.gguf")
    assert not controller.is_remote() and controller.capabilities.sampler_stages
    tokens, done, _error = reply(qtbot, controller)
    assert done is not None and tokens
    assert controller.settings.engine == "local"
    saved = json.loads((tmp_path / "settings.json").read_text())
    assert saved["engine"] == "local"


def test_load_initial_follows_the_saved_engine_choice(
    qtbot: QtBot, tmp_path: Path, server: RemoteServer
) -> None:
    settings = Settings(engine="openai", remote_base_url=server.url, remote_model="tiny")
    c = InferenceController(FakeEngine, settings, settings_path=tmp_path / "s.json")
    try:
        with qtbot.waitSignal(c.sig_model_loaded, timeout=TIMEOUT_MS) as blocker:
            c.load_initial("default")
        assert blocker.args[0].model_path == "tiny" and c.is_remote()
    finally:
        assert c.shutdown()


def test_the_settings_file_is_readable_by_the_user_only(tmp_path: Path) -> None:
    from desktop_app.core.settings import save_settings

    path = tmp_path / "settings.json"
    save_settings(Settings(remote_api_key="sk-secret"), path)
    assert path.stat().st_mode & 0o777 == 0o600


def missing_is_an_error(spec: str, progress: object) -> Path:
    from desktop_app.core.errors import ModelFileError, ModelInstallError

    if spec == "gone.gguf":
        raise ModelFileError("gone.gguf does not exist.")
    if spec == "default":
        raise ModelInstallError("The default model cannot be downloaded offline.")
    return Path(spec)


@pytest.mark.parametrize("spec", ["gone.gguf", "default"])
def test_a_local_model_that_cannot_be_found_keeps_the_server(
    qtbot: QtBot, tmp_path: Path, server: RemoteServer, spec: str
) -> None:
    c = InferenceController(
        FakeEngine, Settings(), settings_path=tmp_path / "s.json", resolver=missing_is_an_error
    )
    try:
        go_remote(qtbot, c, server)
        errors: list[tuple[str, str]] = []
        c.sig_error.connect(lambda kind, msg: errors.append((kind, msg)))
        with qtbot.waitSignal(c.sig_model_loaded, timeout=TIMEOUT_MS) as blocker:
            c.use_local(spec)
        assert errors and blocker.args[0].model_path == "other"
        assert c.is_remote() and c.settings.engine == "openai"
        # The server connection still answers.
        tokens, done, error = reply(qtbot, c)
        assert error is None and done is not None
        assert "".join(t.text for t in tokens) == "".join(REPLY)
    finally:
        assert c.shutdown()


def test_a_failed_switch_ends_with_its_error_after_the_kept_model(
    qtbot: QtBot, controller: InferenceController
) -> None:
    load_local(qtbot, controller)
    seen: list[str] = []
    controller.sig_model_loaded.connect(lambda loaded: seen.append(f"loaded {loaded.backend}"))
    controller.sig_error.connect(lambda kind, msg: seen.append(f"error {kind}"))
    controller.use_remote(f"http://127.0.0.1:{closed_port()}", None, None)
    qtbot.waitUntil(lambda: len(seen) >= 2, timeout=TIMEOUT_MS)
    qtbot.wait(100)
    # The window shows the last news: the error must come after the kept model's "loaded".
    assert seen == ["loaded fake", "error remote"]
    assert controller.model_loaded is not None and not controller.is_remote()
