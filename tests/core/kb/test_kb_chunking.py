"""Chunking: spans of the document, within the model's token limit, with overlap."""

from __future__ import annotations

import itertools

from desktop_app.core.kb.chunking import (
    ParsedDocument,
    chunk_document,
    chunk_id,
    text_blocks,
)
from desktop_app.core.kb.embed import default_model_dir, tokenizer_file
from desktop_app.core.kb.parse_host import token_counter


def _doc(text: str) -> ParsedDocument:
    return ParsedDocument("txt", text, tuple(text_blocks(text)))


def test_chunk_ids_are_deterministic_and_depend_on_content_version_and_index():
    assert chunk_id("a" * 64, 0) == chunk_id("a" * 64, 0)
    assert len({chunk_id("a" * 64, 0), chunk_id("a" * 64, 1), chunk_id("b" * 64, 0)}) == 3
    assert chunk_id("a" * 64, 0, version=1) != chunk_id("a" * 64, 0, version=2)


def test_every_chunk_is_a_span_of_the_document_and_fits_the_real_tokenizer():
    count = token_counter(tokenizer_file(default_model_dir()))
    para_zh = "大型语言模型在各种任务中表现出色。" * 40
    para_en = "Retrieval augmented generation finds passages before answering. " * 40
    text = f"# 标题一\n\n{para_zh}\n\n## Section two\n\n{para_en}\n"
    doc = _doc(text)
    chunks = chunk_document(doc, max_tokens=120, overlap_tokens=16, count_tokens=count)
    assert len(chunks) > 4
    for c in chunks:
        assert c.text == text[c.char_start : c.char_end]
        assert count([c.text])[0] <= 120
    assert {c.heading for c in chunks} == {"标题一", "Section two"}
    # No chunk straddles a heading: Chinese chunks are under the first heading only.
    assert all("Retrieval" not in c.text for c in chunks if c.heading == "标题一")


def test_consecutive_chunks_overlap_within_a_section():
    text = "\n".join(f"Sentence number {i} talks about topic {i}." for i in range(60))
    chunks = chunk_document(_doc(text), max_tokens=60, overlap_tokens=20)
    assert len(chunks) > 3
    for a, b in itertools.pairwise(chunks):
        assert b.char_start < a.char_end, "the next chunk starts inside the previous one"


def test_a_long_run_without_punctuation_is_cut_hard_within_the_limit():
    text = "字" * 2000
    chunks = chunk_document(_doc(text), max_tokens=100, overlap_tokens=0)
    assert sum(len(c.text) for c in chunks) == 2000
    assert all(c.tokens <= 100 for c in chunks)


def test_headings_with_a_trailing_hash_are_recognised():
    blocks = text_blocks("开源大语言模型 #\n- meta-LLaMa\n- OpenLLaMA\n")
    assert blocks[0].heading and not blocks[1].heading
