"""A reply's card: what produced an assistant reply, and the request to replay it.

The card is stored as the reply's ``meta``: model file and hashes, every sampling
value, the seed the engine reported, timings, and the exact request.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from desktop_app.core.engine.protocol import (
    MAX_DRAFT_LIMIT,
    ContrastSettings,
    DoneEvent,
    DraftSettings,
    GenerateRequest,
    Message,
)
from desktop_app.core.errors import InvalidRequestError
from desktop_app.core.sampling import SamplingParams


def reply_card(
    request: GenerateRequest,
    *,
    model_path: str = "",
    model_sha256: str = "",
    template_sha256: str = "",
    done: DoneEvent | None = None,
    draft_model_path: str | None = None,
) -> dict[str, Any]:
    """The meta of an assistant reply: what produced it, and the request to replay it.

    The seed is the one the engine reports in ``done`` (a random seed is only known
    afterwards), so replaying the card gives the same tokens. A request that asked
    for drafting records it under ``draft``: the setting as words, its values and
    the draft model's file name (when one was loaded and asked for).
    """
    card: dict[str, Any] = {
        "model_path": model_path,
        "model_sha256": model_sha256,
        "template_sha256": template_sha256,
        "sampling": request.params.to_record(),
        "seed": request.params.seed,
        "request": {
            "messages": [_message_record(m) for m in request.messages or ()],
            "prompt": request.prompt,
            "assistant_prefix": request.assistant_prefix,
            "candidates": request.candidates,
        },
    }
    if request.thinking is not None:
        card["request"]["thinking"] = request.thinking
    draft = request.draft
    if draft.enabled:
        card["draft"] = {
            "setting": draft.describe(),
            "prompt_lookup": draft.prompt_lookup,
            "draft_model": draft.draft_model,
            "max_draft": draft.max_draft,
            "draft_model_file": Path(draft_model_path).name
            if draft.draft_model and draft_model_path
            else "",
        }
    contrast = request.contrast
    if contrast is not None:
        # Context-aware decoding: its weight and the prompt without the documents,
        # so a replay draws from the same contrast (drafting is off for it).
        card["cad"] = {
            "setting": contrast.describe(),
            "alpha": contrast.alpha,
            "messages": [{"role": m.role, "content": m.content} for m in contrast.messages or ()],
            "prompt": contrast.prompt,
        }
    if done is not None:
        card.update(done_card(done))
    return card


def _message_record(m: Message) -> dict[str, Any]:
    """A message as a card keeps it; an earlier reply's reasoning only when it had one."""
    out: dict[str, Any] = {"role": m.role, "content": m.content}
    if m.reasoning:
        out["reasoning"] = m.reasoning
    return out


def done_card(done: DoneEvent) -> dict[str, Any]:
    """The part of a reply's card known when it ends (for ``ReplyRecorder.finish``)."""
    return {
        "seed": done.seed,
        "finish_reason": done.finish_reason,
        "prompt_tokens": done.prompt_tokens,
        "completion_tokens": done.completion_tokens,
        "tokens_per_s": done.tokens_per_s,
        "ttft_s": done.ttft_s,
        **(
            {"draft_proposed": done.draft_proposed, "draft_accepted": done.draft_accepted}
            if done.draft_proposed
            else {}
        ),
    }


def replay_request(card: Mapping[str, Any]) -> GenerateRequest:
    """The exact request a stored reply came from, seed included.

    Raises InvalidRequestError when the card lacks the request (a damaged or hand-made
    record), so the UI can say replay is not possible for this reply.
    """
    req = card.get("request")
    if not isinstance(req, Mapping):
        raise InvalidRequestError("This reply has no stored request, so it cannot be replayed.")
    sampling = dict(card.get("sampling") or {})
    if card.get("seed") is not None:
        sampling["seed"] = card["seed"]
    params = SamplingParams.from_record(sampling)
    try:
        raw_messages = req.get("messages") or []
        messages = tuple(
            Message(m["role"], m["content"], reasoning=str(m.get("reasoning") or ""))
            for m in raw_messages
        )
        prompt = req.get("prompt")
        thinking = req.get("thinking")
        return GenerateRequest(
            params=params,
            prompt=prompt if isinstance(prompt, str) else None,
            messages=messages if prompt is None else None,
            candidates=int(req.get("candidates", 20)),
            assistant_prefix=str(req.get("assistant_prefix", "")),
            draft=_draft_settings(card.get("draft")),
            contrast=_contrast_settings(card.get("cad")),
            thinking=thinking if isinstance(thinking, bool) else None,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidRequestError(f"This reply's stored request is damaged ({exc}).") from exc


def _contrast_settings(record: Any) -> ContrastSettings | None:
    """The context-aware decoding a card records (None for a card without it)."""
    if not isinstance(record, Mapping):
        return None
    alpha = record.get("alpha")
    if isinstance(alpha, bool) or not isinstance(alpha, int | float):
        raise ValueError("the CAD weight is not a number")
    prompt = record.get("prompt")
    if isinstance(prompt, str):
        return ContrastSettings(alpha=float(alpha), prompt=prompt)
    raw = record.get("messages") or []
    messages = tuple(Message(m["role"], m["content"]) for m in raw)
    return ContrastSettings(alpha=float(alpha), messages=messages)


def _draft_settings(record: Any) -> DraftSettings:
    """The drafting a card records (none for a card without it or a damaged one)."""
    if not isinstance(record, Mapping):
        return DraftSettings()
    max_draft = record.get("max_draft", 8)
    if not isinstance(max_draft, int) or not 1 <= max_draft <= MAX_DRAFT_LIMIT:
        return DraftSettings()
    return DraftSettings(
        prompt_lookup=record.get("prompt_lookup") is True,
        draft_model=record.get("draft_model") is True,
        max_draft=max_draft,
    )
