"""``ingest-kill``: kill -9 during ``glassbox ingest``, then resume; nothing doubled or orphaned.

A folder of generated documents (English and Chinese; txt, md and html) is ingested
into one collection of one data folder by the real command (``python -m desktop_app
ingest``: the sandboxed parsers, the bundled embedder, the embedded Chroma). Each
case rewrites a few documents, adds one and deletes one (so a run also replaces
and removes chunks, not only adds them), starts the ingestion and kills it with
SIGKILL at a seeded random moment: while it starts, or once the registry shows a
chosen number of chunks stored or indexed. The next case's run resumes it; a last
run completes it. Then the registry and Chroma are compared: no chunk twice, no
chunk without its document, Chroma's ids exactly SQLite's, and the chunks those of
an uninterrupted ingestion of the same folder into a fresh data folder.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from desktop_app.bench.faults import MARKER_ENV, FaultContext, FaultRow, describe, marked

GOAL = "0 duplicates, 0 orphans, Chroma = SQLite, no process left"
COLLECTION = "faults"
#: How long the parser processes may outlive the killed command.
HELPER_GRACE_S = 5.0
RUN_TIMEOUT_S = 300.0

EN_WORDS = (
    "model",
    "data",
    "index",
    "vector",
    "query",
    "answer",
    "document",
    "chunk",
    "memory",
    "token",
    "layer",
    "kernel",
    "network",
    "cache",
    "river",
    "mountain",
    "garden",
    "library",
    "window",
    "engine",
    "signal",
    "reason",
    "paper",
    "careful",
    "quiet",
    "rapid",
    "simple",
    "ancient",
    "modern",
    "bright",
    "small",
    "large",
    "useful",
)
ZH_PHRASES = (
    "检索增强生成",
    "向量数据库",
    "大语言模型",
    "知识库",
    "文档切块",
    "嵌入模型",
    "长城",
    "黄河",
    "春天的花园",
    "图书馆里的书",
    "模型的幻觉",
    "提示工程",
)


def _sentence(rng: random.Random, chinese: bool) -> str:
    if chinese:
        return "，".join(rng.choice(ZH_PHRASES) for _ in range(rng.randint(3, 7))) + "。"
    words = [rng.choice(EN_WORDS) for _ in range(rng.randint(8, 18))]
    return " ".join(words).capitalize() + "."


def write_document(folder: Path, name: str, rng: random.Random) -> None:
    """One document of a few hundred sentences: txt, md or html by ``name``'s suffix."""
    chinese = name.startswith("zh")
    paragraphs = [
        " ".join(_sentence(rng, chinese) for _ in range(rng.randint(3, 8)))
        for _ in range(rng.randint(6, 16))
    ]
    if name.endswith(".md"):
        body = "\n\n".join(
            (f"## Part {i}\n\n" if i % 5 == 0 else "") + p for i, p in enumerate(paragraphs)
        )
    elif name.endswith(".html"):
        items = "\n".join(f"<p>{p}</p>" for p in paragraphs)
        body = (
            f"<html><head><title>{name}</title></head><body><h1>{name}</h1>\n{items}</body></html>"
        )
    else:
        body = "\n\n".join(paragraphs)
    (folder / name).write_text(body, "utf-8")


def build_folder(folder: Path, rng: random.Random, n: int) -> list[str]:
    """``n`` documents, alternating English and Chinese and the three formats."""
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for i in range(n):
        name = f"{'zh' if i % 2 else 'en'}_{i:03d}.{('txt', 'md', 'html')[i % 3]}"
        write_document(folder, name, rng)
        names.append(name)
    return names


def change_folder(folder: Path, rng: random.Random, case: int) -> None:
    """Rewrite a few documents, add one and delete one: work for the next run."""
    names = sorted(p.name for p in folder.iterdir())
    for name in rng.sample(names, k=min(3, len(names))):
        write_document(folder, name, rng)
    (folder / rng.choice(names)).unlink()
    write_document(folder, f"{'zh' if case % 2 else 'en'}_new{case:03d}.md", rng)


@dataclass(frozen=True, slots=True)
class Integrity:
    """What the registry and Chroma hold after the last, complete run."""

    sqlite: int
    chroma: int
    duplicates: int
    orphans: int
    problems: tuple[str, ...]


