"""Sliding windows over each user's check-ins, a chronological split, and scalers.

The previous ``window`` check-ins of a user predict the next one's
``TARGETS = ("gap", "lon", "lat")``: **when** it comes, as the gap after the last input
check-in (``log(1 + minutes)``), and **where**. The gap, not the absolute timestamp, is the
time target because the timestamp is free: "the next check-in is at the last one's time"
scores R² near 1 on a calendar of years while saying nothing about *when* a person returns.
A window belongs to the split of its *target* check-in (its inputs are the past, not
leakage); scalers are fitted on training rows only (:func:`build_windows`).
"""

from __future__ import annotations

from collections.abc import Sequence
import hashlib
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.preprocessing import MinMaxScaler

from .checks import check_fraction, check_int

#: What every model predicts for the next check-in: the gap after the last input check-in
#: (``log1p`` of minutes), longitude and latitude (degrees). ``TARGETS[0]`` is the gap.
TARGETS = ("gap", "lon", "lat")

#: The raw unit of each target (``WindowedData.inverse_targets`` returns these).
TARGET_UNITS = {
    "gap": "log(1 + minutes from the last input check-in to the next one)",
    "lon": "degrees longitude",
    "lat": "degrees latitude",
}

#: Every input feature :func:`build_windows` can compute, per check-in.
#: time: Unix seconds; lon, lat: degrees; hour_*: hour of day (local) and dow_*: day of week
#: (local, Monday = 0, fractional) on the unit circle; log_gap_minutes: log(1 + minutes since
#: the user's previous check-in), 0 for the first.
KNOWN_FEATURES = ("time", "lon", "lat", "hour_sin", "hour_cos", "dow_sin", "dow_cos", "log_gap_minutes")

#: The default input features (all of :data:`KNOWN_FEATURES`).
FEATURES = KNOWN_FEATURES

#: The three features the article's models read: the check-in's time, longitude and latitude.
ARTICLE_FEATURES = ("time", "lon", "lat")

SPLITS = ("train", "val", "test")
SPLIT_LABELS = ("train", "val", "test", "dropped")
_REQUIRED_COLUMNS = ("user", "time", "lat", "lon", "location_id")
_FRACTION_SLACK = 1e-9  # so that 0.29 * 100 counts as 29 check-ins, not 28


@dataclass
class Split:
    """The windows of one split (``n`` windows).

    ``x``, float32 (n, window, n_features): scaled input features of the ``window`` check-ins before each target.
    ``y``, ``last``, float32 (n, 3): scaled targets (gap, lon, lat) of the target check-in, and of the last input
    check-in (its gap is the one before it, 0 for a user's first), so a model can predict ``y - last``; ``y_raw``,
    ``last_raw``, float64 (n, 3): the same in raw units (:data:`TARGET_UNITS`). ``user``, ``target_row``, int64 (n,):
    dense user id of each window; row of the target check-in in :attr:`WindowedData.check_ins`. ``time_raw``,
    ``last_time_raw``, float64 (n,): Unix seconds of the target and the last input check-in (for plots; no model
    predicts them).
    """

    x: np.ndarray
    y: np.ndarray
    last: np.ndarray
    y_raw: np.ndarray
    last_raw: np.ndarray
    user: np.ndarray
    target_row: np.ndarray
    time_raw: np.ndarray = field(default_factory=lambda: np.empty(0))
    last_time_raw: np.ndarray = field(default_factory=lambda: np.empty(0))

    def __len__(self):
        return len(self.y)

    def select_features(self, columns) -> "Split":
        """The same windows with only the feature columns ``columns`` (positions) of ``x``."""
        return replace(self, x=np.ascontiguousarray(self.x[:, :, list(columns)]))


