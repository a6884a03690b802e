"""Figures of the model chapters (03-05): training curves."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .style import CONTENT_WIDTH
from .style import colour as _colour


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

    ``histories``: run label (e.g. ``"absolute"``) -> seed -> history with lists ``loss`` and
    ``val_loss`` (:attr:`checkin_traj.training.SeedRuns.histories`). ``sharey``: one y axis
    for all panels (off by default: the two target modes train on different targets). The
    y axis is log-scaled; a dot marks each seed's best validation epoch, the weights kept.
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
