"""Checks on the arguments of nn's functions, shared so that each reads the same."""
from __future__ import annotations

import numbers


def whole_number(value: object, what: str) -> int:
    """``value`` as an int >= 1, or a ValueError: ``"{what} must be a whole number >= 1"``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{what} must be a whole number >= 1, got {value!r}")
    return int(value)
