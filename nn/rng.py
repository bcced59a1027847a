"""Where the random numbers come from: one rule for every module and data set in nn.

* ``seed=None`` and no ``rng``: the global ``random`` module, exactly like micrograd,
  so ``random.seed(1337)`` at the top of a notebook makes everything reproducible;
* ``seed=<int>``: a private ``random.Random(seed)``, the same numbers on every run;
* ``rng=<random.Random>``: that generator (share one between several calls).
"""
from __future__ import annotations

import random
from types import ModuleType
from typing import Union

# A Random instance, or the module ``random`` itself (whose functions draw from a global one).
RandomSource = Union[random.Random, ModuleType]


def make_rng(seed: int | None = None, rng: random.Random | None = None, *, where: str = "") -> RandomSource:
    """The random source for ``seed`` / ``rng`` (see the module docstring)."""
    if seed is not None and rng is not None:
        raise ValueError(f"{where}: give seed= or rng=, not both")
    if rng is not None:
        if not isinstance(rng, random.Random):
            raise TypeError(f"{where}: rng must be a random.Random instance, got {type(rng).__name__}")
        return rng
    if seed is None:
        return random
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"{where}: seed must be an int (or None), got {type(seed).__name__} {seed!r}")
    return random.Random(seed)
