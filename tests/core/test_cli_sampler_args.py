"""The command line's flags for the newer samplers become the same SamplingParams."""

from __future__ import annotations

import argparse

import pytest

from desktop_app.cli.sampler_args import add_sampler_arguments, sampler_values
from desktop_app.core.errors import InvalidRequestError
from desktop_app.core.sampling import LLAMA_CPP_ORDER, SamplingParams


def parse(*argv: str) -> SamplingParams:
    parser = argparse.ArgumentParser()
    add_sampler_arguments(parser)
    return SamplingParams(**sampler_values(parser.parse_args(list(argv))))


def test_no_flags_leave_the_classic_chain() -> None:
    assert parse() == SamplingParams()


def test_every_flag_sets_its_field() -> None:
    p = parse(
        "--typical-p", "0.9", "--top-n-sigma", "-1", "--xtc-probability", "0.5",
        "--xtc-threshold", "0.2", "--dynatemp-range", "0.3", "--dynatemp-exponent", "2",
        "--dry-multiplier", "0.8", "--dry-base", "2", "--dry-allowed-length", "3",
        "--dry-penalty-last-n", "64", "--dry-sequence-breaker", "\\n",
        "--dry-sequence-breaker", "。", "--mirostat", "2", "--mirostat-tau", "4",
        "--mirostat-eta", "0.2", "--sampler-order", "llama.cpp",
    )  # fmt: skip
    assert (p.typical_p, p.top_n_sigma, p.xtc_probability, p.xtc_threshold) == (0.9, 0, 0.5, 0.2)
    assert (p.dynatemp_range, p.dynatemp_exponent) == (0.3, 2.0)
    assert (p.dry_multiplier, p.dry_base, p.dry_allowed_length, p.dry_last_n) == (0.8, 2, 3, 64)
    assert p.dry_breakers == ("\n", "。")
    assert (p.mirostat, p.mirostat_tau, p.mirostat_eta) == (2, 4.0, 0.2)
    assert p.order == LLAMA_CPP_ORDER


def test_a_bad_order_is_refused_with_what_is_missing() -> None:
    with pytest.raises(InvalidRequestError, match="leaves out penalty"):
        parse("--sampler-order", "temperature,top-k")
