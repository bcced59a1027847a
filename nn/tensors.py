"""Nested lists as tensors: what Conv2d, the recurrent cells and attention share.

A tensor here is a nested list of Values (or plain numbers), outermost index first, like
PyTorch's row-major layout: a weight of shape (out, in) is ``weight[row][col]``, an image
of shape (channels, rows, cols) is ``image[c][i][j]``. ``parameter`` makes one filled
with fresh leaf Values, labelled by name and index (``weight[2,0]``); ``shape_of``
checks that a nested list is rectangular; ``affine`` is W x + b one op at a time; and
``Linear`` is that affine map as a Module, the twin of ``torch.nn.Linear``.
"""
from __future__ import annotations

import math
import numbers
import random
from typing import Sequence

from glassgrad.engine import Value

from .arguments import whole_number
from .module import Module
from .rng import RandomSource, make_rng


def parameter(shape: Sequence[int], bound: float, source: RandomSource, name: str,
              index: tuple[int, ...] = ()) -> list:
    """A nested list of ``shape`` holding new Values, each uniform in [-bound, bound]."""
    if len(shape) == 1:
        return [Value(source.uniform(-bound, bound), label=_label(name, (*index, i)))
                for i in range(shape[0])]
    return [parameter(shape[1:], bound, source, name, (*index, i)) for i in range(shape[0])]


def _label(name: str, index: tuple[int, ...]) -> str:
    return f"{name}[{','.join(map(str, index))}]"


def shape_of(tensor: object, depth: int, owner: object, what: str) -> tuple[int, ...]:
    """The shape of a rectangular nested list ``depth`` levels deep, or a ValueError.

    ``owner`` (the module) and ``what`` ("an image [channel][row][col]") name the
    caller in the message, which also shows where the nesting goes wrong.
    """
    shape: list[int] = []
    level: list = [tensor]
    for axis in range(depth):
        sizes = set()
        next_level: list = []
        for item in level:
            if isinstance(item, (Value, numbers.Real, str)) or not isinstance(item, Sequence):
                raise ValueError(f"{owner!r} expects {what}, a list nested {depth} deep; "
                                 f"at depth {axis} it found {type(item).__name__} {item!r}")
            sizes.add(len(item))
            next_level.extend(item)
        if len(sizes) != 1 or 0 in sizes:
            raise ValueError(f"{owner!r} expects {what} with equal, non-zero lengths at each depth; "
                             f"at depth {axis} the lengths are {sorted(sizes)}")
        shape.append(sizes.pop())
        level = next_level
    for item in level:
        if not isinstance(item, (Value, numbers.Real)) or isinstance(item, bool):
            raise ValueError(f"{owner!r} expects {what} of numbers or Values, found "
                             f"{type(item).__name__} {item!r}")
    return tuple(shape)


def vector(x: object, size: int, owner: object, what: str) -> list:
    """``x`` as a list of ``size`` numbers or Values, or a ValueError naming ``owner``."""
    (length,) = shape_of(x, 1, owner, what)
    if length != size:
        raise ValueError(f"{owner!r} expects {what} of length {size}, got length {length}")
    return list(x)  # type: ignore[call-overload]


def affine(weight: Sequence[Sequence[Value]], bias: Sequence[Value], x: Sequence) -> list[Value]:
    """W x + b:  out_i = b_i + sum_j W_ij x_j  (one mul and one add node per term)."""
    outputs = []
    for row, b in zip(weight, bias):
        total = b
        for w, x_j in zip(row, x):
            total = total + w * x_j
        outputs.append(total)
    return outputs


def flatten(tensor: Sequence) -> list:
    """Every entry of a nested list, row-major (the last index changes fastest)."""
    flat, stack = [], [tensor]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(reversed(item))
        else:
            flat.append(item)
    return flat


class Linear(Module):
    """out = W x + b: ``weight`` of shape (out_features, in_features) and ``bias``.

    The twin of ``torch.nn.Linear``; weights start uniform in [-1/sqrt(in), 1/sqrt(in)]
    like PyTorch's. ``linear(x)`` takes a list of ``in_features`` numbers or Values and
    returns a list of ``out_features`` Values.
    """

    def __init__(self, in_features: int, out_features: int, seed: int | None = None,
                 rng: random.Random | None = None) -> None:
        self.in_features = whole_number(in_features, "Linear: in_features")
        self.out_features = whole_number(out_features, "Linear: out_features")
        source = make_rng(seed, rng, where="Linear")
        bound = 1.0 / math.sqrt(self.in_features)
        self.weight = parameter((self.out_features, self.in_features), bound, source, "weight")
        self.bias = parameter((self.out_features,), bound, source, "bias")

    def __call__(self, x: Sequence) -> list[Value]:
        return affine(self.weight, self.bias, vector(x, self.in_features, self, "a vector"))

    def __repr__(self) -> str:
        return f"Linear({self.in_features}, {self.out_features})"
