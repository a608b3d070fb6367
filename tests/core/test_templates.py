"""A model file's chat template is untrusted code: refusals name the template."""

from __future__ import annotations

import pytest

from desktop_app.core.engine.protocol import Message
from desktop_app.core.errors import InvalidRequestError
from desktop_app.core.models.templates import render_chat

HI = [Message("user", "hi")]


@pytest.mark.parametrize(
    ("template", "why"),
    [
        ("{% for i in range(10**12) %}x{% endfor %}", "OverflowError"),  # range bomb
        ("{{ 1 // 0 }}", "ZeroDivisionError"),
        ("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "RecursionError"),
        ("{{ ().__class__.__base__.__subclasses__() }}", "SecurityError"),  # sandbox escape
    ],
)
def test_a_hostile_template_is_refused_with_a_message_that_blames_the_model_file(
    template: str, why: str
) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        render_chat(HI, template)
    message = str(raised.value)
    assert why in message and "model file" in message and "template override" in message


def test_a_model_template_renders_and_a_missing_one_falls_back() -> None:
    chat = render_chat(HI, "{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}")
    assert chat.text == "<user>hi" and chat.template == "model"
    assert render_chat(HI, None).template == "plain"
