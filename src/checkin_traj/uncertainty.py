"""Intervals from a bootstrap over users: the one resampling rule of the book.

Test windows are not independent: a tenth of the users hold nearly half of them, and
one user's windows share that user's habits. So every interval the book prints resamples
*users* with replacement and keeps all the windows of each drawn user. A replicate is a
vector of per-user draw counts; a window's weight is its user's count, and each statistic
is computed with those weights (a weighted mean, a weighted median).

``user_bootstrap`` gives an interval for one method's statistic; ``paired_bootstrap``
one for the difference between two methods scored on the same windows, drawn with the
same users in each replicate (the comparison a verdict needs).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .checks import check_choice, check_fraction, check_int

__all__ = ["Interval", "user_bootstrap", "paired_bootstrap", "STATISTICS", "weighted_statistic"]

STATISTICS = ("mean", "median")
_CHUNK = 64  # replicates computed together (memory: _CHUNK x windows floats)


@dataclass(frozen=True)
class Interval:
    """A point estimate with a percentile bootstrap interval at ``level``."""

    estimate: float
    low: float
    high: float
    level: float = 0.95

    def excludes(self, value: float = 0.0) -> bool:
        """Whether ``value`` lies outside ``[low, high]``."""
        return bool(value < self.low or value > self.high)

    def __str__(self) -> str:
        return f"{self.estimate:.4g} [{self.low:.4g}, {self.high:.4g}]"


def weighted_statistic(values: np.ndarray, weights: np.ndarray, statistic: str) -> np.ndarray:
    """``statistic`` of ``values`` (n,) under each row of ``weights`` (b, n); returns (b,).

    Rows whose weights sum to zero give NaN.
    """
    values = np.asarray(values, dtype=float)
    weights = np.atleast_2d(np.asarray(weights, dtype=float))
    total = weights.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        if statistic == "mean":
            return weights @ values / total
        order = np.argsort(values, kind="stable")
        cumulative = np.cumsum(weights[:, order], axis=1)
        # the lower weighted median: the first value whose cumulative weight reaches half
        index = (cumulative < (total[:, None] / 2.0)).sum(axis=1)
        index = np.minimum(index, len(values) - 1)
        result = values[order][index]
        return np.where(total > 0, result, np.nan)


def _user_codes(users) -> tuple[np.ndarray, int]:
    uniques, codes = np.unique(np.asarray(users), return_inverse=True)
    return codes.astype(np.int64), len(uniques)


def _check_inputs(values, users, statistic, n_boot, level):
    values = np.asarray(values, dtype=float)
    users = np.asarray(users)
    if values.ndim != 1 or users.shape != values.shape:
        raise ValueError(f"values and users must be 1-d and of the same length, got shapes {values.shape} and {users.shape}")
    if len(values) == 0:
        raise ValueError("values is empty: there is nothing to bootstrap")
    if not np.isfinite(values).all():
        raise ValueError(f"values holds {int((~np.isfinite(values)).sum())} non-finite entries")
    check_choice("statistic", statistic, STATISTICS)
    check_int("n_boot", n_boot, minimum=10)
    check_fraction("level", level, low_open=True)
    return values, users


def _replicates(values, users, statistic, n_boot, seed):
    codes, n_users = _user_codes(users)
    rng = np.random.default_rng(seed)
    out = np.empty(n_boot)
    for start in range(0, n_boot, _CHUNK):
        size = min(_CHUNK, n_boot - start)
        counts = rng.multinomial(n_users, np.full(n_users, 1.0 / n_users), size=size)
        out[start : start + size] = weighted_statistic(values, counts[:, codes], statistic)
    return out


def _interval(estimate, replicates, level) -> Interval:
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.nanpercentile(replicates, [tail, 100.0 - tail])
    return Interval(float(estimate), float(low), float(high), float(level))


def user_bootstrap(values, users, *, statistic="mean", n_boot=1000, seed=0, level=0.95) -> Interval:
    """Bootstrap interval (``n_boot`` replicates drawn with ``seed``, coverage ``level``) over users for the
    ``statistic`` ("mean" or "median") of per-window ``values``, ``users`` the user of each window."""
    values, users = _check_inputs(values, users, statistic, n_boot, level)
    estimate = weighted_statistic(values, np.ones((1, len(values))), statistic)[0]
    return _interval(estimate, _replicates(values, users, statistic, n_boot, seed), level)


def paired_bootstrap(values_a, values_b, users, *, statistic="mean", n_boot=1000, seed=0, level=0.95) -> Interval:
    """Interval for ``statistic(values_a) - statistic(values_b)`` over the same windows.

    Each replicate draws one set of users and scores both methods on it, so the shared
    difficulty of the windows cancels. Negative means ``a`` is lower (for an error: better).
    """
    values_a, users = _check_inputs(values_a, users, statistic, n_boot, level)
    values_b, _ = _check_inputs(values_b, users, statistic, n_boot, level)
    ones = np.ones((1, len(values_a)))
    estimate = (weighted_statistic(values_a, ones, statistic) - weighted_statistic(values_b, ones, statistic))[0]
    # the same seed draws the same users for a and b
    replicates = _replicates(values_a, users, statistic, n_boot, seed) - _replicates(values_b, users, statistic, n_boot, seed)
    return _interval(estimate, replicates, level)
