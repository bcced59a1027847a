"""Every op's value and derivative, checked against two independent references.

1. Symbolic: sympy parses the op's declared ``formula``, differentiates it, and the
   result must equal each declared ``derivatives`` string. Both are then evaluated in
   500-digit arithmetic (mpmath, via sympy) and compared with what the engine computes
   in floats: ``forward`` and ``local_grads``, at inputs hypothesis picks right up to
   the domain edges (log near 0+, tanh at +-1000, exp near 709.78, tiny divisors).
2. Numerical: central finite differences of the op applied to Values, against the
   gradients ``backward()`` leaves on them.

The PyTorch comparison lives in test_ops_reference.py (it skips without torch).
"""
from __future__ import annotations

import functools
import math

import mpmath

import pytest
import sympy
from hypothesis import given, strategies as st

from glassgrad.engine import Value, ops
from strategies import OP_CASE_IDS, OP_CASES, OpCase, op_inputs

X, Y = sympy.symbols("x y", real=True)
SYMBOLS = {"x": X, "y": Y}
DIGITS = 500


@functools.lru_cache(maxsize=None)
def parse(text: str) -> sympy.Expr:
    """An op's formula or derivative text as a sympy expression in real x, y."""
    return sympy.sympify(text, locals=SYMBOLS)


@functools.lru_cache(maxsize=None)
def _mpmath_function(expr: sympy.Expr):
    return sympy.lambdify((X, Y), expr, modules="mpmath")


def exact(expr: sympy.Expr, xs: tuple[float, ...]) -> float:
    """``expr`` at the float inputs ``xs`` (taken exactly) in 500-digit arithmetic.

    So many digits because log(1 + exp(-1000)) must keep the e^-1000 next to the 1.
    The result is rounded to the nearest float once, at the end.
    """
    with mpmath.workdps(DIGITS):
        args = [mpmath.mpf(x) for x in xs] + [mpmath.mpf(0)] * (2 - len(xs))
        return float(_mpmath_function(expr)(*args))


def close(actual: float, expected: float, rel: float = 1e-12, abs_: float = 1e-300) -> bool:
    return math.isclose(actual, expected, rel_tol=rel, abs_tol=abs_)


# Where the float result of a derivative legitimately differs from the exact one by
# more than a few ulps: 1 - tanh(x)**2 and s*(1 - s) subtract from 1, so they are
# exact only to ~1e-16 in absolute terms (tanh'(20) is 1.7e-17 but computes as 0).
GRAD_ABS_TOL = {"tanh": 1e-15, "sigmoid": 1e-15}


def symbolic_derivatives(case: OpCase) -> list[sympy.Expr]:
    """d(formula)/dx_i for each input; off the kinks, where DiracDelta (from
    differentiating a Heaviside step) is 0."""
    formula = parse(case.op.formula)
    return [sympy.diff(formula, symbol).replace(sympy.DiracDelta, lambda *args: sympy.S.Zero)
            for symbol in (X, Y)[: case.op.arity]]


@pytest.mark.parametrize("case", OP_CASES, ids=OP_CASE_IDS)
def test_every_op_declares_one_derivative_per_input(case: OpCase) -> None:
    assert len(case.op.derivatives) == case.op.arity
    assert case.op.formula and all(case.op.derivatives)


@pytest.mark.parametrize("case", OP_CASES, ids=OP_CASE_IDS)
def test_declared_derivatives_equal_sympy_derivative_of_formula(case: OpCase) -> None:
    """d(formula)/dx from sympy equals the declared text, checked at sample points.

    Numerically, not by simplify(): the piecewise ops (relu = Max(x, 0)) differentiate
    to Heaviside terms sympy cannot always cancel. Points avoid the kinks, where the
    symbolic derivative is undefined and the engine follows a convention instead.
    """
    samples = [(0.3, 1.7), (2.5, -0.8), (1.1, 2.0), (-0.7, 3.0), (-2.2, 0.5)]
    for derivative, declared_text in zip(symbolic_derivatives(case), case.op.derivatives):
        declared = parse(declared_text)
        for xs in samples:
            xs = xs[: case.op.arity]
            try:
                case.op.forward(*xs)
            except (ValueError, ZeroDivisionError):
                continue  # outside this op's domain (log(-0.7), say)
            assert close(exact(declared, xs), exact(derivative, xs), rel=1e-30), (
                f"{case.id}: declared d/dx {declared_text!r} != sympy's {derivative} at {xs}"
            )


