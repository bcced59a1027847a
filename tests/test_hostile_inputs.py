"""Hostile input to the engine: every bad value gets the right exception and a message
that names the operation and the offending value.

Each row of ``HOSTILE`` is one attempt: what is tried, the exception type it must
raise, and the pieces of text the message must contain. The catalogue in
tests/CORRECTNESS.md lists the same rows by their ids.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest

from glassgrad.engine import Op, Value, gradcheck


@dataclass(frozen=True)
class Hostile:
    id: str
    attempt: Callable[[], object]
    error: type[BaseException]
    names: tuple[str, ...]  # substrings the message must contain: the op and the value


def _custom(forward, local_grads=None, name="bad"):
    return Op(name, forward, local_grads or (lambda x, out: (1.0,)))


HOSTILE = [
    # -------------------------------------------------- wrong types for Value()
    Hostile("Value(str)", lambda: Value("1.5"), TypeError, ("Value()", "str", "'1.5'")),
    Hostile("Value(None)", lambda: Value(None), TypeError, ("Value()", "None")),
    Hostile("Value(complex)", lambda: Value(1 + 2j), TypeError,
            ("Value()", "complex numbers are not supported", "(1+2j)")),
    Hostile("Value(list)", lambda: Value([1.0]), TypeError, ("Value()", "list", "[1.0]")),
    Hostile("Value(ndarray)", lambda: Value(np.array([1.0, 2.0])), TypeError,
            ("Value()", "ndarray", "array([1., 2.])")),
    Hostile("Value(numpy complex)", lambda: Value(np.complex128(1j)), TypeError,
            ("Value()", "complex numbers are not supported")),
    # np.complex128 is a Python complex; np.complex64 and 0-d complex arrays are not
    Hostile("Value(np.complex64)", lambda: Value(np.complex64(1j)), TypeError,
            ("Value()", "complex numbers are not supported")),
    Hostile("Value(0-d complex array)", lambda: Value(np.array(1j)), TypeError,
            ("Value()", "complex numbers are not supported")),
    Hostile("Value(Value)", lambda: Value(Value(1.0)), TypeError,
            ("Value()", "Value(data=1.0", "Value(v.data)")),
    Hostile("Value(label=int)", lambda: Value(1.0, label=3), TypeError, ("label", "int", "3")),
    Hostile("Value(long repr)", lambda: Value("x" * 500), TypeError, ("Value()", "str", "...")),
    # ----------------------------------------------------------- nan, inf, huge
    Hostile("Value(nan)", lambda: Value(math.nan), ValueError, ("Value()", "nan", "finite")),
    Hostile("Value(inf)", lambda: Value(math.inf), ValueError, ("Value()", "inf", "finite")),
    Hostile("Value(-inf)", lambda: Value(-math.inf), ValueError, ("Value()", "-inf")),
    Hostile("Value(np.nan)", lambda: Value(np.float64("nan")), ValueError, ("Value()", "nan")),
    Hostile("Value(10**400)", lambda: Value(10 ** 400), OverflowError,
            ("Value()", "10000000000", "too large")),
    # ------------------------------------------------ wrong types as an operand
    Hostile("Value + str", lambda: Value(1.0) + "a", TypeError, ("'+'", "str", "'a'")),
    Hostile("str + Value", lambda: "a" + Value(1.0), TypeError, ("'+'", "str", "'a'")),
    Hostile("Value * None", lambda: Value(1.0) * None, TypeError, ("'*'", "None")),
    Hostile("Value * list", lambda: Value(1.0) * [1.0], TypeError, ("'*'", "list")),
    Hostile("Value * ndarray", lambda: Value(1.0) * np.array([1.0, 2.0]), TypeError,
            ("'*'", "ndarray")),
    Hostile("ndarray * Value", lambda: np.array([1.0, 2.0]) * Value(1.0), TypeError,
            ("'*'", "ndarray")),
    Hostile("Value - complex", lambda: Value(1.0) - 1j, TypeError, ("'-'", "complex", "1j")),
    Hostile("Value / nan", lambda: Value(1.0) / math.nan, ValueError, ("'/'", "nan")),
    Hostile("Value + inf", lambda: Value(1.0) + math.inf, ValueError, ("'+'", "inf")),
    Hostile("Value + 10**400", lambda: Value(1.0) + 10 ** 400, OverflowError,
            ("'+'", "too large")),
    Hostile("Value ** str", lambda: Value(2.0) ** "2", TypeError, ("**", "str", "'2'")),
    Hostile("Value ** nan", lambda: Value(2.0) ** math.nan, ValueError, ("**", "nan")),
    Hostile("Value ** 10**400", lambda: Value(2.0) ** 10 ** 400, OverflowError,
            ("**", "too large")),
    Hostile("leaky_relu(str slope)", lambda: Value(1.0).leaky_relu("0.1"), TypeError,
            ("leaky_relu slope", "str")),
    Hostile("leaky_relu(nan slope)", lambda: Value(1.0).leaky_relu(math.nan), ValueError,
            ("leaky_relu slope", "nan")),
    # ------------------------------------------------------------ domain errors
    Hostile("log(0)", lambda: Value(0.0).log(), ValueError, ("log(0.0)", "x > 0")),
    Hostile("log(-1)", lambda: Value(-1.0).log(), ValueError, ("log(-1.0)", "x > 0")),
    Hostile("log(-0.0)", lambda: Value(-0.0).log(), ValueError, ("log(-0.0)",)),
    Hostile("log(-tiny)", lambda: Value(-5e-324).log(), ValueError, ("log(-5e-324)",)),
    Hostile("sqrt(-1)", lambda: Value(-1.0).sqrt(), ValueError, ("sqrt(-1.0)", "x >= 0")),
    Hostile("x / 0", lambda: Value(1.0) / 0, ZeroDivisionError, ("1.0 / 0.0", "division by zero")),
    Hostile("x / Value(0)", lambda: Value(2.0) / Value(0.0), ZeroDivisionError, ("2.0 / 0.0",)),
    Hostile("number / Value(0)", lambda: 3 / Value(0.0), ZeroDivisionError, ("3.0 / 0.0",)),
    Hostile("0 ** -1", lambda: Value(0.0) ** -1, ZeroDivisionError,
            ("0.0 ** -1.0", "negative power")),
    Hostile("0 ** Value(-0.5)", lambda: Value(0.0) ** Value(-0.5), ZeroDivisionError,
            ("0.0 ** -0.5",)),
    Hostile("negative ** fraction", lambda: Value(-2.0) ** 0.5, ValueError,
            ("(-2.0) ** 0.5", "whole-number exponent", "complex")),
    Hostile("negative ** 1/3", lambda: Value(-8.0) ** (1 / 3), ValueError, ("(-8.0) ** 0.333",)),
    Hostile("negative ** Value", lambda: Value(-2.0) ** Value(2.0), ValueError,
            ("(-2.0) ** Value(2.0)", "base must be >= 0")),
    # ----------------------------------------------------------------- overflow
    Hostile("exp overflow", lambda: Value(709.79).exp(), OverflowError,
            ("exp(709.79)", "too large")),
    Hostile("exp(1000)", lambda: Value(1000.0).exp(), OverflowError, ("exp(1000.0)",)),
    Hostile("* overflow", lambda: Value(1e200) * Value(1e200), OverflowError,
            ("mul(1e+200, 1e+200)", "too large")),
    Hostile("+ overflow", lambda: Value(1e308) + 1e308, OverflowError, ("add(1e+308, 1e+308)",)),
    Hostile("- overflow", lambda: -1e308 - Value(1e308), OverflowError, ("sub(-1e+308, 1e+308)",)),
    Hostile("/ tiny overflow", lambda: Value(1.0) / 1e-320, OverflowError, ("div(1.0, 1e-320)",)),
    Hostile("huge exponent", lambda: Value(10.0) ** 400, OverflowError, ("pow(10.0, 400.0)",)),
    Hostile("huge Value exponent", lambda: 2 ** Value(1e4), OverflowError, ("pow(2.0, 10000.0)",)),
    Hostile("tiny ** -big", lambda: Value(0.5) ** Value(-1100.0), OverflowError,
            ("pow(0.5, -1100.0)",)),
    Hostile("leaky_relu overflow", lambda: Value(-1e300).leaky_relu(1e10), OverflowError,
            ("leaky_relu(-1e+300, 10000000000.0)",)),
    # ------------------------------------------------------------ custom ops
    Hostile("custom op forward gives nan", lambda: _custom(lambda x: math.nan)(Value(1.0)),
            ValueError, ("bad(1.0)", "nan")),
    Hostile("custom op forward gives inf", lambda: _custom(lambda x: math.inf)(Value(1.0)),
            OverflowError, ("bad(1.0)", "too large")),
    Hostile("custom op forward overflows",
            lambda: _custom(lambda x: math.exp(x))(Value(1000.0)), OverflowError, ("bad(1000.0)",)),
    Hostile("custom op wrong number of inputs", lambda: _custom(lambda x: x)(Value(1.0), 2.0),
            TypeError, ("bad", "1 input", "got 2")),
    Hostile("custom op too many derivatives",
            lambda: _custom(lambda x: x, lambda x, out: (1.0, 2.0))(Value(1.0)),
            TypeError, ("bad", "2 derivative", "1 input")),
    Hostile("custom op on a string", lambda: _custom(lambda x: x)("a"), TypeError, ("bad", "'a'")),
    Hostile("Op with 3-input forward", lambda: Op("three", lambda a, b, c: a,
                                                  lambda a, b, c, out: (1.0,) * 3),
            TypeError, ("three", "1 or 2 inputs", "3")),
    Hostile("Op local_grads without out", lambda: Op("noout", lambda x: x, lambda x: (1.0,)),
            TypeError, ("noout", "local_grads", "output")),
    Hostile("gradcheck fn returns float", lambda: gradcheck(lambda x: 1.0, [1.0]), TypeError,
            ("gradcheck", "float")),
]


@pytest.mark.parametrize("case", HOSTILE, ids=[case.id for case in HOSTILE])
def test_hostile_input_raises_the_documented_error_naming_op_and_value(case: Hostile) -> None:
    with pytest.raises(case.error) as raised:
        case.attempt()
    message = str(raised.value)
    for piece in case.names:
        assert piece in message, f"{case.id}: {piece!r} missing from {message!r}"


# ------------------------------------------------- inputs that are fine, on purpose


@pytest.mark.parametrize("raw, expected", [
    (True, 1.0), (False, 0.0), (np.bool_(True), 1.0), (np.array(2.5), 2.5),
    (np.array(3, dtype=np.int32), 3.0), (np.float32(0.5), 0.5), (2 ** 60, float(2 ** 60)),
    (-0.0, -0.0), (5e-324, 5e-324), (1.7976931348623157e308, 1.7976931348623157e308),
])
def test_bools_numpy_zero_d_arrays_and_extreme_floats_are_accepted(raw, expected) -> None:
    value = Value(raw)
    assert type(value.data) is float and value.data == expected


def test_bool_operands_count_as_zero_and_one() -> None:
    v = Value(3.0)
    assert (v * True).data == 3.0 and (v + False).data == 3.0


def test_failed_op_leaves_its_inputs_untouched() -> None:
    x = Value(-1.0)
    x.grad = 0.5
    with pytest.raises(ValueError):
        x.log()
    assert (x.data, x.grad, x.op, x.inputs) == (-1.0, 0.5, None, ())


def test_huge_but_finite_results_are_kept_exactly() -> None:
    assert Value(709.78).exp().data == math.exp(709.78)
    assert (Value(1e154) * 1e154).data == 1e308


# ------------------------------------- messages, word for word (they are the UI)

EXACT_MESSAGES = [
    (lambda: Value("a"),
     "Value() takes a real number (int, float, bool or a NumPy scalar), got str 'a'"),
    (lambda: Value(Value(1.0)),
     "Value() got a Value (Value(data=1.0, grad=0.0)) where a plain number belongs. Use the "
     "Value itself in expressions, or Value(v.data) for a new leaf with the same number"),
    (lambda: Value(2.0) ** "2",
     "** takes a real number (int, float, bool or a NumPy scalar), got str '2'"),
    (lambda: Value(1.0).leaky_relu("s"),
     "leaky_relu slope takes a real number (int, float, bool or a NumPy scalar), got str 's'"),
    (lambda: Value(-2.0) ** 0.5,
     "(-2.0) ** 0.5: a negative base needs a whole-number exponent "
     "(the result would be a complex number)"),
    (lambda: Value(-2.0) ** Value(2.0),
     "(-2.0) ** Value(2.0): with a Value exponent the base must be >= 0, because "
     "d/dy x**y = x**y * log(x) needs log(x); use a plain number exponent"),
]


@pytest.mark.parametrize("attempt, message", EXACT_MESSAGES,
                         ids=[message[:24] for _, message in EXACT_MESSAGES])
def test_error_message_reads_exactly_as_documented(attempt, message) -> None:
    with pytest.raises((TypeError, ValueError)) as raised:
        attempt()
    assert str(raised.value) == message


@pytest.mark.parametrize("length, shown", [(60, "whole"), (61, "cut to 57 characters + ...")])
def test_long_bad_input_is_shown_whole_up_to_60_characters_then_cut(length, shown) -> None:
    bad = "x" * (length - 2)                  # repr adds the two quotes
    with pytest.raises(TypeError) as raised:
        Value(bad)
    expected = repr(bad) if length <= 60 else repr(bad)[:57] + "..."
    assert str(raised.value).endswith(f"got str {expected}"), shown
