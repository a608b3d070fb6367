"""``glassbox bench engine``: the Glassbox engine against raw llama-cpp-python.

Both sides run in their own child process with the same model, context and
threads, and are measured alternately in one run, so a machine that speeds up
or slows down affects both. Figures:

- generation tokens/s of the Glassbox engine (K candidates per token, received
  over the pipe) ÷ raw ``create_completion(stream=True)``, at 256 and 2,048 tokens;
- ÷ a bare decode loop (decode + argmax, nothing else);
- extra peak resident memory of the engine process over a raw ``Llama``;
- time to first token on a chat's 5th turn with prefix reuse ÷ without.
"""

from __future__ import annotations

import multiprocessing as mp
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from desktop_app.core.engine.protocol import (
    DoneEvent,
    EngineConfig,
    ErrorEvent,
    GenerateRequest,
    Message,
    TokenEvent,
)
from desktop_app.core.engine.threads import default_threads
from desktop_app.core.errors import error_from_event
from desktop_app.core.sampling import SamplingParams
from desktop_app.workers.engine.client import EngineClient

#: A prompt a model continues for thousands of tokens without choosing to stop.
COUNTING_PROMPT = "Count from 1 to 100000, separated by commas: 1, 2, 3, 4, 5, 6,"
TURNS = (
    "Hello! In one sentence, what is a GGUF file?",
    "And what does quantization do to a model?",
    "Name two quantization formats.",
    "Which one is smaller?",
    "Thanks. Summarize our conversation in one sentence.",
)


@dataclass
class EngineBench:
    """The figures printed by ``glassbox bench engine``."""

    model: str
    n_ctx: int
    n_threads: int
    n_threads_batch: int
    candidates: int
    tokens_per_s_raw: float = 0.0
    tokens_per_s_glassbox: float = 0.0
    tokens_per_s_decode_loop: float = 0.0
    ratio: float = 0.0
    ratio_2048: float = 0.0
    ratio_vs_decode_loop: float = 0.0
    tokens_per_s_raw_2048: float = 0.0
    tokens_per_s_glassbox_2048: float = 0.0
    rss_raw_mb: float = 0.0
    rss_glassbox_mb: float = 0.0
    rss_extra_mb: float = 0.0
    ttft_turn5_reuse_s: float = 0.0
    ttft_turn5_no_reuse_s: float = 0.0
    ttft_ratio_turn5: float = 0.0
    rounds: int = 0
    long_rounds: int = 0
    pairs_256: list[float] = field(default_factory=list)
    pairs_2048: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready figures."""
        return asdict(self)


def _peak_rss_mb(pid: int) -> float:
    """Peak resident memory of a process (Linux /proc; 0 where unavailable)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _raw_main(conn: Connection, config: EngineConfig, n_threads: int, n_batch_threads: int) -> None:
    """Child process: a plain llama-cpp-python ``Llama``, as an app without Glassbox uses it
    (with the same llama.cpp build, whose CPU kernels are loaded as the engine loads them)."""
    import llama_cpp
    import numpy as np

    from desktop_app.core.engine.llama_backend import model_params_override
    from desktop_app.core.engine.native import load_backends

    # Extra buffer types off where AMX kernels run, as the engine does: they crash there.
    with model_params_override(llama_cpp, use_extra_bufts=not load_backends().has_amx):
        llm = llama_cpp.Llama(
            model_path=config.model_path,
            n_ctx=config.n_ctx,
            n_batch=config.n_batch,
            n_threads=n_threads,
            n_threads_batch=n_batch_threads,
            n_gpu_layers=config.n_gpu_layers,
            verbose=False,
        )
    conn.send("ready")
    while True:
        try:
            msg = conn.recv()
        except EOFError:
            return
        if msg[0] == "exit":
            return
        _, kind, prompt, n, params = msg
        if kind == "stream":
            stamps = []
            for _chunk in llm.create_completion(
                prompt,
                max_tokens=n,
                temperature=params.temperature,
                top_k=params.top_k,
                top_p=params.top_p,
                min_p=params.min_p,
                repeat_penalty=params.repeat_penalty,
                seed=params.seed,
                stream=True,
            ):
                stamps.append(time.perf_counter())
            conn.send(stamps)
        else:  # a bare decode loop: decode one token, take the argmax, repeat
            llm.reset()  # type: ignore[no-untyped-call]
            tokens = llm.tokenize(prompt.encode(), add_bos=True)
            llm.eval(tokens)
            stamps = []
            for _ in range(n):
                ptr = llama_cpp.llama_get_logits_ith(llm._ctx.ctx, -1)
                tok = int(np.argmax(np.ctypeslib.as_array(ptr, shape=(llm.n_vocab(),))))
                stamps.append(time.perf_counter())
                llm.eval([tok])
            conn.send(stamps)


