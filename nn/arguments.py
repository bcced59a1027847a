"""Checks on the arguments of nn's functions, shared so that each reads the same.

Every range check and every "unknown name; choose one of ..." lookup of nn is here;
each raises a ValueError whose message starts with ``what`` (who is asking, and for
which argument) and ends with the offending value.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Collection


def whole_number(value: object, what: str) -> int:
    """``value`` as an int >= 1, or a ValueError: ``"{what} must be a whole number >= 1"``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{what} must be a whole number >= 1, got {value!r}")
    return int(value)


def _is_real(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def non_negative(value: object, what: str) -> float:
    """``value`` as a float >= 0, or a ValueError: ``"{what} must be a finite number >= 0"``."""
    if not _is_real(value) or not math.isfinite(value) or value < 0:  # type: ignore[arg-type, operator]
        raise ValueError(f"{what} must be a finite number >= 0, got {value!r}")
    return float(value)  # type: ignore[arg-type]


def positive(value: object, what: str, why: str = "") -> float:
    """``value`` as a float > 0: ``non_negative``, and then ``"{what} must be > 0{why}"`` for 0."""
    number = non_negative(value, what)
    if number == 0.0:
        raise ValueError(f"{what} must be > 0{why}")
    return number


def below_one(value: object, what: str) -> float:
    """``value`` as a float in [0, 1), or a ValueError: ``"{what} must be in [0, 1)"``."""
    if not _is_real(value) or not 0.0 <= value < 1.0:  # type: ignore[operator]
        raise ValueError(f"{what} must be in [0, 1), got {value!r}")
    return float(value)  # type: ignore[arg-type]


def choose_one(name: object, known: Collection[str], what: str, *, where: str = "",
               ignore_case: bool = False, otherwise: str = "") -> str:
    """The key for ``name`` among ``known``, or a ValueError that lists every known name:

        unknown optimizer 'adamw'; choose one of 'sgd', 'adam', 'rmsprop'

    ``where`` goes before the message (``"Dense: "``), ``otherwise`` after the list
    (``" (or None for linear)"``); ``ignore_case`` looks up ``str(name).lower()``.
    """
    key = str(name).lower() if ignore_case else name
    if key not in known:
        raise ValueError(f"{where}unknown {what} {name!r}; choose one of "
                         f"{', '.join(map(repr, known))}{otherwise}")
    return key  # type: ignore[return-value]
