"""What the cleaning removed: :class:`CleaningReport`, and :func:`threshold_sensitivity`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from .kernel import DUPLICATE, OUTSIDE, SPEED, STAY, _prepare, _reasons, _span_totals
from .order import _check_frame
from .thresholds import NUMERIC_THRESHOLDS, Thresholds


@dataclass
class CleaningReport:
    """Rows (or file lines) in, ``steps`` as ``(step, reason, rows_removed)`` in the order they ran, rows out,
    and distinct users before and after.

    ``rows_in - sum(removed) == rows_out`` is checked when the report is made. When the raw
    frame came from :func:`checkin_traj.data.snap.read_checkins` with skipped lines, the report
    starts with them (step ``"read"``) and ``rows_in`` counts the lines of the file.
    """

    rows_in: int
    steps: list = field(default_factory=list)
    rows_out: int = 0
    users_in: int = 0
    users_out: int = 0

    def __post_init__(self):
        self.steps = [(str(step), str(reason), int(removed)) for step, reason, removed in self.steps]
        negative = [entry for entry in self.steps if entry[2] < 0]
        if negative:
            raise ValueError(f"CleaningReport: negative rows removed in {negative}")
        removed = sum(entry[2] for entry in self.steps)
        if self.rows_in - removed != self.rows_out:
            raise ValueError(
                f"CleaningReport does not add up: rows_in={self.rows_in} - removed={removed} "
                f"!= rows_out={self.rows_out}"
            )

    def removed_by_step(self) -> dict:
        """Rows removed per step (reasons of one step added up), in step order."""
        totals = {}
        for step, _reason, removed in self.steps:
            totals[step] = totals.get(step, 0) + removed
        return totals

    def to_frame(self) -> pd.DataFrame:
        """The report as a table: one row per (step, reason), with the rows left after it."""
        rows = [("input", "rows (or file lines) before cleaning", 0), *self.steps]
        table = pd.DataFrame(rows, columns=["step", "reason", "rows_removed"]).astype({"rows_removed": "int64"})
        table["rows_left"] = self.rows_in - table["rows_removed"].cumsum()
        return table

    def to_dict(self) -> dict:
        """JSON-able form (for ``provenance.json``)."""
        document = asdict(self)
        document["steps"] = [{"step": step, "reason": reason, "rows_removed": removed} for step, reason, removed in self.steps]
        return document


def _read_steps(check_ins: pd.DataFrame):
    """(rows_in, steps) for the lines the reader skipped, when the frame carries its report."""
    read_report = check_ins.attrs.get("read_report")
    if read_report is None or getattr(read_report, "rows_read", None) != len(check_ins):
        return len(check_ins), []  # no report, or the frame changed since it was read
    steps = [("read", str(reason), int(count)) for reason, count in dict(read_report.skipped or {}).items() if count]
    rows_in = len(check_ins) + sum(entry[2] for entry in steps)
    lines_total = getattr(read_report, "lines_total", None)
    if lines_total is not None and lines_total > rows_in:
        steps.append(("read", "lines not counted by the reader", int(lines_total - rows_in)))
        rows_in = int(lines_total)
    return rows_in, steps


def step_texts(thresholds: Thresholds) -> dict:
    """(step, reason) in words for each removal code, in the order the steps run."""
    speed = (
        f"faster than {thresholds.max_speed_kmh:g} km/h from the previous kept check-in"
        if thresholds.speed_on else "step off (max_speed_kmh=None)"
    )
    stay = (
        f"within {thresholds.stay_radius_m:g} m and {thresholds.min_stay_minutes:g} min of the previous kept check-in"
        if thresholds.stay_on else "step off (stay_radius_m or min_stay_minutes None)"
    )
    where = "the polygon" if thresholds.geometry is not None else "the box"
    return {
        DUPLICATE: ("duplicates", "identical user, time, place and location id"),
        SPEED: ("speed", speed),
        STAY: ("stays", stay),
        OUTSIDE: ("box", f"outside {where}"),
    }


def threshold_sensitivity(
    check_ins: pd.DataFrame, thresholds: Thresholds | None = None, *, max_speed_kmh=(100.0, 250.0, 500.0, 1000.0),
    stay_radius_m=(25.0, 50.0, 100.0), min_stay_minutes=(10.0, 30.0, 60.0),
) -> pd.DataFrame:
    """Rows kept from raw ``check_ins`` as one threshold varies and the others stay at ``thresholds``.

    ``max_speed_kmh``, ``stay_radius_m``, ``min_stay_minutes``: values to try (km/h, metres,
    minutes; an empty sequence skips it). One row per (parameter, value): ``parameter``,
    ``value``, ``rows_removed`` (by that parameter's step), ``rows_kept`` and ``users_kept``
    after all steps, and ``baseline`` (True where the value is the baseline's).
    """
    base = Thresholds.of(thresholds)
    grids = {"max_speed_kmh": max_speed_kmh, "stay_radius_m": stay_radius_m, "min_stay_minutes": min_stay_minutes}
    variants = {
        name: [Thresholds.of(base, **{name: value}) for value in np.atleast_1d(np.asarray(grids[name], dtype=object))]
        for name in NUMERIC_THRESHOLDS
    }
    _check_frame(check_ins)
    prepared = _prepare(check_ins)
    step_code = {"max_speed_kmh": SPEED, "stay_radius_m": STAY, "min_stay_minutes": STAY}
    rows = []
    for name, values in variants.items():
        for variant in values:
            reasons = _reasons(prepared, variant)
            _users, rows_kept, users_kept = _span_totals(prepared, reasons).sum(axis=0)
            value = getattr(variant, name)
            rows.append({
                "parameter": name, "value": value, "rows_removed": int(np.count_nonzero(reasons == step_code[name])),
                "rows_kept": int(rows_kept), "users_kept": int(users_kept), "baseline": value == getattr(base, name),
            })
    return pd.DataFrame(rows, columns=["parameter", "value", "rows_removed", "rows_kept", "users_kept", "baseline"])
