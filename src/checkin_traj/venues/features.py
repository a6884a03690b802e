"""Candidate sets and cheap candidate features of windows, counted on the training rows.

:class:`VenueContext` counts the training check-ins once (venue ids, baselines, candidate
generator, visits, popularity, transitions, the user's spatial pattern and moves);
:meth:`VenueContext.windows` gives a split's candidates (n, size), features (n, size, F) and
targets, through :meth:`VenueContext.features`, which also serves new histories
(:mod:`checkin_traj.venues.predictor`).

What a training window may count: the training rows hold its own target and later
check-ins; counting them would leak the answer (a venue visited once "by this user" would
always be the target) and give it richer candidates than a test window's. So its user
counts (visits, transitions, check-ins, own venues) are made on the user's rows before the
target, the counts over all users on check-ins earlier in time, only venues visited before
it are candidates, and the hour-slot shares leave its own row out. Validation and test
windows (and new histories) see the full training counts: they come after every training row.
The same rule holds for the stay-or-move gate's inputs (:meth:`VenueContext.stay_inputs`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ..checks import check_choice, check_int
from ..geo import haversine_km
from ..metrics import errors_km
from .baselines import VenueBaselines
from .candidates import CandidateGenerator

__all__ = ["FEATURE_NAMES", "TOLD_TIME_FEATURE", "STAY_FEATURE_NAMES", "VenueContext", "VenueWindows"]

#: The features of a (window, candidate) pair, in the order of the last axis.
FEATURE_NAMES = (
    "log_km_from_last",  # log1p of the km from the last check-in to the candidate
    "log_user_visits",  # log1p of the user's training visits of the candidate
    "user_visit_share",  # the user's visits of the candidate / the user's training check-ins
    "log_popularity",  # log1p of the candidate's training check-ins (all users)
    "log_user_transitions",  # log1p of the user's training moves last venue -> candidate
    "log_transitions",  # log1p of all users' training moves last venue -> candidate
    "transition_share",  # all users' moves last -> candidate / all moves out of the last venue
    "is_last_venue",  # 1 where the candidate is the last check-in's venue
    "window_share",  # share of the window's check-ins at the candidate
    "window_recency",  # 1 / (1 + check-ins since the candidate's last visit in the window), 0 if absent
    "log_km_from_home",  # log1p of the km from the user's median training position
    "hour_share",  # share of the candidate's training check-ins in the last check-in's 3-hour slot
    "source_rank",  # position in the candidate list (own, near, transitions, popular) / size
    "user_area_share",  # share of the user's training check-ins within about 1 km of the candidate (its cell and the 8 around)
    "log_km_over_user_step",  # log1p(km from the last check-in) minus the user's mean log1p(km) per training move
)

#: The one feature more of a window when the ranker is told the time of the next check-in (:meth:`VenueContext.tell_time`).
TOLD_TIME_FEATURE = "log_hours_to_next"  # log1p of the hours from the last check-in to the next one

#: The window-level inputs of the stay-or-move gate (:meth:`VenueContext.stay_inputs`).
STAY_FEATURE_NAMES = (
    "user_near_share",  # share of the user's training moves that ended within 1 km (add-half smoothed)
    "log_user_moves",  # log1p of the user's training moves
    "venue_near_share",  # share of all users' training moves out of the last venue that ended within 1 km (smoothed)
    "log_venue_moves",  # log1p of all users' training moves out of the last venue
    "window_near_share",  # share of the window's steps within 1 km
    "log_last_step",  # log1p of the km of the window's last step
    "log_last_gap",  # log1p of the hours of the window's last step
    "hour_sin", "hour_cos",  # the last check-in's local hour of the day, on a circle
    "weekend",  # 1 on Saturday and Sunday (the last check-in's local day)
)

#: Side of the grid cells of the user's spatial pattern, in degrees of latitude (about 1 km).
CELL_DEGREES = 0.009

_SPLITS = ("train", "val", "test")


def _count_table(keys):
    keys, counts = np.unique(np.asarray(keys, dtype=np.int64), return_counts=True)
    return keys, counts.astype(np.float64)


def _before_table(keys, rows):
    """(key, row) pairs as one sorted composite, to count a key's rows before a given row."""
    keys = np.asarray(keys, dtype=np.int64)
    rows = np.asarray(rows, dtype=np.int64)
    stride = np.int64(rows.max() + 2) if len(rows) else np.int64(1)
    return np.sort(keys * stride + rows), stride


