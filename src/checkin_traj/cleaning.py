"""Cleaning check-ins: sort, drop duplicates, impossible jumps, repeats and points outside the city.

Every step is a function that takes the check-ins and returns the rows it keeps; its
threshold is a keyword argument. :func:`clean` runs them in order and returns the clean
check-ins with a :class:`CleaningReport` that counts every removed row by step and reason.

The speed and stay filters compare each check-in with the **previous kept** check-in of the
same user (the definition of scikit-mobility's ``filtering.filter``): dropping one check-in
changes what the next one is compared with, so both run, with the duplicate and city
labels, as one compiled pass in (user, time) order (:func:`_removal_kernel`, shared by
the two filters and :func:`clean`). On the full SNAP file that pass reads the columns
where they are, through the sort order, instead of copying them into sorted order first;
threads take spans of whole users, and the large arrays come from pyarrow's memory pool
(:func:`_empty`). ``benchmarks/bench_full_size.py`` measures loading and cleaning the full
file against the time it takes merely to parse it.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from numbers import Real

import numpy as np
import pandas as pd
import pyarrow as pa
from numba import njit

from .geo import EARTH_RADIUS_KM, NYC_BOX, BoundingBox

RAW_COLUMNS = ("user", "time", "lat", "lon", "location_id")
CLEAN_COLUMNS = ("user", "snap_user", "time", "lat", "lon", "location_id")
DUPLICATE_COLUMNS = ("user", "time", "lat", "lon", "location_id")

# Codes of the reasons a row is removed (KEPT: not removed).
KEPT, DUPLICATE, SPEED, STAY, OUTSIDE = 0, 1, 2, 3, 4
REASON_NAMES = {KEPT: "", DUPLICATE: "duplicate", SPEED: "speed", STAY: "stay", OUTSIDE: "outside"}

_NS_PER_HOUR = 3.6e12
_NS_PER_MINUTE = 6.0e10


# --------------------------------------------------------------------------- checks


def _check_threshold(name: str, value) -> float:
    """A positive number (``inf`` allowed: it switches the filter off), else ``ValueError``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Real):
        raise ValueError(f"{name} must be a positive number, got {value!r} of type {type(value).__name__}")
    value = float(value)
    if math.isnan(value) or value <= 0.0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return value


def _check_frame(check_ins, *, columns=RAW_COLUMNS, name: str = "check_ins") -> None:
    if not isinstance(check_ins, pd.DataFrame):
        raise ValueError(f"{name} must be a pandas DataFrame, got {type(check_ins).__name__}")
    missing = [column for column in columns if column not in check_ins.columns]
    if missing:
        raise ValueError(
            f"{name} lacks the columns {missing}; expected {list(columns)}, found {list(check_ins.columns)}"
        )
    if "time" in columns and not pd.api.types.is_datetime64_any_dtype(check_ins["time"]):
        raise ValueError(f"{name}['time'] must be datetime64 (UTC), found dtype {check_ins['time'].dtype}")
    for column in ("time", "lat", "lon"):
        if column in columns:
            missing_values = int(check_ins[column].isna().sum())
            if missing_values:
                raise ValueError(f"{name}['{column}'] has {missing_values} missing values; drop or fix them first")


def _check_box(box) -> BoundingBox:
    if not isinstance(box, BoundingBox):
        raise ValueError(f"box must be a checkin_traj.geo.BoundingBox, got {type(box).__name__}")
    return box


def _empty(length: int, dtype) -> np.ndarray:
    """``np.empty(length, dtype)`` in pyarrow's memory pool, the one the reader parses into.

    That pool keeps freed memory for the next allocation, where numpy's large arrays go back
    to the operating system when freed and come back as fresh pages, whose first touch can
    cost more than the work (several times more in a virtual machine). The array owns its
    buffer like any other.
    """
    dtype = np.dtype(dtype)
    return np.frombuffer(pa.allocate_buffer(length * dtype.itemsize), dtype=dtype, count=length)


def _time_ns(times: pd.Series) -> np.ndarray:
    """Times as int64 nanoseconds since the epoch (UTC when time zone aware)."""
    return times.to_numpy(dtype="datetime64[ns]").view(np.int64)


