"""The sampling panel's words: percentages and 'How sampling works' on one token."""

from __future__ import annotations

from desktop_app.core.sampling import SamplingParams, pipeline
from desktop_app.ui.sampling.explanation import explain, percent, quoted

TEXTS = [" Paris", " London", " the", "\n"]
LOGITS = [4.0, 3.0, 1.0, 0.5]


def test_percent_is_readable_at_both_ends() -> None:
    assert [percent(p) for p in (0, 0.0004, 0.042, 0.0999, 0.71, 0.996, 0.99999, 1.0)] == [
        "0%",
        "<0.1%",
        "4.2%",
        "10%",
        "71%",
        "99.6%",
        ">99.9%",
        "100%",
    ]


def test_a_token_is_quoted_with_its_whitespace_drawn() -> None:
    assert quoted(" Paris") == "‘␣Paris’"
    assert quoted("\n") == "‘↵’"


def test_the_explanation_follows_the_chain_on_the_drawn_token() -> None:
    params = SamplingParams(temperature=0.5, top_k=2, top_p=1.0, min_p=0.0)
    stages = pipeline(LOGITS, params)
    text = explain(TEXTS, stages, 1, params)
    assert text.startswith("The model gave <b>‘␣London’</b>")
    assert "Its favourite was ‘␣Paris’" in text
    assert "Temperature 0.5 sharpens the distribution" in text
    assert "Top-k 2 keeps 2 of 4 candidates." in text
    assert "Top-p is off." in text and "Min-p is off." in text
    assert f"<b>‘␣London’</b> was drawn with {percent(stages[-1].probs[1])}." in text


def test_a_token_the_settings_remove_is_explained_with_the_stage_that_did() -> None:
    greedy = SamplingParams(temperature=0.0)
    stages = pipeline(LOGITS, greedy)
    text = explain(TEXTS, stages, 2, greedy, generated_p=0.1)
    assert "Temperature 0 is greedy: only the most likely token, ‘␣Paris’, can be drawn" in text
    assert "could not be drawn: greedy decoding removes it. It was drawn with 10%." in text
