"""Chapter 06's plumbing: every saved model run and baseline read back into one table.

Chapters 03-05 save their runs with :func:`checkin_traj.report.save_runs`, chapter 02 its
baselines (read with :func:`checkin_traj.report.load_protocol`). This module only reads
them: :func:`comparison_table` (checked to be scored on the same test windows),
:func:`saved_predictions`, :func:`seed_scores`, :func:`loss_histories`, and :func:`formatted`
(the table as text). Verdicts come from :func:`checkin_traj.verdicts.compare`, on the page.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .metrics import ARTICLE_SCORES, HUMAN_METRICS, METRIC_LABELS, SCALED_METRICS
from .results import load_results, run_label, seed_predictions
from .sequences import check_windows_hash

__all__ = ["METRICS", "comparison_table", "saved_predictions", "seed_scores", "loss_histories", "mean_std", "formatted"]

#: Every metric of the table, in order (those of :func:`checkin_traj.metrics.evaluate`).
METRICS = SCALED_METRICS + HUMAN_METRICS

#: Decimals a metric is shown with: 3 for the scores the article reports (RMSE, R² pooled) and
#: any other, 2 for R² per target (their spread over seeds is in the first decimal), km to 10 m,
#: minutes whole.
DIGITS = {
    **dict.fromkeys(("r2_gap", "r2_lon", "r2_lat", "r2_spatial", "km_mean", "km_median", "km_median_users"), 2),
    **dict.fromkeys(("minutes_mean", "minutes_median", "minutes_median_users"), 0),
}

#: Headers of :func:`formatted` for the table's columns that are not metrics.
COLUMN_LABELS = {"article_rmse": "RMSE reported by the article", "article_r2": "R² reported by the article"}


def _check_models(models):
    if isinstance(models, str) or not models or len(set(models)) != len(models):
        raise ValueError(f"models must be a non-empty list of distinct result names such as ['lstm', 'seq2seq'], got {models!r}")
    return list(models)


def comparison_table(workdir, data, baselines, *, models=("lstm", "seq2seq", "transformer")) -> pd.DataFrame:
    """One row per saved model run and per baseline, every test metric, the article's numbers beside its form.

    ``data`` and ``baselines``: chapter 02's (:func:`checkin_traj.report.load_protocol`); every result of the model
    chapters ``models`` must have been scored on its test windows (checked by their content hash). Index: the run's
    label (:func:`checkin_traj.results.run_label`, ``"LSTM (offset)"``) or the baseline's name; models first, in the
    order of ``models`` and of their saved runs. Columns ``kind`` (``"model"``/``"baseline"``), ``model`` (result or
    baseline name), ``title``, ``run``, ``form`` (``"article"``, ``"book"`` or ``""``), ``n_seeds`` (0 for
    baselines), ``windows``, ``<metric>_mean`` and ``<metric>_std`` for every metric of :data:`METRICS` (over seeds,
    ddof=1; NaN for baselines) and the ``val_`` ones of model runs, and ``article_rmse``, ``article_r2`` beside the
    article's form (else NaN). Raises FileNotFoundError for a missing result, ValueError for one scored on other
    test windows or lacking a metric.
    """
    frames = []
    for model in _check_models(models):
        saved = load_results(workdir, model)
        extra, summary = saved["extra"], saved["tables"].get("summary")
        if "test_windows_hash" not in extra or "title" not in extra or summary is None:
            raise ValueError(f"results {model!r} in {workdir} predate chapter 06's reading (no title, forms or windows' hash): rerun its chapter")
        check_windows_hash(data, extra["test_windows_hash"], where=f"results {model!r} in {workdir}")
        scores = [f"{prefix}{metric}_{stat}" for prefix in ("", "val_") for metric in METRICS for stat in ("mean", "std")]
        missing = [column for column in scores if column not in summary.columns]
        if missing:
            raise ValueError(f"the summary table of {model!r} in {workdir} lacks the columns {missing}")
        runs, title = list(extra["runs"]), extra["title"]
        form = {run: form for form, run in extra.get("forms", {}).items()}
        rows = summary.loc[runs]
        frame = pd.DataFrame({
            "kind": "model", "model": model, "title": title, "run": runs, "form": [form.get(run, "") for run in runs],
            "n_seeds": rows["n_seeds"].to_numpy(dtype=np.int64), "windows": rows["windows_mean"].to_numpy(dtype=np.int64),
            **{column: rows[column].to_numpy(dtype=float) for column in scores},
        }, index=[run_label(title, run) for run in runs])
        reported = ARTICLE_SCORES.get(title, {})
        for metric in ("rmse", "r2"):
            frame[f"article_{metric}"] = np.where(frame["form"] == "article", reported.get(metric, np.nan), np.nan)
        frames.append(frame)

    saved_hash = load_results(workdir, "baselines")["extra"].get("test_windows_hash")
    if saved_hash is None:
        raise ValueError(f"results 'baselines' in {workdir} saved no test_windows_hash: rerun chapter 02")
    check_windows_hash(data, saved_hash, where=f"results 'baselines' in {workdir}")
    test = baselines.test
    names = [str(name) for name in test.index]
    frames.append(pd.DataFrame({
        "kind": "baseline", "model": names, "title": "", "run": "", "form": "", "n_seeds": 0,
        "windows": test["windows"].to_numpy(dtype=np.int64),
        **{f"{metric}_mean": test[metric].to_numpy(dtype=float) for metric in METRICS},
        **{f"{metric}_std": np.nan for metric in METRICS},
    }, index=names))
    table = pd.concat(frames)
    if table.index.has_duplicates:
        raise ValueError(f"row names repeat in the comparison table: {sorted(table.index[table.index.duplicated()])}")
    return table.rename_axis("name")


def saved_predictions(workdir, table, baselines, names=None, *, seeds="every") -> dict:
    """The saved test predictions (scaled, (n, 3)) of rows ``names`` (default all) of :func:`comparison_table`.

    ``seeds="every"``: row -> list of each seed's predictions, in the saved order of the seeds
    (a baseline: a list of one). ``"kept"``: row -> the kept seed's predictions (lowest
    validation loss; a baseline: its own, from ``baselines``).
    """
    if seeds not in ("every", "kept"):
        raise ValueError(f"seeds must be 'every' or 'kept', got {seeds!r}")
    names = list(table.index) if names is None else list(names)
    unknown = [name for name in names if name not in table.index]
    if unknown:
        raise ValueError(f"names {unknown} are not rows of the table; its rows are {list(table.index)}")
    saved, predictions = {}, {}
    for name in names:
        row = table.loc[name]
        if row["kind"] == "baseline":
            prediction = baselines.predictions[row["model"]]
            predictions[name] = [prediction] if seeds == "every" else prediction
            continue
        if row["model"] not in saved:
            saved[row["model"]] = load_results(workdir, row["model"])
        result = saved[row["model"]]
        predictions[name] = list(seed_predictions(result, row["run"]).values()) if seeds == "every" else result["arrays"][row["run"]]
    return predictions


def seed_scores(workdir, table) -> pd.DataFrame:
    """Every seed's test scores of every model run of the table, and each baseline's one row: index ``name``
    (a row of ``table``, once per seed), columns ``kind``, ``seed`` (-1 for a baseline) and :data:`METRICS`."""
    frames = []
    for model, rows in table[table["kind"] == "model"].groupby("model", sort=False):
        seeds = load_results(workdir, model)["tables"].get("seeds")
        if seeds is None:
            raise ValueError(f"results {model!r} in {workdir} have no per-seed scores; rerun its chapter")
        names = {row["run"]: name for name, row in rows.iterrows()}
        kept = seeds[seeds["run"].isin(names)]
        frames.append(kept.assign(name=kept["run"].map(names), kind="model").set_index("name")[["kind", "seed", *METRICS]])
    baseline_rows = table[table["kind"] == "baseline"]
    scores = {metric: baseline_rows[f"{metric}_mean"] for metric in METRICS}
    frames.append(pd.DataFrame({"kind": "baseline", "seed": -1, **scores}, index=baseline_rows.index))
    order = {name: number for number, name in enumerate(table.index)}
    frame = pd.concat(frames).rename_axis("name")
    return frame.iloc[np.argsort([order[name] for name in frame.index], kind="stable")]


def loss_histories(workdir, *, models=("lstm", "seq2seq", "transformer")) -> dict:
    """Each model run's training history (its kept seed): ``"<mode> targets"`` -> run label -> history.

    Runs with different target modes learn different targets, so their losses compare only
    within a mode.
    """
    grouped = {}
    for model in _check_models(models):
        extra = load_results(workdir, model)["extra"]
        for run in extra["runs"]:
            mode = extra.get("target_mode", {}).get(run, "absolute")
            history = extra["histories"][run][str(extra["best_seed"][run])]
            grouped.setdefault(f"{mode} targets", {})[run_label(extra.get("title", model), run)] = history
    return grouped


def mean_std(mean, std, digits=3) -> str:
    """``"0.407 ± 0.001"``, joined by non-breaking spaces (a table cell never wraps inside it);
    the mean alone when there is no spread (NaN); ``""`` when there is no mean."""
    if not np.isfinite(mean):
        return ""
    return f"{mean:,.{digits}f}" + (f"\u00a0±\u00a0{std:,.{digits}f}" if np.isfinite(std) else "")


def formatted(table, metrics, *, digits=None) -> pd.DataFrame:
    """Rows of :func:`comparison_table` as text a reader reads: one column per metric, headed in words.

    ``metrics``: of :data:`METRICS`, or other numeric columns of the table (``article_rmse``).
    Model runs read ``"mean ± std"`` over seeds, baselines their one number (rows labelled
    ``"baseline: <name>"``), empty where there is no number; ``digits``: decimals for every
    column, by default each metric's own (:data:`DIGITS`).
    """
    metrics = list(metrics)
    unknown = [metric for metric in metrics if f"{metric}_mean" not in table.columns and metric not in table.columns]
    if unknown or not metrics:
        raise ValueError(f"metrics must be a non-empty list of the table's metrics, got {metrics}")
    columns = {}
    for metric in metrics:
        places = DIGITS.get(metric, 3) if digits is None else digits
        means = table[f"{metric}_mean" if f"{metric}_mean" in table.columns else metric].astype(float)
        stds = table[f"{metric}_std"].astype(float) if f"{metric}_std" in table.columns else means * np.nan
        label = METRIC_LABELS.get(metric, COLUMN_LABELS.get(metric, metric))
        columns[label] = [mean_std(mean, std, places) for mean, std in zip(means, stds)]
    index = [f"baseline: {name}" if kind == "baseline" else name for name, kind in zip(table.index, table["kind"])]
    return pd.DataFrame(columns, index=pd.Index(index, name="test windows"))
