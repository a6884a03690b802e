import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checkin_traj.cleaning import (
    CLEAN_COLUMNS,
    CleaningReport,
    Thresholds,
    assign_dense_ids,
    clean,
    drop_exact_duplicates,
    filter_box,
    filter_speed,
    filter_stays,
    label_removals,
    sort_by_user_time,
    threshold_sensitivity,
)
from checkin_traj.cleaning.order import _sort_order
from checkin_traj.geo import EARTH_RADIUS_KM, NYC_BOX, BoundingBox, haversine_km

TIMES_SQUARE = (40.7580, -73.9855)
JFK = (40.6413, -73.7781)  # about 21.5 km from Times Square
T0 = pd.Timestamp("2010-06-01T12:00:00Z")


def checkins(rows):
    """A raw frame from (user, minutes after T0, lat, lon, location_id) tuples."""
    user, minutes, lat, lon, location_id = zip(*rows)
    return pd.DataFrame(
        {
            "user": np.array(user, dtype=np.int64),
            "time": T0 + pd.to_timedelta(np.array(minutes, dtype=float), unit="min"),
            "lat": np.array(lat, dtype=float),
            "lon": np.array(lon, dtype=float),
            "location_id": np.array(location_id, dtype=np.int64),
        }
    )


def north_of(point, metres):
    """A point ``metres`` north of ``point`` (lat, lon)."""
    return (point[0] + metres / 1000.0 / (math.pi * EARTH_RADIUS_KM / 180.0), point[1])


# --------------------------------------------------------------------------- ids and order


def test_dense_ids_follow_snap_id_order_and_keep_the_snap_id():
    frame = checkins([(70, 0, *TIMES_SQUARE, 1), (3, 0, *JFK, 2), (70, 5, *JFK, 3), (912, 0, *JFK, 4)])
    dense = assign_dense_ids(frame)
    assert dense["user"].tolist() == [1, 0, 1, 2]
    assert dense["snap_user"].tolist() == [70, 3, 70, 912]
    assert list(dense.columns[:2]) == ["user", "snap_user"]
    pd.testing.assert_frame_equal(assign_dense_ids(dense), dense)  # idempotent


def test_sort_puts_newest_first_files_in_time_order_and_keeps_ties_in_file_order():
    frame = checkins([(1, 30, *JFK, 3), (1, 10, *JFK, 2), (1, 10, *JFK, 1), (0, 50, *JFK, 9), (0, 0, *JFK, 8)])
    ordered = sort_by_user_time(frame)
    assert ordered["location_id"].tolist() == [8, 9, 2, 1, 3]
    assert ordered.index.tolist() == [4, 3, 1, 2, 0]


def test_exact_duplicates_are_dropped_even_when_not_adjacent():
    rows = [(0, 0, *JFK, 1), (0, 0, *TIMES_SQUARE, 2), (0, 0, *JFK, 1), (0, 0, *JFK, 5), (1, 0, *JFK, 1)]
    frame = checkins(rows)
    kept = drop_exact_duplicates(frame)
    assert kept.index.tolist() == [0, 1, 3, 4]  # only the second (0, 0, JFK, 1) goes
    assert drop_exact_duplicates(frame.iloc[::-1]).index.tolist() == [4, 3, 2, 1]  # unsorted path agrees


# --------------------------------------------------------------------------- speed and stays


def test_speed_filter_compares_with_the_previous_kept_check_in():
    near_square = north_of(TIMES_SQUARE, 300)
    frame = checkins(
        [
            (0, 0, *TIMES_SQUARE, 1),
            (0, 1, *JFK, 2),  # 21.5 km in 1 minute: ~1,300 km/h, dropped
            (0, 3, *near_square, 3),  # 0.3 km in 3 minutes from Times Square: kept
            (0, 63, *JFK, 4),  # ~21.6 km in an hour: kept
            (1, 64, *TIMES_SQUARE, 5),  # first check-in of a user: always kept
        ]
    )
    assert filter_speed(frame, max_speed_kmh=500.0)["location_id"].tolist() == [1, 3, 4, 5]
    # compared with the dropped JFK check-in instead, check-in 3 would need ~430 km/h
    assert filter_speed(frame, max_speed_kmh=400.0)["location_id"].tolist() == [1, 3, 4, 5]


