import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checkin_traj.sequences import (
    FEATURES,
    TARGETS,
    build_windows,
    check_windows_hash,
    default_min_checkins,
    gap_minutes,
    split_sizes,
    test_windows_hash,
    windows_hash,
)

START = pd.Timestamp("2010-01-04 10:00", tz="UTC")  # a Monday, 05:00 in New York


def make_check_ins(counts, *, step_hours=1.0):
    """Clean check-ins: user u's i-th check-in is i hours after START, at lon -74 + i/100, lat 40 + u."""
    user = np.repeat(np.arange(len(counts)), counts)
    position = np.concatenate([np.arange(count) for count in counts])
    return pd.DataFrame(
        {
            "user": user.astype(np.int64),
            "snap_user": (user + 1000).astype(np.int64),
            "time": START + pd.to_timedelta(position * step_hours, unit="h"),
            "lat": 40.0 + user,
            "lon": -74.0 + position / 100.0,
            "location_id": (user * 1000 + position).astype(np.int64),
        }
    )


def test_windows_per_split_follow_each_users_history():
    # 20 check-ins: 4 test, 2 validation, 14 training; window 3 -> 11 training windows.
    data = build_windows(make_check_ins([20]), window=3, test_fraction=0.2, val_fraction=0.1)
    assert (len(data.train), len(data.val), len(data.test)) == (11, 2, 4)
    assert data.check_ins["split"].tolist() == ["train"] * 14 + ["val"] * 2 + ["test"] * 4
    assert data.test.target_row.tolist() == [16, 17, 18, 19]
    assert data.report["windows_test"] == 4 and data.report["users_kept"] == 1


def test_shapes_and_dtypes_match_the_contract():
    data = build_windows(make_check_ins([20, 30]), window=4)
    for split in (data.train, data.val, data.test):
        n = len(split)
        assert split.x.shape == (n, 4, len(FEATURES)) and split.x.dtype == np.float32
        assert split.y.shape == (n, 3) and split.y.dtype == np.float32
        assert split.last.shape == (n, 3) and split.last.dtype == np.float32
        assert split.y_raw.shape == (n, 3) and split.y_raw.dtype == np.float64
        assert split.user.dtype == np.int64 and split.target_row.dtype == np.int64
    assert data.target_names == TARGETS == ("gap", "lon", "lat")
    assert data.feature_names == FEATURES


def test_a_window_holds_the_previous_check_ins_and_predicts_the_next():
    check_ins = make_check_ins([20])
    data = build_windows(check_ins, window=3, features=("time", "lon", "lat"))
    target = 17  # second test-or-val target
    i = np.flatnonzero(np.r_[data.val.target_row, data.test.target_row] == target)[0]
    split_x = np.concatenate([data.val.x, data.test.x])[i]
    inputs_raw = data.feature_scaler.inverse_transform(split_x.astype(np.float64))
    expected_unix = (check_ins["time"].iloc[14:17] - pd.Timestamp(0, tz="UTC")).dt.total_seconds()
    np.testing.assert_allclose(inputs_raw[:, 0], expected_unix, atol=10)  # float32, seconds
    np.testing.assert_allclose(inputs_raw[:, 1], [-73.86, -73.85, -73.84], atol=1e-5)
    j = np.flatnonzero(data.test.target_row == 17)[0]
    assert data.test.y_raw[j, 1] == pytest.approx(-74.0 + 17 / 100)
    assert data.test.last_raw[j, 1] == pytest.approx(-74.0 + 16 / 100)
    np.testing.assert_allclose(data.inverse_targets(data.test.y), data.test.y_raw, rtol=0, atol=5)


def test_windows_never_mix_users_and_targets_keep_their_split():
    data = build_windows(make_check_ins([15, 22, 40]), window=5)
    user = data.check_ins["user"].to_numpy()
    for name in ("train", "val", "test"):
        split = getattr(data, name)
        assert (data.check_ins["split"].to_numpy()[split.target_row] == name).all()
        for back in range(1, 6):
            assert (user[split.target_row - back] == split.user).all()


def test_scalers_are_fitted_on_training_rows_only():
    data = build_windows(make_check_ins([20]), window=3)
    train_rows = data.check_ins[data.check_ins["split"] == "train"]
    assert data.target_scaler.data_max_[1] == pytest.approx(train_rows["lon"].max())
    assert data.train.y.max() <= 1.0 + 1e-6
    # test check-ins lie further east than any training row: scaled above 1
    assert (data.test.y[:, 1] > 1.0).all()
    assert data.target_scaler.data_max_[0] == pytest.approx(np.log1p(60.0))  # hourly check-ins: a 60-minute gap


