"""An engine that replays canned text through the real sampler chain, for tests.

It has no model: each position's logits come from a small deterministic table
that favours the next character of the script, so events carry real candidates,
probabilities and removed-by stages, and the same seed gives the same tokens.
Scoring uses the same table, so the continuation that follows the script scores
highest. A grammar in a request is not applied: the script is what comes out.

Drafting is pretended, not done: when a request asks for it (``request.draft``
enabled), the same tokens come out, every fourth one marked "replaced" and the
others "accepted", and the end counts them as proposed and accepted, so the
window's marks and figures can be tested. A ``draft_model_path`` in the load is
taken as loaded, unless ``draft_error`` is set: then it is refused with that text.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator

import numpy as np

from desktop_app.core.engine.loops import LoopWatch
from desktop_app.core.engine.protocol import (
    DoneEvent,
    DraftMark,
    EngineConfig,
    ErrorEvent,
    Event,
    GenerateRequest,
    ModelLoaded,
    ScoreRequest,
    ScoreResult,
    TokenEvent,
)
from desktop_app.core.errors import EngineNotReadyError
from desktop_app.core.models.fingerprint import template_sha256
from desktop_app.core.sampling import Candidate, Sampler

#: The fake vocabulary: one token per printable character.
VOCAB = [chr(c) for c in range(32, 127)]


class FakeEngine:
    """Replays ``script`` one character per token; ``delay_s`` between tokens."""

    def __init__(
        self,
        script: str = "Hello from the fake engine.",
        delay_s: float = 0.0,
        draft_error: str = "",
    ) -> None:
        self.script = script
        self.delay_s = delay_s
        self.draft_error = draft_error
        self._cancel = threading.Event()
        self.loaded: ModelLoaded | None = None
        self.config: EngineConfig | None = None
        self.requests: list[GenerateRequest] = []
        self.score_requests: list[ScoreRequest] = []

    def load(self, config: EngineConfig) -> ModelLoaded:
        """Pretend to load ``config.model_path``; what ``config`` asks for is in effect."""
        self.config = config
        self.loaded = ModelLoaded(
            model_path=config.model_path,
            n_ctx=config.n_ctx,
            n_ctx_train=config.n_ctx,
            n_vocab=len(VOCAB),
            n_threads=1,
            n_threads_batch=1,
            backend="fake",
            has_chat_template=config.chat_template is not None,
            load_s=0.0,
            chat_template=config.chat_template,
            template_sha256=template_sha256(config.chat_template),
            lora_path=config.lora_path,
            lora_scale=config.lora_scale,
            draft_model_path=None if self.draft_error else config.draft_model_path,
            draft_error=self.draft_error if config.draft_model_path else "",
        )
        return self.loaded

    def cancel(self) -> None:
        """Stop the running generation after the current token."""
        self._cancel.set()

    def _logits(self, target: str, index: int) -> np.ndarray:
        rng = np.random.default_rng(index)
        logits = rng.normal(0.0, 1.0, len(VOCAB)).astype(np.float32)
        want = VOCAB.index(target) if target in VOCAB else 0
        logits[want] += 6.0
        return logits

    def count_tokens(self, text: str) -> int:
        """One token per character, as the fake vocabulary has it."""
        return len(text)

    def score(self, request: ScoreRequest) -> ScoreResult:
        """Log-probability of each continuation, one character per token, from the table."""
        if self.loaded is None:
            raise EngineNotReadyError("No model is loaded.")
        self.score_requests.append(request)
        per_token: list[tuple[float, ...]] = []
        for text in request.continuations:
            row = []
            for i, ch in enumerate(text):
                target = self.script[i] if i < len(self.script) else " "
                logits = self._logits(target, i).astype(np.float64)
                lse = float(np.logaddexp.reduce(logits))
                token = VOCAB.index(ch) if ch in VOCAB else 0
                row.append(float(logits[token]) - lse)
            per_token.append(tuple(row))
        return ScoreResult(
            logprobs=tuple(math.fsum(r) for r in per_token),
            token_logprobs=tuple(per_token),
            n_tokens=tuple(len(r) for r in per_token),
            prompt_tokens=len(request.prompt or "")
            + sum(len(m.content) for m in request.messages or ()),
        )

    def generate(self, request: GenerateRequest) -> Iterator[Event]:
        """Stream the script as token events through the real sampler chain."""
        if self.loaded is None:
            err = EngineNotReadyError("No model is loaded.")
            yield ErrorEvent(err.kind, str(err))
            return
        self.requests.append(request)
        self._cancel.clear()
        sampler = Sampler(request.params, request.candidates)
        start = time.perf_counter()
        first = 0.0
        history: list[int] = []
        text = []
        finish = "eos"
        drafting = request.draft.enabled
        proposed = accepted = 0
        loops = LoopWatch(0 if request.ignore_eos else request.params.loop_stop)
        for i, ch in enumerate(self.script):
            if i >= request.params.max_tokens:
                finish = "length"
                break
            if self._cancel.is_set():
                finish = "cancelled"
                break
            step = sampler.step(self._logits(ch, i), history)
            history.append(step.token)
            cands = tuple(
                Candidate(c[0], VOCAB[c[0]], c[1], c[2], c[3], c[4]) for c in step.candidates
            )
            if i == 0:
                first = time.perf_counter() - start
            text.append(VOCAB[step.token])
            mark: DraftMark = ""
            if drafting:
                mark = "replaced" if i % 4 == 3 else "accepted"
                proposed += 1
                accepted += mark == "accepted"
            yield TokenEvent(i, step.token, VOCAB[step.token], step.p, cands, mark)
            if loops.feed(VOCAB[step.token]):
                finish = "loop"
                break
            if self.delay_s:
                time.sleep(self.delay_s)
        elapsed = max(time.perf_counter() - start, 1e-9)
        yield DoneEvent(
            finish_reason=finish,  # type: ignore[arg-type]
            prompt_tokens=0,
            completion_tokens=len(text),
            ttft_s=first,
            tokens_per_s=len(text) / elapsed,
            seed=sampler.seed,
            text="".join(text),
            draft_proposed=proposed,
            draft_accepted=accepted,
        )
