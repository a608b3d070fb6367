"""The OpenAI wire format: request bodies in, responses, chunks and errors out.

Pure functions and no I/O: the HTTP server in ``workers/api`` reads the bodies
and writes what these return, and tests check the format without a socket.

Logprobs come from Glassbox's own candidates: ``top_logprobs`` are log(p_raw),
the model's distribution before sampling; the chosen token's ``logprob`` is the
log of the probability it was drawn with.
"""

from __future__ import annotations

import json
import json.scanner
import math
import time
import uuid
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from desktop_app.core.chat.thinking import stored_parts
from desktop_app.core.engine.protocol import (
    MAX_DRAFT_LIMIT,
    DoneEvent,
    DraftSettings,
    GenerateRequest,
    Message,
    Role,
    TokenEvent,
    ToolCall,
)
from desktop_app.core.errors import GlassboxError, InvalidRequestError
from desktop_app.core.sampling import DEFAULT_ORDER, SamplingParams
from desktop_app.core.tools.spec import ToolSpec

#: OpenAI allows at most 20 alternatives per token.
MAX_TOP_LOGPROBS = 20
#: Stop strings a request may give, and the longest one: each is checked after every
#: token, so hundreds of thousands of them would cost seconds per token.
MAX_STOP = 16
MAX_STOP_CHARS = 1000
#: The most JSON values (commas and brackets) a request body may hold, and the most
#: that Python's C parser reads in one go (see ``parse_body``).
MAX_BODY_VALUES = 200_000
C_PARSER_VALUES = 10_000
#: A probability of 0 has no logarithm; JSON has no -inf. This stands for "never".
LOGPROB_FLOOR = -9999.0

#: HTTP status for each error kind; anything else is the server's fault (500).
STATUS = {
    "invalid_request": 400,
    "context_overflow": 400,
    "unauthorized": 401,
    "forbidden": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "kb_no_collection": 404,
    "kb_locked": 409,
    "not_ready": 503,
    "no_model": 503,
    "remote": 502,
    "cancelled": 499,
}

_ROLES: dict[str, Role] = {
    "system": "system",
    "user": "user",
    "assistant": "assistant",
    "tool": "tool",
}
#: The most tools one request may offer (each description goes into the prompt).
MAX_TOOLS = 64

#: A "cancelled" reply is not here: it is answered as an error, never as a short reply.
FINISH = {"stop": "stop", "eos": "stop", "length": "length", "loop": "stop"}

#: The ``object`` of a streamed chunk, by chat (True) or text completion.
_CHUNK_OBJECT = {True: "chat.completion.chunk", False: "text_completion"}

#: Sampling values a request body may set under their own names.
_SAMPLING_KEYS = (
    "temperature",
    "top_p",
    "top_k",
    "min_p",
    "repeat_penalty",
    "seed",
    # llama.cpp's server names for the newer samplers
    "typical_p",
    "top_n_sigma",
    "xtc_probability",
    "xtc_threshold",
    "dynatemp_range",
    "dynatemp_exponent",
    "dry_multiplier",
    "dry_base",
    "dry_allowed_length",
    "mirostat",
    "mirostat_tau",
    "mirostat_eta",
    # Glassbox's own
    "loop_stop",
)
#: llama.cpp's names whose Glassbox field is spelt differently.
_RENAMED = {
    "repeat_last_n": "repeat_last_n",
    "dry_penalty_last_n": "dry_last_n",
    "dry_sequence_breakers": "dry_breakers",
}
#: llama.cpp's ``samplers`` names for the stages of the chain.
_LLAMA_STAGES = {
    "penalties": "penalty",
    "dry": "dry",
    "top_n_sigma": "top_n_sigma",
    "top_k": "top_k",
    "typ_p": "typical_p",
    "typical_p": "typical_p",
    "top_p": "top_p",
    "min_p": "min_p",
    "xtc": "xtc",
    "temperature": "temperature",
}


def _sampler_order(raw: Any) -> list[str]:
    """llama.cpp's ``samplers`` list as a full Glassbox order.

    Stages it leaves out run after the named ones, in Glassbox's order; a stage
    that is off changes nothing wherever it stands.
    """
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        raise InvalidRequestError("'samplers' must be a list of stage names.")
    unknown = [x for x in raw if x not in _LLAMA_STAGES]
    if unknown:
        raise InvalidRequestError(
            f"'samplers' names unknown stage(s) {', '.join(map(repr, unknown))}; "
            f"known: {', '.join(_LLAMA_STAGES)}."
        )
    named = list(dict.fromkeys(_LLAMA_STAGES[x] for x in raw))
    return named + [s for s in DEFAULT_ORDER if s not in named]


