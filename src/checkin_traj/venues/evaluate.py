"""Public entry point: score the venue baselines on chapter 02's windows.

``baseline_table(data)`` takes a :class:`checkin_traj.sequences.WindowedData` (the same
clean data, split and test windows as chapter 02; nothing is re-split here) and returns a
table indexed by baseline name with ``acc@1``, ``acc@5``, ``acc@10``, ``mrr``, ``ndcg@10``,
``km_mean``, ``km_median`` and ``within_1km``. Venues are factorized from the training rows
only; a venue never seen in training gets id -1 and can never be hit (counted as a miss).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .baselines import VenueBaselines
from .metrics import summary, top_km_error

__all__ = ["venue_ids", "baseline_rankings", "baseline_table"]


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
