"""The document registry: SQLite, the knowledge base's source of truth.

It holds collections, documents (path, content hash, status and the reason of a
failure) and chunks (text, position, and the vector once embedded), plus an FTS5
trigram index over the chunks' normalised text. Chroma only mirrors it, so Chroma
can always be rebuilt from here.

One process writes: opening takes an exclusive OS lock on ``kb.lock`` beside the
database, released by the OS if the process dies, so a crashed writer never
leaves a stale lock and a second instance gets a clear error instead of two
writers corrupting the Chroma files (Chroma is not multi-process safe).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from desktop_app.core import backup, paths
from desktop_app.core.errors import GlassboxError
from desktop_app.core.kb import keyword, language
from desktop_app.core.kb.errors import (
    CollectionNotFoundError,
    KnowledgeBaseError,
    KnowledgeBaseLockedError,
)
from desktop_app.core.kb.fusion import reciprocal_rank_fusion
from desktop_app.core.kb.words import BATCH as WORDS_BATCH
from desktop_app.core.kb.words import query_words, words_text

Status = Literal["pending", "indexed", "failed"]
DB_NAME = "kb.sqlite3"
LOCK_NAME = "kb.lock"

# Numbered migrations: entry i brings the schema from version i to i + 1.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE collections(
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL UNIQUE,
        embed_model TEXT NOT NULL,
        dim INTEGER NOT NULL,
        dirty INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL
    );
    CREATE TABLE documents(
        id INTEGER PRIMARY KEY,
        collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
        path TEXT NOT NULL,
        sha256 TEXT,
        size INTEGER,
        mtime REAL,
        type TEXT,
        status TEXT NOT NULL CHECK (status IN ('pending', 'indexed', 'failed')),
        reason TEXT,
        chunker_version INTEGER,
        n_chunks INTEGER NOT NULL DEFAULT 0,
        updated_at REAL NOT NULL,
        UNIQUE(collection_id, path)
    );
    CREATE TABLE chunks(
        rowid INTEGER PRIMARY KEY,
        chunk_id TEXT NOT NULL,
        doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        collection_id INTEGER NOT NULL,
        idx INTEGER NOT NULL,
        text TEXT NOT NULL,
        search_text TEXT NOT NULL,
        bigram_text TEXT NOT NULL,
        heading TEXT,
        page INTEGER,
        char_start INTEGER NOT NULL,
        char_end INTEGER NOT NULL,
        embedding BLOB,
        in_index INTEGER NOT NULL DEFAULT 0,
        UNIQUE(collection_id, chunk_id)
    );
    CREATE INDEX chunks_doc ON chunks(doc_id);
    CREATE INDEX chunks_todo ON chunks(collection_id, in_index);
    CREATE VIRTUAL TABLE chunks_fts USING fts5(
        search_text, content='chunks', content_rowid='rowid', tokenize='trigram'
    );
    CREATE VIRTUAL TABLE chunks_bigram USING fts5(
        bigram_text, content='chunks', content_rowid='rowid', tokenize='unicode61'
    );
    CREATE TRIGGER chunks_ai AFTER INSERT ON chunks BEGIN
        INSERT INTO chunks_fts(rowid, search_text) VALUES (new.rowid, new.search_text);
        INSERT INTO chunks_bigram(rowid, bigram_text) VALUES (new.rowid, new.bigram_text);
    END;
    CREATE TRIGGER chunks_ad AFTER DELETE ON chunks BEGIN
        INSERT INTO chunks_fts(chunks_fts, rowid, search_text)
        VALUES ('delete', old.rowid, old.search_text);
        INSERT INTO chunks_bigram(chunks_bigram, rowid, bigram_text)
        VALUES ('delete', old.rowid, old.bigram_text);
    END;
    """,
    # 2: document-frequency views of both keyword indexes (to leave out terms too
    # common to rank by), retrieval counts per document, and watched folders.
    """
    CREATE VIRTUAL TABLE chunks_fts_vocab USING fts5vocab(chunks_fts, 'row');
    CREATE VIRTUAL TABLE chunks_bigram_vocab USING fts5vocab(chunks_bigram, 'row');
    ALTER TABLE documents ADD COLUMN retrievals INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE documents ADD COLUMN last_retrieved REAL;
    CREATE TABLE watched(
        collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
        folder TEXT NOT NULL,
        added_at REAL NOT NULL,
        PRIMARY KEY(collection_id, folder)
    );
    """,
    # 3: where each collection's vectors live (NULL: the embedded Chroma folder; else
    # a Chroma server URL), and a random id of this knowledge base that prefixes its
    # collection names on a server, so two data folders sharing a server never clash.
    """
    ALTER TABLE collections ADD COLUMN chroma_url TEXT;
    CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
    INSERT INTO meta(key, value) VALUES ('kb_id', lower(hex(randomblob(8))));
    """,
    # 4: a third keyword index over words (Chinese segmented into words, so BM25
    # scores words, not character n-grams; NULL until segmented, chunks written
    # before this version are filled in on open), the confidence of passages read
    # by OCR (NULL: the text layer), and the languages of each collection's chunks
    # (JSON {"zh": n, "en": n, ...}, counted at ingest).
    """
    ALTER TABLE chunks ADD COLUMN words_text TEXT;
    ALTER TABLE chunks ADD COLUMN ocr_confidence REAL;
    ALTER TABLE collections ADD COLUMN languages TEXT;
    CREATE VIRTUAL TABLE chunks_words USING fts5(
        words_text, content='chunks', content_rowid='rowid', tokenize='unicode61'
    );
    CREATE VIRTUAL TABLE chunks_words_vocab USING fts5vocab(chunks_words, 'row');
    DROP TRIGGER chunks_ai;
    DROP TRIGGER chunks_ad;
    CREATE TRIGGER chunks_ai AFTER INSERT ON chunks BEGIN
        INSERT INTO chunks_fts(rowid, search_text) VALUES (new.rowid, new.search_text);
        INSERT INTO chunks_bigram(rowid, bigram_text) VALUES (new.rowid, new.bigram_text);
        INSERT INTO chunks_words(rowid, words_text)
        SELECT new.rowid, new.words_text WHERE new.words_text IS NOT NULL;
    END;
    CREATE TRIGGER chunks_ad AFTER DELETE ON chunks BEGIN
        INSERT INTO chunks_fts(chunks_fts, rowid, search_text)
        VALUES ('delete', old.rowid, old.search_text);
        INSERT INTO chunks_bigram(chunks_bigram, rowid, bigram_text)
        VALUES ('delete', old.rowid, old.bigram_text);
        INSERT INTO chunks_words(chunks_words, rowid, words_text)
        SELECT 'delete', old.rowid, old.words_text WHERE old.words_text IS NOT NULL;
    END;
    CREATE TRIGGER chunks_au_words AFTER UPDATE OF words_text ON chunks BEGIN
        INSERT INTO chunks_words(chunks_words, rowid, words_text)
        SELECT 'delete', old.rowid, old.words_text WHERE old.words_text IS NOT NULL;
        INSERT INTO chunks_words(rowid, words_text)
        SELECT new.rowid, new.words_text WHERE new.words_text IS NOT NULL;
    END;
    """,
    # 5: a trash for deleted collections (emptied after TRASH_KEEP_S): a trashed one
    # keeps its documents, chunks and vectors; its name is kept in deleted_name and
    # the row takes a reserved name, so a new collection can use the old one.
    """
    ALTER TABLE collections ADD COLUMN deleted_at REAL;
    ALTER TABLE collections ADD COLUMN deleted_name TEXT;
    """,
)

