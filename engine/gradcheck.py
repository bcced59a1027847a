"""gradcheck: compare backward's gradients with central finite differences.

For each input x_i the numerical slope is the central difference

    D(h) = (f(x + h e_i) - f(x - h e_i)) / 2h,   h = eps * max(1, |x_i|),

refined by Richardson extrapolation, (4 D(h/2) - D(h)) / 3, which is accurate to
O(h^4). Next to the edge of f's domain (log or sqrt near 0) h shrinks until both
sides are defined. Where the left and right slopes differ by a gap that does not
shrink with h, f has a kink at that point and no finite difference can judge it,
which the report says (a smooth but curved f has a gap proportional to h).
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Callable, Sequence

from .value import Value


@dataclass(frozen=True)
class GradcheckRow:
    """One input's verdict: what backward gave and what finite differences give."""

    index: int
    label: str
    value: float
    analytic: float
    numeric: float | None
    ok: bool
    note: str = ""

    @property
    def abs_error(self) -> float:
        return math.inf if self.numeric is None else abs(self.analytic - self.numeric)

    @property
    def rel_error(self) -> float:
        if self.numeric is None:
            return math.inf
        return self.abs_error / max(abs(self.numeric), abs(self.analytic), 1e-12)

    def describe(self) -> str:
        name = f"input {self.index}" + (f" ({self.label} = {self.value!r})" if self.label
                                        else f" (= {self.value!r})")
        if self.numeric is None:
            return f"{name}: {self.note}"
        text = (f"{name}: backward gave {self.analytic:.6g}, finite differences give "
                f"{self.numeric:.6g} (relative error {self.rel_error:.2g})")
        return text + (f". {self.note}" if self.note else "")


@dataclass(frozen=True)
class GradcheckReport:
    """All rows of one check; ``ok`` when every input agrees."""

    rows: tuple[GradcheckRow, ...]
    output: float

    @property
    def ok(self) -> bool:
        return all(row.ok for row in self.rows)

    @property
    def failures(self) -> tuple[GradcheckRow, ...]:
        return tuple(row for row in self.rows if not row.ok)

    def __str__(self) -> str:
        if self.ok:
            return f"gradcheck passed for all {len(self.rows)} input(s)"
        lines = [f"gradcheck failed for {len(self.failures)} of {len(self.rows)} input(s):"]
        lines += ["  " + row.describe() for row in self.failures]
        return "\n".join(lines)


class GradcheckError(AssertionError):
    """Raised by ``gradcheck`` on a mismatch; ``.report`` holds the full report."""

    def __init__(self, report: GradcheckReport) -> None:
        super().__init__(str(report))
        self.report = report


def gradcheck(
    fn: Callable[..., Value],
    inputs: Sequence[float | Value],
    *,
    eps: float = 1e-6,
    rtol: float = 1e-4,
    atol: float = 1e-6,
    raise_on_failure: bool = True,
) -> GradcheckReport:
    """Check ``fn``'s backward against finite differences at ``inputs``.

    ``fn`` takes one Value per input and returns a Value: an expression, a model's loss,
    or an ``Op`` (built-in or your own). An input's gradient passes when
    |analytic - numeric| <= atol + rtol * |numeric|.

    Returns a ``GradcheckReport``; on a mismatch raises ``GradcheckError`` (whose
    message names each wrong input, the expected and actual gradient and the relative
    error) unless ``raise_on_failure=False``.
    """
    points = [x.data if isinstance(x, Value) else float(x) for x in inputs]
    labels = [x.label if isinstance(x, Value) else "" for x in inputs]
    leaves = [Value(x, label=label) for x, label in zip(points, labels)]
    output = fn(*leaves)
    if not isinstance(output, Value):
        raise TypeError(f"gradcheck: fn must return a Value, it returned {type(output).__name__}")
    output.backward()

    def f(i: int, x_i: float) -> float | None:
        args = [Value(x) for x in points]
        args[i] = Value(x_i)
        try:
            return fn(*args).data
        except (ValueError, ZeroDivisionError, OverflowError):
            return None

    rows = []
    for i, (x, leaf) in enumerate(zip(points, leaves)):
        numeric, note = _numeric_slope(functools.partial(f, i), x, eps * max(1.0, abs(x)), rtol, atol)
        ok = numeric is not None and abs(leaf.grad - numeric) <= atol + rtol * abs(numeric)
        if numeric is not None and not ok:
            note = _hint(leaf.grad, numeric)
        rows.append(GradcheckRow(i, labels[i], x, leaf.grad, numeric, ok, note))
    report = GradcheckReport(tuple(rows), output.data)
    if raise_on_failure and not report.ok:
        raise GradcheckError(report)
    return report


def _numeric_slope(f: Callable[[float], float | None], x: float, h: float,
                   rtol: float, atol: float) -> tuple[float | None, str]:
    """The numerical derivative of ``f`` at ``x``, or None and the reason it has none."""
    f0 = f(x)
    step = h
    for _ in range(8):  # next to a domain edge: shrink the step until both sides are defined
        f_plus, f_minus = f(x + step), f(x - step)
        if f_plus is not None and f_minus is not None:
            break
        step /= 10.0
    else:  # defined on one side only: a one-sided difference with the first (largest) step
        f_plus, f_minus = f(x + h), f(x - h)
        if f0 is not None and f_plus is not None:
            return (f_plus - f0) / h, ""
        if f0 is not None and f_minus is not None:
            return (f0 - f_minus) / h, ""
        return None, "fn cannot be evaluated on either side of this point"
    h = step
    if f0 is None:
        return None, "fn cannot be evaluated at this point"
    central = (f_plus - f_minus) / (2.0 * h)
    f_plus_half, f_minus_half = f(x + h / 2.0), f(x - h / 2.0)
    if f_plus_half is None or f_minus_half is None:
        return central, ""
    gap = (f_plus - 2.0 * f0 + f_minus) / h  # right slope minus left slope
    gap_half = (f_plus_half - 2.0 * f0 + f_minus_half) / (h / 2.0)
    if abs(gap) > 10.0 * (atol + rtol * abs(central)) and abs(gap_half) > 0.75 * abs(gap):
        left, right = (f0 - f_minus) / h, (f_plus - f0) / h  # a smooth curve's gap would halve
        return None, (f"fn has a kink here (slope {left:.6g} from the left, {right:.6g} "
                      "from the right); finite differences cannot judge it, try a nearby point")
    central_half = (f_plus_half - f_minus_half) / h
    return (4.0 * central_half - central) / 3.0, ""


def _hint(analytic: float, numeric: float) -> str:
    """A guess at the common mistake behind a wrong gradient."""
    if analytic == 0.0:
        return "Backward gave 0: is a chain-rule contribution missing (grad never passed on)?"
    if numeric == 0.0:
        return "The true gradient is 0: this input should not affect the output at this point."
    ratio = analytic / numeric
    if abs(ratio + 1.0) < 1e-3:
        return "Same size, opposite sign: a sign error?"
    for factor, words in [(2.0, "twice"), (0.5, "half")]:
        if abs(ratio - factor) < 1e-3:
            return (f"Backward is {words} the true gradient: a gradient counted twice, "
                    "or backward run twice without zeroing grads?" if factor == 2.0 else
                    f"Backward is {words} the true gradient: a factor of 2 missing?")
    return f"Backward is {ratio:.4g} times the true gradient: check the local derivative."
