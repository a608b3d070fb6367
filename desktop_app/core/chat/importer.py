"""Chats brought in from a file: Glassbox's own JSON export and ChatGPT's ``conversations.json``.

A Glassbox export (:func:`desktop_app.core.chat.export.to_json`) comes back
whole: every message of every branch, edited flags, statuses, cards, the chat's
system prompt and options, and the token records; a chat exported from a project
goes into the project of that name, made with the exported settings if there is
none. A ChatGPT export is a list of
conversations whose ``mapping`` is a tree of nodes; the user's and the
assistant's visible messages become the chat's message tree, so a regenerated
reply or an edited question becomes a branch. System, tool and hidden nodes are
left out and their children hang from the nearest message kept; ``current_node``
becomes the branch the chat opens on. A ``.zip`` of the export is read too.

The file is untrusted input. It is refused with a sentence saying why, before
anything is kept, when it is too big (checked before reading), is not UTF-8 JSON,
is nested too deeply, has values of the wrong type, a message tree with a cycle,
or an absurd number of chats, messages or tokens. Text inside is kept as text.

Nothing half-imported stays. Chats are written in batches (short transactions,
so the window and a reply being saved never wait long for the file) while
hidden and marked as pending; the last step shows them all in one transaction,
and any failure or cancel deletes them. Pending chats left by a process that
died mid-import are deleted by the next import.

Each imported chat's ``origin`` is a small JSON object (:class:`Origin`): where
it came from, the file's name and the day, for the window to show in its own
language, and the chat's id and creation time in the file. A chat already
imported (the same source, id and creation time, still in the database) is
skipped, so importing the same file twice adds nothing the second time.
"""

from __future__ import annotations

import json
import logging
import math
import re
import sqlite3
import time
import uuid
import zipfile
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args

from desktop_app.core.chat.codecs import STATUSES, decode_token, encode_token, storable
from desktop_app.core.chat.db import SCHEMA_VERSION, connect, transaction
from desktop_app.core.chat.export import JSON_VERSION
from desktop_app.core.errors import CancelledError, GlassboxError, StorageError
from desktop_app.core.sampling import SamplingParams

log = logging.getLogger(__name__)

#: ``auto`` tells the formats apart by their content.
ImportFormat = Literal["auto", "glassbox", "openai"]
FORMATS: tuple[str, ...] = get_args(ImportFormat)

#: Files larger than this are refused before they are read.
MAX_FILE_BYTES = 512 * 1024 * 1024
#: More chats, messages or tokens than these can only be a broken or hostile file.
MAX_CHATS = 100_000
MAX_MESSAGES_PER_CHAT = 100_000
MAX_MESSAGES = 5_000_000
MAX_TOKENS_PER_MESSAGE = 1_000_000
#: How deep a message's card or a chat's options may nest (ours nest 3 or 4 deep).
MAX_NESTING = 64
#: Titles longer than this are cut.
MAX_TITLE_CHARS = 500
#: A chat's id in the file is kept (to recognise a re-import) up to this length.
MAX_ID_CHARS = 200
#: A batch is written when it holds this many chats or characters of text: about half a
#: second of writing, the longest the window or a reply being saved waits for the file.
BATCH_CHATS = 100
BATCH_CHARS = 1_000_000
#: Pending chats older than this were left by an import that died; the next one deletes them.
STALE_PENDING_S = 24 * 3600.0

_PENDING = "import-pending:"
_ROLES = ("system", "user", "assistant")
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_SOURCE_NAMES = {"glassbox": "Glassbox", "chatgpt": "ChatGPT"}
#: Times outside these bounds (seconds since 1970) are not dates.
_MIN_TIME = 0.0
_MAX_TIME = 4102444800.0  # 2100-01-01

K = TypeVar("K", bound=Hashable)


class ImportRefusedError(GlassboxError):
    """The file cannot be imported (malformed, hostile or too big); nothing was added."""

    kind = "import_refused"


# --------------------------------------------------------------------------- origin


@dataclass(frozen=True, slots=True)
class Origin:
    """Where an imported chat came from: ``source`` (``glassbox`` or ``chatgpt``), the
    file's name (no folder) and the day of the import (``YYYY-MM-DD``)."""

    source: str
    file: str
    date: str
    #: The chat's id in the file (ChatGPT's conversation id, the exported chat's id);
    #: "" when the file gave none.
    chat: str = ""
    #: The chat's creation time in the file; None when the file gave none.
    created: float | None = None

    def encode(self) -> str:
        """The form kept in ``chats.origin``."""
        data: dict[str, Any] = {"source": self.source, "file": self.file, "date": self.date}
        if self.chat:
            data["chat"] = self.chat
        if self.created is not None:
            data["created"] = self.created
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

    @property
    def key(self) -> tuple[str, str, float] | None:
        """What tells this chat apart from the others of its source, or None if nothing does."""
        if not self.chat or self.created is None:
            return None
        return (self.source, self.chat, round(self.created, 3))

    @property
    def source_name(self) -> str:
        """The product the file came from, as people call it."""
        return _SOURCE_NAMES.get(self.source, self.source)

    def sentence(self) -> str:
        """An English sentence for the command line and logs (the window translates its own)."""
        return f"Imported from a {self.source_name} export, {self.file}, on {self.date}."


