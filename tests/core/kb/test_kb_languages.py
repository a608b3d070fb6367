"""Languages of passages and questions, and each collection's chunk counts per language."""

from __future__ import annotations

from pathlib import Path

from kb_fakes import HashEmbedder

from desktop_app.core.kb import language
from desktop_app.core.kb.knowledge_base import KnowledgeBase
from desktop_app.core.kb.parse_host import InProcessParser

ZH = "使用 apt-get install quota 安装磁盘配额工具，然后在 /etc/fstab 中加入 usrquota 选项。"
EN = "Install the quota tools with apt-get, then add the usrquota option to /etc/fstab."


def test_a_passage_is_counted_by_its_script() -> None:
    assert language.detect(ZH) == "zh"  # Chinese quoting commands stays Chinese
    assert language.detect(EN) == "en"
    assert language.detect("如何配置 xen-create-image？") == "zh"
    assert language.detect("ディスクのクォータを設定する方法") == "ja"
    assert language.detect("디스크 할당량을 설정하는 방법") == "ko"
    assert language.detect("1234 -- 5678") is None
    assert language.count([ZH, EN, EN, "42"]) == {"zh": 1, "en": 2}


def test_a_question_is_translated_only_where_its_language_is_a_small_share() -> None:
    chinese = {"zh": 4100, "en": 1050}
    assert language.target_language("How do I set disk quotas?", chinese) == "zh"
    assert language.target_language("如何设置磁盘配额？", chinese) is None
    assert language.target_language("如何设置磁盘配额？", {"en": 950, "zh": 50}) == "en"
    # A mixed collection (the Debian set: 55% Chinese, 45% English) is searched with
    # the question alone, in either language.
    mixed = {"zh": 2794, "en": 2309}
    assert language.target_language("How do I set disk quotas?", mixed) is None
    assert language.target_language("如何设置磁盘配额？", mixed) is None
    assert language.target_language("How?", {}) is None
    assert language.target_language("How?", {"en": 10}) is None
    assert language.target_language("123", chinese) is None
    assert language.describe(chinese) == "Chinese 80%, English 20%"
    assert language.describe(None) == "not counted yet"


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_counts_follow_ingest_reingest_and_removal(kb: KnowledgeBase, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    _write(docs, "a.txt", ZH)
    _write(docs, "b.txt", EN)
    kb.ingest([docs], "c", InProcessParser())
    coll = kb.collection("c")
    assert kb.registry.languages(coll) == {"zh": 1, "en": 1}
    # Re-ingested in another language: the old chunk's count goes, the new one's comes.
    _write(docs, "a.txt", EN.replace("quota", "quotas"))
    kb.ingest([docs], "c", InProcessParser())
    assert kb.registry.languages(coll) == {"en": 2}
    kb.remove("c", [docs / "b.txt"])
    assert kb.registry.languages(coll) == {"en": 1}
    stats = kb.stats("c")
    assert stats.languages == {"en": 1} and stats.as_dict()["languages"] == {"en": 1}


def test_collections_written_before_are_counted_on_open(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    _write(docs, "a.txt", ZH)
    with KnowledgeBase(tmp_path / "kb", embedder=HashEmbedder()) as kb:
        kb.ingest([docs], "c", InProcessParser())
        with kb.registry.transaction() as c:
            c.execute("UPDATE collections SET languages = NULL")
    with KnowledgeBase(tmp_path / "kb", embedder=HashEmbedder()) as kb:
        row = kb.registry.conn.execute("SELECT languages FROM collections").fetchone()
        assert row == ('{"zh": 1}',)
