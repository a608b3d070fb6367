"""The words index: Chinese segmented by jieba, filled at ingest and for older chunks,
searched literally, and measurable on its own (``glassbox eval retrieval --indexes``)."""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
from pathlib import Path

import pytest

from desktop_app.cli import kb as cli_kb
from desktop_app.core.errors import InvalidRequestError
from desktop_app.core.kb import db, keyword, words
from desktop_app.core.kb.knowledge_base import KnowledgeBase
from desktop_app.core.kb.parse_host import InProcessParser


def _words(text: str) -> list[str]:
    return words.words_text(keyword.normalize(text)).split()


# -- segmentation ----------------------------------------------------------------------


def test_chinese_is_cut_into_words_and_long_words_also_give_their_parts():
    assert _words("设置磁盘配额") == ["设置", "磁盘", "配额"]
    # Search mode: a long word is stored with the dictionary words inside it, so a
    # question that says only 日志 finds a passage about 系统日志.
    assert {"系统", "日志", "系统日志"} <= set(_words("系统日志"))


def test_mixed_chinese_and_english_keep_english_words_whole_and_lower_cased():
    assert _words("使用USRQUOTA选项挂载/etc/fstab") == [
        "使用", "usrquota", "选项", "挂载", "etc", "fstab",
    ]  # fmt: skip
    assert _words("Quota: the usrquota option") == ["quota", "the", "usrquota", "option"]


def test_traditional_chinese_and_full_width_letters_fold_to_the_same_words():
    assert _words("設定磁碟配額與ＬＶＭ") == _words("设定磁碟配额与lvm")
    assert words.query_words("怎麼設定磁盤配額？") == words.query_words("怎么设定磁盘配额?")


def test_a_question_loses_its_question_words_particles_and_stop_words():
    assert words.query_words("如何在 Debian 中设置磁盘配额？") == ["debian", "设置", "磁盘", "配额"]
    assert words.query_words("How do I set up disk quotas?") == ["set", "up", "disk", "quotas"]
    assert words.query_words("的了吗？") == []


