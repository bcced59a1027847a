"""A safe calculator for expressions like ``tanh(a*b + c)``: parsed with ``ast``, never ``eval``.

Allowed: numbers, variable names, ``+ - * / **``, unary ``-`` and ``+``, parentheses,
and calls of the functions in ``FUNCTIONS``. Everything else (attributes, subscripts,
lambdas, comprehensions, strings, other calls...) is refused with an
``ExpressionError`` that shows the expression with a caret under the offending part:

    tanh(a.b)
         ^^^
"""
from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Mapping

from glassgrad.engine import Value, ops

# The functions an expression may call: every built-in op with a function name in the op
# table, applied by its Value method (abs(x) is Value.__abs__). A family such as leaky_relu
# takes its constant as an optional second argument: leaky_relu(x) or leaky_relu(x, 0.2).
FUNCTIONS: dict[str, Callable[..., Value]] = {
    name: getattr(Value, op.methods[0]) for name, op in ops.FUNCTIONS.items()}
_CONSTANTS = {name: op.parameter for name, op in ops.FUNCTIONS.items()  # leaky_relu: "slope"
              if isinstance(op, ops.OpFamily)}
_ARGUMENT_COUNTS = {name: (1, 2) if name in _CONSTANTS else (1,) for name in FUNCTIONS}

_OPERATORS: dict[type[ast.AST], Callable[..., Value | float]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.Pow: operator.pow}
_UNARY: dict[type[ast.AST], Callable[..., Value | float]] = {ast.USub: operator.neg, ast.UAdd: operator.pos}

_REFUSED = {  # what to say about the Python syntax we do not allow
    ast.Attribute: "attribute access (x.name) is",
    ast.Subscript: "subscripts (x[i]) are",
    ast.Lambda: "lambdas are",
    ast.ListComp: "comprehensions are",
    ast.SetComp: "comprehensions are",
    ast.DictComp: "comprehensions are",
    ast.GeneratorExp: "comprehensions are",
    ast.Compare: "comparisons are",
    ast.BoolOp: "and/or are",
    ast.IfExp: "if/else is",
    ast.NamedExpr: "assignments (:=) are",
    ast.Starred: "* arguments are",
    ast.List: "lists are",
    ast.Tuple: "tuples are",
    ast.Dict: "dicts are",
    ast.Set: "sets are",
    ast.JoinedStr: "f-strings are",
    ast.Await: "await is",
}
ALLOWED = "numbers, variables, + - * / ** and the functions " + ", ".join(FUNCTIONS)


class ExpressionError(ValueError):
    """A bad expression; ``str()`` shows it with a caret under the offending part."""

    def __init__(self, message: str, text: str, start: int, end: int | None = None) -> None:
        self.message, self.text, self.start = message, text, start
        self.end = max(end if end is not None else start + 1, start + 1)
        underline = " " * start + "^" * (self.end - start)
        super().__init__(f"{message}\n    {text}\n    {underline}")


