"""Reading a study: its completed trials, the best configuration, hyperparameter importance, tables.

Everything here reads what the trials stored (**validation** scores) or what the chapter
trained and passes in; nothing trains. The ``*_table`` functions are the chapter's tables
for a reader: headers in words, numbers rounded to what they mean, nothing shown as NaN.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..checks import check_choice, check_int
from ..report import mean_std_cell, number_cell, wrapped
from .space import HYPERPARAMETER_LABELS, config_label
from .study import study_settings

#: Completed trials from which :func:`hyperparameter_importance` uses fANOVA (else eta squared).
FANOVA_MIN_TRIALS = 16
IMPORTANCE_METHODS = ("auto", "fanova", "eta_squared")


def _completed(study):
    from optuna.trial import TrialState

    return study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))


def trials_frame(study) -> pd.DataFrame:
    """The completed trials: configuration and validation metrics, one row each.

    Returns pandas.DataFrame: index ``trial`` (Optuna's trial number), sorted; one column per
    hyperparameter, then ``rmse`` (the objective), ``r2``, ``km_mean``, ``minutes_mean``, ...
    (validation split), ``epochs_run``, ``seconds`` (training and scoring, wall clock) and ``label``
    (e.g. ``"64 / 0.5 / 3 / sigmoid"``). ``attrs``: ``split`` ("val") and ``hyperparameters``.
    """
    trials = _completed(study)
    space = study_settings(study).get("space") or {}
    names = list(space) if space else sorted({name for trial in trials for name in trial.params})
    rows = {}
    for trial in trials:
        row = {name: trial.params.get(name) for name in names}
        row["rmse"] = float(trial.value)
        row.update({key[4:]: value for key, value in trial.user_attrs.items() if key.startswith("val_") and key != "val_rmse"})
        row["epochs_run"] = trial.user_attrs.get("epochs_run")
        row["seconds"] = trial.user_attrs.get("seconds")
        row["label"] = config_label({name: trial.params[name] for name in names if name in trial.params})
        rows[trial.number] = row
    frame = pd.DataFrame.from_dict(rows, orient="index")
    if frame.empty:
        frame = pd.DataFrame(columns=[*names, "rmse", "epochs_run", "seconds", "label"])
    frame = frame.rename_axis("trial").sort_index()
    frame.attrs.update(split="val", hyperparameters=names)
    return frame


def best_configuration(study) -> dict:
    """The hyperparameters of the completed trial with the lowest validation RMSE (ties: the lower trial number).

    Raises ``ValueError``: when no trial has completed.
    """
    trials = _completed(study)
    if not trials:
        raise ValueError(f"study {study.study_name!r} has no completed trial yet: run run_study first")
    return dict(min(trials, key=lambda trial: (float(trial.value), trial.number)).params)


def _eta_squared(frame, names):
    """Share of the variance of ``rmse`` explained by each hyperparameter's groups (main effects)."""
    rmse = frame["rmse"].to_numpy(dtype=float)
    total = ((rmse - rmse.mean()) ** 2).sum()
    shares = {}
    for name in names:
        column = frame[name]
        if pd.api.types.is_numeric_dtype(column) and column.nunique() > 5:
            column = pd.qcut(column.rank(method="first"), 4, labels=False)
        means = frame.groupby(column.to_numpy())["rmse"].transform("mean").to_numpy(dtype=float)
        shares[name] = float(((means - rmse.mean()) ** 2).sum() / total) if total > 0 else 0.0
    return pd.Series(shares)


def hyperparameter_importance(study, *, method="auto", seed=0, min_trials_fanova=FANOVA_MIN_TRIALS) -> pd.Series:
    """How much each hyperparameter matters for the validation RMSE.

    ``method="fanova"``: Optuna's fANOVA (:class:`optuna.importance.FanovaImportanceEvaluator`,
    seeded with ``seed``); ``"eta_squared"``: the share of the RMSE's variance explained by
    each hyperparameter's group means (main effects; exact for a full grid, continuous values
    binned in quartiles); ``"auto"``: fANOVA from ``min_trials_fanova`` completed trials on,
    else eta squared, which needs no model. Returns hyperparameter -> importance, largest
    first (fANOVA's sum to 1, eta squared's to at most 1), ``attrs["method"]`` the method
    used. ValueError for an unknown method or fewer than 2 completed trials.
    """
    import optuna

    check_choice("method", method, IMPORTANCE_METHODS)
    seed = check_int("seed", seed, minimum=0)
    min_trials_fanova = check_int("min_trials_fanova", min_trials_fanova, minimum=2)
    frame = trials_frame(study)
    if len(frame) < 2:
        raise ValueError(f"hyperparameter importance needs at least 2 completed trials, the study has {len(frame)}")
    names = frame.attrs["hyperparameters"]
    used = method
    if method == "auto":
        used = "fanova" if len(frame) >= min_trials_fanova else "eta_squared"
    if used == "fanova":
        varying = [name for name in names if frame[name].nunique() > 1]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scores = optuna.importance.get_param_importances(
                study, evaluator=optuna.importance.FanovaImportanceEvaluator(seed=seed), params=varying
            )
        importance = pd.Series({name: float(scores.get(name, 0.0)) for name in names})
    else:
        importance = _eta_squared(frame, names)
    importance = importance.sort_values(ascending=False).rename("importance").rename_axis("hyperparameter")
    importance.attrs["method"] = used
    return importance


# --------------------------------------------------------------------------- tables for the reader

#: Columns of :func:`trials_table` after the hyperparameters: trials_frame column -> (header, decimals).
TRIAL_COLUMNS = {
    "rmse": ("RMSE, validation", 4),
    "r2": ("R², validation", 3),
    "km_median": ("median error (km), validation", 2),
    "minutes_median": ("median gap error (minutes), validation", 0),
    "epochs_run": ("epochs trained", 0),
    "seconds": ("seconds", 1),
}

#: Metrics of :func:`test_table`, with their decimals.
TEST_METRICS = {"rmse": 3, "r2": 3, "km_median": 2, "within_1km": 3, "minutes_median": 0}


def _value_text(value) -> str:
    """A hyperparameter value as a reader reads it: 3 significant digits for a float, "–" for none."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "–"
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def trials_table(trials, *, top=5):
    """The ``top`` trials of :func:`trials_frame` (any subset of its rows) with the lowest validation RMSE.

    Returns a Styler (wrapping within the page's column): index ``trial``, the hyperparameters
    and :data:`TRIAL_COLUMNS` with headers in words, as text; "–" where a trial lacks a value.
    """
    top = check_int("top", top, minimum=0)
    names = list(trials.attrs.get("hyperparameters") or [])
    ordered = trials.sort_values("rmse", kind="stable").head(top) if "rmse" in trials else trials.head(top)
    table = pd.DataFrame(index=ordered.index)
    for name in names:
        table[HYPERPARAMETER_LABELS.get(name, name)] = [_value_text(value) for value in ordered[name]]
    for column, (header, digits) in TRIAL_COLUMNS.items():
        if column in ordered:
            table[header] = [number_cell(value, digits) for value in ordered[column]]
    return wrapped(table.rename_axis("trial"))


def grid_table(grids) -> pd.DataFrame:
    """Grids and configurations side by side: one row per hyperparameter (in words), one column per grid.

    ``grids`` maps a column header to a grid (name -> list of values) or a configuration
    (name -> value). Text cells: values joined by ", ", "–" where a grid does not name a
    hyperparameter.
    """
    names = list(dict.fromkeys(name for grid in grids.values() for name in grid))

    def text(value):
        return ", ".join(map(_value_text, value)) if isinstance(value, (list, tuple)) else _value_text(value)

    columns = {
        header: {HYPERPARAMETER_LABELS.get(name, name): text(grid.get(name)) for name in names} for header, grid in grids.items()
    }
    return pd.DataFrame(columns).rename_axis("hyperparameter")


def test_table(runs, references):
    """Test scores: each of ``runs`` (row label -> ``SeedRuns``) as mean ± standard deviation over seeds, then
    single numbers of ``references`` (row label -> metric -> value: a baseline's, the article's).

    A Styler wrapping within the page's column: columns :data:`TEST_METRICS` headed in words,
    "–" where a row lacks a metric.
    """
    from ..metrics import METRIC_LABELS

    rows = {}
    for label, seed_runs in runs.items():
        summary = seed_runs.summary()
        rows[label] = {METRIC_LABELS[metric]: mean_std_cell(summary, metric, digits) for metric, digits in TEST_METRICS.items()}
    for label, scores in references.items():
        rows[label] = {METRIC_LABELS[metric]: number_cell(dict(scores).get(metric), digits) for metric, digits in TEST_METRICS.items()}
    return wrapped(pd.DataFrame(rows).T.rename_axis("test windows"))
