"""Hypothesis profiles for the whole suite, and helpers that several test files share.

* ``ci`` (default): enough examples to find real bugs, fast enough for every push.
* ``long``: many more examples for a patient run, chosen by ``GLASSGRAD_LONG=1``.
* ``mutmut``: few examples, for mutation testing (hundreds of re-runs of the suite).

Pick one on the command line with ``python -m pytest --hypothesis-profile=long``.
No deadline anywhere: timing is for benchmarks, not for pass/fail.

Shared helpers (import them with ``from conftest import ...``):

* ``tanh_graph()``: the README's graph L = tanh(a*b + c) at a = 2, b = -3, c = 10;
* ``torch_value_and_leaf_grads(out, leaves)``: PyTorch's value and leaf gradients, the
  reference that the float64 comparisons read.
"""
import os

from hypothesis import HealthCheck, settings

from glassgrad.engine import Value

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
