"""Figures of the tuning chapter: RMSE heatmaps, per-configuration bars, importance, comparison.

Every function takes the table of :func:`checkin_traj.tuning.trials_frame` (or a table
built from it) and returns the matplotlib figure; all scores are on scaled targets.
"""

from __future__ import annotations

import itertools

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..tuning.space import HYPERPARAMETER_LABELS

AGGREGATES = ("min", "mean")
_METRIC_LABELS = {"rmse": "RMSE (scaled targets)", "r2": "R²"}
_LOWER_IS_BETTER = {"rmse": True, "r2": False}


def _metric_label(metric, split="validation"):
    return f"{split} {_METRIC_LABELS.get(metric, metric)}"


def _axes(ax, figsize):
    return plt.subplots(figsize=figsize) if ax is None else (ax.figure, ax)


def _check_trials(trials, columns):
    if not isinstance(trials, pd.DataFrame) or trials.empty:
        raise ValueError("trials must be a non-empty DataFrame from checkin_traj.tuning.trials_frame")
    missing = [name for name in columns if name not in trials.columns]
    if missing:
        raise ValueError(f"trials has no column(s) {missing}; it has {list(trials.columns)}")


def heatmap_table(trials, *, x="num_hiddens", y="dropout", metric="rmse", aggregate="min") -> pd.DataFrame:
    """The table a heatmap shows: ``metric`` (validation ``"rmse"`` or ``"r2"``) of the trials of
    :func:`checkin_traj.tuning.trials_frame` per pair of hyperparameters ``y`` (rows) and ``x`` (columns).

    ``aggregate``: how trials sharing a pair are combined: ``"min"``, the best score reachable
    with that pair whatever the other hyperparameters (for R², the largest), or ``"mean"``.
    NaN where no trial ran.
    """
    if aggregate not in AGGREGATES:
        raise ValueError(f"aggregate must be one of {AGGREGATES}, got {aggregate!r}")
    if x == y:
        raise ValueError(f"x and y must be two different hyperparameters, got {x!r} twice")
    _check_trials(trials, [x, y, metric])
    function = aggregate
    if aggregate == "min" and not _LOWER_IS_BETTER.get(metric, True):
        function = "max"
    return trials.pivot_table(index=y, columns=x, values=metric, aggfunc=function).sort_index().sort_index(axis=1)


def rmse_heatmap(trials, *, x="num_hiddens", y="dropout", metric="rmse", aggregate="min", ax=None, annotate=True):
    """Heatmap of a validation score over two hyperparameters (see :func:`heatmap_table`), drawn by seaborn.

    Each cell is annotated with its value (``annotate``); cells no trial filled stay blank;
    the best cell is outlined in red. Returns the figure.
    """
    import seaborn as sns

    table = heatmap_table(trials, x=x, y=y, metric=metric, aggregate=aggregate)
    fig, ax = _axes(ax, (1.2 * table.shape[1] + 2.5, 0.8 * table.shape[0] + 1.8))
    values = table.to_numpy(dtype=float)
    lower_better = _LOWER_IS_BETTER.get(metric, True)
    sns.heatmap(
        table.astype(float), ax=ax, cmap="viridis_r" if lower_better else "viridis", annot=annotate, fmt=".3f",
        annot_kws={"fontsize": "small"}, cbar_kws={"label": _metric_label(metric)},
        xticklabels=[str(value) for value in table.columns], yticklabels=[str(value) for value in table.index],
    )
    ax.tick_params(axis="y", rotation=0)
    ax.set_xlabel(HYPERPARAMETER_LABELS.get(x, x))
    ax.set_ylabel(HYPERPARAMETER_LABELS.get(y, y))
    which = "best" if aggregate == "min" else "mean"
    ax.set_title(f"{which} over the other hyperparameters", fontsize="medium")
    if np.isfinite(values).any():
        best = np.nanargmin(values) if lower_better else np.nanargmax(values)
        row, column = np.unravel_index(best, values.shape)
        ax.add_patch(plt.Rectangle((column, row), 1, 1, fill=False, edgecolor="red", linewidth=2))
    return fig