#: How long a deleted collection stays in the trash before it is deleted for good.
TRASH_KEEP_S = 7 * 24 * 3600.0


def _trash_name(collection_id: int) -> str:
    # Control characters cannot be typed into a name field, and the id is unique.
    return f"\x1ftrash\x1f{collection_id}"


@dataclass(frozen=True, slots=True)
class Collection:
    """A named set of documents with its own Chroma collection and embedding model."""

    id: int
    name: str
    embed_model: str
    dim: int
    dirty: bool
    created_at: float
    #: The Chroma server holding its vectors (``http://host:port``); None: the
    #: embedded Chroma folder of the data folder.
    chroma_url: str | None = None


@dataclass(frozen=True, slots=True)
class TrashedCollection:
    """A deleted collection in the trash: its name then, and when it was deleted."""

    collection: Collection
    name: str
    deleted_at: float


@dataclass(frozen=True, slots=True)
class Document:
    """One file of a collection and where its indexing stands."""

    id: int
    collection_id: int
    path: str
    sha256: str | None
    size: int | None
    mtime: float | None
    type: str | None
    status: Status
    reason: str | None
    chunker_version: int | None
    n_chunks: int
    updated_at: float
    #: How many searches returned a passage of this document, and when the last did.
    retrievals: int = 0
    last_retrieved: float | None = None


@dataclass(frozen=True, slots=True)
class NewChunk:
    """A chunk about to be stored (its id is deterministic, see ``chunking.chunk_id``)."""

    chunk_id: str
    idx: int
    text: str
    search_text: str
    heading: str | None
    page: int | None
    char_start: int
    char_end: int
    #: The recognizer's confidence when the text was read by OCR, else None.
    ocr_confidence: float | None = None


@dataclass(frozen=True, slots=True)
class StoredChunk:
    """A chunk as read back for search results and citations."""

    chunk_id: str
    doc_id: int
    path: str
    type: str | None
    idx: int
    text: str
    heading: str | None
    page: int | None
    char_start: int
    char_end: int
    #: The recognizer's confidence when the text was read by OCR, else None.
    ocr_confidence: float | None = None


@dataclass(frozen=True, slots=True)
class KeywordPlan:
    """The terms each keyword index scores for a query (``explain`` shows it)."""

    trigram: keyword.TermPlan
    bigram: keyword.TermPlan
    words: keyword.TermPlan


#: The keyword indexes, each ranked by BM25: trigrams (any substring of three
#: characters or more, any script), CJK bigrams (two-character Chinese words), and
#: words (Chinese segmented by jieba, other text by word; see ``words``).
KEYWORD_INDEXES: dict[str, tuple[str, str]] = {
    # name: (FTS5 table, its fts5vocab table)
    "trigram": ("chunks_fts", "chunks_fts_vocab"),
    "bigram": ("chunks_bigram", "chunks_bigram_vocab"),
    "words": ("chunks_words", "chunks_words_vocab"),
}
#: Weights of the indexes' rankings when they are fused into the keyword side, for a
#: question without CJK text; an index weighted 0 is not searched. Without CJK the
#: bigram and words indexes hold the same words (the words index less stop words), so
#: only one is searched: on the dev English questions of eval/debian hit@5 was 0.524
#: with trigrams and bigrams (1, 1), 0.571 with trigrams and words (1, 0.5) and 0.619
#: with all three (1, 0.5, 0.5), but that third index cost 24% more keyword time at
#: p95 over 100,000 chunks, past the 40 ms budget of a hybrid query.
KEYWORD_WEIGHTS: dict[str, float] = {"trigram": 1.0, "bigram": 0.0, "words": 0.5}
#: The same for a question with CJK text. Its words make the bigram index's votes
#: noise (two characters across a word boundary, 样把 or 的数, are what it matches
#: rarest): on the dev Chinese questions hit@5 was 0.40 with it at 1, 0.44 at 0.5
#: or 0.25, 0.52 without it (trigrams and words alone).
CJK_KEYWORD_WEIGHTS: dict[str, float] = {"trigram": 1.0, "bigram": 0.0, "words": 1.0}


#: The rank constant when the indexes' rankings are fused into the keyword side: below
#: the usual 60, so an index's first few passages count for more than a passage both
#: indexes rank far down. On the dev questions of eval/debian, English hit@5 was 0.667
#: at 60, 0.714 at 20 or 30 and 0.667 at 10, Chinese and cross-language the same
#: (0.60, 0.556), and the seed questions the same at all four (0.942).
KEYWORD_RRF_K = 20


