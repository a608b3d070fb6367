"""Glassbox's own API served from the window, on the window's controller (FakeEngine).

The ``openai`` client runs in a plain thread: the GUI thread must stay free to
hand requests to the controller, as it is in the app.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from desktop_app.core.engine.fake import FakeEngine
from desktop_app.core.engine.protocol import GenerateRequest, Message, TokenEvent
from desktop_app.core.sampling import SamplingParams
from desktop_app.core.settings import Settings
from desktop_app.workers.api.window import WindowApi
from desktop_app.workers.engine.inference import InferenceController

openai = pytest.importorskip("openai")

TIMEOUT_MS = 15_000
TOKEN = "window-token"
SCRIPT = "Hello from the fake engine."


@pytest.fixture
def controller(qtbot: QtBot, tmp_path: Path, glassbox_home: Path) -> Iterator[InferenceController]:
    c = InferenceController(
        lambda: FakeEngine(SCRIPT, delay_s=0.01),
        Settings(),
        settings_path=tmp_path / "settings.json",
        resolver=lambda spec, progress: Path(spec),
        remember_model=False,
    )
    with qtbot.waitSignal(c.sig_model_loaded, timeout=TIMEOUT_MS):
        c.load_model("fake.gguf")
    yield c
    assert c.shutdown()


@pytest.fixture
def api(controller: InferenceController) -> Iterator[WindowApi]:
    service = WindowApi(controller)
    service.start(0, token=TOKEN)
    yield service
    service.stop()


def in_thread(qtbot: QtBot, fn: Callable[[], Any]) -> Any:
    """Run ``fn`` off the GUI thread while the GUI thread processes events."""
    out: list[Any] = []

    def run() -> None:
        try:
            out.append(fn())
        except Exception as exc:  # noqa: BLE001 - the test asserts on what was raised
            out.append(exc)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    qtbot.waitUntil(lambda: bool(out), timeout=TIMEOUT_MS)
    t.join(5)
    return out[0]


def client(api: WindowApi, key: str = TOKEN) -> Any:
    return openai.OpenAI(base_url=api.url, api_key=key, max_retries=0, timeout=20)


def test_lists_the_window_model_on_loopback_only(api: WindowApi, qtbot: QtBot) -> None:
    assert api.url is not None and api.url.startswith("http://127.0.0.1:")
    assert api._httpd is not None and api._httpd.server_address[0] == "127.0.0.1"
    models = in_thread(qtbot, lambda: client(api).models.list().data)
    assert [m.id for m in models] == ["fake.gguf"]


def test_a_streamed_chat_with_logprobs_while_the_window_chats(
    api: WindowApi, controller: InferenceController, qtbot: QtBot
) -> None:
    window_tokens: list[TokenEvent] = []
    controller.sig_tokens.connect(window_tokens.extend)

    def call() -> Any:
        stream = client(api).chat.completions.create(
            model="fake.gguf", messages=[{"role": "user", "content": "Hi"}], stream=True,
            temperature=0, logprobs=True, top_logprobs=3, max_tokens=100,
        )  # fmt: skip
        return list(stream)

    # The window's own reply is queued on the same engine while the API request runs.
    result: list[Any] = []
    t = threading.Thread(target=lambda: result.append(call()), daemon=True)
    t.start()
    qtbot.wait(50)
    with qtbot.waitSignal(controller.sig_done, timeout=TIMEOUT_MS):
        controller.send(
            GenerateRequest(
                params=SamplingParams(temperature=0.0, seed=1),
                messages=(Message("user", "Hello"),),
            )
        )
    qtbot.waitUntil(lambda: bool(result), timeout=TIMEOUT_MS)
    chunks = result[0]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == SCRIPT
    entries = [
        e
        for c in chunks
        if c.choices and c.choices[0].logprobs
        for e in c.choices[0].logprobs.content
    ]
    assert len(entries) == len(SCRIPT)
    assert all(len(e.top_logprobs) == 3 and e.logprob <= 0 for e in entries)
    # The API's tokens never reached the window's chat signals.
    assert "".join(t.text for t in window_tokens) == SCRIPT


def test_a_streamed_completion_with_logprobs(api: WindowApi, qtbot: QtBot) -> None:
    def call() -> Any:
        return list(
            client(api).completions.create(
                model="fake.gguf", prompt="Say hello", stream=True, max_tokens=5, logprobs=2,
                temperature=0,
            )
        )  # fmt: skip

    chunks = in_thread(qtbot, call)
    text = "".join(c.choices[0].text for c in chunks if c.choices)
    assert text == SCRIPT[:5]
    lps = [c.choices[0].logprobs for c in chunks if c.choices and c.choices[0].logprobs]
    assert [lp.tokens[0] for lp in lps] == list(SCRIPT[:5])
    assert all(len(lp.top_logprobs[0]) == 2 for lp in lps)
    assert chunks[-1].choices[0].finish_reason == "length"


def test_a_wrong_token_gets_401(api: WindowApi, qtbot: QtBot) -> None:
    error = in_thread(qtbot, lambda: client(api, "wrong").models.list())
    assert isinstance(error, openai.AuthenticationError)


def test_switching_it_off_closes_the_port(api: WindowApi) -> None:
    port = api.port
    assert port is not None
    api.stop()
    assert api.url is None and not api.running
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), 2):
        pass


def test_a_taken_port_is_a_clear_error(controller: InferenceController, api: WindowApi) -> None:
    other = WindowApi(controller)
    with pytest.raises(Exception, match="cannot listen on port"):
        other.start(int(api.port or 0))


def test_other_computers_without_a_token_are_refused(controller: InferenceController) -> None:
    from desktop_app.core.errors import GlassboxError

    service = WindowApi(controller)
    errors: list[str] = []
    service.sig_error.connect(errors.append)
    for token in (None, ""):
        with pytest.raises(GlassboxError, match="token"):
            service.start(0, allow_remote=True, token=token)
        assert not service.running and service.port is None
    assert errors and "token" in errors[0]


def raw_get(port: int, headers: dict[str, str], path: str = "/v1/models") -> int:
    """The status of a GET sent with exactly ``headers`` (Host included)."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.putrequest("GET", path, skip_host=True)
        for name, value in headers.items():
            conn.putheader(name, value)
        conn.endheaders()
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def test_loopback_only_answers_loopback_host_names(api: WindowApi) -> None:
    # DNS rebinding: a web page's own name resolved to 127.0.0.1 must not reach the API.
    port = int(api.port or 0)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    for host in ("127.0.0.1", f"127.0.0.1:{port}", "localhost", f"localhost:{port}",
                 "[::1]", f"[::1]:{port}", "LOCALHOST"):  # fmt: skip
        assert raw_get(port, {"Host": host, **auth}) == 200, host
    for host in ("evil.example", f"evil.example:{port}", "127.0.0.1.evil.example", "0.0.0.0"):
        assert raw_get(port, {"Host": host, **auth}) == 403, host
    # Refused before the token is even looked at.
    assert raw_get(port, {"Host": "evil.example"}) == 403


