"""A model chapter's plumbing: chapter 02's protocol read back, the one results table, saving.

Every model chapter (03 LSTM, 04 Seq2Seq, 05 Transformer) trains its forms on its page and
then calls, with explicit arguments, in this order of data (each call takes what the
previous ones returned)::

    data, baselines = load_protocol(WORKDIR)                     # chapter 02's windows and baselines
    ...                                                         # the models and train_seeds, on the page
    verdicts = judge(runs, data, baselines, title="LSTM")         # each run against the strongest baselines
    forms = compare_runs(runs, "absolute", "offset", data, title="LSTM")  # the article's form against the book's
    results_table(runs, baselines, verdicts, title="LSTM", forms=forms)
    save_runs(WORKDIR, "lstm", runs, data, title="LSTM", forms={"article": "absolute", "book": "offset"}, verdicts=verdicts)

Verdicts come from :mod:`checkin_traj.verdicts` (the one rule of the book); the bar of
each metric is the baseline strongest **on the validation windows** by that metric.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .metrics import METRIC_LABELS
from .quality import signed
from .results import baseline_scores, load_results, results_dir, results_payload, run_label, save_results
from .verdicts import compare, strongest_baseline, versus_baseline, window_losses

__all__ = [
    "Baselines", "TABLE_METRICS", "VERDICT_METRICS", "BOOSTED_PEER", "quiet_session", "load_protocol", "run_label", "judge",
    "compare_runs", "results_table", "training_facts", "save_runs", "model_path", "number_cell", "mean_std_cell", "wrapped",
]

#: Rows of the results table (metric -> decimals): the pooled scores the article reports,
#: per target and spatial R², then km and minutes, pooled and per user (medians of users' medians).
TABLE_METRICS = {
    **dict.fromkeys(("rmse", "r2", "r2_gap", "r2_lon", "r2_lat", "r2_spatial"), 3),
    **dict.fromkeys(("km_mean", "km_median", "km_median_users"), 2),
    "within_1km": 3,
    "minutes_median": 0,
    "minutes_median_users": 0,
}

#: The metrics every model run is judged on (the one rule, against the baseline strongest by each).
VERDICT_METRICS = ("rmse", "km_median")

#: The boosted-tree peer of every results table (chapter 02's ``boosted`` result): the
#: squared-error loss, the one the networks minimise.
BOOSTED_PEER = "hist_gradient_boosting_squared_error"

#: How a verdict's difference reads in the table, by metric.
_DIFFERENCE = {"rmse": ("difference in MSE", 4), "km_median": ("difference in median km", 2)}


def quiet_session(*, precision=3):
    """Quiet TensorFlow's start-up logs and library warnings, and show tables with ``precision`` decimals.

    Call it once at the top of a model chapter, before anything imports TensorFlow.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=UserWarning)
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
    pd.set_option("display.precision", precision)


@dataclass(frozen=True)
class Baselines:
    """Chapter 02's baselines, read back by :func:`load_protocol`: every baseline's scores on the
    ``test`` and ``val`` windows (index: names), their scaled test ``predictions`` by name, and
    the boosted-tree peers' test scores (``boosted``, chapter 02's ``boosted`` result, or None)."""

    test: pd.DataFrame
    val: pd.DataFrame
    predictions: dict
    boosted: pd.DataFrame | None = None

    def strongest(self, metric="rmse") -> str:
        """The baseline with the best ``metric`` on the **validation** windows."""
        return strongest_baseline(self.val, metric=metric)


def load_protocol(workdir):
    """Chapter 02's windows and baselines, ``(WindowedData, Baselines)``, for the chapters after it.

    Rebuilds the windows from chapter 01's clean check-ins with chapter 02's saved protocol,
    checks that the test windows are the ones chapter 02 scored (a content hash), and reads
    the baselines' scores and predictions.
    """
    from .data.provenance import load_clean
    from .sequences import build_windows, check_windows_hash

    saved = load_results(workdir, "protocol")
    data = build_windows(load_clean(workdir), **saved["extra"])
    if "test_windows_hash" in saved["metrics"]:
        check_windows_hash(data, saved["metrics"]["test_windows_hash"], where="chapter 02's protocol")
    result = load_results(workdir, "baselines")
    tables = result["tables"]  # the validation scores computed again (seconds) when chapter 02 saved none:
    val = tables["val"] if "val" in tables else baseline_scores(workdir, data, split="val")
    boosted = load_results(workdir, "boosted")["tables"]["test"] if (results_dir(workdir) / "boosted.json").exists() else None
    return data, Baselines(test=tables["test"], val=val, predictions=result["arrays"], boosted=boosted)


