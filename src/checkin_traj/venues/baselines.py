"""Venue baselines fit on training rows only: popular, user's most frequent (popular fill),
first-order transitions from the last venue (user's own, then all users', then popular)
and the last venue itself. Each returns a ranking (n, k) of venue ids, -1 padded.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np

from ..checks import check_int

__all__ = ["VenueBaselines"]


def _fill(first, fallback, k):
    row, seen = [], set()
    for source in (first, fallback):
        for v in source:
            if v not in seen:
                seen.add(v)
                row.append(v)
                if len(row) == k:
                    return row
    return row + [-1] * (k - len(row))


def _ranked(counter: Counter) -> list:
    # most frequent first; ties broken by the smaller venue id (deterministic)
    return [v for v, _ in sorted(counter.items(), key=lambda item: (-item[1], item[0]))]


class VenueBaselines:
    """Fit on training check-ins given per user in chronological order.

    ``users`` and ``venues`` are equal-length int arrays of training rows, sorted by user
    then time; transitions count consecutive rows of the same user only.
    """

    NAMES = ("popular", "user_frequent", "transition", "last_venue")

    def __init__(self, users, venues, *, k: int = 10):
        users = np.asarray(users)
        venues = np.asarray(venues)
        if users.shape != venues.shape or users.ndim != 1:
            raise ValueError(f"users and venues must be equal-length 1-d arrays; found {users.shape}, {venues.shape}")
        self.k = check_int("k", k, minimum=1)
        self.popular = _ranked(Counter(venues.tolist()))[: self.k]
        by_user = defaultdict(Counter)
        user_trans = defaultdict(Counter)
        global_trans = defaultdict(Counter)
        for i, (u, v) in enumerate(zip(users.tolist(), venues.tolist())):
            by_user[u][v] += 1
            if i and users[i - 1] == u:
                prev = int(venues[i - 1])
                user_trans[(u, prev)][v] += 1
                global_trans[prev][v] += 1
        self.user_frequent = {u: _ranked(c)[: self.k] for u, c in by_user.items()}
        self.user_trans = {key: _ranked(c)[: self.k] for key, c in user_trans.items()}
        self.global_trans = {key: _ranked(c)[: self.k] for key, c in global_trans.items()}

    def rank(self, name: str, users, last_venues) -> np.ndarray:
        """Ranking (n, k) for query windows given each window's user and last venue."""
        if name not in self.NAMES:
            raise ValueError(f"unknown baseline {name!r}; choose one of {self.NAMES}")
        rows = []
        for u, last in zip(np.asarray(users).tolist(), np.asarray(last_venues).tolist()):
            if name == "popular":
                first = []
            elif name == "user_frequent":
                first = self.user_frequent.get(u, [])
            elif name == "transition":
                first = _fill(self.user_trans.get((u, last), []), self.global_trans.get(last, []), self.k)
                first = [v for v in first if v >= 0]
            else:  # a last venue absent from training cannot be ranked: popular venues only
                first = [last] if last >= 0 else []
            rows.append(_fill(first, self.popular, self.k))
        return np.asarray(rows, dtype=np.int64).reshape(-1, self.k)
