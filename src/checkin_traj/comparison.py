"""Every model and baseline in one table, and the article's claims checked against it.

Chapters 02-05 save their test scores with :func:`checkin_traj.results.save_results`:
``baselines`` (one deterministic row per baseline) and ``lstm``, ``seq2seq``,
``transformer`` (one row per run, mean and standard deviation over seeds). This module
reads them back into one table (:func:`comparison_table`), checks that every result was
scored on the same test windows by their content hash (:func:`check_windows`), decides
who wins by the book's one rule (:class:`Judge`, which asks
:func:`checkin_traj.verdicts.compare` on the saved per-seed predictions;
:func:`versus_baselines`), tests each claim of the article (:func:`article_claims`) and
words the chapter's tables and sentences (:func:`versus_display`, :func:`versus_text`,
:func:`claims_text`, :func:`glue_values`). Nothing here trains: it only reads saved results.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .metrics import ARTICLE_SCORES, HUMAN_METRICS, SCALED_METRICS
from .results import MODEL_NAMES, load_results, run_label
from .verdicts import BEATS, HIGHER_IS_BETTER, LOSES, WITHIN_NOISE  # noqa: F401 (one place)

#: The run of each model that has the article's form (absolute targets; the article's
#: Transformer had no positional encoding), and the model's key in ``ARTICLE_SCORES``.
ARTICLE_FORM = {
    "lstm": ("absolute", "LSTM"),
    "seq2seq": ("absolute", "Seq2Seq"),
    "transformer": ("no_positions_absolute", "Transformer"),
}

#: Every metric of the table, in order (those of :func:`checkin_traj.metrics.evaluate`).
METRICS = SCALED_METRICS + HUMAN_METRICS

#: Verdicts of the article's claims (:func:`article_claims`): the one rule's outcomes
#: (:mod:`checkin_traj.verdicts`) read from the claim's side, or "not tested".
HOLDS, FAILS, NOT_TESTED = "holds", "does not hold", "not tested"


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


class Judge:
    """Decides comparisons between rows of a :func:`comparison_table` by the book's one rule.

    It reads the saved per-seed test predictions of model runs and the baselines' test
    predictions, turns them into per-window losses and asks
    :func:`checkin_traj.verdicts.compare` (a paired bootstrap over users). It also holds the
    baselines' *validation* scores, on which the strongest baseline is chosen
    (:func:`checkin_traj.verdicts.strongest_baseline`). Every verdict of this module comes
    from a judge: there is no second rule.

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

    def _row(self, name):
        if name not in self.table.index:
            raise ValueError(f"{name!r} is not a row of the comparison table; its rows are {list(self.table.index)}")
        return self.table.loc[name]

    def losses(self, name, metric):
        """Per-window losses of a row: (n_seeds, n) for a model run, (1, n) for a baseline."""
        from .results import seed_predictions
        from .verdicts import window_losses

        row = self._row(name)
        if row["kind"] == "model":
            predictions = seed_predictions(self._result(row["model"]), row["run"]).values()
        else:
            predictions = [self._result(self.baselines)["arrays"][row["model"]]]
        return np.stack([window_losses(self.data, value, metric) for value in predictions])

    def _values(self, name, metric):
        row = self._row(name)
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

    def versus_mean(self, contender):
        """``contender`` against predicting each target's mean over the test windows (what R² = 0 means).

        Decided on the per-window squared error (mean over the scaled targets), so a
        contender that *loses* is worse than the mean: a negative R² beyond noise.
        """
        from .verdicts import compare as decide

        y = np.asarray(self.data.test.y, dtype=np.float64)
        mean_losses = np.mean((y - y.mean(axis=0)) ** 2, axis=1)
        return decide(
            self.losses(contender, "r2"),
            mean_losses,
            self.data.test.user,
            metric="r2",
            contender=contender,
            reference="the test mean",
            values=self._values(contender, "r2"),
            reference_values=[0.0],
            n_boot=self.n_boot,
        )

    def strongest(self, metric="rmse") -> str:
        """The strongest baseline on ``metric``, chosen on the validation windows."""
        from .verdicts import strongest_baseline

        return strongest_baseline(self.baseline_val, metric=metric)