def judge(runs, data, baselines, *, title, metrics=VERDICT_METRICS, n_boot=1000) -> dict:
    """Every run against the baseline strongest on validation by each metric, by the book's one rule.

    ``runs`` maps a run label (``"absolute"``, ``"offset"``, ...) to its ``SeedRuns``;
    ``title`` is the model's name in text (``"LSTM"``); ``n_boot``: bootstrap resamples of
    users. Returns metric -> run -> :class:`checkin_traj.verdicts.Verdict`.
    """
    verdicts = {}
    for metric in metrics:
        bar = baselines.strongest(metric)
        verdicts[metric] = {
            run: versus_baseline(
                run_label(title, run), seed_runs, data, baseline=bar, baseline_prediction=baselines.predictions[bar],
                baseline_metrics=baselines.test.loc[bar], metric=metric, n_boot=n_boot,
            )
            for run, seed_runs in runs.items()
        }
    return verdicts


def compare_runs(runs, contender, reference, data, *, title, metric="rmse", n_boot=1000):
    """One run of a chapter against another (each averaged over its seeds), by the one rule."""
    for run in (contender, reference):
        if run not in runs:
            raise ValueError(f"no run {run!r}; the runs are {list(runs)}")
    losses = [
        np.stack([window_losses(data, value, metric) for value in runs[run].predictions.values()])
        for run in (contender, reference)
    ]
    return compare(
        *losses, data.test.user, metric=metric, contender=run_label(title, contender), reference=run_label(title, reference),
        values=runs[contender].metrics[metric].to_numpy(dtype=float),
        reference_values=runs[reference].metrics[metric].to_numpy(dtype=float), n_boot=n_boot,
    )


def number_cell(value, digits) -> str:
    """``value`` with ``digits`` decimals; "–" when there is none or it is not finite."""
    return "–" if value is None or not np.isfinite(float(value)) else f"{float(value):.{digits}f}"


def mean_std_cell(summary, metric, digits) -> str:
    """``"mean ± std"`` of ``metric`` in a ``SeedRuns.summary()``: the mean alone without a spread, "–" without the metric."""
    if metric not in summary.index:
        return "–"
    mean, std = summary.loc[metric, "mean"], summary.loc[metric, "std"]
    return f"{number_cell(mean, digits)} ± {number_cell(std, digits)}" if np.isfinite(std) else number_cell(mean, digits)


def _interval(verdict, digits):
    """``"beats: -0.0012 [-0.0015, -0.0009]"``."""
    d = verdict.difference
    return f"{verdict.outcome}: {signed(d.estimate, digits)} [{signed(d.low, digits)}, {signed(d.high, digits)}]"


def results_frame(runs, baselines, verdicts, *, title, forms=None) -> pd.DataFrame:
    """The one results table as text: one column per run, the strongest baselines and the boosted-tree peer.

    Rows: every metric of :data:`TABLE_METRICS` (mean ± standard deviation over seeds), then
    each verdict (outcome, difference from the bar and its 95 % interval over users), the
    article's form against the book's (``forms``, a Verdict, shown in the contender's
    column), and how many seeds the epoch cap ended. Empty cells are empty, a metric a
    column lacks is "–".
    """
    from .training import runs_at_cap

    rows = {METRIC_LABELS.get(metric, metric): metric for metric in TABLE_METRICS}
    verdict_rows = {metric: f"against {baselines.strongest(metric)}: verdict, {_DIFFERENCE[metric][0]} [95 % interval]" for metric in verdicts}
    forms_row = f"against the book's form: verdict, {_DIFFERENCE['rmse'][0]} [95 % interval]"
    cap_row = "runs ended by the epoch cap"
    columns = {}
    for run, seed_runs in runs.items():
        summary = seed_runs.summary()
        column = {label: mean_std_cell(summary, metric, TABLE_METRICS[metric]) for label, metric in rows.items()}
        for metric, label in verdict_rows.items():
            column[label] = _interval(verdicts[metric][run], _DIFFERENCE[metric][1])
        column[forms_row] = _interval(forms, 4) if forms is not None and forms.contender == run_label(title, run) else ""
        counts = runs_at_cap(seed_runs)
        column[cap_row] = f"{counts['at_cap']} of {counts['runs']}"
        columns[run_label(title, run)] = column
    references = {}
    for metric in verdicts:
        name = baselines.strongest(metric)
        references.setdefault(f"baseline: {name}", baselines.test.loc[name])
    if baselines.boosted is not None and BOOSTED_PEER in baselines.boosted.index:
        references["boosted trees (squared error)"] = baselines.boosted.loc[BOOSTED_PEER]
    blank = {label: "" for label in (*verdict_rows.values(), forms_row, cap_row)}
    for name, scores in references.items():
        columns[name] = {**{label: number_cell(scores.get(metric), TABLE_METRICS[metric]) for label, metric in rows.items()}, **blank}
    frame = pd.DataFrame(columns).rename_axis("test windows")
    if forms is None:
        frame = frame.drop(index=forms_row)
    return frame


