"""Grounded replies in the window: unsupported sentences underlined with a plain-text
tooltip, the mode that answered, whole-document mode, and the same answer as
``glassbox ask`` and the API for the same question (fake engine, real store)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QTextCharFormat, QTextCursor
from pytestqt.qtbot import QtBot

from desktop_app.core.chat import prompting
from desktop_app.core.chat.store import ChatStore
from desktop_app.core.engine.fake import FakeEngine
from desktop_app.core.engine.protocol import EngineConfig, Message, TokenEvent
from desktop_app.core.kb.answer import NOT_FOUND, answer
from desktop_app.core.kb.check import check_sentences
from desktop_app.core.kb.db import StoredChunk
from desktop_app.core.kb.grounding import GroundingOptions
from desktop_app.core.kb.retrieve import Hit
from desktop_app.core.kb.whole import Fit
from desktop_app.core.sampling import SamplingParams
from desktop_app.core.settings import Settings
from desktop_app.ui.chat.session import ChatSession
from desktop_app.ui.chat.view import ChatView, MessageView, sentence_marks, sentence_note
from desktop_app.workers.api.server import _Job
from desktop_app.workers.api.window import WindowApi
from desktop_app.workers.engine.inference import InferenceController
from desktop_app.workers.engine.task_runner import TaskProgress
from desktop_app.workers.jobs import JobHandle

SCRIPT = "[1] Paris is the capital of France. Rome has <b>seven</b> hills."
PASSAGE = "Paris is the capital of France."
QUESTION = "What is the capital of France?"
TIMEOUT_MS = 5000
TEMPLATE = "{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}"


def passage(n: int, text: str) -> Hit:
    chunk = StoredChunk(f"c{n}", n, f"/docs/note{n}.md", "md", 0, text, None, None, 0, len(text))
    return Hit(n, chunk, 0.5, 1.0, 0.03, n, n)


class Knowledge(QObject):
    """Passages and whole documents, answered asynchronously like the real controller."""

    def __init__(self, hits: list[Hit], fits: bool = True) -> None:
        super().__init__()
        self.hits = hits
        self.fits = fits
        self.whole_asked: list[tuple[int, int]] = []

    def find_passages(
        self,
        question: str,
        options: GroundingOptions,
        alternatives: Sequence[str] = (),
        *,
        terms: str = "",
        on_done: Callable[[list[Hit]], None],
        on_failed: Callable[[str, str], None],
    ) -> JobHandle:
        QTimer.singleShot(0, lambda: on_done(self.hits[: options.pool]))
        return JobHandle(1, lambda _h: None)

    def whole_documents(
        self,
        question: str,
        options: GroundingOptions,
        n_ctx: int,
        answer_tokens: int,
        *,
        on_done: Callable[[tuple[list[Hit], Fit]], None],
        on_failed: Callable[[str, str], None],
    ) -> JobHandle:
        self.whole_asked.append((n_ctx, answer_tokens))
        tokens = 900 if self.fits else 90_000
        fit = Fit(self.fits, len(self.hits), tokens, 3000, n_ctx, answer_tokens)
        QTimer.singleShot(0, lambda: on_done((self.hits, fit)))
        return JobHandle(2, lambda _h: None)


@pytest.fixture
def engine() -> FakeEngine:
    return FakeEngine(script=SCRIPT)


@pytest.fixture
def session(qtbot: QtBot, tmp_path: Path, engine: FakeEngine) -> Iterator[ChatSession]:
    # A model with a chat template, as the default models have: ask and the API then
    # send chat messages, as the window does.
    settings = Settings(chat_template_override=TEMPLATE).with_sampling(SamplingParams.greedy())
    controller = InferenceController(
        lambda: engine,
        settings,
        settings_path=tmp_path / "settings.json",
        resolver=lambda spec, progress: Path(spec),
        remember_model=False,
    )
    store = ChatStore(tmp_path / "chats.sqlite3")
    s = ChatSession(store, controller)
    s.set_params(SamplingParams.greedy())
    with qtbot.waitSignal(controller.sig_model_loaded, timeout=TIMEOUT_MS):
        controller.load_model(str(tmp_path / "model.gguf"))
    yield s
    s.close()
    controller.shutdown()
    store.close()


def ask_in_window(qtbot: QtBot, session: ChatSession, hits: list[Hit]) -> MessageView:
    session.set_knowledge(Knowledge(hits))
    session.options.collections = ["notes"]
    with qtbot.waitSignal(session.sig_reply_ended, timeout=TIMEOUT_MS) as ended:
        session.send(QUESTION)
    session.wait_saved()
    view = ended.args[0]
    assert isinstance(view, MessageView)
    return view


def test_an_unsupported_sentence_is_underlined_with_a_plain_text_tooltip(qtbot: QtBot) -> None:
    text = SCRIPT
    tokens = tuple(
        TokenEvent(i, i, w, 0.3 + i / 40, ()) for i, w in enumerate(re.split(r"(?<= )", text))
    )
    checks = check_sentences(text, [PASSAGE], tokens)
    marks = sentence_marks(checks, text, text)
    assert len(marks) == 1 and text[marks[0].start : marks[0].end].startswith("Rome")
    view = ChatView()
    qtbot.addWidget(view)
    view.show_messages([MessageView(1, "assistant", text, tokens=tokens, marks=marks)])
    body = view.document().findBlockByNumber(1).position()
    cursor = QTextCursor(view.document())
    cursor.setPosition(body + marks[0].start + 2)
    assert cursor.charFormat().underlineStyle() == QTextCharFormat.UnderlineStyle.WaveUnderline
    cursor.setPosition(body + 3)
    assert cursor.charFormat().underlineStyle() != QTextCharFormat.UnderlineStyle.WaveUnderline
    note = sentence_note(checks[1])
    assert "cited passage [1]" in note and "Key tokens" in note and "‘Rome’" in note
    # The model's text in the note stays text: escaped in the tooltip, never markup.
    assert "<b>" in note
    tip = view.tooltip_at(body + marks[0].start + 2)
    assert "&lt;b&gt;" in tip and "<b>seven</b>" not in tip
    assert view.mark_at(body + 3) is None and view.tooltip_at(body + 3)  # a token's tooltip only
    # Turning the probability tints on restyles the tokens and keeps the marks.
    view.set_show_probabilities(True)
    cursor.setPosition(body + marks[0].start + 2)
    assert cursor.charFormat().underlineStyle() == QTextCharFormat.UnderlineStyle.WaveUnderline


def test_a_grounded_reply_is_checked_marked_and_says_which_mode_answered(
    qtbot: QtBot, session: ChatSession
) -> None:
    view = ask_in_window(qtbot, session, [passage(1, PASSAGE), passage(2, "Berlin.")])
    reply = session.path[-1]
    assert [s["supported"] for s in reply.meta["sentences"]] == [True, False]
    assert reply.meta["grounding_mode"] == "passages"
    assert len(view.marks) == 1 and "Rome" in SCRIPT[view.marks[0].start : view.marks[0].end]
    assert "answered from 2 passage(s)" in view.detail
    # Reopened from the store, the reply shows the same marks.
    session.open_chat(session.chat_id or 0)
    with qtbot.waitSignal(session.sig_show, timeout=TIMEOUT_MS) as shown:
        session.open_chat(session.chat_id or 0)
    reopened = shown.args[0][-1]
    assert reopened.marks == view.marks


def test_whole_document_mode_gives_the_documents_or_says_they_do_not_fit(
    qtbot: QtBot, session: ChatSession, engine: FakeEngine
) -> None:
    knowledge = Knowledge([passage(1, PASSAGE * 40)])
    session.set_knowledge(knowledge)
    session.options.collections = ["notes"]
    session.options.whole_documents = True
    with qtbot.waitSignal(session.sig_reply_ended, timeout=TIMEOUT_MS) as ended:
        session.send(QUESTION)
    session.wait_saved()
    assert knowledge.whole_asked and knowledge.whole_asked[0][1] > 0
    messages = engine.requests[-1].messages or ()
    assert "the whole document" in messages[-1].content
    assert session.path[-1].meta["grounding_mode"] == "whole_documents"
    assert "answered from the whole documents (1)" in ended.args[0].detail
    # Too large: said, and nothing is sent.
    knowledge.fits = False
    sent = len(engine.requests)
    notices: list[tuple[str, bool]] = []
    session.sig_notice.connect(lambda text, error: notices.append((text, error)))
    session.send("And Spain?")
    qtbot.waitUntil(lambda: any(error for _, error in notices), timeout=TIMEOUT_MS)
    assert not session.busy
    (said,) = [text for text, error in notices if error]
    assert "90,000 tokens" in said and "Use whole documents" in said
    assert len(engine.requests) == sent


def _same(messages: Sequence[Message]) -> list[tuple[str, str]]:
    """Messages with the per-request delimiter made alike."""
    return [(m.role, re.sub(r"SRC-[0-9A-F]{4}", "SOURCE-X", m.content)) for m in messages]


def test_the_window_ask_and_the_api_give_the_same_answer(
    qtbot: QtBot, session: ChatSession, engine: FakeEngine
) -> None:
    hits = [passage(1, PASSAGE), passage(2, "Berlin is in Germany.")]
    ask_in_window(qtbot, session, hits)
    window_reply = session.path[-1]
    window_messages = engine.requests[-1].messages or ()
    # glassbox ask: core.kb.answer.answer on the hits its search found.
    ask_engine = FakeEngine(SCRIPT)
    ask_engine.load(EngineConfig(model_path="fake"))
    asked = answer(ask_engine, QUESTION, hits)
    # /v1/knowledge/answer from the window: the same function on the window's engine thread.
    api_engine = FakeEngine(SCRIPT)
    api_engine.load(EngineConfig(model_path="fake"))
    job = _Job("answer", (QUESTION, "notes", 2, False))
    WindowApi(session._controller)._answer_fn(job, hits)(
        api_engine, TaskProgress(lambda: False, lambda u: None)
    )
    api = job.out.get_nowait().value
    assert _same(window_messages) == _same(ask_engine.requests[-1].messages or ())
    assert _same(window_messages) == _same(api_engine.requests[-1].messages or ())
    assert window_reply.content == asked.text == api["answer"]
    window_sentences = [
        {k: v for k, v in s.items() if k != "key_tokens"} for s in window_reply.meta["sentences"]
    ]
    asked_sentences = [
        {k: v for k, v in s.as_dict().items() if k != "key_tokens"} for s in asked.sentences
    ]
    assert (
        window_sentences
        == asked_sentences
        == [{k: v for k, v in s.items() if k != "key_tokens"} for s in api["sentences"]]
    )


class ChineseKnowledge(Knowledge):
    """A mostly Chinese collection that records what each search was given."""

    def __init__(self, hits: list[Hit]) -> None:
        super().__init__(hits)
        self.alternatives: list[list[str]] = []

    def collection_languages(self, name: str) -> dict[str, int]:
        return {"zh": 90, "en": 10}

    def find_passages(self, question: str, options: GroundingOptions, alternatives=(), **kw):  # type: ignore[no-untyped-def, override]
        self.alternatives.append(list(alternatives))
        return super().find_passages(question, options, alternatives, **kw)


def test_the_windows_api_searches_a_question_in_the_documents_language_too(
    qtbot: QtBot, session: ChatSession, engine: FakeEngine
) -> None:
    """/v1/knowledge/answer from the window grounds as ask and glassbox serve do: an
    English question on Chinese documents is also searched as the model writes it."""
    knowledge = ChineseKnowledge([passage(1, "巴黎是法国（France）的首都。")])
    api = WindowApi(session._controller, knowledge)
    job = _Job("answer", (QUESTION, "notes", 2, False))
    api._on_http_job(job)
    qtbot.waitUntil(lambda: not job.out.empty(), timeout=TIMEOUT_MS)
    result = job.out.get_nowait()
    assert result.value["answer"]  # the fake model answered from the passage
    translated, answered = engine.requests[-2], engine.requests[-1]
    asked = (translated.messages or ())[-1].content
    assert "Simplified Chinese" in asked and QUESTION in asked
    # The fake model's "translation" (its script, cut at the translation's token bound).
    (phrasings,) = knowledge.alternatives
    assert len(phrasings) == 1 and SCRIPT.startswith(phrasings[0]) and len(phrasings[0]) > 20
    assert "巴黎是法国（France）的首都。" in (answered.messages or ())[-1].content
    # A question in the documents' language is searched as asked, with no model step.
    before = len(engine.requests)
    job = _Job("answer", ("法国的首都是哪里？", "notes", 2, False))
    api._on_http_job(job)
    qtbot.waitUntil(lambda: not job.out.empty(), timeout=TIMEOUT_MS)
    assert knowledge.alternatives[-1] == [] and len(engine.requests) == before + 1


def test_a_question_naming_what_no_passage_mentions_gets_the_same_refusal_everywhere(
    qtbot: QtBot, session: ChatSession, engine: FakeEngine
) -> None:
    # The prompt's grammar allows only the refusal; the fake engine plays it as a model would.
    engine.script = NOT_FOUND
    question = "怎样在 Debian 上安装 Kubernetes？"
    hits = [passage(1, "Debian installs packages with apt."), passage(2, "Berlin.")]
    session.set_knowledge(Knowledge(hits))
    session.options.collections = ["notes"]
    with qtbot.waitSignal(session.sig_reply_ended, timeout=TIMEOUT_MS):
        session.send(question)
    session.wait_saved()
    request = engine.requests[-1]
    assert request.grammar == f'root ::= "{NOT_FOUND}"\n'
    assert "BEGIN [1]" not in (request.messages or ())[-1].content
    refusal = "文档中没有找到答案。"
    assert session.path[-1].content == refusal
    # ask and the API refuse it without the model, with the same sentence.
    asked = answer(FakeEngine("not asked"), question, hits)
    assert asked.text == refusal and asked.unknown == ("Kubernetes",)
    # With a reasoning mode on too: there is nothing to reason about.
    session.options.reasoning = prompting.REASONING_STEP_BY_STEP
    with qtbot.waitSignal(session.sig_reply_ended, timeout=TIMEOUT_MS):
        session.send(question)
    session.wait_saved()
    assert engine.requests[-1].grammar == f'root ::= "{NOT_FOUND}"\n'
    assert session.path[-1].content == refusal
