import numpy as np
import pandas as pd
import pytest

from checkin_traj.baselines import (
    BASELINES,
    global_mean,
    markov_next,
    persistence,
    run_baselines,
    user_mean,
    user_most_frequent,
)
from checkin_traj.metrics import HUMAN_METRICS, SCALED_METRICS, errors_km, errors_minutes
from checkin_traj.sequences import build_windows

START = pd.Timestamp("2010-06-01 08:00", tz="UTC")
PLACES = {1: (40.70, -74.00), 2: (40.75, -73.95), 3: (40.80, -73.90), 4: (40.60, -73.80)}  # (lat, lon)


def make_check_ins(locations_per_user, *, hours_per_user=None):
    """Clean check-ins visiting PLACES; user u's i-th check-in is at hour i unless hours are given."""
    frames = []
    for user, locations in enumerate(locations_per_user):
        hours = np.arange(len(locations)) if hours_per_user is None else np.asarray(hours_per_user[user])
        frames.append(
            pd.DataFrame(
                {
                    "user": user,
                    "snap_user": 500 + user,
                    "time": START + pd.to_timedelta(hours, unit="h"),
                    "lat": [PLACES[location][0] for location in locations],
                    "lon": [PLACES[location][1] for location in locations],
                    "location_id": locations,
                }
            )
        )
    return pd.concat(frames, ignore_index=True).astype({"user": "int64", "snap_user": "int64", "location_id": "int64"})


def raw_errors(data, prediction):
    raw = data.inverse_targets(prediction)
    return errors_km(data.test.y_raw, raw), errors_minutes(data.test.y_raw, raw)


def test_markov_learns_an_alternating_user_exactly_and_persistence_does_not():
    data = build_windows(make_check_ins([[1, 2] * 10]), window=3)
    km, minutes = raw_errors(data, markov_next(data))
    assert km.max() < 1e-3 and minutes.max() < 0.5
    km, minutes = raw_errors(data, persistence(data))
    assert km.min() > 6.0  # always at the other place, 6.8 km away
    assert minutes.max() < 0.5  # constant hourly gap: time is right


def test_persistence_repeats_the_last_gap_and_place():
    hours = np.cumsum(np.arange(20))  # gaps 1, 2, 3, ... hours: each next gap is one hour longer
    data = build_windows(make_check_ins([[1, 2, 3, 4] * 5], hours_per_user=[hours]), window=3)
    prediction = data.inverse_targets(persistence(data))
    np.testing.assert_allclose(prediction[:, 1:], data.test.last_raw[:, 1:], atol=1e-5)
    _, minutes = raw_errors(data, persistence(data))
    np.testing.assert_allclose(minutes, 60.0, atol=1.0)


def test_user_most_frequent_predicts_the_most_visited_training_place():
    data = build_windows(make_check_ins([[1, 1, 2] * 7, [1, 2] * 10]), window=3)
    prediction = data.inverse_targets(user_most_frequent(data))
    first, second = data.test.user == 0, data.test.user == 1
    np.testing.assert_allclose(prediction[first][:, [2, 1]], [PLACES[1]] * first.sum(), atol=1e-5)
    # user 1 visited 1 and 2 equally often in training; the latest training visit (row 13) was place 2
    np.testing.assert_allclose(prediction[second][:, [2, 1]], [PLACES[2]] * second.sum(), atol=1e-5)


def test_user_mean_and_global_mean_average_training_places():
    data = build_windows(make_check_ins([[1, 1, 2] * 7, [3, 4] * 10]), window=3)
    training = data.check_ins[data.check_ins["split"] == "train"]
    prediction = data.inverse_targets(user_mean(data))
    for user in (0, 1):
        expected = training.loc[training["user"] == user, ["lon", "lat"]].mean().to_numpy()
        np.testing.assert_allclose(prediction[data.test.user == user][:, 1:] - expected, 0.0, atol=1e-5)
    overall = data.inverse_targets(global_mean(data))
    np.testing.assert_allclose(overall[:, 1:] - training[["lon", "lat"]].mean().to_numpy(), 0.0, atol=1e-5)


def test_baselines_do_not_learn_from_validation_or_test_places():
    check_ins = make_check_ins([[1, 1, 2] * 7, [3, 4] * 10])
    data = build_windows(check_ins, window=3)
    later = (data.check_ins["split"] != "train").to_numpy()
    moved = check_ins.copy()
    moved.loc[later, "lat"] += 0.05  # every validation and test check-in somewhere else
    moved_data = build_windows(moved, window=3)
    for baseline in (user_most_frequent, user_mean, global_mean):
        before = data.inverse_targets(baseline(data))
        after = moved_data.inverse_targets(baseline(moved_data))
        np.testing.assert_allclose(after[:, 1:], before[:, 1:], atol=1e-6, err_msg=baseline.__name__)


