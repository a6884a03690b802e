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
from functools import partial

__all__ = [
    "check_int", "check_real", "check_positive", "check_fraction", "check_choice", "CHAPTER_PARAMETERS",
    "check_chapter_parameter"
]


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


_COUNT = partial(check_int, minimum=1)  # epochs, units, windows: one or more
_NON_NEGATIVE = partial(check_int, minimum=0)  # seeds, patience, trials: zero or more
_CLOSED_FRACTION = partial(check_fraction, high_open=False)
_OPEN_FRACTION = partial(check_fraction, low_open=True)

#: What each chapter parameter may hold beyond its default's type, by name: the rule of this
#: module that the package applies to the value it becomes (``MAX_SPEED_KMH`` is
#: ``Thresholds.max_speed_kmh``, ``SEEDS`` the training seeds, ...). The command line checks
#: every ``-p`` with it before a chapter starts (:func:`check_chapter_parameter`).
def _city(name, value):
    from .geo import CITIES

    return check_choice(name, value, tuple(CITIES))


CHAPTER_PARAMETERS = {
    "CITY": _city,
    "MAX_SPEED_KMH": check_positive,
    "STAY_RADIUS_M": check_positive,
    "MIN_STAY_MINUTES": check_positive,
    "MAX_SKIPPED": _CLOSED_FRACTION,
    "SYNTHETIC_USERS": _COUNT,
    "SAMPLE_USERS": _COUNT,
    "SEED": _NON_NEGATIVE,
    "SEEDS": _NON_NEGATIVE,
    "WINDOW": _COUNT,
    "TEST_FRACTION": _OPEN_FRACTION,
    "VAL_FRACTION": _OPEN_FRACTION,
    "MIN_CHECKINS": partial(check_int, minimum=2),
    "HELD_OUT_USERS": check_fraction,
    "EPOCHS": _COUNT,
    "BATCH_SIZE": _COUNT,
    "PATIENCE": _NON_NEGATIVE,
    "NUM_HIDDENS": _COUNT,
    "NUM_LAYERS": _COUNT,
    "NUM_HEADS": _COUNT,
    "NUM_BLOCKS": _COUNT,
    "KEY_DIM": _COUNT,
    "FF_DIM": _COUNT,
    "HIDDEN": _COUNT,
    "EMBEDDING": _COUNT,
    "DROPOUT": check_fraction,
    "LEARNING_RATE": check_positive,
    "N_TPE_TRIALS": _NON_NEGATIVE,
    "TIME_SAMPLE": _COUNT,
    "MAP_SAMPLE": _COUNT,
    "CANDIDATES": _COUNT,
    "N_NEAR": _NON_NEGATIVE,
    "N_BOOT": partial(check_int, minimum=10),
    "FIELD_MIN_CHECKINS": _COUNT,
    "FIELD_TRAJECTORY_HOURS": check_positive,
}


def check_chapter_parameter(name: str, value):
    """``value`` of chapter parameter ``name`` checked by its rule in :data:`CHAPTER_PARAMETERS`.

    A list or tuple has each item checked (``SEEDS``); ``None``: and a name without a rule
    pass unchanged (what ``None`` means is the chapter's to judge).

    >>> check_chapter_parameter("MAX_SPEED_KMH", -5.0)
    Traceback (most recent call last):
    ...
    ValueError: MAX_SPEED_KMH must be a positive number, got -5.0
    """
    rule = CHAPTER_PARAMETERS.get(name)
    if rule is None or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return type(value)(rule(f"{name}[{index}]", item) for index, item in enumerate(value))
    return rule(name, value)
