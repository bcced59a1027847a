"""Conv2d, MaxPool2d and Flatten: filters that scan across an image, from scalar Values.

An image is a nested list ``image[channel][row][col]`` of numbers or Values, one sample
at a time (PyTorch's unbatched (C, H, W) layout). Each output pixel of a convolution is
one weighted sum built from ``mul`` and ``add`` nodes, and max pooling is a chain of the
engine's ``max`` op, so every step is in the graph and the twins in PyTorch
(``to_torch()``) compute the same numbers.
"""
from __future__ import annotations

import math
import numbers
import random
from typing import Sequence

from glassgrad.engine import Value, ops

from .arguments import whole_number
from .layers import Group, only_values, record_groups
from .module import Module
from .rng import make_rng
from .tensors import flatten, parameter, shape_of

Image = Sequence[Sequence[Sequence[Value | float]]]
IMAGE = "an image [channel][row][col]"


def _pair(value: object, what: str, *, minimum: int = 1) -> tuple[int, int]:
    """An int or a pair of ints (rows, cols), each >= ``minimum``, as a pair."""
    pair = value if isinstance(value, (tuple, list)) else (value, value)
    if len(pair) != 2 or not all(isinstance(n, numbers.Integral) and not isinstance(n, bool)
                                 and int(n) >= minimum for n in pair):
        raise ValueError(f"{what} must be a whole number >= {minimum} or a pair of them, got {value!r}")
    return int(pair[0]), int(pair[1])


def _output_size(module: Module, size: int, kernel: int, stride: int, padding: int, axis: str) -> int:
    """floor((size + 2 * padding - kernel) / stride) + 1, the positions the kernel fits in."""
    if size + 2 * padding < kernel:
        raise ValueError(f"{module!r}: the image has {size} {axis} (padding {padding}), fewer than "
                         f"the kernel's {kernel}")
    return (size + 2 * padding - kernel) // stride + 1


