"""``glassbox bench ui``: does the window keep up with a fast stream, probabilities on?

The UI benchmark streams a synthetic reply (Markdown with tables, nested lists,
links, images and code blocks in several languages, 20 candidates per token) at
a fixed rate through the real path: an engine on the controller's worker thread,
the controller's batching, the chat session with its recorder writing to SQLite,
and the real window with probabilities on and drafted tokens marked (every token
carries a draft mark, as a reply with speculative decoding does). A 1 ms
heartbeat timer in the GUI thread measures how long the event loop was held up;
each batch of tokens measures how far the window lags behind the engine.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from desktop_app.core.engine.protocol import (
    DoneEvent,
    DraftMark,
    EngineConfig,
    Event,
    GenerateRequest,
    ModelLoaded,
    TokenEvent,
)
from desktop_app.core.sampling import Candidate

_PARAGRAPH = (
    "The sampler turns **logits** into probabilities, then each stage keeps or cuts "
    "candidates: *temperature* reshapes the distribution, `top_k` keeps the k most likely, "
    "top-p keeps the smallest set that reaches the mass p, and min-p drops tokens far below "
    "the best one. 大语言模型在每一步都会给出整个词表上的概率分布。\n\n"
)
_LIST = (
    "- a local GGUF model, loaded with llama.cpp\n"
    "- the probability of every token, with its alternatives\n"
    "- answers grounded in your documents, with [1] citations\n\n"
)
_CODE = (
    "```python\n"
    "def softmax(logits, temperature=0.8):\n"
    "    # Scale, then normalise so the values sum to one.\n"
    "    scaled = [x / temperature for x in logits]\n"
    "    top = max(scaled)\n"
    "    exp = [math.exp(x - top) for x in scaled]\n"
    "    return [e / sum(exp) for e in exp]\n"
    "```\n\n"
)
_TABLE = (
    "| Stage | Keeps | Typical value |\n"
    "|:------|:-----:|--------------:|\n"
    "| `temperature` | all, reshaped | 0.8 |\n"
    "| **top-k** | the k most likely | 40 |\n"
    "| top-p | mass p | 0.95 |\n"
    "| min-p | above p × best | 0.05 |\n\n"
)
_NESTED = (
    "1. Load the model\n"
    "   - pick a *quantisation*: `Q4_K_M` or `Q8_0`\n"
    "   - check the [llama.cpp notes](https://github.com/ggerganov/llama.cpp)\n"
    "2. Stream the reply\n"
    "   1. tokens arrive in batches\n"
    "   2. each one keeps its alternatives\n\n"
    "![sampling diagram](https://example.com/sampling.png)\n\n"
)
_MORE_CODE = (
    "```javascript\n"
    "const topK = (probs, k) => probs\n"
    "  .map((p, i) => ({ p, i }))  // keep the index\n"
    "  .sort((a, b) => b.p - a.p)\n"
    "  .slice(0, k);\n"
    "```\n\n"
    "```rust\n"
    "fn min_p(probs: &[f32], p: f32) -> Vec<usize> {\n"
    "    let best = probs.iter().cloned().fold(0.0, f32::max);\n"
    "    (0..probs.len()).filter(|&i| probs[i] >= p * best).collect()\n"
    "}\n"
    "```\n\n"
    "```sql\n"
    "SELECT token, AVG(p) AS mean_p FROM tokens WHERE p < 0.5 GROUP BY token;\n"
    "```\n\n"
    "```bash\n"
    "glassbox bench ui --tokens 5000 --rate 500  # the figures above\n"
    "```\n\n"
)


def synthetic_pieces(n_tokens: int) -> list[str]:
    """Token texts of a long Markdown reply: headings, tables, lists and code."""
    import re

    pieces: list[str] = []
    section = 0
    while len(pieces) < n_tokens:
        section += 1
        text = (
            f"## Section {section}\n\n"
            + _PARAGRAPH
            + _TABLE
            + _LIST
            + _NESTED
            + _CODE
            + _MORE_CODE
            + _PARAGRAPH
        )
        # Roughly what a BPE tokenizer makes: a leading space and up to four characters.
        pieces.extend(re.findall(r" ?[^\s]{1,4}|\n|\s", text))
    return pieces[:n_tokens]


def synthetic_tokens(n_tokens: int, candidates: int = 20, seed: int = 0) -> list[TokenEvent]:
    """Token events with ``candidates`` alternatives each, as the engine reports them.

    Each carries a draft mark, as with speculative decoding: every fourth one was
    drawn after a rejected proposal, the others were drafted and accepted.
    """
    rng = np.random.default_rng(seed)
    out = []
    for i, text in enumerate(synthetic_pieces(n_tokens)):
        logits = np.sort(rng.normal(0.0, 2.0, candidates))[::-1]
        probs = np.exp(logits - logits.max())
        probs /= probs.sum()
        cands = tuple(
            Candidate(
                1000 + j,
                text if j == 0 else f"alt{j}",
                float(logits[j]),
                float(probs[j]),
                float(probs[j]) if j < 8 else 0.0,
                None if j < 8 else "top_k",
            )
            for j in range(candidates)
        )
        mark: DraftMark = "replaced" if i % 4 == 3 else "accepted"
        out.append(TokenEvent(i, 1000, text, float(probs[0]), cands, mark))
    return out


class ScriptedEngine:
    """An engine that emits prepared tokens at a fixed rate, noting when each left."""

    def __init__(self, tokens: list[TokenEvent], rate: float) -> None:
        self.tokens = tokens
        self.rate = rate
        self.sent_at: dict[int, float] = {}
        self._cancel = threading.Event()

    def load(self, config: EngineConfig) -> ModelLoaded:
        """Nothing to load."""
        return ModelLoaded(
            config.model_path, config.n_ctx, config.n_ctx, 0, 1, 1, "bench", False, 0.0
        )

    def cancel(self) -> None:
        """Stop after the current token."""
        self._cancel.set()

    def generate(self, request: GenerateRequest) -> Iterator[Event]:
        """Emit the tokens on a fixed schedule (no drift: each has its own due time)."""
        self._cancel.clear()
        start = time.perf_counter()
        for i, token in enumerate(self.tokens):
            if self._cancel.is_set():
                break
            due = start + i / self.rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            self.sent_at[i] = time.perf_counter()
            yield token
        elapsed = time.perf_counter() - start
        n = len(self.sent_at)
        yield DoneEvent(
            "eos", 10, n, 0.0, n / elapsed, 0, text="".join(t.text for t in self.tokens[:n])
        )


@dataclass(frozen=True)
class UiBenchResult:
    """Figures of ``glassbox bench ui``."""

    tokens: int
    rate: float
    candidates: int
    stream_s: float
    stall_p99_ms: float
    stall_max_ms: float
    stall_p50_ms: float
    heartbeats: int
    lag_start_ms: float
    lag_end_ms: float
    lag_max_ms: float
    tokens_shown: int
    kept_up: bool

    def as_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return asdict(self)


def run_ui_bench(tokens: int = 5000, rate: float = 500.0, candidates: int = 20) -> UiBenchResult:
    """Stream ``tokens`` at ``rate`` through the real window and measure the event loop."""
    if not os.environ.get("QT_QPA_PLATFORM"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    with tempfile.TemporaryDirectory(prefix="glassbox-bench-ui-") as home:
        os.environ["GLASSBOX_HOME"] = home
        return _run_ui_bench(tokens, rate, candidates)


def _run_ui_bench(n_tokens: int, rate: float, candidates: int) -> UiBenchResult:
    from PySide6.QtCore import QEventLoop, Qt, QTimer
    from PySide6.QtWidgets import QApplication

    from desktop_app.app import build
    from desktop_app.core.chat.store import ChatStore
    from desktop_app.core.settings import Settings
    from desktop_app.workers.engine.inference import InferenceController

    app = QApplication.instance() or QApplication([])
    events = synthetic_tokens(n_tokens, candidates)
    engine = ScriptedEngine(events, rate)
    settings = Settings()
    controller = InferenceController(
        lambda: engine,
        settings,
        settings_path=Path(os.environ["GLASSBOX_HOME"]) / "settings.json",
        resolver=lambda spec, progress: Path(spec),
        remember_model=False,
    )
    store = ChatStore()
    model = Path(os.environ["GLASSBOX_HOME"]) / "bench-model.gguf"
    model.write_bytes(b"")  # the scripted engine reads nothing; the fingerprint has a file
    window = build(controller, model_spec=str(model), store=store).window
    window.resize(1280, 800)
    window.show()
    window._probs_check.setChecked(True)
    window._drafts_action.setChecked(True)  # the heaviest formats: tint and dotted line
    loop = QEventLoop()
    controller.sig_model_loaded.connect(loop.quit)
    QTimer.singleShot(10_000, loop.quit)
    loop.exec()
    if controller.model_loaded is None:
        raise RuntimeError("The benchmark engine did not load.")

    beats: list[float] = []
    heartbeat = QTimer()
    heartbeat.setTimerType(Qt.TimerType.PreciseTimer)
    heartbeat.setInterval(1)
    heartbeat.timeout.connect(lambda: beats.append(time.perf_counter()))
    lags: list[tuple[int, float]] = []
    shown = [0]

    def on_tokens(batch: list[TokenEvent]) -> None:
        shown[0] += len(batch)
        last = batch[-1].index
        sent = engine.sent_at.get(last)
        if sent is not None:
            lags.append((last, time.perf_counter() - sent))

    window.session.sig_reply_tokens.connect(on_tokens)
    done_loop = QEventLoop()
    window.session.sig_busy.connect(lambda busy: None if busy else done_loop.quit())
    QTimer.singleShot(int(n_tokens / rate * 1000) + 30_000, done_loop.quit)
    heartbeat.start()
    start = time.perf_counter()
    window.session.send("Write a long answer with Markdown and code, please.")
    done_loop.exec()
    stream_s = time.perf_counter() - start
    heartbeat.stop()
    window.close()
    store.close()
    app.processEvents()

    gaps = np.diff(np.asarray(beats)) * 1000.0 if len(beats) > 1 else np.zeros(1)
    stalls = np.maximum(gaps - 1.0, 0.0)
    tenth = max(len(lags) // 10, 1)
    lag_ms = [lag * 1000 for _, lag in lags]
    return UiBenchResult(
        tokens=n_tokens,
        rate=rate,
        candidates=candidates,
        stream_s=stream_s,
        stall_p99_ms=float(np.percentile(stalls, 99)),
        stall_max_ms=float(stalls.max()),
        stall_p50_ms=float(np.percentile(stalls, 50)),
        heartbeats=len(beats),
        lag_start_ms=statistics.median(lag_ms[:tenth]) if lag_ms else float("nan"),
        lag_end_ms=statistics.median(lag_ms[-tenth:]) if lag_ms else float("nan"),
        lag_max_ms=max(lag_ms) if lag_ms else float("nan"),
        tokens_shown=shown[0],
        kept_up=shown[0] == n_tokens
        and bool(lag_ms)
        and statistics.median(lag_ms[-tenth:]) < 3 * max(statistics.median(lag_ms[:tenth]), 20.0),
    )
