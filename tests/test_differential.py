"""Differential testing: random expression graphs, glassgrad against PyTorch float64
and against finite differences.

``strategies.programs()`` draws a graph as data (leaves, then steps that apply any op
to earlier nodes or constants); ``Program.run`` builds the same graph with glassgrad
Values and with torch tensors. Values and *every* leaf gradient must agree.

The finite-difference test needs no torch; the others skip cleanly without it.
"""
from __future__ import annotations

import math

import pytest
from hypothesis import example, given

from glassgrad.engine import Value

from conftest import torch_value_and_leaf_grads
from strategies import (OP_CASES, PROGRAM_OPS, Program, Step, chain_program, glassgrad_apply,
                        programs, wide_sum_program)


def run_glassgrad(program: Program) -> tuple[float, list[float]]:
    leaves, root = program.run(Value, glassgrad_apply)
    root.backward()
    return root.data, [leaf.grad for leaf in leaves]


def central_difference(program: Program, i: int) -> float:
    h = 1e-6 * max(1.0, abs(program.leaves[i]))

    def at(x_i: float) -> float:
        leaves = list(program.leaves)
        leaves[i] = x_i
        return Program(tuple(leaves), program.steps).run(Value, glassgrad_apply)[1].data

    return (at(program.leaves[i] + h) - at(program.leaves[i] - h)) / (2 * h)


# A hand-written case always run first: leaf n0 is used at the start and again at the end.
@given(program=programs())
@example(program=Program((0.5, -1.5), (Step("exp", (0,)), Step("power(2)", (2,)),
                                      Step("mul", (3, 1)), Step("add", (4, 0)))))
def test_random_graph_gradients_match_finite_differences(program: Program) -> None:
    value, grads = run_glassgrad(program)
    for i, grad in enumerate(grads):
        numeric = central_difference(program, i)
        assert math.isclose(grad, numeric, rel_tol=1e-4, abs_tol=1e-5), (
            f"leaf n{i}: backward {grad}, finite differences {numeric}\n{program}")


# ------------------------------------------------------------------ PyTorch float64


def _torch():
    return pytest.importorskip("torch")


TORCH_FNS = {case.id: case.torch_fn for case in OP_CASES}
TORCH_FNS.update({name: case.torch_fn for case in OP_CASES
                  for name, op in PROGRAM_OPS.items() if op is case.op})
TORCH_FNS["leaky_relu(0.1)"] = lambda torch, x: torch.nn.functional.leaky_relu(x, 0.1)


def torch_backend(torch, requires_grad: bool):
    """``Program.run``'s two callbacks for PyTorch: leaves and op application."""
    def make_leaf(x: float):
        return torch.tensor(x, dtype=torch.float64, requires_grad=requires_grad)

    def apply(op_id: str, args):
        tensors = [a if isinstance(a, torch.Tensor) else torch.tensor(a, dtype=torch.float64)
                   for a in args]
        return TORCH_FNS[op_id](torch, *tensors)

    return make_leaf, apply


def run_torch(program: Program) -> tuple[float, list[float]]:
    leaves, root = program.run(*torch_backend(_torch(), requires_grad=True))
    return torch_value_and_leaf_grads(root, leaves)


def agree(ours: float, theirs: float, scale: float = 1.0) -> bool:
    # libm and PyTorch may round exp/log/tanh one ulp apart; subtraction can magnify
    # that, so the absolute part scales with the size of the numbers involved.
    return math.isclose(ours, theirs, rel_tol=1e-9, abs_tol=1e-12 * scale)


def test_every_program_op_has_a_pytorch_reference() -> None:
    assert set(PROGRAM_OPS) <= set(TORCH_FNS)


@given(program=programs())
def test_random_graph_values_and_every_leaf_gradient_match_pytorch(program: Program) -> None:
    _torch()
    ours, theirs = run_glassgrad(program), run_torch(program)
    scale = 1.0 + abs(theirs[0]) + sum(abs(g) for g in theirs[1])
    assert agree(ours[0], theirs[0], scale), f"value {ours[0]} vs {theirs[0]}\n{program}"
    for i, (mine, reference) in enumerate(zip(ours[1], theirs[1])):
        assert agree(mine, reference, scale), f"d/dn{i}: {mine} vs torch {reference}\n{program}"


@given(program=programs(safe=False, max_steps=8))
@example(program=Program((0.0,), (Step("pow", (-1.0, 0)),)))  # found by hypothesis: (-1) ** n0
def test_out_of_domain_graph_raises_documented_error_exactly_where_pytorch_gives_nan_or_inf(
        program: Program) -> None:
    torch = _torch()
    try:
        leaves, root = program.run(Value, glassgrad_apply)
    except (ValueError, ZeroDivisionError, OverflowError) as error:
        failing = program.steps[-1]
        op = PROGRAM_OPS[failing.op_id]
        names = {op.name, op.symbol, "**" if op.name == "pow" else op.name}
        assert any(name in str(error) for name in names), f"{error} does not name {op.name}"
        torch_root = run_torch_forward(program, torch)
        # Documented refusal: x ** y with a Value y needs x >= 0 (for log x), even
        # where PyTorch computes (-1) ** 0 = 1.
        negative_base_with_value_exponent = (
            failing.op_id == "pow" and "base must be >= 0" in str(error))
        assert negative_base_with_value_exponent or not math.isfinite(torch_root), (
            f"glassgrad raised {error!r} but torch computed {torch_root}\n{program}")
        return
    torch_value = run_torch_forward(program, torch)
    assert agree(root.data, torch_value, 1.0 + abs(torch_value)), program
    grads_before = [leaf.grad for leaf in leaves]
    try:
        root.backward()
    except OverflowError as error:
        assert "backward" in str(error)
        assert [leaf.grad for leaf in leaves] == grads_before  # nothing half-done
    else:
        assert all(math.isfinite(leaf.grad) for leaf in leaves)


def run_torch_forward(program: Program, torch) -> float:
    return program.run(*torch_backend(torch, requires_grad=False))[1].item()


@pytest.mark.parametrize("program", [chain_program(2_000), wide_sum_program(300)],
                         ids=["deep chain of 2000 ops", "wide sum of 300 squares"])
def test_deep_chains_and_wide_sums_match_pytorch(program: Program) -> None:
    _torch()
    ours, theirs = run_glassgrad(program), run_torch(program)
    assert agree(ours[0], theirs[0], 1.0 + abs(theirs[0]))
    assert all(agree(a, b) for a, b in zip(ours[1], theirs[1]))
