"""Exploring check-ins: activity per user, daily and weekly rhythm, time between check-ins."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .style import axes

NEW_YORK_TZ = "America/New_York"
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _log_bins(values, per_decade=10):
    low, high = np.log10(max(values.min(), 1e-12)), np.log10(values.max())
    count = max(int(np.ceil((high - low) * per_decade)), 1)
    return np.logspace(low, high + 1e-9, count + 1)


def checkins_per_user(check_ins, *, ax=None, title: str | None = None):
    """Histogram of check-ins per user (a ``user`` column) on log-log axes, logarithmic bins; returns the figure."""
    fig, ax = axes(ax, (6.0, 4.0))
    per_user = check_ins.groupby("user", sort=False).size().to_numpy()
    # log-spaced bins whose edges fall half-way between integers: no empty bins at small counts
    edges = np.unique(np.round(np.logspace(0.0, np.log10(per_user.max() + 1.0), 40))) - 0.5
    ax.hist(per_user, bins=edges, color="tab:blue", edgecolor="white", linewidth=0.4)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.axvline(np.median(per_user), color="black", linestyle="--", linewidth=1, label=f"median {np.median(per_user):g}")
    ax.set_xlabel("check-ins per user (count, log scale)")
    ax.set_ylabel("users (count, log scale)")
    ax.legend(fontsize="small")
    if title:
        ax.set_title(title)
    return fig


def activity_rhythm(check_ins, *, tz: str = NEW_YORK_TZ, axes=None):
    """Share of check-ins (``time``, UTC; naive times taken as UTC) per local hour of day and per day of
    week, local in the IANA time zone ``tz``, on the pair ``axes`` or a new figure; returns the figure."""
    import matplotlib.pyplot as plt

    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(9.0, 3.5), layout="constrained", gridspec_kw={"width_ratios": [3, 2]})
    hour_ax, day_ax = axes
    times = check_ins["time"]
    if times.dt.tz is None:
        times = times.dt.tz_localize("UTC")
    local = times.dt.tz_convert(tz)
    hours = np.bincount(local.dt.hour.to_numpy(), minlength=24)
    days = np.bincount(local.dt.day_of_week.to_numpy(), minlength=7)
    total = max(len(local), 1)
    hour_ax.bar(np.arange(24), 100.0 * hours / total, color="tab:blue", width=0.85)
    hour_ax.set_xticks(range(0, 24, 3))
    hour_ax.set_xlabel(f"hour of day (local time, {tz})")
    hour_ax.set_ylabel("check-ins (% of all)")
    day_ax.bar(np.arange(7), 100.0 * days / total, color="tab:green", width=0.7)
    day_ax.set_xticks(range(7), WEEKDAYS)
    day_ax.set_xlabel("day of week (local time)")
    day_ax.set_ylabel("check-ins (% of all)")
    return hour_ax.figure


def inter_checkin_minutes(check_ins) -> np.ndarray:
    """Minutes between consecutive check-ins of the same user (rows in any order), one value per pair."""
    frame = pd.DataFrame(
        {"user": check_ins["user"].to_numpy(), "ns": check_ins["time"].to_numpy(dtype="datetime64[ns]").view(np.int64)}
    )
    frame = frame.sort_values(["user", "ns"], kind="stable")
    user = frame["user"].to_numpy()
    ns = frame["ns"].to_numpy()
    same_user = user[1:] == user[:-1]
    return np.diff(ns)[same_user] / 6e10


def inter_checkin_times(check_ins, *, ax=None, mark_minutes=None, title: str | None = None):
    """Histogram of the time between consecutive check-ins of a user, log minutes; returns the figure.

    ``mark_minutes``: vertical reference lines, label -> minutes (e.g. ``{"min stay": 30}``).
    Gaps of zero minutes cannot be drawn on a log axis; they are counted in the legend.
    """
    fig, ax = axes(ax, (6.0, 4.0))
    minutes = inter_checkin_minutes(check_ins)
    positive = minutes[minutes > 0]
    zero = minutes.size - positive.size
    if positive.size:
        ax.hist(positive, bins=_log_bins(positive, per_decade=12), color="tab:blue", edgecolor="white", linewidth=0.3,
                label=f"{positive.size:,} gaps" + (f" ({zero:,} of 0 min not shown)" if zero else ""))
    ax.set_xscale("log")
    for (label, value), colour in zip((mark_minutes or {}).items(), ("black", "tab:red", "tab:green", "tab:purple")):
        ax.axvline(value, color=colour, linestyle="--", linewidth=1, label=f"{label} ({value:g} min)")
    for value, name in ((60, "1 hour"), (24 * 60, "1 day"), (7 * 24 * 60, "1 week")):
        ax.axvline(value, color="0.7", linewidth=0.8)
        # above the bars (zorder), on a white box, at the top of the axes where the bars are lowest
        ax.annotate(name, (value, 0.97), xycoords=("data", "axes fraction"), xytext=(2, 0), rotation=90,
                    textcoords="offset points", fontsize="x-small", color="0.25", va="top", zorder=6,
                    bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.85})
    ax.set_xlabel("time to the user's next check-in (minutes, log scale)")
    ax.set_ylabel("pairs of consecutive check-ins (count)")
    ax.legend(fontsize="small", loc="upper left")
    if title:
        ax.set_title(title)
    return fig
