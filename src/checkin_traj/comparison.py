"""Every model and baseline in one table, and the article's claims checked against it.

Chapters 02-05 save their test scores with :func:`checkin_traj.results.save_results`:
``baselines`` (one deterministic row per baseline) and ``lstm``, ``seq2seq``,
``transformer`` (one row per run, mean and standard deviation over seeds). This module
reads them back into one table (:func:`comparison_table`), decides which contender wins on
a metric while respecting the spread between seeds (:func:`compare`,
:func:`versus_baselines`), and tests each claim of the article on that table
(:func:`article_claims`). Nothing here trains or predicts: it only reads saved results.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .metrics import ARTICLE_SCORES, HUMAN_METRICS, SCALED_METRICS
from .results import MODEL_NAMES, load_results, run_label

#: The run of each model that has the article's form (absolute targets; the article's
#: Transformer had no positional encoding), and the model's key in ``ARTICLE_SCORES``.
ARTICLE_FORM = {
    "lstm": ("absolute", "LSTM"),
    "seq2seq": ("absolute", "Seq2Seq"),
    "transformer": ("no_positions_absolute", "Transformer"),
}

#: Every metric of the table, in order (those of :func:`checkin_traj.metrics.evaluate`).
METRICS = SCALED_METRICS + HUMAN_METRICS

#: Metrics where a larger value is better; for all others lower is better.
HIGHER_IS_BETTER = frozenset({"r2", "r2_gap", "r2_lon", "r2_lat", "r2_spatial", "within_1km"})

#: Verdicts of :func:`compare`.
HOLDS, FAILS, WITHIN_SPREAD, NOT_TESTED = "holds", "does not hold", "within the seeds' spread", "not tested"


def _check_models(models):
    if isinstance(models, str) or not models:
        raise ValueError(f"models must be a non-empty list of result names such as {list(MODEL_NAMES)}, got {models!r}")
    models = list(models)
    if len(set(models)) != len(models):
        raise ValueError(f"models must be distinct, got {models}")
    return models


def comparison_table(workdir, *, models=("lstm", "seq2seq", "transformer"), baselines="baselines") -> pd.DataFrame:
    """One row per model run and per baseline, every test metric, the article's numbers beside.

    Parameters
    ----------
    workdir : str or Path
        The run's folder (the chapters' ``WORKDIR``).
    models : sequence of str
        Result names of the model chapters to read (each saved with
        :func:`checkin_traj.training.results_payload`).
    baselines : str
        Result name of the baselines (chapter 02).

    Returns
    -------
    pandas.DataFrame
        Index: a readable name per row (``"LSTM (absolute)"``, ``"persistence"``). Columns:
        ``kind`` (``"model"`` or ``"baseline"``), ``model`` (result name of the model, or
        the baseline's name), ``run`` (the run label; ``""`` for baselines), ``n_seeds``
        (0 for baselines), ``windows`` (test windows scored), then for every metric of
        :data:`METRICS` ``<metric>_mean`` and ``<metric>_std`` (standard deviation over
        seeds, ddof=1; NaN for baselines, which are deterministic, and for single seeds), and
        ``article_model``, ``article_rmse``, ``article_r2``: the article's reported test
        scores beside the run that has the article's form (:data:`ARTICLE_FORM`), else
        empty / NaN. Models first, in the order of ``models`` and of their saved runs, then
        the baselines in their saved order.

    Raises
    ------
    FileNotFoundError
        When a result is missing (run its chapter with the same ``WORKDIR`` first).
    ValueError
        When a result lacks a metric, or models and baselines were scored on different
        numbers of test windows (results of different protocols in one folder).
    """
    models = _check_models(models)
    baseline_result = load_results(workdir, baselines)
    if "test" not in baseline_result["tables"]:
        raise ValueError(f"results {baselines!r} in {workdir} have no 'test' table; rerun chapter 02")
    baseline_table = baseline_result["tables"]["test"]
    missing = [metric for metric in METRICS + ("windows",) if metric not in baseline_table.columns]
    if missing:
        raise ValueError(f"the baselines' test table in {workdir} lacks the columns {missing}")

    frames = []
    for model in models:
        result = load_results(workdir, model)
        if "summary" not in result["tables"]:
            raise ValueError(f"results {model!r} in {workdir} have no 'summary' table; rerun its chapter")
        summary = result["tables"]["summary"]
        scores = [f"{metric}_{stat}" for metric in METRICS for stat in ("mean", "std")]
        missing = [column for column in scores + ["windows_mean", "n_seeds"] if column not in summary.columns]
        if missing:
            raise ValueError(f"the summary table of {model!r} in {workdir} lacks the columns {missing}")
        runs = list(result["extra"].get("runs", summary.index))
        if not set(runs) <= set(summary.index):
            raise ValueError(f"results {model!r} list runs {runs} but its summary table has rows {list(summary.index)}")
        rows = summary.loc[runs]
        frame = pd.DataFrame(
            {
                "kind": "model",
                "model": model,
                "run": runs,
                "n_seeds": rows["n_seeds"].to_numpy(dtype=np.int64),
                "windows": rows["windows_mean"].to_numpy(dtype=np.int64),
                **{column: rows[column].to_numpy(dtype=float) for column in scores},
                **{
                    f"val_{column}": (rows[f"val_{column}"].to_numpy(dtype=float) if f"val_{column}" in rows else np.nan)
                    for column in scores
                },
            },
            index=[run_label(model, run) for run in runs],
        )
        frames.append(frame)

    baseline_frame = pd.DataFrame(
        {
            "kind": "baseline",
            "model": [str(name) for name in baseline_table.index],
            "run": "",
            "n_seeds": 0,
            "windows": baseline_table["windows"].to_numpy(dtype=np.int64),
            **{
                column: (baseline_table[metric].to_numpy(dtype=float) if stat == "mean" else np.nan)
                for metric in METRICS
                for stat, column in (("mean", f"{metric}_mean"), ("std", f"{metric}_std"))
            },
        },
        index=[str(name) for name in baseline_table.index],
    )
    table = pd.concat(frames + [baseline_frame])
    if table.index.has_duplicates:
        raise ValueError(f"row names repeat in the comparison table: {sorted(table.index[table.index.duplicated()])}")
    windows = table["windows"].unique()
    if len(windows) != 1:
        counts = table.groupby("model", sort=False)["windows"].first().to_dict()
        raise ValueError(
            f"the results in {workdir} were scored on different numbers of test windows {counts}: "
            "rerun chapters 02-05 with the same WORKDIR so that all use one protocol"
        )

    article = pd.DataFrame(
        [
            {"name": run_label(model, run), "article_model": key, **{f"article_{k}": v for k, v in ARTICLE_SCORES[key].items()}}
            for model, (run, key) in ARTICLE_FORM.items()
        ]
    ).set_index("name")
    table = table.join(article[["article_model", "article_rmse", "article_r2"]])
    table["article_model"] = table["article_model"].fillna("")
    table.index.name = "name"
    return table


def _std(value) -> float:
    """A standard deviation for comparisons: NaN (deterministic, or one seed) counts as 0."""
    value = float(value)
    return 0.0 if np.isnan(value) else value


class Judge:
    """Decides comparisons between rows of a :func:`comparison_table` by the book's one rule.

    It reads the saved per-seed test predictions of model runs and the baselines' test
    predictions, turns them into per-window losses and asks
    :func:`checkin_traj.verdicts.compare` (a paired bootstrap over users). It also holds the
    baselines' *validation* scores, on which the strongest baseline is chosen.

    Parameters
    ----------
    workdir : str or Path
    data : WindowedData
        The windows of chapter 02's protocol (the test windows the predictions are for).
    table : pandas.DataFrame
        From :func:`comparison_table`.
    n_boot : int
    """

    def __init__(self, workdir, data, table, *, baselines="baselines", n_boot=1000):
        from .results import baseline_scores

        self.workdir, self.data, self.table, self.n_boot = workdir, data, table, n_boot
        self.baselines = baselines
        self.baseline_val = baseline_scores(workdir, data, split="val", name=baselines)
        self._results = {}

    def _result(self, name):
        if name not in self._results:
            self._results[name] = load_results(self.workdir, name)
        return self._results[name]

    def losses(self, name, metric):
        """Per-window losses of a row: (n_seeds, n) for a model run, (n,) for a baseline."""
        from .results import seed_predictions
        from .verdicts import window_losses

        row = self.table.loc[name]
        if row["kind"] == "model":
            predictions = seed_predictions(self._result(row["model"]), row["run"]).values()
        else:
            predictions = [self._result(self.baselines)["arrays"][row["model"]]]
        return np.stack([window_losses(self.data, value, metric) for value in predictions])

    def _values(self, name, metric):
        row = self.table.loc[name]
        if row["kind"] != "model":
            return [float(row[f"{metric}_mean"])]
        seeds = self._result(row["model"])["tables"].get("seeds")
        if seeds is None or metric not in seeds:
            return [float(row[f"{metric}_mean"])]
        return seeds.loc[seeds["run"] == row["run"], metric].to_numpy(dtype=float)

    def verdict(self, contender, reference, *, metric="rmse"):
        """:class:`checkin_traj.verdicts.Verdict` of row ``contender`` against row ``reference``."""
        from .verdicts import compare as decide

        return decide(
            self.losses(contender, metric),
            self.losses(reference, metric),
            self.data.test.user,
            metric=metric,
            contender=contender,
            reference=reference,
            values=self._values(contender, metric),
            reference_values=self._values(reference, metric),
            n_boot=self.n_boot,
        )

    def strongest(self, metric="rmse") -> str:
        """The strongest baseline on ``metric``, chosen on the validation windows."""
        from .verdicts import strongest_baseline

        return strongest_baseline(self.baseline_val, metric=metric)


#: The words of the one rule as the claims table writes them.
_CLAIM_WORDS = {"beats": HOLDS, "loses": FAILS, "within noise": "within noise"}


def compare(better, worse, *, metric="rmse") -> str:
    """Does the row ``better`` beat the row ``worse`` on ``metric``, beyond the seeds' spread?

    Parameters
    ----------
    better, worse : pandas.Series
        Rows of :func:`comparison_table`.
    metric : str
        A metric of :data:`METRICS`; its direction is taken from :data:`HIGHER_IS_BETTER`.

    Returns
    -------
    str
        :data:`HOLDS` when ``better`` is better by more than the sum of the two standard
        deviations, :data:`FAILS` when it is worse by more than that, else
        :data:`WITHIN_SPREAD`. Baselines have no spread.
    """
    return str(_verdicts(better, worse, metric)[()])


def _verdicts(better, worse, metric):
    """:func:`compare` for one row or a frame of rows ``better`` against one row ``worse``."""
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
    sign = 1.0 if metric in HIGHER_IS_BETTER else -1.0
    advantage = sign * (np.asarray(better[f"{metric}_mean"], dtype=float) - float(worse[f"{metric}_mean"]))
    spread = np.nan_to_num(np.asarray(better[f"{metric}_std"], dtype=float)) + _std(worse[f"{metric}_std"])
    return np.where(advantage > spread, HOLDS, np.where(-advantage > spread, FAILS, WITHIN_SPREAD))


def _best_baseline(table, metric):
    baselines = table[table["kind"] == "baseline"]
    if baselines.empty:
        raise ValueError("the table has no baseline rows")
    values = baselines[f"{metric}_mean"].astype(float)
    return str(values.idxmax() if metric in HIGHER_IS_BETTER else values.idxmin())


def best_runs(table, *, metric="rmse") -> pd.Series:
    """The best run of each model by the mean test ``metric``.

    Returns
    -------
    pandas.Series
        Model result name -> row name in ``table``, in the table's order.
    """
    models = table[table["kind"] == "model"]
    if models.empty:
        raise ValueError("the table has no model rows")
    if f"val_{metric}_mean" in models and models[f"val_{metric}_mean"].notna().all():
        from .verdicts import best_run

        return best_run(models, metric=metric, groupby="model")  # chosen on validation
    by_model = models[f"{metric}_mean"].astype(float).groupby(models["model"], sort=False)
    best = by_model.idxmax() if metric in HIGHER_IS_BETTER else by_model.idxmin()
    return best.rename("run")


def versus_baselines(table, *, metrics=("rmse", "km_median"), judge=None) -> pd.DataFrame:
    """Each model run against the best baseline of each metric.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`comparison_table`.
    metrics : sequence of str
        Metrics of :data:`METRICS`.

    Returns
    -------
    pandas.DataFrame
        One row per model run; per metric the columns ``<metric>`` (the run's mean),
        ``<metric>_std``, ``<metric>_baseline`` (the baseline best on that metric),
        ``<metric>_baseline_value`` and ``<metric>_verdict`` (``"beats"``, ``"loses"`` or
        :data:`WITHIN_SPREAD`, see :func:`compare`), and ``beats_all`` (True when the run
        beats the baseline on every metric).
    """
    metrics = list(metrics)
    unknown = [metric for metric in metrics if metric not in METRICS]
    if unknown or not metrics:
        raise ValueError(f"metrics must be a non-empty list of {METRICS}, got {metrics}")
    models = table[table["kind"] == "model"]
    if models.empty:
        raise ValueError("the table has no model rows")
    words = {HOLDS: "beats", FAILS: "loses", WITHIN_SPREAD: WITHIN_SPREAD}
    columns = {}
    for metric in metrics:
        baseline = judge.strongest(metric) if judge is not None else _best_baseline(table, metric)
        columns[metric] = models[f"{metric}_mean"].astype(float)
        columns[f"{metric}_std"] = models[f"{metric}_std"].astype(float)
        columns[f"{metric}_baseline"] = pd.Series(baseline, index=models.index)
        columns[f"{metric}_baseline_value"] = pd.Series(float(table.loc[baseline, f"{metric}_mean"]), index=models.index)
        if judge is not None:  # the book's one rule (verdicts.compare)
            decided = {name: judge.verdict(name, baseline, metric=metric) for name in models.index}
            columns[f"{metric}_verdict"] = pd.Series({name: v.outcome for name, v in decided.items()})
            columns[f"{metric}_sentence"] = pd.Series({name: v.sentence(2 if "km" in metric else 3) for name, v in decided.items()})
        else:
            verdicts = _verdicts(models, table.loc[baseline], metric)
            columns[f"{metric}_verdict"] = pd.Series(verdicts, index=models.index).map(words)
    result = pd.DataFrame(columns)
    result["beats_all"] = (result[[f"{metric}_verdict" for metric in metrics]] == "beats").all(axis=1)
    return result


#: How metrics read in the claims' text.
_SHOWN = {"rmse": "RMSE", "r2": "R²", "km_median": "median km"}


def _numbers(table, name, metric):
    """``"LSTM (absolute): RMSE 0.080 ± 0.001"``."""
    row = table.loc[name]
    std = float(row[f"{metric}_std"])
    spread = f" ± {std:.3f}" if np.isfinite(std) else ""
    return f"{name}: {_SHOWN.get(metric, metric)} {float(row[f'{metric}_mean']):.3f}{spread}"


def article_claims(table, *, judge=None) -> pd.DataFrame:
    """Each claim of the article, tested on this project's numbers.

    The article compares its models in their own form (absolute targets; a Transformer
    without positional encoding): the rows of ``table`` with an ``article_model``. A claim
    that one model beats another holds only when the difference is larger than the sum of
    the two standard deviations over seeds (:func:`compare`).

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`comparison_table`.

    Returns
    -------
    pandas.DataFrame
        Index: a short claim id. Columns ``claim`` (what the article says), ``article`` (its
        numbers, from :data:`checkin_traj.metrics.ARTICLE_SCORES`), ``ours`` (ours, on the
        same claim), ``verdict`` (:data:`HOLDS`, :data:`FAILS`, :data:`WITHIN_SPREAD` or
        :data:`NOT_TESTED` when the rows it needs are missing) and ``holds`` (True only
        for :data:`HOLDS`).
    """
    required = {"kind", "model", "run", "article_model", "rmse_mean", "rmse_std", "r2_mean", "r2_std"}
    if not required <= set(table.columns):
        raise ValueError(f"table must come from comparison_table; it lacks {sorted(required - set(table.columns))}")
    article_rows = {key: name for name, key in table["article_model"].items() if key}
    claims = []

    def compare(better, worse, *, metric="rmse"):  # noqa: F811 (the one rule when a judge is given)
        if judge is None:
            return _compare_spread(better, worse, metric=metric)
        return _CLAIM_WORDS[judge.verdict(better.name, worse.name, metric=metric).outcome]

    def add(claim_id, claim, article, ours, verdict):
        claims.append({"id": claim_id, "claim": claim, "article": article, "ours": ours, "verdict": verdict})

    def scores(key, metric):
        return f"{key} {_SHOWN[metric]} {ARTICLE_SCORES[key][metric]:.3f}"

    for claim_id, better, worse, metric in (
        ("seq2seq_beats_lstm_rmse", "Seq2Seq", "LSTM", "rmse"),
        ("seq2seq_beats_lstm_r2", "Seq2Seq", "LSTM", "r2"),
        ("lstm_beats_transformer_rmse", "LSTM", "Transformer", "rmse"),
        ("lstm_beats_transformer_r2", "LSTM", "Transformer", "r2"),
    ):
        shown = _SHOWN[metric]
        relation = "lower" if metric == "rmse" else "higher"
        claim = f"{better} has a {relation} {shown} than {worse}"
        article = f"{scores(better, metric)}, {scores(worse, metric)}"
        if better in article_rows and worse in article_rows:
            first, second = article_rows[better], article_rows[worse]
            ours = f"{_numbers(table, first, metric)}; {_numbers(table, second, metric)}"
            add(claim_id, claim, article, ours, compare(table.loc[first], table.loc[second], metric=metric))
        else:
            add(claim_id, claim, article, "a model's run in the article's form is missing", NOT_TESTED)

    claim = "the Transformer's R² is negative (worse than predicting the mean)"
    if "Transformer" in article_rows:
        name = article_rows["Transformer"]
        mean, std = float(table.loc[name, "r2_mean"]), _std(table.loc[name, "r2_std"])
        verdict = HOLDS if mean + std < 0 else FAILS if mean - std > 0 else WITHIN_SPREAD
        add("transformer_r2_negative", claim, scores("Transformer", "r2"), _numbers(table, name, "r2"), verdict)
    else:
        add("transformer_r2_negative", claim, scores("Transformer", "r2"), "no Transformer run in the article's form", NOT_TESTED)

    claim = "positional encoding lowers the Transformer's error (the article's explanation of its failure, untested there)"
    with_positions = run_label("transformer", "positions_absolute")
    if "Transformer" in article_rows and with_positions in table.index:
        name = article_rows["Transformer"]
        ours = f"{_numbers(table, with_positions, 'rmse')}; {_numbers(table, name, 'rmse')}"
        verdict = compare(table.loc[with_positions], table.loc[name], metric="rmse")
        add("positions_help_transformer", claim, "no run with positions reported", ours, verdict)
    else:
        add("positions_help_transformer", claim, "no run with positions reported", "a Transformer run is missing", NOT_TESTED)

    for metric, shown in (("rmse", "RMSE"), ("km_median", "median error in km")):
        claim = f"the article's models beat naive predictors ({shown})"
        if not article_rows or not (table["kind"] == "baseline").any():
            add(f"models_beat_baselines_{metric}", claim, "no baseline reported", "no models or baselines", NOT_TESTED)
            continue
        baseline = judge.strongest(metric) if judge is not None else _best_baseline(table, metric)
        verdicts = {key: compare(table.loc[name], table.loc[baseline], metric=metric) for key, name in article_rows.items()}
        if all(verdict == HOLDS for verdict in verdicts.values()):
            verdict = HOLDS
        elif any(verdict == FAILS for verdict in verdicts.values()):
            verdict = FAILS
        else:
            verdict = WITHIN_SPREAD if judge is None else "within noise"
        ours = "; ".join(
            f"{key} {float(table.loc[name, f'{metric}_mean']):.3f} ({verdicts[key]})" for key, name in article_rows.items()
        )
        ours += f"; best baseline {baseline} {float(table.loc[baseline, f'{metric}_mean']):.3f}"
        add(f"models_beat_baselines_{metric}", claim, "no baseline reported", ours, verdict)

    claims = pd.DataFrame(claims).set_index("id")
    claims["holds"] = claims["verdict"] == HOLDS
    return claims


def predictions_for(workdir, table, names, *, baselines="baselines") -> dict:
    """The saved test predictions of some rows of the table.

    Parameters
    ----------
    workdir : str or Path
        The run's folder.
    table : pandas.DataFrame
        From :func:`comparison_table`.
    names : sequence of str
        Row names of ``table``. A model run gives its best seed's predictions (lowest
        validation loss), a baseline its own.
    baselines : str
        Result name of the baselines.

    Returns
    -------
    dict of str to numpy.ndarray
        Row name -> scaled predictions (n, 3), in the order of ``names``.
    """
    unknown = [name for name in names if name not in table.index]
    if unknown:
        raise ValueError(f"names {unknown} are not rows of the table; its rows are {list(table.index)}")
    loaded, predictions = {}, {}
    for name in names:
        row = table.loc[name]
        result_name = row["model"] if row["kind"] == "model" else baselines
        if result_name not in loaded:
            loaded[result_name] = load_results(workdir, result_name)["arrays"]
        key = row["run"] if row["kind"] == "model" else row["model"]
        if key not in loaded[result_name]:
            raise ValueError(f"results {result_name!r} in {workdir} hold no predictions {key!r}")
        predictions[name] = loaded[result_name][key]
    return predictions


def loss_histories(workdir, *, models=("lstm", "seq2seq", "transformer")) -> dict:
    """Each model run's training history (its best seed), grouped by target mode.

    Runs with different target modes are trained on different targets (absolute scaled
    values, or standardised offsets from the last check-in), so their losses are only
    comparable within a mode.

    Returns
    -------
    dict of str to dict of str to dict
        ``"<mode> targets"`` -> run name (as in :func:`comparison_table`) -> history with
        lists ``loss`` and ``val_loss`` (MSE of the training targets per epoch).
    """
    grouped = {}
    for model in _check_models(models):
        extra = load_results(workdir, model)["extra"]
        for run in extra["runs"]:
            seed = str(extra["best_seed"][run])
            mode = extra.get("target_mode", {}).get(run, "absolute")
            grouped.setdefault(f"{mode} targets", {})[run_label(model, run)] = extra["histories"][run][seed]
    return grouped


def formatted(table, *, metrics=("rmse", "r2"), digits=3) -> pd.DataFrame:
    """The table as text: ``"mean ± std"`` for model runs, the single number for baselines.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`comparison_table`.
    metrics : sequence of str
        Metrics of :data:`METRICS`, one column each.
    digits : int
        Decimals.

    Returns
    -------
    pandas.DataFrame
        Strings; one column per metric, same rows as ``table``.
    """
    metrics = list(metrics)
    unknown = [metric for metric in metrics if f"{metric}_mean" not in table.columns]
    if unknown or not metrics:
        raise ValueError(f"metrics must be a non-empty list of the table's metrics, got {metrics}")
    if isinstance(digits, bool) or not isinstance(digits, (int, np.integer)) or digits < 0:
        raise ValueError(f"digits must be a non-negative integer, got {digits!r}")
    columns = {}
    for metric in metrics:
        means = table[f"{metric}_mean"].astype(float).map(lambda value: f"{value:.{digits}f}")
        stds = table[f"{metric}_std"].astype(float)
        spread = stds.map(lambda value: f" ± {value:.{digits}f}").where(stds.notna(), "")
        columns[metric] = means + spread
    return pd.DataFrame(columns, index=table.index)


_compare_spread = compare  # the pre-verdicts rule, kept only for tables without saved predictions
