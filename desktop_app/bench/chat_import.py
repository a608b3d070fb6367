"""``glassbox bench import``: chats imported per second from a big ChatGPT export.

A synthetic ``conversations.json`` (by default 1,000 conversations, about 50 MB)
is written into a temporary folder, in the shape of the real export: a null
root and a hidden system node, then turns of mixed Chinese and English text,
with regenerated replies (sibling assistant nodes), edited questions (a sibling
user node with a short branch of its own), now and then a tool call and its
output, and ``current_node`` on the last reply. The import into a fresh chat
database is timed (generation is not), with progress reported as it goes.
The goal: 1,000 chats from 50 MB in under 30 s on 2 cores.
"""

from __future__ import annotations

import json
import os
import random
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from desktop_app.core.chat.importer import ImportProgress, import_file
from desktop_app.core.chat.store import ChatStore

#: The goal of the issue, in seconds, for 1,000 chats in 50 MB.
GOAL_S = 30.0

_CHINESE = (
    "大语言模型会根据上下文预测下一个词。",
    "请把这段代码改写成更容易读的样子。",
    "检索增强生成先查找相关的段落，再让模型回答。",
    "这个问题的关键在于采样温度的设置。",
    "我们明天上午十点在图书馆见面吧。",
    "把结果整理成表格，按日期排序。",
    "量化可以让模型在普通电脑上运行得更快。",
    "这篇文章的结论还需要更多的数据支持。",
    "你能解释一下注意力机制是怎么工作的吗？",
    "猫喜欢在阳光下睡觉，尤其是冬天的午后。",
)
_ENGLISH = (
    "The model predicts the next token from the context so far.",
    "Could you rewrite this function so that it is easier to test?",
    "Retrieval-augmented generation looks up passages before answering.",
    "Lower temperatures make the replies more predictable.",
    "Here is a summary of the meeting notes in three bullet points.",
    "Sort the results by date and put them in a table.",
    "Quantization lets a 7B model run on an ordinary laptop.",
    "The evidence for this conclusion is still rather thin.",
    "Attention weighs every earlier token when computing the next one.",
    "```python\ndef mean(xs):\n    return sum(xs) / len(xs)\n```",
)


@dataclass(frozen=True)
class ImportBenchResult:
    """Figures of ``glassbox bench import``."""

    chats: int
    messages: int
    mb: float
    seconds: float
    chats_per_s: float
    mb_per_s: float
    progress_reports: int
    cpus: int
    goal_s: float
    met: bool
    generate_s: float

    def as_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return asdict(self)


