import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import r2_score

from checkin_traj.metrics import (
    errors_km,
    evaluate,
    human_errors,
    per_user_median,
    scaled_scores,
)
from checkin_traj.sequences import build_windows

HOUR = 3600.0


def test_perfect_predictions_score_zero_error_and_r2_one():
    y = np.array([[0.1, 0.2, 0.3], [0.5, 0.4, 0.9], [0.7, 0.8, 0.1]])
    scores = scaled_scores(y, y)
    assert scores["rmse"] == 0.0 and scores["r2"] == 1.0
    assert scores["rmse_lat"] == 0.0 and scores["r2_gap"] == 1.0 and scores["r2_spatial"] == 1.0


def test_a_constant_offset_gives_that_rmse_and_the_known_r2():
    y_true = np.array([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]])
    scores = scaled_scores(y_true, y_true + 0.1)
    assert scores["rmse"] == pytest.approx(0.1)
    assert scores["rmse_gap"] == pytest.approx(0.1)
    # R² = 1 - sum of squared errors / total sum of squares = 1 - 0.02 / 0.5
    assert scores["r2"] == pytest.approx(0.96)


def test_rmse_pools_targets_and_r2_is_sklearns_uniform_average():
    rng = np.random.default_rng(0)
    y_true = rng.random((50, 3))
    y_pred = y_true + rng.normal(0, [0.01, 0.1, 0.3], size=(50, 3))
    scores = scaled_scores(y_true, y_pred)
    assert scores["rmse"] == pytest.approx(np.sqrt(((y_true - y_pred) ** 2).mean()))
    assert scores["r2"] == pytest.approx(r2_score(y_true, y_pred))
    assert scores["rmse_gap"] < scores["rmse_lon"] < scores["rmse_lat"]


def test_human_errors_in_km_and_minutes():
    gap = np.log1p(60.0)  # an hour after the last check-in
    y_true = np.array([[gap, -74.0, 40.0], [gap, -74.0, 40.0]])
    # first prediction: right place, 90 minutes late; second: one degree north (111.2 km), 30 minutes early
    y_pred = np.array([[np.log1p(150.0), -74.0, 40.0], [np.log1p(30.0), -74.0, 41.0]])
    errors = human_errors(y_true, y_pred)
    assert errors["km_mean"] == pytest.approx(111.195 / 2, abs=0.01)
    assert errors["km_median"] == pytest.approx(111.195 / 2, abs=0.01)
    assert errors["within_1km"] == 0.5
    assert errors["minutes_mean"] == pytest.approx(60.0)
    assert errors["minutes_median"] == pytest.approx(60.0)
    np.testing.assert_allclose(errors_km(y_true, y_pred), [0.0, 111.195], atol=0.01)


@pytest.mark.parametrize(
    "y_pred, message",
    [
        (np.zeros((3, 2)), "y_pred must have shape"),
        (np.zeros((2, 3)), "same shape"),
        (np.array([[0.0, 0.0, np.nan]] * 3), "not finite in row 0"),
    ],
)
def test_bad_predictions_are_rejected(y_pred, message):
    with pytest.raises(ValueError, match=message):
        scaled_scores(np.zeros((3, 3)), y_pred)


def test_evaluate_merges_both_families_on_one_split():
    user = np.repeat([0, 1], 20)
    position = np.r_[np.arange(20), np.arange(20)]
    check_ins = pd.DataFrame(
        {
            "user": user,
            "snap_user": user,
            "time": pd.Timestamp("2010-05-01", tz="UTC") + pd.to_timedelta(position, unit="h"),
            "lat": 40.7 + user / 10,
            "lon": -74.0 + position / 100,
            "location_id": user * 100 + position,
        }
    )
    data = build_windows(check_ins, window=3)
    perfect = evaluate(data, data.test.y, split="test")
    assert perfect["rmse"] == 0.0 and perfect["km_median"] == pytest.approx(0.0, abs=1e-3)
    assert perfect["windows"] == len(data.test)
    assert perfect["minutes_mean"] < 0.01  # float32 scaled log gap
    shifted = evaluate(data, data.val.last, split="val")
    assert shifted["minutes_median"] == pytest.approx(0.0, abs=0.01)  # hourly: the last gap is the next one
    assert shifted["km_median"] == pytest.approx(0.84, abs=0.01)  # 0.01 degree of longitude at 40.7°N
    with pytest.raises(ValueError, match="one row per test window"):
        evaluate(data, data.val.y, split="test")
    with pytest.raises(ValueError, match="split must be one of"):
        evaluate(data, data.test.y, split="holdout")


def test_spatial_r2_pools_longitude_and_latitude_and_ignores_the_gap():
    y_true = np.array([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [0.5, 0.0, 1.0]])
    y_pred = y_true.copy()
    y_pred[:, 0] = 7.0  # a hopeless gap
    y_pred[0, 1] = 0.3
    scores = scaled_scores(y_true, y_pred)
    sst = ((y_true[:, 1:] - y_true[:, 1:].mean(axis=0)) ** 2).sum()
    assert scores["r2_spatial"] == pytest.approx(1 - 0.09 / sst)
    assert scores["r2_gap"] < 0


def test_per_user_median_is_the_median_of_users_medians_with_a_user_bootstrap_interval():
    values = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 10.0, 20.0])
    users = np.array([0, 0, 0, 0, 0, 1, 2])
    assert per_user_median(values, users) == 10.0  # pooled median: 1.0
    errors = human_errors(np.array([[0.0, -74.0, 40.0]] * 3), np.array([[np.log1p(5.0), -74.0, 40.0]] * 3), [0, 0, 1])
    assert errors["minutes_median_users"] == pytest.approx(5.0)
