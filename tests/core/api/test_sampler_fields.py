"""The API takes the newer samplers under the names llama.cpp's server uses."""

from __future__ import annotations

import pytest

from desktop_app.core.api.openai import chat_request
from desktop_app.core.errors import InvalidRequestError
from desktop_app.core.sampling import DEFAULT_ORDER, LLAMA_CPP_ORDER, SamplingParams

MESSAGES = [{"role": "user", "content": "hi"}]


def test_llama_cpp_names_reach_the_sampler() -> None:
    request, _ = chat_request(
        {
            "messages": MESSAGES,
            "typical_p": 0.9,
            "top_n_sigma": 1.5,
            "xtc_probability": 0.5,
            "xtc_threshold": 0.2,
            "dynatemp_range": 0.3,
            "dynatemp_exponent": 2.0,
            "dry_multiplier": 0.8,
            "dry_base": 1.5,
            "dry_allowed_length": 3,
            "dry_penalty_last_n": 128,
            "dry_sequence_breakers": ["\n", "。"],
            "mirostat": 2,
            "mirostat_tau": 4.0,
            "mirostat_eta": 0.2,
            "samplers": [
                "penalties",
                "dry",
                "top_n_sigma",
                "top_k",
                "typ_p",
                "top_p",
                "min_p",
                "xtc",
                "temperature",
            ],
        }
    )
    p = request.params
    assert (p.typical_p, p.top_n_sigma, p.xtc_probability, p.xtc_threshold) == (0.9, 1.5, 0.5, 0.2)
    assert (p.dynatemp_range, p.dynatemp_exponent) == (0.3, 2.0)
    assert (p.dry_multiplier, p.dry_base, p.dry_allowed_length, p.dry_last_n) == (0.8, 1.5, 3, 128)
    assert p.dry_breakers == ("\n", "。")
    assert (p.mirostat, p.mirostat_tau, p.mirostat_eta) == (2, 4.0, 0.2)
    assert p.order == LLAMA_CPP_ORDER


def test_without_them_the_request_is_the_classic_chain() -> None:
    request, _ = chat_request({"messages": MESSAGES, "top_n_sigma": -1})
    assert request.params.classic()
    assert request.params.order == DEFAULT_ORDER


def test_a_partial_samplers_list_puts_the_named_stages_first() -> None:
    request, _ = chat_request({"messages": MESSAGES, "samplers": ["top_k", "temperature"]})
    order = request.params.order
    assert order[:2] == ("top_k", "temperature")
    assert sorted(order) == sorted(DEFAULT_ORDER)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"samplers": ["top_k", "beam"]}, "unknown stage(s) 'beam'"),
        ({"samplers": "top_k"}, "must be a list of stage names"),
        ({"mirostat": 5}, "Mirostat must be between 0 and 2"),
        ({"dry_sequence_breakers": "\n"}, "DRY sequence breakers must be a list"),
    ],
)
def test_bad_values_are_refused_with_a_sentence(extra: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidRequestError) as err:
        chat_request({"messages": MESSAGES, **extra})
    assert message in str(err.value)


def test_the_record_of_a_reply_keeps_the_new_settings() -> None:
    request, _ = chat_request({"messages": MESSAGES, "mirostat": 1, "dry_multiplier": 0.5})
    again = SamplingParams.from_record(request.params.to_record())
    assert again == request.params