class _Text:
    """Mixed Chinese and English paragraphs of about a given length."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def __call__(self, chars: int) -> str:
        rng = self.rng
        parts: list[str] = []
        size = 0
        while size < chars:
            pool = _CHINESE if rng.random() < 0.5 else _ENGLISH
            sentence = rng.choice(pool)
            parts.append(sentence)
            size += len(sentence) + 1
            if rng.random() < 0.15:
                parts.append("\n\n")
        return " ".join(parts).strip() or "…"


class _Conversation:
    """One ChatGPT conversation being built, node by node."""

    def __init__(self, n: int, start: float) -> None:
        self.n = n
        self.mapping: dict[str, dict[str, Any]] = {}
        self.clock = start
        self.count = 0

    def node(
        self,
        parent: str | None,
        role: str | None,
        text: str = "",
        *,
        hidden: bool = False,
        recipient: str = "all",
        content_type: str = "text",
    ) -> str:
        self.count += 1
        key = f"{self.n:05d}-{self.count:04d}-aaaa-bbbb-cccccccccccc"
        self.clock += 7.5
        message: dict[str, Any] | None = None
        if role is not None:
            content: dict[str, Any] = (
                {"content_type": content_type, "parts": [text]}
                if content_type == "text"
                else {"content_type": content_type, "text": text}
            )
            message = {
                "id": key,
                "author": {"role": role, "name": None, "metadata": {}},
                "create_time": self.clock if role != "system" else None,
                "update_time": None,
                "content": content,
                "status": "finished_successfully",
                "end_turn": True if role == "assistant" else None,
                "weight": 0.0 if hidden else 1.0,
                "metadata": (
                    {"is_visually_hidden_from_conversation": True}
                    if hidden
                    else {"model_slug": "gpt-4o"}
                    if role == "assistant"
                    else {}
                ),
                "recipient": recipient,
            }
        self.mapping[key] = {"id": key, "message": message, "parent": parent, "children": []}
        if parent is not None:
            self.mapping[parent]["children"].append(key)
        return key


def _conversation(n: int, rng: random.Random, text: _Text, scale: float) -> dict[str, Any]:
    """A conversation with realistic branch shapes; ``scale`` sets how long its texts are."""
    start = 1_600_000_000.0 + n * 3600.0
    conv = _Conversation(n, start)
    root = conv.node(None, None)
    tip = conv.node(root, "system", "", hidden=True)
    turns = rng.randint(3, 16)
    title = text(rng.randint(8, 30))[:40]
    for _ in range(turns):
        question = text(int(rng.randint(40, 300) * scale))
        asked = conv.node(tip, "user", question)
        if rng.random() < 0.1:
            # An edited question: a sibling user node with a short branch of its own.
            edited = conv.node(tip, "user", question + " " + text(40))
            conv.node(edited, "assistant", text(int(rng.randint(200, 900) * scale)))
        parent = asked
        if rng.random() < 0.08:
            call = conv.node(
                asked, "assistant", "search()", recipient="python", content_type="code"
            )
            parent = conv.node(call, "tool", "results", content_type="execution_output")
        replies = 1 + (rng.random() < 0.2) + (rng.random() < 0.05)
        last = ""
        for _ in range(replies):
            last = conv.node(parent, "assistant", text(int(rng.randint(200, 1500) * scale)))
        tip = last
    return {
        "title": title,
        "create_time": start,
        "update_time": conv.clock,
        "mapping": conv.mapping,
        "moderation_results": [],
        "current_node": tip,
        "plugin_ids": None,
        "conversation_id": f"{n:08d}-0000-4000-8000-000000000000",
        "conversation_template_id": None,
        "gizmo_id": None,
        "is_archived": False,
        "safe_urls": [],
        "id": f"{n:08d}-0000-4000-8000-000000000000",
    }


def write_export(path: Path, chats: int = 1000, mb: float = 50.0, seed: int = 0) -> int:
    """Write a synthetic ``conversations.json`` of ``chats`` conversations in about ``mb``
    MB; returns its size in bytes. Text lengths follow the bytes still to write."""
    rng = random.Random(seed)
    text = _Text(rng)
    target = mb * 1024 * 1024
    written = 0
    scale = 1.0
    with path.open("w", encoding="utf-8") as f:
        f.write("[")
        written += 1
        for n in range(chats):
            block = json.dumps(_conversation(n, rng, text, scale), ensure_ascii=False)
            data = ("," if n else "") + block
            f.write(data)
            written += len(data.encode("utf-8"))
            left = chats - n - 1
            if left:
                # Steer the next conversations toward the bytes still wanted.
                wanted = (target - written) / left
                average = written / (n + 1)
                scale = max(0.05, min(20.0, scale * wanted / max(1.0, average)))
        f.write("]\n")
        written += 2
    return written


def _cpus() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 0


def run_import_bench(chats: int = 1000, mb: float = 50.0, seed: int = 0) -> ImportBenchResult:
    """Write the synthetic export, then time its import into a fresh chat database."""
    with tempfile.TemporaryDirectory(prefix="glassbox-bench-import-") as folder:
        source = Path(folder) / "conversations.json"
        began = time.perf_counter()
        size = write_export(source, chats, mb, seed)
        generate_s = time.perf_counter() - began
        with ChatStore(Path(folder) / "chats.sqlite3") as store:
            db = store.path
        reports: list[ImportProgress] = []
        began = time.perf_counter()
        result = import_file(db, source, "openai", progress=reports.append)
        seconds = time.perf_counter() - began
    megabytes = size / 2**20
    return ImportBenchResult(
        chats=result.chats,
        messages=result.messages,
        mb=round(megabytes, 1),
        seconds=round(seconds, 2),
        chats_per_s=round(result.chats / seconds, 1),
        mb_per_s=round(megabytes / seconds, 2),
        progress_reports=len(reports),
        cpus=_cpus(),
        goal_s=GOAL_S,
        met=seconds < GOAL_S,
        generate_s=round(generate_s, 2),
    )
