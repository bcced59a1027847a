"""The comparison every module test makes with its PyTorch twin, written once.

``compare(ours, theirs, inputs, run_ours, run_torch)`` runs the glassgrad module and the
torch module on the same inputs (nested lists of floats), takes the same random linear
loss of every output, and checks that the outputs, the gradient of every parameter (in
``parameters()`` order against the twin's ``parameters()``, each flattened row-major) and
the gradient of every input agree within 1e-9. ``both_ways`` calls it in both directions of
the twin: ``theirs = ours.to_torch()`` and ``ours = Class.from_torch(theirs)``.
"""
from __future__ import annotations

import math
import random
from typing import Callable, Sequence

from hypothesis import strategies as st

from glassgrad.engine import Value
from glassgrad.nn.tensors import flatten

TOLERANCE = 1e-9


def numbers(low: float = -2.0, high: float = 2.0) -> st.SearchStrategy[float]:
    return st.floats(low, high, allow_nan=False, allow_infinity=False)


def nested(shape: Sequence[int], entries: st.SearchStrategy[float] | None = None) -> st.SearchStrategy[list]:
    """A nested list of ``shape`` filled with floats."""
    entries = entries or numbers()
    strategy = st.lists(entries, min_size=shape[-1], max_size=shape[-1])
    for size in reversed(shape[:-1]):
        strategy = st.lists(strategy, min_size=size, max_size=size)
    return strategy


def as_values(tensor: object) -> object:
    """The same nesting with every float made a leaf Value."""
    if isinstance(tensor, (list, tuple)):
        return [as_values(item) for item in tensor]
    return Value(tensor)


def close(ours: Sequence[float], theirs: Sequence[float]) -> bool:
    return len(ours) == len(theirs) and all(
        math.isclose(a, b, rel_tol=TOLERANCE, abs_tol=TOLERANCE) for a, b in zip(ours, theirs))


def compare(ours, theirs, inputs: Sequence[list], run_ours: Callable, run_torch: Callable, seed: int = 0) -> None:
    """Outputs, parameter gradients and input gradients of ``ours`` and ``theirs`` agree.

    ``run_ours(ours, *value_inputs)`` and ``run_torch(theirs, *tensor_inputs)`` return the
    outputs as nested lists of Values / a sequence of tensors, in the same order.
    """
    import torch

    value_inputs = [as_values(x) for x in inputs]
    tensor_inputs = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in inputs]
    our_outputs = flatten(run_ours(ours, *value_inputs))
    their_outputs = torch.cat([t.flatten() for t in run_torch(theirs, *tensor_inputs)])
    assert close([v.data for v in our_outputs], their_outputs.tolist()), "outputs differ"

    rng = random.Random(seed)
    coefficients = [rng.uniform(-1.0, 1.0) for _ in our_outputs]
    loss = our_outputs[0] * coefficients[0]
    for value, c in zip(our_outputs[1:], coefficients[1:]):
        loss = loss + value * c
    loss.backward()
    (their_outputs * torch.tensor(coefficients, dtype=torch.float64)).sum().backward()

    our_grads = [p.grad for p in ours.parameters()]
    their_grads = [g for p in theirs.parameters()
                   for g in (torch.zeros_like(p) if p.grad is None else p.grad).flatten().tolist()]
    assert close(our_grads, their_grads), "parameter gradients differ"
    for i, (values, tensor) in enumerate(zip(value_inputs, tensor_inputs)):
        grad = torch.zeros_like(tensor) if tensor.grad is None else tensor.grad
        assert close([v.grad for v in flatten(values)], grad.flatten().tolist()), f"input {i} gradients differ"


def torch_module(make: Callable, seed: int):
    """A torch module made with torch's own initialisation from ``seed``, in float64."""
    import torch

    torch.manual_seed(seed)
    return make(torch.nn).double()


def both_ways(ours, make_torch: Callable, inputs: Sequence[list], run_ours: Callable, run_torch: Callable,
              seed: int) -> None:
    """``compare`` with ``ours.to_torch()``, then with ``from_torch`` of a torch-initialised twin."""
    compare(ours, ours.to_torch(), inputs, run_ours, run_torch, seed)
    theirs = torch_module(make_torch, seed)
    compare(type(ours).from_torch(theirs), theirs, inputs, run_ours, run_torch, seed)
