"""How ``glassbox generate`` and ``glassbox ask`` print a reasoning model's thinking.

The reasoning (a ``<think>`` block, or a server's ``reasoning_content``) is printed
between ``[thinking]`` and ``[/thinking]`` lines before the answer, or left out with
``--hide-thinking``. With ``--json`` each token of the reasoning carries
``"thinking": true`` (and is left out with ``--hide-thinking``). ``--thinking on|off``
sets the switch of templates that have one (Qwen3's ``enable_thinking``…).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from desktop_app.core.chat.thinking import Split, ThinkingSplitter, opens_in_prompt
from desktop_app.core.engine.protocol import GenerateRequest, ModelLoaded, TokenEvent

OPEN_LINE = "[thinking]"
CLOSE_LINE = "[/thinking]"


def add_thinking_arguments(parser: argparse.ArgumentParser) -> None:
    """``--thinking on|off`` and ``--hide-thinking``."""
    parser.add_argument(
        "--thinking",
        choices=("on", "off"),
        default=None,
        help="turn a reasoning model's thinking on or off where its chat template has a "
        "switch (Qwen3's enable_thinking…); default: the template's",
    )
    parser.add_argument(
        "--hide-thinking",
        action="store_true",
        help="print only the answer, without the model's reasoning",
    )


def thinking_value(args: argparse.Namespace) -> bool | None:
    """The switch --thinking asks for (None: the template's default)."""
    value = getattr(args, "thinking", None)
    return None if value is None else value == "on"


def thinking_lines(args: argparse.Namespace, reasoning: str) -> str:
    """A finished answer's reasoning as ``glassbox ask`` prints it above the answer
    ("" when there is none or --hide-thinking)."""
    if not reasoning or getattr(args, "hide_thinking", False):
        return ""
    return f"{OPEN_LINE}\n{reasoning}\n{CLOSE_LINE}\n\n"


def thinking_payload(args: argparse.Namespace, payload: dict[str, Any]) -> dict[str, Any]:
    """An ``--json`` payload without its ``reasoning_content`` under --hide-thinking."""
    if getattr(args, "hide_thinking", False):
        payload = {k: v for k, v in payload.items() if k != "reasoning_content"}
    return payload


def prompt_opens(loaded: ModelLoaded, request: GenerateRequest) -> bool:
    """Whether the local model's prompt opens the block itself (R1, QwQ templates)."""
    return opens_in_prompt(loaded, request)


class ThinkingPrinter:
    """Prints streamed tokens with the reasoning marked (or hidden)."""

    def __init__(
        self, opened: bool, hide: bool, json_lines: bool, out: TextIO | None = None
    ) -> None:
        self._splitter: ThinkingSplitter[TokenEvent] = ThinkingSplitter(opened)
        self._hide = hide
        self._json = json_lines
        self._out = out if out is not None else sys.stdout
        self._open = False  # the [thinking] line is printed, its close is not
        self.reasoning_tokens = 0

    def token(self, event: TokenEvent) -> None:
        """One streamed token."""
        self._write(self._splitter.push(event.text, event))

    def finish(self) -> None:
        """The reply ended: print what waited, close an unclosed block."""
        self._write(self._splitter.finish())
        if self._open and not self._json:
            self._out.write(f"\n{CLOSE_LINE}\n")
            self._open = False
        self._out.flush()

    @property
    def reasoning(self) -> str:
        """The reasoning so far."""
        return self._splitter.reasoning.strip()

    def _write(self, splits: list[Split[TokenEvent]]) -> None:
        for split in splits:
            thinking = split.section == "reasoning" and self._splitter.thinking
            reasoning = split.text("reasoning")
            if thinking and reasoning:
                self.reasoning_tokens += 1
            if self._json:
                if thinking and self._hide:
                    continue
                out: dict[str, Any] = split.item.to_json()
                if thinking:
                    out["thinking"] = True
                self._out.write(json.dumps(out, ensure_ascii=False) + "\n")
                continue
            if reasoning and not self._hide:
                if not self._open:
                    self._out.write(f"{OPEN_LINE}\n")
                    self._open = True
                self._out.write(reasoning)
            answer = split.text("answer")
            if answer:
                if self._open:
                    self._out.write(f"\n{CLOSE_LINE}\n\n")
                    self._open = False
                self._out.write(answer)
        self._out.flush()
