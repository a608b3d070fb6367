"""The process ``stream-kill`` kills: chats streamed from the real engine into the store.

``python -m desktop_app.bench.faults.stream_child DB MODEL SEED`` opens the chat
store ``DB``, starts the engine process with ``MODEL`` and, turn after turn in one
new chat, adds a user message and streams a short reply into it through the
store's reply recorder, as the window does. It runs until it is killed (or a few
dozen turns). Its stdout, one flushed line each, tells the parent what happened:

``ENGINE <pid>``
    the engine process is started and the model loaded;
``PROMPT <turn>``
    the request is sent (the engine evaluates the prompt);
``TOKEN <turn> <n>``
    the n-th token of the reply arrived;
``ACK <what> <id> <n_tokens> <json text>``
    a commit the app would call acknowledged: ``user`` (the message is saved),
    ``reply`` (a recorder checkpoint: ``n_tokens`` token records and the text so
    far are on disk) or ``done`` (the reply's last commit).
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

from desktop_app.core.chat.recorder import ReplyRecorder
from desktop_app.core.chat.store import ChatStore
from desktop_app.core.engine.protocol import (
    DoneEvent,
    EngineConfig,
    ErrorEvent,
    GenerateRequest,
    Message,
    TokenEvent,
)
from desktop_app.core.sampling import SamplingParams
from desktop_app.workers.engine.client import EngineClient

#: Turns in one chat before the child ends by itself (the parent kills it long before).
MAX_TURNS = 40
#: A checkpoint every this many seconds while a reply streams (the window's is 1 s):
#: a short reply then has several, so a kill lands between checkpoints as often as not.
CHECKPOINT_S = 0.1
QUESTIONS = (
    "Write two sentences about the sea.",
    "What is a prime number? Answer briefly.",
    "用一句话介绍长城。",
    "Name three colours and one animal for each.",
    "Explain what a database transaction is, in plain words.",
    "请列出三种水果，并各用一句话描述。",
)


def say(line: str) -> None:
    """One line to the parent, flushed at once."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def ack(what: str, message_id: int, saved: tuple[int, str]) -> None:
    """Tell the parent a commit is done (``saved``: token records and text on disk)."""
    say(f"ACK {what} {message_id} {saved[0]} {json.dumps(saved[1])}")


class Acknowledger:
    """Reports each recorder checkpoint once, when it is seen committed."""

    def __init__(self, recorder: ReplyRecorder) -> None:
        self.recorder = recorder
        self.last = recorder.saved
        ack("reply", recorder.message_id, self.last)

    def poll(self, what: str = "reply") -> None:
        saved = self.recorder.saved
        if saved != self.last or what == "done":
            self.last = saved
            ack(what, self.recorder.message_id, saved)


def main(argv: list[str]) -> int:
    db, model, seed = Path(argv[0]), argv[1], int(argv[2])
    rng = random.Random(seed)
    store = ChatStore(db)
    client = EngineClient()
    client.load(EngineConfig(model_path=model, n_ctx=2048, n_threads=1))
    say(f"ENGINE {client.pid}")
    chat = store.create_chat(f"stream-kill {seed}")
    history: list[Message] = []
    parent: int | None = None
    for turn in range(MAX_TURNS):
        question = rng.choice(QUESTIONS)
        user = store.add_message(chat, parent, "user", question)
        ack("user", user, (0, question))
        history.append(Message("user", question))
        recorder = store.begin_reply(chat, user, interval_s=CHECKPOINT_S)
        acks = Acknowledger(recorder)
        request = GenerateRequest(
            params=SamplingParams(max_tokens=rng.randint(8, 40), seed=rng.randrange(2**31)),
            messages=tuple(history),
        )
        say(f"PROMPT {turn}")
        n = 0
        final: str | None = None
        status: str = "complete"
        for event in client.generate(request):
            if isinstance(event, TokenEvent):
                recorder.append([event])
                n += 1
                say(f"TOKEN {turn} {n}")
                acks.poll()
            elif isinstance(event, DoneEvent):
                final = event.text
            elif isinstance(event, ErrorEvent):
                status = "error"
        recorder.finish("complete" if status == "complete" else "error", content=final)
        acks.poll("done")
        history.append(Message("assistant", recorder.saved[1]))
        parent = recorder.message_id
    client.close()
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
