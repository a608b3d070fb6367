"""Glassbox's own API on loopback, serving Gemma 3 270M, used with the ``openai`` client."""

from __future__ import annotations

import json
import math
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_app.core.engine.protocol import EngineConfig
from desktop_app.core.kb.knowledge_base import KnowledgeBase
from desktop_app.workers.api.server import ApiServer

openai = pytest.importorskip("openai")

pytestmark = pytest.mark.e2e

TOKEN = "s3cret-token"
HELLO = [{"role": "user", "content": "Name three colours."}]


@pytest.fixture(scope="module")
def server(gemma_path: Path) -> Iterator[ApiServer]:
    with ApiServer(EngineConfig(str(gemma_path), n_ctx=1024), port=0, token=TOKEN) as api:
        yield api


@pytest.fixture
def client(server: ApiServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url, api_key=TOKEN, max_retries=0, timeout=60)


def test_lists_the_loaded_model(client, gemma_path):
    models = client.models.list().data
    assert [m.id for m in models] == [gemma_path.name]


def test_streams_a_reply_with_logprobs_from_the_candidates(client, server):
    stream = client.chat.completions.create(
        model=server.model_id, messages=HELLO, stream=True, max_tokens=8,
        temperature=0, logprobs=True, top_logprobs=5,
    )  # fmt: skip
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    entries = [
        e
        for c in chunks
        if c.choices and c.choices[0].logprobs
        for e in c.choices[0].logprobs.content
    ]
    assert text.strip()
    assert 1 <= len(entries) <= 8
    assert chunks[-1].choices[0].finish_reason in ("stop", "length")
    for entry in entries:
        assert len(entry.top_logprobs) == 5
        probs = [math.exp(t.logprob) for t in entry.top_logprobs]
        assert all(0 < p <= 1 for p in probs) and sum(probs) <= 1 + 1e-4
        assert probs == sorted(probs, reverse=True)
        # Greedy: the chosen token is the most likely one, drawn with certainty (the
        # engine may trim the last token's trailing whitespace from the reply).
        assert entry.top_logprobs[0].token.startswith(entry.token)
        assert entry.logprob == pytest.approx(0.0, abs=1e-4)
    assert "".join(e.token for e in entries) == text


def test_a_reply_without_streaming_matches_the_streamed_one(client, server):
    kwargs = {"model": server.model_id, "messages": HELLO, "max_tokens": 8, "temperature": 0}
    whole = client.chat.completions.create(**kwargs)
    streamed = "".join(
        c.choices[0].delta.content or ""
        for c in client.chat.completions.create(stream=True, **kwargs)
    )
    assert whole.choices[0].message.content == streamed
    assert whole.choices[0].finish_reason in ("stop", "length")
    assert 1 <= whole.usage.completion_tokens <= 8 and whole.usage.prompt_tokens > 0
    assert whole.choices[0].logprobs is None


def test_two_clients_at_once_are_queued_and_both_answered(server):
    results: dict[int, str] = {}
    errors: list[openai.OpenAIError] = []

    def ask(n: int) -> None:
        try:
            c = openai.OpenAI(base_url=server.url, api_key=TOKEN, max_retries=0, timeout=60)
            reply = c.chat.completions.create(
                model=server.model_id, max_tokens=12, temperature=0.7, seed=n,
                messages=[{"role": "user", "content": f"Count from {n}."}],
                stream=n % 2 == 0,
            )  # fmt: skip
            if n % 2 == 0:
                results[n] = "".join(
                    ch.choices[0].delta.content or "" for ch in reply if ch.choices
                )
            else:
                results[n] = reply.choices[0].message.content
        except openai.OpenAIError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=ask, args=(n,)) for n in (1, 2, 3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=90)
    assert not errors
    assert sorted(results) == [1, 2, 3] and all(results.values())


