"""/v1/chat/completions gives a reasoning model's thinking as reasoning_content, as
llama.cpp's server does (the fake engine scripts the reply; no model)."""

from __future__ import annotations

import json
from typing import Any

from test_server_limits import CHAT as PLAIN_CHAT
from test_server_limits import ThreadBackend, request, serving
from thinking_templates import R1_LIKE

from desktop_app.core.engine.protocol import ModelLoaded

SCRIPT = "<think>Add them.</think> It is 4."
CHAT = {**PLAIN_CHAT, "temperature": 0}  # the fake engine draws the script at 0


def _post(backend: ThreadBackend, body: dict[str, Any]) -> tuple[int, bytes]:
    with serving(backend) as httpd:
        return request(httpd.server_address[1], "POST", "/v1/chat/completions", body)


def _stream(backend: ThreadBackend, body: dict[str, Any]) -> list[dict[str, Any]]:
    status, raw = _post(backend, {**body, "stream": True})
    assert status == 200
    lines = [x[6:] for x in raw.decode().split("\n") if x.startswith("data: ")]
    assert lines[-1] == "[DONE]"
    return [json.loads(x) for x in lines[:-1]]


def test_a_whole_reply_has_its_reasoning_apart_with_every_tokens_logprobs() -> None:
    status, raw = _post(ThreadBackend(SCRIPT), {**CHAT, "logprobs": True, "top_logprobs": 2})
    assert status == 200
    reply = json.loads(raw)["choices"][0]
    assert reply["message"] == {
        "role": "assistant",
        "content": "It is 4.",
        "reasoning_content": "Add them.",
    }
    assert len(reply["logprobs"]["content"]) == len(SCRIPT)


def test_reasoning_format_none_leaves_the_tags_in_the_content() -> None:
    _, raw = _post(ThreadBackend(SCRIPT), {**CHAT, "reasoning_format": "none"})
    assert json.loads(raw)["choices"][0]["message"] == {"role": "assistant", "content": SCRIPT}


def test_a_stream_sends_the_reasoning_in_reasoning_content_deltas() -> None:
    chunks = _stream(ThreadBackend(SCRIPT), {**CHAT, "logprobs": True})
    deltas = [c["choices"][0]["delta"] for c in chunks]
    reasoning = "".join(d.get("reasoning_content", "") for d in deltas)
    content = "".join(d.get("content", "") for d in deltas)
    assert reasoning == "Add them." and content == "It is 4."
    assert not any("reasoning_content" in d and "content" in d for d in deltas)
    # Each shown token keeps its log-probability; the tags are not sent.
    with_lp = [c for c in chunks if c["choices"][0]["logprobs"]]
    assert len(with_lp) == len("Add them.") + len("It is 4.")


class _OpenedBackend(ThreadBackend):
    """A model whose template opens <think> in the prompt (DeepSeek-R1's)."""

    loaded = ModelLoaded("r1.gguf", 512, 512, 95, 1, 1, "fake", True, 0.0, chat_template=R1_LIKE)


def test_a_reply_that_starts_inside_the_block_the_prompt_opened() -> None:
    chunks = _stream(_OpenedBackend("Hmm, add.</think>4"), CHAT)
    deltas = [c["choices"][0]["delta"] for c in chunks]
    assert "".join(d.get("reasoning_content", "") for d in deltas) == "Hmm, add."
    assert "".join(d.get("content", "") for d in deltas) == "4"
    _, raw = _post(_OpenedBackend("Still going"), CHAT)
    message = json.loads(raw)["choices"][0]["message"]
    assert message == {"role": "assistant", "content": "", "reasoning_content": "Still going"}


def test_the_switch_and_earlier_reasoning_reach_the_request() -> None:
    seen: list[Any] = []

    class Recording(ThreadBackend):
        def enqueue(self, kind: str, payload: Any) -> Any:
            seen.append(payload)
            return super().enqueue(kind, payload)

    body = {
        "messages": [
            {"role": "user", "content": "Q"},
            {"role": "assistant", "content": "A", "reasoning_content": "R"},
            {"role": "assistant", "content": "<think>S</think>B"},
            {"role": "user", "content": "Q2"},
        ],
        "chat_template_kwargs": {"enable_thinking": False},
        "temperature": 0,
    }
    assert _post(Recording("ok"), body)[0] == 200
    request_sent = seen[0]
    assert request_sent.thinking is False
    assert [(m.content, m.reasoning) for m in request_sent.messages] == [
        ("Q", ""), ("A", "R"), ("B", "S"), ("Q2", ""),
    ]  # fmt: skip
    status, raw = _post(
        ThreadBackend("ok"), {**CHAT, "chat_template_kwargs": {"enable_thinking": 1}}
    )
    assert status == 400 and b"enable_thinking" in raw
