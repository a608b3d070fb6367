"""Chat template excerpts for the reasoning tests."""

from __future__ import annotations

# Excerpts in the shape of the public templates (not copies): Qwen3's switch and its
# handling of earlier turns, DeepSeek-R1's prompt that opens the block, a template
# that keeps reasoning, and one that knows nothing of it.
QWEN3_LIKE = (
    "{%- set ns = namespace(looking=true, last_query_index=messages|length - 1) %}"
    "{%- for m in messages[::-1] %}{%- set i = (messages|length - 1) - loop.index0 %}"
    "{%- if ns.looking and m.role == 'user' %}"
    "{%- set ns.looking = false %}{%- set ns.last_query_index = i %}{%- endif %}{%- endfor %}"
    "{%- for m in messages %}"
    "{%- if m.role == 'assistant' %}"
    "{%- set content = m.content %}{%- set r = '' %}"
    "{%- if m.reasoning_content is string %}{%- set r = m.reasoning_content %}"
    "{%- elif '</think>' in content %}"
    "{%- set r = content.split('</think>')[0].split('<think>')[-1] %}"
    "{%- set content = content.split('</think>')[-1].lstrip('\\n') %}{%- endif %}"
    "{%- if loop.index0 > ns.last_query_index and r %}"
    "{{- '<|im_start|>assistant\\n<think>\\n' + r + '\\n</think>\\n\\n' }}"
    "{{- content + '<|im_end|>\\n' }}"
    "{%- else %}{{- '<|im_start|>assistant\\n' + content + '<|im_end|>\\n' }}{%- endif %}"
    "{%- else %}{{- '<|im_start|>' + m.role + '\\n' + m.content + '<|im_end|>\\n' }}{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}"
    "{%- if enable_thinking is defined and enable_thinking is false %}"
    "{{- '<think>\\n\\n</think>\\n\\n' }}{%- endif %}{%- endif %}"
)
R1_LIKE = (
    "{{ bos_token }}{%- for m in messages %}"
    "{%- if m.role == 'user' %}{{ '<｜User｜>' + m.content }}"
    "{%- elif m.role == 'assistant' %}{%- set c = m.content %}"
    "{%- if '</think>' in c %}{%- set c = c.split('</think>')[-1] %}{%- endif %}"
    "{{ '<｜Assistant｜>' + c + '<｜end▁of▁sentence｜>' }}{%- endif %}{%- endfor %}"
    "{%- if add_generation_prompt %}{{ '<｜Assistant｜><think>\\n' }}{%- endif %}"
)
KEEPS = (
    "{%- for m in messages %}{{ m.role }}: "
    "{%- if m.reasoning_content %}<think>{{ m.reasoning_content }}</think>{%- endif %}"
    "{{ m.content }}\n{%- endfor %}{%- if add_generation_prompt %}assistant: {%- endif %}"
)
PLAIN_CHATML = (
    "{%- for m in messages %}{{ '<|im_start|>' + m.role + '\\n' + m.content + '<|im_end|>\\n' }}"
    "{%- endfor %}{%- if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{%- endif %}"
)