@njit(cache=True)
def _is_sorted_by_user_time(user, time_ns):
    """True when the rows are ordered by user, then time (one pass, stops at the first miss)."""
    for i in range(1, user.shape[0]):
        if user[i] < user[i - 1] or (user[i] == user[i - 1] and time_ns[i] < time_ns[i - 1]):
            return False
    return True


def _require_sorted(check_ins: pd.DataFrame) -> None:
    if not _is_sorted_by_user_time(check_ins["user"].to_numpy(dtype=np.int64), _time_ns(check_ins["time"])):
        raise ValueError("check_ins must be sorted by user, then time: call sort_by_user_time(check_ins) first")


# --------------------------------------------------------------------------- ids and order


def _dense_from_grouped(snap: np.ndarray) -> np.ndarray:
    """Dense ids 0..n-1 of ids that are sorted ascending (int64)."""
    dense = np.zeros(len(snap), dtype=np.int64)
    np.cumsum(snap[1:] != snap[:-1], out=dense[1:])
    return dense


def assign_dense_ids(check_ins: pd.DataFrame) -> pd.DataFrame:
    """Number the users 0..n_users-1 in the order of their SNAP ids.

    Parameters
    ----------
    check_ins : pandas.DataFrame
        Check-ins with a ``user`` column holding SNAP ids (or, when the frame already has a
        ``snap_user`` column, with dense ids that are recomputed from it).

    Returns
    -------
    pandas.DataFrame
        A copy whose ``user`` is dense (int64) and whose ``snap_user`` (int64, placed right
        after ``user``) keeps the SNAP id; row order and index unchanged.
    """
    _check_frame(check_ins, columns=("user",))
    snap = check_ins["snap_user" if "snap_user" in check_ins.columns else "user"].to_numpy(dtype=np.int64)
    if np.all(snap[1:] >= snap[:-1]):  # grouped and ascending: O(n)
        dense = _dense_from_grouped(snap)
    else:
        _, dense = np.unique(snap, return_inverse=True)
    result = check_ins.drop(columns=["snap_user"], errors="ignore").copy()
    result["user"] = dense.astype(np.int64)
    result.insert(result.columns.get_loc("user") + 1, "snap_user", snap)
    return result


@njit(cache=True)
def _run_order(user, time_ns, order):
    """Stable (user, time) order of rows whose users come in ascending runs, as in SNAP files.

    SNAP lists each user's check-ins together, users ascending, times newest first: each
    run is put in time order in O(run) (kept, reversed tie group by tie group, or sorted
    when mixed). Writes ``order`` and returns True; False when the users are not in
    ascending runs (``order`` is then garbage).
    """
    n = user.shape[0]
    start = 0
    while start < n:
        end = start + 1
        while end < n and user[end] == user[start]:
            end += 1
        if end < n and user[end] < user[start]:
            return False
        ascending = True
        descending = True
        for i in range(start + 1, end):
            if time_ns[i] < time_ns[i - 1]:
                ascending = False
            elif time_ns[i] > time_ns[i - 1]:
                descending = False
        if ascending:
            for i in range(start, end):
                order[i] = i
        elif descending:  # newest first: emit the tie groups from the last, each in file order
            k = start
            stop = end
            while stop > start:
                first = stop - 1
                while first > start and time_ns[first - 1] == time_ns[stop - 1]:
                    first -= 1
                for i in range(first, stop):
                    order[k] = i
                    k += 1
                stop = first
        else:
            local = np.argsort(time_ns[start:end], kind="mergesort")
            for j in range(end - start):
                order[start + j] = start + local[j]
        start = end
    return True


