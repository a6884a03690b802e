"""How far a predicted next check-in is from the real one.

Two families of numbers, on the same windows:

- :func:`scaled_scores`: RMSE and R² over the min-max scaled targets (gap, lon, lat). The
  keys ``rmse`` and ``r2`` are **pooled over the three targets, the article's form**
  (:data:`POOLED_LABEL`; e.g. its Seq2Seq RMSE 0.086, R² 0.354), kept so the comparison
  with the article's table stays possible; beside them every target's own RMSE and R²
  (``rmse_gap``, ``r2_lon``, ...) and a spatial R² over longitude and latitude together
  (``r2_spatial``), which do not let one easy target carry the others;
- :func:`human_errors`: the great-circle distance in km between the predicted and the real
  place, and the error of the gap in minutes, the numbers a person can picture; their
  medians both pooled over windows and per user (``km_median_users``: the median over
  users of each user's median, so a few very active users do not decide it).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import mean_squared_error, r2_score

from .geo import haversine_km
from .sequences import TARGETS, gap_minutes

#: Metric names :func:`evaluate` returns, in table order.
SCALED_METRICS = (
    ("rmse", "r2")
    + tuple(f"rmse_{name}" for name in TARGETS)
    + tuple(f"r2_{name}" for name in TARGETS)
    + ("r2_spatial",)
)
HUMAN_METRICS = ("km_mean", "km_median", "km_median_users", "within_1km", "minutes_mean", "minutes_median", "minutes_median_users")

#: How chapters label the pooled ``rmse`` and ``r2``.
POOLED_LABEL = "pooled over gap, longitude and latitude (the article's form)"

#: How chapters label every metric.
METRIC_LABELS = {
    "rmse": "RMSE, pooled (article's form)",
    "r2": "R², pooled (article's form)",
    "rmse_gap": "RMSE, gap",
    "rmse_lon": "RMSE, longitude",
    "rmse_lat": "RMSE, latitude",
    "r2_gap": "R², gap",
    "r2_lon": "R², longitude",
    "r2_lat": "R², latitude",
    "r2_spatial": "R², place (longitude and latitude)",
    "km_mean": "mean error (km)",
    "km_median": "median error (km), pooled",
    "km_median_users": "median error (km), per user",
    "within_1km": "share within 1 km",
    "minutes_mean": "mean gap error (minutes)",
    "minutes_median": "median gap error (minutes), pooled",
    "minutes_median_users": "median gap error (minutes), per user",
}

#: Test scores reported by the original article (RMSE and R² over min-max scaled targets),
#: for comparison only: they come from the article, not from this project's runs.
ARTICLE_SCORES = {"Seq2Seq": {"rmse": 0.086, "r2": 0.354}, "LSTM": {"rmse": 0.104, "r2": 0.228},
                  "Transformer": {"rmse": 0.113, "r2": -0.208}, "tuned Seq2Seq": {"rmse": 0.071, "r2": 0.464}}


def _check_pair(y_true, y_pred, *, names=("y_true", "y_pred"), min_rows=1):
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    for name, values in zip(names, (y_true, y_pred)):
        if values.ndim != 2 or values.shape[1] != len(TARGETS):
            raise ValueError(f"{name} must have shape (n, {len(TARGETS)}) for {TARGETS}, got {values.shape}")
    if y_true.shape != y_pred.shape:
        raise ValueError(f"{names[0]} and {names[1]} must have the same shape, got {y_true.shape} and {y_pred.shape}")
    if len(y_true) < min_rows:
        raise ValueError(f"{names[0]} needs at least {min_rows} rows, got {len(y_true)}")
    for name, values in zip(names, (y_true, y_pred)):
        bad = np.flatnonzero(~np.isfinite(values).all(axis=1))
        if len(bad):
            raise ValueError(f"{name} is not finite in row {bad[0]} ({len(bad)} rows)")
    return y_true, y_pred


def scaled_scores(y_true, y_pred) -> dict:
    """RMSE and R² of scaled (gap, lon, lat) targets ``(n, 3)``, n >= 2, overall and per target.

    Returns ``rmse``, ``r2`` (pooled: the article's form, R² the uniform average over the
    targets), ``rmse_gap``, ``rmse_lon``, ``rmse_lat``, ``r2_gap``, ``r2_lon``, ``r2_lat``
    (scaled units) and ``r2_spatial`` (:func:`spatial_r2`).
    """
    y_true, y_pred = _check_pair(y_true, y_pred, min_rows=2)
    mse = mean_squared_error(y_true, y_pred, multioutput="raw_values")
    r2 = r2_score(y_true, y_pred, multioutput="raw_values")
    scores = {"rmse": float(np.sqrt(mse.mean())), "r2": float(r2.mean())}
    scores.update({f"rmse_{name}": float(np.sqrt(value)) for name, value in zip(TARGETS, mse)})
    scores.update({f"r2_{name}": float(value) for name, value in zip(TARGETS, r2)})
    scores["r2_spatial"] = spatial_r2(y_true, y_pred)
    return scores


def spatial_r2(y_true, y_pred) -> float:
    """R² of the place (columns 1 and 2 of :func:`scaled_scores`'s inputs): ``1 - Σ(squared errors of lon and
    lat) / Σ(squared deviations from their means)``, the share of the spread of places explained."""
    y_true, y_pred = _check_pair(y_true, y_pred, min_rows=2)
    place_true, place_pred = y_true[:, 1:], y_pred[:, 1:]
    total = float(((place_true - place_true.mean(axis=0)) ** 2).sum())
    error = float(((place_true - place_pred) ** 2).sum())
    return 1.0 - error / total if total > 0 else float("nan")


def per_user_median(values, users) -> float:
    """The median over users of each user's median of ``values`` (a macro median)."""
    values = np.asarray(values, dtype=np.float64)
    medians = pd.Series(values).groupby(np.asarray(users)).median()
    return float(medians.median())


