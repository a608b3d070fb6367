"""A Jinja2 sandbox for chat templates that also refuses CPU and memory burners.

Chat templates come from downloaded model files and from users' override files:
they are untrusted code. Jinja2's ``ImmutableSandboxedEnvironment`` stops them
from reaching Python internals, but not from asking for a string of ten
gigabytes (``{{ "a" * 10**10 }}``, ``{{ "x"|center(10**10) }}``) or from looping
for hours. This environment adds, on top of that sandbox:

* size checks before every operation that can build a large value: the ``*``,
  ``+`` and ``%`` operators, ``~`` concatenation, macro and block buffers, string
  methods (``center``, ``replace``, ``join``, ``format``…), filters (``center``,
  ``indent``, ``wordwrap``, ``format``, ``join``, ``tojson``…) and the output;
* a size check on every value a call or filter returns, and a budget for all
  the text made during one rendering;
* a time limit: a watchdog thread interrupts a rendering (or a compilation)
  that runs longer than :data:`TIME_LIMIT_S`.

A template that hits any of these raises :class:`TemplateRefused`. Real chat
templates render exactly as with llama-cpp-python's ``Jinja2ChatFormatter``.
"""

from __future__ import annotations

import ctypes
import inspect
import json
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from functools import update_wrapper
from types import BuiltinMethodType, MethodType
from typing import Any

import jinja2
import jinja2.ext
import jinja2.filters
import jinja2.utils
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError
from jinja2.parser import Parser
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedFormatter
from markupsafe import EscapeFormatter, Markup

#: A rendering or compilation that runs longer than this is stopped.
TIME_LIMIT_S = 0.4
#: The largest string (and output) a template may build, before the inputs' share.
BASE_CHARS = 2 * 1024 * 1024
#: The most items a list, or a sequence fed to a per-item filter, may have.
MAX_ITEMS = 200_000
#: The largest integer a template may compute, in bits.
MAX_INT_BITS = 65_536
#: All the text made in one rendering may be this many times the size limit.
TOTAL_FACTOR = 8


class TemplateRefused(BaseException):
    """The template asked for too much memory or time.

    A ``BaseException``, so that no ``except Exception`` inside Jinja2 swallows it.
    """


class _Budget:
    """The limits of one rendering, and what it has made so far."""

    __slots__ = ("limit", "spent", "total")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.total = limit * TOTAL_FACTOR
        self.spent = 0

    def check(self, size: int, what: str) -> None:
        if size > self.limit:
            raise TemplateRefused(
                f"{what} would make about {size:,} characters, over the limit of {self.limit:,}"
            )

    def charge(self, size: int, what: str) -> None:
        self.check(size, what)
        self.spent += size
        if self.spent > self.total:
            raise TemplateRefused(
                f"it builds more than {self.total:,} characters of text in all, "
                "far more than any chat needs"
            )


_LOCAL = threading.local()


def _budget() -> _Budget:
    budget: _Budget | None = getattr(_LOCAL, "budget", None)
    return budget if budget is not None else _Budget(BASE_CHARS)


# -- sizes ----------------------------------------------------------------------------


def _text_size(value: Any, limit: int) -> int:
    """About how many characters ``str(value)`` has; stops counting past ``limit``."""
    if isinstance(value, str):
        return len(value)
    total = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        obj, depth = stack.pop()
        if isinstance(obj, str):
            total += len(obj) + 4
        elif isinstance(obj, bool) or obj is None:
            total += 5
        elif isinstance(obj, int):
            total += 4 + obj.bit_length() * 31 // 100
        elif isinstance(obj, float):
            total += 24
        elif isinstance(obj, bytes):
            total += 4 * len(obj) + 3
        elif depth > 200:
            return limit + 1
        elif isinstance(obj, Mapping):
            total += 2
            for key, item in obj.items():
                stack.append((key, depth + 1))
                stack.append((item, depth + 1))
                total += 4
                if total > limit:
                    return total
        elif isinstance(obj, (list, tuple, set, frozenset)):
            total += 2
            for item in obj:
                stack.append((item, depth + 1))
                total += 2
                if total > limit:
                    return total
        elif isinstance(obj, jinja2.utils.Namespace):
            stack.append((obj._Namespace__attrs, depth + 1))
            total += 13
        else:
            total += 64
        if total > limit:
            return total
    return total


