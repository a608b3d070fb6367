"""``templates``: hostile chat templates, as an override and inside a model file.

A corpus of hostile Jinja2 chat templates (sandbox escapes that try to write a
canary file, CPU burners, memory burners and recursions) is rendered the way the
engine renders a chat: once as the user's template override, and once from the
``tokenizer.chat_template`` of a small GGUF written for the case and read back with
:func:`inspect_gguf`. Each must be refused with a message that blames the template
(the override or the model file), within 1 s, and no canary may ever appear.

The full run adds cases through the real engine process with Gemma 3 270M: an
override that burns at load time, one that burns only on a longer chat, and a
generation afterwards that must still work.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from desktop_app.bench.faults import FaultContext, FaultRow, describe, rss_mb
from desktop_app.core.engine.protocol import Message
from desktop_app.core.errors import GlassboxError, InvalidRequestError
from desktop_app.core.models.gguf_info import inspect_gguf
from desktop_app.core.models.templates import render_chat

GOAL_S = 1.0
CHAT = (Message("user", "Hello"), Message("assistant", "Hi!"), Message("user", "Bye"))
#: Where an escape writes: replaced by the case's canary path.
C = "@CANARY@"

ESCAPES = [
    "{{ cycler.__init__.__globals__.os.system('touch @CANARY@') }}",
    "{{ joiner.__init__.__globals__.os.popen('touch @CANARY@').read() }}",
    "{{ namespace.__init__.__globals__.os.system('touch @CANARY@') }}",
    "{{ namespace(a=1).__init__.__globals__['os'].system('touch @CANARY@') }}",
    "{{ lipsum.__globals__.os.system('touch @CANARY@') }}",
    "{{ lipsum.__globals__['__builtins__']['open']('@CANARY@', 'w').write('x') }}",
    "{{ raise_exception.__globals__.__builtins__.open('@CANARY@', 'w').write('x') }}",
    "{{ strftime_now.__globals__['__builtins__']['open']('@CANARY@', 'w').write('x') }}",
    "{{ ().__class__.__base__.__subclasses__() }}",
    "{{ ''.__class__.__mro__[1].__subclasses__()[140].__init__.__globals__['popen']"
    "('touch @CANARY@') }}",
    "{% for c in [].__class__.__base__.__subclasses__() %}{% if c.__name__ == 'catch_warnings' %}"
    "{{ c()._module.__builtins__['open']('@CANARY@', 'w').write('x') }}{% endif %}{% endfor %}",
    "{{ ()|attr('__class__')|attr('__base__')|attr('__subclasses__') }}",
    "{{ (cycler|attr('__init__')|attr('__globals__'))['os'].system('touch @CANARY@') }}",
    "{{ '{0.__init__.__globals__[os].system}'.format(cycler) }}",
    "{{ '{0.__class__.__init__.__globals__}'.format(joiner) }}",
    "{{ '{0.__globals__[__builtins__]}'.format_map({'0': lipsum}) }}",
    "{{ self._TemplateReference__context.cycler.__init__.__globals__.os.system"
    "('touch @CANARY@') }}",
    "{{ self.__init__.__globals__.__builtins__.open('@CANARY@', 'w') }}",
    "{% for x in [1] %}{{ loop.__class__.__init__.__globals__.os.system('touch @CANARY@') }}"
    "{% endfor %}",
    "{{ messages.__class__.__init__.__globals__ }}",
    "{{ messages[0].__class__.__subclasses__() }}",
    "{{ messages[0].items.__self__.__class__.__subclasses__() }}",
    "{{ range.__self__.open('@CANARY@', 'w') }}",
    "{{ dict.__call__.__self__.__subclasses__() }}",
    "{% set ns = namespace() %}{{ ns.__init__.__globals__.os.system('touch @CANARY@') }}",
    "{% import 'os' as os %}{{ os.system('touch @CANARY@') }}",
    "{% include '/etc/passwd' %}",
    "{{ raise_exception.__code__ }}",
]
CPU = [
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "{% for i in range(100000) %}{{ range(100000)|sum }}{% endfor %}",
    "{% for i in range(100000) %}{% for j in range(100000) %}{% if i == j %}x{% endif %}"
    "{% endfor %}{% endfor %}",
    "{% for i in range(100000) %}{{ range(100000)|list|sort|first }}{% endfor %}",
    "{% for i in range(100000) %}{{ ('a' * 100000).count('b') }}{% endfor %}",
    "{% for i in range(100000) %}{{ ('a<b>' * 10000)|striptags|length }}{% endfor %}",
    "{{ ('a ' * 1000000)|wordwrap(3)|length }}",
    "{% for i in range(100000) %}{{ range(100000)|select('odd')|list|length }}{% endfor %}",
]
MEMORY = [
    '{{ "a" * 10**10 }}',
    '{{ "x"|center(10**10) }}',
    '{{ "x"|center(10000000000) }}',
    '{{ "x".center(10**10) }}',
    '{{ "x".ljust(10**9) ~ "x".rjust(10**9) }}',
    '{{ "1".zfill(10**10) }}',
    '{% set s = "ab" * 100000 %}{{ s * 100000 }}',
    '{% set ns = namespace(s="ab") %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}'
    "{% endfor %}{{ ns.s }}",
    '{% set ns = namespace(s="ab") %}{% for i in range(64) %}{% set ns.s = ns.s + ns.s %}'
    "{% endfor %}",
    "{% set ns = namespace(l=[1]) %}{% for i in range(64) %}{% set ns.l = ns.l + ns.l %}"
    "{% endfor %}",
    "{{ (range(100000)|list) * 100000 }}",
    '{{ (["a" * 1000000] * 100000)|join }}',
    '{{ ("a" * 1000000).join(["b"] * 100000) }}',
    '{{ [["a" * 1000000] * 1000] * 1000 }}',
    '{{ ([["a" * 1000000] * 1000] * 1000)|string }}',
    '{{ ([["a" * 1000000] * 1000] * 1000)|tojson }}',
    "{{ messages|tojson(indent=10**9) }}",
    '{{ "a"|indent(10**10) }}',
    '{{ ("a\\n" * 100000)|indent(100000) }}',
    '{{ ("a " * 100000)|wordwrap(1, wrapstring="x" * 100000) }}',
    '{{ "%9999999999d" % 1 }}',
    '{{ "%*d" % (10**10, 1) }}',
    '{{ "%9999999999s"|format("x") }}',
    '{{ "{:>9999999999}".format(1) }}',
    '{{ "{:>{w}}".format(1, w=10**10) }}',
    '{{ "{0:.999999999f}".format(1.5) }}',
    '{{ ("a" * 1000000).replace("a", "a" * 100000) }}',
    '{{ ("a" * 1000000)|replace("a", "a" * 100000) }}',
    '{{ "\\t\\t\\t".expandtabs(10**10) }}',
    "{{ 10 ** (10 ** 10) }}",
    "{% set ns = namespace(x=3) %}{% for i in range(64) %}{% set ns.x = ns.x * ns.x %}{% endfor %}",
    "{{ lipsum(10**9) }}",
    "{{ [1]|batch(10**10, 'x')|list }}",
    "{{ [1]|slice(10**10, 'x')|list }}",
    "{% macro g() %}{% for i in range(100000) %}" + "A" * 1000 + "{% endfor %}{% endmacro %}"
    "{% set x = g() %}",
    "{% set x %}{% for i in range(100000) %}" + "B" * 1000 + "{% endfor %}{% endset %}",
    "{% for i in range(100000) %}" + "C" * 1000 + "{% endfor %}",
    "{% for i in range(100000) %}{% set x = 'a' * 1000000 %}{{ x[:1] }}{% endfor %}",
    "{{ [[range(100000)|list] * 100000]|sum(start=[]) }}",
    "{{ strftime_now('%c' * 10**6) }}",
]
RECURSION = [
    "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
    "{% macro f(n) %}{% if n > 0 %}{{ f(n-1) }}{{ f(n-1) }}{% endif %}{% endmacro %}{{ f(60) }}",
    "{% for x in [1] recursive %}{{ loop([1]) }}{% endfor %}",
    "{% for x in [1, 2] recursive %}{{ loop([1, 2]) }}{% endfor %}",
    "{% macro f(n) %}{{ f(n) ~ f(n) }}{% endmacro %}{{ f(1) }}",
    "{% macro f() %}{% call f() %}x{% endcall %}{% endmacro %}{{ f() }}",
]
CORPUS: list[tuple[str, str]] = [
    *(("escape", t) for t in ESCAPES),
    *(("cpu", t) for t in CPU),
    *(("memory", t) for t in MEMORY),
    *(("recursion", t) for t in RECURSION),
]


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one case ended."""

    blocked: bool
    seconds: float
    why: str


