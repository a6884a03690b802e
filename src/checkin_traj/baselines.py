"""Naive predictors of the next check-in that every neural model must beat.

Each baseline is a function ``name(data, *, split="test", report=None)`` that returns the scaled predictions
``(n, 3)`` (gap, lon, lat) for the windows of ``split`` of a :class:`~checkin_traj.sequences.WindowedData`. Baselines
learn only from the rows labelled ``"train"`` in ``data.check_ins``; the windows' own inputs (the past of each
target) are used as a model would use them.

Each predicts a *place* by its own rule and the *gap* target (``log(1 + minutes)`` after the last input check-in,
:data:`checkin_traj.sequences.TARGETS`) from a gap in time:

======================  ==========================================  ====================================
baseline                place                                       gap after the last check-in
======================  ==========================================  ====================================
``persistence``         the last input check-in's place             the last gap (last minus the one before)
``user_most_frequent``  the user's most visited training location   the user's median training gap
``user_mean``           the mean of the user's training places      the user's mean training gap
``global_mean``         the mean of all training places             the mean training gap of everyone
``markov_next``         the most frequent next location after the   the user's median training gap
                        last input's location, in training
======================  ==========================================  ====================================

Fallbacks, counted in ``report["fallback_windows"]``: a user without training check-ins (held-out users) gets the
everyone-rule (the most visited location overall, the mean of all places, the global median or mean gap); a user
with fewer than two training check-ins gets the global gap; persistence with no check-in before the last input uses
a gap of 0; the Markov model, from a location never left in training, stays where the user is. Ties between
locations are broken by the most recent training visit, then the smaller id.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .metrics import METRIC_LABELS, evaluate
from .sequences import unix_seconds


def _context(data, split):
    """The windows, the clean check-ins as arrays, and the training-row mask."""
    check_ins = data.check_ins
    return data.split(split), check_ins, unix_seconds(check_ins["time"]), (check_ins["split"] == "train").to_numpy()


def _to_scaled(data, gap_s, lon, lat) -> np.ndarray:
    """Scaled targets from a gap in seconds (read as the gap target, log(1 + minutes)) and a place."""
    gap = np.log1p(np.maximum(np.asarray(gap_s, dtype=np.float64), 0.0) / 60.0)
    raw = np.column_stack(np.broadcast_arrays(gap, lon, lat)).astype(np.float64)
    return data.target_scaler.transform(raw).astype(np.float32)


def _fill_report(report, *, fallback, rule):
    if report is not None:
        report["fallback_windows"] = int(np.count_nonzero(fallback))
        report["fallback_rule"] = rule


def _training_gaps(check_ins, unix, is_train) -> pd.DataFrame:
    """Seconds between consecutive training check-ins of the same user (user, gap_s); ValueError if none."""
    user = check_ins["user"].to_numpy(dtype=np.int64)
    follows = np.r_[False, (user[1:] == user[:-1]) & is_train[1:] & is_train[:-1]]
    rows = np.flatnonzero(follows)
    if len(rows) == 0:
        raise ValueError("no two consecutive training check-ins of one user: cannot learn a time gap")
    return pd.DataFrame({"user": user[rows], "gap_s": unix[rows] - unix[rows - 1]})


def _user_gap(windows, check_ins, unix, is_train, *, statistic):
    """The user's ``statistic`` ("median"/"mean") training gap per window, and where it fell back."""
    gaps = _training_gaps(check_ins, unix, is_train)
    per_user = gaps.groupby("user")["gap_s"].agg(statistic)
    overall = float(getattr(gaps["gap_s"], statistic)())
    gap = per_user.reindex(windows.user).to_numpy()
    fallback = np.isnan(gap)
    return np.where(fallback, overall, gap), fallback


