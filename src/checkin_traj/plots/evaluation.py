"""Figures of the evaluation chapter: one user's split, where errors are large, error CDFs.

Each function draws on ``ax`` (a new figure when None) and returns the axes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..geo import NYC_BOX
from .style import axes

SPLIT_COLOURS = {"train": "#4c72b0", "val": "#dd8452", "test": "#c44e52", "dropped": "#bbbbbb"}


def _places(points):
    """(lon, lat) arrays of a Split (its targets), a WindowedData (its test targets) or a frame."""
    if hasattr(points, "test") and hasattr(points, "target_scaler"):
        points = points.test
    if hasattr(points, "y_raw"):
        return np.asarray(points.y_raw[:, 1]), np.asarray(points.y_raw[:, 2])
    if isinstance(points, pd.DataFrame) and {"lon", "lat"} <= set(points.columns):
        return points["lon"].to_numpy(dtype=float), points["lat"].to_numpy(dtype=float)
    raise ValueError(f"points must be a Split, a WindowedData or a DataFrame with lon/lat columns, got {type(points).__name__}")


def split_timeline(check_ins, *, user, window=None, ax=None):
    """One user's (dense id) check-ins of ``WindowedData.check_ins`` in order, coloured by split; with
    ``window``, the inputs of the user's first test target shaded."""
    rows = check_ins[check_ins["user"] == user]
    if rows.empty:
        raise ValueError(f"user {user} has no check-ins")
    _, ax = axes(ax, (8, 2.6))
    position = np.arange(len(rows))
    days = (rows["time"] - rows["time"].iloc[0]).dt.total_seconds().to_numpy() / 86400.0
    for name, colour in SPLIT_COLOURS.items():
        mask = (rows["split"] == name).to_numpy()
        if mask.any():
            ax.scatter(position[mask], days[mask], s=14, color=colour, label=name, zorder=3)
    test_positions = np.flatnonzero((rows["split"] == "test").to_numpy())
    if window is not None and len(test_positions) and test_positions[0] >= window:
        target = test_positions[0]
        ax.axvspan(target - window - 0.5, target - 0.5, color="#999999", alpha=0.25, label=f"inputs ({window})")
        ax.scatter([target], [days[target]], s=80, facecolor="none", edgecolor="black", zorder=4, label="target")
    ax.set_xlabel(f"check-in number of user {user}")
    ax.set_ylabel("days since first check-in")
    ax.legend(loc="upper left", fontsize="small", ncol=3)
    return ax


def error_map(points, errors_km, *, ax=None, box=NYC_BOX, gridsize=35, statistic="median", min_count=3, vmax=None):
    """Where the predictions are far off: the ``statistic`` (median or mean) error per hexagon, at the true place.

    ``points``: where the real next check-ins were (a split's targets, the test targets of a
    ``WindowedData``, or a frame with ``lon``/``lat``), one per error of ``errors_km``.
    ``gridsize`` hexagons across the ``box``; those with fewer than ``min_count`` windows are
    blank; the colour scale tops at ``vmax`` km (default the 95th percentile of the errors).
    """
    if statistic not in ("median", "mean"):
        raise ValueError(f"statistic must be 'median' or 'mean', got {statistic!r}")
    lon, lat = _places(points)
    errors_km = np.asarray(errors_km, dtype=float)
    if errors_km.shape != lon.shape:
        raise ValueError(f"errors_km must have one value per point ({lon.shape[0]}), got shape {errors_km.shape}")
    inside = box.contains(lat, lon)
    _, ax = axes(ax, (6.5, 6.5))
    image = ax.hexbin(
        lon[inside], lat[inside], C=errors_km[inside], reduce_C_function=np.median if statistic == "median" else np.mean,
        gridsize=gridsize, mincnt=min_count, extent=(box.lon_min, box.lon_max, box.lat_min, box.lat_max), cmap="magma_r",
        vmin=0.0, vmax=float(np.percentile(errors_km, 95)) if vmax is None else vmax, linewidths=0.1,
    )
    ax.figure.colorbar(image, ax=ax, shrink=0.8, label=f"{statistic} error (km)")
    ax.set_xlim(box.lon_min, box.lon_max)
    ax.set_ylim(box.lat_min, box.lat_max)
    ax.set_aspect(1.0 / np.cos(np.radians(np.mean([box.lat_min, box.lat_max]))))
    ax.set_xlabel("longitude (°)")
    ax.set_ylabel("latitude (°)")
    return ax


def error_cdf(errors_by_name, *, ax=None, max_km=20.0, mark_km=1.0):
    """Share of windows whose place error is at most x km (up to ``max_km``), one line per predictor of
    ``errors_by_name`` (km per window), a dashed line at ``mark_km`` (the 1 km of ``within_1km``)."""
    import seaborn as sns

    if not errors_by_name:
        raise ValueError("errors_by_name must hold at least one predictor's errors")
    _, ax = axes(ax, (7, 4))
    long = pd.concat(
        [pd.DataFrame({"km": np.asarray(errors, dtype=float), "predictor": str(name)}) for name, errors in errors_by_name.items()],
        ignore_index=True,
    )
    # one empirical distribution per predictor (seaborn's ECDF: a step at each window's error)
    sns.ecdfplot(data=long, x="km", hue="predictor", hue_order=[str(name) for name in errors_by_name], ax=ax)
    ax.axvline(mark_km, color="grey", linestyle="--", linewidth=1)
    ax.set_xlim(0.0, max_km)
    ax.set_ylim(0.0, 1.0)
    ax.set_xlabel("distance between predicted and real next check-in (km)")
    ax.set_ylabel("share of test windows")
    if ax.get_legend() is not None:
        sns.move_legend(ax, "lower right", fontsize="small", title=None)
    ax.grid(alpha=0.3)
    return ax
