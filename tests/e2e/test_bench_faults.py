"""``glassbox bench faults``: the standing fault-and-attack suite, its quick run in make test."""

from __future__ import annotations

import json
import subprocess
import sys
import types

import pytest

from desktop_app.bench import faults
from desktop_app.bench.faults import FaultContext, FaultRow, run_faults

pytestmark = pytest.mark.e2e


@pytest.mark.timeout(900)
def test_the_quick_run_meets_every_goal() -> None:
    """Every check of the suite, a few cases each: the run `make test` keeps."""
    out = subprocess.run(
        [sys.executable, "-m", "desktop_app", "bench", "faults", "--quick", "--json"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    report = json.loads(out.stdout)
    rows = {r["check"]: r for r in report["rows"]}
    missed = {name: (r["measured"], r["details"]) for name, r in rows.items() if not r["ok"]}
    assert not missed, missed
    assert out.returncode == 0, out.stderr[-2000:]
    assert len(rows) == len(faults.CHECKS)
    assert all(r["runs"] > 0 for r in rows.values())


def test_an_unknown_check_is_named_with_the_known_ones() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "desktop_app", "bench", "faults", "--only", "nope"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 2
    assert "unknown check nope" in out.stderr and "templates" in out.stderr


def test_a_check_that_crashes_is_a_failed_row_and_the_others_still_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def crash(ctx: FaultContext) -> FaultRow:
        raise RuntimeError("the check itself broke")

    def fine(ctx: FaultContext) -> FaultRow:
        return FaultRow("fine", runs=ctx.n(10, 2), failed=0, goal="g", measured="m")

    monkeypatch.setitem(sys.modules, "fault_crash", types.SimpleNamespace(run=crash))
    monkeypatch.setitem(sys.modules, "fault_fine", types.SimpleNamespace(run=fine))
    monkeypatch.setattr(faults, "CHECKS", {"crash": "fault_crash", "fine": "fault_fine"})
    report = run_faults(quick=True, log=lambda line: None)
    crashed, ok = report.rows
    assert not crashed.ok and "RuntimeError: the check itself broke" in crashed.measured
    assert ok.ok and ok.runs == 2
    assert not report.ok
    assert "GOALS MISSED" in report.table()
