"""Hostile expressions for the CLI's parser (viz.expr): nothing outside the whitelist
runs, every refusal is an ExpressionError with a caret, and the CLI exits with status 2
without writing a file.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from glassgrad.viz.cli import main
from glassgrad.viz.expr import ExpressionError, parse_expression

ESCAPES = {  # id: expression that tries to leave the calculator
    "import and run a shell": "__import__('os').system('touch pwned')",
    "class hierarchy walk": "().__class__.__bases__[0].__subclasses__()",
    "function globals": "exp.__globals__",
    "attribute on a variable": "a.__class__",
    "open a file": "open('/etc/passwd')",
    "eval": "eval('1')",
    "exec": "exec('1')",
    "getattr": "getattr(a, 'b')",
    "subscript": "a[0]",
    "lambda": "lambda: 0",
    "comprehension": "[x for x in ()]",
    "walrus": "(a := 1)",
    "if/else": "a if b else c",
    "string constant": "'text'",
    "bytes constant": "b'x'",
    "f-string": "f'{a}'",
    "bool constant": "True",
    "None": "None",
    "Ellipsis": "...",
    "complex constant": "1j",
    "call of a call": "exp(a)(b)",
    "keyword argument": "exp(x=1)",
    "star argument": "exp(*a)",
    "bare function name": "exp",
    "matrix multiply": "a @ b",
    "floor division": "a // b",
    "modulo (format strings)": "a % b",
    "bit inversion": "~a",
    "not": "not a",
    "comparison": "a < b",
    "and/or": "a and b",
    "set": "{a}",
    "dict": "{a: 1}",
    "tuple": "(a, b)",
    "two statements": "a; b",
    "import statement": "import os",
    "second line": "a\n+ b",
    "await": "await a",
    "too many arguments": "exp(a, b)",
    "slope as a Value": "leaky_relu(a, b)",
    "huge flat expression": "a+" * 100_000 + "a",
}


@pytest.mark.parametrize("text", ESCAPES.values(), ids=ESCAPES.keys())
def test_expression_outside_the_whitelist_is_refused_with_a_caret(text: str) -> None:
    with pytest.raises(ExpressionError) as raised:
        parse_expression(text).evaluate({"a": 1.0, "b": 2.0, "c": 3.0})
    assert "^" in str(raised.value)


def test_refused_expression_has_no_side_effect(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ExpressionError):
        parse_expression(ESCAPES["import and run a shell"])
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("text", ["__import__('os').system('touch pwned')", "a.b", "a % b"])
def test_cli_refuses_escape_with_status_2_and_writes_nothing(tmp_path: Path, capsys, text) -> None:
    out = tmp_path / "out"
    assert main(["graph", text, "--out", str(out)]) == 2
    assert "error" in capsys.readouterr().err
    assert not out.exists() and not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("text, values", [
    ("sqrt(a)", {"a": -1.0}), ("log(a)", {"a": 0.0}), ("a / 0", {"a": 1.0}),
    ("exp(a)", {"a": 1000.0}), ("a + 1e400", {"a": 1.0}),
], ids=["sqrt(-1)", "log(0)", "a/0", "exp(1000)", "a + 1e400"])
def test_domain_errors_become_expression_errors_pointing_at_the_op(text, values) -> None:
    with pytest.raises(ExpressionError) as raised:
        parse_expression(text).evaluate(values)
    assert "^" in str(raised.value)


def test_huge_integer_literal_is_an_expression_error() -> None:
    with pytest.raises(ExpressionError):
        parse_expression("a * 1" + "0" * 400).evaluate({"a": 1.0})


def test_infinite_literal_alone_is_an_expression_error() -> None:
    with pytest.raises(ExpressionError):
        parse_expression("1e400").evaluate({})


def test_overflow_between_constants_names_the_operation() -> None:
    with pytest.raises(ExpressionError) as raised:
        parse_expression("9 ** 9 ** 9").evaluate({})
    assert "**" in raised.value.message or "pow" in raised.value.message


def test_cli_backward_overflow_is_reported_not_a_traceback(tmp_path: Path) -> None:
    assert main(["graph", "sqrt(a)", "a=0", "--out", str(tmp_path)]) == 2


def test_complex_result_between_plain_numbers_is_refused_with_a_caret() -> None:
    from glassgrad.engine import Value
    with pytest.raises(ExpressionError, match="negative base needs a whole-number exponent"):
        parse_expression("a*(-8)**0.5").evaluate({"a": Value(1.0)})
