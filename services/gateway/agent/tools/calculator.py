"""``calculator``: arithmetic and common functions, evaluated by walking a whitelisted ``ast``.

Nothing is ever passed to ``eval``: the expression is parsed in ``eval`` mode and only number
literals, the operators below, the names in :data:`CONSTANTS` and calls of :data:`FUNCTIONS`
are allowed. Powers and results are bounded, so ``9 ** 9 ** 9`` is an error, not a hang.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from typing import Any

from docentlib.agent.protocol import ToolSpec
from services.gateway.agent.tools.base import RunContext, ToolError, ToolResult

SPEC = ToolSpec(
    name="calculator",
    description="arithmetic (+ - * / **, sqrt, round, min, max)",
    parameters={
        "type": "object",
        "properties": {"expression": {"type": "string", "minLength": 1, "maxLength": 120}},
        "required": ["expression"],
        "additionalProperties": False,
    },
)

MAX_CHARS = 200
MAX_EXPONENT = 1000
MAX_MAGNITUDE = 1e100

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
    ast.BitXor: operator.pow,  # people write 2^10 for a power; there are no bitwise operators
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.UAdd: operator.pos,
    ast.USub: operator.neg,
}
FUNCTIONS: dict[str, Callable[..., Any]] = {
    "sqrt": math.sqrt,
    "log": math.log,
    "log10": math.log10,
    "log2": math.log2,
    "exp": math.exp,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "floor": math.floor,
    "ceil": math.ceil,
    "abs": abs,
    "round": round,
    "min": min,
    "max": max,
}
CONSTANTS = {"pi": math.pi, "e": math.e}


def evaluate(expression: str) -> float | int:
    """The value of ``expression``; :class:`ToolError` (``bad_arguments``) saying why not."""
    text = expression.strip().replace("×", "*").replace("÷", "/").replace("−", "-")
    if not text:
        raise ToolError("the expression is empty", "bad_arguments")
    if len(text) > MAX_CHARS:
        raise ToolError(f"the expression is longer than {MAX_CHARS} characters", "bad_arguments")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        raise ToolError(f"cannot parse {expression!r} as arithmetic", "bad_arguments") from None
    try:
        value = _eval(tree.body)
    except ZeroDivisionError:
        raise ToolError("division by zero", "bad_arguments") from None
    except (ValueError, OverflowError, TypeError) as exc:
        raise ToolError(f"cannot evaluate {expression!r}: {exc}", "bad_arguments") from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ToolError(f"{expression!r} is not a number", "bad_arguments")
    if isinstance(value, float) and not math.isfinite(value):
        raise ToolError(f"{expression!r} is not a finite number", "bad_arguments")
    return value


def _eval(node: ast.AST) -> Any:
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _eval(node.left), _eval(node.right)
        if type(node.op) in (ast.Pow, ast.BitXor) and abs(right) > MAX_EXPONENT:
            raise ValueError(f"exponent {right} is larger than {MAX_EXPONENT}")
        return _bounded(_BINARY[type(node.op)](left, right))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_eval(node.operand))
    if isinstance(node, ast.Name) and node.id in CONSTANTS:
        return CONSTANTS[node.id]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        if node.func.id not in FUNCTIONS:
            raise ValueError(f"unknown function {node.func.id!r}; known: {sorted(FUNCTIONS)}")
        if node.keywords:
            raise ValueError("functions take positional arguments only")
        return _bounded(FUNCTIONS[node.func.id](*[_eval(a) for a in node.args]))
    if isinstance(node, ast.Name):
        raise ValueError(f"unknown name {node.id!r}; known constants: {sorted(CONSTANTS)}")
    raise ValueError(f"{type(node).__name__} is not allowed")


def _bounded(value: Any) -> Any:
    if isinstance(value, int | float) and abs(value) > MAX_MAGNITUDE:
        raise OverflowError(f"the result is larger than {MAX_MAGNITUDE:g}")
    return value


def format_number(value: float | int) -> str:
    """Integers as integers, floats without float noise (0.1 + 0.2 -> 0.3)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, float):
        return f"{value:.10g}"
    return str(value)


class CalculatorTool:
    """Usage: ``(await CalculatorTool().run({"expression": "sqrt(16) + 1"})).text == "5"``."""

    spec = SPEC

    def __init__(self, timeout_s: float = 1.0) -> None:
        self.timeout_s = timeout_s

    async def run(self, arguments: dict[str, Any], context: RunContext) -> ToolResult:
        return ToolResult(format_number(evaluate(str(arguments["expression"]))))

    async def close(self) -> None:
        return None
