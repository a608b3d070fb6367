"""Replies caught in a loop: the same stretch of text written again and again.

A small model decoding greedily can fall into a cycle it never leaves (one
sentence over and over, "filesystems-filesystems-…") and writes it until the
token limit: a grounded answer of the default model spent 45 s that way. A
reply whose end is one stretch written again ``loop_stop`` times in a row (a
sampling setting, 0: off), all its copies covering at least ``MIN_SPAN``
characters, is stopped there (finish reason ``"loop"``). The span lets short
legitimate repeats go on: a table's separator row, a line of dashes, a few
identical lines of code. The text written is kept as it is, copies included;
only what would have followed is not generated.
"""

from __future__ import annotations

#: The shortest looping tail that stops a reply, in characters.
MIN_SPAN = 200
#: The longest stretch looked for, in characters (a paragraph that repeats runs on).
MAX_PERIOD = 400


def loop_period(text: str, copies: int) -> int:
    """The length of the stretch ``text`` ends by repeating, 0 when it does not.

    A stretch of p characters counts when the text ends with at least ``copies``
    copies of it covering at least ``MIN_SPAN`` characters. ``copies`` under 2 finds
    nothing (one copy is any text).
    """
    n = len(text)
    if copies < 2 or n < MIN_SPAN:
        return 0
    for p in range(1, min(MAX_PERIOD, n // copies) + 1):
        if text[-1] != text[-1 - p]:
            continue  # cheap test first: most periods fail on the last character
        k = max(copies, -(-MIN_SPAN // p))
        if k * p <= n and text.endswith(text[-p:] * k):
            return p
    return 0


class LoopWatch:
    """Fed a reply piece by piece; says when its end has started looping.

    Only the tail that a loop can span is kept, so a long reply costs no more
    per piece than a short one.
    """

    def __init__(self, repeats: int) -> None:
        """``repeats``: how many times the stretch is written again (0: never stop)."""
        self.copies = repeats + 1 if repeats > 0 else 0
        self._keep = max(MIN_SPAN, self.copies * MAX_PERIOD) + 1
        self._tail = ""
        self.period = 0

    def feed(self, piece: str) -> bool:
        """Add a piece of the reply; True once the reply ends in a loop."""
        if self.copies < 2 or not piece:
            return False
        self._tail = (self._tail + piece)[-self._keep :]
        self.period = loop_period(self._tail, self.copies)
        return self.period > 0