def keyword_weights(query: str) -> dict[str, float]:
    """The keyword indexes' fusion weights for ``query`` (by whether it has CJK text)."""
    return CJK_KEYWORD_WEIGHTS if keyword.has_cjk(query) else KEYWORD_WEIGHTS


@dataclass(frozen=True, slots=True)
class Filters:
    """Metadata filters: file types (``pdf``, ``md``…), a folder the file lies under, and
    when the file was last modified (``after`` inclusive, ``before`` exclusive; Unix
    seconds, as ``os.stat`` gives them)."""

    types: tuple[str, ...] = ()
    folder: str | None = None
    after: float | None = None
    before: float | None = None

    @property
    def active(self) -> bool:
        """Whether any filter restricts the results."""
        return bool(self.types or self.folder or self.after is not None or self.before is not None)


def _folder_prefix(folder: str) -> str:
    return str(Path(folder).expanduser().resolve()).rstrip(os.sep) + os.sep


class Registry:
    """The SQLite store of one data folder; opened by one process at a time."""

    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root = root
        self._lock_fd = _acquire_lock(root / LOCK_NAME)
        # Bumped by every write that adds or deletes chunks: keyword document
        # frequencies cached for a generation stay true until the next one.
        self._generation = 0
        self._df_generation = -1
        self._df_cache: dict[tuple[str, str], int] = {}
        self._n_chunks: int | None = None
        #: The keyword indexes searched (all; ``glassbox eval retrieval --indexes``
        #: leaves some out to measure what each brings).
        self.keyword_indexes: tuple[str, ...] = tuple(KEYWORD_INDEXES)
        try:
            # Passages of the user's documents: readable by the owner only (0600).
            self.conn = sqlite3.connect(
                paths.private_file(root / DB_NAME), isolation_level=None, check_same_thread=False
            )
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=FULL")
            self.conn.execute("PRAGMA foreign_keys=ON")
            self._migrate()
            self._count_missing_languages()
        except sqlite3.DatabaseError as exc:
            os.close(self._lock_fd)
            raise KnowledgeBaseError(
                f"The knowledge base database {root / DB_NAME} cannot be opened ({exc}). "
                "Move it aside and ingest the documents again."
            ) from exc
        except GlassboxError:
            self.close()  # a newer schema, a failed upgrade: the lock goes too
            raise

    # -- lifetime ------------------------------------------------------------------

    def close(self) -> None:
        """Close the database and release the writer lock."""
        with contextlib.suppress(sqlite3.Error):
            self.conn.close()
        if self._lock_fd >= 0:
            os.close(self._lock_fd)
            self._lock_fd = -1

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self) -> None:
        """Upgrade the schema. An existing file is backed up before the first step and
        put back from that backup when a step fails; one opened with no backup for a
        day gets its daily one (``core.backup``)."""
        version = int(self.conn.execute("PRAGMA user_version").fetchone()[0])
        if version > len(MIGRATIONS):
            raise KnowledgeBaseError(
                f"The knowledge base was written by a newer Glassbox (schema {version})."
            )
        path = self.root / DB_NAME
        saved = None
        if 0 < version < len(MIGRATIONS):
            saved = backup.before_migration(self.conn, backup.KNOWLEDGE, path)
        for number in range(version, len(MIGRATIONS)):
            try:
                with self.transaction():
                    for statement in _statements(MIGRATIONS[number]):
                        self.conn.execute(statement)
                    self.conn.execute(f"PRAGMA user_version={number + 1}")
            except Exception as exc:
                if saved is None:
                    raise
                note = backup.restore_after_failed_migration(
                    saved, self.conn, backup.KNOWLEDGE, number + 1, exc
                )
                raise KnowledgeBaseError(note) from exc
        if version:
            backup.daily(self.conn, backup.KNOWLEDGE, path)

    def reopened(self) -> None:
        """After the file was replaced under this connection (a restore): upgrade its
        schema and forget what was cached about its contents."""
        self._migrate()
        self._count_missing_languages()
        self._generation += 1
        self._df_cache.clear()
        self._n_chunks = None

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic write: committed on success, rolled back on any error."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    # -- collections ---------------------------------------------------------------

    _COLL_COLS = "id, name, embed_model, dim, dirty, created_at, chroma_url"

    def create_collection(
        self, name: str, embed_model: str, dim: int, chroma_url: str | None = None
    ) -> Collection:
        """Create a collection (names are unique, 1–100 characters), its vectors kept
        in the embedded Chroma folder or, with ``chroma_url`` (normalised by
        ``location.parse_chroma_url``), on that Chroma server."""
        name = name.strip()
        if not 0 < len(name) <= 100:
            raise KnowledgeBaseError("A collection name has 1 to 100 characters.")
        with self.transaction() as c:
            c.execute(
                "INSERT INTO collections(name, embed_model, dim, created_at, chroma_url) "
                "VALUES (?, ?, ?, ?, ?)",
                (name, embed_model, dim, time.time(), chroma_url),
            )
        return self.collection(name)

    def set_chroma_url(self, coll: Collection, chroma_url: str | None) -> Collection:
        """Move a collection's vectors to another location: every chunk is marked as not
        in the index (and the collection dirty) until the new location is filled."""
        with self.transaction() as c:
            c.execute(
                "UPDATE collections SET chroma_url = ?, dirty = 1 WHERE id = ?",
                (chroma_url, coll.id),
            )
            c.execute("UPDATE chunks SET in_index = 0 WHERE collection_id = ?", (coll.id,))
        return self.collection(coll.name)

    def kb_id(self) -> str:
        """A random id of this knowledge base, made once (prefixes its names on servers)."""
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'kb_id'").fetchone()
        return str(row[0])

    def find_collection(self, name: str) -> Collection | None:
        """The collection called ``name``, or None."""
        row = self.conn.execute(
            f"SELECT {self._COLL_COLS} FROM collections WHERE name = ? AND deleted_at IS NULL",
            (name,),
        ).fetchone()
        return None if row is None else _collection(row)

    def collection(self, name: str) -> Collection:
        """The collection called ``name``; a clear error if there is none."""
        found = self.find_collection(name)
        if found is None:
            known = ", ".join(c.name for c in self.collections()) or "none yet"
            raise CollectionNotFoundError(
                f"There is no collection named {name!r} (collections: {known}). "
                "Create one with `glassbox ingest PATH --collection NAME`."
            )
        return found

    def collections(self) -> list[Collection]:
        """Every collection, by name (those in the trash are not listed)."""
        rows = self.conn.execute(
            f"SELECT {self._COLL_COLS} FROM collections WHERE deleted_at IS NULL ORDER BY name"
        ).fetchall()
        return [_collection(r) for r in rows]

    def trash_collection(self, coll: Collection) -> None:
        """Put a collection in the trash: hidden, with its rows (and vectors) kept."""
        with self.transaction() as c:
            c.execute(
                "UPDATE collections SET deleted_at = ?, deleted_name = name, name = ? "
                "WHERE id = ? AND deleted_at IS NULL",
                (time.time(), _trash_name(coll.id), coll.id),
            )

    def trashed_collections(self) -> list[TrashedCollection]:
        """The collections in the trash, most recently deleted first."""
        rows = self.conn.execute(
            f"SELECT {self._COLL_COLS}, deleted_name, deleted_at FROM collections "
            "WHERE deleted_at IS NOT NULL ORDER BY deleted_at DESC, id DESC"
        ).fetchall()
        return [
            TrashedCollection(_collection(r), str(r[7] or f"collection {r[0]}"), float(r[8]))
            for r in rows
        ]

    def restore_collection(self, collection_id: int) -> Collection:
        """Take a collection out of the trash under its name (refused if it is taken)."""
        found = [t for t in self.trashed_collections() if t.collection.id == collection_id]
        if not found:
            raise KnowledgeBaseError(
                "This collection is no longer in the trash; it may have been emptied."
            )
        name = found[0].name
        if self.find_collection(name) is not None:
            raise KnowledgeBaseError(
                f"A collection named {name!r} exists now. Rename it, then restore this one."
            )
        with self.transaction() as c:
            c.execute(
                "UPDATE collections SET name = ?, deleted_at = NULL, deleted_name = NULL "
                "WHERE id = ?",
                (name, collection_id),
            )
        return self.collection(name)

    def rename_collection(self, name: str, new_name: str) -> None:
        """Rename a collection (its Chroma collection is keyed by id, so it stays)."""
        coll = self.collection(name)
        if self.find_collection(new_name) is not None:
            raise KnowledgeBaseError(f"A collection named {new_name!r} already exists.")
        with self.transaction() as c:
            c.execute("UPDATE collections SET name = ? WHERE id = ?", (new_name.strip(), coll.id))

    def delete_collection(self, coll: Collection) -> None:
        """Delete a collection with its documents and chunks."""
        self._generation += 1
        with self.transaction() as c:
            c.execute("DELETE FROM chunks WHERE collection_id = ?", (coll.id,))
            c.execute("DELETE FROM collections WHERE id = ?", (coll.id,))

    def set_dirty(self, coll: Collection, dirty: bool) -> None:
        """Mark a collection whose Chroma mirror may differ from SQLite (checked at open)."""
        with self.transaction() as c:
            c.execute("UPDATE collections SET dirty = ? WHERE id = ?", (int(dirty), coll.id))

    def is_dirty(self, coll: Collection) -> bool:
        """Whether a write to Chroma was started and not confirmed."""
        row = self.conn.execute("SELECT dirty FROM collections WHERE id = ?", (coll.id,)).fetchone()
        return bool(row and row[0])

    # -- documents -----------------------------------------------------------------

    _DOC_COLS = (
        "id, collection_id, path, sha256, size, mtime, type, status, reason, "
        "chunker_version, n_chunks, updated_at, retrievals, last_retrieved"
    )

    def document(self, coll: Collection, path: str) -> Document | None:
        """The document stored for ``path`` in a collection, or None."""
        row = self.conn.execute(
            f"SELECT {self._DOC_COLS} FROM documents WHERE collection_id = ? AND path = ?",
            (coll.id, path),
        ).fetchone()
        return None if row is None else Document(*row)

    def documents(self, coll: Collection, status: Status | None = None) -> list[Document]:
        """The documents of a collection (optionally of one status), by path."""
        sql = f"SELECT {self._DOC_COLS} FROM documents WHERE collection_id = ?"
        args: list[object] = [coll.id]
        if status is not None:
            sql += " AND status = ?"
            args.append(status)
        return [Document(*r) for r in self.conn.execute(sql + " ORDER BY path", args)]

    def set_failed(
        self,
        coll: Collection,
        path: str,
        reason: str,
        *,
        sha256: str | None,
        size: int | None,
        mtime: float | None,
        type_: str | None,
    ) -> list[str]:
        """Record a file that could not be indexed; its old chunks go. Returns their ids."""
        self._generation += 1
        with self.transaction() as c:
            old = self._delete_chunks_of(c, coll, path)
            c.execute(
                "INSERT INTO documents(collection_id, path, sha256, size, mtime, type, status, "
                "reason, n_chunks, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'failed', ?, 0, ?) "
                "ON CONFLICT(collection_id, path) DO UPDATE SET sha256 = excluded.sha256, "
                "size = excluded.size, mtime = excluded.mtime, type = excluded.type, "
                "status = 'failed', reason = excluded.reason, n_chunks = 0, "
                "chunker_version = NULL, updated_at = excluded.updated_at",
                (coll.id, path, sha256, size, mtime, type_, reason, time.time()),
            )
        return old

    def replace_document(
        self,
        coll: Collection,
        path: str,
        *,
        sha256: str,
        size: int,
        mtime: float,
        type_: str,
        chunker_version: int,
        chunks: Sequence[NewChunk],
    ) -> tuple[int, list[str]]:
        """Store a (re)parsed document as pending with its new chunks, in one transaction.

        Returns the document id and the ids of chunks that existed before and are
        gone now (to delete from Chroma). A chunk id already stored for another
        document of the collection (a copy of the same file) is kept once.
        """
        self._generation += 1
        # Segmented before the write lock is taken (jieba may load its dictionary).
        words = [words_text(ch.search_text) for ch in chunks]
        with self.transaction() as c:
            old = self._delete_chunks_of(c, coll, path)
            c.execute(
                "INSERT INTO documents(collection_id, path, sha256, size, mtime, type, status, "
                "reason, chunker_version, n_chunks, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, 'pending', NULL, ?, ?, ?) "
                "ON CONFLICT(collection_id, path) DO UPDATE SET sha256 = excluded.sha256, "
                "size = excluded.size, mtime = excluded.mtime, type = excluded.type, "
                "status = 'pending', reason = NULL, chunker_version = excluded.chunker_version, "
                "n_chunks = excluded.n_chunks, updated_at = excluded.updated_at",
                (
                    coll.id,
                    path,
                    sha256,
                    size,
                    mtime,
                    type_,
                    chunker_version,
                    len(chunks),
                    time.time(),
                ),
            )
            doc_id = int(
                c.execute(
                    "SELECT id FROM documents WHERE collection_id = ? AND path = ?",
                    (coll.id, path),
                ).fetchone()[0]
            )
            c.executemany(
                "INSERT OR IGNORE INTO chunks(chunk_id, doc_id, collection_id, idx, text, "
                "search_text, bigram_text, words_text, heading, page, char_start, char_end, "
                "ocr_confidence) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        ch.chunk_id,
                        doc_id,
                        coll.id,
                        ch.idx,
                        ch.text,
                        ch.search_text,
                        keyword.bigram_text(ch.search_text),
                        ch_words,
                        ch.heading,
                        ch.page,
                        ch.char_start,
                        ch.char_end,
                        ch.ocr_confidence,
                    )
                    for ch, ch_words in zip(chunks, words, strict=True)
                ],
            )
            texts = [r[0] for r in c.execute("SELECT text FROM chunks WHERE doc_id = ?", (doc_id,))]
            self._add_languages(c, coll, language.count(texts), 1)
            stored = len(texts)
            if stored < len(chunks):
                c.execute(
                    "UPDATE documents SET n_chunks = ?, reason = ? WHERE id = ?",
                    (stored, "same content as another document of this collection", doc_id),
                )
        new_ids = {ch.chunk_id for ch in chunks}
        return doc_id, [i for i in old if i not in new_ids]

    def _delete_chunks_of(self, c: sqlite3.Connection, coll: Collection, path: str) -> list[str]:
        rows = c.execute(
            "SELECT ch.chunk_id, ch.text FROM chunks ch JOIN documents d ON d.id = ch.doc_id "
            "WHERE d.collection_id = ? AND d.path = ?",
            (coll.id, path),
        ).fetchall()
        c.execute(
            "DELETE FROM chunks WHERE doc_id IN "
            "(SELECT id FROM documents WHERE collection_id = ? AND path = ?)",
            (coll.id, path),
        )
        self._add_languages(c, coll, language.count(r[1] for r in rows), -1)
        return [r[0] for r in rows]

    # -- languages -----------------------------------------------------------------

    def _add_languages(
        self, c: sqlite3.Connection, coll: Collection, counts: Mapping[str, int], sign: int
    ) -> None:
        """Add (``sign`` 1) or take away (-1) chunks per language, in the caller's
        transaction; a collection not counted yet is counted whole instead."""
        if not counts:
            return
        row = c.execute("SELECT languages FROM collections WHERE id = ?", (coll.id,)).fetchone()
        stored = language.parse_counts(row[0]) if row is not None else None
        if stored is None:
            self._recount_languages(c, coll.id)
            return
        for lang, n in counts.items():
            stored[lang] = max(0, stored.get(lang, 0) + sign * n)
        c.execute(
            "UPDATE collections SET languages = ? WHERE id = ?",
            (language.dump_counts(stored), coll.id),
        )

    def _recount_languages(self, c: sqlite3.Connection, coll_id: int) -> None:
        counts = language.count(
            r[0] for r in c.execute("SELECT text FROM chunks WHERE collection_id = ?", (coll_id,))
        )
        c.execute(
            "UPDATE collections SET languages = ? WHERE id = ?",
            (language.dump_counts(counts), coll_id),
        )

    def _count_missing_languages(self) -> None:
        """Count the languages of collections written before they were counted."""
        todo = [
            r[0] for r in self.conn.execute("SELECT id FROM collections WHERE languages IS NULL")
        ]
        for coll_id in todo:
            with self.transaction() as c:
                self._recount_languages(c, coll_id)

    def languages(self, coll: Collection) -> dict[str, int]:
        """Chunks per language of a collection (``language.detect``), largest first."""
        row = self.conn.execute(
            "SELECT languages FROM collections WHERE id = ?", (coll.id,)
        ).fetchone()
        counts = language.parse_counts(row[0]) if row is not None else None
        if counts is None:
            with self.transaction() as c:
                self._recount_languages(c, coll.id)
            return self.languages(coll)
        return counts

    def touch_document(self, doc_id: int, size: int, mtime: float) -> None:
        """Record a new size and time for a document whose content did not change."""
        with self.transaction() as c:
            c.execute(
                "UPDATE documents SET size = ?, mtime = ? WHERE id = ?", (size, mtime, doc_id)
            )

    def mark_indexed(self, doc_ids: Iterable[int]) -> None:
        """Documents whose every chunk is embedded and in Chroma become ``indexed``."""
        with self.transaction() as c:
            c.executemany(
                "UPDATE documents SET status = 'indexed', updated_at = ? WHERE id = ? "
                "AND status = 'pending' AND NOT EXISTS "
                "(SELECT 1 FROM chunks WHERE doc_id = documents.id AND in_index = 0)",
                [(time.time(), d) for d in doc_ids],
            )

    def remove_document(self, coll: Collection, path: str) -> list[str]:
        """Forget a document; returns its chunk ids (to delete from Chroma)."""
        self._generation += 1
        with self.transaction() as c:
            old = self._delete_chunks_of(c, coll, path)
            c.execute("DELETE FROM documents WHERE collection_id = ? AND path = ?", (coll.id, path))
        return old

    # -- watched folders -----------------------------------------------------------

    def watch(self, coll: Collection, folder: str) -> bool:
        """Add a watched folder (an absolute, resolved path); False if it was already."""
        with self.transaction() as c:
            cur = c.execute(
                "INSERT OR IGNORE INTO watched(collection_id, folder, added_at) VALUES (?, ?, ?)",
                (coll.id, folder, time.time()),
            )
        return cur.rowcount > 0

    def unwatch(self, coll: Collection, folder: str) -> bool:
        """Stop watching a folder; False if it was not watched."""
        with self.transaction() as c:
            cur = c.execute(
                "DELETE FROM watched WHERE collection_id = ? AND folder = ?", (coll.id, folder)
            )
        return cur.rowcount > 0

    def watched(self, coll: Collection) -> list[str]:
        """The folders a collection watches, by path."""
        return [
            r[0]
            for r in self.conn.execute(
                "SELECT folder FROM watched WHERE collection_id = ? ORDER BY folder", (coll.id,)
            )
        ]

    # -- retrieval counts ----------------------------------------------------------

    def record_retrievals(self, counts: Mapping[int, int], at: float) -> None:
        """Add to documents' retrieval counts (batched by the caller: one write per batch)."""
        if not counts:
            return
        with self.transaction() as c:
            c.executemany(
                "UPDATE documents SET retrievals = retrievals + ?, last_retrieved = ? WHERE id = ?",
                [(n, at, doc_id) for doc_id, n in counts.items()],
            )

    def never_retrieved(self, coll: Collection) -> list[str]:
        """Paths of indexed documents no search has returned yet."""
        return [
            r[0]
            for r in self.conn.execute(
                "SELECT path FROM documents WHERE collection_id = ? AND status = 'indexed' "
                "AND retrievals = 0 ORDER BY path",
                (coll.id,),
            )
        ]

    # -- chunks and vectors --------------------------------------------------------

    def chunks_without_vector(
        self, coll: Collection, doc_ids: Sequence[int]
    ) -> list[tuple[str, str, str | None]]:
        """(chunk id, text, heading) of a documents' chunks that still need embedding."""
        out: list[tuple[str, str, str | None]] = []
        for doc_id in doc_ids:
            out.extend(
                self.conn.execute(
                    "SELECT chunk_id, text, heading FROM chunks WHERE doc_id = ? "
                    "AND embedding IS NULL ORDER BY idx",
                    (doc_id,),
                ).fetchall()
            )
        return out

    def store_vectors(
        self, coll: Collection, ids: Sequence[str], vectors: npt.NDArray[np.float32]
    ) -> None:
        """Save embeddings (float32) so Chroma can be rebuilt without embedding again."""
        with self.transaction() as c:
            c.executemany(
                "UPDATE chunks SET embedding = ? WHERE collection_id = ? AND chunk_id = ?",
                [
                    (vectors[i].astype(np.float32).tobytes(), coll.id, cid)
                    for i, cid in enumerate(ids)
                ],
            )

    def mark_in_index(self, coll: Collection, ids: Sequence[str], value: bool = True) -> None:
        """Record that these chunks are (or are not) in the Chroma collection."""
        with self.transaction() as c:
            c.executemany(
                "UPDATE chunks SET in_index = ? WHERE collection_id = ? AND chunk_id = ?",
                [(int(value), coll.id, cid) for cid in ids],
            )

    def reset_in_index(self, coll: Collection) -> None:
        """Mark every chunk as absent from Chroma (before a rebuild)."""
        with self.transaction() as c:
            c.execute("UPDATE chunks SET in_index = 0 WHERE collection_id = ?", (coll.id,))

    def vectors_not_in_index(
        self, coll: Collection, limit: int
    ) -> list[tuple[str, bytes, str, str | None]]:
        """(chunk id, vector bytes, path, type) of embedded chunks missing from Chroma."""
        return self.conn.execute(
            "SELECT ch.chunk_id, ch.embedding, d.path, d.type FROM chunks ch "
            "JOIN documents d ON d.id = ch.doc_id WHERE ch.collection_id = ? "
            "AND ch.in_index = 0 AND ch.embedding IS NOT NULL LIMIT ?",
            (coll.id, limit),
        ).fetchall()

    def chunk_ids(self, coll: Collection) -> set[str]:
        """Every chunk id of a collection."""
        return {
            r[0]
            for r in self.conn.execute(
                "SELECT chunk_id FROM chunks WHERE collection_id = ?", (coll.id,)
            )
        }

    def document_chunk_ids(self, doc: Document) -> list[str]:
        """The chunk ids of a document, in document order."""
        return [
            r[0]
            for r in self.conn.execute(
                "SELECT chunk_id FROM chunks WHERE doc_id = ? ORDER BY idx", (doc.id,)
            )
        ]

    def counts(self, coll: Collection) -> dict[str, int]:
        """Documents by status, chunks, chunks embedded, chunks in Chroma, bytes of documents."""
        out = {"pending": 0, "indexed": 0, "failed": 0}
        for status, n in self.conn.execute(
            "SELECT status, count(*) FROM documents WHERE collection_id = ? GROUP BY status",
            (coll.id,),
        ):
            out[status] = n
        row = self.conn.execute(
            "SELECT count(*), count(embedding), coalesce(sum(in_index), 0) FROM chunks "
            "WHERE collection_id = ?",
            (coll.id,),
        ).fetchone()
        size = self.conn.execute(
            "SELECT coalesce(sum(size), 0) FROM documents WHERE collection_id = ?", (coll.id,)
        ).fetchone()[0]
        out.update(
            documents=out["pending"] + out["indexed"] + out["failed"],
            chunks=row[0],
            embedded=row[1],
            in_index=row[2],
            bytes=int(size),
        )
        return out

    def duplicate_chunk_texts(self, coll: Collection) -> int:
        """How many chunks repeat the text of another chunk of the collection."""
        row = self.conn.execute(
            "SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM chunks "
            "WHERE collection_id = ? GROUP BY text HAVING n > 1)",
            (coll.id,),
        ).fetchone()
        return int(row[0])

    def chunks_by_id(self, coll: Collection, ids: Sequence[str]) -> dict[str, StoredChunk]:
        """Servable chunks (their document fully indexed) for these ids."""
        out: dict[str, StoredChunk] = {}
        for start in range(0, len(ids), 500):
            part = list(ids[start : start + 500])
            marks = ",".join("?" * len(part))
            for r in self.conn.execute(
                "SELECT ch.chunk_id, ch.doc_id, d.path, d.type, ch.idx, ch.text, ch.heading, "
                "ch.page, ch.char_start, ch.char_end, ch.ocr_confidence FROM chunks ch "
                "JOIN documents d ON d.id = ch.doc_id "
                f"WHERE ch.collection_id = ? AND d.status = 'indexed' AND ch.chunk_id IN ({marks})",
                [coll.id, *part],
            ):
                out[r[0]] = StoredChunk(*r)
        return out

    def _doc_freqs(self, vocab: str, terms: Sequence[str]) -> dict[str, int]:
        """Chunks holding each term, from an ``fts5vocab`` table; cached until chunks change."""
        if self._df_generation != self._generation:
            self._df_cache.clear()
            self._n_chunks = None
            self._df_generation = self._generation
        if len(self._df_cache) > 100_000:
            self._df_cache.clear()
        missing = [t for t in dict.fromkeys(terms) if (vocab, t) not in self._df_cache]
        for start in range(0, len(missing), 200):
            part = missing[start : start + 200]
            found = dict(
                self.conn.execute(
                    f"SELECT term, doc FROM {vocab} WHERE term IN ({','.join('?' * len(part))})",
                    part,
                ).fetchall()
            )
            for term in part:
                self._df_cache[(vocab, term)] = int(found.get(term, 0))
        return {t: self._df_cache[(vocab, t)] for t in terms}

    def chunk_total(self) -> int:
        """Chunks in the store (all collections: the keyword indexes are shared); cached."""
        if self._df_generation != self._generation or self._n_chunks is None:
            self._doc_freqs("chunks_fts_vocab", [])
            self._n_chunks = int(self.conn.execute("SELECT count(*) FROM chunks").fetchone()[0])
        return self._n_chunks

    def keyword_plan(self, query: str) -> KeywordPlan:
        """The terms each keyword index scores for ``query``, and those left out as too common.

        The trigram index stores three-character pieces, so a longer word's count is
        that of its rarest trigram (an upper bound of the chunks holding the word).
        The words index has its own, smaller budget of postings, and leaves out a word
        held by too many chunks even when it is the question's rarest
        (``keyword.MAX_WORDS_POSTINGS``, ``keyword.MAX_WORD_CHUNKS``).
        """
        n = self.chunk_total()
        tri_terms = keyword.query_terms(query)
        pieces = {t: [t[i : i + 3] for i in range(len(t) - 2)] for t in tri_terms}
        tri_df = self._doc_freqs("chunks_fts_vocab", [p for ps in pieces.values() for p in ps])
        word_df = {t: min(tri_df[p] for p in ps) for t, ps in pieces.items()}
        bi_terms = keyword.bigram_terms(query)
        bi_df = self._doc_freqs("chunks_bigram_vocab", bi_terms)
        words_terms = query_words(query)
        words_df = self._doc_freqs("chunks_words_vocab", words_terms)
        return KeywordPlan(
            trigram=keyword.plan_terms(tri_terms, word_df, n),
            bigram=keyword.plan_terms(bi_terms, bi_df, n),
            words=keyword.plan_terms(
                words_terms,
                words_df,
                n,
                max_postings=keyword.MAX_WORDS_POSTINGS,
                max_term_chunks=keyword.MAX_WORD_CHUNKS,
            ),
        )

    def keyword_rankings(
        self,
        coll: Collection,
        query: str,
        k: int,
        filters: Filters | None = None,
        timings: dict[str, float] | None = None,
    ) -> dict[str, list[str]]:
        """Chunk ids of the ``k`` best BM25 matches of each keyword index searched
        (``keyword_indexes``, less those weighted 0 for this query), best first; an
        index with no term for the query is absent. ``timings``, when given, adds the
        seconds spent planning (``keyword.plan``) and in each index (``keyword.NAME``)."""
        started = time.perf_counter()
        plan = self.keyword_plan(query)
        weights = keyword_weights(query)
        where, args = _filter_sql(filters)
        if timings is not None:
            _add_time(timings, "keyword.plan", started)
        out: dict[str, list[str]] = {}
        for name in self.keyword_indexes:
            match = keyword.match_expression(getattr(plan, name).kept)
            if match is not None and weights[name] > 0:
                started = time.perf_counter()
                table = KEYWORD_INDEXES[name][0]
                out[name] = self._ranked(table, match, coll, where, args, k)
                if timings is not None:
                    _add_time(timings, f"keyword.{name}", started)
        return out

    def keyword_search(
        self,
        coll: Collection,
        query: str,
        k: int,
        filters: Filters | None = None,
        timings: dict[str, float] | None = None,
    ) -> list[tuple[str, float]]:
        """(chunk id, score) of the best keyword matches, best first (higher is better).

        Three indexes answer, each ranked by BM25 and then fused by rank with the
        weights of ``keyword_weights``: the trigram index (any substring of three
        characters or more, any script), the bigram index (Chinese by two-character
        word) and the words index (Chinese segmented into words). Terms held by a
        large share of the chunks are left out (see ``keyword_plan``). A query with
        no term for any (a single character) falls back to LIKE, scored by
        occurrences. Input is always matched literally. ``timings``: see
        ``keyword_rankings``.
        """
        rankings = self.keyword_rankings(coll, query, k, filters, timings)
        if rankings:
            # Fused by rank, like the vector and keyword sides are later.
            weights = keyword_weights(query)
            scores = reciprocal_rank_fusion(
                list(rankings.values()), [weights[name] for name in rankings], k=KEYWORD_RRF_K
            )
            return sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:k]
        where, args = _filter_sql(filters)
        return self._like_search(coll, query, k, where, args)

    # -- the words index of chunks written before it existed ---------------------------

    def words_missing(self, coll: Collection) -> int:
        """Chunks of the collection not in the words index yet (written before schema 4)."""
        row = self.conn.execute(
            "SELECT count(*) FROM chunks WHERE collection_id = ? AND words_text IS NULL",
            (coll.id,),
        ).fetchone()
        return int(row[0])

    def fill_words(self, coll: Collection) -> int:
        """Segment up to ``WORDS_BATCH`` chunks of the collection missing from the words
        index and add them, in one short transaction; returns how many (0: none left)."""
        with self.transaction() as c:
            rows = c.execute(
                "SELECT rowid, search_text FROM chunks "
                "WHERE collection_id = ? AND words_text IS NULL LIMIT ?",
                (coll.id, WORDS_BATCH),
            ).fetchall()
            c.executemany(
                "UPDATE chunks SET words_text = ? WHERE rowid = ?",
                [(words_text(text), rowid) for rowid, text in rows],
            )
        if rows:
            self._generation += 1  # document frequencies of the words index changed
        return len(rows)

    def _ranked(
        self, table: str, match: str, coll: Collection, where: str, args: list[object], k: int
    ) -> list[str]:
        """Chunk ids of the ``k`` best BM25 matches in one index, for one collection.

        BM25 ranks inside FTS5 with a LIMIT first, and only those rows are joined to
        their documents: joining every match before sorting was most of the cost. The
        LIMIT grows when the collection or the filters reject too many of the best.
        """
        inner = max(4 * k, 64)
        total = self.chunk_total()
        while True:
            try:
                rows = self.conn.execute(
                    f"SELECT ch.chunk_id FROM (SELECT rowid, rank AS score FROM {table} "
                    f"WHERE {table} MATCH ? ORDER BY rank LIMIT ?) AS s "
                    "JOIN chunks ch ON ch.rowid = s.rowid JOIN documents d ON d.id = ch.doc_id "
                    f"WHERE ch.collection_id = ? AND d.status = 'indexed'{where} "
                    "ORDER BY s.score, ch.chunk_id LIMIT ?",
                    [match, inner, coll.id, *args, k],
                ).fetchall()
            except sqlite3.OperationalError as exc:  # pragma: no cover - quoting makes it literal
                raise KnowledgeBaseError(f"Keyword search failed: {exc}") from exc
            if len(rows) >= k or inner >= total:
                return [r[0] for r in rows]
            inner *= 8

    def _like_search(
        self, coll: Collection, query: str, k: int, where: str, args: list[object]
    ) -> list[tuple[str, float]]:
        terms = keyword.short_terms(query)
        if not terms:
            return []
        occurrences = " + ".join(
            "(length(ch.search_text) - length(replace(ch.search_text, ?, ''))) / ?" for _ in terms
        )
        likes = " OR ".join("ch.search_text LIKE ? ESCAPE '\\'" for _ in terms)
        term_args: list[object] = []
        for t in terms:
            term_args += [t, len(t)]
        rows = self.conn.execute(
            f"SELECT ch.chunk_id, ({occurrences}) AS score FROM chunks ch "
            "JOIN documents d ON d.id = ch.doc_id "
            f"WHERE ch.collection_id = ? AND d.status = 'indexed' AND ({likes}){where} "
            "ORDER BY score DESC LIMIT ?",
            [*term_args, coll.id, *[keyword.like_pattern(t) for t in terms], *args, k],
        ).fetchall()
        return [(r[0], float(r[1])) for r in rows]

    def filter_ids(self, coll: Collection, ids: Sequence[str], filters: Filters) -> set[str]:
        """The subset of ``ids`` whose documents pass the filters."""
        where, args = _filter_sql(filters)
        out: set[str] = set()
        for start in range(0, len(ids), 500):
            part = list(ids[start : start + 500])
            marks = ",".join("?" * len(part))
            out.update(
                r[0]
                for r in self.conn.execute(
                    "SELECT ch.chunk_id FROM chunks ch JOIN documents d ON d.id = ch.doc_id "
                    f"WHERE ch.collection_id = ? AND ch.chunk_id IN ({marks}){where}",
                    [coll.id, *part, *args],
                )
            )
        return out


