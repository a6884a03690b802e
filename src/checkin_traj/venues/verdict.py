"""Interim verdict rule until ``checkin_traj.verdicts`` lands: the paired user bootstrap
interval of (model - baseline) excludes 0. Replace calls by ``checkin_traj.verdicts``."""

from __future__ import annotations

from ..uncertainty import Interval, paired_bootstrap

__all__ = ["difference"]


def difference(model_values, baseline_values, users, *, statistic="mean", n_boot=1000, seed=0) -> tuple[Interval, bool]:
    """Paired user-bootstrap interval of model minus baseline and whether it excludes 0."""
    interval = paired_bootstrap(model_values, baseline_values, users, statistic=statistic, n_boot=n_boot, seed=seed)
    return interval, interval.excludes(0.0)