class Conv2d(Module):
    """A 2-d convolution (PyTorch's cross-correlation), one output pixel at a time:

        out[o][i][j] = bias[o] + sum_{c, u, v} weight[o][c][u][v] * x[c][i*s + u - p][j*s + v - p]

    with stride s, zero padding p (terms that fall in the padding are 0 and left out).
    ``weight`` has shape (out_channels, in_channels, kernel rows, kernel cols), ``bias``
    (out_channels); both start uniform in [-1/sqrt(fan_in), 1/sqrt(fan_in)] as in PyTorch,
    fan_in = in_channels * kernel rows * kernel cols.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, int],
                 stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0,
                 seed: int | None = None, rng: random.Random | None = None) -> None:
        self.in_channels = whole_number(in_channels, "Conv2d: in_channels")
        self.out_channels = whole_number(out_channels, "Conv2d: out_channels")
        self.kernel_size = _pair(kernel_size, "Conv2d: kernel_size")
        self.stride = _pair(stride, "Conv2d: stride")
        self.padding = _pair(padding, "Conv2d: padding", minimum=0)
        source = make_rng(seed, rng, where="Conv2d")
        bound = 1.0 / math.sqrt(self.in_channels * self.kernel_size[0] * self.kernel_size[1])
        self.weight = parameter((self.out_channels, self.in_channels, *self.kernel_size), bound,
                                source, "weight")
        self.bias = parameter((self.out_channels,), bound, source, "bias")

    def __call__(self, image: Image) -> list[list[list[Value]]]:
        channels, rows, cols = shape_of(image, 3, self, IMAGE)
        if channels != self.in_channels:
            raise ValueError(f"{self!r} expects {self.in_channels} channel(s), the image has {channels}")
        (kernel_rows, kernel_cols), (stride_rows, stride_cols) = self.kernel_size, self.stride
        pad_rows, pad_cols = self.padding
        out_rows = _output_size(self, rows, kernel_rows, stride_rows, pad_rows, "rows")
        out_cols = _output_size(self, cols, kernel_cols, stride_cols, pad_cols, "columns")
        output, groups, pixels = [], [], only_values(flatten(image))
        for o, (kernel, bias) in enumerate(zip(self.weight, self.bias)):
            feature_map = []
            for i in range(out_rows):
                top = i * stride_rows - pad_rows
                row = []
                for j in range(out_cols):
                    left = j * stride_cols - pad_cols
                    total = bias
                    for c in range(channels):
                        for u in range(max(0, -top), min(kernel_rows, rows - top)):
                            for v in range(max(0, -left), min(kernel_cols, cols - left)):
                                total = total + kernel[c][u][v] * image[c][top + u][left + v]
                    row.append(total)
                    groups.append(Group(f"out[{o},{i},{j}]", (("sum", total),), pixels))
                feature_map.append(row)
            output.append(feature_map)
        record_groups(self, groups)  # one group per kernel position
        return output

    def __repr__(self) -> str:
        options = "" if self.stride == (1, 1) else f", stride={self.stride}"
        options += "" if self.padding == (0, 0) else f", padding={self.padding}"
        return f"Conv2d({self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}{options})"


class MaxPool2d(Module):
    """The largest value in each kernel-sized window of every channel (no parameters):

        out[c][i][j] = max_{u, v} x[c][i*s + u][j*s + v],   stride s = kernel_size by default

    built as a chain of the engine's ``max`` op over the window in row-major order,
    ``max(...max(max(w0, w1), w2)..., wn)``, so the gradient goes to the window's largest
    input. At a tie each ``max`` op passes half to each side (as torch.maximum does), so
    tied maxima share it down the chain: the last of them gets 1/2, the one before 1/4,
    ..., the first two the same smallest share. torch's max_pool2d gives it all to the
    first maximum in row-major order instead. Values and each window's total gradient are
    the same; the split differs only where a window holds equal maxima. No fold of ``max``
    ops could match torch there: every ``max`` that reads a tied maximum passes it a share.
    """

    def __init__(self, kernel_size: int | tuple[int, int], stride: int | tuple[int, int] | None = None) -> None:
        self.kernel_size = _pair(kernel_size, "MaxPool2d: kernel_size")
        self.stride = self.kernel_size if stride is None else _pair(stride, "MaxPool2d: stride")

    def __call__(self, image: Image) -> list[list[list[Value | float]]]:
        channels, rows, cols = shape_of(image, 3, self, IMAGE)
        (kernel_rows, kernel_cols), (stride_rows, stride_cols) = self.kernel_size, self.stride
        out_rows = _output_size(self, rows, kernel_rows, stride_rows, 0, "rows")
        out_cols = _output_size(self, cols, kernel_cols, stride_cols, 0, "columns")
        output, groups = [], []
        for c, channel in enumerate(image):
            pooled = []
            for i in range(out_rows):
                row = []
                for j in range(out_cols):
                    window = [channel[i * stride_rows + u][j * stride_cols + v]
                              for u in range(kernel_rows) for v in range(kernel_cols)]
                    largest = window[0]
                    for candidate in window[1:]:
                        largest = ops.MAX(largest, candidate)
                    row.append(largest)
                    if isinstance(largest, Value):  # a 1 x 1 window of plain numbers makes no node
                        groups.append(Group(f"max[{c},{i},{j}]", (("max", largest),), only_values(window)))
                pooled.append(row)
            output.append(pooled)
        record_groups(self, groups)  # one group per window
        return output

    def __repr__(self) -> str:
        stride = "" if self.stride == self.kernel_size else f", stride={self.stride}"
        return f"MaxPool2d(kernel_size={self.kernel_size}{stride})"


class Flatten(Module):
    """An image [channel][row][col] as one list, row-major: x[c][i][j] is entry (c*H + i)*W + j.

    No ops and no parameters: the same Values, in the order ``nn.Layer`` or ``Linear`` reads.
    """

    def __call__(self, image: Image) -> list[Value | float]:
        shape_of(image, 3, self, IMAGE)
        return flatten(image)

    def __repr__(self) -> str:
        return "Flatten()"