@dataclass
class WindowedData:
    """Windows for training, validation and test (:class:`Split` ``train``, ``val``, ``test``), with the scalers.

    ``feature_names``, ``target_names``: names of the last axis of ``x``; :data:`TARGETS`. ``window``: input check-ins
    per window. ``target_scaler``, ``feature_scaler`` (``MinMaxScaler``): fitted on the training rows' (gap, lon, lat),
    and on their features, each column on its own (for ``lon``, ``lat`` and ``log_gap_minutes`` it equals the target
    scaler's). ``check_ins``: the clean check-ins (index 0..n-1) with a categorical ``split`` column: ``"train"``,
    ``"val"``, ``"test"`` or ``"dropped"`` (user with too few check-ins). ``report``: counts (users, rows and windows
    per split); ``parameters``: those used (:meth:`protocol`). ``held_out_user_ids`` (int64): users whose every
    check-in is test (none unless ``held_out_users > 0``).
    """

    train: Split
    val: Split
    test: Split
    feature_names: tuple
    target_names: tuple
    window: int
    target_scaler: MinMaxScaler
    feature_scaler: MinMaxScaler
    check_ins: pd.DataFrame
    report: dict
    parameters: dict = field(default_factory=dict)
    held_out_user_ids: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))

    @property
    def n_features(self) -> int:
        """Features per check-in (the last axis of ``x``)."""
        return len(self.feature_names)

    def split(self, name: str) -> Split:
        """The :class:`Split` called ``name`` (``"train"``, ``"val"`` or ``"test"``)."""
        if name not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {name!r}")
        return getattr(self, name)

    def with_features(self, names) -> "WindowedData":
        """The same windows, targets and scalers, with only the input features ``names``: exactly what
        :func:`build_windows` with ``features=names`` would give (the feature scaler scales each
        column on its own). ``ValueError`` names a feature these windows do not have."""
        if names is None:
            return self
        names = tuple(names)
        missing = [name for name in names if name not in self.feature_names]
        if missing or not names:
            raise ValueError(f"features {missing or list(names)} are not among these windows' {list(self.feature_names)}")
        columns = [self.feature_names.index(name) for name in names]
        return replace(
            self,
            train=self.train.select_features(columns),
            val=self.val.select_features(columns),
            test=self.test.select_features(columns),
            feature_names=names,
            parameters={**self.parameters, "features": list(names)},
        )

    def inverse_targets(self, y_scaled) -> np.ndarray:
        """Scaled (gap, lon, lat) targets or predictions ``(n, 3)`` back to raw units (:data:`TARGET_UNITS`), float64."""
        y_scaled = np.asarray(y_scaled, dtype=np.float64)
        if y_scaled.ndim != 2 or y_scaled.shape[1] != len(TARGETS):
            raise ValueError(f"y_scaled must have shape (n, {len(TARGETS)}), got {y_scaled.shape}")
        return self.target_scaler.inverse_transform(y_scaled)

    def protocol(self) -> dict:
        """The parameters of :func:`build_windows` used, JSON-able: ``build_windows(check_ins, **data.protocol())``
        rebuilds identical windows from the same clean check-ins."""
        return dict(self.parameters)


def _check_parameters(window, test_fraction, val_fraction, min_checkins, features, held_out_users, seed, timezone):
    window, seed = check_int("window", window, minimum=1), check_int("seed", seed, minimum=0)
    test_fraction = check_fraction("test_fraction", test_fraction, low_open=True)
    val_fraction = check_fraction("val_fraction", val_fraction, low_open=True)
    if test_fraction + val_fraction >= 1.0:
        raise ValueError(
            f"test_fraction + val_fraction must be < 1 to leave training check-ins, got "
            f"{test_fraction} + {val_fraction} = {test_fraction + val_fraction}"
        )
    if min_checkins is not None:
        min_checkins = check_int("min_checkins", min_checkins, minimum=window + 1)
    if isinstance(features, str) or not isinstance(features, Sequence) or len(features) == 0:
        raise ValueError(f"features must be a non-empty sequence of names from {KNOWN_FEATURES}, got {features!r}")
    unknown = [name for name in features if name not in KNOWN_FEATURES]
    if unknown:
        raise ValueError(f"features: unknown names {unknown}; known features are {KNOWN_FEATURES}")
    if len(set(features)) != len(features):
        raise ValueError(f"features must not repeat a name, got {list(features)}")
    held_out_users = check_fraction("held_out_users", held_out_users)
    if timezone is not None:
        try:
            pd.Timestamp(0, tz="UTC").tz_convert(timezone)
        except Exception as error:  # pytz/zoneinfo raise different types
            raise ValueError(f"timezone must be an IANA name such as 'America/New_York', got {timezone!r}") from error
    return window, test_fraction, val_fraction, min_checkins, tuple(features), held_out_users, seed


