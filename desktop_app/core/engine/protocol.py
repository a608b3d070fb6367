"""What flows between the app and an engine: requests, token events, done and error.

These are small frozen dataclasses that pickle cheaply across the pipe to the
engine host process and are stored with a message. A ``TokenEvent`` is what the
token view draws: the drawn token, its probability, and the top candidates with
their raw logit, probability before sampling, probability after the sampler
chain, and the stage that removed each one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol

# Kept importable from here: the code that cancels a request imports it with the protocol.
from desktop_app.core.errors import CancelledError as CancelledError
from desktop_app.core.sampling import Candidate, SamplingParams

#: Kinds of load errors raised before the engine lets the loaded model go (a
#: refused model or adapter file, a bad template override): the old model works on.
REFUSED_BEFORE_LOAD = frozenset({"model_file", "invalid_request"})

Role = Literal["system", "user", "assistant", "tool"]
FinishReason = Literal["stop", "eos", "length", "context_full", "cancelled", "loop"]
#: How a token relates to drafting: "" nothing was proposed for its position,
#: "accepted" a draft proposed it and the target drew the same token, "replaced"
#: a draft proposed another token and the target drew this one instead.
DraftMark = Literal["", "accepted", "replaced"]

#: Longest run of tokens a drafter may propose at once.
MAX_DRAFT_LIMIT = 16


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A tool call the model wrote: the tool's name and its arguments as JSON object text."""

    name: str
    arguments: str
    id: str = ""


@dataclass(frozen=True, slots=True)
class Message:
    """One chat message.

    An assistant message may carry ``tool_calls``; a ``tool`` message is the result
    of the call whose id is ``tool_call_id`` (of the tool ``name``). ``reasoning`` is
    an assistant turn's native reasoning (its ``<think>`` block), apart from
    ``content``: the chat template is given it as ``reasoning_content`` and decides
    whether it goes back into the prompt (most leave earlier turns' out).
    """

    role: Role
    content: str
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str = ""
    name: str = ""
    reasoning: str = ""


#: How strongly a LoRA adapter may be applied: 0 is the base model, 1 the
#: adapter as trained; beyond 4 replies are noise, whatever the adapter.
LORA_SCALE_MIN = 0.0
LORA_SCALE_MAX = 4.0


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """How to load a model. ``n_threads`` None picks what is fast on this machine.

    ``chat_template`` replaces the file's own template (None keeps it).
    ``lora_path`` names a LoRA adapter GGUF applied at ``lora_scale`` on top of
    the model (None: no adapter). ``safe_mode`` loads without llama.cpp's extra
    buffer types (weight repacking, AMX) and with the safest CPU kernels: the
    engine client retries with it once when a load crashed the engine process.
    """

    model_path: str
    n_ctx: int = 4096
    n_threads: int | None = None
    n_threads_batch: int | None = None
    n_gpu_layers: int = 0
    n_batch: int = 512
    chat_template: str | None = None
    lora_path: str | None = None
    lora_scale: float = 1.0
    safe_mode: bool = False
    draft_model_path: str | None = None


@dataclass(frozen=True, slots=True)
class DraftSettings:
    """Speculative decoding for one request: who proposes tokens, and how many at most.

    ``prompt_lookup`` proposes the tokens that followed the latest earlier
    occurrence of the reply's last few tokens (in the prompt or the reply);
    ``draft_model`` proposes the loaded draft model's greedy continuation. The
    target model checks every proposal with its own sampler, so the reply is
    drawn from the target's distribution either way. ``max_draft`` caps how many
    tokens are proposed at once; the engine adapts the number below it to the
    acceptance rate and to what a proposal costs, unless ``fixed``: then every
    run of proposals is ``max_draft`` long, whether it pays or not (tests, and
    measuring what drafting would give).
    """

    prompt_lookup: bool = False
    draft_model: bool = False
    max_draft: int = 8
    fixed: bool = False

    @property
    def enabled(self) -> bool:
        """Whether any drafter is asked for."""
        return (self.prompt_lookup or self.draft_model) and self.max_draft > 0

    def describe(self) -> str:
        """A short description for the reproducibility card and the status bar."""
        if not self.enabled:
            return "off"
        who = [
            n
            for n, on in (("draft model", self.draft_model), ("prompt lookup", self.prompt_lookup))
            if on
        ]
        return f"{' + '.join(who)}, up to {self.max_draft} tokens"


#: The largest CAD weight accepted: beyond it replies are the difference's noise.
CONTRAST_ALPHA_MAX = 4.0


