"""gradcheck and custom ops: a student's op is checked exactly like a built-in, and a
wrong derivative is caught with a message that says which input, by how much, and why.
"""
from __future__ import annotations

import math

import pytest

from glassgrad.engine import GradcheckError, Op, Value, gradcheck, ops


def swish_forward(x: float) -> float:
    """swish(x) = x * sigmoid(x) = x / (1 + e^-x)."""
    return x / (1.0 + math.exp(-x))


def swish_local_grads(x: float, out: float) -> tuple[float]:
    """d/dx swish = s + x s (1 - s), with s = sigmoid(x)."""
    s = 1.0 / (1.0 + math.exp(-x))
    return (s + x * s * (1.0 - s),)


SWISH = Op("swish", swish_forward, swish_local_grads, formula="x/(1 + exp(-x))",
           derivatives=("1/(1 + exp(-x)) + x*exp(-x)/(1 + exp(-x))**2",))


def wrong_op(name: str, factor: float) -> Op:
    """tanh with its derivative multiplied by ``factor`` (1 would be right)."""
    return Op(name, math.tanh, lambda x, out: (factor * (1.0 - out * out),), formula="tanh(x)")


# ------------------------------------------------------------------- custom ops


def test_custom_swish_op_builds_a_node_like_a_builtin() -> None:
    x = Value(0.5)
    y = SWISH(x)
    assert (y.op, y.inputs) == (SWISH, (x,))
    assert y.data == pytest.approx(0.5 / (1 + math.exp(-0.5)), rel=1e-15)
    assert y.local_grads == swish_local_grads(0.5, y.data)


def test_custom_swish_op_backward_matches_sympy_derivative() -> None:
    sympy = pytest.importorskip("sympy")
    x_symbol = sympy.Symbol("x", real=True)
    derivative = sympy.diff(sympy.sympify(SWISH.formula, locals={"x": x_symbol}), x_symbol)
    for point in (-3.0, -0.2, 0.0, 1.7):
        x = Value(point)
        (SWISH(x) * 2.0).backward()
        assert x.grad == pytest.approx(2 * float(derivative.subs(x_symbol, point)), rel=1e-12)


def test_custom_swish_op_passes_gradcheck_inside_an_expression() -> None:
    report = gradcheck(lambda a, b: SWISH(a * b) + a.tanh(), [0.7, -1.3])
    assert report.ok and len(report.rows) == 2
    assert str(report) == "gradcheck passed for all 2 input(s)"


def test_custom_op_keeps_its_declaration_and_defaults_symbol_to_name() -> None:
    assert (SWISH.name, SWISH.symbol, SWISH.arity, SWISH.params) == ("swish", "swish", 1, ())
    assert SWISH.formula == "x/(1 + exp(-x))"
    assert SWISH.derivatives == ("1/(1 + exp(-x)) + x*exp(-x)/(1 + exp(-x))**2",)
    bare = Op("bare", math.sin, lambda x, out: (math.cos(x),))
    assert (bare.formula, bare.derivatives, bare.symbol) == ("", (), "bare")
    assert Op("plus", lambda x, y: x + y, lambda x, y, out: (1.0, 1.0), symbol="+").symbol == "+"


def test_custom_two_input_op_works_with_backward_and_gradcheck() -> None:
    hypot = Op("hypot", lambda x, y: math.hypot(x, y), lambda x, y, out: (x / out, y / out),
               formula="sqrt(x**2 + y**2)")
    a, b = Value(3.0), Value(4.0)
    h = hypot(a, b)
    h.backward()
    assert (h.data, a.grad, b.grad) == (5.0, 0.6, 0.8)
    assert gradcheck(hypot, [1.5, -2.5]).ok


def test_custom_op_applies_to_plain_numbers_too() -> None:
    assert SWISH(0.0).data == 0.0 and SWISH(2).inputs[0].data == 2.0


def test_custom_op_with_wrong_derivative_is_caught_naming_input_expected_actual_error() -> None:
    half_tanh = wrong_op("half_tanh", 0.5)
    x = Value(0.3, label="x")
    with pytest.raises(GradcheckError) as raised:
        gradcheck(half_tanh, [x])
    message = str(raised.value)
    expected = 1 - math.tanh(0.3) ** 2
    assert "input 0 (x = 0.3)" in message
    assert f"finite differences give {expected:.6g}" in message
    assert f"backward gave {0.5 * expected:.6g}" in message
    assert "relative error 0.5" in message
    assert isinstance(raised.value, AssertionError)  # pytest reports it as a failed check


# --------------------------------------------------------------- the report itself