def test_zero_time_is_infinite_speed_unless_the_place_is_the_same():
    frame = checkins([(0, 0, *TIMES_SQUARE, 1), (0, 0, *TIMES_SQUARE, 2), (0, 0, *JFK, 3)])
    assert filter_speed(frame)["location_id"].tolist() == [1, 2]


def test_stay_filter_keeps_a_new_visit_after_min_stay_minutes():
    frame = checkins(
        [
            (0, 0, *TIMES_SQUARE, 1),
            (0, 10, *north_of(TIMES_SQUARE, 20), 1),  # 20 m, 10 min: repeat
            (0, 25, *TIMES_SQUARE, 1),  # 25 min after the kept one: repeat
            (0, 40, *TIMES_SQUARE, 1),  # 40 min after the kept one: new visit
            (0, 45, *north_of(TIMES_SQUARE, 200), 2),  # 200 m away: a move, kept
        ]
    )
    kept = filter_stays(frame, stay_radius_m=50.0, min_stay_minutes=30.0)
    assert kept.index.tolist() == [0, 3, 4]


@pytest.mark.parametrize("metres, kept", [(49.0, [0]), (51.0, [0, 1])])
def test_stay_radius_is_in_metres(metres, kept):
    frame = checkins([(0, 0, *TIMES_SQUARE, 1), (0, 5, *north_of(TIMES_SQUARE, metres), 2)])
    assert filter_stays(frame, stay_radius_m=50.0).index.tolist() == kept


def test_filters_refuse_unsorted_check_ins():
    frame = checkins([(0, 10, *JFK, 1), (0, 0, *JFK, 2)])
    for step in (filter_speed, filter_stays):
        with pytest.raises(ValueError, match="sort_by_user_time"):
            step(frame)


# The definition the compiled pass must follow is chapter 01's plain Python rule
# (checkin_traj.pages.data_cleaning, exported from the page): one copy, read by people and tests.

PLACES = [
    TIMES_SQUARE,
    JFK,
    north_of(TIMES_SQUARE, 30),
    north_of(TIMES_SQUARE, 80),
    (40.95, -73.95),  # just north of the box: outside, and near enough to be reached
    (51.507, -0.128),  # London: outside, and out of reach
]
LOCATION_IDS = (1, 2, 3)  # few ids, so that rows repeat in full (exact duplicates)


@st.composite
def raw_check_ins(draw):
    """A raw frame of up to 4 users: times with ties, places near and far, exact duplicates, any row order."""
    n = draw(st.integers(1, 40))
    user = np.sort(np.array(draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)), dtype=np.int64))
    steps = draw(st.lists(st.sampled_from([0, 1, 30, 60, 300, 900, 1800, 3600, 7200]), min_size=n, max_size=n))
    minutes = np.cumsum(np.array(steps, dtype=float)) / 60.0
    places = draw(st.lists(st.integers(0, len(PLACES)), min_size=n, max_size=n))
    jitter = draw(st.lists(st.floats(-0.01, 0.01), min_size=n, max_size=n))
    location = draw(st.lists(st.sampled_from(LOCATION_IDS), min_size=n, max_size=n))
    rows = [
        (int(u), m, *(PLACES[p] if p < len(PLACES) else (40.7 + j, -73.9 + j)), loc)
        for u, m, p, j, loc in zip(user, minutes, places, jitter, location)
    ]
    copies = draw(st.lists(st.integers(0, n - 1), max_size=5))  # rows uploaded twice
    rows += [rows[i] for i in copies]
    frame = checkins(rows)
    if draw(st.booleans()):  # a file in another order: the kernel reads it through the sort order
        frame = frame.take(draw(st.permutations(range(len(frame)))))
    return frame