#: The one rule's outcomes as the claims table words them.
CLAIM_WORDS = {BEATS: HOLDS, LOSES: FAILS, WITHIN_NOISE: WITHIN_NOISE}


def _check_judge(judge):
    if not isinstance(judge, Judge):
        raise TypeError(
            f"judge must be a comparison.Judge (the book's one rule on the saved predictions), got {type(judge).__name__}"
        )
    return judge


def best_runs(table, *, metric="rmse") -> pd.Series:
    """The best run of each model by its mean **validation** ``metric`` (never the test windows).

    Returns
    -------
    pandas.Series
        Model result name -> row name in ``table``, in the table's order.

    Raises
    ------
    ValueError
        When the table has no model rows, or no validation score (:func:`checkin_traj.verdicts.best_run`).
    """
    from .verdicts import best_run

    models = table[table["kind"] == "model"]
    if models.empty:
        raise ValueError("the table has no model rows")
    return best_run(models, metric=metric, groupby="model")


def versus_baselines(table, *, judge, metrics=("rmse", "km_median")) -> pd.DataFrame:
    """Each model run against the strongest baseline of each metric, by the one rule.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`comparison_table`.
    judge : Judge
        Holds the saved predictions and the baselines' validation scores: the strongest
        baseline of each metric is :meth:`Judge.strongest` (chosen on validation), the
        verdicts :meth:`Judge.verdict`.
    metrics : sequence of str
        Metrics of :data:`METRICS` that :data:`checkin_traj.verdicts.LOSSES` can decide.

    Returns
    -------
    pandas.DataFrame
        One row per model run; per metric the columns ``<metric>`` (the run's mean),
        ``<metric>_std``, ``<metric>_baseline`` (the strongest baseline on that metric),
        ``<metric>_baseline_value``, ``<metric>_verdict`` (``"beats"``, ``"loses"`` or
        ``"within noise"``) and ``<metric>_sentence``; and ``beats_all`` (True when the run
        beats the baseline on every metric).
    """
    from .verdicts import LOSSES

    judge = _check_judge(judge)
    metrics = list(metrics)
    unknown = [metric for metric in metrics if metric not in METRICS or metric not in LOSSES]
    if unknown or not metrics:
        raise ValueError(f"metrics must be a non-empty list of {sorted(set(METRICS) & set(LOSSES))}, got {metrics}")
    models = table[table["kind"] == "model"]
    if models.empty:
        raise ValueError("the table has no model rows")
    columns = {}
    for metric in metrics:
        baseline = judge.strongest(metric)
        decided = {name: judge.verdict(name, baseline, metric=metric) for name in models.index}
        columns[metric] = models[f"{metric}_mean"].astype(float)
        columns[f"{metric}_std"] = models[f"{metric}_std"].astype(float)
        columns[f"{metric}_baseline"] = pd.Series(baseline, index=models.index)
        columns[f"{metric}_baseline_value"] = pd.Series(float(table.loc[baseline, f"{metric}_mean"]), index=models.index)
        columns[f"{metric}_verdict"] = pd.Series({name: v.outcome for name, v in decided.items()})
        columns[f"{metric}_sentence"] = pd.Series({name: v.sentence(2 if "km" in metric else 3) for name, v in decided.items()})
    result = pd.DataFrame(columns)
    result["beats_all"] = (result[[f"{metric}_verdict" for metric in metrics]] == BEATS).all(axis=1)
    return result


#: How metrics read in the claims' text.
_SHOWN = {"rmse": "RMSE", "r2": "R²", "km_median": "median km"}


def _numbers(table, name, metric):
    """``"LSTM (absolute): RMSE 0.080 ± 0.001"``."""
    row = table.loc[name]
    std = float(row[f"{metric}_std"])
    spread = f" ± {std:.3f}" if np.isfinite(std) else ""
    return f"{name}: {_SHOWN.get(metric, metric)} {float(row[f'{metric}_mean']):.3f}{spread}"