def _count(value: Any) -> int | None:
    """The number of items of a sized sequence or mapping, None for anything else."""
    if isinstance(value, (str, bytes, list, tuple, dict, set, frozenset)):
        return len(value)
    return None


def _check_result(value: Any, what: str) -> Any:
    """Charge what a call or filter returned, refusing huge strings and lists."""
    budget = _budget()
    if isinstance(value, (str, bytes)):
        budget.charge(len(value), what)
    elif isinstance(value, (list, tuple, dict, set, frozenset)):
        if len(value) > MAX_ITEMS:
            raise TemplateRefused(f"{what} makes {len(value):,} items, over {MAX_ITEMS:,}")
        budget.charge(len(value), what)
    elif isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise TemplateRefused(f"{what} makes an integer of {value.bit_length():,} bits")
    return value


def _as_int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return 0


_DIGITS = re.compile(r"\d+")


def _percent_size(fmt: str, args: Any) -> int:
    """An upper estimate of the size of ``fmt % args``."""
    limit = _budget().limit
    widths = sum(int(d) if len(d) < 12 else limit + 1 for d in _DIGITS.findall(fmt))
    if "*" in fmt:
        items = args if isinstance(args, tuple) else (args,)
        widths += sum(abs(a) for a in items if isinstance(a, int) and not isinstance(a, bool))
    return len(fmt) + widths + _text_size(args, limit)


def _check_percent(fmt: Any, args: Any) -> None:
    if isinstance(fmt, str):
        _budget().check(_percent_size(fmt, args), "% formatting")


def _check_join(sep: Any, items: list[Any]) -> None:
    budget = _budget()
    if len(items) > MAX_ITEMS:
        raise TemplateRefused(f"it joins {len(items):,} items, over {MAX_ITEMS:,}")
    size = len(sep) * len(items) if isinstance(sep, str) else 0
    for item in items:
        size += _text_size(item, budget.limit)
        if size > budget.limit:
            break
    budget.check(size, "a joined string")


def _check_replace(s: Any, old: Any, new: Any, count: Any = -1) -> None:
    if not (isinstance(s, str) and isinstance(old, str) and isinstance(new, str)):
        return
    n = s.count(old) if old else len(s) + 1
    if isinstance(count, int) and count >= 0:
        n = min(n, count)
    _budget().check(len(s) + n * (len(new) - len(old)), "a replaced string")


def _check_width(s: Any, width: Any, what: str) -> None:
    length = len(s) if isinstance(s, (str, bytes)) else 0
    _budget().check(max(length, _as_int(width)), what)


# -- str methods ------------------------------------------------------------------------


def _check_str_method(name: str, s: str | bytes, args: tuple[Any, ...], kwargs: Any) -> None:
    """Refuse a call of a string method whose result would be too large."""
    first = args[0] if args else None
    if name in ("center", "ljust", "rjust", "zfill"):
        _check_width(s, first if first is not None else kwargs.get("width"), f"str.{name}")
    elif name == "expandtabs":
        size = _as_int(first if first is not None else kwargs.get("tabsize", 8))
        _budget().check(len(s) * max(size, 1), "str.expandtabs")
    elif name == "join" and args:
        items = list(args[0])
        _check_join(s, items)
    elif name == "replace" and len(args) >= 2:
        _check_replace(s, args[0], args[1], args[2] if len(args) > 2 else kwargs.get("count", -1))
    elif name == "translate" and args and isinstance(args[0], Mapping):
        longest = max((_text_size(v, _budget().limit) for v in args[0].values()), default=1)
        _budget().check(len(s) * max(longest, 1), "str.translate")


