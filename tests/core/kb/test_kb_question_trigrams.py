"""A Chinese question's trigrams that hold a particle or question word are not searched.

Such a trigram (是从哪, 的家目, 怎么查) spans a word boundary of the question's own
phrasing, so it matches passages worded alike (another question, an FAQ line), not
the passage that answers.
"""

from __future__ import annotations

from pathlib import Path

from desktop_app.core.kb import keyword
from desktop_app.core.kb.knowledge_base import KnowledgeBase
from desktop_app.core.kb.parse_host import InProcessParser

_QUESTION = "新账号的家目录里默认放哪些文件，是从哪里复制来的？"


def test_trigrams_holding_a_function_character_are_left_out() -> None:
    terms = keyword.query_terms(_QUESTION)
    assert "新账号" in terms and "家目录" in terms and "里复制" in terms
    for dropped in ("号的家", "是从哪", "从哪里", "哪些文"):
        assert dropped not in terms
    assert not any(keyword.QUESTION_FUNCTION_CHARS.intersection(t) for t in terms)
    # Words and identifiers are never dropped, and a question of nothing else keeps
    # its trigrams rather than none.
    assert "skel" in keyword.query_terms("/etc/skel 是什么")
    assert keyword.query_terms("是什么") == ["是什么"]


def test_a_passage_worded_like_the_question_is_not_a_trigram_match(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "answer.txt").write_text(
        "新建帐号时，家目录里默认的那些文件复制自 /etc/skel 目录。", "utf-8"
    )
    (docs / "faq1.txt").write_text(
        "这个软件包是从哪里来的？想知道它是从哪个仓库装上的，怎么查？", "utf-8"
    )
    (docs / "faq2.txt").write_text("有什么办法知道这些东西是从哪里来的吗？", "utf-8")
    kb.ingest([docs], "c", InProcessParser())
    coll = kb.registry.collection("c")
    ranking = kb.registry.keyword_rankings(coll, _QUESTION, 5)["trigram"]
    found = [Path(c.path).name for c in kb.registry.chunks_by_id(coll, ranking).values()]
    assert found == ["answer.txt"]