def _sampling_record(body: dict[str, Any]) -> dict[str, Any]:
    """The sampling values a body sets, under Glassbox's names."""
    record = {name: body[name] for name in _SAMPLING_KEYS if body.get(name) is not None}
    for theirs, ours in _RENAMED.items():
        if body.get(theirs) is not None:
            record[ours] = body[theirs]
    sigma = record.get("top_n_sigma")
    if isinstance(sigma, int | float) and not isinstance(sigma, bool) and sigma < 0:
        record["top_n_sigma"] = 0.0  # llama.cpp's -1: off
    if body.get("samplers") is not None:
        record["order"] = _sampler_order(body["samplers"])
    elif body.get("sampler_order") is not None:
        record["order"] = body["sampler_order"]
    return record


def logprob(p: float) -> float:
    """The natural log of a probability, floored so that JSON can carry it."""
    return math.log(p) if p > 0 else LOGPROB_FLOOR


def _content(value: Any) -> str:
    """A message's content: a string, or OpenAI's list of text parts."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        parts = [p.get("text") for p in value if isinstance(p, dict) and p.get("type") == "text"]
        texts = [part for part in parts if isinstance(part, str)]
        if len(texts) == len(value):
            return "".join(texts)
    raise InvalidRequestError("Message content must be text (a string or text parts).")


def _messages(body: dict[str, Any]) -> tuple[Message, ...]:
    raw = body.get("messages")
    if not isinstance(raw, list) or not raw:
        raise InvalidRequestError("'messages' must be a non-empty list.")
    out: list[Message] = []
    for m in raw:
        if not isinstance(m, dict):
            raise InvalidRequestError("Each message must be an object with role and content.")
        role = "system" if m.get("role") == "developer" else m.get("role")
        if role not in _ROLES:
            raise InvalidRequestError(f"Role {m.get('role')!r} is not supported.")
        calls = _tool_calls(m.get("tool_calls")) if role == "assistant" else ()
        content = m.get("content")
        text = "" if content is None and (calls or role == "tool") else _content(content)
        if role == "tool":
            call_id = m.get("tool_call_id")
            if not isinstance(call_id, str) or not call_id:
                raise InvalidRequestError("A tool message needs the tool_call_id it answers.")
            name = next((c.name for x in out for c in x.tool_calls if c.id == call_id), "")
            out.append(Message("tool", text, tool_call_id=call_id, name=name))
            continue
        reasoning = ""
        if role == "assistant":
            # An earlier reply's reasoning, apart (llama.cpp's reasoning_content) or
            # as its <think> block: the chat template decides whether it is kept.
            given = m.get("reasoning_content")
            if isinstance(given, str) and given:
                reasoning = given
            else:
                reasoning, text = stored_parts(text)
        out.append(Message(_ROLES[role], text, tool_calls=calls, reasoning=reasoning))
    return tuple(out)


def _tool_calls(raw: Any) -> tuple[ToolCall, ...]:
    """An assistant message's ``tool_calls`` as OpenAI writes them (arguments as JSON text)."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise InvalidRequestError("'tool_calls' must be a list.")
    out = []
    for call in raw:
        fn = call.get("function") if isinstance(call, dict) else None
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
            raise InvalidRequestError("Each tool call needs a function with a name.")
        arguments = fn.get("arguments", "{}")
        if not isinstance(arguments, str):
            arguments = json.dumps(arguments, ensure_ascii=False)
        try:
            json.loads(arguments)
        except ValueError as exc:
            raise InvalidRequestError(f"The arguments of {fn['name']!r} are not JSON.") from exc
        out.append(ToolCall(fn["name"], arguments, str(call.get("id", ""))))
    return tuple(out)


