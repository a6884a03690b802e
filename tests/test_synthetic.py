import numpy as np
import pandas as pd
import pytest

from checkin_traj.geo import NYC_BOX, BoundingBox, haversine_km
from checkin_traj.data.snap import read_checkins, read_edges
from checkin_traj.data.synthetic import generate_checkins, generate_edges, write_snap_checkins, write_snap_edges


@pytest.fixture(scope="module")
def generated():
    return generate_checkins(n_users=400, seed=3, return_faults=True)


def test_same_seed_same_output_and_other_seed_differs():
    first = generate_checkins(n_users=50, seed=7)
    pd.testing.assert_frame_equal(first, generate_checkins(n_users=50, seed=7))
    assert not first.equals(generate_checkins(n_users=50, seed=8))


def test_schema_and_snap_order(generated):
    check_ins, faults = generated
    assert list(check_ins.columns) == ["user", "time", "lat", "lon", "location_id"]
    assert [str(t) for t in check_ins.dtypes] == ["int64", "datetime64[ns, UTC]", "float64", "float64", "int64"]
    assert check_ins.index.equals(pd.RangeIndex(len(check_ins)))
    assert faults.index.equals(check_ins.index)
    assert check_ins["user"].is_monotonic_increasing
    newest_first = check_ins.groupby("user")["time"].apply(lambda t: t.is_monotonic_decreasing)
    assert newest_first.all()
    assert check_ins["user"].nunique() == 400


def test_everything_inside_the_box_except_injected_faults(generated):
    check_ins, faults = generated
    inside = NYC_BOX.contains(check_ins["lat"], check_ins["lon"])
    assert inside[faults.isin(["", "repeat", "duplicate"]).to_numpy()].all()
    assert not inside[(faults == "outside").to_numpy()].any()


def test_other_box_is_respected():
    box = BoundingBox(lat_min=51.3, lat_max=51.7, lon_min=-0.5, lon_max=0.3)
    check_ins, faults = generate_checkins(n_users=60, seed=1, box=box, return_faults=True)
    assert box.contains(check_ins["lat"], check_ins["lon"])[(faults == "").to_numpy()].all()


def test_fault_rates_match_the_request():
    check_ins, faults = generate_checkins(
        n_users=1500, seed=2, teleport_rate=0.02, repeat_burst_rate=0.05, outside_rate=0.03,
        duplicate_rate=0.01, return_faults=True,
    )  # fmt: skip
    shares = faults.value_counts(normalize=True)
    for kind, rate in [("teleport", 0.02), ("repeat", 0.05), ("outside", 0.03), ("duplicate", 0.01)]:
        assert shares[kind] == pytest.approx(rate, rel=0.1)


def test_zero_rates_give_clean_data():
    check_ins, faults = generate_checkins(
        n_users=80, teleport_rate=0, repeat_burst_rate=0, outside_rate=0, duplicate_rate=0, return_faults=True
    )
    assert (faults == "").all()
    assert not check_ins.duplicated().any()


def test_faults_have_their_signature(generated):
    check_ins, faults = generated
    in_time = check_ins.sort_values(["user", "time"], kind="stable")
    kinds = faults[in_time.index].to_numpy()
    same_user = in_time["user"].to_numpy()[1:] == in_time["user"].to_numpy()[:-1]
    km = haversine_km(in_time["lat"].to_numpy()[:-1], in_time["lon"].to_numpy()[:-1],
                      in_time["lat"].to_numpy()[1:], in_time["lon"].to_numpy()[1:])  # fmt: skip
    hours = in_time["time"].diff().dt.total_seconds().to_numpy()[1:] / 3600.0
    with np.errstate(divide="ignore", invalid="ignore"):
        speed_kmh = np.where(hours > 0, km / hours, np.inf)
    arriving = kinds[1:]
    # every teleport is reached at an impossible speed, clean moves are plausible
    assert (speed_kmh[same_user & (arriving == "teleport")] > 900).all()
    clean_pair = same_user & (arriving == "") & (kinds[:-1] == "")
    assert speed_kmh[clean_pair].max() <= 80.01
    # repeats: a few metres and a few minutes after the previous check-in, same venue
    repeat = same_user & (arriving == "repeat")
    assert (km[repeat] < 0.05).all() and (hours[repeat] * 60 <= 3.01).all()
    assert (in_time["location_id"].to_numpy()[1:][repeat] == in_time["location_id"].to_numpy()[:-1][repeat]).all()
    # duplicates are exact copies of the line before them in file order
    duplicate_rows = np.flatnonzero((faults == "duplicate").to_numpy())
    assert duplicate_rows.size > 0
    before = check_ins.iloc[duplicate_rows - 1].reset_index(drop=True)
    pd.testing.assert_frame_equal(check_ins.iloc[duplicate_rows].reset_index(drop=True), before)