def parse_origin(text: str) -> Origin | None:
    """The origin kept by an import, or None for a chat made here (or an unreadable origin)."""
    if not text or not text.startswith("{"):
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    source, name, date = (data.get(key) for key in ("source", "file", "date"))
    if not isinstance(source, str) or not isinstance(name, str) or not isinstance(date, str):
        return None
    chat, created = data.get("chat"), data.get("created")
    return Origin(
        source,
        name,
        date,
        chat if isinstance(chat, str) else "",
        float(created)
        if isinstance(created, int | float) and not isinstance(created, bool)
        else None,
    )


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class ImportProgress:
    """How far an import is: the share of the file read, chats and messages so far."""

    fraction: float
    chats: int
    messages: int


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What an import added."""

    format: str
    chats: int
    messages: int
    tokens: int
    skipped_messages: int
    skipped_chats: int
    chat_ids: tuple[int, ...]
    bytes: int
    seconds: float
    origin: str
    #: Chats of the file already imported before (still in the database): not added again.
    already_imported: int = 0

    def as_dict(self) -> dict[str, Any]:
        """The ``--json`` object of ``glassbox import``."""
        return {
            "type": "import",
            "format": self.format,
            "chats": self.chats,
            "messages": self.messages,
            "tokens": self.tokens,
            "skipped_messages": self.skipped_messages,
            "skipped_chats": self.skipped_chats,
            "already_imported": self.already_imported,
            "chat_ids": list(self.chat_ids),
            "bytes": self.bytes,
            "seconds": round(self.seconds, 3),
            "origin": json.loads(self.origin),
        }

    def sentence(self) -> str:
        """One English line saying what was imported."""
        name = "ChatGPT" if self.format == "openai" else "Glassbox"
        if not self.chats:
            n = self.already_imported
            return (
                f"Nothing was added: the {n} chat{'s' if n != 1 else ''} of this {name} export "
                f"{'were' if n != 1 else 'was'} already imported, skipped."
            )
        text = (
            f"Imported {self.chats} chat{'s' if self.chats != 1 else ''} "
            f"({self.messages} messages, {self.tokens} token records) from a {name} export"
        )
        skipped = []
        if self.skipped_messages:
            skipped.append(f"{self.skipped_messages} system, tool, hidden or empty messages")
        if self.skipped_chats:
            skipped.append(f"{self.skipped_chats} conversations with no messages")
        if skipped:
            text += "; left out " + " and ".join(skipped)
        if self.already_imported:
            text += f"; {self.already_imported} already imported, skipped"
        return text + "."


# --------------------------------------------------------------------------- plans


@dataclass(slots=True)
class _Message:
    parent: int | None  # index in the chat's list; parents come before children
    role: str
    content: str
    created: float
    status: str
    meta: str
    edited: bool = False
    tokens: list[tuple[int, str]] = field(default_factory=list)  # (forced, data)


@dataclass(slots=True)
class _Chat:
    title: str
    created: float
    updated: float
    system_prompt: str
    options: str
    messages: list[_Message]
    current: int | None
    skipped: int = 0
    #: The chat's id in the file ("" when it has none), for telling a re-import apart.
    key: str = ""
    #: The creation time the file gave (None: none, ``created`` is the import's time).
    given_created: float | None = None
    #: (name, system prompt, sampling, collections, files) as stored, JSON encoded.
    project: tuple[str, str, str, str, str] | None = None

    @property
    def chars(self) -> int:
        return sum(len(m.content) + sum(len(t[1]) for t in m.tokens) for m in self.messages)


def _refuse(message: str) -> ImportRefusedError:
    return ImportRefusedError(message + " Nothing was imported.")


def _time(value: Any) -> float | None:
    """A date in seconds since 1970, or None when ``value`` is not a plausible one."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    if not math.isfinite(number) or not _MIN_TIME <= number <= _MAX_TIME:
        return None
    return number


def _too_deep(value: Any, limit: int = MAX_NESTING) -> bool:
    """Whether ``value`` nests lists and objects more than ``limit`` deep (no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def _id_text(value: Any) -> str:
    """A chat's id in the file as text ("" when it is missing or not an id)."""
    if isinstance(value, bool):
        return ""
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value.strip()[:MAX_ID_CHARS]
    return ""


