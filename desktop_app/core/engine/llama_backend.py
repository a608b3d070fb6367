"""The llama.cpp backend: owns one ``Llama`` object and runs the decode loop.

It runs inside the engine host process. Per token it reads the last position's
logits as a numpy view (never ``logits_all``), runs the Glassbox sampler chain
on them, and reports the distribution the token was drawn from. The KV cache
keeps the previous prompt and reply, so a follow-up turn evaluates only the new
tokens. Text is detokenized incrementally (one piece per token), so long
replies do not slow down.

This is the one place in ``core`` that starts a thread (the describer): it lives
only inside the engine process, for the length of the decode loop, and shares
nothing with the app. Keeping it here keeps the per-token path in one file.
"""

from __future__ import annotations

import codecs
import contextlib
import ctypes
import math
import os
import queue
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from desktop_app.core.chat.context import fit_messages
from desktop_app.core.engine.contrast import check_contrast, combine, token_probability
from desktop_app.core.engine.draft_model import DraftModel, check_same_vocabulary
from desktop_app.core.engine.loops import LoopWatch
from desktop_app.core.engine.prefix_cache import MIN_TOKENS, PrefixCache
from desktop_app.core.engine.protocol import (
    LORA_SCALE_MAX,
    LORA_SCALE_MIN,
    MAX_DRAFT_LIMIT,
    CancelledError,
    ContrastSettings,
    DoneEvent,
    DraftMark,
    EngineConfig,
    ErrorEvent,
    Event,
    FinishReason,
    GenerateRequest,
    Message,
    ModelLoaded,
    PromptProgress,
    ScoreRequest,
    ScoreResult,
    TokenEvent,
)
from desktop_app.core.engine.speculative import DraftLength, PromptLookup
from desktop_app.core.engine.threads import default_threads
from desktop_app.core.errors import (
    ContextOverflowError,
    EngineNotReadyError,
    GlassboxError,
    InvalidRequestError,
    ModelFileError,
    ModelLoadError,
)
from desktop_app.core.memory import release_free_memory
from desktop_app.core.models.templates import ChatPrompt, render_chat
from desktop_app.core.sampling import Candidate, Draw, Sampler, SamplingParams

#: The sequence that holds the prompt without the documents (context-aware decoding).
_WITHOUT_SEQ = 1

#: llama_decode return codes (llama.h).
_DECODE_NO_SLOT = 1
_DECODE_ABORTED = 2

#: Prompts longer than this report evaluation progress.
_PROGRESS_MIN_TOKENS = 256

#: llama.cpp's recent log lines: kept out of the terminal, quoted when a load fails.
_LOG: deque[str] = deque(maxlen=40)
_log_callback: Any = None

#: One row of llama.cpp's ``llama_token_data``, for handing logits to its grammar sampler.
_TOKEN_DATA = np.dtype([("id", np.int32), ("logit", np.float32), ("p", np.float32)])


def _capture_llama_log(llama_cpp: Any) -> None:
    """Route llama.cpp's log into ``_LOG`` instead of the user's terminal."""
    global _log_callback
    if _log_callback is not None:
        return

    def on_log(level: int, text: bytes, _user: Any) -> None:
        line = text.decode("utf-8", "replace").strip()
        if line and level in (2, 3):  # warnings and errors
            _LOG.append(line)

    _log_callback = llama_cpp.llama_log_callback(on_log)
    llama_cpp.llama_log_set(_log_callback, ctypes.c_void_p(0))


class _Aborted(Exception):
    """llama_decode was aborted by the cancel flag."""


class _Pending:
    """The result of one job given to the describer thread."""

    __slots__ = ("_done", "_error", "_value")

    def __init__(self) -> None:
        self._done = threading.Event()
        self._value: Any = None
        self._error: BaseException | None = None

    def result(self) -> Any:
        self._done.wait()
        if self._error is not None:
            raise self._error
        return self._value