def test_report_rows_hold_value_analytic_and_numeric_for_each_input() -> None:
    report = gradcheck(lambda a, b: a * b, [Value(2.0, label="a"), 3.0])
    first, second = report.rows
    assert (first.index, first.label, first.value, first.analytic) == (0, "a", 2.0, 3.0)
    assert first.numeric == pytest.approx(3.0, rel=1e-9) and first.ok
    assert (second.index, second.label, second.analytic) == (1, "", 2.0)
    assert report.output == 6.0 and report.failures == ()


def test_report_without_raising_lists_only_the_failing_rows() -> None:
    double = wrong_op("double_tanh", 2.0)
    report = gradcheck(lambda a, b: double(a) + b, [0.2, 1.0], raise_on_failure=False)
    assert not report.ok
    assert [row.index for row in report.failures] == [0]
    assert str(report).startswith("gradcheck failed for 1 of 2 input(s):")
    assert report.failures[0].rel_error == pytest.approx(0.5, rel=1e-6)


@pytest.mark.parametrize("factor, hint", [
    (-1.0, "sign error"),
    (2.0, "twice the true gradient"),
    (0.5, "a factor of 2 missing"),
    (0.0, "Backward gave 0"),
    (3.0, "3 times the true gradient"),
])
def test_failure_hint_names_the_likely_mistake(factor: float, hint: str) -> None:
    report = gradcheck(wrong_op("wrong", factor), [0.4], raise_on_failure=False)
    assert hint in report.failures[0].note


def test_hint_when_the_true_gradient_is_zero() -> None:
    not_flat = Op("not_flat", lambda x: 1.0, lambda x, out: (1.0,))
    report = gradcheck(not_flat, [0.4], raise_on_failure=False)
    assert "true gradient is 0" in report.failures[0].note


def test_gradcheck_runs_backward_on_fresh_leaves_not_on_the_callers_values() -> None:
    x = Value(0.5)
    x.grad = 7.0
    gradcheck(lambda v: v.exp(), [x])
    assert x.grad == 7.0


# --------------------------------------------- near domain boundaries and at kinks


def test_one_sided_difference_where_fn_is_defined_on_one_side_only() -> None:
    # sqrt(v) * sqrt(v) is v for v >= 0 and undefined below; at 5e-7, x - h < 0.
    report = gradcheck(lambda v: v.sqrt() * v.sqrt(), [5e-7])
    (row,) = report.rows
    assert row.ok and row.numeric == pytest.approx(1.0, rel=1e-6) and row.note == ""


def test_gradcheck_next_to_the_domain_edge_gives_no_false_alarm() -> None:
    assert gradcheck(lambda v: v.sqrt(), [4e-7], raise_on_failure=False).ok


def test_gradcheck_does_not_call_a_strongly_curved_smooth_point_a_kink() -> None:
    assert gradcheck(lambda v: v.sqrt(), [1e-4], raise_on_failure=False).ok


def test_kink_is_reported_not_judged() -> None:
    report = gradcheck(lambda v: v.relu(), [0.0], raise_on_failure=False)
    (row,) = report.rows
    assert row.numeric is None and not row.ok and "kink" in row.note
    assert "kink" in row.describe()


def test_point_where_fn_is_undefined_on_both_sides_is_reported() -> None:
    pointy = Op("pointy", lambda x: 0.0 if x == 0.0 else math.log(-1.0), lambda x, out: (0.0,))
    report = gradcheck(pointy, [0.0], raise_on_failure=False)
    assert "cannot be evaluated on either side" in report.rows[0].note


@pytest.mark.parametrize("fn, point", [
    (lambda v: v.log(), 1e-3),
    (lambda v: v.sqrt(), 1e-2),
    (lambda v: 1.0 / v, 1e-2),
    (lambda v: v ** -2, -0.3),
    (lambda v: v ** 3, -2.0),
    (lambda v: v.tanh(), 8.0),
    (lambda v: v.sigmoid(), -30.0),
    (lambda v: v.exp(), 700.0),
    (lambda v: v.relu(), 1e-3),
    (lambda v: abs(v), -1e-3),
    (lambda v: v.leaky_relu(0.1), -1e-3),
], ids=["log@1e-3", "sqrt@1e-2", "1/x@1e-2", "x**-2@-0.3", "x**3@-2", "tanh@8",
        "sigmoid@-30", "exp@700", "relu@1e-3", "abs@-1e-3", "leaky@-1e-3"])
def test_builtin_ops_pass_gradcheck_near_domain_edges_and_next_to_kinks(fn, point) -> None:
    assert gradcheck(fn, [point]).ok


def test_every_builtin_op_passes_gradcheck() -> None:
    points = {"log": 1.3, "sqrt": 1.3, "pow": 1.3}
    for name, op in ops.BUILTIN_OPS.items():
        xs = [points.get(name, 0.7), 1.9][: op.arity]
        report = gradcheck(op, xs)
        assert report.ok, f"{name}: {report}"