def _sort_order(user: np.ndarray, time_ns: np.ndarray):
    """Stable order by user, then time; None when the rows are in that order already."""
    if _is_sorted_by_user_time(user, time_ns):
        return None
    order = _empty(len(user), np.int64)
    if _run_order(user, time_ns, order):
        return order
    time_span = int(time_ns.max() - time_ns.min()) if len(time_ns) else 0
    user_span = int(user.max() - user.min()) if len(user) else 0
    whole_seconds = not np.any(time_ns % 1_000_000_000)
    if whole_seconds and time_span // 1_000_000_000 < 2**32 and user_span < 2**30:
        # One int64 key (user, seconds): a single stable argsort, far faster than lexsort.
        key = ((user - user.min()).astype(np.int64) << 32) | ((time_ns - time_ns.min()) // 1_000_000_000)
        return np.argsort(key, kind="stable")
    return np.lexsort((time_ns, user))


def sort_by_user_time(check_ins: pd.DataFrame) -> pd.DataFrame:
    """Order the check-ins by user, then time (stable: ties keep their file order).

    SNAP files list each user's check-ins newest first; every later step needs them in
    time order.

    Returns
    -------
    pandas.DataFrame
        The same rows (index kept) in the new order.
    """
    _check_frame(check_ins)
    order = _sort_order(check_ins["user"].to_numpy(dtype=np.int64), _time_ns(check_ins["time"]))
    return check_ins.copy() if order is None else check_ins.take(order)


# --------------------------------------------------------------------------- duplicates


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


def drop_exact_duplicates(check_ins: pd.DataFrame) -> pd.DataFrame:
    """Drop check-ins identical to an earlier one in user, time, lat, lon and location_id.

    Returns
    -------
    pandas.DataFrame
        The first of each group of identical rows (index kept).
    """
    _check_frame(check_ins)
    user = check_ins["user"].to_numpy(dtype=np.int64)
    time_ns = _time_ns(check_ins["time"])
    if _is_sorted_by_user_time(user, time_ns):
        mask = _duplicate_mask(check_ins, None, user, time_ns)
    else:
        mask = check_ins.duplicated(subset=list(DUPLICATE_COLUMNS), keep="first").to_numpy()
    return check_ins[~mask]


# --------------------------------------------------------------------------- previous-kept filters


@njit(cache=True, inline="always")
def _distance_km(lat_a, lon_a, cos_a, lat_b, lon_b, cos_b):
    """Great-circle (haversine) distance between two points given in radians, with their cosines."""
    sin_half_dlat = math.sin((lat_b - lat_a) / 2.0)
    sin_half_dlon = math.sin((lon_b - lon_a) / 2.0)
    a = sin_half_dlat * sin_half_dlat + cos_a * cos_b * (sin_half_dlon * sin_half_dlon)
    a = min(max(a, 0.0), 1.0)
    return 2.0 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


@njit(cache=True, nogil=True)
def _removal_kernel(order, user, time_ns, lat, lon, duplicate, inside, max_speed_kmh, stay_radius_km, min_stay_ns,
                    reasons, start, stop):
    """Write the reason code of check-ins ``start:stop`` in (user, time) order into ``reasons``.

    ``order[k]`` is the row of the k-th check-in by user and time (an empty ``order``: the
    rows are in that order already); ``start:stop`` holds whole users. Each user's first
    check-in is kept; every later one is compared with the user's previous *kept*
    check-in (its anchor):

    - DUPLICATE when ``duplicate`` says so (it then plays no further part);
    - SPEED when distance / time from the speed anchor exceeds ``max_speed_kmh`` (zero
      distance is speed 0; zero time with a non-zero distance is an infinite speed);
    - STAY when within ``stay_radius_km`` of the stay anchor (the previous check-in that
      passed the speed step too) and less than ``min_stay_ns`` after it;
    - OUTSIDE when ``inside`` (by row) is False; the anchors ignore the city, so a trip out
      and back is judged as it happened.

    ``max_speed_kmh`` < 0 switches the speed step off, ``min_stay_ns`` 0 the stay step;
    an empty ``duplicate`` or ``inside`` means none / all. ``reasons[k]`` is for the
    k-th check-in in (user, time) order.
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
        if speed_row >= 0 and user[speed_row] == user[i] and max_speed_kmh >= 0.0:
            distance_km = _distance_km(speed_lat, speed_lon, speed_cos, lat_i, lon_i, cos_i)
            dt_ns = time_ns[i] - time_ns[speed_row]
            if distance_km != 0.0 and (dt_ns <= 0 or distance_km / (dt_ns / _NS_PER_HOUR) > max_speed_kmh):
                reasons[k] = SPEED
                continue
        speed_row, speed_lat, speed_lon, speed_cos = i, lat_i, lon_i, cos_i
        if stay_row >= 0 and user[stay_row] == user[i] and time_ns[i] - time_ns[stay_row] < min_stay_ns:
            if _distance_km(stay_lat, stay_lon, stay_cos, lat_i, lon_i, cos_i) <= stay_radius_km:
                reasons[k] = STAY
                continue
        stay_row, stay_lat, stay_lon, stay_cos = i, lat_i, lon_i, cos_i
        if inside.shape[0] and not inside[i]:
            reasons[k] = OUTSIDE


# --------------------------------------------------------------------------- spans of whole users

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
    return (
        np.ascontiguousarray(check_ins["user"].to_numpy(dtype=np.int64)),
        np.ascontiguousarray(_time_ns(check_ins["time"])),
        np.ascontiguousarray(check_ins["lat"].to_numpy(dtype=np.float64)),
        np.ascontiguousarray(check_ins["lon"].to_numpy(dtype=np.float64)),
    )


def _one_filter(check_ins: pd.DataFrame, *, max_speed_kmh=-1.0, stay_radius_km=0.0, min_stay_minutes=0.0):
    """The rows the kernel keeps with one step on (speed: ``max_speed_kmh``; stays: the others)."""
    _check_frame(check_ins)
    _require_sorted(check_ins)
    user, time_ns, lat, lon = _columns(check_ins)
    reasons = _empty(len(user), np.int8)
    _over_spans(
        _removal_kernel, _user_spans(_NO_ORDER, user), _NO_ORDER, user, time_ns, lat, lon, _NONE, _NONE,
        max_speed_kmh, stay_radius_km, _min_stay_ns(min_stay_minutes), reasons,
    )
    return check_ins[reasons == KEPT]


def filter_speed(check_ins: pd.DataFrame, *, max_speed_kmh: float = 500.0) -> pd.DataFrame:
    """Drop check-ins reached faster than ``max_speed_kmh`` from the previous kept one.

    The definition of scikit-mobility's ``filtering.filter``: the first check-in of a user
    is kept; each later one is dropped when the great-circle distance from the previous
    *kept* check-in of the same user, divided by the time between them, exceeds
    ``max_speed_kmh``. Zero time with a non-zero distance is an infinite speed; zero
    distance is speed 0.

    Parameters
    ----------
    check_ins : pandas.DataFrame
        Check-ins sorted by user, then time (:func:`sort_by_user_time`).
    max_speed_kmh : float
        Fastest plausible travel, km/h (500 km/h: faster than any train or car in the
        region; ``inf`` switches the filter off).

    Returns
    -------
    pandas.DataFrame
        The kept rows (index kept).
    """
    return _one_filter(check_ins, max_speed_kmh=_check_threshold("max_speed_kmh", max_speed_kmh))


def filter_stays(
    check_ins: pd.DataFrame, *, stay_radius_m: float = 50.0, min_stay_minutes: float = 30.0
) -> pd.DataFrame:
    """Drop repeats: check-ins close in space and time to the previous kept one.

    A check-in within ``stay_radius_m`` of the previous kept check-in of the same user and
    less than ``min_stay_minutes`` after it says nothing new about where the user goes.

    Parameters
    ----------
    check_ins : pandas.DataFrame
        Check-ins sorted by user, then time (:func:`sort_by_user_time`).
    stay_radius_m : float
        Radius, metres, within which a check-in counts as the same place (edge included).
    min_stay_minutes : float
        A check-in at the same place this many minutes or more after the previous kept one
        is a new visit and is kept.

    Returns
    -------
    pandas.DataFrame
        The kept rows (index kept).
    """
    stay_radius_m = _check_threshold("stay_radius_m", stay_radius_m)
    min_stay_minutes = _check_threshold("min_stay_minutes", min_stay_minutes)
    return _one_filter(check_ins, stay_radius_km=stay_radius_m / 1000.0, min_stay_minutes=min_stay_minutes)


# --------------------------------------------------------------------------- the city


def _check_polygon(polygon):
    """The polygon as one shapely geometry in EPSG:4326 (lon, lat), or None."""
    if polygon is None:
        return None
    import geopandas as gpd
    from shapely.geometry.base import BaseGeometry

    if isinstance(polygon, (gpd.GeoSeries, gpd.GeoDataFrame)):
        if len(polygon) == 0:
            raise ValueError("polygon is an empty GeoSeries/GeoDataFrame")
        if polygon.crs is not None and polygon.crs.to_epsg() != 4326:
            polygon = polygon.to_crs(epsg=4326)
        geometry = polygon.geometry.union_all()
    elif isinstance(polygon, BaseGeometry):
        geometry = polygon
    else:
        raise ValueError(
            f"polygon must be a shapely polygon, a GeoSeries or a GeoDataFrame, got {type(polygon).__name__}"
        )
    if geometry.geom_type not in ("Polygon", "MultiPolygon") or geometry.is_empty:
        raise ValueError(f"polygon must be a non-empty (multi)polygon, got a {geometry.geom_type}")
    return geometry


def _inside(lat: np.ndarray, lon: np.ndarray, *, box: BoundingBox, geometry) -> np.ndarray:
    if geometry is None:
        return box.contains(lat, lon)
    import shapely

    shapely.prepare(geometry)
    return shapely.intersects_xy(geometry, lon, lat)  # boundary included


def filter_box(check_ins: pd.DataFrame, *, box: BoundingBox = NYC_BOX, polygon=None) -> pd.DataFrame:
    """Keep the check-ins inside the city.

    Parameters
    ----------
    check_ins : pandas.DataFrame
        Check-ins with ``lat`` and ``lon`` in degrees.
    box : BoundingBox
        The latitude/longitude box, degrees; edges included.
    polygon : shapely polygon, GeoSeries or GeoDataFrame, optional
        Replaces the box (e.g. the city's borough boundaries). A GeoSeries/GeoDataFrame in
        another CRS is reprojected to EPSG:4326 first; a bare shapely polygon is taken as
        lon/lat degrees. Points on the boundary are inside.

    Returns
    -------
    pandas.DataFrame
        The kept rows (index kept).
    """
    _check_box(box)
    geometry = _check_polygon(polygon)
    _check_frame(check_ins, columns=("lat", "lon"))
    lat = check_ins["lat"].to_numpy(dtype=np.float64)
    lon = check_ins["lon"].to_numpy(dtype=np.float64)
    return check_ins[_inside(lat, lon, box=box, geometry=geometry)]


# --------------------------------------------------------------------------- the report


@dataclass
class CleaningReport:
    """Rows in, rows removed per step and reason, rows out.

    ``rows_in - sum(removed) == rows_out`` is checked when the report is made. When the raw
    frame came from :func:`checkin_traj.io.read_checkins` with skipped lines, the report
    starts with them (step ``"read"``) and ``rows_in`` counts the lines of the file.

    Attributes
    ----------
    rows_in : int
        Rows (or file lines) before cleaning.
    steps : list of (step, reason, rows_removed)
        In the order the steps ran.
    rows_out : int
        Clean check-ins.
    users_in, users_out : int
        Distinct users before and after.
    """

    rows_in: int
    steps: list = field(default_factory=list)
    rows_out: int = 0
    users_in: int = 0
    users_out: int = 0

    def __post_init__(self):
        self.steps = [(str(step), str(reason), int(removed)) for step, reason, removed in self.steps]
        negative = [entry for entry in self.steps if entry[2] < 0]
        if negative:
            raise ValueError(f"CleaningReport: negative rows removed in {negative}")
        removed = sum(entry[2] for entry in self.steps)
        if self.rows_in - removed != self.rows_out:
            raise ValueError(
                f"CleaningReport does not add up: rows_in={self.rows_in} - removed={removed} "
                f"!= rows_out={self.rows_out}"
            )

    @property
    def rows_removed(self) -> int:
        """All rows removed, by every step."""
        return self.rows_in - self.rows_out

    def removed_by_step(self) -> dict:
        """Rows removed per step (reasons of one step added up), in step order."""
        totals = {}
        for step, _reason, removed in self.steps:
            totals[step] = totals.get(step, 0) + removed
        return totals

    def to_frame(self) -> pd.DataFrame:
        """The report as a table: one row per (step, reason), with the rows left after it."""
        rows = [("input", "rows (or file lines) before cleaning", 0), *self.steps]
        table = pd.DataFrame(rows, columns=["step", "reason", "rows_removed"]).astype({"rows_removed": "int64"})
        table["rows_left"] = self.rows_in - table["rows_removed"].cumsum()
        return table

    def to_dict(self) -> dict:
        """JSON-able form (for ``provenance.json``)."""
        document = asdict(self)
        document["steps"] = [
            {"step": step, "reason": reason, "rows_removed": removed} for step, reason, removed in self.steps
        ]
        return document


def _read_steps(check_ins: pd.DataFrame):
    """(rows_in, steps) for the lines the reader skipped, when the frame carries its report."""
    read_report = check_ins.attrs.get("read_report")
    if read_report is None or getattr(read_report, "rows_read", None) != len(check_ins):
        return len(check_ins), []  # no report, or the frame changed since it was read
    steps = [("read", str(reason), int(count)) for reason, count in dict(read_report.skipped or {}).items() if count]
    rows_in = len(check_ins) + sum(entry[2] for entry in steps)
    lines_total = getattr(read_report, "lines_total", None)
    if lines_total is not None and lines_total > rows_in:
        steps.append(("read", "lines not counted by the reader", int(lines_total - rows_in)))
        rows_in = int(lines_total)
    return rows_in, steps


# --------------------------------------------------------------------------- the pipeline


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


def _reasons(prepared: _Prepared, *, max_speed_kmh, stay_radius_m, min_stay_minutes, box, geometry):
    """Reason code per sorted row (KEPT, DUPLICATE, SPEED, STAY, OUTSIDE)."""
    user, time_ns, lat, lon = prepared.columns
    reasons = _empty(len(user), np.int8)
    _over_spans(
        _removal_kernel, prepared.spans, _order_argument(prepared.order), user, time_ns, lat, lon,
        prepared.duplicate, _inside(lat, lon, box=box, geometry=geometry), max_speed_kmh, stay_radius_m / 1000.0,
        _min_stay_ns(min_stay_minutes), reasons,
    )
    return reasons


def _require_rows_left(counts, *, max_speed_kmh, stay_radius_m, min_stay_minutes, box, geometry) -> None:
    """``ValueError`` naming the first step after which no check-in is left (``counts``: rows per reason)."""
    removed = counts.copy()
    removed[KEPT] = 0
    left = counts.sum() - np.cumsum(removed)  # rows left after each step, by its code
    steps = (
        (DUPLICATE, "exact duplicates", "no parameter"),
        (SPEED, "speed", f"max_speed_kmh={max_speed_kmh}"),
        (STAY, "stays", f"stay_radius_m={stay_radius_m}, min_stay_minutes={min_stay_minutes}"),
        (OUTSIDE, "box", "polygon" if geometry is not None else f"box={box}"),
    )
    for code, step, parameter in steps:
        if left[code] == 0:
            raise ValueError(f"the {step} step left no check-ins ({parameter}); relax it or check the data")


@njit(cache=True, nogil=True)
def _span_counts(order, user, reasons, start, stop):
    """(users, kept rows, users with a kept row) of the sorted span ``start:stop``."""
    users = 0
    kept = 0
    kept_users = 0
    previous_user = -1
    previous_kept_user = -1
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


def _check_parameters(check_ins, max_speed_kmh, stay_radius_m, min_stay_minutes, box, polygon):
    values = (
        _check_threshold("max_speed_kmh", max_speed_kmh),
        _check_threshold("stay_radius_m", stay_radius_m),
        _check_threshold("min_stay_minutes", min_stay_minutes),
        _check_box(box),
        _check_polygon(polygon),
    )
    _check_frame(check_ins)
    return values


def label_removals(
    check_ins: pd.DataFrame,
    *,
    max_speed_kmh: float = 500.0,
    stay_radius_m: float = 50.0,
    min_stay_minutes: float = 30.0,
    box: BoundingBox = NYC_BOX,
    polygon=None,
) -> pd.DataFrame:
    """The check-ins sorted by user and time, each labelled with the step that removes it.

    Same parameters as :func:`clean`. Returns the sorted rows (index kept) with a column
    ``removed_by``: ``""`` for kept rows, else ``"duplicate"``, ``"speed"``, ``"stay"`` or
    ``"outside"`` (the reasons removed rows are drawn with on the map of removed points).
    """
    max_speed_kmh, stay_radius_m, min_stay_minutes, box, geometry = _check_parameters(
        check_ins, max_speed_kmh, stay_radius_m, min_stay_minutes, box, polygon
    )
    prepared = _prepare(check_ins)
    reasons = _reasons(
        prepared, max_speed_kmh=max_speed_kmh, stay_radius_m=stay_radius_m, min_stay_minutes=min_stay_minutes,
        box=box, geometry=geometry,
    )
    labelled = prepared.check_ins.take(prepared.rows(np.ones(len(check_ins), dtype=bool)))
    labelled.attrs = {}
    names = np.array([REASON_NAMES[code] for code in sorted(REASON_NAMES)], dtype=object)
    labelled["removed_by"] = names[reasons]
    return labelled


def _reason_text(code, *, max_speed_kmh, stay_radius_m, min_stay_minutes, box, geometry):
    if code == DUPLICATE:
        return ("duplicates", "identical user, time, place and location id")
    if code == SPEED:
        return ("speed", f"faster than {max_speed_kmh:g} km/h from the previous kept check-in")
    if code == STAY:
        return ("stays", f"within {stay_radius_m:g} m and {min_stay_minutes:g} min of the previous kept check-in")
    where = "the polygon" if geometry is not None else "the box"
    return ("box", f"outside {where}")


def clean(
    check_ins: pd.DataFrame,
    *,
    max_speed_kmh: float = 500.0,
    stay_radius_m: float = 50.0,
    min_stay_minutes: float = 30.0,
    box: BoundingBox = NYC_BOX,
    polygon=None,
):
    """Clean raw check-ins: sort, drop duplicates, too-fast jumps, repeats, points outside.

    Steps, in order: sort by user and time; drop exact duplicates; :func:`filter_speed`
    and :func:`filter_stays` on each user's whole trajectory; :func:`filter_box`; dense
    user ids (:func:`assign_dense_ids`) on what is kept.

    Parameters
    ----------
    check_ins : pandas.DataFrame
        Raw check-ins (``user``, ``time``, ``lat``, ``lon``, ``location_id``), in any order.
        When it carries ``attrs["read_report"]`` from :func:`checkin_traj.io.read_checkins`,
        the lines the reader skipped open the report.
    max_speed_kmh : float
        See :func:`filter_speed`, km/h.
    stay_radius_m : float
        See :func:`filter_stays`, metres.
    min_stay_minutes : float
        See :func:`filter_stays`, minutes.
    box : BoundingBox
        The city box, degrees (edges included).
    polygon : shapely polygon, GeoSeries or GeoDataFrame, optional
        Replaces ``box`` (see :func:`filter_box`).

    Returns
    -------
    clean_check_ins : pandas.DataFrame
        Columns ``user`` (dense 0..n_users-1), ``snap_user``, ``time``, ``lat``, ``lon``,
        ``location_id``; sorted by user, then time; index 0..n-1.
    report : CleaningReport
        Rows removed per step and reason.

    Raises
    ------
    ValueError
        For a bad threshold (before any work), or when a step leaves no check-ins (naming
        the step and its parameter).
    """
    max_speed_kmh, stay_radius_m, min_stay_minutes, box, geometry = _check_parameters(
        check_ins, max_speed_kmh, stay_radius_m, min_stay_minutes, box, polygon
    )
    if len(check_ins) == 0:
        raise ValueError("check_ins is empty: there is nothing to clean")
    rows_in, steps = _read_steps(check_ins)
    prepared = _prepare(check_ins)
    reasons = _reasons(
        prepared, max_speed_kmh=max_speed_kmh, stay_radius_m=stay_radius_m, min_stay_minutes=min_stay_minutes,
        box=box, geometry=geometry,
    )
    counts = np.bincount(reasons, minlength=len(REASON_NAMES))
    _require_rows_left(
        counts, max_speed_kmh=max_speed_kmh, stay_radius_m=stay_radius_m, min_stay_minutes=min_stay_minutes,
        box=box, geometry=geometry,
    )
    for code in (DUPLICATE, SPEED, STAY, OUTSIDE):
        step, reason = _reason_text(
            code, max_speed_kmh=max_speed_kmh, stay_radius_m=stay_radius_m, min_stay_minutes=min_stay_minutes,
            box=box, geometry=geometry,
        )
        steps.append((step, reason, int(counts[code])))
    users_in, (dense, snap_user, times, lats, lons, locations) = _kept_columns(
        prepared, reasons, check_ins["location_id"].to_numpy(dtype=np.int64)
    )
    clean_check_ins = pd.DataFrame(
        {
            "user": dense,
            "snap_user": snap_user,
            "time": _times_like(times, check_ins["time"]),
            "lat": lats,
            "lon": lons,
            "location_id": locations,
        },
        index=pd.RangeIndex(len(snap_user)),
        copy=False,  # the columns are fresh arrays: no need to consolidate them into new blocks
    )
    report = CleaningReport(
        rows_in=rows_in,
        steps=steps,
        rows_out=len(clean_check_ins),
        users_in=users_in,
        users_out=int(clean_check_ins["user"].iat[-1] + 1),
    )
    return clean_check_ins, report


def threshold_sensitivity(
    check_ins: pd.DataFrame,
    *,
    max_speed_kmh=(100.0, 250.0, 500.0, 1000.0),
    stay_radius_m=(25.0, 50.0, 100.0),
    min_stay_minutes=(10.0, 30.0, 60.0),
    baseline: dict | None = None,
    box: BoundingBox = NYC_BOX,
    polygon=None,
) -> pd.DataFrame:
    """Rows kept as one threshold varies and the others stay at their baseline.

    Parameters
    ----------
    check_ins : pandas.DataFrame
        Raw check-ins, as for :func:`clean`.
    max_speed_kmh, stay_radius_m, min_stay_minutes : sequence of float
        Values to try for each threshold (km/h, metres, minutes); an empty sequence skips it.
    baseline : dict, optional
        Values of the thresholds not being varied; defaults to :func:`clean`'s defaults.
    box, polygon
        As for :func:`clean` (held fixed).

    Returns
    -------
    pandas.DataFrame
        One row per (parameter, value): ``parameter``, ``value``, ``rows_removed`` (by that
        parameter's step), ``rows_kept`` and ``users_kept`` after all steps, and
        ``baseline`` (True where the value is the baseline's).
    """
    base = {"max_speed_kmh": 500.0, "stay_radius_m": 50.0, "min_stay_minutes": 30.0}
    unknown = set(baseline or {}) - set(base)
    if unknown:
        raise ValueError(f"baseline has unknown thresholds {sorted(unknown)}; expected some of {sorted(base)}")
    base.update(baseline or {})
    grids = {"max_speed_kmh": max_speed_kmh, "stay_radius_m": stay_radius_m, "min_stay_minutes": min_stay_minutes}
    for name in base:
        base[name] = _check_threshold(f"baseline[{name!r}]", base[name])
        grids[name] = [_check_threshold(name, value) for value in np.atleast_1d(np.asarray(grids[name], dtype=object))]
    _check_box(box)
    geometry = _check_polygon(polygon)
    _check_frame(check_ins)
    prepared = _prepare(check_ins)
    step_code = {"max_speed_kmh": SPEED, "stay_radius_m": STAY, "min_stay_minutes": STAY}
    rows = []
    for name, values in grids.items():
        for value in values:
            thresholds = dict(base, **{name: value})
            reasons = _reasons(prepared, box=box, geometry=geometry, **thresholds)
            _users, rows_kept, users_kept = _span_totals(prepared, reasons).sum(axis=0)
            rows.append(
                {
                    "parameter": name,
                    "value": value,
                    "rows_removed": int(np.count_nonzero(reasons == step_code[name])),
                    "rows_kept": int(rows_kept),
                    "users_kept": int(users_kept),
                    "baseline": value == base[name],
                }
            )
    return pd.DataFrame(rows, columns=["parameter", "value", "rows_removed", "rows_kept", "users_kept", "baseline"])
