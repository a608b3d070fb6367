"""Context-aware decoding's arithmetic against a numpy reference, and its request checks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from desktop_app.core.engine.contrast import (
    check_contrast,
    combine,
    from_documents,
    token_probability,
)
from desktop_app.core.engine.protocol import (
    ContrastSettings,
    DoneEvent,
    GenerateRequest,
    Message,
    TokenEvent,
)
from desktop_app.core.errors import InvalidRequestError


def _rows(seed: int, n: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return (
        rng.normal(0, 4, n).astype(np.float32),
        rng.normal(0, 4, n).astype(np.float32),
    )


@pytest.mark.parametrize("alpha", [0.25, 0.5, 1.0, 2.5])
def test_the_combination_is_shi_et_al_formula(alpha: float) -> None:
    with_docs, without = _rows(int(alpha * 100))
    expected = (1 + alpha) * with_docs.astype(np.float64) - alpha * without.astype(np.float64)
    got = combine(with_docs, without, alpha)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-4)
    # The inputs are the engine's rows: they are never changed in place.
    np.testing.assert_array_equal(with_docs, _rows(int(alpha * 100))[0])


def test_alpha_zero_leaves_the_logits_as_they_are() -> None:
    with_docs, without = _rows(7)
    without[3] = np.inf  # whatever the other row holds
    assert combine(with_docs, without, 0.0) is with_docs


def test_the_combined_distribution_favours_what_the_documents_raised() -> None:
    # Token 0: likely anyway; token 1: likely only with the documents.
    with_docs = np.array([2.0, 1.9, -1.0], dtype=np.float32)
    without = np.array([2.0, -3.0, -1.0], dtype=np.float32)
    assert int(np.argmax(with_docs)) == 0
    assert int(np.argmax(combine(with_docs, without, 0.5))) == 1


def test_token_probability_is_the_softmax() -> None:
    logits, _ = _rows(3)
    ref = np.exp(logits.astype(np.float64) - logits.max())
    ref /= ref.sum()
    for t in (0, 17, int(np.argmax(logits))):
        assert math.isclose(token_probability(logits, t), ref[t], rel_tol=1e-9)


def test_a_token_is_credited_to_the_documents_when_they_raised_it() -> None:
    assert from_documents(0.9, 0.01)
    assert not from_documents(0.9, 0.8)  # the model would have written it anyway
    assert not from_documents(0.05, 0.001)  # unlikely either way
    assert not from_documents(None, 0.1)


def _request(**contrast: object) -> GenerateRequest:
    return GenerateRequest(
        messages=(Message("user", "Sources: … Question: why?"),),
        contrast=ContrastSettings(**contrast),  # type: ignore[arg-type]
    )


def test_bad_contrast_settings_are_refused_with_what_to_change() -> None:
    without = (Message("user", "Question: why?"),)
    check_contrast(_request(alpha=0.5, messages=without))
    with pytest.raises(InvalidRequestError, match="between 0 and 4"):
        check_contrast(_request(alpha=-1.0, messages=without))
    with pytest.raises(InvalidRequestError, match="between 0 and 4"):
        check_contrast(_request(alpha=math.nan, messages=without))
    with pytest.raises(InvalidRequestError, match="without the documents"):
        check_contrast(_request(alpha=0.5))
    with pytest.raises(InvalidRequestError, match="request's form"):
        check_contrast(_request(alpha=0.5, prompt="Question: why?"))


def test_the_json_forms_keep_their_old_shape_without_contrast() -> None:
    token = TokenEvent(0, 5, "a", 0.5, ())
    assert "p_without" not in token.to_json()
    measured = TokenEvent(0, 5, "a", 0.5, (), p_with=0.5, p_without=0.125)
    assert measured.to_json()["p_without"] == 0.125
    done = DoneEvent("eos", 3, 1, 0.1, 1.0, 0)
    assert "contrast_alpha" not in done.to_json()
    assert "draft_skipped" not in done.to_json()
    assert (
        DoneEvent("eos", 3, 1, 0.1, 1.0, 0, contrast_alpha=0.5).to_json()["contrast_alpha"] == 0.5
    )


def test_a_reply_card_keeps_cad_so_a_replay_draws_the_same_way() -> None:
    from desktop_app.core.chat.cards import replay_request, reply_card

    without = (Message("user", "Question: why?"),)
    request = _request(alpha=0.5, messages=without)
    card = reply_card(request)
    assert card["cad"]["setting"] == "α = 0.5"
    assert replay_request(card).contrast == request.contrast
    plain = GenerateRequest(messages=without)
    assert "cad" not in reply_card(plain)
    assert replay_request(reply_card(plain)).contrast is None