def _add_time(timings: dict[str, float], name: str, started: float) -> None:
    """Add the seconds since ``started`` to ``timings[name]``."""
    timings[name] = timings.get(name, 0.0) + time.perf_counter() - started


def _collection(row: Any) -> Collection:
    return Collection(row[0], row[1], row[2], row[3], bool(row[4]), row[5], row[6])


def _filter_sql(filters: Filters | None) -> tuple[str, list[object]]:
    if filters is None:
        return "", []
    sql = ""
    args: list[object] = []
    if filters.types:
        sql += f" AND d.type IN ({','.join('?' * len(filters.types))})"
        args += [t.lower().lstrip(".") for t in filters.types]
    if filters.folder:
        sql += " AND substr(d.path, 1, ?) = ?"
        prefix = _folder_prefix(filters.folder)
        args += [len(prefix), prefix]
    if filters.after is not None:
        sql += " AND d.mtime >= ?"
        args.append(filters.after)
    if filters.before is not None:
        sql += " AND d.mtime < ?"
        args.append(filters.before)
    return sql, args


def _statements(script: str) -> list[str]:
    """Split a migration into statements (``sqlite3.complete_statement`` knows triggers)."""
    out, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            out.append(current.strip())
            current = ""
    if current.strip():
        out.append(current.strip())
    return out


def _acquire_lock(path: Path) -> int:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        holder = ""
        with contextlib.suppress(OSError, ValueError):
            holder = os.pread(fd, 32, 0).decode().strip()
        os.close(fd)
        raise KnowledgeBaseLockedError(
            "The knowledge base is open in another Glassbox process"
            + (f" (pid {holder})" if holder else "")
            + ". Close it, or wait for its ingestion to finish, and try again."
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)
    return fd


def open_registry(root: Path | None = None) -> Registry:
    """Open the registry of the data folder (``data_dir()/kb`` by default)."""
    return Registry(root if root is not None else paths.data_dir() / "kb")