def test_loopback_only_refuses_a_web_page_of_another_origin(api: WindowApi) -> None:
    port = int(api.port or 0)
    base = {"Host": f"127.0.0.1:{port}", "Authorization": f"Bearer {TOKEN}"}
    for origin in (f"http://127.0.0.1:{port}", "http://localhost:3000", "http://[::1]"):
        assert raw_get(port, {**base, "Origin": origin}) == 200, origin
    for origin in ("http://evil.example", "https://evil.example:443", "null"):
        assert raw_get(port, {**base, "Origin": origin}) == 403, origin


def test_open_to_other_computers_any_host_name_works(controller: InferenceController) -> None:
    service = WindowApi(controller)
    service.start(0, allow_remote=True, token=TOKEN)
    try:
        port = int(service.port or 0)
        headers = {"Host": f"glassbox.lan:{port}", "Authorization": f"Bearer {TOKEN}"}
        assert raw_get(port, headers) == 200
    finally:
        service.stop()


def wait_for_api_task(qtbot: QtBot, api: WindowApi) -> None:
    """Until the API's request runs on the window's engine."""

    def running() -> bool:
        with api._lock:
            return any(job.task is not None and job.task.started for job in api._jobs)

    qtbot.waitUntil(running, timeout=TIMEOUT_MS)


def test_the_window_stop_button_leaves_an_api_request_alone(
    api: WindowApi, controller: InferenceController, qtbot: QtBot
) -> None:
    result: list[Any] = []

    def call() -> Any:
        return client(api).chat.completions.create(
            model="fake.gguf",
            messages=[{"role": "user", "content": "Hi"}],
            max_tokens=100,
            temperature=0,
        )

    t = threading.Thread(target=lambda: result.append(call()), daemon=True)
    t.start()
    wait_for_api_task(qtbot, api)
    # The window's own reply waits behind the API request; the user stops it.
    done: list[Any] = []
    controller.sig_done.connect(done.append)
    controller.send(GenerateRequest(messages=(Message("user", "Hello"),)))
    controller.stop()
    qtbot.waitUntil(lambda: bool(result) and bool(done), timeout=TIMEOUT_MS)
    assert result[0].choices[0].message.content == SCRIPT
    assert done[0].finish_reason == "cancelled" and done[0].completion_tokens == 0