@pytest.mark.parametrize("case", OP_CASES, ids=OP_CASE_IDS)
@given(data=st.data())
def test_forward_matches_formula_in_500_digit_arithmetic(case: OpCase, data) -> None:
    xs = data.draw(op_inputs(case, "wide"), label="inputs")
    node = case.op(*(Value(x) for x in xs))
    assert close(node.data, exact(parse(case.op.formula), xs)), node


@pytest.mark.parametrize("case", OP_CASES, ids=OP_CASE_IDS)
@given(data=st.data())
def test_local_grads_match_symbolic_derivative(case: OpCase, data) -> None:
    xs = data.draw(op_inputs(case, "wide"), label="inputs")
    if any(x == kink for x in xs[:1] for kink in case.kinks):
        return  # the convention at kinks has its own test below
    node = case.op(*(Value(x) for x in xs))
    abs_tol = GRAD_ABS_TOL.get(case.op.name, 1e-300)
    for i, derivative in enumerate(symbolic_derivatives(case)):
        expected = exact(derivative, xs)
        assert close(node.local_grads[i], expected, abs_=abs_tol), (
            f"{case.id} at {xs}: d/dx{i} is {expected!r}, local_grads gave {node.local_grads}"
        )


def central_difference(f, xs: tuple[float, ...], i: int) -> float:
    """(f(x + h e_i) - f(x - h e_i)) / 2h with h scaled to x_i: error O(h^2)."""
    h = 1e-6 * max(1.0, abs(xs[i]))
    plus, minus = list(xs), list(xs)
    plus[i] += h
    minus[i] -= h
    return (f(*plus) - f(*minus)) / (2 * h)


@pytest.mark.parametrize("case", OP_CASES, ids=OP_CASE_IDS)
@given(data=st.data())
def test_backward_matches_central_finite_differences(case: OpCase, data) -> None:
    xs = data.draw(op_inputs(case, "smooth"), label="inputs")
    leaves = [Value(x) for x in xs]
    case.op(*leaves).backward()

    def f(*args: float) -> float:
        return case.op(*(Value(a) for a in args)).data

    for i, leaf in enumerate(leaves):
        numeric = central_difference(f, xs, i)
        assert math.isclose(leaf.grad, numeric, rel_tol=1e-5, abs_tol=1e-7), (
            f"{case.id} at {xs}: backward gave d/dx{i} = {leaf.grad}, finite differences {numeric}"
        )


# ------------------------------------------------------- edges of the domains

EDGES = [  # (op, inputs): right at or next to where the op stops being defined
    (ops.BUILTIN_OPS["log"], (1e-300,)),
    (ops.BUILTIN_OPS["log"], (5e-324,)),                  # the smallest float > 0
    (ops.BUILTIN_OPS["sqrt"], (1e-300,)),
    (ops.BUILTIN_OPS["exp"], (709.78,)),                  # just below overflow
    (ops.BUILTIN_OPS["exp"], (-745.0,)),                  # underflows to a subnormal
    (ops.BUILTIN_OPS["div"], (1.0, 1e-150)),              # tiny divisor
    (ops.BUILTIN_OPS["div"], (-3.0, -1e-300)),
    (ops.BUILTIN_OPS["tanh"], (1000.0,)),
    (ops.BUILTIN_OPS["tanh"], (-1000.0,)),
    (ops.BUILTIN_OPS["sigmoid"], (1000.0,)),
    (ops.BUILTIN_OPS["sigmoid"], (-1000.0,)),
    (ops.BUILTIN_OPS["sigmoid"], (-700.0,)),
    (ops.BUILTIN_OPS["softplus"], (-1000.0,)),
    (ops.BUILTIN_OPS["softplus"], (1000.0,)),
    (ops.power(3), (-2.0,)),                              # negative base, whole exponent
    (ops.power(-1), (-1e-150,)),
    (ops.power(-2), (-0.5,)),
    (ops.BUILTIN_OPS["pow"], (1e-300, 0.5)),
    (ops.BUILTIN_OPS["pow"], (2.0, -1074.0)),             # the smallest subnormal
    (ops.BUILTIN_OPS["mul"], (1e-300, 1e-300)),           # underflows to 0
]