def _check_check_ins(check_ins):
    if not isinstance(check_ins, pd.DataFrame):
        raise ValueError(f"check_ins must be a pandas DataFrame, got {type(check_ins).__name__}")
    missing = [name for name in _REQUIRED_COLUMNS if name not in check_ins.columns]
    if missing:
        raise ValueError(f"check_ins lacks columns {missing}; clean check-ins have {list(_REQUIRED_COLUMNS)}")
    if len(check_ins) == 0:
        raise ValueError("check_ins is empty")
    if not pd.api.types.is_datetime64_any_dtype(check_ins["time"]):
        raise ValueError(f"check_ins['time'] must be datetime64 (UTC), got {check_ins['time'].dtype}")
    for name in ("lat", "lon"):
        values = check_ins[name].to_numpy(dtype=np.float64)
        bad = np.flatnonzero(~np.isfinite(values))
        if len(bad):
            raise ValueError(f"check_ins[{name!r}] is not finite at row {bad[0]} ({len(bad)} rows)")
    if check_ins["time"].isna().any():
        raise ValueError(f"check_ins['time'] is missing at row {int(np.flatnonzero(check_ins['time'].isna())[0])}")


def _utc(times) -> pd.DatetimeIndex:
    index = pd.DatetimeIndex(times)
    return index.tz_localize("UTC") if index.tz is None else index


def unix_seconds(times) -> np.ndarray:
    """Seconds since the epoch (float64) of datetimes, naive ones read as UTC."""
    return _utc(times).as_unit("ns").asi8 / 1e9


def row_matrices(check_ins, unix, same_user_as_previous, timezone, features) -> tuple:
    """The unscaled ``features`` (columns in that order) and targets (:data:`TARGETS`) of every row of
    ``check_ins``, float64; ``same_user_as_previous`` (bool per row) says whose previous check-in a
    row's gap follows (none: 0). The one rule for training windows and new histories alike."""
    every = _row_features(check_ins, unix, same_user_as_previous, timezone)
    return np.column_stack([every[name] for name in features]), np.column_stack([every[name] for name in ("log_gap_minutes", "lon", "lat")])


def _row_features(check_ins, unix, same_user_as_previous, timezone) -> dict:
    """Every known feature per row, float64 (unscaled)."""
    index = _utc(check_ins["time"])
    local = index.tz_convert(timezone) if timezone else index
    hour = local.hour.to_numpy() + local.minute.to_numpy() / 60.0 + local.second.to_numpy() / 3600.0
    day = local.day_of_week.to_numpy() + hour / 24.0
    gap_s = np.zeros_like(unix)
    gap_s[1:] = np.where(same_user_as_previous[1:], unix[1:] - unix[:-1], 0.0)
    return {
        "time": unix,
        "lon": check_ins["lon"].to_numpy(dtype=np.float64),
        "lat": check_ins["lat"].to_numpy(dtype=np.float64),
        "hour_sin": np.sin(2 * np.pi * hour / 24.0),
        "hour_cos": np.cos(2 * np.pi * hour / 24.0),
        "dow_sin": np.sin(2 * np.pi * day / 7.0),
        "dow_cos": np.cos(2 * np.pi * day / 7.0),
        "log_gap_minutes": np.log1p(gap_s / 60.0),
    }


def split_sizes(counts, *, test_fraction=0.2, val_fraction=0.1):
    """How many of each user's ``counts`` check-ins are training, validation and test: ``(n_train, n_val,
    n_test)`` arrays; the last two are shares of the history, at least one each (``n_train`` may be <= 0)."""
    counts = np.asarray(counts, dtype=np.int64)
    n_test = np.maximum(1, np.floor(test_fraction * counts + _FRACTION_SLACK)).astype(np.int64)
    n_val = np.maximum(1, np.floor(val_fraction * counts + _FRACTION_SLACK)).astype(np.int64)
    return counts - n_test - n_val, n_val, n_test


def default_min_checkins(*, window=10, test_fraction=0.2, val_fraction=0.1, max_count=100_000):
    """The smallest history ``n`` from which every longer one has a training window (``n_train - window``
    of them, :func:`split_sizes`), and therefore validation and test windows too."""
    counts = np.arange(1, max_count + 1)
    n_train, _, _ = split_sizes(counts, test_fraction=test_fraction, val_fraction=val_fraction)
    too_short = np.flatnonzero(n_train < window + 1)
    return int(counts[too_short[-1]] + 1) if len(too_short) else 1