@dataclass(frozen=True, slots=True)
class ContrastSettings:
    """Context-aware decoding (CAD, Shi et al. 2023) for a grounded request.

    The same prompt without the documents (``messages``, or a raw ``prompt``,
    matching the request's form) is evaluated beside the request's on a second
    sequence of the same context, one batch per token. Tokens are drawn from
    ``(1 + alpha) · logits(with) − alpha · logits(without)``; ``alpha`` 0 only
    measures: each token event then carries its probability with and without the
    documents, and the reply is the plain one. Drafting is off for such a reply.
    """

    alpha: float = 0.0
    messages: tuple[Message, ...] | None = None
    prompt: str | None = None

    def describe(self) -> str:
        """A short description for the reproducibility card and the status bar."""
        if self.alpha == 0:
            return "measured only (α = 0)"
        return f"α = {self.alpha:g}"


@dataclass(frozen=True, slots=True)
class GenerateRequest:
    """A generation: either a raw ``prompt`` (completion) or chat ``messages``.

    ``candidates`` is K, the number of top alternatives reported per token (0–50).
    ``assistant_prefix`` is text the reply is forced to start with (continue or
    branch from a token); it is part of the prompt, not of the streamed reply.
    ``ignore_eos`` keeps generating past end-of-sequence (benchmarks).
    ``reuse_prefix`` False evaluates the whole prompt again (benchmarks, tests).
    ``grammar`` is GBNF text (root rule ``root``) that constrains the reply: tokens
    it rejects are removed before the sampler chain sees the logits, so the
    reported candidates and probabilities are those of the constrained distribution.
    ``draft`` turns on speculative decoding (see :class:`DraftSettings`).
    ``contrast`` evaluates the prompt without the documents beside it (CAD, see
    :class:`ContrastSettings`); drafting is then off for the reply.
    ``tools`` are the tools the chat template is given (OpenAI's ``{"type":
    "function", "function": {...}}`` objects); empty for a chat without tools.
    ``thinking`` turns a reasoning model's thinking on or off where its chat
    template has a switch (None: the template's default).
    ``tool_choice`` ("auto", "none", "required" or a tool's name) is sent with
    ``tools`` to a server that calls tools itself (the remote engine); a local
    engine leaves choosing to the tool loop.
    """

    params: SamplingParams = field(default_factory=SamplingParams)
    prompt: str | None = None
    messages: tuple[Message, ...] | None = None
    candidates: int = 20
    assistant_prefix: str = ""
    ignore_eos: bool = False
    reuse_prefix: bool = True
    grammar: str | None = None
    draft: DraftSettings = field(default_factory=DraftSettings)
    contrast: ContrastSettings | None = None
    tools: tuple[dict[str, Any], ...] = ()
    thinking: bool | None = None
    tool_choice: str = "auto"


@dataclass(frozen=True, slots=True)
class ScoreRequest:
    """Score fixed continuations of one prompt from the model's logits (no sampling).

    The prompt is a raw ``prompt`` or chat ``messages`` (plus ``assistant_prefix``),
    built exactly as for a generation, and evaluated once; each continuation is
    tokenized on its own (as the model would write it after the prompt) and scored
    token by token. Classifying many texts with the same instructions keeps the
    shared beginning of the prompt in the KV cache unless ``reuse_prefix`` is False.
    """

    continuations: tuple[str, ...]
    prompt: str | None = None
    messages: tuple[Message, ...] | None = None
    assistant_prefix: str = ""
    reuse_prefix: bool = True


@dataclass(frozen=True, slots=True)
class ScoreResult:
    """Log-probabilities of each continuation of a ``ScoreRequest``, in request order.

    ``logprobs[i]`` is the sum of ``token_logprobs[i]``: the natural log of the
    probability that the model writes continuation ``i`` right after the prompt
    (raw logits, full vocabulary, no sampler stage).
    """

    logprobs: tuple[float, ...]
    token_logprobs: tuple[tuple[float, ...], ...]
    n_tokens: tuple[int, ...]
    prompt_tokens: int
    prompt_tokens_reused: int = 0
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class ModelLoaded:
    """The engine has a model ready, and what is in effect for it.

    ``chat_template`` is the template replies are formatted with (the file's or
    the override; None for the plain fallback) and ``template_sha256`` its
    fingerprint, stored with a conversation so a reader can tell which format
    produced it. ``lora_path`` and ``lora_scale`` describe the adapter applied.
    ``kernels`` says which CPU kernels llama.cpp chose ("CPU kernels: icelake
    (AVX2, AVX512, …)"). ``safe_mode`` is True when the model was loaded again in
    safe mode after a crash, and ``safe_reason`` says how the first try ended.
    """

    model_path: str
    n_ctx: int
    n_ctx_train: int
    n_vocab: int
    n_threads: int
    n_threads_batch: int
    backend: str
    has_chat_template: bool
    load_s: float
    chat_template: str | None = None
    template_sha256: str = ""
    lora_path: str | None = None
    lora_scale: float = 1.0
    kernels: str = ""
    safe_mode: bool = False
    safe_reason: str = ""
    #: The draft model loaded beside it for speculative decoding (None: none), or
    #: why the one asked for was refused (the model itself is loaded either way).
    draft_model_path: str | None = None
    draft_error: str = ""