def _place_after_user_gap(data, context, place, *, fallback_lon, fallback_lat, statistic, rule, report):
    """Predictions at ``place``, after the user's ``statistic`` training gap.

    ``place`` holds one row (``lon``, ``lat``) per window, NaN where the baseline's rule
    has no place; those windows get ``fallback_lon``/``fallback_lat`` (numbers or arrays
    per window) and count as fallbacks in ``report``, as do users with fewer than two
    training check-ins (the global gap).
    """
    windows, check_ins, unix, is_train = context
    unseen = place["lon"].isna().to_numpy()
    lon = np.where(unseen, fallback_lon, place["lon"].to_numpy())
    lat = np.where(unseen, fallback_lat, place["lat"].to_numpy())
    gap, gap_fallback = _user_gap(windows, check_ins, unix, is_train, statistic=statistic)
    _fill_report(report, fallback=unseen | gap_fallback, rule=rule)
    return _to_scaled(data, gap, lon, lat)


def _top_locations(check_ins, unix, rows, *, by):
    """The most visited location per group of ``by`` among ``rows`` with its mean place.

    Ties go to the most recent visit, then the smaller location id.
    """
    visits = pd.DataFrame({"key": by[rows], "location_id": check_ins["location_id"].to_numpy()[rows],
                           "lat": check_ins["lat"].to_numpy()[rows], "lon": check_ins["lon"].to_numpy()[rows],
                           "unix": unix[rows]})
    stats = visits.groupby(["key", "location_id"], as_index=False).agg(
        visits=("unix", "size"), last_visit=("unix", "max"), lat=("lat", "mean"), lon=("lon", "mean")
    )
    stats = stats.sort_values(["key", "visits", "last_visit", "location_id"], ascending=[True, False, False, True])
    return stats.drop_duplicates("key").set_index("key")


def persistence(data, *, split="test", report=None) -> np.ndarray:
    """The next check-in is where the last one was, after the same gap as the last one.

    Returns the scaled (gap, lon, lat), float32 ``(n, 3)``, of the windows of ``split``;
    ``report`` (a dict) is filled with ``fallback_windows`` and ``fallback_rule``.
    """
    windows, check_ins, unix, _ = _context(data, split)
    user = check_ins["user"].to_numpy(dtype=np.int64)
    last_row = windows.target_row - 1
    before_row = np.maximum(last_row - 1, 0)
    has_before = (last_row >= 1) & (user[before_row] == user[last_row])
    gap = np.where(has_before, unix[last_row] - unix[before_row], 0.0)
    _fill_report(report, fallback=~has_before, rule="first check-in of a user: gap 0")
    return _to_scaled(data, gap, windows.last_raw[:, 1], windows.last_raw[:, 2])


def user_most_frequent(data, *, split="test", report=None) -> np.ndarray:
    """The user's most visited training location, after the user's median training gap (as :func:`persistence`)."""
    context = _context(data, split)
    windows, check_ins, unix, is_train = context
    rows = np.flatnonzero(is_train)
    user = check_ins["user"].to_numpy(dtype=np.int64)
    per_user = _top_locations(check_ins, unix, rows, by=user)
    overall = _top_locations(check_ins, unix, rows, by=np.zeros(len(user), dtype=np.int64)).iloc[0]
    return _place_after_user_gap(
        data,
        context,
        per_user[["lon", "lat"]].reindex(windows.user),
        fallback_lon=overall["lon"], fallback_lat=overall["lat"], statistic="median", report=report,
        rule="user without training check-ins: most visited location overall; fewer than 2: global median gap",
    )


def user_mean(data, *, split="test", report=None) -> np.ndarray:
    """The mean of the user's training places, after the user's mean training gap (as :func:`persistence`)."""
    context = _context(data, split)
    windows, check_ins, _, is_train = context
    training = check_ins.loc[is_train, ["user", "lon", "lat"]]
    return _place_after_user_gap(
        data,
        context,
        training.groupby("user")[["lon", "lat"]].mean().reindex(windows.user),
        fallback_lon=training["lon"].mean(), fallback_lat=training["lat"].mean(), statistic="mean", report=report,
        rule="user without training check-ins: mean of all places; fewer than 2: global mean gap",
    )


