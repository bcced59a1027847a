"""Every op against PyTorch in float64: values, gradients, and the conventions at kinks.

PyTorch is an optional reference: without it this module is skipped as a whole and
the sympy and finite-difference tests (test_engine_ops.py) still run.
"""
from __future__ import annotations

import math

import pytest
from hypothesis import given, strategies as st

from glassgrad.engine import Value, ops

from conftest import torch_value_and_leaf_grads
from strategies import OP_CASE_IDS, OP_CASES, OpCase, op_inputs

torch = pytest.importorskip("torch")


def torch_value_and_grads(case: OpCase, xs: tuple[float, ...]) -> tuple[float, list[float]]:
    """PyTorch's value of the op at ``xs`` and d(value)/d(x_i), in float64."""
    leaves = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    return torch_value_and_leaf_grads(case.torch_fn(torch, *leaves), leaves)


def glassgrad_value_and_grads(case: OpCase, xs: tuple[float, ...]) -> tuple[float, list[float]]:
    leaves = [Value(x) for x in xs]
    out = case.op(*leaves)
    out.backward()
    return out.data, [leaf.grad for leaf in leaves]


def agree(ours: float, theirs: float) -> bool:
    # 1e-12 absolute: libm (ours) and PyTorch round tanh/sigmoid slightly differently,
    # and 1 - tanh(x)**2 near saturation keeps only absolute accuracy.
    return math.isclose(ours, theirs, rel_tol=1e-12, abs_tol=1e-300) or abs(ours - theirs) < 1e-15


@pytest.mark.parametrize("case", OP_CASES, ids=OP_CASE_IDS)
@given(data=st.data())
def test_value_and_gradients_match_pytorch_float64(case: OpCase, data) -> None:
    xs = data.draw(op_inputs(case, "wide"), label="inputs")
    ours = glassgrad_value_and_grads(case, xs)
    theirs = torch_value_and_grads(case, xs)
    assert agree(ours[0], theirs[0]), f"{case.id}{xs}: value {ours[0]} vs torch {theirs[0]}"
    for i, (mine, reference) in enumerate(zip(ours[1], theirs[1])):
        assert agree(mine, reference), f"{case.id}{xs}: d/dx{i} {mine} vs torch {reference}"


KINK_CASES = [(case, x) for case in OP_CASES for x in case.kinks]


@pytest.mark.parametrize("case, x", KINK_CASES, ids=[f"{c.id}@{x}" for c, x in KINK_CASES])
def test_gradient_at_kink_matches_pytorch(case: OpCase, x: float) -> None:
    """relu'(0) = 0, abs'(0) = 0, leaky_relu'(0) = slope, step' = 0: as PyTorch does."""
    assert glassgrad_value_and_grads(case, (x,)) == torch_value_and_grads(case, (x,))


@pytest.mark.parametrize("x", [0.0, -2.5, 1e300])
def test_max_at_a_tie_splits_the_gradient_in_half_like_torch_maximum(x: float) -> None:
    leaves = [Value(x), Value(x)]
    leaves[0].max(leaves[1]).backward()
    tensors = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for _ in range(2)]
    torch.maximum(*tensors).backward()
    assert [leaf.grad for leaf in leaves] == [t.grad.item() for t in tensors] == [0.5, 0.5]


@pytest.mark.parametrize("n", [0.0, 0.5, 1.0, 1.5, 2.0, 3.0])
def test_power_at_zero_matches_pytorch(n: float) -> None:
    leaf = Value(0.0)
    node = leaf ** n
    reference = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    torch.pow(reference, n).backward()
    assert node.data == 0.0 ** n
    assert node.local_grads == (reference.grad.item(),)


def test_pow_with_value_exponent_at_zero_base_matches_pytorch() -> None:
    for y in (0.0, 0.5, 1.0, 2.0):
        base, exponent = Value(0.0), Value(y)
        node = ops.BUILTIN_OPS["pow"](base, exponent)
        torch_base = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
        torch_exponent = torch.tensor(y, dtype=torch.float64, requires_grad=True)
        torch.pow(torch_base, torch_exponent).backward()
        assert node.local_grads == (torch_base.grad.item(), torch_exponent.grad.item())


@pytest.mark.parametrize("n, x", [(-1.0, 1e-160), (-1.0, -1e-160), (-2.0, 1e-110), (-2.0, -1e-110),
                                  (-3.0, -1e-80), (-0.5, 1e-300), (-1.5, 1e-200)])
def test_overflowing_power_derivative_matches_pytorch_infinity(n: float, x: float) -> None:
    reference = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    torch.pow(reference, n).backward()
    assert (Value(x) ** n).local_grads == (reference.grad.item(),)


@pytest.mark.parametrize("x", [-1000.0, -40.0, 40.0, 1000.0])
def test_saturated_tanh_and_sigmoid_gradients_match_pytorch(x: float) -> None:
    for method, torch_fn in [(Value.tanh, torch.tanh), (Value.sigmoid, torch.sigmoid)]:
        leaf = Value(x)
        method(leaf).backward()
        reference = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        torch_fn(reference).backward()
        assert math.isclose(leaf.grad, reference.grad.item(), rel_tol=1e-12, abs_tol=1e-300)