def test_users_with_too_few_check_ins_are_dropped_and_counted():
    data = build_windows(make_check_ins([20, 5, 30]), window=3, min_checkins=10)
    assert data.report["users_dropped_too_few"] == 1
    assert data.report["rows_dropped"] == 5
    assert set(data.check_ins.loc[data.check_ins["user"] == 1, "split"]) == {"dropped"}
    assert 1 not in set(np.concatenate([data.train.user, data.val.user, data.test.user]))


def test_default_min_checkins_gives_windows_in_every_split():
    threshold = default_min_checkins(window=3, test_fraction=0.2, val_fraction=0.1)
    n_train, _, _ = split_sizes(np.arange(threshold, threshold + 200), test_fraction=0.2, val_fraction=0.1)
    assert (n_train >= 4).all()
    data = build_windows(make_check_ins([threshold - 1, threshold]), window=3)
    assert data.report["users_dropped_too_few"] == 1
    assert len(data.train) >= 1 and len(data.val) >= 1 and len(data.test) >= 1


def test_time_encodings_use_local_time_and_gap():
    data = build_windows(make_check_ins([20]), window=3, features=("hour_sin", "hour_cos", "log_gap_minutes"))
    raw = data.feature_scaler.inverse_transform(data.train.x[0].astype(np.float64))
    # first input is 05:00 in New York (10:00 UTC): angle 2*pi*5/24; its gap is 0 (first check-in)
    assert raw[0, 0] == pytest.approx(np.sin(2 * np.pi * 5 / 24), abs=1e-5)
    assert raw[0, 1] == pytest.approx(np.cos(2 * np.pi * 5 / 24), abs=1e-5)
    assert raw[0, 2] == pytest.approx(0.0, abs=1e-5)
    assert raw[1, 2] == pytest.approx(np.log1p(60.0), abs=1e-5)


def test_protocol_rebuilds_identical_windows():
    check_ins = make_check_ins([20, 25, 31, 12])
    data = build_windows(check_ins, window=4, held_out_users=0.25, seed=3)
    again = build_windows(check_ins, **data.protocol())
    assert again.protocol() == data.protocol()
    for name in ("train", "val", "test"):
        np.testing.assert_array_equal(getattr(again, name).x, getattr(data, name).x)
        np.testing.assert_array_equal(getattr(again, name).target_row, getattr(data, name).target_row)


def test_held_out_users_have_only_test_windows():
    data = build_windows(make_check_ins([20, 20, 20, 20]), window=3, held_out_users=0.5, seed=0)
    held_out = data.held_out_user_ids
    assert len(held_out) == 2 and data.report["users_held_out"] == 2
    assert not np.isin(data.train.user, held_out).any()
    assert not np.isin(data.val.user, held_out).any()
    # every check-in after the first window of a held-out user is a test target
    assert np.isin(data.test.user, held_out).sum() == 2 * (20 - 3)


@pytest.mark.parametrize(
    "kwargs, parameter",
    [
        (dict(window=0), "window"),
        (dict(window=2.5), "window"),
        (dict(test_fraction=0.0), "test_fraction"),
        (dict(test_fraction=1.2), "test_fraction"),
        (dict(val_fraction=-0.1), "val_fraction"),
        (dict(test_fraction=0.6, val_fraction=0.4), "test_fraction \\+ val_fraction"),
        (dict(window=3, min_checkins=3), "min_checkins"),
        (dict(features=("time", "speed")), "features"),
        (dict(held_out_users=1.0), "held_out_users"),
        (dict(window=50), "window=50"),
        (dict(timezone="Mars/Olympus"), "timezone"),
    ],
)
def test_bad_parameters_are_rejected_naming_the_parameter(kwargs, parameter):
    with pytest.raises(ValueError, match=parameter):
        build_windows(make_check_ins([20, 20]), **kwargs)


def test_unsorted_or_incomplete_input_is_rejected():
    check_ins = make_check_ins([20])
    with pytest.raises(ValueError, match="sorted by user, then time"):
        build_windows(check_ins.iloc[::-1].reset_index(drop=True), window=3)
    with pytest.raises(ValueError, match="location_id"):
        build_windows(check_ins.drop(columns="location_id"), window=3)
    broken = check_ins.copy()
    broken.loc[4, "lat"] = np.nan
    with pytest.raises(ValueError, match="row 4"):
        build_windows(broken, window=3)