@st.composite
def cleaning_thresholds(draw):
    """Thresholds over the whole range, each step sometimes switched off."""

    def threshold(values):
        switched_off = draw(st.integers(0, 3)) == 0  # about one draw in four
        return None if switched_off else draw(values)

    return Thresholds(
        max_speed_kmh=threshold(st.floats(1.0, 3000.0)),
        stay_radius_m=threshold(st.floats(1.0, 30_000.0)),
        min_stay_minutes=threshold(st.floats(0.1, 200.0)),
    )


@settings(max_examples=200, deadline=None)
@given(raw_check_ins(), cleaning_thresholds())
def test_kernel_labels_every_check_in_as_the_plain_rule_on_the_page_does(frame, thresholds):
    from checkin_traj.pages.data_cleaning import label_removals_plain

    plain = label_removals_plain(frame, thresholds)
    fast = label_removals(frame, thresholds)
    assert fast.index.equals(plain.index)
    assert fast["removed_by"].tolist() == plain["removed_by"].tolist()


@settings(max_examples=100, deadline=None)
@given(raw_check_ins(), st.floats(1.0, 3000.0), st.floats(1.0, 30_000.0), st.floats(0.1, 200.0))
def test_each_filter_alone_keeps_what_the_plain_rule_keeps(frame, max_speed_kmh, stay_radius_m, min_stay_minutes):
    # filter_speed and filter_stays run one step on sorted rows, without the duplicate and box
    # labels; a row outside the box still anchors the next one, so on rows without duplicates
    # each keeps every row the plain rule does not remove at its step
    from checkin_traj.pages.data_cleaning import label_removals_plain

    frame = sort_by_user_time(drop_exact_duplicates(frame))
    thresholds = Thresholds(max_speed_kmh=max_speed_kmh, stay_radius_m=stay_radius_m, min_stay_minutes=min_stay_minutes)
    speed_only = label_removals_plain(frame, Thresholds.of(thresholds, stay_radius_m=None))
    assert filter_speed(frame, thresholds).index.equals(speed_only.index[speed_only["removed_by"] != "speed"])
    stays_only = label_removals_plain(frame, Thresholds.of(thresholds, max_speed_kmh=None))
    assert filter_stays(frame, thresholds).index.equals(stays_only.index[stays_only["removed_by"] != "stay"])


def test_plain_rule_on_the_page_labels_a_hand_made_trajectory():
    from checkin_traj.pages.data_cleaning import removal_reasons

    frame = checkins(
        [
            (0, 0, *TIMES_SQUARE, 1),
            (0, 0, *TIMES_SQUARE, 1),  # the same line twice: duplicate
            (0, 1, *JFK, 2),  # 21.5 km in a minute: speed
            (0, 10, *north_of(TIMES_SQUARE, 20), 3),  # 20 m from the kept one, 10 minutes on: stay
            (0, 60, *(51.507, -0.128), 4),  # London, an hour later: speed
            (0, 600, *(40.95, -73.95), 5),  # north of the box, reached in time: outside
            (0, 700, *TIMES_SQUARE, 1),  # back in the city, reached from the outside one: kept
        ]
    )
    assert removal_reasons(frame, Thresholds()) == ["", "duplicate", "speed", "stay", "speed", "outside", ""]
    off = Thresholds(max_speed_kmh=None, stay_radius_m=None)
    assert removal_reasons(frame, off) == ["", "duplicate", "", "", "outside", "outside", ""]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 5), st.sampled_from(["ascending", "newest first", "mixed"]), st.integers(1, 8)),
        min_size=0, max_size=12,
    ),
    st.randoms(use_true_random=False),
)
def test_sort_order_is_a_stable_sort_by_user_then_time(runs, rng):
    # runs of one user each, in the layouts files have: SNAP's (newest first), sorted, mixed;
    # users ascending or not (then a general sort takes over), times with ties
    user, time_s = [], []
    for run_user, layout, size in runs:
        times = [rng.choice([0, 60, 60, 3600, 7200]) for _ in range(size)]
        if layout != "mixed":
            times.sort(reverse=layout == "newest first")
        user += [run_user] * size
        time_s += times
    user = np.array(user, dtype=np.int64)
    time_ns = np.array(time_s, dtype=np.int64) * 1_000_000_000
    order = _sort_order(user, time_ns)
    expected = np.lexsort((time_ns, user))  # lexsort is stable: ties keep their file order
    np.testing.assert_array_equal(np.arange(len(user)) if order is None else order, expected)