def _rate(stamps: list[float], limit: int | None = None) -> tuple[float, int]:
    """Tokens per second between the first and last token, and the token count."""
    if limit is not None:
        stamps = stamps[:limit]  # the stream's closing chunk carries no token
    if len(stamps) < 2:
        return 0.0, len(stamps)
    return (len(stamps) - 1) / (stamps[-1] - stamps[0]), len(stamps)


class _Raw:
    def __init__(self, config: EngineConfig, n_threads: int, n_threads_batch: int) -> None:
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(
            target=_raw_main, args=(child, config, n_threads, n_threads_batch), daemon=True
        )
        self.proc.start()
        child.close()
        if self.conn.recv() != "ready":
            raise RuntimeError("the raw llama-cpp-python process did not start")

    def run(self, kind: str, prompt: str, n: int, params: SamplingParams) -> tuple[float, int]:
        self.conn.send(("run", kind, prompt, n, params))
        stamps: list[float] = self.conn.recv()
        return _rate(stamps, n)

    def close(self) -> None:
        self.conn.send(("exit",))
        self.proc.join(timeout=10)


def _same_length(params: SamplingParams, n: int, candidates: int) -> GenerateRequest:
    """A Glassbox request of exactly ``n`` tokens: the raw run's length, even if it met EOS."""
    return GenerateRequest(
        params=replace(params, max_tokens=max(2, n)),
        prompt=COUNTING_PROMPT,
        candidates=candidates,
        ignore_eos=True,
    )


def _pair(
    raw: _Raw, client: EngineClient, params: SamplingParams, candidates: int, raw_first: bool
) -> tuple[float, int, float, int]:
    """One raw run and one Glassbox run of the same length, in the order asked."""
    if raw_first:
        r, rn = raw.run("stream", COUNTING_PROMPT, params.max_tokens, params)
        g, gn, _ = _glassbox_rate(client, _same_length(params, rn, candidates))
    else:
        g, gn, _ = _glassbox_rate(client, _same_length(params, params.max_tokens, candidates))
        r, rn = raw.run("stream", COUNTING_PROMPT, params.max_tokens, params)
        if rn < gn:  # raw met end-of-sequence early: measure Glassbox at its length
            g, gn, _ = _glassbox_rate(client, _same_length(params, rn, candidates))
    return r, rn, g, gn


def _glassbox_rate(client: Any, request: GenerateRequest) -> tuple[float, int, DoneEvent]:
    stamps: list[float] = []
    for event in client.generate(request):
        if isinstance(event, TokenEvent):
            stamps.append(time.perf_counter())
        elif isinstance(event, ErrorEvent):
            raise error_from_event(event)
        elif isinstance(event, DoneEvent):
            rate, n = _rate(stamps)
            return rate, n, event
    raise RuntimeError("the engine ended without a done event")


def _chat_ttft(client: EngineClient, reuse: bool) -> float:
    messages: list[Message] = []
    ttft = 0.0
    for i, turn in enumerate(TURNS):
        messages.append(Message("user", turn))
        last = i == len(TURNS) - 1
        request = GenerateRequest(
            params=SamplingParams.greedy(max_tokens=48),
            messages=tuple(messages),
            candidates=20,
            reuse_prefix=reuse or not last,
        )
        _, _, done = _glassbox_rate(client, request)
        messages.append(Message("assistant", done.text))
        ttft = done.ttft_s
    return ttft


