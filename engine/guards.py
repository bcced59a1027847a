"""The engine's guards: what may become a Value's number, and what a bad gradient means.

``engine.value`` calls these at its edges, so that the Value itself reads as maths:

* ``to_float(x, where)``: a plain number (int, float, bool, a NumPy scalar) as a
  finite float, or a TypeError / ValueError that names ``where`` and says what ``x`` was;
* ``is_numpy_scalar(x)`` / ``is_numpy_real_scalar(x)``: NumPy scalars (and 0-d arrays)
  recognised without importing NumPy;
* ``explain_bad_gradient(order)``: after a backward pass whose gradient became inf or
  nan, the first chain-rule step that did it, in words.

This module imports nothing from the rest of the engine at load time (``value.py``
imports it).
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .value import Value

_isfinite = math.isfinite


def to_float(x: object, where: str) -> float:
    """``x`` as a finite float, or a TypeError / ValueError that says what ``x`` was."""
    if type(x) is float:
        number = x
    elif isinstance(x, numbers.Real) or is_numpy_real_scalar(x):
        try:
            number = float(x)  # type: ignore[arg-type]
        except OverflowError:
            digits = str(x)  # over 300 of them: show the start and count them
            raise OverflowError(
                f"{where}: {digits[:12]}...({len(digits)} digits) is too large for a float"
            ) from None
    elif isinstance(x, complex) or getattr(getattr(x, "dtype", None), "kind", None) == "c":
        raise TypeError(f"{where} takes a real number; complex numbers are not supported, got {x!r}")
    else:
        raise TypeError(_not_a_number(x, where))
    if not _isfinite(number):
        raise ValueError(f"{where}: {number!r} is not a finite number; a Value holds finite floats only")
    return number


def _not_a_number(x: object, where: str) -> str:
    """Why ``x`` is refused; a Value gets its own advice."""
    from .value import Value  # imported here, on the error path only: value.py imports this module

    if isinstance(x, Value):
        return (f"{where} got a Value ({x!r}) where a plain number belongs. Use the Value "
                "itself in expressions, or Value(v.data) for a new leaf with the same number")
    shown = repr(x) if len(repr(x)) <= 60 else repr(x)[:57] + "..."
    return (f"{where} takes a real number (int, float, bool or a NumPy scalar), "
            f"got {type(x).__name__} {shown}")


def is_numpy_scalar(x: object) -> bool:
    """A NumPy scalar or 0-d array: it has a dtype and the empty shape."""
    return getattr(x, "shape", None) == () and hasattr(x, "dtype")


def is_numpy_real_scalar(x: object) -> bool:
    """NumPy bools, ints and floats, including 0-d arrays; not complex or strings."""
    return is_numpy_scalar(x) and getattr(getattr(x, "dtype", None), "kind", "") in ("b", "i", "u", "f")


def explain_bad_gradient(order: Sequence[Value]) -> str:
    """Find the first chain-rule step that made a gradient inf or nan, in words."""
    for node in reversed(order):  # the order backward ran in
        for local_grad in node.local_grads:
            if node.grad and _isfinite(node.grad) and not _isfinite(local_grad * node.grad):
                where = node.op.call_text(*(x.data for x in node.inputs)) if node.op else "?"
                return (
                    f"backward: a gradient became {local_grad * node.grad!r} at {where}: "
                    f"its local derivative there is {local_grad!r}, times the incoming "
                    f"gradient {node.grad!r}; leaf gradients are left as they were before backward"
                )
    return "backward: a gradient overflowed to inf; leaf gradients are left as they were before backward"