def test_a_cancelled_api_request_is_an_error_not_a_short_reply(
    api: WindowApi, controller: InferenceController, qtbot: QtBot
) -> None:
    result: list[Any] = []

    def call() -> Any:
        try:
            return client(api).chat.completions.create(
                model="fake.gguf", messages=[{"role": "user", "content": "Hi"}], max_tokens=100
            )
        except Exception as exc:  # noqa: BLE001 - asserted below
            return exc

    t = threading.Thread(target=lambda: result.append(call()), daemon=True)
    t.start()
    wait_for_api_task(qtbot, api)
    api._on_http_cancel(next(iter(api._jobs)))  # as when the API is switched off
    qtbot.waitUntil(lambda: bool(result), timeout=TIMEOUT_MS)
    assert isinstance(result[0], openai.APIStatusError), result[0]
    assert result[0].status_code == 499 and "cancelled" in str(result[0])


def test_a_cancelled_knowledge_answer_raises(controller: InferenceController) -> None:
    from desktop_app.core.errors import GlassboxError
    from desktop_app.workers.api.server import _Job
    from desktop_app.workers.engine.task_runner import TaskProgress

    service = WindowApi(controller)
    job = _Job("answer", ("What?", "docs", 3))
    run = service._answer_fn(job, [])
    job.cancelled.set()
    with pytest.raises(GlassboxError) as raised:
        run(FakeEngine("Half an ans", delay_s=0.0), TaskProgress(lambda: True, lambda u: None))
    assert raised.value.kind == "cancelled"
    assert job.out.empty()


def test_only_a_port_in_use_is_blamed_on_another_program(
    controller: InferenceController, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    from desktop_app.workers.api import window as api_window

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(api_window, "_Server", refuse)
    with pytest.raises(Exception, match="cannot listen on port 80") as raised:
        WindowApi(controller).start(80)
    assert "another program" not in str(raised.value)


def test_without_a_token_the_stored_one_is_required_and_no_header_gets_401(
    controller: InferenceController, qtbot: QtBot
) -> None:
    from desktop_app.core.api.secrets import token_path

    service = WindowApi(controller)
    service.start(0)  # no token in the settings: any local user could read the documents
    try:
        stored = token_path().read_text("utf-8").strip()
        assert service.token == stored and len(stored) >= 40
        port = service.port
        request = f"GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()

        def ask() -> bytes:
            with socket.create_connection(("127.0.0.1", int(port or 0)), 5) as conn:
                conn.sendall(request)
                return conn.recv(200)

        assert in_thread(qtbot, ask).split(b"\r\n")[0].endswith(b" 401 Unauthorized")
        models = in_thread(qtbot, lambda: client(service, stored).models.list())
        assert [m.id for m in models.data] == ["fake.gguf"]
    finally:
        service.stop()


def test_a_request_without_a_draft_object_drafts_as_the_window_is_set(
    qtbot: QtBot, tmp_path: Path, glassbox_home: Path
) -> None:
    c = InferenceController(
        lambda: FakeEngine(SCRIPT, delay_s=0.0),
        Settings(prompt_lookup=True, max_draft=4),
        settings_path=tmp_path / "settings.json",
        resolver=lambda spec, progress: Path(spec),
        remember_model=False,
    )
    with qtbot.waitSignal(c.sig_model_loaded, timeout=TIMEOUT_MS):
        c.load_model("fake.gguf")
    service = WindowApi(c)
    service.start(0, token=TOKEN)
    try:
        assert service.draft.prompt_lookup and service.draft.max_draft == 4
        messages = [{"role": "user", "content": "hi"}]
        reply = in_thread(
            qtbot,
            lambda: client(service).chat.completions.create(model="fake.gguf", messages=messages),
        )
        assert reply.usage.completion_tokens_details.accepted_prediction_tokens > 0
        off = in_thread(
            qtbot,
            lambda: client(service).chat.completions.create(
                model="fake.gguf", messages=messages, extra_body={"draft": {}}
            ),
        )
        assert off.usage.completion_tokens_details is None
    finally:
        service.stop()
        assert c.shutdown()