def _object_json(value: Any, what: str) -> str:
    if not isinstance(value, dict):
        raise _refuse(f"{what} is not a JSON object.")
    if _too_deep(value):
        raise _refuse(f"{what} is nested more than {MAX_NESTING} levels deep.")
    return storable(json.dumps(value, ensure_ascii=False))


def _title(value: str, fallback: str) -> str:
    """A title from another program: on one line, not too long."""
    title = " ".join(value.split())[:MAX_TITLE_CHARS]
    return storable(title or fallback)


def _forest(
    keys: Sequence[K],
    parent: Mapping[K, K | None],
    kept: set[K] | Mapping[K, Any],
    sort_key: Mapping[K, tuple[float, int]],
    where: str,
) -> tuple[list[K], dict[K, K | None]]:
    """The kept nodes parent first (siblings in ``sort_key`` order), and the nearest kept
    ancestor of each. ``parent`` values are keys or None; a cycle is refused."""
    above: dict[K, K | None] = {}  # nearest kept strict ancestor, once resolved
    walking: set[K] = set()
    for start in keys:
        walk: list[K] = []
        node: K | None = start
        while node is not None and node not in above:
            if node in walking:
                raise _refuse(f"{where}: its message tree goes round in a circle.")
            walking.add(node)
            walk.append(node)
            node = parent[node]
        for item in reversed(walk):
            up = parent[item]
            above[item] = None if up is None else (up if up in kept else above[up])
        walking.clear()
    children: dict[K | None, list[K]] = {}
    for key in keys:
        if key in kept:
            children.setdefault(above[key], []).append(key)
    for siblings in children.values():
        siblings.sort(key=sort_key.__getitem__)
    order: list[K] = []
    stack = list(reversed(children.get(None, [])))
    while stack:
        key = stack.pop()
        order.append(key)
        stack.extend(reversed(children.get(key, [])))
    return order, above


# --------------------------------------------------------------------------- Glassbox


def _glassbox_token(record: Any, where: str) -> tuple[int, str]:
    if not isinstance(record, dict):
        raise _refuse(f"{where} is not a JSON object.")
    candidates = record.get("candidates", [])
    if not isinstance(candidates, list):
        raise _refuse(f"{where}: its candidates are not a list.")
    keys = ("id", "text", "logit", "p_raw", "p_final", "removed_by")
    data: list[Any] = [
        record.get("index"),
        record.get("id"),
        record.get("text"),
        record.get("p"),
        [[c.get(k) for k in keys] if isinstance(c, dict) else c for c in candidates],
    ]
    draft = record.get("draft", "")
    if draft:
        data.append(draft)
    forced = record.get("forced", False)
    if not isinstance(forced, bool):
        raise _refuse(f"{where}: 'forced' is not true or false.")
    try:
        event = decode_token(json.dumps(data))
    except (ValueError, TypeError) as exc:
        raise _refuse(f"{where} is damaged ({exc}).") from exc
    return int(forced), encode_token(event)


def _glassbox_project(value: Any, where: str) -> tuple[str, str, str, str, str] | None:
    """The project an exported chat was in (see ``export.project_json``), checked."""
    if value is None:
        return None
    what = f"{where}: its project"
    if not isinstance(value, dict):
        raise _refuse(f"{what} is not a JSON object.")
    name, prompt = value.get("name"), value.get("system_prompt", "")
    if not isinstance(name, str) or not name.strip() or not isinstance(prompt, str):
        raise _refuse(f"{what} has no name, or its name or system prompt is not text.")
    sampling = value.get("sampling", {})
    lists = [value.get("collections", []), value.get("files", [])]
    for items in lists:
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise _refuse(f"{what}'s collections and pinned files must be lists of text.")
    sampling_json = _object_json(sampling, f"{what}'s sampling values")
    try:
        SamplingParams.from_record(sampling)
    except (GlassboxError, TypeError, ValueError) as exc:
        raise _refuse(f"{what}'s sampling values cannot be used ({exc})") from exc
    collections, files = (
        storable(json.dumps(list(dict.fromkeys(items)), ensure_ascii=False)) for items in lists
    )
    return storable(name.strip()), storable(prompt), sampling_json, collections, files