def write_gguf(path: Path, template: str) -> Path:
    """A tiny GGUF header (one small tensor) whose chat template is ``template``."""
    import gguf
    import numpy as np

    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_context_length(64)
    writer.add_chat_template(template)
    writer.add_tensor("token_embd.weight", np.zeros((4, 4), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def attempt(render: Callable[[], object], blame: str) -> Outcome:
    """Run ``render``; blocked means refused with a message that blames ``blame``."""
    start = time.perf_counter()
    try:
        render()
    except InvalidRequestError as exc:
        seconds = time.perf_counter() - start
        message = str(exc)
        return Outcome(blame in message, seconds, message)
    except Exception as exc:  # noqa: BLE001 - any other failure is a missed goal
        return Outcome(False, time.perf_counter() - start, f"{type(exc).__name__}: {exc}")
    return Outcome(False, time.perf_counter() - start, "rendered without a refusal")


def as_override(template: str) -> Outcome:
    """Render the way the engine renders with the user's override."""
    return attempt(
        lambda: render_chat(CHAT, template, "<bos>", "<eos>", source="override"),
        "chat template override was refused",
    )


def in_model_file(template: str, path: Path) -> Outcome:
    """Write a GGUF carrying ``template``, read it back and render as the engine does."""
    write_gguf(path, template)

    def render() -> object:
        info = inspect_gguf(path)
        return render_chat(CHAT, info.chat_template, "<bos>", "<eos>", source="model")

    return attempt(render, "model's chat template was refused")


def engine_cases(ctx: FaultContext) -> list[tuple[str, Outcome]]:
    """Hostile overrides through the real engine process with Gemma 3 270M."""
    from desktop_app.core.engine.protocol import (
        DoneEvent,
        EngineConfig,
        ErrorEvent,
        GenerateRequest,
    )
    from desktop_app.core.sampling import SamplingParams
    from desktop_app.workers.engine.client import EngineClient

    model = str(ctx.model())
    late = (
        "{% if messages|length > 1 %}{{ 'x'|center(10**10) }}{% endif %}"
        "{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}"
    )
    out: list[tuple[str, Outcome]] = []
    client = EngineClient()
    try:
        client.load(EngineConfig(model, n_ctx=256))
        start = time.perf_counter()
        try:
            client.load(EngineConfig(model, n_ctx=256, chat_template=CPU[0]))
            out.append(("engine: burner override at load", Outcome(False, 0, "it loaded")))
        except InvalidRequestError as exc:
            ok = "not a usable template" in str(exc) and client.loaded is not None
            out.append(
                ("engine: burner override at load", Outcome(ok, time.perf_counter() - start, ""))
            )
        client.load(EngineConfig(model, n_ctx=256, chat_template=late))
        request = GenerateRequest(params=SamplingParams.greedy(max_tokens=2), messages=CHAT)
        start = time.perf_counter()
        events = list(client.generate(request))
        seconds = time.perf_counter() - start
        last = events[-1]
        ok = isinstance(last, ErrorEvent) and "template override was refused" in last.message
        out.append(("engine: burner override on a chat", Outcome(ok, seconds, repr(last)[:200])))
        plain = GenerateRequest(
            params=SamplingParams.greedy(max_tokens=2), prompt="Hello", ignore_eos=True
        )
        last = list(client.generate(plain))[-1]
        ok = isinstance(last, DoneEvent)
        out.append(("engine: usable afterwards", Outcome(ok, 0.0, repr(last)[:200])))
    except GlassboxError as exc:
        out.append(("engine", Outcome(False, 0.0, f"{type(exc).__name__}: {exc}")))
    finally:
        client.close()
    return out


def run(ctx: FaultContext) -> FaultRow:
    """Every corpus template as an override and in a model file; a few through the engine."""
    n = min(ctx.n(len(CORPUS), len(CORPUS)), len(CORPUS))
    cases = CORPUS[:n]
    rss_before = rss_mb()
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    results: list[tuple[str, Outcome]] = []
    canaries: list[Path] = []
    for i, (kind, raw) in enumerate(cases):
        canary = ctx.workdir / f"canary-{i}"
        canaries.append(canary)
        template = raw.replace(C, str(canary))
        label = f"{kind} #{i} {raw[:60]!r}"
        results.append((f"override {label}", as_override(template)))
        gguf_path = ctx.workdir / f"case-{i}.gguf"
        results.append((f"model file {label}", in_model_file(template, gguf_path)))
        gguf_path.unlink(missing_ok=True)
    ctx.log(f"[templates] {len(results)} renders done")
    if not ctx.quick and ctx.runs is None:
        results.extend(engine_cases(ctx))
    rss_after = rss_mb()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - peak_before
    failures: list[str] = []
    ran = [c for c in canaries if c.exists()]
    for path in ran:
        failures.append(f"code ran: the canary {path.name} was written")
    for label, outcome in results:
        if not outcome.blocked:
            failures.append(f"{label}: not blocked ({outcome.why[:160]})")
        elif outcome.seconds > GOAL_S:
            failures.append(f"{label}: refused after {outcome.seconds:.2f} s")
    failed = sum(1 for _, o in results if not o.blocked or o.seconds > GOAL_S) + len(ran)
    slowest = max((o.seconds for _, o in results), default=0.0)
    blocked = sum(1 for _, o in results if o.blocked)
    return FaultRow(
        check="hostile templates",
        runs=len(results),
        failed=failed,
        goal=f"100% blocked, no code run, each ≤ {GOAL_S:g} s",
        measured=(
            f"{blocked}/{len(results)} blocked, {len(ran)} canaries, slowest {slowest:.2f} s, "
            f"RSS {rss_after - rss_before:+.0f} MB (peak {max(peak, 0):+.0f} MB)"
        ),
        details=describe(failures),
    )