def run_engine_bench(
    config: EngineConfig,
    *,
    tokens: int = 256,
    long_tokens: int = 2048,
    rounds: int = 5,
    long_rounds: int = 2,
    candidates: int = 20,
    log: Callable[[str], None] = lambda s: print(s, file=sys.stderr, flush=True),  # noqa: T201
) -> EngineBench:
    """Measure the engine against raw llama-cpp-python, alternating, in one run."""
    gen, batch = default_threads()
    n_threads = config.n_threads or gen
    n_threads_batch = config.n_threads_batch or batch
    config = EngineConfig(
        model_path=config.model_path,
        n_ctx=max(config.n_ctx, long_tokens + 64),
        n_threads=n_threads,
        n_threads_batch=n_threads_batch,
        n_gpu_layers=config.n_gpu_layers,
        n_batch=config.n_batch,
    )
    params = SamplingParams(seed=1234, max_tokens=tokens)
    out = EngineBench(
        model=Path(config.model_path).name,
        n_ctx=config.n_ctx,
        n_threads=n_threads,
        n_threads_batch=n_threads_batch,
        candidates=candidates,
        rounds=rounds,
        long_rounds=long_rounds if long_tokens else 0,
    )
    client = EngineClient()
    client.load(config)
    raw = _Raw(config, n_threads, n_threads_batch)
    try:
        g_rates, r_rates, b_rates = [], [], []
        for i in range(rounds):
            # Alternate which side goes first (A B, B A, …): a machine that speeds up
            # or slows down during a round then favours neither.
            r, rn, g, gn = _pair(raw, client, params, candidates, raw_first=i % 2 == 0)
            b, _ = raw.run("bare", COUNTING_PROMPT, tokens, params)
            log(
                f"round {i + 1}/{rounds} at {tokens}: raw {r:.1f} tok/s ({rn} tokens), "
                f"glassbox {g:.1f} tok/s ({gn} tokens), decode loop {b:.1f} tok/s"
            )
            r_rates.append(r)
            g_rates.append(g)
            b_rates.append(b)
            out.pairs_256.append(g / r if r else 0.0)
        out.tokens_per_s_raw = statistics.median(r_rates)
        out.tokens_per_s_glassbox = statistics.median(g_rates)
        out.tokens_per_s_decode_loop = statistics.median(b_rates)
        out.ratio = statistics.median(out.pairs_256)
        out.ratio_vs_decode_loop = statistics.median(
            g / b for g, b in zip(g_rates, b_rates, strict=True) if b
        )

        if long_tokens and long_rounds:
            long_params = SamplingParams(seed=1234, max_tokens=long_tokens)
            long_r, long_g = [], []
            for i in range(long_rounds):
                r, rn, g, gn = _pair(raw, client, long_params, candidates, raw_first=i % 2 == 0)
                log(
                    f"round {i + 1}/{long_rounds} at {long_tokens}: raw {r:.1f} tok/s "
                    f"({rn} tokens), glassbox {g:.1f} tok/s ({gn} tokens)"
                )
                long_r.append(r)
                long_g.append(g)
                out.pairs_2048.append(g / r if r else 0.0)
            out.tokens_per_s_raw_2048 = statistics.median(long_r)
            out.tokens_per_s_glassbox_2048 = statistics.median(long_g)
            out.ratio_2048 = statistics.median(out.pairs_2048)

        reuse = _chat_ttft(client, reuse=True)
        fresh = _chat_ttft(client, reuse=False)
        out.ttft_turn5_reuse_s, out.ttft_turn5_no_reuse_s = reuse, fresh
        out.ttft_ratio_turn5 = reuse / fresh if fresh else 0.0
        log(
            f"5th-turn first token: {reuse * 1000:.0f} ms with prefix reuse, "
            f"{fresh * 1000:.0f} ms without"
        )

        assert client.pid is not None
        out.rss_glassbox_mb = _peak_rss_mb(client.pid)
        assert raw.proc.pid is not None
        out.rss_raw_mb = _peak_rss_mb(raw.proc.pid)
        out.rss_extra_mb = out.rss_glassbox_mb - out.rss_raw_mb
    finally:
        raw.close()
        client.close()
    return out


@dataclass
class RemoteBench:
    """The figures printed by ``glassbox bench engine --engine openai``."""

    model: str
    server: str
    candidates: int
    tokens: int
    rounds: int
    tokens_per_s_remote: float = 0.0
    tokens_per_s_local: float = 0.0
    ratio: float = 0.0
    pairs: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready figures."""
        return asdict(self)


def run_remote_bench(
    remote: Any,
    config: EngineConfig,
    *,
    tokens: int = 256,
    rounds: int = 5,
    candidates: int = 20,
    log: Callable[[str], None] = lambda s: print(s, file=sys.stderr, flush=True),  # noqa: T201
) -> RemoteBench:
    """Remote server tokens/s ÷ the local engine's on ``config``'s model, alternating."""
    from desktop_app.core.engine.openai_remote import MAX_REMOTE_CANDIDATES

    k = min(candidates, MAX_REMOTE_CANDIDATES)  # the same K on both sides
    params = SamplingParams(seed=1234, max_tokens=tokens)
    request = GenerateRequest(params=params, prompt=COUNTING_PROMPT, candidates=k, ignore_eos=True)
    loaded = remote.load(config)
    out = RemoteBench(
        model=Path(config.model_path).name,
        server=loaded.backend,
        candidates=k,
        tokens=tokens,
        rounds=rounds,
    )
    client = EngineClient()
    client.load(config)
    try:
        remote_rates, local_rates = [], []
        for i in range(rounds):
            order = [remote, client] if i % 2 == 0 else [client, remote]
            rates = {}
            for side in order:
                rate, n, _ = _glassbox_rate(side, request)
                rates[id(side)] = (rate, n)
            (r, rn), (g, gn) = rates[id(remote)], rates[id(client)]
            log(
                f"round {i + 1}/{rounds}: remote {r:.1f} tok/s ({rn} tokens), "
                f"local {g:.1f} tok/s ({gn} tokens)"
            )
            remote_rates.append(r)
            local_rates.append(g)
            out.pairs.append(r / g if g else 0.0)
        out.tokens_per_s_remote = statistics.median(remote_rates)
        out.tokens_per_s_local = statistics.median(local_rates)
        out.ratio = statistics.median(out.pairs)
    finally:
        client.close()
    return out
