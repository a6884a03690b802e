"""Maps of check-ins: longitude/latitude scatters with the city box (chapter 01)."""

from __future__ import annotations

import numpy as np

from .style import axes, check_count, frame_map, subsample
from ..geo import NYC_BOX, BoundingBox

REASON_COLOURS = {"duplicate": "tab:purple", "speed": "tab:red", "stay": "tab:orange", "outside": "tab:blue"}


def _legend(ax):
    """A legend whose point markers are opaque and large enough to see."""
    legend = ax.legend(loc="upper left", fontsize="small")
    for handle in legend.legend_handles:
        if hasattr(handle, "set_sizes"):
            handle.set_sizes([16.0])
            handle.set_alpha(1.0)
    return legend


def _outside_view(ax, lat, lon):
    (lon_lo, lon_hi), (lat_lo, lat_hi) = ax.get_xlim(), ax.get_ylim()
    return int(np.count_nonzero(~((lat >= lat_lo) & (lat <= lat_hi) & (lon >= lon_lo) & (lon <= lon_hi))))


def scatter_checkins(
    check_ins, *, box: BoundingBox = NYC_BOX, ax=None, title: str | None = None, max_points: int = 60_000, seed: int = 0,
    margin: float = 0.1, colour: str = "tab:blue",
):
    """Scatter of check-in positions (``lat``, ``lon``) over the city box, equal km in both directions.

    ``box`` is drawn as a dashed outline; the view is the box plus ``margin`` (a fraction of
    its size). At most ``max_points`` points are drawn, a uniform random sample (``seed``);
    points outside the view are counted in the legend. Returns the figure.
    """
    check_count("max_points", max_points)
    fig, ax = axes(ax, (6.0, 6.0))
    lat = check_ins["lat"].to_numpy(dtype=float)
    lon = check_ins["lon"].to_numpy(dtype=float)
    shown = subsample(len(lat), max_points, seed)
    label = f"{len(shown):,} check-ins" + (f" (sample of {len(lat):,})" if len(shown) < len(lat) else "")
    ax.scatter(lon[shown], lat[shown], s=1.0, alpha=0.3, color=colour, linewidths=0, rasterized=True, label=label)
    frame_map(ax, box, margin)
    outside = _outside_view(ax, lat, lon)
    if outside:
        ax.plot([], [], " ", label=f"{outside:,} outside this view")
    _legend(ax)
    if title:
        ax.set_title(title)
    return fig


def removed_checkins_map(
    labelled, *, box: BoundingBox = NYC_BOX, ax=None, title: str | None = None, max_points: int = 60_000, seed: int = 0,
    margin: float = 0.1,
):
    """Kept check-ins in grey, removed ones coloured by the step that removed them; returns the figure.

    ``labelled``: what :func:`checkin_traj.cleaning.label_removals` returns. Other arguments
    as for :func:`scatter_checkins`; only the kept points are sampled, every removed one drawn.
    """
    check_count("max_points", max_points)
    if "removed_by" not in labelled.columns:
        raise ValueError("labelled must have a 'removed_by' column: pass the output of cleaning.label_removals")
    fig, ax = axes(ax, (6.0, 6.0))
    lat = labelled["lat"].to_numpy(dtype=float)
    lon = labelled["lon"].to_numpy(dtype=float)
    reason = labelled["removed_by"].to_numpy(dtype=object)
    kept = np.flatnonzero(reason == "")
    kept = kept[subsample(len(kept), max_points, seed)]
    ax.scatter(lon[kept], lat[kept], s=1.0, alpha=0.15, color="0.6", linewidths=0, rasterized=True, label="kept")
    frame_map(ax, box, margin)
    for name, colour in REASON_COLOURS.items():
        rows = reason == name
        if not rows.any():
            continue
        outside = _outside_view(ax, lat[rows], lon[rows])
        note = f", {outside:,} outside this view" if outside else ""
        ax.scatter(
            lon[rows], lat[rows], s=6.0, alpha=0.8, color=colour, linewidths=0,
            label=f"{name} ({np.count_nonzero(rows):,}{note})",
        )
    _legend(ax)
    if title:
        ax.set_title(title)
    return fig