@pytest.mark.parametrize("op, xs", EDGES, ids=[op.call_text(*xs) for op, xs in EDGES])
def test_value_and_local_grads_at_domain_edges_match_500_digit_arithmetic(op, xs) -> None:
    node = op(*(Value(x) for x in xs))
    formula = parse(op.formula)
    assert close(node.data, exact(formula, xs))
    for i, symbol in enumerate((X, Y)[: op.arity]):
        assert close(node.local_grads[i], exact(sympy.diff(formula, symbol), xs),
                     abs_=GRAD_ABS_TOL.get(op.name, 1e-300)), node.local_grads


def test_saturated_tanh_and_sigmoid_have_zero_gradient_not_nan() -> None:
    for x in (-1000.0, 1000.0):
        for method in (Value.tanh, Value.sigmoid):
            leaf = Value(x)
            method(leaf).backward()
            assert leaf.grad == 0.0


def test_tiny_and_huge_magnitudes_keep_exact_gradients() -> None:
    tiny, huge = Value(1e-300), Value(1e300)
    (tiny * huge).backward()
    assert (tiny.grad, huge.grad) == (1e300, 1e-300)
    x = Value(1e300)
    (x / 1e300).backward()
    assert x.grad == 1e-300


# ----------------------------------------------------------- kinks: conventions


KINKS = [  # (op, input, local derivative): PyTorch's choice at a point of no derivative
    (ops.BUILTIN_OPS["relu"], 0.0, 0.0),
    (ops.BUILTIN_OPS["abs"], 0.0, 0.0),
    (ops.BUILTIN_OPS["step"], 0.0, 0.0),
    (ops.BUILTIN_OPS["step"], 1.0, 0.0),
    (ops.leaky_relu(0.01), 0.0, 0.01),
    (ops.leaky_relu(0.2), 0.0, 0.2),
    (ops.power(0.5), 0.0, math.inf),                      # sqrt'(0): infinite
    (ops.power(0), 0.0, 0.0),                             # x**0 is constant 1
    (ops.power(1), 0.0, 1.0),
    (ops.power(2), 0.0, 0.0),
    (ops.BUILTIN_OPS["sqrt"], 0.0, math.inf),
]


@pytest.mark.parametrize("op, x, expected", KINKS, ids=[f"{op.symbol}@{x}" for op, x, _ in KINKS])
def test_local_derivative_at_kink_follows_documented_convention(op, x, expected) -> None:
    assert op(Value(x)).local_grads == (expected,)


@pytest.mark.parametrize("op, x, expected", [k for k in KINKS if math.isfinite(k[2])],
                         ids=[f"{op.symbol}@{x}" for op, x, e in KINKS if math.isfinite(e)])
def test_declared_derivative_text_states_the_kink_convention(op, x, expected) -> None:
    """The ``derivatives`` strings are the docs: at the kink they must say what we do."""
    assert exact(parse(op.derivatives[0]), (x,)) == expected


def test_pow_with_value_exponent_at_zero_base_follows_pytorch() -> None:
    # d/dx x**y at x = 0: 0 for y > 1, 1 for y = 1, inf for 0 < y < 1, 0 for y = 0;
    # d/dy x**y = x**y * log(x) -> 0 at x = 0 (PyTorch masks it to 0 as well).
    pow_op = ops.BUILTIN_OPS["pow"]
    cases = {2.0: 0.0, 1.0: 1.0, 0.5: math.inf, 0.0: 0.0}
    for y, d_dx in cases.items():
        assert pow_op(Value(0.0), Value(y)).local_grads == (d_dx, 0.0)


# --------------------------------------- the text of parameterized ops' formulas


@pytest.mark.parametrize("op, x", [(ops.power(1 / 3), 0.7), (ops.leaky_relu(0.123456789), -0.7)],
                         ids=["power(1/3)", "leaky_relu(0.123456789)"])
def test_formula_of_parameterized_op_keeps_its_constant_exactly(op, x) -> None:
    assert exact(parse(op.formula), (x,)) == op.forward(x)


def test_max_passes_the_gradient_to_the_larger_input_and_half_to_each_at_a_tie() -> None:
    for (x, y), expected in [((2.0, -1.0), [1.0, 0.0]), ((-3.0, 0.5), [0.0, 1.0]), ((0.7, 0.7), [0.5, 0.5])]:
        a, b = Value(x), Value(y)
        out = a.max(b)
        out.backward()
        assert out.data == max(x, y) and out.op is ops.MAX
        assert [a.grad, b.grad] == expected
    assert Value(1.0).max(4).data == 4.0  # a plain number becomes a constant input
