"""Data sets for classifiers: toy 2-D ones in pure Python, and real handwritten digits.

Each ``make_*`` function returns ``(X, y)``: X a list of [x1, x2] float pairs, y a list of int
class labels (0, 1, ...), in shuffled order. ``noise`` is the standard deviation of
Gaussian noise added to each coordinate. Randomness follows ``nn.rng``: ``seed=None``
uses the global ``random`` module (so ``random.seed(...)`` controls it), an int seed
gives the same data on every call.

``load_digits()`` returns the 1,797 real 8 x 8 handwritten digits that scikit-learn ships
inside its package (the optional extra ``glassgrad[data]``; nothing is downloaded).
``train_test_split`` and ``one_hot`` prepare any such data for training.
"""
from __future__ import annotations

import math
import numbers
from typing import Sequence, cast

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
    centers = [(float(c1), float(c2)) for c1, c2 in cast("list[tuple[float, float]]", centers)]
    if not centers:
        raise ValueError("make_blobs: centers must be a number >= 1 or a non-empty list of points")
    rng = make_rng(seed, where="make_blobs")
    points = [(c1, c2, label) for label, (c1, c2), count in
              zip(range(len(centers)), centers, _split(n, len(centers))) for _ in range(count)]
    return _finish(points, std, rng, "make_blobs")


def load_digits() -> Dataset:
    """The 1,797 handwritten digits of scikit-learn (UCI's optical digits, 8 x 8 pixels).

    Returns ``(X, y)``: X a list of 1,797 rows of 64 floats, the pixels row by row scaled
    from 0..16 to [0, 1]; y the digit each row shows, an int 0-9. The order is
    scikit-learn's (not shuffled): split with ``train_test_split``.
    """
    try:
        from sklearn.datasets import load_digits as sklearn_digits
    except ImportError:
        raise ImportError("load_digits reads the digits shipped with scikit-learn, which is not "
                          "installed; install the extra: pip install 'glassgrad[data]'") from None
    digits = sklearn_digits()
    X = [[float(pixel) / 16.0 for pixel in row] for row in digits.data]
    y = [int(label) for label in digits.target]
    return X, y


def train_test_split(X: Sequence, y: Sequence, test_size: float | int = 0.25,
                     seed: int | None = None) -> tuple[list, list, list, list]:
    """Shuffle the samples and split them: ``X_train, X_test, y_train, y_test`` (scikit-learn's order).

    ``test_size`` is the fraction of samples to test on (0 < test_size < 1; the count is
    rounded up, as scikit-learn does) or a count of samples. ``seed`` as for the data sets.
    """
    rows, labels = list(X), list(y)
    if len(rows) != len(labels):
        raise ValueError(f"train_test_split: X has {len(rows)} samples but y has {len(labels)} labels")
    if isinstance(test_size, numbers.Integral) and not isinstance(test_size, bool):
        n_test = int(test_size)
    elif isinstance(test_size, numbers.Real) and not isinstance(test_size, bool) and 0.0 < test_size < 1.0:
        n_test = math.ceil(test_size * len(rows))
    else:
        raise ValueError(f"train_test_split: test_size is a fraction in (0, 1) or a count of samples, "
                         f"got {test_size!r}")
    if not 0 < n_test < len(rows):
        raise ValueError(f"train_test_split: test_size={test_size!r} of {len(rows)} samples leaves "
                         f"{len(rows) - n_test} to train on and {n_test} to test on; both need at least one")
    order = list(range(len(rows)))
    make_rng(seed, where="train_test_split").shuffle(order)
    test, train = order[:n_test], order[n_test:]
    return ([rows[i] for i in train], [rows[i] for i in test],
            [labels[i] for i in train], [labels[i] for i in test])


def one_hot(y: Sequence[int], classes: int) -> list[list[int]]:
    """Each class index c as a row of ``classes`` zeros with a 1 at position c: 2 -> [0, 0, 1, 0].

    The labels ``categorical_crossentropy`` takes (``sparse_categorical_crossentropy`` takes
    the indices themselves).
    """
    k = whole_number(classes, "one_hot: classes (the number of classes)")
    rows: list[list[int]] = []
    for i, label in enumerate(y):
        if isinstance(label, bool) or not isinstance(label, numbers.Integral) or not 0 <= label < k:
            raise ValueError(f"one_hot: label {i} is {label!r}, but a class index for {k} classes is "
                             f"a whole number in 0..{k - 1}")
        rows.append([int(j == label) for j in range(k)])
    return rows


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


