"""Module: the base class of everything with parameters (Neuron, Layer, MLP, your own).

A Module finds its parameters by itself: every attribute that holds a ``Value``, a list
of Values, a sub-Module or a list of Modules, in the order the attributes were set.
The dotted path to a parameter is its name::

    model = MLP(2, [16, 1])
    model.named_parameters()[0]    # ("layers.0.neurons.0.w.0", Value(...))

so a subclass only has to store its Values and sub-Modules as attributes. Attributes
whose name starts with "_" are private and never searched.
"""
from __future__ import annotations

import os
from typing import Callable, Iterator, Mapping

from glassgrad.engine import Value

from .serialize import check_state, load_module, save_module


class Module:
    """Base class: parameters, gradients, train/eval mode, state dicts and JSON files."""

    training: bool = True  # a class default, so subclasses need not call __init__
    loss_fn: Callable[..., Value] | None = None  # the loss nn.fit last trained it with (nn.predictions reads it)

    # ------------------------------------------------------------ parameters

    def named_parameters(self) -> list[tuple[str, Value]]:
        """(dotted name, Value) for every parameter, in attribute-definition order.

        A Value reachable by two paths (a shared parameter) is listed once, under its
        first name. The walk is iterative: deep models need no recursion.
        """
        found: list[tuple[str, Value]] = []
        seen: set[Value] = set()  # Values hash by identity; only used for membership
        for name, item in _walk(self):
            if isinstance(item, Value) and item not in seen:
                seen.add(item)
                found.append((name, item))
        return found

    def parameters(self) -> list[Value]:
        """Every parameter (a leaf Value), in the order of ``named_parameters()``."""
        return [value for _, value in self.named_parameters()]

    def modules(self) -> list[Module]:
        """This module and every sub-Module inside it, parents before children."""
        return [item for _, item in _walk(self) if isinstance(item, Module)]

    def zero_grad(self) -> None:
        """Set every parameter's grad to 0 (gradients accumulate across backward calls)."""
        for parameter in self.parameters():
            parameter.grad = 0.0

    # ------------------------------------------------------------- modes

    def train(self, mode: bool = True) -> Module:
        """Training mode for this module and all its sub-Modules (Dropout drops)."""
        for module in self.modules():
            module.training = bool(mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode for this module and all its sub-Modules (Dropout is the identity)."""
        return self.train(False)

    # ------------------------------------------------------ saving and loading

    def state_dict(self) -> dict[str, float]:
        """{parameter name: its number}: everything needed to restore the parameters."""
        return {name: value.data for name, value in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, float], strict: bool = True) -> None:
        """Set parameters from ``state`` (as made by ``state_dict()``).

        Everything is checked before anything is assigned, so on a ValueError the model
        is exactly as it was. ``strict=True`` needs exactly this model's names;
        ``strict=False`` loads the names both have and ignores the rest.
        """
        self._assign(check_state(self, state, strict=strict, source="load_state_dict"))

    def save(self, path: str | os.PathLike) -> None:
        """Write the parameters to ``path`` as JSON (see ``nn.serialize`` for the format)."""
        save_module(self, path)

    def load(self, path: str | os.PathLike, strict: bool = True) -> Module:
        """Read parameters saved by ``save()``; on any problem raise ValueError and change nothing."""
        self._assign(load_module(self, path, strict=strict))
        return self

    def _assign(self, updates: list[tuple[Value, float]]) -> None:
        for parameter, number in updates:
            parameter.data = number

    # ------------------------------------------------------- PyTorch twins

    def to_torch(self):
        """The equivalent torch.nn module with the same weights, in float64 (see ``nn.twins``)."""
        from .twins import to_torch  # twins imports every module class, so only when called

        return to_torch(self)

    @classmethod
    def from_torch(cls, torch_module):
        """A new module of this class with the sizes, settings and weights of ``torch_module``."""
        from .twins import from_torch

        return from_torch(cls, torch_module)

    def __call__(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define __call__ (its forward pass)")

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _walk(root: Module) -> Iterator[tuple[str, object]]:
    """(dotted name, item) for ``root``'s sub-Modules and Values, depth first, in order.

    An explicit stack instead of recursion; children are pushed in reverse so they come
    off the stack in definition order.
    """
    stack: list[tuple[str, object]] = [("", root)]
    seen_modules: set[Module] = set()  # a Module reachable twice (or a cycle) is walked once
    while stack:
        name, item = stack.pop()
        if isinstance(item, Module):
            if item in seen_modules:
                continue
            seen_modules.add(item)
        yield name, item
        if isinstance(item, Module):
            children = [(key, child) for key, child in vars(item).items() if not key.startswith("_")]
        elif isinstance(item, (list, tuple)):
            children = [(str(index), child) for index, child in enumerate(item)]
        else:
            continue
        for key, child in reversed(children):
            if isinstance(child, (Value, Module, list, tuple)):
                stack.append((f"{name}.{key}" if name else key, child))
