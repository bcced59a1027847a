"""Toy 2-D data sets for classifiers, in pure Python (no NumPy, no scikit-learn).

Each function returns ``(X, y)``: X a list of [x1, x2] float pairs, y a list of int
class labels (0, 1, ...), in shuffled order. ``noise`` is the standard deviation of
Gaussian noise added to each coordinate. Randomness follows ``nn.rng``: ``seed=None``
uses the global ``random`` module (so ``random.seed(...)`` controls it), an int seed
gives the same data on every call.
"""
from __future__ import annotations

import math
import numbers

from .arguments import whole_number
from .rng import RandomSource, make_rng

Dataset = tuple[list[list[float]], list[int]]


def make_moons(n_samples: int = 100, noise: float = 0.1, seed: int | None = None) -> Dataset:
    """Two interleaving half circles (the classic micrograd demo's data).

    Class 0: (cos t, sin t); class 1: (1 - cos t, 1/2 - sin t); t evenly spaced in [0, pi].
    """
    n = whole_number(n_samples, "make_moons: the count")
    rng = make_rng(seed, where="make_moons")
    n_upper = n // 2
    points = [(math.cos(t), math.sin(t), 0) for t in _spaced(0.0, math.pi, n_upper)]
    points += [(1.0 - math.cos(t), 0.5 - math.sin(t), 1) for t in _spaced(0.0, math.pi, n - n_upper)]
    return _finish(points, noise, rng, "make_moons")


def make_circles(n_samples: int = 100, noise: float = 0.05, factor: float = 0.5,
                 seed: int | None = None) -> Dataset:
    """A circle inside a circle: class 0 on radius 1, class 1 on radius ``factor`` (0 < factor < 1)."""
    n = whole_number(n_samples, "make_circles: the count")
    if isinstance(factor, bool) or not isinstance(factor, numbers.Real) or not 0.0 < factor < 1.0:
        raise ValueError(f"make_circles: factor (inner radius / outer radius) must be in (0, 1), "
                         f"got {factor!r}")
    rng = make_rng(seed, where="make_circles")
    n_outer = n // 2
    points = [(math.cos(t), math.sin(t), 0) for t in _around(n_outer)]
    points += [(factor * math.cos(t), factor * math.sin(t), 1) for t in _around(n - n_outer)]
    return _finish(points, noise, rng, "make_circles")


def make_spirals(n_samples: int = 150, n_classes: int = 3, noise: float = 0.05,
                 seed: int | None = None) -> Dataset:
    """``n_classes`` interleaved spiral arms (the CS231n spiral data).

    Arm j: radius r from 0 to 1 while the angle turns from 4j to 4j + 4 radians,
    point (r sin angle, r cos angle).
    """
    n = whole_number(n_samples, "make_spirals: the count")
    k = whole_number(n_classes, "make_spirals: n_classes: the count")
    rng = make_rng(seed, where="make_spirals")
    points = []
    for label, count in enumerate(_split(n, k)):
        for r in _spaced(0.0, 1.0, count):
            angle = 4.0 * label + 4.0 * r
            points.append((r * math.sin(angle), r * math.cos(angle), label))
    return _finish(points, noise, rng, "make_spirals")


def make_xor(n_samples: int = 100, noise: float = 0.1, seed: int | None = None) -> Dataset:
    """Points uniform in the square [-1, 1]^2, labelled 1 where x1 and x2 have different
    signs (the XOR of "x1 > 0" and "x2 > 0"): no straight line separates the classes.
    The label comes from the point before noise is added.
    """
    n = whole_number(n_samples, "make_xor: the count")
    rng = make_rng(seed, where="make_xor")
    points = []
    for _ in range(n):
        x1, x2 = rng.uniform(-1.0, 1.0), rng.uniform(-1.0, 1.0)
        points.append((x1, x2, int((x1 > 0.0) != (x2 > 0.0))))
    return _finish(points, noise, rng, "make_xor")


def make_blobs(n_samples: int = 100, centers: int | list[tuple[float, float]] = 3, std: float = 0.5,
               seed: int | None = None) -> Dataset:
    """Gaussian blobs: class j scattered (standard deviation ``std``) around center j.

    ``centers`` is a list of (x1, x2) points, or a number k for k centers evenly
    spaced on a circle of radius 2.
    """
    n = whole_number(n_samples, "make_blobs: the count")
    if isinstance(centers, numbers.Integral) and not isinstance(centers, bool):
        k = whole_number(centers, "make_blobs: centers: the count")
        centers = [(2.0 * math.cos(angle), 2.0 * math.sin(angle)) for angle in _around(k)]
    centers = [(float(c1), float(c2)) for c1, c2 in centers]
    if not centers:
        raise ValueError("make_blobs: centers must be a number >= 1 or a non-empty list of points")
    rng = make_rng(seed, where="make_blobs")
    points = [(c1, c2, label) for label, (c1, c2), count in
              zip(range(len(centers)), centers, _split(n, len(centers))) for _ in range(count)]
    return _finish(points, std, rng, "make_blobs")


# ---------------------------------------------------------------- helpers


def _finish(points: list[tuple[float, float, int]], noise: float, rng: RandomSource, where: str) -> Dataset:
    """Shuffle, add the noise and split into (X, y)."""
    if isinstance(noise, bool) or not isinstance(noise, numbers.Real) or not 0.0 <= noise < math.inf:
        raise ValueError(f"{where}: noise must be a finite number >= 0, got {noise!r}")
    rng.shuffle(points)
    X = [[x1 + rng.gauss(0.0, noise), x2 + rng.gauss(0.0, noise)] if noise else [x1, x2]
         for x1, x2, _ in points]
    y = [label for _, _, label in points]
    return X, y


def _spaced(start: float, stop: float, count: int) -> list[float]:
    """``count`` evenly spaced numbers from ``start`` to ``stop``, both included."""
    if count == 1:
        return [start]
    return [start + (stop - start) * i / (count - 1) for i in range(count)]


def _around(count: int) -> list[float]:
    """``count`` angles evenly spaced around the circle (0 included, 2 pi not)."""
    return [2.0 * math.pi * i / count for i in range(count)]


def _split(n: int, k: int) -> list[int]:
    """``n`` samples over ``k`` classes, as evenly as possible (the first classes get the rest)."""
    return [n // k + (1 if j < n % k else 0) for j in range(k)]