def _glassbox_chat(doc: Mapping[str, Any], where: str) -> _Chat:
    version = doc.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise _refuse(f"{where}: its version is missing or not a positive whole number.")
    if version > JSON_VERSION:
        raise _refuse(
            f"{where} was written by a newer Glassbox (format version {version}; this one "
            f"reads up to {JSON_VERSION}). Update Glassbox to import it."
        )
    chat = doc.get("chat")
    if not isinstance(chat, dict):
        raise _refuse(f"{where}: 'chat' is not a JSON object.")
    raw = doc.get("messages")
    if not isinstance(raw, list):
        raise _refuse(f"{where}: 'messages' is not a list.")
    if len(raw) > MAX_MESSAGES_PER_CHAT:
        raise _refuse(f"{where} has more than {MAX_MESSAGES_PER_CHAT:,} messages.")
    title = chat.get("title", "")
    system_prompt = chat.get("system_prompt", "")
    if not isinstance(title, str) or not isinstance(system_prompt, str):
        raise _refuse(f"{where}: the chat's title or system prompt is not text.")
    options = _object_json(chat.get("options", {}), f"{where}: the chat's options")
    now = time.time()
    created = _time(chat.get("created")) or now
    updated = _time(chat.get("updated")) or created

    ids: list[int] = []
    parent: dict[int, int | None] = {}
    plans: dict[int, _Message] = {}
    sort_key: dict[int, tuple[float, int]] = {}
    for n, item in enumerate(raw, start=1):
        here = f"{where}, message {n}"
        if not isinstance(item, dict):
            raise _refuse(f"{here} is not a JSON object.")
        mid, pid = item.get("id"), item.get("parent_id")
        if isinstance(mid, bool) or not isinstance(mid, int):
            raise _refuse(f"{here}: its id is not a whole number.")
        if pid is not None and (isinstance(pid, bool) or not isinstance(pid, int)):
            raise _refuse(f"{here}: its parent_id is not a whole number.")
        if mid in plans:
            raise _refuse(f"{here}: id {mid} is used twice.")
        role, content = item.get("role"), item.get("content")
        if role not in _ROLES:
            raise _refuse(f"{here}: its role is not one of {', '.join(_ROLES)}.")
        if not isinstance(content, str):
            raise _refuse(f"{here}: its text is not text.")
        status = item.get("status", "complete")
        if status not in STATUSES:
            raise _refuse(f"{here}: its status is not one of {', '.join(STATUSES)}.")
        edited = item.get("edited", False)
        if not isinstance(edited, bool):
            raise _refuse(f"{here}: 'edited' is not true or false.")
        records = item.get("tokens", [])
        if not isinstance(records, list):
            raise _refuse(f"{here}: its tokens are not a list.")
        if len(records) > MAX_TOKENS_PER_MESSAGE:
            raise _refuse(f"{here} has more than {MAX_TOKENS_PER_MESSAGE:,} tokens.")
        when = _time(item.get("created"))
        plans[mid] = _Message(
            parent=None,
            role=str(role),
            content=storable(content),
            created=when if when is not None else created,
            # A reply that was streaming when it was exported stopped there.
            status="interrupted" if status == "streaming" else str(status),
            meta=_object_json(item.get("meta", {}), f"{here}: its details"),
            edited=edited,
            tokens=[_glassbox_token(r, f"{here}, token {i + 1}") for i, r in enumerate(records)],
        )
        ids.append(mid)
        parent[mid] = pid
        sort_key[mid] = (plans[mid].created, mid)
    for mid in ids:
        pid = parent[mid]
        if pid is not None and pid not in plans:
            raise _refuse(
                f"{where}: message {mid} answers message {pid}, which is not in the file."
            )
    order, above = _forest(ids, parent, plans, sort_key, where)
    index = {mid: i for i, mid in enumerate(order)}
    messages = []
    for mid in order:
        plan = plans[mid]
        up = above[mid]
        plan.parent = None if up is None else index[up]
        messages.append(plan)
    leaf = chat.get("current_leaf")
    current = index.get(leaf) if isinstance(leaf, int) and not isinstance(leaf, bool) else None
    return _Chat(
        # As the chat had it: a round trip changes nothing.
        title=storable(title) if title.strip() else "Imported chat",
        created=created,
        updated=updated,
        system_prompt=storable(system_prompt),
        options=options,
        messages=messages,
        current=current,
        key=_id_text(chat.get("id")),
        given_created=_time(chat.get("created")),
        project=_glassbox_project(doc.get("project"), where),
    )


# --------------------------------------------------------------------------- ChatGPT


