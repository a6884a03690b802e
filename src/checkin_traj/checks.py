"""Argument checks shared by every module: one rule per kind of value.

Each check returns the value converted to a plain Python type, or raises
``ValueError`` naming the argument, what was expected and what was found. A bool is
never accepted as a number (``True`` is an ``int`` in Python, never what a caller
meant), and strings are never converted (``"100"`` is a papermill ``-r``/``-p`` slip that
should be named, not silently parsed).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable

__all__ = ["check_int", "check_real", "check_positive", "check_fraction", "check_choice"]


def _is_number(value, kind) -> bool:
    return not isinstance(value, bool) and isinstance(value, kind) and type(value).__name__ != "bool_"


def _found(value) -> str:
    return f"{value!r} of type {type(value).__name__}"


def check_int(name: str, value, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """An integer (numpy integers included) within ``[minimum, maximum]``.

    >>> check_int("epochs", 3, minimum=1)
    3
    """
    bounds = _bounds_text(minimum, maximum)
    if not _is_number(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer{bounds}, got {_found(value)}")
    value = int(value)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ValueError(f"{name} must be an integer{bounds}, got {value!r}")
    return value


def check_real(name: str, value, *, minimum: float | None = None, allow_inf: bool = False) -> float:
    """A real number, not NaN, finite unless ``allow_inf``, and ``>= minimum`` if given."""
    if not _is_number(value, numbers.Real):
        raise ValueError(f"{name} must be a number, got {_found(value)}")
    value = float(value)
    if math.isnan(value) or (math.isinf(value) and not allow_inf):
        raise ValueError(f"{name} must be a {'non-NaN' if allow_inf else 'finite'} number, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be a number >= {minimum}, got {value!r}")
    return value


def check_positive(name: str, value, *, allow_inf: bool = False) -> float:
    """A number ``> 0`` (``inf`` only where ``allow_inf``: a threshold that is off)."""
    value = check_real(name, value, allow_inf=allow_inf)
    if value <= 0.0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return value


def check_fraction(name: str, value, *, low_open: bool = False, high_open: bool = True) -> float:
    """A number in ``[0, 1)`` by default; ``low_open``/``high_open`` choose the interval's ends."""
    interval = ("(" if low_open else "[") + "0, 1" + (")" if high_open else "]")
    if not _is_number(value, numbers.Real):
        raise ValueError(f"{name} must be a number in {interval}, got {_found(value)}")
    value = float(value)
    low_ok = value > 0.0 if low_open else value >= 0.0
    high_ok = value < 1.0 if high_open else value <= 1.0
    if not (low_ok and high_ok):
        raise ValueError(f"{name} must lie in {interval}, got {value!r}")
    return value


def check_choice(name: str, value, choices: Iterable):
    """``value`` if it is one of ``choices``, else an error listing them."""
    choices = tuple(choices)
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}")
    return value


def _bounds_text(minimum, maximum) -> str:
    if minimum is not None and maximum is not None:
        return f" in [{minimum}, {maximum}]"
    if minimum is not None:
        return f" >= {minimum}"
    if maximum is not None:
        return f" <= {maximum}"
    return ""
