"""Figures of the model chapters (03-05): training curves and predictions against the truth."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ..geo import haversine_km
from ..sequences import gap_minutes
from .style import CONTENT_WIDTH, check_predictions
from .style import colour as _colour
from .style import subsample as _subsample


def plot_loss(ax, history, *, colour, label, train_linewidth):
    """One run's training (dashed) and validation (solid) loss per epoch, a dot on the best validation epoch."""
    epochs = np.arange(1, len(history["loss"]) + 1)
    ax.plot(epochs, history["loss"], linestyle="--", color=colour, linewidth=train_linewidth)
    ax.plot(epochs, history["val_loss"], linestyle="-", color=colour, linewidth=1.6, label=label)
    best = int(np.argmin(history["val_loss"]))
    ax.plot(epochs[best], history["val_loss"][best], "o", color=colour, markersize=5)


def style_loss_axes(ax, title):
    """Log-scaled loss against whole epochs, titled ``title``."""
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss (MSE, training targets)")
    ax.set_title(title)
    ax.grid(alpha=0.3, which="both")
    ax.xaxis.get_major_locator().set_params(integer=True)


def _legend_entries(runs_from):
    """The runs drawn on ``runs_from``, then what dashed and solid lines mean."""
    handles, labels = runs_from.get_legend_handles_labels()
    handles += [plt.Line2D([], [], color="black", linestyle="--"), plt.Line2D([], [], color="black")]
    return handles, labels + ["training (dashed)", "validation (solid)"]


def loss_legend(ax, *, runs_from, fontsize):
    """A legend on ``ax``: the runs drawn on ``runs_from``, then what dashed and solid lines mean."""
    ax.legend(*_legend_entries(runs_from), fontsize=fontsize, loc="upper right")


def loss_curves(histories, *, title=None, sharey=False):
    """Training and validation loss per epoch, one panel per run, one colour per seed.

    Parameters
    ----------
    histories : dict of str to dict of int to dict
        Run label (e.g. ``"absolute"``) -> seed -> history with lists ``loss`` and
        ``val_loss`` (as :attr:`checkin_traj.training.SeedRuns.histories`).
    title : str, optional
        Figure title.
    sharey : bool
        One y axis for all panels. Off by default: the two target modes train on
        different targets, so their losses are not on the same scale.

    Returns
    -------
    matplotlib.figure.Figure
        Log-scaled y (mean squared error in each run's training targets); a dot marks each
        seed's best validation epoch, the weights that were kept.
    """
    if not histories:
        raise ValueError("histories is empty: pass {run label: {seed: history}}")
    # at most two panels a row, so that the figure keeps a readable size at the book's width
    ncols = min(2, len(histories))
    nrows = -(-len(histories) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(CONTENT_WIDTH, 3.3 * nrows), sharey=sharey, squeeze=False)
    panels = axes.ravel()
    for ax, (label, by_seed) in zip(panels, histories.items()):
        for number, (seed, history) in enumerate(by_seed.items()):
            plot_loss(ax, history, colour=_colour(number), label=f"seed {seed}", train_linewidth=1.2)
        style_loss_axes(ax, label)
    for ax in panels[len(histories):]:
        ax.set_visible(False)
    handles, labels = _legend_entries(panels[0])
    # below the panels, where it covers no curve
    fig.legend(handles, labels, fontsize=9, loc="lower center", ncol=len(labels), frameon=False)
    if title:
        fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.4 / (3.3 * nrows), 1, 1))
    return fig


def predictions_figure(data, predictions, *, split="test", sample=1500, seed=0):
    """Predicted against real next check-ins: waiting time, a map, and distance errors.

    Parameters
    ----------
    data : WindowedData
        The windows (raw targets ``y_raw``, last inputs ``last_raw`` and
        ``inverse_targets`` to undo the scaling).
    predictions : dict of str to numpy.ndarray
        Label -> scaled predictions (n, 3) for the windows of ``split``.
    split : {"train", "val", "test"}
    sample : int
        Windows drawn (with ``seed``) for the scatter plots; the error curves use all.
    seed : int
        Seed of the drawing.

    Returns
    -------
    matplotlib.figure.Figure
        Left: hours from the last input check-in to the real and the predicted next one
        (symmetric log axes; a prediction before the last check-in is negative). Middle: the
        real (grey) and predicted next places of the sample, degrees. Right: the share of
        windows whose predicted place is within x km of the real one (all windows).
    """
    windows = check_predictions(data, predictions, split)
    y_raw, last_raw = np.asarray(windows.y_raw), np.asarray(windows.last_raw)
    rows = _subsample(len(y_raw), sample, seed)
    fig, (ax_time, ax_map, ax_km) = plt.subplots(1, 3, figsize=(15, 4.6))
    true_hours = gap_minutes(y_raw[:, 0]) / 60.0
    lat_centre = float(np.median(y_raw[:, 2]))
    ax_map.scatter(y_raw[rows, 1], y_raw[rows, 2], s=4, color="0.55", label="real", alpha=0.6, linewidths=0)
    for number, (label, prediction) in enumerate(predictions.items()):
        colour = _colour(number)
        predicted_raw = data.inverse_targets(prediction)
        predicted_hours = gap_minutes(predicted_raw[:, 0]) / 60.0
        ax_time.scatter(true_hours[rows], predicted_hours[rows], s=5, alpha=0.4, color=colour, label=label, linewidths=0)
        ax_map.scatter(predicted_raw[rows, 1], predicted_raw[rows, 2], s=4, alpha=0.5, color=colour, label=label, linewidths=0)
        distance = np.sort(haversine_km(y_raw[:, 2], y_raw[:, 1], predicted_raw[:, 2], predicted_raw[:, 1]))
        ax_km.plot(distance, np.arange(1, len(distance) + 1) / len(distance), color=colour, label=label)
    limit = max(1.0, float(np.nanpercentile(np.abs(true_hours), 99)))
    ax_time.plot([-limit, limit], [-limit, limit], color="black", linewidth=0.8, label="perfect")
    ax_time.set_xscale("symlog", linthresh=1.0)
    ax_time.set_yscale("symlog", linthresh=1.0)
    ax_time.set_xlabel("real hours after the last check-in")
    ax_time.set_ylabel("predicted hours after the last check-in")
    ax_time.set_title("when")
    ax_time.legend(fontsize=8, markerscale=3)
    ax_map.set_aspect(1.0 / np.cos(np.radians(lat_centre)))
    ax_map.set_xlabel("longitude (degrees)")
    ax_map.set_ylabel("latitude (degrees)")
    ax_map.set_title(f"where ({len(rows):,} windows)")
    ax_map.legend(fontsize=8, markerscale=3)
    ax_km.set_xscale("log")
    ax_km.set_xlim(0.01, 100.0)
    ax_km.set_ylim(0, 1)
    ax_km.axvline(1.0, color="0.6", linewidth=0.8, linestyle=":")
    ax_km.set_xlabel("distance from the real place (km)")
    ax_km.set_ylabel("share of windows within that distance")
    ax_km.set_title("how far")
    ax_km.grid(alpha=0.3, which="both")
    ax_km.legend(fontsize=8)
    fig.tight_layout()
    return fig
