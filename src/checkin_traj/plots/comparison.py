"""Figures of the comparison chapter: every model's loss, predicted against real times and
places, and test scores with the baselines as reference lines.

Each function returns a new figure, except :func:`metric_bars`, which draws on ``ax`` when
given. Predictions are scaled (time, lon, lat), as the model chapters save them.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection

from ..geo import NYC_BOX
from ..sequences import gap_minutes
from .models import loss_legend, plot_loss, style_loss_axes
from .style import CONTENT_WIDTH, check_count, check_predictions, frame_map
from .style import colour as _colour
from .style import subsample as _subsample


#: How metrics read on an axis.
METRIC_LABELS = {"rmse": "RMSE", "r2": "R²", "km_median": "median distance error", "km_mean": "mean distance error"}


def _windows_and_sample(data, predictions, *, split, sample, seed):
    """The windows of ``split`` (the predictions checked against them) and the rows drawn for the panels."""
    windows = check_predictions(data, predictions, split)
    check_count("sample", sample, unit=" of windows")
    return windows, _subsample(len(windows.y_raw), sample, seed)


def _panels(count, *, ncols, height):
    """``count`` panels, ``ncols`` a row, as wide together as the book's text (:data:`CONTENT_WIDTH`)."""
    ncols = min(ncols, count)
    nrows = int(np.ceil(count / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(CONTENT_WIDTH, height * nrows), squeeze=False)
    for ax in axes.flat[count:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:count])


def loss_comparison(histories, *, title=None):
    """Training and validation loss of many runs, one panel per group, one colour per run.

    ``histories``: panel title (``"absolute targets"``) -> run name -> history with lists
    ``loss`` and ``val_loss`` (:func:`checkin_traj.comparison.loss_histories`). Log-scaled y;
    training dashed, validation solid, a dot on each run's best validation epoch.
    """
    if not histories or not all(histories.values()):
        raise ValueError("histories must map a panel title to a non-empty {run name: history}")
    fig, axes = _panels(len(histories), ncols=2, height=4.2)
    for ax, (panel, runs) in zip(axes, histories.items()):
        for number, (label, history) in enumerate(runs.items()):
            if not history.get("loss") or len(history["loss"]) != len(history.get("val_loss", [])):
                raise ValueError(f"history of {label!r} must hold lists 'loss' and 'val_loss' of equal, non-zero length")
            plot_loss(ax, history, colour=_colour(number), label=label, train_linewidth=1.1)
        style_loss_axes(ax, panel)
        loss_legend(ax, runs_from=ax, fontsize=6.5)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def time_scatter(data, predictions, *, split="test", sample=2000, seed=0, ncols=2):
    """Predicted against real waiting time to the next check-in, one panel per predictor (``ncols`` a row).

    ``predictions``: panel title -> scaled predictions (n, 3) of the windows of ``split`` of
    ``data``; ``sample``: windows are drawn (with ``seed``, the same in every panel). Hours
    from the last input check-in to the real (x) and the predicted (y) next one, symmetric
    log axes; each title carries the median absolute error in hours over all windows.
    """
    windows, rows = _windows_and_sample(data, predictions, split=split, sample=sample, seed=seed)
    real_hours = gap_minutes(windows.y_raw[:, 0]) / 60.0
    limit = max(1.0, float(np.nanpercentile(np.abs(real_hours), 99.5)))
    fig, axes = _panels(len(predictions), ncols=ncols, height=3.6)
    for number, (ax, (label, prediction)) in enumerate(zip(axes, predictions.items())):
        predicted_hours = gap_minutes(data.inverse_targets(prediction)[:, 0]) / 60.0
        colour = _colour(number)
        ax.scatter(real_hours[rows], predicted_hours[rows], s=5, alpha=0.35, color=colour, linewidths=0, rasterized=True)
        ax.plot([-limit, limit], [-limit, limit], color="black", linewidth=0.8)
        ax.set_xscale("symlog", linthresh=1.0)
        ax.set_yscale("symlog", linthresh=1.0)
        ax.set_xlim(-1.0, limit)
        ax.set_ylim(-limit, limit)
        median = float(np.median(np.abs(predicted_hours - real_hours)))
        ax.set_title(f"{label}\nmedian error {median:,.1f} h", fontsize=10)
        ax.set_xlabel("real hours after the last check-in")
        ax.set_ylabel("predicted hours after the last check-in")
        ax.grid(alpha=0.3, which="major")
    fig.tight_layout()
    return fig


