"""``glassbox bench speculative``: replies with drafting against replies without.

One engine process, one model, the same threads: every prompt is answered in
each mode (no drafting, prompt lookup, the draft model, both) at each
temperature, the modes taking turns, so a machine that speeds up or slows down
affects them all. Probabilities are captured for every token, as in the window.
Figures per prompt set and mode: tokens/s of generation (the engine's own
count, first token excluded), the ratio to no drafting, the acceptance rate,
and whether the tokens were those of the reply without drafting.

The prompt sets: code (writing and editing), prose in English and Chinese,
grounded answers (a passage and a question about it, answered with quotes),
and rewrites (a text given back with its typos fixed).
"""

from __future__ import annotations

import multiprocessing as mp
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from multiprocessing.connection import Connection

from desktop_app.core.engine.protocol import (
    DoneEvent,
    DraftSettings,
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

_CSV_CODE = """def load(path):
    rows = []
    f = open(path)
    header = f.readline().strip().split(",")
    for line in f:
        values = line.strip().split(",")
        rows.append(dict(zip(header, values)))
    f.close()
    return rows


def total(rows, column):
    s = 0
    for r in rows:
        s = s + float(r[column])
    return s
"""

_JS_CODE = """function groupBy(items, key) {
  const groups = {};
  for (const item of items) {
    const k = item[key];
    if (!(k in groups)) {
      groups[k] = [];
    }
    groups[k].push(item);
  }
  return groups;
}
"""

_PASSAGE_EN = (
    "GGUF is the file format llama.cpp uses for models. A GGUF file holds the model's "
    "weights together with its metadata: the architecture, the context length it was "
    "trained with, the tokenizer's vocabulary and merges, and often a chat template. "
    "Weights are usually quantized: Q4_K_M stores most weights in about 4.8 bits, which "
    "makes a 1.5-billion-parameter model about 1.1 GB instead of 3 GB at 16 bits. "
    "Quantization loses a little accuracy; Q8_0 loses almost none but is twice as large "
    "as Q4_K_M. Because the metadata is in the file, a program can check a model before "
    "loading it, for example that its vocabulary matches another model's."
)

_PASSAGE_ZH = (
    "推测解码是一种加快大语言模型生成速度的方法。一个较小的草稿模型先连续猜出几个词元，"
    "再由目标模型一次性并行验证这些词元。目标模型接受与自己的抽样结果一致的词元，"
    "在第一个不一致的位置用自己的结果替换草稿。由于每个位置仍按目标模型的分布抽样，"
    "生成结果的分布与不使用草稿时相同。加速的程度取决于草稿被接受的比例，"
    "以及一次验证多个词元比逐个计算节省了多少时间。在显卡上，批量验证几乎不增加耗时；"
    "在只有两个核心的处理器上，批量验证的成本要高得多。"
)

_TYPO_EN = (
    "Glassbox is an offline assistant for the desktop. It runs a local langauge model and "
    "shows it's work: every token can be opened to see the probabilities of the "
    "alternatives, what each sampler step kept or cut, and wich token was drawn. People "
    "drag there documents onto the window and then chat with them, with citations that "
    "point to the exact passage. Nothing leaves the computer, and the models come with "
    "the app, so it works on a plane, in a lab without network, or anywere else."
)

_TYPO_ZH = (
    "玻璃盒是一个离线的桌面助手。它在本地运行语言模型，并且展示它的工做过程：每个词元都可以"
    "打开，查看候选词元的概率、每一步采样保留或删除了什么，以及最终抽中了哪个词元。用户把"
    "文挡拖到窗口上，然后就可以和文档对话，引用会指向准确的段落。所有数据都不会离开电恼。"
)

#: name -> the user messages of the set.
PROMPT_SETS: dict[str, tuple[str, ...]] = {
    "code": (
        "Add type hints and a docstring to every function below, and use a with block "
        "for the file. Return the whole code.\n\n```python\n" + _CSV_CODE + "```",
        "Rewrite this JavaScript function in Python, keeping the names.\n\n```js\n"
        + _JS_CODE
        + "```",
        "Write a Python function that returns the n-th Fibonacci number iteratively, "
        "with a docstring and three doctest examples.",
    ),
    "prose": (
        "In one paragraph, explain to a new user why a language model sometimes gives "
        "different answers to the same question.",
        "用一段话向新用户解释，为什么在自己的电脑上离线运行语言模型对隐私有好处。",
    ),
    "grounded": (
        "Answer the question using only the passage, and quote the sentence you used.\n\n"
        f"Passage: {_PASSAGE_EN}\n\nQuestion: How large is a 1.5-billion-parameter model "
        "at Q4_K_M, and why?",
        f"只根据下面的段落回答问题，并引用你所依据的句子。\n\n段落：{_PASSAGE_ZH}\n\n"
        "问题：为什么推测解码不改变生成结果的分布？",
    ),
    "rewrite": (
        "Fix the spelling mistakes in this text and return the whole text, changing "
        f"nothing else.\n\n{_TYPO_EN}",
        f"改正下面这段文字中的错别字，返回完整的文字，其他内容不要改动。\n\n{_TYPO_ZH}",
    ),
}

#: mode name -> its drafting settings (None: the mode needs the draft model).
MODES: dict[str, DraftSettings] = {
    "off": DraftSettings(),
    "lookup": DraftSettings(prompt_lookup=True),
    "draft": DraftSettings(draft_model=True),
    "both": DraftSettings(prompt_lookup=True, draft_model=True),
}


@dataclass
class ModeFigures:
    """One mode on one prompt set at one temperature."""

    tokens: int = 0
    seconds: float = 0.0
    proposed: int = 0
    accepted: int = 0
    same_tokens: int = 0
    replies: int = 0
    ttft_s: list[float] = field(default_factory=list)

    @property
    def tokens_per_s(self) -> float:
        """Generation speed: tokens after the first over the time after the first."""
        return self.tokens / self.seconds if self.seconds > 0 else 0.0

    @property
    def acceptance(self) -> float | None:
        """Share of proposed tokens accepted."""
        return self.accepted / self.proposed if self.proposed else None


@dataclass
class SpeculativeBench:
    """The figures printed by ``glassbox bench speculative``."""

    model: str
    draft_model: str | None
    n_threads: int
    n_threads_batch: int
    max_tokens: int
    max_draft: int
    candidates: int
    fixed: bool = False
    rows: list[dict[str, object]] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        """JSON-ready figures."""
        return asdict(self)


def _reply(client: EngineClient, request: GenerateRequest) -> tuple[list[int], DoneEvent]:
    ids: list[int] = []
    for event in client.generate(request):
        if isinstance(event, TokenEvent):
            ids.append(event.id)
        elif isinstance(event, ErrorEvent):
            raise error_from_event(event)
        elif isinstance(event, DoneEvent):
            return ids, event
    raise RuntimeError("the engine ended without a done event")


def run_speculative_bench(
    config: EngineConfig,
    *,
    sets: tuple[str, ...] = tuple(PROMPT_SETS),
    modes: tuple[str, ...] = ("off", "lookup", "draft"),
    temperatures: tuple[float, ...] = (0.0, 0.7),
    max_tokens: int = 128,
    max_draft: int = 8,
    candidates: int = 20,
    fixed: bool = False,
    progress: Callable[[str], None] | None = None,
) -> SpeculativeBench:
    """Answer every prompt of ``sets`` in every mode at every temperature, modes in turn."""
    if "off" not in modes:
        modes = ("off", *modes)
    if config.draft_model_path is None:
        modes = tuple(m for m in modes if not MODES[m].draft_model)
    client = EngineClient()
    try:
        loaded = client.load(config)
        if loaded.draft_error:
            raise RuntimeError(loaded.draft_error)
        result = SpeculativeBench(
            model=loaded.model_path,
            draft_model=loaded.draft_model_path,
            n_threads=loaded.n_threads,
            n_threads_batch=loaded.n_threads_batch,
            max_tokens=max_tokens,
            max_draft=max_draft,
            candidates=candidates,
            fixed=fixed,
        )
        figures: dict[tuple[str, float, str], ModeFigures] = {}
        turn = 0
        for name in sets:
            for prompt in PROMPT_SETS[name]:
                messages = (Message("user", prompt),)
                for temperature in temperatures:
                    params = SamplingParams(
                        temperature=temperature, seed=20261206, max_tokens=max_tokens
                    )
                    # Warm the prompt into the cache once: every mode then starts from it.
                    _reply(
                        client,
                        GenerateRequest(
                            params=SamplingParams.greedy(max_tokens=1),
                            messages=messages,
                            candidates=candidates,
                        ),
                    )
                    order = modes[turn % len(modes) :] + modes[: turn % len(modes)]
                    turn += 1
                    replies: dict[str, list[int]] = {}
                    for mode in order:
                        settings = DraftSettings(
                            prompt_lookup=MODES[mode].prompt_lookup,
                            draft_model=MODES[mode].draft_model,
                            max_draft=max_draft if mode != "off" else 0,
                            fixed=fixed,
                        )
                        ids, done = _reply(
                            client,
                            GenerateRequest(
                                params=params,
                                messages=messages,
                                candidates=candidates,
                                draft=settings,
                            ),
                        )
                        replies[mode] = ids
                        fig = figures.setdefault((name, temperature, mode), ModeFigures())
                        if done.completion_tokens > 1 and done.tokens_per_s > 0:
                            fig.tokens += done.completion_tokens - 1
                            fig.seconds += (done.completion_tokens - 1) / done.tokens_per_s
                        fig.proposed += done.draft_proposed
                        fig.accepted += done.draft_accepted
                        fig.replies += 1
                        if progress is not None:
                            progress(
                                f"{name} t={temperature:g} {mode}: {done.tokens_per_s:.1f} tok/s"
                                + (
                                    f", accepted {done.draft_accepted}/{done.draft_proposed}"
                                    if done.draft_proposed
                                    else ""
                                )
                            )
                    for mode, ids in replies.items():
                        figures[(name, temperature, mode)].same_tokens += ids == replies["off"]
        for (name, temperature, mode), fig in figures.items():
            base = figures[(name, temperature, "off")]
            result.rows.append(
                {
                    "set": name,
                    "temperature": temperature,
                    "mode": mode,
                    "tokens_per_s": round(fig.tokens_per_s, 2),
                    "ratio": round(fig.tokens_per_s / base.tokens_per_s, 3)
                    if base.tokens_per_s
                    else None,
                    "acceptance": None if fig.acceptance is None else round(fig.acceptance, 3),
                    "proposed": fig.proposed,
                    "accepted": fig.accepted,
                    "replies": fig.replies,
                    "same_tokens_as_off": fig.same_tokens,
                }
            )
        return result
    finally:
        client.close()


def measure_ttft(
    config: EngineConfig, *, prompt_tokens: int = 1500, runs: int = 3
) -> dict[str, float]:
    """Time to first token for a fresh prompt of about ``prompt_tokens`` tokens (median),
    and for the same conversation taken up again after another one (its KV state saved)."""
    client = EngineClient()
    try:
        client.load(config)
        text = (_PASSAGE_EN + " ") * 40
        while client.count_tokens(text) > prompt_tokens:
            text = text[: int(len(text) * 0.95)]
        fresh, back = [], []
        for i in range(runs):
            chat = (Message("user", f"{i}: {text}\n\nSummarize this in one sentence."),)
            other = (Message("user", f"{i}: Write a haiku about the sea."),)
            first = GenerateRequest(
                params=SamplingParams.greedy(max_tokens=1), messages=chat, reuse_prefix=False
            )
            fresh.append(_reply(client, first)[1].ttft_s)
            _reply(client, replace(first, messages=other, reuse_prefix=True))
            back.append(_reply(client, replace(first, reuse_prefix=True))[1].ttft_s)
        return {
            "prompt_tokens": float(client.count_tokens(text)),
            "n_batch": float(config.n_batch),
            "ttft_s": statistics.median(fresh),
            "ttft_back_s": statistics.median(back),
        }
    finally:
        client.close()


def _reference_main(conn: Connection, config: EngineConfig) -> None:
    """Child process: raw llama-cpp-python, with and without its prompt-lookup drafting."""
    import llama_cpp
    from llama_cpp.llama_speculative import LlamaPromptLookupDecoding

    from desktop_app.core.engine.llama_backend import model_params_override
    from desktop_app.core.engine.native import load_backends

    gen, batch = default_threads()
    models = {}
    with model_params_override(llama_cpp, use_extra_bufts=not load_backends().has_amx):
        for mode, draft in (("off", None), ("lookup", LlamaPromptLookupDecoding())):
            models[mode] = llama_cpp.Llama(
                model_path=config.model_path,
                n_ctx=config.n_ctx,
                n_threads=config.n_threads or gen,
                n_threads_batch=config.n_threads_batch or batch,
                draft_model=draft,
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
        _, mode, prompt, n = msg
        stamps = []
        for _chunk in models[mode].create_chat_completion(
            [{"role": "user", "content": prompt}], max_tokens=n, temperature=0.0, stream=True
        ):
            stamps.append(time.perf_counter())
        conn.send(stamps)


def run_reference(
    config: EngineConfig, *, sets: tuple[str, ...], max_tokens: int
) -> list[dict[str, object]]:
    """Raw llama-cpp-python at temperature 0: tokens/s with its prompt lookup ÷ without."""
    ctx = mp.get_context("spawn")
    conn, child = ctx.Pipe()
    proc = ctx.Process(target=_reference_main, args=(child, config), daemon=True)
    proc.start()
    child.close()
    rows: list[dict[str, object]] = []
    try:
        if conn.recv() != "ready":
            raise RuntimeError("the raw llama-cpp-python process did not start")
        for name in sets:
            rate: dict[str, list[float]] = {"off": [], "lookup": []}
            for i, prompt in enumerate(PROMPT_SETS[name]):
                for mode in ("off", "lookup") if i % 2 == 0 else ("lookup", "off"):
                    conn.send(("run", mode, prompt, max_tokens))
                    stamps: list[float] = conn.recv()
                    if len(stamps) > 2:
                        rate[mode].append((len(stamps) - 2) / (stamps[-2] - stamps[0]))
            off, lookup = statistics.mean(rate["off"]), statistics.mean(rate["lookup"])
            rows.append(
                {
                    "set": name,
                    "tokens_per_s_off": round(off, 2),
                    "tokens_per_s_lookup": round(lookup, 2),
                    "ratio": round(lookup / off, 3),
                }
            )
        conn.send(("exit",))
        proc.join(timeout=10)
        return rows
    finally:
        if proc.is_alive():
            proc.kill()
