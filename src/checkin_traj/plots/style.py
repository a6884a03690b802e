"""The one style helper of the figures: axes, colours and sampling shared by every plot module.

Plot modules import from here, never each other's private helpers. Convention: a helper
that may create a figure returns ``(figure, axes)``.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

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