def _openai_message(message: Any, fallback_time: float, where: str) -> _Message | None:
    """A visible user or assistant message; None for what is left out."""
    if message is None:
        return None
    if not isinstance(message, dict):
        raise _refuse(f"{where}: a message is not a JSON object.")
    author = message.get("author")
    role = author.get("role") if isinstance(author, dict) else None
    if role not in ("user", "assistant"):
        return None
    metadata = message.get("metadata")
    if not isinstance(metadata, dict):
        metadata = {}
    if metadata.get("is_visually_hidden_from_conversation") is True:
        return None
    # An assistant message addressed to a tool (browser, python) is a call, not a reply.
    if role == "assistant" and message.get("recipient", "all") != "all":
        return None
    content = message.get("content")
    if not isinstance(content, dict):
        return None
    if content.get("content_type") not in ("text", "multimodal_text"):
        return None
    parts = content.get("parts")
    if not isinstance(parts, list):
        return None
    # Images and files are objects among the parts; only the text is kept.
    text = "\n".join(p for p in parts if isinstance(p, str) and p)
    if not text.strip():
        return None
    when = _time(message.get("create_time"))
    meta: dict[str, Any] = {}
    slug = metadata.get("model_slug")
    if role == "assistant" and isinstance(slug, str) and slug:
        meta["imported_model"] = slug[:200]
    return _Message(
        parent=None,
        role=role,
        content=storable(text),
        created=when if when is not None else fallback_time,
        # ChatGPT's own statuses ("in_progress" included) say nothing a Glassbox status
        # means ("interrupted" says Glassbox stopped while writing it): shown complete.
        status="complete",
        meta=storable(json.dumps(meta, ensure_ascii=False)) if meta else "{}",
    )


def _openai_chat(conversation: Mapping[str, Any], where: str) -> _Chat:
    mapping = conversation.get("mapping")
    if not isinstance(mapping, dict):
        raise _refuse(f"{where}: 'mapping' is not a JSON object.")
    if len(mapping) > MAX_MESSAGES_PER_CHAT:
        raise _refuse(f"{where} has more than {MAX_MESSAGES_PER_CHAT:,} nodes.")
    title = conversation.get("title")
    created = _time(conversation.get("create_time"))
    updated = _time(conversation.get("update_time"))
    chat_time = created if created is not None else (updated or time.time())

    keys: list[str] = list(mapping)
    parent: dict[str, str | None] = {}
    kept: dict[str, _Message] = {}
    sort_key: dict[str, tuple[float, int]] = {}
    skipped = 0
    for i, key in enumerate(keys):
        node = mapping[key]
        if not isinstance(node, dict):
            raise _refuse(f"{where}: node {key[:60]!r} is not a JSON object.")
        up = node.get("parent")
        if up is not None and not isinstance(up, str):
            raise _refuse(f"{where}: the parent of node {key[:60]!r} is not a node id.")
        # A parent that is not in the mapping makes the node a first message.
        parent[key] = up if up in mapping else None
        raw = node.get("message")
        plan = _openai_message(raw, chat_time, f"{where}, node {key[:60]!r}")
        if plan is None:
            skipped += raw is not None
            continue
        kept[key] = plan
        own = _time(raw.get("create_time")) if isinstance(raw, dict) else None
        sort_key[key] = (own if own is not None else -math.inf, i)
    order, above = _forest(keys, parent, kept, sort_key, where)
    index = {key: i for i, key in enumerate(order)}
    messages = []
    for key in order:
        plan = kept[key]
        up = above[key]
        plan.parent = None if up is None else index[up]
        messages.append(plan)
    current = None
    node_id = conversation.get("current_node")
    if isinstance(node_id, str) and node_id in mapping:
        current = index[node_id] if node_id in kept else None
        if current is None and above.get(node_id) is not None:
            current = index[above[node_id]]  # type: ignore[index]  # checked not None
    fallback = messages[0].content.split("\n", 1)[0][:60] if messages else ""
    return _Chat(
        title=_title(title if isinstance(title, str) else "", fallback or "Imported chat"),
        created=chat_time,
        updated=updated if updated is not None else chat_time,
        system_prompt="",
        options="{}",
        messages=messages,
        current=current,
        skipped=skipped,
        key=_id_text(conversation.get("id")) or _id_text(conversation.get("conversation_id")),
        given_created=created,
    )


# --------------------------------------------------------------------------- reading


def _read(source: Path) -> bytes:
    """The file's bytes (``conversations.json`` out of a zip), refused when too big."""
    try:
        size = source.stat().st_size
    except OSError as exc:
        raise _refuse(f"{source} cannot be read: {exc.strerror or exc}.") from exc
    if size > MAX_FILE_BYTES:
        raise _refuse(
            f"{source.name} is {size / 2**20:,.0f} MB; files over "
            f"{MAX_FILE_BYTES // 2**20} MB are not imported."
        )
    try:
        with source.open("rb") as f:
            head = f.read(4)
            if head == b"PK\x03\x04":
                return _read_zip(source)
            data = head + f.read(MAX_FILE_BYTES + 1 - len(head))
    except OSError as exc:
        raise _refuse(f"{source} cannot be read: {exc.strerror or exc}.") from exc
    if len(data) > MAX_FILE_BYTES:
        raise _refuse(f"{source.name} grew past {MAX_FILE_BYTES // 2**20} MB while it was read.")
    return data


