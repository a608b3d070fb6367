"""An English question on Chinese documents, with the real default chat model (Qwen2.5-Coder-
1.5B): the model writes the question in Chinese, and that phrasing finds the passage the
English words alone cannot (the keyword indexes match no Chinese word for them)."""

from __future__ import annotations

from pathlib import Path

import pytest
from kb_fakes import HashEmbedder

from desktop_app.core.engine.protocol import EngineConfig
from desktop_app.core.kb import language
from desktop_app.core.kb.grounding import GroundingOptions, find_passages, ground
from desktop_app.core.kb.knowledge_base import KnowledgeBase
from desktop_app.core.kb.parse_host import InProcessParser
from desktop_app.core.kb.translate import engine_translator
from desktop_app.workers.engine.client import EngineClient

pytestmark = pytest.mark.e2e

QUESTION = "How do I enable disk quotas?"


def test_the_default_model_translates_the_question_and_its_phrasing_is_fused(
    qwen_path: Path, tmp_path: Path
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for i, topic in enumerate(["软件包管理", "网络配置", "系统启动", "备份与恢复"]):
        (docs / f"zh{i}.txt").write_text(f"本章介绍{topic}的基本概念和常用命令。", "utf-8")
    (docs / "quota.txt").write_text(
        "启用磁盘配额：在 /etc/fstab 中为分区加入 usrquota 选项，然后运行 quotacheck。", "utf-8"
    )
    with KnowledgeBase(tmp_path / "kb", embedder=HashEmbedder()) as kb:
        kb.ingest([docs], "c", InProcessParser())
        options = GroundingOptions(collections=("c",), k=2)
        plain = find_passages(kb, QUESTION, options)
        # The English words match no passage by keyword (vectors of a hash embedder
        # order them by chance).
        assert all(h.keyword is None for h in plain)
        with EngineClient() as client:
            loaded = client.load(EngineConfig(model_path=str(qwen_path), n_ctx=1024))
            chat = loaded.has_chat_template
            # Time is not what this checks (the machine may be busy): a generous bound.
            translator = engine_translator(client, chat_template=chat, timeout_s=300)
            grounded = ground(
                kb, client, QUESTION, options, chat_template=chat, translator=translator
            )
    phrasing = grounded.cross.phrasing
    assert phrasing is not None and language.detect(phrasing) == "zh", grounded.cross.note
    assert grounded.phrasings == [phrasing]
    top = grounded.hits[0]
    assert Path(top.chunk.path).name == "quota.txt" and top.keyword is not None
