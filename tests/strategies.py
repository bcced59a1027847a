"""Hypothesis strategies for the engine's tests: op inputs and random expression graphs.

Two things live here:

* ``OP_CASES``: every op of the engine (each built-in, several ``power(n)``, two
  ``leaky_relu(slope)``) with the inputs it may be fed. ``wide`` reaches the edges of
  the domain (log near 0+, tanh at +-1000, exp near its overflow limit ~709.78, tiny
  divisors); ``smooth`` stays where finite differences are trustworthy (moderate
  sizes, away from kinks). ``torch_fn`` names the PyTorch function that is the
  reference (called with the ``torch`` module, so this file never imports torch).
* ``programs()``: random expression graphs as data, a ``Program``: a few leaves and a
  list of steps, each applying an op to earlier nodes (so sub-expressions are shared
  and nodes reused). ``Program.run`` builds it with any "backend" (glassgrad Values
  or torch tensors), so the test compares the same graph in both.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

from hypothesis import strategies as st

from glassgrad.engine import Value, ops

BUILTIN = ops.BUILTIN_OPS


def reals(low: float, high: float) -> st.SearchStrategy[float]:
    """Finite floats in [low, high] (hypothesis tries the ends and 0 first)."""
    return st.floats(low, high, allow_nan=False, allow_infinity=False)


def magnitudes(low: float, high: float) -> st.SearchStrategy[float]:
    """Floats with low <= |x| <= high, either sign: never 0, never tiny."""
    return st.one_of(reals(low, high), reals(-high, -low))


def away_from_zero(high: float, gap: float = 1e-3) -> st.SearchStrategy[float]:
    """|x| in [gap, high]: for ops with a kink at 0 (finite differences can't judge it)."""
    return magnitudes(gap, high)


def _softplus_reference(torch, x):
    # PyTorch's softplus returns x itself above `threshold` (default 20), a shortcut
    # that is off by 2e-9 at x = 20; a higher threshold makes it exact in float64.
    return torch.nn.functional.softplus(x, threshold=700.0)


def _step_reference(torch, x):
    return (x > 0).to(x.dtype)  # a comparison: no gradient flows, as step' = 0


@dataclass(frozen=True)
class OpCase:
    """One op under test, the inputs to feed it, and its PyTorch counterpart."""

    id: str
    op: ops.Op
    wide: tuple[st.SearchStrategy[float], ...]
    smooth: tuple[st.SearchStrategy[float], ...]
    torch_fn: Callable
    kinks: tuple[float, ...] = field(default=())  # points where the derivative jumps


def _power_case(n: float, wide_base: st.SearchStrategy[float],
                smooth_base: st.SearchStrategy[float]) -> OpCase:
    return OpCase(f"power({n:g})", ops.power(n), (wide_base,), (smooth_base,),
                  lambda torch, x: torch.pow(x, n))


def _leaky_case(slope: float) -> OpCase:
    return OpCase(f"leaky_relu({slope:g})", ops.leaky_relu(slope), (reals(-1e300, 1e300),),
                  (away_from_zero(10.0),),
                  lambda torch, x: torch.nn.functional.leaky_relu(x, slope), kinks=(0.0,))


OP_CASES: list[OpCase] = [
    OpCase("add", BUILTIN["add"], (reals(-1e300, 1e300),) * 2, (reals(-10, 10),) * 2,
           lambda torch, x, y: x + y),
    OpCase("sub", BUILTIN["sub"], (reals(-1e300, 1e300),) * 2, (reals(-10, 10),) * 2,
           lambda torch, x, y: x - y),
    OpCase("mul", BUILTIN["mul"], (reals(-1e150, 1e150),) * 2, (reals(-10, 10),) * 2,
           lambda torch, x, y: x * y),
    OpCase("div", BUILTIN["div"], (reals(-1e100, 1e100), magnitudes(1e-100, 1e100)),
           (reals(-10, 10), magnitudes(0.1, 10)), lambda torch, x, y: x / y),
    OpCase("pow", BUILTIN["pow"], (reals(1e-10, 1e3), reals(-20, 20)),
           (reals(0.1, 5), reals(-3, 3)), lambda torch, x, y: torch.pow(x, y)),
    # smooth: x at least 0.1 from 0 and y within 0.05 of it, so never near the tie x == y
    OpCase("max", BUILTIN["max"], (reals(-1e300, 1e300),) * 2, (away_from_zero(10, 0.1), reals(-0.05, 0.05)),
           lambda torch, x, y: torch.maximum(x, y)),
    OpCase("neg", BUILTIN["neg"], (reals(-1e300, 1e300),), (reals(-10, 10),),
           lambda torch, x: -x),
    OpCase("abs", BUILTIN["abs"], (reals(-1e300, 1e300),), (away_from_zero(10),),
           lambda torch, x: torch.abs(x), kinks=(0.0,)),
    OpCase("exp", BUILTIN["exp"], (reals(-700, 709.78),), (reals(-10, 10),),
           lambda torch, x: torch.exp(x)),
    OpCase("log", BUILTIN["log"], (reals(1e-300, 1e300),), (reals(0.05, 100),),
           lambda torch, x: torch.log(x)),
    OpCase("sqrt", BUILTIN["sqrt"], (reals(1e-300, 1e300),), (reals(0.05, 100),),
           lambda torch, x: torch.sqrt(x)),
    OpCase("tanh", BUILTIN["tanh"], (reals(-1000, 1000),), (reals(-5, 5),),
           lambda torch, x: torch.tanh(x)),
    OpCase("sigmoid", BUILTIN["sigmoid"], (reals(-1000, 1000),), (reals(-10, 10),),
           lambda torch, x: torch.sigmoid(x)),
    OpCase("relu", BUILTIN["relu"], (reals(-1e300, 1e300),), (away_from_zero(10),),
           lambda torch, x: torch.relu(x), kinks=(0.0,)),
    OpCase("softplus", BUILTIN["softplus"], (reals(-1000, 1000),), (reals(-10, 10),),
           _softplus_reference),
    OpCase("step", BUILTIN["step"], (reals(-1e300, 1e300),), (away_from_zero(10),),
           _step_reference, kinks=(0.0,)),
    _power_case(2, reals(-1e150, 1e150), reals(-10, 10)),
    _power_case(3, reals(-1e100, 1e100), reals(-10, 10)),
    _power_case(-1, magnitudes(1e-150, 1e150), magnitudes(0.1, 10)),
    _power_case(-2, magnitudes(1e-100, 1e100), magnitudes(0.1, 10)),
    _power_case(0, reals(-1e300, 1e300), reals(-10, 10)),  # subnormal x: test_regressions
    _power_case(1, reals(-1e300, 1e300), reals(-10, 10)),
    _power_case(0.5, reals(1e-300, 1e300), reals(0.05, 100)),
    _power_case(1.5, reals(0, 1e200), reals(0.05, 100)),
    _power_case(-0.5, reals(1e-200, 1e200), reals(0.05, 100)),
    _leaky_case(0.01),
    _leaky_case(0.2),
]
OP_CASE_IDS = [case.id for case in OP_CASES]


def op_inputs(case: OpCase, which: str = "wide") -> st.SearchStrategy[tuple[float, ...]]:
    """A tuple with one float per input of ``case.op``, from its wide or smooth domain."""
    return st.tuples(*getattr(case, which))


# ------------------------------------------------------ random expression graphs


@dataclass(frozen=True)
class Step:
    """One node of a program: ``op_id`` applied to earlier nodes (by index) or constants."""

    op_id: str
    args: tuple[int | float, ...]  # an int is a node index, a float a constant


@dataclass(frozen=True)
class Program:
    """A random expression graph as data: leaves, then steps; the last node is the root."""

    leaves: tuple[float, ...]
    steps: tuple[Step, ...]

    def run(self, make_leaf: Callable[[float], object],
            apply: Callable[[str, Sequence[object]], object]) -> tuple[list, object]:
        """Build the graph with a backend; return (leaf objects, root)."""
        leaves = [make_leaf(x) for x in self.leaves]
        nodes = list(leaves)
        for step in self.steps:
            args = [nodes[a] if isinstance(a, int) else a for a in step.args]
            nodes.append(apply(step.op_id, args))
        return leaves, nodes[-1]

    def __str__(self) -> str:  # hypothesis prints this for a failing example
        lines = [f"n{i} = {x!r}" for i, x in enumerate(self.leaves)]
        for k, step in enumerate(self.steps, start=len(self.leaves)):
            args = ", ".join(f"n{a}" if isinstance(a, int) else repr(a) for a in step.args)
            lines.append(f"n{k} = {step.op_id}({args})")
        return "\n".join(lines)


# The ops a program may use, by id: name -> (Op, arity of the call).
PROGRAM_OPS: dict[str, ops.Op] = {
    **BUILTIN,
    "power(2)": ops.power(2), "power(3)": ops.power(3), "power(-1)": ops.power(-1),
    "power(0.5)": ops.power(0.5), "leaky_relu(0.1)": ops.leaky_relu(0.1),
}


def glassgrad_apply(op_id: str, args: Sequence[object]) -> Value:
    """The glassgrad backend of ``Program.run``: apply the op to Values/constants."""
    return PROGRAM_OPS[op_id](*args)


def _in_safe_domain(op_id: str, xs: Sequence[float]) -> bool:
    """Inputs where the op is smooth and well conditioned (bounded local derivatives).

    Keeps finite differences meaningful: no kink within 1e-3, no division by less
    than 0.1, no log/sqrt/negative power near 0, nothing that grows past ~1e6.
    """
    x = xs[0]
    if op_id in ("abs", "relu", "step", "leaky_relu(0.1)"):
        return abs(x) >= 1e-3
    if op_id == "max":
        return abs(xs[0] - xs[1]) >= 1e-3
    if op_id == "div":
        return abs(xs[1]) >= 0.1
    if op_id == "pow":
        return 0.1 <= x <= 10 and abs(xs[1]) <= 3
    if op_id in ("log", "sqrt", "power(0.5)"):
        return x >= 0.05
    if op_id == "power(-1)":
        return abs(x) >= 0.1
    if op_id == "exp":
        return x <= 5
    return True


@st.composite
def programs(draw, *, max_leaves: int = 4, max_steps: int = 12, safe: bool = True,
             wide_sums: bool = True) -> Program:
    """A random expression graph.

    Each step applies a random op to earlier nodes (any of them, so sub-expressions
    are shared and a node can be used twice in one op, as in x*x) or to a constant.
    With ``safe=True`` only steps inside ``_in_safe_domain`` are kept, and values stay
    within +-1e4, so gradients are finite and finite differences apply; with
    ``safe=False`` anything goes and the engine must raise its documented errors.
    Sometimes a deep chain or a wide sum is appended.
    """
    leaves = draw(st.lists(reals(-3, 3), min_size=1, max_size=max_leaves))
    values = [Value(x) for x in leaves]  # the engine's forward decides what is in domain
    steps: list[Step] = []
    op_ids = st.sampled_from(sorted(PROGRAM_OPS))
    for _ in range(draw(st.integers(1, max_steps))):
        op_id = draw(op_ids)
        arity = PROGRAM_OPS[op_id].arity
        args = tuple(
            draw(st.one_of(st.integers(0, len(values) - 1), reals(-3, 3).map(float)))
            if arity == 2 else draw(st.integers(0, len(values) - 1))
            for _ in range(arity)
        )
        if all(not isinstance(a, int) for a in args):
            args = (len(values) - 1,) + args[1:]  # at least one node input
        xs = [values[a].data if isinstance(a, int) else a for a in args]
        if safe and not _in_safe_domain(op_id, xs):
            continue
        try:
            out = glassgrad_apply(op_id, [values[a] if isinstance(a, int) else a for a in args])
        except (ValueError, ZeroDivisionError, OverflowError):
            if safe:
                continue
            steps.append(Step(op_id, args))
            break  # the program ends at the step that raises
        if safe and abs(out.data) > 1e4:
            continue
        steps.append(Step(op_id, args))
        values.append(out)
    if safe and draw(st.booleans()) and wide_sums:
        steps.append(Step("add", (len(values) - 1, 0)))  # re-use the first leaf late
    if not steps:
        steps.append(Step("mul", (0, 0)))  # x * x: the same node twice in one op
    return Program(tuple(leaves), tuple(steps))


def chain_program(length: int, op_ids: Sequence[str] = ("tanh", "sigmoid", "neg")) -> Program:
    """A deep chain: one leaf, ``length`` unary ops one after another."""
    steps = tuple(Step(op_ids[k % len(op_ids)], (k,)) for k in range(length))
    return Program((0.3,), steps)


def wide_sum_program(width: int) -> Program:
    """A wide sum: ``width`` leaves, each squared, all added up (every leaf used twice)."""
    leaves = tuple(0.1 * (k % 7) - 0.3 for k in range(width))
    steps = [Step("mul", (0, 0))]
    for k in range(1, width):
        steps.append(Step("mul", (k, k)))
        steps.append(Step("add", (width + len(steps) - 2, width + len(steps) - 1)))
    return Program(leaves, tuple(steps))