def rmse_heatmaps(trials, *, hyperparameters=None, metric="rmse", aggregate="min", ncols=3):
    """One :func:`rmse_heatmap` per pair of ``hyperparameters`` (default ``trials.attrs["hyperparameters"]``)
    that take more than one value, ``ncols`` panels a row; when fewer than two vary (a tiny
    grid), one panel pairs them with a fixed one. Returns the figure."""
    names = list(hyperparameters or trials.attrs.get("hyperparameters") or [])
    _check_trials(trials, names + [metric])
    if len(names) < 2:
        raise ValueError(f"heatmaps need at least two hyperparameters, got {names}")
    varying = [name for name in names if trials[name].nunique() > 1]
    if len(varying) < 2:  # a one-row heatmap: pair what varies with a fixed hyperparameter
        varying = (varying + [name for name in names if name not in varying])[:2]
    pairs = list(itertools.combinations(varying, 2))
    ncols = min(ncols, len(pairs))
    nrows = int(np.ceil(len(pairs) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.6 * ncols, 3.6 * nrows), squeeze=False)
    for ax, (x, y) in zip(axes.ravel(), pairs):
        rmse_heatmap(trials, x=x, y=y, metric=metric, aggregate=aggregate, ax=ax)
    for ax in axes.ravel()[len(pairs):]:
        ax.set_visible(False)
    fig.suptitle(f"{_metric_label(metric)}, {'best' if aggregate == 'min' else 'mean'} over the other hyperparameters")
    fig.tight_layout()
    return fig


def config_bars(trials, *, metric="rmse", highlight=None, ax=None, top=None):
    """One bar per configuration of :func:`checkin_traj.tuning.trials_frame`, best ``metric`` (validation
    ``"rmse"`` or ``"r2"``) first, only the ``top`` best when given; ``highlight``: maps a
    configuration label to a colour (``{"64 / 0.5 / 3 / sigmoid": "tab:red"}``). Returns the figure."""
    _check_trials(trials, ["label", metric])
    ordered = trials.sort_values(metric, ascending=_LOWER_IS_BETTER.get(metric, True), kind="stable")
    if top is not None:
        ordered = ordered.head(top)
    fig, ax = _axes(ax, (7.5, 0.22 * len(ordered) + 1.4))
    colours = [(highlight or {}).get(label, "tab:blue") for label in ordered["label"]]
    positions = np.arange(len(ordered))
    ax.barh(positions, ordered[metric].to_numpy(dtype=float), color=colours)
    ax.set_yticks(positions, ordered["label"], fontsize="x-small" if len(ordered) > 30 else "small")
    ax.invert_yaxis()
    ax.set_xlabel(_metric_label(metric))
    names = trials.attrs.get("hyperparameters") or ["configuration"]
    ax.set_ylabel(" / ".join(HYPERPARAMETER_LABELS.get(name, name) for name in names))
    values = ordered[metric].to_numpy(dtype=float)
    if metric == "rmse" and np.isfinite(values).all() and values.min() > 0:
        spread = values.max() - values.min()
        ax.set_xlim(max(0.0, values.min() - max(spread, 0.1 * values.min())), values.max() + 0.05 * max(spread, 1e-3))
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def importance_bars(importance, *, ax=None):
    """Horizontal bars of hyperparameter importance (:func:`checkin_traj.tuning.hyperparameter_importance`)."""
    if not isinstance(importance, pd.Series) or importance.empty:
        raise ValueError("importance must be a non-empty Series from hyperparameter_importance")
    fig, ax = _axes(ax, (6.0, 0.45 * len(importance) + 1.2))
    ordered = importance.sort_values(ascending=True)
    ax.barh([HYPERPARAMETER_LABELS.get(name, str(name)) for name in ordered.index], ordered.to_numpy(dtype=float),
            color="tab:green")
    method = importance.attrs.get("method", "")
    names = {"fanova": "fANOVA importance", "eta_squared": "share of RMSE variance explained (η²)"}
    ax.set_xlabel(names.get(method, "importance"))
    ax.set_xlim(0, max(1.0, float(ordered.max())))
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def comparison_bars(table, *, metric="rmse", ax=None):
    """Test scores of a few contenders (rows of ``table``, labelling the bars), with ± one standard deviation
    over seeds where known (columns ``{metric}_mean`` and optionally ``{metric}_std``). Returns the figure."""
    mean_column, std_column = f"{metric}_mean", f"{metric}_std"
    _check_trials(table, [mean_column])
    fig, ax = _axes(ax, (7.0, 0.5 * len(table) + 1.3))
    means = table[mean_column].to_numpy(dtype=float)
    errors = table[std_column].to_numpy(dtype=float) if std_column in table else np.full(len(table), np.nan)
    positions = np.arange(len(table))
    ax.barh(positions, means, xerr=np.where(np.isfinite(errors), errors, 0.0), color="tab:blue", capsize=3)
    ax.set_yticks(positions, [str(label) for label in table.index])
    ax.invert_yaxis()
    ax.set_xlabel(_metric_label(metric, split="test"))
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig
