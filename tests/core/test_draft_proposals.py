"""Prompt lookup's proposals and the draft length's choices (no model needed)."""

from __future__ import annotations

import pytest

from desktop_app.core.chat.codecs import decode_token, encode_token
from desktop_app.core.engine.protocol import DraftSettings, TokenEvent
from desktop_app.core.engine.speculative import DraftLength, PromptLookup
from desktop_app.core.sampling import Candidate


def test_lookup_proposes_what_followed_the_latest_match_of_the_longest_ngram() -> None:
    lookup = PromptLookup([1, 2, 3, 4, 5, 9, 2, 3, 7, 8])
    lookup.extend([2, 3])
    # "2 3" was followed by 4 5 … and later by 7 8: the latest occurrence wins.
    assert lookup.propose(3) == [7, 8, 2]
    lookup.extend([4])
    # "2 3 4" matches only the first occurrence: the longer match wins.
    assert lookup.propose(2) == [5, 9]


def test_lookup_never_proposes_the_tokens_it_is_matching_and_needs_two_tokens() -> None:
    lookup = PromptLookup([5, 6])
    assert lookup.propose(4) == []  # "5 6" occurs only at the end
    lookup.extend([7, 5])
    assert lookup.propose(4) == []  # a single token is no match
    lookup.extend([6])
    assert lookup.propose(4) == [7, 5, 6]
    assert lookup.propose(0) == []


def test_draft_length_drafts_more_as_more_is_accepted_and_stops_when_it_does_not_pay() -> None:
    length = DraftLength(limit=8)
    start = length.next()
    assert 1 <= start <= 8
    for _ in range(10):
        length.update(5, 5)
    assert length.next() > start
    for _ in range(30):
        length.update(3, 0)
    assert length.next() == 0
    for _ in range(200):
        length.probe()
    assert length.next() >= 1  # tried again after a dry spell


def test_with_free_batch_positions_every_acceptance_rate_drafts_to_the_limit() -> None:
    length = DraftLength(limit=6, cost=0.0, rate=0.3)
    assert length.next() == 6


@pytest.mark.parametrize("mark", ["", "accepted", "replaced"])
def test_a_token_record_keeps_its_draft_mark(mark: str) -> None:
    event = TokenEvent(3, 42, "hi", 0.5, (Candidate(42, "hi", 1.0, 0.5, 0.6, None),), mark)  # type: ignore[arg-type]
    text = encode_token(event)
    assert decode_token(text) == event
    assert text.count('"accepted"') + text.count('"replaced"') == (1 if mark else 0)


def test_a_record_with_an_unknown_draft_mark_is_damaged() -> None:
    with pytest.raises(ValueError, match="draft mark"):
        decode_token('[0,1,"a",0.5,[],"guessed"]')


def test_draft_settings_describe_themselves() -> None:
    assert DraftSettings().describe() == "off"
    assert not DraftSettings(prompt_lookup=True, max_draft=0).enabled
    both = DraftSettings(prompt_lookup=True, draft_model=True, max_draft=5)
    assert both.describe() == "draft model + prompt lookup, up to 5 tokens"
