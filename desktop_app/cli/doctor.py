"""``glassbox doctor``: check this computer for what Glassbox needs, and say what to do.

Exits with status 1 when a finding blocks use ("fail"), 0 otherwise (warnings
included). The checks are in ``desktop_app/core/doctor.py``; the Qt ones run in a
child process (``--qt-probe``, hidden) because Qt aborts a process whose platform
plugin cannot load.
"""

from __future__ import annotations

import argparse
import json
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from desktop_app.core.doctor import Finding

_WIDTH = 100
_INDENT = " " * 6


def register(subparsers: Any) -> None:
    """Add ``doctor`` to the top-level subparsers."""
    parser = subparsers.add_parser(
        "doctor",
        help="check this computer: CPU kernels, GPU, Qt, data folder, default model",
        description="Check the processor and the kernels llama.cpp chose, llama.cpp's build, "
        "the GPU, Qt's platform plugin and Chinese fonts, the data folder and its disk, and "
        "the default model; each finding says what to do. Exits with status 1 when "
        "something blocks use.",
    )
    parser.add_argument(
        "--json", action="store_true", help="machine-readable output: one JSON object on stdout"
    )
    parser.add_argument(
        "--model",
        type=Path,
        default=None,
        metavar="GGUF",
        help="also load this model here and generate a few tokens",
    )
    # The Qt checks, run by the doctor in a child process of their own.
    parser.add_argument("--qt-probe", action="store_true", help=argparse.SUPPRESS)
    parser.set_defaults(func=cmd_doctor)


def report(findings: Sequence[Finding]) -> dict[str, Any]:
    """The ``--json`` object."""
    from desktop_app import __version__
    from desktop_app.core.doctor import exit_code

    counts = {s: sum(f.status == s for f in findings) for s in ("ok", "warn", "fail")}
    return {
        "type": "doctor",
        "version": __version__,
        "exit_code": exit_code(findings),
        "summary": counts,
        "findings": [f.to_dict() for f in findings],
    }


def _wrap(text: str) -> str:
    return textwrap.fill(
        text,
        _WIDTH,
        initial_indent=_INDENT,
        subsequent_indent=_INDENT,
        break_long_words=False,
        break_on_hyphens=False,
    )


def format_report(findings: Sequence[Finding]) -> str:
    """The readable report: each check, what was found and what to do, then a summary."""
    from desktop_app import __version__

    lines = [f"Glassbox {__version__}: system check", ""]
    for f in findings:
        lines.append(f"{f.status.upper():<6}{f.title}")
        lines.append(_wrap(f.detail))
        if f.action:
            lines.append(_wrap(f"To do: {f.action}"))
    counts = report(findings)["summary"]
    verdict = "something blocks use (FAIL above)." if counts["fail"] else "nothing blocks use."
    lines += [
        "",
        f"{counts['ok']} ok, {counts['warn']} to look at, {counts['fail']} failing: {verdict}",
    ]
    return "\n".join(lines)


def cmd_doctor(args: argparse.Namespace) -> int:
    """``glassbox doctor``."""
    if args.qt_probe:
        from desktop_app.ui.window.qt_probe import main

        return main()
    from desktop_app.core.doctor import exit_code, run_checks
    from desktop_app.workers.doctor.probe import run_qt_probe

    findings = run_checks(run_qt_probe(), model=args.model)
    if args.json:
        print(json.dumps(report(findings)), flush=True)
    else:
        print(format_report(findings), flush=True)
    return exit_code(findings)