def inspect(home: Path, reference: set[str] | None) -> tuple[Integrity, set[str]]:
    """Compare the registry with Chroma (without repairing either); and the chunk ids."""
    from desktop_app.core.kb.db import open_registry
    from desktop_app.core.kb.index import VectorIndex

    problems: list[str] = []
    registry = open_registry(home / "kb")
    try:
        coll = registry.collection(COLLECTION)
        conn = registry.conn

        def one(sql: str) -> int:
            return int(conn.execute(sql, (coll.id,)).fetchone()[0])

        dup_ids = one(
            "SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM chunks "
            "WHERE collection_id = ? GROUP BY chunk_id HAVING n > 1)"
        )
        dup_pos = one(
            "SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM chunks "
            "WHERE collection_id = ? GROUP BY doc_id, idx HAVING n > 1)"
        )
        dup_text = one(
            "SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM chunks "
            "WHERE collection_id = ? GROUP BY doc_id, char_start, text HAVING n > 1)"
        )
        dup_docs = one(
            "SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM documents "
            "WHERE collection_id = ? GROUP BY path HAVING n > 1)"
        )
        no_source = one(
            "SELECT count(*) FROM chunks ch LEFT JOIN documents d ON d.id = ch.doc_id "
            "WHERE ch.collection_id = ? AND (d.id IS NULL OR d.collection_id != ch.collection_id)"
        )
        gone_files = [d.path for d in registry.documents(coll) if not Path(d.path).is_file()]
        short = one(
            "SELECT count(*) FROM documents d WHERE d.collection_id = ? AND d.n_chunks != "
            "(SELECT count(*) FROM chunks ch WHERE ch.doc_id = d.id)"
        )
        counts = registry.counts(coll)
        dirty = registry.is_dirty(coll)
        stored = registry.chunk_ids(coll)
        index = VectorIndex(home / "kb", registry.kb_id())
        present = index.ids(coll)
        chroma = index.count(coll)
    finally:
        registry.close()
    only_chroma = len(present - stored)
    only_sqlite = len(stored - present)
    duplicates = dup_ids + dup_pos + dup_text + dup_docs
    orphans = only_chroma + only_sqlite + no_source + len(gone_files)
    for what, n in (
        ("chunk ids twice", dup_ids),
        ("positions twice", dup_pos),
        ("texts twice at one position", dup_text),
        ("documents twice", dup_docs),
        ("chunks in Chroma only", only_chroma),
        ("chunks in SQLite only", only_sqlite),
        ("chunks of no document", no_source),
        ("documents whose file was deleted", len(gone_files)),
        ("documents whose chunk count is wrong", short),
    ):
        if n:
            problems.append(f"{n} {what}")
    if dirty:
        problems.append("the collection is still marked as interrupted (dirty)")
    if counts["pending"] or counts["failed"]:
        problems.append(f"{counts['pending']} pending, {counts['failed']} failed documents")
    if not counts["chunks"] == counts["embedded"] == counts["in_index"] == chroma:
        problems.append(
            f"{counts['chunks']} chunks, {counts['embedded']} embedded, "
            f"{counts['in_index']} marked indexed, {chroma} in Chroma"
        )
    if reference is not None and stored != reference:
        problems.append(
            f"{len(reference - stored)} chunks of an uninterrupted ingestion missing, "
            f"{len(stored - reference)} extra"
        )
    return Integrity(counts["chunks"], chroma, duplicates, orphans, tuple(problems)), stored


def progress(db: Path, last: int = 0) -> tuple[int, int, int, int]:
    """Read-only, from the registry now: (the last chunk row, chunks stored after row
    ``last``, those of them in Chroma, chunks up to row ``last`` in Chroma)."""
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
    except sqlite3.Error:
        return 0, 0, 0, 0
    try:
        row = conn.execute(
            "SELECT coalesce(max(rowid), 0), count(*) FILTER (WHERE rowid > ?1), "
            "count(*) FILTER (WHERE rowid > ?1 AND in_index = 1), "
            "count(*) FILTER (WHERE rowid <= ?1 AND in_index = 1) FROM chunks",
            (last,),
        ).fetchone()
        return int(row[0]), int(row[1]), int(row[2]), int(row[3])
    except sqlite3.Error:
        return 0, 0, 0, 0
    finally:
        conn.close()