def test_unseen_users_and_locations_fall_back_and_are_counted():
    data = build_windows(make_check_ins([[1, 2] * 10, [3, 4] * 10]), window=3, held_out_users=0.5, seed=0)
    held_out_windows = int(np.isin(data.test.user, data.held_out_user_ids).sum())
    assert held_out_windows == 17
    report = {}
    prediction = data.inverse_targets(user_mean(data, report=report))
    assert report["fallback_windows"] == held_out_windows
    training = data.check_ins[data.check_ins["split"] == "train"]
    held_out = np.isin(data.test.user, data.held_out_user_ids)
    np.testing.assert_allclose(prediction[held_out][:, 2], training["lat"].mean(), atol=1e-5)
    # Markov: the held-out user's places were never left in training -> stays at the last place
    report = {}
    prediction = data.inverse_targets(markov_next(data, report=report))
    assert report["fallback_windows"] == held_out_windows
    np.testing.assert_allclose(prediction[held_out][:, 1:], data.test.last_raw[held_out][:, 1:], atol=1e-5)


def test_run_baselines_scores_every_baseline_on_the_same_windows():
    data = build_windows(make_check_ins([[1, 2] * 10, [1, 1, 3] * 8]), window=3)
    table, predictions = run_baselines(data, return_predictions=True)
    assert list(table.index) == list(BASELINES)
    assert set(SCALED_METRICS + HUMAN_METRICS + ("windows", "fallback_windows")) <= set(table.columns)
    assert np.isfinite(table[list(SCALED_METRICS + HUMAN_METRICS)].to_numpy()).all()
    assert (table["windows"] == len(data.test)).all()
    assert all(prediction.shape == (len(data.test), 3) for prediction in predictions.values())
    assert table["rmse"].idxmin() == "markov_next"  # both users are perfectly regular
    with pytest.raises(ValueError, match="split must be one of"):
        run_baselines(data, split="later")


def test_the_strongest_baseline_is_chosen_on_the_validation_scores_by_the_one_rule():
    from checkin_traj.verdicts import strongest_baseline

    data = build_windows(make_check_ins([[1, 2] * 10, [1, 1, 3] * 8, [4, 3, 2, 1] * 5]), window=3)
    val = run_baselines(data, split="val")
    test = run_baselines(data, split="test")
    assert (val["windows"] == len(data.val)).all() and (test["windows"] == len(data.test)).all()
    assert strongest_baseline(val, metric="rmse") == val["rmse"].idxmin()
    assert strongest_baseline(val, metric="km_median") == val["km_median"].idxmin()
    # a table whose test and validation orders differ: the choice follows validation
    flipped = val.assign(rmse=test["rmse"].max() - test["rmse"] + 1.0)
    assert strongest_baseline(flipped, metric="rmse") == test["rmse"].idxmax()


def test_scores_frame_shows_one_row_per_score_in_words_rounded_and_no_nan():
    from checkin_traj.baselines import SCORE_DECIMALS, scores_frame
    from checkin_traj.metrics import METRIC_LABELS

    data = build_windows(make_check_ins([[1, 2] * 10, [1, 1, 3] * 8]), window=3)
    table = run_baselines(data)
    table.loc["persistence", "km_mean"] = np.nan
    shown = scores_frame(table)
    assert list(shown.columns) == list(BASELINES) and shown.columns.name == "baseline"
    assert list(shown.index) == [
        METRIC_LABELS.get(name, {"fallback_windows": "windows where the rule fell back",
                                 "fit_seconds": "fitting time (s)"}.get(name))
        for name in SCORE_DECIMALS
    ]
    assert shown.loc["mean error (km)", "persistence"] == "–"  # never "nan"
    assert shown.loc["RMSE, pooled (article's form)", "markov_next"] == f"{table.loc['markov_next', 'rmse']:.3f}"
    assert shown.loc["windows where the rule fell back", "user_mean"] == f"{table.loc['user_mean', 'fallback_windows']:,.0f}"
    assert not shown.apply(lambda column: column.str.contains("nan|`")).any().any()
    assert list(scores_frame(table, columns=["km_median", "rmse"]).index) == [
        "median error (km), pooled", "RMSE, pooled (article's form)"
    ]
    with pytest.raises(ValueError, match="no column"):
        scores_frame(table, columns=["acc@1"])


def test_hist_gradient_boosting_learns_offsets_fitted_on_train_and_stopped_on_validation():
    from checkin_traj.baselines import BOOSTED_BASELINES, hist_gradient_boosting, persistence
    from checkin_traj.metrics import evaluate

    data = build_windows(make_check_ins([[1, 2, 3] * 12, [2, 3] * 15, [3, 1] * 16]), window=3)
    report = {}
    predicted = hist_gradient_boosting(data, report=report, max_iter=50, patience=5)
    assert predicted.shape == (len(data.test), 3) and predicted.dtype == np.float32
    assert len(report["iterations"]) == 3 and all(1 <= n <= 50 for n in report["iterations"])
    assert report["fit_seconds"] > 0
    # a regular cycle of places: the trees learn it, staying put does not
    assert evaluate(data, predicted)["km_median"] < evaluate(data, persistence(data))["km_median"]
    # seeded: the same numbers again
    np.testing.assert_array_equal(predicted, hist_gradient_boosting(data, max_iter=50, patience=5))
    table = run_baselines(data, baselines=BOOSTED_BASELINES)
    assert (table["fit_seconds"] > 0).all()
    with pytest.raises(ValueError, match="loss must be one of"):
        hist_gradient_boosting(data, loss="huber")