def global_mean(data, *, split="test", report=None) -> np.ndarray:
    """The mean of all training places, after everyone's mean training gap (as :func:`persistence`)."""
    windows, check_ins, unix, is_train = _context(data, split)
    gaps = _training_gaps(check_ins, unix, is_train)["gap_s"]
    n = len(windows)
    _fill_report(report, fallback=np.zeros(n, dtype=bool), rule="none needed")
    return _to_scaled(
        data,
        np.full(n, gaps.mean()),
        np.full(n, check_ins.loc[is_train, "lon"].mean()),
        np.full(n, check_ins.loc[is_train, "lat"].mean()),
    )


def markov_next(data, *, split="test", report=None) -> np.ndarray:
    """First-order Markov chain over locations: the most frequent next location in training.

    Transitions are counted between consecutive check-ins of a user whose second check-in
    is a training row. The time is the last input's plus the user's median training gap.
    Parameters and returns as :func:`persistence`.
    """
    context = _context(data, split)
    windows, check_ins, unix, is_train = context
    user = check_ins["user"].to_numpy(dtype=np.int64)
    location = check_ins["location_id"].to_numpy(dtype=np.int64)
    to_rows = np.flatnonzero(np.r_[False, (user[1:] == user[:-1]) & is_train[1:]])
    from_location = np.zeros(len(user), dtype=np.int64)
    from_location[to_rows] = location[to_rows - 1]
    table = _top_locations(check_ins, unix, to_rows, by=from_location)
    last_row = windows.target_row - 1
    return _place_after_user_gap(
        data,
        context,
        table[["lon", "lat"]].reindex(location[last_row]),
        fallback_lon=windows.last_raw[:, 1], fallback_lat=windows.last_raw[:, 2], statistic="median", report=report,
        rule="location never left in training: stay at the last place; user with fewer than 2: global median gap",
    )


# --------------------------------------------------------------------------- boosted trees

#: The losses of the boosted-tree peers (scikit-learn's names).
HGB_LOSSES = ("squared_error", "absolute_error")
HGB_MAX_ITER = 500  # most boosting rounds; early stopping on the validation windows ends sooner
HGB_PATIENCE = 20  # rounds without a lower validation loss before stopping


def hist_gradient_boosting(
    data, *, split="test", report=None, loss="squared_error", max_iter=HGB_MAX_ITER, learning_rate=0.1, patience=HGB_PATIENCE,
    seed=0,
):
    """A strong cheap peer: gradient-boosted trees on the windows' flattened features.

    One :class:`sklearn.ensemble.HistGradientBoostingRegressor` per target (gap, lon, lat), fitted on the
    training windows, predicts the scaled offset ``y - last``; early stopping on the **validation**
    windows after ``patience`` rounds without a lower ``loss`` (:data:`HGB_LOSSES`). Returns as
    :func:`persistence`; ``report`` also gets ``fit_seconds`` and ``iterations`` (rounds kept per target).
    """
    import time

    from sklearn.ensemble import HistGradientBoostingRegressor

    from .checks import check_choice, check_int, check_positive

    check_choice("loss", loss, HGB_LOSSES)
    max_iter = check_int("max_iter", max_iter, minimum=1)
    learning_rate = check_positive("learning_rate", learning_rate)
    patience = check_int("patience", patience, minimum=1)
    seed = check_int("seed", seed, minimum=0)
    windows = data.split(split)

    parts = (data.train, data.val, windows)
    x_train, x_val, x_out = (np.asarray(part.x, dtype=np.float32).reshape(len(part.x), -1) for part in parts)
    y_train, y_val = (np.asarray(part.y, dtype=np.float64) - np.asarray(part.last, dtype=np.float64) for part in parts[:2])
    predicted = np.empty((len(windows), y_train.shape[1]))
    iterations = []
    started = time.perf_counter()
    for target in range(y_train.shape[1]):
        model = HistGradientBoostingRegressor(loss=loss, max_iter=max_iter, learning_rate=learning_rate, early_stopping=True,
                                              n_iter_no_change=patience, scoring="loss", random_state=seed)
        model.fit(x_train, y_train[:, target], X_val=x_val, y_val=y_val[:, target])
        predicted[:, target] = model.predict(x_out)
        iterations.append(int(model.n_iter_))
    fit_seconds = time.perf_counter() - started
    _fill_report(report, fallback=np.zeros(len(windows), dtype=bool), rule="none needed")
    if report is not None:
        report["fit_seconds"] = float(fit_seconds)
        report["iterations"] = iterations
    return (np.asarray(windows.last, dtype=np.float64) + predicted).astype(np.float32)


