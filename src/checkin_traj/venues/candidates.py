"""Candidate sets per window: the user's own venues, venues near the last check-in (a
haversine BallTree), transitions from the last venue and popular venues, merged in that
order without repeats and cut at ``size``. Fit on training rows only.
"""

from __future__ import annotations

import numpy as np
from sklearn.neighbors import BallTree

from ..checks import check_int
from .baselines import VenueBaselines, _fill

__all__ = ["CandidateGenerator", "recall"]


class CandidateGenerator:
    """``venue_lat``/``venue_lon`` give coordinates for every venue id (index = id)."""

    def __init__(self, baselines: VenueBaselines, venue_lat, venue_lon, *, n_near: int = 50):
        self.baselines = baselines
        self.n_near = check_int("n_near", n_near, minimum=0)
        coords = np.radians(np.column_stack([np.asarray(venue_lat, float), np.asarray(venue_lon, float)]))
        if not np.isfinite(coords).all():
            raise ValueError("venue coordinates must be finite")
        self.tree = BallTree(coords, metric="haversine")
        self.n_venues = len(coords)

    def near(self, lat, lon) -> np.ndarray:
        """Ids of the ``n_near`` venues nearest each point, nearest first (n, n_near)."""
        k = min(self.n_near, self.n_venues)
        points = np.radians(np.column_stack([np.asarray(lat, float), np.asarray(lon, float)]))
        _, idx = self.tree.query(points, k=k)
        return idx

    def generate(self, users, last_venues, last_lat, last_lon, *, size: int = 200, drop_own=None, drop_all=None, own=None) -> np.ndarray:
        """Candidate ids (n, size), -1 padded: own, near, transitions, popular.

        ``drop_own`` / ``drop_all`` (optional, (n,) venue ids, -1 for none) leave one venue
        per window out of the user's own venues / out of every source: the leave-one-out of
        a training window's own target (:mod:`checkin_traj.venues.features`). ``own``
        (optional, one list per window) replaces the user's own venues, most visited first.
        """
        size = check_int("size", size, minimum=1)
        n = len(users)
        near = self.near(last_lat, last_lon) if self.n_near else np.empty((n, 0), int)
        trans = self.baselines.rank("transition", users, last_venues)
        drop_own = np.full(n, -1) if drop_own is None else np.asarray(drop_own)
        drop_all = np.full(n, -1) if drop_all is None else np.asarray(drop_all)
        if drop_own.shape != (n,) or drop_all.shape != (n,):
            raise ValueError(f"drop_own and drop_all must hold one venue per window ({n}); found {drop_own.shape}, {drop_all.shape}")
        popular = self.baselines.popular
        own_lists = own
        if own_lists is not None and len(own_lists) != n:
            raise ValueError(f"own must hold one list of venues per window ({n}); found {len(own_lists)}")
        rows = []
        for i, u in enumerate(np.asarray(users).tolist()):
            own = self.baselines.user_frequent.get(u, []) if own_lists is None else own_lists[i]
            gone = {int(drop_own[i]), int(drop_all[i])} - {-1}
            if gone:
                own = [v for v in own if v not in gone]
            first = _fill(own, near[i].tolist(), size + 1)
            first = _fill([v for v in first if v >= 0], [v for v in trans[i].tolist() if v >= 0], size + 1)
            row = _fill([v for v in first if v >= 0], popular, size + 1)
            if drop_all[i] >= 0:
                row = [v for v in row if v != drop_all[i]]
            row = row[:size]
            rows.append(row + [-1] * (size - len(row)))
        return np.asarray(rows, dtype=np.int64).reshape(-1, size)

def recall(candidates, target) -> np.ndarray:
    """1.0 where the target is in the window's candidate set (the ceiling of any chooser)."""
    candidates = np.asarray(candidates)
    return ((candidates == np.asarray(target)[:, None]) & (candidates >= 0)).any(axis=1).astype(float)