class Expression:
    """A parsed, checked expression: ``parse_expression("tanh(a*b + c)")``."""

    def __init__(self, text: str, tree: ast.Expression) -> None:
        self.text = text
        self.tree = tree

    @property
    def variables(self) -> tuple[str, ...]:
        """The variable names, in the order they first appear."""
        names = sorted((node.col_offset, node.id) for node in ast.walk(self.tree)
                       if isinstance(node, ast.Name) and node.id not in FUNCTIONS)
        return tuple(dict.fromkeys(name for _, name in names))

    def evaluate(self, values: Mapping[str, float | Value]) -> Value:
        """The expression's Value, with numbers in ``values`` turned into labelled Values.

        Walks the syntax tree with an explicit stack (children first, left to right),
        so a very long expression cannot exhaust Python's recursion limit.
        """
        variables = {name: x if isinstance(x, Value) else Value(x, label=name)
                     for name, x in values.items()}
        results: list[Value | float] = []
        stack: list[tuple[ast.AST, bool]] = [(self.tree.body, False)]
        while stack:
            node, children_done = stack.pop()
            children = _children(node)
            if not children_done:
                stack.append((node, True))
                stack.extend((child, False) for child in reversed(children))
                continue
            arguments = results[len(results) - len(children):]
            del results[len(results) - len(children):]
            results.append(self._apply(node, arguments, variables))
        result = results.pop()
        return result if isinstance(result, Value) else Value(result)

    def _apply(self, node: ast.AST, arguments: list, variables: Mapping[str, Value]) -> Value | float:
        """The value of one node, from its children's values (Values or plain floats)."""
        if isinstance(node, ast.Name):
            if node.id not in variables:
                raise self._error(f"unknown variable {node.id!r}: give its value, e.g. {node.id}=1.5", node)
            return variables[node.id]
        result: Value | float | complex
        try:
            if isinstance(node, ast.Constant):
                assert isinstance(node.value, (int, float))  # parse_expression allows no other constant
                result = float(node.value)
            elif isinstance(node, ast.BinOp):
                result = _OPERATORS[type(node.op)](*arguments)
            elif isinstance(node, ast.UnaryOp):
                result = _UNARY[type(node.op)](*arguments)
            else:
                assert isinstance(node, ast.Call)  # parse_expression allows no other node with children
                result = self._call(node, arguments)
        except ExpressionError:
            raise
        except (ValueError, ZeroDivisionError, OverflowError, TypeError) as error:
            if any(isinstance(x, Value) for x in arguments):
                raise self._error(str(error), node) from None  # the engine's message names the op
            raise self._error(f"{self._source(node)}: {_plain_reason(error, node)}", node) from None
        if isinstance(result, complex):  # (-8) ** 0.5 on plain numbers is complex in Python
            raise self._error(f"{self._source(node)}: a negative base needs a whole-number exponent "
                              "(the result would be a complex number)", node)
        if isinstance(result, float) and not math.isfinite(result):  # float arithmetic gives inf silently
            raise self._error(f"{self._source(node)}: {_plain_reason(OverflowError(), node)}", node)
        return result

    def _source(self, node: ast.AST) -> str:
        start, end = _columns(self.text, node)
        return self.text[start:end]

    def _call(self, node: ast.Call, arguments: list) -> Value:
        assert isinstance(node.func, ast.Name)  # parse_expression allows calls by name only
        name = node.func.id
        if len(arguments) == 2 and isinstance(arguments[1], Value):
            raise self._error(f"the {_CONSTANTS[name]} of {name} must be a plain number", node.args[1])
        x = arguments[0] if isinstance(arguments[0], Value) else Value(arguments[0])
        return FUNCTIONS[name](x, *arguments[1:])

    def _error(self, message: str, node: ast.AST) -> ExpressionError:
        start, end = _columns(self.text, node)
        return ExpressionError(message, self.text, start, end)


def parse_expression(text: str) -> Expression:
    """Parse and check ``text``; raises ExpressionError (with a caret) if it is not allowed."""
    text = text.strip()
    if "\n" in text:
        raise ExpressionError("write the expression on one line", text.replace("\n", " "),
                              text.index("\n"))
    try:
        tree = ast.parse(text, mode="eval")
    except (RecursionError, MemoryError):
        raise ExpressionError("the expression is too long or too deeply nested for Python's "
                              "parser; split it into parts", text[:60] + "...", 0) from None
    except SyntaxError as error:
        start = (error.offset or 1) - 1
        end = (error.end_offset or 0) - 1 if error.lineno == getattr(error, "end_lineno", None) else None
        raise ExpressionError(f"not a valid expression ({error.msg})", text, start,
                              end if end and end > start else None) from None
    called = {node.func for node in ast.walk(tree) if isinstance(node, ast.Call)}
    for node in ast.walk(tree):
        problem = "" if node in called and isinstance(node, ast.Name) else _problem(node)
        if problem:
            if isinstance(node, ast.BinOp):
                start, end = _operator_columns(text, node)
            elif isinstance(node, ast.Call) and not (
                    isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS):
                start, end = _columns(text, node.func)  # point at what is called
            else:
                start, end = _columns(text, node)
            raise ExpressionError(f"{problem} (allowed: {ALLOWED})", text, start, end)
    return Expression(text, tree)


