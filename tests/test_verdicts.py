"""The one verdict rule: a paired bootstrap over users of the per-window loss difference."""

import numpy as np
import pandas as pd
import pytest

from checkin_traj.verdicts import (
    BEATS,
    LOSES,
    WITHIN_NOISE,
    best_run,
    compare,
    glue_values,
    strongest_baseline,
)

USERS = np.repeat(np.arange(40), 5)


def _losses(level, noise=0.001, seed=0):
    return level + np.random.default_rng(seed).normal(0, noise, size=len(USERS))


def test_a_clearly_lower_loss_beats_and_a_higher_one_loses():
    base = _losses(0.01)
    assert compare(base - 0.002, base, USERS).outcome == BEATS
    assert compare(base + 0.002, base, USERS).outcome == LOSES


def test_a_difference_smaller_than_the_users_noise_is_within_noise():
    base = _losses(0.01, noise=0.01)
    other = base + np.random.default_rng(1).normal(0, 0.01, size=len(USERS))
    verdict = compare(other, base, USERS)
    assert verdict.outcome == WITHIN_NOISE
    assert verdict.difference.low < 0 < verdict.difference.high


def test_seeds_are_averaged_and_their_count_is_information_only():
    # the example: seeds 0.05, 0.099, 0.0995 against 0.1 all beat it seed by seed,
    # but the verdict is decided by the bootstrap of the seed-averaged per-window losses
    base = _losses(0.1**2, noise=0.02)
    seeds = np.stack([base - 0.0075, base - 0.0002, base - 0.0001])
    verdict = compare(seeds, base, USERS, values=[0.05, 0.099, 0.0995], reference_values=[0.1])
    assert verdict.seeds_better == 3
    assert verdict.outcome == BEATS  # every window is lower on average: the interval excludes 0
    assert "3 of them better" in verdict.sentence()
    noisy = base + np.random.default_rng(3).normal(0, 0.03, size=len(USERS))
    assert compare(np.stack([noisy, noisy]), base, USERS, values=[0.05, 0.05], reference_values=[0.1]).outcome == WITHIN_NOISE


def test_higher_is_better_metrics_flip_the_side():
    hits = (np.arange(len(USERS)) % 2).astype(float)
    assert compare(np.ones(len(USERS)), hits, USERS, metric="within_1km").outcome == BEATS


def test_windows_must_match():
    with pytest.raises(ValueError, match="different windows"):
        compare(np.ones(3), np.ones(4), np.arange(3))


def test_strongest_baseline_and_best_run_read_validation_columns():
    table = pd.DataFrame({"rmse": [0.2, 0.1, 0.3]}, index=["a", "b", "c"])
    assert strongest_baseline(table) == "b"
    runs = pd.DataFrame(
        {"model": ["m", "m", "n"], "rmse_mean": [0.1, 0.3, 0.2], "val_rmse_mean": [0.3, 0.1, 0.2]}, index=["x", "y", "z"]
    )
    assert best_run(runs) == "y"  # by validation, although x has the lower test RMSE
    assert best_run(runs, groupby="model").to_dict() == {"m": "y", "n": "z"}
    with pytest.raises(ValueError, match="validation"):
        best_run(runs.drop(columns="val_rmse_mean"))


def test_glue_values_make_a_markdown_list():
    base = _losses(0.01)
    verdicts = [compare(base - 0.002, base, USERS, contender="A"), compare(base, base + 0.002, USERS, contender="B")]
    values = glue_values("lstm_verdict", verdicts)
    assert values["lstm_verdict_md"].splitlines()[0].startswith("- **A** **beats**")
    assert values["lstm_verdict_beating"] == 2
    assert values["lstm_verdict_outcomes"] == {"A": BEATS, "B": BEATS}


def test_r2_is_decided_on_the_squared_error_lower_wins():
    """R² is decided on the per-window squared error: the contender with the lower error
    (the higher R²) beats, never the reverse."""
    from checkin_traj.verdicts import compare as decide

    users = np.repeat(np.arange(20), 5)
    low, high = np.full(100, 0.01), np.full(100, 0.04)
    assert decide(low, high, users, metric="r2", n_boot=50).outcome == "beats"
    assert decide(high, low, users, metric="r2", n_boot=50).outcome == "loses"
    assert decide(low, high, users, metric="rmse", n_boot=50).outcome == "beats"
    hits, misses = np.ones(100), np.zeros(100)
    assert decide(hits, misses, users, metric="within_1km", n_boot=50).outcome == "beats"  # a hit is better


def test_every_higher_is_better_metric_but_r2_has_a_higher_is_better_loss():
    """The side a verdict reads from follows the per-window loss: only R² (decided on the squared
    error) is a higher-is-better metric with a lower-is-better loss."""
    from checkin_traj.verdicts import HIGHER_IS_BETTER, HIGHER_LOSS_IS_BETTER, LOSSES

    for metric, (loss, _) in LOSSES.items():
        if metric in HIGHER_IS_BETTER and not metric.startswith("r2"):
            assert loss in HIGHER_LOSS_IS_BETTER, metric
        if metric not in HIGHER_IS_BETTER:
            assert loss not in HIGHER_LOSS_IS_BETTER, metric