def build_windows(
    check_ins, *, window=10, test_fraction=0.2, val_fraction=0.1, min_checkins=None, features=FEATURES, held_out_users=0.0,
    seed=0, timezone="America/New_York",
) -> WindowedData:
    """Cut each user's clean check-ins into windows and split them chronologically: a :class:`WindowedData`.

    ``check_ins``: clean check-ins (``user``, ``time`` UTC, ``lat``, ``lon``, ``location_id``), sorted by user then
    time, as :func:`checkin_traj.cleaning.clean` returns them. ``window``: input check-ins per window (>= 1).
    ``test_fraction``, ``val_fraction``: shares (0..1, open) of each user's check-ins, the latest, whose windows are
    test, and of those just before them that are validation. ``min_checkins``: users with fewer check-ins are dropped
    (and counted); at least ``window + 1``; default: the smallest history with windows in all three splits
    (:func:`default_min_checkins`). ``features``: input features, a subset of :data:`KNOWN_FEATURES`, in this order.
    ``held_out_users``: share of kept users (drawn with ``seed``) whose every window is test, to measure how a model
    does on people it never saw; 0 (default) holds out nobody. ``timezone``: IANA time zone for hour of day and day
    of week (default New York); None uses UTC.

    Raises ``ValueError``: for bad parameters (naming the parameter), columns or ordering of
    ``check_ins``, a window longer than every user's history, or no user left.
    """
    window, test_fraction, val_fraction, min_checkins, features, held_out_users, seed = _check_parameters(
        window, test_fraction, val_fraction, min_checkins, features, held_out_users, seed, timezone
    )
    _check_check_ins(check_ins)
    check_ins = check_ins.reset_index(drop=True)
    user = check_ins["user"].to_numpy(dtype=np.int64)
    unix = unix_seconds(check_ins["time"])
    n_rows = len(check_ins)

    step_user = np.diff(user)
    unsorted = np.flatnonzero((step_user < 0) | ((step_user == 0) & (np.diff(unix) < 0)))
    if len(unsorted):
        raise ValueError(f"check_ins must be sorted by user, then time: row {unsorted[0] + 1} comes before row {unsorted[0]}")

    # Users as contiguous blocks of rows.
    starts = np.flatnonzero(np.r_[True, step_user != 0])
    counts = np.diff(np.r_[starts, n_rows])
    user_ids = user[starts]
    position = np.arange(n_rows) - np.repeat(starts, counts)
    if counts.max() <= window:
        raise ValueError(
            f"window={window} is longer than every user's history (the longest has {counts.max()} check-ins); "
            f"a window needs window + 1 check-ins"
        )

    threshold = min_checkins
    if threshold is None:
        threshold = default_min_checkins(
            window=window, test_fraction=test_fraction, val_fraction=val_fraction, max_count=int(counts.max()) + 1
        )
    kept = counts >= threshold
    if not kept.any():
        raise ValueError(
            f"min_checkins={threshold}: no user has that many check-ins (the longest has {counts.max()}); "
            f"lower min_checkins or window"
        )

    held_out = np.zeros(len(counts), dtype=bool)
    n_held_out = int(round(held_out_users * kept.sum()))
    if n_held_out >= kept.sum():
        raise ValueError(f"held_out_users={held_out_users} would hold out all {kept.sum()} kept users")
    if n_held_out:
        rng = np.random.default_rng(seed)
        held_out[rng.choice(np.flatnonzero(kept), size=n_held_out, replace=False)] = True

    n_train, n_val, _ = split_sizes(counts, test_fraction=test_fraction, val_fraction=val_fraction)
    row_train, row_val = np.repeat(n_train, counts), np.repeat(n_val, counts)
    label = np.full(n_rows, 2, dtype=np.int8)  # test
    label[position < row_train + row_val] = 1
    label[position < row_train] = 0
    label[np.repeat(held_out, counts)] = 2
    label[~np.repeat(kept, counts)] = 3
    check_ins["split"] = pd.Categorical.from_codes(label, categories=list(SPLIT_LABELS))

    # Per-row features and targets; scalers fitted on training rows only.
    same_user_as_previous = np.r_[False, step_user == 0]
    feature_matrix, target_matrix = row_matrices(check_ins, unix, same_user_as_previous, timezone, features)
    is_train = label == 0
    if not is_train.any():
        raise ValueError("no training check-ins: lower test_fraction/val_fraction or held_out_users")
    target_scaler = MinMaxScaler().fit(target_matrix[is_train])
    feature_scaler = MinMaxScaler().fit(feature_matrix[is_train])
    features_scaled = feature_scaler.transform(feature_matrix).astype(np.float32)
    targets_scaled = target_scaler.transform(target_matrix).astype(np.float32)

    # Every window as a strided view: view[s] is rows s .. s + window - 1.
    view = sliding_window_view(features_scaled, (window, features_scaled.shape[1]))[:, 0]
    is_target = (position >= window) & (label < 3)
    splits = {}
    for code, name in enumerate(SPLITS):
        target_row = np.flatnonzero(is_target & (label == code))
        last_row = target_row - 1
        splits[name] = Split(
            x=np.ascontiguousarray(view[target_row - window]), y=targets_scaled[target_row], last=targets_scaled[last_row],
            y_raw=target_matrix[target_row], last_raw=target_matrix[last_row], user=user[target_row],
            target_row=target_row.astype(np.int64), time_raw=unix[target_row], last_time_raw=unix[last_row],
        )

    report = {
        "users_in": int(len(counts)), "users_dropped_too_few": int((~kept).sum()), "users_kept": int(kept.sum()),
        "users_held_out": int(n_held_out), "min_checkins": int(threshold), "rows_in": int(n_rows),
        **{f"rows_{name}": int((label == code).sum()) for code, name in enumerate(SPLIT_LABELS)},
        **{f"windows_{name}": len(splits[name]) for name in SPLITS},
    }
    parameters = {
        "window": window, "test_fraction": test_fraction, "val_fraction": val_fraction, "min_checkins": int(threshold),
        "features": list(features), "held_out_users": held_out_users, "seed": seed, "timezone": timezone,
    }
    return WindowedData(
        **splits, feature_names=features, target_names=TARGETS, window=window, target_scaler=target_scaler,
        feature_scaler=feature_scaler, check_ins=check_ins, report=report, parameters=parameters,
        held_out_user_ids=user_ids[held_out].astype(np.int64),
    )


