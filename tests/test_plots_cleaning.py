import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from checkin_traj.cleaning import label_removals  # noqa: E402
from checkin_traj.geo import NYC_BOX  # noqa: E402
from checkin_traj.plots.exploration import (  # noqa: E402
    activity_rhythm,
    checkins_per_user,
    inter_checkin_minutes,
    inter_checkin_times,
)
from checkin_traj.plots.maps import removed_checkins_map, scatter_checkins  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def checkins(times, users=None, lat=None, lon=None):
    count = len(times)
    return pd.DataFrame(
        {
            "user": np.zeros(count, dtype=np.int64) if users is None else np.asarray(users, dtype=np.int64),
            "time": pd.to_datetime(times, utc=True),
            "lat": np.full(count, 40.75) if lat is None else np.asarray(lat, dtype=float),
            "lon": np.full(count, -73.98) if lon is None else np.asarray(lon, dtype=float),
            "location_id": np.arange(count, dtype=np.int64),
        }
    )


def test_scatter_has_equal_distance_aspect_box_and_counts_points_outside_the_view():
    frame = checkins(["2010-01-01T00:00Z"] * 3, lat=[40.7, 40.8, 51.5], lon=[-74.0, -73.9, -0.1])
    fig = scatter_checkins(frame, title="before")
    ax = fig.axes[0]
    assert ax.get_aspect() == pytest.approx(1.0 / math.cos(math.radians(NYC_BOX.center[0])))
    assert "longitude" in ax.get_xlabel() and "degrees" in ax.get_xlabel()
    assert "latitude" in ax.get_ylabel() and "degrees" in ax.get_ylabel()
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert "1 outside this view" in labels and "city box" in labels
    assert ax.get_title() == "before"


def test_scatter_draws_at_most_max_points_and_uses_a_given_axes():
    frame = checkins(["2010-01-01T00:00Z"] * 50, lat=np.linspace(40.6, 40.8, 50))
    fig, ax = plt.subplots()
    assert scatter_checkins(frame, ax=ax, max_points=10) is fig
    assert len(ax.collections[0].get_offsets()) == 10
    with pytest.raises(ValueError, match="max_points"):
        scatter_checkins(frame, max_points=0)


def test_removed_map_colours_each_reason_and_needs_labels():
    frame = checkins(
        ["2010-01-01T10:00Z", "2010-01-01T10:01Z", "2010-01-01T14:00Z"],
        lat=[40.75, 51.5, 41.2],
        lon=[-73.98, -0.1, -73.98],
    )
    fig = removed_checkins_map(label_removals(frame))
    labels = [text.get_text() for text in fig.axes[0].get_legend().get_texts()]
    assert "kept" in labels
    assert "speed (1, 1 outside this view)" in labels  # London, a minute after Times Square
    assert any(label.startswith("outside (1") for label in labels)
    with pytest.raises(ValueError, match="removed_by"):
        removed_checkins_map(frame)


def test_checkins_per_user_counts_every_user_once():
    frame = checkins(["2010-01-01T00:00Z"] * 7, users=[0, 0, 0, 0, 1, 2, 2])
    ax = checkins_per_user(frame).axes[0]
    assert sum(patch.get_height() for patch in ax.patches) == 3
    assert ax.get_xscale() == "log" and "per user" in ax.get_xlabel()


def test_rhythm_is_in_new_york_local_time_with_daylight_saving():
    # 16:00 UTC is noon in July (EDT, UTC-4) and 11:00 in January (EST, UTC-5)
    frame = checkins(["2010-07-01T16:00Z", "2010-01-01T16:00Z"])  # a Thursday and a Friday
    hour_ax, day_ax = activity_rhythm(frame).axes
    hours = [patch.get_height() for patch in hour_ax.patches]
    assert hours[12] == pytest.approx(50.0) and hours[11] == pytest.approx(50.0)
    days = [patch.get_height() for patch in day_ax.patches]
    assert days[3] == pytest.approx(50.0) and days[4] == pytest.approx(50.0)
    assert "America/New_York" in hour_ax.get_xlabel() and "%" in hour_ax.get_ylabel()


def test_inter_checkin_minutes_are_per_user_in_time_order():
    frame = checkins(
        ["2010-01-01T12:30Z", "2010-01-01T12:00Z", "2010-01-01T12:00Z", "2010-01-01T13:00Z"],
        users=[0, 0, 1, 1],
    )
    np.testing.assert_allclose(np.sort(inter_checkin_minutes(frame)), [30.0, 60.0])


def test_inter_checkin_histogram_counts_zero_gaps_it_cannot_draw():
    frame = checkins(["2010-01-01T12:00Z", "2010-01-01T12:00Z", "2010-01-01T12:10Z"])
    ax = inter_checkin_times(frame, mark_minutes={"min stay": 30.0}).axes[0]
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert labels[0] == "1 gaps (1 of 0 min not shown)"
    assert "min stay (30 min)" in labels
    assert "minutes" in ax.get_xlabel() and ax.get_xscale() == "log"