def chat_tools(body: dict[str, Any]) -> tuple[tuple[ToolSpec, ...], str]:
    """The tools a chat body offers (OpenAI's ``tools``) and its ``tool_choice``
    ("auto", "none", "required" or a tool's name); no tools: ``((), "none")``."""
    raw = body.get("tools")
    if raw is None or raw == []:
        return (), "none"
    if not isinstance(raw, list) or len(raw) > MAX_TOOLS:
        raise InvalidRequestError(f"'tools' must be a list of at most {MAX_TOOLS} tools.")
    specs = []
    for tool in raw:
        fn = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(tool, dict) or tool.get("type") != "function" or not isinstance(fn, dict):
            raise InvalidRequestError('Each tool must be {"type": "function", "function": {…}}.')
        parameters = fn.get("parameters") or {"type": "object", "properties": {}}
        if not isinstance(parameters, dict):
            raise InvalidRequestError(
                f"The parameters of tool {fn.get('name')!r} must be an object."
            )
        specs.append(
            ToolSpec(
                name=str(fn.get("name", "")),
                description=str(fn.get("description", "")),
                parameters=parameters,
                source="client",
            )
        )
    choice = body.get("tool_choice", "auto")
    if isinstance(choice, dict):
        fn = choice.get("function")
        name = fn.get("name") if isinstance(fn, dict) else None
        if not isinstance(name, str) or name not in {s.name for s in specs}:
            raise InvalidRequestError("'tool_choice' names a function that is not in 'tools'.")
        return tuple(specs), name
    if choice not in ("auto", "none", "required"):
        raise InvalidRequestError(
            '\'tool_choice\' must be "auto", "none", "required" or '
            '{"type": "function", "function": {"name": …}}.'
        )
    return tuple(specs), str(choice)


def tool_call_completion(
    meta: dict[str, Any], text: str, calls: Sequence[ToolCall], done: DoneEvent | None
) -> dict[str, Any]:
    """A whole chat completion whose message may carry ``tool_calls`` (finish_reason
    "tool_calls" when it does)."""
    message: dict[str, Any] = {"role": "assistant", "content": text or None}
    if calls:
        message["tool_calls"] = [
            {
                "id": c.id,
                "type": "function",
                "function": {"name": c.name, "arguments": c.arguments},
            }
            for c in calls
        ]
    finish = "tool_calls" if calls else FINISH.get(done.finish_reason, "length") if done else "stop"
    out: dict[str, Any] = {
        **meta,
        "object": "chat.completion",
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
    }
    if done is not None:
        out["usage"] = usage(done)
        out["system_fingerprint"] = f"seed-{done.seed}"
    return out


def _python_decoder() -> json.JSONDecoder:
    """A JSON decoder whose scanner is Python code: slower, but it lets other threads run."""
    decoder = json.JSONDecoder()
    decoder.scan_once = json.scanner.py_make_scanner(decoder)  # type: ignore[attr-defined]
    return decoder


def parse_body(raw: bytes) -> dict[str, Any]:
    """A request body: a JSON object, or an ``InvalidRequestError`` that says why not
    (deep nesting included, which Python's parser refuses with a RecursionError).

    Python's C parser holds the interpreter lock while it runs: 1 MiB of ``[],[],…``
    takes a quarter of a second, during which the window (whose API this may be)
    freezes. So a body with many values (counted from its commas and brackets,
    strings included: an upper bound) is parsed by the Python scanner, which lets
    the window's thread run, and one with more than ``MAX_BODY_VALUES`` is refused.
    """
    values = raw.count(b",") + raw.count(b"[") + raw.count(b"{")
    if values > MAX_BODY_VALUES:
        raise InvalidRequestError(
            f"The request body is too complex: it has more than {MAX_BODY_VALUES:,} JSON "
            "values (counted from its commas and brackets). Send fewer or shorter messages."
        )
    try:
        if values > C_PARSER_VALUES:
            body = _python_decoder().decode(raw.decode("utf-8"))
        else:
            body = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        why = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise InvalidRequestError(f"The request body is not JSON ({why}).") from exc
    if not isinstance(body, dict):
        raise InvalidRequestError("The request body must be a JSON object.")
    return body


def stream_usage(body: dict[str, Any]) -> tuple[bool, bool]:
    """Whether the reply streams, and whether its last chunk carries the usage."""
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise InvalidRequestError("'stream' must be true or false.")
    options = body.get("stream_options")
    if options is None:
        return bool(stream), False
    if not isinstance(options, dict):
        raise InvalidRequestError("'stream_options' must be an object.")
    usage = options.get("include_usage")
    if usage is not None and not isinstance(usage, bool):
        raise InvalidRequestError("'stream_options.include_usage' must be true or false.")
    return bool(stream), bool(usage)


def _stop(value: Any) -> tuple[str, ...]:
    """The stop strings of a body: none, one string, or a short list of strings."""
    if value is None:
        return ()
    stops = [value] if isinstance(value, str) else value
    if not isinstance(stops, list) or not all(isinstance(s, str) for s in stops):
        raise InvalidRequestError("'stop' must be a string or a list of strings.")
    if len(stops) > MAX_STOP or any(len(s) > MAX_STOP_CHARS for s in stops):
        raise InvalidRequestError(
            f"'stop' may hold at most {MAX_STOP} strings of at most {MAX_STOP_CHARS} characters."
        )
    return tuple(stops)


