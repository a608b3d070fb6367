"""Conversations on disk: chats, message trees, token records, presets and search.

One SQLite file (``chats.sqlite3`` in the data folder) in WAL mode with
``synchronous=FULL``: a message the user saw saved survives a power cut. Every
logical change is one transaction, and the schema is migrated by number
(``PRAGMA user_version``) so an old file opens in a newer app (see ``db.py``).

Messages of a chat form a tree: the children of a message are its branches
(regenerated replies, edited questions), ordered by creation. ``current_leaf``
remembers which branch the user last looked at.

Projects group chats under a name with a system prompt, sampling values, knowledge
collections and pinned files; :meth:`ChatStore.create_chat_in_project` starts a chat
with them. Chats and projects are deleted softly (``deleted_at``) so Undo can bring
them back; a deleted message is hidden and only deleted when its Undo has expired
(:meth:`ChatStore.hide_branch`), so a process killed meanwhile loses nothing.

A reply is written while it streams by a ``ReplyRecorder`` (``recorder.py``), which owns a
thread and its own connection so the GUI thread never waits on the disk; what was
committed survives a crash and is marked ``interrupted`` on the next start.

Damage stays local. Text that is not UTF-8, numbers that are not numbers and
JSON that does not parse are read as defaults with a ``note`` on the item, so one
bad row never hides the other chats. A file that is not a database at all is
moved aside to ``chats.sqlite3.bad-<timestamp>`` and a fresh one is started;
``ChatStore.recovered_from`` and ``recovery_note`` tell the UI.

The store is used from one thread (the GUI thread); only recorders run elsewhere.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sqlite3
import threading
import time
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, get_args

from desktop_app.core import paths
from desktop_app.core.chat.codecs import (
    STATUSES,
    MessageStatus,
    TokenRecord,
    as_float,
    as_int,
    as_text,
    decode_json_object,
    decode_token,
    encode_token,
    storable,
)
from desktop_app.core.chat.db import connect, damaged, migrate, storage_error, transaction
from desktop_app.core.chat.recorder import COMMIT_INTERVAL_S, ReplyRecorder
from desktop_app.core.chat.thinking import stored_parts
from desktop_app.core.engine.protocol import Message, Role, TokenEvent
from desktop_app.core.errors import InvalidRequestError, StorageError
from desktop_app.core.sampling import SamplingParams

log = logging.getLogger(__name__)

DB_NAME = "chats.sqlite3"

ROLES: tuple[str, ...] = get_args(Role)

#: Around the matched text in a search snippet. Control characters, because they
#: never occur in what people type and so cannot be confused with the text.
MARK_OPEN = "\x02"
MARK_CLOSE = "\x03"
#: Searches shorter than this cannot use the trigram index and scan with LIKE.
MIN_FTS_QUERY = 3
#: Deeper parent chains than this can only come from a damaged file (a cycle).
_MAX_DEPTH = 100_000
_SNIPPET_CONTEXT = 40

_MESSAGE_COLUMNS = "id, chat_id, parent_id, role, content, created, status, meta, edited"
_CHAT_COLUMNS = (
    "id, title, created, updated, system_prompt, deleted_at, current_leaf, options, project_id, "
    "origin"
)
#: Where each column of ``_CHAT_COLUMNS`` is in a row.
_CHAT_INDEX = {name.strip(): i for i, name in enumerate(_CHAT_COLUMNS.split(","))}
_PROJECT_COLUMNS = (
    "id, name, system_prompt, sampling, collections, files, created, updated, deleted_at"
)


@dataclass(frozen=True, slots=True)
class ChatSummary:
    """A chat as the sidebar lists it. ``note`` says what could not be read, if anything."""

    id: int
    title: str
    created: float
    updated: float
    system_prompt: str = ""
    deleted_at: float | None = None
    current_leaf: int | None = None
    note: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    project_id: int | None = None
    #: Where an imported chat came from (``importer.parse_origin`` reads it); empty otherwise.
    origin: str = ""


@dataclass(frozen=True, slots=True)
class Project:
    """A named group of chats whose new chats start with its settings.

    ``sampling`` holds sampling values as a preset does (only those that differ
    from the defaults), ``collections`` the knowledge collections attached to new
    chats and ``files`` the paths pinned to the project. ``note`` says what could
    not be read, if anything.
    """

    id: int
    name: str
    system_prompt: str = ""
    sampling: Mapping[str, Any] = field(default_factory=dict)
    collections: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    created: float = 0.0
    updated: float = 0.0
    deleted_at: float | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class HiddenBranch:
    """Messages hidden until their deletion is final (see :meth:`ChatStore.hide_branch`)."""

    chat_id: int
    message_id: int
    ids: frozenset[int]
    previous_leaf: int | None


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """One message of a chat's tree.

    ``meta`` is the assistant reply's card (model, sampling, seed, timings and the
    exact request), empty when it could not be read; ``note`` then says why.
    ``edited`` is set when the text was changed by hand, so the token records no
    longer describe it.
    """

    id: int
    chat_id: int
    parent_id: int | None
    role: Role
    content: str
    created: float
    status: MessageStatus = "complete"
    meta: Mapping[str, Any] = field(default_factory=dict)
    edited: bool = False
    note: str | None = None

    def as_message(self) -> Message:
        """The role and text, as sent to an engine: a reply's reasoning apart from
        its answer, for the chat template to keep or (mostly) leave out."""
        if self.role == "assistant":
            reasoning, answer = stored_parts(self.content, self.meta)
            if reasoning or answer != self.content:
                return Message(self.role, answer, reasoning=reasoning)
        return Message(self.role, self.content)


@dataclass(frozen=True, slots=True)
class TokenRead:
    """The token records of a message; empty with a ``note`` when they are damaged."""

    records: tuple[TokenRecord, ...]
    note: str | None = None


@dataclass(frozen=True, slots=True)
class SearchHit:
    """A message matching a search. ``snippet`` marks matches with MARK_OPEN/MARK_CLOSE."""

    chat_id: int
    message_id: int
    chat_title: str
    role: Role
    snippet: str
    #: The match is in the reply's reasoning (its thinking block), not its answer.
    in_thinking: bool = False
    #: The match is in one of the reply's tool calls (its tool, arguments or result).
    in_tool: bool = False

    @property
    def plain_snippet(self) -> str:
        """The snippet without match marks."""
        return self.snippet.replace(MARK_OPEN, "").replace(MARK_CLOSE, "")

    def snippet_parts(self) -> list[tuple[str, bool]]:
        """The snippet as (text, is_match) pieces, for drawing the matches in bold."""
        parts: list[tuple[str, bool]] = []
        for i, piece in enumerate(re.split(f"[{MARK_OPEN}{MARK_CLOSE}]", self.snippet)):
            if piece:
                parts.append((piece, i % 2 == 1))
        return parts


@dataclass(frozen=True, slots=True)
class Preset:
    """A named system prompt with sampling values (only those that differ from defaults)."""

    name: str
    system_prompt: str
    sampling: Mapping[str, Any]
    note: str | None = None


def _chat_from_row(row: Sequence[Any]) -> ChatSummary:
    notes = []
    title = as_text(row[1])
    if title is None:
        notes.append("title")
    created = as_float(row[2])
    updated = as_float(row[3])
    if created is None or updated is None:
        notes.append("dates")
    system_prompt = as_text(row[4])
    if system_prompt is None:
        notes.append("system prompt")
    options, problem = decode_json_object(row[7] if len(row) > 7 else None, "options")
    if problem:
        notes.append("options")
    return ChatSummary(
        id=int(row[0]),
        title=title or "Untitled",
        created=created if created is not None else (updated or 0.0),
        updated=updated if updated is not None else (created or 0.0),
        system_prompt=system_prompt or "",
        deleted_at=as_float(row[5]),
        current_leaf=as_int(row[6]),
        note=f"Part of this chat could not be read: {', '.join(notes)}." if notes else None,
        options=options,
        project_id=as_int(row[_CHAT_INDEX["project_id"]]),
        origin=as_text(row[_CHAT_INDEX["origin"]]) or "",
    )


def _text_list(raw: Any) -> tuple[list[str], bool]:
    """A JSON list of strings; (the strings, whether anything was wrong)."""
    text = as_text(raw)
    try:
        value = json.loads(text) if text is not None else None
    except ValueError:
        return [], True
    if not isinstance(value, list):
        return [], True
    items = [v for v in value if isinstance(v, str)]
    return items, len(items) != len(value)


def _project_from_row(row: Sequence[Any]) -> Project:
    notes = []
    name = as_text(row[1])
    if name is None:
        notes.append("name")
    system_prompt = as_text(row[2])
    if system_prompt is None:
        notes.append("system prompt")
    sampling, problem = decode_json_object(row[3], "sampling values of this project")
    if problem:
        notes.append("sampling values")
    collections, bad = _text_list(row[4])
    if bad:
        notes.append("collections")
    files, bad = _text_list(row[5])
    if bad:
        notes.append("pinned files")
    return Project(
        id=int(row[0]),
        name=name or "Untitled project",
        system_prompt=system_prompt or "",
        sampling=sampling,
        collections=tuple(collections),
        files=tuple(files),
        created=as_float(row[6]) or 0.0,
        updated=as_float(row[7]) or 0.0,
        deleted_at=as_float(row[8]),
        note=f"Part of this project could not be read: {', '.join(notes)}." if notes else None,
    )


def _message_from_row(row: Sequence[Any]) -> StoredMessage:
    notes = []
    role = as_text(row[3])
    if role not in ROLES:
        notes.append(f"The message's role {role!r} is unknown.")
        role = "assistant"
    status = as_text(row[6])
    if status not in STATUSES:
        notes.append(f"The message's status {status!r} is unknown.")
        status = "interrupted"
    content = as_text(row[4])
    if content is None:
        notes.append("The message's text is missing.")
    meta, meta_note = decode_json_object(row[7], "details of this message")
    if meta_note:
        notes.append(meta_note)
    created = as_float(row[5])
    return StoredMessage(
        id=int(row[0]),
        chat_id=int(row[1]),
        parent_id=as_int(row[2]),
        role=role,  # type: ignore[arg-type]  # checked against ROLES above
        content=content or "",
        created=created if created is not None else 0.0,
        status=status,  # type: ignore[arg-type]  # checked against STATUSES above
        meta=meta,
        edited=bool(row[8]),
        note=" ".join(notes) or None,
    )


def _token_rows(message_id: int, start: int, records: Sequence[TokenRecord]) -> list[Any]:
    return [
        (message_id, start + i, int(r.forced), encode_token(r.event)) for i, r in enumerate(records)
    ]


def _as_records(tokens: Sequence[TokenEvent | TokenRecord], forced: bool) -> list[TokenRecord]:
    return [t if isinstance(t, TokenRecord) else TokenRecord(t, forced) for t in tokens]


def _like_pattern(query: str) -> str:
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _fts_phrase(query: str) -> str:
    # One quoted phrase: operators, column filters and stars become plain text.
    return '"' + query.replace('"', '""') + '"'


def _like_snippet(content: str, query: str) -> str:
    match = re.search(re.escape(query), content, flags=re.IGNORECASE)
    if match is None:
        return content[: 2 * _SNIPPET_CONTEXT]
    start = max(0, match.start() - _SNIPPET_CONTEXT)
    end = min(len(content), match.end() + _SNIPPET_CONTEXT)
    return (
        ("…" if start > 0 else "")
        + content[start : match.start()]
        + MARK_OPEN
        + match.group(0)
        + MARK_CLOSE
        + content[match.end() : end]
        + ("…" if end < len(content) else "")
    )


@dataclass(frozen=True, slots=True)
class QueuedMessage:
    """A message typed while a reply streamed, sent when the replies before it end."""

    id: int
    chat_id: int
    content: str


class ChatStore:
    """All chats of the app in one SQLite file (see the module docstring).

    ``path`` None uses ``chats.sqlite3`` in the data folder. Raises StorageError
    when the file can be neither opened nor replaced.
    """

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else paths.data_dir() / DB_NAME
        #: Where a damaged file was moved, when opening had to start afresh.
        self.recovered_from: Path | None = None
        #: A sentence for the user about that recovery.
        self.recovery_note: str | None = None
        self._recorders: set[ReplyRecorder] = set()
        self._recorders_lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        # Branches deleted with Undo still possible, by their top message.
        self._hidden: dict[int, HiddenBranch] = {}
        self._hidden_ids: frozenset[int] = frozenset()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"Cannot create the folder {self.path.parent}: {exc}.") from exc
        try:
            self._conn = self._open()
        except sqlite3.DatabaseError as exc:
            if not damaged(exc):
                raise storage_error(f"open the chat database {self.path}", exc) from exc
            self._set_aside(exc)
            try:
                self._conn = self._open()
            except sqlite3.Error as again:
                raise storage_error(f"create a new chat database {self.path}", again) from again

    def __enter__(self) -> ChatStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ opening

    def _open(self) -> sqlite3.Connection:
        conn = connect(self.path)
        try:
            migrate(conn, self.path)
            with transaction(conn, "mark unfinished replies"):
                n = conn.execute(
                    "UPDATE messages SET status = 'interrupted' WHERE status = 'streaming'"
                ).rowcount
            if n:
                log.info("%d reply(ies) were still streaming when the app stopped.", n)
        except BaseException:
            conn.close()
            raise
        return conn

    def _set_aside(self, exc: sqlite3.DatabaseError) -> None:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        bad = self.path.with_name(f"{self.path.name}.bad-{stamp}")
        n = 1
        while bad.exists():
            n += 1
            bad = self.path.with_name(f"{self.path.name}.bad-{stamp}-{n}")
        try:
            os.replace(self.path, bad)
            # A write-ahead log belongs to the file it was written for.
            for suffix in ("-wal", "-shm"):
                side = self.path.with_name(self.path.name + suffix)
                if side.exists():
                    os.replace(side, bad.with_name(bad.name + suffix))
        except OSError as move_exc:
            raise StorageError(
                f"The chat database {self.path} is damaged ({exc}) and could not be moved "
                f"aside ({move_exc}). Move or delete it by hand, then start Glassbox again."
            ) from move_exc
        self.recovered_from = bad
        self.recovery_note = (
            f"The chat database was damaged ({exc}). It was kept as {bad.name} and a new, "
            "empty one was started."
        )
        log.warning("Chat database %s is damaged (%s); moved to %s.", self.path, exc, bad)

    # ------------------------------------------------------------ plumbing

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StorageError("The chat database is closed.")
        return self._conn

    def _tx(self, action: str) -> AbstractContextManager[sqlite3.Connection]:
        return transaction(self._db(), action)

    def _rows(self, action: str, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        try:
            return self._db().execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise storage_error(action, exc) from exc

    def close(self) -> None:
        """Finish open replies as ``interrupted`` and close the file. Safe to call twice."""
        with self._recorders_lock:
            open_recorders = list(self._recorders)
        for recorder in open_recorders:
            try:
                # A reply already finishing (without waiting) is waited for here.
                recorder.finish("interrupted", wait=False)
                recorder.join()
            except StorageError as exc:
                log.warning("Reply %d could not be finished on close: %s", recorder.message_id, exc)
        if self._conn is not None:
            if self._hidden:
                try:
                    self.delete_hidden()
                except StorageError as exc:
                    # They stay in the file and are shown again on the next start.
                    log.warning("Deleted messages could not be removed on close: %s", exc)
            self._conn.close()
            self._conn = None

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._conn is None

    # ------------------------------------------------------------ chats

    def create_chat(
        self, title: str, system_prompt: str = "", project_id: int | None = None
    ) -> int:
        """A new empty chat (in ``project_id`` when given); returns its id.

        The project's settings are not copied here: :meth:`create_chat_in_project`
        starts a chat with them.
        """
        now = time.time()
        with self._tx("create a chat") as conn:
            if project_id is not None:
                self._live_project(conn, project_id)
            cur = conn.execute(
                "INSERT INTO chats (title, created, updated, system_prompt, project_id) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    storable(title.strip() or "New chat"),
                    now,
                    now,
                    storable(system_prompt),
                    project_id,
                ),
            )
        return int(cur.lastrowid or 0)

    def create_chat_in_project(self, project_id: int, title: str) -> int:
        """A new chat in a project, with its system prompt and knowledge collections."""
        project = self.project(project_id)
        chat_id = self.create_chat(title, project.system_prompt, project_id)
        if project.collections:
            self.set_chat_options(chat_id, {"collections": list(project.collections)})
        return chat_id

    def move_chat(self, chat_id: int, project_id: int | None) -> None:
        """Put a chat into a project, or out of any (``None``)."""
        with self._tx("move a chat") as conn:
            if project_id is not None:
                self._live_project(conn, project_id)
            cur = conn.execute(
                "UPDATE chats SET project_id = ? WHERE id = ?", (project_id, chat_id)
            )
            if cur.rowcount == 0:
                raise StorageError(f"Chat {chat_id} does not exist; it may have been purged.")

    def chat(self, chat_id: int) -> ChatSummary:
        """One chat, deleted or not; StorageError when there is none with this id."""
        rows = self._rows(
            "read a chat", f"SELECT {_CHAT_COLUMNS} FROM chats WHERE id = ?", [chat_id]
        )
        if not rows:
            raise StorageError(f"Chat {chat_id} does not exist; it may have been purged.")
        return _chat_from_row(rows[0])

    def list_chats(self, include_deleted: bool = False) -> list[ChatSummary]:
        """Chats, most recently updated first (soft-deleted ones only when asked)."""
        where = "" if include_deleted else "WHERE deleted_at IS NULL"
        rows = self._rows(
            "list the chats",
            f"SELECT {_CHAT_COLUMNS} FROM chats {where} ORDER BY updated DESC, id DESC",
        )
        return [_chat_from_row(row) for row in rows]

    def rename_chat(self, chat_id: int, title: str) -> None:
        """Give a chat a new title (not empty)."""
        title = title.strip()
        if not title:
            raise InvalidRequestError("A chat's title cannot be empty.")
        self._update_chat(chat_id, "rename a chat", "title = ?", [storable(title)])

    def set_system_prompt(self, chat_id: int, system_prompt: str) -> None:
        """The system prompt sent before this chat's messages."""
        self._update_chat(
            chat_id, "save the system prompt", "system_prompt = ?", [storable(system_prompt)]
        )

    def set_chat_options(self, chat_id: int, options: Mapping[str, Any]) -> None:
        """Options of this chat (attached collections, reasoning, examples), as JSON."""
        try:
            text = json.dumps(dict(options), ensure_ascii=False)
        except (TypeError, ValueError) as exc:
            raise InvalidRequestError(f"Chat options cannot be saved: {exc}.") from exc
        self._update_chat(
            chat_id, "save the chat options", "options = ?", [storable(text)], touch=False
        )

    def delete_chat(self, chat_id: int) -> None:
        """Hide a chat (soft delete), so that :meth:`restore_chat` can undo it."""
        self._update_chat(chat_id, "delete a chat", "deleted_at = ?", [time.time()], touch=False)

    def restore_chat(self, chat_id: int) -> None:
        """Bring back a soft-deleted chat."""
        self._update_chat(chat_id, "restore a chat", "deleted_at = NULL", [], touch=False)

    def purge_deleted(self, older_than_s: float = 0.0) -> int:
        """Remove for good the chats deleted more than ``older_than_s`` ago; returns how many.

        Projects deleted as long ago go too; their chats stay, outside any project.
        """
        cutoff = time.time() - older_than_s
        with self._tx("purge deleted chats") as conn:
            cur = conn.execute(
                "DELETE FROM chats WHERE deleted_at IS NOT NULL AND deleted_at <= ?", [cutoff]
            )
            conn.execute(
                "DELETE FROM projects WHERE deleted_at IS NOT NULL AND deleted_at <= ?", [cutoff]
            )
        return int(cur.rowcount)

    def _update_chat(
        self, chat_id: int, action: str, assignment: str, params: list[Any], touch: bool = True
    ) -> None:
        if touch:
            assignment += ", updated = ?"
            params = [*params, time.time()]
        with self._tx(action) as conn:
            cur = conn.execute(f"UPDATE chats SET {assignment} WHERE id = ?", [*params, chat_id])
            if cur.rowcount == 0:
                raise StorageError(f"Chat {chat_id} does not exist; it may have been purged.")

    # ------------------------------------------------------------ projects

    def create_project(
        self,
        name: str,
        system_prompt: str = "",
        sampling: Mapping[str, Any] | None = None,
        collections: Sequence[str] = (),
        files: Sequence[str] = (),
    ) -> int:
        """A new project; returns its id. Sampling values are checked as a preset's are."""
        now = time.time()
        values = self._project_values(name, system_prompt, sampling or {}, collections, files)
        with self._tx("create a project") as conn:
            cur = conn.execute(
                "INSERT INTO projects (name, system_prompt, sampling, collections, files, "
                "created, updated) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (*values, now, now),
            )
        return int(cur.lastrowid or 0)

    def project(self, project_id: int) -> Project:
        """One project, deleted or not; StorageError when there is none with this id."""
        rows = self._rows(
            "read a project",
            f"SELECT {_PROJECT_COLUMNS} FROM projects WHERE id = ?",
            [project_id],
        )
        if not rows:
            raise StorageError(f"Project {project_id} does not exist; it may have been purged.")
        return _project_from_row(rows[0])

    def list_projects(self, include_deleted: bool = False) -> list[Project]:
        """Projects by name (soft-deleted ones only when asked)."""
        where = "" if include_deleted else "WHERE deleted_at IS NULL"
        rows = self._rows("list the projects", f"SELECT {_PROJECT_COLUMNS} FROM projects {where}")
        return sorted(
            (_project_from_row(row) for row in rows), key=lambda p: (p.name.casefold(), p.id)
        )

    def update_project(
        self,
        project_id: int,
        *,
        name: str | None = None,
        system_prompt: str | None = None,
        sampling: Mapping[str, Any] | None = None,
        collections: Sequence[str] | None = None,
        files: Sequence[str] | None = None,
    ) -> None:
        """Change a project's settings (those given); its chats keep theirs."""
        old = self.project(project_id)
        values = self._project_values(
            old.name if name is None else name,
            old.system_prompt if system_prompt is None else system_prompt,
            old.sampling if sampling is None else sampling,
            old.collections if collections is None else collections,
            old.files if files is None else files,
        )
        with self._tx("save the project") as conn:
            cur = conn.execute(
                "UPDATE projects SET name = ?, system_prompt = ?, sampling = ?, collections = ?, "
                "files = ?, updated = ? WHERE id = ?",
                (*values, time.time(), project_id),
            )
            if cur.rowcount == 0:
                raise StorageError(f"Project {project_id} does not exist; it may have been purged.")

    def rename_project(self, project_id: int, name: str) -> None:
        """Give a project a new name (not empty)."""
        self.update_project(project_id, name=name)

    def delete_project(self, project_id: int) -> None:
        """Hide a project (soft delete), so that :meth:`restore_project` can undo it.

        Its chats are kept: while the project is deleted they are listed outside
        any project, and they go back into it when it is restored.
        """
        self._set_project_deleted(project_id, "delete a project", time.time())

    def restore_project(self, project_id: int) -> None:
        """Bring back a soft-deleted project with its chats."""
        self._set_project_deleted(project_id, "restore a project", None)

    def _set_project_deleted(self, project_id: int, action: str, when: float | None) -> None:
        with self._tx(action) as conn:
            cur = conn.execute(
                "UPDATE projects SET deleted_at = ? WHERE id = ?", (when, project_id)
            )
            if cur.rowcount == 0:
                raise StorageError(f"Project {project_id} does not exist; it may have been purged.")

    def _live_project(self, conn: sqlite3.Connection, project_id: int) -> None:
        row = conn.execute("SELECT deleted_at FROM projects WHERE id = ?", [project_id]).fetchone()
        if row is None or row[0] is not None:
            raise StorageError(f"Project {project_id} does not exist or was deleted.")

    @staticmethod
    def _project_values(
        name: str,
        system_prompt: str,
        sampling: Mapping[str, Any],
        collections: Sequence[str],
        files: Sequence[str],
    ) -> tuple[str, str, str, str, str]:
        name = name.strip()
        if not name:
            raise InvalidRequestError("A project needs a name.")
        SamplingParams.from_record(sampling)
        for what, items in (("collections", collections), ("pinned files", files)):
            if isinstance(items, str) or not all(isinstance(i, str) for i in items):
                raise InvalidRequestError(f"A project's {what} must be a list of names.")
        return (
            storable(name),
            storable(system_prompt),
            storable(json.dumps(dict(sampling), ensure_ascii=False)),
            storable(json.dumps(list(dict.fromkeys(collections)), ensure_ascii=False)),
            storable(json.dumps(list(dict.fromkeys(files)), ensure_ascii=False)),
        )

    # ------------------------------------------------------------ queued messages

    def queue_message(self, chat_id: int, content: str) -> int:
        """Queue ``content`` to be sent in ``chat_id`` after the replies before it; its id."""
        with self._tx("queue a message") as conn:
            cur = conn.execute(
                "INSERT INTO queued_messages (chat_id, content, created) VALUES (?, ?, ?)",
                (chat_id, storable(content), time.time()),
            )
        return int(cur.lastrowid or 0)

    def queued_messages(self, chat_id: int) -> list[QueuedMessage]:
        """The messages queued in ``chat_id``, first to be sent first."""
        rows = self._rows(
            "read the queued messages",
            "SELECT id, chat_id, content FROM queued_messages WHERE chat_id = ? ORDER BY id",
            [chat_id],
        )
        return [QueuedMessage(int(r[0]), int(r[1]), str(r[2])) for r in rows]

    def update_queued_message(self, queued_id: int, content: str) -> None:
        """Change the text of a queued message (it keeps its place in the queue)."""
        with self._tx("change a queued message") as conn:
            cur = conn.execute(
                "UPDATE queued_messages SET content = ? WHERE id = ?",
                (storable(content), queued_id),
            )
            if cur.rowcount == 0:
                raise StorageError(f"Queued message {queued_id} was already sent or removed.")

    def remove_queued_message(self, queued_id: int) -> None:
        """Take a message off the queue (sent or removed); a missing one is no error."""
        with self._tx("remove a queued message") as conn:
            conn.execute("DELETE FROM queued_messages WHERE id = ?", (queued_id,))

    def clear_queue(self, chat_id: int) -> None:
        """Drop every message queued in ``chat_id``."""
        with self._tx("drop the queued messages") as conn:
            conn.execute("DELETE FROM queued_messages WHERE chat_id = ?", (chat_id,))

    # ------------------------------------------------------------ messages

    def add_message(
        self,
        chat_id: int,
        parent_id: int | None,
        role: Role,
        content: str,
        status: MessageStatus = "complete",
        meta: Mapping[str, Any] | None = None,
        tokens: Sequence[TokenEvent | TokenRecord] = (),
    ) -> int:
        """Add a message under ``parent_id`` (None: a first message); returns its id.

        The new message becomes the chat's current leaf: it is what the user sees.
        ``tokens`` are stored as the message's token records (events are not forced).
        """
        with self._tx("save a message") as conn:
            return self._insert_message(
                conn, chat_id, parent_id, role, content, status, meta, _as_records(tokens, False)
            )

    def _insert_message(
        self,
        conn: sqlite3.Connection,
        chat_id: int,
        parent_id: int | None,
        role: str,
        content: str,
        status: str,
        meta: Mapping[str, Any] | None,
        records: Sequence[TokenRecord],
        created: float | None = None,
        edited: bool = False,
    ) -> int:
        if role not in ROLES:
            raise InvalidRequestError(f"A message's role must be one of {ROLES}, not {role!r}.")
        if status not in STATUSES:
            raise InvalidRequestError(f"A message's status must be one of {STATUSES}.")
        if not conn.execute("SELECT 1 FROM chats WHERE id = ?", [chat_id]).fetchone():
            raise StorageError(f"Chat {chat_id} does not exist; it may have been purged.")
        if parent_id is not None:
            row = conn.execute("SELECT chat_id FROM messages WHERE id = ?", [parent_id]).fetchone()
            if row is None or row[0] != chat_id:
                raise InvalidRequestError(f"Message {parent_id} is not in chat {chat_id}.")
        now = time.time()
        cur = conn.execute(
            "INSERT INTO messages (chat_id, parent_id, role, content, created, status, meta, "
            "edited) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                chat_id,
                parent_id,
                role,
                storable(content),
                now if created is None else created,
                status,
                storable(json.dumps(dict(meta or {}), ensure_ascii=False)),
                int(edited),
            ),
        )
        message_id = int(cur.lastrowid or 0)
        if records:
            conn.executemany(
                "INSERT INTO tokens (message_id, idx, forced, data) VALUES (?, ?, ?, ?)",
                _token_rows(message_id, 0, records),
            )
        conn.execute(
            "UPDATE chats SET updated = ?, current_leaf = ? WHERE id = ?",
            (now, message_id, chat_id),
        )
        return message_id

    def update_message_content(self, message_id: int, content: str) -> None:
        """Replace a message's text by hand; it is then flagged ``edited``."""
        with self._tx("save the edited message") as conn:
            cur = conn.execute(
                "UPDATE messages SET content = ?, edited = 1 WHERE id = ? RETURNING chat_id",
                (storable(content), message_id),
            )
            row = cur.fetchone()
            if row is None:
                raise StorageError(f"Message {message_id} does not exist; it may have been purged.")
            conn.execute("UPDATE chats SET updated = ? WHERE id = ?", (time.time(), row[0]))

    def message(self, message_id: int) -> StoredMessage:
        """One message; StorageError when there is none with this id."""
        rows = self._rows(
            "read a message", f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE id = ?", [message_id]
        )
        if not rows:
            raise StorageError(f"Message {message_id} does not exist; it may have been purged.")
        return _message_from_row(rows[0])

    def children(self, chat_id: int, parent_id: int | None) -> list[StoredMessage]:
        """The branches under ``parent_id`` (None: the first messages), oldest first."""
        rows = self._rows(
            "read the branches of a message",
            f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE chat_id = ? AND parent_id IS ? "
            "ORDER BY created, id",
            (chat_id, parent_id),
        )
        return [m for m in map(_message_from_row, rows) if m.id not in self._hidden_ids]

    def tree(self, chat_id: int) -> list[StoredMessage]:
        """Every message of the chat, all branches, in the order they were added."""
        rows = self._rows(
            "read a conversation",
            f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE chat_id = ? ORDER BY id",
            [chat_id],
        )
        return [_message_from_row(row) for row in rows]

    def siblings(self, message_id: int) -> list[StoredMessage]:
        """The message and its siblings (same parent), oldest first."""
        msg = self.message(message_id)
        return self.children(msg.chat_id, msg.parent_id)

    def branch_position(self, message_id: int) -> tuple[int, int]:
        """(1-based position, count) among the siblings: the "‹ 2/3 ›" of the UI."""
        ids = [m.id for m in self.siblings(message_id)]
        return ids.index(message_id) + 1, len(ids)

    def path_to(self, message_id: int) -> list[StoredMessage]:
        """The messages from the chat's first one down to ``message_id``, in order."""
        rows = self._rows(
            "read a conversation",
            f"""
            WITH RECURSIVE up(id, parent_id, depth) AS (
                SELECT id, parent_id, 0 FROM messages WHERE id = ?
                UNION ALL
                SELECT m.id, m.parent_id, up.depth + 1 FROM messages m
                    JOIN up ON m.id = up.parent_id
                    WHERE up.depth < {_MAX_DEPTH}
            )
            SELECT {", ".join("m." + c.strip() for c in _MESSAGE_COLUMNS.split(","))}
                FROM up JOIN messages m ON m.id = up.id ORDER BY up.depth DESC
            """,
            [message_id],
        )
        if not rows:
            raise StorageError(f"Message {message_id} does not exist; it may have been purged.")
        return [_message_from_row(row) for row in rows]

    def latest_leaf(self, message_id: int) -> int:
        """Follow the newest child down from ``message_id`` to a message with none."""
        current = message_id
        seen = {current}
        while True:
            rows = self._rows(
                "read the branches of a message",
                "SELECT id FROM messages WHERE parent_id = ? ORDER BY created DESC, id DESC",
                [current],
            )
            newest = next((int(r[0]) for r in rows if r[0] not in self._hidden_ids), None)
            if newest is None or newest in seen:
                return current
            current = newest
            seen.add(current)

    def set_current_leaf(self, chat_id: int, message_id: int) -> None:
        """Remember the branch the user is looking at (does not change ``updated``)."""
        with self._tx("remember the branch") as conn:
            row = conn.execute("SELECT chat_id FROM messages WHERE id = ?", [message_id]).fetchone()
            if row is None or row[0] != chat_id:
                raise InvalidRequestError(f"Message {message_id} is not in chat {chat_id}.")
            conn.execute("UPDATE chats SET current_leaf = ? WHERE id = ?", (message_id, chat_id))

    def current_path(self, chat_id: int) -> list[StoredMessage]:
        """The conversation the user last looked at, first message to leaf.

        Without a remembered leaf, the newest branch is shown; a remembered message
        that has since gained replies is followed down to its newest one.
        """
        chat = self.chat(chat_id)
        start = chat.current_leaf
        if start is not None:
            rows = self._rows(
                "read a conversation",
                "SELECT 1 FROM messages WHERE id = ? AND chat_id = ?",
                (start, chat_id),
            )
            if not rows or start in self._hidden_ids:
                start = None
        if start is None:
            roots = self._rows(
                "read a conversation",
                "SELECT id FROM messages WHERE chat_id = ? AND parent_id IS NULL "
                "ORDER BY created DESC, id DESC",
                [chat_id],
            )
            start = next((int(r[0]) for r in roots if r[0] not in self._hidden_ids), None)
            if start is None:
                return []
        return self.path_to(self.latest_leaf(start))

    def fork(self, chat_id: int, message_id: int) -> int:
        """A new chat holding a copy of the path to ``message_id`` (meta and tokens too)."""
        source = self.chat(chat_id)
        path = self.path_to(message_id)
        if path[0].chat_id != chat_id:
            raise InvalidRequestError(f"Message {message_id} is not in chat {chat_id}.")
        now = time.time()
        with self._tx("fork a chat") as conn:
            cur = conn.execute(
                "INSERT INTO chats (title, created, updated, system_prompt) VALUES (?, ?, ?, ?)",
                (f"{source.title} (fork)", now, now, source.system_prompt),
            )
            new_chat = int(cur.lastrowid or 0)
            parent: int | None = None
            for msg in path:
                new_id = self._insert_message(
                    conn,
                    new_chat,
                    parent,
                    msg.role,
                    msg.content,
                    "interrupted" if msg.status == "streaming" else msg.status,
                    msg.meta,
                    (),
                    created=msg.created,
                    edited=msg.edited,
                )
                conn.execute(
                    "INSERT INTO tokens (message_id, idx, forced, data) "
                    "SELECT ?, idx, forced, data FROM tokens WHERE message_id = ?",
                    (new_id, msg.id),
                )
                parent = new_id
            conn.execute("UPDATE chats SET updated = ? WHERE id = ?", (now, new_chat))
        return new_chat

    # ------------------------------------------------------------ deleting messages

    def hide_branch(self, message_id: int) -> HiddenBranch:
        """Hide a message and every reply under it; they are deleted later, for good.

        The rows stay in the file until :meth:`delete_hidden` (or :meth:`close`)
        deletes them, so :meth:`unhide_branch` can undo this and a process killed
        meanwhile loses nothing. Hidden messages are left out of every read (the
        branches, the conversation shown, search). The chat then shows the branch
        next to the hidden one, or the message above it.
        """
        msg = self.message(message_id)
        if message_id in self._hidden_ids:
            raise InvalidRequestError(f"Message {message_id} is already deleted.")
        rows = self._rows(
            "read the replies of a message",
            "WITH RECURSIVE down(id) AS (SELECT ? UNION "
            "SELECT m.id FROM messages m JOIN down ON m.parent_id = down.id) SELECT id FROM down",
            [message_id],
        )
        ids = frozenset(int(r[0]) for r in rows)
        previous = self.chat(msg.chat_id).current_leaf
        branch = HiddenBranch(msg.chat_id, message_id, ids, previous)
        self._hidden[message_id] = branch
        self._hidden_ids |= ids
        if previous is None or previous in ids:
            others = self.children(msg.chat_id, msg.parent_id)
            if others:
                self.set_current_leaf(msg.chat_id, self.latest_leaf(others[-1].id))
            elif msg.parent_id is not None:
                self.set_current_leaf(msg.chat_id, msg.parent_id)
            else:
                self._update_chat(
                    msg.chat_id, "remember the branch", "current_leaf = NULL", [], touch=False
                )
        return branch

    def unhide_branch(self, message_id: int) -> None:
        """Undo :meth:`hide_branch`: the messages and the branch shown come back."""
        branch = self._hidden.pop(message_id, None)
        if branch is None:
            raise StorageError("These messages were already deleted for good.")
        self._hidden_ids = frozenset().union(*(b.ids for b in self._hidden.values()))
        if branch.previous_leaf is not None:
            self.set_current_leaf(branch.chat_id, branch.previous_leaf)

    def delete_hidden(self, message_id: int | None = None) -> int:
        """Delete for good the hidden branch of ``message_id`` (None: all); how many messages."""
        roots = list(self._hidden) if message_id is None else [message_id]
        count = 0
        for root in roots:
            branch = self._hidden.get(root)
            if branch is None:
                continue
            with self._tx("delete messages") as conn:
                # Replies and token records go with the message (ON DELETE CASCADE).
                conn.execute("DELETE FROM messages WHERE id = ?", [root])
                conn.execute(
                    "UPDATE chats SET updated = ? WHERE id = ?", (time.time(), branch.chat_id)
                )
            del self._hidden[root]
            count += len(branch.ids)
        self._hidden_ids = frozenset().union(*(b.ids for b in self._hidden.values()))
        return count

    @property
    def hidden_branches(self) -> list[HiddenBranch]:
        """Branches hidden and not yet deleted for good, oldest first."""
        return list(self._hidden.values())

    # ------------------------------------------------------------ tokens

    def read_tokens(self, message_id: int) -> TokenRead:
        """A message's token records in order; empty with a note when any is damaged.

        All or nothing: records that skip a position would tint the wrong text.
        """
        rows = self._rows(
            "read the tokens of a reply",
            "SELECT idx, forced, data FROM tokens WHERE message_id = ? ORDER BY idx",
            [message_id],
        )
        records = []
        for expected, (idx, forced, data) in enumerate(rows):
            try:
                if idx != expected:
                    raise ValueError(f"token {expected} is missing")
                text = as_text(data)
                if text is None:
                    raise ValueError("a token record is empty")
                records.append(TokenRecord(decode_token(text), bool(forced)))
            except ValueError as exc:
                log.warning("Token records of message %d are damaged: %s", message_id, exc)
                return TokenRead((), f"The token probabilities of this reply are damaged ({exc}).")
        return TokenRead(tuple(records))

    def tokens(self, message_id: int) -> list[TokenRecord]:
        """A message's token records (``.event`` is the TokenEvent); see :meth:`read_tokens`."""
        return list(self.read_tokens(message_id).records)

    # ------------------------------------------------------------ search

    def search(self, query: str, limit: int = 50) -> list[SearchHit]:
        """Messages of the chats not deleted that contain ``query`` (any text, taken literally).

        Case-insensitive substring search through a trigram index, so words in
        scripts without spaces (Chinese, Japanese) are found too. Queries shorter
        than three characters cannot use trigrams and scan the messages instead.
        """
        query = query.strip()
        if not query or limit <= 0:
            return []
        if len(query) < MIN_FTS_QUERY:
            rows = self._rows(
                "search the chats",
                "SELECT m.chat_id, m.id, c.title, m.role, m.content FROM messages m "
                "JOIN chats c ON c.id = m.chat_id "
                "WHERE c.deleted_at IS NULL AND m.content LIKE ? ESCAPE '\\' "
                "ORDER BY m.created DESC, m.id DESC LIMIT ?",
                (_like_pattern(query), limit),
            )
        else:
            rows = self._rows(
                "search the chats",
                "SELECT m.chat_id, m.id, c.title, m.role, m.content FROM messages_fts "
                "JOIN messages m ON m.id = messages_fts.rowid "
                "JOIN chats c ON c.id = m.chat_id "
                "WHERE messages_fts MATCH ? AND c.deleted_at IS NULL "
                "ORDER BY rank LIMIT ?",
                (_fts_phrase(query), limit),
            )
        # Snippets are cut here rather than by FTS5: its snippet() counts trigrams,
        # not words, and the short-query scan needs the same shape anyway.
        hits = []
        for chat_id, message_id, title, role, text in rows:
            if message_id in self._hidden_ids:
                continue
            content = as_text(text) or ""
            reasoning, answer = stored_parts(content) if role == "assistant" else ("", content)
            # A match in the answer is shown from the answer; one only in the
            # reasoning from the reasoning, marked as such.
            in_thinking = bool(reasoning) and query.casefold() not in answer.casefold()
            hits.append(
                SearchHit(
                    chat_id=int(chat_id),
                    message_id=int(message_id),
                    chat_title=as_text(title) or "Untitled",
                    role=role if role in ROLES else "assistant",
                    snippet=_like_snippet(reasoning if in_thinking else answer, query),
                    in_thinking=in_thinking,
                )
            )
        if len(hits) < limit:
            found = {hit.message_id for hit in hits}
            hits += [h for h in self._search_tool_steps(query, limit) if h.message_id not in found]
        return hits[:limit]

    def _search_tool_steps(self, query: str, limit: int) -> list[SearchHit]:
        """Replies whose tool calls (tool, arguments, result: kept in the reply's card,
        not its text) contain ``query``."""
        sql = (
            "SELECT m.chat_id, m.id, c.title, m.meta FROM messages m "
            "JOIN chats c ON c.id = m.chat_id "
            "WHERE c.deleted_at IS NULL AND m.role = 'assistant' "
            "AND m.meta LIKE '%\"tool_steps\"%'"
        )
        args: list[Any] = []
        if not any(ch in query for ch in '"\\') and query.isprintable():
            # Written into the card's JSON as it is: the database can narrow the scan.
            sql += " AND m.meta LIKE ? ESCAPE '\\'"
            args.append(_like_pattern(query))
        rows = self._rows(
            "search the tool calls", sql + " ORDER BY m.created DESC, m.id DESC", args
        )
        hits: list[SearchHit] = []
        folded = query.casefold()
        for chat_id, message_id, title, meta_text in rows:
            if message_id in self._hidden_ids or len(hits) >= limit:
                continue
            try:
                steps = json.loads(as_text(meta_text) or "{}").get("tool_steps")
            except (ValueError, AttributeError):
                continue
            for step in steps if isinstance(steps, list) else []:
                if not isinstance(step, dict):
                    continue
                text = "{} {} → {}".format(
                    step.get("name", ""), step.get("arguments", ""), step.get("result", "")
                )
                if folded in text.casefold():
                    hits.append(
                        SearchHit(
                            chat_id=int(chat_id),
                            message_id=int(message_id),
                            chat_title=as_text(title) or "Untitled",
                            role="assistant",
                            snippet=_like_snippet(text, query),
                            in_tool=True,
                        )
                    )
                    break
        return hits

    # ------------------------------------------------------------ presets

    def save_preset(self, name: str, system_prompt: str, sampling: Mapping[str, Any]) -> None:
        """Save (or replace) a named system prompt and sampling values.

        The values are checked against the sampling bounds first, so a preset
        that is saved can always be applied.
        """
        name = name.strip()
        if not name:
            raise InvalidRequestError("A preset needs a name.")
        SamplingParams.from_record(sampling)
        payload = json.dumps(dict(sampling), ensure_ascii=False)
        with self._tx("save a preset") as conn:
            conn.execute(
                "INSERT INTO presets (name, system_prompt, sampling, updated) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET system_prompt = excluded.system_prompt, "
                "sampling = excluded.sampling, updated = excluded.updated",
                (storable(name), storable(system_prompt), storable(payload), time.time()),
            )

    def presets(self) -> list[Preset]:
        """All presets by name; a damaged one has empty sampling values and a note."""
        rows = self._rows("read the presets", "SELECT name, system_prompt, sampling FROM presets")
        out = []
        for name, system_prompt, raw in rows:
            sampling, note = decode_json_object(raw, "sampling values of this preset")
            out.append(Preset(as_text(name) or "", as_text(system_prompt) or "", sampling, note))
        return sorted(out, key=lambda p: p.name.casefold())

    def delete_preset(self, name: str) -> None:
        """Remove a preset (nothing happens when there is none by that name)."""
        with self._tx("delete a preset") as conn:
            conn.execute("DELETE FROM presets WHERE name = ?", [name])

    # ------------------------------------------------------------ streaming replies

    def begin_reply(
        self,
        chat_id: int,
        parent_id: int | None,
        meta: Mapping[str, Any] | None = None,
        tokens: Sequence[TokenEvent | TokenRecord] = (),
        interval_s: float = COMMIT_INTERVAL_S,
    ) -> ReplyRecorder:
        """Start recording an assistant reply under ``parent_id`` (status ``streaming``).

        ``tokens`` are the reply's first tokens when it continues a copied prefix
        (branching from a token); they are committed before this returns.
        """
        records = _as_records(tokens, False)
        content = "".join(r.event.text for r in records)
        with self._tx("start saving a reply") as conn:
            message_id = self._insert_message(
                conn, chat_id, parent_id, "assistant", content, "streaming", meta, records
            )
        recorder = ReplyRecorder(
            self.path,
            chat_id,
            message_id,
            content,
            len(records),
            interval_s,
            self._forget_recorder,
        )
        with self._recorders_lock:
            self._recorders.add(recorder)
        return recorder

    def _forget_recorder(self, recorder: ReplyRecorder) -> None:
        with self._recorders_lock:
            self._recorders.discard(recorder)
