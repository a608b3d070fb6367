"""Knowledge-base benchmarks: ingestion throughput and hybrid query latency.

``run_ingest_bench``: the whole pipeline (hash, parse in the sandboxed process,
chunk, SQLite, embed, Chroma) in chunks per second, divided by a bare
sentence-transformers ``encode`` of the very same chunk texts with the same model
object, measured alternately in one run so machine drift affects both.

``run_retrieval_bench``: p50/p95 latency of ``KnowledgeBase.search`` (query
embedding, Chroma top-k, both keyword indexes, fusion, reading the chunks) over a
synthetic corpus: chunk texts cut from the given documents (or generated), random
unit vectors inserted directly, since embedding 100,000 chunks would take hours on a
laptop CPU and does not change what a query costs.
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from desktop_app.core.kb.chunking import CHUNKER_VERSION, chunk_id
from desktop_app.core.kb.db import NewChunk
from desktop_app.core.kb.embed import load_embedder
from desktop_app.core.kb.index import chunk_metadata
from desktop_app.core.kb.ingest import expand_paths
from desktop_app.core.kb.keyword import normalize
from desktop_app.core.kb.knowledge_base import KnowledgeBase
from desktop_app.workers.kb.parser import SandboxedParser


@dataclass(frozen=True, slots=True)
class IngestBench:
    """Figures of ``glassbox bench ingest``."""

    files: int
    chunks: int
    rounds: int
    seconds_end_to_end: float
    seconds_raw_encode: float
    chunks_per_s_end_to_end: float
    chunks_per_s_raw_encode: float
    ratio: float
    model: str

    def as_dict(self) -> dict[str, object]:
        """The JSON form."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class RetrievalBench:
    """Figures of ``glassbox bench retrieval``."""

    chunks: int
    corpus: str
    queries: int
    k: int
    p50_ms: float
    p95_ms: float
    max_ms: float
    build_s: float
    #: p50 and p95 in ms of each stage: embed, vector, keyword, fusion, then the keyword
    #: side's parts: keyword.plan (choosing the terms), keyword.trigram, keyword.words
    #: (each index; 0 ms for a query that does not search it).
    stages: dict[str, tuple[float, float]] = field(default_factory=dict)
    #: How many chunks hold each source character on average (None: random words):
    #: above 1 the corpus repeats its text, so query terms are far more common than
    #: in real documents, which makes the keyword side's work larger, not smaller.
    repetition: float | None = None
    #: The embedding model the questions were embedded with (its vector length).
    model: str = ""

    def as_dict(self) -> dict[str, object]:
        """The JSON form."""
        out = asdict(self)
        out["stages"] = {
            name: {"p50_ms": round(p50, 3), "p95_ms": round(p95, 3)}
            for name, (p50, p95) in self.stages.items()
        }
        return out


def _percentiles(times_ms: list[float]) -> tuple[float, float]:
    ordered = sorted(times_ms)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


def run_ingest_bench(paths: list[Path], rounds: int = 2, model: str | None = None) -> IngestBench:
    """Ingest ``paths`` into fresh stores ``rounds`` times, alternating with raw encodes,
    with the embedding model ``model`` (a catalog name or folder; None: the default)."""
    embedder = load_embedder(model)
    embedder.embed(["warm up the model", "预热模型"])
    files, _, _ = expand_paths(paths)
    if not files:
        raise FileNotFoundError(f"no supported document under {', '.join(map(str, paths))}")
    e2e: list[float] = []
    raw: list[float] = []
    texts: list[str] = []
    chunks = 0
    for _ in range(max(1, rounds)):
        with tempfile.TemporaryDirectory(prefix="glassbox-bench-") as tmp:
            kb = KnowledgeBase(Path(tmp), embedder=embedder)
            try:
                start = time.perf_counter()
                with SandboxedParser(config=kb.chunk_config()) as parser:
                    report = kb.ingest(paths, "bench", parser)
                e2e.append(time.perf_counter() - start)
                chunks = report.chunks_added
                rows = kb.registry.conn.execute(
                    "SELECT text, heading FROM chunks ORDER BY rowid"
                ).fetchall()
            finally:
                kb.close()
        from desktop_app.core.kb.chunking import embedding_text

        texts = [embedding_text(t, h) for t, h in rows]
        start = time.perf_counter()
        raw_encode = getattr(embedder, "raw_encode", embedder.embed)
        raw_encode(texts)
        raw.append(time.perf_counter() - start)
    best_e2e, best_raw = min(e2e), min(raw)
    return IngestBench(
        files=len(files),
        chunks=chunks,
        rounds=len(e2e),
        seconds_end_to_end=best_e2e,
        seconds_raw_encode=best_raw,
        chunks_per_s_end_to_end=chunks / best_e2e,
        chunks_per_s_raw_encode=len(texts) / best_raw,
        ratio=(chunks / best_e2e) / (len(texts) / best_raw),
        model=embedder.name,
    )


