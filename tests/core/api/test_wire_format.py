"""The OpenAI wire format without a socket: request parsing, logprobs, responses, errors."""

from __future__ import annotations

import math

import pytest

from desktop_app.core.api.openai import (
    LOGPROB_FLOOR,
    MAX_STOP,
    MAX_STOP_CHARS,
    MAX_TOP_LOGPROBS,
    STATUS,
    api_error,
    chat_request,
    completion,
    completion_logprobs,
    completion_request,
    error_body,
    logprob,
    parse_body,
    response_meta,
    stream_chunk,
    stream_usage,
    token_logprobs,
    usage,
    usage_chunk,
)
from desktop_app.core.engine.protocol import DoneEvent, DraftSettings, Message, TokenEvent
from desktop_app.core.errors import InvalidRequestError
from desktop_app.core.sampling import Candidate, SamplingParams

HELLO = [{"role": "user", "content": "Hi"}]


def token(index: int, text: str, p: float) -> TokenEvent:
    return TokenEvent(
        index=index,
        id=index,
        text=text,
        p=p,
        candidates=(
            Candidate(index, text, 2.0, 0.5, p, None),
            Candidate(99, "ü", 1.0, 0.25, 0.0, "top_k"),
        ),
    )


def done(**overrides: object) -> DoneEvent:
    values: dict[str, object] = {
        "finish_reason": "eos",
        "prompt_tokens": 5,
        "completion_tokens": 2,
        "ttft_s": 0.1,
        "tokens_per_s": 20.0,
        "seed": 7,
        "text": "",
    }
    values.update(overrides)
    return DoneEvent(**values)  # type: ignore[arg-type]


def test_engine_errors_have_fitting_http_statuses() -> None:
    assert STATUS["no_model"] == 503 and STATUS["remote"] == 502


def test_a_chat_body_becomes_a_request_and_null_values_are_defaults() -> None:
    parts = [{"type": "text", "text": "Hel"}, {"type": "text", "text": "lo"}]
    body = {
        "messages": [
            {"role": "developer", "content": "Be brief."},
            {"role": "user", "content": parts},
        ],
        "temperature": 0.0,
        "top_p": None,
        "seed": 3,
        "max_completion_tokens": 9,
        "max_tokens": 100,
        "stop": "###",
    }
    request, top = chat_request(body)
    assert top is None and request.candidates == 0
    assert request.messages == (Message("system", "Be brief."), Message("user", "Hello"))
    assert request.params == SamplingParams(temperature=0.0, seed=3, max_tokens=9, stop=("###",))


def test_logprobs_ask_for_that_many_candidates_within_bounds() -> None:
    request, top = chat_request({"messages": HELLO, "logprobs": True, "top_logprobs": 3})
    assert top == 3 and request.candidates == 3
    _, top = chat_request({"messages": HELLO, "logprobs": True})
    assert top == 0
    with pytest.raises(InvalidRequestError, match="top_logprobs"):
        chat_request({"messages": HELLO, "logprobs": True, "top_logprobs": MAX_TOP_LOGPROBS + 1})


@pytest.mark.parametrize(
    "body",
    [
        {"messages": []},
        {"messages": [{"role": "tool", "content": "x"}]},
        {"messages": [{"role": "user", "content": [{"type": "image_url"}]}]},
        {"messages": HELLO, "temperature": 5},
        {"messages": HELLO, "top_k": "many"},
        # Malformed fields that escaped as TypeError and left the client without an answer.
        {"messages": HELLO, "stop": 5},
        {"messages": HELLO, "stop": ["ok", 7]},
        {"messages": [{"role": "user", "content": [{"type": "text", "text": 5}]}]},
        # A stop list checked after every token must stay short.
        {"messages": HELLO, "stop": ["x"] * (MAX_STOP + 1)},
        {"messages": HELLO, "stop": "y" * (MAX_STOP_CHARS + 1)},
    ],
)
def test_a_bad_chat_body_is_an_invalid_request(body: dict[str, object]) -> None:
    with pytest.raises(InvalidRequestError):
        chat_request(body)


def test_a_completion_body_defaults_to_sixteen_tokens_and_numbered_logprobs() -> None:
    request, top = completion_request({"prompt": ["Once"], "logprobs": 2, "temperature": 0.5})
    assert request.prompt == "Once" and request.messages is None
    assert top == 2 and request.candidates == 2
    assert request.params == SamplingParams(temperature=0.5, max_tokens=16)
    request, top = completion_request({"prompt": "Once", "max_tokens": 40})
    assert top is None and request.params.max_tokens == 40
    with pytest.raises(InvalidRequestError, match="prompt"):
        completion_request({"prompt": ""})