# --------------------------------------------------------------------------- gaps and hashes


def gap_minutes(gap_raw) -> np.ndarray:
    """Minutes from raw gap targets or predictions (``log(1 + minutes)``, column 0 of ``y_raw`` or of
    ``inverse_targets``); a predicted gap below 0 reads as 0."""
    return np.maximum(np.expm1(np.asarray(gap_raw, dtype=np.float64)), 0.0)


#: Decimals of the raw targets the hash of a split reads (well below any real difference).
HASH_DECIMALS = 9


def windows_hash(split) -> str:
    """A stable content hash of a :class:`Split`'s windows (their raw targets, users and target rows): the
    first 16 hexadecimal digits of a SHA-256. The same windows in the same order get the same
    hash, whatever machine or chapter computed it."""
    digest = hashlib.sha256()
    digest.update(np.asarray(len(split.y), dtype="<i8").tobytes())
    digest.update(np.round(np.asarray(split.y_raw, dtype=np.float64), HASH_DECIMALS).astype("<f8").tobytes())
    digest.update(np.asarray(split.user, dtype="<i8").tobytes())
    digest.update(np.asarray(split.target_row, dtype="<i8").tobytes())
    return digest.hexdigest()[:16]


def test_windows_hash(data) -> str:
    """:func:`windows_hash` of ``data.test``, saved with the protocol in chapter 02."""
    return windows_hash(data.test)


test_windows_hash.__test__ = False  # not a pytest test


def check_windows_hash(data, expected, *, where="the saved protocol") -> str:
    """Return ``data``'s test windows hash, or raise a ValueError unless it is ``expected``, naming ``where``
    the expected hash came from, both hashes and the window counts."""
    found = test_windows_hash(data)
    if found != expected:
        raise ValueError(
            f"the test windows differ from those of {where}: hash {found} ({len(data.test)} windows) "
            f"instead of {expected}; rebuild the windows with the saved protocol and the same clean data"
        )
    return found