def draft_settings(body: dict[str, Any]) -> DraftSettings | None:
    """The body's speculative-decoding settings, a Glassbox extension (None: not given).

    ``"draft": {"prompt_lookup": true, "draft_model": false, "max_draft": 8}``;
    every key is optional. The reply is the target model's either way: drafting
    changes only how fast it comes.
    """
    raw = body.get("draft")
    if raw is None:
        return None
    if not isinstance(raw, dict) or set(raw) - {"prompt_lookup", "draft_model", "max_draft"}:
        raise InvalidRequestError(
            "'draft' must be an object with prompt_lookup, draft_model (true or false) and "
            "max_draft (a whole number)."
        )
    flags = {k: raw.get(k, False) for k in ("prompt_lookup", "draft_model")}
    if not all(isinstance(v, bool) for v in flags.values()):
        raise InvalidRequestError("'draft.prompt_lookup' and 'draft.draft_model' must be booleans.")
    n = raw.get("max_draft", 8)
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_DRAFT_LIMIT:
        raise InvalidRequestError(f"'draft.max_draft' must be between 1 and {MAX_DRAFT_LIMIT}.")
    return DraftSettings(
        prompt_lookup=flags["prompt_lookup"], draft_model=flags["draft_model"], max_draft=n
    )


def chat_request(body: dict[str, Any]) -> tuple[GenerateRequest, int | None]:
    """The generation a chat completion body asks for, and its top_logprobs (None: off)."""
    # A value given as null is the default, as OpenAI's own server takes it.
    record = _sampling_record(body)
    max_tokens = body.get("max_completion_tokens") or body.get("max_tokens")
    if max_tokens:
        record["max_tokens"] = max_tokens
    record["stop"] = _stop(body.get("stop"))
    params = SamplingParams.from_record(record)
    top: int | None = None
    if body.get("logprobs"):
        top = body.get("top_logprobs")
        top = 0 if top is None else top
        if isinstance(top, bool) or not isinstance(top, int) or not 0 <= top <= MAX_TOP_LOGPROBS:
            raise InvalidRequestError(f"top_logprobs must be between 0 and {MAX_TOP_LOGPROBS}.")
    request = GenerateRequest(
        params=params,
        messages=_messages(body),
        candidates=top or 0,
        thinking=thinking_switch(body),
    )
    draft = draft_settings(body)
    if draft is not None:
        request = replace(request, draft=draft)
    return request, top


def thinking_switch(body: dict[str, Any]) -> bool | None:
    """The thinking switch a chat body sets, as llama.cpp's server takes it:
    ``chat_template_kwargs.enable_thinking`` (None: the template's default)."""
    kwargs = body.get("chat_template_kwargs")
    if kwargs is None:
        return None
    if not isinstance(kwargs, dict):
        raise InvalidRequestError("'chat_template_kwargs' must be an object.")
    value = kwargs.get("enable_thinking")
    if value is None:
        return None
    if not isinstance(value, bool):
        raise InvalidRequestError("'chat_template_kwargs.enable_thinking' must be true or false.")
    return value


def splits_reasoning(body: dict[str, Any]) -> bool:
    """Whether the reply's reasoning goes in ``reasoning_content`` (llama.cpp's default);
    ``"reasoning_format": "none"`` leaves it in the content, tags and all."""
    fmt = body.get("reasoning_format")
    if fmt is not None and not isinstance(fmt, str):
        raise InvalidRequestError("'reasoning_format' must be a string such as 'none'.")
    return fmt != "none"


def completion_request(body: dict[str, Any]) -> tuple[GenerateRequest, int | None]:
    """The generation a (legacy) completion body asks for, and its logprobs (None: off)."""
    prompt = body.get("prompt")
    if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], str):
        prompt = prompt[0]
    if not isinstance(prompt, str) or not prompt:
        raise InvalidRequestError("'prompt' must be a non-empty string.")
    chat, _ = chat_request({**body, "messages": [{"role": "user", "content": "-"}], "logprobs": 0})
    top: int | None = None
    n = body.get("logprobs")
    if n is not None and n is not False:
        if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= MAX_TOP_LOGPROBS:
            raise InvalidRequestError(f"logprobs must be between 0 and {MAX_TOP_LOGPROBS}.")
        top = n
    max_tokens = body.get("max_tokens")
    params = chat.params
    if max_tokens is None:
        # OpenAI's default for a completion.
        params = replace(params, max_tokens=16)
    return GenerateRequest(params=params, prompt=prompt, candidates=top or 0, draft=chat.draft), top


