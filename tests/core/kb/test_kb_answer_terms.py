"""The terms an answer would name: the model lists them, and they rank the passages.

A paraphrased question shares few words with the passage that answers it; the
commands, files and options in that passage are what a model knows best. Of the
question's best passages, those naming a telling term rank higher (nothing new is
searched: on prose, searching the model's guesses pushed the right passages out).
Off by default: ``--expand`` in ``search``, ``ask`` and ``eval retrieval``, a check
box in the window.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kb_fakes import HashEmbedder, ScriptedEngine, engine_loader

from desktop_app.cli import crosslang, main
from desktop_app.cli import kb as cli_kb
from desktop_app.core.errors import ModelInstallError
from desktop_app.core.kb.db import StoredChunk
from desktop_app.core.kb.grounding import GroundingOptions, ground
from desktop_app.core.kb.knowledge_base import KnowledgeBase
from desktop_app.core.kb.parse_host import InProcessParser
from desktop_app.core.kb.retrieve import TERMS_BOOST, Hit, rank_by_terms
from desktop_app.core.kb.rewrite import (
    MAX_PHRASING_CHARS,
    TERMS_TOKENS,
    answer_terms,
    parse_terms,
)

QUESTION = "Which knob caps per-person storage?"


def test_the_list_is_one_phrasing_without_labels_quotes_or_repeats() -> None:
    assert parse_terms("usrquota, `quotacheck`, edquota -t", "q") == (
        "usrquota, quotacheck, edquota -t"
    )
    assert parse_terms("\nTerms: vi, vim, nano, vim, nano,\nmore", "q") == "vi, vim, nano"
    assert parse_terms("磁盘配额、quotaon；usrquota。", "q") == "磁盘配额, quotaon, usrquota"
    # A sentence is not a term; the question itself is not another phrasing.
    assert (
        parse_terms("This is a long sentence that explains disk quotas in a great many words.", "q")
        == ""
    )
    assert parse_terms("What is LoRA?", "What is LoRA?") == ""
    assert parse_terms("", "q") == ""
    many = ", ".join(f"term{i:03d}" for i in range(100))
    kept = parse_terms(many, "q")
    assert kept.startswith("term000, term001") and len(kept) <= MAX_PHRASING_CHARS


def test_the_model_is_asked_greedily_for_a_short_list() -> None:
    model = ScriptedEngine("usrquota, ", "edquota")
    assert answer_terms(model, QUESTION) == "usrquota, edquota"
    request = model.requests[0]
    assert request.params.temperature == 0.0 and request.params.max_tokens == TERMS_TOKENS
    assert request.messages is not None and QUESTION in request.messages[-1].content
    raw = ScriptedEngine("quota")
    assert answer_terms(raw, QUESTION, chat_template=False) == "quota"
    assert (raw.requests[0].prompt or "").endswith("Words:")
    assert answer_terms(model, "  ") == "" and len(model.requests) == 1


@pytest.fixture
def manuals(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> KnowledgeBase:
    monkeypatch.setattr(cli_kb, "_open", lambda _args: KnowledgeBase(embedder=HashEmbedder()))
    docs = tmp_path / "docs"
    docs.mkdir()
    for i, topic in enumerate(["printers", "network cards", "boot loaders", "backups"]):
        (docs / f"ch{i}.txt").write_text(f"This chapter covers {topic} and their setup.", "utf-8")
    (docs / "quota.txt").write_text(
        "Add usrquota to the mount options in fstab, then run quotacheck and edquota.", "utf-8"
    )
    kb = KnowledgeBase(embedder=HashEmbedder())
    kb.ingest([docs], "c", InProcessParser())
    return kb


def test_grounding_ranks_the_questions_passages_by_the_list(manuals: KnowledgeBase) -> None:
    assert not GroundingOptions(collections=("c",)).expand  # off by default
    options = GroundingOptions(collections=("c",), k=2, expand=True)
    alone = ground(manuals, None, QUESTION, options)
    assert not any(h.chunk.path.endswith("quota.txt") for h in alone.hits[:1])
    model = ScriptedEngine("usrquota, edquota")
    grounded = ground(manuals, model, QUESTION, options, chat_template=True)
    assert grounded.terms == "usrquota, edquota" and grounded.phrasings == []
    assert grounded.hits[0].chunk.path.endswith("quota.txt")
    assert [h.rank for h in grounded.hits] == [1, 2]
    # Switched off: the model is not asked.
    off = ScriptedEngine("usrquota")
    ground(manuals, off, QUESTION, GroundingOptions(("c",), k=2, expand=False))
    assert off.requests == []
    manuals.close()


def test_search_expand_loads_the_model_and_ranks_by_its_list(
    manuals: KnowledgeBase, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    manuals.close()
    loads: list[str] = []
    monkeypatch.setattr(
        crosslang,
        "load_engine",
        engine_loader(loads, ScriptedEngine("usrquota, edquota"), chat_template=True),
    )
    # Off by default in search: no model.
    assert main(["search", QUESTION, "-c", "c", "--json", "--k", "1"]) == 0
    assert json.loads(capsys.readouterr().out)["terms"] is None and loads == []
    assert main(["search", QUESTION, "-c", "c", "--json", "--k", "1", "--expand"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["terms"] == "usrquota, edquota" and loads == ["load"]
    assert Path(payload["hits"][0]["source"]).name == "quota.txt"
    assert main(["search", QUESTION, "-c", "c", "--explain", "--k", "1", "--expand"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("terms: usrquota, edquota") and "quota.txt" in out


def test_a_model_that_cannot_list_leaves_the_search_to_the_question(
    manuals: KnowledgeBase, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    manuals.close()
    missing = ModelInstallError("the default model is not installed.")
    monkeypatch.setattr(crosslang, "load_engine", engine_loader([], missing, chat_template=True))
    assert main(["search", QUESTION, "-c", "c", "--expand"]) == 0
    captured = capsys.readouterr()
    assert "terms: not listed (the default model is not installed)" in captured.err
    assert captured.out.startswith("[1] ")


def test_eval_retrieval_expand_measures_the_step(
    manuals: KnowledgeBase,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    manuals.close()
    questions = tmp_path / "q.jsonl"
    line = {"question": QUESTION, "sources": ["quota.txt"], "must_contain": ["usrquota"]}
    questions.write_text(json.dumps(line) + "\n", "utf-8")
    monkeypatch.setattr(
        crosslang,
        "load_engine",
        engine_loader([], ScriptedEngine("usrquota, edquota"), chat_template=True),
    )
    argv = ["eval", "retrieval", "--questions", str(questions), "-c", "c", "--k", "1", "--json"]
    assert main([*argv, "--expand"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["hit_at_k"] == 1.0
    assert payload["model_steps"]["expand"]["questions"] == 1
    assert payload["model_steps"]["expand"]["failed"] == 0


def test_ask_takes_expand() -> None:
    import argparse

    parser = argparse.ArgumentParser()
    cli_kb.register(parser.add_subparsers())
    assert parser.parse_args(["ask", "q", "-c", "c"]).expand is False
    assert parser.parse_args(["ask", "q", "-c", "c", "--expand"]).expand is True
    assert parser.parse_args(["search", "q", "-c", "c"]).expand is False


def _hit(n: int, text: str, fused: float) -> Hit:
    chunk = StoredChunk(f"c{n}", n, f"/docs/{n}.txt", "txt", 0, text, None, None, 0, len(text))
    return Hit(n, chunk, None, None, fused, None, n)


def test_a_telling_term_raises_its_passages_and_a_common_one_does_not() -> None:
    hits = [
        _hit(1, "Debian keeps scheduled jobs in cron tables.", 0.050),
        _hit(2, "Debian: each user edits theirs with crontab -e.", 0.045),
        _hit(3, "Debian runs anacron on laptops.", 0.040),
        _hit(4, "Debian 用 crontab 编辑定时任务。", 0.034),
        _hit(5, "Debian mails the output of crontabs to the user.", 0.020),
        *[
            _hit(n, f"Debian chapter {n} is about something else.", 0.019 - n / 1000)
            for n in range(6, 11)
        ],
    ]
    ranked = rank_by_terms(hits, "crontab, Debian, cron-apt")
    # "crontab" is in 2 of 10 passages (a word even between Chinese characters, not
    # inside "crontabs"); "debian" is in all ten and tells nothing; "cron-apt" in none.
    assert [h.chunk.chunk_id for h in ranked[:4]] == ["c2", "c1", "c4", "c3"]
    assert [h.rank for h in ranked] == list(range(1, 11))
    assert ranked[0].fused == pytest.approx(0.045 * (1 + TERMS_BOOST))
    assert ranked[1].fused == pytest.approx(0.050)  # not raised
    # "cron" does not match inside "crontab": found in one passage, it raises that one.
    assert rank_by_terms(hits, "cron")[0].chunk.chunk_id == "c1"
    assert [h.chunk.chunk_id for h in rank_by_terms(hits, "debian")] == [
        h.chunk.chunk_id for h in hits
    ]
    assert rank_by_terms(hits, "") == hits and rank_by_terms([], "crontab") == []


def test_the_pool_is_ranked_then_cut_to_k(manuals: KnowledgeBase) -> None:
    plain = manuals.search(QUESTION, "c", 2, record=False)
    ranked = manuals.search(QUESTION, "c", 2, record=False, terms="usrquota, edquota")
    assert len(ranked) == 2 and ranked[0].chunk.path.endswith("quota.txt")
    assert not plain[0].chunk.path.endswith("quota.txt")
    manuals.close()