def results_table(runs, baselines, verdicts, *, title, forms=None):
    """:func:`results_frame`, styled to wrap its cells within the page's column."""
    return wrapped(results_frame(runs, baselines, verdicts, title=title, forms=forms))


def wrapped(frame, *, width="11em"):
    """A table whose text cells wrap (no column wider than ``width``), so it fits the page, with
    room between the columns (a ``"0.407 ± 0.001"`` never wraps)."""
    room = [{"selector": "th, td", "props": [("padding", "0.15em 0.4em")]}]
    style = frame.style.set_properties(**{"white-space": "normal", "max-width": width, "text-align": "left"})
    return style.set_table_styles(room, overwrite=False)


def training_facts(runs) -> dict:
    """How the training went, over every run and seed: ``seconds_per_epoch`` (mean, first epochs
    left out: they include the graph's tracing), ``epochs_mean``, ``runs``, ``at_cap`` and
    ``stopped_early`` (:func:`checkin_traj.training.runs_at_cap`)."""
    from .training import runs_at_cap

    seconds = [s for seed_runs in runs.values() for history in seed_runs.histories.values() for s in history["seconds"][1:]]
    return {
        "seconds_per_epoch": float(np.mean(seconds)) if seconds else float("nan"),
        "epochs_mean": float(np.mean([seed_runs.metrics["epochs_run"].mean() for seed_runs in runs.values()])),
        **runs_at_cap(runs),
    }


def model_path(workdir, name, run) -> Path:
    """Where :func:`save_runs` keeps the best seed's network of a run: ``results/<name>_<run>.keras``."""
    return results_dir(workdir) / f"{name}_{run}.keras"


def save_runs(workdir, name, runs, data, *, title, forms, verdicts=None, hyperparameters=None, training=None) -> Path:
    """Save a model chapter's runs as result ``name`` (``"lstm"``), for chapter 06, the quality record and the tests.

    Writes ``results/<name>.json|.npz`` (:func:`checkin_traj.results.results_payload`:
    metrics per run and seed, predictions, histories) with the model's ``title`` in text,
    which run is which of ``forms`` (``{"article": run, "book": run}``, a form whose run was
    not trained left out), the ``verdicts`` of :func:`judge`, the ``hyperparameters`` and
    ``training`` settings (JSON-able) and the test windows' hash, and each run's best seed's
    network as ``results/<name>_<run>.keras`` (:func:`model_path`).
    """
    from .sequences import test_windows_hash

    unknown = {form: run for form, run in forms.items() if run not in runs}
    if not set(forms) <= {"article", "book"} or unknown:
        raise ValueError(f"forms must name the article's and the book's run among {list(runs)}, got {forms}")
    verdicts = {metric: {run: verdict.as_dict() for run, verdict in by_run.items()} for metric, by_run in (verdicts or {}).items()}
    payload = results_payload(runs, hyperparameters=hyperparameters or {}, training=training or {}, verdicts=verdicts)
    models = {}
    for run, seed_runs in runs.items():
        path = model_path(workdir, name, run)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.stem}.partial.keras")
        seed_runs.best.model.save(partial)
        os.replace(partial, path)
        models[run] = path.name
    payload["extra"].update(title=title, forms=dict(forms), models=models, test_windows_hash=test_windows_hash(data))
    return save_results(workdir, name, **payload)
