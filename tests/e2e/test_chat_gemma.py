"""The chat window over the real engine process and Gemma 3 270M: tokens, branches, replay."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QTextCursor
from pytestqt.qtbot import QtBot

from desktop_app.app import build
from desktop_app.core.engine.protocol import TokenEvent
from desktop_app.core.sampling import SamplingParams
from desktop_app.core.settings import Settings
from desktop_app.ui.chat.view import visible_text
from desktop_app.ui.window.main_window import MainWindow, probability_colour
from desktop_app.workers.engine.client import EngineClient
from desktop_app.workers.engine.inference import InferenceController, resolve_with_defaults

pytestmark = pytest.mark.e2e

PROMPT = "The capital of France is"
#: Sampled, not greedy, so probabilities vary and alternatives survive the chain;
#: the fixed seed keeps every run the same.
PARAMS = SamplingParams(temperature=0.8, seed=1234, max_tokens=24)
LOAD_TIMEOUT_MS = 60_000
REPLY_TIMEOUT_MS = 60_000


@pytest.fixture
def window(qtbot: QtBot, gemma_path: Path) -> Iterator[MainWindow]:
    """The window with Gemma loaded in a real engine process."""
    settings = Settings(n_ctx=2048).with_sampling(PARAMS)
    controller = InferenceController(
        EngineClient, settings, resolver=resolve_with_defaults, remember_model=False
    )
    w = build(controller, model_spec=str(gemma_path)).window
    qtbot.addWidget(w)
    with qtbot.waitSignal(controller.sig_model_loaded, timeout=LOAD_TIMEOUT_MS):
        w.show()
    yield w
    w.close()
    assert controller.worker_thread is None or not controller.worker_thread.is_alive()


def send(qtbot: QtBot, window: MainWindow, text: str) -> None:
    """Type ``text`` and press Enter, then wait for the whole reply."""
    with qtbot.waitSignal(window.session.sig_reply_ended, timeout=REPLY_TIMEOUT_MS):
        qtbot.keyClicks(window._input, text)
        qtbot.keyClick(window._input, Qt.Key.Key_Return)
    # The reply's last commit runs in the background; these tests read the file.
    window.session.wait_saved()


def background_of(window: MainWindow, message_id: int, index: int) -> QColor:
    _start, end = window.view.token_span(message_id, index)
    cursor = QTextCursor(window.view.document())
    cursor.setPosition(end)  # the format of the character before the cursor
    return cursor.charFormat().background().color()


def test_reply_streams_tokens_with_their_candidates_tinted_by_probability(
    qtbot: QtBot, window: MainWindow
) -> None:
    session = window.session
    assert session.params == PARAMS
    streamed: list[TokenEvent] = []
    session.sig_reply_tokens.connect(streamed.extend)
    window._probs_check.setChecked(True)

    send(qtbot, window, PROMPT)

    reply = session.path[-1]
    assert reply.role == "assistant" and reply.status == "complete"
    assert reply.meta["seed"] == PARAMS.seed
    assert 0 < len(streamed) <= PARAMS.max_tokens
    assert [t.index for t in streamed] == list(range(len(streamed)))
    assert reply.content.strip()
    k = window._controller.settings.candidates
    assert k == 20
    for t in streamed:
        ids = [c.id for c in t.candidates]
        assert k <= len(ids) <= k + 1 and len(set(ids)) == len(ids)
        for c in t.candidates:
            assert 0.0 <= c.p_raw <= 1.0 and 0.0 <= c.p_final <= 1.0
            if c.removed_by is not None:
                assert c.p_final == 0.0
        assert sum(c.p_raw for c in t.candidates) <= 1 + 1e-5
        assert sum(c.p_final for c in t.candidates) <= 1 + 1e-6
        # The candidates are the top K by raw probability.
        top = [c.p_raw for c in t.candidates[:k]]
        assert top == sorted(top, reverse=True)
        drawn = next(c for c in t.candidates if c.id == t.id)
        assert drawn.text == t.text and drawn.removed_by is None
        assert drawn.p_final == pytest.approx(t.p) and 0 < t.p <= 1
    # Sampling at 0.8 leaves some doubt somewhere in the reply.
    assert any(t.p < 0.99 for t in streamed)

    # What streamed is what was saved and is what the transcript shows.
    records = session.store.read_tokens(reply.id).records
    assert [r.event for r in records] == streamed
    assert "".join(t.text for t in streamed) == reply.content
    assert window.view.token_count(reply.id) == len(streamed)
    assert reply.content.rstrip() in window.transcript_text()

    # Every token is tinted by its probability (quantised to 64 steps). A line
    # break ends a text block, whose format is not the token's, so those are skipped.
    inline = [i for i, t in enumerate(streamed) if t.text and "\n" not in t.text]
    assert len(inline) >= len(streamed) // 2
    for i in inline:
        expected = probability_colour(round(streamed[i].p * 64) / 64)
        assert background_of(window, reply.id, i) == expected, i
    assert len({background_of(window, reply.id, i).name() for i in inline}) > 1

    window._probs_check.setChecked(False)
    _start, end = window.view.token_span(reply.id, 0)
    cursor = QTextCursor(window.view.document())
    cursor.setPosition(end)
    assert cursor.charFormat().background().style() == Qt.BrushStyle.NoBrush


def test_branch_from_an_alternative_token_forces_it_and_generates_on(
    qtbot: QtBot, window: MainWindow
) -> None:
    session, store = window.session, window.session.store
    send(qtbot, window, PROMPT)
    original = session.path[-1]
    records = store.read_tokens(original.id).records
    assert len(records) >= 3

    def alternatives(i: int) -> list:  # type: ignore[type-arg]
        token = records[i].event
        return [c for c in token.candidates if c.id != token.id and c.text]

    # An alternative the sampler kept if there is one, else any recorded one.
    survivors = [(i, c) for i in (1, 2) for c in alternatives(i) if c.p_final > 0]
    index, alt = survivors[0] if survivors else (1, alternatives(1)[0])

    # The user opens the token's menu and picks the alternative.
    menu = window.view.alternatives_menu(original.id, index)
    label = f"Branch with ‘{visible_text(alt.text)}’"
    action = next(a for a in menu.actions() if a.text().startswith(label))
    with qtbot.waitSignal(session.sig_reply_ended, timeout=REPLY_TIMEOUT_MS):
        action.trigger()
    session.wait_saved()

    branch = session.path[-1]
    assert branch.id != original.id and branch.role == "assistant"
    assert branch.parent_id == original.parent_id
    assert branch.status == "complete"
    assert store.branch_position(branch.id) == (2, 2)
    assert store.branch_position(original.id) == (1, 2)
    assert " 2/2 " in window.transcript_text()
    assert window.view.message_ids()[-1] == branch.id

    new_records = store.read_tokens(branch.id).records
    assert [r.event for r in new_records[:index]] == [r.event for r in records[:index]]
    assert not any(r.forced for r in new_records[:index])
    forced = new_records[index]
    assert forced.forced and forced.event.id == alt.id and forced.event.text == alt.text
    assert forced.event.p == alt.p_final
    # The model went on after the forced token, and none of that is forced.
    assert len(new_records) > index + 1
    assert not any(r.forced for r in new_records[index + 1 :])
    prefix = "".join(r.event.text for r in records[:index]) + alt.text
    assert branch.content.startswith(prefix) and len(branch.content) > len(prefix)
    assert "".join(r.event.text for r in new_records) == branch.content
    assert window.view.token_count(branch.id) == len(new_records)
    assert branch.meta["request"]["assistant_prefix"] == prefix

    # The original is still there, one click back.
    session.switch_branch(branch.id, -1)
    assert session.path[-1].id == original.id


def test_replay_of_a_sampled_reply_gives_the_same_text(qtbot: QtBot, window: MainWindow) -> None:
    session = window.session
    session.set_params(SamplingParams(temperature=0.8, seed=4321, max_tokens=24))
    send(qtbot, window, "Write one sentence about the sea.")
    original = session.path[-1]
    assert original.meta["seed"] == 4321
    assert original.meta["sampling"]["temperature"] == 0.8
    assert original.content

    notices: list[tuple[str, bool]] = []
    session.sig_notice.connect(lambda text, error: notices.append((text, error)))
    with qtbot.waitSignal(session.sig_reply_ended, timeout=REPLY_TIMEOUT_MS):
        session.replay(original.id)
    session.wait_saved()

    replayed = session.path[-1]
    assert replayed.id != original.id and replayed.parent_id == original.parent_id
    assert replayed.meta["replay_of"] == original.id
    assert replayed.meta["seed"] == original.meta["seed"]
    assert replayed.content == original.content
    ids = [r.event.id for r in session.store.read_tokens(replayed.id).records]
    assert ids == [r.event.id for r in session.store.read_tokens(original.id).records]
    probs = [r.event.p for r in session.store.read_tokens(replayed.id).records]
    original_probs = [r.event.p for r in session.store.read_tokens(original.id).records]
    assert all(math.isclose(a, b, rel_tol=1e-4) for a, b in zip(probs, original_probs, strict=True))
    assert ("Replay matches the original exactly.", False) in notices
    # The verdict stays in the status bar, ahead of the reply's figures.
    status = window._status_label.text()
    assert status.startswith("Replay matches the original exactly. "), status
    assert "tokens/s" in status and window._status_label.styleSheet() == ""
