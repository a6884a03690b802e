"""The one rule that decides and words every comparison of the book.

The rule: on the same test windows, each contender's *per-window loss* (squared scaled error
for RMSE and R², km, minutes, or the 0/1 hit for ``within_1km``), averaged over its seeds;
the difference ``contender - reference`` of their means (medians for the median metrics)
gets a 95 % interval from :func:`checkin_traj.uncertainty.paired_bootstrap` (users
resampled). The contender **beats** the reference when the whole interval lies on the
better side of 0, **loses** on the worse side, and is **within noise** otherwise; the mean
± std over seeds and the seeds that beat the reference are information, not the decision.

Selections are made on the validation windows, never on the test windows:
:func:`strongest_baseline` reads a table of *validation* scores and :func:`best_run`
reads the ``val_*`` columns that :class:`checkin_traj.training.SeedRuns` records.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .checks import check_choice, check_int
from .uncertainty import Interval, paired_bootstrap

__all__ = [
    "BEATS", "LOSES", "WITHIN_NOISE", "OUTCOMES", "HIGHER_IS_BETTER", "LOSSES", "METRIC_NAMES", "Verdict", "window_losses",
    "compare", "versus_baseline", "strongest_baseline", "best_run", "markdown_list", "glue_values", "record",
]

#: The three outcomes of :func:`compare`.
BEATS, LOSES, WITHIN_NOISE = "beats", "loses", "within noise"
OUTCOMES = (BEATS, LOSES, WITHIN_NOISE)

#: Metrics where a larger value is better; for all others lower is better.
HIGHER_IS_BETTER = frozenset(
    {"r2", "r2_gap", "r2_lon", "r2_lat", "r2_spatial", "within_1km", "acc@1", "acc@5", "acc@10", "mrr", "ndcg@10"}
)

#: Metric -> (per-window loss, statistic over windows) the verdict is decided on.
#: R² on fixed windows is 1 - MSE / variance, so it is decided on the squared error too.
LOSSES = {
    "rmse": ("squared_error", "mean"), "r2": ("squared_error", "mean"),
    "km_mean": ("km", "mean"), "km_median": ("km", "median"), "within_1km": ("within_1km", "mean"),
    "minutes_mean": ("minutes", "mean"), "minutes_median": ("minutes", "median"),
    # next-venue ranking (checkin_traj.venues.metrics gives the per-window values)
    "acc@1": ("hit", "mean"), "acc@5": ("hit", "mean"), "acc@10": ("hit", "mean"),
    "mrr": ("reciprocal_rank", "mean"), "ndcg@10": ("ndcg", "mean"),
}

#: Per-window losses of :data:`LOSSES` where a larger value is better (a hit, a rank score); for every
#: other loss lower is better, whatever the metric's own direction (R² is decided on the
#: squared error, so a lower squared error is a higher R²).
HIGHER_LOSS_IS_BETTER = frozenset({"within_1km", "hit", "reciprocal_rank", "ndcg"})  # the last three: venue rankings

#: How the difference of :data:`LOSSES` reads in a sentence.
_DIFFERENCE_NAMES = {
    "squared_error": "MSE", "km": "km", "within_1km": "share within 1 km", "minutes": "minutes", "hit": "hit rate",
    "reciprocal_rank": "reciprocal rank", "ndcg": "NDCG",
}

#: How metric names read in sentences.
METRIC_NAMES = {
    "rmse": "RMSE", "r2": "R²", "km_mean": "mean distance (km)", "km_median": "median distance (km)",
    "within_1km": "share within 1 km", "minutes_mean": "mean time error (minutes)",
    "minutes_median": "median time error (minutes)", "acc@1": "Acc@1", "acc@5": "Acc@5", "acc@10": "Acc@10", "mrr": "MRR",
    "ndcg@10": "NDCG@10",
}


# --------------------------------------------------------------------------- losses


def window_losses(data, prediction, metric, *, split="test") -> np.ndarray:
    """The per-window loss (float64, shape (n,)) of one prediction on which ``metric``'s verdict is decided.

    ``prediction``: scaled predictions (n, n_targets), one row per window of ``split`` of
    ``data``; ``metric``: a key of :data:`LOSSES`.
    """
    from .metrics import errors_km, errors_minutes

    check_choice("metric", metric, LOSSES)
    if LOSSES[metric][0] in ("hit", "reciprocal_rank", "ndcg"):
        raise ValueError(f"{metric!r} scores a venue ranking, not a prediction: use checkin_traj.venues.metrics")
    part = data.split(split)
    prediction = np.asarray(prediction, dtype=np.float64)
    if prediction.shape != np.shape(part.y):
        raise ValueError(f"prediction must have one row per {split} window, shape {np.shape(part.y)}, got {prediction.shape}")
    loss = LOSSES[metric][0]
    if loss == "squared_error":
        return np.mean((prediction - np.asarray(part.y, dtype=np.float64)) ** 2, axis=1)
    raw = data.inverse_targets(prediction)
    if loss == "minutes":
        return errors_minutes(part.y_raw, raw)
    km = errors_km(part.y_raw, raw)
    return (km <= 1.0).astype(np.float64) if loss == "within_1km" else km


# --------------------------------------------------------------------------- verdicts


@dataclass(frozen=True)
class Verdict:
    """The outcome of :func:`compare` and the numbers that word it.

    ``contender`` and ``reference`` name the two sides in text; ``metric``: is a key of
    :data:`LOSSES`; ``outcome`` :data:`BEATS`, :data:`LOSES` or :data:`WITHIN_NOISE` (from the
    contender's side); ``difference``: the :class:`~checkin_traj.uncertainty.Interval` of
    ``contender - reference`` of the per-window loss statistic over users (negative:
    contender lower); ``values``: and ``reference_values`` each side's metric per seed (one
    value for a deterministic predictor).
    """

    contender: str
    reference: str
    metric: str
    outcome: str
    difference: Interval
    values: tuple
    reference_values: tuple

    @property
    def mean(self) -> float:
        return float(np.mean(self.values))

    @property
    def std(self) -> float:
        return float(np.std(self.values, ddof=1)) if len(self.values) > 1 else 0.0

    @property
    def reference_mean(self) -> float:
        return float(np.mean(self.reference_values))

    @property
    def seeds_better(self) -> int:
        """Seeds whose metric is better than the reference's mean (information only)."""
        values = np.asarray(self.values, dtype=float)
        better = values > self.reference_mean if self.metric in HIGHER_IS_BETTER else values < self.reference_mean
        return int(better.sum())

    @property
    def beats(self) -> bool:
        return self.outcome == BEATS

    def numbers(self, digits=3) -> str:
        """``"RMSE 0.080 ± 0.001 (3 seeds, 3 better) against 0.085"``."""
        shown = METRIC_NAMES.get(self.metric, self.metric)
        text = f"{shown} {self.mean:.{digits}f}"
        if len(self.values) > 1:
            text += f" ± {self.std:.{digits}f} over {len(self.values)} seeds, {self.seeds_better} of them better"
        text += f", against {self.reference_mean:.{digits}f}"
        if len(self.reference_values) > 1:
            std = float(np.std(self.reference_values, ddof=1))
            text += f" ± {std:.{digits}f}"
        unit = _DIFFERENCE_NAMES[LOSSES[self.metric][0]]
        statistic = LOSSES[self.metric][1]
        d = self.difference
        text += (
            f"; difference in {statistic} {unit} {d.estimate:+.3g}, "
            f"{d.level:.0%} interval over users [{d.low:+.3g}, {d.high:+.3g}]"
        )
        return text

    def sentence(self, digits=3) -> str:
        """One Markdown sentence, e.g. ``**LSTM (offset)** beats `persistence` on RMSE (...).``"""
        words = {BEATS: "**beats**", LOSES: "**loses to**", WITHIN_NOISE: "is **within noise** of"}
        shown = METRIC_NAMES.get(self.metric, self.metric).split(" (")[0]
        return f"**{self.contender}** {words[self.outcome]} `{self.reference}` on {shown} ({self.numbers(digits)})."

    def as_dict(self) -> dict:
        """JSON-able numbers of the verdict (for glue and saved results)."""
        return {
            "outcome": self.outcome, "metric": self.metric, "reference": self.reference, "mean": self.mean,
            "std": self.std, "reference_mean": self.reference_mean, "seeds_better": self.seeds_better,
            "n_seeds": len(self.values), "difference": self.difference.estimate,
            "difference_low": self.difference.low, "difference_high": self.difference.high,
        }


