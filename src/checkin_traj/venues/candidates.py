"""Candidate sets per window: the user's own venues, venues near the last check-in (a
k-d tree of points on the unit sphere, whose straight-line distance orders venues as the
great-circle distance does), transitions from the last venue and popular venues, merged in
that order without repeats and cut at ``size``. Fit on training rows only.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from ..checks import check_int
from .baselines import VenueBaselines

__all__ = ["CandidateGenerator", "recall"]


class CandidateGenerator:
    """``venue_lat``/``venue_lon`` give coordinates for every venue id (index = id)."""

    def __init__(self, baselines: VenueBaselines, venue_lat, venue_lon, *, n_near: int = 50):
        self.baselines = baselines
        self.n_near = check_int("n_near", n_near, minimum=0)
        lat, lon = np.asarray(venue_lat, float), np.asarray(venue_lon, float)
        if not (np.isfinite(lat).all() and np.isfinite(lon).all()):
            raise ValueError("venue coordinates must be finite")
        self.tree = cKDTree(_on_sphere(lat, lon))
        self.n_venues = len(lat)

    def near(self, lat, lon) -> np.ndarray:
        """Ids of the ``n_near`` venues nearest each point, nearest first (n, n_near)."""
        k = min(self.n_near, self.n_venues)
        _, idx = self.tree.query(_on_sphere(np.asarray(lat, float), np.asarray(lon, float)), k=[*range(1, k + 1)])
        return np.asarray(idx, dtype=np.int64).reshape(len(np.atleast_1d(lat)), k)

    def generate(self, users, last_venues, last_lat, last_lon, *, size: int = 200, drop_own=None, drop_all=None, own=None) -> np.ndarray:
        """Candidate ids (n, size), -1 padded: own, near, transitions (the user's, then all
        users'), popular, in that order without repeats.

        ``drop_own`` / ``drop_all`` (optional, (n,) venue ids, -1 for none) leave one venue
        per window out of the user's own venues / out of every source. ``own`` (optional,
        one list per window) replaces the user's own venues, most visited first.
        """
        size = check_int("size", size, minimum=1)
        users = np.asarray(users, dtype=np.int64)
        last_venues = np.asarray(last_venues, dtype=np.int64)
        n = len(users)
        drop_own = np.full(n, -1) if drop_own is None else np.asarray(drop_own, dtype=np.int64)
        drop_all = np.full(n, -1) if drop_all is None else np.asarray(drop_all, dtype=np.int64)
        if drop_own.shape != (n,) or drop_all.shape != (n,):
            raise ValueError(f"drop_own and drop_all must hold one venue per window ({n}); found {drop_own.shape}, {drop_all.shape}")
        if own is not None and len(own) != n:
            raise ValueError(f"own must hold one list of venues per window ({n}); found {len(own)}")
        b = self.baselines
        own_rows = [b.user_frequent.get(u, []) for u in users.tolist()] if own is None else own
        user_trans = [b.user_trans.get((u, v), []) for u, v in zip(users.tolist(), last_venues.tolist())]
        all_trans = [b.global_trans.get(v, []) for v in last_venues.tolist()]
        near = self.near(last_lat, last_lon) if self.n_near and n else np.empty((n, 0), np.int64)
        popular = np.asarray(b.popular[:size], dtype=np.int64)
        out = np.full((n, size), -1, dtype=np.int64)
        chunk = 4096
        for start in range(0, n, chunk):
            stop = min(n, start + chunk)
            parts = [
                _padded(own_rows[start:stop], size),
                near[start:stop].astype(np.int64),
                _padded(user_trans[start:stop], size),
                _padded(all_trans[start:stop], size),
                np.broadcast_to(popular, (stop - start, len(popular))),
            ]
            merged = np.concatenate(parts, axis=1)
            width_own = parts[0].shape[1]
            gone_own = merged[:, :width_own] == drop_own[start:stop, None]
            merged[:, :width_own][gone_own] = -1
            merged[merged == drop_all[start:stop, None]] = -1
            out[start:stop] = _first_unique(merged, size)
        return out


def _on_sphere(lat, lon) -> np.ndarray:
    """Points (degrees) on the unit sphere, (n, 3): their chord distance grows with the great-circle distance."""
    lat, lon = np.radians(lat), np.radians(lon)
    return np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])


def _padded(lists, size) -> np.ndarray:
    """Lists of venue ids as an (n, size) array, -1 padded, each cut at ``size``."""
    width = min(size, max((len(row) for row in lists), default=0))
    out = np.full((len(lists), width), -1, dtype=np.int64)
    for i, row in enumerate(lists):
        if row:
            row = row[:width]
            out[i, : len(row)] = row
    return out


def _first_unique(merged, size) -> np.ndarray:
    """Per row, the first ``size`` distinct ids >= 0 in order of position, -1 padded."""
    order = np.argsort(merged, axis=1, kind="stable")
    ranked = np.take_along_axis(merged, order, axis=1)
    repeat = np.zeros(merged.shape, dtype=bool)
    repeat[:, 1:] = ranked[:, 1:] == ranked[:, :-1]  # a later position of the same id (stable sort)
    keep = np.empty(merged.shape, dtype=bool)
    np.put_along_axis(keep, order, ~repeat, axis=1)
    keep &= merged >= 0
    pick = np.argsort(~keep, axis=1, kind="stable")[:, :size]
    values = np.where(np.take_along_axis(keep, pick, axis=1), np.take_along_axis(merged, pick, axis=1), -1)
    if values.shape[1] < size:
        values = np.pad(values, ((0, 0), (0, size - values.shape[1])), constant_values=-1)
    return values

def recall(candidates, target) -> np.ndarray:
    """1.0 where the target is in the window's candidate set (the ceiling of any chooser)."""
    candidates = np.asarray(candidates)
    return ((candidates == np.asarray(target)[:, None]) & (candidates >= 0)).any(axis=1).astype(float)
