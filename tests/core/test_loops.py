"""Replies caught in a loop are stopped (``core/engine/loops.py``), in every engine."""

from __future__ import annotations

import pytest
from remote_server import running_server

from desktop_app.core.engine.fake import FakeEngine
from desktop_app.core.engine.loops import MIN_SPAN, LoopWatch, loop_period
from desktop_app.core.engine.openai_remote import OpenAIEngine
from desktop_app.core.engine.protocol import (
    DoneEvent,
    EngineConfig,
    GenerateRequest,
    Message,
    TokenEvent,
)
from desktop_app.core.errors import InvalidRequestError
from desktop_app.core.sampling import SamplingParams

#: A sentence the default model wrote over and over in a grounded answer.
SENTENCE = "The smartd daemon monitors the disks and mails root when one of them fails. "


def feed_in_pieces(watch: LoopWatch, text: str, size: int = 3) -> int | None:
    """Where (characters fed) the watch first says loop, or None."""
    for start in range(0, len(text), size):
        if watch.feed(text[start : start + size]):
            return start + len(text[start : start + size])
    return None


def test_a_sentence_written_three_times_stops_at_the_end_of_the_third_copy():
    stopped = feed_in_pieces(LoopWatch(2), SENTENCE * 10, size=1)
    assert stopped == 3 * len(SENTENCE)


def test_a_short_stretch_runs_until_its_copies_span_two_hundred_characters():
    word = "filesystems-"
    assert loop_period(word * 17, 3) == len(word)  # 204 characters
    assert loop_period(word * 16, 3) == 0  # 192
    stopped = feed_in_pieces(LoopWatch(2), word * 40, size=1)
    assert stopped == 17 * len(word)


@pytest.mark.parametrize(
    "text",
    [
        "| Option | Meaning |\n|---|---|\n" + "| `-v` | verbose |\n" * 3,  # a short table
        "[0, 0, 0, 0],\n" * 8 + "]",  # a few identical rows of code
        "-" * 80 + "\nSection\n" + "-" * 80,  # separator lines
        SENTENCE * 2,  # said twice is not a loop yet
        "".join(f"Step {i}: run the command and check its output.\n" for i in range(12)),
    ],
)
def test_ordinary_repeats_are_not_a_loop(text):
    assert feed_in_pieces(LoopWatch(2), text, size=1) is None


def test_more_repeats_let_a_loop_run_longer_and_zero_never_stops():
    assert feed_in_pieces(LoopWatch(4), SENTENCE * 10, size=1) == 5 * len(SENTENCE)
    assert feed_in_pieces(LoopWatch(0), SENTENCE * 10) is None
    assert loop_period(SENTENCE * 10, 1) == 0  # one copy would be any text


def test_a_long_reply_keeps_only_the_tail_it_needs():
    watch = LoopWatch(2)
    text = "".join(f"Line {i} says something new about item {i}.\n" for i in range(3000))
    assert feed_in_pieces(watch, text, size=7) is None
    assert len(watch._tail) <= max(MIN_SPAN, 3 * 400) + 1


def test_the_setting_is_a_whole_number_between_0_and_20():
    assert SamplingParams().loop_stop == 2
    with pytest.raises(InvalidRequestError, match="Loop stop must be between 0 and 20"):
        SamplingParams(loop_stop=21)
    with pytest.raises(InvalidRequestError, match="Loop stop must be a whole number"):
        SamplingParams(loop_stop=2.5)  # type: ignore[arg-type]
    assert SamplingParams.from_record({"loop_stop": 0}).loop_stop == 0


def _fake(script: str) -> FakeEngine:
    engine = FakeEngine(script)
    engine.load(EngineConfig(model_path="fake.gguf"))
    return engine


def test_the_fake_engine_stops_a_looping_script_and_says_loop():
    events = list(_fake(SENTENCE * 10).generate(GenerateRequest(params=SamplingParams.greedy())))
    done = events[-1]
    assert isinstance(done, DoneEvent) and done.finish_reason == "loop"
    assert done.text == SENTENCE * 3
    assert "".join(e.text for e in events if isinstance(e, TokenEvent)) == SENTENCE * 3


def test_off_or_a_benchmark_that_ignores_the_end_runs_to_the_limit():
    limit = len(SENTENCE) * 5
    for request in (
        GenerateRequest(params=SamplingParams.greedy(max_tokens=limit, loop_stop=0)),
        GenerateRequest(params=SamplingParams.greedy(max_tokens=limit), ignore_eos=True),
    ):
        done = list(_fake(SENTENCE * 10).generate(request))[-1]
        assert isinstance(done, DoneEvent)
        assert done.finish_reason == "length" and done.completion_tokens == limit


def test_a_remote_reply_that_loops_is_cut_off_and_says_loop():
    with running_server() as server:
        server.reply = ["The tower ", "is green. "] * 60
        engine = OpenAIEngine(server.url)
        engine.load(EngineConfig(model_path="default"))
        request = GenerateRequest(
            params=SamplingParams.greedy(max_tokens=500), messages=(Message("user", "Hi"),)
        )
        events = list(engine.generate(request))
    done = events[-1]
    assert isinstance(done, DoneEvent), events[-1]
    assert done.finish_reason == "loop"
    # 20 characters a copy: stopped once 10 copies span 200 characters.
    assert done.text == "The tower is green. " * 10
    assert done.completion_tokens == 20