def article_claims(table, *, judge) -> pd.DataFrame:
    """Each claim of the article, tested on this project's numbers by the one rule.

    The article compares its models in their own form (absolute targets; a Transformer
    without positional encoding): the rows of ``table`` with an ``article_model``. A claim
    that one model beats another *holds* when the 95 % interval over users of their
    difference in per-window loss lies on the claimed side of zero
    (:meth:`Judge.verdict`), *does not hold* when it lies on the other side, and is
    *within noise* otherwise.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`comparison_table`.
    judge : Judge

    Returns
    -------
    pandas.DataFrame
        Index: a short claim id. Columns ``claim`` (what the article says), ``article`` (its
        numbers, from :data:`checkin_traj.metrics.ARTICLE_SCORES`), ``ours`` (ours, on the
        same claim), ``verdict`` (:data:`HOLDS`, :data:`FAILS`, :data:`WITHIN_NOISE` or
        :data:`NOT_TESTED` when the rows it needs are missing) and ``holds`` (True only
        for :data:`HOLDS`).
    """
    required = {"kind", "model", "run", "article_model", "rmse_mean", "rmse_std", "r2_mean", "r2_std"}
    if not required <= set(table.columns):
        raise ValueError(f"table must come from comparison_table; it lacks {sorted(required - set(table.columns))}")
    judge = _check_judge(judge)
    article_rows = {key: name for name, key in table["article_model"].items() if key}
    claims = []

    def decide(better, worse, metric):
        return CLAIM_WORDS[judge.verdict(better, worse, metric=metric).outcome]

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
        relation = "lower" if metric == "rmse" else "higher"
        claim = f"{better} has a {relation} {_SHOWN[metric]} than {worse}"
        article = f"{scores(better, metric)}, {scores(worse, metric)}"
        if better in article_rows and worse in article_rows:
            first, second = article_rows[better], article_rows[worse]
            ours = f"{_numbers(table, first, metric)}; {_numbers(table, second, metric)}"
            add(claim_id, claim, article, ours, decide(first, second, metric))
        else:
            add(claim_id, claim, article, "a model's run in the article's form is missing", NOT_TESTED)

    claim = "the Transformer's R² is negative (worse than predicting the mean)"
    if "Transformer" in article_rows:
        name = article_rows["Transformer"]
        outcome = judge.versus_mean(name).outcome  # "loses" to the mean: a negative R² beyond noise
        verdict = {LOSES: HOLDS, BEATS: FAILS, WITHIN_NOISE: WITHIN_NOISE}[outcome]
        add("transformer_r2_negative", claim, scores("Transformer", "r2"), _numbers(table, name, "r2"), verdict)
    else:
        add("transformer_r2_negative", claim, scores("Transformer", "r2"), "no Transformer run in the article's form", NOT_TESTED)

    claim = "positional encoding lowers the Transformer's error (the article's explanation of its failure, untested there)"
    with_positions = run_label("transformer", "positions_absolute")
    if "Transformer" in article_rows and with_positions in table.index:
        name = article_rows["Transformer"]
        ours = f"{_numbers(table, with_positions, 'rmse')}; {_numbers(table, name, 'rmse')}"
        add("positions_help_transformer", claim, "no run with positions reported", ours, decide(with_positions, name, "rmse"))
    else:
        add("positions_help_transformer", claim, "no run with positions reported", "a Transformer run is missing", NOT_TESTED)

    for metric, shown in (("rmse", "RMSE"), ("km_median", "median error in km")):
        claim = f"the article's models beat naive predictors ({shown})"
        if not article_rows or not (table["kind"] == "baseline").any():
            add(f"models_beat_baselines_{metric}", claim, "no baseline reported", "no models or baselines", NOT_TESTED)
            continue
        baseline = judge.strongest(metric)
        verdicts = {key: decide(name, baseline, metric) for key, name in article_rows.items()}
        if all(verdict == HOLDS for verdict in verdicts.values()):
            verdict = HOLDS
        elif any(verdict == FAILS for verdict in verdicts.values()):
            verdict = FAILS
        else:
            verdict = WITHIN_NOISE
        ours = "; ".join(
            f"{key} {float(table.loc[name, f'{metric}_mean']):.3f} ({verdicts[key]})" for key, name in article_rows.items()
        )
        ours += f"; strongest baseline {baseline} {float(table.loc[baseline, f'{metric}_mean']):.3f}"
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



