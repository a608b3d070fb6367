"""The ``gguf-fuzz`` check ("malformed GGUFs"): a seeded mutation fuzzer over a real header.

The file is Gemma 3 270M (``ctx.model()``); its header (metadata with the 262,144-token
vocabulary, then the tensor descriptions) is about 4 MB of its 253 MB. Each case
mutates a working copy in place and restores the bytes afterwards, so no case copies
the file: bit flips, byte runs, lengths/counts/types overwritten with boundary values,
truncation, duplicated or swapped metadata records and tensor descriptions, an
inflated tensor count or dimensions.

Part A sends each case through ``inspect_gguf`` in a worker child process
(``gguf_fuzz_child``): a case passes when it is refused with a ``ModelFileError``
naming the file, or parses to sane values; a crash, a hang (over 2 s) or any other
exception fails it. The working copy there is sparse: the header and a small tail of
tensor data are real, the rest is a hole of the right size (the parser never reads
tensor data).

Part B sends cases through the real engine process (``EngineClient``): the good model
is loaded first, then each mutated file. A case passes when the load is refused with
a message, or it loads and generates; and afterwards the good model must answer. An
engine that died, or a refusal that came only after the old model was let go, fails
"previous model unaffected".
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import signal
import struct
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from random import Random

import gguf

from desktop_app.bench.faults import FaultContext, FaultRow, describe

CHECK = "malformed GGUFs"
GOAL = "100% refused with a message; the previous model unaffected"
#: A case whose inspection takes longer than this is a hang.
HANG_S = 2.0
#: Real tensor bytes kept after the header in part A's sparse copy.
TAIL_BYTES = 64 << 10
#: How long the engine gets for one load (a hang beyond it is killed and counted).
LOAD_LIMIT_S = 60.0

_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
_BOUNDARY_U64 = (0, 1, (1 << 31) - 1, (1 << 32) - 1, 1 << 63, (1 << 64) - 1)
_BOUNDARY_U32 = (0, 1, (1 << 31) - 1, (1 << 32) - 1)
_VT = gguf.GGUFValueType
_SCALAR_SIZES: dict[int, int] = {
    _VT.UINT8: 1,
    _VT.INT8: 1,
    _VT.BOOL: 1,
    _VT.UINT16: 2,
    _VT.INT16: 2,
    _VT.UINT32: 4,
    _VT.INT32: 4,
    _VT.FLOAT32: 4,
    _VT.UINT64: 8,
    _VT.INT64: 8,
    _VT.FLOAT64: 8,
}


# -- the layout of a valid header -------------------------------------------------------


@dataclass(slots=True)
class _Record:
    """A metadata entry or tensor description: where it lies and its typed fields."""

    start: int
    end: int
    fields: list[tuple[int, int]] = field(default_factory=list)  # (offset, 4 or 8)
    dims: list[int] = field(default_factory=list)  # offsets of a tensor's u64 dims


@dataclass(slots=True)
class _Layout:
    """The records of a valid header, found by walking it (the fuzzer's map)."""

    kvs: list[_Record]
    tensors: list[_Record]
    header_end: int  # the end of the tensor descriptions
    string_lengths: list[int]  # offsets of the u64 lengths inside string arrays


def _walk(data: bytes) -> _Layout:
    """Map the header of a valid GGUF file (``data`` holds at least the header)."""
    kv_count = _U64.unpack_from(data, 16)[0]
    tensor_count = _U64.unpack_from(data, 8)[0]
    pos = 24
    kvs: list[_Record] = []
    strings: list[int] = []

    def value(vtype: int, rec: _Record) -> None:
        nonlocal pos
        if vtype in _SCALAR_SIZES:
            pos += _SCALAR_SIZES[vtype]
        elif vtype == _VT.STRING:
            rec.fields.append((pos, 8))
            pos += 8 + _U64.unpack_from(data, pos)[0]
        elif vtype == _VT.ARRAY:
            rec.fields.append((pos, 4))
            item = _U32.unpack_from(data, pos)[0]
            rec.fields.append((pos + 4, 8))
            length = _U64.unpack_from(data, pos + 4)[0]
            pos += 12
            if item in _SCALAR_SIZES:
                pos += length * _SCALAR_SIZES[item]
            elif item == _VT.STRING:
                for _ in range(length):
                    strings.append(pos)
                    pos += 8 + _U64.unpack_from(data, pos)[0]
            else:
                for _ in range(length):
                    value(_VT.ARRAY, rec)
        else:
            raise ValueError(f"unexpected value type {vtype}")

    for _ in range(kv_count):
        rec = _Record(pos, pos, [(pos, 8)])
        pos += 8 + _U64.unpack_from(data, pos)[0]
        rec.fields.append((pos, 4))
        vtype = _U32.unpack_from(data, pos)[0]
        pos += 4
        value(vtype, rec)
        rec.end = pos
        kvs.append(rec)
    tensors: list[_Record] = []
    for _ in range(tensor_count):
        rec = _Record(pos, pos, [(pos, 8)])
        pos += 8 + _U64.unpack_from(data, pos)[0]
        rec.fields.append((pos, 4))
        n_dims = _U32.unpack_from(data, pos)[0]
        pos += 4
        rec.dims = [pos + 8 * d for d in range(n_dims)]
        rec.fields += [(d, 8) for d in rec.dims]
        pos += 8 * n_dims
        rec.fields += [(pos, 4), (pos + 4, 8)]  # type, offset
        pos += 12
        rec.end = pos
        tensors.append(rec)
    return _Layout(kvs, tensors, pos, strings)


# -- mutations ----------------------------------------------------------------------------


@dataclass(slots=True)
class _Mutation:
    """Bytes written over the working copy (and maybe a truncation), and how to undo it."""

    kind: str
    writes: list[tuple[int, bytes]] = field(default_factory=list)
    truncate: int | None = None

    def apply(self, fd: int) -> None:
        for offset, data in self.writes:
            os.pwrite(fd, data, offset)
        if self.truncate is not None:
            os.truncate(fd, self.truncate)

    def restore(self, fd: int, pristine: _Pristine) -> None:
        if self.truncate is not None:
            os.truncate(fd, pristine.size)  # back to its size: a hole after the cut
            pristine.copy(fd, self.truncate, pristine.size, hole=True)
        for offset, data in self.writes:
            pristine.copy(fd, offset, offset + len(data))


class _Pristine:
    """The unmutated bytes: a prefix in memory, then a file's bytes or zeros (a hole)."""

    def __init__(self, head: bytes, size: int, source: Path | None) -> None:
        self.head = head
        self.size = size
        self._source = source

    def copy(self, fd: int, lo: int, hi: int, hole: bool = False) -> None:
        """Write the pristine bytes ``lo..hi`` over ``fd``; ``hole``: past ``lo`` the file
        reads as zeros now (it was cut and extended again)."""
        hi = min(hi, self.size)
        if lo < len(self.head):
            os.pwrite(fd, self.head[lo : min(hi, len(self.head))], lo)
            lo = len(self.head)
        if lo >= hi:
            return
        if self._source is None:
            # Part A's copy is a hole past the head: zeros are what was there.
            if not hole:
                os.pwrite(fd, bytes(hi - lo), lo)
            return
        with open(self._source, "rb") as src:
            while lo < hi:
                n = os.copy_file_range(src.fileno(), fd, hi - lo, lo, lo)
                if n <= 0:
                    raise OSError(f"could not restore bytes {lo}..{hi} of the working copy")
                lo += n


def _u(value: int, size: int) -> bytes:
    return (_U32 if size == 4 else _U64).pack(value & ((1 << (8 * size)) - 1))


def _offset(rng: Random, layout: _Layout) -> int:
    """A byte to damage: half in the structure (fixed header, small entries, tensor
    descriptions), half anywhere in the header."""
    if rng.random() < 0.5:
        return rng.randrange(layout.header_end)
    small = [r for r in layout.kvs if r.end - r.start < 4096] + layout.tensors
    rec = rng.choice(small)
    return rng.choice([rng.randrange(24), rng.randrange(rec.start, rec.end)])


def mutate(rng: Random, layout: _Layout, head: bytes, size: int) -> _Mutation:
    """One seeded mutation of the header ``head`` (the first bytes of a ``size``-byte file)."""
    kind = rng.choice(
        (
            "bit flips",
            "byte run",
            "boundary value",
            "boundary value",
            "truncation",
            "duplicated record",
            "swapped records",
            "inflated count",
            "inflated dimensions",
        )
    )
    m = _Mutation(kind)
    end = layout.header_end
    if kind == "bit flips":
        for _ in range(rng.choice((1, 1, 2, 8))):
            at = _offset(rng, layout)
            m.writes.append((at, bytes([head[at] ^ (1 << rng.randrange(8))])))
    elif kind == "byte run":
        at = _offset(rng, layout)
        n = rng.choice((1, 2, 4, 8, 16, 64, 512))
        fill = rng.choice(("zeros", "ones", "random"))
        run = (
            bytes(n)
            if fill == "zeros"
            else b"\xff" * n
            if fill == "ones"
            else bytes(rng.randrange(256) for _ in range(n))
        )
        m.writes.append((at, run[: max(1, end - at)]))
    elif kind == "boundary value":
        fixed = [(4, 4), (8, 8), (16, 8)]
        rec = rng.choice(layout.kvs + layout.tensors)
        choices = fixed + rec.fields
        if layout.string_lengths and rng.random() < 0.2:
            choices = [(rng.choice(layout.string_lengths), 8)]
        at, width = rng.choice(choices)
        value = rng.choice(_BOUNDARY_U32 if width == 4 else _BOUNDARY_U64)
        m.kind = f"boundary value {value:#x}"
        m.writes.append((at, _u(value, width)))
    elif kind == "truncation":
        m.truncate = rng.choice(
            (rng.randrange(1, 64), rng.randrange(end), rng.randrange(end, size))
        )
    elif kind in ("duplicated record", "swapped records"):
        tensors = rng.random() < 0.3
        records = layout.tensors if tensors else layout.kvs
        a = rng.randrange(len(records))
        b = rng.randrange(len(records))
        ra, rb = records[min(a, b)], records[max(a, b)]
        if kind == "duplicated record":
            copy = head[ra.start : ra.end]
            rest = head[ra.end : end + TAIL_BYTES]
            m.writes.append((ra.end, copy + rest))
            if rng.random() < 0.7:  # the count says one more: read as a duplicate
                count_at = 8 if tensors else 16
                count = _U64.unpack_from(head, count_at)[0] + 1
                m.writes.append((count_at, _U64.pack(count)))
        elif ra is not rb:
            middle = head[ra.end : rb.start]
            m.writes.append((ra.start, head[rb.start : rb.end] + middle + head[ra.start : ra.end]))
        else:
            m.kind = "swapped records (the same: a no-op)"
    elif kind == "inflated count":
        count_at = rng.choice((8, 16))
        count = _U64.unpack_from(head, count_at)[0]
        value = rng.choice((count + 1, count + 2, count * 2, 1 << 20, (1 << 20) + 1, 1 << 32))
        m.writes.append((count_at, _U64.pack(value)))
    else:  # inflated dimensions
        rec = rng.choice(layout.tensors)
        if rec.dims and rng.random() < 0.8:
            at = rng.choice(rec.dims)
            dim = _U64.unpack_from(head, at)[0]
            value = rng.choice((dim * 2, dim * 256, dim + 1, (1 << 31) - 1, 1 << 32, 1 << 63))
            m.writes.append((at, _U64.pack(value & ((1 << 64) - 1))))
        else:
            at = rec.fields[1][0]  # n_dims
            m.writes.append((at, _U32.pack(rng.choice((0, 3, 4, 5, 64, (1 << 32) - 1)))))
    return m


# -- part A: the parser in a child process -----------------------------------------------


class _Inspector:
    """The ``gguf_fuzz_child`` process; restarted after a crash or a hang."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen[bytes] | None = None
        self._buffer = b""
        self.restarts = 0

    def _start(self) -> subprocess.Popen[bytes]:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "desktop_app.bench.faults.gguf_fuzz_child"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
            self._buffer = b""
        return self._proc

    def ask(self, path: Path, limit_s: float) -> dict[str, str]:
        """The child's answer for ``path``, or a "crash"/"hang" verdict of our own."""
        return self.send(path) or self.receive(time.monotonic() + limit_s)

    def send(self, path: Path) -> dict[str, str] | None:
        """Hand ``path`` to the child; a "crash" verdict when it is already gone."""
        proc = self._start()
        assert proc.stdin is not None
        try:
            proc.stdin.write(os.fsencode(path) + b"\n")
            proc.stdin.flush()
        except BrokenPipeError:
            return self._lost(proc, "crash")
        return None

    def receive(self, deadline: float) -> dict[str, str]:
        """The child's answer to what was sent, or "crash"/"hang" when none comes by
        ``deadline`` (``time.monotonic``)."""
        proc = self._proc
        assert proc is not None and proc.stdout is not None
        fd = proc.stdout.fileno()
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                return self._lost(proc, "hang")
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    return self._lost(proc, "crash")
                self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        answer: dict[str, str] = json.loads(line)
        return answer

    def _lost(self, proc: subprocess.Popen[bytes], how: str) -> dict[str, str]:
        if proc.poll() is None:
            proc.kill()
        code = proc.wait()
        self._proc = None
        self.restarts += 1
        detail = f"exit status {code}" if how == "crash" else f"no answer in {HANG_S:g} s"
        return {"verdict": how, "detail": detail}

    def close(self) -> None:
        proc = self._proc
        if proc is not None and proc.stdin is not None:
            proc.stdin.close()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._proc = None


def _part_a(
    ctx: FaultContext, rng: Random, model: Path, layout: _Layout, head: bytes, cases: int
) -> tuple[Counter[str], list[str]]:
    size = model.stat().st_size
    pristine = _Pristine(head, size, None)
    verdicts: Counter[str] = Counter()
    failures: list[str] = []
    # One child per core, each with its own working copy: the cases are the same
    # (mutated in order from one seed), only answered side by side.
    workers: list[tuple[_Inspector, Path, int]] = []
    try:
        for w in range(max(1, min(2, os.cpu_count() or 1))):
            work = ctx.workdir / f"header-fuzz-{w}.gguf"
            with open(work, "wb") as f:
                f.write(head)
                f.truncate(size)  # a hole where the tensor data was: never read
            workers.append((_Inspector(), work, os.open(work, os.O_RDWR)))
        for inspector, work, _fd in workers:
            first = inspector.ask(work, 60.0)  # the child's start-up is not a case
            if first["verdict"] != "parsed":
                failures.append(f"the unmutated header was not accepted: {first}")
        done = 0
        while done < cases:
            batch: list[tuple[int, _Mutation, _Inspector, int, dict[str, str] | None]] = []
            for inspector, work, fd in workers[: cases - done]:
                m = mutate(rng, layout, head, size)
                m.apply(fd)
                batch.append((done + len(batch), m, inspector, fd, inspector.send(work)))
            deadline = time.monotonic() + HANG_S
            for i, m, inspector, fd, lost in batch:
                result = lost or inspector.receive(deadline)
                m.restore(fd, pristine)
                verdict = result["verdict"]
                verdicts[verdict] += 1
                if verdict not in ("refused", "parsed"):
                    failures.append(f"header case {i} ({m.kind}): {verdict}: {result['detail']}")
                if i % 1000 == 999:
                    ctx.log(f"[faults] gguf-fuzz: {i + 1:,} header cases, {dict(verdicts)}")
            done += len(batch)
    finally:
        for inspector, _work, fd in workers:
            os.close(fd)
            inspector.close()
    return verdicts, failures


# -- part B: the real engine ----------------------------------------------------------------


def _answers(client: object, prompt: str = "The capital of France is") -> str:
    """ "" when the loaded model generates a few tokens, else what went wrong."""
    from desktop_app.core.engine.protocol import DoneEvent, ErrorEvent, GenerateRequest
    from desktop_app.core.errors import GlassboxError
    from desktop_app.core.sampling import SamplingParams
    from desktop_app.workers.engine.client import EngineClient

    assert isinstance(client, EngineClient)
    request = GenerateRequest(
        params=SamplingParams(seed=0, max_tokens=4), prompt=prompt, candidates=0
    )
    try:
        for event in client.generate(request):
            if isinstance(event, DoneEvent):
                return ""
            if isinstance(event, ErrorEvent):
                return f"{event.kind}: {event.message}"
    except GlassboxError as exc:
        return f"{exc.kind}: {exc}"
    return "the reply ended without a DoneEvent"


@dataclass(slots=True)
class _EngineTally:
    refused: int = 0
    loaded: int = 0
    previous_ok: int = 0
    engine_died: int = 0
    old_model_lost: int = 0
    failed: int = 0
    failures: list[str] = field(default_factory=list)


def _part_b(
    ctx: FaultContext, rng: Random, model: Path, layout: _Layout, head: bytes, cases: int
) -> _EngineTally:
    from desktop_app.core.engine.protocol import REFUSED_BEFORE_LOAD, EngineConfig
    from desktop_app.core.errors import EngineCrashedError, GlassboxError
    from desktop_app.workers.engine.client import EngineClient

    tally = _EngineTally()
    if cases <= 0:
        return tally
    size = model.stat().st_size
    work = ctx.workdir / "engine-fuzz.gguf"
    shutil.copyfile(model, work)
    pristine = _Pristine(head, size, model)
    # One thread: on a busy machine llama.cpp's spinning threads cost seconds a reply.
    good = EngineConfig(str(model), n_ctx=512, n_threads=1, n_threads_batch=1)
    with EngineClient() as client:
        client.load(good)
        problem = _answers(client)
        if problem:
            tally.failures.append(f"the good model does not answer before any case: {problem}")
            return tally
        fd = os.open(work, os.O_RDWR)
        try:
            for i in range(cases):
                m = mutate(rng, layout, head, size)
                m.apply(fd)
                label = f"engine case {i} ({m.kind})"
                missed = self_harm = False
                kept = False  # refused before the good model was let go
                pid = client.pid
                watchdog = threading.Timer(LOAD_LIMIT_S, _kill, args=(pid,))
                watchdog.start()
                try:
                    client.load(replace(good, model_path=str(work)))
                except GlassboxError as exc:
                    message = str(exc).strip()
                    if not message:
                        missed = True
                        tally.failures.append(f"{label}: refused without a message")
                    if isinstance(exc, EngineCrashedError) or client.pid != pid:
                        tally.engine_died += 1
                        missed = self_harm = True
                        tally.failures.append(f"{label}: the engine process died: {message}")
                    elif exc.kind in REFUSED_BEFORE_LOAD:
                        tally.refused += 1
                        kept = True
                    else:
                        tally.old_model_lost += 1
                        missed = self_harm = True
                        tally.failures.append(
                            f"{label}: refused only after the old model was let go: {message}"
                        )
                else:
                    tally.loaded += 1
                    problem = _answers(client)
                    if problem:
                        missed = True
                        tally.failures.append(f"{label}: loaded but does not generate: {problem}")
                finally:
                    watchdog.cancel()
                    m.restore(fd, pristine)
                # The good model must answer: still loaded after a refusal; loaded
                # again after a mutated file replaced it on request or the engine died.
                loaded = client.loaded
                if not kept or loaded is None or loaded.model_path != good.model_path:
                    try:
                        client.load(good)
                    except GlassboxError as exc:
                        missed = True
                        tally.failures.append(f"{label}: the good model did not load again: {exc}")
                problem = "" if missed and client.loaded is None else _answers(client)
                if problem:
                    missed = True
                    tally.failures.append(f"{label}: the previous model does not answer: {problem}")
                elif not self_harm and client.loaded is not None:
                    tally.previous_ok += 1
                tally.failed += missed
                if i % 25 == 24:
                    ctx.log(
                        f"[faults] gguf-fuzz: {i + 1} engine cases, {tally.refused} refused, "
                        f"{tally.loaded} loaded, {tally.failed} failed"
                    )
        finally:
            os.close(fd)
    return tally


def _kill(pid: int | None) -> None:
    if pid is not None:
        with contextlib.suppress(OSError):  # it ended by itself
            os.kill(pid, signal.SIGKILL)


# -- the check ------------------------------------------------------------------------------


def run(ctx: FaultContext) -> FaultRow:
    """Part A: ``ctx.n(10000, 300)`` header cases; part B: a fiftieth of that, at least 5."""
    rng = ctx.rng()
    model = ctx.model()
    with open(model, "rb") as f:
        probe = f.read(16 << 20)
    layout = _walk(probe)
    head = probe[: layout.header_end + TAIL_BYTES]
    cases_a = ctx.n(10_000, 300)
    cases_b = ctx.n(200, 5) if ctx.runs is None else max(1, cases_a // 50)
    t0 = time.perf_counter()
    verdicts, failures = _part_a(ctx, rng, model, layout, head, cases_a)
    seconds_a = time.perf_counter() - t0
    t0 = time.perf_counter()
    tally = _part_b(ctx, rng, model, layout, head, cases_b)
    seconds_b = time.perf_counter() - t0
    failures += tally.failures
    bad_a = cases_a - verdicts["refused"] - verdicts["parsed"]
    crashes = verdicts["crash"]
    measured = (
        f"{cases_a:,} header cases: {verdicts['refused']:,} refused, "
        f"{verdicts['parsed']:,} harmless, {crashes} crashes, {verdicts['hang']} hangs, "
        f"{verdicts['error'] + verdicts['insane']} other errors ({seconds_a:.0f} s); "
        f"{cases_b} engine cases: {tally.refused} refused, {tally.loaded} loaded and "
        f"generated, {tally.old_model_lost} refused after unloading, {tally.engine_died} "
        f"engine deaths; previous model answered {tally.previous_ok}/{cases_b} "
        f"({seconds_b:.0f} s)"
    )
    return FaultRow(
        check=CHECK,
        runs=cases_a + cases_b,
        failed=bad_a + tally.failed,
        goal=GOAL,
        measured=measured,
        details=describe(failures),
    )
