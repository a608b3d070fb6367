"""Chat templates that burn CPU or memory are refused fast; real ones render as before."""

from __future__ import annotations

import pytest

from desktop_app.core.engine.protocol import Message
from desktop_app.core.errors import InvalidRequestError
from desktop_app.core.models.template_sandbox import BASE_CHARS, TIME_LIMIT_S
from desktop_app.core.models.templates import render_chat

HI = [Message("user", "hi")]
OVER = BASE_CHARS * 3  # above the size limit for a short chat, small enough to build

CHATML = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
    "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
GEMMA3 = (
    "{{ bos_token }}{%- if messages[0]['role'] == 'system' -%}"
    "{%- set first_user_prefix = messages[0]['content'] + '\\n\\n' -%}"
    "{%- set loop_messages = messages[1:] -%}{%- else -%}"
    '{%- set first_user_prefix = "" -%}{%- set loop_messages = messages -%}{%- endif -%}'
    "{%- for message in loop_messages -%}"
    "{%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
    "{%- endif -%}{%- if (message['role'] == 'assistant') -%}{%- set role = \"model\" -%}"
    "{%- else -%}{%- set role = message['role'] -%}{%- endif -%}"
    "{{ '<start_of_turn>' + role + '\\n' + (first_user_prefix if loop.first else \"\") }}"
    "{{ message['content'] | trim }}{{ '<end_of_turn>\\n' }}{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{'<start_of_turn>model\\n'}}{%- endif -%}"
)
LLAMA3 = (
    "{% set loop_messages = messages %}{% for message in loop_messages %}"
    "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'"
    "+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
    "{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}"
    "{% endif %}"
)
QWEN25 = (
    "{%- if tools %}{{- '<|im_start|>system\\n' }}{%- if messages[0]['role'] == 'system' %}"
    "{{- messages[0]['content'] }}{%- else %}{{- 'You are Qwen, a helpful assistant.' }}"
    '{%- endif %}{{- "\\n\\n# Tools\\n\\n<tools>" }}{%- for tool in tools %}'
    '{{- "\\n" }}{{- tool | tojson }}{%- endfor %}{{- "\\n</tools><|im_end|>\\n" }}'
    "{%- else %}{%- if messages[0]['role'] == 'system' %}"
    "{{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}"
    "{%- else %}{{- '<|im_start|>system\\nYou are Qwen, a helpful assistant.<|im_end|>\\n' }}"
    "{%- endif %}{%- endif %}{%- for message in messages %}"
    "{%- if (message.role == 'user') or (message.role == 'system' and not loop.first) %}"
    "{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}"
    "{%- elif message.role == 'assistant' %}{{- '<|im_start|>' + message.role }}"
    "{%- if message.content %}{{- '\\n' + message.content }}{%- endif %}"
    "{{- '<|im_end|>\\n' }}{%- endif %}{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)
MISTRAL = (
    "{%- set ns = namespace(system='', n=0) %}{%- for m in messages %}"
    "{%- if m.role == 'system' %}{%- set ns.system = ns.system ~ m.content ~ '\\n' %}"
    "{%- endif %}{%- endfor %}{{- bos_token }}{%- for m in messages|rejectattr('role', "
    "'equalto', 'system') %}{%- if m.role == 'user' %}{%- set ns.n = ns.n + 1 %}"
    "{{- '[INST] ' ~ (ns.system if loop.last else '') ~ m.content|wordwrap(70)|indent(2) "
    "~ ' [/INST]' }}{%- elif m.role == 'assistant' %}{{- ' ' ~ m.content|replace('\\t', '    ') "
    "~ eos_token }}{%- else %}{{- raise_exception('Only user and assistant roles') }}"
    "{%- endif %}{%- endfor %}{{ '%d turns' % ns.n }}{{ '{:>4}|'.format(ns.n) }}"
    "{{ messages|map(attribute='role')|join(', ')|center(40) }}"
    "{{ messages|tojson(indent=2) }}"
)
CHAT = [
    Message("system", "Be brief."),
    Message("user", "Hello there, " * 40 + "ünïcödé\ttab"),
    Message("assistant", "Hi! How can I help?\n\tIndented."),
    Message("user", "Tell me a joke."),
]


@pytest.mark.parametrize("template", [CHATML, GEMMA3, LLAMA3, QWEN25, MISTRAL])
def test_real_templates_render_byte_identical_to_llama_cpp_python(template: str) -> None:
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    chat = CHAT
    payload = [{"role": m.role, "content": m.content} for m in chat]
    expected = Jinja2ChatFormatter(template=template, eos_token="</s>", bos_token="<s>")(
        messages=payload  # type: ignore[arg-type]
    )
    got = render_chat(chat, template, "<s>", "</s>", "PRE")
    assert got.text == expected.prompt + "PRE"
    assert list(got.stop) == expected.stop


def test_the_sizes_of_real_chats_are_not_refused() -> None:
    long_chat = [
        Message("user" if i % 2 == 0 else "assistant", "word " * 20_000) for i in range(40)
    ]
    text = render_chat(long_chat, CHATML).text
    assert text.count("<|im_start|>") == 41


BURNERS = [
    f'{{{{ "a" * {OVER} }}}}',
    '{{ "a" * 10**10 }}',
    f'{{{{ "x"|center({OVER}) }}}}',
    '{{ "x"|center(10000000000) }}',
    f'{{{{ "x".center({OVER}) }}}}',
    f'{{{{ "x".ljust({OVER}) }}}}',
    f'{{{{ "x".zfill({OVER}) }}}}',
    '{% set s = "ab" * 100000 %}{{ s * 100000 }}',
    '{% set ns = namespace(s="ab") %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}'
    "{% endfor %}{{ ns.s|length }}",
    '{% set ns = namespace(s="ab") %}{% for i in range(64) %}{% set ns.s = ns.s + ns.s %}'
    "{% endfor %}",
    "{% set ns = namespace(l=[1]) %}{% for i in range(64) %}{% set ns.l = ns.l + ns.l %}"
    "{% endfor %}",
    "{{ (range(100000)|list) * 100000 }}",
    '{{ (["a" * 1000000] * 1000)|join }}',
    '{{ ("a" * 1000000).join(["b"] * 1000) }}',
    '{{ [["a" * 1000000] * 100] * 100 }}',
    '{{ ([["a" * 1000000] * 100] * 100)|string }}',
    '{{ ([["a" * 1000000] * 100] * 100)|tojson }}',
    "{{ messages|tojson(indent=1000000000) }}",
    f'{{{{ "a"|indent({OVER}) }}}}',
    '{{ ("a\\n" * 100000)|indent(1000) }}',
    '{{ ("a " * 100000)|wordwrap(1, wrapstring="x" * 1000) }}',
    f'{{{{ "%{OVER}d" % 1 }}}}',
    '{{ "%*d" % (10**10, 1) }}',
    f'{{{{ "%{OVER}s"|format("x") }}}}',
    '{{ "{:>9999999999}".format(1) }}',
    '{{ "{:>{w}}".format(1, w=10**10) }}',
    '{{ "{0:.999999999f}".format(1.5) }}',
    '{{ ("a" * 1000000).replace("a", "aaaaaaaaaa") }}',
    '{{ ("a" * 1000000)|replace("a", "aaaaaaaaaa") }}',
    '{{ "\\t\\t\\t".expandtabs(10**9) }}',
    "{{ 10 ** (10 ** 10) }}",
    "{% set ns = namespace(x=3) %}{% for i in range(40) %}{% set ns.x = ns.x * ns.x %}{% endfor %}",
    "{{ lipsum(10**9) }}",
    "{{ [1]|batch(10**10, 'x')|list }}",
    "{{ [1]|slice(10**10, 'x')|list }}",
    "{% macro g() %}{% for i in range(100000) %}" + "A" * 1000 + "{% endfor %}{% endmacro %}"
    "{% set x = g() %}",
    "{% set x %}{% for i in range(100000) %}" + "B" * 1000 + "{% endfor %}{% endset %}",
    "{% for i in range(100000) %}" + "C" * 1000 + "{% endfor %}",
]
CPU_BURNERS = [
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "{% macro f(n) %}{% if n > 0 %}{{ f(n-1) }}{{ f(n-1) }}{% endif %}{% endmacro %}{{ f(60) }}",
    "{% for i in range(100000) %}{{ range(100000)|sum }}{% endfor %}",
]


@pytest.mark.parametrize("template", BURNERS)
def test_a_memory_burner_is_refused_before_it_builds_its_text(template: str) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        render_chat(HI, template)
    message = str(raised.value)
    assert "model file" in message and "template override" in message
    assert "stopped because" in message and "ran for more than" not in message


@pytest.mark.parametrize("template", CPU_BURNERS)
def test_a_cpu_burner_is_stopped_by_the_time_limit(template: str) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        render_chat(HI, template)
    assert f"ran for more than {TIME_LIMIT_S:g} s" in str(raised.value)


def test_an_override_that_burns_is_blamed_on_the_override() -> None:
    with pytest.raises(InvalidRequestError) as raised:
        render_chat(HI, '{{ "a" * 10**10 }}', source="override")
    message = str(raised.value)
    assert "template override was refused" in message and "turn the override off" in message


def test_the_sandbox_is_usable_after_a_refusal() -> None:
    with pytest.raises(InvalidRequestError):
        render_chat(HI, CPU_BURNERS[0])
    assert render_chat(HI, CHATML).text == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"


@pytest.mark.parametrize(
    "template",
    [
        # The plain sandbox's undefined value for an unsafe attribute went unnoticed
        # when chained through |attr, or printed as an empty string.
        "{{ ()|attr('__class__')|attr('__base__')|attr('__subclasses__') }}",
        "{{ raise_exception.__code__ }}",
        "{{ cycler.__init__ is defined }}",
    ],
)
def test_any_reach_for_an_unsafe_attribute_is_refused(template: str) -> None:
    with pytest.raises(InvalidRequestError, match="SecurityError"):
        render_chat(HI, template)


def test_any_error_of_the_template_code_is_blamed_on_the_template() -> None:
    # str.format with a missing field raised a bare IndexError out of the engine.
    with pytest.raises(InvalidRequestError, match="IndexError") as raised:
        render_chat(HI, "{{ '{0}'.format_map({'a': 1}) }}")
    assert "model file" in str(raised.value)
