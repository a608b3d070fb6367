"""Error events from an engine become the core error classes callers catch."""

from __future__ import annotations

import pytest

from desktop_app.core.engine.protocol import ErrorEvent
from desktop_app.core.errors import (
    CancelledError,
    ContextOverflowError,
    EngineCrashedError,
    GlassboxError,
    error_from_event,
)


@pytest.mark.parametrize(
    ("kind", "cls"),
    [
        ("context_overflow", ContextOverflowError),
        ("engine_crashed", EngineCrashedError),
        ("cancelled", CancelledError),
    ],
)
def test_an_error_event_becomes_its_class_with_its_message(kind, cls):
    error = error_from_event(ErrorEvent(kind, "What went wrong."))
    assert type(error) is cls
    assert error.kind == kind and str(error) == "What went wrong."


def test_an_unknown_kind_is_a_plain_error_that_keeps_the_kind():
    error = error_from_event(ErrorEvent("kb_locked", "In use."))
    assert type(error) is GlassboxError and error.kind == "kb_locked"