def errors_km(y_true_raw, y_pred_raw) -> np.ndarray:
    """Great-circle distance between real and predicted places, km, per window of raw targets ``(n, 3)``
    (gap as log(1 + minutes), longitude, latitude in degrees)."""
    y_true_raw, y_pred_raw = _check_pair(y_true_raw, y_pred_raw, names=("y_true_raw", "y_pred_raw"))
    return haversine_km(y_true_raw[:, 2], y_true_raw[:, 1], y_pred_raw[:, 2], y_pred_raw[:, 1])


def errors_minutes(y_true_raw, y_pred_raw) -> np.ndarray:
    """Absolute error of the gap per window, minutes (inputs as in :func:`errors_km`).

    The same as the error of the predicted next check-in's time: both gaps start at the
    last input check-in. A predicted gap below zero reads as zero
    (:func:`checkin_traj.sequences.gap_minutes`).
    """
    y_true_raw, y_pred_raw = _check_pair(y_true_raw, y_pred_raw, names=("y_true_raw", "y_pred_raw"))
    return np.abs(gap_minutes(y_pred_raw[:, 0]) - gap_minutes(y_true_raw[:, 0]))


def human_errors(y_true_raw, y_pred_raw, users=None) -> dict:
    """Errors of raw targets (as in :func:`errors_km`) in units a person reads.

    Returns ``km_mean``, ``km_median`` (distance, km), ``within_1km`` (share of windows
    whose predicted place is within 1 km), ``minutes_mean``, ``minutes_median`` (absolute
    time error, minutes); with ``users`` (the user of each window) also ``km_median_users``
    and ``minutes_median_users`` (:func:`per_user_median`).
    """
    distance = errors_km(y_true_raw, y_pred_raw)
    minutes = errors_minutes(y_true_raw, y_pred_raw)
    errors = {"km_mean": float(distance.mean()), "km_median": float(np.median(distance)),
              "within_1km": float((distance <= 1.0).mean()), "minutes_mean": float(minutes.mean()),
              "minutes_median": float(np.median(minutes))}
    if users is not None:
        errors["km_median_users"] = per_user_median(distance, users)
        errors["minutes_median_users"] = per_user_median(minutes, users)
    return errors


def evaluate(data, y_pred_scaled, *, split="test") -> dict:
    """Every metric of scaled predictions ``(n, 3)`` of the windows of ``split`` of ``data`` (in order):
    :func:`scaled_scores` and :func:`human_errors` merged, plus ``windows`` (n)."""
    windows = data.split(split)
    y_pred_scaled = np.asarray(y_pred_scaled, dtype=np.float64)
    if y_pred_scaled.shape != windows.y.shape:
        raise ValueError(
            f"y_pred_scaled must have one row per {split} window, shape {windows.y.shape}, got {y_pred_scaled.shape}"
        )
    scores = scaled_scores(windows.y, y_pred_scaled)
    scores.update(human_errors(windows.y_raw, data.inverse_targets(y_pred_scaled), windows.user))
    scores["windows"] = len(windows)
    return scores
