"""Hypothesis profiles for the whole suite, and helpers that several test files share.

* ``ci`` (default): enough examples to find real bugs, fast enough for every push.
* ``long``: many more examples for a patient run, chosen by ``GLASSGRAD_LONG=1``.
* ``mutmut``: few examples, for mutation testing (hundreds of re-runs of the suite).

Pick one on the command line with ``python -m pytest --hypothesis-profile=long``.
No deadline anywhere: timing is for benchmarks, not for pass/fail.

Shared helpers (import them with ``from conftest import ...``):

* ``tanh_graph()``: the README's graph L = tanh(a*b + c) at a = 2, b = -3, c = 10;
* ``torch_value_and_leaf_grads(out, leaves)``: PyTorch's value and leaf gradients, the
  reference that the float64 comparisons read;
* ``check_replay_matches_eager(params, loss_of, first, second)``: a function traced once
  replays eager's loss and its parameter and input gradients on new inputs.
"""
import os

import pytest
from hypothesis import HealthCheck, settings

from glassgrad.engine import Value, trace

settings.register_profile(
    "ci", max_examples=300, deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "long", max_examples=5000, deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "mutmut", max_examples=40, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("long" if os.environ.get("GLASSGRAD_LONG") == "1" else "ci")


def tanh_graph() -> tuple[Value, tuple[Value, Value, Value]]:
    """L = tanh(a*b + c) at a = 2, b = -3, c = 10, labelled a, b, c and L: (L, (a, b, c))."""
    a, b, c = Value(2.0, label="a"), Value(-3.0, label="b"), Value(10.0, label="c")
    L = (a * b + c).tanh()
    L.label = "L"
    return L, (a, b, c)


def torch_value_and_leaf_grads(out, leaves) -> tuple[float, list[float]]:
    """PyTorch's ``out.item()`` and d out / d leaf for each leaf tensor (0.0 where none flows).

    ``out`` is a 0-d tensor computed from ``leaves`` (float64, requires_grad=True); a
    result that does not depend on any leaf (a constant) has no graph to run backward on.
    """
    if out.requires_grad:
        out.backward()
    return out.item(), [0.0 if leaf.grad is None else leaf.grad.item() for leaf in leaves]


def check_replay_matches_eager(params, loss_of, first, second) -> None:
    """Trace ``loss_of`` (nested lists of numbers -> a Value) on ``first``, then replay the tape
    on ``second``: the loss and its gradient with respect to every parameter and every input
    number equal eager's ``loss_of(second)``, to the rounding of summing in another order,
    with one recording only."""
    traced = trace(loss_of)
    traced(first)
    for p in params:
        p.grad = 0.0
    replayed = traced(second)
    replayed.backward()
    replayed_grads = [p.grad for p in params]
    for p in params:
        p.grad = 0.0
    leaves: list[Value] = []
    eager = loss_of(_as_leaves(second, leaves))
    eager.backward()
    assert traced.recordings == 1
    assert replayed.data == pytest.approx(eager.data, rel=1e-12, abs=1e-12)
    assert replayed_grads == pytest.approx([p.grad for p in params], rel=1e-9, abs=1e-12)
    assert replayed.input_grads() == pytest.approx([x.grad for x in leaves], rel=1e-9, abs=1e-12)


def _as_leaves(numbers, leaves: list):
    """``numbers`` (nested lists) with each number a fresh Value, appended to ``leaves`` in order."""
    if isinstance(numbers, list):
        return [_as_leaves(item, leaves) for item in numbers]
    leaves.append(Value(numbers))
    return leaves[-1]