def _read_zip(source: Path) -> bytes:
    try:
        with zipfile.ZipFile(source) as archive:
            names = [n for n in archive.namelist() if Path(n).name == "conversations.json"]
            if not names:
                raise _refuse(f"{source.name} is a zip file without a conversations.json.")
            info = archive.getinfo(min(names, key=len))
            if info.file_size > MAX_FILE_BYTES:
                raise _refuse(
                    f"The conversations.json in {source.name} unpacks to "
                    f"{info.file_size / 2**20:,.0f} MB; over {MAX_FILE_BYTES // 2**20} MB "
                    "is not imported."
                )
            with archive.open(info) as f:
                data = f.read(MAX_FILE_BYTES + 1)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError) as exc:
        raise _refuse(f"{source.name} is a damaged or unsupported zip file ({exc}).") from exc
    if len(data) > MAX_FILE_BYTES:
        raise _refuse(f"The conversations.json in {source.name} unpacks to too much data.")
    return data


def _documents(text: str) -> Iterator[tuple[Any, int]]:
    """The values of a top-level JSON list one by one (or the one top-level object),
    each with the position after it, so a big file is parsed in small steps."""
    decoder = json.JSONDecoder()

    def value(pos: int) -> tuple[Any, int]:
        try:
            return decoder.raw_decode(text, pos)
        except RecursionError as exc:
            raise _refuse("The file is not usable JSON: it is nested too deeply.") from exc
        except ValueError as exc:
            raise _refuse(f"The file is not valid JSON ({exc}).") from exc

    def skip(pos: int) -> int:
        match = _WHITESPACE.match(text, pos)
        return match.end() if match else pos

    pos = skip(0)
    if text.startswith("{", pos):
        doc, pos = value(pos)
        if skip(pos) != len(text):
            raise _refuse("The file is not valid JSON: something follows its object.")
        yield doc, len(text)
        return
    if not text.startswith("[", pos):
        raise _refuse("The file is not a JSON export: it starts with neither '{' nor '['.")
    pos = skip(pos + 1)
    if text.startswith("]", pos):
        pos = skip(pos + 1)
    else:
        while True:
            doc, pos = value(pos)
            yield doc, pos
            pos = skip(pos)
            if text.startswith(",", pos):
                pos = skip(pos + 1)
                continue
            if text.startswith("]", pos):
                pos = skip(pos + 1)
                break
            raise _refuse(f"The file is not valid JSON: expected ',' or ']' at character {pos:,}.")
    if pos != len(text):
        raise _refuse("The file is not valid JSON: something follows its list.")


def _detect(item: Any, fmt: str, n: int) -> str:
    where = f"Item {n} of the file"
    if not isinstance(item, dict):
        raise _refuse(f"{where} is not a JSON object, so it is not a chat.")
    if item.get("format") == "glassbox-chat":
        found = "glassbox"
    elif "mapping" in item:
        found = "openai"
    else:
        raise _refuse(
            f"{where} is neither a Glassbox chat export nor a ChatGPT conversation "
            "(it has no 'format' of 'glassbox-chat' and no 'mapping')."
        )
    if fmt != "auto" and found != fmt:
        wanted = "a Glassbox chat export" if fmt == "glassbox" else "a ChatGPT conversation"
        raise _refuse(f"{where} is not {wanted}; try --format auto.")
    return found


# --------------------------------------------------------------------------- writing