class _Describer:
    """A single worker thread with a bare queue: a ``ThreadPoolExecutor.submit``
    costs about 60 µs, which would sit between two decode calls."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[Callable[..., Any], tuple[Any, ...], _Pending] | None]
        self._jobs = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="describe", daemon=True)
        self._thread.start()

    def submit(self, fn: Callable[..., Any], *args: Any) -> _Pending:
        pending = _Pending()
        self._jobs.put((fn, args, pending))
        return pending

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            fn, args, pending = job
            try:
                pending._value = fn(*args)
            except BaseException as exc:  # noqa: BLE001 - handed to the caller by result()
                pending._error = exc
            pending._done.set()

    def close(self) -> None:
        self._jobs.put(None)
        self._thread.join(timeout=5)


class LlamaCppEngine:
    """A llama.cpp model with prefix reuse, cancellable prompt evaluation and token events.

    ``cancel_flag`` is a zero-argument callable that returns True when the
    current request should stop; the host process passes a view of a byte in
    shared memory so the app can cancel without a round trip.
    """

    def __init__(self, cancel_flag: Callable[[], bool] | None = None) -> None:
        self._cancel_requested = False
        self._cancel_flag = cancel_flag or (lambda: self._cancel_requested)
        self._llm: Any = None
        self._config: EngineConfig | None = None
        self._tokens: list[int] = []  # what the KV cache holds, position by position
        self._pieces: dict[int, bytes] = {}
        self._labels: dict[int, str] = {}
        self._abort_cb: Any = None
        self._template: str | None = None
        self._template_source = "model"  # or "override": who is blamed when it is refused
        # (prompt length, logits after the prompt) of the last request: re-evaluating
        # the last prompt token alone gives slightly different numbers than the
        # batch that evaluated it first, which would break seeded determinism.
        self._snapshot: tuple[int, np.ndarray[Any, np.dtype[np.float32]]] | None = None
        self._pool: _Describer | None = None
        self._view: np.ndarray[Any, np.dtype[np.float32]] | None = None
        self._view_address: int | None = None
        self._token_data: np.ndarray[Any, Any] | None = None
        self._utf8: _Utf8Table | None = None
        self._utf8_state: tuple[int, int, int] = (0, 0x80, 0xBF)
        self._draft: DraftModel | None = None
        self._prefixes = PrefixCache()
        self.loaded: ModelLoaded | None = None

    # -- loading -----------------------------------------------------------------

    def load(self, config: EngineConfig) -> ModelLoaded:
        """Load the model in ``config`` after checking it; replaces any loaded model.

        The model's header, the LoRA adapter's header and the chat template
        override are all checked before the loaded model is let go, so a refused
        file (``ModelFileError``) or template (``InvalidRequestError``) leaves the
        old model working. A file that passes those checks but that llama.cpp
        still refuses (a tensor it does not expect, say) is found only after the
        old model is gone: the old model is then loaded again and the refusal is a
        ``ModelFileError`` that says so, so the old model still answers.
        """
        previous = self._config if self._llm is not None else None
        try:
            return self._load(config)
        except ModelLoadError as exc:
            if previous is None or self._llm is not None:
                raise
            try:
                self._load(previous)
            except GlassboxError:
                raise exc from None
            raise ModelFileError(
                f"{exc} The previous model, {previous.model_path}, was loaded again and "
                "still answers."
            ) from exc

    def _load(self, config: EngineConfig) -> ModelLoaded:
        from desktop_app.core.models.fingerprint import template_sha256
        from desktop_app.core.models.gguf_info import inspect_gguf, inspect_lora

        info = inspect_gguf(config.model_path)  # refuses bad files before llama.cpp sees them
        if config.lora_path is not None:
            if not LORA_SCALE_MIN <= config.lora_scale <= LORA_SCALE_MAX:
                raise InvalidRequestError(
                    f"The LoRA scale must be between {LORA_SCALE_MIN:g} and "
                    f"{LORA_SCALE_MAX:g}, not {config.lora_scale:g}."
                )
            # Also checks that the adapter fits this model, which llama.cpp would
            # find out only after the old model is gone.
            inspect_lora(config.lora_path, config.model_path)
        if config.chat_template is not None:
            check_template(config.chat_template)
        self.unload()
        import llama_cpp

        from desktop_app.core.engine.native import load_backends

        _capture_llama_log(llama_cpp)
        _LOG.clear()
        try:
            backends = load_backends(safe=config.safe_mode)
        except RuntimeError as exc:
            raise ModelLoadError(f"llama.cpp cannot run on this computer: {exc}") from exc

        gen, batch = default_threads()
        n_threads = config.n_threads or gen
        n_threads_batch = config.n_threads_batch or batch
        # Extra buffer types repack weights for faster kernels; the AMX one crashes
        # (llama.cpp issue 20824), so they stay off wherever AMX kernels are loaded.
        extra_buffers = not (config.safe_mode or backends.has_amx)
        start = time.perf_counter()
        try:
            with (
                model_params_override(llama_cpp, use_extra_bufts=extra_buffers, sequences=2),
                chat_templates_left_alone(),
            ):
                llm = llama_cpp.Llama(
                    model_path=config.model_path,
                    n_ctx=config.n_ctx,
                    n_batch=config.n_batch,
                    n_threads=n_threads,
                    n_threads_batch=n_threads_batch,
                    n_gpu_layers=config.n_gpu_layers,
                    lora_path=config.lora_path,
                    lora_scale=config.lora_scale,
                    logits_all=False,
                    verbose=False,
                )
        except (ValueError, RuntimeError, OSError) as exc:
            detail = " ".join(list(_LOG)[-3:])
            files = config.model_path + (
                f" with the LoRA adapter {config.lora_path}" if config.lora_path else ""
            )
            raise ModelLoadError(
                f"llama.cpp could not load {files}: {exc}. The file may be "
                "damaged or made for a newer llama.cpp."
                + (f" llama.cpp said: {detail}" if detail else "")
            ) from exc
        try:
            _self_check(llama_cpp, llm, config.safe_mode)
        except ModelLoadError:
            llm.close()
            raise
        self._llm = llm
        self._config = config
        self._tokens = []
        self._pieces = {}
        self._labels = {}
        self._snapshot = None
        self._template = config.chat_template or info.chat_template
        self._template_source = "override" if config.chat_template else "model"
        self._abort_cb = llama_cpp.ggml_abort_callback(lambda _data: bool(self._cancel_flag()))
        self.loaded = ModelLoaded(
            model_path=config.model_path,
            n_ctx=llm.n_ctx(),
            n_ctx_train=llm._model.n_ctx_train(),
            n_vocab=llm.n_vocab(),
            n_threads=n_threads,
            n_threads_batch=n_threads_batch,
            backend=_backend_name(llama_cpp, config.n_gpu_layers),
            has_chat_template=bool(self._template),
            load_s=time.perf_counter() - start,
            chat_template=self._template,
            template_sha256=template_sha256(self._template),
            lora_path=config.lora_path,
            lora_scale=config.lora_scale,
            kernels=backends.describe() + ("" if extra_buffers else ", no extra buffer types"),
            safe_mode=config.safe_mode,
        )
        if config.draft_model_path:
            self.loaded = replace(self.loaded, **self._load_draft(config, extra_buffers))
        return self.loaded

    def _load_draft(self, config: EngineConfig, extra_buffers: bool) -> dict[str, Any]:
        """Load the draft model beside the target; a refusal leaves the target working.

        Returns the ``ModelLoaded`` fields that describe the outcome.
        """
        import llama_cpp

        from desktop_app.core.models.gguf_info import inspect_gguf

        path = config.draft_model_path
        assert path is not None
        try:
            info = inspect_gguf(path)
            if info.vocab_size is not None and info.vocab_size != self._llm.n_vocab():
                raise ModelFileError(
                    f"{path} cannot draft for this model: its vocabulary has "
                    f"{info.vocab_size:,} tokens and the loaded model's has "
                    f"{self._llm.n_vocab():,}. Choose a draft model with the same tokenizer."
                )
            try:
                with (
                    model_params_override(llama_cpp, use_extra_bufts=extra_buffers),
                    chat_templates_left_alone(),
                ):
                    llm = llama_cpp.Llama(
                        model_path=path,
                        n_ctx=self._llm.n_ctx(),
                        n_batch=config.n_batch,
                        # It drafts while the target waits: all the cores are its own.
                        n_threads=self.loaded.n_threads_batch if self.loaded else None,
                        n_threads_batch=self.loaded.n_threads_batch if self.loaded else None,
                        n_gpu_layers=config.n_gpu_layers,
                        logits_all=False,
                        verbose=False,
                    )
            except (ValueError, RuntimeError, OSError) as exc:
                raise ModelFileError(
                    f"llama.cpp could not load the draft model {path}: {exc}."
                ) from exc
            try:
                check_same_vocabulary(self._llm, llm, path)
            except ModelFileError:
                llm.close()
                raise
        except GlassboxError as exc:
            return {"draft_model_path": None, "draft_error": str(exc)}
        self._draft = DraftModel(llm, path, self._cancel_flag)
        return {"draft_model_path": path, "draft_error": ""}

    def unload(self) -> None:
        """Free the model and its context."""
        if self._pool is not None:
            self._pool.close()
            self._pool = None
        self._view = None
        self._view_address = None
        self._token_data = None
        self._utf8 = None
        if self._draft is not None:
            self._draft.close()
            self._draft = None
        if self._llm is not None:
            self._llm.close()
        self._llm = None
        self.loaded = None
        self._tokens = []
        self._snapshot = None
        self._prefixes.clear()
        # What llama.cpp freed goes back to the system, not into the allocator's
        # free lists: the process would otherwise grow by steps over many loads.
        release_free_memory()

    def cancel(self) -> None:
        """Stop the running generation (used when the engine runs in-process)."""
        self._cancel_requested = True

    # -- tokens ------------------------------------------------------------------

    def tokenize(self, text: str, *, add_bos: bool, special: bool) -> list[int]:
        """Tokenize ``text`` with the loaded model's vocabulary."""
        llm = self._require()
        data = text.encode("utf-8")
        import llama_cpp

        vocab = llm._model.vocab
        n_max = len(data) + 8
        buf = (llama_cpp.llama_token * n_max)()
        n = llama_cpp.llama_tokenize(vocab, data, len(data), buf, n_max, add_bos, special)
        if n < 0:
            raise InvalidRequestError("The text could not be tokenized.")
        return list(buf[:n])

    def count_tokens(self, text: str) -> int:
        """How many tokens ``text`` is, without BOS: for budgeting prompts in pieces."""
        return len(self.tokenize(text, add_bos=False, special=False)) if text else 0

    def piece(self, token: int, special: bool = False) -> bytes:
        """The bytes of one token (cached; special tokens shown by name when ``special``)."""
        key = token if not special else -token - 1
        cached = self._pieces.get(key)
        if cached is not None:
            return cached
        import llama_cpp

        vocab = self._require()._model.vocab
        size = 64
        while True:
            buf = ctypes.create_string_buffer(size)
            n = llama_cpp.llama_token_to_piece(vocab, token, buf, size, 0, special)
            if n >= 0:
                out = buf.raw[:n]
                break
            size = -n + 1
        self._pieces[key] = out
        return out

    def _token_text(self, token: int) -> str:
        """A token's text as a string (for DRY's sequence breakers)."""
        return self.piece(token).decode("utf-8", "replace")

    def label(self, token: int) -> str:
        """A token as shown among the candidates: special tokens by name (cached)."""
        text = self._labels.get(token)
        if text is None:
            text = self._labels[token] = self.piece(token, special=True).decode("utf-8", "replace")
        return text

    def _require(self) -> Any:
        if self._llm is None:
            raise EngineNotReadyError("No model is loaded. Open a model first.")
        return self._llm

    # -- prompt ------------------------------------------------------------------

    def _chat_prompt(
        self,
        messages: Sequence[Message],
        prefix: str,
        tools: Sequence[dict[str, Any]] = (),
        thinking: bool | None = None,
    ) -> ChatPrompt:
        llm = self._require()
        bos = self.label(llm.token_bos())
        eos = self.label(llm.token_eos())
        return render_chat(
            messages,
            self._template,
            bos,
            eos,
            prefix,
            source=self._template_source,
            tools=tools,
            thinking=thinking,
        )

    def _chat_tokens(self, prompt: ChatPrompt) -> list[int]:
        llm = self._require()
        tokens = self.tokenize(prompt.text, add_bos=True, special=True)
        bos = llm.token_bos()
        # Templates that write the BOS text themselves would otherwise get two.
        if len(tokens) >= 2 and tokens[0] == bos and tokens[1] == bos:
            tokens = tokens[1:]
        return tokens

    def build_prompt(self, request: GenerateRequest) -> tuple[list[int], tuple[str, ...], int]:
        """Prompt tokens, extra stop strings and how many messages were dropped to fit."""
        llm = self._require()
        n_ctx = llm.n_ctx()
        if request.messages is not None:
            reserve = min(request.params.max_tokens, n_ctx // 4)
            budget = n_ctx - reserve

            rendered: dict[tuple[Message, ...], tuple[list[int], ChatPrompt]] = {}

            def render(msgs: Sequence[Message]) -> tuple[list[int], ChatPrompt]:
                # fit_messages measures the conversation it keeps: remember it, so
                # the prompt is not rendered and tokenized a second time.
                key = tuple(msgs)
                if key not in rendered:
                    chat = self._chat_prompt(
                        msgs, request.assistant_prefix, request.tools, request.thinking
                    )
                    rendered[key] = (self._chat_tokens(chat), chat)
                return rendered[key]

            kept, dropped = fit_messages(request.messages, lambda m: len(render(m)[0]), budget)
            tokens, chat = render(kept)
            return tokens, chat.stop, dropped
        if request.prompt is None:
            raise InvalidRequestError("A request needs a prompt or messages.")
        tokens = self.tokenize(
            request.prompt + request.assistant_prefix, add_bos=True, special=False
        )
        if len(tokens) >= n_ctx:
            raise ContextOverflowError(
                f"The prompt is {len(tokens)} tokens long and the model's context holds "
                f"{n_ctx}. Shorten the prompt or load the model with a larger context."
            )
        if not tokens:
            raise InvalidRequestError("The prompt is empty.")
        return tokens, (), 0

    # -- decoding ----------------------------------------------------------------

    def _decode_prompt(self, tokens: Sequence[int]) -> int:
        """Evaluate a batch of prompt tokens; the cancel flag can abort it midway.

        The abort callback is Python, called between graph nodes: it is set only
        for prompt batches, never for single generated tokens, where the flag is
        checked between tokens instead.
        """
        import llama_cpp

        llm = self._llm
        ctx = llm._ctx.ctx
        n_past = len(self._tokens)
        llm._batch.set_batch(batch=tokens, n_past=n_past, logits_all=False)
        llama_cpp.llama_set_abort_callback(ctx, self._abort_cb, None)
        try:
            rc = int(llama_cpp.llama_decode(ctx, llm._batch.batch))
        finally:
            llama_cpp.llama_set_abort_callback(ctx, llama_cpp.ggml_abort_callback(), None)
        if rc == 0:
            self._tokens.extend(tokens)
        elif rc == _DECODE_ABORTED:
            # Part of the batch may sit in the cache: forget everything from n_past on.
            llm._ctx.kv_cache_seq_rm(0, n_past, -1)
            raise _Aborted
        else:
            llm._ctx.kv_cache_seq_rm(0, n_past, -1)
        return rc

    def _decode_prepared(self, token: int) -> int:
        """Decode the one-token batch already set up in ``llm._batch``."""
        import llama_cpp

        llm = self._llm
        rc = int(llama_cpp.llama_decode(llm._ctx.ctx, llm._batch.batch))
        if rc == 0:
            self._tokens.append(token)
        else:
            llm._ctx.kv_cache_seq_rm(0, len(self._tokens), -1)
        return rc

    def _describe_pool(self) -> _Describer:
        """One thread that describes each token while the next decode runs."""
        if self._pool is None:
            self._pool = _Describer()
        return self._pool

    def _logits(self) -> np.ndarray[Any, np.dtype[np.float32]]:
        """The last position's logits as a numpy view of llama.cpp's buffer (no copy)."""
        import llama_cpp

        ptr = llama_cpp.llama_get_logits_ith(self._llm._ctx.ctx, -1)
        address = ctypes.cast(ptr, ctypes.c_void_p).value
        if self._view is None or address != self._view_address:
            # The buffer moves only when llama.cpp reallocates its outputs.
            self._view = np.ctypeslib.as_array(ptr, shape=(self._llm.n_vocab(),))
            self._view_address = address
        return self._view

    def _reuse_prefix(self, prompt: list[int], allowed: bool = True) -> int:
        """Keep the cached tokens shared with ``prompt``; return how many were kept."""
        snap = self._snapshot
        if (
            allowed
            and snap is not None
            and snap[0] == len(prompt)
            and self._tokens[: len(prompt)] == prompt
        ):
            # The same prompt again (regenerate, replay): its cache and logits are
            # exactly those of the last run, so the same seed gives the same reply.
            if len(self._tokens) > len(prompt):
                self._llm._ctx.kv_cache_seq_rm(0, len(prompt), -1)
                del self._tokens[len(prompt) :]
            return len(prompt)
        self._snapshot = None
        common = 0
        # The last prompt token is always evaluated again: its logits start the reply.
        limit = min(len(self._tokens), len(prompt) - 1) if allowed else 0
        cached = self._tokens
        while common < limit and cached[common] == prompt[common]:
            common += 1
        if allowed and len(cached) - common >= MIN_TOKENS:
            # Another conversation: keep this one's state for when it comes back.
            self._save_sequence()
        if allowed:
            saved = self._prefixes.best(prompt, len(prompt) - 1)
            if saved is not None and saved[2] >= common + MIN_TOKENS // 2:
                # A refused state leaves the cache empty: everything is evaluated again.
                common = saved[2] if self._restore_sequence(saved[0], saved[1]) else 0
        if common < len(self._tokens):
            self._llm._ctx.kv_cache_seq_rm(0, common, -1)
            del self._tokens[common:]
        return common

    def _save_sequence(self) -> None:
        """Copy the cached sequence's state into the prefix cache."""
        import llama_cpp

        ctx = self._llm._ctx.ctx
        size = int(llama_cpp.llama_state_seq_get_size(ctx, 0))
        if size <= 0 or size > self._prefixes.budget:
            return
        buf = (ctypes.c_uint8 * size)()
        written = int(llama_cpp.llama_state_seq_get_data(ctx, buf, size, 0))
        if written > 0:
            self._prefixes.put(self._tokens, ctypes.string_at(buf, written))

    def _restore_sequence(self, tokens: tuple[int, ...], state: bytes) -> bool:
        """Replace the cached sequence with a saved one; False (cache empty) if refused."""
        import llama_cpp

        self._llm._ctx.kv_cache_seq_rm(0, 0, -1)
        self._tokens = []
        buf = (ctypes.c_uint8 * len(state)).from_buffer_copy(state)
        if int(llama_cpp.llama_state_seq_set_data(self._llm._ctx.ctx, buf, len(state), 0)) == 0:
            self._llm._ctx.kv_cache_seq_rm(0, 0, -1)
            return False
        self._tokens = list(tokens)
        return True

    def generate(self, request: GenerateRequest) -> Iterator[Event]:
        """Stream token events for ``request``; the last event is done or error."""
        self._cancel_requested = False
        try:
            yield from self._generate(request)
        except GlassboxError as exc:
            yield ErrorEvent(exc.kind, str(exc))

    def _generate(self, request: GenerateRequest) -> Iterator[Event]:
        llm = self._require()
        import llama_cpp

        start = time.perf_counter()
        # One sampler per reply: mirostat's target follows the reply token by token,
        # and DRY reads the tokens' text for its sequence breakers.
        sampler = Sampler(request.params, request.candidates, token_text=self._token_text)
        prompt, template_stops, dropped = self.build_prompt(request)
        stops = tuple(dict.fromkeys(request.params.stop + template_stops))
        reused = self._reuse_prefix(prompt, request.reuse_prefix)

        # Prompt evaluation in batches, abortable mid-batch through the cancel flag.
        todo = prompt[reused:]
        n_batch = llm.n_batch
        report = len(todo) >= _PROGRESS_MIN_TOKENS
        try:
            for i in range(0, len(todo), n_batch):
                if self._cancel_flag():
                    raise _Aborted
                rc = self._decode_prompt(todo[i : i + n_batch])
                if rc != 0:
                    yield ErrorEvent(
                        "decode", f"llama.cpp could not evaluate the prompt (code {rc})."
                    )
                    return
                if report:
                    yield PromptProgress(min(i + n_batch, len(todo)), len(todo))
        except _Aborted:
            yield self._done("cancelled", prompt, 0, 0.0, start, sampler.seed, reused, dropped)
            return
        if todo:
            self._snapshot = (len(prompt), self._logits().copy())
        assert self._snapshot is not None
        first_logits: np.ndarray[Any, np.dtype[np.float32]] | None = self._snapshot[1]

        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        # The penalty reads its window, DRY the whole context (prompt and reply) by default.
        history: list[int] = list(prompt[-request.params.history_needed() :])
        out = _Output(stops, 0 if request.ignore_eos else request.params.loop_stop)
        show_k = request.candidates
        grammar = self._grammar_sampler(request.grammar) if request.grammar else None

        def describe(
            draw: Draw, raw: np.ndarray[Any, np.dtype[np.float32]], i: int, mark: DraftMark = ""
        ) -> TokenEvent:
            step = sampler.describe(draw, raw)
            # Tokens a grammar rejected have no probability at all: they are not candidates.
            cands = tuple(
                Candidate(cid, self.label(cid), lg, pr, pf, rb)
                for cid, lg, pr, pf, rb in step.candidates[: show_k + 1]
                if grammar is None or math.isfinite(lg)
            )
            text = decoder.decode(self.piece(draw.token))
            return TokenEvent(i, draw.token, text, step.p, cands, mark)

        reply = _Reply(sampler, history, grammar, describe, out, start, request.ignore_eos)
        try:
            if request.contrast is not None:
                loop = self._contrast(request, request.contrast, prompt, first_logits, reply)
            elif request.draft.enabled:
                loop = self._speculate(request, prompt, first_logits, reply)
            else:
                loop = self._plain(request, first_logits, reply)
            for event in loop:
                if isinstance(event, ErrorEvent):
                    yield event  # the last event: no done after an error
                    return
                yield event
        finally:
            if request.contrast is not None:
                self._llm._ctx.kv_cache_seq_rm(_WITHOUT_SEQ, 0, -1)
            if grammar is not None:
                llama_cpp.llama_sampler_free(grammar)
        yield from out.flush()  # held back for a stop string that never completed
        if out.looped:
            reply.finish = "loop"
        # Bytes of a character cut off by max_tokens are dropped: the reply is exactly
        # the concatenation of its token events.
        done = self._done(
            reply.finish,
            prompt,
            reply.n_out,
            reply.ttft,
            start,
            sampler.seed,
            reused,
            dropped,
            out.text(),
            reply.proposed,
            reply.accepted,
        )
        if request.contrast is not None:
            done = replace(
                done, contrast_alpha=request.contrast.alpha, draft_skipped=request.draft.enabled
            )
        yield done

    def _plain(
        self,
        request: GenerateRequest,
        first_logits: np.ndarray[Any, np.dtype[np.float32]] | None,
        reply: _Reply,
    ) -> Iterator[Event]:
        """The decode loop one token at a time."""
        import llama_cpp

        llm = self._llm
        vocab = llm._model.vocab
        n_ctx = llm.n_ctx()
        max_tokens = request.params.max_tokens
        sampler, history, grammar, out = reply.sampler, reply.history, reply.grammar, reply.out
        describer = self._describe_pool()
        described: _Pending | None = None
        try:
            while reply.n_out < max_tokens:
                if self._cancel_flag():
                    reply.finish = "cancelled"
                    break
                logits = first_logits if first_logits is not None else self._logits()
                first_logits = None
                masked = False
                if grammar is not None:
                    logits = self._apply_grammar(grammar, logits)  # a fresh array
                    masked = True
                draw = sampler.draw(logits, history)
                token = draw.token
                reply.n_out += 1
                if reply.n_out == 1:
                    reply.ttft = time.perf_counter() - reply.start
                if not reply.ignore_eos and llama_cpp.llama_vocab_is_eog(vocab, token):
                    reply.finish = "eos"
                    break
                if grammar is not None:
                    llama_cpp.llama_sampler_accept(grammar, token)
                    assert self._utf8 is not None
                    self._utf8_state = self._utf8.after(self._utf8_state, token)
                history.append(token)
                # Only the draw sits between two decode calls: the token is described
                # (probabilities, candidates, text) on another thread while llama.cpp,
                # which releases the GIL, decodes it here.
                more = reply.n_out < max_tokens and len(self._tokens) < n_ctx
                raw = logits
                if more:
                    if not masked:  # a masked copy is already the describer's own
                        raw = logits.copy()  # decoding overwrites llama.cpp's buffer
                    # Everything the decode needs is set up before the describer wakes:
                    # from here to llama_decode this thread need not wait for the GIL.
                    llm._batch.set_batch(batch=[token], n_past=len(self._tokens), logits_all=False)
                described = describer.submit(reply.describe, draw, raw, reply.index)
                reply.index += 1
                rc = self._decode_prepared(token) if more else 0
                event = described.result()
                described = None
                ready, stopped = out.push(event)
                yield from ready
                if stopped:
                    reply.finish = "stop"
                    break
                if not more:
                    if len(self._tokens) >= n_ctx:
                        reply.finish = "context_full"
                    break
                if rc == _DECODE_NO_SLOT:
                    reply.finish = "context_full"
                    break
                if rc != 0:
                    yield ErrorEvent("decode", f"llama.cpp stopped decoding (code {rc}).")
                    return
        finally:
            if described is not None:
                described.result()  # the describer uses this reply's decoder: let it finish

    def _contrast(
        self,
        request: GenerateRequest,
        settings: ContrastSettings,
        prompt: list[int],
        first_logits: np.ndarray[Any, np.dtype[np.float32]] | None,
        reply: _Reply,
    ) -> Iterator[Event]:
        """The decode loop of context-aware decoding: two sequences, one batch per token.

        Sequence 0 holds the prompt with the documents (the cache the engine
        keeps); sequence 1 the prompt without them, sharing the cells of their
        common beginning. Each drawn token is appended to both in one batch with a
        logits row for each, and the next token is drawn from
        ``(1 + alpha) · with − alpha · without``. Sequence 1 is removed afterwards
        by the caller.
        """
        import llama_cpp

        check_contrast(request)
        llm = self._llm
        vocab = llm._model.vocab
        n_ctx = llm.n_ctx()
        alpha = settings.alpha
        without_request = GenerateRequest(
            params=request.params,
            prompt=settings.prompt,
            messages=settings.messages,
            assistant_prefix=request.assistant_prefix,
        )
        without, _, _ = self.build_prompt(without_request)
        llm._ctx.kv_cache_seq_rm(_WITHOUT_SEQ, 0, -1)
        common = 0
        limit = min(len(self._tokens), len(without) - 1)
        while common < limit and self._tokens[common] == without[common]:
            common += 1
        if len(self._tokens) + len(without) - common >= n_ctx:
            raise ContextOverflowError(
                f"The prompt with the documents ({len(self._tokens)} tokens) and without "
                f"them ({len(without) - common} more) do not fit together in the model's "
                f"context of {n_ctx} tokens. Turn context-aware decoding off, use fewer "
                "passages, or load the model with a larger context."
            )
        if common:
            llm._ctx.kv_cache_seq_cp(0, _WITHOUT_SEQ, 0, common)
        todo = without[common:]
        last_row = 0
        try:
            for i in range(0, len(todo), llm.n_batch):
                chunk = todo[i : i + llm.n_batch]
                last = i + len(chunk) == len(todo)
                entries = [
                    (t, common + i + j, _WITHOUT_SEQ, last and j == len(chunk) - 1)
                    for j, t in enumerate(chunk)
                ]
                rc = self._decode_entries(entries, abortable=True)
                last_row = len(chunk) - 1
                if rc != 0:
                    yield ErrorEvent(
                        "decode",
                        "llama.cpp could not evaluate the prompt without the documents "
                        f"(code {rc}).",
                    )
                    return
        except _Aborted:
            reply.finish = "cancelled"
            return
        without_logits = self._row(last_row)
        n_without = len(without)
        assert first_logits is not None
        with_logits = first_logits
        max_tokens = request.params.max_tokens
        describer = self._describe_pool()
        grammar = reply.grammar

        def measured(
            draw: Draw,
            raw: np.ndarray[Any, np.dtype[np.float32]],
            with_row: np.ndarray[Any, np.dtype[np.float32]],
            without_row: np.ndarray[Any, np.dtype[np.float32]],
            i: int,
        ) -> TokenEvent:
            event = reply.describe(draw, raw, i)
            return replace(
                event,
                p_with=token_probability(with_row, draw.token),
                p_without=token_probability(without_row, draw.token),
            )

        described: _Pending | None = None
        # Each step is a two-position batch, which llama.cpp would run on the batch
        # threads: it is a generation step, so it gets the generation threads (on
        # a busy CPU, threads waiting on each other's barrier cost far more than
        # the second position).
        loaded = self.loaded
        if loaded is not None:
            llama_cpp.llama_set_n_threads(llm._ctx.ctx, loaded.n_threads, loaded.n_threads)
        try:
            while reply.n_out < max_tokens:
                if self._cancel_flag():
                    reply.finish = "cancelled"
                    break
                logits = combine(with_logits, without_logits, alpha)
                if grammar is not None:
                    logits = self._apply_grammar(grammar, logits)
                draw = reply.sampler.draw(logits, reply.history)
                token = draw.token
                reply.n_out += 1
                if reply.n_out == 1:
                    reply.ttft = time.perf_counter() - reply.start
                if not reply.ignore_eos and llama_cpp.llama_vocab_is_eog(vocab, token):
                    reply.finish = "eos"
                    break
                if grammar is not None:
                    llama_cpp.llama_sampler_accept(grammar, token)
                    assert self._utf8 is not None
                    self._utf8_state = self._utf8.after(self._utf8_state, token)
                reply.history.append(token)
                used = len(self._tokens) + n_without - common
                more = reply.n_out < max_tokens and used + 2 <= n_ctx
                # The rows are copies (``_row``) or the prompt's snapshot, and the
                # combination a fresh array: decoding the next batch cannot change
                # what the describer reads.
                described = describer.submit(
                    measured, draw, logits, with_logits, without_logits, reply.index
                )
                reply.index += 1
                rc = 0
                if more:
                    rc = self._decode_entries(
                        [
                            (token, len(self._tokens), 0, True),
                            (token, n_without, _WITHOUT_SEQ, True),
                        ]
                    )
                    if rc == 0:
                        self._tokens.append(token)
                        n_without += 1
                        with_logits = self._row(0)
                        without_logits = self._row(1)
                event = described.result()
                described = None
                ready, stopped = reply.out.push(event)
                yield from ready
                if stopped:
                    reply.finish = "stop"
                    break
                if not more:
                    reply.finish = "length" if reply.n_out >= max_tokens else "context_full"
                    break
                if rc == _DECODE_NO_SLOT:
                    reply.finish = "context_full"
                    break
                if rc != 0:
                    yield ErrorEvent("decode", f"llama.cpp stopped decoding (code {rc}).")
                    return
        finally:
            if loaded is not None:
                llama_cpp.llama_set_n_threads(
                    llm._ctx.ctx, loaded.n_threads, loaded.n_threads_batch
                )
            if described is not None:
                described.result()

    def _decode_entries(
        self, entries: Sequence[tuple[int, int, int, bool]], abortable: bool = False
    ) -> int:
        """Decode one batch of (token, position, sequence, wants logits) entries.

        Nothing is recorded in ``self._tokens``: the caller does, on success. On a
        failure the positions the batch may have left in the cache are removed.
        """
        import llama_cpp

        llm = self._llm
        ctx = llm._ctx.ctx
        batch = llm._batch.batch
        batch.n_tokens = len(entries)
        for i, (token, pos, seq, logits) in enumerate(entries):
            batch.token[i] = token
            batch.pos[i] = pos
            batch.seq_id[i][0] = seq
            batch.n_seq_id[i] = 1
            batch.logits[i] = logits
        if abortable:
            llama_cpp.llama_set_abort_callback(ctx, self._abort_cb, None)
        try:
            rc = int(llama_cpp.llama_decode(ctx, batch))
        finally:
            if abortable:
                llama_cpp.llama_set_abort_callback(ctx, llama_cpp.ggml_abort_callback(), None)
        if rc != 0:
            for _token, pos, seq, _logits in entries:
                llm._ctx.kv_cache_seq_rm(seq, pos, -1)
        if rc == _DECODE_ABORTED:
            raise _Aborted
        return rc

    def _speculate(
        self,
        request: GenerateRequest,
        prompt: list[int],
        first_logits: np.ndarray[Any, np.dtype[np.float32]] | None,
        reply: _Reply,
    ) -> Iterator[Event]:
        """The decode loop with drafted tokens checked in batches (see ``speculative``).

        Each round draws tokens from the logits rows of the last batch, in order,
        with the reply's sampler: a row whose proposal the target drew again is
        accepted and the next row is used; the first other draw replaces the
        proposal and ends the round. The last token drawn is then evaluated
        together with the next proposals, one batch, a logits row per position.
        The KV cache keeps only the tokens of the reply.
        """
        import llama_cpp

        llm = self._llm
        vocab = llm._model.vocab
        n_ctx = llm.n_ctx()
        settings = request.draft
        max_tokens = request.params.max_tokens
        if settings.draft_model and self._draft is None:
            raise InvalidRequestError(
                "No draft model is loaded: load one with the model (Model panel → Speed, "
                "or --draft-model), or turn drafting by a draft model off."
            )
        lookup = PromptLookup(prompt) if settings.prompt_lookup else None
        draft = self._draft if settings.draft_model else None
        lengths = self._draft_lengths(min(settings.max_draft, MAX_DRAFT_LIMIT), settings.fixed)
        describer = self._describe_pool()
        assert first_logits is not None
        rows: list[tuple[np.ndarray[Any, np.dtype[np.float32]], int | None]] = [
            (first_logits, None)
        ]
        emitted: list[int] = []
        source = "lookup"  # which drafter made the proposals being checked
        batch_base = -1  # where the last batch starts in the cache (-1: no batch yet)
        grammar = reply.grammar
        try:
            while True:
                if self._cancel_flag():
                    reply.finish = "cancelled"
                    break
                draws: list[tuple[Draw, np.ndarray[Any, np.dtype[np.float32]], DraftMark]] = []
                accepted = 0
                proposed = 0
                before = reply.n_out
                last: int | None = None
                ended = False
                for logits, proposal in rows:
                    if grammar is not None:
                        logits = self._apply_grammar(grammar, logits)
                    draw = reply.sampler.draw(logits, reply.history)
                    token = draw.token
                    reply.n_out += 1
                    proposed += proposal is not None
                    if reply.n_out == 1:
                        reply.ttft = time.perf_counter() - reply.start
                    if not reply.ignore_eos and llama_cpp.llama_vocab_is_eog(vocab, token):
                        reply.finish = "eos"
                        ended = True
                        break
                    mark: DraftMark = ""
                    if proposal is not None:
                        mark = "accepted" if token == proposal else "replaced"
                    if grammar is not None:
                        llama_cpp.llama_sampler_accept(grammar, token)
                        assert self._utf8 is not None
                        self._utf8_state = self._utf8.after(self._utf8_state, token)
                    reply.history.append(token)
                    emitted.append(token)
                    draws.append((draw, logits, mark))
                    last = token
                    if mark == "accepted":
                        accepted += 1
                    if reply.n_out >= max_tokens:
                        reply.finish = "length"
                        ended = True
                        break
                    if mark == "replaced":
                        break
                if proposed:
                    reply.proposed += proposed
                    reply.accepted += accepted
                    lengths[source].update(proposed, accepted)
                if batch_base >= 0:
                    # The batch's first token and the accepted proposals stay cached.
                    self._trim_cache(batch_base + 1 + accepted)
                pending = [describer.submit(reply.describe, d, lg, 0, m) for d, lg, m in draws]
                rc = 0
                if not ended and last is not None:
                    if len(self._tokens) + 1 >= n_ctx:
                        ended = True
                        reply.finish = "context_full"
                    else:
                        cap = min(max_tokens - reply.n_out - 1, n_ctx - len(self._tokens) - 2)
                        context = [*self._tokens, last]
                        source, proposals = self._propose(lookup, draft, context, lengths, cap)
                        batch_base = len(self._tokens)
                        rc = self._decode_rows([last, *proposals])
                        if rc == 0:
                            rows = [
                                (self._row(i), proposals[i] if i < len(proposals) else None)
                                for i in range(len(proposals) + 1)
                            ]
                drawn = reply.n_out - before  # the end-of-generation token included
                for i, job in enumerate(pending):
                    event = job.result()
                    event = replace(event, index=reply.index)
                    reply.index += 1
                    ready, stopped = reply.out.push(event)
                    yield from ready
                    if stopped:
                        # Tokens drawn after the stop string are not part of the reply.
                        reply.n_out -= drawn - (i + 1)
                        reply.finish = "stop"
                        ended = True
                        break
                if ended or last is None:
                    break
                if rc == _DECODE_NO_SLOT:
                    reply.finish = "context_full"
                    break
                if rc != 0:
                    yield ErrorEvent("decode", f"llama.cpp stopped decoding (code {rc}).")
                    return
        finally:
            # Proposals evaluated but never checked leave the cache: it holds the reply.
            keep = 0
            expected = prompt + emitted
            limit = min(len(self._tokens), len(expected))
            while keep < limit and self._tokens[keep] == expected[keep]:
                keep += 1
            self._trim_cache(keep)

    def _draft_lengths(self, limit: int, fixed: bool) -> dict[str, DraftLength]:
        """A draft-length controller per drafter, with what a round of proposals costs.

        Calibrated on two CPU cores with one thread for single tokens and two
        for batches (Qwen2.5-Coder 1.5B, quiet machine): a batch of k + 1
        positions costs about 0.55 + 0.18 k single tokens, because it runs on
        both cores; each token the 0.5B draft model proposes adds about 0.35,
        1.6 times its share of the target's size and threads (its decode loop is
        Python, one token at a time). With the same threads for both, a batch
        costs about 1 + 0.45 k; on a GPU, batch positions are nearly free.
        ``fixed`` proposes ``limit`` tokens every time.
        """
        assert self.loaded is not None
        loaded = self.loaded
        if fixed:
            free = DraftLength(limit=limit, cost=0.0, base=1.0, rate=1.0, weight=0.0)
            return {"lookup": free, "draft": replace(free)}
        if self._config is not None and self._config.n_gpu_layers != 0:
            base, per = 1.0, 0.05
        elif loaded.n_threads_batch > loaded.n_threads:
            base, per = 0.55, 0.18
        else:
            base, per = 1.0, 0.45
        lengths = {"lookup": DraftLength(limit=limit, cost=per, base=base)}
        if self._draft is not None:
            ratio = self._draft.size / max(1, os.path.getsize(loaded.model_path))
            share = loaded.n_threads / max(1, loaded.n_threads_batch)
            lengths["draft"] = DraftLength(limit=limit, cost=per + 1.6 * ratio * share, base=base)
        return lengths

    def _propose(
        self,
        lookup: PromptLookup | None,
        draft: DraftModel | None,
        context: list[int],
        lengths: dict[str, DraftLength],
        cap: int,
    ) -> tuple[str, list[int]]:
        """Proposals and who made them: prompt lookup when it has a match, else the draft model.

        Each drafter proposes as many tokens as its acceptance rate makes worth it
        (at most ``cap``); one whose rate says none is nudged to try again later.
        """
        if lookup is not None:
            lookup.extend(context[len(lookup.tokens) :])
            k = min(lengths["lookup"].next(), cap)
            if k <= 0:
                lengths["lookup"].probe()
            else:
                found = lookup.propose(k)
                if found:
                    return "lookup", found
        if draft is not None:
            k = min(lengths["draft"].next(), cap)
            if k <= 0:
                lengths["draft"].probe()
            else:
                return "draft", draft.propose(context, k)
        return "lookup", []

    def _decode_rows(self, tokens: list[int]) -> int:
        """Evaluate ``tokens`` as one batch with a logits row for every position."""
        import llama_cpp

        llm = self._llm
        llm._batch.set_batch(batch=tokens, n_past=len(self._tokens), logits_all=True)
        rc = int(llama_cpp.llama_decode(llm._ctx.ctx, llm._batch.batch))
        if rc == 0:
            self._tokens.extend(tokens)
        else:
            llm._ctx.kv_cache_seq_rm(0, len(self._tokens), -1)
        return rc

    def _row(self, i: int) -> np.ndarray[Any, np.dtype[np.float32]]:
        """A copy of the logits of position ``i`` of the last batch."""
        import llama_cpp

        ptr = llama_cpp.llama_get_logits_ith(self._llm._ctx.ctx, i)
        return np.ctypeslib.as_array(ptr, shape=(self._llm.n_vocab(),)).copy()

    def _trim_cache(self, keep: int) -> None:
        """Forget cached positions from ``keep`` on."""
        if keep < len(self._tokens):
            self._llm._ctx.kv_cache_seq_rm(0, keep, -1)
            del self._tokens[keep:]

    # -- grammar -----------------------------------------------------------------

    def _grammar_sampler(self, grammar: str) -> Any:
        """llama.cpp's grammar sampler for GBNF text (root rule ``root``), used as a mask.

        Glassbox draws with its own chain, so only the grammar's two operations are
        used: ``apply`` (rejected tokens get -inf) and ``accept`` (advance its state).
        """
        import llama_cpp

        llm = self._require()
        vocab = llm._model.vocab
        if self._utf8 is None:
            # Control tokens other than end-of-generation are text nobody asked for
            # inside a constrained reply: banned while a grammar is active.
            n = llm.n_vocab()
            banned = np.zeros(n, dtype=np.bool_)
            for t in range(n):
                attr = llama_cpp.llama_vocab_get_attr(vocab, t)
                if attr & llama_cpp.LLAMA_TOKEN_ATTR_CONTROL and not llama_cpp.llama_vocab_is_eog(
                    vocab, t
                ):
                    banned[t] = True
            self._utf8 = _Utf8Table([self.piece(t) for t in range(n)], banned)
        self._utf8_state = (0, 0x80, 0xBF)
        _LOG.clear()
        sampler = llama_cpp.llama_sampler_init_grammar(vocab, grammar.encode("utf-8"), b"root")
        if not sampler:
            detail = " ".join(list(_LOG)[-3:])
            raise InvalidRequestError(
                "The grammar could not be parsed"
                + (f" (llama.cpp said: {detail})" if detail else "")
                + ". Check the GBNF text; its first rule must be named root."
            )
        return sampler

    def _apply_grammar(
        self, grammar: Any, logits: np.ndarray[Any, np.dtype[np.float32]]
    ) -> np.ndarray[Any, np.dtype[np.float32]]:
        """A copy of ``logits`` with every token the grammar rejects set to -inf.

        The grammar checks the whole vocabulary (about 9 ms for Qwen's 151,936
        tokens): the exact constrained distribution is what the token view shows
        and what field confidences are computed from, so no shortcut that checks
        only the favourite is taken.
        """
        import llama_cpp

        n = logits.shape[0]
        data = self._token_data
        if data is None or data.shape[0] != n:
            data = self._token_data = np.zeros(n, dtype=_TOKEN_DATA)
            data["id"] = np.arange(n, dtype=np.int32)
        data["logit"] = logits
        assert self._utf8 is not None
        allowed = self._utf8.allowed(self._utf8_state)
        eog = self._eog_mask()
        data["logit"][~(allowed | eog)] = -np.inf
        array = llama_cpp.llama_token_data_array(
            data=data.ctypes.data_as(llama_cpp.llama_token_data_p),
            size=n,
            selected=-1,
            sorted=False,
        )
        llama_cpp.llama_sampler_apply(grammar, ctypes.byref(array))
        if array.size != n:  # the grammar sampler filters in place; never seen to resize
            raise InvalidRequestError("The grammar sampler changed the candidate list.")
        masked: np.ndarray[Any, np.dtype[np.float32]] = np.ascontiguousarray(data["logit"])
        if not np.isfinite(masked).any():
            raise InvalidRequestError(
                "The grammar allows no token at this point: it cannot be completed."
            )
        return masked

    def _eog_mask(self) -> np.ndarray[Any, np.dtype[np.bool_]]:
        """End-of-generation tokens (the grammar decides when they are allowed)."""
        assert self._utf8 is not None
        mask = getattr(self, "_eog", None)
        if mask is None or mask.shape[0] != self._utf8.length.shape[0]:
            import llama_cpp

            vocab = self._llm._model.vocab
            n = self._utf8.length.shape[0]
            mask = np.array([bool(llama_cpp.llama_vocab_is_eog(vocab, t)) for t in range(n)])
            self._eog = mask
        return mask

    # -- scoring -----------------------------------------------------------------

    def score(self, request: ScoreRequest) -> ScoreResult:
        """Log-probabilities of each continuation after the prompt, from raw logits.

        The prompt is evaluated once (its shared beginning kept from the last
        request); each continuation's tokens but the last are then decoded as one
        batch that reports logits at every position, and removed from the cache
        again, so the next continuation and the next request start from the prompt.
        """
        self._cancel_requested = False
        llm = self._require()
        start = time.perf_counter()
        if not request.continuations:
            raise InvalidRequestError("Give at least one continuation to score.")
        conts = [self.tokenize(c, add_bos=False, special=False) for c in request.continuations]
        for text, toks in zip(request.continuations, conts, strict=True):
            if not toks:
                raise InvalidRequestError(f"The continuation {text!r} has no tokens.")
        longest = max(len(t) for t in conts)
        as_generation = GenerateRequest(
            params=SamplingParams(max_tokens=longest),
            prompt=request.prompt,
            messages=request.messages,
            assistant_prefix=request.assistant_prefix,
        )
        check_request(as_generation)
        prompt, _, _ = self.build_prompt(as_generation)
        n_ctx = llm.n_ctx()
        if len(prompt) + longest > n_ctx:
            raise ContextOverflowError(
                f"The prompt ({len(prompt)} tokens) and the longest continuation ({longest}) "
                f"do not fit in the model's context of {n_ctx} tokens. Shorten the text."
            )
        reused = self._reuse_prefix(prompt, request.reuse_prefix)
        todo = prompt[reused:]
        try:
            for i in range(0, len(todo), llm.n_batch):
                if self._cancel_flag():
                    raise _Aborted
                rc = self._decode_prompt(todo[i : i + llm.n_batch])
                if rc != 0:
                    raise GlassboxError(f"llama.cpp could not evaluate the prompt (code {rc}).")
        except _Aborted:
            raise CancelledError("Scoring was cancelled.") from None
        if todo:
            self._snapshot = (len(prompt), self._logits().copy())
        assert self._snapshot is not None
        first = _log_softmax(self._snapshot[1])
        per_token: list[tuple[float, ...]] = []
        for toks in conts:
            if self._cancel_flag():
                raise CancelledError("Scoring was cancelled.")
            per_token.append((float(first[toks[0]]), *self._continuation_logprobs(toks)))
        return ScoreResult(
            logprobs=tuple(math.fsum(lp) for lp in per_token),
            token_logprobs=tuple(per_token),
            n_tokens=tuple(len(t) for t in conts),
            prompt_tokens=len(prompt),
            prompt_tokens_reused=reused,
            seconds=time.perf_counter() - start,
        )

    def _continuation_logprobs(self, tokens: list[int]) -> list[float]:
        """Log-probabilities of ``tokens[1:]``, each given the prompt and the tokens before it.

        The cache is left holding the prompt only, whatever happens.
        """
        import llama_cpp

        llm = self._llm
        ctx = llm._ctx.ctx
        n_vocab = llm.n_vocab()
        n_past = len(self._tokens)
        out: list[float] = []
        try:
            feed = tokens[:-1]
            for s in range(0, len(feed), llm.n_batch):
                chunk = feed[s : s + llm.n_batch]
                llm._batch.set_batch(batch=chunk, n_past=n_past + s, logits_all=True)
                rc = int(llama_cpp.llama_decode(ctx, llm._batch.batch))
                if rc != 0:
                    raise GlassboxError(f"llama.cpp could not evaluate a continuation (code {rc}).")
                for j in range(len(chunk)):
                    ptr = llama_cpp.llama_get_logits_ith(ctx, j)
                    row = np.ctypeslib.as_array(ptr, shape=(n_vocab,))
                    out.append(float(_log_softmax(row)[tokens[s + j + 1]]))
        finally:
            if len(tokens) > 1:
                llm._ctx.kv_cache_seq_rm(0, n_past, -1)
        return out

    def _done(
        self,
        finish: FinishReason,
        prompt: list[int],
        n_out: int,
        ttft: float,
        start: float,
        seed: int,
        reused: int,
        dropped: int,
        text: str = "",
        proposed: int = 0,
        accepted: int = 0,
    ) -> DoneEvent:
        elapsed = time.perf_counter() - start
        gen_time = max(elapsed - ttft, 1e-9)
        # Tokens per second of generation proper: the first token's time is the prompt's.
        tps = (n_out - 1) / gen_time if n_out > 1 else 0.0
        return DoneEvent(
            finish_reason=finish,
            prompt_tokens=len(prompt),
            completion_tokens=n_out,
            ttft_s=ttft,
            tokens_per_s=tps,
            seed=seed,
            prompt_tokens_reused=reused,
            dropped_messages=dropped,
            text=text,
            draft_proposed=proposed,
            draft_accepted=accepted,
        )


class _Output:
    """The reply's events on their way out, held back while a stop string may be starting.

    ``loop_stop`` ends the reply once its end repeats itself (``loops.LoopWatch``);
    ``looped`` then says so.
    """

    def __init__(self, stops: Sequence[str], loop_stop: int = 0) -> None:
        self.stops = stops
        self.pending: list[TokenEvent] = []
        self.parts: list[str] = []
        self.loops = LoopWatch(loop_stop)
        self.looped = False

    def push(self, event: TokenEvent) -> tuple[list[TokenEvent], bool]:
        """Events that can go out now, and whether a stop string or a loop ended the reply."""
        ready, stopped = self._release(event)
        if not stopped and self.loops.feed("".join(ev.text for ev in ready)):
            self.looped = True
            return ready + self.flush(), True
        return ready, stopped

    def _release(self, event: TokenEvent) -> tuple[list[TokenEvent], bool]:
        if not self.stops:
            self.parts.append(event.text)
            return [event], False
        self.pending.append(event)
        cut = _stop_cut(self.pending, self.stops)
        if cut is not None:
            self.pending = []
            self.parts.extend(ev.text for ev in cut)
            return cut, True
        if _may_start_stop("".join(e.text for e in self.pending), self.stops):
            return [], False
        return self.flush(), False

    def flush(self) -> list[TokenEvent]:
        """Everything held back (a stop string that never completed)."""
        ready, self.pending = self.pending, []
        self.parts.extend(ev.text for ev in ready)
        return ready

    def text(self) -> str:
        """The reply so far: exactly the concatenation of the events sent."""
        return "".join(self.parts)


class _Reply:
    """What the speculative loop shares with ``_generate``: the sampler, counts, output."""

    def __init__(
        self,
        sampler: Sampler,
        history: list[int],
        grammar: Any,
        describe: Callable[..., TokenEvent],
        out: _Output,
        start: float,
        ignore_eos: bool,
    ) -> None:
        self.sampler = sampler
        self.history = history
        self.grammar = grammar
        self.describe = describe
        self.out = out
        self.start = start
        self.ignore_eos = ignore_eos
        self.n_out = 0
        self.index = 0
        self.ttft = 0.0
        self.finish: FinishReason = "length"
        self.proposed = 0
        self.accepted = 0


class _Utf8Table:
    """Per token, what its bytes need before them and leave after them as UTF-8.

    llama.cpp's grammar lets byte tokens through that do not form valid UTF-8
    (a stray continuation byte, an overlong sequence), which come out as
    replacement characters and can break what the grammar promised (a string's
    length). With a grammar, a token is allowed only when the bytes written so
    far stay a valid UTF-8 prefix: a vectorised check per step.
    """

    def __init__(self, pieces: Sequence[bytes], banned: np.ndarray[Any, np.dtype[np.bool_]]):
        n = len(pieces)
        self.length = np.zeros(n, dtype=np.int32)
        self.first = np.full(n, -1, dtype=np.int32)
        self.n_lead = np.zeros(n, dtype=np.int32)
        self.rest_ok = np.zeros(n, dtype=np.bool_)
        self.tail: list[tuple[int, int, int]] = [(0, 0x80, 0xBF)] * n
        for i, b in enumerate(pieces):
            self.length[i] = len(b)
            if not b or banned[i]:
                continue
            self.first[i] = b[0]
            lead = 0
            while lead < len(b) and 0x80 <= b[lead] <= 0xBF:
                lead += 1
            self.n_lead[i] = lead
            rest = b[lead:]
            try:
                rest.decode("utf-8")
                self.rest_ok[i] = True
            except UnicodeDecodeError as exc:
                if exc.reason == "unexpected end of data":
                    tail = rest[exc.start :]
                    width = 2 if tail[0] < 0xE0 else 3 if tail[0] < 0xF0 else 4
                    lo, hi = 0x80, 0xBF
                    if len(tail) == 1:
                        lo, hi = {0xE0: (0xA0, 0xBF), 0xED: (0x80, 0x9F), 0xF0: (0x90, 0xBF),
                                  0xF4: (0x80, 0x8F)}.get(tail[0], (0x80, 0xBF))  # fmt: skip
                    self.rest_ok[i] = True
                    self.tail[i] = (width - len(tail), lo, hi)
        self.all_cont = (self.n_lead == self.length) & (self.length > 0)

    def allowed(self, state: tuple[int, int, int]) -> np.ndarray[Any, np.dtype[np.bool_]]:
        """Tokens that keep the output valid UTF-8 after ``state`` (bytes still needed, range)."""
        need, lo, hi = state
        if need == 0:
            ok: np.ndarray[Any, np.dtype[np.bool_]] = (self.n_lead == 0) & self.rest_ok
            return ok
        starts = (self.first >= lo) & (self.first <= hi)
        short = self.all_cont & (self.length <= need)
        whole = (self.n_lead == need) & self.rest_ok
        out: np.ndarray[Any, np.dtype[np.bool_]] = starts & (short | whole)
        return out

    def after(self, state: tuple[int, int, int], token: int) -> tuple[int, int, int]:
        """The state once ``token`` is written."""
        need = state[0]
        if need > 0 and self.all_cont[token] and self.length[token] <= need:
            left = need - int(self.length[token])
            return (left, 0x80, 0xBF)
        return self.tail[token]


def _log_softmax(logits: np.ndarray[Any, Any]) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Log-probabilities over the whole vocabulary, in float64."""
    row = logits.astype(np.float64)
    top = float(row.max())
    out: np.ndarray[Any, np.dtype[np.float64]] = row - (
        top + math.log(float(np.exp(row - top).sum()))
    )
    return out


def _may_start_stop(text: str, stops: Sequence[str]) -> bool:
    """True if the end of ``text`` could be the beginning of a stop string."""
    for stop in stops:
        for k in range(min(len(stop) - 1, len(text)), 0, -1):
            if text.endswith(stop[:k]):
                return True
    return False


def _stop_cut(pending: list[TokenEvent], stops: Sequence[str]) -> list[TokenEvent] | None:
    """If a stop string occurs in the held-back text, the events before it (last one trimmed)."""
    text = "".join(e.text for e in pending)
    hits = [i for i in (text.find(s) for s in stops) if i >= 0]
    if not hits:
        return None
    cut_at = min(hits)
    out: list[TokenEvent] = []
    pos = 0
    for ev in pending:
        if pos >= cut_at:
            break
        keep = ev.text[: cut_at - pos]
        pos += len(ev.text)
        out.append(ev if keep == ev.text else replace(ev, text=keep))
    return out


def _backend_name(llama_cpp: Any, n_gpu_layers: int) -> str:
    """Which device runs the model: CPU, or the GPU backend compiled in, when offloading."""
    if n_gpu_layers == 0 or not llama_cpp.llama_supports_gpu_offload():
        return "CPU"
    info = llama_cpp.llama_print_system_info().decode("utf-8", "replace")
    for name in ("CUDA", "Metal", "Vulkan", "ROCm", "SYCL"):
        if name.upper() in info.upper():
            return name
    return "GPU"


def supports_gpu_offload() -> bool:
    """Whether this llama.cpp build can offload layers to a GPU (imports llama_cpp)."""
    import llama_cpp

    from desktop_app.core.engine.native import load_backends

    load_backends()
    return bool(llama_cpp.llama_supports_gpu_offload())


#: Test hook: "first" crashes the engine process during the load check unless in safe
#: mode, "always" crashes it in safe mode too (tests of the safe-mode retry).
CRASH_ON_LOAD_ENV = "GLASSBOX_TEST_CRASH_ON_LOAD"


@contextlib.contextmanager
def model_params_override(
    llama_cpp: Any, *, use_extra_bufts: bool, sequences: int = 1
) -> Iterator[None]:
    """Load with ``use_extra_bufts`` set, and a context for ``sequences`` sequences:
    ``Llama()`` has no argument for either, so its sources of default parameters are
    wrapped for the length of the load.

    The sequences share one unified KV cache of ``n_ctx`` cells (not ``n_ctx`` split
    among them): the reply's sequence keeps the whole context, and context-aware
    decoding's second sequence (the prompt without the documents) takes cells only
    while it runs.
    """
    module = llama_cpp.llama_cpp
    original = module.llama_model_default_params
    original_ctx = module.llama_context_default_params

    def params() -> Any:
        value = original()
        value.use_extra_bufts = use_extra_bufts
        return value

    def ctx_params() -> Any:
        value = original_ctx()
        if sequences > 1:
            value.n_seq_max = sequences
            value.kv_unified = True
        return value

    module.llama_model_default_params = params
    module.llama_context_default_params = ctx_params
    try:
        yield
    finally:
        module.llama_model_default_params = original
        module.llama_context_default_params = original_ctx


class _UncompiledTemplate:
    """Stands in for llama-cpp-python's ``Jinja2ChatFormatter`` while a model loads."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        pass

    def to_chat_handler(self) -> Any:
        def refuse(*args: object, **kwargs: object) -> Any:
            raise InvalidRequestError(
                "Glassbox formats chats itself: ask the engine to generate from messages."
            )

        return refuse


@contextlib.contextmanager
def chat_templates_left_alone() -> Iterator[None]:
    """Load without compiling the file's chat templates.

    ``Llama()`` compiles every template in the file with a plain Jinja2 sandbox,
    which evaluates constant expressions while compiling: a template such as
    ``{{ "a" * 10**10 }}`` would build ten gigabytes during the load, and a
    syntax error would fail the load. Glassbox renders templates itself, in its
    guarded sandbox (:func:`render_chat`), so the load gets a stand-in.
    """
    import importlib

    module: Any = importlib.import_module("llama_cpp.llama_chat_format")
    original = module.Jinja2ChatFormatter
    module.Jinja2ChatFormatter = _UncompiledTemplate
    try:
        yield
    finally:
        module.Jinja2ChatFormatter = original


def _self_check(llama_cpp: Any, llm: Any, safe_mode: bool) -> None:
    """Decode a short batch and one more token right after loading, then forget them.

    Kernels that crash on this CPU crash here, inside the load, where the engine
    client sees it and loads again in safe mode, instead of on the user's first message.
    """
    crash = os.environ.get(CRASH_ON_LOAD_ENV, "")
    if crash == "always" or (crash == "first" and not safe_mode):
        os.kill(os.getpid(), signal.SIGSEGV)
    ctx = llm._ctx.ctx
    tokens = [llm.token_bos(), *llm.tokenize(b"Glassbox checks the kernels.", add_bos=False)]
    tokens = [t for t in tokens if t >= 0][:8] or [0]
    try:
        for batch, n_past in ((tokens, 0), (tokens[:1], len(tokens))):
            llm._batch.set_batch(batch=batch, n_past=n_past, logits_all=False)
            rc = int(llama_cpp.llama_decode(ctx, llm._batch.batch))
            if rc != 0:
                raise ModelLoadError(
                    f"The model loaded, but llama.cpp could not evaluate a first token (code {rc})."
                )
    finally:
        llm._ctx.kv_cache_seq_rm(0, 0, -1)


def check_template(template: str) -> None:
    """Refuse a chat template override that cannot format a simple conversation.

    It is rendered once, sandboxed, with a single user message (some templates
    refuse system messages on purpose): a syntax error, or a template that fails
    on the plainest chat, is reported at load time instead of on the first reply.
    """
    sample = (Message("user", "Hello"),)
    try:
        render_chat(sample, template, source="override")
    except InvalidRequestError as exc:
        cause = exc.__cause__ or exc
        raise InvalidRequestError(
            f"The chat template override is not a usable template: {cause}. Fix it, or "
            "turn the override off to use the model's own template."
        ) from exc


def check_request(request: GenerateRequest) -> None:
    """Reject requests that cannot be served, before they reach the engine."""
    if (request.prompt is None) == (request.messages is None):
        raise InvalidRequestError("Give either a prompt or messages, not both.")
    if not 0 <= request.candidates <= 50:
        raise InvalidRequestError(f"Candidates must be between 0 and 50, not {request.candidates}.")
    if request.grammar is not None and not request.grammar.strip():
        raise InvalidRequestError("The grammar is empty: give GBNF text or no grammar.")
    check_contrast(request)
