"""The one style helper of the figures: axes, colours and sampling shared by every plot module.

Plot modules import from here, never each other's private helpers. Convention: a helper
that may create a figure returns ``(figure, axes)``.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np

from ..checks import check_int

#: Width of the book's text column in inches (the theme's content width): a figure this wide
#: is shown at its own size, so its text keeps the size it was drawn at.
CONTENT_WIDTH = 7.5

#: One colour per seed or predictor, cycling.
SEED_COLOURS = plt.get_cmap("tab10").colors


def axes(ax=None, figsize=(6.4, 4.0)):
    """``(figure, ax)``: ``ax`` and its figure, or a new constrained-layout figure of ``figsize`` (inches)."""
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax.figure, ax


def colour(number):
    """The ``number``-th colour of :data:`SEED_COLOURS`, cycling."""
    return SEED_COLOURS[number % len(SEED_COLOURS)]


def subsample(count, max_points, seed):
    """Sorted row positions of at most ``max_points`` of ``count`` rows, drawn with ``seed``."""
    if count <= max_points:
        return np.arange(count)
    return np.sort(np.random.default_rng(seed).choice(count, size=max_points, replace=False))


def check_count(name, value, *, unit=""):
    """``value`` as an integer >= 1 (:func:`checkin_traj.checks.check_int`); ``unit``: names what is counted."""
    return check_int(f"{name}{unit and ' (' + unit.strip() + ')'}", value, minimum=1)


def frame_map(ax, box, margin):
    """Box outline, equal-distance aspect, view limits and labelled axes."""
    lat_pad = (box.lat_max - box.lat_min) * margin
    lon_pad = (box.lon_max - box.lon_min) * margin
    ax.plot([box.lon_min, box.lon_max, box.lon_max, box.lon_min, box.lon_min],
            [box.lat_min, box.lat_min, box.lat_max, box.lat_max, box.lat_min],
            color="black", linewidth=0.8, linestyle="--", label="city box")
    ax.set_xlim(box.lon_min - lon_pad, box.lon_max + lon_pad)
    ax.set_ylim(box.lat_min - lat_pad, box.lat_max + lat_pad)
    # one degree of longitude is cos(latitude) degrees of latitude long: equal km both ways
    ax.set_aspect(1.0 / math.cos(math.radians(box.center[0])))
    ax.set_xlabel("longitude (degrees east)")
    ax.set_ylabel("latitude (degrees north)")


def check_predictions(data, predictions, split):
    """The windows of ``split``, after checking every prediction has their targets' shape."""
    if not predictions:
        raise ValueError("predictions is empty: pass {label: scaled predictions (n, 3)}")
    windows = data.split(split)
    for label, prediction in predictions.items():
        if np.shape(prediction) != windows.y_raw.shape:
            raise ValueError(f"predictions[{label!r}] must have shape {windows.y_raw.shape}, got {np.shape(prediction)}")
    return windows