class _Writer:
    """Writes planned chats hidden and pending, then shows them all, or deletes them."""

    def __init__(self, conn: sqlite3.Connection, origin: Origin) -> None:
        self.conn = conn
        self.origin = origin
        self.origins: list[tuple[str, int]] = []  # (origin, chat id), shown by reveal
        self.pending = f"{_PENDING}{int(time.time()):012d}:{uuid.uuid4().hex}"
        self.batch: list[_Chat] = []
        self.batch_chars = 0
        self.chat_ids: list[int] = []
        self.messages = 0
        self.tokens = 0
        self.written = False
        self.projects: dict[str, int] = {}  # by name
        self.new_projects: list[int] = []

    def add(self, chat: _Chat) -> None:
        self.batch.append(chat)
        self.batch_chars += chat.chars
        if len(self.batch) >= BATCH_CHATS or self.batch_chars >= BATCH_CHARS:
            self.flush()

    def flush(self) -> None:
        if not self.batch:
            return
        self.written = True
        known, made = dict(self.projects), len(self.new_projects)
        try:
            self._write()
        except BaseException:
            # Rolled back: the projects made in it are gone (their ids may be reused).
            self.projects, self.new_projects = known, self.new_projects[:made]
            raise
        self.batch.clear()
        self.batch_chars = 0

    def _write(self) -> None:
        """The batch in one transaction, with ids counted on from the largest in the file."""
        now = time.time()
        chat_rows: list[tuple[Any, ...]] = []
        message_rows: list[tuple[Any, ...]] = []
        token_rows: list[tuple[Any, ...]] = []
        leaf_rows: list[tuple[int, int]] = []
        with transaction(self.conn, "import the chats") as conn:
            chat_id = int(conn.execute("SELECT coalesce(max(id), 0) FROM chats").fetchone()[0])
            message_id = int(
                conn.execute("SELECT coalesce(max(id), 0) FROM messages").fetchone()[0]
            )
            for chat in self.batch:
                chat_id += 1
                base = message_id + 1
                chat_rows.append(
                    (
                        chat_id,
                        chat.title,
                        chat.created,
                        chat.updated,
                        chat.system_prompt,
                        now,
                        chat.options,
                        self.pending,
                        self._project(conn, chat.project, now),
                    )
                )
                for m in chat.messages:
                    message_id += 1
                    parent = None if m.parent is None else base + m.parent
                    message_rows.append(
                        (
                            message_id,
                            chat_id,
                            parent,
                            m.role,
                            m.content,
                            m.created,
                            m.status,
                            m.meta,
                            int(m.edited),
                        )
                    )
                    token_rows.extend(
                        (message_id, i, forced, data) for i, (forced, data) in enumerate(m.tokens)
                    )
                if chat.current is not None:
                    leaf_rows.append((base + chat.current, chat_id))
                self.chat_ids.append(chat_id)
                self.origins.append((self._origin(chat).encode(), chat_id))
                self.messages += len(chat.messages)
            self.tokens += len(token_rows)
            conn.executemany(
                "INSERT INTO chats (id, title, created, updated, system_prompt, deleted_at, "
                "options, origin, project_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                chat_rows,
            )
            conn.executemany(
                "INSERT INTO messages (id, chat_id, parent_id, role, content, created, status, "
                "meta, edited) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                message_rows,
            )
            conn.executemany(
                "INSERT INTO tokens (message_id, idx, forced, data) VALUES (?, ?, ?, ?)",
                token_rows,
            )
            conn.executemany("UPDATE chats SET current_leaf = ? WHERE id = ?", leaf_rows)

    def _project(
        self, conn: sqlite3.Connection, project: tuple[str, ...] | None, now: float
    ) -> int | None:
        """The project a chat goes into: the one of that name, or a new one with its settings."""
        if project is None:
            return None
        name = project[0]
        if name not in self.projects:
            row = conn.execute(
                "SELECT id FROM projects WHERE name = ? AND deleted_at IS NULL ORDER BY id LIMIT 1",
                (name,),
            ).fetchone()
            if row is None:
                cur = conn.execute(
                    "INSERT INTO projects (name, system_prompt, sampling, collections, files, "
                    "created, updated) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (*project, now, now),
                )
                row = (int(cur.lastrowid or 0),)
                self.new_projects.append(row[0])
            self.projects[name] = int(row[0])
        return self.projects[name]

    def _origin(self, chat: _Chat) -> Origin:
        o = self.origin
        return Origin(o.source, o.file, o.date, chat.key, chat.given_created)

    def is_known(self, chat: _Chat, known: set[tuple[str, str, float]]) -> bool:
        """Whether the chat was imported before (``known``); if not, it is from now on."""
        key = self._origin(chat).key
        if key is None:
            return False
        if key in known:
            return True
        known.add(key)  # the same chat twice in one file is added once
        return False

    def reveal(self) -> None:
        """Show every chat of this import at once, each with its origin."""
        with transaction(self.conn, "finish the import") as conn:
            conn.executemany(
                "UPDATE chats SET deleted_at = NULL, origin = ? WHERE id = ? AND origin = ?",
                [(origin, chat_id, self.pending) for origin, chat_id in self.origins],
            )

    def discard(self) -> None:
        """Delete what this import wrote (messages and tokens go with their chats)."""
        self.batch.clear()
        if not self.written:
            return
        try:
            with transaction(self.conn, "remove a failed import") as conn:
                conn.execute("DELETE FROM chats WHERE origin = ?", (self.pending,))
                conn.executemany(
                    "DELETE FROM projects WHERE id = ?", [(p,) for p in self.new_projects]
                )
        except StorageError as exc:
            # They stay hidden; the next import deletes them.
            log.warning("Chats of a failed import could not be removed yet: %s", exc)