def _count_before(table, keys, rows):
    """How many (key, row) pairs of ``table`` have this key and a row below ``rows``."""
    composite, stride = table
    keys = np.asarray(keys, dtype=np.int64)
    rows = np.minimum(np.asarray(rows, dtype=np.int64), stride - 1)
    return (np.searchsorted(composite, keys * stride + rows) - np.searchsorted(composite, keys * stride)).astype(np.float64)


def local_time(times, timezone):
    """Local hour (0-23) and weekday (0 = Monday) of UTC ``times`` in ``timezone`` (None: UTC)."""
    local = pd.DatetimeIndex(times)
    local = local.tz_convert(timezone) if timezone else local
    return local.hour.to_numpy().astype(np.int64), local.day_of_week.to_numpy().astype(np.int64)


def _lookup(table, query):
    keys, counts = table
    query = np.asarray(query, dtype=np.int64)
    if len(keys) == 0:
        return np.zeros(query.shape)
    pos = np.clip(np.searchsorted(keys, query), 0, len(keys) - 1)
    return np.where(keys[pos] == query, counts[pos], 0.0)


@dataclass
class VenueWindows:
    """Candidates and features of windows: ``candidates`` (n, size) venue ids, -1 padded;
    ``features`` (n, size, len(FEATURE_NAMES)) float32, raw, 0 on padding; ``label``: the
    target's position among the candidates (-1: not one); ``target``, ``user``,
    ``last_venue`` (n,); ``window_venues`` (n, window), oldest first; ``hour`` (0-23) and
    ``weekday`` (0 = Monday) of the last check-in, local. Venue -1: absent from training."""

    candidates: np.ndarray
    features: np.ndarray
    label: np.ndarray
    target: np.ndarray
    user: np.ndarray
    last_venue: np.ndarray
    window_venues: np.ndarray
    hour: np.ndarray
    weekday: np.ndarray

    def __len__(self):
        return len(self.target)

    @property
    def recall(self) -> float:
        """Share of windows whose target is a candidate (the ceiling of any scorer)."""
        return float(np.mean(self.label >= 0)) if len(self) else float("nan")


