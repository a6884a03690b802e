"""Tables as CSV or Parquet files, written atomically."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pv

from .atomic import atomic_path
from .snap import SNAP_TIME_FORMAT, InputError

_TABLE_SUFFIXES = (".csv", ".parquet")


def _table_format(path):
    suffix = Path(path).suffix.lower()
    if suffix not in _TABLE_SUFFIXES:
        raise ValueError(f"path must end with one of {_TABLE_SUFFIXES}, got {os.fspath(path)!r}")
    return suffix[1:]


def write_table(frame, path):
    """Write a frame, without its index, as CSV or Parquet (by ``path``'s suffix, else ValueError), atomically.

    In CSV, tz-aware times are written as ISO-8601 UTC (``2010-10-12T00:21:28Z``, with
    fractional seconds only when needed).
    """
    kind = _table_format(path)
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"frame must be a pandas DataFrame, got {type(frame).__name__}")
    with atomic_path(path) as temporary:
        if kind == "parquet":
            frame.to_parquet(temporary, index=False)
        else:
            pv.write_csv(_csv_ready(frame), temporary, write_options=pv.WriteOptions(quoting_style="needed"))


def _csv_ready(frame):
    columns = {}
    for name in frame.columns:
        values = frame[name]
        if isinstance(values.dtype, pd.DatetimeTZDtype):
            times = pa.array(values.dt.tz_convert("UTC")).cast(pa.timestamp("ns", tz="UTC"))
            nanoseconds = pc.cast(times, pa.int64()).to_numpy(zero_copy_only=False)
            whole_seconds = bool(np.all(nanoseconds[~values.isna().to_numpy()] % 10**9 == 0))
            if whole_seconds:
                text = pc.strftime(times.cast(pa.timestamp("s", tz="UTC")), format=SNAP_TIME_FORMAT)
            else:
                text = pc.strftime(times, format="%Y-%m-%dT%H:%M:%SZ")
            columns[str(name)] = text
        else:
            columns[str(name)] = pa.array(values, from_pandas=True)
    return pa.table(columns)


def read_table(path):
    """Read a ``.csv`` or ``.parquet`` table written by :func:`write_table` (tz-aware times as ``datetime64[ns, UTC]``)."""
    kind = _table_format(path)
    path_text = os.fspath(path)
    if not os.path.exists(path_text):
        raise FileNotFoundError(errno.ENOENT, f"table not found: {path_text}", path_text)
    # opened here, not by pyarrow, so that the build's audit hook sees what a chapter read
    with open(path_text, "rb") as handle:
        if kind == "parquet":
            try:
                frame = pd.read_parquet(handle)
            except (pa.ArrowInvalid, OSError) as exc:  # empty, truncated or not Parquet at all
                raise InputError(path_text, None, f"not a readable Parquet table ({exc})") from exc
        else:
            try:
                frame = pv.read_csv(handle).to_pandas()
            except pa.ArrowInvalid as exc:
                raise InputError(path_text, None, f"not a readable CSV table ({exc})") from exc
        binary = [name for name, dtype in zip(frame.columns, frame.dtypes) if _is_bytes_column(frame[name])]
        if binary:
            raise InputError(path_text, None, f"the columns {binary} are not valid UTF-8 text (a file in another encoding?)")
    for name in frame.columns:
        if isinstance(frame[name].dtype, pd.DatetimeTZDtype):
            frame[name] = frame[name].dt.tz_convert("UTC").astype("datetime64[ns, UTC]")
    return frame


def _is_bytes_column(values) -> bool:
    """Whether pyarrow read a CSV column as binary (it does for bytes that are not UTF-8)."""
    if values.dtype != object or values.empty:
        return False
    first = values.dropna()
    return not first.empty and isinstance(first.iloc[0], bytes)