def _imported_keys(conn: sqlite3.Connection) -> set[tuple[str, str, float]]:
    """The keys (source, id, creation time) of the imported chats in the database."""
    keys = set()
    for (text,) in conn.execute(
        "SELECT origin FROM chats WHERE deleted_at IS NULL AND origin LIKE '{%'"
    ):
        origin = parse_origin(text)
        if origin is not None and origin.key is not None:
            keys.add(origin.key)
    return keys


def _remove_stale(conn: sqlite3.Connection) -> None:
    """Delete hidden chats left by an import that died more than a day ago."""
    cutoff = f"{_PENDING}{int(time.time() - STALE_PENDING_S):012d}"
    with transaction(conn, "remove an unfinished import") as c:
        n = c.execute(
            "DELETE FROM chats WHERE origin >= ? AND origin < ?", (_PENDING, cutoff)
        ).rowcount
    if n:
        log.info("Removed %d chat(s) of an import that did not finish.", n)


# --------------------------------------------------------------------------- import


def import_file(
    db_path: Path,
    source: Path,
    fmt: str = "auto",
    progress: Callable[[ImportProgress], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> ImportResult:
    """Import the chats of ``source`` into the chat database at ``db_path``.

    ``db_path`` must already be at the current schema (a ``ChatStore`` opened it);
    this uses a connection of its own, so it may run on any thread. ``progress``
    is called after each chat; ``cancelled`` is asked between chats. Raises
    ImportRefusedError for a file that cannot be imported, CancelledError when
    cancelled, StorageError when the database fails; in every case nothing stays.
    """
    if fmt not in FORMATS:
        raise ImportRefusedError(f"Unknown import format {fmt!r}; use one of {', '.join(FORMATS)}.")
    started = time.perf_counter()
    data = _read(source)
    size = len(data)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _refuse(f"{source.name} is not UTF-8 text (byte {exc.start:,}).") from exc
    del data
    source_kind = "chatgpt"
    origin = Origin("chatgpt", source.name, datetime.now().strftime("%Y-%m-%d"))
    try:
        conn = connect(db_path)
    except sqlite3.Error as exc:
        raise StorageError(f"Could not open the chat database {db_path}: {exc}.") from exc
    try:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if version != SCHEMA_VERSION:
            raise StorageError(
                f"The chat database {db_path} is at schema {version}, not {SCHEMA_VERSION}; "
                "start Glassbox once to bring it up to date, then import again."
            )
        _remove_stale(conn)
        known = _imported_keys(conn)
        writer: _Writer | None = None
        found_format = ""
        skipped_messages = skipped_chats = chats = messages = already = 0
        try:
            for n, (item, pos) in enumerate(_documents(text), start=1):
                if cancelled is not None and cancelled():
                    raise CancelledError("The import was cancelled; nothing was added.")
                if n > MAX_CHATS:
                    raise _refuse(f"The file holds more than {MAX_CHATS:,} chats.")
                found = _detect(item, fmt, n)
                if writer is None:
                    found_format = found
                    source_kind = "glassbox" if found == "glassbox" else "chatgpt"
                    origin = Origin(source_kind, origin.file, origin.date)
                    writer = _Writer(conn, origin)
                where = f"Chat {n}"
                if isinstance(item.get("title"), str):
                    where += f" ({item['title'][:60]!r})"
                chat = (
                    _glassbox_chat(item, where)
                    if found == "glassbox"
                    else _openai_chat(item, where)
                )
                del item
                skipped_messages += chat.skipped
                if not chat.messages and found == "openai":
                    skipped_chats += 1
                elif writer.is_known(chat, known):
                    already += 1
                else:
                    messages += len(chat.messages)
                    if messages > MAX_MESSAGES:
                        raise _refuse(f"The file holds more than {MAX_MESSAGES:,} messages.")
                    writer.add(chat)
                    chats += 1
                if progress is not None:
                    progress(ImportProgress(pos / max(1, len(text)), chats, messages))
            if writer is None or chats + already == 0:
                raise _refuse(f"{source.name} holds no conversation with messages to import.")
            writer.flush()
            writer.reveal()
            if progress is not None:
                progress(ImportProgress(1.0, chats, writer.messages))
        except BaseException as exc:
            if writer is not None:
                writer.discard()
            if isinstance(exc, MemoryError):
                raise _refuse(f"{source.name} is too big for the memory available.") from exc
            raise
        return ImportResult(
            format=found_format,
            chats=len(writer.chat_ids),
            messages=writer.messages,
            tokens=writer.tokens,
            skipped_messages=skipped_messages,
            skipped_chats=skipped_chats,
            chat_ids=tuple(writer.chat_ids),
            bytes=size,
            seconds=time.perf_counter() - started,
            origin=origin.encode(),
            already_imported=already,
        )
    finally:
        conn.close()
