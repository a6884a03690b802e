import numpy as np
import pytest

from checkin_traj.uncertainty import paired_bootstrap, user_bootstrap, weighted_statistic


def test_weighted_statistic_matches_repeated_values():
    values = np.array([5.0, 1.0, 3.0, 10.0])
    weights = np.array([[2, 0, 1, 1]])
    repeated = np.array([5.0, 5.0, 3.0, 10.0])
    assert weighted_statistic(values, weights, "mean")[0] == pytest.approx(repeated.mean())
    # lower median of (3, 5, 5, 10) is 5
    assert weighted_statistic(values, weights, "median")[0] == 5.0


def test_one_user_gives_a_degenerate_interval():
    values = np.array([1.0, 2.0, 6.0])
    interval = user_bootstrap(values, np.zeros(3, dtype=int), n_boot=50)
    assert (interval.low, interval.estimate, interval.high) == pytest.approx((3.0, 3.0, 3.0))


def test_resampling_unit_is_the_user_not_the_window():
    # two users: one with 100 windows of 0, one with 100 windows of 1. Resampling windows
    # would give a narrow interval around 0.5; resampling two users gives 0, 0.5 or 1.
    values = np.r_[np.zeros(100), np.ones(100)]
    users = np.r_[np.zeros(100, int), np.ones(100, int)]
    interval = user_bootstrap(values, users, n_boot=400, seed=1)
    assert interval.estimate == pytest.approx(0.5)
    assert interval.low == 0.0 and interval.high == 1.0


def test_paired_difference_cancels_shared_difficulty():
    rng = np.random.default_rng(0)
    users = np.repeat(np.arange(50), 20)
    difficulty = rng.gamma(2.0, 3.0, size=50)[users] + rng.normal(0, 0.1, size=users.size)
    better = difficulty - 0.2
    paired = paired_bootstrap(better, difficulty, users, n_boot=300)
    assert paired.estimate == pytest.approx(-0.2)
    assert paired.high < 0 and paired.excludes(0.0)
    # unpaired intervals of the two means overlap widely: the pairing is what resolves it
    a, b = user_bootstrap(better, users, n_boot=300), user_bootstrap(difficulty, users, n_boot=300)
    assert a.high > b.low


def test_same_seed_same_interval_and_errors_named():
    values, users = np.arange(30.0), np.arange(30) % 7
    assert user_bootstrap(values, users, seed=3) == user_bootstrap(values, users, seed=3)
    with pytest.raises(ValueError, match="same length"):
        user_bootstrap(values, users[:-1])
    with pytest.raises(ValueError, match="non-finite"):
        user_bootstrap(np.r_[values[:-1], np.nan], users)
    with pytest.raises(ValueError, match="statistic must be one of"):
        user_bootstrap(values, users, statistic="mode")
