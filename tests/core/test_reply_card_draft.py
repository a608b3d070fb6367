"""A reply's card records its drafting; the fake engine pretends to draft when asked."""

from __future__ import annotations

import json

from desktop_app.core.chat.cards import replay_request, reply_card
from desktop_app.core.engine.fake import FakeEngine
from desktop_app.core.engine.protocol import (
    DoneEvent,
    DraftSettings,
    EngineConfig,
    GenerateRequest,
    Message,
    TokenEvent,
)


def _request(draft: DraftSettings) -> GenerateRequest:
    return GenerateRequest(messages=(Message("user", "Hi"),), draft=draft)


def test_card_records_the_draft_setting_and_the_draft_model_file() -> None:
    draft = DraftSettings(prompt_lookup=True, draft_model=True, max_draft=6)
    done = DoneEvent("eos", 3, 10, 0.1, 50.0, seed=1, draft_proposed=8, draft_accepted=6)
    card = json.loads(
        json.dumps(
            reply_card(_request(draft), draft_model_path="/models/small-draft.gguf", done=done)
        )
    )
    assert card["draft"]["setting"] == draft.describe()
    assert card["draft"]["draft_model_file"] == "small-draft.gguf"
    assert (card["draft_proposed"], card["draft_accepted"]) == (8, 6)
    assert replay_request(card).draft == draft


def test_card_without_drafting_has_no_draft_entry() -> None:
    done = DoneEvent("eos", 3, 10, 0.1, 50.0, seed=1)
    card = reply_card(_request(DraftSettings()), draft_model_path="/m/d.gguf", done=done)
    assert "draft" not in card and "draft_proposed" not in card
    assert replay_request(card).draft == DraftSettings()
    # Prompt lookup alone names no draft model file, even when one is loaded.
    lookup = reply_card(_request(DraftSettings(prompt_lookup=True)), draft_model_path="/m/d.gguf")
    assert lookup["draft"]["draft_model_file"] == ""


def test_a_damaged_draft_record_replays_without_drafting() -> None:
    card = reply_card(_request(DraftSettings(prompt_lookup=True)))
    card["draft"]["max_draft"] = 99
    assert replay_request(card).draft == DraftSettings()


def test_fake_engine_marks_tokens_only_when_drafting_is_asked_for() -> None:
    engine = FakeEngine("abcdefgh")
    engine.load(EngineConfig(model_path="/m.gguf"))
    plain = list(engine.generate(_request(DraftSettings())))
    assert all(e.draft == "" for e in plain if isinstance(e, TokenEvent))
    assert isinstance(plain[-1], DoneEvent) and plain[-1].draft_proposed == 0
    events = list(engine.generate(_request(DraftSettings(prompt_lookup=True))))
    marks = [e.draft for e in events if isinstance(e, TokenEvent)]
    assert marks == ["accepted"] * 3 + ["replaced"] + ["accepted"] * 3 + ["replaced"]
    done = events[-1]
    assert isinstance(done, DoneEvent)
    assert (done.draft_proposed, done.draft_accepted) == (8, 6)


def test_fake_engine_refuses_a_draft_model_when_told_to() -> None:
    engine = FakeEngine(draft_error="The draft model's vocabulary differs.")
    loaded = engine.load(EngineConfig(model_path="/m.gguf", draft_model_path="/d.gguf"))
    assert loaded.draft_model_path is None
    assert loaded.draft_error == "The draft model's vocabulary differs."
    ok = FakeEngine().load(EngineConfig(model_path="/m.gguf", draft_model_path="/d.gguf"))
    assert (ok.draft_model_path, ok.draft_error) == ("/d.gguf", "")