def test_jieba_loads_once_quietly_and_writes_no_file(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str], glassbox_home: Path
):
    import jieba

    system_tmp = Path(tempfile.mkdtemp(prefix="words-systmp-"))
    monkeypatch.setattr(tempfile, "tempdir", str(system_tmp))
    monkeypatch.setattr(words, "_tokenizer", None)
    builds: list[int] = []
    build = jieba.Tokenizer.gen_pfdict

    def counted(f: object) -> object:
        builds.append(1)
        return build(f)

    monkeypatch.setattr(jieba.Tokenizer, "gen_pfdict", staticmethod(counted))
    capfd.readouterr()
    results: list[object] = []
    threads = [threading.Thread(target=lambda: results.append(words._load())) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4 and all(r is results[0] for r in results)  # one tokenizer
    assert builds == [1]  # built once, though four threads asked at the same time
    assert _words("磁盘配额") == ["磁盘", "配额"]
    assert builds == [1]
    out, err = capfd.readouterr()
    assert out == "" and err == ""  # jieba's "Building prefix dict…" lines stay quiet
    assert list(system_tmp.iterdir()) == []  # no jieba.cache in the temporary folder
    assert not glassbox_home.exists() or list(glassbox_home.rglob("*")) == []


# -- the index: filled at ingest and for chunks written before it ------------------------


def _write(folder: Path, texts: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        (folder / name).write_text(text, "utf-8")
    return folder


def _words_text(kb: KnowledgeBase) -> list[str | None]:
    return [r[0] for r in kb.registry.conn.execute("SELECT words_text FROM chunks ORDER BY rowid")]


def test_ingest_fills_the_words_of_new_chunks(kb: KnowledgeBase, tmp_path: Path):
    kb.ingest(
        [_write(tmp_path / "d", {"a.txt": "設定磁碟配額要用 usrquota 選項。"})],
        "t",
        InProcessParser(),
    )
    assert _words_text(kb) == ["设定 磁碟 配额 要 用 usrquota 选项"]


def test_chunks_written_before_the_words_index_are_added_in_batches(
    kb: KnowledgeBase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    docs = _write(
        tmp_path / "d", {f"{i}.txt": f"第{i}章：磁盘配额用 usrquota 选项。" for i in range(5)}
    )
    kb.ingest([docs], "t", InProcessParser())
    coll = kb.collection("t")
    with kb.registry.transaction() as c:  # as a schema 3 file leaves them
        c.execute("UPDATE chunks SET words_text = NULL")
    assert kb.registry.words_missing(coll) == 5
    only_words = ("words",)
    kb.registry.keyword_indexes = only_words
    assert kb.registry.keyword_search(coll, "磁盘配额", 5) == []  # not in the index yet

    monkeypatch.setattr(db, "WORDS_BATCH", 2)  # three short transactions
    seen: list[tuple[int, int]] = []
    assert kb.fill_words("t", lambda done, total: seen.append((done, total))) == 5
    assert seen == [(2, 5), (4, 5), (5, 5)]
    assert kb.registry.words_missing(coll) == 0
    assert len(kb.registry.keyword_search(coll, "磁盘配额", 5)) == 5
    assert kb.fill_words("t") == 0  # done once per process


def test_a_search_fills_the_words_index_first(kb: KnowledgeBase, tmp_path: Path):
    kb.ingest(
        [_write(tmp_path / "d", {"a.txt": "磁盘配额用 usrquota 选项。"})], "t", InProcessParser()
    )
    with kb.registry.transaction() as c:
        c.execute("UPDATE chunks SET words_text = NULL")
    reopened_root = kb.root
    kb.close()
    with KnowledgeBase(reopened_root, embedder=kb.embedder) as again:
        hits = again.search("磁盘配额", "t", 1)
        assert hits
        assert again.registry.words_missing(again.collection("t")) == 0
        assert _words_text(again) == ["磁盘 配额 用 usrquota 选项"]


def test_warming_up_a_chinese_collection_loads_the_dictionary_an_english_one_does_not(
    kb: KnowledgeBase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    kb.ingest(
        [_write(tmp_path / "en", {"a.txt": "Disk quotas use usrquota."})], "en", InProcessParser()
    )
    kb.ingest(
        [_write(tmp_path / "zh", {"a.txt": "磁盘配额用 usrquota 选项。"})], "zh", InProcessParser()
    )
    monkeypatch.setattr(words, "_tokenizer", None)
    kb.warm_up("en")
    assert not words.loaded()
    kb.warm_up("zh")
    assert words.loaded()


# -- what only the words index finds, and the switch that measures it -----------------------

# The question shares no three-character piece with its answer, and its two-character
# pieces that cross word boundaries (样把, 盘上, 的数, 底抹…) are rarer in this
# collection than its words, so the bigram index spends its eight scored terms on them.
_QUESTION = "怎样把硬盘上的数据彻底抹掉？"
_ANSWER = "送人之前用 shred 覆写：数据会被抹掉，硬盘也就彻底干净了。"
_CORPUS = {
    "answer.txt": _ANSWER,
    "photos.txt": "怎样把光盘上的照片导出？",
    "coins.txt": "把硬币放进盒子里。",
    "table.txt": "统计表的数目不对。",
    "audit.txt": "根据彻查结果处理。",
    "doubt.txt": "到底抹不抹油呢？",
    "disk1.txt": "硬盘坏了要换新的。",
    "disk2.txt": "新硬盘需要先分区。",
    "data1.txt": "数据备份很重要。",
    "data2.txt": "数据库需要定期维护。",
    "off1.txt": "彻底关机再重启。",
    "off2.txt": "问题已经彻底解决。",
    "wipe1.txt": "抹掉桌面的灰。",
    "wipe2.txt": "把黑板上的字抹掉。",
}


@pytest.fixture
def all_weighted(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every keyword index searched and weighted alike, whatever the tuned weights."""
    for weights in (db.KEYWORD_WEIGHTS, db.CJK_KEYWORD_WEIGHTS):
        for name in db.KEYWORD_INDEXES:
            monkeypatch.setitem(weights, name, 1.0)


@pytest.fixture
def paraphrase(kb: KnowledgeBase, tmp_path: Path) -> KnowledgeBase:
    kb.ingest([_write(tmp_path / "para", _CORPUS)], "t", InProcessParser())
    return kb


def _names(kb: KnowledgeBase, ids: list[str]) -> list[str]:
    chunks = kb.registry.chunks_by_id(kb.collection("t"), ids)
    return [Path(chunks[i].path).name for i in ids if i in chunks]


def test_a_paraphrased_chinese_question_is_found_by_the_words_index_alone(
    paraphrase: KnowledgeBase, all_weighted: None
):
    coll = paraphrase.collection("t")
    rankings = paraphrase.registry.keyword_rankings(coll, _QUESTION, 5)
    assert _names(paraphrase, rankings["words"])[0] == "answer.txt"
    assert "answer.txt" not in _names(paraphrase, rankings.get("trigram", []))
    assert "answer.txt" not in _names(paraphrase, rankings["bigram"])
    plan = paraphrase.registry.keyword_plan(_QUESTION)
    assert set(plan.words.kept) == {"硬盘", "数据", "彻底", "抹掉"}
    assert {"硬盘", "数据", "彻底", "抹掉"} <= set(plan.bigram.left_out)


def test_leaving_the_words_index_out_loses_that_passage(paraphrase: KnowledgeBase):
    coll = paraphrase.collection("t")
    reg = paraphrase.registry
    with_words = [i for i, _ in reg.keyword_search(coll, _QUESTION, 5)]
    assert "answer.txt" in _names(paraphrase, with_words)
    reg.keyword_indexes = ("trigram", "bigram")
    without = [i for i, _ in reg.keyword_search(coll, _QUESTION, 5)]
    assert "answer.txt" not in _names(paraphrase, without)
    reg.keyword_indexes = ("words",)
    assert _names(paraphrase, [i for i, _ in reg.keyword_search(coll, _QUESTION, 1)]) == [
        "answer.txt"
    ]


def test_explain_shows_the_words_index_terms_and_ranks(
    paraphrase: KnowledgeBase, all_weighted: None
):
    explained = paraphrase.explain(_QUESTION, "t", 5)
    assert set(explained.index_terms) == {"trigram", "bigram", "words"}
    assert set(explained.index_terms["words"][0]) == {"硬盘", "数据", "彻底", "抹掉"}
    answer = next(h for h in explained.hits if h.chunk.text == _ANSWER)
    assert explained.index_ranks[answer.chunk.chunk_id] == {
        "trigram": None, "bigram": None, "words": 1,
    }  # fmt: skip
    as_json = explained.as_dict()
    assert as_json["keyword_indexes"]["words"]["terms"]  # type: ignore[index]


def test_an_index_weighted_0_for_a_question_is_neither_searched_nor_shown(
    paraphrase: KnowledgeBase, all_weighted: None, monkeypatch: pytest.MonkeyPatch
):
    coll = paraphrase.collection("t")
    monkeypatch.setitem(db.CJK_KEYWORD_WEIGHTS, "bigram", 0.0)
    assert set(paraphrase.registry.keyword_rankings(coll, _QUESTION, 5)) == {"trigram", "words"}
    assert set(paraphrase.explain(_QUESTION, "t", 5).index_terms) == {"trigram", "words"}
    # An English question is weighed with the other weights: all three answer.
    assert set(paraphrase.registry.keyword_rankings(coll, "shred hard disk", 5)) == {
        "trigram", "bigram", "words",
    }  # fmt: skip


def test_the_eval_switch_names_keyword_indexes_and_refuses_others():
    assert cli_kb._keyword_indexes(None) is None
    assert cli_kb._keyword_indexes("words, Trigram,words") == ("words", "trigram")
    for bad in ("", "vector", "words,bm25", ","):
        with pytest.raises(InvalidRequestError, match="--indexes takes one or more of"):
            cli_kb._keyword_indexes(bad)


def test_eval_retrieval_searches_only_the_indexes_named(
    paraphrase: KnowledgeBase, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    seen: list[tuple[str, ...]] = []
    real = type(paraphrase.registry).keyword_rankings

    def spy(self, coll, query, k, filters=None, timings=None):  # type: ignore[no-untyped-def]
        seen.append(self.keyword_indexes)
        return real(self, coll, query, k, filters, timings)

    monkeypatch.setattr(type(paraphrase.registry), "keyword_rankings", spy)
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        json.dumps({"question": _QUESTION, "sources": ["answer.txt"], "must_contain": ["shred"]})
        + "\n",
        "utf-8",
    )
    monkeypatch.setattr(cli_kb, "_open", lambda args: paraphrase)
    monkeypatch.setattr(paraphrase, "close", lambda: None)
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    cli_kb.register(sub)
    args = parser.parse_args(
        ["eval", "retrieval", "--questions", str(questions), "-c", "t", "--indexes", "bigram"]
    )
    assert args.func(args) == 0
    assert seen and set(seen) == {("bigram",)}


# -- hostile input stays literal in the words index --------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        '"',
        '磁盘" OR "配额',
        "NEAR(磁盘 配额)",
        "配额*",
        "'; DROP TABLE chunks; --",
        "^磁盘 AND -配额",
        "磁盘:配额",
        "x" * 200_000,
        "磁盘配额" * 50_000 + '"',
    ],
)
def test_hostile_queries_are_literal_in_the_words_index(paraphrase: KnowledgeBase, query: str):
    coll = paraphrase.collection("t")
    reg = paraphrase.registry
    reg.keyword_indexes = ("words",)
    chunks = reg.counts(coll)["chunks"]
    reg.keyword_search(coll, query, 5)  # no FTS5 syntax error, nothing run as SQL
    assert len(words.query_words(query)) <= keyword.MAX_TERMS
    assert reg.counts(coll)["chunks"] == chunks
    paraphrase.search(query, "t", 5)


def test_fts5_operators_inside_chinese_are_words(paraphrase: KnowledgeBase):
    coll = paraphrase.collection("t")
    reg = paraphrase.registry
    reg.keyword_indexes = ("words",)
    found = _names(paraphrase, [i for i, _ in reg.keyword_search(coll, '硬盘" OR "抹掉 NOT', 5)])
    assert found[0] in {"answer.txt", "disk1.txt", "disk2.txt", "wipe1.txt", "wipe2.txt"}
    assert "answer.txt" in found  # both words still count: quotes and OR are not syntax