def test_threads_split_the_rows_between_users_without_changing_the_result(monkeypatch):
    from checkin_traj.cleaning import kernel
    from checkin_traj.data.synthetic import generate_checkins

    raw = generate_checkins(n_users=300, seed=3)
    one_thread, one_report = clean(raw)
    one_thread_labels = label_removals(raw)
    monkeypatch.setattr(kernel, "_THREADED_MIN_ROWS", 1)
    monkeypatch.setattr(kernel, "_workers", lambda: 7)
    spans = kernel._prepare(raw).spans
    assert len(spans) == 7 and spans[0][0] == 0 and spans[-1][1] == len(raw)
    sorted_users = sort_by_user_time(raw)["user"].to_numpy()
    for (_, stop), (start, _) in zip(spans[:-1], spans[1:]):
        assert stop == start and sorted_users[start] != sorted_users[start - 1]  # no user is cut in two
    threaded, threaded_report = clean(raw)
    pd.testing.assert_frame_equal(threaded, one_thread)
    assert threaded_report == one_report
    pd.testing.assert_frame_equal(label_removals(raw), one_thread_labels)


def test_kernel_distance_agrees_with_geo_haversine():
    # a stay radius just above / below the true distance decides keep or drop
    distance_km = float(haversine_km(*TIMES_SQUARE, *JFK))
    frame = checkins([(0, 0, *TIMES_SQUARE, 1), (0, 1, *JFK, 2)])
    assert len(filter_stays(frame, stay_radius_m=distance_km * 1000 * (1 + 1e-9))) == 1
    assert len(filter_stays(frame, stay_radius_m=distance_km * 1000 * (1 - 1e-9))) == 2


# --------------------------------------------------------------------------- the box


def test_box_keeps_edges_and_drops_outside():
    frame = checkins([(0, 0, 40.4774, -74.2591, 1), (0, 1, 40.9176, -73.7004, 2), (0, 2, 41.0, -74.0, 3)])
    assert filter_box(frame)["location_id"].tolist() == [1, 2]


def test_polygon_replaces_the_box_and_is_reprojected():
    import geopandas as gpd
    from shapely.geometry import box

    frame = checkins([(0, 0, *TIMES_SQUARE, 1), (0, 1, *JFK, 2), (0, 2, 41.0, -74.0, 3)])
    small = box(-74.05, 40.70, -73.90, 40.80)  # (lon_min, lat_min, lon_max, lat_max)
    assert filter_box(frame, polygon=small)["location_id"].tolist() == [1]
    projected = gpd.GeoSeries([small], crs="EPSG:4326").to_crs("EPSG:3857")
    assert filter_box(frame, polygon=projected)["location_id"].tolist() == [1]
    assert filter_box(frame, polygon=gpd.GeoDataFrame(geometry=projected))["location_id"].tolist() == [1]


def test_bad_polygon_and_box_are_rejected():
    from shapely.geometry import Point

    frame = checkins([(0, 0, *JFK, 1)])
    with pytest.raises(ValueError, match="polygon"):
        filter_box(frame, polygon=Point(0, 0))
    with pytest.raises(ValueError, match="polygon"):
        filter_box(frame, polygon="Manhattan")
    with pytest.raises(ValueError, match="box"):
        filter_box(frame, box=(40.0, 41.0, -75.0, -73.0))