def test_activity_is_heavy_tailed(generated):
    per_user = generated[0].groupby("user").size()
    assert per_user.max() > 8 * per_user.median()


def test_venues_are_shared_and_revisited(generated):
    check_ins, faults = generated
    clean = check_ins[(faults == "").to_numpy()]
    users_per_venue = clean.groupby("location_id")["user"].nunique()
    assert users_per_venue.max() >= 10
    assert clean["location_id"].nunique() < 0.5 * len(clean)


def test_daily_rhythm_in_local_time(generated):
    check_ins, _ = generated
    local_hour = check_ins["time"].dt.tz_convert("America/New_York").dt.hour
    per_hour = local_hour.value_counts().reindex(range(24), fill_value=0)
    assert per_hour[12:20].mean() > 4 * per_hour[2:5].mean()


def test_write_and_read_back_exactly(tmp_path, generated):
    check_ins, _ = generated
    for name in ("checkins.txt", "checkins.txt.gz"):
        write_snap_checkins(check_ins, tmp_path / name)
        back = read_checkins(tmp_path / name)
        back.attrs = {}
        pd.testing.assert_frame_equal(back, check_ins)
    first_line = (tmp_path / "checkins.txt").read_text().splitlines()[0]
    user, time, lat, lon, location_id = first_line.split("\t")
    assert time == check_ins["time"].iloc[0].strftime("%Y-%m-%dT%H:%M:%SZ")
    assert int(location_id) == check_ins["location_id"].iloc[0] and float(lat) == check_ins["lat"].iloc[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkins.txt", "checkins.txt.gz"]


def test_edges_symmetric_and_read_back(tmp_path):
    edges = generate_edges(n_users=200, seed=4, mean_degree=6)
    pairs = set(zip(edges["user"], edges["friend"]))
    assert all((friend, user) in pairs for user, friend in pairs)
    assert not (edges["user"] == edges["friend"]).any() and not edges.duplicated().any()
    assert len(edges) / edges["user"].nunique() == pytest.approx(6, rel=0.35)
    check_ins = generate_checkins(n_users=200, seed=4)
    assert set(edges["user"]) <= set(check_ins["user"])
    write_snap_edges(edges, tmp_path / "edges.txt.gz")
    back = read_edges(tmp_path / "edges.txt.gz")
    back.attrs = {}
    pd.testing.assert_frame_equal(back, edges)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(n_users=0), "n_users"),
        (dict(seed=-1), "seed"),
        (dict(days=0), "days"),
        (dict(teleport_rate=0.7), "teleport_rate"),
        (dict(repeat_burst_rate=-0.1), "repeat_burst_rate"),
        (dict(start="not a date"), "start"),
        (dict(box=(40, 41, -74, -73)), "box"),
        (dict(n_venues=0), "n_venues"),
    ],
)
def test_bad_parameters_are_rejected(kwargs, name):
    with pytest.raises(ValueError, match=name):
        generate_checkins(**kwargs)


def test_writer_rejects_naive_times(tmp_path):
    check_ins = generate_checkins(n_users=5)
    check_ins["time"] = check_ins["time"].dt.tz_localize(None)
    with pytest.raises(ValueError, match="tz-aware"):
        write_snap_checkins(check_ins, tmp_path / "x.txt")
    assert list(tmp_path.iterdir()) == []


def test_snap_time_strings_match_strftime():
    from checkin_traj.data.synthetic import _snap_time_strings

    seconds = np.random.default_rng(0).integers(-(10**9), 4 * 10**9, 500)
    expected = [pd.Timestamp(value, unit="s").strftime("%Y-%m-%dT%H:%M:%SZ") for value in seconds]
    assert _snap_time_strings(seconds).to_pylist() == expected