def test_a_wrong_token_is_refused(server):
    wrong = openai.OpenAI(base_url=server.url, api_key="not-it", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        wrong.models.list()


def test_a_client_leaving_mid_stream_frees_the_engine(client, server):
    stream = client.chat.completions.create(
        model=server.model_id, messages=HELLO, stream=True, max_tokens=2000, temperature=0.8,
        seed=1, extra_body={"min_p": 0.0, "top_k": 0},
    )  # fmt: skip
    for _ in zip(range(3), stream, strict=False):
        pass
    stream.close()
    reply = client.chat.completions.create(
        model=server.model_id, messages=HELLO, max_tokens=4, temperature=0, timeout=10
    )
    assert reply.choices[0].message.content


def _ctrl_c_as_at_a_terminal() -> None:
    # A suite started in the background (`cmd &` in a script) inherits SIGINT ignored,
    # and Python then installs no KeyboardInterrupt: the server is started as a
    # terminal starts it.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_glassbox_serve_prints_its_url_and_stops_on_ctrl_c(gemma_path, glassbox_home):
    proc = subprocess.Popen(
        [sys.executable, "-m", "desktop_app", "serve", "--model", str(gemma_path), "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=_ctrl_c_as_at_a_terminal,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        url = line.split(" at ", 1)[1].strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/v1")
        # No token given: one was generated and kept, and serve says where.
        stored = glassbox_home / "api-token"
        assert str(stored) in proc.stdout.readline() + proc.stdout.readline()
        token = stored.read_text("utf-8").strip()
        with pytest.raises(openai.AuthenticationError):
            openai.OpenAI(base_url=url, api_key="unused", max_retries=0).models.list()
        models = openai.OpenAI(base_url=url, api_key=token, max_retries=0).models.list()
        assert [m.id for m in models.data] == [gemma_path.name]
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
    finally:
        proc.kill()


def test_knowledge_answers_say_clearly_when_a_window_holds_the_knowledge_base(server):
    request = urllib.request.Request(
        f"{server.url}/knowledge/answer",
        data=json.dumps({"question": "What is Glassbox?", "collection": "notes"}).encode(),
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    )
    with KnowledgeBase(), pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=30)
    assert caught.value.code == 409
    error = json.loads(caught.value.read())["error"]
    assert error["code"] == "kb_locked" and "window" in error["message"]


def test_knowledge_answer_cites_the_ingested_document(
    gemma_path: Path, glassbox_home: Path, tmp_path: Path
) -> None:
    """/v1/knowledge/answer searches a real collection and answers with its citations."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "lighthouse.txt").write_text(
        "The Glassbox lighthouse stands on Kestrel Point. It was built in 1887 and its "
        "lamp can be seen 22 nautical miles away.\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, "-m", "desktop_app", "ingest", str(docs), "-c", "notes", "--quiet"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    config = EngineConfig(str(gemma_path), n_ctx=2048)
    with ApiServer(config, port=0, token=TOKEN) as api:
        request = urllib.request.Request(
            f"{api.url}/knowledge/answer",
            data=json.dumps(
                {
                    "question": "When was the lighthouse on Kestrel Point built?",
                    "collection": "notes",
                }
            ).encode(),
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=300) as reply:
            body = json.load(reply)
    assert body["found"] is True
    assert body["answer"].strip()
    sources = [c["source"] for c in body["citations"]]
    assert sources and all(s.endswith("lighthouse.txt") for s in sources)
    assert "1887" in body["citations"][0]["text"]


def test_loopback_only_refuses_other_host_names_and_origins(server):
    import http.client

    def status(headers: dict[str, str]) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        try:
            conn.putrequest("GET", "/v1/models", skip_host=True)
            for name, value in {"Authorization": f"Bearer {TOKEN}", **headers}.items():
                conn.putheader(name, value)
            conn.endheaders()
            response = conn.getresponse()
            response.read()
            return response.status
        finally:
            conn.close()

    assert status({"Host": f"localhost:{server.port}"}) == 200
    assert status({"Host": "[::1]"}) == 200
    assert status({"Host": f"rebound.example:{server.port}"}) == 403
    assert status({"Host": "127.0.0.1", "Origin": "http://rebound.example"}) == 403


def test_a_request_can_ask_for_drafting_and_gets_the_same_reply(client, server):
    """Prompt lookup through the API: the same greedy reply, drafted tokens counted."""
    text = "one two three four five six seven eight nine ten " * 3
    kwargs = {
        "model": server.model_id,
        "messages": [{"role": "user", "content": f"Repeat exactly: {text}"}],
        "max_tokens": 40,
        "temperature": 0,
    }
    plain = client.chat.completions.create(**kwargs)
    drafted = client.chat.completions.create(
        **kwargs, extra_body={"draft": {"prompt_lookup": True, "max_draft": 6}}
    )
    assert drafted.usage.completion_tokens == plain.usage.completion_tokens
    details = drafted.usage.completion_tokens_details
    assert details is not None and details.accepted_prediction_tokens > 0
    assert plain.usage.completion_tokens_details is None
    bad = client.with_options(max_retries=0).chat.completions
    with pytest.raises(openai.BadRequestError, match="max_draft"):
        bad.create(**kwargs, extra_body={"draft": {"max_draft": 99}})
