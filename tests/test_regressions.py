"""Failures found by the property tests and by hand, kept as explicit cases.

Each test names what went wrong. While an engine bug is open its test carries
``xfail(strict=True)``: it passes (as an expected failure) while the bug is there and
turns the suite red the day it is fixed, so the marker goes with the fix. The first
three below were such bugs (bare "math range error" from power derivatives), fixed in
the engine since.
"""
from __future__ import annotations

import math

import pytest

from glassgrad.engine import Value, ops


def test_power_with_overflowing_derivative_gives_infinite_local_grad() -> None:
    # The value 1e160 is fine; d/dx x**-1 = -x**-2 = -1e320 overflows: -inf, as PyTorch.
    x = Value(1e-160)
    node = x ** -1
    assert node.data == 1e160 and node.local_grads == (-math.inf,)
    with pytest.raises(OverflowError, match=r"became -inf at pow\(1e-160, -1\.0\)"):
        node.backward()
    assert x.grad == 0.0


def test_pow_with_value_exponent_and_overflowing_derivative_gives_inf() -> None:
    node = Value(1e-300) ** Value(-0.5)     # value 1e150, d/dx = -0.5 * 1e450
    assert node.data == pytest.approx(1e150) and node.local_grads[0] == -math.inf


OVERFLOWING_POWER_DERIVATIVES = [  # (n, x, d/dx x**n = n * x**(n-1)): too big for a float
    (-1.0, 1e-160, -math.inf),    # -1 * x**-2, x**-2 > 0
    (-1.0, -1e-160, -math.inf),   # an even power of a negative x is positive too
    (-2.0, 1e-110, -math.inf),    # -2 * x**-3, x**-3 > 0
    (-2.0, -1e-110, math.inf),    # -2 * x**-3, x**-3 < 0 for negative x
    (-3.0, -1e-80, -math.inf),    # -3 * x**-4, x**-4 > 0
    (-0.5, 1e-300, -math.inf),    # fractional n: x > 0 only
    (-1.5, 1e-200, -math.inf),
]


@pytest.mark.parametrize("n, x, expected", OVERFLOWING_POWER_DERIVATIVES,
                         ids=[f"x**{n:g} at {x:g}" for n, x, _ in OVERFLOWING_POWER_DERIVATIVES])
def test_overflowing_power_derivative_is_infinite_with_the_right_sign(n, x, expected) -> None:
    node = Value(x) ** n
    assert math.isfinite(node.data) and node.local_grads == (expected,)


def test_power_zero_of_a_subnormal_is_one_with_zero_derivative() -> None:
    node = Value(2.225073858507203e-309) ** 0   # found by hypothesis (test_engine_ops)
    assert (node.data, node.local_grads) == (1.0, (0.0,))


def test_power_op_is_the_same_object_for_int_and_float_exponent() -> None:
    # lru_cache keys 2 and 2.0 differently; Value.__pow__ always asks for the float.
    assert (Value(3.0) ** 2).op is (Value(3.0) ** 2.0).op


def test_negative_zero_at_kinks_keeps_the_pytorch_convention() -> None:
    # -0.0 compares equal to 0.0: relu'(-0.0) = 0, abs'(-0.0) = 0, leaky'(-0.0) = slope.
    assert Value(-0.0).relu().local_grads == (0.0,)
    assert abs(Value(-0.0)).local_grads == (0.0,)
    assert Value(-0.0).leaky_relu(0.2).local_grads == (0.2,)


def test_sqrt_of_negative_zero_is_negative_zero_with_infinite_derivative() -> None:
    node = Value(-0.0).sqrt()
    assert math.copysign(1.0, node.data) == -1.0 and node.local_grads == (math.inf,)


def test_softplus_far_left_is_exp_not_zero() -> None:
    # log(1 + e^-700) rounds to 0 if computed naively; the engine keeps e^-700.
    assert Value(-700.0).softplus().data == pytest.approx(math.exp(-700.0), rel=1e-12)


def test_leaky_relu_slope_is_applied_only_left_of_zero() -> None:
    op = ops.leaky_relu(0.25)
    assert op(Value(-4.0)).data == -1.0 and op(Value(4.0)).data == 4.0


def test_power_and_leaky_relu_give_the_same_op_for_int_and_float_constants() -> None:
    assert ops.power(2) is ops.power(2.0)
    assert ops.leaky_relu(1) is ops.leaky_relu(1.0)


def test_op_from_a_builtin_without_signature_says_to_wrap_it() -> None:
    from glassgrad.engine import Op
    with pytest.raises(TypeError, match=r"Op 'hypot': .*wrap it in a def or lambda"):
        Op("hypot", math.hypot, lambda x, y, out: (x / out, y / out))


def test_huge_int_message_is_cut_short_and_says_how_many_digits() -> None:
    with pytest.raises(OverflowError, match=r"'\+': 100000000000\.\.\.\(401 digits\) is too large"):
        Value(1.0) + 10**400


def test_duck_typed_scalar_without_a_dtype_kind_is_not_taken_for_a_number() -> None:
    class Odd:
        shape = ()
        dtype = object()

    with pytest.raises(TypeError, match="got Odd"):
        Value(Odd())


def test_gradcheck_one_sided_slope_uses_the_step_it_was_measured_with() -> None:
    # Found in review: the fallback divided by a step 10x smaller than the one it used.
    from glassgrad.engine import gradcheck
    report = gradcheck(lambda x: x.sqrt() * 0.0 + x, [0.0], raise_on_failure=False)
    assert report.ok and report.rows[0].numeric == pytest.approx(1.0)


def test_custom_op_failures_name_the_op_and_its_input() -> None:
    import cmath

    from glassgrad.engine import Op
    complex_sqrt = Op("csqrt", lambda x: cmath.sqrt(x), lambda x, out: (1.0,))
    with pytest.raises(TypeError, match=r"csqrt\(-4\.0\): forward must return a real number"):
        complex_sqrt(Value(-4.0))
    steep = Op("steep", lambda x: x, lambda x, out: (math.exp(x) ** 2,))
    with pytest.raises(OverflowError, match=r"steep\(400\.0\): its local_grads failed"):
        steep(Value(400.0))
    with pytest.raises(TypeError, match="local_grads must take"):
        Op("h", lambda x, y: x, math.hypot)


def test_unsigned_numpy_integers_are_real_numbers() -> None:
    np = pytest.importorskip("numpy")
    assert Value(np.uint8(3)).data == 3.0 and (np.uint64(2) * Value(1.5)).data == 3.0


def test_leaky_relu_op_default_slope_is_one_hundredth() -> None:
    assert ops.leaky_relu() is ops.leaky_relu(0.01)
    assert ops.leaky_relu()(Value(-2.0)).data == -0.02
