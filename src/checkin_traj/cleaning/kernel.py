"""The compiled pass that labels every check-in with the step that removes it.

The speed and stay filters compare each check-in with the **previous kept** check-in of the
same user (the definition of scikit-mobility's ``filtering.filter``): dropping one check-in
changes what the next one is compared with, so both run, with the duplicate and city
labels, as one compiled pass in (user, time) order (:func:`_removal_kernel`), reading the
columns where they are through the sort order; threads take spans of whole users.

The rule itself is written once in plain Python on chapter 01's page
(:func:`checkin_traj.pages.data_cleaning.removal_reasons`, a loop over one user's check-ins);
``tests/test_cleaning.py`` checks that this pass labels every check-in as that loop does.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numba import njit

from ..geo import EARTH_RADIUS_KM
from .order import _empty, _sort_order, _time_ns
from .thresholds import Thresholds

DUPLICATE_COLUMNS = ("user", "time", "lat", "lon", "location_id")

KEPT, DUPLICATE, SPEED, STAY, OUTSIDE = 0, 1, 2, 3, 4
REASON_NAMES = {KEPT: "", DUPLICATE: "duplicate", SPEED: "speed", STAY: "stay", OUTSIDE: "outside"}

_NS_PER_HOUR = 3.6e12
_NS_PER_MINUTE = 6.0e10


_NO_ORDER = np.empty(0, dtype=np.int64)  # the kernels' "already sorted"


@njit(cache=True, inline="always")
def _row(order, k):
    """The row of the k-th check-in in (user, time) order (``order`` empty: row k)."""
    return order[k] if order.shape[0] else k


def _order_argument(order):
    """The sort order as a kernel argument (None: already sorted)."""
    return _NO_ORDER if order is None else order


@njit(cache=True)
def _tied_positions(order, user, time_ns, tied):
    """Sorted positions of the rows that share (user, time) with a neighbour in sorted order.

    ``order`` maps sorted positions to rows (empty: the rows are sorted already); ``tied``
    (all False, one per row) is used as scratch.
    """
    n = user.shape[0]
    count = 0
    for k in range(1, n):
        i = _row(order, k)
        h = _row(order, k - 1)
        if user[i] == user[h] and time_ns[i] == time_ns[h]:
            count += not tied[k - 1]
            tied[k - 1] = True
            tied[k] = True
            count += 1
    positions = np.empty(count, dtype=np.int64)
    j = 0
    for k in range(n):
        if tied[k]:
            positions[j] = k
            j += 1
    return positions


def _duplicate_mask(check_ins: pd.DataFrame, order, user: np.ndarray, time_ns: np.ndarray) -> np.ndarray:
    """Duplicate mask in sorted order (True: identical to an earlier row).

    ``order`` maps sorted positions to rows of ``check_ins`` (None when the frame is sorted);
    ``user`` and ``time_ns`` are its columns as they are. Identical rows share (user, time),
    so only the rows tied on (user, time) are compared column by column.
    """
    candidates = _tied_positions(_order_argument(order), user, time_ns, np.zeros(len(user), dtype=np.bool_))
    mask = np.zeros(len(user), dtype=bool)
    if len(candidates):
        rows = candidates if order is None else order[candidates]
        mask[candidates] = check_ins.iloc[rows].duplicated(subset=list(DUPLICATE_COLUMNS), keep="first").to_numpy()
    return mask


@njit(cache=True, inline="always")
def _distance_km(lat_a, lon_a, cos_a, lat_b, lon_b, cos_b):
    """Great-circle (haversine) distance between two points given in radians, with their cosines."""
    sin_half_dlat = math.sin((lat_b - lat_a) / 2.0)
    sin_half_dlon = math.sin((lon_b - lon_a) / 2.0)
    a = sin_half_dlat * sin_half_dlat + cos_a * cos_b * (sin_half_dlon * sin_half_dlon)
    a = min(max(a, 0.0), 1.0)
    return 2.0 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


@njit(cache=True, nogil=True)
def _removal_kernel(order, user, time_ns, lat, lon, duplicate, inside, speed_on, max_speed_kmh, stay_on,
                    stay_radius_km, min_stay_ns, reasons, start, stop):
    """Write the reason code of check-ins ``start:stop`` (whole users) in (user, time) order into ``reasons``.

    The rule of :func:`checkin_traj.pages.data_cleaning.removal_reasons`. Each user's first check-in is kept; every
    later one is compared with the user's previous *kept* check-in (its anchor): DUPLICATE when ``duplicate`` says so
    (it then plays no further part); SPEED when distance / time from the speed anchor exceeds ``max_speed_kmh`` (zero
    distance is speed 0; zero time with a non-zero distance is an infinite speed); STAY when within ``stay_radius_km``
    of the stay anchor (the previous check-in that passed the speed step too) and less than ``min_stay_ns`` after it;
    OUTSIDE when ``inside`` is False (the anchors ignore the city, so a trip out and back is judged as it happened).

    ``order[k]`` is the row of the k-th check-in by user and time (empty: the rows are in that order already);
    ``duplicate`` and ``reasons`` are indexed in that order, ``inside`` by row; an empty ``duplicate`` or ``inside``
    means none / all. ``speed_on`` / ``stay_on`` False switch a step off (its thresholds are then not read).
    """
    to_rad = math.pi / 180.0
    # speed anchor, stay anchor: row, latitude and longitude (radians), cos(latitude)
    speed_row, speed_lat, speed_lon, speed_cos = -1, 0.0, 0.0, 0.0
    stay_row, stay_lat, stay_lon, stay_cos = -1, 0.0, 0.0, 0.0
    for k in range(start, stop):
        reasons[k] = KEPT
        i = _row(order, k)
        if duplicate.shape[0] and duplicate[k]:
            reasons[k] = DUPLICATE
            continue
        lat_i = lat[i] * to_rad
        lon_i = lon[i] * to_rad
        cos_i = math.cos(lat_i)
        if speed_row >= 0 and user[speed_row] == user[i] and speed_on:
            distance_km = _distance_km(speed_lat, speed_lon, speed_cos, lat_i, lon_i, cos_i)
            dt_ns = time_ns[i] - time_ns[speed_row]
            if distance_km != 0.0 and (dt_ns <= 0 or distance_km / (dt_ns / _NS_PER_HOUR) > max_speed_kmh):
                reasons[k] = SPEED
                continue
        speed_row, speed_lat, speed_lon, speed_cos = i, lat_i, lon_i, cos_i
        if stay_on and stay_row >= 0 and user[stay_row] == user[i] and time_ns[i] - time_ns[stay_row] < min_stay_ns:
            if _distance_km(stay_lat, stay_lon, stay_cos, lat_i, lon_i, cos_i) <= stay_radius_km:
                reasons[k] = STAY
                continue
        stay_row, stay_lat, stay_lon, stay_cos = i, lat_i, lon_i, cos_i
        if inside.shape[0] and not inside[i]:
            reasons[k] = OUTSIDE


# Below this many check-ins one thread does it all; above, each thread takes a span of whole
# users (no anchor crosses a span), like pyarrow's parser uses the cores for the floor.
_THREADED_MIN_ROWS = 1_000_000


@njit(cache=True)
def _next_user_start(order, user, k):
    """The first sorted position at or after ``k`` where a new user starts."""
    n = user.shape[0]
    while 0 < k < n and user[_row(order, k)] == user[_row(order, k - 1)]:
        k += 1
    return k


def _workers() -> int:
    """Threads for the spans: the cores this process may use, at most 16."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 16))


