"""Reading a study: its completed trials as a table, the best configuration, hyperparameter importance.

Everything here reads the **validation** scores the trials stored; nothing trains.
"""

from __future__ import annotations

import warnings

import pandas as pd

from ..checks import check_choice, check_int
from .space import config_label
from .study import study_settings

#: Completed trials from which :func:`hyperparameter_importance` uses fANOVA (else eta squared).
FANOVA_MIN_TRIALS = 16
IMPORTANCE_METHODS = ("auto", "fanova", "eta_squared")


def trials_frame(study) -> pd.DataFrame:
    """The completed trials: configuration and validation metrics, one row each.

    Returns
    -------
    pandas.DataFrame
        Index ``trial`` (Optuna's trial number); one column per hyperparameter, then
        ``rmse`` (the objective), ``r2``, ``km_mean``, ``minutes_mean``, ... (validation
        split, scaled RMSE/R², km, minutes), ``epochs_run``, ``seconds`` (training and
        scoring, wall clock) and ``label`` (e.g. ``"64 / 0.5 / 3 / sigmoid"``). Sorted by
        trial number; ``frame.attrs["split"] == "val"``.
    """
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    space = study_settings(study).get("space") or {}
    names = list(space) if space else sorted({name for trial in trials for name in trial.params})
    rows = {}
    for trial in trials:
        row = {name: trial.params.get(name) for name in names}
        row["rmse"] = float(trial.value)
        for key, value in trial.user_attrs.items():
            if key.startswith("val_") and key != "val_rmse":
                row[key[len("val_"):]] = value
        row["epochs_run"] = trial.user_attrs.get("epochs_run")
        row["seconds"] = trial.user_attrs.get("seconds")
        row["label"] = config_label({name: trial.params[name] for name in names if name in trial.params})
        rows[trial.number] = row
    frame = pd.DataFrame.from_dict(rows, orient="index")
    if frame.empty:
        frame = pd.DataFrame(columns=[*names, "rmse", "epochs_run", "seconds", "label"])
    frame.index.name = "trial"
    frame = frame.sort_index()
    frame.attrs["split"] = "val"
    frame.attrs["hyperparameters"] = names
    return frame


def best_configuration(study) -> dict:
    """The hyperparameters of the completed trial with the lowest validation RMSE.

    Ties go to the lower trial number. Raises ``ValueError`` when no trial has completed.
    """
    frame = trials_frame(study)
    if frame.empty:
        raise ValueError(f"study {study.study_name!r} has no completed trial yet: run run_study first")
    best = frame.sort_values(["rmse"], kind="stable").index[0]
    return _params_of(study, best)


def _params_of(study, number):
    for trial in study.get_trials(deepcopy=False):
        if trial.number == number:
            return dict(trial.params)
    raise KeyError(number)


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

    Parameters
    ----------
    study : optuna.Study
    method : {"auto", "fanova", "eta_squared"}
        ``"fanova"``: Optuna's fANOVA (:class:`optuna.importance.FanovaImportanceEvaluator`,
        a random forest's functional ANOVA). ``"eta_squared"``: the share of the RMSE's
        variance explained by each hyperparameter's group means (main effects; exact for a
        full grid, continuous values binned in quartiles). ``"auto"``: fANOVA from
        ``min_trials_fanova`` completed trials on, else eta squared, which needs no model.
    seed : int
        Seed of the fANOVA forest.
    min_trials_fanova : int
        See ``method``.

    Returns
    -------
    pandas.Series
        Hyperparameter to importance, largest first; fANOVA's sum to 1, eta squared's to at
        most 1. ``series.attrs["method"]`` names the method used.

    Raises
    ------
    ValueError
        For an unknown method or fewer than 2 completed trials.
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
    importance = importance.sort_values(ascending=False)
    importance.index.name = "hyperparameter"
    importance.name = "importance"
    importance.attrs["method"] = used
    return importance