def _as_losses(losses, name):
    losses = np.asarray(losses, dtype=float)
    if losses.ndim == 2:  # (n_seeds, n): average over seeds
        losses = losses.mean(axis=0)
    if losses.ndim != 1:
        raise ValueError(f"{name} must be per-window losses (n,) or (n_seeds, n), got shape {np.shape(losses)}")
    return losses


def _values(values, name):
    if values is None:
        return ()
    values = tuple(float(value) for value in np.atleast_1d(np.asarray(values, dtype=float)))
    if not values or not np.isfinite(values).all():
        raise ValueError(f"{name} must be finite metric values, got {values}")
    return values


def compare(
    contender_losses, reference_losses, users, *, metric="rmse", contender="model", reference="baseline", values=None,
    reference_values=None, n_boot=1000, seed=0, level=0.95,
) -> Verdict:
    """Decide whether ``contender`` beats ``reference`` on ``metric`` (the book's one rule); a :class:`Verdict`.

    ``contender_losses``, ``reference_losses``: per-window losses on the same windows (:func:`window_losses`), shape
    (n,) or (n_seeds, n) (a 2-d array is averaged over its seeds first); ``users``: the user of each window (the
    resampled unit); ``metric``: a key of :data:`LOSSES`; ``contender``, ``reference``: names used in the sentence;
    ``values``, ``reference_values``: each side's metric per seed (for the mean ± std in the sentence; the statistic
    of the losses when not given); ``n_boot``, ``seed``, ``level``: of the bootstrap
    (:func:`checkin_traj.uncertainty.paired_bootstrap`).
    """
    check_choice("metric", metric, LOSSES)
    check_int("n_boot", n_boot, minimum=10)
    a = _as_losses(contender_losses, "contender_losses")
    b = _as_losses(reference_losses, "reference_losses")
    if a.shape != b.shape:
        raise ValueError(f"contender and reference were scored on different windows: {a.shape} vs {b.shape}")
    statistic = LOSSES[metric][1]
    interval = paired_bootstrap(a, b, users, statistic=statistic, n_boot=n_boot, seed=seed, level=level)
    lower_side, upper_side = interval.high < 0.0, interval.low > 0.0
    if LOSSES[metric][0] in HIGHER_LOSS_IS_BETTER:  # the loss's direction, not the metric's (R²: squared error)
        lower_side, upper_side = upper_side, lower_side
    outcome = BEATS if lower_side else LOSES if upper_side else WITHIN_NOISE

    def fallback(losses):
        return float(np.mean(losses) if statistic == "mean" else np.median(losses))

    return Verdict(
        contender=str(contender), reference=str(reference), metric=metric, outcome=outcome, difference=interval,
        values=_values(values, "values") or (fallback(a),),
        reference_values=_values(reference_values, "reference_values") or (fallback(b),),
    )