# -- formatting with str.format ---------------------------------------------------------


class _SizedFormatter(SandboxedFormatter):
    """The sandbox's ``str.format``, refusing huge widths and precisions."""

    def __init__(self, env: jinja2.Environment, **kwargs: Any) -> None:
        super().__init__(env, **kwargs)
        self._made = 0

    def format_field(self, value: Any, format_spec: str) -> Any:
        budget = _budget()
        for digits in _DIGITS.findall(format_spec):
            if len(digits) > 11 or int(digits) > budget.limit:
                raise TemplateRefused(
                    f"its format specification {format_spec[:40]!r} asks for a field "
                    f"over {budget.limit:,} characters"
                )
        budget.check(_text_size(value, budget.limit), "a formatted field")
        out = super().format_field(value, format_spec)
        self._made += len(out)
        budget.check(self._made, "a formatted string")
        return out


class _SizedEscapeFormatter(_SizedFormatter, EscapeFormatter):
    pass


# -- the environment --------------------------------------------------------------------


class IgnoreGenerationTags(jinja2.ext.Extension):
    """Pass-through for Hugging Face's ``{% generation %}`` tag (as llama-cpp-python)."""

    tags = {"generation"}  # noqa: RUF012 - as Jinja2 declares it

    def parse(self, parser: Parser) -> Any:
        parser.stream.skip(1)
        return parser.parse_statements(("name:endgeneration",), drop_needle=True)


def tojson(
    x: Any,
    ensure_ascii: bool = False,
    indent: int | str | None = None,
    separators: tuple[str, str] | None = None,
    sort_keys: bool = False,
) -> str:
    """Transformers' (and llama-cpp-python's) ``tojson``, with its size checked."""
    budget = _budget()
    budget.check(_text_size(x, budget.limit), "JSON text")
    if (isinstance(indent, int) and indent > 64) or (isinstance(indent, str) and len(indent) > 64):
        raise TemplateRefused("its tojson indent is over 64 characters")
    return json.dumps(
        x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys
    )


def strftime_now(f: str) -> str:
    """The current local time, formatted (a global of chat templates)."""
    if isinstance(f, str) and len(f) > 1000:
        raise TemplateRefused("its strftime_now format is over 1,000 characters")
    return datetime.now().strftime(f)


def raise_exception(message: str) -> None:
    """A template's own refusal of a conversation (a global of chat templates)."""
    raise ValueError(message)


