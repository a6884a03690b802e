"""Cleaning check-ins: sort, drop duplicates, impossible jumps, repeats and points outside the city.

Every step is a function that takes the check-ins and returns the rows it keeps; its
threshold is a keyword argument. :func:`clean` runs them in order and returns the clean
check-ins with a :class:`CleaningReport` that counts every removed row by step and reason.

The speed and stay filters compare each check-in with the **previous kept** check-in of the
same user (the definition of scikit-mobility's ``filtering.filter``): dropping one check-in
changes what the next one is compared with, so both run as one compiled pass over the
sorted rows (:func:`_previous_kept_kernel`, shared by the two filters).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from numbers import Real

import numpy as np
import pandas as pd
from numba import njit

from .geo import EARTH_RADIUS_KM, NYC_BOX, BoundingBox

RAW_COLUMNS = ("user", "time", "lat", "lon", "location_id")
CLEAN_COLUMNS = ("user", "snap_user", "time", "lat", "lon", "location_id")
DUPLICATE_COLUMNS = ("user", "time", "lat", "lon", "location_id")

# Codes of the kernel's two modes, and of the reasons a row is removed.
_SPEED, _STAY = 0, 1
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


def _count_grouped(user: np.ndarray) -> int:
    """Distinct values of ids that are grouped (equal ids adjacent)."""
    return int(len(user) > 0) + int(np.count_nonzero(user[1:] != user[:-1]))


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


def _sort_order(user: np.ndarray, time_ns: np.ndarray):
    """Stable order by user, then time; None when the rows are in that order already."""
    if _is_sorted_by_user_time(user, time_ns):
        return None
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


def _duplicates_sorted(check_ins: pd.DataFrame, user: np.ndarray, time_ns: np.ndarray, order) -> np.ndarray:
    """Duplicate mask of rows sorted by user and time (True: identical to an earlier row).

    ``user`` and ``time_ns`` are in sorted order; ``order`` maps sorted positions to rows of
    ``check_ins`` (None when the frame itself is sorted). Identical rows share (user, time),
    so only rows in a group of equal (user, time) are compared column by column.
    """
    same_as_previous = np.zeros(len(user), dtype=bool)
    same_as_previous[1:] = (user[1:] == user[:-1]) & (time_ns[1:] == time_ns[:-1])
    in_tie = same_as_previous.copy()
    in_tie[:-1] |= same_as_previous[1:]
    mask = np.zeros(len(user), dtype=bool)
    if in_tie.any():
        candidates = np.flatnonzero(in_tie)
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
        mask = _duplicates_sorted(check_ins, user, time_ns, None)
    else:
        mask = check_ins.duplicated(subset=list(DUPLICATE_COLUMNS), keep="first").to_numpy()
    return check_ins[~mask]


# --------------------------------------------------------------------------- previous-kept filters


@njit(cache=True)
def _previous_kept_kernel(user, time_ns, lat, lon, active, mode, max_speed_kmh, stay_radius_km, min_stay_ns):
    """Keep mask of one sequential pass over check-ins sorted by user, then time.

    Rows with ``active`` False are skipped (already removed). The first active row of a
    user is kept and becomes the anchor; every later row is compared with the anchor, the
    previous kept row of the same user, and becomes the new anchor when kept.

    mode _SPEED: drop when distance / time from the anchor exceeds ``max_speed_kmh``
    (zero distance is speed 0; zero time with non-zero distance is infinite speed).
    mode _STAY: drop when within ``stay_radius_km`` of the anchor and less than
    ``min_stay_ns`` after it.
    """
    n = user.shape[0]
    keep = np.zeros(n, dtype=np.bool_)
    to_rad = math.pi / 180.0
    anchor = -1
    anchor_lat = 0.0
    anchor_lon = 0.0
    anchor_cos = 0.0
    for i in range(n):
        if not active[i]:
            continue
        lat_i = lat[i] * to_rad
        lon_i = lon[i] * to_rad
        cos_i = math.cos(lat_i)
        if anchor < 0 or user[i] != user[anchor]:
            drop = False
        else:
            dt_ns = time_ns[i] - time_ns[anchor]
            if mode == _STAY and dt_ns >= min_stay_ns:
                drop = False  # long enough after the anchor: no need for the distance
            else:
                sin_half_dlat = math.sin((lat_i - anchor_lat) / 2.0)
                sin_half_dlon = math.sin((lon_i - anchor_lon) / 2.0)
                a = sin_half_dlat * sin_half_dlat + anchor_cos * cos_i * (sin_half_dlon * sin_half_dlon)
                a = min(max(a, 0.0), 1.0)
                distance_km = 2.0 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))
                if mode == _SPEED:
                    if distance_km == 0.0:
                        drop = False
                    elif dt_ns <= 0:
                        drop = True
                    else:
                        drop = distance_km / (dt_ns / _NS_PER_HOUR) > max_speed_kmh
                else:
                    drop = distance_km <= stay_radius_km
        if not drop:
            keep[i] = True
            anchor = i
            anchor_lat = lat_i
            anchor_lon = lon_i
            anchor_cos = cos_i
    return keep


def _previous_kept(arrays, active, *, mode, max_speed_kmh=np.inf, stay_radius_km=0.0, min_stay_minutes=0.0):
    """Run the kernel; ``min_stay_minutes`` becomes whole nanoseconds (an exact integer test)."""
    user, time_ns, lat, lon = arrays
    min_stay_ns = np.int64(round(min(min_stay_minutes * _NS_PER_MINUTE, 2.0**62)))
    return _previous_kept_kernel(
        user, time_ns, lat, lon, active, mode, float(max_speed_kmh), float(stay_radius_km), min_stay_ns
    )


def _arrays(check_ins: pd.DataFrame):
    return (
        np.ascontiguousarray(check_ins["user"].to_numpy(dtype=np.int64)),
        np.ascontiguousarray(_time_ns(check_ins["time"])),
        np.ascontiguousarray(check_ins["lat"].to_numpy(dtype=np.float64)),
        np.ascontiguousarray(check_ins["lon"].to_numpy(dtype=np.float64)),
    )


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
    max_speed_kmh = _check_threshold("max_speed_kmh", max_speed_kmh)
    _check_frame(check_ins)
    _require_sorted(check_ins)
    active = np.ones(len(check_ins), dtype=np.bool_)
    return check_ins[_previous_kept(_arrays(check_ins), active, mode=_SPEED, max_speed_kmh=max_speed_kmh)]


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
    _check_frame(check_ins)
    _require_sorted(check_ins)
    active = np.ones(len(check_ins), dtype=np.bool_)
    keep = _previous_kept(
        _arrays(check_ins),
        active,
        mode=_STAY,
        stay_radius_km=stay_radius_m / 1000.0,
        min_stay_minutes=min_stay_minutes,
    )
    return check_ins[keep]


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
    """The sort order of the check-ins, their sorted arrays and the duplicate mask."""

    check_ins: pd.DataFrame
    order: np.ndarray | None  # sorted position -> row of check_ins; None when already sorted
    arrays: tuple  # user, time_ns, lat, lon in sorted order
    duplicate: np.ndarray

    def rows(self, mask: np.ndarray) -> np.ndarray:
        """Positions in ``check_ins`` of the sorted rows selected by ``mask``."""
        return np.flatnonzero(mask) if self.order is None else self.order[mask]


def _prepare(check_ins: pd.DataFrame) -> _Prepared:
    user = check_ins["user"].to_numpy(dtype=np.int64)
    time_ns = _time_ns(check_ins["time"])
    lat = check_ins["lat"].to_numpy(dtype=np.float64)
    lon = check_ins["lon"].to_numpy(dtype=np.float64)
    order = _sort_order(user, time_ns)
    if order is not None:
        user, time_ns, lat, lon = user[order], time_ns[order], lat[order], lon[order]
    arrays = tuple(np.ascontiguousarray(values) for values in (user, time_ns, lat, lon))
    duplicate = _duplicates_sorted(check_ins, user, time_ns, order)
    return _Prepared(check_ins, order, arrays, duplicate)


def _reasons(prepared: _Prepared, *, max_speed_kmh, stay_radius_m, min_stay_minutes, box, geometry, stop_when_empty):
    """Reason code per sorted row (KEPT, DUPLICATE, SPEED, STAY, OUTSIDE)."""
    reasons = np.where(prepared.duplicate, DUPLICATE, KEPT).astype(np.int8)
    active = ~prepared.duplicate

    def _check_left(step, parameter):
        if stop_when_empty and not active.any():
            raise ValueError(f"the {step} step left no check-ins ({parameter}); relax it or check the data")

    _check_left("exact duplicates", "no parameter")
    keep = _previous_kept(prepared.arrays, active, mode=_SPEED, max_speed_kmh=max_speed_kmh)
    reasons[active & ~keep] = SPEED
    active = keep
    _check_left("speed", f"max_speed_kmh={max_speed_kmh}")
    keep = _previous_kept(
        prepared.arrays,
        active,
        mode=_STAY,
        stay_radius_km=stay_radius_m / 1000.0,
        min_stay_minutes=min_stay_minutes,
    )
    reasons[active & ~keep] = STAY
    active = keep
    _check_left("stays", f"stay_radius_m={stay_radius_m}, min_stay_minutes={min_stay_minutes}")
    _user, _time, lat, lon = prepared.arrays
    inside = _inside(lat, lon, box=box, geometry=geometry)
    reasons[active & ~inside] = OUTSIDE
    active &= inside
    _check_left("box", "polygon" if geometry is not None else f"box={box}")
    return reasons


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
        box=box, geometry=geometry, stop_when_empty=False,
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
        box=box, geometry=geometry, stop_when_empty=True,
    )
    counts = np.bincount(reasons, minlength=len(REASON_NAMES))
    for code in (DUPLICATE, SPEED, STAY, OUTSIDE):
        step, reason = _reason_text(
            code, max_speed_kmh=max_speed_kmh, stay_radius_m=stay_radius_m, min_stay_minutes=min_stay_minutes,
            box=box, geometry=geometry,
        )
        steps.append((step, reason, int(counts[code])))
    kept = reasons == KEPT
    rows = prepared.rows(kept)
    snap_user = prepared.arrays[0][kept]
    clean_check_ins = pd.DataFrame(
        {
            "user": _dense_from_grouped(snap_user),
            "snap_user": snap_user,
            "time": check_ins["time"].array.take(rows),
            "lat": prepared.arrays[2][kept],
            "lon": prepared.arrays[3][kept],
            "location_id": check_ins["location_id"].to_numpy(dtype=np.int64)[rows],
        },
        index=pd.RangeIndex(len(snap_user)),
        copy=False,  # the columns are fresh arrays: no need to consolidate them into new blocks
    )
    report = CleaningReport(
        rows_in=rows_in,
        steps=steps,
        rows_out=len(clean_check_ins),
        users_in=_count_grouped(prepared.arrays[0]),
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
            reasons = _reasons(prepared, box=box, geometry=geometry, stop_when_empty=False, **thresholds)
            kept = reasons == KEPT
            rows.append(
                {
                    "parameter": name,
                    "value": value,
                    "rows_removed": int(np.count_nonzero(reasons == step_code[name])),
                    "rows_kept": int(np.count_nonzero(kept)),
                    "users_kept": _count_grouped(prepared.arrays[0][kept]),
                    "baseline": value == base[name],
                }
            )
    return pd.DataFrame(rows, columns=["parameter", "value", "rows_removed", "rows_kept", "users_kept", "baseline"])