def versus_baseline(
    label, seed_runs, data, *, baseline, baseline_prediction, baseline_metrics=None, metric="rmse", split="test", **bootstrap
) -> Verdict:
    """:func:`compare` for a run over seeds (``seed_runs``, named ``label`` in text, e.g. ``"LSTM (offset)"``)
    against the deterministic baseline ``baseline``: its scaled predictions of ``split``
    (``baseline_prediction``) and metrics (``baseline_metrics``, for the number shown;
    computed from the losses otherwise). ``**bootstrap``: ``n_boot``, ``seed``, ``level``.
    """
    losses = np.stack([window_losses(data, value, metric, split=split) for value in seed_runs.predictions.values()])
    reference = None if baseline_metrics is None else [float(baseline_metrics[metric])]
    return compare(
        losses, window_losses(data, baseline_prediction, metric, split=split), data.split(split).user, metric=metric,
        contender=label, reference=baseline, reference_values=reference,
        values=seed_runs.metrics[metric].to_numpy(dtype=float) if metric in seed_runs.metrics else None, **bootstrap,
    )


# --------------------------------------------------------------------------- selections


def strongest_baseline(table, *, metric="rmse") -> str:
    """The baseline with the best ``metric`` in a table of **validation** scores (index: baseline names; a
    column ``metric`` or ``<metric>_mean``): choosing on the test windows would flatter the choice."""
    column = metric if metric in table.columns else f"{metric}_mean"
    if column not in table.columns:
        raise ValueError(f"the baselines table has no column {metric!r}; it has {list(table.columns)}")
    values = table[column].astype(float)
    if values.isna().all():
        raise ValueError(f"the baselines table has no {metric!r} values")
    return str(values.idxmax() if metric in HIGHER_IS_BETTER else values.idxmin())