def _problem(node: ast.AST) -> str:
    """Why ``node`` is not allowed, or "" if it is."""
    if isinstance(node, (ast.Expression, ast.Load)) or type(node) in _OPERATORS or type(node) in _UNARY:
        return ""
    if isinstance(node, ast.BinOp):
        return "" if type(node.op) in _OPERATORS else f"the operator {_operator_text(node)!r} is not allowed"
    if isinstance(node, ast.UnaryOp):
        return "" if type(node.op) in _UNARY else f"the operator {type(node.op).__name__} is not allowed"
    if isinstance(node, ast.Constant):
        number = isinstance(node.value, (int, float)) and not isinstance(node.value, bool)
        return "" if number else f"only numbers are allowed as constants, not {node.value!r}"
    if isinstance(node, ast.Name):
        return f"{node.id!r} is a function: call it, e.g. {node.id}(x)" if node.id in FUNCTIONS else ""
    if isinstance(node, ast.Call):
        return _call_problem(node)
    return f"{_REFUSED.get(type(node), type(node).__name__ + ' is')} not allowed"


def _call_problem(node: ast.Call) -> str:
    if not isinstance(node.func, ast.Name):
        return "only the listed functions can be called, by name"
    name = node.func.id
    if name not in FUNCTIONS:
        return f"unknown function {name!r}"
    if node.keywords:
        return f"{name}() takes no keyword arguments"
    counts = _ARGUMENT_COUNTS[name]
    if len(node.args) not in counts:
        expected = " or ".join(str(n) for n in counts)
        return f"{name}() takes {expected} argument(s), got {len(node.args)}"
    return ""


def _plain_reason(error: Exception, node: ast.AST) -> str:
    """Python's own message for arithmetic on plain floats, in words for humans."""
    if isinstance(error, OverflowError):
        what = "the number" if isinstance(node, ast.Constant) else "the result"
        return f"{what} is too large for a float"
    if isinstance(error, ZeroDivisionError):
        return "division by zero"
    return str(error)


def _children(node: ast.AST) -> list[ast.AST]:
    if isinstance(node, ast.BinOp):
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        return [node.operand]
    if isinstance(node, ast.Call):
        return list(node.args)
    return []


def _columns(text: str, node: ast.AST) -> tuple[int, int]:
    """Where ``node`` is in ``text``, as character columns (ast counts UTF-8 bytes)."""
    encoded = text.encode("utf-8")
    start = len(encoded[: getattr(node, "col_offset", 0)].decode("utf-8", "ignore"))
    end = len(encoded[: getattr(node, "end_col_offset", None) or len(encoded)].decode("utf-8", "ignore"))
    return start, end


def _operator_text(node: ast.BinOp) -> str:
    return {ast.Mod: "%", ast.FloorDiv: "//", ast.MatMult: "@", ast.BitAnd: "&", ast.BitOr: "|",
            ast.BitXor: "^", ast.LShift: "<<", ast.RShift: ">>"}.get(type(node.op), "?")


def _operator_columns(text: str, node: ast.BinOp) -> tuple[int, int]:
    """The columns of a refused binary operator, found between its two operands."""
    _, left_end = _columns(text, node.left)
    right_start, _ = _columns(text, node.right)
    symbol = _operator_text(node)
    at = text.find(symbol, left_end, right_start)
    return (at, at + len(symbol)) if at >= 0 else (left_end, right_start)