# --------------------------------------------------------------------------- parameters


@pytest.mark.parametrize("value", [0.0, -5.0, float("nan"), float("inf"), "500", True])
@pytest.mark.parametrize(
    "step, name",
    [
        (filter_speed, "max_speed_kmh"),
        (filter_stays, "stay_radius_m"),
        (filter_stays, "min_stay_minutes"),
        (clean, "max_speed_kmh"),
        (clean, "stay_radius_m"),
        (clean, "min_stay_minutes"),
    ],
)
def test_bad_thresholds_are_rejected_before_any_work(step, name, value):
    # the frame is not even a DataFrame: the threshold is checked first
    with pytest.raises(ValueError, match=name):
        step("not a frame", **{name: value})


def test_missing_columns_and_values_are_named():
    with pytest.raises(ValueError, match="location_id"):
        clean(pd.DataFrame({"user": [0], "time": [T0], "lat": [40.7], "lon": [-74.0]}))
    frame = checkins([(0, 0, *JFK, 1), (0, 5, float("nan"), -74.0, 2)])
    with pytest.raises(ValueError, match=r"\['lat'\] has 1 missing"):
        clean(frame)


# --------------------------------------------------------------------------- the report


def test_report_must_add_up():
    with pytest.raises(ValueError, match="does not add up"):
        CleaningReport(rows_in=10, steps=[("speed", "too fast", 3)], rows_out=6)
    report = CleaningReport(rows_in=10, steps=[("read", "bad", 1), ("speed", "too fast", 3)], rows_out=6)
    table = report.to_frame()
    assert table["rows_left"].tolist() == [10, 9, 6]
    assert json.loads(json.dumps(report.to_dict()))["rows_out"] == 6


def faulty_checkins():
    """One of each fault, in SNAP order (newest first per user)."""
    rows = [
        (5, 0, *TIMES_SQUARE, 1),
        (5, 60, *north_of(TIMES_SQUARE, 500), 2),
        (5, 60, *north_of(TIMES_SQUARE, 500), 2),  # exact duplicate
        (5, 62, 51.507, -0.128, 3),  # London two minutes later: speed
        (5, 70, *north_of(TIMES_SQUARE, 510), 2),  # 10 m, 10 minutes: stay
        (5, 200, *JFK, 4),
        (9, 0, 41.5, -73.9, 6),  # outside the box
        (9, 300, *TIMES_SQUARE, 7),
        (2, 0, 42.0, -73.0, 8),  # a user whose only check-in is outside
    ]
    return checkins(rows).iloc[::-1].reset_index(drop=True)


def test_clean_removes_one_of_each_fault_and_reports_it():
    clean_check_ins, report = clean(faulty_checkins())
    assert report.removed_by_step() == {"duplicates": 1, "speed": 1, "stays": 1, "box": 2}
    assert (report.rows_in, report.rows_out, report.users_in, report.users_out) == (9, 4, 3, 2)
    assert list(clean_check_ins.columns) == list(CLEAN_COLUMNS)
    assert clean_check_ins["user"].tolist() == [0, 0, 0, 1]
    assert clean_check_ins["snap_user"].tolist() == [5, 5, 5, 9]
    assert clean_check_ins["location_id"].tolist() == [1, 2, 4, 7]
    assert clean_check_ins.index.equals(pd.RangeIndex(4))
    assert clean_check_ins.attrs == {}
    labels = label_removals(faulty_checkins())
    assert sorted(labels["removed_by"]) == ["", "", "", "", "duplicate", "outside", "outside", "speed", "stay"]


def test_read_report_lines_open_the_report():
    from checkin_traj.data.snap import ReadReport

    raw = faulty_checkins()
    raw.attrs["read_report"] = ReadReport(
        path="x.txt", lines_total=12, rows_read=9, skipped={"blank line": 1, "bad latitude": 2}, examples=[]
    )
    _, report = clean(raw)
    assert report.steps[:2] == [("read", "blank line", 1), ("read", "bad latitude", 2)]
    assert (report.rows_in, report.rows_out) == (12, 4)
    _, changed = clean(raw.iloc[1:])  # the frame changed after reading: the read report no longer applies
    assert changed.rows_in == 8