def ingest(home: Path, folder: Path, marker: str) -> subprocess.Popen[str]:
    """The real command, in its own data folder."""
    env = {**os.environ, "GLASSBOX_HOME": str(home), MARKER_ENV: marker}
    return subprocess.Popen(
        [sys.executable, "-m", "desktop_app", "ingest", str(folder), "-c", COLLECTION,
         "--json", "--quiet"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def complete(home: Path, folder: Path) -> tuple[float, dict[str, object] | str]:
    """Run the ingestion to its end: (seconds, its JSON report or why it failed)."""
    t0 = time.monotonic()
    proc = ingest(home, folder, uuid.uuid4().hex)
    try:
        out, err = proc.communicate(timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return time.monotonic() - t0, f"the ingestion took over {RUN_TIMEOUT_S:.0f} s"
    if proc.returncode != 0:
        return time.monotonic() - t0, f"exit {proc.returncode}: {err.strip()[-300:]}"
    report: dict[str, object] = json.loads(out)
    return time.monotonic() - t0, report


def run(ctx: FaultContext) -> FaultRow:
    n = ctx.n(20, 2)
    rng = ctx.rng()
    folder = ctx.workdir / "docs"
    home = ctx.workdir / "home"
    db = home / "kb" / "kb.sqlite3"
    build_folder(folder, rng, 12 if ctx.quick else 36)
    failures: list[str] = []
    failed = 0
    moments: dict[str, int] = {}
    left_behind = 0
    start_s = 6.0  # start-up before the first chunk is stored; learnt from the cases
    for case in range(n):
        if case:
            change_folder(folder, rng, case)
        marker = uuid.uuid4().hex
        t0 = time.monotonic()
        proc = ingest(home, folder, marker)
        phase = rng.choices(("start-up", "chunking", "indexing"), weights=(1, 2, 2))[0]
        kill_at = t0 + rng.uniform(0.0, start_s) if phase == "start-up" else None
        # Rows stored and indexed since the start: the first run stores the whole
        # folder, a later one the changed documents (and what the last kill left).
        last = progress(db)[0]
        old_indexed = progress(db, last)[3]
        target = rng.randint(1, 120 if case == 0 else 30)
        first_chunk = None
        armed = phase == "start-up"
        while proc.poll() is None and time.monotonic() - t0 < RUN_TIMEOUT_S:
            if kill_at is not None and time.monotonic() >= kill_at:
                break
            time.sleep(0.05)
            _, stored, indexed, old = progress(db, last)
            if first_chunk is None and stored:
                first_chunk = time.monotonic() - t0
            grown = stored if phase == "chunking" else indexed + max(0, old - old_indexed)
            if not armed and grown >= target:
                kill_at = time.monotonic() + rng.uniform(0.0, 0.1)
                armed = True
        if first_chunk is not None:
            start_s = 0.7 * start_s + 0.3 * first_chunk
        helpers = marked(marker)
        finished = proc.poll() is not None
        if not finished:
            os.kill(proc.pid, signal.SIGKILL)
        proc.communicate()
        moment = "finished before the kill" if finished else phase
        moments[moment] = moments.get(moment, 0) + 1
        deadline = time.monotonic() + HELPER_GRACE_S
        left = [p for p in marked(marker) if p != proc.pid]
        while left and time.monotonic() < deadline:
            time.sleep(0.05)
            left = [p for p in marked(marker) if p != proc.pid]
        if left:
            left_behind += 1
            failed += 1
            failures.append(f"case {case}: processes {left} outlived the killed ingestion")
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    continue
        if finished and proc.returncode != 0:
            failed += 1
            failures.append(f"case {case}: the interrupted ingestion exited {proc.returncode}")
        ctx.log(
            f"  case {case + 1}/{n}: {'' if finished else 'killed in '}{moment} "
            f"at {time.monotonic() - t0:.1f} s, "
            f"{len(helpers)} processes, {progress(db, last)[1]} chunks stored"
        )
    seconds, report = complete(home, folder)
    if isinstance(report, str):
        return FaultRow(
            check="kill -9 during ingestion",
            runs=n,
            failed=n,
            goal=GOAL,
            measured=f"{n} kills; the resumed ingestion failed",
            details=describe([report, *failures]),
        )
    ctx.log(f"  resumed to the end in {seconds:.1f} s")
    reference: set[str] | None = None
    if not ctx.quick:  # one more whole ingestion: the full run only
        _, fresh = complete(ctx.workdir / "reference", folder)
        if isinstance(fresh, str):
            failures.append(f"the uninterrupted reference ingestion failed: {fresh}")
        else:
            _, reference = inspect(ctx.workdir / "reference", None)
    found, _ = inspect(home, reference)
    if found.problems:
        failed += 1
        failures.insert(0, "after the last run: " + "; ".join(found.problems))
    early = moments.pop("finished before the kill", 0)
    spread = ", ".join(f"{v} in {k}" for k, v in sorted(moments.items()))
    spread += f"; {early} finished first" if early else ""
    measured = (
        f"{n - early} kills ({spread}), {found.duplicates} duplicates, {found.orphans} orphans, "
        f"{found.chroma:,} = {found.sqlite:,}"
        + (f", same {len(reference):,} chunks as uninterrupted" if reference is not None else "")
        + f", {n - left_behind}/{n} left no process"
    )
    return FaultRow(
        check="kill -9 during ingestion",
        runs=n,
        failed=min(failed, n),
        goal=GOAL,
        measured=measured,
        details=describe(failures),
    )
