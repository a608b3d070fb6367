"""A calculator the model can call: arithmetic read with ``ast``, never ``eval``.

Only numbers, + - * / // % **, parentheses, a few math functions and the
constants pi and e are accepted; a name, an attribute, a call of anything else, a
string or a comprehension is refused. Work is bounded before it is done: the
expression's length and size, an exponent's size and the size of a power's result
(so ``9**9**9`` is refused at once rather than computed for minutes).
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Mapping
from typing import Any

from desktop_app.core.tools.spec import FunctionTool, ToolError, ToolResult, ToolSpec

MAX_EXPRESSION_CHARS = 300
MAX_NODES = 200
#: An integer result of more bits than this is refused (about 3,000 digits).
MAX_INT_BITS = 10_000
MAX_EXPONENT = 10_000
#: factorial's largest argument.
MAX_FACTORIAL = 1000

Number = int | float

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.UAdd: operator.pos,
    ast.USub: operator.neg,
}
_FUNCTIONS: dict[str, Callable[..., Number]] = {
    "sqrt": math.sqrt, "abs": abs, "round": round, "floor": math.floor, "ceil": math.ceil,
    "exp": math.exp, "log": math.log, "log10": math.log10, "log2": math.log2,
    "sin": math.sin, "cos": math.cos, "tan": math.tan, "asin": math.asin,
    "acos": math.acos, "atan": math.atan, "degrees": math.degrees,
    "radians": math.radians, "min": min, "max": max, "factorial": math.factorial,
}  # fmt: skip
_CONSTANTS = {"pi": math.pi, "e": math.e, "tau": math.tau}

SPEC = ToolSpec(
    name="calculator",
    description=(
        "Evaluate an arithmetic expression exactly, e.g. '(17 * 23) + 2**10' or "
        "'sqrt(2) * pi'. Supports + - * / // % ** and parentheses, sqrt, abs, round, "
        "floor, ceil, exp, log, log10, log2, sin, cos, tan, asin, acos, atan, degrees, "
        "radians, min, max, factorial, and the constants pi, e and tau."
    ),
    parameters={
        "type": "object",
        "properties": {
            "expression": {
                "type": "string",
                "maxLength": MAX_EXPRESSION_CHARS,
                "description": "The expression to evaluate.",
            }
        },
        "required": ["expression"],
    },
    read_only=True,
)


def evaluate(expression: str) -> Number:
    """The value of ``expression``; anything but arithmetic raises ``ToolError``."""
    text = expression.strip()
    if not text:
        raise ToolError("The expression is empty.")
    if len(text) > MAX_EXPRESSION_CHARS:
        raise ToolError(f"The expression is longer than {MAX_EXPRESSION_CHARS} characters.")
    try:
        tree = ast.parse(text.replace("^", "**").replace("×", "*").replace("÷", "/"), mode="eval")
    except SyntaxError as exc:
        raise ToolError(f"{expression!r} is not an arithmetic expression ({exc.msg}).") from exc
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise ToolError(f"The expression has more than {MAX_NODES} parts.")
    try:
        return _eval(tree.body)
    except ZeroDivisionError as exc:
        raise ToolError("Division by zero.") from exc
    except (OverflowError, ValueError, TypeError) as exc:
        raise ToolError(f"The expression cannot be computed ({exc}).") from exc


def _eval(node: ast.AST) -> Number:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise ToolError(f"Only numbers are allowed, not {node.value!r}.")
        return node.value
    if isinstance(node, ast.BinOp):
        left, right = _eval(node.left), _eval(node.right)
        if isinstance(node.op, ast.Pow):
            return _power(left, right)
        op = _BINARY.get(type(node.op))
        if op is None:
            raise ToolError(f"The operator {type(node.op).__name__} is not allowed.")
        if isinstance(node.op, ast.Mult) and isinstance(left, int) and isinstance(right, int):
            _check_bits(abs(left).bit_length() + abs(right).bit_length())
        result: Number = op(left, right)
        return result
    if isinstance(node, ast.UnaryOp):
        uop = _UNARY.get(type(node.op))
        if uop is None:
            raise ToolError(f"The operator {type(node.op).__name__} is not allowed.")
        value: Number = uop(_eval(node.operand))
        return value
    if isinstance(node, ast.Name):
        if node.id in _CONSTANTS:
            return _CONSTANTS[node.id]
        raise ToolError(f"Unknown name {node.id!r}: only pi, e and tau are known.")
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCTIONS:
            raise ToolError("Only the listed math functions can be called.")
        if node.keywords:
            raise ToolError("Functions take plain arguments here, no keywords.")
        args = [_eval(a) for a in node.args]
        if node.func.id == "factorial" and args and abs(args[0]) > MAX_FACTORIAL:
            raise ToolError(f"factorial is limited to {MAX_FACTORIAL}.")
        return _FUNCTIONS[node.func.id](*args)
    raise ToolError(f"{type(node).__name__} is not allowed in an arithmetic expression.")


def _check_bits(bits: float) -> None:
    if bits > MAX_INT_BITS:
        raise ToolError("The result would be too large to compute.")


def _power(base: Number, exponent: Number) -> Number:
    if abs(exponent) > MAX_EXPONENT:
        raise ToolError(f"Exponents are limited to ±{MAX_EXPONENT}.")
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0:
        _check_bits(max(abs(base).bit_length() - 1, 0) * exponent)
    result: Number = base**exponent
    if isinstance(result, complex):
        raise ToolError("The result is not a real number.")
    return result


def format_number(value: Number) -> str:
    """A result as the model is told it: integers exactly, floats to 12 significant digits."""
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.12g}"
    return str(value)


def _run(arguments: Mapping[str, Any]) -> ToolResult:
    expression = str(arguments.get("expression", ""))
    return ToolResult(f"{expression} = {format_number(evaluate(expression))}")


def calculator() -> FunctionTool:
    """The calculator tool."""
    return FunctionTool(SPEC, _run)