# --------------------------------------------------------------------------- chapter 06's checks, tables and words


def check_windows(workdir, data, *, models=("lstm", "seq2seq", "transformer"), baselines="baselines") -> str:
    """Raise unless every saved result was scored on ``data``'s test windows, by content.

    Compares :func:`checkin_traj.sequences.test_windows_hash` of ``data`` with the hash
    the protocol, the baselines and every model result saved (``metrics`` or ``extra``
    ``test_windows_hash``): a count can agree while the windows differ.

    Returns
    -------
    str
        The hash.

    Raises
    ------
    ValueError
        Naming the result whose windows differ, or that saved no hash (rerun its chapter).
    """
    from .sequences import check_windows_hash, test_windows_hash

    found = test_windows_hash(data)
    for name in ["protocol", baselines, *_check_models(models)]:
        result = load_results(workdir, name)
        expected = result["metrics"].get("test_windows_hash", result["extra"].get("test_windows_hash"))
        if expected is None:
            raise ValueError(
                f"results {name!r} in {workdir} saved no test_windows_hash: they predate the windows' hash, "
                "so they may be scored on other windows; rerun the chapter that writes them"
            )
        check_windows_hash(data, expected, where=f"results {name!r} in {workdir}")
    return found


def versus_display(table, versus) -> pd.DataFrame:
    """The chapter's table of :func:`versus_baselines`: RMSE and median km, each with its verdict."""
    rows = table.loc[versus.index]
    return pd.DataFrame(
        {
            "RMSE (pooled)": formatted(rows, metrics=["rmse"])["rmse"],
            f"vs {versus['rmse_baseline'].iloc[0]}": versus["rmse_verdict"],
            "median km": formatted(rows, metrics=["km_median"], digits=2)["km_median"],
            f"vs {versus['km_median_baseline'].iloc[0]}": versus["km_median_verdict"],
        }
    ).rename_axis("model run")


def versus_text(versus, best) -> dict:
    """Glue values: ``comparison_versus_md`` (a Markdown list, one line per run of ``best``)
    and ``comparison_versus_closing_md`` (which runs beat the baselines in both metrics)."""
    lines = [f"- {versus.loc[name, 'rmse_sentence']} And: {versus.loc[name, 'km_median_sentence']}" for name in best]
    both = list(versus.index[versus["beats_all"]])
    rmse_only = list(versus.index[(versus["rmse_verdict"] == BEATS) & ~versus["beats_all"]])
    if both:
        closing = f"{len(both)} of {len(versus)} model runs beat the baselines in both: {', '.join(both)}."
    elif rmse_only:
        closing = (
            f"**No model run beats the baselines in both.** {', '.join(rmse_only)} win{'s' if len(rmse_only) == 1 else ''} "
            "on RMSE but not on median kilometres: a lower RMSE can come from avoiding the large errors (a prediction between "
            "the likely places) while the typical prediction lands farther from the real place than the naive rule's."
        )
    else:
        closing = "**No model run beats the strongest baseline in RMSE**, nor in both metrics."
    return {"comparison_versus_md": "\n".join(lines), "comparison_versus_closing_md": closing}


def claims_text(claims) -> str:
    """The claims' verdicts as a Markdown list (render it with the ``{glue:md}`` directive)."""
    return "\n".join(f"- {row.claim}: **{row.verdict}**." for row in claims.itertuples())


def article_table(table) -> pd.DataFrame:
    """Pooled RMSE and R² (mean ± std) with the article's reported numbers beside its form's runs."""
    def reported(column):
        return table[column].map(lambda value: f"{value:.3f}" if np.isfinite(value) else "")

    return (
        formatted(table, metrics=["rmse", "r2"])
        .rename(columns={"rmse": "RMSE (pooled)", "r2": "R² (pooled)"})
        .assign(**{"article RMSE": reported("article_rmse"), "article R²": reported("article_r2")})
        .rename_axis("test windows")
    )