def hist_gradient_boosting_squared_error(data, *, split="test", report=None):
    """:func:`hist_gradient_boosting` with the squared-error loss (seed 0)."""
    return hist_gradient_boosting(data, split=split, report=report, loss="squared_error")


def hist_gradient_boosting_absolute_error(data, *, split="test", report=None):
    """:func:`hist_gradient_boosting` with the absolute-error loss (seed 0)."""
    return hist_gradient_boosting(data, split=split, report=report, loss="absolute_error")


#: The boosted-tree peers by name (chapter 02 shows them with their fit time).
BOOSTED_BASELINES = {
    baseline.__name__: baseline for baseline in (hist_gradient_boosting_squared_error, hist_gradient_boosting_absolute_error)
}

#: Every baseline by name, in the order of the book's table.
BASELINES = {baseline.__name__: baseline for baseline in (persistence, user_most_frequent, user_mean, global_mean, markov_next)}


def run_baselines(data, *, split="test", baselines=None, return_predictions=False):
    """Every metric of every baseline (name -> function, default :data:`BASELINES`) on the windows of ``split``.

    Returns one row per baseline (index ``baseline``): every metric of
    :func:`checkin_traj.metrics.evaluate`, ``fallback_windows`` and ``fit_seconds`` (0 for
    the rules that fit nothing); with ``return_predictions``, also ``{name: (n, 3) float32}``.
    """
    baselines = BASELINES if baselines is None else baselines
    if not baselines:
        raise ValueError("baselines must name at least one baseline")
    data.split(split)  # rejects a bad split before any work
    rows, predictions = {}, {}
    for name, baseline in baselines.items():
        report = {}
        predictions[name] = baseline(data, split=split, report=report)
        scores = evaluate(data, predictions[name], split=split)
        extra = {"fallback_windows": report.get("fallback_windows", 0), "fit_seconds": report.get("fit_seconds", 0.0)}
        rows[name] = {**scores, **extra}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "baseline"
    return (table, predictions) if return_predictions else table


#: The columns of :func:`run_baselines` as chapter 02 shows them, with their decimals
#: (kilometres to 10 m, minutes whole, the scaled scores to three places).
SCORE_DECIMALS = {
    **dict.fromkeys(("rmse", "r2", "rmse_gap", "rmse_lon", "rmse_lat", "r2_gap", "r2_lon", "r2_lat", "r2_spatial"), 3),
    **dict.fromkeys(("km_mean", "km_median", "km_median_users"), 2),
    "within_1km": 3,
    **dict.fromkeys(("minutes_mean", "minutes_median", "minutes_median_users", "fallback_windows"), 0),
    "fit_seconds": 1,
}

#: Labels, in words with units, of the columns :data:`checkin_traj.metrics.METRIC_LABELS` does not name.
_COLUMN_LABELS = {"fallback_windows": "windows where the rule fell back", "fit_seconds": "fitting time (s)"}


def scores_frame(table, columns=None) -> pd.DataFrame:
    """A table of :func:`run_baselines` as a reader reads it: one row per score (``columns``, default those
    of :data:`SCORE_DECIMALS` the table has), labelled in words with its unit, one column per
    baseline; text rounded to :data:`SCORE_DECIMALS` (thousands separated), "–" for no value.
    """
    columns = [column for column in SCORE_DECIMALS if column in table.columns] if columns is None else list(columns)
    missing = [column for column in columns if column not in table.columns]
    if missing:
        raise ValueError(f"the baselines table has no column {missing}; it has {list(table.columns)}")
    rows = {}
    for column in columns:
        digits = SCORE_DECIMALS.get(column, 3)
        values = table[column].astype(float)
        label = METRIC_LABELS.get(column, _COLUMN_LABELS.get(column, column))
        rows[label] = ["–" if not np.isfinite(value) else f"{value:,.{digits}f}" for value in values]
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=list(table.index))
    frame.columns.name = table.index.name
    return frame
