"""Approval of tool calls in the window: the tool loop asks from the engine's thread,
the reply's approval row answers from the GUI thread.

``ApprovalGate.approve`` is the loop's ``Approver``: built-in read-only tools and
tools allowed "always for this chat" pass at once; any other call is handed to
``on_request`` (which shows the row) and the loop's thread waits until ``decide``
is called with "once", "always" or "deny", or until ``cancel`` (Stop, the chat
closed), which denies it. Nothing is decided by a timeout: a call waits for the
user, and Stop always ends the wait.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from desktop_app.core.engine.protocol import ToolCall
from desktop_app.core.tools.loop import read_only_builtins
from desktop_app.core.tools.spec import ToolSpec

Decision = Literal["once", "always", "deny"]
DECISIONS: tuple[Decision, ...] = ("once", "always", "deny")


@dataclass(frozen=True, slots=True)
class ApprovalRequest:
    """A call waiting for the user: the tool and the call as the model wrote it."""

    spec: ToolSpec
    call: ToolCall


class ApprovalGate:
    """Per chat: which tools are always allowed, and the call waiting for an answer."""

    def __init__(
        self,
        on_request: Callable[[ApprovalRequest], None],
        always: Iterable[str] = (),
        *,
        ask_builtin: bool = False,
    ) -> None:
        self.on_request = on_request
        self.always: set[str] = set(always)
        #: Ask before built-in read-only tools too (a chat's choice; off by default).
        self.ask_builtin = ask_builtin
        self._lock = threading.Lock()
        self._answered = threading.Event()
        self._decision: Decision = "deny"
        self._pending: ApprovalRequest | None = None
        self._cancelled = False

    @property
    def pending(self) -> ApprovalRequest | None:
        """The call waiting for an answer, if any."""
        return self._pending

    def approve(self, spec: ToolSpec, call: ToolCall) -> bool:
        """The loop's approver: True runs the call (blocks until the user answers)."""
        if (read_only_builtins(spec, call) and not self.ask_builtin) or spec.name in self.always:
            return True
        with self._lock:
            if self._cancelled:
                return False
            self._answered.clear()
            self._pending = ApprovalRequest(spec, call)
        self.on_request(self._pending)
        self._answered.wait()
        with self._lock:
            self._pending = None
            decision = self._decision
        if decision == "always":
            self.always.add(spec.name)
        return decision in ("once", "always")

    def decide(self, decision: Decision) -> None:
        """The user's answer to the waiting call (ignored when none waits)."""
        if decision not in DECISIONS:
            raise ValueError(f"unknown decision {decision!r}")
        with self._lock:
            if self._pending is None:
                return
            self._decision = decision
            self._answered.set()

    def cancel(self) -> None:
        """Deny the waiting call and every later one (Stop, or the chat closed)."""
        with self._lock:
            self._cancelled = True
            self._decision = "deny"
            self._answered.set()

    def reset(self) -> None:
        """Ready for the next reply (the tools always allowed stay allowed)."""
        with self._lock:
            self._cancelled = False
            self._answered.clear()