@settings(max_examples=25, deadline=None)
@given(
    counts=st.lists(st.integers(min_value=1, max_value=60), min_size=1, max_size=8),
    window=st.integers(min_value=1, max_value=6),
)
def test_every_check_in_after_the_first_window_of_a_kept_user_is_one_target(counts, window):
    if max(counts) <= window or max(counts) < default_min_checkins(window=window):
        return
    data = build_windows(make_check_ins(counts), window=window)
    kept = np.array(counts) >= data.report["min_checkins"]
    expected = int(sum(count - window for count, keep in zip(counts, kept) if keep))
    targets = np.concatenate([data.train.target_row, data.val.target_row, data.test.target_row])
    assert len(targets) == len(np.unique(targets)) == expected
    assert data.report["users_dropped_too_few"] == int((~kept).sum())


def test_the_time_target_is_the_log_gap_after_the_last_input_check_in():
    check_ins = make_check_ins([20])
    check_ins["time"] = START + pd.to_timedelta(np.arange(20) ** 2, unit="min")  # gaps 1, 3, 5, ... minutes
    data = build_windows(check_ins, window=3)
    target = data.test.target_row
    np.testing.assert_allclose(data.test.y_raw[:, 0], np.log1p(2 * target - 1.0))
    np.testing.assert_allclose(data.test.last_raw[:, 0], np.log1p(2 * target - 3.0))  # the last input's own gap
    np.testing.assert_allclose(gap_minutes(data.test.y_raw[:, 0]), 2 * target - 1.0)
    np.testing.assert_allclose(data.test.time_raw - data.test.last_time_raw, 60.0 * (2 * target - 1.0))
    assert gap_minutes(-0.5) == 0.0  # a predicted gap below zero reads as zero
    # the raw gap is the input feature log_gap_minutes of the target row, scaled the same way
    gap_column = list(data.feature_names).index("log_gap_minutes")
    np.testing.assert_allclose(data.target_scaler.data_max_[0], data.feature_scaler.data_max_[gap_column])


def test_with_features_equals_building_with_those_features():
    check_ins = make_check_ins([20, 25, 31])
    data = build_windows(check_ins, window=4)
    article = data.with_features(("time", "lon", "lat"))
    direct = build_windows(check_ins, window=4, features=("time", "lon", "lat"))
    for name in ("train", "val", "test"):
        np.testing.assert_allclose(getattr(article, name).x, getattr(direct, name).x, atol=1e-6)
        np.testing.assert_array_equal(getattr(article, name).y, getattr(data, name).y)
    assert article.feature_names == ("time", "lon", "lat") and data.feature_names == FEATURES
    assert article.protocol()["features"] == ["time", "lon", "lat"]
    with pytest.raises(ValueError, match="speed"):
        data.with_features(("time", "speed"))


def test_the_test_windows_hash_is_stable_and_changes_with_the_windows():
    check_ins = make_check_ins([20, 25, 31])
    data = build_windows(check_ins, window=4)
    again = build_windows(check_ins, **data.protocol())
    assert test_windows_hash(data) == test_windows_hash(again) == windows_hash(again.test)
    assert len(test_windows_hash(data)) == 16
    assert test_windows_hash(data.with_features(("lon", "lat"))) == test_windows_hash(data)  # targets, not inputs
    moved = check_ins.assign(lat=check_ins["lat"] + np.where(np.arange(len(check_ins)) == 70, 1e-3, 0.0))
    other = build_windows(moved, window=4)
    assert len(other.test) == len(data.test) and test_windows_hash(other) != test_windows_hash(data)
    assert test_windows_hash(build_windows(check_ins, window=4, test_fraction=0.3)) != test_windows_hash(data)
    # a longer window predicts the same targets of the same users: the same windows to score
    assert test_windows_hash(build_windows(check_ins, window=5)) == test_windows_hash(data)
    assert check_windows_hash(again, test_windows_hash(data)) == test_windows_hash(data)
    with pytest.raises(ValueError, match="differ from those of chapter 02"):
        check_windows_hash(other, test_windows_hash(data), where="chapter 02")


# --------------------------------------------------------------------------- issue 15 probes


def test_a_single_check_in_user_is_dropped_and_every_row_is_accounted_for():
    data = build_windows(make_check_ins([1, 30, 2]), window=3)
    report = data.report
    assert report["users_dropped_too_few"] == 2 and report["rows_dropped"] == 3
    assert report["rows_in"] == report["rows_train"] + report["rows_val"] + report["rows_test"] + report["rows_dropped"] == 33
    assert report["users_in"] == report["users_kept"] + report["users_dropped_too_few"]


def test_a_window_longer_than_every_history_is_named():
    with pytest.raises(ValueError, match=r"window=40 is longer than every user's history \(the longest has 30 check-ins\)"):
        build_windows(make_check_ins([1, 30, 2]), window=40)
    with pytest.raises(ValueError, match="window must be an integer >= 1, got 2.5"):
        build_windows(make_check_ins([1, 30, 2]), window=2.5)