def completion_logprobs(events: list[TokenEvent], top: int, offset: int) -> dict[str, Any]:
    """A completion choice's ``logprobs`` for ``events``; their text starts at ``offset``."""
    offsets = []
    for e in events:
        offsets.append(offset)
        offset += len(e.text)
    return {
        "tokens": [e.text for e in events],
        "token_logprobs": [logprob(e.p) for e in events],
        "top_logprobs": [{c.text: logprob(c.p_raw) for c in e.candidates[:top]} for e in events],
        "text_offset": offsets,
    }


def token_logprobs(event: TokenEvent, top: int) -> dict[str, Any]:
    """One entry of ``logprobs.content`` for a generated token."""
    return {
        "token": event.text,
        "logprob": logprob(event.p),
        "bytes": list(event.text.encode("utf-8")),
        "top_logprobs": [
            {"token": c.text, "logprob": logprob(c.p_raw), "bytes": list(c.text.encode("utf-8"))}
            for c in event.candidates[:top]
        ],
    }


def response_meta(model: str, *, chat: bool) -> dict[str, Any]:
    """The id, creation time and model that a reply's response (or each chunk) carries."""
    return {
        "id": f"{'chatcmpl' if chat else 'cmpl'}-{uuid.uuid4().hex}",
        "created": int(time.time()),
        "model": model,
    }


def completion(
    meta: dict[str, Any],
    done: DoneEvent,
    text: str,
    logprobs: dict[str, Any] | None,
    *,
    chat: bool,
    reasoning: str = "",
) -> dict[str, Any]:
    """A whole (not streamed) chat or text completion, once its reply is ``done``;
    a chat reply's ``reasoning`` goes in its message's ``reasoning_content``."""
    finish = FINISH.get(done.finish_reason, "length")
    choice: dict[str, Any]
    if chat:
        message = {"role": "assistant", "content": text}
        if reasoning:
            message["reasoning_content"] = reasoning
        choice = {
            "index": 0,
            "message": message,
            "logprobs": logprobs,
            "finish_reason": finish,
        }
    else:
        choice = {"index": 0, "text": text, "logprobs": logprobs, "finish_reason": finish}
    return {
        **meta,
        "object": "chat.completion" if chat else "text_completion",
        "choices": [choice],
        "usage": usage(done),
        "system_fingerprint": f"seed-{done.seed}",
    }


def stream_chunk(
    meta: dict[str, Any], delta: dict[str, Any], *, chat: bool, **extra: Any
) -> dict[str, Any]:
    """One streamed chunk; ``delta`` holds the role or new ``content``, ``extra`` goes on
    the choice (``logprobs``, ``finish_reason``)."""
    choice: dict[str, Any]
    if chat:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}
    else:
        text = delta.get("content", "")
        choice = {"index": 0, "text": text, "logprobs": None, "finish_reason": None}
    choice.update(extra)
    return {**meta, "object": _CHUNK_OBJECT[chat], "choices": [choice]}


def usage_chunk(meta: dict[str, Any], done: DoneEvent, *, chat: bool) -> dict[str, Any]:
    """The last streamed chunk when the client asked for usage: no choices, the token counts."""
    return {**meta, "object": _CHUNK_OBJECT[chat], "choices": [], "usage": usage(done)}


def usage(done: DoneEvent) -> dict[str, Any]:
    """The token counts of a finished reply, as OpenAI reports them.

    Drafted tokens are counted as OpenAI counts predicted outputs: accepted and
    rejected prediction tokens, in ``completion_tokens_details``.
    """
    out: dict[str, Any] = {
        "prompt_tokens": done.prompt_tokens,
        "completion_tokens": done.completion_tokens,
        "total_tokens": done.prompt_tokens + done.completion_tokens,
    }
    if done.draft_proposed:
        out["completion_tokens_details"] = {
            "accepted_prediction_tokens": done.draft_accepted,
            "rejected_prediction_tokens": done.draft_proposed - done.draft_accepted,
        }
    return out


def api_error(kind: str, message: str) -> GlassboxError:
    """An error of ``kind`` (one of :data:`STATUS`'s keys) for the client."""
    error = GlassboxError(message)
    error.kind = kind
    return error


def error_body(error: GlassboxError) -> dict[str, Any]:
    """The JSON body OpenAI clients expect for an error, with Glassbox's kind as the code."""
    status = STATUS.get(error.kind, 500)
    kind = "invalid_request_error" if status < 500 else "server_error"
    return {"error": {"message": str(error), "type": kind, "code": error.kind}}