def place_map(data, predictions, *, split="test", sample=300, seed=0, box=NYC_BOX, ncols=2):
    """Real (grey) and predicted next places on the map of ``box``, joined by a line (the distance error),
    one panel per predictor; arguments as for :func:`time_scatter`. Each title carries the
    median distance error (km) over all windows."""
    from ..metrics import errors_km

    windows, rows = _windows_and_sample(data, predictions, split=split, sample=sample, seed=seed)
    real = windows.y_raw
    fig, axes = _panels(len(predictions), ncols=ncols, height=3.8)
    for number, (ax, (label, prediction)) in enumerate(zip(axes, predictions.items())):
        predicted = data.inverse_targets(prediction)
        colour = _colour(number)
        segments = np.stack([real[rows][:, [1, 2]], predicted[rows][:, [1, 2]]], axis=1)
        ax.add_collection(LineCollection(segments, colors=colour, linewidths=0.4, alpha=0.35))
        ax.scatter(real[rows, 1], real[rows, 2], s=6, color="0.45", linewidths=0, label="real")
        ax.scatter(predicted[rows, 1], predicted[rows, 2], s=6, color=colour, linewidths=0, label="predicted")
        frame_map(ax, box, 0.02)
        median = float(np.median(errors_km(real, predicted)))
        ax.set_title(f"{label}\nmedian error {median:.2f} km", fontsize=10)
        ax.legend(loc="upper left", fontsize=7, markerscale=2)
    fig.tight_layout()
    return fig


def metric_bars(table, *, metric="rmse", seeds=None, ax=None, article=True):
    """Each model run's mean test score ± one standard deviation over seeds, each seed a dot, baselines as lines.

    ``table``: from :func:`checkin_traj.comparison.comparison_table`; ``metric``: one of its
    metrics. ``seeds``: :func:`checkin_traj.comparison.seed_scores` (its baseline rows left
    out), each model run's seeds drawn as a strip of dots. ``article``: mark the article's
    reported number (a cross) beside the runs of its form. Returns the axes.
    """
    mean_column, std_column = f"{metric}_mean", f"{metric}_std"
    missing = [column for column in ("kind", mean_column, std_column) if column not in table.columns]
    if missing:
        raise ValueError(f"table lacks the columns {missing}; pass the output of comparison_table")
    models = table[table["kind"] == "model"]
    baselines = table[table["kind"] == "baseline"]
    if models.empty:
        raise ValueError("table has no model rows to draw")
    if ax is None:
        _, ax = plt.subplots(figsize=(CONTENT_WIDTH, 0.42 * len(models) + 2.6), layout="constrained")
    positions = np.arange(len(models))
    means = models[mean_column].to_numpy(dtype=float)
    stds = np.nan_to_num(models[std_column].to_numpy(dtype=float))
    ax.barh(positions, means, xerr=stds, color="tab:blue", alpha=0.55, capsize=3, label="model (mean ± std over seeds)")
    if seeds is not None:
        import seaborn as sns

        unknown = sorted(set(seeds.index) - set(table.index))
        if unknown or metric not in seeds.columns:
            raise ValueError(f"seeds must hold a column {metric!r} and rows of the table, got {list(seeds.columns)} and {unknown}")
        where = {name: position for position, name in enumerate(models.index)}
        dots = seeds[seeds.index.isin(models.index)]
        dots = pd.DataFrame({"value": dots[metric].to_numpy(dtype=float), "position": dots.index.map(where).astype(float)})
        sns.stripplot(
            data=dots, x="value", y="position", orient="h", native_scale=True, jitter=0.12, size=4,
            color="black", alpha=0.7, ax=ax, zorder=4, label="one seed",
        )
    ax.set_yticks(positions, [str(name) for name in models.index])
    ax.set_ylabel("")
    ax.set_ylim(len(models) - 0.5, -0.5)  # the first run on top
    for number, (name, value) in enumerate(baselines[mean_column].astype(float).items()):
        ax.axvline(value, color=plt.get_cmap("Dark2").colors[number % 8], linestyle="--", linewidth=1.2, label=f"baseline: {name}")
    article_column = f"article_{metric}"
    if article and article_column in table.columns:
        reported = models[article_column].to_numpy(dtype=float)
        shown = np.isfinite(reported)
        if shown.any():
            # drawn above the bars, with a white halo, so that a cross inside a bar stays visible
            ax.plot(
                reported[shown], positions[shown], "X", color="black", markeredgecolor="white", markersize=9,
                zorder=5, label="the article's reported value",
            )
    unit = " (km)" if metric.startswith("km_") else " (scaled targets)" if metric.startswith(("rmse", "r2")) else ""
    ax.set_xlabel(f"{METRIC_LABELS.get(metric, metric)} on the test windows{unit}")
    ax.grid(axis="x", alpha=0.3)
    # below the axes, never over the bars, and within the book's width
    ax.legend(fontsize=7.5, loc="upper center", bbox_to_anchor=(0.5, -0.18), ncols=2, frameon=False)
    return ax
