"""The cleaning steps: sort, drop duplicates, impossible jumps, repeats and points outside the city.

Every step is a function that takes the check-ins and a :class:`Thresholds` (or keyword
overrides of its fields) and returns the rows it keeps. :func:`clean` runs them in order
and returns the clean check-ins with a :class:`CleaningReport` that counts every removed
row by step and reason; :func:`label_removals` names the step that removes each row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .kernel import (
    _NO_ORDER, _NONE, DUPLICATE, DUPLICATE_COLUMNS, KEPT, OUTSIDE, REASON_NAMES, SPEED, STAY, _columns, _duplicate_mask, _inside,
    _kept_columns, _kernel_thresholds, _over_spans, _prepare, _reasons, _removal_kernel, _times_like, _user_spans,
)
from .order import _check_frame, _empty, _is_sorted_by_user_time, _require_sorted, _time_ns
from .report import CleaningReport, _read_steps, step_texts
from .thresholds import Thresholds


def drop_exact_duplicates(check_ins: pd.DataFrame) -> pd.DataFrame:
    """Drop check-ins identical to an earlier one in user, time, lat, lon and location_id (index kept)."""
    _check_frame(check_ins)
    user = check_ins["user"].to_numpy(dtype=np.int64)
    time_ns = _time_ns(check_ins["time"])
    if _is_sorted_by_user_time(user, time_ns):
        mask = _duplicate_mask(check_ins, None, user, time_ns)
    else:
        mask = check_ins.duplicated(subset=list(DUPLICATE_COLUMNS), keep="first").to_numpy()
    return check_ins[~mask]


def _one_filter(check_ins: pd.DataFrame, thresholds, overrides, *, off: str) -> pd.DataFrame:
    """The rows the kernel keeps with one of the speed and stay steps (sorted input): those of
    ``thresholds`` with ``overrides``, the other step's field ``off`` set to ``None``."""
    thresholds = Thresholds.of(Thresholds.of(thresholds, **overrides), **{off: None})
    _check_frame(check_ins)
    _require_sorted(check_ins)
    user, time_ns, lat, lon = _columns(check_ins)
    reasons = _empty(len(user), np.int8)
    _over_spans(
        _removal_kernel, _user_spans(_NO_ORDER, user), _NO_ORDER, user, time_ns, lat, lon, _NONE, _NONE,
        *_kernel_thresholds(thresholds), reasons,
    )
    return check_ins[reasons == KEPT]


def filter_speed(check_ins: pd.DataFrame, thresholds: Thresholds | None = None, **overrides) -> pd.DataFrame:
    """Drop check-ins reached faster than ``max_speed_kmh`` from the previous kept one; the kept rows (index kept).

    The definition of scikit-mobility's ``filtering.filter``: the first check-in of a user
    is kept; each later one is dropped when the great-circle distance from the previous
    *kept* check-in of the same user, divided by the time between them, exceeds
    ``max_speed_kmh``. Zero time with a non-zero distance is an infinite speed; zero
    distance is speed 0. ``check_ins`` must be sorted by user, then time
    (:func:`sort_by_user_time`); of ``thresholds`` (default :class:`Thresholds()`, with
    ``**overrides`` of its fields, e.g. ``max_speed_kmh=250.0``) only ``max_speed_kmh`` is used.
    """
    return _one_filter(check_ins, thresholds, overrides, off="stay_radius_m")


def filter_stays(check_ins: pd.DataFrame, thresholds: Thresholds | None = None, **overrides) -> pd.DataFrame:
    """Drop repeats: check-ins close in space and time to the previous kept one; the kept rows (index kept).

    A check-in within ``stay_radius_m`` (edge included) of the previous kept check-in of the
    same user and less than ``min_stay_minutes`` after it says nothing new about where the
    user goes. Arguments as for :func:`filter_speed`; only those two thresholds are used.
    """
    return _one_filter(check_ins, thresholds, overrides, off="max_speed_kmh")


def filter_box(check_ins: pd.DataFrame, thresholds: Thresholds | None = None, **overrides) -> pd.DataFrame:
    """Keep the check-ins (``lat``, ``lon``) inside the city: ``box``, or ``polygon`` when given (boundary included).

    Arguments as for :func:`filter_speed` (e.g. ``polygon=manhattan``); only ``box`` and
    ``polygon`` are used. Returns the kept rows (index kept).
    """
    thresholds = Thresholds.of(thresholds, **overrides)
    _check_frame(check_ins, columns=("lat", "lon"))
    lat = check_ins["lat"].to_numpy(dtype=np.float64)
    lon = check_ins["lon"].to_numpy(dtype=np.float64)
    return check_ins[_inside(lat, lon, thresholds)]


