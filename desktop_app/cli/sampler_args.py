"""Command-line flags for the newer sampler stages, shared by the commands that generate.

Names follow llama.cpp's where it has one; every flag defaults to the stage being off.
"""

from __future__ import annotations

import argparse
from typing import Any

from desktop_app.core.sampling import DEFAULT_DRY_BREAKERS, SamplingParams, parse_order


def add_sampler_arguments(p: argparse.ArgumentParser) -> None:
    """Add the flags of the newer stages and --sampler-order."""
    d = SamplingParams()
    g = p.add_argument_group("more samplers (all off by default; llama.cpp's definitions)")
    g.add_argument("--typical-p", type=float, default=d.typical_p, help="typical-p mass (1: off)")
    g.add_argument(
        "--top-n-sigma", type=float, default=d.top_n_sigma, help="top-nσ (0 or less: off)"
    )
    g.add_argument(
        "--xtc-probability", type=float, default=d.xtc_probability, help="XTC chance (0: off)"
    )
    g.add_argument("--xtc-threshold", type=float, default=d.xtc_threshold, help="XTC threshold")
    g.add_argument(
        "--dynatemp-range",
        type=float,
        default=d.dynatemp_range,
        help="dynamic temperature: ± this around --temperature (0: off)",
    )
    g.add_argument("--dynatemp-exponent", type=float, default=d.dynatemp_exponent)
    g.add_argument(
        "--dry-multiplier", type=float, default=d.dry_multiplier, help="DRY strength (0: off)"
    )
    g.add_argument("--dry-base", type=float, default=d.dry_base)
    g.add_argument("--dry-allowed-length", type=int, default=d.dry_allowed_length)
    g.add_argument(
        "--dry-penalty-last-n",
        type=int,
        default=d.dry_last_n,
        help="tokens DRY searches (-1: the whole context)",
    )
    g.add_argument(
        "--dry-sequence-breaker",
        action="append",
        default=None,
        metavar="TEXT",
        help="a DRY sequence breaker, \\n for a newline (repeatable; replaces the defaults"
        ' \\n : " *)',
    )
    g.add_argument(
        "--mirostat", type=int, default=d.mirostat, help="mirostat version, 1 or 2 (0: off)"
    )
    g.add_argument("--mirostat-tau", type=float, default=d.mirostat_tau, help="target surprise")
    g.add_argument("--mirostat-eta", type=float, default=d.mirostat_eta, help="learning rate")
    g.add_argument(
        "--sampler-order",
        default=None,
        metavar="ORDER",
        help="'glassbox' (the default), 'llama.cpp' (temperature last), or every stage once, "
        "comma-separated: penalty,dry,temperature,top-n-sigma,top-k,typical-p,top-p,min-p,xtc",
    )


def sampler_values(args: argparse.Namespace) -> dict[str, Any]:
    """The SamplingParams fields the flags of :func:`add_sampler_arguments` set."""
    values: dict[str, Any] = {
        "typical_p": args.typical_p,
        "top_n_sigma": max(0.0, args.top_n_sigma),
        "xtc_probability": args.xtc_probability,
        "xtc_threshold": args.xtc_threshold,
        "dynatemp_range": args.dynatemp_range,
        "dynatemp_exponent": args.dynatemp_exponent,
        "dry_multiplier": args.dry_multiplier,
        "dry_base": args.dry_base,
        "dry_allowed_length": args.dry_allowed_length,
        "dry_last_n": args.dry_penalty_last_n,
        "dry_breakers": tuple(
            _unescape(b) for b in args.dry_sequence_breaker or DEFAULT_DRY_BREAKERS
        ),
        "mirostat": args.mirostat,
        "mirostat_tau": args.mirostat_tau,
        "mirostat_eta": args.mirostat_eta,
    }
    if args.sampler_order is not None:
        values["order"] = parse_order(args.sampler_order)
    return values


def _unescape(text: str) -> str:
    r"""``\n`` and ``\t`` typed at a shell as the characters they name (``\\`` a backslash)."""
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text) and text[i + 1] in "nt\\":
            out.append({"n": "\n", "t": "\t", "\\": "\\"}[text[i + 1]])
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)
