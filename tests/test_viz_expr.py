"""viz.expr: a whitelist parser, never eval; refusals point at the offending part with a caret."""
import math
import re

import pytest

from glassgrad.viz.expr import ExpressionError, parse_expression


def caret_under(error: ExpressionError) -> str:
    """The part of the expression that the caret line underlines."""
    expression_line, caret_line = str(error).splitlines()[-2:]
    start = caret_line.index("^")
    return expression_line[start:len(caret_line)]


@pytest.mark.parametrize("text, underlined, says", [
    ("__import__('os')", "    __import__", "unknown function '__import__'"),
    ("a.b", "    a.b", "attribute access"),
    ("tanh(a.real)", "         a.real", "attribute access"),
    ("(lambda: a)()", "     lambda: a", "only the listed functions"),
    ("lambda: 1", "    lambda: 1", "lambdas are not allowed"),
    ("a[0]", "    a[0]", "subscripts"),
    ("[x for x in a]", "    [x for x in a]", "comprehensions"),
    ("sum(x for x in a)", "    sum", "unknown function 'sum'"),
    ("open('f')", "    open", "unknown function 'open'"),
    ("a % b", "      %", "the operator '%'"),
    ("a + 'b'", "        'b'", "only numbers"),
    ("exp + 1", "    exp", "'exp' is a function"),
    ("exp(x=a)", "    exp(x=a)", "no keyword arguments"),
    ("tanh(a, b)", "    tanh(a, b)", "takes 1 argument"),
    ("a < b", "    a < b", "comparisons"),
])
def test_refused_syntax_is_pointed_at(text, underlined, says):
    with pytest.raises(ExpressionError) as error:
        parse_expression(text)
    assert says in str(error.value)
    assert caret_under(error.value) == underlined.strip()
    assert f"    {text}" in str(error.value)


def test_syntax_errors_get_a_caret_too():
    with pytest.raises(ExpressionError, match="not a valid expression") as error:
        parse_expression("a * (b + ")
    assert "^" in str(error.value)


def test_unknown_variables_are_pointed_at_when_evaluating():
    expression = parse_expression("a * b + c")
    with pytest.raises(ExpressionError, match="unknown variable 'c'") as error:
        expression.evaluate({"a": 1.0, "b": 2.0})
    assert caret_under(error.value) == "c"


def test_engine_domain_errors_point_at_the_call():
    with pytest.raises(ExpressionError, match=r"log\(-2.0\)") as error:
        parse_expression("1 + log(-a)").evaluate({"a": 2.0})
    assert caret_under(error.value) == "log(-a)"


def test_the_whitelist_computes_what_python_would():
    a, b, c = 0.7, -1.3, 2.0
    text = "tanh(a*b + c) - exp(a)/sqrt(c) + log(c)**2 + sigmoid(b) * relu(a) + abs(b) + -a + softplus(b)"
    value = parse_expression(text).evaluate({"a": a, "b": b, "c": c})
    sigmoid = 1 / (1 + math.exp(-b))
    expected = (math.tanh(a * b + c) - math.exp(a) / math.sqrt(c) + math.log(c) ** 2
                + sigmoid * max(a, 0.0) + abs(b) - a + math.log1p(math.exp(b)))
    assert math.isclose(value.data, expected, rel_tol=1e-12)


def test_leaky_relu_takes_an_optional_number_slope_but_not_a_variable():
    assert parse_expression("leaky_relu(a, 0.2)").evaluate({"a": -1.0}).data == pytest.approx(-0.2)
    assert parse_expression("leaky_relu(a)").evaluate({"a": -1.0}).data == pytest.approx(-0.01)
    with pytest.raises(ExpressionError, match="slope") as error:
        parse_expression("leaky_relu(a, b)").evaluate({"a": -1.0, "b": 0.5})
    assert caret_under(error.value) == "b"


def test_variables_are_listed_in_order_of_first_appearance():
    assert parse_expression("c * tanh(a) + a / b").variables == ("c", "a", "b")


def test_evaluation_builds_one_graph_with_labelled_leaves():
    value = parse_expression("a * a + b").evaluate({"a": 3.0, "b": 1.0})
    value.backward()
    product, b = value.inputs
    a = product.inputs[0]
    assert (a.label, b.label, a.grad) == ("a", "b", 6.0)


def test_a_long_expression_is_evaluated_and_a_too_long_one_is_refused_clearly():
    assert parse_expression(" + ".join(["a"] * 500)).evaluate({"a": 1.0}).data == 500.0
    with pytest.raises(ExpressionError, match="too long or too deeply nested"):
        parse_expression(" + ".join(["a"] * 100_000))


@pytest.mark.parametrize("text, underlined, says", [
    ("a * 1" + "0" * 400, "1" + "0" * 400, "the number is too large for a float"),
    ("1e400", "1e400", "the number is too large for a float"),
    ("a + 1e308 * 10", "1e308 * 10", "1e308 * 10: the result is too large for a float"),
    ("9 ** 9 ** 9", "9 ** 9 ** 9", "9 ** 9 ** 9: the result is too large for a float"),
    ("a + 1 / 0", "1 / 0", "1 / 0: division by zero"),
])
def test_arithmetic_on_plain_numbers_that_fails_is_named_and_pointed_at(text, underlined, says):
    with pytest.raises(ExpressionError, match=re.escape(says)) as error:
        parse_expression(text).evaluate({"a": 1.0})
    assert caret_under(error.value) == underlined