_FALLBACK_WORDS = [
    "模型", "训练", "数据", "检索", "向量", "语言", "注意力", "微调", "推理", "幻觉", "知识",
    "model", "training", "retrieval", "vector", "language", "attention", "reasoning",
]  # fmt: skip


def _texts_from(paths: list[Path]) -> str:
    files, _, _ = expand_paths(paths)
    parts = []
    for f in files:
        if f.suffix.lower() in (".txt", ".md"):
            parts.append(f.read_text(encoding="utf-8", errors="replace"))
    return "\n".join(parts)


def run_retrieval_bench(
    n_chunks: int,
    queries: list[str],
    corpus_paths: list[Path],
    k: int = 5,
    seed: int = 0,
    model: str | None = None,
) -> RetrievalBench:
    """Build a synthetic collection of ``n_chunks`` and time ``len(queries)`` hybrid searches."""
    rng = random.Random(seed)
    np_rng = np.random.default_rng(seed)
    source = _texts_from(corpus_paths)
    corpus = (
        f"{n_chunks} synthetic chunks cut at random from {len(source):,} characters of "
        "the given documents, random unit vectors"
        if len(source) > 1000
        else f"{n_chunks} synthetic chunks of random words, random unit vectors"
    )
    embedder = load_embedder(model)
    chunk_chars = 0
    with tempfile.TemporaryDirectory(prefix="glassbox-bench-") as tmp:
        kb = KnowledgeBase(Path(tmp), embedder=embedder)
        try:
            started = time.perf_counter()
            coll = kb.collection("bench", create=True)
            per_doc = 100
            for doc_no in range(0, n_chunks, per_doc):
                count = min(per_doc, n_chunks - doc_no)
                sha = f"{doc_no:064x}"
                chunks = []
                for i in range(count):
                    if len(source) > 1000:
                        start = rng.randrange(0, len(source) - 300)
                        text = source[start : start + rng.randint(120, 300)]
                    else:
                        text = " ".join(rng.choice(_FALLBACK_WORDS) for _ in range(60))
                    chunk_chars += len(text)
                    chunks.append(
                        NewChunk(chunk_id(sha, i), i, text, normalize(text), None, None, 0, 0)
                    )
                path = os.path.join(tmp, "synthetic", f"doc{doc_no // per_doc:05d}.txt")
                doc_id, _ = kb.registry.replace_document(
                    coll, path, sha256=sha, size=0, mtime=0.0, type_="txt",
                    chunker_version=CHUNKER_VERSION, chunks=chunks,
                )  # fmt: skip
                ids = [c.chunk_id for c in chunks]
                vectors = np_rng.standard_normal((count, embedder.dim)).astype(np.float32)
                vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
                kb.registry.store_vectors(coll, ids, vectors)
                kb.index.upsert(coll, ids, vectors, [chunk_metadata(path, "txt")] * count)
                kb.registry.mark_in_index(coll, ids)
                kb.registry.mark_indexed([doc_id])
            build_s = time.perf_counter() - started
            kb.warm_up("bench")  # as the window does when a collection is attached
            for q in queries[:5]:
                kb.search(q, "bench", k)
            times: list[float] = []
            per_query: list[dict[str, float]] = []
            for q in queries:
                timings: dict[str, float] = {}
                t0 = time.perf_counter()
                kb.search(q, "bench", k, timings=timings)
                times.append((time.perf_counter() - t0) * 1000)
                per_query.append(timings)
            # A keyword index a query does not search took 0 ms for it.
            names = dict.fromkeys(name for timings in per_query for name in timings)
            stages = {
                name: [timings.get(name, 0.0) * 1000 for timings in per_query] for name in names
            }
        finally:
            kb.close()
    p50, p95 = _percentiles(times)
    repetition = chunk_chars / len(source) if len(source) > 1000 else None
    return RetrievalBench(
        chunks=n_chunks,
        corpus=corpus,
        queries=len(times),
        k=k,
        p50_ms=p50,
        p95_ms=p95,
        max_ms=max(times),
        build_s=build_s,
        stages={name: _percentiles(values) for name, values in stages.items()},
        repetition=repetition,
        model=f"{embedder.name} ({embedder.dim}-d)",
    )