def _user_spans(order, user) -> list:
    """(start, stop) sorted positions cutting the rows into one span of whole users per thread."""
    n = len(user)
    pieces = 1 if n < _THREADED_MIN_ROWS else _workers()
    cuts = [0] + [_next_user_start(order, user, n * piece // pieces) for piece in range(1, pieces)] + [n]
    return [(begin, end) for begin, end in zip(cuts[:-1], cuts[1:]) if end > begin] or [(0, 0)]


def _over_spans(kernel, spans, *arguments) -> list:
    """``kernel(*arguments, start, stop)`` for every span, one thread each (numba releases the GIL)."""
    if len(spans) == 1:
        return [kernel(*arguments, *spans[0])]
    with ThreadPoolExecutor(len(spans)) as pool:
        return list(pool.map(lambda span: kernel(*arguments, *span), spans))


_NONE = np.empty(0, dtype=np.bool_)  # an empty mask: no duplicates known, or no city to keep


def _min_stay_ns(min_stay_minutes: float) -> np.int64:
    """Minutes as whole nanoseconds (an exact integer test in the kernel)."""
    return np.int64(round(min(min_stay_minutes * _NS_PER_MINUTE, 2.0**62)))


def _columns(check_ins: pd.DataFrame):
    """user, time (int64 ns), lat, lon as contiguous arrays, in the frame's row order."""
    columns = (check_ins["user"].to_numpy(dtype=np.int64), _time_ns(check_ins["time"]),
               check_ins["lat"].to_numpy(dtype=np.float64), check_ins["lon"].to_numpy(dtype=np.float64))
    return tuple(np.ascontiguousarray(column) for column in columns)


def _inside(lat: np.ndarray, lon: np.ndarray, thresholds: Thresholds) -> np.ndarray:
    """Mask of the points in the city: the box, or the polygon when there is one (boundary included)."""
    if thresholds.geometry is None:
        return thresholds.box.contains(lat, lon)
    import shapely

    shapely.prepare(thresholds.geometry)
    return shapely.intersects_xy(thresholds.geometry, lon, lat)


@dataclass
class _Prepared:
    """The check-ins' columns as they are, their (user, time) order and duplicate mask."""

    check_ins: pd.DataFrame
    order: np.ndarray | None  # sorted position -> row of check_ins; None when already sorted
    columns: tuple  # user, time_ns, lat, lon in the frame's row order
    duplicate: np.ndarray  # by sorted position
    spans: list  # (start, stop) sorted positions of whole users, one span per thread

    def rows(self, mask: np.ndarray) -> np.ndarray:
        """Positions in ``check_ins`` of the sorted rows selected by ``mask``."""
        return np.flatnonzero(mask) if self.order is None else self.order[mask]


def _prepare(check_ins: pd.DataFrame) -> _Prepared:
    columns = _columns(check_ins)
    user, time_ns, _lat, _lon = columns
    order = _sort_order(user, time_ns)
    duplicate = _duplicate_mask(check_ins, order, user, time_ns)
    return _Prepared(check_ins, order, columns, duplicate, _user_spans(_order_argument(order), user))


def _reasons(prepared: _Prepared, thresholds: Thresholds) -> np.ndarray:
    """Reason code per sorted row (KEPT, DUPLICATE, SPEED, STAY, OUTSIDE)."""
    user, time_ns, lat, lon = prepared.columns
    reasons = _empty(len(user), np.int8)
    _over_spans(
        _removal_kernel, prepared.spans, _order_argument(prepared.order), user, time_ns, lat, lon,
        prepared.duplicate, _inside(lat, lon, thresholds), *_kernel_thresholds(thresholds), reasons,
    )
    return reasons


def _kernel_thresholds(thresholds: Thresholds) -> tuple:
    """(speed_on, max_speed_kmh, stay_on, stay_radius_km, min_stay_ns): the kernel's arguments."""
    speed_on, stay_on = thresholds.speed_on, thresholds.stay_on
    stay = (thresholds.stay_radius_m / 1000.0, _min_stay_ns(thresholds.min_stay_minutes)) if stay_on else (0.0, np.int64(0))
    return (speed_on, thresholds.max_speed_kmh if speed_on else 0.0, stay_on, *stay)


@njit(cache=True, nogil=True)
def _span_counts(order, user, reasons, start, stop):
    """(users, kept rows, users with a kept row) of the sorted span ``start:stop``."""
    users, kept, kept_users = 0, 0, 0
    previous_user, previous_kept_user = -1, -1
    for k in range(start, stop):
        u = user[_row(order, k)]
        if k == start or u != previous_user:
            users += 1
        previous_user = u
        if reasons[k] == KEPT:
            if kept == 0 or u != previous_kept_user:
                kept_users += 1
            kept += 1
            previous_kept_user = u
    return users, kept, kept_users


@njit(cache=True, nogil=True)
def _gather_kept(order, reasons, user, time_ns, lat, lon, location_id, dense, snap, times, lats, lons, locations,
                 first_row, first_dense, start, stop):
    """Write the kept check-ins of the sorted span ``start:stop`` from output row ``first_row``.

    Columns: dense user (from ``first_dense``), SNAP user, time, lat, lon, location id.
    """
    j = first_row
    for k in range(start, stop):
        if reasons[k] != KEPT:
            continue
        i = _row(order, k)
        snap[j] = user[i]
        dense[j] = first_dense if j == first_row else dense[j - 1] + (user[i] != snap[j - 1])
        times[j] = time_ns[i]
        lats[j] = lat[i]
        lons[j] = lon[i]
        locations[j] = location_id[i]
        j += 1


def _span_totals(prepared: _Prepared, reasons) -> np.ndarray:
    """(users, kept rows, users with a kept row) per span, one row each (int64)."""
    totals = _over_spans(_span_counts, prepared.spans, _order_argument(prepared.order), prepared.columns[0], reasons)
    return np.array(totals, dtype=np.int64).reshape(-1, 3)


def _kept_columns(prepared: _Prepared, reasons, location_id):
    """users in, and the clean columns: dense user, SNAP user, time (int64 ns), lat, lon, location id.

    The arrays come from :func:`_empty`, not from inside the kernel: memory that numba
    allocates is fresh every time.
    """
    order = _order_argument(prepared.order)
    user, time_ns, lat, lon = prepared.columns
    counts = _span_totals(prepared, reasons)
    first_rows = np.concatenate([[0], np.cumsum(counts[:-1, 1])])
    first_dense = np.concatenate([[0], np.cumsum(counts[:-1, 2])])
    dtypes = (np.int64, np.int64, np.int64, np.float64, np.float64, np.int64)
    columns = [_empty(int(counts[:, 1].sum()), dtype) for dtype in dtypes]
    spans = [(int(row), int(dense), start, stop) for row, dense, (start, stop) in zip(first_rows, first_dense, prepared.spans)]
    _over_spans(_gather_kept, spans, order, reasons, user, time_ns, lat, lon, location_id, *columns)
    return int(counts[:, 0].sum()), columns


def _times_like(time_ns: np.ndarray, like: pd.Series):
    """int64 nanoseconds (UTC) as datetimes of the dtype of ``like`` (unit and time zone)."""
    times = pd.DatetimeIndex(time_ns.view("datetime64[ns]"), copy=False)
    time_zone = getattr(like.dtype, "tz", None)
    if time_zone is not None:
        times = times.tz_localize("UTC").tz_convert(time_zone)  # one copy (pandas localizes into a new array)
    if times.unit != like.dt.unit:  # as_unit copies even to the same unit
        times = times.as_unit(like.dt.unit)
    return times.array
