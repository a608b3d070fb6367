"""Prompt templates, the summary plan, rewrite's word diff, search highlights and metrics."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from desktop_app.core.engine.fake import FakeEngine
from desktop_app.core.engine.protocol import EngineConfig
from desktop_app.core.errors import InvalidRequestError
from desktop_app.core.sampling import SamplingParams
from desktop_app.core.tasks import prompts
from desktop_app.core.tasks.extract import extract
from desktop_app.core.tasks.metrics import classify_scores, extract_scores
from desktop_app.core.tasks.rewrite import build_messages, rewrite, word_diff
from desktop_app.core.tasks.search import highlight_spans
from desktop_app.core.tasks.summarize import (
    SummaryOptions,
    combine_input,
    plan_parts,
    split_text,
    summarize,
)


def words(text: str) -> int:
    return len(text.split())


def test_templates_render_only_known_placeholders_and_overrides_reset(tmp_path):
    assert prompts.render("{text} and {json: 1}", text="A") == "A and {json: 1}"
    path = tmp_path / "t.json"
    assert prompts.load_templates(path) == prompts.DEFAULT_TEMPLATES
    prompts.save_overrides({"classify.user": "Review: {text}"}, path)
    assert prompts.load_templates(path)["classify.user"] == "Review: {text}"
    assert (
        prompts.reset_template("classify.user", path) == prompts.DEFAULT_TEMPLATES["classify.user"]
    )
    assert json.loads(path.read_text()) == {}
    path.write_text('{"nope": "x"}')
    with pytest.raises(InvalidRequestError, match="unknown"):
        prompts.load_templates(path)


def test_templates_default_to_the_data_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("GLASSBOX_HOME", str(tmp_path))
    assert prompts.templates_path() == tmp_path / prompts.TEMPLATES_FILE


def test_a_short_text_is_one_part_and_a_long_one_is_split_within_the_budget():
    opts = SummaryOptions("sentence")
    assert plan_parts("one two three", words, 4096, opts) == ["one two three"]
    paragraphs = [" ".join(f"w{p}_{i}" for i in range(40)) for p in range(30)]
    text = "\n\n".join(paragraphs)
    parts = plan_parts(text, words, 800, opts)
    budget = 800 - opts.max_tokens() - 256
    assert len(parts) > 1 and all(words(p) <= budget for p in parts)
    assert " ".join(" ".join(parts).split()) == " ".join(text.split())  # nothing lost, in order


def test_a_paragraph_longer_than_the_budget_is_cut_at_sentences_then_characters():
    text = "Alpha beta gamma. " * 30 + "x" * 500
    parts = split_text(text, len, 64)
    assert all(len(p) <= 64 for p in parts)
    assert "".join("".join(parts).split()) == "".join(text.split())


def test_a_summary_in_parts_reports_progress_and_cites_parts():
    engine = FakeEngine(script="- point [part 1]")
    engine.load(EngineConfig("fake.gguf"))
    text = "\n\n".join(" ".join(["word"] * 300) for _ in range(4))
    steps = []
    result = summarize(engine, text, SummaryOptions("bullets"), words, 1200, progress=steps.append)
    assert len(result.parts) > 1
    assert [s.step for s in steps] == list(range(len(result.parts) + 2))
    assert steps[-1].label == "done"
    combine_prompt = engine.requests[-1].messages[-1].content
    assert "[part 1]" in combine_prompt and f"[part {len(result.parts)}]" in combine_prompt
    assert combine_input(["a", "b"]) == "[part 1]\na\n\n[part 2]\nb"


def test_word_diff_rebuilds_both_texts_and_marks_changed_words():
    a = "The quick brown fox jumps over the dog."
    b = "The quick red fox leaps over the lazy dog."
    diff = word_diff(a, b)
    assert "".join(t for op, t in diff if op != "insert") == a
    assert "".join(t for op, t in diff if op != "delete") == b
    assert ("delete", "brown ") in diff and ("insert", "red ") in diff
    zh = word_diff("我喜欢猫。", "我喜欢狗。")
    assert ("delete", "猫") in zh and ("insert", "狗") in zh
    assert word_diff("same", "same") == [("equal", "same")]


def test_rewrite_modes_and_translation_target():
    msgs = build_messages("hola", "translate", "French")
    assert "Translate this text into French." in msgs[1].content
    with pytest.raises(InvalidRequestError):
        build_messages("x", "shout")
    engine = FakeEngine(script="Hello there.")
    engine.load(EngineConfig("fake.gguf"))
    result = rewrite(engine, "hello there", "fix")
    assert result.text == "Hello there."
    assert result.diff()[0][0] in ("delete", "insert")


def test_search_highlights_query_terms_including_chinese():
    text = "Glassbox keeps notes. 知识库 search works."
    spans = highlight_spans(text, "notes 知识")
    assert [text[a:b] for a, b in spans] == ["notes", "知", "识"]


def test_classify_metrics():
    s = classify_scores(
        ["a", "a", "b", "b"], ["a", "b", "b", "b"], [0.9, 0.6, 0.8, 0.7], ["a", "b"]
    )
    assert s.accuracy == 0.75
    assert s.confusion["a"] == {"a": 1, "b": 1}
    assert s.macro_f1 == pytest.approx((2 / 3 + 0.8) / 2)
    assert s.ece == pytest.approx(sum(abs(c - a) * n for c, a, n in s.bins) / 4)


def test_extract_metrics_normalise_text_and_numbers():
    gold = [{"a": "Ann  Lee", "n": 3}, {"a": "x", "n": 1.5}]
    s = extract_scores(gold, [{"a": "ann lee", "n": 3.0}, None], [True, False])
    assert s.per_field == {"a": 0.5, "n": 0.5}
    assert s.schema_valid == 0.5


@pytest.mark.parametrize("task", ["extract", "rewrite", "summarize"])
def test_a_task_keeps_every_sampling_value_but_its_token_budget(task):
    # Each task sets only max_tokens; the user's repeat penalty, window and stop
    # strings must reach the engine too.
    params = SamplingParams(
        temperature=0.0,
        top_k=12,
        top_p=0.8,
        min_p=0.1,
        repeat_penalty=1.3,
        repeat_last_n=32,
        seed=5,
        stop=("@@@",),
    )
    engine = FakeEngine(script='{"a": "x"}')
    engine.load(EngineConfig("fake.gguf"))
    if task == "extract":
        schema = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}
        extract(engine, "text", schema, params=params)
    elif task == "rewrite":
        rewrite(engine, "hello there", "fix", params=params)
    else:
        summarize(engine, "A short text.", SummaryOptions("sentence"), words, 4096, params=params)
    sent = engine.requests[-1].params
    assert replace(sent, max_tokens=params.max_tokens) == params