def test_logprobs_come_from_the_candidates() -> None:
    assert logprob(1.0) == 0.0 and logprob(0.0) == LOGPROB_FLOOR
    entry = token_logprobs(token(0, "a", 0.5), 1)
    assert entry["token"] == "a" and entry["logprob"] == pytest.approx(math.log(0.5))
    assert entry["bytes"] == [97]
    assert [t["token"] for t in entry["top_logprobs"]] == ["a"]
    legacy = completion_logprobs([token(0, "ab", 0.5), token(1, "c", 1.0)], 2, offset=3)
    assert legacy["tokens"] == ["ab", "c"] and legacy["text_offset"] == [3, 5]
    assert legacy["top_logprobs"][0] == {"ab": math.log(0.5), "ü": math.log(0.25)}


def test_a_whole_response_and_its_chunks() -> None:
    meta = response_meta("m.gguf", chat=True)
    assert meta["id"].startswith("chatcmpl-") and meta["model"] == "m.gguf"
    body = completion(meta, done(finish_reason="length"), "Hi!", None, chat=True)
    assert body["object"] == "chat.completion"
    assert body["choices"][0]["message"] == {"role": "assistant", "content": "Hi!"}
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["usage"] == {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}
    assert body["system_fingerprint"] == "seed-7"
    text = completion(response_meta("m", chat=False), done(), "Hi", None, chat=False)
    assert text["object"] == "text_completion" and text["choices"][0]["text"] == "Hi"
    assert text["choices"][0]["finish_reason"] == "stop"
    chunk = stream_chunk(meta, {"content": "H"}, chat=True, finish_reason=None)
    assert chunk["object"] == "chat.completion.chunk"
    assert chunk["choices"][0]["delta"] == {"content": "H"}
    legacy = stream_chunk(response_meta("m", chat=False), {"content": "H"}, chat=False)
    assert legacy["object"] == "text_completion" and legacy["choices"][0]["text"] == "H"
    last = usage_chunk(meta, done(), chat=True)
    assert last["choices"] == [] and last["usage"]["total_tokens"] == 7


def test_error_bodies_name_the_kind_and_who_is_at_fault() -> None:
    client = error_body(InvalidRequestError("Bad."))
    assert client == {
        "error": {"message": "Bad.", "type": "invalid_request_error", "code": "invalid_request"}
    }
    server = error_body(api_error("engine_crashed", "Gone."))
    assert server["error"]["type"] == "server_error" and server["error"]["code"] == "engine_crashed"


def test_a_body_must_be_a_json_object_and_deep_nesting_is_refused_in_words() -> None:
    assert parse_body(b'{"model": "m"}') == {"model": "m"}
    for raw, why in [
        (b"[1]", "JSON object"),
        (b"{nope", "not JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ]:
        with pytest.raises(InvalidRequestError, match=why):
            parse_body(raw)


def test_stream_options_are_checked_before_anything_is_queued() -> None:
    assert stream_usage({}) == (False, False)
    assert stream_usage({"stream": True, "stream_options": {"include_usage": True}}) == (
        True,
        True,
    )
    for body in (
        {"stream": "yes"},
        {"stream_options": []},
        {"stream_options": {"include_usage": 1}},
    ):
        with pytest.raises(InvalidRequestError):
            stream_usage(body)


def test_a_draft_object_turns_on_drafting_and_is_checked() -> None:
    body = {"messages": [{"role": "user", "content": "hi"}]}
    request, _ = chat_request(body)
    assert not request.draft.enabled
    request, _ = chat_request({**body, "draft": {"prompt_lookup": True, "max_draft": 4}})
    assert request.draft == DraftSettings(prompt_lookup=True, max_draft=4)
    request, _ = completion_request({"prompt": "x", "draft": {"draft_model": True}})
    assert request.draft == DraftSettings(draft_model=True)
    for bad in (
        {"prompt_lookup": "yes"},
        {"max_draft": 0},
        {"max_draft": 17},
        {"max_draft": True},
        {"guess": True},
        [True],
    ):
        with pytest.raises(InvalidRequestError, match="draft"):
            chat_request({**body, "draft": bad})


def test_drafted_tokens_are_counted_as_prediction_tokens_in_the_usage() -> None:
    assert "completion_tokens_details" not in usage(done())
    counted = usage(done(draft_proposed=10, draft_accepted=7))
    assert counted["completion_tokens_details"] == {
        "accepted_prediction_tokens": 7,
        "rejected_prediction_tokens": 3,
    }