def _lipsum(n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> str:
    if _as_int(n) > 100 or _as_int(max) > 1000:
        raise TemplateRefused("it asks lipsum for more than 100 paragraphs of 1,000 words")
    out: str = jinja2.utils.generate_lorem_ipsum(n=n, html=html, min=min, max=max)
    return out


#: Filters checked before they run: name → check(bound arguments).
_PER_ITEM = {
    "batch", "dictsort", "groupby", "join", "list", "map", "max", "min", "reject",
    "rejectattr", "reverse", "select", "selectattr", "slice", "sort", "sum", "unique",
}  # fmt: skip


def _filter_check(name: str, env: jinja2.Environment, args: dict[str, Any]) -> None:
    value = args.get("value", args.get("s"))
    if name in _PER_ITEM:
        n = _count(value)
        if n is not None and n > MAX_ITEMS:
            raise TemplateRefused(f"its {name} filter gets {n:,} items, over {MAX_ITEMS:,}")
    if name == "center":
        _check_width(value, args.get("width", 80), "the center filter")
    elif name == "indent":
        width = args.get("width", 4)
        w = len(width) if isinstance(width, str) else _as_int(width)
        text = str(value) if isinstance(value, str) else ""
        _budget().check(len(text) + (text.count("\n") + 1) * max(w, 0), "the indent filter")
    elif name == "wordwrap":
        text = value if isinstance(value, str) else ""
        wrap = args.get("wrapstring") or env.newline_sequence
        lines = 2 * len(text) // max(_as_int(args.get("width", 79)), 1) + text.count("\n") + 1
        _budget().check(len(text) + lines * len(str(wrap)), "the wordwrap filter")
    elif name == "format":
        _check_percent(value, args.get("kwargs") or args.get("args", ()))
    elif name == "join":
        items = args["value"] = list(value) if value is not None else []
        attribute = args.get("attribute")
        if attribute is not None:
            get = jinja2.filters.make_attrgetter(env, attribute)
            items = [get(i) for i in items]
        _check_join(args.get("d", ""), items)
    elif name == "replace":
        _check_replace(value, args.get("old"), args.get("new"), args.get("count") or -1)
    elif name in ("batch", "slice"):
        n = _as_int(args.get("linecount", args.get("slices")))
        if n > MAX_ITEMS:
            raise TemplateRefused(f"its {name} filter asks for {n:,} items, over {MAX_ITEMS:,}")
    elif name in ("string", "pprint", "urlencode", "e", "escape", "forceescape"):
        _budget().check(_text_size(value, _budget().limit), f"the {name} filter")
    elif name == "sum":
        items = args["iterable"] = list(args.get("iterable", ()))
        if len(items) > MAX_ITEMS:
            raise TemplateRefused(f"its sum filter gets {len(items):,} items")
        sizes = [len(i) for i in items if isinstance(i, (str, list, tuple))]
        if sizes and sum(sizes) * len(sizes) > 20 * MAX_ITEMS * 100:
            raise TemplateRefused("its sum filter adds up sequences that make too much work")
        _budget().check(sum(sizes), "the sum filter")


_CHECKED_ARGS = {
    "center", "indent", "wordwrap", "format", "join", "replace", "batch", "slice",
    "string", "pprint", "urlencode", "e", "escape", "forceescape", "sum",
} | _PER_ITEM  # fmt: skip


def _guard_filter(name: str, func: Callable[..., Any], env: jinja2.Environment) -> Any:
    """``func`` with its arguments checked before and its result after."""
    what = f"the {name} filter"
    if name not in _CHECKED_ARGS:

        def plain(*args: Any, **kwargs: Any) -> Any:
            return _check_result(func(*args, **kwargs), what)

        return update_wrapper(plain, func)
    signature = inspect.signature(func)
    names = list(signature.parameters)
    # Jinja2's async variants take a pass argument that their signature lacks.
    passed = getattr(func, "jinja_pass_arg", None) is not None
    skip = 1 if passed and names[:1] not in (["context"], ["eval_ctx"], ["environment"]) else 0
    if passed and not skip:
        names = names[1:]

    def checked(*args: Any, **kwargs: Any) -> Any:
        try:
            bound = signature.bind(*args[skip:], **kwargs)
        except TypeError:
            return _check_result(func(*args, **kwargs), what)  # the filter's own error
        params = dict(bound.arguments)
        if names:
            params.setdefault("value", params.get(names[0]))
        _filter_check(name, env, params)
        if name == "join":  # the items were read once; hand them over as a list
            bound.arguments[names[0]] = params["value"]
        elif name == "sum":
            bound.arguments["iterable"] = params["iterable"]
        return _check_result(func(*args[:skip], *bound.args, **bound.kwargs), what)

    return update_wrapper(checked, func)


def _sized_join(joiner: Callable[[Any], str], parts: tuple[Any, ...]) -> str:
    budget = _budget()
    size = 0
    for part in parts:
        size += _text_size(part, budget.limit)
        if size > budget.limit:
            break
    budget.charge(size, "a ~ concatenation")
    return joiner(parts)


class _ConcatCodeGenerator(CodeGenerator):
    """``a ~ b`` compiles to ``environment.sized_concat(str_join, (a, b, ))``."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        if frame.eval_ctx.volatile:
            func_name = "(markup_join if context.eval_ctx.volatile else str_join)"
        elif frame.eval_ctx.autoescape:
            func_name = "markup_join"
        else:
            func_name = "str_join"
        self.write(f"environment.sized_concat({func_name}, (")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class ChatTemplateEnvironment(ImmutableSandboxedEnvironment):
    """llama-cpp-python's chat-template environment, with size and time limits."""

    code_generator_class = _ConcatCodeGenerator
    intercepted_binops = frozenset({"+", "*", "%", "**", "//", "/", "-"})

    def __init__(self) -> None:
        super().__init__(
            loader=jinja2.BaseLoader(),
            trim_blocks=True,
            lstrip_blocks=True,
            extensions=[IgnoreGenerationTags, jinja2.ext.loopcontrols],
            finalize=self._finalize,
        )
        self.filters["tojson"] = tojson
        self.filters = {name: _guard_filter(name, f, self) for name, f in self.filters.items()}
        self.globals["lipsum"] = _lipsum
        self.concat = self._sized_concat  # type: ignore[method-assign]

    sized_concat = staticmethod(_sized_join)

    # Every ``{{ … }}`` goes through here before it is turned into text.
    @staticmethod
    def _finalize(value: Any) -> Any:
        budget = _budget()
        budget.charge(_text_size(value, budget.limit), "an output")
        return value

    @staticmethod
    def _sized_concat(parts: Any) -> str:
        """Joins the buffers of macros, ``{% set %}`` blocks and ``caller()``."""
        items = parts if isinstance(parts, list) else list(parts)
        budget = _budget()
        size = 0
        for part in items:
            size += len(part) if isinstance(part, str) else _text_size(part, budget.limit)
            if size > budget.limit:
                break
        budget.charge(size, "a block of text")
        return "".join(items)

    def unsafe_undefined(self, obj: Any, attribute: str) -> jinja2.Undefined:
        """Refuse at once: the plain sandbox's undefined value could be chained away.

        Jinja2 returns an undefined value that fails only when used, but
        ``()|attr('__class__')|attr('__base__')`` turns it into a harmless one and
        the probe goes unnoticed. No real chat template reads these attributes.
        """
        raise SecurityError(
            f"access to attribute {attribute!r} of {type(obj).__name__!r} is unsafe"
        )

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        """``*``, ``+``, ``%`` and ``**`` with their result's size checked first."""
        budget = _budget()
        if operator == "*":
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, (str, bytes, list, tuple)) and isinstance(n, int):
                    size = len(seq) * max(n, 0)
                    if isinstance(seq, (list, tuple)) and size > MAX_ITEMS:
                        raise TemplateRefused(f"it makes a list of {size:,} items")
                    budget.charge(size, "a repeated string")
            ints = isinstance(left, int) and isinstance(right, int)
            if ints and left.bit_length() + right.bit_length() > MAX_INT_BITS:
                raise TemplateRefused("it multiplies integers far too large")
        elif operator == "**":
            ints = isinstance(left, int) and isinstance(right, int)
            if ints and abs(left) > 1 and right > 0 and left.bit_length() * right > MAX_INT_BITS:
                raise TemplateRefused(f"it raises a number to the power {right:,}")
        elif operator == "+":
            if isinstance(left, (str, bytes)) and isinstance(right, (str, bytes)):
                budget.charge(len(left) + len(right), "a concatenated string")
            elif isinstance(left, (list, tuple)) and isinstance(right, (list, tuple)):
                size = len(left) + len(right)
                if size > MAX_ITEMS:
                    raise TemplateRefused(f"it makes a list of {size:,} items")
                budget.charge(size, "a list")
        elif operator == "%":
            _check_percent(left, right)
        return _check_result(self.binop_table[operator](left, right), f"the {operator} operator")

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        """A call from the template, refused first when it would build too much."""
        if isinstance(__obj, (BuiltinMethodType, MethodType)):
            owner = getattr(__obj, "__self__", None)
            if isinstance(owner, (str, bytes)):
                _check_str_method(__obj.__name__, owner, args, kwargs)
        result = super().call(__context, __obj, *args, **kwargs)
        return _check_result(result, "a call")

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """The sandbox's ``str.format``, with field widths and sizes checked."""
        if not isinstance(value, (MethodType, BuiltinMethodType)) or value.__name__ not in (
            "format",
            "format_map",
        ):
            return None
        f_self: Any = value.__self__
        if not isinstance(f_self, str):
            return None
        str_type: type[str] = type(f_self)
        is_format_map = value.__name__ == "format_map"

        def wrapper(*args: Any, **kwargs: Any) -> str:
            formatter: _SizedFormatter
            if isinstance(f_self, Markup):
                formatter = _SizedEscapeFormatter(self, escape=f_self.escape)
            else:
                formatter = _SizedFormatter(self)
            if is_format_map:
                if kwargs:
                    raise TypeError("format_map() takes no keyword arguments")
                if len(args) != 1:
                    raise TypeError(f"format_map() takes exactly one argument ({len(args)} given)")
                kwargs = args[0]
                args = ()
            return str_type(formatter.vformat(f_self, args, kwargs))

        return update_wrapper(wrapper, value)