def best_run(table, *, metric="rmse", groupby=None):
    """The best row (run) of a table by its **validation** ``metric``: its index label, or with ``groupby``
    (a column, e.g. ``model``) group -> label.

    ``table`` has one row per run and a column ``val_<metric>_mean`` (a summary over seeds)
    or ``val_<metric>``; test columns are never read (``ValueError`` when there is no
    validation column).
    """
    candidates = [f"val_{metric}_mean", f"val_{metric}"]
    column = next((name for name in candidates if name in table.columns), None)
    if column is None:
        raise ValueError(
            f"the table has no validation score {candidates}: runs are chosen on the validation windows, "
            "so rerun the chapters that trained them (SeedRuns records val_* metrics)"
        )
    if table.empty:
        raise ValueError("the table has no rows")
    values = table[column].astype(float)
    pick = (lambda series: series.idxmax()) if metric in HIGHER_IS_BETTER else (lambda series: series.idxmin())
    if groupby is None:
        return pick(values)
    return values.groupby(table[groupby], sort=False).agg(pick).rename("run")


# --------------------------------------------------------------------------- glue


def markdown_list(verdicts, *, digits=3) -> str:
    """The verdicts' sentences as one Markdown list (render it with the ``{glue:md}`` *directive*)."""
    return "\n".join(f"- {verdict.sentence(digits)}" for verdict in verdicts)


def glue_values(prefix, verdicts, *, digits=3) -> dict:
    """The glue of a list of verdicts on one metric, named from ``prefix`` (``"lstm_verdict"``):
    ``<prefix>_md`` (:func:`markdown_list`), ``<prefix>_outcomes`` (contender -> outcome) and
    ``<prefix>_beating`` (how many contenders beat their reference)."""
    verdicts = list(verdicts)
    return {
        f"{prefix}_md": markdown_list(verdicts, digits=digits),
        f"{prefix}_outcomes": {verdict.contender: verdict.outcome for verdict in verdicts},
        f"{prefix}_beating": sum(verdict.beats for verdict in verdicts),
    }


def record(values) -> None:
    """Glue every value of ``values`` (myst-nb, not displayed); keys ending ``_md`` as Markdown."""
    from IPython.display import Markdown
    from myst_nb import glue

    for name, value in values.items():
        if name.endswith("_md"):
            value = Markdown(value)
        elif isinstance(value, np.generic):
            value = value.item()
        glue(name, value, display=False)