def test_a_step_that_leaves_nothing_is_named():
    frame = checkins([(0, 0, *TIMES_SQUARE, 1)])
    far_away = BoundingBox(lat_min=0.0, lat_max=1.0, lon_min=0.0, lon_max=1.0)
    with pytest.raises(ValueError, match="box"):
        clean(frame, box=far_away)
    with pytest.raises(ValueError, match="empty"):
        clean(frame.iloc[:0])


def test_sensitivity_keeps_more_rows_for_looser_thresholds_and_matches_clean():
    raw = faulty_checkins()
    table = threshold_sensitivity(raw, max_speed_kmh=(1.0, 500.0, 1e6), min_stay_minutes=(5.0, 30.0))
    speed = table[table["parameter"] == "max_speed_kmh"]
    assert speed["rows_kept"].is_monotonic_increasing
    _, report = clean(raw)
    assert set(table.loc[table["baseline"], "rows_kept"]) == {report.rows_out}
    stays = table[table["parameter"] == "min_stay_minutes"].set_index("value")["rows_removed"]
    assert stays.to_dict() == {5.0: 0, 30.0: 1}


def test_synthetic_faults_are_removed_by_the_matching_step():
    from checkin_traj.data.synthetic import generate_checkins

    raw, faults = generate_checkins(n_users=200, seed=1, return_faults=True)
    labels = label_removals(raw)["removed_by"]
    faults = faults.reindex(labels.index)
    for fault, reason in (("duplicate", "duplicate"), ("teleport", "speed"), ("repeat", "stay")):
        assert (labels[faults == fault] == reason).mean() >= 0.95, fault
    assert (labels[faults == "outside"] != "").all()
    assert (labels[faults == ""] != "").mean() <= 0.02


# --------------------------------------------------------------------------- the real sample


@pytest.mark.sample
def test_real_nyc_sample_cleans_consistently(nyc_checkins_path):
    # Its speed is measured by benchmarks/bench_nyc.py, not asserted here.
    from checkin_traj.data.snap import read_checkins

    raw = read_checkins(nyc_checkins_path)
    clean_check_ins, report = clean(raw)
    assert report.rows_in == 138_957 and report.rows_out == len(clean_check_ins)
    assert 0.8 * report.rows_in < report.rows_out < report.rows_in
    assert NYC_BOX.contains(clean_check_ins["lat"], clean_check_ins["lon"]).all()
    assert clean_check_ins["user"].max() + 1 == report.users_out == clean_check_ins["snap_user"].nunique()


# --------------------------------------------------------------------------- issue 15: bad frames given to clean


def three_rows(**columns):
    frame = checkins([(0, 0, *TIMES_SQUARE, 1), (0, 60, *JFK, 2), (1, 0, *JFK, 3)])
    for name, values in columns.items():
        frame[name] = values
    return frame


@pytest.mark.parametrize("column", ["user", "location_id"])
@pytest.mark.parametrize(
    "values, problem",
    [
        ([0.0, np.nan, 1.0], "1 missing and 0 fractional"),
        ([0.0, 0.5, 1.0], "0 missing and 1 fractional"),
        (pd.array([0, None, 1], dtype="Int64"), "1 missing ids"),
    ],
)
def test_missing_and_fractional_ids_are_refused_naming_the_column(column, values, problem):
    with pytest.raises(ValueError, match=rf"check_ins\['{column}'\].*{problem}"):
        clean(three_rows(**{column: values}))