@dataclass(frozen=True, slots=True)
class PromptProgress:
    """Prompt evaluation progress (tokens done of total), for long prompts."""

    done: int
    total: int


@dataclass(frozen=True, slots=True)
class TokenEvent:
    """One generated token with the distribution it was drawn from.

    ``draft`` says whether speculative decoding proposed it (:data:`DraftMark`).
    ``p_with`` and ``p_without`` are the token's probability (softmax of the raw
    logits) with and without the documents, for a request with ``contrast``
    (None otherwise).
    """

    index: int
    id: int
    text: str
    p: float
    candidates: tuple[Candidate, ...]
    draft: DraftMark = ""
    p_with: float | None = None
    p_without: float | None = None

    def to_json(self) -> dict[str, Any]:
        """The JSON Lines form printed by ``glassbox generate --json``."""
        out: dict[str, Any] = {
            "type": "token",
            "index": self.index,
            "id": self.id,
            "text": self.text,
            "p": self.p,
            "candidates": [asdict(c) for c in self.candidates],
        }
        if self.draft:
            out["draft"] = self.draft
        if self.p_without is not None:
            out["p_with"] = self.p_with
            out["p_without"] = self.p_without
        return out


@dataclass(frozen=True, slots=True)
class DoneEvent:
    """The end of a generation. ``prompt_tokens_reused`` came from the KV cache."""

    finish_reason: FinishReason
    prompt_tokens: int
    completion_tokens: int
    ttft_s: float
    tokens_per_s: float
    seed: int
    prompt_tokens_reused: int = 0
    dropped_messages: int = 0
    text: str = ""
    #: Tokens the drafters proposed, and how many of them the target accepted.
    draft_proposed: int = 0
    draft_accepted: int = 0
    #: The CAD weight in effect (None: no contrast), and whether drafting asked for
    #: was left off because of it.
    contrast_alpha: float | None = None
    draft_skipped: bool = False
    #: Calls a server that calls tools itself sent (the remote engine; a local
    #: engine's calls are written in the text), and what the user should know
    #: about the reply (a server that did not take the tools).
    tool_calls: tuple[ToolCall, ...] = ()
    note: str = ""

    @property
    def acceptance(self) -> float | None:
        """Share of proposed tokens the target accepted (None when none were proposed)."""
        return self.draft_accepted / self.draft_proposed if self.draft_proposed else None

    def to_json(self) -> dict[str, Any]:
        """The JSON Lines form printed by ``glassbox generate --json``."""
        out = {"type": "done"}
        out.update(asdict(self))
        out.pop("text")
        if self.contrast_alpha is None:
            out.pop("contrast_alpha")
        if not self.draft_skipped:
            out.pop("draft_skipped")
        if not self.tool_calls:
            out.pop("tool_calls")
        if not self.note:
            out.pop("note")
        return out


@dataclass(frozen=True, slots=True)
class ErrorEvent:
    """A generation or load failed; ``kind`` matches the core error's ``kind``."""

    kind: str
    message: str

    def to_json(self) -> dict[str, Any]:
        """The JSON Lines form printed by the command line."""
        return {"type": "error", "kind": self.kind, "message": self.message}


Event = TokenEvent | PromptProgress | DoneEvent | ErrorEvent


class Engine(Protocol):
    """What every backend offers: load a model, stream a generation, cancel it."""

    def load(self, config: EngineConfig) -> ModelLoaded:
        """Load a model; raises a ``GlassboxError`` with a clear message on failure."""
        ...

    def generate(self, request: GenerateRequest) -> Iterator[Event]:
        """Stream events; the last one is a ``DoneEvent`` or an ``ErrorEvent``."""
        ...

    def cancel(self) -> None:
        """Ask the running generation to stop (safe from any thread)."""
        ...


class Scorer(Protocol):
    """A backend that can score continuations from logits (local engines).

    Separate from ``Engine`` because a remote OpenAI-compatible server cannot
    score an arbitrary continuation.
    """

    def score(self, request: ScoreRequest) -> ScoreResult:
        """Log-probabilities of each continuation; raises a ``GlassboxError`` on failure."""
        ...

    def count_tokens(self, text: str) -> int:
        """How many tokens ``text`` is for the loaded model (no special tokens added)."""
        ...
