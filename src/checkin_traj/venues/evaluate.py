"""The venue baselines scored on chapter 02's windows (``baseline_table(data)``: one row per
baseline; venues numbered on the training rows, -1 for a venue never seen there, always a
miss), and the windows the field's common protocol would score (``field_windows(data)``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..checks import check_int, check_positive
from .baselines import VenueBaselines
from .metrics import summary, top_km_error

__all__ = ["venue_ids", "baseline_rankings", "baseline_table", "FIELD_PROTOCOL", "trajectory_ids", "field_windows"]

#: The preprocessing shared by most next-POI papers on Foursquare NYC/Tokyo and Gowalla
#: (GETNext, STHGCN and the models they compare): users and venues with fewer than
#: ``min_checkins`` check-ins are left out, each user's check-ins are cut into trajectories
#: of ``trajectory_hours``, and the last check-in of each trajectory is the one scored.
FIELD_PROTOCOL = {"min_checkins": 10, "trajectory_hours": 24.0}


def venue_ids(check_ins: pd.DataFrame):
    """Dense venue ids fit on training rows; returns (ids per row, venue lat, venue lon)."""
    train = check_ins[check_ins["split"] == "train"]
    coords = train.groupby("location_id")[["lat", "lon"]].median()
    lookup = pd.Series(np.arange(len(coords)), index=coords.index)
    ids = check_ins["location_id"].map(lookup).fillna(-1).to_numpy(np.int64)
    return ids, coords["lat"].to_numpy(), coords["lon"].to_numpy()


def baseline_rankings(data, split: str = "test", *, k: int = 10) -> dict:
    """Baseline name -> ranking (n, k) of the windows of ``split`` (fit on training rows)."""
    check_ins = data.check_ins
    ids, _, _ = venue_ids(check_ins)
    train_rows = np.flatnonzero((check_ins["split"] == "train").to_numpy())
    order = np.lexsort((check_ins["time"].to_numpy()[train_rows], check_ins["user"].to_numpy()[train_rows]))
    rows = train_rows[order]
    users = pd.factorize(check_ins["user"])[0]
    fitted = VenueBaselines(users[rows], ids[rows], k=k)
    part = data.split(split)
    last = ids[part.target_row - 1]  # the last input check-in is the row before the target
    win_users = users[part.target_row]
    return {name: fitted.rank(name, win_users, last) for name in VenueBaselines.NAMES}


def baseline_table(data, split: str = "test", *, k: int = 10) -> pd.DataFrame:
    """Every venue baseline's metrics on ``split``: one row per baseline (:data:`VenueBaselines.NAMES`)."""
    ids, lat, lon = venue_ids(data.check_ins)
    part = data.split(split)
    target = ids[part.target_row]
    table = {}
    for name, ranked in baseline_rankings(data, split, k=k).items():
        km = top_km_error(ranked, part.y_raw[:, 2], part.y_raw[:, 1], lat, lon)
        table[name] = summary(ranked, target, km)
    return pd.DataFrame(table).T


def trajectory_ids(users, times, *, trajectory_hours=FIELD_PROTOCOL["trajectory_hours"]) -> np.ndarray:
    """A trajectory number per check-in: a user's trajectory holds the check-ins within
    ``trajectory_hours`` of its first one, and the next check-in after that starts a new one.
    ``users`` and ``times`` (datetime64) are those of each check-in, sorted by user, then time (as the clean check-ins
    are).
    """
    check_positive("trajectory_hours", trajectory_hours)
    users = np.asarray(users)
    minutes = np.asarray(times).astype("datetime64[s]").astype(np.int64) / 60.0
    if len(users) > 1 and ((np.diff(users) < 0).any() or ((np.diff(users) == 0) & (np.diff(minutes) < 0)).any()):
        raise ValueError("trajectory_ids needs the check-ins sorted by user, then time")
    span = trajectory_hours * 60.0
    ids = np.empty(len(users), dtype=np.int64)
    current, start = -1, 0.0
    for row in range(len(users)):
        if row == 0 or users[row] != users[row - 1] or minutes[row] - start > span:
            current += 1
            start = minutes[row]
        ids[row] = current
    return ids


def field_windows(
    data,
    split: str = "test",
    *,
    min_checkins: int = FIELD_PROTOCOL["min_checkins"],
    trajectory_hours: float = FIELD_PROTOCOL["trajectory_hours"],
) -> np.ndarray:
    """Which windows of ``split`` the field's common protocol (:data:`FIELD_PROTOCOL`) would score.

    A window is kept when its target check-in is the last of its trajectory
    (:func:`trajectory_ids`) and not its first (a trajectory of one check-in has no input),
    and its user and its venue each have at least ``min_checkins`` check-ins in the clean
    data. The windows, the models and their training are the book's own; only the windows
    scored change.

    Returns numpy.ndarray of bool: one value per window of ``split``.
    """
    check_int("min_checkins", min_checkins, minimum=1)
    check_ins = data.check_ins
    users = check_ins["user"].to_numpy()
    trajectory = trajectory_ids(users, check_ins["time"].to_numpy(), trajectory_hours=trajectory_hours)
    last = np.ones(len(trajectory), dtype=bool)
    last[:-1] = trajectory[1:] != trajectory[:-1]
    first = np.ones(len(trajectory), dtype=bool)
    first[1:] = trajectory[1:] != trajectory[:-1]
    venue_counts = check_ins["location_id"].map(check_ins["location_id"].value_counts()).to_numpy()
    user_counts = check_ins["user"].map(check_ins["user"].value_counts()).to_numpy()
    rows = data.split(split).target_row
    return last[rows] & ~first[rows] & (venue_counts[rows] >= min_checkins) & (user_counts[rows] >= min_checkins)
