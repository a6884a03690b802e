"""The check-ins frame: its columns and their checks, (user, time) order, dense user ids.

SNAP lists each user's check-ins together, users ascending, newest first; every step of
the cleaning needs them in (user, time) order. :func:`sort_by_user_time` finds that order
in O(n) for SNAP-like files (:func:`_run_order`) and the large arrays come from pyarrow's
memory pool (:func:`_empty`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
from numba import njit

RAW_COLUMNS = ("user", "time", "lat", "lon", "location_id")
CLEAN_COLUMNS = ("user", "snap_user", "time", "lat", "lon", "location_id")
ID_COLUMNS = ("user", "snap_user", "location_id")
_COORDINATE_LIMITS = {"lat": 90.0, "lon": 180.0}  # |value| <= limit, degrees
_INT64_MAX = np.iinfo(np.int64).max


def _check_frame(check_ins, *, columns=RAW_COLUMNS, name: str = "check_ins") -> None:
    """``ValueError`` unless ``check_ins`` is a frame with unique column names and ``columns`` holding valid values.

    Ids: non-negative integers that fit int64, none missing (a float column would round or
    truncate them); times: datetime64, none missing; latitudes and longitudes: finite, within
    +-90 and +-180 degrees.
    """
    if not isinstance(check_ins, pd.DataFrame):
        raise ValueError(f"{name} must be a pandas DataFrame, got {type(check_ins).__name__}")
    repeated = sorted({str(column) for column in check_ins.columns[check_ins.columns.duplicated()]})
    if repeated:
        raise ValueError(
            f"{name} has the columns {repeated} more than once ({list(check_ins.columns)}); "
            "keep one of each (e.g. check_ins.loc[:, ~check_ins.columns.duplicated()])"
        )
    missing = [column for column in columns if column not in check_ins.columns]
    if missing:
        raise ValueError(f"{name} lacks the columns {missing}; expected {list(columns)}, found {list(check_ins.columns)}")
    for column in columns:
        values = check_ins[column]
        if column in ID_COLUMNS:
            _check_ids(values, f"{name}['{column}']")
        elif column == "time":
            if not pd.api.types.is_datetime64_any_dtype(values):
                raise ValueError(f"{name}['time'] must be datetime64 (UTC), found dtype {values.dtype}")
            if values.hasnans:
                raise ValueError(f"{name}['time'] has {int(values.isna().sum())} missing values; drop or fix them first")
        elif column in _COORDINATE_LIMITS:
            _check_coordinates(values, f"{name}['{column}']", _COORDINATE_LIMITS[column])


def _check_ids(values: pd.Series, label: str) -> None:
    if pd.api.types.is_integer_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        if values.hasnans:  # nullable Int64 with <NA>
            raise ValueError(f"{label} has {int(values.isna().sum())} missing ids; drop or fix them first")
        if pd.api.types.is_unsigned_integer_dtype(values.dtype) and len(values) and values.max() > _INT64_MAX:
            too_large = int((values > _INT64_MAX).sum())
            raise ValueError(
                f"{label} has {too_large} ids above 2**63 - 1 (dtype {values.dtype}, largest {values.max()}); "
                "they would wrap around to negative int64 ids"
            )
        if pd.api.types.is_signed_integer_dtype(values.dtype) and len(values):
            negative = values.to_numpy() < 0
            if negative.any():
                first = int(np.flatnonzero(negative)[0])
                raise ValueError(
                    f"{label} has {int(negative.sum())} negative ids (first: {values.iloc[first]} at index "
                    f"{values.index[first]!r}); SNAP ids are non-negative, and a negative one is usually a "
                    "missing id in disguise (-1, or -2**63 from a cast): drop or fix them first"
                )
        return
    problem = f"found dtype {values.dtype}"
    if pd.api.types.is_float_dtype(values.dtype):
        numbers = values.to_numpy(dtype=np.float64)
        missing = int(np.count_nonzero(np.isnan(numbers)))
        with np.errstate(invalid="ignore"):
            fractional = int(np.count_nonzero(np.isfinite(numbers) & (numbers != np.round(numbers))))
        problem += f" with {missing} missing and {fractional} fractional values"
    raise ValueError(
        f"{label} must hold integer ids ({problem}); a missing id would become a phantom user and a "
        "fractional one would be truncated"
    )


def _check_coordinates(values: pd.Series, label: str, limit: float) -> None:
    if not pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
        raise ValueError(f"{label} must hold numbers (degrees), found dtype {values.dtype}")
    numbers = values.to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore"):
        bad = ~(np.abs(numbers) <= limit)  # NaN and infinities fail too
    if bad.any():
        kinds = {
            "missing": int(np.count_nonzero(np.isnan(numbers))),
            "infinite": int(np.count_nonzero(np.isinf(numbers))),
            f"beyond +-{limit:g} degrees": int(np.count_nonzero(np.isfinite(numbers) & bad)),
        }
        counts = ", ".join(f"{count} {kind}" for kind, count in kinds.items() if count)
        first = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{label} has {counts} values (first: {float(numbers[first])!r} at index {values.index[first]!r}); "
            "drop or fix them first"
        )


def _empty(length: int, dtype) -> np.ndarray:
    """``np.empty(length, dtype)`` in pyarrow's memory pool, the one the reader parses into.

    That pool keeps freed memory for the next allocation, where numpy's large arrays go back
    to the operating system and come back as fresh pages, whose first touch can cost more
    than the work (several times more in a virtual machine).
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


def _dense_from_grouped(snap: np.ndarray) -> np.ndarray:
    """Dense ids 0..n-1 of ids that are sorted ascending (int64)."""
    dense = np.zeros(len(snap), dtype=np.int64)
    np.cumsum(snap[1:] != snap[:-1], out=dense[1:])
    return dense


def assign_dense_ids(check_ins: pd.DataFrame) -> pd.DataFrame:
    """Number the users 0..n_users-1 in the order of their SNAP ids (``user``, or ``snap_user`` when present).

    Returns a copy (row order and index unchanged) whose ``user`` is dense (int64) and whose
    ``snap_user`` (int64, right after ``user``) keeps the SNAP id.
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
    """The same rows (index kept) ordered by user, then time (stable: ties keep their file order)."""
    _check_frame(check_ins)
    order = _sort_order(check_ins["user"].to_numpy(dtype=np.int64), _time_ns(check_ins["time"]))
    return check_ins.copy() if order is None else check_ins.take(order)