def test_ids_beyond_int64_are_refused_not_wrapped():
    # issue 15 probe: uint64 ids above 2**63 - 1 became negative SNAP ids without a word
    ids = np.array([0, 0, 2**63 + 5], dtype=np.uint64)
    with pytest.raises(ValueError, match=r"check_ins\['user'\] has 1 ids above 2\*\*63 - 1"):
        clean(three_rows(user=ids))
    kept, _ = clean(three_rows(user=np.array([0, 0, 2**62], dtype=np.uint64)))  # uint64 that fits is fine
    assert kept["snap_user"].tolist()[-1] == 2**62


@pytest.mark.parametrize("column", ["user", "location_id"])
@pytest.mark.parametrize("value", [np.iinfo(np.int64).min, -1])
def test_negative_ids_are_refused_as_the_reader_refuses_them(column, value):
    # issue 15 probe: a missing id already cast to int64 (its minimum, pandas' and pyarrow's
    # sentinel) or a -1 placeholder went through clean as a real user or venue; the reader
    # refuses negative ids, so clean refuses them too
    ids = three_rows()[column].to_numpy().copy()
    ids[1] = value
    with pytest.raises(ValueError, match=rf"check_ins\['{column}'\] has 1 negative ids \(first: {value} at index 1\)"):
        clean(three_rows(**{column: ids}))


@pytest.mark.parametrize("column", ["lat", "lon"])
@pytest.mark.parametrize("value, kind", [(np.inf, "1 infinite"), (-np.inf, "1 infinite"), (np.nan, "1 missing")])
@pytest.mark.parametrize("step", [clean, filter_stays, filter_speed, filter_box])
def test_non_finite_coordinates_are_refused_before_any_step(step, column, value, kind):
    # an infinite coordinate must never become the stay or speed anchor of the next check-in
    frame = three_rows()
    frame.loc[0, column] = value
    with pytest.raises(ValueError, match=rf"check_ins\['{column}'\] has {kind} values \(first: -?(inf|nan) at index 0\)"):
        step(frame)


def test_coordinates_given_as_text_are_refused_naming_the_column():
    with pytest.raises(ValueError, match=r"check_ins\['lat'\] must hold numbers"):
        clean(three_rows(lat=["40.7580", "40.6413", "40.6413"]))


def test_duplicated_columns_are_named_not_an_attribute_error():
    # issue 15 probe: a frame with two 'lat' columns crashed with "'DataFrame' object has no attribute 'dtype'"
    frame = three_rows()
    frame = pd.concat([frame, frame[["lat"]]], axis=1)
    with pytest.raises(ValueError, match=r"columns \['lat'\] more than once"):
        clean(frame)


def test_missing_times_are_refused():
    frame = three_rows()
    frame["time"] = frame["time"].astype(object)
    frame.loc[1, "time"] = pd.NaT
    frame["time"] = pd.to_datetime(frame["time"], utc=True)
    with pytest.raises(ValueError, match=r"check_ins\['time'\] has 1 missing values"):
        clean(frame)


def test_swapped_lat_lon_fall_outside_the_box_and_are_named():
    frame = three_rows()
    frame[["lat", "lon"]] = frame[["lon", "lat"]].to_numpy()  # -73.9 is a valid latitude: only the box sees it
    with pytest.raises(ValueError, match="the box step left no check-ins"):
        clean(frame)


@pytest.mark.parametrize(
    "edges",
    [
        dict(lat_min="40.5", lat_max=40.9, lon_min=-74.3, lon_max=-73.7),
        dict(lat_min=40.5, lat_max=40.9, lon_min=np.str_("-74.3"), lon_max=-73.7),
        dict(lat_min=40.5, lat_max=b"40.9", lon_min=-74.3, lon_max=-73.7),
    ],
)
def test_box_edges_given_as_text_are_refused_naming_the_edge(edges):
    name = next(key for key, value in edges.items() if not isinstance(value, float))
    with pytest.raises(ValueError, match=rf"BoundingBox\.{name} \(degrees\) must be a number, got"):
        clean(three_rows(), box=BoundingBox(**edges))


