"""Three scalar autograd libraries behind one small interface, so a benchmark can run
the *identical* computation on each: glassgrad's ``Value``, micrograd 0.1.0's ``Value``
and PyTorch's 0-d float64 tensors.

A benchmark only ever touches scalars through a ``Scalars`` record: it makes leaves
with ``parameter``/``constant``, combines them with ``+ - *`` (all three libraries
overload them the same way) and ``relu`` (micrograd 0.1.0 has no tanh or exp), then calls
``backward`` and ``sgd_update``.
"""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import Any, Callable, Optional

LIBRARY_NAMES = ("glassgrad", "micrograd", "torch")


@dataclass(frozen=True)
class Scalars:
    """How to do the few things a benchmark needs with one library's scalar type."""

    name: str
    version: str
    parameter: Callable[[float], Any]  # a leaf that receives a gradient
    constant: Callable[[float], Any]  # an input leaf (no gradient needed)
    relu: Callable[[Any], Any]
    backward: Callable[[Any], None]  # fill in d(root)/d(leaf) for every leaf
    sgd_update: Callable[[list, float], None]  # p <- p - lr * dL/dp, then zero the grad
    to_float: Callable[[Any], float]
    grad_of: Callable[[Any], float]
    # Nodes (op results and leaves) in the graph of a root, or None if unknown.
    count_nodes: Optional[Callable[[Any], int]]
    # False if the graph lives outside Python's allocator, unseen by tracemalloc.
    traceable: bool = True


def is_installed(name: str) -> bool:
    """True if the library ``name`` (one of LIBRARY_NAMES) can be imported."""
    module = {"glassgrad": "glassgrad.engine"}.get(name, name)
    return importlib.util.find_spec(module) is not None


def load(name: str) -> Scalars:
    """The ``Scalars`` of library ``name``; imports it only now (it may be slow or absent)."""
    loaders = {"glassgrad": _glassgrad, "micrograd": _micrograd, "torch": _torch}
    if name not in loaders:
        raise ValueError(f"unknown library {name!r}: choose one of {', '.join(LIBRARY_NAMES)}")
    return loaders[name]()


def _value_class(name: str, value_class: type, count_nodes: Callable[[Any], int]) -> Scalars:
    """For a library whose scalar is a Value class with float ``data`` and ``grad``
    attributes, ``relu()`` and ``backward()`` methods (glassgrad and micrograd)."""
    from importlib.metadata import version

    def sgd_update(parameters: list, learning_rate: float) -> None:
        for parameter in parameters:
            parameter.data -= learning_rate * parameter.grad
            parameter.grad = 0.0

    return Scalars(
        name=name, version=version(name),
        parameter=value_class, constant=value_class,
        relu=value_class.relu, backward=value_class.backward, sgd_update=sgd_update,
        to_float=lambda v: v.data, grad_of=lambda v: v.grad, count_nodes=count_nodes,
    )


def _glassgrad() -> Scalars:
    from glassgrad.engine import Value, topological_order

    return _value_class("glassgrad", Value, lambda root: len(topological_order(root)))


def _micrograd() -> Scalars:
    from micrograd.engine import Value

    return _value_class("micrograd", Value, _count_micrograd_nodes)


def _count_micrograd_nodes(root: Any) -> int:
    """Nodes reachable from ``root`` through micrograd's ``_prev`` sets (iteratively:
    micrograd's own recursive walk fails on deep graphs)."""
    seen = {root}  # micrograd Values hash by identity
    stack = [root]
    while stack:
        for node_input in stack.pop()._prev:
            if node_input not in seen:
                seen.add(node_input)
                stack.append(node_input)
    return len(seen)


def _torch() -> Scalars:
    import torch

    def scalar(x: float, requires_grad: bool) -> Any:
        return torch.tensor(x, dtype=torch.float64, requires_grad=requires_grad)

    def sgd_update(parameters: list, learning_rate: float) -> None:
        with torch.no_grad():
            for parameter in parameters:
                parameter -= learning_rate * parameter.grad
                parameter.grad = None

    return Scalars(
        name="torch", version=torch.__version__,
        parameter=lambda x: scalar(x, True), constant=lambda x: scalar(x, False),
        relu=torch.relu, backward=lambda root: root.backward(),
        sgd_update=sgd_update,
        to_float=lambda t: t.item(),
        grad_of=lambda t: 0.0 if t.grad is None else t.grad.item(),
        count_nodes=None,  # constants are not graph nodes in torch: count with glassgrad
        traceable=False,  # tensors and autograd nodes are C++ objects
    )
