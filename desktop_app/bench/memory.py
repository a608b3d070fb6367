"""``glassbox bench memory``: the memory estimate against the engine process's measured RSS.

For each model and context the real engine process (``EngineClient``) loads
the model; its resident memory is read from ``/proc/PID/status`` right after
the load, then again after the whole context was filled: a prompt of the
context's length less a few tokens is evaluated (in 512-token batches, as any
long prompt is) and one token generated. Filled means that: every cell of
the KV cache written, and the largest attention batch (the last one, which
attends to the whole context) computed. llama.cpp zeroes the KV cache when it
creates the context, so the cache is resident already after the load; the
fill adds the compute buffers that long attention touches and any weight
pages not read during the load.

The estimate (``estimate_memory``) is computed from the file's header alone,
as the Model panel shows it before loading. The ratio printed is
estimate ÷ measured VmRSS after the fill (goal: 0.9 to 1.1).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from desktop_app.core.engine.protocol import (
    DoneEvent,
    EngineConfig,
    ErrorEvent,
    GenerateRequest,
)
from desktop_app.core.errors import error_from_event
from desktop_app.core.models.gguf_info import inspect_contents
from desktop_app.core.models.memory_fit import estimate_memory
from desktop_app.core.sampling import SamplingParams
from desktop_app.workers.engine.client import EngineClient

#: Tokens left free at the end of a filled context (the generated token, and
#: room for a tokenizer that counts a text one or two tokens differently).
_FILL_MARGIN = 16

# Varied text, so the prompt reads many different token rows.
_FILL_UNIT = (
    "Entry {n}: the archive lists {n} crates of apples, {m} barrels of cider and a "
    "ledger signed by clerk number {k}. 项目 {n} 已完成，检查员 {k} 签字。\n"
)


def status_bytes(pid: int) -> dict[str, int]:
    """VmRSS, VmHWM, RssAnon and RssFile of a process in bytes (Linux ``/proc``)."""
    out: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
            out[key] = int(rest.split()[0]) * 1024
    return out


@dataclass
class MemoryRow:
    """One model at one context: the estimate by part, and what was measured."""

    model: str
    n_ctx: int
    cache_type: str
    estimate: dict[str, int]
    rss_after_load: int
    rss_after_fill: int
    hwm_after_fill: int
    anon_after_fill: int
    file_after_fill: int
    filled_tokens: int
    fill_s: float
    ratio: float

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready figures."""
        return asdict(self)


def _fill_text(client: EngineClient, tokens: int) -> tuple[str, int]:
    """A prompt of about ``tokens`` tokens (never more) for the loaded model, and its count."""
    units: list[str] = []
    n = 0
    # Grow in chunks, counting now and then: counting costs a pipe round trip.
    while True:
        chunk = [
            _FILL_UNIT.format(n=i, m=(i * 7) % 1000, k=(i * 13) % 97)
            for i in range(len(units), len(units) + 50)
        ]
        count = client.count_tokens("".join(units + chunk))
        if count > tokens:
            break
        units += chunk
        n = count
    # Then one unit at a time up to the limit.
    for i in range(len(units), len(units) + 50):
        unit = _FILL_UNIT.format(n=i, m=(i * 7) % 1000, k=(i * 13) % 97)
        count = client.count_tokens("".join(units) + unit)
        if count > tokens:
            break
        units.append(unit)
        n = count
    return "".join(units), n


def measure(
    model_path: str,
    n_ctx: int,
    *,
    n_threads: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> MemoryRow:
    """Load ``model_path`` at ``n_ctx`` in the engine process, fill the context, measure RSS."""
    contents = inspect_contents(model_path)
    est = estimate_memory(contents, n_ctx)
    client = EngineClient()
    try:
        client.load(
            EngineConfig(
                model_path=model_path, n_ctx=n_ctx, n_threads=n_threads, n_threads_batch=n_threads
            )
        )
        pid = client.pid
        if pid is None:
            raise RuntimeError("the engine process ended after loading the model")
        after_load = status_bytes(pid)
        text, n_tokens = _fill_text(client, n_ctx - _FILL_MARGIN)
        if progress is not None:
            progress(f"  filling {n_tokens:,} tokens of {Path(model_path).name} at {n_ctx:,}…")
        request = GenerateRequest(
            prompt=text,
            params=SamplingParams(temperature=0.0, max_tokens=1),
            candidates=1,
            ignore_eos=True,
            reuse_prefix=False,
        )
        start = time.perf_counter()
        for event in client.generate(request):
            if isinstance(event, ErrorEvent):
                raise error_from_event(event)
            if isinstance(event, DoneEvent):
                break
        fill_s = time.perf_counter() - start
        after_fill = status_bytes(pid)
    finally:
        client.close()
    measured = after_fill["VmRSS"]
    return MemoryRow(
        model=Path(model_path).name,
        n_ctx=n_ctx,
        cache_type=est.cache_type,
        estimate=est.parts(),
        rss_after_load=after_load["VmRSS"],
        rss_after_fill=measured,
        hwm_after_fill=after_fill["VmHWM"],
        anon_after_fill=after_fill.get("RssAnon", 0),
        file_after_fill=after_fill.get("RssFile", 0),
        filled_tokens=n_tokens,
        fill_s=fill_s,
        ratio=est.total / measured if measured else 0.0,
    )


def run_memory_bench(
    models: Sequence[str],
    contexts: Sequence[int],
    *,
    n_threads: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[MemoryRow]:
    """Every model at every context, one engine process each."""
    return [measure(m, n, n_threads=n_threads, progress=progress) for m in models for n in contexts]
