"""The default chat model, Qwen2.5-Coder-1.5B-Instruct Q4_K_M, end to end.

Assembled from its 22 weight packages and checked by SHA-256; its own Jinja chat
template rendered (Gemma, the other real test model, has none); short greedy
replies in English and in Chinese with their candidates; a grounded answer with
a citation through the command line; and a reply streamed into the real window
opened on "default", as ``make run`` opens it.

Replies are kept to a few tokens: Qwen 1.5B writes about 10-20 tokens/s on two
CPU cores. The model is loaded once for the engine tests; the command line and
the window load it in processes of their own, as a user's would.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from desktop_app.app import build
from desktop_app.core import paths
from desktop_app.core.engine.protocol import (
    DoneEvent,
    EngineConfig,
    GenerateRequest,
    Message,
    ModelLoaded,
    TokenEvent,
)
from desktop_app.core.models.defaults import CHAT_DEFAULT, DEFAULT_MODELS, status
from desktop_app.core.models.gguf_info import inspect_gguf
from desktop_app.core.models.templates import render_chat
from desktop_app.core.sampling import SamplingParams
from desktop_app.core.settings import Settings
from desktop_app.ui.window.main_window import MainWindow
from desktop_app.workers.engine.client import EngineClient
from desktop_app.workers.engine.inference import InferenceController, resolve_with_defaults

pytestmark = pytest.mark.e2e

QWEN = DEFAULT_MODELS[CHAT_DEFAULT]
#: Written out from DESIGN.md ("Models") rather than read from defaults.py, so that
#: a hash changed there by mistake fails here.
SIZE = 1_117_320_768
SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"

IM_START, IM_END = "<|im_start|>", "<|im_end|>"
SYSTEM = "You are a helpful assistant."
CANDIDATES = 10
MAX_TOKENS = 16
TIMEOUT_MS = 120_000

#: A question, and what the answer must contain.
QUESTIONS = {
    "english": ("What is the capital of France? Answer in one word.", "Paris"),
    "chinese": ("中国的首都是哪里？请用一个词回答。", "北京"),
}


def glassbox(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GLASSBOX_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "desktop_app", *args],
        capture_output=True, text=True, env=env, timeout=240,
    )  # fmt: skip


@pytest.fixture(scope="module")
def client(qwen_path: Path) -> Iterator[EngineClient]:
    """Qwen loaded once in a real engine process for the engine-level tests."""
    c = EngineClient()
    c.load(EngineConfig(str(qwen_path), n_ctx=2048))
    yield c
    c.close()


def loaded_of(client: EngineClient) -> ModelLoaded:
    assert client.loaded is not None
    return client.loaded


# --------------------------------------------------------------------------- the file


def test_assembled_from_its_packages_with_the_published_hash(qwen_path: Path) -> None:
    assert QWEN.size == SIZE and QWEN.sha256 == SHA256 and len(QWEN.parts) == 22
    assert qwen_path.name == QWEN.file_name
    assert qwen_path.stat().st_size == SIZE
    digest = hashlib.sha256()
    with qwen_path.open("rb") as fh:
        while block := fh.read(1 << 22):
            digest.update(block)
    assert digest.hexdigest() == SHA256
    assert status(QWEN, qwen_path.parent) == "installed"
    info = inspect_gguf(qwen_path)
    assert info.architecture == "qwen2" and info.quantization == "Q4_K_M"
    assert info.has_chat_template


# --------------------------------------------------------------------------- the engine


def test_its_own_chat_template_renders_qwen_turns(client: EngineClient) -> None:
    loaded = loaded_of(client)
    assert loaded.has_chat_template and loaded.chat_template
    assert loaded.template_sha256
    messages = (Message("system", SYSTEM), Message("user", "Hello"))
    chat = render_chat(messages, loaded.chat_template, eos_token=IM_END)
    assert chat.template == "model"
    turns = [
        f"{IM_START}system\n{SYSTEM}{IM_END}\n",
        f"{IM_START}user\nHello{IM_END}\n",
        f"{IM_START}assistant\n",
    ]
    assert chat.text == "".join(turns)
    assert IM_END in chat.stop
    # Without a system message the template writes Qwen's own.
    chat = render_chat(messages[1:], loaded.chat_template, eos_token=IM_END)
    assert chat.text.startswith(f"{IM_START}system\nYou are Qwen")
    assert chat.text.endswith(f"{IM_START}user\nHello{IM_END}\n{IM_START}assistant\n")


@pytest.mark.parametrize("language", list(QUESTIONS))
def test_greedy_reply_is_right_and_stops_at_the_end_of_its_turn(
    client: EngineClient, language: str
) -> None:
    question, expected = QUESTIONS[language]
    messages = (Message("system", SYSTEM), Message("user", question))
    request = GenerateRequest(
        params=SamplingParams.greedy(max_tokens=MAX_TOKENS),
        messages=messages,
        candidates=CANDIDATES,
    )
    events = list(client.generate(request))
    tokens = [e for e in events if isinstance(e, TokenEvent)]
    done = events[-1]
    assert isinstance(done, DoneEvent), done
    print(f"{language}: {done.text!r} ({done.finish_reason}, {done.tokens_per_s:.1f} tokens/s)")

    assert expected in done.text
    # The reply ended its own turn: on the end token, well before the token limit,
    # and the end token is not part of the text.
    assert done.finish_reason in ("eos", "stop")
    assert 0 < len(tokens) < MAX_TOKENS
    assert done.completion_tokens in (len(tokens), len(tokens) + 1)  # + the end token drawn
    assert IM_END not in done.text and IM_START not in done.text
    assert "\ufffd" not in done.text
    assert done.text == "".join(t.text for t in tokens)

    # The engine fed the rendered template with its markers as single special
    # tokens (llama.cpp tokenizes the text between special tokens piece by piece).
    rendered = render_chat(messages, loaded_of(client).chat_template, eos_token=IM_END).text
    pieces = re.split(f"({re.escape(IM_START)}|{re.escape(IM_END)})", rendered)
    expected_prompt = sum(1 if p in (IM_START, IM_END) else client.count_tokens(p) for p in pieces)
    assert done.prompt_tokens == expected_prompt

    for t in tokens:
        assert len(t.candidates) >= CANDIDATES
        assert len({c.id for c in t.candidates}) == len(t.candidates)
        best = max(t.candidates, key=lambda c: c.p_raw)
        assert best.id == t.id  # greedy takes the most likely token
        assert all(0.0 <= c.p_raw <= 1.0 for c in t.candidates)
        assert sum(c.p_raw for c in t.candidates) <= 1 + 1e-5
        assert 0 < t.p <= 1
    # A sure answer: the token carrying it is far ahead of its alternatives.
    carrier = next(t for t in tokens if expected[0] in t.text)
    assert max(c.p_raw for c in carrier.candidates) > 0.5


# --------------------------------------------------------------------------- grounded


#: An invented fact, so that the answer can only have come from the document.
LIGHTHOUSE = (
    "The Varnholm Lighthouse\n\n"
    "The lighthouse on Varnholm Island was built in 1871. Its first keeper was "
    "Edda Lindqvist, who painted the tower green in 1873 so that fishing boats "
    "could tell it from the white church tower on the mainland. The light was "
    "automated in 1958 and the keeper's house is now a small museum.\n"
)

#: The document asked about, and what ``glassbox ask --json`` printed.
Grounded = tuple[Path, dict[str, Any]]


@pytest.fixture(scope="module")
def grounded(tmp_path_factory: pytest.TempPathFactory, qwen_path: Path) -> Grounded:
    """The document written, ingested and asked about with ``glassbox``: (path, ask --json)."""
    home = tmp_path_factory.mktemp("grounded-home")
    docs = tmp_path_factory.mktemp("grounded-docs")
    doc = docs / "varnholm_lighthouse.txt"
    doc.write_text(LIGHTHOUSE, encoding="utf-8")
    out = glassbox(home, "ingest", str(docs), "--collection", "notes", "--json", "--quiet")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["indexed"] == 1 and report["chunks_added"] >= 1 and not report["failed"]
    out = glassbox(
        home, "ask", "Who painted the Varnholm lighthouse green?", "--collection", "notes",
        "--json", "--model", str(qwen_path), "--max-tokens", "32", "--n-ctx", "2048",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    print(f"grounded: {result['answer']!r}")
    return doc, result


def test_grounded_answer_states_the_fact_and_its_source_is_the_document(grounded: Grounded) -> None:
    doc, result = grounded
    assert set(result) == {
        "answer", "found", "citations", "chroma", "translation", "mode", "warning", "sentences",
        "cad", "unknown", "phrasings", "terms",
    }  # fmt: skip
    assert result["terms"] is None  # the model lists terms only with --expand
    assert result["found"] is True and result["chroma"] == "local" and result["unknown"] == []
    assert result["mode"] == "passages" and result["cad"] is None
    # The one sentence names the fact and cites the passage that holds it.
    assert result["warning"] is False
    assert result["sentences"] and all(s["supported"] for s in result["sentences"])
    assert result["translation"]["target"] is None  # an English question, English notes
    assert "Edda Lindqvist" in result["answer"]
    citations = result["citations"]
    assert [c["n"] for c in citations] == list(range(1, len(citations) + 1))
    for c in citations:
        assert set(c) == {
            "n", "source", "chunk_id", "text", "cited", "page", "char_start", "char_end"
        }  # fmt: skip
    # Source [1] is the passage of the document that holds the fact, located in it.
    first = citations[0]
    assert Path(first["source"]) == doc
    assert "Edda Lindqvist" in first["text"]
    assert doc.read_text(encoding="utf-8")[first["char_start"] : first["char_end"]] == first["text"]


def test_grounded_answer_marks_the_source_it_used(grounded: Grounded) -> None:
    doc, result = grounded
    cited = [c for c in result["citations"] if c["cited"]]
    assert cited, result["answer"]
    for c in cited:
        assert f"[{c['n']}]" in result["answer"]
        assert Path(c["source"]) == doc


def test_an_english_question_on_a_chinese_passage_is_answered_in_english(
    client: EngineClient,
) -> None:
    """The grammar after a source in another language (prompt feature ``lang``): the
    real model, asked in English about a Chinese passage, cites it and answers in
    English, without copying its Chinese (on the Debian set, such a quotation made the
    whole reply Chinese)."""
    from desktop_app.core.kb import language
    from desktop_app.core.kb.answer import answer
    from desktop_app.core.kb.db import StoredChunk
    from desktop_app.core.kb.retrieve import Hit

    text = "瓦恩霍尔姆灯塔建于 1871 年。第一任看守人 Edda Lindqvist 在 1873 年把塔身漆成了绿色。"
    chunk = StoredChunk("c1", 1, "/docs/灯塔.txt", "txt", 0, text, None, None, 0, len(text))
    result = answer(
        client,
        "Who painted the lighthouse tower green?",  # no name the passage lacks
        [Hit(1, chunk, 0.5, None, 0.1, 1, None)],
        style="cite+quote+trim+lang",
        params=SamplingParams(temperature=0.0, max_tokens=48),
    )
    print(f"cross-language: {result.text!r}")
    assert result.found and result.text.startswith("[1] ")
    assert not re.search(r"[\u3400-\u9fff]", result.text)
    assert language.detect(result.text) == "en" and "Lindqvist" in result.text
    # Checked by what both languages write alike (the name), not marked unsupported.
    assert not result.warning and result.sentences[0].support == 1.0


# --------------------------------------------------------------------------- the window


@pytest.fixture
def window(qtbot: QtBot, qwen_path: Path) -> Iterator[MainWindow]:
    """The window opened on "default" with Qwen already in the models folder."""
    # Linked, with the record of its hash, rather than assembled a second time.
    target = paths.models_dir() / QWEN.file_name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.symlink_to(qwen_path)
    verified = qwen_path.with_name(qwen_path.name + ".verified")
    shutil.copy2(verified, target.with_name(verified.name))

    settings = Settings(n_ctx=2048).with_sampling(SamplingParams.greedy(max_tokens=32))
    controller = InferenceController(
        EngineClient, settings, resolver=resolve_with_defaults, remember_model=False
    )
    w = build(controller, model_spec="default").window
    qtbot.addWidget(w)
    with qtbot.waitSignal(controller.sig_model_loaded, timeout=TIMEOUT_MS) as loaded:
        w.show()
    assert Path(loaded.args[0].model_path).name == QWEN.file_name
    assert loaded.args[0].has_chat_template
    yield w
    w.close()
    assert controller.worker_thread is None or not controller.worker_thread.is_alive()


def test_a_question_typed_in_the_window_gets_a_streamed_answer(
    qtbot: QtBot, window: MainWindow
) -> None:
    session = window.session
    batches: list[list[TokenEvent]] = []
    session.sig_reply_tokens.connect(batches.append)

    with qtbot.waitSignal(session.sig_reply_ended, timeout=TIMEOUT_MS):
        qtbot.keyClicks(window._input, "What is the capital of France? Answer in a short sentence.")
        qtbot.keyClick(window._input, Qt.Key.Key_Return)
    session.wait_saved()

    reply = session.path[-1]
    print(f"window: {reply.content!r}")
    assert reply.role == "assistant" and reply.status == "complete"
    assert "Paris" in reply.content
    streamed = [t for batch in batches for t in batch]
    # Streamed: the tokens came in more than one piece before the reply ended.
    assert len(streamed) > 1 and len(batches) > 1
    assert "".join(t.text for t in streamed) == reply.content
    assert all(len(t.candidates) >= window._controller.settings.candidates for t in streamed)
    assert IM_END not in reply.content
    assert reply.content.strip() in window.transcript_text()
    assert reply.meta["request"]["messages"][-1]["content"].startswith("What is the capital")
