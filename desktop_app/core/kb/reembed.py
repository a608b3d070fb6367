"""Re-embedding a collection with another model, without parsing its files again.

Every stored chunk's text (as ingestion embedded it: heading and text) is
embedded with the new model in batches. The new vectors go into a staging
Chroma collection beside the live one and into a temporary SQLite table, so
searches keep using the old model and vectors the whole time. Only when every
chunk is done are they swapped in: one transaction writes the new vectors, model
name and dimension into the registry, then the staging Chroma collection
replaces the live one. A failure or a cancel before that point drops the staging
copy and leaves the collection exactly as it was.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np

from desktop_app.core.kb.chunking import embedding_text
from desktop_app.core.kb.db import Collection
from desktop_app.core.kb.embed import Embedder
from desktop_app.core.kb.index import chunk_metadata
from desktop_app.core.kb.ingest import IngestControl

if TYPE_CHECKING:
    from desktop_app.core.kb.knowledge_base import KnowledgeBase

#: Chunks embedded per batch (one progress report each).
BATCH = 64
_TABLE = "temp.reembed_vectors"


@dataclass(frozen=True, slots=True)
class ReembedProgress:
    """Where a re-embedding stands; sent after each batch."""

    done: int
    total: int
    rate_chunks_s: float
    eta_s: float | None


@dataclass(frozen=True, slots=True)
class ReembedReport:
    """The outcome of ``KnowledgeBase.reembed``."""

    collection: str
    old_model: str
    new_model: str
    dim: int
    chunks: int
    seconds: float
    #: True: stopped by ``control.cancel()``; the old model and vectors stay in use.
    cancelled: bool
    #: True: the collection already used the model; nothing was done.
    unchanged: bool = False

    def as_dict(self) -> dict[str, object]:
        """The JSON form."""
        return asdict(self)


def reembed_collection(
    kb: KnowledgeBase,
    coll: Collection,
    embedder: Embedder,
    *,
    progress: Callable[[ReembedProgress], None] | None = None,
    control: IngestControl | None = None,
    batch: int = BATCH,
) -> ReembedReport:
    """Re-embed ``coll`` with ``embedder`` (see the module docstring)."""
    started = time.monotonic()
    control = control or IngestControl()
    registry, index = kb.registry, kb.index
    if embedder.name == coll.embed_model:
        return ReembedReport(
            coll.name, coll.embed_model, embedder.name, coll.dim, 0, 0.0, False, True
        )
    conn = registry.conn
    total = int(
        conn.execute(
            "SELECT count(*) FROM chunks WHERE collection_id = ? AND embedding IS NOT NULL",
            (coll.id,),
        ).fetchone()[0]
    )
    index.drop_staging(coll)  # what an earlier, interrupted run left
    conn.execute(f"DROP TABLE IF EXISTS {_TABLE}")
    conn.execute(f"CREATE TABLE {_TABLE}(chunk_id TEXT PRIMARY KEY, embedding BLOB NOT NULL)")
    done = 0
    last_rowid = -1
    swapped = False
    try:
        while True:
            if control.checkpoint():
                return ReembedReport(
                    coll.name, coll.embed_model, embedder.name, coll.dim, done,
                    time.monotonic() - started, True,
                )  # fmt: skip
            rows = conn.execute(
                "SELECT ch.rowid, ch.chunk_id, ch.text, ch.heading, d.path, d.type "
                "FROM chunks ch JOIN documents d ON d.id = ch.doc_id "
                "WHERE ch.collection_id = ? AND ch.embedding IS NOT NULL AND ch.rowid > ? "
                "ORDER BY ch.rowid LIMIT ?",
                (coll.id, last_rowid, batch),
            ).fetchall()
            if not rows:
                break
            last_rowid = int(rows[-1][0])
            ids = [str(r[1]) for r in rows]
            vectors = np.asarray(
                embedder.embed([embedding_text(r[2], r[3]) for r in rows]), dtype=np.float32
            )
            index.staging_upsert(coll, ids, vectors, [chunk_metadata(r[4], r[5]) for r in rows])
            conn.executemany(
                f"INSERT OR REPLACE INTO {_TABLE}(chunk_id, embedding) VALUES (?, ?)",
                [(cid, vectors[i].tobytes()) for i, cid in enumerate(ids)],
            )
            done += len(rows)
            if progress is not None:
                elapsed = max(time.monotonic() - started, 1e-9)
                rate = done / elapsed
                eta = (total - done) / rate if rate > 0 and total >= done else None
                progress(ReembedProgress(done, max(total, done), rate, eta))
        # The swap. Until the registry's transaction commits, the old model and
        # vectors are the collection's; the live Chroma copy is dropped just before
        # it (a crash in between: the next use copies the old vectors back from
        # SQLite), and the staging copy renamed just after (a crash in between: the
        # next use copies the new ones from SQLite). The dirty mark asks for that.
        registry.set_dirty(coll, True)
        kb.forget_sync(coll)
        index.drop(coll)
        with registry.transaction() as c:
            c.execute(
                "UPDATE chunks SET embedding = (SELECT r.embedding FROM "
                f"{_TABLE} r WHERE r.chunk_id = chunks.chunk_id), in_index = 1 "
                "WHERE collection_id = ? AND chunk_id IN (SELECT chunk_id FROM "
                f"{_TABLE})",
                (coll.id,),
            )
            c.execute(
                "UPDATE collections SET embed_model = ?, dim = ? WHERE id = ?",
                (embedder.name, embedder.dim, coll.id),
            )
        swapped = True
        index.promote_staging(coll)
        new = registry.collection(coll.name)
        registry.set_dirty(new, False)
        return ReembedReport(
            coll.name, coll.embed_model, embedder.name, embedder.dim, done,
            time.monotonic() - started, False,
        )  # fmt: skip
    finally:
        conn.execute(f"DROP TABLE IF EXISTS {_TABLE}")
        if not swapped:
            index.drop_staging(coll)
