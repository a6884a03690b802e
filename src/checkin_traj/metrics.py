"""How far a predicted next check-in is from the real one.

Two families of numbers, on the same windows:

- :func:`scaled_scores`: RMSE and R² over the min-max scaled targets (time, lon, lat), the
  numbers the original article reports (e.g. Seq2Seq RMSE 0.086, R² 0.354), overall and
  per target;
- :func:`human_errors`: the great-circle distance in km between the predicted and the real
  place, and the absolute time error in minutes, the numbers a person can picture.

RMSE overall is ``sqrt(mean_squared_error(y_true, y_pred))`` (scikit-learn, the squared
errors of the three targets averaged), R² overall is ``r2_score`` with its uniform average
over the three targets.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import mean_squared_error, r2_score

from .geo import haversine_km
from .sequences import TARGETS

#: Metric names :func:`evaluate` returns, in table order.
SCALED_METRICS = ("rmse", "r2") + tuple(f"rmse_{name}" for name in TARGETS) + tuple(f"r2_{name}" for name in TARGETS)
HUMAN_METRICS = ("km_mean", "km_median", "within_1km", "minutes_mean", "minutes_median")

#: Test scores reported by the original article (RMSE and R² over min-max scaled targets),
#: for comparison only: they come from the article, not from this project's runs.
ARTICLE_SCORES = {
    "Seq2Seq": {"rmse": 0.086, "r2": 0.354},
    "LSTM": {"rmse": 0.104, "r2": 0.228},
    "Transformer": {"rmse": 0.113, "r2": -0.208},
    "tuned Seq2Seq": {"rmse": 0.071, "r2": 0.464},
}


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
    """RMSE and R² on scaled targets, overall and per target.

    Parameters
    ----------
    y_true, y_pred : array_like, shape (n, 3)
        Scaled (time, lon, lat), n >= 2.

    Returns
    -------
    dict
        ``rmse``, ``r2`` (uniform average over targets), ``rmse_time``, ``rmse_lon``,
        ``rmse_lat``, ``r2_time``, ``r2_lon``, ``r2_lat`` (floats, scaled units).
    """
    y_true, y_pred = _check_pair(y_true, y_pred, min_rows=2)
    mse = mean_squared_error(y_true, y_pred, multioutput="raw_values")
    r2 = r2_score(y_true, y_pred, multioutput="raw_values")
    scores = {"rmse": float(np.sqrt(mse.mean())), "r2": float(r2.mean())}
    scores.update({f"rmse_{name}": float(np.sqrt(value)) for name, value in zip(TARGETS, mse)})
    scores.update({f"r2_{name}": float(value) for name, value in zip(TARGETS, r2)})
    return scores


def errors_km(y_true_raw, y_pred_raw) -> np.ndarray:
    """Great-circle distance between real and predicted places, km, per window.

    Parameters
    ----------
    y_true_raw, y_pred_raw : array_like, shape (n, 3)
        (Unix seconds, longitude, latitude in degrees).
    """
    y_true_raw, y_pred_raw = _check_pair(y_true_raw, y_pred_raw, names=("y_true_raw", "y_pred_raw"))
    return haversine_km(y_true_raw[:, 2], y_true_raw[:, 1], y_pred_raw[:, 2], y_pred_raw[:, 1])


def errors_minutes(y_true_raw, y_pred_raw) -> np.ndarray:
    """Absolute time error per window, minutes (inputs as in :func:`errors_km`)."""
    y_true_raw, y_pred_raw = _check_pair(y_true_raw, y_pred_raw, names=("y_true_raw", "y_pred_raw"))
    return np.abs(y_pred_raw[:, 0] - y_true_raw[:, 0]) / 60.0


def human_errors(y_true_raw, y_pred_raw) -> dict:
    """Errors in units a person reads.

    Parameters
    ----------
    y_true_raw, y_pred_raw : array_like, shape (n, 3)
        (Unix seconds, longitude, latitude in degrees).

    Returns
    -------
    dict
        ``km_mean``, ``km_median`` (distance, km), ``within_1km`` (share of windows whose
        predicted place is within 1 km, 0..1), ``minutes_mean``, ``minutes_median``
        (absolute time error, minutes).
    """
    distance = errors_km(y_true_raw, y_pred_raw)
    minutes = errors_minutes(y_true_raw, y_pred_raw)
    return {
        "km_mean": float(distance.mean()),
        "km_median": float(np.median(distance)),
        "within_1km": float((distance <= 1.0).mean()),
        "minutes_mean": float(minutes.mean()),
        "minutes_median": float(np.median(minutes)),
    }


def evaluate(data, y_pred_scaled, *, split="test") -> dict:
    """Every metric of a model's predictions on one split of a :class:`~checkin_traj.sequences.WindowedData`.

    Parameters
    ----------
    data : WindowedData
        The windows the predictions were made for.
    y_pred_scaled : array_like, shape (n, 3)
        Predicted scaled (time, lon, lat), one row per window of ``split``, in order.
    split : {"test", "val", "train"}
        Which split's windows.

    Returns
    -------
    dict
        :func:`scaled_scores` and :func:`human_errors` merged, plus ``windows`` (n).
    """
    windows = data.split(split)
    y_pred_scaled = np.asarray(y_pred_scaled, dtype=np.float64)
    if y_pred_scaled.shape != windows.y.shape:
        raise ValueError(
            f"y_pred_scaled must have one row per {split} window, shape {windows.y.shape}, got {y_pred_scaled.shape}"
        )
    scores = scaled_scores(windows.y, y_pred_scaled)
    scores.update(human_errors(windows.y_raw, data.inverse_targets(y_pred_scaled)))
    scores["windows"] = len(windows)
    return scores
