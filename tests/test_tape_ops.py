"""Each op's array form (for the tape) against its scalar form (eager), on random points,
kinks and domain edges: where the scalar form raises, the array form must give nan or inf
(the tape then lets the scalar form raise); elsewhere both give exactly the same value
and the same local derivatives."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from glassgrad.engine import ops
from strategies import OP_CASE_IDS, OP_CASES

EDGES = (0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 1e-320, -1e-320, 1e-300, 709.78, 710.0,
         -745.2, -1000.0, 1000.0, 1e300, -1e300, 3.0, -3.0, 0.1)


def scalar_result(op: ops.Op, xs: tuple[float, ...]):
    """(value, local grads) of the scalar form, or None where eager mode raises."""
    try:
        out = op.forward(*xs)
    except (ValueError, ZeroDivisionError, OverflowError):
        return None
    if not math.isfinite(out):
        return None  # eager turns this into its named error
    return out, tuple(op.local_grads(*xs, out))


def same(a: float, b: float) -> bool:
    """The same float: the tape's replay must give eager's numbers bit for bit
    (0.0 and -0.0 count as the same, as they add the same into every sum)."""
    return a == b


def check_op_on_points(op: ops.Op, points: list[tuple[float, ...]]) -> None:
    columns = np.array(points, dtype=float).T
    with np.errstate(all="ignore"):
        out = np.asarray(op.array_forward(*columns), dtype=float)
        grads = [np.broadcast_to(g, out.shape) for g in op.array_local_grads(*columns, out)]
    for j, xs in enumerate(points):
        expected = scalar_result(op, xs)
        if expected is None:
            assert not math.isfinite(out[j]), f"{op.call_text(*xs)}: array form gave {out[j]!r}"
            continue
        assert same(out[j], expected[0]), f"{op.call_text(*xs)}: {out[j]!r} vs {expected[0]!r}"
        for k, scalar_grad in enumerate(expected[1]):
            assert same(float(grads[k][j]), scalar_grad), (
                f"{op.call_text(*xs)} d/dx{k}: array {grads[k][j]!r}, scalar {scalar_grad!r}")


EXACT_IN_NUMPY = {"add", "sub", "mul", "div", "max", "neg", "abs", "sqrt", "relu", "step", "leaky_relu"}


def test_exactly_the_ops_built_from_correctly_rounded_steps_declare_an_array_form():
    """+, -, *, /, sqrt and comparisons round the same in NumPy and in math; exp, log,
    tanh and pow may not (one ulp), so those run their scalar form on the tape."""
    declared = {op.name for op in [*ops.BUILTIN_OPS.values(), ops.power(2.5), ops.leaky_relu(0.3)]
                if op.array_forward is not None and op.array_local_grads is not None}
    assert declared == EXACT_IN_NUMPY


ARRAY_CASES = [case for case in OP_CASES if case.op.array_forward is not None]
ARRAY_CASE_IDS = [case_id for case, case_id in zip(OP_CASES, OP_CASE_IDS) if case.op.array_forward is not None]


@pytest.mark.parametrize("case", ARRAY_CASES, ids=ARRAY_CASE_IDS)
def test_array_form_equals_scalar_form_at_kinks_and_domain_edges(case):
    points = list(itertools.product(EDGES, repeat=case.op.arity))
    points += [(k,) * case.op.arity for k in case.kinks]
    check_op_on_points(case.op, points)


@pytest.mark.parametrize("case", ARRAY_CASES, ids=ARRAY_CASE_IDS)
@given(data=st.data())
def test_array_form_equals_scalar_form_on_random_points(case, data):
    points = data.draw(st.lists(st.tuples(*case.wide), min_size=1, max_size=20))
    check_op_on_points(case.op, points)


def test_an_op_with_only_one_array_form_is_refused_with_a_clear_error():
    with pytest.raises(TypeError, match="give both array_forward and array_local_grads"):
        ops.Op("half", lambda x: x / 2, lambda x, out: (0.5,), array_forward=lambda x: x / 2)


def test_the_eager_engine_imports_numpy_only_inside_the_array_forms():
    import ast
    from pathlib import Path

    import glassgrad.engine as engine
    for name in ("value.py", "ops.py"):
        tree = ast.parse((Path(engine.__file__).parent / name).read_text())
        top_level = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
        imported = {alias.name.split(".")[0] for node in top_level for alias in node.names}
        imported |= {node.module.split(".")[0] for node in top_level
                     if isinstance(node, ast.ImportFrom) and node.module}
        assert "numpy" not in imported, name