def _require_rows_left(counts, thresholds: Thresholds) -> None:
    """``ValueError`` naming the first step after which no check-in is left (``counts``: rows per reason)."""
    removed = counts.copy()
    removed[KEPT] = 0
    left = counts.sum() - np.cumsum(removed)  # rows left after each step, by its code
    steps = (
        (DUPLICATE, "exact duplicates", "no parameter"),
        (SPEED, "speed", f"max_speed_kmh={thresholds.max_speed_kmh}"),
        (STAY, "stays", f"stay_radius_m={thresholds.stay_radius_m}, min_stay_minutes={thresholds.min_stay_minutes}"),
        (OUTSIDE, "box", "polygon" if thresholds.geometry is not None else f"box={thresholds.box}"),
    )
    for code, step, parameter in steps:
        if left[code] == 0:
            raise ValueError(f"the {step} step left no check-ins ({parameter}); relax it or check the data")


def label_removals(check_ins: pd.DataFrame, thresholds: Thresholds | None = None, **overrides) -> pd.DataFrame:
    """The check-ins sorted by user and time, each labelled with the step that removes it.

    Same parameters as :func:`clean`. Returns the sorted rows (index kept) with a column
    ``removed_by``: ``""`` for kept rows, else ``"duplicate"``, ``"speed"``, ``"stay"`` or
    ``"outside"`` (the reasons removed rows are drawn with on the map of removed points).
    """
    thresholds = Thresholds.of(thresholds, **overrides)
    _check_frame(check_ins)
    prepared = _prepare(check_ins)
    reasons = _reasons(prepared, thresholds)
    labelled = prepared.check_ins.take(prepared.rows(np.ones(len(check_ins), dtype=bool)))
    labelled.attrs = {}
    names = np.array([REASON_NAMES[code] for code in sorted(REASON_NAMES)], dtype=object)
    labelled["removed_by"] = names[reasons]
    return labelled


def clean(check_ins: pd.DataFrame, thresholds: Thresholds | None = None, **overrides):
    """Clean raw check-ins: sort by user and time, drop exact duplicates, :func:`filter_speed` and
    :func:`filter_stays` on each user's whole trajectory, :func:`filter_box`, then dense user ids.

    ``check_ins``: raw check-ins (``user``, ``time``, ``lat``, ``lon``, ``location_id``), in any order; the lines
    :func:`checkin_traj.data.snap.read_checkins` skipped (``attrs["read_report"]``) open the report. ``thresholds``:
    the steps' settings (default :class:`Thresholds()`), with ``**overrides`` of its fields; ``None`` switches a step
    off, e.g. ``clean(check_ins, max_speed_kmh=250.0)``.

    Returns ``(clean_check_ins, report)``: columns ``user`` (dense 0..n_users-1), ``snap_user``, ``time``, ``lat``,
    ``lon``, ``location_id``, sorted by user, then time, index 0..n-1; and the :class:`CleaningReport` (rows removed
    per step and reason).

    ``ValueError`` for a bad threshold or column (before any work) or when a step leaves no
    check-ins (naming it); ``TypeError``: for an unknown keyword.
    """
    thresholds = Thresholds.of(thresholds, **overrides)
    _check_frame(check_ins)
    if len(check_ins) == 0:
        raise ValueError("check_ins is empty: there is nothing to clean")
    rows_in, steps = _read_steps(check_ins)
    prepared = _prepare(check_ins)
    reasons = _reasons(prepared, thresholds)
    counts = np.bincount(reasons, minlength=len(REASON_NAMES))
    _require_rows_left(counts, thresholds)
    for code, (step, reason) in step_texts(thresholds).items():
        steps.append((step, reason, int(counts[code])))
    users_in, (dense, snap_user, times, lats, lons, locations) = _kept_columns(
        prepared, reasons, check_ins["location_id"].to_numpy(dtype=np.int64)
    )
    columns = {"user": dense, "snap_user": snap_user, "time": _times_like(times, check_ins["time"]), "lat": lats,
               "lon": lons, "location_id": locations}
    # the columns are fresh arrays: no need to consolidate them into new blocks
    clean_check_ins = pd.DataFrame(columns, index=pd.RangeIndex(len(snap_user)), copy=False)
    report = CleaningReport(rows_in=rows_in, steps=steps, rows_out=len(clean_check_ins), users_in=users_in,
                            users_out=int(clean_check_ins["user"].iat[-1] + 1))
    return clean_check_ins, report