# -- the watchdog -----------------------------------------------------------------------


class _TimeUp(TemplateRefused):
    """Raised asynchronously in the rendering thread by the watchdog."""


class _Watchdog:
    """Interrupts the current thread if it is still inside ``with`` after ``seconds``."""

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._tid = threading.get_ident()
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._state = "running"
        self._thread = threading.Thread(target=self._watch, name="template-watchdog", daemon=True)

    def _watch(self) -> None:
        if self._done.wait(self._seconds):
            return
        while True:
            with self._lock:
                if self._state == "done":
                    return
                self._state = "fired"
                ctypes.pythonapi.PyThreadState_SetAsyncExc(
                    ctypes.c_ulong(self._tid), ctypes.py_object(_TimeUp)
                )
            # Again and again: a __del__ or callback could swallow a single one.
            if self._done.wait(0.05):
                return

    def __enter__(self) -> _Watchdog:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            fired = self._state == "fired"
            self._state = "done"
        self._done.set()
        if fired:
            # One may be pending still: clear it so it cannot surface later.
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self._tid), None)
            raise _TimeUp()


def guarded(seconds: float, work: Callable[[], Any]) -> Any:
    """``work()``, stopped with :class:`TemplateRefused` past ``seconds``."""
    try:
        with _Watchdog(seconds):
            return work()
    except _TimeUp:
        raise TemplateRefused(
            f"it ran for more than {seconds:g} s (a loop or a recursion far longer than "
            "any chat needs)"
        ) from None


# -- compiling and rendering ------------------------------------------------------------


def compile_template(source: str) -> jinja2.Template:
    """The template compiled in the guarded environment (within the time limit)."""
    env = ChatTemplateEnvironment()
    template: jinja2.Template = guarded(TIME_LIMIT_S, lambda: env.from_string(source))
    return template


def render(template: jinja2.Template, limit: int, **variables: Any) -> str:
    """Render within the size ``limit`` (characters) and the time limit."""

    def work() -> str:
        _LOCAL.budget = _Budget(limit)
        try:
            out: list[str] = []
            size = 0
            stream: Iterator[str] = template.generate(**variables)
            for piece in stream:
                size += len(piece)
                if size > limit:
                    raise TemplateRefused(
                        f"its output grows past {limit:,} characters, far more than the chat"
                    )
                out.append(piece)
            return "".join(out)
        finally:
            _LOCAL.budget = None

    text: str = guarded(TIME_LIMIT_S, work)
    return text