def test_box_given_as_a_tuple_is_refused_naming_the_parameter():
    with pytest.raises(ValueError, match="box must be a checkin_traj.geo.BoundingBox, got tuple"):
        clean(three_rows(), box=(40.5, 40.9, -74.3, -73.7))


def test_numpy_box_edges_are_accepted_as_numbers():
    box = BoundingBox(np.float64(40.5), np.float32(40.9), np.int64(-75), -73.5)
    assert (box.lat_min, box.lat_max, box.lon_min, box.lon_max) == (40.5, float(np.float32(40.9)), -75.0, -73.5)
    assert [type(edge) for edge in (box.lat_min, box.lat_max, box.lon_min, box.lon_max)] == [float] * 4  # numpy scalars converted


# --------------------------------------------------------------------------- issue 15: the report always adds up

random_rows = st.lists(
    st.tuples(
        st.integers(0, 3),  # user
        st.integers(0, 600),  # minutes after T0 (collisions make duplicates and zero time)
        st.sampled_from([TIMES_SQUARE, JFK, north_of(TIMES_SQUARE, 30), north_of(TIMES_SQUARE, 70), (41.5, -73.9)]),
        st.integers(0, 3),  # location id
    ),
    min_size=1,
    max_size=30,
)
optional = lambda low, high: st.one_of(st.none(), st.floats(low, high))  # noqa: E731


@settings(max_examples=120, deadline=None)
@given(
    rows=random_rows,
    max_speed_kmh=optional(1.0, 1e4),
    stay_radius_m=optional(1.0, 500.0),
    min_stay_minutes=optional(1.0, 600.0),
    skipped=st.dictionaries(st.sampled_from(["blank line", "bad latitude", "wrong column count"]), st.integers(1, 5)),
)
def test_rows_in_equals_rows_out_plus_every_removal(rows, max_speed_kmh, stay_radius_m, min_stay_minutes, skipped):
    from checkin_traj.data.snap import ReadReport

    raw = checkins([(user, minutes, *place, location) for user, minutes, place, location in rows])
    raw.attrs["read_report"] = ReadReport(
        path="x.txt", lines_total=len(raw) + sum(skipped.values()), rows_read=len(raw), skipped=dict(skipped)
    )
    thresholds = dict(max_speed_kmh=max_speed_kmh, stay_radius_m=stay_radius_m, min_stay_minutes=min_stay_minutes)
    labels = label_removals(raw, **thresholds)["removed_by"].value_counts().to_dict()
    try:
        kept, report = clean(raw, **thresholds)
    except ValueError as error:
        assert "left no check-ins" in str(error)
        assert labels.get("", 0) == 0  # it raised because nothing was kept, and only then
        return
    assert report.rows_in == len(raw) + sum(skipped.values())
    assert report.rows_out == len(kept) == labels.get("", 0)
    assert report.rows_in == report.rows_out + sum(removed for _, _, removed in report.steps)
    by_step = report.removed_by_step()
    assert by_step.get("read", 0) == sum(skipped.values())
    for step, label in (("duplicates", "duplicate"), ("speed", "speed"), ("stays", "stay"), ("box", "outside")):
        assert by_step.get(step, 0) == labels.get(label, 0), step
    table = report.to_frame()
    assert table["rows_left"].iloc[-1] == report.rows_out
    assert report.users_out == kept["snap_user"].nunique() <= report.users_in == raw["user"].nunique()


@pytest.mark.parametrize("column, value", [("lat", 91.0), ("lat", -90.5), ("lon", 181.0), ("lon", -180.01)])
def test_coordinates_out_of_range_after_reading_are_refused(column, value):
    # issue 15 probe: the reader refuses them; a frame edited after reading must not slip past clean
    frame = three_rows()
    frame.loc[2, column] = value
    with pytest.raises(ValueError, match=rf"check_ins\['{column}'\] has 1 beyond \+-(90|180) degrees values \(first: {value!r} at index 2\)"):
        clean(frame)