class VenueContext:
    """Everything counted on the training check-ins of ``data`` (a ``WindowedData``).

    ``data``: chapter 02's windows (:func:`checkin_traj.sequences.build_windows`); ``size``: candidates per window;
    ``n_near``: venues nearest the last check-in put in each candidate set.
    """

    def __init__(self, data, *, size=200, n_near=50):
        from .evaluate import venue_ids

        self.data = data
        check_ins = data.check_ins
        self.ids, venue_lat, venue_lon = venue_ids(check_ins)
        if len(venue_lat) == 0:
            raise ValueError("the training check-ins hold no venue: there is nothing to rank")
        self.users = pd.factorize(check_ins["user"])[0].astype(np.int64)
        train_rows = np.flatnonzero((check_ins["split"] == "train").to_numpy())
        times = check_ins["time"].to_numpy()
        rows = train_rows[np.lexsort((times[train_rows], self.users[train_rows]))]
        self.train_rows = rows
        timezone = data.parameters.get("timezone", "America/New_York")
        self.hour, self.weekday = local_time(check_ins["time"], timezone)
        self.hours = pd.DatetimeIndex(check_ins["time"]).asi8 / 3.6e12  # every check-in's time, hours since 1970
        location = np.zeros(len(venue_lat), dtype=np.int64)
        location[self.ids[rows]] = check_ins["location_id"].to_numpy()[rows]
        snap = check_ins["snap_user" if "snap_user" in check_ins else "user"].to_numpy()
        self.state = {
            "user": self.users[rows], "venue": self.ids[rows], "lat": check_ins["lat"].to_numpy()[rows],
            "lon": check_ins["lon"].to_numpy()[rows], "hour": self.hour[rows], "venue_lat": venue_lat,
            "venue_lon": venue_lon, "location_id": location, "snap_user": snap[np.unique(self.users, return_index=True)[1]],
        }
        self.settings = {"size": size, "n_near": n_near, "window": data.window,
                         "timezone": timezone}
        self._count()
        # the user counts, each row kept with its position: "rows before the target"
        u, v, nv = self.state["user"], self.state["venue"], np.int64(self.n_venues)
        same, prev, nxt, who = self._moves
        self.user_visits_before = _before_table(u * nv + v, rows)
        self.user_rows_before = _before_table(u, rows)
        trans_rows = rows[1:][same[1:]]
        self.user_transitions_before = _before_table((who * nv + prev) * nv + nxt, trans_rows)
        # the counts over all users, each row kept with its rank in time: "rows before the target's time"
        rank = np.empty(len(check_ins), dtype=np.int64)
        rank[np.argsort(times, kind="stable")] = np.arange(len(check_ins))
        self.time_rank = rank
        self.popularity_before = _before_table(v, rank[rows])
        self.transitions_before = _before_table(prev * nv + nxt, rank[trans_rows])
        self.out_degree_before = _before_table(prev, rank[trans_rows])
        self.user_area_before = _before_table(self._area_keys, np.repeat(rows, 9))
        self.user_moves_before = _before_table(who, trans_rows)
        self.venue_near_before = _before_table(prev[self._move_near], rank[trans_rows][self._move_near])
        starts = np.flatnonzero(np.r_[True, u[1:] != u[:-1]])  # rows are sorted by user
        self.user_rows = dict(zip(u[starts].tolist(), np.split(rows, starts[1:])))

    @classmethod
    def from_state(cls, state, settings):
        """A context for new windows from a saved ``state`` and ``settings`` (:attr:`state`, :attr:`settings`):
        the full training counts, as the validation and test windows see them; no training windows."""
        context = cls.__new__(cls)
        context.data, context.state, context.settings = None, state, settings
        context._count()
        return context

    def _count(self):
        """Everything the windows read, counted on the training rows of :attr:`state` (sorted by user, then time)."""
        state, (u, v) = self.state, (self.state["user"], self.state["venue"])
        self.size = check_int("size", self.settings["size"], minimum=1)
        self.venue_lat, self.venue_lon = state["venue_lat"], state["venue_lon"]
        self.n_venues, self.n_users = len(self.venue_lat), len(state["snap_user"])
        self.baselines = VenueBaselines(u, v, k=self.size)
        self.generator = CandidateGenerator(self.baselines, self.venue_lat, self.venue_lon, n_near=self.settings["n_near"])
        nv = np.int64(self.n_venues)
        self.popularity = np.bincount(v, minlength=self.n_venues).astype(np.float64)
        # one slot more per user: index -1 is a user absent from training (no check-ins, no home)
        self.user_total = np.bincount(u, minlength=self.n_users + 1).astype(np.float64)
        self.user_visits = _count_table(u * nv + v)
        same = np.r_[False, u[1:] == u[:-1]]
        prev, nxt, who = v[:-1][same[1:]], v[1:][same[1:]], u[1:][same[1:]]
        self._moves = same, prev, nxt, who  # the moves between a user's consecutive training rows
        self.transitions = _count_table(prev * nv + nxt)
        self.user_transitions = _count_table((who * nv + prev) * nv + nxt)
        self.out_degree = np.bincount(prev, minlength=self.n_venues).astype(np.float64)
        home = pd.DataFrame({"u": u, "lat": state["lat"], "lon": state["lon"]}).groupby("u")[["lat", "lon"]].median()
        self.home_lat, self.home_lon = np.full(self.n_users + 1, np.nan), np.full(self.n_users + 1, np.nan)
        self.home_lat[home.index.to_numpy()] = home["lat"].to_numpy()  # the user's median training position
        self.home_lon[home.index.to_numpy()] = home["lon"].to_numpy()
        self.slot_counts = np.zeros((self.n_venues, 8))  # each venue's check-ins per 3-hour slot of the day
        np.add.at(self.slot_counts, (v, state["hour"] // 3), 1.0)
        # the user's spatial pattern: check-ins per user and grid cell, each counted in its cell and the 8 around
        lat, lon = state["lat"], state["lon"]
        self._grid = (lat.min() - 2 * CELL_DEGREES, lon.min() - 2 * CELL_DEGREES,
                      CELL_DEGREES / max(np.cos(np.radians(np.median(lat))), 0.1))
        self._grid_width = int((lon.max() - self._grid[1]) / self._grid[2]) + 4
        self._n_cells = np.int64(self._grid_width * (int((lat.max() - self._grid[0]) / CELL_DEGREES) + 4))
        around = np.array([dy * self._grid_width + dx for dy in (-1, 0, 1) for dx in (-1, 0, 1)], dtype=np.int64)
        self._area_keys = ((u * self._n_cells + self._cell(lat, lon))[:, None] + around).ravel()
        self.venue_cell = self._cell(self.venue_lat, self.venue_lon)
        self.user_area = _count_table(self._area_keys)
        # the length of each training move (log1p km), summed along the moves (sorted by user, then time)
        km = haversine_km(lat[:-1], lon[:-1], lat[1:], lon[1:])[same[1:]]
        step, self._move_near = np.log1p(km), km <= 1.0
        self._step_sums, self._mean_step = np.r_[0.0, np.cumsum(step)], float(step.mean()) if len(step) else 0.0
        self._near_sums = np.r_[0, np.cumsum(self._move_near)]
        self.venue_near_moves = np.bincount(prev[self._move_near], minlength=self.n_venues).astype(np.float64)

    def _cell(self, lat, lon):
        """The grid cell of each point (rows of ``_grid_width`` cells; outside the training area: the border)."""
        lat0, lon0, lon_step = self._grid
        height = self._n_cells // self._grid_width
        row = np.clip(((np.asarray(lat, float) - lat0) / CELL_DEGREES).astype(np.int64), 1, height - 2)
        column = np.clip(((np.asarray(lon, float) - lon0) / lon_step).astype(np.int64), 1, self._grid_width - 2)
        return row * self._grid_width + column

    def _user_step(self, user, moves):
        """The mean log1p(km) of ``moves`` training moves of each user from their first (all users' mean when none)."""
        start = np.searchsorted(self._moves[3], user)
        total = self._step_sums[start + moves.astype(np.int64)] - self._step_sums[start]
        return np.where(moves > 0, total / np.maximum(moves, 1.0), self._mean_step)

    # ------------------------------------------------------------------ one split

    def _own_before(self, user, row):
        """The user's venues among their training rows before ``row``, most visited first."""
        rows = self.user_rows.get(user)
        if rows is None:
            return []
        venues = self.ids[rows[rows < row]]
        if len(venues) == 0:
            return []
        values, counts = np.unique(venues, return_counts=True)
        order = np.lexsort((values, -counts))
        return values[order][: self.size].tolist()

    def windows(self, split) -> VenueWindows:
        """Candidates, features and labels of the windows of ``split``."""
        check_choice("split", split, _SPLITS)
        part = self.data.split(split)
        rows = np.asarray(part.target_row, dtype=np.int64)
        window_rows = rows[:, None] - np.arange(self.data.window, 0, -1)[None, :]
        return self.features(
            self.users[rows], self.ids[window_rows], part.last_raw[:, 2], part.last_raw[:, 1], self.hour[rows - 1],
            self.weekday[rows - 1], target=self.ids[rows], before=rows if split == "train" else None,
        )

    def features(self, user, window_venues, last_lat, last_lon, hour, weekday, *, target=None, before=None) -> VenueWindows:
        """Candidates and features of any windows: one rule for a split's windows and for new histories.

        ``user``: dense id, -1 for a user absent from training (user counts 0); ``window_venues``
        (n, width): venue ids, oldest first, -1 for a venue absent from training; ``last_lat``,
        ``last_lon``, ``hour``, ``weekday``: the last check-in's position and local time;
        ``target``: the next venue where known; ``before``: the training windows' target rows,
        whose counts are made on what came before them (the module's docstring).
        """
        user, window_venues = np.asarray(user, dtype=np.int64), np.asarray(window_venues, dtype=np.int64)
        hour, weekday = np.asarray(hour, dtype=np.int64), np.asarray(weekday, dtype=np.int64)
        last_lat, last_lon = np.asarray(last_lat, dtype=np.float64), np.asarray(last_lon, dtype=np.float64)
        n, width = window_venues.shape
        target = np.full(n, -1, dtype=np.int64) if target is None else np.asarray(target, dtype=np.int64)
        last = window_venues[:, -1]
        nv = np.int64(self.n_venues)
        loo = before is not None
        if loo:  # only what was counted before the target: the user's earlier rows, everyone's earlier check-ins
            target_rows = np.asarray(before, dtype=np.int64)
            own = [self._own_before(u, t) for u, t in zip(user.tolist(), target_rows.tolist())]
            now = self.time_rank[target_rows]
            wide = self.generator.generate(user, last, last_lat, last_lon, size=self.size + self.size // 2, own=own)
            existed = (wide >= 0) & (_count_before(self.popularity_before, np.maximum(wide, 0), now[:, None]) > 0)
            order = np.argsort(~existed, axis=1, kind="stable")[:, : self.size]
            candidates = np.where(np.take_along_axis(existed, order, axis=1), np.take_along_axis(wide, order, axis=1), -1)
        else:
            candidates = self.generator.generate(user, last, last_lat, last_lon, size=self.size)
        valid = candidates >= 0
        cand = np.where(valid, candidates, 0)
        is_target = valid & (candidates == target[:, None]) & (target[:, None] >= 0)

        km_last = haversine_km(last_lat[:, None], last_lon[:, None], self.venue_lat[cand], self.venue_lon[cand])
        km_home = haversine_km(
            self.home_lat[user][:, None], self.home_lon[user][:, None], self.venue_lat[cand], self.venue_lon[cand]
        )
        km_home = np.where(np.isfinite(km_home), km_home, km_last)
        visits = _lookup(self.user_visits, user[:, None] * nv + cand)
        pop = self.popularity[cand].copy()
        last_ok = (last >= 0)[:, None]
        last_id = np.maximum(last, 0)[:, None]
        user_trans = np.where(last_ok, _lookup(self.user_transitions, (user[:, None] * nv + last_id) * nv + cand), 0.0)
        trans = np.where(last_ok, _lookup(self.transitions, last_id * nv + cand), 0.0)
        out_degree = np.where(last >= 0, self.out_degree[np.maximum(last, 0)], 0.0)
        area_keys = np.where(user[:, None] >= 0, user[:, None] * self._n_cells + self.venue_cell[cand], -1)
        if loo:
            keys = user[:, None] * nv + cand
            visits = _count_before(self.user_visits_before, keys, target_rows[:, None])
            user_trans = np.where(
                last_ok,
                _count_before(self.user_transitions_before, (user[:, None] * nv + last_id) * nv + cand, target_rows[:, None]),
                0.0,
            )
            pop = _count_before(self.popularity_before, cand, now[:, None])
            trans = np.where(last_ok, _count_before(self.transitions_before, last_id * nv + cand, now[:, None]), 0.0)
            out_degree = np.where(last >= 0, _count_before(self.out_degree_before, np.maximum(last, 0), now), 0.0)
            total = np.maximum(_count_before(self.user_rows_before, user, target_rows), 1.0)
            area = _count_before(self.user_area_before, area_keys, target_rows[:, None])
            moves = _count_before(self.user_moves_before, user, target_rows)
        else:
            total = np.maximum(self.user_total[user], 1.0)
            area = _lookup(self.user_area, area_keys)
            moves = np.searchsorted(self._moves[3], user, side="right") - np.searchsorted(self._moves[3], user)
        slot_share = self._slot_share(candidates, hour // 3, target, before)

        in_window = (window_venues[:, None, :] == candidates[:, :, None]) & valid[:, :, None]
        since = np.where(in_window, np.arange(width - 1, -1, -1)[None, None, :], width + 1).min(axis=2)
        columns = [
            np.log1p(km_last),
            np.log1p(np.maximum(visits, 0)),
            np.maximum(visits, 0) / total[:, None],
            np.log1p(np.maximum(pop, 0)),
            np.log1p(np.maximum(user_trans, 0)),
            np.log1p(np.maximum(trans, 0)),
            np.maximum(trans, 0) / np.maximum(out_degree, 1.0)[:, None],
            (candidates == last[:, None]) & (last[:, None] >= 0),
            in_window.mean(axis=2),
            np.where(since <= width, 1.0 / (1.0 + since), 0.0),
            np.log1p(km_home),
            slot_share,
            np.broadcast_to(np.arange(candidates.shape[1]) / candidates.shape[1], candidates.shape),
            area / total[:, None],
            np.log1p(km_last) - self._user_step(user, np.asarray(moves, dtype=np.float64))[:, None],
        ]
        features = np.stack([np.asarray(column, dtype=np.float32) for column in columns], axis=-1)
        features[~valid] = 0.0
        label = np.where(is_target.any(axis=1), is_target.argmax(axis=1), -1)
        return VenueWindows(candidates=candidates, features=features, label=label.astype(np.int64), target=target,
                            user=user, last_venue=last, window_venues=window_venues, hour=hour, weekday=weekday)

    def _slot_share(self, candidates, slot, target, before):
        """Each candidate's share of training check-ins in the 3-hour ``slot`` of its window (0 on padding;
        a training window, ``before`` its target rows, leaves its target's own row out)."""
        valid = candidates >= 0
        cand = np.where(valid, candidates, 0)
        in_slot, total = self.slot_counts[cand, slot[:, None]], self.slot_counts.sum(axis=1)[cand]
        if before is not None:
            is_target = valid & (candidates == target[:, None]) & (target[:, None] >= 0)
            total = total - is_target
            in_slot = in_slot - is_target * (self.hour[before] // 3 == slot)[:, None]
        return np.where(valid, np.maximum(in_slot, 0) / np.maximum(total, 1.0), 0.0)

    def tell_time(self, split, windows) -> VenueWindows:
        """The ``windows`` of ``split`` as they read when the ranker is told when the next check-in happens
        (as ROTAN and the LLM4POI family are): ``hour_share`` in the next check-in's 3-hour slot, the
        hours to it as one more feature (:data:`TOLD_TIME_FEATURE`), ``hour``/``weekday`` the next one's."""
        rows = np.asarray(self.data.split(split).target_row, dtype=np.int64)
        features = windows.features.copy()
        features[..., FEATURE_NAMES.index("hour_share")] = self._slot_share(
            windows.candidates, self.hour[rows] // 3, windows.target, rows if split == "train" else None)
        gap = np.log1p(np.maximum(self.hours[rows] - self.hours[rows - 1], 0.0))
        gap = np.where(windows.candidates >= 0, gap[:, None], 0.0).astype(np.float32)[..., None]
        return replace(windows, features=np.concatenate([features, gap], axis=-1), hour=self.hour[rows],
                       weekday=self.weekday[rows])

    def stay_inputs(self, split):
        """The stay-or-move gate's inputs (:data:`STAY_FEATURE_NAMES`) on the windows of ``split``, and
        where the next check-in stayed within 1 km of the last one (the gate's label)."""
        check_choice("split", split, _SPLITS)
        part, check_ins = self.data.split(split), self.data.check_ins
        rows = np.asarray(part.target_row, dtype=np.int64)
        window_rows = rows[:, None] - np.arange(self.data.window, 0, -1)[None, :]
        inputs = self.stay_features(
            self.users[rows], self.ids[rows - 1], check_ins["lat"].to_numpy()[window_rows],
            check_ins["lon"].to_numpy()[window_rows], self.hours[window_rows], self.hour[rows - 1], self.weekday[rows - 1],
            before=rows if split == "train" else None,
        )
        stayed = errors_km(part.y_raw, part.last_raw) <= 1.0  # persistence's distance
        return inputs, stayed.astype(np.float64)

    def stay_features(self, user, last, window_lat, window_lon, window_hours, hour, weekday, *, before=None):
        """The gate's inputs of any windows (n, len(STAY_FEATURE_NAMES)): one rule for a split's windows
        and for new histories. ``last``: the last venue (-1: absent from training); ``window_lat``,
        ``window_lon``, ``window_hours`` (n, width): the window's check-ins, oldest first (hours since
        1970); ``before``: the training windows' target rows, counted as :meth:`features` counts them."""
        user, last = np.asarray(user, dtype=np.int64), np.asarray(last, dtype=np.int64)
        hour, weekday = np.asarray(hour, dtype=np.int64), np.asarray(weekday, dtype=np.int64)
        who, from_last = self._moves[3], np.maximum(last, 0)
        start = np.searchsorted(who, user)
        if before is not None:
            target_rows = np.asarray(before, dtype=np.int64)
            moves = _count_before(self.user_moves_before, user, target_rows)
            now = self.time_rank[target_rows]
            venue_moves = _count_before(self.out_degree_before, from_last, now)
            venue_near = _count_before(self.venue_near_before, from_last, now)
        else:
            moves = (np.searchsorted(who, user, side="right") - start).astype(np.float64)
            venue_moves, venue_near = self.out_degree[from_last], self.venue_near_moves[from_last]
        near = (self._near_sums[start + moves.astype(np.int64)] - self._near_sums[start]).astype(np.float64)
        venue_moves, venue_near = np.where(last >= 0, venue_moves, 0.0), np.where(last >= 0, venue_near, 0.0)
        lat, lon = np.asarray(window_lat, dtype=np.float64), np.asarray(window_lon, dtype=np.float64)
        steps = haversine_km(lat[:, :-1], lon[:, :-1], lat[:, 1:], lon[:, 1:])  # NaN where a short history has none
        gap = np.diff(np.asarray(window_hours, dtype=np.float64)[:, -2:], axis=1)[:, 0]
        columns = [
            (near + 0.5) / (moves + 1.0), np.log1p(moves), (venue_near + 0.5) / (venue_moves + 1.0), np.log1p(venue_moves),
            (steps <= 1.0).sum(axis=1) / np.maximum(np.isfinite(steps).sum(axis=1), 1), np.log1p(steps[:, -1]),
            np.log1p(np.maximum(gap, 0.0)),
            np.sin(2 * np.pi * hour / 24.0), np.cos(2 * np.pi * hour / 24.0), (weekday >= 5).astype(np.float64),
        ]
        return np.nan_to_num(np.column_stack(columns).astype(np.float64))