def ensemble_table(workdir, table, data, *, models, strongest) -> pd.DataFrame:
    """Each run's seed-mean prediction (a small ensemble) against its average single seed, RMSE and km."""
    from .metrics import evaluate

    rows = {}
    for model in _check_models(models):
        saved = load_results(workdir, model)
        for run in saved["extra"]["runs"]:
            name = run_label(model, run)
            ensemble = evaluate(data, saved["arrays"][f"{run}_seed_mean"], split="test")
            rows[name] = {
                "single seed RMSE (mean)": table.loc[name, "rmse_mean"],
                "seed-mean RMSE": ensemble["rmse"],
                "single seed km (mean)": table.loc[name, "km_median_mean"],
                "seed-mean km": ensemble["km_median"],
            }
    frame = pd.DataFrame(rows).T
    frame[f"lower RMSE than {strongest}"] = frame["seed-mean RMSE"] < table.loc[strongest, "rmse_mean"]
    return frame


def glue_values(table, *, versus, claims, judge, windows) -> dict:
    """Everything chapter 06 glues (keys ending ``_md`` are Markdown), from its tables.

    The best run overall is chosen on the validation windows (:func:`checkin_traj.verdicts.best_run`);
    the strongest and closest baselines by :meth:`Judge.strongest` (validation too).
    """
    from .verdicts import best_run

    best_name = str(best_run(table[table["kind"] == "model"], metric="rmse"))
    strongest, closest = judge.strongest("rmse"), judge.strongest("km_median")
    tested = claims[claims["verdict"] != NOT_TESTED]
    holding = claims[claims["verdict"] == HOLDS]
    values = {
        "comparison_test_windows": int(windows),
        "comparison_n_runs": int((table["kind"] == "model").sum()),
        "comparison_best_model": best_name,
        "comparison_best_md": f"**{best_name}**",
        "comparison_strongest_baseline": strongest,
        "comparison_strongest_md": f"`{strongest}`",
        "comparison_closest_baseline": closest,
        "comparison_closest_md": f"`{closest}`",
        "comparison_best_rmse_verdict": str(versus.loc[best_name, "rmse_verdict"]),
        "comparison_best_km_verdict": str(versus.loc[best_name, "km_median_verdict"]),
        "comparison_runs_beating_rmse": int((versus["rmse_verdict"] == BEATS).sum()),
        "comparison_runs_beating_both": int(versus["beats_all"].sum()),
        "comparison_claims_total": len(claims),
        "comparison_claims_tested": len(tested),
        "comparison_claims_holding": len(holding),
        "comparison_claims_holding_ids": list(holding.index),
        "comparison_claims_md": claims_text(claims),
        "comparison_article_tuned_rmse": float(ARTICLE_SCORES["tuned Seq2Seq"]["rmse"]),
    }
    for metric in ("rmse", "r2", "km_median"):
        values[f"comparison_best_{metric}_mean"] = float(table.loc[best_name, f"{metric}_mean"])
        values[f"comparison_best_{metric}_std"] = float(np.nan_to_num(table.loc[best_name, f"{metric}_std"]))
        values[f"comparison_strongest_{metric}"] = float(table.loc[strongest, f"{metric}_mean"])
    return values


def wrapped(frame, *, width="22em"):
    """A table whose text cells wrap (no column wider than ``width``), so it fits the page."""
    return frame.style.set_properties(**{"white-space": "normal", "max-width": width, "text-align": "left"})


def seed_values(workdir, table, *, metric="rmse") -> pd.DataFrame:
    """Every seed's test ``metric`` of every model row of ``table``: columns ``name``, ``seed``, ``value``."""
    frames = []
    for model in dict.fromkeys(table.loc[table["kind"] == "model", "model"]):
        seeds = load_results(workdir, model)["tables"].get("seeds")
        if seeds is None or metric not in seeds:
            raise ValueError(f"results {model!r} in {workdir} have no per-seed {metric!r}; rerun its chapter")
        frames.append(
            pd.DataFrame(
                {"name": [run_label(model, run) for run in seeds["run"]], "seed": seeds["seed"], "value": seeds[metric].astype(float)}
            )
        )
    frame = pd.concat(frames, ignore_index=True)
    return frame[frame["name"].isin(table.index)].reset_index(drop=True)
